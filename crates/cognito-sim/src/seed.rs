//! The pools `--pools N` starts with: deterministic names (mostly `prod-`, some `staging-`
//! and `sandbox-`, so include/exclude patterns have something to match) and a mix of
//! log configurations cycling over every shape a pool can have.

use std::time::{Duration, UNIX_EPOCH};

use super::ids::partition;
use super::model::{Destination, LogConfiguration};
use super::state::SimState;

/// The seeded pools' creation dates start here (2023-11-14T22:13:20Z), an hour apart.
const FIRST_CREATION: u64 = 1_700_000_000;

/// The name of the `i`-th (1-based) seeded pool.
pub(crate) fn pool_name(i: usize) -> String {
    let env = match i % 4 {
        0 => "sandbox",
        3 => "staging",
        _ => "prod",
    };
    format!("{env}-pool-{i:04}")
}

/// The log configurations of the `i`-th (1-based) seeded pool, cycling over: none;
/// userNotification → CloudWatch; userAuthEvents → S3; → Firehose; → CloudWatch; both
/// userNotification → CloudWatch and userAuthEvents → S3.
pub(crate) fn configurations(
    i: usize,
    account: &str,
    region: &str,
    name: &str,
) -> Vec<LogConfiguration> {
    let p = partition(region);
    let log_group = format!("arn:{p}:logs:{region}:{account}:log-group:/aws/cognito/{name}");
    let bucket = format!("arn:{p}:s3:::cognito-logs-{account}-{region}");
    let stream = format!("arn:{p}:firehose:{region}:{account}:deliverystream/cognito-{name}");
    match (i - 1) % 6 {
        0 => vec![],
        1 => vec![LogConfiguration::user_notification(log_group)],
        2 => vec![LogConfiguration::user_auth_events(Destination::S3(bucket))],
        3 => vec![LogConfiguration::user_auth_events(Destination::Firehose(
            stream,
        ))],
        4 => vec![LogConfiguration::user_auth_events(
            Destination::CloudWatchLogs(log_group),
        )],
        _ => vec![
            LogConfiguration::user_notification(log_group),
            LogConfiguration::user_auth_events(Destination::S3(bucket)),
        ],
    }
}

/// Creates `count` pools in (`account`, `region`).
pub(crate) fn seed(state: &SimState, account: &str, region: &str, count: usize) {
    for i in 1..=count {
        let name = pool_name(i);
        let hours = u64::try_from(i).unwrap_or(u64::MAX).saturating_mul(3600);
        let at = UNIX_EPOCH + Duration::from_secs(FIRST_CREATION.saturating_add(hours));
        let pool = state.create_pool_at(account, region, &name, at);
        let configs = configurations(i, account, region, &name);
        if let Err(e) = state.set_log_configurations_at(account, region, &pool.id, configs, at) {
            // The shapes above are valid by construction; a failure is a bug here.
            tracing::error!(error = %e, pool = %pool.id, "seeded configuration rejected");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::validate;

    #[test]
    fn names_mix_environments() {
        let names: Vec<String> = (1..=4).map(pool_name).collect();
        assert_eq!(
            names,
            [
                "prod-pool-0001",
                "prod-pool-0002",
                "staging-pool-0003",
                "sandbox-pool-0004"
            ]
        );
    }

    #[test]
    fn every_seeded_shape_is_valid_and_the_cycle_covers_six() {
        let mut shapes = std::collections::HashSet::new();
        for region in ["us-east-1", "cn-north-1", "us-gov-west-1"] {
            for i in 1..=12 {
                let c = configurations(i, "123456789012", region, &pool_name(i));
                validate(&c).unwrap_or_else(|e| panic!("{region} #{i}: {e}"));
                shapes.insert(c.len() * 10 + i % 6);
            }
        }
        assert_eq!(shapes.len(), 6);
    }

    #[test]
    fn seeding_is_deterministic() {
        let lifetime = Duration::from_secs(3600);
        let a = SimState::new("123456789012".into(), 1, lifetime);
        let b = SimState::new("123456789012".into(), 1, lifetime);
        seed(&a, "123456789012", "us-east-1", 7);
        seed(&b, "123456789012", "us-east-1", 7);
        let pools = a.pools("123456789012", "us-east-1");
        assert_eq!(pools, b.pools("123456789012", "us-east-1"));
        assert_eq!(pools.len(), 7);
        assert!(pools[5].log_configurations.len() == 2 && pools[0].log_configurations.is_empty());
    }
}
