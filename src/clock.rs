//! The one wall clock of the core: Unix milliseconds, the time unit stored everywhere
//! (stored times, cooldowns, reply windows, retry times).
//!
//! It is the system clock, read directly. (An earlier version followed Tokio's paused test
//! clock through a process-wide mutex; that cost about 4 % of a core at 5,000 msg/s in
//! `scripts/bench.sh` and no test needed it.)

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// "20261206-164501" (UTC): a timestamp for file names.
pub fn file_stamp() -> String {
    let now = time::OffsetDateTime::from_unix_timestamp(now_ms() / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    now.format(&format).unwrap_or_else(|_| now_ms().to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_unix_milliseconds() {
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let now = super::now_ms();
        assert!((now - before).abs() < 1_000, "{now} vs {before}");
        assert!(now > 1_700_000_000_000, "after 2023: {now}");
    }

    #[test]
    fn file_stamps_sort_by_time() {
        let s = super::file_stamp();
        assert_eq!(s.len(), 15, "{s}");
        assert!(s.chars().all(|c| c.is_ascii_digit() || c == '-'), "{s}");
    }
}
