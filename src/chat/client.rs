//! `ChatClient`: the actor that owns the chat connection and the live velocity meter: its
//! handle, its commands, its state and its loop.
//!
//! One task; reached through a cloneable [`ChatClient`] handle (mpsc in, oneshot out).
//! Invariants:
//! - at most one chat session is live; its `chat_sessions` row exists before any event about it;
//! - each finished second is saved to `velocity_minutes` before its `Velocity` event is sent;
//! - on cancellation the session is ended and its last second saved before the task returns.
//!
//! The rest of the actor lives in its child modules: `session` (what a connect means, the Kick
//! lookup, starting and ending a session), `source` (the live chat source and its events),
//! `tick` (the per-second clock: velocity and the detector hand-off).

mod session;
mod source;
mod tick;
mod viewers;

use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::actor::Mailbox;

use super::kick::KickOptions;
use super::twitch::TwitchCredentials;
use super::velocity::VelocityMeter;
use super::SourceEvent;
use crate::api::{
    ApiError, ChatCounters, ChatState, ChatTarget, CoreEvent, ErrorCode, SupportCounts,
};
pub use crate::api::{ChatSlot, ChatView};
use crate::db::{Database, Platform};
use crate::events::EventBus;
use crate::moments::{DetectorInput, Sample};
use crate::queue::Inbound;
use session::{Plan, Planned};
use source::{next_source_event, Source};
use tick::next_wall_second;

#[derive(Clone, Debug, Default)]
pub struct ChatOptions {
    /// Log in to Twitch as this account; `None` reads anonymously.
    pub twitch_credentials: Option<TwitchCredentials>,
    /// Where chat lines that may be commands (they contain `command_prefix`) and moderation
    /// events go. Only ever `try_send`: a full queue drops (and logs) instead of stalling chat.
    pub inbound: Option<mpsc::Sender<Inbound>>,
    pub command_prefix: String,
    /// Where each finished second goes for moment detection (`try_send` only, like `inbound`).
    pub detector: Option<mpsc::Sender<DetectorInput>>,
    /// Where every chat line goes for the AI co-host (`try_send` only; nothing while it is off).
    pub cohost: Option<crate::cohost::CohostFeed>,
    /// Which chat slot this actor is: the main one (demo/Twitch) or the Kick one beside it.
    /// Decides which events it publishes.
    pub slot: ChatSlot,
    /// How to reach Kick (the Kick slot).
    pub kick: KickOptions,
}

enum Command {
    Connect(
        ChatTarget,
        Option<TwitchCredentials>,
        oneshot::Sender<Result<ChatState, ApiError>>,
    ),
    /// Send a (sanitised) message; answers whether the account is a moderator/broadcaster.
    Say(String, String, oneshot::Sender<Result<bool, ApiError>>),
    Disconnect(oneshot::Sender<ChatState>),
    View(oneshot::Sender<ChatView>),
    /// A Kick channel-name lookup this actor started has finished (`attempt` tells a lookup
    /// the streamer has since cancelled by disconnecting).
    KickLookedUp {
        attempt: u64,
        slug: String,
        room: Result<u64, ApiError>,
        reply: oneshot::Sender<Result<ChatState, ApiError>>,
    },
    /// A reading of the Kick channel's viewer count (see `viewers.rs`).
    KickViewers {
        session_id: i64,
        viewers: u32,
    },
}
/// Whether StreamCue can speak in this chat, and with which rate limit. The chat actor keeps
/// it current (a `watch`: setting it never waits); `ChatReplies` follows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SayStatus {
    /// A Twitch chat is live and StreamCue is logged in (else replies are dropped).
    pub can_say: bool,
    /// Twitch says the account is a moderator or the broadcaster here (USERSTATE).
    pub elevated: bool,
}

/// Handle on the chat actor.
#[derive(Clone, Debug)]
pub struct ChatClient {
    mailbox: Mailbox<Command>,
    say_status: watch::Receiver<SayStatus>,
}

