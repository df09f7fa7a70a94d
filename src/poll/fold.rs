//! What a target remembers between cycles, and how a cycle's outcomes fold into it: read
//! pools take their new configuration (compared with the previous successful read, for
//! the change audit), gone pools leave, failed pools keep their last known configuration
//! until it is too old to serve; every pool shows the features its last successful
//! describe gave, unless it is stale.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::audit::Change;
use super::describe::Described;
use crate::aws::errors::Failure;
use crate::model::{LogDelivery, PoolRecord};

/// What a target remembers between cycles.
#[derive(Debug, Default)]
pub(crate) struct TargetState {
    /// Pools of the last cycle by ID.
    pub(super) pools: BTreeMap<Arc<str>, Remembered>,
    /// What `DescribeUserPool` said of each pool listed (or configured), and when to ask
    /// again.
    pub(super) described: HashMap<Arc<str>, Described>,
}

/// What a target remembers of one pool.
#[derive(Debug)]
pub(super) struct Remembered {
    /// What the last cycle published.
    pub(super) record: PoolRecord,
    /// The instant of the last successful read.
    pub(super) last_read: Option<Instant>,
    /// The configuration of the last successful read, kept while the pool is listed,
    /// stale or not: the next successful read is compared with it.
    pub(super) last_delivery: Option<LogDelivery>,
}

/// The result of reading one pool.
#[derive(Debug)]
pub(super) enum PoolOutcome {
    Read(LogDelivery),
    Gone,
    Failed(Failure),
}

/// Folds a cycle that read no pool (the listing failed, or the cycle ran out of time):
/// every known pool failed with `label`, ageing toward staleness, none dropped.
pub(super) fn fail_all(
    state: &mut TargetState,
    operation: &'static str,
    label: &'static str,
    max_staleness: Duration,
) {
    let outcomes = state
        .pools
        .iter()
        .map(|(id, m)| {
            (
                id.clone(),
                m.record.name.clone(),
                PoolOutcome::Failed(Failure::bare(operation, label)),
            )
        })
        .collect();
    // Nothing was read, so nothing changed.
    let _ = fold(state, outcomes, max_staleness);
}

/// Folds a cycle's outcomes into the records: read pools take their new configuration,
/// gone pools and pools no longer listed leave, failed pools keep their last known
/// configuration through their first failure and then until it is older than
/// `max_staleness`. Returns the pools whose configuration differs from their previous
/// successful read (never at a pool's first read).
#[must_use = "the changes are to be logged"]
pub(super) fn fold(
    state: &mut TargetState,
    outcomes: Vec<(Arc<str>, Arc<str>, PoolOutcome)>,
    max_staleness: Duration,
) -> Vec<Change> {
    let now = Instant::now();
    let unix = unix_now();
    let mut changes = Vec::new();
    let mut previous = std::mem::take(&mut state.pools);
    for (id, name, outcome) in outcomes {
        let (before, last_read, last_delivery) =
            previous.remove(&id).map_or((None, None, None), |m| {
                (Some(m.record), m.last_read, m.last_delivery)
            });
        let log_changes = before.as_ref().and_then(|b| b.log_changes);
        let last_change = before.as_ref().and_then(|b| b.last_change);
        let mut entry = match outcome {
            PoolOutcome::Gone => continue,
            PoolOutcome::Read(delivery) => {
                let changed = last_delivery.filter(|b| *b != delivery);
                let record = PoolRecord {
                    id: id.clone(),
                    name: name.clone(),
                    delivery: Some(delivery.clone()),
                    success: true,
                    last_success: Some(unix),
                    features: None,
                    log_changes: Some(log_changes.unwrap_or(0) + u64::from(changed.is_some())),
                    last_change: if changed.is_some() {
                        Some(unix)
                    } else {
                        last_change
                    },
                };
                if let Some(before) = changed {
                    changes.push(Change {
                        pool: id.clone(),
                        name,
                        before,
                        after: delivery.clone(),
                    });
                }
                Remembered {
                    record,
                    last_read: Some(now),
                    last_delivery: Some(delivery),
                }
            }
            PoolOutcome::Failed(_) => {
                // A first failure never hides the matrix, even when a cycle lasts longer
                // than max_staleness; a run of failures does once it outlasts it.
                let first_failure = before.as_ref().is_some_and(|b| b.success);
                let fresh = first_failure
                    || last_read.is_some_and(|at| now.duration_since(at) <= max_staleness);
                Remembered {
                    record: PoolRecord {
                        id: id.clone(),
                        name,
                        delivery: before
                            .as_ref()
                            .and_then(|b| b.delivery.clone())
                            .filter(|_| fresh),
                        success: false,
                        last_success: before.and_then(|b| b.last_success),
                        features: None,
                        log_changes,
                        last_change,
                    },
                    last_read,
                    last_delivery,
                }
            }
        };
        // A stale pool shows none of its per-pool values but its counters.
        if !entry.record.is_stale() {
            entry.record.features = state.described.get(&id).and_then(|d| d.features.clone());
        }
        state.pools.insert(id, entry);
    }
    changes
}

