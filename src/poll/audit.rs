//! The change audit: a pool whose log-delivery configuration differs from its previous
//! successful read gets one info line saying what it was and what it is, in a compact
//! form an auditor can read and grep.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::model::{LogDelivery, TargetId};

/// A pool's configuration seen to change between two successful reads.
#[derive(Debug, PartialEq)]
pub(super) struct Change {
    pub(super) pool: Arc<str>,
    pub(super) name: Arc<str>,
    pub(super) before: LogDelivery,
    pub(super) after: LogDelivery,
}

/// Logs each change of target `id`'s pools, one line each.
pub(super) fn log(id: &TargetId, changes: &[Change]) {
    for change in changes {
        tracing::info!(
            account = %id.account_id,
            region = %id.region,
            pool = %change.pool,
            pool_name = %change.name,
            before = %compact(&change.before),
            after = %compact(&change.after),
            "log delivery configuration changed"
        );
    }
}

/// `userNotification/ERROR→cloudwatch_logs:<arn>, …` in the configuration's order, or
/// `none`.
pub(super) fn compact(delivery: &LogDelivery) -> String {
    let mut out = String::new();
    for d in delivery.destinations() {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(
            out,
            "{}/{}→{}:{}",
            d.source.as_str(),
            d.level.as_str(),
            d.kind.as_str(),
            d.arn
        );
    }
    if out.is_empty() {
        out.push_str("none");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Destination, Kind, Level, Source};

    #[test]
    fn a_configuration_reads_as_its_destinations_or_none() {
        assert_eq!(compact(&LogDelivery::default()), "none");
        let delivery = LogDelivery::new(vec![
            Destination {
                source: Source::UserAuthEvents,
                level: Level::Info,
                kind: Kind::S3,
                arn: "arn:aws:s3:::audit".into(),
            },
            Destination {
                source: Source::UserNotification,
                level: Level::Error,
                kind: Kind::CloudwatchLogs,
                arn: "arn:aws:logs:eu-west-1:123456789012:log-group:errors".into(),
            },
        ]);
        assert_eq!(
            compact(&delivery),
            "userNotification/ERROR→cloudwatch_logs:arn:aws:logs:eu-west-1:123456789012:log-group:errors, \
             userAuthEvents/INFO→s3:arn:aws:s3:::audit"
        );
    }
}
