//! The validation pass: walks the merged configuration tree, turns each value into its
//! typed form, and collects a message for every bad one rather than stopping at the first.

use std::sync::LazyLock;
use std::time::Duration;

use figment::Figment;
use figment::value::{Dict, Value};
use regex::Regex;

use super::{Config, ConfigErrors, PollConfig, TargetConfig};

static REGION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$").expect("a valid pattern"));
static POOL_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_-]+_[0-9a-zA-Z]+$").expect("a valid pattern"));
static ROLE_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$")
        .expect("a valid pattern")
});
static EXTERNAL_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$").expect("a valid pattern"));

/// Whether `s` has the shape of an AWS region name, such as `eu-west-1` or `us-gov-west-1`.
pub fn is_valid_region(s: &str) -> bool {
    REGION.is_match(s)
}

/// Whether `s` has the shape of a Cognito user pool ID (`<region>_<id>`, at most 55 bytes).
pub fn is_valid_pool_id(s: &str) -> bool {
    s.len() <= 55 && POOL_ID.is_match(s)
}

pub(super) struct Checker<'a> {
    figment: &'a Figment,
    errors: Vec<String>,
    warnings: Vec<String>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(figment: &'a Figment) -> Self {
        Self {
            figment,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(super) fn config(mut self, root: &Dict) -> Result<Config, ConfigErrors> {
        self.unknown_keys("", root, &["poll", "targets"]);
        let poll = match root.get("poll") {
            Some(v) => self.poll(v),
            None => PollConfig::default(),
        };
        let targets = match root.get("targets") {
            None | Some(Value::Empty(..)) => Vec::new(),
            Some(Value::Array(_, items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.target(&format!("targets[{i}]"), item))
                .collect(),
            Some(other) => {
                self.error("targets", other, "expected a list of targets".into());
                Vec::new()
            }
        };
        let targets = if targets.is_empty() && self.errors.is_empty() {
            vec![TargetConfig::default()]
        } else {
            targets
        };
        if self.errors.is_empty() {
            Ok(Config {
                poll,
                targets,
                warnings: self.warnings,
            })
        } else {
            Err(ConfigErrors(self.errors))
        }
    }

    fn poll(&mut self, value: &Value) -> PollConfig {
        let mut poll = PollConfig::default();
        let Some(dict) = self.dict("poll", value) else {
            return poll;
        };
        self.unknown_keys(
            "poll",
            dict,
            &[
                "interval",
                "timeout",
                "requests_per_second",
                "concurrency",
                "max_staleness",
            ],
        );
        if let Some(v) = dict.get("interval")
            && let Some(d) = self.duration("poll.interval", v)
        {
            poll.interval = d;
            if d < Duration::from_secs(60) {
                self.warnings.push(format!(
                    "poll.interval is {}: below 1m, polls spend Cognito's shared read quota fast",
                    humantime::format_duration(d)
                ));
            }
        }
        poll.max_staleness = poll.interval * 3;
        if let Some(v) = dict.get("timeout")
            && let Some(d) = self.duration("poll.timeout", v)
        {
            poll.timeout = d;
        }
        if let Some(v) = dict.get("max_staleness")
            && let Some(d) = self.duration("poll.max_staleness", v)
        {
            poll.max_staleness = d;
        }
        if let Some(v) = dict.get("requests_per_second") {
            match number(v) {
                Some(n) if n > 0.0 && n.is_finite() && n <= 10_000.0 => {
                    poll.requests_per_second = n
                }
                _ => self.error(
                    "poll.requests_per_second",
                    v,
                    "expected a number above 0 (at most 10000)".into(),
                ),
            }
        }
        if let Some(v) = dict.get("concurrency") {
            match number(v) {
                Some(n) if n.fract() == 0.0 && (1.0..=256.0).contains(&n) => {
                    poll.concurrency = n as usize
                }
                _ => self.error(
                    "poll.concurrency",
                    v,
                    "expected a whole number from 1 to 256".into(),
                ),
            }
        }
        poll
    }

    fn target(&mut self, key: &str, value: &Value) -> Option<TargetConfig> {
        let dict = self.dict(key, value)?;
        if dict.is_empty() {
            self.error(
                key,
                value,
                "an empty target: give at least its region".into(),
            );
            return None;
        }
        self.unknown_keys(
            key,
            dict,
            &[
                "region",
                "role_arn",
                "external_id",
                "endpoint_url",
                "user_pools",
                "include",
                "exclude",
            ],
        );
        let before = self.errors.len();
        let mut target = TargetConfig {
            region: self.string_matching(
                key,
                dict,
                "region",
                &REGION,
                "an AWS region such as eu-west-1",
            ),
            role_arn: self.string_matching(
                key,
                dict,
                "role_arn",
                &ROLE_ARN,
                "an IAM role ARN such as arn:aws:iam::123456789012:role/name",
            ),
            external_id: self.string_matching(
                key,
                dict,
                "external_id",
                &EXTERNAL_ID,
                "2 to 1224 characters of letters, digits and +=,.@:/-",
            ),
            ..TargetConfig::default()
        };
        if target.external_id.is_some() && !dict.contains_key("role_arn") {
            self.error(
                &format!("{key}.external_id"),
                &dict["external_id"],
                "only meaningful with role_arn".into(),
            );
        }
        if let Some(v) = dict.get("endpoint_url") {
            target.endpoint_url = self.endpoint(&format!("{key}.endpoint_url"), v);
        }
        if let Some(v) = dict.get("user_pools") {
            target.user_pools =
                self.pool_ids(&format!("{key}.user_pools"), v, target.region.as_deref());
        }
        for (name, slot) in [
            ("include", &mut target.include),
            ("exclude", &mut target.exclude),
        ] {
            let Some(v) = dict.get(name) else { continue };
            let full = format!("{key}.{name}");
            match v.as_str().map(Regex::new) {
                Some(Ok(re)) => *slot = Some(re),
                Some(Err(e)) => self.error(&full, v, format!("invalid regular expression: {e}")),
                None => self.error(&full, v, "expected a regular expression string".into()),
            }
        }
        (self.errors.len() == before).then_some(target)
    }

    fn endpoint(&mut self, key: &str, v: &Value) -> Option<String> {
        let Some(s) = v.as_str() else {
            self.error(key, v, "expected a URL string".into());
            return None;
        };
        match s.parse::<http::Uri>() {
            Ok(uri)
                if matches!(uri.scheme_str(), Some("http" | "https"))
                    && uri.authority().is_some() =>
            {
                Some(s.to_string())
            }
            _ => {
                self.error(
                    key,
                    v,
                    format!("expected an http:// or https:// URL, got {s:?}"),
                );
                None
            }
        }
    }

    fn pool_ids(&mut self, key: &str, v: &Value, region: Option<&str>) -> Option<Vec<String>> {
        let Value::Array(_, items) = v else {
            self.error(key, v, "expected a list of user pool IDs".into());
            return None;
        };
        let mut ids = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_key = format!("{key}[{i}]");
            match item.as_str() {
                Some(id) if is_valid_pool_id(id) => {
                    if let Some(region) = region
                        && !id.starts_with(&format!("{region}_"))
                    {
                        self.error(
                            &item_key,
                            item,
                            format!("{id:?} is not a pool of region {region}"),
                        );
                    } else {
                        ids.push(id.to_string());
                    }
                }
                _ => self.error(
                    &item_key,
                    item,
                    "expected a user pool ID such as eu-west-1_AbCdEf123".into(),
                ),
            }
        }
        Some(ids)
    }

    fn string_matching(
        &mut self,
        parent: &str,
        dict: &Dict,
        name: &str,
        pattern: &Regex,
        expected: &str,
    ) -> Option<String> {
        let v = dict.get(name)?;
        match v.as_str() {
            Some(s) if pattern.is_match(s) => Some(s.to_string()),
            Some(s) => {
                self.error(
                    &format!("{parent}.{name}"),
                    v,
                    format!("{s:?} is not {expected}"),
                );
                None
            }
            None => {
                self.error(
                    &format!("{parent}.{name}"),
                    v,
                    format!("expected {expected}"),
                );
                None
            }
        }
    }

    fn duration(&mut self, key: &str, v: &Value) -> Option<Duration> {
        let parsed = match v.as_str() {
            Some(s) => {
                humantime::parse_duration(s).map_err(|e| format!("invalid duration {s:?}: {e}"))
            }
            None => Err("expected a duration such as \"30s\" or \"5m\"".to_string()),
        };
        match parsed {
            Ok(d) if !d.is_zero() => Some(d),
            Ok(_) => {
                self.error(key, v, "must be above zero".into());
                None
            }
            Err(message) => {
                self.error(key, v, message);
                None
            }
        }
    }

    fn dict<'v>(&mut self, key: &str, v: &'v Value) -> Option<&'v Dict> {
        match v {
            Value::Dict(_, d) => Some(d),
            other => {
                self.error(key, other, "expected a mapping".into());
                None
            }
        }
    }

    fn unknown_keys(&mut self, parent: &str, dict: &Dict, known: &[&str]) {
        for (k, v) in dict {
            if !known.contains(&k.as_str()) {
                let full = if parent.is_empty() {
                    k.clone()
                } else {
                    format!("{parent}.{k}")
                };
                self.error(
                    &full,
                    v,
                    format!("unknown key (expected one of: {})", known.join(", ")),
                );
            }
        }
    }

    fn error(&mut self, key: &str, value: &Value, message: String) {
        let from = self
            .figment
            .get_metadata(value.tag())
            .map(|m| match &m.source {
                Some(figment::Source::File(path)) => format!("{}: ", path.display()),
                _ if m.name.contains("environment") => "environment: ".to_string(),
                _ => String::new(),
            })
            .unwrap_or_default();
        self.errors.push(format!("{from}{key}: {message}"));
    }
}

/// A number given as a number, or as a string (environment variables and flags).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Num(_, n) => n
            .to_f64()
            .or_else(|| n.to_i128().map(|i| i as f64))
            .or_else(|| n.to_u128().map(|u| u as f64)),
        Value::String(_, s) => s.trim().parse().ok(),
        _ => None,
    }
}
