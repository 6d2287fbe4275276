//! `GenerationQueue`: the actor that owns viewer requests.
//!
//! It takes `!anime` / `!status` / `!queue` from chat (via [`Inbound`]), applies the per-viewer
//! cooldown and the queue's bound, and the streamer's actions from the window. Invariants:
//! every change is written to SQLite before its `CoreEvent` is published; it is the only writer
//! of `requests`, `cooldowns` and `queue_counters`; it never blocks the chat actor (chat hands
//! it messages with `try_send`).

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::actor::Mailbox;

use super::command::{ChatCommand, CommandNames, PromptRefusal, PromptRules};
use super::replies::ReplySink;
use crate::api::{
    ApiError, Cooldowns, CoreEvent, ErrorCode, QueueAction, QueueCounters, QueueItem, QueueView,
    RequestState,
};
use crate::chat::ChatMessage;
use crate::db::{Database, DbError, NewRequest, QueueCounter};
use crate::events::EventBus;
use crate::generator::GenerationSignals;
use crate::obs::ObsClient;

/// How many finished requests the queue's view carries.
pub const RECENT_FINISHED: u32 = 20;
/// Most cooldowns listed in [`Cooldowns`] (the latest ones; more may be running).
pub const MAX_LISTED_COOLDOWNS: usize = 500;
const AUTO_APPROVE_KEY: &str = "queue.auto_approve";
const HEALTH_EVERY: Duration = Duration::from_secs(60);
/// Refusal counts are written (then announced) at most this often: under a command flood each
/// refused command costs no database write of its own.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// The queue's rules, from the config.
#[derive(Debug, Clone)]
pub struct QueueOptions {
    pub names: CommandNames,
    pub rules: PromptRules,
    pub cooldown: Duration,
    pub max_waiting: usize,
    /// Moderators and the broadcaster skip the cooldown.
    pub exempt_moderators: bool,
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            names: CommandNames::default(),
            rules: PromptRules::new(200, &[], &[]).expect("no patterns"),
            cooldown: Duration::from_secs(30),
            max_waiting: 10,
            exempt_moderators: true,
        }
    }
}

impl QueueOptions {
    /// The queue's rules from the config. A blocklist entry that is not a valid pattern is
    /// left out and reported (the rest still apply).
    pub fn from_config(c: &crate::config::QueueConfig) -> (Self, Vec<String>) {
        let names = CommandNames {
            prefix: c.command_prefix.clone(),
            anime: c.request_commands.clone(),
            status: c.status_commands.clone(),
            queue: c.position_commands.clone(),
        };
        let mut problems = Vec::new();
        let mut patterns = Vec::new();
        for p in &c.blocked_patterns {
            match PromptRules::new(1, &[], std::slice::from_ref(p)) {
                Ok(_) => patterns.push(p.clone()),
                Err(e) => problems.push(format!("queue.blocked_patterns: {e}; it is ignored")),
            }
        }
        let rules = PromptRules::new(c.max_prompt_chars, &c.blocked_words, &patterns)
            .expect("every pattern was checked");
        let options = Self {
            names,
            rules,
            cooldown: Duration::from_secs(c.cooldown_seconds),
            max_waiting: c.max_waiting.max(1),
            exempt_moderators: c.exempt_moderators,
        };
        (options, problems)
    }
}

/// What chat hands the queue.
#[derive(Debug, Clone)]
pub enum Inbound {
    /// A chat line that starts with the command prefix.
    Message {
        session_id: i64,
        channel: String,
        message: ChatMessage,
    },
    /// A chat session started: counters from now on belong to it.
    SessionStarted { session_id: i64 },
    /// CLEARCHAT for a user: banned or timed out.
    UserBanned { login: String },
    /// CLEARMSG: one message deleted by a moderator.
    MessageDeleted { message_id: String },
}

enum Command {
    View(oneshot::Sender<Result<QueueView, ApiError>>),
    Act(
        i32,
        QueueAction,
        oneshot::Sender<Result<QueueItem, ApiError>>,
    ),
    Clear(oneshot::Sender<Result<u32, ApiError>>),
    SetAutoApprove(bool, oneshot::Sender<Result<bool, ApiError>>),
    Cooldowns(oneshot::Sender<Result<Cooldowns, ApiError>>),
}

