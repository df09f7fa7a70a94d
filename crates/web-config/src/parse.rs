//! Walking the file into a [`WebConfig`], collecting every problem with its key path:
//! the document and its top-level sections here, `tls_server_config` in parse_tls.rs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use config_walk::{Walk, child, present};
use figment::providers::{Format, Yaml};
use figment::value::{Dict, Value};
use http::HeaderMap;

use super::config::{BcryptHash, WebConfig};
use super::files::Reader;
use super::headers;
use super::server::ServerInfo;
use super::{WebConfigErrors, problems_in};

const TOP_KEYS: [&str; 4] = [
    "tls_server_config",
    "http_server_config",
    "basic_auth_users",
    "rate_limit",
];

const HTTP_KEYS: [&str; 2] = ["http2", "headers"];

/// Loads and validates a web configuration file, reporting every problem at once.
/// `server` is what the serving program decides (see [`ServerInfo`]).
pub fn load(path: &Path, server: &ServerInfo) -> Result<WebConfig, WebConfigErrors> {
    let mut walk = Walk::new();
    let mut reader = Reader::default();
    let document = match reader.read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| "the file is not UTF-8".to_string()),
        Err(e) => Err(format!("cannot read the file: {e}")),
    };
    let document = match document {
        Ok(text) => parse(&text, &mut walk),
        Err(message) => {
            walk.report_file(message);
            None
        }
    };
    let Some(document) = document else {
        return Err(problems_in(path, walk));
    };
    let base_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };

    let empty = Dict::new();
    let root = match &document {
        Value::Empty(..) => &empty,
        other => walk.any_mapping("", other).unwrap_or(&empty),
    };
    for (key, value) in root {
        if !TOP_KEYS.contains(&key.as_str()) {
            walk.unknown_key(key, value, &TOP_KEYS);
        }
    }

    let http_section = present(root.get("http_server_config"));
    let mut warnings: Vec<String> = Vec::new();
    let mut context = Context {
        base_dir,
        reader: &mut reader,
        walk: &mut walk,
        alpn: server.alpn(http2_setting(http_section)),
        warnings: &mut warnings,
    };
    let tls = present(root.get("tls_server_config"))
        .and_then(|v| context.tls_section(v, "tls_server_config"));
    let (http2, headers) = match http_section {
        Some(v) => context.http_section(v, "http_server_config"),
        None => (true, HeaderMap::new()),
    };
    if http2 && let Some(tls) = &tls {
        refuse_suites_http2_forbids(tls, context.walk);
    }
    let rate_limit = present(root.get("rate_limit")).and_then(|v| context.rate_limit(v));
    let basic_auth_users = match present(root.get("basic_auth_users")) {
        Some(v) => users(v, "basic_auth_users", context.walk),
        None => BTreeMap::new(),
    };

    if !walk.is_empty() {
        return Err(problems_in(path, walk));
    }
    let warnings = warnings
        .into_iter()
        .map(|warning| format!("{}: {warning}", path.display()))
        .chain(
            cost_warning(&basic_auth_users)
                .map(|warning| format!("{}: basic_auth_users: {warning}", path.display())),
        )
        .collect();
    Ok(WebConfig {
        path: path.to_path_buf(),
        tls,
        http2,
        headers,
        basic_auth_users,
        rate_limit,
        warnings,
        sources: reader.finish(),
        server: server.clone(),
    })
}

/// Parses the text of the file. `None` (after recording why) when it is not YAML.
fn parse(text: &str, walk: &mut Walk) -> Option<Value> {
    // A file of only comments is an empty document, which is a valid (empty) config.
    if text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---"
    }) {
        return Some(Value::from(Dict::new()));
    }
    // Keys given twice, and nesting that would slow the parser down: reported first.
    if !walk.yaml_text(text) {
        return None;
    }
    match Yaml::from_str::<Value>(text) {
        Ok(value) => Some(value),
        Err(e) => {
            walk.report_file(format!("not valid YAML: {e}"));
            None
        }
    }
}

/// `http_server_config.http2` when it is a boolean, else the default (`true`). The TLS
/// section, read first, needs it for ALPN; a wrong value is reported with its section.
fn http2_setting(http_section: Option<&Value>) -> bool {
    match http_section.and_then(|v| v.find_ref("http2")) {
        Some(Value::Bool(_, http2)) => *http2,
        _ => true,
    }
}

