//! One poll cycle of an identified target: find the pools, describe those due, read
//! each pool's log-delivery configuration, and fold the answers into the pool records,
//! built aside from what scrapes currently see.

use std::collections::HashSet;
use std::sync::Arc;

use aws_sdk_cognitoidentityprovider::operation::RequestId;
use futures_util::{StreamExt, stream};
use tokio::time::Instant;

use super::assess::{Checks, Judge};
use super::audit;
use super::convert::delivery;
use super::deadline::Deadline;
use super::describe;
use super::discover::{self, Listed, Pool};
use super::fold::{PoolOutcome, TargetState, fail_all, fold, unix_now};
use super::report::Report;
use crate::aws::errors::{Failure, NOT_FOUND, is_throttling, label};
use crate::aws::{Cognito, Limiter};
use crate::config::{PollConfig, TargetConfig};
use crate::metrics::ApiMetrics;
use crate::model::{TargetId, TargetSnapshot};

/// A pool's ID and name, and what reading it gave.
type Outcome = (Arc<str>, Arc<str>, PoolOutcome);

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
    pub(super) cognito: &'a Cognito,
    pub(super) id: &'a TargetId,
    pub(super) metrics: &'a ApiMetrics,
    /// Pushed later once the cycle knows how many calls it will make.
    pub(super) deadline: &'a Deadline,
    /// With `checks.destinations`: the target's destination checks.
    pub(super) checks: Option<&'a Checks>,
    pub(super) judge: Judge<'a>,
    /// The target's limiter: each operation waits for its turn to be built.
    pub(super) pace: &'a Limiter,
}

