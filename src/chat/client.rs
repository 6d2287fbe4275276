//! `ChatClient`: the actor that owns the chat connection and the live velocity meter.
//!
//! One task; reached through a cloneable [`ChatClient`] handle (mpsc in, oneshot out).
//! Invariants:
//! - at most one chat session is live; its `chat_sessions` row exists before any event about it;
//! - each finished second is saved to `velocity_minutes` before its `Velocity` event is sent;
//! - on cancellation the session is ended and its last second saved before the task returns.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::actor::{spawn_racing, Mailbox};

use super::channel::ChannelName;
use super::demo::DemoSession;
use super::kick::{chatroom_id_for, KickOptions, KickSession, KickTarget};
use super::twitch::{TwitchCredentials, TwitchSession};
use super::velocity::VelocityMeter;
use super::SourceEvent;
use crate::api::{
    ApiError, ChatCounters, ChatState, ChatTarget, CoreEvent, ErrorCode, VelocityPoint,
};
pub use crate::api::{ChatSlot, ChatView};
use crate::db::{now_ms, Database, Platform};
use crate::events::EventBus;
use crate::moments::{DetectorInput, Sample, MAX_SAMPLES_PER_SECOND};
use crate::queue::Inbound;

/// Messages handled per wake-up before the actor looks at commands and the clock again.
const DRAIN_BATCH: usize = 512;

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
}

/// What a connect asks for: a session that can start now, or a Kick channel name to look up
/// first.
enum Plan {
    Ready(Planned),
    LookUpKick(String),
}

/// A chat session about to start.
enum Planned {
    Demo,
    Twitch(ChannelName),
    Kick { shown: String, room: u64 },
}

/// How long Kick's website gets to answer a channel-name lookup.
const KICK_LOOKUP_TIMEOUT: Duration = Duration::from_secs(15);

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
            idle_meter: VelocityMeter::new(now_ms().div_euclid(1000)),
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

enum Source {
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