/// What a section reader needs: where relative paths start, the file reader (which
/// fingerprints what it reads), the problem list and the ALPN protocols to offer.
pub(crate) struct Context<'a> {
    pub(crate) base_dir: &'a Path,
    pub(crate) reader: &'a mut Reader,
    pub(crate) walk: &'a mut Walk,
    /// What is accepted but worth saying at start, each prefixed with its key.
    pub(crate) warnings: &'a mut Vec<String>,
    pub(crate) alpn: Vec<Vec<u8>>,
}

impl Context<'_> {
    /// The string at `key` in `dict`; `None` when absent or null (or not a string,
    /// reported).
    pub(crate) fn text(&mut self, dict: &Dict, path: &str, key: &str) -> Option<String> {
        let value = present(dict.get(key))?;
        self.walk.string(&child(path, key), value)
    }

    /// The list of strings at `key` in `dict`, each with its key path.
    pub(crate) fn list(
        &mut self,
        dict: &Dict,
        path: &str,
        key: &str,
    ) -> Option<Vec<(String, String)>> {
        let value = present(dict.get(key))?;
        self.walk.string_list(&child(path, key), value)
    }

    /// The boolean at `key` in `dict`, `default` when absent, null or not a boolean
    /// (reported).
    pub(crate) fn flag(&mut self, dict: &Dict, path: &str, key: &str, default: bool) -> bool {
        present(dict.get(key))
            .and_then(|v| self.walk.boolean(&child(path, key), v))
            .unwrap_or(default)
    }

    /// `rate_limit`: `interval` (a duration: "1s", "500ms", "1m30s", or `0`) and `burst`
    /// (a whole number); `None` when it limits nothing (`interval` zero or absent) or is
    /// wrong (reported).
    fn rate_limit(&mut self, value: &Value) -> Option<crate::RateLimit> {
        const PATH: &str = "rate_limit";
        let dict = self.walk.mapping(PATH, value, &["interval", "burst"])?;
        let interval_key = child(PATH, "interval");
        let interval = match present(dict.get("interval")) {
            None => Some(Duration::ZERO),
            // Go's YAML decoder reads a bare number into a duration as nanoseconds; only
            // 0, the toolkit's documented "off", means the same here.
            Some(Value::Num(_, n)) if n.to_u128() == Some(0) => Some(Duration::ZERO),
            Some(Value::Num(..)) => {
                self.walk.report(
                    interval_key,
                    "a number without a unit (the toolkit would read nanoseconds): write a \
                     duration such as 1s, 500ms or 1m30s, or 0 to turn the limit off",
                );
                None
            }
            Some(v) => self.walk.string(&interval_key, v).and_then(|text| {
                humantime::parse_duration(&text)
                    .map_err(|_| {
                        self.walk.report(
                            interval_key.as_str(),
                            format!("{text:?} is not a duration such as 1s, 500ms or 1m30s"),
                        );
                    })
                    .ok()
            }),
        };
        let burst = match present(dict.get("burst")) {
            None => Some(0),
            Some(v) => self
                .walk
                .scalar_text(&child(PATH, "burst"), v)
                .and_then(|text| {
                    text.parse::<u32>()
                        .map_err(|_| {
                            self.walk.report(
                                child(PATH, "burst"),
                                format!("{text:?}: expected a whole number of requests, 0 or more"),
                            );
                        })
                        .ok()
                }),
        };
        let limit = crate::RateLimit {
            interval: interval?,
            burst: burst?,
        };
        if !limit.interval.is_zero() && limit.burst == 0 {
            // The toolkit's limiter then lets no request through at all: every one gets
            // 429. Honoured as there, so that a file shared with Go exporters behaves
            // alike, but said at start.
            self.warnings.push(
                "rate_limit.burst: 0 or absent while interval is set: every request but \
                 /-/healthy and /-/ready gets 429, as with the toolkit; set burst to 1 or \
                 more, or interval to 0 to turn the limit off"
                    .to_string(),
            );
        }
        limit.limits().then_some(limit)
    }

    fn http_section(&mut self, value: &Value, path: &str) -> (bool, HeaderMap) {
        let Some(dict) = self.walk.mapping(path, value, &HTTP_KEYS) else {
            return (true, HeaderMap::new());
        };
        let http2 = self.flag(dict, path, "http2", true);
        let headers_path = child(path, "headers");
        let headers = present(dict.get("headers"))
            .and_then(|v| self.walk.any_mapping(&headers_path, v))
            .map(|d| headers::parse(d, &headers_path, self.walk))
            .unwrap_or_default();
        (http2, headers)
    }
}

