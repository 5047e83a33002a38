//! RFC 3339 timestamps as Go's `time.Time.MarshalText` writes them (containerd's `startedat`
//! and `updatedat` files), without a date-time dependency.
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Seconds and nanoseconds relative to the epoch (seconds may be negative).
fn split(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => (-secs, 0),
                n => (-secs - 1, 1_000_000_000 - n),
            }
        }
    }
}

/// Formats `t` in UTC as RFC 3339 with trailing zeros of the fraction removed, exactly as Go's
/// `time.RFC3339Nano` layout does (`2024-05-01T12:00:00.5Z`).
pub(crate) fn format(t: SystemTime) -> String {
    let (secs, nanos) = split(t);
    let days = secs.div_euclid(SECS_PER_DAY);
    let rem = secs.rem_euclid(SECS_PER_DAY);
    let (y, mo, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
}

/// Parses an RFC 3339 timestamp with optional fraction (up to nanoseconds) and a `Z` or
/// `±hh:mm` offset, as Go's `time.Time.UnmarshalText` accepts. Surrounding ASCII white space
/// is ignored. `None` when malformed.
pub(crate) fn parse(s: &str) -> Option<SystemTime> {
    let b = s.trim_ascii().as_bytes();
    let [y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T' | b't', h0, h1, b':', mi0, mi1, b':', s0, s1, rest @ ..] =
        b
    else {
        return None;
    };
    if rest.is_empty() {
        return None;
    }
    let (y, mo, d) = (
        digits(&[*y0, *y1, *y2, *y3])?,
        digits(&[*mo0, *mo1])?,
        digits(&[*d0, *d1])?,
    );
    let (h, mi, sec) = (
        digits(&[*h0, *h1])?,
        digits(&[*mi0, *mi1])?,
        digits(&[*s0, *s1])?,
    );
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59
    {
        return None;
    }
    let mut rest = rest;
    let mut nanos = 0i64;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        let (fraction, after) = (frac.get(..n)?, frac.get(n..)?);
        nanos = digits(fraction)? * 10i64.pow(9 - n as u32);
        rest = after;
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), hh0, hh1, b':', mm0, mm1] => {
            let (oh, om) = (digits(&[*hh0, *hh1])?, digits(&[*mm0, *mm1])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * SECS_PER_DAY + h * 3600 + mi * 60 + sec - offset;
    let nanos = u32::try_from(nanos).ok()?;
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(secs.unsigned_abs(), nanos))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(secs.unsigned_abs()))?
            .checked_add(Duration::from_nanos(u64::from(nanos)))
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests index what they just asserted
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(format(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 500_000_000);
        assert_eq!(format(t), "2023-11-14T22:13:20.5Z");
        assert_eq!(parse("2023-11-14T22:13:20.5Z"), Some(t));
        // Go writes the local offset when the daemon runs outside UTC.
        assert_eq!(parse("2023-11-14T23:13:20.500000000+01:00"), Some(t));
        assert_eq!(parse("2023-11-14T17:13:20.5-05:00\n"), Some(t));
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(format(before), "1969-12-31T23:59:58.5Z");
        assert_eq!(parse("1969-12-31T23:59:58.5Z"), Some(before));
        assert_eq!(
            format(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "2023-11-14",
            "2023-11-14T22:13:20",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20.1234567890Z",
            "2023-13-14T22:13:20Z",
            "2023-02-29T22:13:20Z",
            "2023-11-14T24:13:20Z",
            "2023-11-14T22:13:20+0100",
            "2023-11-14 22:13:20Z",
            "2023-11-14T22:13:20Zjunk",
        ] {
            assert_eq!(parse(s), None, "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(secs in -5_000_000_000i64..250_000_000_000i64, nanos in 0u32..1_000_000_000) {
            let t = if secs >= 0 {
                UNIX_EPOCH + Duration::new(secs as u64, nanos)
            } else {
                UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(u64::from(nanos))
            };
            let s = format(t);
            prop_assert_eq!(parse(&s), Some(t), "{}", s);
        }
    }
}
