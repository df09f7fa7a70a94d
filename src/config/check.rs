//! The validation pass: walks the merged configuration tree with `config_walk`, turns
//! each value into its typed form, and collects a problem for every bad one rather than
//! stopping at the first.

use std::sync::LazyLock;
use std::time::Duration;

use config_walk::{Walk, child, index, present};
use figment::Figment;
use figment::value::Value;
use regex::Regex;

use super::bounds::{self, Bounds};
use super::{ChecksConfig, Config, ConfigErrors, PolicyConfig, PollConfig, TargetConfig};

mod checks;
mod discovery;
mod policy;

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

/// Validates the merged tree (`root`, a mapping of the top-level keys) of `figment`.
pub(super) fn config(figment: &Figment, root: &Value) -> Result<Config, ConfigErrors> {
    // Terse: the exporter's messages say what was expected, not what was found.
    let mut checker = Checker {
        walk: Walk::new().terse(),
        warnings: Vec::new(),
    };
    let root = checker
        .walk
        .mapping(
            "",
            root,
            &["poll", "targets", "discovery", "checks", "policy"],
        )
        .expect("the merged configuration is a mapping");
    let poll = match root.get("poll") {
        Some(v) => checker.poll(v),
        None => PollConfig::default(),
    };
    let items = present(root.get("targets"))
        .and_then(|v| checker.walk.list("targets", v, "a list of targets"))
        .unwrap_or_default();
    let targets: Vec<(usize, TargetConfig)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| Some((i, checker.target(&index("targets", i), item)?)))
        .collect();
    checker.distinct(items, &targets);
    let targets: Vec<TargetConfig> = targets.into_iter().map(|(_, t)| t).collect();
    let discovery = root.get("discovery").and_then(|v| checker.discovery(v));
    let checks = match present(root.get("checks")) {
        Some(v) => checker.checks(v),
        None => ChecksConfig::default(),
    };
    let policy = match present(root.get("policy")) {
        Some(v) => checker.policy(v, &checks),
        None => PolicyConfig::default(),
    };
    let targets =
        if targets.is_empty() && !root.contains_key("discovery") && checker.walk.is_empty() {
            vec![TargetConfig::default()]
        } else {
            targets
        };
    let Checker { walk, warnings } = checker;
    walk.finish(|tag| config_walk::figment_origin(figment, tag))?;
    Ok(Config {
        poll,
        targets,
        discovery,
        checks,
        policy,
        warnings,
    })
}

struct Checker {
    walk: Walk,
    warnings: Vec<String>,
}

impl Checker {
    fn poll(&mut self, value: &Value) -> PollConfig {
        let mut poll = PollConfig::default();
        let Some(dict) = self.walk.mapping(
            "poll",
            value,
            &[
                "interval",
                "timeout",
                "requests_per_second",
                "concurrency",
                "max_staleness",
                "cycle_timeout",
                "describe_interval",
            ],
        ) else {
            return poll;
        };
        if let Some(v) = dict.get("interval")
            && let Some(d) = self.duration("poll.interval", v, &bounds::INTERVAL)
        {
            poll.interval = d;
            if d < Duration::from_secs(60) {
                self.warnings.push(format!(
                    "poll.interval is {}: below 1m, polls spend Cognito's shared read quota fast",
                    humantime::format_duration(d)
                ));
            }
        }
        poll.max_staleness = poll.interval.saturating_mul(3);
        poll.cycle_timeout = poll.interval.saturating_mul(3);
        if let Some(v) = dict.get("timeout")
            && let Some(d) = self.duration("poll.timeout", v, &bounds::TIMEOUT)
        {
            poll.timeout = d;
        }
        if let Some(v) = dict.get("max_staleness")
            && let Some(d) = self.duration("poll.max_staleness", v, &bounds::LONG)
        {
            poll.max_staleness = d;
        }
        if let Some(v) = dict.get("cycle_timeout")
            && let Some(d) = self.duration("poll.cycle_timeout", v, &bounds::LONG)
        {
            poll.cycle_timeout = d;
        }
        if let Some(v) = dict.get("describe_interval")
            && let Some(d) = self.duration("poll.describe_interval", v, &bounds::LONG)
        {
            poll.describe_interval = d;
        }
        if let Some(v) = dict.get("requests_per_second")
            && let Some(n) = self.walk.number(
                "poll.requests_per_second",
                v,
                bounds::REQUESTS_PER_SECOND_TEXT,
                |n| bounds::REQUESTS_PER_SECOND.contains(&n),
            )
        {
            poll.requests_per_second = n;
        }
        if let Some(v) = dict.get("concurrency")
            && let Some(n) =
                self.walk
                    .number("poll.concurrency", v, "a whole number from 1 to 256", |n| {
                        n.fract() == 0.0 && (1.0..=256.0).contains(&n)
                    })
        {
            poll.concurrency = n as usize;
        }
        poll
    }

    /// A duration above zero (see [`Walk::duration`]) within `bounds`.
    fn duration(&mut self, key: &str, value: &Value, bounds: &Bounds) -> Option<Duration> {
        let d = self.walk.duration(key, value)?;
        if bounds.range.contains(&d) {
            return Some(d);
        }
        let written = value.as_str().unwrap_or_default();
        self.walk.report_value(
            key,
            value,
            format!("expected a duration from {}, got {written:?}", bounds.text),
        );
        None
    }

