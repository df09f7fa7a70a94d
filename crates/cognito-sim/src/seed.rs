//! What the simulator starts with. The pools of `--pools N`: deterministic names (mostly
//! `prod-`, some `staging-` and `sandbox-`, so include/exclude patterns have something to
//! match), a mix of log configurations cycling over every shape a pool can have, and
//! feature plans and destinations cycling over every case a check tells apart (see
//! [`profile`]). The
//! organization of `--accounts N`: OUs `Production` (with `Payments` inside it),
//! `Development` and `Sandbox` under the root, and member accounts spread over them by
//! name, each with its own pools.

use std::time::{Duration, UNIX_EPOCH};

use super::destinations::bucket_arn;
use super::ids::partition;
use super::model::{Destination, LogConfiguration};
use super::plans::UserPoolTier;
use super::state::SimState;

mod profile;

use profile::{GroupState, profile};
use profile::{bucket_name, other_account, seed_destinations};

/// The seeded pools' creation dates start here (2023-11-14T22:13:20Z), an hour apart.
const FIRST_CREATION: u64 = 1_700_000_000;
/// The seeded member accounts joined from here (2022-04-15T05:20:00Z), a day apart.
const FIRST_JOIN: u64 = 1_650_000_000;

/// The environment of the `i`-th (1-based) seeded member account: its name's prefix and
/// the OU it sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Env {
    Prod,
    Dev,
    Sandbox,
}

fn account_env(i: usize) -> Env {
    match i % 5 {
        0 => Env::Sandbox,
        3 => Env::Dev,
        _ => Env::Prod,
    }
}

/// The name of the `i`-th (1-based) seeded member account: mostly `prod-NNN`, every fifth
/// `dev-NNN` and `sandbox-NNN`.
pub(crate) fn account_name(i: usize) -> String {
    let env = match account_env(i) {
        Env::Prod => "prod",
        Env::Dev => "dev",
        Env::Sandbox => "sandbox",
    };
    format!("{env}-{i:03}")
}

