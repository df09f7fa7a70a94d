//! The range each duration and rate of `poll` must fall in, so that no value that passes
//! validation can overflow the arithmetic made with it (deadlines, back-off, defaults
//! derived from the interval) or make no sense at all.

use std::ops::RangeInclusive;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// The accepted range of a duration key, and how messages write it.
pub(super) struct Bounds {
    pub(super) range: RangeInclusive<Duration>,
    pub(super) text: &'static str,
}

/// `poll.interval`: a cycle makes at least two calls, so below a second a target is
/// polled as fast as the rate lets it (which the warning below 1m already discourages);
/// above a day, series go a day without a refresh, and the defaults of three intervals
/// would stretch past what anyone means.
pub(super) const INTERVAL: Bounds = Bounds {
    range: SECOND..=DAY,
    text: "1s to 24h",
};

/// `poll.timeout`: each attempt gets a third of it, and under a second a TLS handshake
/// to a distant region may not fit; an operation still running after an hour is stuck.
pub(super) const TIMEOUT: Bounds = Bounds {
    range: SECOND..=HOUR,
    text: "1s to 1h",
};

/// `poll.max_staleness`, `poll.cycle_timeout` and `poll.describe_interval`: up to a
/// month, which holds three times the longest interval. `checks.interval` too: a
/// destination rarely changes, and even checked monthly its calls cost little.
pub(super) const LONG: Bounds = Bounds {
    range: SECOND..=Duration::from_secs(30 * 24 * 3600),
    text: "1s to 30d",
};

/// `poll.requests_per_second`: at 0.01, one call every 100 s (1,600 s once throttling
/// has slowed it), so a cycle over a handful of pools still ends within the longest
/// interval; above 10,000 the limiter's spacing falls below what its timer can tell
/// apart, and far above any Cognito quota.
pub(super) const REQUESTS_PER_SECOND: RangeInclusive<f64> = 0.01..=10_000.0;

/// How the requests-per-second range reads in messages.
pub(super) const REQUESTS_PER_SECOND_TEXT: &str = "a number from 0.01 to 10000";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_derived_from_the_interval_stay_in_range() {
        // max_staleness and cycle_timeout default to three intervals.
        let longest = INTERVAL.range.end().saturating_mul(3);
        assert!(LONG.range.contains(&longest));
        assert!(
            LONG.range
                .contains(&INTERVAL.range.start().saturating_mul(3))
        );
    }

    #[test]
    fn the_texts_say_the_ranges() {
        let text = |d: &Duration| humantime::format_duration(*d).to_string();
        for bounds in [INTERVAL, TIMEOUT, LONG] {
            let (min, max) = (text(bounds.range.start()), text(bounds.range.end()));
            let max = match max.as_str() {
                "1day" => "24h".to_owned(),
                "30days" => "30d".to_owned(),
                _ => max,
            };
            assert_eq!(bounds.text, format!("{min} to {max}"));
        }
        assert_eq!(
            REQUESTS_PER_SECOND_TEXT,
            format!(
                "a number from {} to {}",
                REQUESTS_PER_SECOND.start(),
                REQUESTS_PER_SECOND.end()
            )
        );
    }
}
