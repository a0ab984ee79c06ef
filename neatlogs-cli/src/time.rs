//! Timestamps (nanoseconds since the Unix epoch, UTC) to and from text,
//! without a calendar dependency.

/// `2026-05-01T12:00:03.123Z`
pub fn rfc3339(unix_nanos: i64) -> String {
    let (secs, nanos) = split(unix_nanos);
    let (date, time) = civil(secs);
    format!("{date}T{time}.{:03}Z", nanos / 1_000_000)
}

/// `2026-05-01 12:00:03`, for tables (UTC).
pub fn short(unix_nanos: i64) -> String {
    let (secs, _) = split(unix_nanos);
    let (date, time) = civil(secs);
    format!("{date} {time}")
}

/// A duration for people: `850µs`, `12.3ms`, `420ms`, `1.25s`, `2m05s`.
pub fn duration(nanos: i64) -> String {
    let nanos = nanos.max(0);
    let ms = nanos as f64 / 1e6;
    if nanos < 1_000_000 {
        format!("{}µs", nanos / 1_000)
    } else if ms < 100.0 {
        format!("{ms:.1}ms")
    } else if ms < 1_000.0 {
        format!("{ms:.0}ms")
    } else if ms < 60_000.0 {
        format!("{:.2}s", ms / 1_000.0)
    } else {
        let secs = nanos / 1_000_000_000;
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

/// Now, in nanoseconds since the epoch.
pub fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Parses an RFC 3339 timestamp (`2026-05-01T12:00:03Z`,
/// `2026-05-01T12:00:03.123+02:00`; a space may replace the `T`).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = std::str::from_utf8(b.get(range)?).ok()?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let year = num(0..4)?;
    let month = num(5..7)?;
    let day = num(8..10)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = num(11..13)?;
    let minute = num(14..16)?;
    let second = num(17..19)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut digits = 0;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            if digits < 9 {
                nanos = nanos * 10 + i64::from(c - b'0');
                digits += 1;
            }
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        nanos *= 10_i64.pow(9 - digits);
    }
    let offset_secs = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            let secs = h * 3600 + m * 60;
            if *sign == b'+' {
                secs
            } else {
                -secs
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

fn split(unix_nanos: i64) -> (i64, i64) {
    (
        unix_nanos.div_euclid(1_000_000_000),
        unix_nanos.rem_euclid(1_000_000_000),
    )
}

fn civil(secs: i64) -> (String, String) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    )
}

// Howard Hinnant's algorithms (public domain), proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let ns = 1_777_636_803_123_000_000;
        assert_eq!(rfc3339(ns), "2026-05-01T12:00:03.123Z");
        assert_eq!(short(ns), "2026-05-01 12:00:03");
        assert_eq!(parse_rfc3339("2026-05-01T12:00:03.123Z"), Some(ns));
        assert_eq!(parse_rfc3339("2026-05-01T14:00:03.123+02:00"), Some(ns));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-05-01"), None);
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(duration(850_000), "850µs");
        assert_eq!(duration(12_345_678), "12.3ms");
        assert_eq!(duration(420_000_000), "420ms");
        assert_eq!(duration(1_250_000_000), "1.25s");
        assert_eq!(duration(125_000_000_000), "2m05s");
    }
}