/// Seeds the OUs and `accounts` member accounts, each with `pools` pools in every seeded
/// region.
pub(crate) fn organization(state: &SimState, accounts: usize, pools: usize) {
    let root = state.root_id().to_owned();
    let ou = |name: &str, parent: &str| match state.add_organizational_unit(name, parent) {
        Ok(ou) => ou.id,
        Err(e) => {
            // Valid names under existing parents, by construction: a failure is a bug.
            tracing::error!(error = %e, "seeded organizational unit rejected");
            root.clone()
        }
    };
    let production = ou("Production", &root);
    let payments = ou("Payments", &production);
    let development = ou("Development", &root);
    let sandbox = ou("Sandbox", &root);
    for i in 1..=accounts {
        let parent = match account_env(i) {
            // Every third prod account sits one level down, so "this OU or below"
            // differs from "this OU".
            Env::Prod if i % 3 == 0 => &payments,
            Env::Prod => &production,
            Env::Dev => &development,
            Env::Sandbox => &sandbox,
        };
        let days = u64::try_from(i).unwrap_or(u64::MAX).saturating_mul(86_400);
        let joined = UNIX_EPOCH + Duration::from_secs(FIRST_JOIN.saturating_add(days));
        let name = account_name(i);
        if let Err(e) = state.join_account(&name, Some(parent), "CREATED", joined, pools) {
            tracing::error!(error = %e, account = %name, "seeded account rejected");
        }
    }
}

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
/// userNotification → CloudWatch and userAuthEvents → S3. The destinations' ARNs follow
/// [`profile`]: another account's log group, a bucket never created.
pub(crate) fn configurations(
    i: usize,
    account: &str,
    region: &str,
    name: &str,
) -> Vec<LogConfiguration> {
    let profile = profile(i);
    let p = partition(region);
    let group_account = match profile.log_group {
        GroupState::OtherAccount => other_account(account),
        _ => account,
    };
    let log_group = format!("arn:{p}:logs:{region}:{group_account}:log-group:/aws/cognito/{name}");
    let bucket = bucket_arn(
        region,
        &bucket_name(account, region, profile.bucket_missing),
    );
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

/// Creates `count` pools in (`account`, `region`), with their plans and the destinations
/// their profiles say exist.
pub(crate) fn seed(state: &SimState, account: &str, region: &str, count: usize) {
    if count >= 3 {
        // Taken only if seeded twice; either way the bucket exists.
        let _ = state.create_bucket(account, region, &bucket_name(account, region, false));
    }
    for i in 1..=count {
        let name = pool_name(i);
        let hours = u64::try_from(i).unwrap_or(u64::MAX).saturating_mul(3600);
        let at = UNIX_EPOCH + Duration::from_secs(FIRST_CREATION.saturating_add(hours));
        let pool = state.create_pool_at(account, region, &name, at);
        let profile = profile(i);
        let first_tier = if profile.downgraded {
            UserPoolTier::Plus
        } else {
            profile.tier
        };
        let configs = configurations(i, account, region, &name);
        let seeded = state
            .set_pool_plan_at(account, region, &pool.id, first_tier, profile.add_ons, at)
            .and_then(|_| state.set_log_configurations(account, region, &pool.id, configs));
        let seeded = match seeded {
            Ok(()) if profile.downgraded => {
                let later = at + Duration::from_secs(1800);
                state
                    .set_pool_plan_at(account, region, &pool.id, profile.tier, None, later)
                    .map(drop)
            }
            other => other,
        };
        if let Err(e) = seeded {
            // The shapes above are valid by construction; a failure is a bug here.
            tracing::error!(error = %e, pool = %pool.id, "seeded pool rejected");
        }
        seed_destinations(state, account, region, &name, i, &profile);
    }
}

#[cfg(test)]
mod tests {
    use super::profile::Profile;
    use super::*;
    use crate::destinations::DeliveryStreamStatus;
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
    fn accounts_spread_over_the_ous_by_name() {
        let mut s = SimState::new("123456789012".into(), 1, Duration::from_secs(3600));
        s.seeded_regions = vec!["us-east-1".into()];
        organization(&s, 15, 2);
        let ous = s.organizational_units();
        let names: Vec<&str> = ous.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["Production", "Payments", "Development", "Sandbox"]);
        assert_eq!(ous[1].parent, ous[0].id);
        let accounts = s.accounts();
        assert_eq!(accounts.len(), 16, "the management account and 15 members");
        let under = |ou: usize| accounts.iter().filter(|a| a.parent == ous[ou].id).count();
        assert_eq!((under(0), under(1), under(2), under(3)), (6, 3, 3, 3));
        assert_eq!(accounts[3].name, "dev-003");
        assert_eq!(accounts[6].name, "prod-006");
        assert_eq!(accounts[6].parent, ous[1].id);
        assert_eq!(s.pools(&accounts[1].id, "us-east-1").len(), 2);
        assert!(s.pools(&accounts[1].id, "eu-west-1").is_empty());
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

    #[test]
    fn twelve_pools_cover_every_plan_and_destination_case() {
        let s = SimState::new("123456789012".into(), 1, Duration::from_secs(3600));
        seed(&s, "123456789012", "eu-west-1", 12);
        let pools = s.pools("123456789012", "eu-west-1");
        let profiles: Vec<Profile> = (1..=12).map(profile).collect();
        for (pool, p) in pools.iter().zip(&profiles) {
            assert_eq!(
                (pool.tier, pool.add_ons),
                (p.tier, p.add_ons),
                "{}",
                pool.name
            );
            let auth_events = pool
                .log_configurations
                .iter()
                .any(|c| c.event_source == crate::model::EventSource::UserAuthEvents);
            // userAuthEvents only on PLUS, but for the pool moved off it after.
            assert!(
                !auth_events || p.tier == UserPoolTier::Plus || p.downgraded,
                "{}",
                pool.name
            );
        }
        let downgraded = &pools[10];
        assert!(
            downgraded.tier != UserPoolTier::Plus
                && downgraded.last_modified_date > downgraded.creation_date
        );
        for state in [
            GroupState::Exists,
            GroupState::Missing,
            GroupState::Kms,
            GroupState::OtherAccount,
        ] {
            assert!(profiles.iter().any(|p| p.log_group == state), "{state:?}");
        }
        assert!(profiles.iter().any(|p| p.bucket_missing));
        assert!(
            profiles
                .iter()
                .any(|p| p.stream == Some(DeliveryStreamStatus::Creating))
        );
        assert!(
            profile(16).stream.is_none(),
            "a missing stream from the second round"
        );
        let data = s.destinations.lock();
        let groups = &data.log_groups[&("123456789012".to_owned(), "eu-west-1".to_owned())];
        assert_eq!(
            groups.len(),
            4,
            "pools 2, 5 (KMS), 6 and 12; 8 and 11 name none here"
        );
        assert_eq!(data.buckets.len(), 1);
    }
}
