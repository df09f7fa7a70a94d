//! The guards on configuration text: what each lets through, what it refuses and how it
//! says so, and that no text makes one panic.

use proptest::prelude::*;

use super::*;

/// The problems of a walk, one line each, with no origin.
fn lines(walk: Walk) -> Vec<String> {
    walk.into_problems(|_| None)
        .problems()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn yaml(text: &str) -> Vec<String> {
    let mut walk = Walk::new();
    let clean = walk.yaml_text(text);
    assert_eq!(clean, walk.is_empty(), "{text}");
    lines(walk)
}

fn figment_value(text: &str) -> Vec<String> {
    let mut walk = Walk::new();
    let clean = walk.figment_text("poll.interval", text);
    assert_eq!(clean, walk.is_empty(), "{text}");
    lines(walk)
}

/// `depth` flow lists, one inside the other.
fn brackets(depth: usize) -> String {
    "[".repeat(depth) + &"]".repeat(depth)
}

/// `depth` block mappings, one inside the other, with a value at the bottom.
fn block_mappings(depth: usize) -> String {
    (0..depth)
        .map(|i| format!("{}k{i}:", " ".repeat(i)))
        .collect::<Vec<_>>()
        .join("\n")
        + " x\n"
}

#[test]
fn duplicate_keys_name_the_path_and_both_lines() {
    let text = "\
poll:
  interval: 1m
  timeout: 5s
  interval: 2m
targets:
  - region: eu-west-1
    region: us-east-1
  - {region: eu-west-1, \"region\": x}
  - region: eu-west-1
poll: {}
";
    assert_eq!(
        yaml(text),
        [
            "poll.interval: duplicate key (lines 2 and 4)",
            "targets[0].region: duplicate key (lines 6 and 7)",
            "targets[1].region: duplicate key (lines 8 and 8)",
            "poll: duplicate key (lines 1 and 10)",
        ]
    );
}

#[test]
fn keys_compare_as_serde_reads_them_and_only_within_one_mapping() {
    // A plain 1 and a quoted "1" are the same key to serde; null and ~ are not.
    assert_eq!(
        yaml("a: {1: x, '1': y}\nb: {~: x, null: y}\n"),
        ["a.1: duplicate key (lines 1 and 1)"]
    );
    assert!(yaml("a: {k: 1}\nb: {k: 2}\nl: [{k: 1}, {k: 2}]\n").is_empty());
    // Each document has its own keys; a key that is a mapping is not compared.
    assert!(yaml("a: 1\n---\na: 2\n").is_empty());
    assert!(yaml("? {x: 1}\n: a\n? {x: 1}\n: b\n").is_empty());
    // An alias as a value is one node, whatever it stands for.
    assert!(yaml("base: &b {k: 1}\nother: *b\nlast: 1\n").is_empty());
    // Empty and comment-only text have no keys at all.
    assert!(yaml("").is_empty());
    assert!(yaml("# nothing\n---\n").is_empty());
}

#[test]
fn nesting_is_refused_past_the_limit_flow_or_block() {
    assert!(yaml(&format!("{}\n", brackets(MAX_DEPTH))).is_empty());
    assert_eq!(
        yaml(&format!("{}\n", brackets(MAX_DEPTH + 1))),
        ["nested more than 64 levels deep (line 1)"]
    );
    // The root mapping is a level; the one too many starts on the line of its first key.
    assert!(yaml(&block_mappings(MAX_DEPTH)).is_empty());
    assert_eq!(
        yaml(&block_mappings(MAX_DEPTH + 1)),
        ["nested more than 64 levels deep (line 65)"]
    );
    // The depth problem is the only one told: the scan stops there.
    assert_eq!(
        yaml(&format!("a: 1\na: 2\nb: {}\n", brackets(100))),
        ["nested more than 64 levels deep (line 3)"]
    );
}

#[test]
fn brackets_in_text_are_not_nesting() {
    let deep = "[{".repeat(MAX_DEPTH);
    for text in [
        format!("a: \"{deep}\"\n"),
        format!("a: '{deep}'\n"),
        format!("a: x{deep}\n"),
        format!("a: |\n  {deep}\n  more {deep}\nb: 1\n"),
        format!("# {deep}\na: 1 # {deep}\n"),
        format!("key{deep}: 1\n"),
    ] {
        assert_eq!(yaml(&text), Vec::<String>::new(), "{text}");
    }
}

#[test]
fn text_the_event_parser_refuses_is_checked_by_brackets_only() {
    // Not YAML to either parser: left to the real one, which says where.
    assert!(yaml("poll:\n  interval: [\n").is_empty());
    assert!(yaml("a: b: c\na: 1\na: 2\n").is_empty());
    // Deep brackets after the point the event parser stopped are still found...
    assert_eq!(
        yaml(&format!("a: b: c\nx: {}\n", brackets(MAX_DEPTH + 1))),
        ["nested more than 64 levels deep (line 2)"]
    );
    // ...but not inside quoted scalars, nor in plain text with quotes in it.
    let deep = "[".repeat(MAX_DEPTH + 1);
    assert!(yaml(&format!("a: b: c\nx: '{deep}'\ny: \"{deep}\"\n")).is_empty());
    assert_eq!(
        yaml(&format!("a: b: c\nx: [it's, {}]\n", brackets(MAX_DEPTH))),
        ["nested more than 64 levels deep (line 2)"]
    );
}

#[test]
fn large_hostile_texts_are_refused_or_passed_in_one_pass() {
    let size = MAX_FILE_BYTES;
    let refused = |text: String| {
        let problems = yaml(&text);
        assert_eq!(problems.len(), 1, "{:?}", &text[..40]);
        assert!(problems[0].starts_with("nested more than 64 levels deep"));
    };
    refused("[".repeat(size));
    refused("{a: ".repeat(size / 4));
    refused("- ".repeat(size / 2));
    refused("? ".repeat(size / 2));
    refused(block_mappings(1000));
    // Long but flat: read to the end.
    let flat = "[a, 'b', \"c\", {d: e}], ".repeat(size / 24);
    assert!(yaml(&format!("l: [{flat}]\n")).is_empty());
    assert!(figment_value(&"[".repeat(size)).len() == 1);
}

#[test]
fn figment_values_nest_as_figment_parses_them() {
    assert!(figment_value(&brackets(MAX_DEPTH)).is_empty());
    assert_eq!(
        figment_value(&brackets(MAX_DEPTH + 1)),
        ["poll.interval: nested more than 64 levels deep"]
    );
    let deep = "[".repeat(MAX_DEPTH + 1);
    // `inner` inside `depth` lists.
    let nest =
        |depth: usize, inner: &str| format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth));
    // Strings and characters hold brackets that are not nesting...
    for text in [
        format!("\"{deep}\""),
        format!("[\"{deep}\", 1]"),
        format!("{{key = \"{deep}\", \"k{deep}\" = 2}}"),
        format!("[{}]", ["'['"; 70].join(", ")),
        format!("\"a\\\"{deep}\""),
        nest(MAX_DEPTH, "\"]\""),
        // ...and figment gives up on a word followed by a bracket: a plain string then.
        format!("x{deep}"),
        format!("[a{deep}"),
        format!("[1 {deep}"),
        format!("{{a {deep}"),
    ] {
        assert!(figment_value(&text).is_empty(), "{text}");
    }
    // ...but a closing bracket in a string does not hide the ones that follow, and an
    // empty item or a key-value still leads on to the next one.
    for text in [
        nest(MAX_DEPTH, "\"]]]]\", [1]"),
        nest(MAX_DEPTH, ", [1]"),
        nest(MAX_DEPTH - 1, "{a = [1]}"),
        nest(MAX_DEPTH - 1, "{a = 1, b = [2]}"),
        nest(MAX_DEPTH - 1, "{\"a\" = [1]}"),
        format!("[{}1{}]", "{a=[".repeat(33), "]}".repeat(33)),
    ] {
        assert_eq!(figment_value(&text).len(), 1, "{text}");
    }
}