    fn malformed_lines(&self) -> u64 {
        match self {
            Source::Twitch(s) => s.malformed_lines(),
            Source::Demo(_) => 0,
            Source::Kick(s) => s.malformed_frames(),
        }
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
    /// Keeps the graph's clock running between sessions (all zeros).
    idle_meter: VelocityMeter,
    say_status: watch::Sender<SayStatus>,
}

enum Step {
    Stop,
    Command(Command),
    Tick,
    Source(SourceEvent),
}

async fn next_source_event(live: &mut Option<Live>) -> SourceEvent {
    match live {
        Some(l) => l.source.next().await,
        None => std::future::pending().await,
    }
}

impl ChatActor {
    async fn run(mut self, cancel: CancellationToken) {
        let mut ticker = tokio::time::interval_at(next_wall_second(), Duration::from_secs(1));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                biased;
                _ = cancel.cancelled() => Step::Stop,
                cmd = self.rx.recv() => cmd.map_or(Step::Stop, Step::Command),
                _ = ticker.tick() => Step::Tick,
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

    /// Handles messages that are already waiting, without going back through `select!`.
    async fn drain_ready(&mut self) {
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
                            self.start_live(Planned::Kick { shown: slug, room }, None)
                                .await
                        }
                        Err(e) => Err(e),
                    }
                };
                let _ = reply.send(result);
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
                    None => (ChatCounters::default(), self.idle_meter.history()),
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
        session.say(text).await.map_err(|e| not_sent(&e))?;
        Ok(live.elevated)
    }

    /// What `target` means, checked.
    fn plan(&self, target: &ChatTarget) -> Result<Plan, ApiError> {
        if self.live.is_some() {
            return Err(ApiError::new(
                ErrorCode::AlreadyConnected,
                "Already connected; disconnect first.",
            ));
        }
        let invalid = |m: String| ApiError::new(ErrorCode::InvalidChannel, m);
        Ok(Plan::Ready(match target {
            ChatTarget::Demo => Planned::Demo,
            ChatTarget::Twitch { channel } => {
                Planned::Twitch(ChannelName::parse(channel).map_err(|e| invalid(e.to_string()))?)
            }
            ChatTarget::Kick { channel } => {
                match KickTarget::parse(channel).map_err(|e| invalid(e.to_string()))? {
                    KickTarget::ChatroomId(id) => Planned::Kick {
                        shown: id.to_string(),
                        room: id,
                    },
                    KickTarget::Slug(slug) => return Ok(Plan::LookUpKick(slug)),
                }
            }
        }))
    }

    /// Looks up a Kick channel's chatroom id on a tracked task that races the actor's token
    /// (Kick's website may take up to [`KICK_LOOKUP_TIMEOUT`]); the result comes back as
    /// [`Command::KickLookedUp`], which answers `reply`.
    fn look_up_kick(&self, slug: String, reply: oneshot::Sender<Result<ChatState, ApiError>>) {
        let api_base = self.options.kick.api_base.clone();
        let mailbox = self.mailbox.clone();
        let attempt = self.lookup_attempt;
        let work = async move {
            let invalid = |m: String| ApiError::new(ErrorCode::InvalidChannel, m);
            let room = match tokio::time::timeout(
                KICK_LOOKUP_TIMEOUT,
                chatroom_id_for(&slug, &api_base),
            )
            .await
            {
                Err(_) => Err(invalid(format!(
                    "Kick did not answer the lookup of {slug} within {} s; paste the channel's chatroom id instead.",
                    KICK_LOOKUP_TIMEOUT.as_secs()
                ))),
                Ok(r) => r.map_err(|e| invalid(e.to_string())),
            };
            (slug, room)
        };
        spawn_racing(
            &self.tracker,
            self.cancel.clone(),
            work,
            move |r| async move {
                if let Some((slug, room)) = r {
                    let looked_up = Command::KickLookedUp {
                        attempt,
                        slug,
                        room,
                        reply,
                    };
                    let _ = mailbox.tell(looked_up).await;
                }
            },
        );
    }

    /// Starts the chat session `planned` describes.
    async fn start_live(
        &mut self,
        planned: Planned,
        credentials: Option<TwitchCredentials>,
    ) -> Result<ChatState, ApiError> {
        if self.live.is_some() {
            return Err(ApiError::new(
                ErrorCode::AlreadyConnected,
                "Already connected; disconnect first.",
            ));
        }
        let (platform, shown) = match &planned {
            Planned::Demo => (Platform::Demo, "demo".to_string()),
            Planned::Twitch(name) => (Platform::Twitch, name.to_string()),
            Planned::Kick { shown, .. } => (Platform::Kick, shown.clone()),
        };
        let started = now_ms();
        let session_id = self
            .db
            .start_session(platform, &shown, started)
            .await
            .map_err(|e| ApiError::new(ErrorCode::Database, e.to_string()))?;
        let source = match planned {
            Planned::Kick { room, .. } => {
                Source::Kick(KickSession::start(room, self.options.kick.clone()))
            }
            Planned::Demo => Source::Demo(DemoSession::start()),
            Planned::Twitch(name) => Source::Twitch(TwitchSession::start(
                name,
                credentials
                    .as_ref()
                    .or(self.options.twitch_credentials.as_ref()),
            )),
        };
        tracing::info!(session_id, channel = %shown, platform = platform.as_str(), "chat session started");
        self.forward(Inbound::SessionStarted { session_id });
        self.to_detector(DetectorInput::SessionStarted {
            session_id,
            channel_key: format!("{}:{}", platform.as_str(), shown.to_lowercase()),
            started_at_ms: started,
        });
        self.live = Some(Live {
            source,
            session_id,
            platform,
            channel: shown.clone(),
            meter: VelocityMeter::new(started.div_euclid(1000)),
            counters: ChatCounters::default(),
            joined_once: false,
            elevated: false,
            samples: Vec::new(),
        });
        self.update_say_status();
        self.set_state(ChatState::Connecting {
            platform,
            channel: shown,
        });
        Ok(self.state.clone())
    }

    async fn on_source(&mut self, ev: SourceEvent) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        match ev {
            SourceEvent::Message(msg) => {
                live.meter.record();
                live.counters.messages = live.counters.messages.saturating_add(1);
                if self.options.detector.is_some() && live.samples.len() < MAX_SAMPLES_PER_SECOND {
                    live.samples.push(Sample {
                        text: msg.text.clone(),
                        emotes: msg.emotes.clone(),
                    });
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

    async fn on_tick(&mut self) {
        let now_sec = now_ms().div_euclid(1000);
        let slot = self.options.slot;
        let Some(live) = self.live.as_mut() else {
            for point in self.idle_meter.close_until(now_sec).0 {
                self.events
                    .publish(velocity_event(slot, point, ChatCounters::default()));
            }
            return;
        };
        live.counters.malformed_lines = live.source.malformed_lines() as u32;
        let (points, minutes) = live.meter.close_until(now_sec);
        for minute in &minutes {
            if let Err(e) = self
                .db
                .save_velocity(live.session_id, minute, live.counters)
                .await
            {
                tracing::error!(error = %e, session_id = live.session_id, "could not save velocity");
            }
        }
        let last = points.len().saturating_sub(1);
        let mut seconds = Vec::with_capacity(points.len());
        for (i, point) in points.into_iter().enumerate() {
            self.events
                .publish(velocity_event(slot, point, live.counters));
            if self.options.detector.is_some() {
                seconds.push(DetectorInput::Second {
                    session_id: live.session_id,
                    second_ms: point.second as i64 * 1000,
                    messages: point.count,
                    samples: if i == last {
                        std::mem::take(&mut live.samples)
                    } else {
                        Vec::new()
                    },
                });
            }
        }
        for input in seconds {
            self.to_detector(input);
        }
    }

    fn to_detector(&self, input: DetectorInput) {
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

    /// Ends the live session (if any): saves its last seconds and totals, then forgets it.
    async fn end_live(&mut self, reason: &str) {
        let Some(mut live) = self.live.take() else {
            return;
        };
        self.update_say_status();
        live.counters.malformed_lines = live.source.malformed_lines() as u32;
        drop(live.source); // closes the connection first: nothing more is counted.
        let now = now_ms();
        let (_, minutes) = live.meter.close_until(now.div_euclid(1000) + 1);
        for minute in &minutes {
            if let Err(e) = self
                .db
                .save_velocity(live.session_id, minute, live.counters)
                .await
            {
                tracing::error!(error = %e, "could not save the last velocity");
            }
        }
        if let Err(e) = self
            .db
            .end_session(live.session_id, now, reason, live.counters)
            .await
        {
            tracing::error!(error = %e, "could not end the chat session");
        }
        self.to_detector(DetectorInput::SessionEnded {
            session_id: live.session_id,
        });
        self.idle_meter = VelocityMeter::new(now.div_euclid(1000) + 1);
        tracing::info!(
            session_id = live.session_id,
            reason,
            messages = live.counters.messages,
            "chat session ended"
        );
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

fn velocity_event(slot: ChatSlot, point: VelocityPoint, counters: ChatCounters) -> CoreEvent {
    CoreEvent::Velocity {
        slot,
        point,
        counters,
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

fn next_wall_second() -> Instant {
    let ms = now_ms().rem_euclid(1000) as u64;
    Instant::now() + Duration::from_millis(1000 - ms)
}