impl ChatClient {
    /// Starts the actor on the current runtime. It runs until `cancel` fires, then ends the
    /// live session cleanly; await the returned handle to know it has.
    pub fn spawn(
        db: Database,
        events: EventBus,
        options: ChatOptions,
        cancel: CancellationToken,
        tracker: &tokio_util::task::TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (mailbox, rx) = Mailbox::new(64);
        let (say_status_tx, say_status) = watch::channel(SayStatus::default());
        let actor = ChatActor {
            rx,
            mailbox: mailbox.clone(),
            tracker: tracker.clone(),
            cancel: cancel.clone(),
            lookup_attempt: 0,
            db,
            events,
            options,
            state: ChatState::Disconnected,
            live: None,
            say_status: say_status_tx,
        };
        let handle = tracker.spawn(actor.run(cancel));
        (
            Self {
                mailbox,
                say_status,
            },
            handle,
        )
    }

    /// Follows whether StreamCue can speak here and as what (see [`SayStatus`]).
    pub fn say_status(&self) -> watch::Receiver<SayStatus> {
        self.say_status.clone()
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, ApiError> {
        Ok(self.mailbox.ask(make).await?)
    }

    /// Connects with the credentials from [`ChatOptions`] (or anonymously).
    pub async fn connect(&self, target: ChatTarget) -> Result<ChatState, ApiError> {
        self.ask(|r| Command::Connect(target, None, r)).await?
    }

    /// Connects logged in as `credentials` (falls back to [`ChatOptions`] when `None`).
    pub async fn connect_as(
        &self,
        target: ChatTarget,
        credentials: Option<TwitchCredentials>,
    ) -> Result<ChatState, ApiError> {
        self.ask(|r| Command::Connect(target, credentials, r))
            .await?
    }

    pub async fn disconnect(&self) -> Result<ChatState, ApiError> {
        self.ask(Command::Disconnect).await
    }

    pub async fn view(&self) -> Result<ChatView, ApiError> {
        self.ask(Command::View).await
    }

    /// Sends `text` (already sanitised) to `channel` if it is the live Twitch channel and
    /// StreamCue is logged in. `Ok(elevated)`: whether the account is a mod or the broadcaster.
    pub async fn say(&self, channel: &str, text: &str) -> Result<bool, ApiError> {
        self.ask(|r| Command::Say(channel.to_string(), text.to_string(), r))
            .await?
    }
}
struct Live {
    source: Source,
    session_id: i64,
    platform: Platform,
    channel: String,
    meter: VelocityMeter,
    counters: ChatCounters,
    joined_once: bool,
    /// Twitch says our account is a moderator or the broadcaster here.
    elevated: bool,
    /// Messages of the current second, for moment detection (texts are never stored).
    samples: Vec<Sample>,
    /// Subs, gifts, raids and bits of the current second, for moment detection.
    support: SupportCounts,
    /// A viewer-count reading not yet handed to the detector.
    viewers: Option<u32>,
    /// Stops the viewer-count polling (Kick by channel name) when the session ends.
    _viewer_poll: Option<tokio_util::sync::DropGuard>,
}

struct ChatActor {
    rx: mpsc::Receiver<Command>,
    /// Its own mailbox: Kick lookups report back through it.
    mailbox: Mailbox<Command>,
    tracker: tokio_util::task::TaskTracker,
    /// The actor's token; lookups race it.
    cancel: CancellationToken,
    /// Bumped by every connect and disconnect: a lookup that finishes for an older attempt
    /// does not connect.
    lookup_attempt: u64,
    db: Database,
    events: EventBus,
    options: ChatOptions,
    state: ChatState,
    live: Option<Live>,
    say_status: watch::Sender<SayStatus>,
}

enum Step {
    Stop,
    Command(Command),
    Tick,
    Source(SourceEvent),
}
impl ChatActor {
    async fn run(mut self, cancel: CancellationToken) {
        let mut ticker = tokio::time::interval_at(next_wall_second(), Duration::from_secs(1));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut ticking = false;
        loop {
            // A session that just started gets its clock aligned to the wall second again.
            if self.live.is_some() != ticking {
                ticking = !ticking;
                if ticking {
                    ticker.reset_at(next_wall_second());
                }
            }
            let step = tokio::select! {
                biased;
                _ = cancel.cancelled() => Step::Stop,
                cmd = self.rx.recv() => cmd.map_or(Step::Stop, Step::Command),
                // The clock only runs while a session is live.
                _ = ticker.tick(), if self.live.is_some() => Step::Tick,
                ev = next_source_event(&mut self.live) => Step::Source(ev),
            };
            match step {
                Step::Stop => break,
                Step::Command(cmd) => self.on_command(cmd).await,
                Step::Tick => self.on_tick().await,
                Step::Source(ev) => {
                    self.on_source(ev).await;
                    self.drain_ready().await;
                }
            }
        }
        self.end_live("StreamCue closed").await;
        tracing::info!("chat client stopped");
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Connect(target, credentials, reply) => {
                self.lookup_attempt += 1;
                match self.plan(&target) {
                    Err(e) => drop(reply.send(Err(e))),
                    Ok(Plan::LookUpKick(slug)) => self.look_up_kick(slug, reply),
                    Ok(Plan::Ready(planned)) => {
                        let r = self.start_live(planned, credentials).await;
                        let _ = reply.send(r);
                    }
                }
            }
            Command::KickLookedUp {
                attempt,
                slug,
                room,
                reply,
            } => {
                let result = if attempt != self.lookup_attempt {
                    Err(ApiError::new(
                        ErrorCode::NotConnected,
                        "The Kick connection was cancelled.",
                    ))
                } else {
                    match room {
                        Ok(room) => {
                            let planned = Planned::Kick {
                                shown: slug.clone(),
                                room,
                                slug: Some(slug),
                            };
                            self.start_live(planned, None).await
                        }
                        Err(e) => Err(e),
                    }
                };
                let _ = reply.send(result);
            }
            Command::KickViewers {
                session_id,
                viewers,
            } => {
                if let Some(live) = self.live.as_mut().filter(|l| l.session_id == session_id) {
                    live.viewers = Some(viewers);
                }
            }
            Command::Say(channel, text, reply) => {
                let _ = reply.send(self.say(&channel, &text).await);
            }
            Command::Disconnect(reply) => {
                self.lookup_attempt += 1;
                self.end_live("disconnected").await;
                self.set_state(ChatState::Disconnected);
                let _ = reply.send(self.state.clone());
            }
            Command::View(reply) => {
                let (counters, velocity) = match &self.live {
                    Some(l) => (l.counters, l.meter.history()),
                    None => (ChatCounters::default(), Vec::new()),
                };
                let _ = reply.send(ChatView {
                    slot: self.options.slot,
                    state: self.state.clone(),
                    counters,
                    velocity,
                });
            }
        }
    }

