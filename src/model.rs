//! The vocabulary every stage shares: who a target is, and what the exporter knows of a
//! user pool after a cycle (what `GetLogDeliveryConfiguration` and `DescribeUserPool`
//! said about it, reduced to the closed vocabularies the metrics are labelled with, and
//! how often its configuration was seen to change).

use std::fmt;
use std::sync::Arc;

/// Who a target is: the account and region every one of its series is labelled with.
///
/// Made once per target, when `GetCallerIdentity` names the account (until then a target
/// is known by its region and the account of its role ARN, if any, which is how its
/// failure to identify itself is reported). It is the exposition's key for the target.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetId {
    /// The 12-digit account ID; empty while unknown.
    pub account_id: String,
    /// The AWS region, such as `eu-west-1`.
    pub region: String,
}

impl TargetId {
    /// The identity of the target in `account_id` and `region`.
    pub fn new(account_id: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            account_id: account_id.into(),
            region: region.into(),
        }
    }
}

impl fmt::Display for TargetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let account = if self.account_id.is_empty() {
            "unknown account"
        } else {
            &self.account_id
        };
        write!(f, "{account} in {}", self.region)
    }
}

/// `LogConfigurationType.EventSource`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// `userNotification`: message-delivery errors (Essentials plan and up).
    UserNotification,
    /// `userAuthEvents`: threat-protection user activity (Plus plan).
    UserAuthEvents,
}

impl Source {
    pub const ALL: [Source; 2] = [Source::UserNotification, Source::UserAuthEvents];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::UserNotification => "userNotification",
            Source::UserAuthEvents => "userAuthEvents",
        }
    }
}

/// `LogConfigurationType.LogLevel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error,
    Info,
}

impl Level {
    pub const ALL: [Level; 2] = [Level::Error, Level::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Info => "INFO",
        }
    }
}

/// Which of the destination members of `LogConfigurationType` is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `CloudWatchLogsConfiguration.LogGroupArn`.
    CloudwatchLogs,
    /// `S3Configuration.BucketArn`.
    S3,
    /// `FirehoseConfiguration.StreamArn`.
    Firehose,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::CloudwatchLogs, Kind::S3, Kind::Firehose];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CloudwatchLogs => "cloudwatch_logs",
            Kind::S3 => "s3",
            Kind::Firehose => "firehose",
        }
    }
}

/// One (source, level, kind) cell of the destination matrix.
pub(crate) type Combination = (Source, Level, Kind);

/// The four combinations `SetLogDeliveryConfiguration` accepts. Every pool exports each of
/// them, 0 or 1, so that a series never changes identity when a configuration changes.
pub(crate) const STANDARD_COMBINATIONS: [Combination; 4] = [
    (Source::UserNotification, Level::Error, Kind::CloudwatchLogs),
    (Source::UserAuthEvents, Level::Info, Kind::CloudwatchLogs),
    (Source::UserAuthEvents, Level::Info, Kind::S3),
    (Source::UserAuthEvents, Level::Info, Kind::Firehose),
];

/// A destination a pool delivers logs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Destination {
    pub source: Source,
    pub level: Level,
    pub kind: Kind,
    /// The log group, bucket or delivery stream ARN, as the API returned it.
    pub arn: String,
}

impl Destination {
    pub(crate) fn combination(&self) -> Combination {
        (self.source, self.level, self.kind)
    }
}

/// A pool's log-delivery configuration, destinations sorted so equal configurations compare equal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogDelivery {
    destinations: Vec<Destination>,
}

impl LogDelivery {
    pub fn new(mut destinations: Vec<Destination>) -> Self {
        destinations.sort();
        destinations.dedup();
        Self { destinations }
    }

    pub fn destinations(&self) -> &[Destination] {
        &self.destinations
    }

    pub(crate) fn has(&self, combination: Combination) -> bool {
        self.destinations
            .iter()
            .any(|d| d.combination() == combination)
    }