/// What the queue actor is started with.
pub struct QueueSetup {
    pub db: Database,
    pub events: EventBus,
    pub replies: ReplySink,
    pub options: QueueOptions,
    pub signals: GenerationSignals,
    /// For **Show again**.
    pub obs: ObsClient,
}

/// Handle on the queue actor.
#[derive(Clone, Debug)]
pub struct GenerationQueue {
    mailbox: Mailbox<Command>,
}

/// The channel chat uses to hand the queue commands and moderation events. Chat only ever
/// `try_send`s into it, so a flood is dropped (and logged) instead of stalling chat.
pub fn inbound_channel() -> (mpsc::Sender<Inbound>, mpsc::Receiver<Inbound>) {
    mpsc::channel(1024)
}

fn db_error(e: DbError) -> ApiError {
    ApiError::new(ErrorCode::Database, e.to_string())
}

impl GenerationQueue {
    /// Starts the actor. Chat delivers to the sender half of `inbound` (see [`inbound_channel`]).
    pub fn spawn(
        setup: QueueSetup,
        inbound_rx: mpsc::Receiver<Inbound>,
        cancel: CancellationToken,
        tracker: &tokio_util::task::TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let QueueSetup {
            db,
            events,
            replies,
            options,
            signals,
            obs,
        } = setup;
        let (mailbox, rx) = Mailbox::new(64);
        let actor = QueueActor {
            db,
            signals,
            obs,
            events,
            replies,
            options,
            auto_approve: false,
            session_id: 0,
            cached_counters: (-1, QueueCounters::default()),
            unflushed: Vec::new(),
            unflushed_session: 0,
            cooldowns: std::collections::HashMap::new(),
            published_cooldowns: Cooldowns::default(),
        };
        let handle = tracker.spawn(actor.run(rx, inbound_rx, cancel));
        (Self { mailbox }, handle)
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, ApiError>>) -> Command,
    ) -> Result<T, ApiError> {
        self.mailbox.ask(make).await?
    }

    pub async fn view(&self) -> Result<QueueView, ApiError> {
        self.ask(Command::View).await
    }

    pub async fn act(&self, id: i32, action: QueueAction) -> Result<QueueItem, ApiError> {
        self.ask(|r| Command::Act(id, action, r)).await
    }

    /// Skips every waiting request; returns how many.
    pub async fn clear(&self) -> Result<u32, ApiError> {
        self.ask(Command::Clear).await
    }

    pub async fn set_auto_approve(&self, on: bool) -> Result<bool, ApiError> {
        self.ask(|r| Command::SetAutoApprove(on, r)).await
    }

    /// The per-viewer cooldowns running now (for the limits strip).
    pub async fn cooldowns(&self) -> Result<Cooldowns, ApiError> {
        self.ask(Command::Cooldowns).await
    }
}

struct QueueActor {
    db: Database,
    /// Wakes the generator when a request becomes approved; says when intake is paused.
    signals: GenerationSignals,
    obs: ObsClient,
    events: EventBus,
    replies: ReplySink,
    options: QueueOptions,
    auto_approve: bool,
    /// The chat session the latest command came from (counters are per session).
    session_id: i64,
    /// (session, its counters) as last read or written.
    cached_counters: (i64, QueueCounters),
    /// Refusals counted in memory, not yet written (for `unflushed_session`).
    unflushed: Vec<(QueueCounter, u32)>,
    unflushed_session: i64,
    /// Viewers' last accepted request (ms), as read from or written to the database;
    /// `None`: no cooldown on record. Entries whose cooldown is over are dropped every second.
    /// Holds every cooldown started since the start, plus the latest [`MAX_LISTED_COOLDOWNS`]
    /// running at the start, so the latest running ones can be listed from it.
    cooldowns: std::collections::HashMap<String, Option<i64>>,
    /// The cooldowns as last announced (or as found at the start).
    published_cooldowns: Cooldowns,
}