    async fn say(&mut self, channel: &str, text: &str) -> Result<bool, ApiError> {
        let not_sent = |why: &str| ApiError::new(ErrorCode::NotConnected, why.to_string());
        let Some(live) = self.live.as_ref() else {
            return Err(not_sent("No chat is connected."));
        };
        let Source::Twitch(session) = &live.source else {
            return Err(not_sent("The demo chat is read-only."));
        };
        if session.channel().as_str() != channel {
            return Err(not_sent("That channel is no longer connected."));
        }
        session
            .say(text)
            .await
            .map_err(|e| not_sent(&e.to_string()))?;
        Ok(live.elevated)
    }

    /// Sets [`SayStatus`] from the live session (wakes its followers only when it changed).
    fn update_say_status(&self) {
        let now = match &self.live {
            Some(Live {
                source: Source::Twitch(session),
                elevated,
                ..
            }) => SayStatus {
                can_say: session.logged_in(),
                elevated: *elevated,
            },
            _ => SayStatus::default(),
        };
        self.say_status.send_if_modified(|s| {
            let changed = *s != now;
            *s = now;
            changed
        });
    }

    fn forward(&self, ev: Inbound) {
        if let Some(inbound) = &self.options.inbound {
            if inbound.try_send(ev).is_err() {
                tracing::warn!("moderation event dropped: the queue is not keeping up");
            }
        }
    }

    fn set_state(&mut self, state: ChatState) {
        self.state = state.clone();
        self.events.publish(CoreEvent::ChatState {
            slot: self.options.slot,
            state,
        });
    }
}
