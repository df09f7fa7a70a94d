//! The client-side rate limit of one target: API attempts spaced evenly at
//! `poll.requests_per_second`, with no burst, so a per-second server quota never sees
//! more than the configured rate; slowed down when Cognito throttles anyway (its quota is
//! shared with every other caller in the account and region), and back to the
//! configured rate as attempts succeed.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::aws::Identity;
use crate::selfmetrics::ApiMetrics;

/// How far throttling may slow the rate: to a sixteenth of the configured one.
const MAX_SLOWDOWN: f64 = 16.0;
/// Each throttled attempt stretches the spacing by this factor...
const BACKOFF: f64 = 1.5;
/// ...and each successful one shrinks it back by this one.
const RECOVERY: f64 = 0.95;

#[derive(Debug)]
struct Pace {
    /// When the next attempt may start.
    next: Instant,
    /// The current spacing between attempts.
    period: Duration,
}

/// Paces the attempts of one target.
#[derive(Debug)]
pub struct Limiter {
    base: Duration,
    pace: Mutex<Pace>,
    wait: OnceLock<(ApiMetrics, Arc<Identity>)>,
}

impl Limiter {
    pub fn new(requests_per_second: f64) -> Self {
        let base = Duration::from_secs_f64(1.0 / requests_per_second);
        Self {
            base,
            pace: Mutex::new(Pace {
                next: Instant::now(),
                period: base,
            }),
            wait: OnceLock::new(),
        }
    }

    /// Where waiting time is counted.
    pub fn bind(&self, metrics: ApiMetrics, identity: Arc<Identity>) {
        let _ = self.wait.set((metrics, identity));
    }

    /// Waits for the next slot. Slots are handed out in call order, one period apart;
    /// a slot in the past (the target was idle) starts now, so idle time never builds a
    /// burst.
    pub async fn until_ready(&self) {
        let now = Instant::now();
        let slot = {
            let mut pace = self.lock();
            let slot = pace.next.max(now);
            pace.next = slot + pace.period;
            slot
        };
        if slot > now {
            tokio::time::sleep_until(slot).await;
            if let Some((metrics, identity)) = self.wait.get() {
                metrics
                    .limiter_wait_seconds
                    .get_or_create(&identity.labels())
                    .inc_by((slot - now).as_secs_f64());
            }
        }
    }

    /// An attempt was throttled: space the following ones further apart.
    pub fn throttled(&self) {
        let mut pace = self.lock();
        let slowest = self.base.mul_f64(MAX_SLOWDOWN);
        pace.period = pace.period.mul_f64(BACKOFF).min(slowest);
    }

    /// An attempt succeeded: move back toward the configured rate.
    pub fn succeeded(&self) {
        let mut pace = self.lock();
        if pace.period > self.base {
            pace.period = pace.period.mul_f64(RECOVERY).max(self.base);
        }
    }

    /// The current spacing between attempts.
    pub fn period(&self) -> Duration {
        self.lock().period
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pace> {
        self.pace.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn attempts_are_spaced_exactly_at_the_rate_without_burst() {
        let limiter = Arc::new(Limiter::new(10.0));
        tokio::time::advance(Duration::from_secs(5)).await; // idle time earns no burst
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let l = limiter.clone();
            tasks.push(tokio::spawn(async move {
                l.until_ready().await;
                Instant::now()
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.expect("task") - start);
        }
        times.sort();
        for (i, t) in times.iter().enumerate() {
            assert_eq!(*t, Duration::from_millis(100) * i as u32, "attempt {i}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_slows_the_pace_and_success_restores_it() {
        let limiter = Limiter::new(10.0);
        for _ in 0..3 {
            limiter.throttled();
        }
        assert_eq!(
            limiter.period(),
            Duration::from_millis(100).mul_f64(1.5 * 1.5 * 1.5)
        );
        for _ in 0..100 {
            limiter.throttled();
        }
        assert_eq!(
            limiter.period(),
            Duration::from_millis(1600),
            "bounded slowdown"
        );
        for _ in 0..200 {
            limiter.succeeded();
        }
        assert_eq!(limiter.period(), Duration::from_millis(100));
    }
}
