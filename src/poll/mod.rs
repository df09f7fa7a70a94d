//! Polling: one task per target ([`TargetTask`]) runs a cycle on the interval, never two
//! at once, and publishes each cycle's snapshot whole through its slot in the
//! exposition.
//!
//! - [`discover`]: the target's identity (once) and its pools (every cycle).
//! - [`cycle`]: one cycle: read every pool, with a second pass for throttled ones.
//! - [`convert`]: an SDK answer into the model.
//! - [`fold`]: a cycle's outcomes into what the target remembers, staleness included.

mod convert;
mod cycle;
mod discover;
mod fold;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::Client;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::aws::Connection;
use crate::config::{PollConfig, TargetConfig};
use crate::exposition::{Exposition, TargetSlot};
use crate::health::Readiness;
use crate::metrics::ApiMetrics;
use crate::model::{TargetId, TargetSnapshot};
use cycle::{Cycle, CycleSummary};
use fold::TargetState;

/// Everything a target's task needs.
#[derive(Debug)]
pub(crate) struct TargetTask {
    pub(crate) target: TargetConfig,
    pub(crate) poll: PollConfig,
    pub(crate) connection: Connection,
    pub(crate) metrics: ApiMetrics,
    pub(crate) exposition: Arc<Exposition>,
    pub(crate) readiness: Arc<Readiness>,
}

/// A target that knows its account: its identity, made once, and what it polls with.
#[derive(Debug)]
struct Identified {
    id: TargetId,
    cognito: Client,
    state: TargetState,
}

impl TargetTask {
    /// Polls until `shutdown`; the first cycle starts at once. The target's series leave
    /// the exposition when the task ends.
    pub(crate) async fn run(self, shutdown: CancellationToken) {
        // Until the account is known, the target's failures show under its provisional
        // identity; once known, the identified slot replaces it.
        let mut slot = self.exposition.slot(self.connection.provisional().clone());
        let mut identified: Option<Identified> = None;
        let mut first = true;
        let mut next = Instant::now();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep_until(next) => {}
            }
            let started = Instant::now();
            let (snapshot, summary) = tokio::select! {
                () = shutdown.cancelled() => return,
                done = self.cycle(&mut identified) => done,
            };
            let id = identified.as_ref().map_or(slot.id(), |t| &t.id);
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
            if id != slot.id() {
                // Published before the old slot goes, so the target never disappears.
                let replacement = self.exposition.slot(id.clone());
                publish(&replacement, &snapshot);
                slot = replacement;
            } else {
                publish(&slot, &snapshot);
            }
            if first {
                self.readiness.first_cycle_done();
                first = false;
            }
            // A slow cycle delays the next one; cycles never overlap.
            next = (started + self.poll.interval + jitter(self.poll.interval)).max(Instant::now());
        }
    }

    /// One cycle; the first ones learn the account, until it is known.
    async fn cycle(&self, identified: &mut Option<Identified>) -> (TargetSnapshot, CycleSummary) {
        let started = Instant::now();
        let target = match identified {
            Some(target) => target,
            None => match discover::identify(&self.connection).await {
                Ok(id) => identified.insert(Identified {
                    cognito: self.connection.cognito(&id),
                    id,
                    state: TargetState::default(),
                }),
                Err(_) => {
                    let summary = CycleSummary {
                        pools: 0,
                        errors: 1,
                    };
                    return (cycle::unidentified(started), summary);
                }
            },
        };
        let cycle = Cycle {
            target: &self.target,
            poll: &self.poll,
            cognito: &target.cognito,
            id: &target.id,
            metrics: &self.metrics,
        };
        cycle.run(&mut target.state).await
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
