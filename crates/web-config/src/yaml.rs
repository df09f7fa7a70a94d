//! Reading the YAML document by hand, one key at a time, so that a wrong type or an
//! unknown key in one place does not hide the problems in the others (serde stops at
//! the first error).

use figment::error::Actual;
use figment::providers::{Format, Yaml};
use figment::value::{Dict, Value};

use super::error::Problems;

/// Parses the text of the file. `None` (after recording why) when it is not YAML.
pub(super) fn parse(text: &str, problems: &mut Problems) -> Option<Value> {
    // A file of only comments is an empty document, which is a valid (empty) config.
    if text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---"
    }) {
        return Some(Value::from(Dict::new()));
    }
    match Yaml::from_str::<Value>(text) {
        Ok(value) => Some(value),
        Err(e) => {
            problems.file(format!("not valid YAML: {e}"));
            None
        }
    }
}

/// The key path of `key` inside `parent` (`""` is the document root).
pub(super) fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// What a value is, for "expected X, found Y" messages. Never shows the value itself,
/// which may be a secret.
pub(super) fn describe(value: &Value) -> &'static str {
    match value {
        Value::String(..) | Value::Char(..) => "a string",
        Value::Bool(..) => "a boolean",
        Value::Num(..) => "a number",
        Value::Empty(..) => "null",
        Value::Dict(..) => "a mapping",
        Value::Array(..) => "a list",
    }
}

/// `None` for a null value, which YAML writes as an empty `key:`; it means "not set",
/// as in the Go toolkit.
pub(super) fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !matches!(v, Value::Empty(..)))
}

/// A mapping whose keys must all be in `known`; each other key is reported.
/// `None` (after reporting) when the value is not a mapping.
pub(super) fn mapping<'v>(
    value: &'v Value,
    path: &str,
    known: &[&str],
    problems: &mut Problems,
) -> Option<&'v Dict> {
    let dict = any_mapping(value, path, problems)?;
    for key in dict.keys() {
        if !known.contains(&key.as_str()) {
            problems.at(
                child(path, key),
                format!("unknown key (expected one of: {})", known.join(", ")),
            );
        }
    }
    Some(dict)
}

/// A mapping with arbitrary keys (user names, header names).
pub(super) fn any_mapping<'v>(
    value: &'v Value,
    path: &str,
    problems: &mut Problems,
) -> Option<&'v Dict> {
    match value {
        Value::Dict(_, dict) => Some(dict),
        other => {
            problems.at(
                path,
                format!("expected a mapping, found {}", describe(other)),
            );
            None
        }
    }
}

pub(super) fn string(value: &Value, path: &str, problems: &mut Problems) -> Option<String> {
    match value {
        Value::String(_, s) => Some(s.clone()),
        Value::Char(_, c) => Some(c.to_string()),
        other => {
            problems.at(
                path,
                format!("expected a string, found {}", describe(other)),
            );
            None
        }
    }
}

/// A scalar read as text, the way Go's YAML decoder fills a `map[string]string`:
/// `X-XSS-Protection: 0` is the string "0".
pub(super) fn scalar_text(value: &Value, path: &str, problems: &mut Problems) -> Option<String> {
    match value {
        Value::Bool(_, b) => Some(b.to_string()),
        Value::Num(_, n) => Some(match n.to_actual() {
            Actual::Unsigned(u) => u.to_string(),
            Actual::Signed(i) => i.to_string(),
            Actual::Float(f) => f.to_string(),
            other => other.to_string(),
        }),
        other => string(other, path, problems),
    }
}

pub(super) fn boolean(value: &Value, path: &str, problems: &mut Problems) -> Option<bool> {
    match value {
        Value::Bool(_, b) => Some(*b),
        other => {
            problems.at(
                path,
                format!("expected true or false, found {}", describe(other)),
            );
            None
        }
    }
}

/// A list of strings, each paired with its own key path (`cipher_suites[2]`).
pub(super) fn string_list(
    value: &Value,
    path: &str,
    problems: &mut Problems,
) -> Option<Vec<(String, String)>> {
    let Value::Array(_, items) = value else {
        problems.at(path, format!("expected a list, found {}", describe(value)));
        return None;
    };
    let before = problems.len();
    let strings: Vec<(String, String)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let item_path = format!("{path}[{i}]");
            string(item, &item_path, problems).map(|s| (item_path, s))
        })
        .collect();
    (problems.len() == before).then_some(strings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Value {
        let mut problems = Problems::default();
        let value = parse(text, &mut problems).expect("test YAML parses");
        assert!(problems.is_empty());
        value
    }

    #[test]
    fn comment_only_file_is_an_empty_mapping() {
        let value = doc("# nothing configured\n\n---\n");
        assert!(matches!(value, Value::Dict(_, d) if d.is_empty()));
    }

    #[test]
    fn syntax_error_is_reported_against_the_file() {
        let mut problems = Problems::default();
        assert!(parse("a: [unclosed\n", &mut problems).is_none());
        let errors = problems.into_errors(std::path::Path::new("w.yml"));
        assert!(
            errors.to_string().starts_with("w.yml: not valid YAML"),
            "{errors}"
        );
    }

    #[test]
    fn scalars_read_as_text_like_go() {
        let value = doc("a: 0\nb: true\nc: nosniff\n");
        let dict = match &value {
            Value::Dict(_, d) => d,
            _ => panic!("mapping expected"),
        };
        let mut problems = Problems::default();
        let text = |k: &str, p: &mut Problems| scalar_text(&dict[k], k, p);
        assert_eq!(text("a", &mut problems).as_deref(), Some("0"));
        assert_eq!(text("b", &mut problems).as_deref(), Some("true"));
        assert_eq!(text("c", &mut problems).as_deref(), Some("nosniff"));
        assert!(problems.is_empty());
    }

    #[test]
    fn wrong_types_name_the_path_and_not_the_value() {
        let value = doc("list: [a, 3, {x: 1}]\n");
        let Value::Dict(_, dict) = &value else {
            panic!("mapping expected")
        };
        let mut problems = Problems::default();
        assert!(string_list(&dict["list"], "list", &mut problems).is_none());
        let errors = problems.into_errors(std::path::Path::new("w.yml"));
        assert_eq!(
            errors.to_string(),
            "w.yml: list[1]: expected a string, found a number\n\
             w.yml: list[2]: expected a string, found a mapping"
        );
    }
}