    fn target(&mut self, key: &str, value: &Value) -> Option<TargetConfig> {
        let dict = self.walk.mapping(
            key,
            value,
            &[
                "region",
                "role_arn",
                "external_id",
                "endpoint_url",
                "user_pools",
                "include",
                "exclude",
            ],
        )?;
        if dict.is_empty() {
            self.walk
                .report_value(key, value, "an empty target: give at least its region");
            return None;
        }
        let before = self.walk.len();
        let mut matching = |name: &str, pattern: &Regex, expected: &str| {
            let v = dict.get(name)?;
            self.walk
                .string_matching(&child(key, name), v, pattern, expected)
        };
        let mut target = TargetConfig {
            region: matching("region", &REGION, "an AWS region such as eu-west-1"),
            role_arn: matching(
                "role_arn",
                &ROLE_ARN,
                "an IAM role ARN such as arn:aws:iam::123456789012:role/name",
            ),
            external_id: matching(
                "external_id",
                &EXTERNAL_ID,
                "2 to 1224 characters of letters, digits and +=,.@:/-",
            ),
            ..TargetConfig::default()
        };
        if target.external_id.is_some() && !dict.contains_key("role_arn") {
            self.walk.report_value(
                child(key, "external_id"),
                &dict["external_id"],
                "only meaningful with role_arn",
            );
        }
        if let Some(v) = dict.get("endpoint_url") {
            target.endpoint_url = self.endpoint(&child(key, "endpoint_url"), v);
        }
        if let Some(v) = dict.get("user_pools") {
            target.user_pools =
                self.pool_ids(&child(key, "user_pools"), v, target.region.as_deref());
        }
        if let Some(v) = dict.get("include") {
            target.include = self.walk.regex(&child(key, "include"), v);
        }
        if let Some(v) = dict.get("exclude") {
            target.exclude = self.walk.regex(&child(key, "exclude"), v);
        }
        (self.walk.len() == before).then_some(target)
    }

    fn endpoint(&mut self, key: &str, v: &Value) -> Option<String> {
        let Some(s) = v.as_str() else {
            self.walk.report_value(key, v, "expected a URL string");
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
                self.walk.report_value(
                    key,
                    v,
                    format!("expected an http:// or https:// URL, got {s:?}"),
                );
                None
            }
        }
    }

    fn pool_ids(&mut self, key: &str, v: &Value, region: Option<&str>) -> Option<Vec<String>> {
        let items = self.walk.list(key, v, "a list of user pool IDs")?;
        let mut ids = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_key = index(key, i);
            match item.as_str() {
                Some(id) if is_valid_pool_id(id) => {
                    if let Some(region) = region
                        && !id.starts_with(&format!("{region}_"))
                    {
                        self.walk.report_value(
                            item_key,
                            item,
                            format!("{id:?} is not a pool of region {region}"),
                        );
                    } else {
                        ids.push(id.to_string());
                    }
                }
                _ => self.walk.report_value(
                    item_key,
                    item,
                    "expected a user pool ID such as eu-west-1_AbCdEf123",
                ),
            }
        }
        Some(ids)
    }

    /// Reports each target that will poll the same account and region as an earlier
    /// one, as far as the configuration tells: their series would overwrite each other.
    /// `targets` are the valid ones, each with its index in `items`.
    fn distinct(&mut self, items: &[Value], targets: &[(usize, TargetConfig)]) {
        for (later, (i, target)) in targets.iter().enumerate() {
            let Some(polls) = Polls::of(target) else {
                continue;
            };
            if let Some((first, _)) = targets[..later]
                .iter()
                .find(|(_, earlier)| Polls::of(earlier).as_ref() == Some(&polls))
            {
                self.walk.report_value(
                    index("targets", *i),
                    &items[*i],
                    format!(
                        "the same account and region as {} ({polls})",
                        index("targets", *first)
                    ),
                );
            }
        }
    }
}

/// The account and region a target polls, when its configuration tells: its region (or
/// the chain's, the same for every target), and its role's account or, with no role,
/// that of the exporter's own credentials at the same endpoint.
#[derive(PartialEq)]
struct Polls<'a> {
    region: Option<&'a str>,
    account: Account<'a>,
}

#[derive(PartialEq)]
enum Account<'a> {
    Role(&'a str),
    Own { endpoint: Option<&'a str> },
}

impl<'a> Polls<'a> {
    /// `None` when the account is not known from the configuration alone.
    fn of(target: &'a TargetConfig) -> Option<Self> {
        let account = match (&target.role_arn, target.role_account_id()) {
            (Some(_), Some(account)) => Account::Role(account),
            (Some(_), None) => return None,
            (None, _) => Account::Own {
                endpoint: target.endpoint_url.as_deref(),
            },
        };
        Some(Self {
            region: target.region.as_deref(),
            account,
        })
    }
}

impl std::fmt::Display for Polls<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.region {
            Some(region) => write!(f, "{region}, ")?,
            None => f.write_str("the default region, ")?,
        }
        match self.account {
            Account::Role(account) => write!(f, "account {account}"),
            Account::Own { endpoint: None } => f.write_str("the exporter's own account"),
            Account::Own {
                endpoint: Some(endpoint),
            } => write!(f, "the exporter's own account at {endpoint}"),
        }
    }
}
