//! The few date formats the generator reads (no calendar crate needed): RFC 3339
//! (`expires_at`), the compact ISO form of `X-Amz-Date`, and HTTP dates (`Retry-After`).
//! All return Unix seconds, UTC.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn unix(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + s) as i64)
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `2026-11-27T01:12:03Z`, `2026-11-27T01:12:03.5+01:00`, `2026-11-27 01:12:03Z`.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 20 || !s.is_char_boundary(19) {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let mut d = date.split('-');
    let (y, mo, da) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    let sep = rest.as_bytes()[0];
    if !matches!(sep, b'T' | b't' | b' ') {
        return None;
    }
    let (time, mut zone) = rest[1..].split_at(8);
    let mut t = time.split(':');
    let (h, mi, se) = (num(t.next()?)?, num(t.next()?)?, num(t.next()?)?);
    if let Some(frac) = zone.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        zone = &frac[digits..];
    }
    let offset = match zone {
        "Z" | "z" => 0,
        z if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) => {
            let oh = num(&z[1..3])? as i64;
            let om = num(&z[4..6])? as i64;
            let sign = if z.starts_with('-') { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    Some(unix(y as i64, mo, da, h, mi, se)? - offset)
}

/// `20261127T011203Z` (AWS SigV4 `X-Amz-Date`, also `X-Goog-Date`).
pub fn parse_compact(s: &str) -> Option<i64> {
    let b = s.trim();
    if b.len() != 16 || !b.is_ascii() || &b[8..9] != "T" || &b[15..] != "Z" {
        return None;
    }
    unix(
        num(&b[0..4])? as i64,
        num(&b[4..6])?,
        num(&b[6..8])?,
        num(&b[9..11])?,
        num(&b[11..13])?,
        num(&b[13..15])?,
    )
}

/// An HTTP date, `Sun, 06 Nov 1994 08:49:37 GMT` (the only form servers must send).
pub fn parse_http_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mo = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u32 + 1;
    let mut t = time.split(':');
    unix(
        num(year)? as i64,
        mo,
        num(day)?,
        num(t.next()?)?,
        num(t.next()?)?,
        num(t.next()?)?,
    )
}

/// Now, in Unix seconds.
pub fn now_unix() -> i64 {
    crate::queue::clock_ms().div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_formats() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-11-27T01:12:03Z"), Some(1_795_741_923));
        assert_eq!(
            parse_rfc3339("2026-11-27T02:12:03.250+01:00"),
            Some(1_795_741_923)
        );
        assert_eq!(
            parse_rfc3339("2026-11-26T20:12:03-05:00"),
            Some(1_795_741_923)
        );
        assert_eq!(parse_compact("20261127T011203Z"), Some(1_795_741_923));
        assert_eq!(
            parse_http_date("Fri, 27 Nov 2026 01:12:03 GMT"),
            Some(1_795_741_923)
        );
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400));
    }

    #[test]
    fn refuses_garbage_without_panicking() {
        for s in [
            "",
            "2026",
            "2026-13-01T00:00:00Z",
            "2026-11-27T25:00:00Z",
            "2026-11-27T01:12:03",
            "2026-11-27T01:12:03+0100",
            "20261127011203Z",
            "2026112TT011203Z",
            "é026-11-27T01:12:03Z",
            "2026-11-27Té1:12:03Z",
            "Fri, 27 Foo 2026 01:12:03 GMT",
            "Fri, 27 Nov 2026 01:12 GMT",
            "-1",
            "2026-11-27T01:12:03Zjunk",
        ] {
            assert!(parse_rfc3339(s).is_none(), "{s}");
            assert!(parse_compact(s).is_none(), "{s}");
            assert!(parse_http_date(s).is_none(), "{s}");
        }
    }
}
