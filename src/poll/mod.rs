//! Polling: one task per target ([`TargetTask`]) runs a cycle on the interval, never two
//! at once, each ending by its deadline, and publishes each cycle's snapshot whole
//! through its slot in the exposition.
//!
//! - [`discover`]: the target's identity (until known) and its pools (every cycle).
//! - [`cycle`]: one cycle: read every pool, with a second pass for throttled ones.
//! - [`deadline`]: when a cycle must end.
//! - [`convert`]: an SDK answer into the model.
//! - [`fold`]: a cycle's outcomes into what the target remembers, staleness included.
//! - [`report`]: a cycle's failed pools, logged once per operation and error code.

mod convert;
mod cycle;
mod deadline;
mod discover;
mod fold;
mod report;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::Client;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::aws::Connection;
use crate::config::{PollConfig, TargetConfig};
use crate::exposition::{Exposition, Taken, TargetSlot};
use crate::health::Readiness;
use crate::metrics::{ApiMetrics, PollMetrics};
use crate::model::{TargetId, TargetSnapshot};
use cycle::{Cycle, CycleSummary};
use deadline::Deadline;
use fold::TargetState;

/// Everything a target's task needs.
#[derive(Debug)]
pub(crate) struct TargetTask {
    /// The target's index in the configuration's `targets`, which names it in logs.
    pub(crate) index: usize,
    pub(crate) target: TargetConfig,
    pub(crate) poll: PollConfig,
    pub(crate) connection: Connection,
    pub(crate) metrics: ApiMetrics,
    pub(crate) polls: PollMetrics,
    pub(crate) exposition: Arc<Exposition>,
    pub(crate) readiness: Arc<Readiness>,
}

/// A target that knows its account: its identity, made once, its place in the
/// exposition, and what it polls with.
#[derive(Debug)]
struct Identified {
    id: TargetId,
    slot: TargetSlot,
    cognito: Client,
    state: TargetState,
}

/// Where a target's task stands.
#[derive(Debug, Default)]
struct Progress {
    /// The slot of the provisional identity, until the identified one has published;
    /// `None` while another target holds that identity (two targets in one region
    /// without a role share it until they know their accounts).
    provisional: Option<TargetSlot>,
    identified: Option<Identified>,
    /// Attempts of the last completed cycle, for the next cycle's deadline.
    last_calls: u64,
}

