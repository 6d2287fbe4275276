//! The per-second clock: closes finished seconds of the velocity meter, saves finished minutes,
//! announces each second, and hands it to the moment detector.
//!
//! Invariants: each finished second is saved to `velocity_minutes` before its `Velocity` event
//! is sent; the detector only ever gets `try_send` (a full detector drops and logs, chat never
//! waits on it); between sessions nothing ticks and nothing is announced (idle means idle: the
//! window keeps the last session's graph as it was).

use std::time::Duration;

use tokio::time::Instant;

use super::ChatActor;
use crate::api::{ChatCounters, ChatSlot, CoreEvent, SupportCounts, VelocityPoint};
use crate::clock::now_ms;
use crate::moments::{DetectorInput, SecondOfChat};

impl ChatActor {
    pub(super) async fn on_tick(&mut self) {
        let now_sec = now_ms().div_euclid(1000);
        let slot = self.options.slot;
        let Some(live) = self.live.as_mut() else {
            return;
        };
        live.counters.malformed_lines = live.source.malformed_lines() as u32;
        let (points, minutes) = live.meter.close_until(now_sec);
        let saved = self
            .db
            .velocity()
            .save_minutes(live.session_id, &minutes, live.counters);
        if let Err(e) = saved.await {
            tracing::error!(error = %e, session_id = live.session_id, "could not save velocity");
        }
        let last = points.len().saturating_sub(1);
        let mut seconds = Vec::with_capacity(points.len());
        for (i, point) in points.into_iter().enumerate() {
            self.events
                .publish(velocity_event(slot, point, live.counters));
            if self.options.detector.is_some() {
                let this_second = i == last;
                seconds.push(DetectorInput::Second(Box::new(SecondOfChat {
                    session_id: live.session_id,
                    second_ms: point.second as i64 * 1000,
                    messages: point.count,
                    samples: if this_second {
                        std::mem::take(&mut live.samples)
                    } else {
                        Vec::new()
                    },
                    support: if this_second {
                        std::mem::take(&mut live.support)
                    } else {
                        SupportCounts::default()
                    },
                    viewers: if this_second {
                        live.viewers.take()
                    } else {
                        None
                    },
                })));
            }
        }
        for input in seconds {
            self.to_detector(input);
        }
    }

    pub(super) fn to_detector(&self, input: DetectorInput) {
        let Some(tx) = &self.options.detector else {
            return;
        };
        static DROPPED: crate::logging::Throttle = crate::logging::Throttle::new();
        if tx.try_send(input).is_err() {
            if let Some(also) = DROPPED.allow() {
                tracing::warn!(
                    also_dropped = also,
                    "a second of chat was not analysed: the detector is not keeping up"
                );
            }
        }
    }
}

fn velocity_event(slot: ChatSlot, point: VelocityPoint, counters: ChatCounters) -> CoreEvent {
    CoreEvent::Velocity {
        slot,
        point,
        counters,
    }
}

pub(super) fn next_wall_second() -> Instant {
    let ms = now_ms().rem_euclid(1000) as u64;
    Instant::now() + Duration::from_millis(1000 - ms)
}