pub(super) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read() -> PoolOutcome {
        PoolOutcome::Read(LogDelivery::default())
    }

    fn outcome(id: &str, o: PoolOutcome) -> (Arc<str>, Arc<str>, PoolOutcome) {
        (Arc::from(id), Arc::from(format!("name-{id}")), o)
    }

    fn failed() -> PoolOutcome {
        PoolOutcome::Failed(Failure::bare("GetLogDeliveryConfiguration", "timeout"))
    }

    #[tokio::test(start_paused = true)]
    async fn failed_pools_keep_their_matrix_until_stale() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(900);
        let _ = fold(
            &mut state,
            vec![outcome("a", read()), outcome("b", read())],
            staleness,
        );

        tokio::time::advance(Duration::from_secs(600)).await;
        let _ = fold(
            &mut state,
            vec![outcome("a", failed()), outcome("b", read())],
            staleness,
        );
        let a = &state.pools["a"].record;
        assert!(!a.success && a.delivery.is_some() && !a.is_stale());

        tokio::time::advance(Duration::from_secs(301)).await;
        let _ = fold(
            &mut state,
            vec![outcome("a", failed()), outcome("b", read())],
            staleness,
        );
        let a = &state.pools["a"].record;
        assert!(a.is_stale(), "{a:?}");
        assert!(a.last_success.is_some(), "the last success time stays");
    }

    #[tokio::test(start_paused = true)]
    async fn a_first_failure_keeps_the_matrix_even_past_max_staleness() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(5);
        let _ = fold(&mut state, vec![outcome("a", read())], staleness);
        tokio::time::advance(Duration::from_secs(20)).await; // a slow cycle
        let _ = fold(&mut state, vec![outcome("a", failed())], staleness);
        assert!(!state.pools["a"].record.is_stale());
        let _ = fold(&mut state, vec![outcome("a", failed())], staleness);
        assert!(state.pools["a"].record.is_stale());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cycle_that_read_nothing_keeps_every_pool() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(900);
        let _ = fold(
            &mut state,
            vec![outcome("a", read()), outcome("b", read())],
            staleness,
        );
        fail_all(&mut state, "ListUserPools", "timeout", staleness);
        assert_eq!(state.pools.len(), 2);
        for record in state.pools.values().map(|m| &m.record) {
            assert!(!record.success && !record.is_stale(), "{record:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn gone_and_unlisted_pools_leave_at_once() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(900);
        let _ = fold(
            &mut state,
            vec![
                outcome("a", read()),
                outcome("b", read()),
                outcome("c", read()),
            ],
            staleness,
        );
        let _ = fold(
            &mut state,
            vec![outcome("a", read()), outcome("b", PoolOutcome::Gone)],
            staleness,
        );
        assert_eq!(state.pools.keys().map(|k| &**k).collect::<Vec<_>>(), ["a"]);
    }

    fn configured(arn: &str) -> PoolOutcome {
        PoolOutcome::Read(LogDelivery::new(vec![crate::model::Destination {
            source: crate::model::Source::UserNotification,
            level: crate::model::Level::Error,
            kind: crate::model::Kind::CloudwatchLogs,
            arn: arn.into(),
        }]))
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_is_counted_once_and_never_at_the_first_read() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(900);
        let changes = fold(
            &mut state,
            vec![outcome("a", configured("arn:1"))],
            staleness,
        );
        assert!(changes.is_empty(), "the first read is no change");
        let a = &state.pools["a"].record;
        assert_eq!((a.log_changes, a.last_change), (Some(0), None));

        let changes = fold(
            &mut state,
            vec![outcome("a", configured("arn:1"))],
            staleness,
        );
        assert!(changes.is_empty());
        let changes = fold(&mut state, vec![outcome("a", read())], staleness);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].before, {
            let PoolOutcome::Read(d) = configured("arn:1") else {
                unreachable!()
            };
            d
        });
        assert_eq!(changes[0].after, LogDelivery::default());
        let a = &state.pools["a"].record;
        assert_eq!(a.log_changes, Some(1));
        let at = a.last_change.expect("a change seen");
        let changes = fold(&mut state, vec![outcome("a", read())], staleness);
        assert!(changes.is_empty(), "counted once");
        let a = &state.pools["a"].record;
        assert_eq!((a.log_changes, a.last_change), (Some(1), Some(at)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_after_failures_compares_with_the_last_successful_one_even_past_staleness() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(5);
        let _ = fold(
            &mut state,
            vec![outcome("a", configured("arn:1"))],
            staleness,
        );
        for _ in 0..3 {
            tokio::time::advance(Duration::from_secs(10)).await;
            let changes = fold(&mut state, vec![outcome("a", failed())], staleness);
            assert!(changes.is_empty());
        }
        let a = &state.pools["a"].record;
        assert!(a.is_stale());
        assert_eq!(a.log_changes, Some(0), "a stale pool keeps its counter");
        let changes = fold(
            &mut state,
            vec![outcome("a", configured("arn:2"))],
            staleness,
        );
        assert_eq!(changes.len(), 1);
        assert_eq!(state.pools["a"].record.log_changes, Some(1));
        // Back to what it was before the failures: a change again.
        let _ = fold(&mut state, vec![outcome("a", failed())], staleness);
        let changes = fold(
            &mut state,
            vec![outcome("a", configured("arn:2"))],
            staleness,
        );
        assert!(changes.is_empty(), "same as the last successful read");
    }

    #[tokio::test(start_paused = true)]
    async fn features_show_while_the_pool_is_not_stale() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(5);
        let features = crate::model::Features {
            plan: Some(crate::model::Plan::Plus),
            threat_protection: crate::model::ThreatProtection::Enforced,
        };
        state.described.insert(
            Arc::from("a"),
            super::super::describe::Described {
                features: Some(features.clone()),
                ..Default::default()
            },
        );
        let _ = fold(
            &mut state,
            vec![outcome("a", read()), outcome("b", read())],
            staleness,
        );
        assert_eq!(state.pools["a"].record.features, Some(features.clone()));
        assert_eq!(state.pools["b"].record.features, None, "never described");
        tokio::time::advance(Duration::from_secs(10)).await;
        let _ = fold(&mut state, vec![outcome("a", failed())], staleness);
        assert_eq!(
            state.pools["a"].record.features,
            Some(features),
            "first failure"
        );
        let _ = fold(&mut state, vec![outcome("a", failed())], staleness);
        assert!(state.pools["a"].record.is_stale());
        assert_eq!(state.pools["a"].record.features, None, "stale");
    }
}
