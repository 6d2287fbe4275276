//! Chat velocity: messages per one-second bucket, keyed by wall-clock second.

use std::collections::VecDeque;

use crate::api::VelocityPoint;
use crate::db::MinuteCounts;

/// Seconds of history kept in memory for the live graph.
pub const LIVE_WINDOW_SECS: usize = 600;

/// Counts messages into the current second; `close_until` finalises finished seconds.
#[derive(Debug)]
pub struct VelocityMeter {
    /// The second being counted (Unix seconds).
    current_second: i64,
    current_count: u32,
    history: VecDeque<VelocityPoint>,
    /// The minute that holds `current_second`, as stored.
    minute: MinuteCounts,
}

impl VelocityMeter {
    pub fn new(start_second: i64) -> Self {
        Self {
            current_second: start_second,
            current_count: 0,
            history: VecDeque::with_capacity(LIVE_WINDOW_SECS),
            minute: MinuteCounts::new(start_second.div_euclid(60)),
        }
    }

    #[inline]
    pub fn record(&mut self) {
        self.current_count = self.current_count.saturating_add(1);
    }

    /// Closes every second before `now_second`. Returns the closed points (oldest first) and,
    /// for each minute that was completed or touched, its counts to persist (last one may be
    /// partial).
    pub fn close_until(&mut self, now_second: i64) -> (Vec<VelocityPoint>, Vec<MinuteCounts>) {
        let mut points = Vec::new();
        let mut minutes = Vec::new();
        // A clock that jumped far ahead (sleep/resume) must not produce days of zeros.
        if now_second - self.current_second > LIVE_WINDOW_SECS as i64 {
            let count = std::mem::take(&mut self.current_count);
            self.push(self.current_second, count, &mut points, &mut minutes);
            minutes.push(self.minute.clone());
            self.current_second = now_second;
            self.minute = MinuteCounts::new(now_second.div_euclid(60));
            return (points, minutes);
        }
        while self.current_second < now_second {
            let count = std::mem::take(&mut self.current_count);
            self.push(self.current_second, count, &mut points, &mut minutes);
            self.current_second += 1;
        }
        if !points.is_empty()
            && minutes
                .last()
                .is_none_or(|m| m.minute != self.minute.minute)
        {
            minutes.push(self.minute.clone());
        }
        (points, minutes)
    }

    fn push(
        &mut self,
        second: i64,
        count: u32,
        points: &mut Vec<VelocityPoint>,
        minutes: &mut Vec<MinuteCounts>,
    ) {
        let minute = second.div_euclid(60);
        if minute != self.minute.minute {
            minutes.push(std::mem::replace(
                &mut self.minute,
                MinuteCounts::new(minute),
            ));
        }
        self.minute.counts[second.rem_euclid(60) as usize] = count;
        let point = VelocityPoint {
            second: second as f64,
            count,
        };
        if self.history.len() == LIVE_WINDOW_SECS {
            self.history.pop_front();
        }
        self.history.push_back(point);
        points.push(point);
    }

    /// The closed seconds of the live window, oldest first.
    pub fn history(&self) -> Vec<VelocityPoint> {
        self.history.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_their_second_and_minutes_roll_over() {
        let mut m = VelocityMeter::new(118); // minute 1, second 58
        m.record();
        m.record();
        let (points, minutes) = m.close_until(119);
        assert_eq!(
            points,
            vec![VelocityPoint {
                second: 118.0,
                count: 2
            }]
        );
        assert_eq!(minutes.len(), 1);
        assert_eq!((minutes[0].minute, minutes[0].counts[58]), (1, 2));

        m.record();
        let (points, minutes) = m.close_until(122); // 119 (1 msg), 120, 121 (empty)
        assert_eq!(
            points.iter().map(|p| p.count).collect::<Vec<_>>(),
            vec![1, 0, 0]
        );
        assert_eq!(
            minutes.iter().map(|m| m.minute).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(minutes[0].counts[59], 1);
        assert_eq!(m.history().len(), 4);
    }

    #[test]
    fn history_is_bounded_and_clock_jumps_are_not_filled() {
        let mut m = VelocityMeter::new(0);
        for s in 1..=700 {
            m.record();
            m.close_until(s);
        }
        assert_eq!(m.history().len(), LIVE_WINDOW_SECS);
        assert_eq!(m.history()[0].second, 100.0);
        let (points, _) = m.close_until(1_000_000);
        assert_eq!(points.len(), 1);
    }
}
