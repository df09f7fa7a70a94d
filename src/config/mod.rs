//! Configuration: layered with figment (built-in defaults ← the file given by
//! `--config.file` ← `COGNITO_EXPORTER_*` environment ← command-line flags), then
//! validated in one pass that reports every problem, each naming its key and where the
//! value came from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use config_walk::Walk;
use figment::providers::{Env, Format, Toml, Yaml};
use figment::value::{Dict, Value};
use figment::{Figment, Metadata, Profile, Provider};
use regex::Regex;

use crate::model::{Kind, Source};

mod bounds;
mod check;

pub use check::{is_valid_pool_id, is_valid_region};

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub poll: PollConfig,
    /// The static targets. With neither targets nor discovery configured, one target
    /// from the standard AWS chain.
    pub targets: Vec<TargetConfig>,
    /// `discovery.organizations`: targets that follow the AWS Organization.
    pub discovery: Option<OrganizationsDiscovery>,
    /// `checks`: whether and how often the configured destinations are checked.
    pub checks: ChecksConfig,
    /// `policy`: the declared logging rules each pool is held to.
    pub policy: PolicyConfig,
    /// Things worth a warning in the log once logging is set up.
    pub warnings: Vec<String>,
}

/// `poll.*`: how often and how fast to call Cognito.
#[derive(Clone, Debug, PartialEq)]
pub struct PollConfig {
    /// Time between the starts of two cycles of a target.
    pub interval: Duration,
    /// Limit on one AWS operation, retries included.
    pub timeout: Duration,
    /// API calls started per second per target (account and region), all operations.
    pub requests_per_second: f64,
    /// API calls in flight per target.
    pub concurrency: usize,
    /// How long a pool whose polls fail keeps serving its last known configuration.
    pub max_staleness: Duration,
    /// The longest one cycle of a target may run; a cycle still running then ends as
    /// failed, so that no answer (a pagination token that never ends, a stall) can hold
    /// a target forever.
    pub cycle_timeout: Duration,
    /// How often each pool is described again (`DescribeUserPool`: its feature plan and
    /// threat protection) when `ListUserPools` shows no change, spread over cycles.
    pub describe_interval: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(300),
            timeout: Duration::from_secs(30),
            requests_per_second: 5.0,
            concurrency: 4,
            max_staleness: Duration::from_secs(900),
            cycle_timeout: Duration::from_secs(900),
            describe_interval: Duration::from_secs(24 * 3600),
        }
    }
}

/// One entry of `targets`: an account and region to poll.
#[derive(Clone, Debug, Default)]
pub struct TargetConfig {
    /// Region; `None` takes it from the standard AWS chain.
    pub region: Option<String>,
    /// Role assumed through STS for this target.
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    /// Endpoint override for Cognito and STS.
    pub endpoint_url: Option<String>,
    /// Explicit pool IDs; `None` discovers every pool with ListUserPools.
    pub user_pools: Option<Vec<String>>,
    /// Keep only pools whose name matches.
    pub include: Option<Regex>,
    /// Drop pools whose name matches.
    pub exclude: Option<Regex>,
}

impl TargetConfig {
    /// The account ID in `role_arn`, known before any call is made.
    pub fn role_account_id(&self) -> Option<&str> {
        self.role_arn.as_deref()?.split(':').nth(4)
    }

    /// Whether a pool of this name passes the include and exclude filters.
    pub fn wants(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|re| re.is_match(name))
            && !self.exclude.as_ref().is_some_and(|re| re.is_match(name))
    }
}

/// `checks.*`: checking that each configured log destination can receive logs, with
/// calls to CloudWatch Logs, S3 and Firehose (permissions beyond the Cognito ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecksConfig {
    /// Whether each configured destination is checked at all.
    pub destinations: bool,
    /// How long a destination's result is kept before it is checked again.
    pub interval: Duration,
}

impl Default for ChecksConfig {
    fn default() -> Self {
        Self {
            destinations: false,
            interval: Duration::from_secs(3600),
        }
    }
}

/// `policy`: the declared logging rules.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyConfig {
    /// In the order written, each name once.
    pub rules: Vec<PolicyRule>,
}

