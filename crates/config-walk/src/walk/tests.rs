//! The typed reads: what each accepts, and the message of each refusal.

use std::time::Duration;

use figment::providers::{Format, Yaml};
use figment::value::{Dict, Tag, Value};
use figment::{Figment, Provider};
use regex::Regex;

use super::Walk;

/// The mapping at the root of a YAML document.
fn doc(yaml: &str) -> Dict {
    match Yaml::from_str::<Value>(yaml).expect("test YAML parses") {
        Value::Dict(_, dict) => dict,
        other => panic!("not a mapping: {other:?}"),
    }
}

/// The problems of a walk, one line each, with no origin.
fn lines(walk: Walk) -> Vec<String> {
    walk.into_problems(|_| None)
        .problems()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn scalars_read_as_text_like_go() {
    let d = doc("a: 0\nb: true\nc: nosniff\nd: -3\ne: 1.5\n");
    let mut walk = Walk::new();
    let texts: Vec<_> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|k| walk.scalar_text(k, &d[*k]))
        .collect();
    assert_eq!(
        texts,
        ["0", "true", "nosniff", "-3", "1.5"].map(|s| Some(s.to_owned()))
    );
    assert!(walk.is_empty());
}

#[test]
fn wrong_types_name_the_path_and_the_kind_not_the_value() {
    let d = doc("list: [a, 3, {x: 1}]\nflag: secret-ish\nmap: [1]\n");
    let mut walk = Walk::new();
    assert!(walk.string_list("list", &d["list"]).is_none());
    assert!(walk.boolean("flag", &d["flag"]).is_none());
    assert!(walk.any_mapping("map", &d["map"]).is_none());
    assert!(walk.string("map", &d["map"]).is_none());
    assert_eq!(
        lines(walk),
        [
            "list[1]: expected a string, found a number",
            "list[2]: expected a string, found a mapping",
            "flag: expected true or false, found a string",
            "map: expected a mapping, found a list",
            "map: expected a string, found a list",
        ]
    );
}

#[test]
fn string_lists_pair_each_item_with_its_key() {
    let d = doc("l: [a, b]\nnot: x\n");
    let mut walk = Walk::new();
    assert_eq!(
        walk.string_list("l", &d["l"]),
        Some(vec![
            ("l[0]".to_owned(), "a".to_owned()),
            ("l[1]".to_owned(), "b".to_owned())
        ])
    );
    assert!(walk.string_list("not", &d["not"]).is_none());
    assert_eq!(lines(walk), ["not: expected a list, found a string"]);
}

#[test]
fn mappings_report_each_unknown_key_and_are_still_read() {
    let d = doc("poll: {interval: 1m, colour: red, size: 2}\n");
    let mut walk = Walk::new();
    let poll = walk
        .mapping("poll", &d["poll"], &["interval", "timeout"])
        .expect("a mapping");
    assert_eq!(poll.len(), 3);
    walk.unknown_key("top", &d["poll"], &["a"]);
    assert_eq!(
        lines(walk),
        [
            "poll.colour: unknown key (expected one of: interval, timeout)",
            "poll.size: unknown key (expected one of: interval, timeout)",
            "top: unknown key (expected one of: a)",
        ]
    );
}

#[test]
fn a_terse_walk_does_not_say_what_it_found() {
    let d = doc("a: 1\n");
    let mut walk = Walk::new().terse();
    assert!(walk.mapping("a", &d["a"], &[]).is_none());
    assert!(walk.list("a", &d["a"], "a list of targets").is_none());
    assert_eq!(
        lines(walk),
        ["a: expected a mapping", "a: expected a list of targets"]
    );
}

#[test]
fn numbers_come_as_numbers_or_strings() {
    let d = doc("int: 8\nfloat: 2.5\ntext: ' 4 '\nneg: -1\nword: four\nbool: true\n");
    let mut walk = Walk::new();
    let mut read = |key: &str| walk.number(key, &d[key], "a number above 0", |n| n > 0.0);
    assert_eq!(read("int"), Some(8.0));
    assert_eq!(read("float"), Some(2.5));
    assert_eq!(read("text"), Some(4.0));
    assert_eq!(read("neg"), None);
    assert_eq!(read("word"), None);
    assert_eq!(read("bool"), None);
    assert_eq!(
        lines(walk),
        [
            "neg: expected a number above 0",
            "word: expected a number above 0, found a string",
            "bool: expected a number above 0, found a boolean",
        ]
    );
}

#[test]
fn durations_are_humantime_and_above_zero() {
    let d = doc("ok: 1m 30s\nzero: 0s\nbad: 5 parsecs\nnum: 5\n");
    let mut walk = Walk::new().terse();
    assert_eq!(walk.duration("ok", &d["ok"]), Some(Duration::from_secs(90)));
    assert_eq!(walk.duration("zero", &d["zero"]), None);
    assert_eq!(walk.duration("bad", &d["bad"]), None);
    assert_eq!(walk.duration("num", &d["num"]), None);
    let lines = lines(walk);
    assert_eq!(lines[0], "zero: must be above zero");
    assert!(
        lines[1].starts_with("bad: invalid duration \"5 parsecs\": unknown time unit"),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "num: expected a duration such as \"30s\" or \"5m\""
    );
}

