//! Dates as signed URLs carry them (RFC 3339, `X-Amz-Date`), by the real clock, without a
//! date crate. Proleptic Gregorian, UTC; parsers return `None` on anything malformed or
//! impossible (e.g. February 30).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, by the real clock.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn split_unix(t: i64) -> (i64, u32, u32, u32, u32, u32) {
    let (y, mo, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400) as u32;
    (y, mo, d, s / 3600, s / 60 % 60, s % 60)
}

fn join_unix(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if civil_from_days(days) != (y, mo, d) {
        return None; // e.g. February 30
    }
    Some(days * 86_400 + (h * 3600 + mi * 60 + s) as i64)
}

/// `2026-11-27T01:12:03Z`
pub fn format_rfc3339(t: i64) -> String {
    let (y, mo, d, h, mi, s) = split_unix(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses RFC 3339 (`Z` or `±HH:MM`, optional fraction, which is dropped) to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 20 || !s.is_ascii() {
        return None;
    }
    let (date, rest) = (&s[..10], &s[10..]);
    if !matches!(rest.as_bytes()[0], b'T' | b't' | b' ') {
        return None;
    }
    let rest = &rest[1..];
    let dp: Vec<&str> = date.split('-').collect();
    if dp.len() != 3 || dp[0].len() != 4 || dp[1].len() != 2 || dp[2].len() != 2 {
        return None;
    }
    let time = rest.get(..8)?;
    let tp: Vec<&str> = time.split(':').collect();
    if tp.len() != 3 || tp.iter().any(|p| p.len() != 2) {
        return None;
    }
    let mut tail = &rest[8..];
    if let Some(frac) = tail.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        tail = &frac[n..];
    }
    let offset = match tail {
        "Z" | "z" => 0,
        _ if tail.len() == 6 && (tail.starts_with('+') || tail.starts_with('-')) => {
            let (oh, om) = (digits(&tail[1..3])?, digits(&tail[4..6])?);
            if &tail[3..4] != ":" || oh > 23 || om > 59 {
                return None;
            }
            let secs = (oh * 3600 + om * 60) as i64;
            if tail.starts_with('-') {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let t = join_unix(
        digits(dp[0])? as i64,
        digits(dp[1])?,
        digits(dp[2])?,
        digits(tp[0])?,
        digits(tp[1])?,
        digits(tp[2])?,
    )?;
    Some(t - offset)
}

/// `20261127T010203Z` (the `X-Amz-Date` format).
pub fn format_amz_date(t: i64) -> String {
    let (y, mo, d, h, mi, s) = split_unix(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Parses `YYYYMMDDTHHMMSSZ` to Unix seconds.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !s.is_ascii() {
        return None;
    }
    join_unix(
        digits(&s[0..4])? as i64,
        digits(&s[4..6])?,
        digits(&s[6..8])?,
        digits(&s[9..11])?,
        digits(&s[11..13])?,
        digits(&s[13..15])?,
    )
}