/// One entry of `policy.rules`: which pools it holds, and what each of them must have.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyRule {
    /// `[a-z0-9_-]+`, unique: the `rule` label.
    pub name: String,
    pub pools: PoolSelector,
    pub require: Requirement,
}

/// `policy.rules[].pools`: every field given must match for a pool to be selected; with
/// none given, every pool is.
#[derive(Clone, Debug, Default)]
pub struct PoolSelector {
    /// Matched against the pool's name.
    pub name: Option<Regex>,
    /// 12-digit account IDs.
    pub accounts: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    /// Feature plans, each one of [`PLANS`]; a pool whose plan is not known is not
    /// selected.
    pub plans: Option<Vec<String>>,
}

/// Equal when they select the same pools: patterns compare as written.
impl PartialEq for PoolSelector {
    fn eq(&self, other: &Self) -> bool {
        self.name.as_ref().map(Regex::as_str) == other.name.as_ref().map(Regex::as_str)
            && self.accounts == other.accounts
            && self.regions == other.regions
            && self.plans == other.plans
    }
}

/// The feature plans (`UserPoolTier`) a rule can select.
pub const PLANS: [&str; 3] = ["LITE", "ESSENTIALS", "PLUS"];

/// `policy.rules[].require`: a destination a selected pool must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub source: Source,
    /// `None`: any kind of destination (`kind: any`).
    pub kind: Option<Kind>,
    /// The destination's check must also say `ok` (needs `checks.destinations`).
    pub status_ok: bool,
}

/// `discovery.organizations`: every active account of the organization (or of some of
/// its organizational units) in every listed region becomes a target that assumes
/// `member_role_arn` in that account.
#[derive(Clone, Debug)]
pub struct OrganizationsDiscovery {
    /// Assumed to call Organizations; `None` calls it with the exporter's own credentials.
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    /// The member role, `{account_id}` standing for each account's ID.
    pub member_role_arn: String,
    pub member_external_id: Option<String>,
    /// At least one, each once.
    pub regions: Vec<String>,
    /// Only accounts in these organizational units or below them; empty: every account.
    pub organizational_units: Vec<String>,
    /// Keep only accounts whose name or ID matches.
    pub account_include: Option<Regex>,
    /// Drop accounts whose name or ID matches.
    pub account_exclude: Option<Regex>,
    /// Pool filters of every discovered target.
    pub pool_include: Option<Regex>,
    pub pool_exclude: Option<Regex>,
    /// How often the account list is read again.
    pub refresh_interval: Duration,
    /// Endpoint of Organizations, STS and Cognito, as a target's `endpoint_url`.
    pub endpoint_url: Option<String>,
}

/// The placeholder `member_role_arn` must contain.
pub const ACCOUNT_ID_PLACEHOLDER: &str = "{account_id}";

impl OrganizationsDiscovery {
    /// Whether an account of this name and ID passes the account filters.
    pub fn wants_account(&self, id: &str, name: &str) -> bool {
        let matches = |re: &Regex| re.is_match(name) || re.is_match(id);
        self.account_include.as_ref().is_none_or(matches)
            && !self.account_exclude.as_ref().is_some_and(matches)
    }

    /// The target of account `account_id` in `region`.
    pub fn target(&self, account_id: &str, region: &str) -> TargetConfig {
        TargetConfig {
            region: Some(region.to_owned()),
            role_arn: Some(
                self.member_role_arn
                    .replace(ACCOUNT_ID_PLACEHOLDER, account_id),
            ),
            external_id: self.member_external_id.clone(),
            endpoint_url: self.endpoint_url.clone(),
            user_pools: None,
            include: self.pool_include.clone(),
            exclude: self.pool_exclude.clone(),
        }
    }
}

/// Every problem found in the configuration, one per line, each naming its key and
/// where the value came from (the file's path, or `environment`).
pub type ConfigErrors = config_walk::Problems;

/// Values from command-line flags, the last and strongest layer.
#[derive(Clone, Debug, Default)]
pub struct FlagOverrides {
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub requests_per_second: Option<f64>,
    pub concurrency: Option<u64>,
    pub max_staleness: Option<String>,
    pub cycle_timeout: Option<String>,
    pub describe_interval: Option<String>,
}

