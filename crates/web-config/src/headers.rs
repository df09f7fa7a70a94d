//! `http_server_config.headers`: the extra response headers, limited to the same
//! allowlist as the exporter-toolkit. Headers that carry protocol meaning
//! (`Authorization`, `Content-Type`, `Content-Length`, `Content-Encoding`, `Server`,
//! `WWW-Authenticate`, `Set-Cookie`, …) are therefore never settable: a wrong one would
//! break scrapes or authentication in ways that are hard to trace back to this file.

use figment::value::Dict;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::error::Problems;
use super::yaml;

/// The settable headers (as written in the file, and lowercase for `HeaderName`) and,
/// for some, the only values allowed (exact, as in the toolkit).
const ALLOWED: [(&str, &str, &[&str]); 5] = [
    (
        "Strict-Transport-Security",
        "strict-transport-security",
        &[],
    ),
    (
        "X-Content-Type-Options",
        "x-content-type-options",
        &["nosniff"],
    ),
    (
        "X-Frame-Options",
        "x-frame-options",
        &["deny", "sameorigin"],
    ),
    ("X-XSS-Protection", "x-xss-protection", &[]),
    ("Content-Security-Policy", "content-security-policy", &[]),
];

/// Validates the `headers` mapping into a header map, reporting every bad entry.
/// Header names match case-insensitively (HTTP semantics); the toolkit matches them
/// exactly, so every file it accepts is accepted here too.
pub(super) fn parse(dict: &Dict, path: &str, problems: &mut Problems) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in dict {
        let key = yaml::child(path, name);
        let Some((_, lowercase, allowed_values)) = ALLOWED
            .iter()
            .find(|(allowed, _, _)| allowed.eq_ignore_ascii_case(name))
        else {
            let names: Vec<&str> = ALLOWED.iter().map(|(n, _, _)| *n).collect();
            problems.at(
                key,
                format!(
                    "header cannot be configured (allowed: {})",
                    names.join(", ")
                ),
            );
            continue;
        };
        let text = match yaml::present(Some(value)) {
            None => {
                problems.at(key, "expected a value, found null");
                continue;
            }
            Some(v) => match yaml::scalar_text(v, &key, problems) {
                Some(text) => text,
                None => continue,
            },
        };
        if !allowed_values.is_empty() && !allowed_values.contains(&text.as_str()) {
            problems.at(
                key,
                format!(
                    "invalid value {text:?} (expected one of: {})",
                    allowed_values.join(", ")
                ),
            );
            continue;
        }
        match HeaderValue::from_str(&text) {
            Ok(v) => {
                headers.insert(HeaderName::from_static(lowercase), v);
            }
            Err(_) => problems.at(
                key,
                "invalid header value (only visible ASCII characters and spaces are allowed)",
            ),
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn run(text: &str) -> (HeaderMap, String) {
        let mut problems = Problems::default();
        let value = yaml::parse(text, &mut problems).expect("test YAML parses");
        let dict = yaml::any_mapping(&value, "", &mut problems).expect("mapping");
        let headers = parse(dict, "headers", &mut problems);
        let errors = problems.into_errors(Path::new("w.yml")).to_string();
        (headers, errors)
    }

    #[test]
    fn allowlisted_headers_are_set() {
        let (headers, errors) = run("Strict-Transport-Security: max-age=31536000\n\
             x-content-type-options: nosniff\n\
             X-Frame-Options: sameorigin\n\
             X-XSS-Protection: 0\n\
             Content-Security-Policy: default-src 'none'\n");
        assert_eq!(errors, "");
        assert_eq!(headers["strict-transport-security"], "max-age=31536000");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "sameorigin");
        assert_eq!(headers["x-xss-protection"], "0");
        assert_eq!(headers["content-security-policy"], "default-src 'none'");
    }

    #[test]
    fn reserved_headers_are_rejected_each_by_name() {
        let (headers, errors) = run(
            "Authorization: x\nContent-Type: text/plain\nContent-Length: 1\n\
             Content-Encoding: gzip\nServer: me\nWWW-Authenticate: Basic\nSet-Cookie: a=b\n",
        );
        assert!(headers.is_empty());
        for name in [
            "Authorization",
            "Content-Type",
            "Content-Length",
            "Content-Encoding",
            "Server",
            "WWW-Authenticate",
            "Set-Cookie",
        ] {
            assert!(
                errors.contains(&format!(
                    "w.yml: headers.{name}: header cannot be configured (allowed: Strict-Transport-Security"
                )),
                "{name} missing from:\n{errors}"
            );
        }
        assert_eq!(errors.lines().count(), 7);
    }

    #[test]
    fn enumerated_values_are_checked() {
        let (_, errors) = run("X-Content-Type-Options: sniff\nX-Frame-Options: allow-from x\n");
        assert_eq!(
            errors,
            "w.yml: headers.X-Content-Type-Options: invalid value \"sniff\" (expected one of: nosniff)\n\
             w.yml: headers.X-Frame-Options: invalid value \"allow-from x\" (expected one of: deny, sameorigin)"
        );
    }

    #[test]
    fn control_characters_and_null_are_rejected() {
        let (_, errors) = run("Content-Security-Policy: \"a\\u0001b\"\nX-XSS-Protection:\n");
        assert!(
            errors.contains("headers.Content-Security-Policy: invalid header value"),
            "{errors}"
        );
        assert!(
            errors.contains("headers.X-XSS-Protection: expected a value, found null"),
            "{errors}"
        );
    }
}
