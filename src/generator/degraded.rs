//! Degraded mode as a pure state machine (no I/O, time passed in), so its rules can be tested
//! with synthetic time.
//!
//! Enter: `failures_to_enter` consecutive failed generations, or an approved request waiting
//! longer than `max_wait` (counted from when it was approved, or from when degraded mode last
//! ended, whichever is later). Leave: `healthy_to_leave` successful generations in a row, or a
//! successful health probe.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DegradedPolicy {
    pub failures_to_enter: u32,
    pub max_wait: Duration,
    pub healthy_to_leave: u32,
}

impl Default for DegradedPolicy {
    fn default() -> Self {
        Self {
            failures_to_enter: 3,
            max_wait: Duration::from_secs(300),
            healthy_to_leave: 2,
        }
    }
}

/// A change of mode, with the reason to announce.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Entered { reason: String },
    Left { reason: String },
}

#[derive(Debug, Clone)]
pub struct DegradedMode {
    policy: DegradedPolicy,
    consecutive_failures: u32,
    healthy_in_a_row: u32,
    /// `Some((reason, since_ms))` while degraded.
    active: Option<(String, i64)>,
    last_left_ms: i64,
}

impl DegradedMode {
    pub fn new(policy: DegradedPolicy) -> Self {
        Self {
            policy,
            consecutive_failures: 0,
            healthy_in_a_row: 0,
            active: None,
            last_left_ms: i64::MIN,
        }
    }

    pub fn active(&self) -> Option<(&str, i64)> {
        self.active.as_ref().map(|(r, t)| (r.as_str(), *t))
    }

    pub fn policy(&self) -> DegradedPolicy {
        self.policy
    }

    pub fn set_policy(&mut self, policy: DegradedPolicy) {
        self.policy = policy;
    }

    /// A generation failed (`why`: its reason).
    pub fn on_failure(&mut self, why: &str, now_ms: i64) -> Option<Transition> {
        self.healthy_in_a_row = 0;
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        if self.active.is_none()
            && self.consecutive_failures >= self.policy.failures_to_enter.max(1)
        {
            return Some(self.enter(
                format!(
                    "{} generations failed in a row (last: {why})",
                    self.consecutive_failures
                ),
                now_ms,
            ));
        }
        None
    }

    /// A generation succeeded.
    pub fn on_success(&mut self, now_ms: i64) -> Option<Transition> {
        self.consecutive_failures = 0;
        self.healthy_in_a_row = self.healthy_in_a_row.saturating_add(1);
        if self.active.is_some() && self.healthy_in_a_row >= self.policy.healthy_to_leave.max(1) {
            return Some(self.leave(
                format!("{} clips generated in a row", self.healthy_in_a_row),
                now_ms,
            ));
        }
        None
    }

    /// The health probe answered healthy.
    pub fn on_probe_ok(&mut self, now_ms: i64) -> Option<Transition> {
        if self.active.is_some() {
            self.consecutive_failures = 0;
            return Some(self.leave("the endpoint's health check passed".into(), now_ms));
        }
        None
    }

    /// The longest-waiting approved request was approved at `oldest_approved_ms` (if any).
    pub fn on_wait(&mut self, oldest_approved_ms: Option<i64>, now_ms: i64) -> Option<Transition> {
        let since = oldest_approved_ms?.max(self.last_left_ms);
        let waited = now_ms.saturating_sub(since);
        if self.active.is_none() && waited > self.policy.max_wait.as_millis() as i64 {
            let waited = if waited < 120_000 {
                format!("{} s", waited / 1000)
            } else {
                format!("{} min", waited / 60_000)
            };
            return Some(self.enter(
                format!("a request has waited {waited} for its clip"),
                now_ms,
            ));
        }
        None
    }

    fn enter(&mut self, reason: String, now_ms: i64) -> Transition {
        self.healthy_in_a_row = 0;
        self.active = Some((reason.clone(), now_ms));
        Transition::Entered { reason }
    }

    fn leave(&mut self, reason: String, now_ms: i64) -> Transition {
        self.active = None;
        self.healthy_in_a_row = 0;
        self.last_left_ms = now_ms;
        Transition::Left { reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn mode() -> DegradedMode {
        DegradedMode::new(DegradedPolicy::default())
    }

    #[test]
    fn enters_after_n_consecutive_failures_and_once_only() {
        let mut m = mode();
        assert_eq!(m.on_failure("timeout", 0), None);
        assert_eq!(m.on_success(1), None); // the streak is broken
        assert_eq!(m.on_failure("timeout", 2), None);
        assert_eq!(m.on_failure("timeout", 3), None);
        let t = m.on_failure("endpoint timed out after 60 s", 4);
        assert_eq!(
            t,
            Some(Transition::Entered {
                reason: "3 generations failed in a row (last: endpoint timed out after 60 s)"
                    .into()
            })
        );
        assert_eq!(m.active().map(|a| a.1), Some(4));
        assert_eq!(m.on_failure("again", 5), None, "announced once");
    }

    #[test]
    fn leaves_after_m_healthy_generations_or_a_probe() {
        let mut m = mode();
        for t in 0..3 {
            m.on_failure("x", t);
        }
        assert_eq!(m.on_success(10), None);
        assert_eq!(m.on_failure("x", 11), None); // resets the healthy streak
        assert_eq!(m.on_success(12), None);
        assert!(matches!(m.on_success(13), Some(Transition::Left { .. })));
        assert!(m.active().is_none());
        assert_eq!(
            m.on_probe_ok(14),
            None,
            "a probe when healthy changes nothing"
        );

        for t in 20..23 {
            m.on_failure("x", t);
        }
        assert!(m.active().is_some());
        assert!(matches!(m.on_probe_ok(30), Some(Transition::Left { .. })));
    }

    #[test]
    fn long_waits_enter_and_do_not_re_enter_for_the_same_backlog() {
        let mut m = mode();
        assert_eq!(m.on_wait(None, 100 * MIN), None);
        assert_eq!(m.on_wait(Some(0), 5 * MIN), None, "exactly T is not over T");
        let t = m.on_wait(Some(0), 6 * MIN);
        assert_eq!(
            t,
            Some(Transition::Entered {
                reason: "a request has waited 6 min for its clip".into()
            })
        );
        assert!(matches!(
            m.on_probe_ok(7 * MIN),
            Some(Transition::Left { .. })
        ));
        // The same old request still waits: its clock restarts when degraded mode ended.
        assert_eq!(m.on_wait(Some(0), 8 * MIN), None);
        assert!(m.on_wait(Some(0), 12 * MIN + 1).is_some());
    }
}
