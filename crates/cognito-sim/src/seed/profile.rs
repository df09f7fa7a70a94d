//! What each seeded pool is beyond its log configuration: its feature plan and threat
//! protection, and whether the destinations it names exist, are encrypted, belong to
//! another account or are not active, in a cycle of twelve pools.

use super::super::destinations::DeliveryStreamStatus;
use super::super::ids::partition;
use super::super::plans::{AdvancedSecurityMode, UserPoolTier};
use super::super::state::SimState;

/// An account the seeded "other account" log group ARNs name: not the pool's own.
pub(super) fn other_account(account: &str) -> &'static str {
    if account == "444455556666" {
        "111122223333"
    } else {
        "444455556666"
    }
}

/// What the `i`-th (1-based) seeded pool is, in a cycle of twelve that covers every case
/// a check or an alert must tell apart: the plans, threat protection, and destinations
/// that exist, are missing, KMS-encrypted, in another account, not active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Profile {
    pub(crate) tier: UserPoolTier,
    pub(crate) add_ons: Option<AdvancedSecurityMode>,
    /// Configured on `PLUS`, then moved to `tier`: its `userAuthEvents` logs stay.
    pub(crate) downgraded: bool,
    pub(crate) log_group: GroupState,
    pub(crate) bucket_missing: bool,
    pub(crate) stream: Option<DeliveryStreamStatus>,
}

/// The seeded state of a pool's CloudWatch Logs destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GroupState {
    Exists,
    Missing,
    Kms,
    OtherAccount,
}

pub(crate) fn profile(i: usize) -> Profile {
    use AdvancedSecurityMode::{Audit, Enforced, Off};
    use UserPoolTier::{Essentials, Lite, Plus};
    let base = Profile {
        tier: Plus,
        add_ons: None,
        downgraded: false,
        log_group: GroupState::Exists,
        bucket_missing: false,
        stream: Some(DeliveryStreamStatus::Active),
    };
    let k = (i - 1) % 12;
    match k {
        0 => Profile { tier: Lite, ..base },
        1 => Profile {
            tier: Essentials,
            ..base
        },
        2 => base,
        // From the second round on, the stream of this shape was never created.
        3 if (i - 1) / 12 % 2 == 1 => Profile {
            add_ons: Some(Audit),
            stream: None,
            ..base
        },
        3 => Profile {
            add_ons: Some(Audit),
            ..base
        },
        4 => Profile {
            add_ons: Some(Enforced),
            log_group: GroupState::Kms,
            ..base
        },
        5 => Profile {
            add_ons: Some(Off),
            ..base
        },
        6 => Profile {
            tier: Essentials,
            ..base
        },
        7 => Profile {
            tier: Lite,
            log_group: GroupState::Missing,
            ..base
        },
        8 => Profile {
            add_ons: Some(Audit),
            bucket_missing: true,
            ..base
        },
        9 => Profile {
            add_ons: Some(Enforced),
            stream: Some(DeliveryStreamStatus::Creating),
            ..base
        },
        10 => Profile {
            tier: Essentials,
            downgraded: true,
            log_group: GroupState::OtherAccount,
            ..base
        },
        _ => Profile {
            add_ons: Some(Enforced),
            ..base
        },
    }
}

/// The seeded bucket of (`account`, `region`), or the one its pools name but that was
/// never created.
pub(super) fn bucket_name(account: &str, region: &str, missing: bool) -> String {
    let gone = if missing { "gone-" } else { "" };
    format!("cognito-logs-{gone}{account}-{region}")
}

/// The log group and delivery stream of one seeded pool, when its shape names them and
/// its profile says they exist.
pub(super) fn seed_destinations(
    state: &SimState,
    account: &str,
    region: &str,
    name: &str,
    i: usize,
    profile: &Profile,
) {
    let shape = (i - 1) % 6;
    let group = format!("/aws/cognito/{name}");
    if matches!(shape, 1 | 4 | 5) {
        match profile.log_group {
            GroupState::Exists => {
                state.create_log_group(account, region, &group, None);
            }
            GroupState::Kms => {
                let p = partition(region);
                let key = format!(
                    "arn:{p}:kms:{region}:{account}:key/{i:08}-5eed-4000-8000-000000000000"
                );
                state.create_log_group(account, region, &group, Some(&key));
            }
            GroupState::Missing | GroupState::OtherAccount => {}
        }
    }
    if shape == 3
        && let Some(status) = profile.stream
    {
        let stream = format!("cognito-{name}");
        state.create_delivery_stream(account, region, &stream);
        state.set_delivery_stream_status(account, region, &stream, status);
    }
}