impl QueueActor {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut inbound: mpsc::Receiver<Inbound>,
        cancel: CancellationToken,
    ) {
        self.auto_approve =
            matches!(self.db.setting(AUTO_APPROVE_KEY).await, Ok(Some(v)) if v == "true");
        self.load_running_cooldowns().await;
        self.published_cooldowns = self.cooldowns_now();
        let mut health = tokio::time::interval(HEALTH_EVERY);
        health.tick().await;
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                Some(cmd) = rx.recv() => self.on_command(cmd).await,
                Some(msg) = inbound.recv() => self.on_inbound(msg).await,
                _ = flush.tick() => self.on_flush_tick().await,
                _ = health.tick() => self.log_health().await,
                else => break,
            }
        }
        self.flush_counts().await;
        tracing::info!("generation queue stopped");
    }

    async fn log_health(&self) {
        let waiting = self
            .db
            .waiting_requests()
            .await
            .map(|w| w.len())
            .unwrap_or(0);
        let c = self
            .db
            .queue_counters(self.session_id)
            .await
            .unwrap_or_default();
        tracing::info!(
            queue_depth = waiting,
            accepted = c.accepted,
            cooldown_rejects = c.cooldown_rejects,
            overflow_rejects = c.overflow_rejects,
            blocked = c.blocked_prompts,
            skipped = c.skipped,
            auto_approve = self.auto_approve,
            "queue health"
        );
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::View(reply) => {
                let _ = reply.send(self.view().await.map_err(db_error));
            }
            Command::Act(id, action, reply) => {
                let _ = reply.send(self.act(id, action).await);
            }
            Command::Clear(reply) => {
                let _ = reply.send(self.clear().await.map_err(db_error));
            }
            Command::Cooldowns(reply) => {
                let _ = reply.send(Ok(self.cooldowns_now()));
            }
            Command::SetAutoApprove(on, reply) => {
                let result = self
                    .db
                    .set_setting(AUTO_APPROVE_KEY, if on { "true" } else { "false" })
                    .await;
                let _ = reply.send(match result {
                    Ok(()) => {
                        self.auto_approve = on;
                        self.events
                            .publish(CoreEvent::QueueSettings { auto_approve: on });
                        Ok(on)
                    }
                    Err(e) => Err(db_error(e)),
                });
            }
        }
    }

    async fn view(&mut self) -> Result<QueueView, DbError> {
        Ok(QueueView {
            items: self.db.queue_items(RECENT_FINISHED.into()).await?,
            auto_approve: self.auto_approve,
            max_waiting: self.options.max_waiting as u32,
            counters: self.counters().await?,
        })
    }

    async fn publish_item(&self, item: &QueueItem) {
        self.events
            .publish(CoreEvent::QueueItem { item: item.clone() });
    }

    async fn count(&mut self, counter: QueueCounter) {
        match self.db.bump_queue_counter(self.session_id, counter).await {
            Ok(()) => self.note(counter).await,
            Err(e) => tracing::error!(error = %e, "could not count"),
        }
        self.publish_counters().await;
    }

    /// The current session's counters, read from the database once per session and then kept
    /// in step with every write (so a refused command costs no extra read).
    async fn counters(&mut self) -> Result<QueueCounters, DbError> {
        if self.cached_counters.0 != self.session_id {
            let fresh = self.db.queue_counters(self.session_id).await?;
            self.cached_counters = (self.session_id, fresh);
        }
        Ok(self.cached_counters.1)
    }

    /// Mirrors a counter just written to the database.
    async fn note(&mut self, counter: QueueCounter) {
        if self.counters().await.is_err() {
            self.cached_counters.0 = -1; // re-read next time
            return;
        }
        let c = &mut self.cached_counters.1;
        let field = match counter {
            QueueCounter::Accepted => &mut c.accepted,
            QueueCounter::CooldownRejects => &mut c.cooldown_rejects,
            QueueCounter::OverflowRejects => &mut c.overflow_rejects,
            QueueCounter::BlockedPrompts => &mut c.blocked_prompts,
            QueueCounter::UsageReplies => &mut c.usage_replies,
            QueueCounter::Approved => &mut c.approved,
            QueueCounter::Skipped => &mut c.skipped,
            QueueCounter::Moderated => &mut c.moderated,
            QueueCounter::PausedRejects => &mut c.paused_rejects,
        };
        *field = field.saturating_add(1);
    }

    /// Counts a refusal in memory; it is written and announced by the next flush.
    async fn count_soon(&mut self, counter: QueueCounter) {
        if self.unflushed_session != self.session_id {
            self.flush_counts().await;
            self.unflushed_session = self.session_id;
        }
        match self.unflushed.iter_mut().find(|(c, _)| *c == counter) {
            Some((_, n)) => *n += 1,
            None => self.unflushed.push((counter, 1)),
        }
    }

    /// Writes the counted refusals, then mirrors and announces them.
    async fn flush_counts(&mut self) {
        if self.unflushed.is_empty() {
            return;
        }
        let counts = std::mem::take(&mut self.unflushed);
        let session = self.unflushed_session;
        if let Err(e) = self.db.add_queue_counts(session, &counts).await {
            tracing::error!(error = %e, "could not save queue counters");
            return;
        }
        if session == self.session_id {
            for (counter, n) in counts {
                for _ in 0..n {
                    self.note(counter).await;
                }
            }
            self.publish_counters().await;
        }
    }

    async fn on_flush_tick(&mut self) {
        self.flush_counts().await;
        let now = clock_ms();
        let cooldown = self.options.cooldown.as_millis() as i64;
        self.cooldowns
            .retain(|_, last| last.is_some_and(|t| t + cooldown > now));
    }

    /// When the viewer last had a request accepted (cached; see `cooldowns`).
    async fn last_accepted(&mut self, user: &str) -> Result<Option<i64>, DbError> {
        if let Some(known) = self.cooldowns.get(user) {
            return Ok(*known);
        }
        let last = self.db.last_accepted_ms(user).await?;
        self.cooldowns.insert(user.to_string(), last);
        Ok(last)
    }

    /// Caches the cooldowns still running from before the start (the latest
    /// [`MAX_LISTED_COOLDOWNS`]), so they can be listed before those viewers speak again.
    async fn load_running_cooldowns(&mut self) {
        let since = clock_ms() - self.options.cooldown.as_millis() as i64;
        match self
            .db
            .running_cooldowns(since, MAX_LISTED_COOLDOWNS as i64)
            .await
        {
            Ok(running) => {
                for (user, last) in running {
                    self.cooldowns.entry(user).or_insert(Some(last));
                }
            }
            Err(e) => tracing::error!(error = %e, "could not read the running cooldowns"),
        }
    }

    /// The cooldowns running now: their ends, soonest first, the latest
    /// [`MAX_LISTED_COOLDOWNS`] at most.
    fn cooldowns_now(&self) -> Cooldowns {
        let now = clock_ms();
        let cooldown = self.options.cooldown.as_millis() as i64;
        let mut ends: Vec<i64> = self
            .cooldowns
            .values()
            .flatten()
            .map(|last| last + cooldown)
            .filter(|end| *end > now)
            .collect();
        ends.sort_unstable();
        let skip = ends.len().saturating_sub(MAX_LISTED_COOLDOWNS);
        Cooldowns {
            ends_at_ms: ends[skip..].iter().map(|&end| end as f64).collect(),
            cooldown_secs: self.options.cooldown.as_secs().min(u32::MAX.into()) as u32,
        }
    }

    /// Announces the running cooldowns if they changed since last announced (a cooldown
    /// started); their ending is not announced: the window counts down from the end times.
    fn publish_cooldowns(&mut self) {
        let now = self.cooldowns_now();
        if self.published_cooldowns == now {
            return;
        }
        self.published_cooldowns = now.clone();
        self.events.publish(CoreEvent::Cooldowns { cooldowns: now });
    }

    async fn publish_counters(&mut self) {
        match self.counters().await {
            Ok(counters) => self.events.publish(CoreEvent::QueueCounters { counters }),
            Err(e) => tracing::error!(error = %e, "could not read queue counters"),
        }
    }

    async fn act(&mut self, id: i32, action: QueueAction) -> Result<QueueItem, ApiError> {
        let item = self
            .db
            .request(id as i64)
            .await
            .map_err(db_error)?
            .ok_or_else(|| {
                ApiError::new(ErrorCode::UnknownRequest, format!("No request #{id}."))
            })?;
        use RequestState::*;
        let (to, reason, counter) = match (action, item.state) {
            (QueueAction::Approve, Pending) => (Approved, None, Some(QueueCounter::Approved)),
            (QueueAction::Skip, Pending | Approved | Failed | Interrupted) => (
                Skipped,
                Some("skipped by the streamer"),
                Some(QueueCounter::Skipped),
            ),
            (QueueAction::Retry, Failed | Interrupted) => (Approved, None, None),
            (QueueAction::Retry, Skipped) => (Pending, None, None),
            (QueueAction::ShowAgain, Ready | Shown) => {
                let Some(path) = item.file_path.clone() else {
                    return Err(ApiError::new(
                        ErrorCode::InvalidTransition,
                        format!("Request #{id} has no clip to show."),
                    ));
                };
                self.obs.show_again(id, path.into())?;
                tracing::info!(request_id = id, "clip shown again by the streamer");
                return Ok(item);
            }
            (QueueAction::MoveUp | QueueAction::MoveDown, Pending | Approved) => {
                let delta = if action == QueueAction::MoveUp { -1 } else { 1 };
                return self.move_item(id as i64, delta).await;
            }
            (action, state) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidTransition,
                    format!(
                        "Request #{id} is {}: it cannot be {}.",
                        state.as_str(),
                        verb(action)
                    ),
                ))
            }
        };
        let stored = self
            .db
            .set_request_state(id as i64, item.state, to, reason, clock_ms())
            .await
            .map_err(db_error)?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidTransition,
                    format!("Request #{id} changed meanwhile; try again."),
                )
            })?;
        tracing::info!(request_id = id, user = %stored.user_login, outcome = to.as_str(), "request updated by the streamer");
        if to == Approved {
            self.signals.work_available();
        }
        self.publish_item(&stored).await;
        if let Some(c) = counter {
            self.count(c).await;
        }
        Ok(stored)
    }

    async fn move_item(&mut self, id: i64, delta: i64) -> Result<QueueItem, ApiError> {
        let waiting = self.db.waiting_requests().await.map_err(db_error)?;
        let mut ids: Vec<i64> = waiting.iter().map(|i| i.id as i64).collect();
        let Some(from) = ids.iter().position(|&x| x == id) else {
            return Err(ApiError::new(
                ErrorCode::InvalidTransition,
                "Only waiting requests can be moved.",
            ));
        };
        let to = (from as i64 + delta).clamp(0, ids.len() as i64 - 1) as usize;
        let moved = ids.remove(from);
        ids.insert(to, moved);
        let items = self
            .db
            .reorder_waiting(&ids, clock_ms())
            .await
            .map_err(db_error)?;
        for item in &items {
            self.publish_item(item).await;
        }
        Ok(items
            .into_iter()
            .find(|i| i.id as i64 == id)
            .expect("moved item is waiting"))
    }

    async fn clear(&mut self) -> Result<u32, DbError> {
        let waiting = self.db.waiting_requests().await?;
        let mut cleared = 0;
        for item in &waiting {
            let Some(stored) = self
                .db
                .set_request_state(
                    item.id as i64,
                    item.state,
                    RequestState::Skipped,
                    Some("cleared by the streamer"),
                    clock_ms(),
                )
                .await?
            else {
                continue; // claimed by the generator meanwhile
            };
            cleared += 1;
            self.db
                .bump_queue_counter(self.session_id, QueueCounter::Skipped)
                .await?;
            self.note(QueueCounter::Skipped).await;
            self.publish_item(&stored).await;
        }
        self.publish_counters().await;
        Ok(cleared)
    }

    async fn on_inbound(&mut self, inbound: Inbound) {
        let result = match inbound {
            Inbound::Message {
                session_id,
                channel,
                message,
            } => {
                self.session_id = session_id;
                self.on_message(channel, message).await
            }
            Inbound::SessionStarted { session_id } => {
                self.session_id = session_id;
                self.publish_counters().await;
                Ok(())
            }
            Inbound::UserBanned { login } => self.on_banned(&login).await,
            Inbound::MessageDeleted { message_id } => self.on_deleted(&message_id).await,
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "queue could not handle a chat event");
        }
    }

    async fn on_message(&mut self, channel: String, message: ChatMessage) -> Result<(), DbError> {
        let Some(command) = self.options.names.parse(&message.text) else {
            return Ok(());
        };
        let name = &message.display_name;
        match command {
            ChatCommand::Status => {
                let waiting = self.db.waiting_requests().await?;
                let approved = waiting
                    .iter()
                    .filter(|i| i.state == RequestState::Approved)
                    .count();
                self.replies.say(
                    &channel,
                    format!(
                        "StreamCue: {} waiting ({approved} approved), queue limit {}, cooldown {} s, auto-approve {}.",
                        waiting.len(),
                        self.options.max_waiting,
                        self.options.cooldown.as_secs(),
                        if self.auto_approve { "on" } else { "off" },
                    ),
                );
            }
            ChatCommand::Queue => {
                let waiting = self.db.waiting_requests().await?;
                let text = match waiting
                    .iter()
                    .position(|i| i.user_login == message.user_login)
                {
                    Some(p) => format!(
                        "@{name} your request is #{} of {}: \"{}\"",
                        p + 1,
                        waiting.len(),
                        short(&waiting[p].prompt)
                    ),
                    None => format!("@{name} you have no request waiting. {}", self.usage()),
                };
                self.replies.say(&channel, text);
            }
            ChatCommand::Anime(raw) => self.on_anime(channel, message, &raw).await?,
        }
        Ok(())
    }

    fn usage(&self) -> String {
        let anime = self
            .options
            .names
            .anime
            .first()
            .map_or("anime", String::as_str);
        format!("Usage: {}{anime} <what to draw>", self.options.names.prefix)
    }

    async fn on_anime(
        &mut self,
        channel: String,
        message: ChatMessage,
        raw: &str,
    ) -> Result<(), DbError> {
        let name = message.display_name.clone();
        let user = message.user_login.clone();
        let prompt = match self.options.rules.normalise(raw) {
            Ok(p) => p,
            Err(refusal) => {
                let (counter, text) = match &refusal {
                    PromptRefusal::Empty => (
                        QueueCounter::UsageReplies,
                        format!(
                            "@{name} {}, e.g. {}{} \"a cat surfing a wave\"",
                            self.usage(),
                            self.options.names.prefix,
                            self.options
                                .names
                                .anime
                                .first()
                                .map_or("anime", String::as_str)
                        ),
                    ),
                    PromptRefusal::TooLong { .. } => {
                        (QueueCounter::BlockedPrompts, format!("@{name} {refusal}."))
                    }
                    PromptRefusal::Blocked => {
                        (QueueCounter::BlockedPrompts, format!("@{name} {refusal}."))
                    }
                };
                tracing::info!(user = %user, outcome = ?refusal, "request refused");
                self.count_soon(counter).await;
                self.replies.say(&channel, text);
                return Ok(());
            }
        };
        if self.signals.intake_paused() {
            tracing::info!(user = %user, outcome = "paused", "request refused");
            self.count_soon(QueueCounter::PausedRejects).await;
            self.replies.say(
                &channel,
                format!("@{name} clip requests are paused while generation recovers. Try again in a few minutes!"),
            );
            return Ok(());
        }
        let now = clock_ms();
        let exempt =
            self.options.exempt_moderators && (message.is_moderator || message.is_broadcaster);
        if !exempt {
            if let Some(last) = self.last_accepted(&user).await? {
                let cooldown = self.options.cooldown.as_millis() as i64;
                let left = last + cooldown - now;
                if left > 0 {
                    let secs = (left + 999) / 1000;
                    tracing::info!(user = %user, wait_s = secs, outcome = "cooldown", "request refused");
                    self.count_soon(QueueCounter::CooldownRejects).await;
                    self.replies.say(
                        &channel,
                        format!("@{name} please wait {secs} s before your next request."),
                    );
                    return Ok(());
                }
            }
        }
        let waiting = self.db.waiting_requests().await?;
        if waiting.len() >= self.options.max_waiting {
            tracing::info!(user = %user, queue_depth = waiting.len(), outcome = "queue_full", "request refused");
            self.count_soon(QueueCounter::OverflowRejects).await;
            self.replies.say(
                &channel,
                format!(
                    "@{name} the queue is full ({} waiting). Try again in a bit!",
                    waiting.len()
                ),
            );
            return Ok(());
        }
        let state = if self.auto_approve {
            RequestState::Approved
        } else {
            RequestState::Pending
        };
        let new = NewRequest {
            session_id: (self.session_id > 0).then_some(self.session_id),
            channel: channel.clone(),
            user_login: user.clone(),
            display_name: name.clone(),
            message_id: message.message_id.clone(),
            prompt,
            state,
        };
        let item = self.db.accept_request(&new, now).await?;
        self.cooldowns.insert(user.clone(), Some(now));
        self.note(QueueCounter::Accepted).await;
        if state == RequestState::Approved {
            self.note(QueueCounter::Approved).await;
            self.signals.work_available();
        }
        let position = waiting.len() + 1;
        tracing::info!(request_id = item.id, user = %user, queue_depth = position, outcome = "accepted", "request accepted");
        self.publish_item(&item).await;
        self.publish_counters().await;
        self.publish_cooldowns();
        self.replies.say(
            &channel,
            format!(
                "@{name} got it! \"{}\" is #{position} in the queue.",
                short(&item.prompt)
            ),
        );
        Ok(())
    }

    async fn on_banned(&mut self, login: &str) -> Result<(), DbError> {
        for item in self.db.waiting_for_user(login).await? {
            self.moderate(item, "the viewer was banned or timed out")
                .await?;
        }
        Ok(())
    }

    async fn on_deleted(&mut self, message_id: &str) -> Result<(), DbError> {
        if let Some(item) = self.db.waiting_for_message(message_id).await? {
            self.moderate(item, "a moderator deleted the chat message")
                .await?;
        }
        Ok(())
    }

    async fn moderate(&mut self, item: QueueItem, reason: &str) -> Result<(), DbError> {
        let Some(stored) = self
            .db
            .set_request_state(
                item.id as i64,
                item.state,
                RequestState::Skipped,
                Some(reason),
                clock_ms(),
            )
            .await?
        else {
            return Ok(()); // claimed by the generator meanwhile
        };
        tracing::info!(request_id = item.id, user = %item.user_login, outcome = "moderated", reason, "request skipped");
        self.db
            .bump_queue_counter(self.session_id, QueueCounter::Moderated)
            .await?;
        self.note(QueueCounter::Moderated).await;
        self.publish_item(&stored).await;
        self.publish_counters().await;
        Ok(())
    }
}

fn verb(action: QueueAction) -> &'static str {
    match action {
        QueueAction::Approve => "approved",
        QueueAction::Skip => "skipped",
        QueueAction::Retry => "retried",
        QueueAction::MoveUp | QueueAction::MoveDown => "moved",
        QueueAction::ShowAgain => "shown again",
    }
}

/// The prompt as echoed in chat: at most 60 characters.
fn short(prompt: &str) -> String {
    if prompt.chars().count() <= 60 {
        prompt.to_string()
    } else {
        prompt.chars().take(59).chain(['…']).collect()
    }
}

/// Wall-clock ms that follows Tokio's clock, so cooldowns can be tested with paused time.
pub fn clock_ms() -> i64 {
    crate::db::now_ms() + paused_offset_ms()
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
