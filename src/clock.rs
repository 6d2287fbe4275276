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
}
