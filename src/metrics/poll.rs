//! The pollers' own counts: cycles cut short by `poll.cycle_timeout`, and targets that
//! found another target already publishing their account and region.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::api::{TargetLabels, move_counter};
use crate::model::TargetId;

/// Shared by every target's task; cheap to clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct PollMetrics {
    cycle_timeouts: Family<TargetLabels, Counter>,
    target_conflicts: Family<TargetLabels, Gauge>,
}

impl PollMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let poll = Self::default();
        registry.register(
            "cognito_exporter_poll_cycle_timeouts",
            "Poll cycles still running at poll.cycle_timeout, ended as failed",
            poll.cycle_timeouts.clone(),
        );
        registry.register(
            "cognito_exporter_target_conflicts",
            "Targets that resolved to an account and region another target already polls, and publish nothing",
            poll.target_conflicts.clone(),
        );
        poll
    }

    /// A cycle of target `id` ran out of time.
    pub(crate) fn cycle_timed_out(&self, id: &TargetId) {
        self.cycle_timeouts
            .get_or_create(&TargetLabels::from(id))
            .inc();
    }

    /// Target `from` now knows it is `to`: its counts follow it.
    pub(crate) fn move_target(&self, from: &TargetId, to: &TargetId) {
        if from != to {
            let (old, new) = (TargetLabels::from(from), TargetLabels::from(to));
            move_counter(&self.cycle_timeouts, &old, &new);
        }
    }

    /// Target `id` is no longer polled: its counts go.
    pub(crate) fn forget(&self, id: &TargetId) {
        self.cycle_timeouts.remove(&TargetLabels::from(id));
    }

    /// One more target found `id` taken; the returned guard counts it until dropped.
    pub(crate) fn conflict(&self, id: &TargetId) -> ConflictGuard {
        let gauge = self
            .target_conflicts
            .get_or_create(&TargetLabels::from(id))
            .clone();
        gauge.inc();
        ConflictGuard(gauge)
    }
}

/// Counts one conflicting target while it lives.
#[derive(Debug)]
pub(crate) struct ConflictGuard(Gauge);

impl Drop for ConflictGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_target_and_conflicts_last_as_long_as_their_guard() {
        let mut registry = Registry::default();
        let poll = PollMetrics::register(&mut registry);
        let provisional = TargetId::new("", "eu-west-1");
        let known = TargetId::new("123456789012", "eu-west-1");
        poll.cycle_timed_out(&provisional);
        poll.move_target(&provisional, &known);
        let mut text = String::new();
        crate::metrics::encode_classic(&registry, &mut text).expect("encode");
        assert!(!text.contains("aws_account_id=\"\""), "{text}");
        assert!(text.contains("cognito_exporter_poll_cycle_timeouts_total{aws_account_id=\"123456789012\",aws_region=\"eu-west-1\"} 1"), "{text}");
        let guard = poll.conflict(&known);
        let mut text = String::new();
        crate::metrics::encode_classic(&registry, &mut text).expect("encode");
        assert!(text.contains("cognito_exporter_target_conflicts{aws_account_id=\"123456789012\",aws_region=\"eu-west-1\"} 1"), "{text}");
        drop(guard);
        let mut text = String::new();
        crate::metrics::encode_classic(&registry, &mut text).expect("encode");
        assert!(text.contains("cognito_exporter_target_conflicts{aws_account_id=\"123456789012\",aws_region=\"eu-west-1\"} 0"), "{text}");
    }
}