    /// Every cell to export: the four standard ones, then any other combination the API
    /// returned (exported with value 1, since nothing the API says is hidden).
    pub(crate) fn matrix(&self) -> impl Iterator<Item = (Combination, bool)> + '_ {
        let standard = STANDARD_COMBINATIONS.iter().map(|&c| (c, self.has(c)));
        let mut extra: Vec<Combination> = self
            .destinations
            .iter()
            .map(Destination::combination)
            .filter(|c| !STANDARD_COMBINATIONS.contains(c))
            .collect();
        extra.dedup();
        standard.chain(extra.into_iter().map(|c| (c, true)))
    }
}

/// `UserPoolType.UserPoolTier`: the pool's feature plan.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Plan {
    Lite,
    Essentials,
    /// The only plan with `userAuthEvents` logs.
    Plus,
    /// A value this version does not know, kept as the API wrote it.
    Other(Arc<str>),
}

impl Plan {
    /// The plans every pool exports a series for.
    pub const KNOWN: [Plan; 3] = [Plan::Lite, Plan::Essentials, Plan::Plus];

    /// The plan the API names `value`.
    pub fn parse(value: &str) -> Self {
        match value {
            "LITE" => Plan::Lite,
            "ESSENTIALS" => Plan::Essentials,
            "PLUS" => Plan::Plus,
            other => Plan::Other(Arc::from(other)),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Plan::Lite => "LITE",
            Plan::Essentials => "ESSENTIALS",
            Plan::Plus => "PLUS",
            Plan::Other(value) => value,
        }
    }
}

/// `UserPoolAddOns.AdvancedSecurityMode`: the pool's threat protection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ThreatProtection {
    /// Also what a pool without `UserPoolAddOns` has.
    Off,
    Audit,
    Enforced,
    /// A value this version does not know, kept as the API wrote it.
    Other(Arc<str>),
}

impl ThreatProtection {
    /// The modes every pool exports a series for.
    pub const KNOWN: [ThreatProtection; 3] = [
        ThreatProtection::Off,
        ThreatProtection::Audit,
        ThreatProtection::Enforced,
    ];

    /// The mode the API names `value`.
    pub fn parse(value: &str) -> Self {
        match value {
            "OFF" => ThreatProtection::Off,
            "AUDIT" => ThreatProtection::Audit,
            "ENFORCED" => ThreatProtection::Enforced,
            other => ThreatProtection::Other(Arc::from(other)),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ThreatProtection::Off => "OFF",
            ThreatProtection::Audit => "AUDIT",
            ThreatProtection::Enforced => "ENFORCED",
            ThreatProtection::Other(value) => value,
        }
    }
}

/// What `DescribeUserPool` says of a pool's features.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Features {
    /// `None` when the answer named no plan: no value is better than a guessed one.
    pub plan: Option<Plan>,
    pub threat_protection: ThreatProtection,
}

/// What a destination's check found: the `status` label of
/// `cognito_log_destination_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DestinationStatus {
    /// It exists and can receive logs, as far as the check can tell.
    Ok,
    /// The log group, bucket or stream does not exist.
    NotFound,
    /// The log group is encrypted with a KMS key, which Cognito cannot deliver to.
    KmsEncrypted,
    /// The log group or stream is in another account than the pool's: Cognito cannot
    /// deliver there, and the target's credentials cannot check it.
    OtherAccount,
    /// The Firehose stream is not `ACTIVE`.
    NotActive,
    /// The check itself was refused: the target's role lacks the permission.
    AccessDenied,
    /// The check failed otherwise (time-out, throttling, a server error, an ARN of the
    /// wrong shape); the API counters say more.
    CheckFailed,
}