#[test]
fn files_are_read_up_to_the_limit() {
    let dir = std::env::temp_dir().join(format!("config-walk-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    };
    let read = |path: &Path| {
        let mut walk = Walk::new();
        let text = walk.read_file(path);
        (text, lines(walk))
    };

    let at_limit = write("full.yml", &vec![b'#'; MAX_FILE_BYTES]);
    let (text, problems) = read(&at_limit);
    assert_eq!(text.map(|t| t.len()), Some(MAX_FILE_BYTES));
    assert!(problems.is_empty());

    let over = write("over.yml", &vec![b'#'; MAX_FILE_BYTES + 1]);
    assert_eq!(
        read(&over),
        (
            None,
            vec!["the file is larger than the limit of 1 MiB".to_owned()]
        )
    );

    // The other failures say what reading the whole file would have said.
    let latin1 = write("latin1.yml", b"name: caf\xe9\n");
    let missing = dir.join("absent.yml");
    for path in [latin1, missing] {
        let expected = std::fs::read_to_string(&path).expect_err("unreadable");
        assert_eq!(
            read(&path),
            (None, vec![format!("cannot read the file: {expected}")])
        );
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// Text made mostly of YAML's and figment's punctuation, to reach their corners.
fn punctuation() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("["),
            Just("]"),
            Just("{"),
            Just("}"),
            Just(", "),
            Just(": "),
            Just("- "),
            Just("? "),
            Just("\n"),
            Just("\n  "),
            Just("'"),
            Just("\""),
            Just("\\"),
            Just("#"),
            Just("|"),
            Just("&a "),
            Just("*a"),
            Just("!!str "),
            Just("---\n"),
            Just("k"),
            Just("="),
            Just("é"),
            Just("\t"),
        ],
        0..200,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

    #[test]
    fn no_text_makes_a_guard_panic(text in prop_oneof![punctuation(), any::<String>()]) {
        let mut walk = Walk::new();
        walk.yaml_text(&text);
        walk.figment_text("k", &text);
        let _ = lines(walk);
    }

    #[test]
    fn nesting_is_measured_exactly(depth in 1..=2 * MAX_DEPTH, mapping in any::<bool>()) {
        let (open, close) = if mapping { ("{a = ", "}") } else { ("[", "]") };
        let value = format!("{}1{}", open.repeat(depth), close.repeat(depth));
        prop_assert_eq!(figment_value(&value).is_empty(), depth <= MAX_DEPTH);
        let (open, close) = if mapping { ("{a: ", "}") } else { ("[", "]") };
        let value = format!("{}1{}", open.repeat(depth), close.repeat(depth));
        prop_assert_eq!(yaml(&value).is_empty(), depth <= MAX_DEPTH);
    }
}
