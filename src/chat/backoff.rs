//! Exponential backoff with jitter for reconnects.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// Delay before attempt `attempt` (1 = first retry): `base * 2^(attempt-1)`, capped, then
    /// scaled by a random factor in [0.5, 1.0] so many clients do not retry in lock step.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, fastrand::f64())
    }

    /// `delay` with the random factor given (`unit` in [0, 1)); for tests.
    pub fn delay_with(&self, attempt: u32, unit: f64) -> Duration {
        if attempt == 0 {
            return Duration::ZERO;
        }
        let exp = 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
        let raw = (self.base.as_secs_f64() * exp).min(self.cap.as_secs_f64());
        Duration::from_secs_f64(raw * (0.5 + 0.5 * unit.clamp(0.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_with_bounded_jitter() {
        let b = Backoff::default();
        assert_eq!(b.delay_with(0, 0.3), Duration::ZERO);
        assert_eq!(b.delay_with(1, 1.0), Duration::from_millis(500));
        assert_eq!(b.delay_with(1, 0.0), Duration::from_millis(250));
        assert_eq!(b.delay_with(4, 1.0), Duration::from_secs(4));
        assert_eq!(b.delay_with(20, 1.0), Duration::from_secs(60));
        assert_eq!(b.delay_with(u32::MAX, 0.0), Duration::from_secs(30));
        for attempt in 1..40 {
            let d = b.delay(attempt);
            assert!(d <= Duration::from_secs(60) && d >= Duration::from_millis(250));
        }
    }
}
