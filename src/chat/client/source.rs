//! The live chat source (Twitch, demo or Kick) and what the actor does with its events:
//! counting messages, handing command lines and moderation to the queue, following joins,
//! reconnects and failures.
//!
//! Invariants: the queue only ever gets `try_send` (a full queue drops and logs, chat never
//! waits on it); at most [`MAX_SAMPLES_PER_SECOND`] message samples are kept per second; a
//! burst of waiting messages is drained in batches of [`DRAIN_BATCH`] so commands and the clock
//! still get their turn.

use super::{ChatActor, Live};
use crate::api::{ChatState, SupportCounts};
use crate::chat::demo::DemoSession;
use crate::chat::kick::KickSession;
use crate::chat::twitch::TwitchSession;
use crate::chat::SourceEvent;
use crate::moments::{Sample, MAX_SAMPLES_PER_SECOND};
use crate::queue::Inbound;

/// Messages handled per wake-up before the actor looks at commands and the clock again.
const DRAIN_BATCH: usize = 512;
pub(super) enum Source {
    Twitch(TwitchSession),
    Demo(DemoSession),
    Kick(KickSession),
}

impl Source {
    async fn next(&mut self) -> SourceEvent {
        match self {
            Source::Twitch(s) => s.next().await,
            Source::Demo(s) => s.next().await,
            Source::Kick(s) => s.next().await,
        }
    }

    /// An event that is already waiting (network sources only; the demo is paced by time).
    fn ready_event(&mut self) -> Option<SourceEvent> {
        match self {
            Source::Twitch(s) => futures_now(s.next()),
            Source::Kick(s) => futures_now(s.next()),
            Source::Demo(_) => None,
        }
    }

    pub(super) fn malformed_lines(&self) -> u64 {
        match self {
            Source::Twitch(s) => s.malformed_lines(),
            Source::Demo(_) => 0,
            Source::Kick(s) => s.malformed_frames(),
        }
    }
}
pub(super) async fn next_source_event(live: &mut Option<Live>) -> SourceEvent {
    match live {
        Some(l) => l.source.next().await,
        None => std::future::pending().await,
    }
}
impl ChatActor {
    /// Handles messages that are already waiting, without going back through `select!`.
    pub(super) async fn drain_ready(&mut self) {
        for _ in 0..DRAIN_BATCH {
            let Some(live) = self.live.as_mut() else {
                return;
            };
            let Some(ev) = live.source.ready_event() else {
                return;
            };
            self.on_source(ev).await;
        }
    }
    pub(super) async fn on_source(&mut self, ev: SourceEvent) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        match ev {
            SourceEvent::Message(msg) => {
                live.meter.record();
                live.counters.messages = live.counters.messages.saturating_add(1);
                if msg.bits > 0 {
                    let cheer = SupportCounts {
                        bits: msg.bits,
                        ..SupportCounts::default()
                    };
                    live.support.add(cheer);
                    live.counters.support.add(cheer);
                }
                if self.options.detector.is_some() && live.samples.len() < MAX_SAMPLES_PER_SECOND {
                    live.samples.push(Sample {
                        text: msg.text.clone(),
                        emotes: msg.emotes.clone(),
                    });
                }
                if let Some(cohost) = &self.options.cohost {
                    cohost.hear(self.options.slot, live.channel.as_str(), &msg);
                }
                if let Some(inbound) = &self.options.inbound {
                    if msg.text.contains(self.options.command_prefix.as_str()) {
                        let ev = Inbound::Message {
                            session_id: live.session_id,
                            channel: live.channel.clone(),
                            message: msg,
                        };
                        static DROPPED: crate::logging::Throttle = crate::logging::Throttle::new();
                        if inbound.try_send(ev).is_err() {
                            if let Some(also) = DROPPED.allow() {
                                tracing::warn!(
                                    also_dropped = also,
                                    "command dropped: the queue is not keeping up"
                                );
                            }
                        }
                    }
                }
            }
            SourceEvent::Support(support) => {
                live.support.add(support);
                live.counters.support.add(support);
            }
            SourceEvent::UserBanned { login } => self.forward(Inbound::UserBanned { login }),
            SourceEvent::MessageDeleted { message_id } => {
                self.forward(Inbound::MessageDeleted { message_id })
            }
            SourceEvent::OwnStatus { elevated } => {
                live.elevated = elevated;
                self.update_say_status();
            }
            SourceEvent::Joined => {
                if live.joined_once {
                    live.counters.reconnects += 1;
                }
                live.joined_once = true;
                let state = ChatState::Connected {
                    platform: live.platform,
                    channel: live.channel.clone(),
                    session_id: live.session_id as i32,
                };
                tracing::info!(session_id = live.session_id, channel = %live.channel, "chat joined");
                self.set_state(state);
            }
            SourceEvent::Reconnecting {
                attempt,
                retry_at_ms,
                reason,
            } => {
                let state = ChatState::Reconnecting {
                    platform: live.platform,
                    channel: live.channel.clone(),
                    attempt,
                    retry_at_ms: retry_at_ms as f64,
                    reason,
                };
                if !matches!(self.state, ChatState::Reconnecting { .. }) || state != self.state {
                    tracing::warn!(?state, "chat connection lost");
                    self.set_state(state);
                }
            }
            SourceEvent::Failed { failure, message } => {
                let (platform, channel) = (live.platform, live.channel.clone());
                tracing::error!(?failure, %message, "chat failed");
                self.end_live(&format!("failed: {failure:?}")).await;
                self.set_state(ChatState::Failed {
                    platform,
                    channel,
                    failure,
                    message,
                });
            }
        }
    }
}

/// Polls a future once; `Some` if it was ready.
fn futures_now<F: std::future::Future>(fut: F) -> Option<F::Output> {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}