#[test]
fn patterns_and_regular_expressions() {
    let d = doc("region: eu-west-1\nwrong: Europe\nnum: 5\nre: '^prod-'\nbad: '('\n");
    let region = Regex::new("^[a-z]+-[a-z]+-[0-9]$").expect("valid");
    let mut walk = Walk::new().terse();
    let expected = "a region such as eu-west-1";
    assert_eq!(
        walk.string_matching("region", &d["region"], &region, expected)
            .as_deref(),
        Some("eu-west-1")
    );
    assert!(
        walk.string_matching("wrong", &d["wrong"], &region, expected)
            .is_none()
    );
    assert!(
        walk.string_matching("num", &d["num"], &region, expected)
            .is_none()
    );
    assert!(
        walk.regex("re", &d["re"])
            .is_some_and(|re| re.is_match("prod-x"))
    );
    assert!(walk.regex("bad", &d["bad"]).is_none());
    assert!(walk.regex("num", &d["num"]).is_none());
    let lines = lines(walk);
    assert_eq!(
        lines[..2],
        [
            "wrong: \"Europe\" is not a region such as eu-west-1",
            "num: expected a region such as eu-west-1",
        ]
    );
    assert!(lines[2].starts_with("bad: invalid regular expression: regex parse error"));
    assert_eq!(lines[3], "num: expected a regular expression string");
}

#[test]
fn finish_gives_each_problem_the_origin_of_its_value() {
    let figment = Figment::from(Yaml::string("a: x\n"));
    let value = figment.find_value("a").expect("merged");
    assert_ne!(value.tag(), Tag::Default);

    assert!(Walk::new().finish(|_| Some("never asked".into())).is_ok());

    let mut walk = Walk::new();
    walk.boolean("a", &value);
    walk.report("b", "required");
    walk.report_file("cannot read the file");
    assert_eq!(walk.len(), 3);
    let name = Yaml::string("").metadata().name;
    let problems = walk
        .finish(|tag| (tag == value.tag()).then(|| name.to_string()))
        .expect_err("three problems");
    assert_eq!(
        problems.to_string(),
        format!(
            "{name}: a: expected true or false, found a string\nb: required\ncannot read the file"
        )
    );
    assert_eq!(problems.problems()[0].tag(), value.tag());
    assert_eq!(problems.problems()[2].key(), None);
}

#[test]
fn regular_expressions_are_bounded_in_length_and_compiled_size() {
    let long = "a".repeat(crate::MAX_PATTERN_BYTES + 1);
    let huge = r"(?:\w{100}){100}";
    let names = r"^[\w\s+=,.@-]{1,128}$";
    let d = doc(&format!(
        "long: '{long}'\nhuge: '{huge}'\nnames: '{names}'\n"
    ));
    let mut walk = Walk::new().terse();
    let at_limit = Value::from("a".repeat(crate::MAX_PATTERN_BYTES));
    assert!(walk.regex("ok", &at_limit).is_some());
    assert!(walk.regex("names", &d["names"]).is_some());
    assert!(walk.regex("long", &d["long"]).is_none());
    assert!(walk.regex("huge", &d["huge"]).is_none());
    assert_eq!(
        lines(walk),
        [
            "long: the regular expression is longer than the limit of 4096 bytes",
            "huge: the regular expression compiles larger than the limit of 8 MiB: simplify it",
        ]
    );
}

mod properties {
    use figment::value::{Empty, Num};
    use proptest::prelude::*;

    use super::*;

    /// Any value a figment tree can hold at a leaf.
    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<f64>().prop_map(Value::from),
            any::<f32>().prop_map(|f| Value::Num(Tag::Default, Num::F32(f))),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<i128>().prop_map(|i| Value::Num(Tag::Default, Num::I128(i))),
            any::<u128>().prop_map(|u| Value::Num(Tag::Default, Num::U128(u))),
            any::<bool>().prop_map(Value::from),
            any::<char>().prop_map(Value::from),
            Just(Value::Empty(Tag::Default, Empty::None)),
            duration_text().prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ]
    }

    /// Strings shaped like durations, with numbers far past any range.
    fn duration_text() -> impl Strategy<Value = String> {
        "[0-9]{1,30}(\\.[0-9]{0,12})?[ ]?(ns|us|ms|s|m|h|d|w|M|y|days|years|)( [0-9]{1,25}(s|y))?"
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn no_value_makes_a_read_panic(value in leaf()) {
            let mut walk = Walk::new();
            if let Some(d) = walk.duration("d", &value) {
                prop_assert!(!d.is_zero());
            }
            let n = walk.number("n", &value, "a number", |n| (0.01..=10_000.0).contains(&n));
            prop_assert!(n.is_none_or(|n| (0.01..=10_000.0).contains(&n)));
            walk.scalar_text("t", &value);
            walk.string("s", &value);
            walk.boolean("b", &value);
            walk.regex("r", &value);
            let _ = lines(walk);
        }
    }
}
