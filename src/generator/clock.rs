//! The few date formats the generator reads: RFC 3339 (`expires_at`), the compact ISO form of
//! `X-Amz-Date`, and HTTP dates (`Retry-After`). All return Unix seconds, UTC.
//!
//! Parsing is done by the `time` crate (RFC 3339, compact ISO) and `httpdate` (HTTP dates).
//! Invariants: impossible calendar dates (31 February, hour 25) are refused, never rolled over;
//! nothing here panics on any input.

use time::format_description::well_known::Rfc3339;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `2026-11-27T01:12:03Z`, `2026-11-27T01:12:03.5+01:00`, `2026-11-27 01:12:03Z`.
/// The date and time are separated by `T`, `t` or a space (the forms RFC 3339 names).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    if !matches!(s.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// `20261127T011203Z` (AWS SigV4 `X-Amz-Date`, also `X-Goog-Date`).
pub fn parse_compact(s: &str) -> Option<i64> {
    const COMPACT: &[FormatItem<'_>] =
        format_description!("[year][month][day]T[hour][minute][second]Z");
    let s = s.trim();
    // Exactly 16 ASCII characters: no sign before the year, no wider fields.
    if s.len() != 16 || !s.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    PrimitiveDateTime::parse(s, COMPACT)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// An HTTP date: `Sun, 06 Nov 1994 08:49:37 GMT` (what servers send), or the two obsolete
/// forms RFC 9110 still asks recipients to accept (`Sunday, 06-Nov-94 08:49:37 GMT`,
/// `Sun Nov  6 08:49:37 1994`).
pub fn parse_http_date(s: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(s.trim()).ok()?;
    let secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}

/// Now, in Unix seconds.
pub fn now_unix() -> i64 {
    crate::clock::now_ms().div_euclid(1000)
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
    fn accepts_the_other_forms_of_each_standard() {
        // RFC 3339: a space or a lower-case `t`/`z`, surrounding blanks.
        assert_eq!(parse_rfc3339("2026-11-27 01:12:03Z"), Some(1_795_741_923));
        assert_eq!(parse_rfc3339(" 2026-11-27t01:12:03z "), Some(1_795_741_923));
        // HTTP: the obsolete RFC 850 and asctime forms, which the hand-written parser refused;
        // RFC 9110 §5.6.7 says a recipient MUST accept them.
        assert_eq!(
            parse_http_date("Friday, 27-Nov-26 01:12:03 GMT"),
            Some(1_795_741_923)
        );
        assert_eq!(
            parse_http_date("Fri Nov 27 01:12:03 2026"),
            Some(1_795_741_923)
        );
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

    #[test]
    fn refuses_what_the_hand_written_parser_let_through() {
        // Impossible dates were rolled over (31 February became 3 March); now refused.
        assert_eq!(parse_rfc3339("2026-02-31T00:00:00Z"), None);
        assert_eq!(parse_compact("20260231T000000Z"), None);
        assert_eq!(parse_http_date("Tue, 31 Feb 2026 00:00:00 GMT"), None);
        // Only `T`, `t` or a space between date and time, as before.
        assert_eq!(parse_rfc3339("2026-11-27X01:12:03Z"), None);
        // A sign before the compact year.
        assert_eq!(parse_compact("+2026127T011203Z"), None);
        // HTTP dates are exact (RFC 9110): the weekday must be right, the month capitalised,
        // the day two digits, single spaces.
        assert_eq!(parse_http_date("Mon, 27 Nov 2026 01:12:03 GMT"), None);
        assert_eq!(parse_http_date("Fri, 27 nov 2026 01:12:03 GMT"), None);
        assert_eq!(parse_http_date("Fri,  27 Nov 2026 01:12:03 GMT"), None);
        // Before 1970 (a Retry-After in the past is "now" anyway).
        assert_eq!(parse_http_date("Sun, 06 Nov 1960 08:49:37 GMT"), None);
    }
}
