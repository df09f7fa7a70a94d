//! When a cycle must end. `poll.cycle_timeout` bounds every cycle, so that no answer (a
//! pagination token that never ends, a stall on every call) holds a target forever; but
//! a big fleet may need longer than that at `poll.requests_per_second`, and cutting its
//! every cycle short would leave it down for good. So the deadline is never earlier than
//! [`MARGIN`] times what the calls of the last completed cycle take at the configured
//! rate, nor, once the cycle has found its pools, than that for the calls it plans. An endless listing never finishes finding its pools, so only the first bound
//! and `cycle_timeout` hold it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// How much longer than its calls need at the configured rate a cycle may run: sixteen
/// times, the slowest pace the rate limiter ever takes (it slows down under throttling
/// to a sixteenth of the configured rate, and may settle well below it when the
/// account's quota is shared or smaller than configured). A cycle paced that slowly still
/// ends in time; one slower than that is stuck, not slow. The count of the last cycle
/// includes its retries and second passes. Cutting a slow cycle short would cost more
/// than waiting for a stuck one: cut every time, a big account would stay down for good,
/// while a stuck cycle shows meanwhile as a last poll that stops moving.
pub(super) const MARGIN: f64 = 16.0;

/// The deadline of one cycle.
#[derive(Debug)]
pub(super) struct Deadline {
    started: Instant,
    requests_per_second: f64,
    at: Mutex<Instant>,
}

impl Deadline {
    /// A cycle starting at `started`: it ends by `cycle_timeout`, or by what
    /// `previous_calls` (the attempts of the last completed cycle) need.
    pub(super) fn new(
        started: Instant,
        cycle_timeout: Duration,
        requests_per_second: f64,
        previous_calls: u64,
    ) -> Self {
        let deadline = Self {
            started,
            requests_per_second,
            at: Mutex::new(started + cycle_timeout),
        };
        deadline.allow_calls(previous_calls);
        deadline
    }

    /// The cycle plans `calls` calls in all: it may run as long as they need.
    pub(super) fn allow(&self, calls: usize) {
        self.allow_calls(u64::try_from(calls).unwrap_or(u64::MAX));
    }

    fn allow_calls(&self, calls: u64) {
        let need = MARGIN * calls as f64 / self.requests_per_second;
        let Ok(need) = Duration::try_from_secs_f64(need) else {
            return;
        };
        let mut at = self.lock();
        *at = (*at).max(self.started + need);
    }

    /// When the cycle must end, as things stand.
    pub(super) fn at(&self) -> Instant {
        *self.lock()
    }

    /// Resolves once the deadline has passed, following it when it moves later.
    pub(super) async fn passed(&self) {
        loop {
            let at = self.at();
            tokio::time::sleep_until(at).await;
            if self.at() <= Instant::now() {
                return;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Instant> {
        self.at.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_timeout_holds_unless_the_calls_need_longer() {
        let start = Instant::now();
        let small = Deadline::new(start, Duration::from_secs(60), 5.0, 10);
        assert_eq!(small.at(), start + Duration::from_secs(60));
        // 1,000 calls at 5 per second: 200 s, sixteen times over.
        let big = Deadline::new(start, Duration::from_secs(60), 5.0, 1_000);
        assert_eq!(big.at(), start + Duration::from_secs(3_200));
        big.allow(10);
        assert_eq!(
            big.at(),
            start + Duration::from_secs(3_200),
            "never earlier"
        );
        small.allow(10_000);
        assert_eq!(small.at(), start + Duration::from_secs(32_000));
    }

    #[tokio::test(start_paused = true)]
    async fn passing_follows_a_deadline_pushed_later() {
        let start = Instant::now();
        let deadline = Deadline::new(start, Duration::from_secs(10), 4.0, 0);
        let passed = async {
            deadline.passed().await;
            Instant::now()
        };
        let push = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            deadline.allow(5); // 20 s at 4 per second, sixteen times over
        };
        let (at, ()) = tokio::join!(passed, push);
        assert_eq!(at, start + Duration::from_secs(20));
    }
}
