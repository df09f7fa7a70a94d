//! How the status page writes what it shows: text escaped for HTML, times in UTC,
//! durations.

use std::fmt::{self, Display, Formatter};

/// Text made safe for HTML content and attribute values.
pub(super) struct Escaped<'a>(pub(super) &'a str);

impl Display for Escaped<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// A Unix time as `2026-11-30 10:19:20 UTC`.
pub(super) struct Utc(pub(super) f64);

impl Display for Utc {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.0.is_finite() || self.0 <= 0.0 {
            return f.write_str("—");
        }
        // Whole seconds are enough for a person; the float is far from u64's range.
        let secs = self.0 as u64;
        let (days, rest) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
            rest / 3600,
            rest / 60 % 60,
            rest % 60
        )
    }
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// How long a cycle took.
pub(super) struct Took(pub(super) f64);

impl Display for Took {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0 < 1.0 {
            write!(f, "{:.0} ms", self.0 * 1000.0)
        } else {
            write!(f, "{:.1} s", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(Utc(0.0).to_string(), "—");
        assert_eq!(Utc(951_782_400.0).to_string(), "2000-02-29 00:00:00 UTC");
        assert_eq!(Utc(1_796_040_000.5).to_string(), "2026-11-30 12:00:00 UTC");
    }

    #[test]
    fn escapes_every_character_html_gives_meaning() {
        assert_eq!(
            Escaped(r#"a<b>&"c"'d"#).to_string(),
            "a&lt;b&gt;&amp;&quot;c&quot;&#39;d"
        );
        assert_eq!(Escaped("plain").to_string(), "plain");
    }

    #[test]
    fn durations_in_milliseconds_below_a_second() {
        assert_eq!(Took(0.25).to_string(), "250 ms");
        assert_eq!(Took(2.56).to_string(), "2.6 s");
    }
}
