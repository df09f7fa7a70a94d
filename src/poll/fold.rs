//! What a target remembers between cycles, and how a cycle's outcomes fold into it: read
//! pools take their new configuration (compared with the previous successful read, for
//! the change audit), gone pools leave, failed pools keep their last known configuration
//! until it is too old to serve; every pool shows the features its last successful
//! describe gave, unless it is stale.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::assess::Judge;
use super::audit::Change;
use super::describe::Described;
use crate::aws::errors::Failure;
use crate::model::{DestinationStatus, LogDelivery, PoolRecord};

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
    /// The configuration, and its destinations' statuses when they were checked.
    Read(LogDelivery, Vec<DestinationStatus>),
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
    judge: &Judge<'_>,
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
    let _ = fold(state, outcomes, max_staleness, judge);
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
    judge: &Judge<'_>,
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
            PoolOutcome::Read(delivery, statuses) => {
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
                    statuses,
                    verdicts: Vec::new(),
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
                // What was known of the configuration goes with it: its statuses, and
                // the verdicts a rule may keep while it cannot judge again.
                let (delivery, statuses, verdicts, last_success) = match before {
                    Some(b) if fresh => (b.delivery, b.statuses, b.verdicts, b.last_success),
                    Some(b) => (None, Vec::new(), Vec::new(), b.last_success),
                    None => (None, Vec::new(), Vec::new(), None),
                };
                Remembered {
                    record: PoolRecord {
                        id: id.clone(),
                        name,
                        delivery,
                        success: false,
                        last_success,
                        features: None,
                        log_changes,
                        last_change,
                        statuses,
                        verdicts,
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
        judge.complete(&mut entry.record);
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
mod tests;