impl Cycle<'_> {
    /// Runs the cycle and returns the snapshot to publish.
    pub(super) async fn run(&self, state: &mut TargetState) -> (TargetSnapshot, CycleSummary) {
        let started = Instant::now();
        let mut summary = CycleSummary::default();
        let mut report = Report::default();
        let up;
        match discover::pools(self.target, self.cognito, self.pace, self.id, self.metrics).await {
            Ok(found) => {
                let (pools, planned) = self.describe(state, found, &mut report).await;
                let mut outcomes = self.read_pools(pools).await;
                // Pools still throttled after the SDK's retries get one more pass at the
                // end of the cycle, when the limiter has slowed down: slower, but every
                // pool read.
                let (throttled, mut done): (Vec<_>, Vec<_>) = outcomes.into_iter().partition(
                    |(_, _, o)| matches!(o, PoolOutcome::Failed(f) if is_throttling(f.label)),
                );
                let mut calls = planned;
                if !throttled.is_empty() {
                    let again: Vec<Pool> = throttled
                        .into_iter()
                        .map(|(id, name, _)| (id, name))
                        .collect();
                    calls += again.len();
                    self.deadline.allow(calls);
                    done.extend(self.read_pools(again).await);
                }
                outcomes = match self.checks {
                    Some(checks) => self.check(checks, done, calls).await,
                    None => done,
                };
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
                let changes = fold(state, outcomes, self.poll.max_staleness, &self.judge);
                audit::log(self.id, &changes);
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
                    &self.judge,
                );
            }
        }
        report.log(self.id);
        summary.pools = state.pools.len();
        let snapshot = TargetSnapshot {
            up,
            duration_seconds: started.elapsed().as_secs_f64(),
            finished_at: unix_now(),
            pools: state.pools.values().map(|m| m.record.clone()).collect(),
        };
        (snapshot, summary)
    }

    /// The pools to read: those `found`, filtered by name, after describing the ones due
    /// (before the filter for configured pools, whose names the describes give; after it
    /// for listed ones, so no call is spent on a pool filtered out); and the calls the
    /// cycle plans, for which the deadline is pushed.
    async fn describe(
        &self,
        state: &mut TargetState,
        found: discover::Discovery,
        report: &mut Report,
    ) -> (Vec<Pool>, usize) {
        let configured = self.target.user_pools.is_some();
        let candidates: Vec<Listed> = if configured {
            found.pools
        } else {
            found
                .pools
                .into_iter()
                .filter(|p| p.name.as_deref().is_none_or(|n| self.target.wants(n)))
                .collect()
        };
        let now = Instant::now();
        let due = describe::due(
            &state.described,
            &candidates,
            now,
            self.poll.interval,
            self.poll.describe_interval,
        );
        let planned = found.calls + due.len() + candidates.len();
        self.deadline.allow(planned);
        let mut gone = HashSet::new();
        for (pool, modified, answer) in
            describe::describe(self.cognito, self.pace, due, self.poll.concurrency).await
        {
            describe::record(&mut state.described, &pool, modified, answer.as_ref(), now);
            match answer {
                Ok(_) => {}
                Err(failure) if failure.label == NOT_FOUND => {
                    if configured {
                        report.add(&pool, &failure);
                    } else {
                        tracing::info!(pool = %pool, "user pool no longer exists; dropping its series");
                    }
                    gone.insert(pool);
                }
                // A configured pool is polled anyway under its ID until its name is
                // known; its own call says what is wrong.
                Err(failure) => report.add(&pool, &failure),
            }
        }
        describe::forget_unlisted(&mut state.described, &candidates);
        let pools = candidates
            .into_iter()
            .filter(|p| !gone.contains(&p.id))
            .map(|p| {
                let name = p
                    .name
                    .or_else(|| state.described.get(&p.id).and_then(|d| d.name.clone()))
                    .unwrap_or_else(|| p.id.clone());
                (p.id, name)
            })
            .filter(|(_, name)| !configured || self.target.wants(name))
            .collect();
        (pools, planned)
    }

    /// Checks the destinations of the pools read, after their reads: most results come
    /// from the checks' cache, so the deadline is pushed for at most one call per
    /// destination.
    async fn check(&self, checks: &Checks, outcomes: Vec<Outcome>, calls: usize) -> Vec<Outcome> {
        let (read, mut others): (Vec<_>, Vec<_>) = outcomes
            .into_iter()
            .partition(|(_, _, o)| matches!(o, PoolOutcome::Read(..)));
        let read: Vec<_> = read
            .into_iter()
            .filter_map(|(id, name, outcome)| match outcome {
                PoolOutcome::Read(delivery, _) => Some(((id, name), delivery)),
                _ => None,
            })
            .collect();
        let destinations: usize = read.iter().map(|(_, d)| d.destinations().len()).sum();
        self.deadline.allow(calls + destinations);
        let checked = checks
            .statuses(&self.id.account_id, read, self.poll.concurrency)
            .await;
        others.extend(checked.into_iter().map(|((id, name), delivery, statuses)| {
            (id, name, PoolOutcome::Read(delivery, statuses))
        }));
        others
    }

    async fn read_pools(&self, pools: Vec<Pool>) -> Vec<Outcome> {
        stream::iter(pools)
            .map(|(id, name)| async move {
                let _admitted = self.pace.admit().await;
                // Boxed once admitted: the slots still waiting for their turn stay small.
                let outcome = Box::pin(self.read_pool(&id)).await;
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
            .client()
            .get_log_delivery_configuration()
            .user_pool_id(pool)
            .customize()
            .config_override(self.cognito.overrides())
            .send()
            .await;
        match result {
            Ok(out) => match delivery(&out) {
                Ok(delivery) => PoolOutcome::Read(delivery, Vec::new()),
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
    judge: &Judge<'_>,
    started: Instant,
) -> (TargetSnapshot, CycleSummary) {
    fail_all(state, "cycle", label::TIMEOUT, poll.max_staleness, judge);
    let summary = CycleSummary {
        pools: state.pools.len(),
        errors: state.pools.len().max(1),
    };
    let snapshot = TargetSnapshot {
        up: false,
        duration_seconds: started.elapsed().as_secs_f64(),
        finished_at: unix_now(),
        pools: state.pools.values().map(|m| m.record.clone()).collect(),
    };
    (snapshot, summary)
}
