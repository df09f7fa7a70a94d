//! Walking the file into a [`WebConfig`], collecting every problem with its key path.

use std::collections::BTreeMap;
use std::path::Path;

use figment::value::{Dict, Value};
use http::HeaderMap;

use super::config::{BcryptHash, WebConfig};
use super::error::{Problems, WebConfigErrors};
use super::files::Reader;
use super::{headers, yaml};

const TOP_KEYS: [&str; 3] = [
    "tls_server_config",
    "http_server_config",
    "basic_auth_users",
];

const HTTP_KEYS: [&str; 2] = ["http2", "headers"];

/// Loads and validates a web configuration file, reporting every problem at once.
pub fn load(path: &Path) -> Result<WebConfig, WebConfigErrors> {
    let mut problems = Problems::default();
    let mut reader = Reader::default();
    let document = match reader.read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| "the file is not UTF-8".to_string()),
        Err(e) => Err(format!("cannot read the file: {e}")),
    };
    let document = match document {
        Ok(text) => yaml::parse(&text, &mut problems),
        Err(message) => {
            problems.file(message);
            None
        }
    };
    let Some(document) = document else {
        return Err(problems.into_errors(path));
    };
    let base_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };

    let empty = Dict::new();
    let root = match &document {
        Value::Empty(..) => &empty,
        other => yaml::any_mapping(other, "", &mut problems).unwrap_or(&empty),
    };
    for key in root.keys() {
        if key == "rate_limit" {
            problems.at(
                key,
                "not supported by cognito-exporter (the exporter-toolkit's request rate \
                 limiter); remove it, or rate-limit in front of the exporter",
            );
        } else if !TOP_KEYS.contains(&key.as_str()) {
            problems.at(
                key.as_str(),
                format!("unknown key (expected one of: {})", TOP_KEYS.join(", ")),
            );
        }
    }

    let mut context = Context {
        base_dir,
        reader: &mut reader,
        problems: &mut problems,
    };
    let tls = yaml::present(root.get("tls_server_config"))
        .and_then(|v| context.tls_section(v, "tls_server_config"));
    let (http2, headers) = match yaml::present(root.get("http_server_config")) {
        Some(v) => context.http_section(v, "http_server_config"),
        None => (true, HeaderMap::new()),
    };
    let basic_auth_users = match yaml::present(root.get("basic_auth_users")) {
        Some(v) => users(v, "basic_auth_users", context.problems),
        None => BTreeMap::new(),
    };

    if !problems.is_empty() {
        return Err(problems.into_errors(path));
    }
    Ok(WebConfig {
        path: path.to_path_buf(),
        tls,
        http2,
        headers,
        basic_auth_users,
        sources: reader.finish(),
    })
}

/// What a section reader needs: where relative paths start, the file reader (which
/// fingerprints what it reads) and the problem list.
pub(super) struct Context<'a> {
    pub(super) base_dir: &'a Path,
    pub(super) reader: &'a mut Reader,
    pub(super) problems: &'a mut Problems,
}

impl Context<'_> {
    pub(super) fn text(&mut self, dict: &Dict, path: &str, key: &str) -> Option<String> {
        let value = yaml::present(dict.get(key))?;
        yaml::string(value, &yaml::child(path, key), self.problems)
    }

    pub(super) fn list(
        &mut self,
        dict: &Dict,
        path: &str,
        key: &str,
    ) -> Option<Vec<(String, String)>> {
        let value = yaml::present(dict.get(key))?;
        yaml::string_list(value, &yaml::child(path, key), self.problems)
    }

    fn http_section(&mut self, value: &Value, path: &str) -> (bool, HeaderMap) {
        let Some(dict) = yaml::mapping(value, path, &HTTP_KEYS, self.problems) else {
            return (true, HeaderMap::new());
        };
        let http2 = yaml::present(dict.get("http2"))
            .and_then(|v| yaml::boolean(v, &yaml::child(path, "http2"), self.problems))
            .unwrap_or(true);
        let headers_path = yaml::child(path, "headers");
        let headers = yaml::present(dict.get("headers"))
            .and_then(|v| yaml::any_mapping(v, &headers_path, self.problems))
            .map(|d| headers::parse(d, &headers_path, self.problems))
            .unwrap_or_default();
        (http2, headers)
    }
}

fn users(value: &Value, path: &str, problems: &mut Problems) -> BTreeMap<String, BcryptHash> {
    let mut users = BTreeMap::new();
    let Some(dict) = yaml::any_mapping(value, path, problems) else {
        return users;
    };
    for (user, hash) in dict {
        let key = yaml::child(path, user);
        if user.contains(':') {
            // RFC 7617: the user-id ends at the first colon, so this user could never log in.
            problems.at(key.as_str(), "a user name cannot contain ':'");
        }
        let Some(hash) = yaml::present(Some(hash)) else {
            problems.at(key, "expected a bcrypt hash, found null");
            continue;
        };
        let Some(hash) = yaml::string(hash, &key, problems) else {
            continue;
        };
        match hash.parse::<BcryptHash>() {
            Ok(hash) => {
                users.insert(user.clone(), hash);
            }
            Err(e) => problems.at(key, e),
        }
    }
    users
}
