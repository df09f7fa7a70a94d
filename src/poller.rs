//! One task per target: runs a [`cycle`] on the interval, never two at once,
//! and publishes each cycle's snapshot whole.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::aws::Clients;
use crate::config::{PollConfig, TargetConfig};
use crate::cycle::{self, TargetState};
use crate::exposition::{Exposition, TargetKey};

/// Ready once every target has finished a first cycle; not ready once shutdown begins.
#[derive(Debug)]
pub struct Readiness {
    pending: AtomicUsize,
    stopping: AtomicBool,
}

impl Readiness {
    pub fn new(targets: usize) -> Self {
        Self {
            pending: AtomicUsize::new(targets),
            stopping: AtomicBool::new(false),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.pending.load(Ordering::Acquire) == 0 && !self.stopping.load(Ordering::Acquire)
    }

    pub fn first_cycle_done(&self) {
        let _ = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    pub fn stopping(&self) {
        self.stopping.store(true, Ordering::Release);
    }
}

/// Everything a target's task needs.
#[derive(Debug)]
pub struct Poller {
    pub target: TargetConfig,
    pub poll: PollConfig,
    pub clients: Clients,
    pub exposition: Arc<Exposition>,
    pub readiness: Arc<Readiness>,
}

impl Poller {
    /// Polls until `shutdown`; the first cycle starts at once.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut state = TargetState::default();
        let mut key: Option<TargetKey> = None;
        let mut first = true;
        let mut next = Instant::now();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep_until(next) => {}
            }
            let started = Instant::now();
            let metrics = &self.exposition.self_metrics().api;
            let cycle = cycle::run(&self.target, &self.poll, &self.clients, metrics, &mut state);
            let (snapshot, summary) = tokio::select! {
                () = shutdown.cancelled() => return,
                done = cycle => done,
            };
            tracing::info!(
                account = %snapshot.account_id,
                region = %snapshot.region,
                up = snapshot.up,
                pools = summary.pools,
                errors = summary.errors,
                stale = snapshot.stale_pools(),
                duration_seconds = snapshot.duration_seconds,
                "poll cycle finished"
            );
            if let Err(e) = self.exposition.publish(&snapshot, key.as_ref()) {
                tracing::error!(error = %e, "cannot render the cycle's metrics");
            }
            key = Some((snapshot.account_id, snapshot.region));
            if first {
                self.readiness.first_cycle_done();
                first = false;
            }
            // A slow cycle delays the next one; cycles never overlap.
            next = (started + self.poll.interval + jitter(self.poll.interval)).max(Instant::now());
        }
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
    fn readiness_needs_every_target_and_ends_at_shutdown() {
        let r = Readiness::new(2);
        assert!(!r.is_ready());
        r.first_cycle_done();
        assert!(!r.is_ready());
        r.first_cycle_done();
        assert!(r.is_ready());
        r.first_cycle_done();
        assert!(r.is_ready(), "an extra mark does not underflow");
        r.stopping();
        assert!(!r.is_ready());
    }

    #[test]
    fn jitter_is_small() {
        for _ in 0..100 {
            assert!(jitter(Duration::from_secs(300)) <= Duration::from_secs(5));
            assert!(jitter(Duration::from_secs(10)) <= Duration::from_millis(200));
        }
    }
}
