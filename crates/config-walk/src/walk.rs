//! [`Walk`]: the typed reads, each of which records a problem instead of failing, and
//! the list they fill.

use std::time::Duration;

use figment::error::Actual;
use figment::value::{Dict, Tag, Value};
use regex::{Regex, RegexBuilder};

use super::problem::{Problem, Problems};
use super::{describe, index};

/// The longest regular expression [`Walk::regex`] accepts, in bytes: filters on names
/// are short, and a pattern is parsed whole before its compiled size can be known.
pub const MAX_PATTERN_BYTES: usize = 4096;

/// The largest a regular expression [`Walk::regex`] accepts may compile to: room for the
/// pool-name pattern AWS documents at its full length (`[\w\s+=,.@-]{1,128}` compiles to
/// 6.2 MiB, Unicode classes being large), and a bound that does not move with the regex
/// crate's default.
pub const MAX_REGEX_BYTES: usize = 8 << 20;

/// Reads values out of a figment tree, collecting a [`Problem`] for each one that is not
/// what was expected, so that one pass reports every mistake.
///
/// Each read takes the key path of the value (for the message) and returns `None` after
/// recording why when the value does not fit. A type mismatch reads "expected a string,
/// found a number": it names the kind of value found, never the value.
#[derive(Debug, Default)]
pub struct Walk {
    problems: Vec<Problem>,
    terse: bool,
}

impl Walk {
    /// An empty walk.
    pub fn new() -> Self {
        Self::default()
    }

    /// Type mismatches say only what was expected ("expected a mapping"), not what was
    /// found: for callers whose messages were fixed before this crate existed.
    pub fn terse(mut self) -> Self {
        self.terse = true;
        self
    }

    /// Records a problem at `key` concerning no particular value (a required key that
    /// is missing, two keys that contradict each other).
    pub fn report(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.push(Some(key.into()), message.into(), Tag::Default);
    }

    /// Records a problem with `value`, found at `key`; its tag says where it came from.
    pub fn report_value(
        &mut self,
        key: impl Into<String>,
        value: &Value,
        message: impl Into<String>,
    ) {
        self.push(Some(key.into()), message.into(), value.tag());
    }

    /// Records a problem with a whole file or source rather than a key.
    pub fn report_file(&mut self, message: impl Into<String>) {
        self.push(None, message.into(), Tag::Default);
    }

    fn push(&mut self, key: Option<String>, message: String, tag: Tag) {
        self.problems.push(Problem::new(key, message, tag));
    }

    /// Whether nothing was found wrong so far.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// How many problems so far: a section can compare it before and after to tell
    /// whether it added any.
    pub fn len(&self) -> usize {
        self.problems.len()
    }

    /// The problems found, each given its origin by `origin` (from its
    /// [`tag`](Problem::tag); [`figment_origin`](crate::figment_origin) for a figment).
    pub fn into_problems(self, mut origin: impl FnMut(Tag) -> Option<String>) -> Problems {
        let mut problems = self.problems;
        for problem in &mut problems {
            problem.set_origin(origin(problem.tag()));
        }
        Problems::new(problems)
    }