/// Builds the layered figment. `file` is read here so that a missing or unreadable file
/// is an error rather than an empty layer, and so that its text (and the environment's
/// values) can be checked before a parser sees them: a file's size, the nesting of
/// every value, YAML keys given twice (see [`Walk::yaml_text`]).
pub fn figment(file: Option<&Path>, flags: &FlagOverrides) -> Result<Figment, ConfigErrors> {
    let mut figment = Figment::new();
    if let Some(path) = file {
        let mut walk = Walk::new();
        let text = walk.read_file(path);
        // TOML refuses duplicate keys itself, and its parser stops at 80 levels of
        // nesting in linear time.
        if let Some(text) = &text
            && !is_toml(path)
        {
            walk.yaml_text(text);
        }
        match text {
            Some(text) if walk.is_empty() => figment = figment.merge(FileLayer::new(path, text)),
            _ => return Err(walk.into_problems(|_| Some(path.display().to_string()))),
        }
    }
    let env = Env::prefixed("COGNITO_EXPORTER_").split("__");
    let mut walk = Walk::new();
    for (key, value) in env.iter() {
        walk.figment_text(key.as_str(), &value);
    }
    walk.finish(|_| Some("environment".to_owned()))?;
    figment = figment.merge(env);
    let f = flags;
    let keys: [(&str, Option<Value>); 7] = [
        ("poll.interval", f.interval.clone().map(Value::from)),
        ("poll.timeout", f.timeout.clone().map(Value::from)),
        (
            "poll.requests_per_second",
            f.requests_per_second.map(Value::from),
        ),
        ("poll.concurrency", f.concurrency.map(Value::from)),
        (
            "poll.max_staleness",
            f.max_staleness.clone().map(Value::from),
        ),
        (
            "poll.cycle_timeout",
            f.cycle_timeout.clone().map(Value::from),
        ),
        (
            "poll.describe_interval",
            f.describe_interval.clone().map(Value::from),
        ),
    ];
    for (key, value) in keys {
        if let Some(value) = value {
            figment = figment.merge((key, value));
        }
    }
    Ok(figment)
}

/// Loads and validates the configuration from all layers.
pub fn load(file: Option<&Path>, flags: &FlagOverrides) -> Result<Config, ConfigErrors> {
    from_figment(&figment(file, flags)?)
}

/// Validates a figment's merged data.
pub fn from_figment(figment: &Figment) -> Result<Config, ConfigErrors> {
    // The merged value of each top-level key, with the tags that say where it came from.
    let data = figment.data().map_err(figment_errors)?;
    let mut root = Dict::new();
    for key in data.values().flat_map(|dict| dict.keys()) {
        if !root.contains_key(key) {
            let value = figment.find_value(key).map_err(figment_errors)?;
            root.insert(key.clone(), value);
        }
    }
    check::config(figment, &Value::from(root))
}

/// figment's own errors (a file that does not parse), each already naming its source.
fn figment_errors(error: figment::Error) -> ConfigErrors {
    let mut walk = Walk::new();
    for e in error {
        walk.report_file(e.to_string());
    }
    walk.into_problems(|_| None)
}

/// Whether `path` names a TOML file; any other is read as YAML.
fn is_toml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "toml")
}

/// A configuration file as a figment layer that knows its path, so every message about
/// one of its values names the file.
struct FileLayer {
    path: PathBuf,
    text: String,
}

impl FileLayer {
    fn new(path: &Path, text: String) -> Self {
        Self {
            path: path.to_path_buf(),
            text,
        }
    }
}

impl Provider for FileLayer {
    fn metadata(&self) -> Metadata {
        Metadata::from(
            self.path.display().to_string(),
            figment::Source::File(self.path.clone()),
        )
    }

    fn data(&self) -> figment::Result<figment::value::Map<Profile, Dict>> {
        let parsed = if is_toml(&self.path) {
            Toml::string(&self.text).data()
        } else {
            Yaml::string(&self.text).data()
        };
        parsed.map_err(|e| {
            figment::Error::from(format!("{}: syntax error: {}", self.path.display(), e.kind))
        })
    }
}

#[cfg(test)]
mod tests;
