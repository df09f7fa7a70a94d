//! Polling: one task per target ([`TargetTask`]) runs a cycle on the interval, never two
//! at once, each ending by its deadline, and publishes each cycle's snapshot whole
//! through its slot in the exposition.
//!
//! - [`discover`]: the target's identity (until known) and its pools (every cycle).
//! - [`describe`]: `DescribeUserPool` (name, plan, threat protection), and when each
//!   pool is due for it.
//! - [`cycle`]: one cycle: describe the pools due, read every pool, with a second pass
//!   for throttled ones.
//! - [`deadline`]: when a cycle must end.
//! - [`convert`]: an SDK answer into the model.
//! - [`fold`]: a cycle's outcomes into what the target remembers, staleness included.
//! - [`audit`]: a configuration that changed between two successful reads, logged.
//! - [`report`]: a cycle's failed pools, logged once per operation and error code.

mod assess;
mod audit;
mod convert;
mod cycle;
mod deadline;
mod describe;
mod discover;
mod fold;
mod report;
mod settings;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::aws::{Cognito, Connection};
use crate::exposition::{Exposition, Taken, TargetSlot};
use crate::health::ReadyToken;
use crate::metrics::{ApiMetrics, PollMetrics};
use crate::model::{TargetId, TargetSnapshot};
use assess::Checks;
use cycle::{Cycle, CycleSummary};
use deadline::Deadline;
use fold::TargetState;
pub(crate) use settings::Settings;

/// Everything a target's task needs.
#[derive(Debug)]
pub(crate) struct TargetTask {
    pub(crate) settings: watch::Receiver<Arc<Settings>>,
    pub(crate) connection: Connection,
    pub(crate) metrics: ApiMetrics,
    pub(crate) polls: PollMetrics,
    pub(crate) exposition: Arc<Exposition>,
    /// Done when the first cycle ends (or the task does).
    pub(crate) ready: ReadyToken,
}

/// A target that knows its account: its identity, made once, its place in the
/// exposition, and what it polls with.
#[derive(Debug)]
struct Identified {
    id: TargetId,
    slot: TargetSlot,
    cognito: Cognito,
    /// The operation time limit `cognito` was made with.
    timeout: Duration,
    /// With `checks.destinations`.
    checks: Option<Checks>,
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

impl Progress {
    /// The identity whose slot the target holds, if it holds one.
    fn owned(&self) -> Option<TargetId> {
        match (&self.identified, &self.provisional) {
            (Some(target), _) => Some(target.id.clone()),
            (None, Some(slot)) => Some(slot.id().clone()),
            (None, None) => None,
        }
    }
}

/// Why a cycle ended without a snapshot to publish.
enum Stop {
    /// Another target publishes this account and region.
    Taken(Taken),
    /// The account and region are another shard's.
    OtherShard(TargetId),
}

impl TargetTask {
    /// Polls until `shutdown`; the first cycle starts at once. The target's series leave
    /// the exposition when the task ends, its counters too.
    pub(crate) async fn run(mut self, shutdown: CancellationToken) {
        // Until the account is known, the target's failures show under its provisional
        // identity; once known, the identified slot replaces it.
        let settings = Arc::clone(&self.settings.borrow());
        let mut progress = Progress {
            provisional: self.claim_provisional(&settings),
            ..Progress::default()
        };
        drop(settings);
        let counted = self.poll(&mut progress, &shutdown).await;
        if let Some(id) = &counted {
            self.connection.forget(id);
            self.polls.forget(id);
        }
        // The slots go only now: a target waiting for this identity may take it from
        // here, and must not see these counters forgotten after it has counted.
        drop(progress);
        if counted.is_some() {
            // A scrape between the series' removal and these may have encoded the
            // counters just forgotten into the cached tail.
            self.exposition.renew_own_metrics();
        }
    }

