//! What a target remembers between cycles, and how a cycle's outcomes fold into it: read
//! pools take their new configuration, gone pools leave, failed pools keep their last
//! known configuration until it is too old to serve.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::aws::errors::Failure;
use crate::model::{LogDelivery, PoolRecord};

/// What a target remembers between cycles.
#[derive(Debug, Default)]
pub(crate) struct TargetState {
    /// Pools of the last cycle by ID, with the instant of their last successful read.
    pub(super) pools: BTreeMap<Arc<str>, (PoolRecord, Option<Instant>)>,
    /// Names `DescribeUserPool` gave the configured pools: a pool's name never changes,
    /// so each is asked for until it is known, and only then.
    pub(super) names: HashMap<Arc<str>, Arc<str>>,
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
        .map(|(id, (r, _))| {
            (
                id.clone(),
                r.name.clone(),
                PoolOutcome::Failed(Failure::bare(operation, label)),
            )
        })
        .collect();
    fold(state, outcomes, max_staleness);
}

/// Folds a cycle's outcomes into the records: read pools take their new configuration,
/// gone pools and pools no longer listed leave, failed pools keep their last known
/// configuration through their first failure and then until it is older than
/// `max_staleness`.
pub(super) fn fold(
    state: &mut TargetState,
    outcomes: Vec<(Arc<str>, Arc<str>, PoolOutcome)>,
    max_staleness: Duration,
) {
    let now = Instant::now();
    let unix = unix_now();
    let mut previous = std::mem::take(&mut state.pools);
    for (id, name, outcome) in outcomes {
        let (before, last_read) = previous
            .remove(&id)
            .map_or((None, None), |(r, at)| (Some(r), at));
        let entry = match outcome {
            PoolOutcome::Gone => continue,
            PoolOutcome::Read(delivery) => (
                PoolRecord {
                    id: id.clone(),
                    name,
                    delivery: Some(delivery),
                    success: true,
                    last_success: Some(unix),
                },
                Some(now),
            ),
            PoolOutcome::Failed(_) => {
                // A first failure never hides the matrix, even when a cycle lasts longer
                // than max_staleness; a run of failures does once it outlasts it.
                let first_failure = before.as_ref().is_some_and(|b| b.success);
                let fresh = first_failure
                    || last_read.is_some_and(|at| now.duration_since(at) <= max_staleness);
                (
                    PoolRecord {
                        id: id.clone(),
                        name,
                        delivery: before
                            .as_ref()
                            .and_then(|b| b.delivery.clone())
                            .filter(|_| fresh),
                        success: false,
                        last_success: before.and_then(|b| b.last_success),
                    },
                    last_read,
                )
            }
        };
        state.pools.insert(id, entry);
    }
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
        fold(
            &mut state,
            vec![outcome("a", read()), outcome("b", read())],
            staleness,
        );

        tokio::time::advance(Duration::from_secs(600)).await;
        fold(
            &mut state,
            vec![outcome("a", failed()), outcome("b", read())],
            staleness,
        );
        let a = &state.pools["a"].0;
        assert!(!a.success && a.delivery.is_some() && !a.is_stale());

        tokio::time::advance(Duration::from_secs(301)).await;
        fold(
            &mut state,
            vec![outcome("a", failed()), outcome("b", read())],
            staleness,
        );
        let a = &state.pools["a"].0;
        assert!(a.is_stale(), "{a:?}");
        assert!(a.last_success.is_some(), "the last success time stays");
    }

    #[tokio::test(start_paused = true)]
    async fn a_first_failure_keeps_the_matrix_even_past_max_staleness() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(5);
        fold(&mut state, vec![outcome("a", read())], staleness);
        tokio::time::advance(Duration::from_secs(20)).await; // a slow cycle
        fold(&mut state, vec![outcome("a", failed())], staleness);
        assert!(!state.pools["a"].0.is_stale());
        fold(&mut state, vec![outcome("a", failed())], staleness);
        assert!(state.pools["a"].0.is_stale());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cycle_that_read_nothing_keeps_every_pool() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(900);
        fold(
            &mut state,
            vec![outcome("a", read()), outcome("b", read())],
            staleness,
        );
        fail_all(&mut state, "ListUserPools", "timeout", staleness);
        assert_eq!(state.pools.len(), 2);
        for (record, _) in state.pools.values() {
            assert!(!record.success && !record.is_stale(), "{record:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn gone_and_unlisted_pools_leave_at_once() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(900);
        fold(
            &mut state,
            vec![
                outcome("a", read()),
                outcome("b", read()),
                outcome("c", read()),
            ],
            staleness,
        );
        fold(
            &mut state,
            vec![outcome("a", read()), outcome("b", PoolOutcome::Gone)],
            staleness,
        );
        assert_eq!(state.pools.keys().map(|k| &**k).collect::<Vec<_>>(), ["a"]);
    }
}
