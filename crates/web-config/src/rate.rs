//! `rate_limit`: a token bucket across every client, as the exporter-toolkit's: `burst`
//! requests at once, then one per `interval`. Over it a request is refused (the server
//! answers 429).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `rate_limit` as the file sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// `interval`: one more request allowed per this much time (zero: no limit).
    pub interval: Duration,
    /// `burst`: requests allowed at once. Zero with an `interval` lets no request through
    /// (429 to every one), as in the toolkit; the file loads with a warning.
    pub burst: u32,
}

impl RateLimit {
    /// Whether it limits anything: a zero `interval` turns it off, whatever `burst`.
    pub fn limits(&self) -> bool {
        !self.interval.is_zero()
    }
}

/// The tokens left, and when they were counted.
#[derive(Debug)]
pub(crate) struct Bucket {
    limit: RateLimit,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    /// A full bucket; `None` when `limit` limits nothing.
    pub(crate) fn new(limit: RateLimit) -> Option<Self> {
        limit.limits().then(|| Self {
            limit,
            state: Mutex::new((f64::from(limit.burst), Instant::now())),
        })
    }

    /// Takes a token if one is left at `now`.
    pub(crate) fn take(&self, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, counted) = *state;
        let earned = now.saturating_duration_since(counted).as_secs_f64()
            / self.limit.interval.as_secs_f64();
        let tokens = (tokens + earned).min(f64::from(self.limit.burst));
        if tokens >= 1.0 {
            *state = (tokens - 1.0, now);
            true
        } else {
            *state = (tokens, now);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval() {
        let bucket = Bucket::new(RateLimit {
            interval: Duration::from_secs(1),
            burst: 2,
        })
        .expect("limits");
        let start = Instant::now();
        assert!(bucket.take(start));
        assert!(bucket.take(start));
        assert!(!bucket.take(start), "the burst is spent");
        assert!(!bucket.take(start + Duration::from_millis(500)));
        assert!(
            bucket.take(start + Duration::from_millis(1000)),
            "one per second"
        );
        assert!(!bucket.take(start + Duration::from_millis(1100)));
        // Idle for long: back to the burst, no more.
        let later = start + Duration::from_secs(60);
        assert!(bucket.take(later) && bucket.take(later));
        assert!(!bucket.take(later));
    }

    #[test]
    fn a_zero_interval_limits_nothing_and_a_zero_burst_everything() {
        let bucket = Bucket::new(RateLimit {
            interval: Duration::from_millis(1),
            burst: 0,
        })
        .expect("a limit");
        let start = Instant::now();
        for ms in [0, 1, 10, 1000] {
            assert!(!bucket.take(start + Duration::from_millis(ms)));
        }
        for (interval, burst) in [(Duration::ZERO, 5), (Duration::ZERO, 0)] {
            assert!(Bucket::new(RateLimit { interval, burst }).is_none());
        }
    }
}