    /// Polls until `shutdown`. Returns the identity whose counters the target kept, if
    /// any.
    async fn poll(
        &mut self,
        progress: &mut Progress,
        shutdown: &CancellationToken,
    ) -> Option<TargetId> {
        let mut settings = Arc::clone(&self.settings.borrow_and_update());
        let mut next = Instant::now();
        let mut first = true;
        loop {
            // New settings move the next cycle to their interval, counted from the last
            // cycle's start (`next` less the old interval and its jitter is close enough:
            // the jitter is at most 2%).
            let mut last_start = next.checked_sub(settings.poll.interval).unwrap_or(next);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return progress.owned(),
                    () = tokio::time::sleep_until(next) => break,
                    changed = self.settings.changed() => {
                        if changed.is_err() {
                            // The fleet is gone: so is this target.
                            return progress.owned();
                        }
                        settings = Arc::clone(&self.settings.borrow_and_update());
                        next = (last_start + settings.poll.interval).max(Instant::now());
                        last_start = next.checked_sub(settings.poll.interval).unwrap_or(next);
                    }
                }
            }
            settings = Arc::clone(&self.settings.borrow_and_update());
            self.connection.set_poll(&settings.poll);
            let started = Instant::now();
            let attempts_before = self.connection.attempts();
            let deadline = Deadline::new(
                started,
                settings.poll.cycle_timeout,
                settings.poll.requests_per_second,
                progress.last_calls,
            );
            let ended = tokio::select! {
                () = shutdown.cancelled() => return progress.owned(),
                // Boxed: between cycles a target's task keeps only what it needs to start
                // the next one, not room for a cycle's every step.
                done = Box::pin(self.cycle(&settings, progress, &deadline)) => Some(done),
                () = deadline.passed() => None,
            };
            let (snapshot, summary) = match ended {
                Some(Ok(done)) => {
                    progress.last_calls =
                        self.connection.attempts().saturating_sub(attempts_before);
                    done
                }
                Some(Err(Stop::Taken(taken))) => {
                    let owned = progress.owned();
                    // Its provisional series would show a target that polls nothing.
                    progress.provisional = None;
                    // Boxed: the task need not keep room for it all along.
                    if !Box::pin(self.conflicted(&settings, &taken, shutdown)).await {
                        return owned;
                    }
                    // The identity is free: the next cycle, at once, claims it.
                    next = Instant::now();
                    continue;
                }
                Some(Err(Stop::OtherShard(id))) => {
                    let owned = progress.owned();
                    progress.provisional = None;
                    tracing::info!(
                        target_name = %settings.name,
                        account = %id.account_id,
                        region = %id.region,
                        "{} polls {id}, not {}: {} stops here",
                        if settings.shard.total() > 1 { "another shard" } else { "another target" },
                        settings.shard,
                        settings.name,
                    );
                    self.ready.done();
                    shutdown.cancelled().await;
                    return owned;
                }
                None => self.cut_short(&settings, progress, &deadline, started),
            };
            self.publish(&settings, progress, &snapshot, &summary);
            self.ready.done();
            // A slow cycle delays the next one; cycles never overlap. After the first,
            // which every target runs at once to be ready, the next comes at a random
            // point of the interval: a fleet's targets then call in turn across it rather
            // than all together at every interval (what the process holds during a cycle
            // is the fleet's peak, and the allocator keeps the peak).
            let wait = if first {
                first = false;
                settings.poll.interval.mul_f64(rand::random::<f64>())
            } else {
                settings.poll.interval + jitter(settings.poll.interval)
            };
            next = (started + wait).max(Instant::now());
        }
    }

    /// One cycle; the first ones learn the account, until it is known. Fails when the
    /// account and region turn out to be another target's, or another shard's.
    async fn cycle(
        &self,
        settings: &Settings,
        progress: &mut Progress,
        deadline: &Deadline,
    ) -> Result<(TargetSnapshot, CycleSummary), Stop> {
        let started = Instant::now();
        let target = match &mut progress.identified {
            Some(target) => target,
            None => match discover::identify(&self.connection, &self.metrics).await {
                Ok(id) => {
                    if !settings.shard.owns(&id) {
                        return Err(Stop::OtherShard(id));
                    }
                    self.connection.identified(&id);
                    self.polls.move_target(self.connection.provisional(), &id);
                    // The provisional slot already is this identity's when the role's
                    // account was the account.
                    let slot = match progress.provisional.take_if(|s| s.id() == &id) {
                        Some(slot) => slot,
                        None => self
                            .exposition
                            .claim(id.clone(), Arc::clone(&settings.name))
                            .map_err(Stop::Taken)?,
                    };
                    progress.identified.insert(Identified {
                        cognito: self.connection.cognito(&id, &settings.poll),
                        timeout: settings.poll.timeout,
                        checks: None,
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
        if target.timeout != settings.poll.timeout {
            target.cognito = self.connection.cognito(&target.id, &settings.poll);
            target.timeout = settings.poll.timeout;
        }
        Checks::sync(&mut target.checks, &self.connection, &target.id, settings);
        let cycle = Cycle {
            target: &settings.target,
            poll: &settings.poll,
            cognito: &target.cognito,
            id: &target.id,
            metrics: &self.metrics,
            deadline,
            checks: target.checks.as_ref(),
            judge: settings.judge(&target.id),
            pace: self.connection.limiter(),
        };
        Ok(cycle.run(&mut target.state).await)
    }

    /// The cycle was still running at its deadline: it ends as failed, counted and
    /// logged once.
    fn cut_short(
        &self,
        settings: &Settings,
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
            Some(target) => cycle::cut_short(
                &mut target.state,
                &settings.poll,
                &settings.judge(&target.id),
                started,
            ),
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
    fn publish(
        &self,
        settings: &Settings,
        progress: &mut Progress,
        snapshot: &TargetSnapshot,
        summary: &CycleSummary,
    ) {
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
                    progress.provisional = self.claim_provisional(settings);
                }
                if let Some(slot) = &progress.provisional {
                    publish(slot, snapshot);
                }
            }
        }
    }

    fn claim_provisional(&self, settings: &Settings) -> Option<TargetSlot> {
        let id = self.connection.provisional().clone();
        self.exposition.claim(id, Arc::clone(&settings.name)).ok()
    }

    /// Another target already polls this target's account and region: publishing too
    /// would overwrite its series cycle by cycle. Says so once (an error for a
    /// configured target, a warning for a discovered one), counts it, and publishes
    /// nothing and polls no more until that target is gone (a reload removed it), then
    /// returns true: this one polls the account from then on. False on `shutdown`.
    async fn conflicted(
        &mut self,
        settings: &Settings,
        taken: &Taken,
        shutdown: &CancellationToken,
    ) -> bool {
        let (name, holder) = (&settings.name, &taken.holder);
        let message = format!(
            "{name} resolves to account {} in {}, which {holder} already polls: {name} \
             publishes nothing and stops polling; give each account and region one target",
            taken.id.account_id, taken.id.region,
        );
        if settings.discovered {
            tracing::warn!(target_name = %name, other_target = %holder, "{message}");
        } else {
            tracing::error!(target_name = %name, other_target = %holder, "{message}");
        }
        let _counted = self.polls.conflict(&taken.id);
        self.ready.done();
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = self.exposition.released(&taken.id) => {}
        }
        // Its name may have changed meanwhile (a reload renumbers the targets).
        let name = Arc::clone(&self.settings.borrow().name);
        tracing::info!(
            target_name = %name,
            account = %taken.id.account_id,
            region = %taken.id.region,
            "{holder} no longer polls account {} in {}: {name} polls it from now on",
            taken.id.account_id,
            taken.id.region,
        );
        true
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
