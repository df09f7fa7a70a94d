//! What a target polls and how, as the fleet hands it over.

use std::sync::Arc;

use super::assess::Judge;
use crate::config::{ChecksConfig, PolicyConfig, PollConfig, TargetConfig};
use crate::model::TargetId;
use crate::shard::Shard;

/// What a target polls and how: replaced whole on a reload, read at each cycle's start.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// The target's name in logs: `targets[2]`, or the discovered account and region.
    pub(crate) name: Arc<str>,
    /// Where the target came from: a conflict is an error for a configured target and a
    /// warning for a discovered one.
    pub(crate) discovered: bool,
    pub(crate) target: TargetConfig,
    pub(crate) poll: PollConfig,
    /// This process's part of the work: a target that learns its account only by
    /// asking (one without a role) stops if the account and region are another's.
    pub(crate) shard: Shard,
    /// `checks`: whether the target checks its pools' destinations, and how often.
    pub(crate) checks: ChecksConfig,
    /// `policy`: the rules each pool is judged by, shared by every target.
    pub(crate) policy: Arc<PolicyConfig>,
}

impl Settings {
    /// What completes the target's pool records after a cycle.
    pub(super) fn judge<'a>(&'a self, id: &'a TargetId) -> Judge<'a> {
        Judge {
            id,
            rules: &self.policy.rules,
            checks: self.checks.destinations,
        }
    }
}
