//! `GenerationQueue`: the actor that owns viewer requests.
//!
//! It takes `!anime` / `!status` / `!queue` from chat (via [`Inbound`]), applies the per-viewer
//! cooldown and the queue's bound, and the streamer's actions from the window. Invariants:
//! every change is written to SQLite before its `CoreEvent` is published; it is the only writer
//! of `requests`, `cooldowns` and `queue_counters`; it never blocks the chat actor (chat hands
//! it messages with `try_send`).
//!
//! This file holds the handle, the commands and the run loop, and the streamer's actions
//! (view, approve/skip/retry/move/show again, clear, auto-approve). Intake from chat and
//! moderation are in `intake`; counters, the cooldown table and the health line in `tally`.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::actor::Mailbox;

use super::command::{CommandNames, PromptRules};
use super::policy::QueuePolicy;
use super::replies::ReplySink;
use crate::api::rows;
use crate::api::{
    ApiError, Cooldowns, CoreEvent, ErrorCode, QueueAction, QueueCounters, QueueItem, QueueView,
    RequestState,
};
use crate::chat::ChatMessage;
use crate::clock::now_ms;
use crate::db::{Database, DbError, QueueCounter, RequestRow, Setting};
use crate::events::EventBus;
use crate::generator::GenerationSignals;
use crate::obs::ObsClient;

mod intake;
mod tally;

/// How many finished requests the queue's view carries.
pub const RECENT_FINISHED: u32 = 20;
/// Most cooldowns listed in [`Cooldowns`] (the latest ones; more may be running).
pub const MAX_LISTED_COOLDOWNS: usize = 500;
/// Whether new requests skip the streamer's approval (kept across restarts).
const AUTO_APPROVE: Setting<bool> = Setting::new("queue.auto_approve");
const HEALTH_EVERY: Duration = Duration::from_secs(60);
/// Refusal counts are written (then announced) at most this often: under a command flood each
/// refused command costs no database write of its own.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// The queue's rules, from the config.
#[derive(Debug, Clone)]
pub struct QueueOptions {
    pub names: CommandNames,
    pub rules: PromptRules,
    /// Cooldown, the bound and who is exempt: the admission rules.
    pub policy: QueuePolicy,
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            names: CommandNames::default(),
            rules: PromptRules::new(200, &[], &[]).expect("no patterns"),
            policy: QueuePolicy {
                cooldown: Duration::from_secs(30),
                max_waiting: 10,
                exempt_moderators: true,
            },
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
            watch: c.watch_commands.clone(),
            watch_stop: c.watch_stop_commands.clone(),
            watching: c.watching_commands.clone(),
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
            policy: QueuePolicy {
                cooldown: Duration::from_secs(c.cooldown_seconds),
                max_waiting: c.max_waiting.max(1),
                exempt_moderators: c.exempt_moderators,
            },
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
    /// Where `!watch`, `!stop` and `!watching` go.
    pub watch: crate::watch::WatchAlong,
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
            watch,
        } = setup;
        let (mailbox, rx) = Mailbox::new(64);
        let actor = QueueActor {
            db,
            signals,
            obs,
            watch,
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
    watch: crate::watch::WatchAlong,
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
        self.auto_approve = AUTO_APPROVE.load(&self.db).await;
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

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::View(reply) => {
                let _ = reply.send(self.view().await.map_err(ApiError::from));
            }
            Command::Act(id, action, reply) => {
                let _ = reply.send(self.act(id, action).await);
            }
            Command::Clear(reply) => {
                let _ = reply.send(self.clear().await.map_err(ApiError::from));
            }
            Command::Cooldowns(reply) => {
                let _ = reply.send(Ok(self.cooldowns_now()));
            }
            Command::SetAutoApprove(on, reply) => {
                let result = AUTO_APPROVE.save(&self.db, &on).await;
                let _ = reply.send(match result {
                    Ok(()) => {
                        self.auto_approve = on;
                        self.events
                            .publish(CoreEvent::QueueSettings { auto_approve: on });
                        Ok(on)
                    }
                    Err(e) => Err(ApiError::from(e)),
                });
            }
        }
    }

    async fn view(&mut self) -> Result<QueueView, DbError> {
        Ok(QueueView {
            items: rows::all(self.db.requests().listed(RECENT_FINISHED.into()).await?),
            auto_approve: self.auto_approve,
            max_waiting: self.options.policy.max_waiting as u32,
            counters: self.counters().await?,
        })
    }

    async fn publish_item(&self, item: &RequestRow) {
        self.events.publish(CoreEvent::QueueItem {
            item: item.clone().into(),
        });
    }

    async fn act(&mut self, id: i32, action: QueueAction) -> Result<QueueItem, ApiError> {
        let item = self
            .db
            .requests()
            .get(id.into())
            .await
            .map_err(ApiError::from)?
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
                return Ok(item.into());
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
            .requests()
            .set_state(id as i64, item.state, to, reason, now_ms())
            .await
            .map_err(ApiError::from)?
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
        Ok(stored.into())
    }

    async fn move_item(&mut self, id: i64, delta: i64) -> Result<QueueItem, ApiError> {
        let waiting = self.db.requests().waiting().await.map_err(ApiError::from)?;
        let mut ids: Vec<i64> = waiting.iter().map(|i| i.id).collect();
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
            .requests()
            .reorder_waiting(&ids, now_ms())
            .await
            .map_err(ApiError::from)?;
        for item in &items {
            self.publish_item(item).await;
        }
        let moved = items.into_iter().find(|i| i.id == id);
        Ok(moved.expect("moved item is waiting").into())
    }

    async fn clear(&mut self) -> Result<u32, DbError> {
        let waiting = self.db.requests().waiting().await?;
        let mut cleared = 0;
        for item in &waiting {
            let skipped = self
                .skip_waiting(item, "cleared by the streamer", QueueCounter::Skipped)
                .await?;
            cleared += u32::from(skipped.is_some());
        }
        self.publish_counters().await;
        Ok(cleared)
    }

    /// Moves a waiting request to `skipped` (compare-and-set on its state), counts it under
    /// `counter`, then announces it. `None` when the generator claimed it meanwhile.
    pub(super) async fn skip_waiting(
        &mut self,
        item: &RequestRow,
        reason: &str,
        counter: QueueCounter,
    ) -> Result<Option<RequestRow>, DbError> {
        let Some(stored) = self
            .db
            .requests()
            .set_state(
                item.id,
                item.state,
                RequestState::Skipped,
                Some(reason),
                now_ms(),
            )
            .await?
        else {
            return Ok(None);
        };
        self.db
            .requests()
            .bump_counter(self.session_id, counter)
            .await?;
        self.note(counter).await;
        self.publish_item(&stored).await;
        Ok(Some(stored))
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
