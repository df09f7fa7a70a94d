//! `http_server_config.headers`: the extra response headers, limited to the same
//! allowlist as the exporter-toolkit. Headers that carry protocol meaning
//! (`Authorization`, `Content-Type`, `Content-Length`, `Content-Encoding`, `Server`,
//! `WWW-Authenticate`, `Set-Cookie`, …) are therefore never settable: a wrong one would
//! break scrapes or authentication in ways that are hard to trace back to this file.

use config_walk::{Walk, child, present};
use figment::value::Dict;
use http::{HeaderMap, HeaderName, HeaderValue};

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
pub(crate) fn parse(dict: &Dict, path: &str, walk: &mut Walk) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in dict {
        let key = child(path, name);
        let Some((_, lowercase, allowed_values)) = ALLOWED
            .iter()
            .find(|(allowed, _, _)| allowed.eq_ignore_ascii_case(name))
        else {
            let names: Vec<&str> = ALLOWED.iter().map(|(n, _, _)| *n).collect();
            walk.report(
                key,
                format!(
                    "header cannot be configured (allowed: {})",
                    names.join(", ")
                ),
            );
            continue;
        };
        let text = match present(Some(value)) {
            None => {
                walk.report(key, "expected a value, found null");
                continue;
            }
            Some(v) => match walk.scalar_text(&key, v) {
                Some(text) => text,
                None => continue,
            },
        };
        if !allowed_values.is_empty() && !allowed_values.contains(&text.as_str()) {
            walk.report(
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
            Err(_) => walk.report(
                key,
                "invalid header value (only visible ASCII characters and spaces are allowed)",
            ),
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use figment::providers::{Format, Yaml};
    use figment::value::Value;

    use super::*;
    use crate::problems_in;

    fn run(text: &str) -> (HeaderMap, String) {
        let value: Value = Yaml::from_str(text).expect("test YAML parses");
        let mut walk = Walk::new();
        let dict = walk.any_mapping("", &value).expect("mapping");
        let headers = parse(dict, "headers", &mut walk);
        let errors = problems_in(Path::new("w.yml"), walk).to_string();
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