    /// `Ok` when nothing was found wrong, else every problem (see [`Walk::into_problems`]).
    pub fn finish(self, origin: impl FnMut(Tag) -> Option<String>) -> Result<(), Problems> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into_problems(origin))
        }
    }

    /// "expected X", and what was found unless the walk is terse.
    fn mismatch(&mut self, key: &str, value: &Value, expected: &str) {
        let message = if self.terse {
            format!("expected {expected}")
        } else {
            format!("expected {expected}, found {}", describe(value))
        };
        self.report_value(key, value, message);
    }

    /// A mapping whose keys must all be in `known`; each other key is reported (see
    /// [`Walk::unknown_key`]), and the mapping is still returned.
    pub fn mapping<'v>(&mut self, key: &str, value: &'v Value, known: &[&str]) -> Option<&'v Dict> {
        let dict = self.any_mapping(key, value)?;
        for (name, item) in dict {
            if !known.contains(&name.as_str()) {
                self.unknown_key(&crate::child(key, name), item, known);
            }
        }
        Some(dict)
    }

    /// Reports `key` (a full path) as unknown, listing the `known` ones.
    pub fn unknown_key(&mut self, key: &str, value: &Value, known: &[&str]) {
        self.report_value(
            key,
            value,
            format!("unknown key (expected one of: {})", known.join(", ")),
        );
    }

    /// A mapping with arbitrary keys (user names, header names).
    pub fn any_mapping<'v>(&mut self, key: &str, value: &'v Value) -> Option<&'v Dict> {
        match value {
            Value::Dict(_, dict) => Some(dict),
            other => {
                self.mismatch(key, other, "a mapping");
                None
            }
        }
    }

    /// A list, of any items; `expected` names it in the mismatch message ("a list of
    /// targets").
    pub fn list<'v>(&mut self, key: &str, value: &'v Value, expected: &str) -> Option<&'v [Value]> {
        match value {
            Value::Array(_, items) => Some(items),
            other => {
                self.mismatch(key, other, expected);
                None
            }
        }
    }

    /// A string.
    pub fn string(&mut self, key: &str, value: &Value) -> Option<String> {
        let text = text(value);
        if text.is_none() {
            self.mismatch(key, value, "a string");
        }
        text
    }

    /// A scalar read as text, the way Go's YAML decoder fills a `map[string]string`:
    /// `0` is the string "0", `true` the string "true".
    pub fn scalar_text(&mut self, key: &str, value: &Value) -> Option<String> {
        match value {
            Value::Bool(_, b) => Some(b.to_string()),
            Value::Num(_, n) => Some(match n.to_actual() {
                Actual::Unsigned(u) => u.to_string(),
                Actual::Signed(i) => i.to_string(),
                Actual::Float(f) => f.to_string(),
                other => other.to_string(),
            }),
            other => self.string(key, other),
        }
    }

    /// `true` or `false`.
    pub fn boolean(&mut self, key: &str, value: &Value) -> Option<bool> {
        match value {
            Value::Bool(_, b) => Some(*b),
            other => {
                self.mismatch(key, other, "true or false");
                None
            }
        }
    }

    /// A list of strings, each paired with its own key path (`cipher_suites[2]`) for
    /// problems found later with one of them. `None` when any item is not a string.
    pub fn string_list(&mut self, key: &str, value: &Value) -> Option<Vec<(String, String)>> {
        let items = self.list(key, value, "a list")?;
        let before = self.len();
        let strings: Vec<(String, String)> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let item_key = index(key, i);
                self.string(&item_key, item).map(|s| (item_key, s))
            })
            .collect();
        (self.len() == before).then_some(strings)
    }

    /// A number, given as a number or as a string (environment variables and command-line
    /// flags give strings), that `accept` accepts. Otherwise "expected {expected}", where
    /// `expected` says which numbers are wanted ("a whole number from 1 to 256").
    pub fn number(
        &mut self,
        key: &str,
        value: &Value,
        expected: &str,
        accept: impl FnOnce(f64) -> bool,
    ) -> Option<f64> {
        let number = match value {
            Value::Num(_, n) => n
                .to_f64()
                .or_else(|| n.to_i128().map(|i| i as f64))
                .or_else(|| n.to_u128().map(|u| u as f64)),
            Value::String(_, s) => s.trim().parse().ok(),
            _ => None,
        };
        match number {
            Some(n) if accept(n) => Some(n),
            Some(_) => {
                self.report_value(key, value, format!("expected {expected}"));
                None
            }
            None => {
                self.mismatch(key, value, expected);
                None
            }
        }
    }

    /// A duration written the humantime way (`90s`, `5m`, `1h 30m`), above zero.
    pub fn duration(&mut self, key: &str, value: &Value) -> Option<Duration> {
        let Some(s) = text(value) else {
            self.mismatch(key, value, "a duration such as \"30s\" or \"5m\"");
            return None;
        };
        match humantime::parse_duration(&s) {
            Ok(d) if !d.is_zero() => Some(d),
            Ok(_) => {
                self.report_value(key, value, "must be above zero");
                None
            }
            Err(e) => {
                self.report_value(key, value, format!("invalid duration {s:?}: {e}"));
                None
            }
        }
    }

    /// A string matching `pattern`. `expected` says in words what matches ("an AWS
    /// region such as eu-west-1"); a string that does not is quoted in the message, so
    /// do not use this for secrets.
    pub fn string_matching(
        &mut self,
        key: &str,
        value: &Value,
        pattern: &Regex,
        expected: &str,
    ) -> Option<String> {
        let Some(s) = text(value) else {
            self.mismatch(key, value, expected);
            return None;
        };
        if pattern.is_match(&s) {
            Some(s)
        } else {
            self.report_value(key, value, format!("{s:?} is not {expected}"));
            None
        }
    }

    /// A regular expression (`regex` crate syntax) of at most [`MAX_PATTERN_BYTES`],
    /// compiling to at most [`MAX_REGEX_BYTES`]: parsing a pattern takes time and memory
    /// in proportion to its length (20 MB took 7 s and 2 GB) before any compiled-size
    /// limit applies.
    pub fn regex(&mut self, key: &str, value: &Value) -> Option<Regex> {
        let Some(s) = text(value) else {
            self.mismatch(key, value, "a regular expression string");
            return None;
        };
        if s.len() > MAX_PATTERN_BYTES {
            self.report_value(
                key,
                value,
                format!(
                    "the regular expression is longer than the limit of {MAX_PATTERN_BYTES} bytes"
                ),
            );
            return None;
        }
        let message = match RegexBuilder::new(&s).size_limit(MAX_REGEX_BYTES).build() {
            Ok(regex) => return Some(regex),
            Err(regex::Error::CompiledTooBig(_)) => format!(
                "the regular expression compiles larger than the limit of {} MiB: simplify it",
                MAX_REGEX_BYTES >> 20
            ),
            Err(e) => format!("invalid regular expression: {e}"),
        };
        self.report_value(key, value, message);
        None
    }
}

/// The text of a string value.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(_, s) => Some(s.clone()),
        Value::Char(_, c) => Some(c.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
