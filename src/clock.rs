//! The one wall clock of the core: Unix milliseconds, the time unit stored everywhere.
//!
//! It follows Tokio's clock, so a test that pauses and advances Tokio time moves cooldowns,
//! reply windows and stored timestamps together. Outside a paused runtime it is the system
//! clock (the offset below stays within a millisecond of zero).

/// Milliseconds since the Unix epoch, as Tokio's clock sees it.
pub fn now_ms() -> i64 {
    system_ms() + paused_offset_ms()
}

fn system_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// How far Tokio's (possibly paused and advanced) clock is ahead of the real one, in ms.
fn paused_offset_ms() -> i64 {
    use std::sync::Mutex;
    static ANCHOR: Mutex<Option<(tokio::time::Instant, std::time::Instant)>> = Mutex::new(None);
    let Ok(mut anchor) = ANCHOR.lock() else {
        return 0;
    };
    let (tokio_then, std_then) =
        *anchor.get_or_insert((tokio::time::Instant::now(), std::time::Instant::now()));
    let tokio_elapsed = tokio::time::Instant::now().saturating_duration_since(tokio_then);
    let std_elapsed = std_then.elapsed();
    tokio_elapsed.as_millis() as i64 - std_elapsed.as_millis() as i64
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn follows_tokio_time_when_paused() {
        let before = super::now_ms();
        tokio::time::advance(Duration::from_secs(90)).await;
        let moved = super::now_ms() - before;
        assert!((89_990..=90_100).contains(&moved), "moved {moved} ms");
    }

    #[test]
    fn is_the_system_clock_otherwise() {
        let diff = (super::now_ms() - super::system_ms()).abs();
        assert!(diff < 1_000, "{diff} ms from the system clock");
    }
}
