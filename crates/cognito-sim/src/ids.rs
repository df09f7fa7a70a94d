//! Deterministic identifiers and timestamps: pool IDs, access keys, request IDs all come
//! from a seed and a counter, so a test that does the same things sees the same IDs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// The alphabet of Organizations IDs (`o-`, `r-`, `ou-`) after their prefix.
pub(crate) const LOWER_ALNUM: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// The alphabet of AWS access key IDs after their four-letter prefix.
pub(crate) const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// One step of SplitMix64: a well-mixed 64-bit value from a counter, with no state to
/// share between threads.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, to turn a string (an access key) into a seed.
pub(crate) fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// `len` characters of `alphabet`, determined by `(seed, n)`.
pub(crate) fn chars(seed: u64, n: u64, len: usize, alphabet: &[u8]) -> String {
    let mut state = mix(seed ^ mix(n));
    (0..len)
        .map(|i| {
            if i % 8 == 0 {
                state = mix(state);
            }
            let pick = (state >> ((i % 8) * 8)) & 0xff;
            char::from(alphabet[usize::try_from(pick).unwrap_or(0) % alphabet.len()])
        })
        .collect()
}

/// A UUID-shaped request ID, like the ones AWS returns.
pub(crate) fn request_id(seed: u64, n: u64) -> String {
    let a = mix(seed ^ mix(n.wrapping_mul(2)));
    let b = mix(a ^ n);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// The AWS partition a region belongs to, for building ARNs.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Seconds since the epoch with millisecond precision, as Cognito's JSON carries dates.
pub(crate) fn epoch_seconds(t: SystemTime) -> f64 {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let millis = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    // Exact for any date before the year 287396: f64 holds 2^53 milliseconds.
    #[allow(clippy::cast_precision_loss)]
    let secs = millis as f64 / 1000.0;
    secs
}

/// `2026-11-23T10:00:00Z`, as STS writes `Expiration`.
pub(crate) fn iso8601(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_shaped() {
        assert_eq!(chars(7, 1, 9, BASE62), chars(7, 1, 9, BASE62));
        assert_ne!(chars(7, 1, 9, BASE62), chars(7, 2, 9, BASE62));
        assert_ne!(chars(7, 1, 9, BASE62), chars(8, 1, 9, BASE62));
        let id = request_id(0, 5);
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
    }

    #[test]
    fn formats_dates() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_435_200);
        assert_eq!(iso8601(t), "2026-11-23T12:00:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00Z");
        assert_eq!(epoch_seconds(UNIX_EPOCH + Duration::from_millis(1500)), 1.5);
    }
}
