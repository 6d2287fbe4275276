//! A watch-along session's life (seed 004, E2-T1/E2-T2) as a pure state machine:
//!
//! ```text
//! PENDING → STARTING → STREAMING → STOPPING → ENDED
//!    ↓          ↓           ↓           ↓
//!  FAILED     FAILED      FAILED      FAILED
//! ```
//!
//! Invariants: a session only ever moves forward (an update that would move it back, such as
//! a late `starting` webhook after `streaming`, is refused and changes nothing); `ENDED` and
//! `FAILED` are final; a repeated update is a no-op. Steps may be skipped forwards (a
//! controller may report `streaming` without `starting`). At most one session is active: that
//! is kept by the database (`db::watch`, compare-and-set on a unique column), not here.

use serde::{Deserialize, Serialize};

use super::codes::WatchErrorCode;

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum WatchStatus {
    Pending,
    Starting,
    Streaming,
    Stopping,
    Ended,
    Failed,
}

impl WatchStatus {
    pub const ALL: [WatchStatus; 6] = [
        WatchStatus::Pending,
        WatchStatus::Starting,
        WatchStatus::Streaming,
        WatchStatus::Stopping,
        WatchStatus::Ended,
        WatchStatus::Failed,
    ];

    /// Still holds the one active place (anything before `ENDED`/`FAILED`).
    pub const fn is_active(self) -> bool {
        !matches!(self, WatchStatus::Ended | WatchStatus::Failed)
    }

    /// Order along the life; both final states are last.
    const fn rank(self) -> u8 {
        match self {
            WatchStatus::Pending => 0,
            WatchStatus::Starting => 1,
            WatchStatus::Streaming => 2,
            WatchStatus::Stopping => 3,
            WatchStatus::Ended | WatchStatus::Failed => 4,
        }
    }

    /// The name stored in SQLite (and sent on the wire).
    pub const fn name(self) -> &'static str {
        match self {
            WatchStatus::Pending => "pending",
            WatchStatus::Starting => "starting",
            WatchStatus::Streaming => "streaming",
            WatchStatus::Stopping => "stopping",
            WatchStatus::Ended => "ended",
            WatchStatus::Failed => "failed",
        }
    }

    pub fn from_name(s: &str) -> Option<WatchStatus> {
        Self::ALL.into_iter().find(|w| w.name() == s)
    }
}

/// What happened to a session (from an executor, a webhook, Stop or a crash found at start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// The executor took the job and is putting the video up.
    Starting,
    /// The video plays.
    Streaming,
    /// Stop was asked for (the executor is taking it down).
    StopRequested,
    /// It is over (the video ended, or the stop finished).
    Ended,
    Failed {
        code: WatchErrorCode,
        message: String,
    },
}

impl WatchEvent {
    /// Where the event takes a session.
    pub fn target(&self) -> WatchStatus {
        match self {
            WatchEvent::Starting => WatchStatus::Starting,
            WatchEvent::Streaming => WatchStatus::Streaming,
            WatchEvent::StopRequested => WatchStatus::Stopping,
            WatchEvent::Ended => WatchStatus::Ended,
            WatchEvent::Failed { .. } => WatchStatus::Failed,
        }
    }
}

/// What an event does to a session in `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Moves it to this status.
    To(WatchStatus),
    /// Already there: nothing to write or announce.
    Same,
    /// Refused: the session is final, or the event would move it backwards.
    Refused(StepRefusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StepRefusal {
    #[error("the session is already {} and cannot change", .0.name())]
    Final(WatchStatus),
    #[error("the session is {} already; {} would move it back", .from.name(), .to.name())]
    Backwards { from: WatchStatus, to: WatchStatus },
}

/// The one transition rule.
pub fn step(from: WatchStatus, event: &WatchEvent) -> Step {
    let to = event.target();
    if !from.is_active() {
        return if from == to {
            Step::Same
        } else {
            Step::Refused(StepRefusal::Final(from))
        };
    }
    if from == to {
        return Step::Same;
    }
    if to.rank() < from.rank() {
        return Step::Refused(StepRefusal::Backwards { from, to });
    }
    Step::To(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use WatchStatus::*;

    fn failed() -> WatchEvent {
        WatchEvent::Failed {
            code: WatchErrorCode::Timeout,
            message: "x".into(),
        }
    }

    #[test]
    fn the_seeds_diagram() {
        let table = [
            (Pending, WatchEvent::Starting, Step::To(Starting)),
            (Starting, WatchEvent::Streaming, Step::To(Streaming)),
            (Streaming, WatchEvent::StopRequested, Step::To(Stopping)),
            (Stopping, WatchEvent::Ended, Step::To(Ended)),
            (Pending, failed(), Step::To(Failed)),
            (Starting, failed(), Step::To(Failed)),
            (Streaming, failed(), Step::To(Failed)),
            (Stopping, failed(), Step::To(Failed)),
            // Skipping forwards: a controller that reports streaming straight away; a video
            // that ends by itself; Stop before the video started.
            (Pending, WatchEvent::Streaming, Step::To(Streaming)),
            (Streaming, WatchEvent::Ended, Step::To(Ended)),
            (Pending, WatchEvent::StopRequested, Step::To(Stopping)),
            // Repeats are no-ops.
            (Streaming, WatchEvent::Streaming, Step::Same),
            (Ended, WatchEvent::Ended, Step::Same),
            // Late, out-of-order updates never move it back.
            (
                Streaming,
                WatchEvent::Starting,
                Step::Refused(StepRefusal::Backwards {
                    from: Streaming,
                    to: Starting,
                }),
            ),
            (
                Stopping,
                WatchEvent::Streaming,
                Step::Refused(StepRefusal::Backwards {
                    from: Stopping,
                    to: Streaming,
                }),
            ),
            // Final is final.
            (Ended, failed(), Step::Refused(StepRefusal::Final(Ended))),
            (
                Failed,
                WatchEvent::Streaming,
                Step::Refused(StepRefusal::Final(Failed)),
            ),
            (
                Failed,
                WatchEvent::Ended,
                Step::Refused(StepRefusal::Final(Failed)),
            ),
        ];
        for (from, event, expected) in table {
            assert_eq!(step(from, &event), expected, "{from:?} + {event:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in WatchStatus::ALL {
            assert_eq!(WatchStatus::from_name(s.name()), Some(s));
        }
        assert_eq!(WatchStatus::from_name("paused"), None);
    }

    fn any_event() -> impl Strategy<Value = WatchEvent> {
        prop_oneof![
            Just(WatchEvent::Starting),
            Just(WatchEvent::Streaming),
            Just(WatchEvent::StopRequested),
            Just(WatchEvent::Ended),
            Just(failed()),
        ]
    }

    proptest! {
        /// Any sequence of events: the status never moves back and never leaves a final state.
        #[test]
        fn a_session_only_moves_forward(events in proptest::collection::vec(any_event(), 0..30)) {
            let mut now = Pending;
            for e in &events {
                let before = now;
                match step(now, e) {
                    Step::To(to) => {
                        prop_assert!(before.is_active());
                        prop_assert!(to.rank() > before.rank());
                        now = to;
                    }
                    Step::Same => prop_assert_eq!(e.target(), before),
                    Step::Refused(_) => {}
                }
                if !before.is_active() {
                    prop_assert_eq!(now, before);
                }
            }
        }
    }
}