fn users(value: &Value, path: &str, walk: &mut Walk) -> BTreeMap<String, BcryptHash> {
    let mut users = BTreeMap::new();
    let Some(dict) = walk.any_mapping(path, value) else {
        return users;
    };
    for (user, hash) in dict {
        let key = child(path, user);
        if user.contains(':') {
            // RFC 7617: the user-id ends at the first colon, so this user could never log in.
            walk.report(key.as_str(), "a user name cannot contain ':'");
        }
        let Some(hash) = present(Some(hash)) else {
            walk.report(key, "expected a bcrypt hash, found null");
            continue;
        };
        let Some(hash) = walk.string(&key, hash) else {
            continue;
        };
        // The message never quotes the hash: a weak password's hash can be cracked.
        match hash.parse::<BcryptHash>() {
            Ok(hash) => {
                users.insert(user.clone(), hash);
            }
            Err(e) => walk.report(key, e),
        }
    }
    users
}

/// Why hashes of different costs are worth a warning, naming each cost with its users
/// (never a hash); `None` when every hash has the same cost.
///
/// A wrong password costs one bcrypt at the cost of the user's hash, and an unknown user
/// one at the highest configured cost, so with mixed costs the time a refusal takes
/// tells the users of cheaper hashes from the others and from names that do not exist.
fn cost_warning(users: &BTreeMap<String, BcryptHash>) -> Option<String> {
    let mut by_cost: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for (user, hash) in users {
        by_cost.entry(hash.cost()).or_default().push(user);
    }
    if by_cost.len() < 2 {
        return None;
    }
    let groups: Vec<String> = by_cost
        .iter()
        .map(|(cost, users)| format!("cost {cost}: {}", users.join(", ")))
        .collect();
    Some(format!(
        "the bcrypt hashes have different costs ({}): a wrong password is refused sooner \
         for a cheaper hash, so response times tell those users from the others and from \
         unknown user names; hash every password with the same cost",
        groups.join("; ")
    ))
}

/// HTTP/2 over TLS 1.2 needs an ECDHE AES-128-GCM suite (RFC 9113, section 9.2.2); Go's
/// server refuses to start with a `cipher_suites` list that has none while HTTP/2 is on
/// and TLS 1.2 allowed. Refused alike, so that a file behaves here as with Go exporters.
fn refuse_suites_http2_forbids(tls: &crate::TlsSettings, walk: &mut Walk) {
    use rustls::CipherSuite as Cs;
    let Some(suites) = &tls.cipher_suites else {
        return;
    };
    if tls.min_version >= crate::TlsVersion::Tls13
        || suites.iter().any(|s| {
            matches!(
                s,
                Cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
                    | Cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            )
        })
    {
        return;
    }
    walk.report(
        "tls_server_config.cipher_suites",
        "HTTP/2 over TLS 1.2 needs TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or \
         TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, and none is listed (Go exporters refuse \
         this too): add one, set min_version: TLS13, or http_server_config.http2: false",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_only_file_is_an_empty_mapping() {
        let mut walk = Walk::new();
        let value = parse("# nothing configured\n\n---\n", &mut walk);
        assert!(matches!(value, Some(Value::Dict(_, d)) if d.is_empty()));
        assert!(walk.is_empty());
    }

    #[test]
    fn syntax_error_is_reported_against_the_file() {
        let mut walk = Walk::new();
        assert!(parse("a: [unclosed\n", &mut walk).is_none());
        let errors = problems_in(Path::new("w.yml"), walk);
        assert!(
            errors.to_string().starts_with("w.yml: not valid YAML"),
            "{errors}"
        );
        assert_eq!(errors.problems()[0].key(), None);
    }

    #[test]
    fn keys_given_twice_and_deep_nesting_are_refused_before_parsing() {
        let mut walk = Walk::new();
        let text = "basic_auth_users:\n  alice: x\n  bob: y\n  alice: z\n";
        assert!(parse(text, &mut walk).is_none());
        let deep = format!(
            "tls_server_config: {}{}\n",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(parse(&deep, &mut walk).is_none());
        assert_eq!(
            problems_in(Path::new("w.yml"), walk).to_string(),
            "w.yml: basic_auth_users.alice: duplicate key (lines 2 and 4)\n\
             w.yml: nested more than 64 levels deep (line 1)"
        );
    }

    #[test]
    fn http2_is_peeked_only_when_a_boolean() {
        let doc = |yaml: &str| Yaml::from_str::<Value>(yaml).expect("YAML");
        assert!(http2_setting(None));
        assert!(!http2_setting(Some(&doc("http2: false"))));
        assert!(http2_setting(Some(&doc("http2: 0"))));
        assert!(http2_setting(Some(&doc("[1]"))));
    }
}
