//! Accepting connections when accepting fails.
//!
//! An accept fails mostly when the process is out of file descriptors; the pending
//! connection stays queued, so trying again at once fails again. The loop waits longer
//! after each failure in a row (from 10 ms, doubling, up to 1 s; back to 10 ms after a
//! success) and says so at most once a minute, counting what it did not say.

use std::io;
use std::time::Duration;

use tokio::time::Instant;

/// The first wait after a failed accept.
const FIRST_DELAY: Duration = Duration::from_millis(10);
/// The longest wait: a freed descriptor is used within a second.
const MAX_DELAY: Duration = Duration::from_secs(1);
/// At most one warning per this long.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// The wait after a failure, and the rate of warnings about failures.
#[derive(Debug)]
pub(super) struct Pacing {
    delay: Duration,
    last_warning: Option<Instant>,
    /// Failures since the last warning, not warned about.
    suppressed: u64,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            delay: FIRST_DELAY,
            last_warning: None,
            suppressed: 0,
        }
    }
}

/// What to do about a failed accept.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Failed {
    /// How long to wait before the next accept.
    pub(super) wait: Duration,
    /// `Some(n)`: warn now, saying that `n` failures went unreported since the last
    /// warning; `None`: stay silent.
    pub(super) warn: Option<u64>,
}

impl Pacing {
    /// An accept succeeded: the next failure waits the shortest again.
    pub(super) fn succeeded(&mut self) {
        self.delay = FIRST_DELAY;
    }

    /// An accept failed at `now`.
    pub(super) fn failed(&mut self, now: Instant) -> Failed {
        let wait = self.delay;
        self.delay = (self.delay * 2).min(MAX_DELAY);
        let due = self
            .last_warning
            .is_none_or(|last| now.saturating_duration_since(last) >= WARN_EVERY);
        let warn = if due {
            self.last_warning = Some(now);
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        };
        Failed { wait, warn }
    }
}

/// The next connection from `accept`, waiting out failures as [`Pacing`] says.
pub(super) async fn next<S, F>(mut accept: impl FnMut() -> F, pacing: &mut Pacing) -> S
where
    F: Future<Output = io::Result<S>>,
{
    loop {
        match accept().await {
            Ok(accepted) => {
                pacing.succeeded();
                return accepted;
            }
            Err(e) => {
                let failed = pacing.failed(Instant::now());
                match failed.warn {
                    Some(0) => tracing::warn!(error = %e, retry_in = ?failed.wait, "accept failed"),
                    Some(suppressed) => tracing::warn!(
                        error = %e,
                        retry_in = ?failed.wait,
                        suppressed,
                        "accept failed"
                    ),
                    None => {}
                }
                tokio::time::sleep(failed.wait).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emfile() -> io::Error {
        io::Error::other("Too many open files")
    }

    #[tokio::test(start_paused = true)]
    async fn failures_wait_longer_each_time_up_to_a_second_and_reset_on_success() {
        let mut pacing = Pacing::default();
        let waits: Vec<_> = (0..10)
            .map(|_| pacing.failed(Instant::now()).wait.as_millis())
            .collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        pacing.succeeded();
        assert_eq!(pacing.failed(Instant::now()).wait, FIRST_DELAY);
    }

    #[tokio::test(start_paused = true)]
    async fn one_warning_a_minute_counting_the_ones_left_out() {
        let mut pacing = Pacing::default();
        let start = Instant::now();
        let mut warnings = Vec::new();
        // A failure every 100 ms for five minutes, a success now and then.
        for i in 0..3000u64 {
            let at = start + Duration::from_millis(100 * i);
            if i % 7 == 0 {
                pacing.succeeded();
            }
            if let Some(suppressed) = pacing.failed(at).warn {
                warnings.push((at - start, suppressed));
            }
        }
        assert_eq!(
            warnings,
            [
                (Duration::ZERO, 0),
                (Duration::from_secs(60), 599),
                (Duration::from_secs(120), 599),
                (Duration::from_secs(180), 599),
                (Duration::from_secs(240), 599),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_backs_off_while_accepting_fails() {
        let mut pacing = Pacing::default();
        let start = Instant::now();
        let mut attempts = 0u32;
        // Out of descriptors for a minute, then a connection.
        let accepted = next(
            || {
                attempts += 1;
                let result = if Instant::now() - start < Duration::from_secs(60) {
                    Err(emfile())
                } else {
                    Ok("connection")
                };
                std::future::ready(result)
            },
            &mut pacing,
        )
        .await;
        assert_eq!(accepted, "connection");
        // 10 ms doubling to 1 s: 8 tries in the first 1.27 s, then one a second.
        assert!(
            (60..=70).contains(&attempts),
            "{attempts} accepts in a minute of failures"
        );
        assert!(Instant::now() - start < Duration::from_secs(61));
        assert_eq!(pacing.delay, FIRST_DELAY, "reset by the success");
    }
}
