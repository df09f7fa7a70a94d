//! One poll cycle of an identified target: find the pools, read each pool's
//! log-delivery configuration, and fold the answers into the pool records, built aside
//! from what scrapes currently see.

use std::sync::Arc;

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::operation::RequestId;
use futures_util::{StreamExt, stream};
use tokio::time::Instant;

use super::convert::delivery;
use super::deadline::Deadline;
use super::discover::{self, Pool};
use super::fold::{PoolOutcome, TargetState, fail_all, fold, unix_now};
use super::report::Report;
use crate::aws::errors::{Failure, NOT_FOUND, is_throttling, label};
use crate::config::{PollConfig, TargetConfig};
use crate::metrics::ApiMetrics;
use crate::model::{TargetId, TargetSnapshot};

/// Counts of a cycle, for its log line.
#[derive(Debug, Default)]
pub(crate) struct CycleSummary {
    pub(crate) pools: usize,
    pub(crate) errors: usize,
}

/// What a cycle of a target works with.
#[derive(Debug)]
pub(super) struct Cycle<'a> {
    pub(super) target: &'a TargetConfig,
    pub(super) poll: &'a PollConfig,
    pub(super) cognito: &'a Client,
    pub(super) id: &'a TargetId,
    pub(super) metrics: &'a ApiMetrics,
    /// Pushed later once the cycle knows how many calls it will make.
    pub(super) deadline: &'a Deadline,
}

impl Cycle<'_> {
    /// Runs the cycle and returns the snapshot to publish.
    pub(super) async fn run(&self, state: &mut TargetState) -> (TargetSnapshot, CycleSummary) {
        let started = Instant::now();
        let mut summary = CycleSummary::default();
        let mut report = Report::default();
        let up;
        match discover::pools(self.target, self.cognito, self.id, self.metrics, state).await {
            Ok(found) => {
                for (pool, failure) in &found.failures {
                    report.add(pool, failure);
                }
                let pools: Vec<Pool> = found
                    .pools
                    .into_iter()
                    .filter(|(_, name)| self.target.wants(name))
                    .collect();
                let planned = found.calls + pools.len();
                self.deadline.allow(planned);
                let mut outcomes = self.read_pools(pools).await;
                // Pools still throttled after the SDK's retries get one more pass at the
                // end of the cycle, when the limiter has slowed down: slower, but every
                // pool read.
                let (throttled, mut done): (Vec<_>, Vec<_>) = outcomes.into_iter().partition(
                    |(_, _, o)| matches!(o, PoolOutcome::Failed(f) if is_throttling(f.label)),
                );
                if !throttled.is_empty() {
                    let again: Vec<Pool> = throttled
                        .into_iter()
                        .map(|(id, name, _)| (id, name))
                        .collect();
                    self.deadline.allow(planned + again.len());
                    done.extend(self.read_pools(again).await);
                }
                outcomes = done;
                for (pool, _, outcome) in &outcomes {
                    if let PoolOutcome::Failed(failure) = outcome {
                        report.add(pool, failure);
                        summary.errors += 1;
                    }
                }
                up = outcomes.is_empty()
                    || outcomes
                        .iter()
                        .any(|(_, _, o)| !matches!(o, PoolOutcome::Failed(_)));
                fold(state, outcomes, self.poll.max_staleness);
            }
            Err(failure) => {
                up = false;
                summary.errors += 1;
                failure.warn(&self.id.region, None, "cannot list user pools");
                // Nothing was read: every pool ages toward staleness, none is dropped.
                fail_all(
                    state,
                    failure.operation,
                    failure.label,
                    self.poll.max_staleness,
                );
            }
        }
        report.log(self.id);
        summary.pools = state.pools.len();
        let snapshot = TargetSnapshot {
            up,
            duration_seconds: started.elapsed().as_secs_f64(),
            finished_at: unix_now(),
            pools: state.pools.values().map(|(r, _)| r.clone()).collect(),
        };
        (snapshot, summary)
    }

    async fn read_pools(&self, pools: Vec<Pool>) -> Vec<(Arc<str>, Arc<str>, PoolOutcome)> {
        stream::iter(pools)
            .map(|(id, name)| async move {
                let outcome = self.read_pool(&id).await;
                (id, name, outcome)
            })
            .buffer_unordered(self.poll.concurrency)
            .collect()
            .await
    }

    async fn read_pool(&self, pool: &str) -> PoolOutcome {
        const OPERATION: &str = "GetLogDeliveryConfiguration";
        let result = self
            .cognito
            .get_log_delivery_configuration()
            .user_pool_id(pool)
            .send()
            .await;
        match result {
            Ok(out) => match delivery(&out) {
                Ok(delivery) => PoolOutcome::Read(delivery),
                Err(problem) => {
                    // The SDK accepted the answer, so its interceptor counted no error;
                    // this is one, and it is counted here.
                    self.metrics.error(self.id, OPERATION, label::MALFORMED);
                    PoolOutcome::Failed(Failure::malformed(
                        OPERATION,
                        &format!("unusable log-delivery configuration: {problem}"),
                        out.request_id(),
                    ))
                }
            },
            Err(e) => {
                let failure = Failure::of(OPERATION, &e);
                if failure.label == NOT_FOUND {
                    tracing::info!(pool, "user pool no longer exists; dropping its series");
                    return PoolOutcome::Gone;
                }
                PoolOutcome::Failed(failure)
            }
        }
    }
}

/// The snapshot of a cycle that could not begin: the target does not know its account,
/// so it has no pools to show, only that it is down.
pub(super) fn unidentified(started: Instant) -> TargetSnapshot {
    TargetSnapshot {
        up: false,
        duration_seconds: started.elapsed().as_secs_f64(),
        finished_at: unix_now(),
        pools: Vec::new(),
    }
}

/// The snapshot of a cycle cut short at its deadline: the target is down, every pool
/// failed and keeps its last known configuration under the staleness rules.
pub(super) fn cut_short(
    state: &mut TargetState,
    poll: &PollConfig,
    started: Instant,
) -> (TargetSnapshot, CycleSummary) {
    fail_all(state, "cycle", label::TIMEOUT, poll.max_staleness);
    let summary = CycleSummary {
        pools: state.pools.len(),
        errors: state.pools.len().max(1),
    };
    let snapshot = TargetSnapshot {
        up: false,
        duration_seconds: started.elapsed().as_secs_f64(),
        finished_at: unix_now(),
        pools: state.pools.values().map(|(r, _)| r.clone()).collect(),
    };
    (snapshot, summary)
}