impl DestinationStatus {
    /// Every status, in the order the series are rendered.
    pub const ALL: [DestinationStatus; 7] = [
        DestinationStatus::Ok,
        DestinationStatus::NotFound,
        DestinationStatus::KmsEncrypted,
        DestinationStatus::OtherAccount,
        DestinationStatus::NotActive,
        DestinationStatus::AccessDenied,
        DestinationStatus::CheckFailed,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            DestinationStatus::Ok => "ok",
            DestinationStatus::NotFound => "not_found",
            DestinationStatus::KmsEncrypted => "kms_encrypted",
            DestinationStatus::OtherAccount => "other_account",
            DestinationStatus::NotActive => "not_active",
            DestinationStatus::AccessDenied => "access_denied",
            DestinationStatus::CheckFailed => "check_failed",
        }
    }
}

/// A rule of `policy.rules` that selects a pool, and whether the pool complies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The rule's name: the `rule` label.
    pub rule: Arc<str>,
    pub compliant: bool,
}

/// What the exporter knows of one pool after a cycle.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolRecord {
    pub id: Arc<str>,
    pub name: Arc<str>,
    /// The last configuration read successfully, while it is fresh enough to serve.
    pub delivery: Option<LogDelivery>,
    /// Whether this cycle's `GetLogDeliveryConfiguration` for the pool succeeded.
    pub success: bool,
    /// Unix time of the last successful read, if there ever was one.
    pub last_success: Option<f64>,
    /// What the last successful `DescribeUserPool` said; `None` before one answered, and
    /// while the pool is stale.
    pub features: Option<Features>,
    /// Times the log-delivery configuration was seen to differ from the previous
    /// successful read since the exporter started; `None` before the first read.
    pub log_changes: Option<u64>,
    /// Unix time the exporter last saw the configuration change, if it ever did.
    pub last_change: Option<f64>,
    /// What the destination checks found, one status per destination of `delivery`, in
    /// its order; empty while checks are off or the pool has not been checked.
    pub statuses: Vec<DestinationStatus>,
    /// The verdict of each rule of `policy.rules` that selects the pool, in the order
    /// of the rules; empty for a stale pool.
    pub verdicts: Vec<Verdict>,
}

impl PoolRecord {
    /// True when the pool failed long enough that its log series are withheld.
    pub(crate) fn is_stale(&self) -> bool {
        !self.success && self.delivery.is_none()
    }
}

/// The outcome of one cycle of one target, swapped in whole.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetSnapshot {
    /// The cycle listed the pools and at least one pool answered (or there were none).
    pub up: bool,
    /// Wall-clock seconds the cycle took.
    pub duration_seconds: f64,
    /// Unix time the cycle ended.
    pub finished_at: f64,
    /// Sorted by pool ID.
    pub pools: Vec<PoolRecord>,
}

impl TargetSnapshot {
    pub(crate) fn stale_pools(&self) -> usize {
        self.pools.iter().filter(|p| p.is_stale()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(source: Source, level: Level, kind: Kind) -> Destination {
        Destination {
            source,
            level,
            kind,
            arn: format!("arn:{}", kind.as_str()),
        }
    }

    #[test]
    fn matrix_has_four_standard_cells_even_when_empty() {
        let cells: Vec<_> = LogDelivery::default().matrix().collect();
        assert_eq!(cells.len(), 4);
        assert!(cells.iter().all(|(_, on)| !on));
    }

    #[test]
    fn matrix_marks_configured_cells_and_appends_unusual_ones() {
        let delivery = LogDelivery::new(vec![
            dest(Source::UserAuthEvents, Level::Info, Kind::S3),
            dest(Source::UserNotification, Level::Info, Kind::Firehose),
        ]);
        let cells: Vec<_> = delivery.matrix().collect();
        assert_eq!(cells.len(), 5);
        assert_eq!(
            cells[2],
            ((Source::UserAuthEvents, Level::Info, Kind::S3), true)
        );
        assert_eq!(
            cells[4],
            (
                (Source::UserNotification, Level::Info, Kind::Firehose),
                true
            )
        );
        assert!(!cells[0].1 && !cells[1].1 && !cells[3].1);
    }
}
