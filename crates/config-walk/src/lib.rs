//! Reading a configuration that someone wrote by hand, and telling them everything that
//! is wrong with it at once.
//!
//! serde stops at the first error, so a file with three mistakes takes three attempts to
//! fix. This crate reads a figment [`Value`] tree one key at a time instead: each typed
//! read ([`Walk::string`], [`Walk::duration`], [`Walk::mapping`], …) either returns the
//! value or records a [`Problem`] naming the key path and what was expected, and the
//! caller carries on with the next key. When the walk is over, [`Walk::finish`] turns the
//! problems into one error, [`Problems`], which prints one problem per line:
//!
//! ```text
//! /etc/app/config.yml: poll.interval: invalid duration "5 parsecs": unknown time unit "parsecs", …
//! environment: poll.timeout: must be above zero
//! ```
//!
//! Before a parser sees the text, [`Walk::read_file`], [`Walk::yaml_text`] and
//! [`Walk::figment_text`] check what parsers take on trust: a file's size
//! ([`MAX_FILE_BYTES`]), how deeply values nest ([`MAX_DEPTH`]), and YAML keys given twice
//! (which serde would let the last of win). [`Walk::regex`] bounds patterns likewise.
//!
//! Each problem keeps the figment [`Tag`] of the value concerned, so the caller can say
//! where that value came from; [`figment_origin`] does it for values merged by a
//! [`Figment`] (a file's path, or `environment`). Messages never quote
//! a value of the wrong type (it could be a secret); they say what kind of value it was.
//!
//! ```
//! use config_walk::{Walk, child, present};
//! use figment::providers::{Format, Yaml};
//! use figment::value::Value;
//!
//! let tree: Value = Yaml::from_str("poll: {interval: 0s, colour: red}")?;
//! let mut walk = Walk::new();
//! if let Some(poll) = tree.find_ref("poll") {
//!     if let Some(poll) = walk.mapping("poll", poll, &["interval"]) {
//!         if let Some(value) = present(poll.get("interval")) {
//!             walk.duration(&child("poll", "interval"), value);
//!         }
//!     }
//! }
//! let problems = walk.finish(|_tag| Some("app.yml".to_owned())).unwrap_err();
//! assert_eq!(
//!     problems.to_string(),
//!     "app.yml: poll.colour: unknown key (expected one of: interval)\n\
//!      app.yml: poll.interval: must be above zero"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod problem;
mod text;
mod walk;

use figment::Figment;
use figment::value::{Tag, Value};

pub use problem::{Problem, Problems};
pub use text::{MAX_DEPTH, MAX_FILE_BYTES};
pub use walk::{MAX_PATTERN_BYTES, MAX_REGEX_BYTES, Walk};

/// The key path of `key` inside `parent`; `""` is the document root.
pub fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// The key path of item `index` of the list at `parent` (`targets[0]`).
pub fn index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// What kind of value this is, for "expected X, found Y" messages. Never the value
/// itself, which may be a secret.
pub fn describe(value: &Value) -> &'static str {
    match value {
        Value::String(..) | Value::Char(..) => "a string",
        Value::Bool(..) => "a boolean",
        Value::Num(..) => "a number",
        Value::Empty(..) => "null",
        Value::Dict(..) => "a mapping",
        Value::Array(..) => "a list",
    }
}

/// `None` for a null value as well as for a missing one: YAML writes null as an empty
/// `key:`, which people mean as "not set".
pub fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !matches!(v, Value::Empty(..)))
}

/// Where a value merged by `figment` came from, to prefix its problems with: the path
/// of a file provider's file, `environment` for a provider named after environment
/// variables (as figment's `Env` is), `None` for anything else (defaults, flags, a tag
/// this figment does not know).
pub fn figment_origin(figment: &Figment, tag: Tag) -> Option<String> {
    let metadata = figment.get_metadata(tag)?;
    match &metadata.source {
        Some(figment::Source::File(path)) => Some(path.display().to_string()),
        _ if metadata.name.contains("environment") => Some("environment".to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use figment::value::{Dict, Map};
    use figment::{Metadata, Profile, Provider};

    use super::*;

    /// A provider of one key, with the metadata a test gives it.
    struct Layer {
        metadata: Metadata,
        key: &'static str,
    }

    impl Provider for Layer {
        fn metadata(&self) -> Metadata {
            self.metadata.clone()
        }

        fn data(&self) -> figment::Result<Map<Profile, Dict>> {
            let mut dict = Dict::new();
            dict.insert(self.key.to_owned(), Value::from(1));
            Ok(Profile::Default.collect(dict))
        }
    }

    #[test]
    fn paths_join_keys_and_indexes() {
        assert_eq!(child("", "poll"), "poll");
        assert_eq!(child("poll", "interval"), "poll.interval");
        assert_eq!(index("targets", 2), "targets[2]");
    }

    #[test]
    fn present_treats_null_as_absent() {
        let null = Value::Empty(Tag::Default, figment::value::Empty::None);
        assert!(matches!(null, Value::Empty(..)));
        assert!(present(Some(&null)).is_none());
        assert!(present(None).is_none());
        assert!(present(Some(&Value::from(0))).is_some());
        assert_eq!(describe(&null), "null");
    }

    #[test]
    fn origins_come_from_the_provider_of_each_value() {
        let file = Layer {
            metadata: Metadata::from("app.yml", figment::Source::File(PathBuf::from("app.yml"))),
            key: "a",
        };
        let env = Layer {
            metadata: Metadata::named("`APP_` environment variable(s)"),
            key: "b",
        };
        let flags = Layer {
            metadata: Metadata::named("command line"),
            key: "c",
        };
        let figment = Figment::new().merge(file).merge(env).merge(flags);
        let origin = |key: &str| {
            let tag = figment.find_value(key).expect("merged").tag();
            figment_origin(&figment, tag)
        };
        assert_eq!(origin("a").as_deref(), Some("app.yml"));
        assert_eq!(origin("b").as_deref(), Some("environment"));
        assert_eq!(origin("c"), None);
        assert_eq!(figment_origin(&figment, Tag::Default), None);
    }
}