impl TargetTask {
    /// Polls until `shutdown`; the first cycle starts at once. The target's series leave
    /// the exposition when the task ends.
    pub(crate) async fn run(self, shutdown: CancellationToken) {
        // Until the account is known, the target's failures show under its provisional
        // identity; once known, the identified slot replaces it.
        let mut progress = Progress {
            provisional: self.claim_provisional(),
            ..Progress::default()
        };
        let mut first = true;
        let mut next = Instant::now();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep_until(next) => {}
            }
            let started = Instant::now();
            let attempts_before = self.connection.attempts();
            let deadline = Deadline::new(
                started,
                self.poll.cycle_timeout,
                self.poll.requests_per_second,
                progress.last_calls,
            );
            let ended = tokio::select! {
                () = shutdown.cancelled() => return,
                done = self.cycle(&mut progress, &deadline) => Some(done),
                () = deadline.passed() => None,
            };
            let (snapshot, summary) = match ended {
                Some(Ok(done)) => {
                    progress.last_calls =
                        self.connection.attempts().saturating_sub(attempts_before);
                    done
                }
                Some(Err(taken)) => {
                    drop(progress);
                    return self.conflicted(&taken, first, shutdown).await;
                }
                None => self.cut_short(&mut progress, &deadline, started),
            };
            self.publish(&mut progress, &snapshot, &summary);
            if first {
                self.readiness.first_cycle_done();
                first = false;
            }
            // A slow cycle delays the next one; cycles never overlap.
            next = (started + self.poll.interval + jitter(self.poll.interval)).max(Instant::now());
        }
    }

    /// One cycle; the first ones learn the account, until it is known. Fails when the
    /// account and region turn out to be another target's.
    async fn cycle(
        &self,
        progress: &mut Progress,
        deadline: &Deadline,
    ) -> Result<(TargetSnapshot, CycleSummary), Taken> {
        let started = Instant::now();
        let target = match &mut progress.identified {
            Some(target) => target,
            None => match discover::identify(&self.connection, &self.metrics).await {
                Ok(id) => {
                    self.connection.identified(&id);
                    self.polls.move_target(self.connection.provisional(), &id);
                    // The provisional slot already is this identity's when the role's
                    // account was the account.
                    let slot = match progress.provisional.take_if(|s| s.id() == &id) {
                        Some(slot) => slot,
                        None => self.exposition.claim(id.clone(), self.index)?,
                    };
                    progress.identified.insert(Identified {
                        cognito: self.connection.cognito(&id),
                        id,
                        slot,
                        state: TargetState::default(),
                    })
                }
                Err(failure) => {
                    failure.warn(
                        self.connection.region(),
                        None,
                        "cannot learn the target's account",
                    );
                    let summary = CycleSummary {
                        pools: 0,
                        errors: 1,
                    };
                    return Ok((cycle::unidentified(started), summary));
                }
            },
        };
        let cycle = Cycle {
            target: &self.target,
            poll: &self.poll,
            cognito: &target.cognito,
            id: &target.id,
            metrics: &self.metrics,
            deadline,
        };
        Ok(cycle.run(&mut target.state).await)
    }

    /// The cycle was still running at its deadline: it ends as failed, counted and
    /// logged once.
    fn cut_short(
        &self,
        progress: &mut Progress,
        deadline: &Deadline,
        started: Instant,
    ) -> (TargetSnapshot, CycleSummary) {
        let id = progress
            .identified
            .as_ref()
            .map_or(self.connection.provisional(), |t| &t.id);
        self.polls.cycle_timed_out(id);
        tracing::warn!(
            account = %id.account_id,
            region = %id.region,
            deadline_seconds = (deadline.at() - started).as_secs_f64(),
            "poll cycle cut short: still running at its deadline (poll.cycle_timeout, or \
             more for the calls it needs); the target is down for this cycle and its pools \
             keep their last known values"
        );
        match &mut progress.identified {
            Some(target) => cycle::cut_short(&mut target.state, &self.poll, started),
            None => (
                cycle::unidentified(started),
                CycleSummary {
                    pools: 0,
                    errors: 1,
                },
            ),
        }
    }

    /// Logs the cycle and publishes its snapshot under the target's identity.
    fn publish(&self, progress: &mut Progress, snapshot: &TargetSnapshot, summary: &CycleSummary) {
        let id = progress
            .identified
            .as_ref()
            .map_or(self.connection.provisional(), |t| &t.id);
        tracing::info!(
            account = %id.account_id,
            region = %id.region,
            up = snapshot.up,
            pools = summary.pools,
            errors = summary.errors,
            stale = snapshot.stale_pools(),
            duration_seconds = snapshot.duration_seconds,
            "poll cycle finished"
        );
        match &progress.identified {
            Some(target) => {
                publish(&target.slot, snapshot);
                // Published before the provisional slot goes, so the target never
                // disappears.
                progress.provisional = None;
            }
            None => {
                if progress.provisional.is_none() {
                    progress.provisional = self.claim_provisional();
                }
                if let Some(slot) = &progress.provisional {
                    publish(slot, snapshot);
                }
            }
        }
    }

    fn claim_provisional(&self) -> Option<TargetSlot> {
        let id = self.connection.provisional().clone();
        self.exposition.claim(id, self.index).ok()
    }

    /// Another target already polls this target's account and region: publishing too
    /// would overwrite its series cycle by cycle. Says so once, counts it, publishes
    /// nothing and polls no more.
    async fn conflicted(&self, taken: &Taken, first: bool, shutdown: CancellationToken) {
        let (index, holder) = (self.index, taken.holder);
        tracing::error!(
            target_index = index,
            other_target_index = holder,
            account = %taken.id.account_id,
            region = %taken.id.region,
            "targets[{index}] resolves to account {} in {}, which targets[{holder}] \
             already polls: targets[{index}] publishes nothing and stops polling; give \
             each account and region one target",
            taken.id.account_id,
            taken.id.region,
        );
        let _counted = self.polls.conflict(&taken.id);
        if first {
            self.readiness.first_cycle_done();
        }
        shutdown.cancelled().await;
    }
}

fn publish(slot: &TargetSlot, snapshot: &TargetSnapshot) {
    if let Err(e) = slot.publish(snapshot) {
        tracing::error!(error = %e, target = %slot.id(), "cannot render the cycle's metrics");
    }
}

/// Up to 2% of the interval (at most 5 s), so targets and replicas do not call in step.
fn jitter(interval: Duration) -> Duration {
    let max = (interval / 50).min(Duration::from_secs(5));
    max.mul_f64(rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_small() {
        for _ in 0..100 {
            assert!(jitter(Duration::from_secs(300)) <= Duration::from_secs(5));
            assert!(jitter(Duration::from_secs(10)) <= Duration::from_millis(200));
        }
    }
}
