//! `Cohost`: the actor that hears chat, decides when to answer, asks the model (or the demo
//! responder) on tracked tasks, cleans up the answer and turns it into a draft or a chat reply.
//!
//! Invariants:
//! - the chat path only ever `try_send`s lines to it ([`CohostFeed::hear`]; a full feed drops
//!   and counts), and only while the co-host is on: it never slows chat;
//! - a model call never runs on the actor's loop (it is raced against the actor's token on the
//!   tracker and reports back through the mailbox), so commands stay live while a model thinks;
//! - every answer passes the response processor and then `ChatReplies` (the outgoing sanitiser
//!   and the 20 / 30 s limit, leaving `reserve_for_queue` sends for the queue);
//! - counters and sent replies are written, then announced; a draft that could not be sent
//!   stays a draft; nothing the viewers said is written anywhere;
//! - no timer runs unless a draft is waiting to expire or a quiet-chat prompt is due.
//!
//! The jobs (model calls, deliveries) and the drafts' bookkeeping are in `actor/work.rs`.

mod work;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::context::ContextWindow;
use super::settings::{self, SETTINGS};
use super::triggers::{Decision, Triggers};
use crate::actor::Mailbox;
use crate::api::{
    ApiError, ChatSlot, ChatState, CohostDraft, CohostModels, CohostSettings, CohostStatus,
    CoreEvent, ErrorCode,
};
use crate::chat::ChatMessage;
use crate::db::{CohostTotals, Database};
use crate::events::EventBus;
use crate::queue::ReplySink;
use crate::secrets::{Secret, SecretStore};

/// Lines taken from the feed in one go after the first.
const FEED_BATCH: usize = 255;

/// Lines waiting for the co-host, at most (more are dropped and counted).
pub const FEED_CAPACITY: usize = 4096;
/// Drafts waiting, at most (a new one expires the oldest).
pub const DRAFTS_MAX: usize = 20;
/// Model calls at once, at most (the triggers' rates keep it far lower in practice).
pub const IN_FLIGHT_MAX: usize = 4;
/// Recent replies per channel kept for de-duplication.
const RECENT_REPLIES: usize = 10;

/// What the co-host is given.
pub struct CohostSetup {
    pub db: Database,
    pub events: EventBus,
    pub replies: ReplySink,
    pub secrets: Arc<dyn SecretStore>,
    /// The logged-in Twitch account (its own lines are never answered; it is a name).
    pub own_login: Option<String>,
    /// Seeds the keyword chance (tests pass a fixed one).
    pub seed: u64,
}

/// A chat line for the co-host.
#[derive(Debug)]
pub struct HeardLine {
    pub slot: ChatSlot,
    pub channel: String,
    pub login: String,
    pub display: String,
    pub text: String,
}

/// Where the chat actors hand their lines. Cheap to clone; never blocks.
#[derive(Clone, Debug)]
pub struct CohostFeed {
    tx: mpsc::Sender<HeardLine>,
    listening: Arc<AtomicBool>,
    dropped: Arc<AtomicU32>,
}

impl CohostFeed {
    /// Hands `msg` to the co-host if it is on; drops (and counts) when it is behind.
    pub fn hear(&self, slot: ChatSlot, channel: &str, msg: &ChatMessage) {
        if !self.listening.load(Ordering::Relaxed) {
            return;
        }
        let line = HeardLine {
            slot,
            channel: channel.to_string(),
            login: msg.user_login.clone(),
            display: msg.display_name.clone(),
            text: msg.text.clone(),
        };
        if self.tx.try_send(line).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A feed and the end the co-host reads (made before the chat actors, which hold the
    /// feed; [`Cohost::spawn`] takes the other end). It listens once the co-host says so.
    pub fn channel() -> (Self, FeedInlet) {
        let (tx, rx) = mpsc::channel(FEED_CAPACITY);
        let feed = Self {
            tx,
            listening: Arc::new(AtomicBool::new(false)),
            dropped: Arc::new(AtomicU32::new(0)),
        };
        let inlet = FeedInlet {
            rx,
            feed: feed.clone(),
        };
        (feed, inlet)
    }

    /// Turns listening on or off (benchmarks; the co-host follows its settings).
    pub fn set_listening(&self, on: bool) {
        self.listening.store(on, Ordering::Relaxed);
    }
}

/// The co-host's end of a [`CohostFeed`].
#[derive(Debug)]
pub struct FeedInlet {
    pub rx: mpsc::Receiver<HeardLine>,
    feed: CohostFeed,
}

pub(super) enum Command {
    Status(oneshot::Sender<CohostStatus>),
    SaveSettings(
        CohostSettings,
        oneshot::Sender<Result<CohostStatus, ApiError>>,
    ),
    SetApiKey(
        Option<Secret>,
        oneshot::Sender<Result<CohostStatus, ApiError>>,
    ),
    KeyLoaded(Option<Secret>),
    TestConnection(
        CohostSettings,
        oneshot::Sender<Result<CohostModels, ApiError>>,
    ),
    SendDraft {
        id: i32,
        text: Option<String>,
        reply: oneshot::Sender<Result<CohostStatus, ApiError>>,
    },
    DiscardDraft(i32, oneshot::Sender<Result<CohostStatus, ApiError>>),
    /// A model call finished (see `work.rs`).
    Answered(work::Answered),
    /// `ChatReplies` said what became of a reply (see `work.rs`).
    Delivered(work::Delivered),
}

/// Handle on the co-host.
#[derive(Clone, Debug)]
pub struct Cohost {
    mailbox: Mailbox<Command>,
    status: watch::Receiver<CohostStatus>,
    feed: CohostFeed,
}

impl Cohost {
    pub async fn spawn(
        setup: CohostSetup,
        inlet: FeedInlet,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let settings = SETTINGS.load(&setup.db).await;
        let totals = match setup.db.cohost().totals().await {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "could not read the co-host's counters; starting at 0");
                CohostTotals::default()
            }
        };
        let (mailbox, rx) = Mailbox::new(64);
        let FeedInlet { rx: feed_rx, feed } = inlet;
        feed.set_listening(settings.enabled);
        let own_name = setup.own_login.clone().unwrap_or_default();
        let mut actor = CohostActor {
            triggers: Triggers::new(setup.seed),
            trigger_rules: settings::trigger_rules(&settings, &own_name),
            processor_rules: settings::processor_rules(&settings, &own_name)
                .or_else(|_| settings::processor_rules(&CohostSettings::default(), &own_name))
                .expect("the default co-host settings compile"),
            settings,
            own_name,
            setup,
            mailbox: mailbox.clone(),
            tracker: tracker.clone(),
            cancel: cancel.clone(),
            feed: feed.clone(),
            api_key: None,
            key_saved: false,
            contexts: HashMap::new(),
            recent: HashMap::new(),
            drafts: VecDeque::new(),
            next_draft_id: 1,
            in_flight: 0,
            totals,
            latencies: VecDeque::new(),
            last_error: None,
            status: watch::channel(CohostStatus::default()).0,
        };
        actor.publish_status_quietly();
        let status = actor.status.subscribe();
        actor.load_key();
        let handle = tracker.spawn(actor.run(rx, feed_rx, cancel));
        (
            Self {
                mailbox,
                status,
                feed: feed.clone(),
            },
            handle,
        )
    }

    /// Where chat hands its lines.
    pub fn feed(&self) -> CohostFeed {
        self.feed.clone()
    }

    /// The status as last announced (never waits on the actor).
    pub fn status_now(&self) -> CohostStatus {
        self.status.borrow().clone()
    }

    pub async fn status(&self) -> Result<CohostStatus, ApiError> {
        Ok(self.mailbox.ask(Command::Status).await?)
    }

    pub async fn save_settings(&self, s: CohostSettings) -> Result<CohostStatus, ApiError> {
        self.mailbox.ask(|r| Command::SaveSettings(s, r)).await?
    }

    /// Saves (or with `None` removes) the API key in the OS keyring.
    pub async fn set_api_key(&self, key: Option<Secret>) -> Result<CohostStatus, ApiError> {
        self.mailbox.ask(|r| Command::SetApiKey(key, r)).await?
    }

    /// Lists the server's models with these (unsaved) settings and the saved key.
    pub async fn test_connection(&self, s: CohostSettings) -> Result<CohostModels, ApiError> {
        self.mailbox.ask(|r| Command::TestConnection(s, r)).await?
    }

    /// Sends a draft (as edited, when `text` is given).
    pub async fn send_draft(
        &self,
        id: i32,
        text: Option<String>,
    ) -> Result<CohostStatus, ApiError> {
        self.mailbox
            .ask(|reply| Command::SendDraft { id, text, reply })
            .await?
    }

    pub async fn discard_draft(&self, id: i32) -> Result<CohostStatus, ApiError> {
        self.mailbox.ask(|r| Command::DiscardDraft(id, r)).await?
    }
}

pub(super) struct CohostActor {
    setup: CohostSetup,
    mailbox: Mailbox<Command>,
    tracker: TaskTracker,
    cancel: CancellationToken,
    feed: CohostFeed,
    settings: CohostSettings,
    own_name: String,
    triggers: Triggers<ChatSlot>,
    trigger_rules: super::triggers::TriggerRules,
    processor_rules: super::processor::ProcessorRules,
    api_key: Option<Secret>,
    key_saved: bool,
    /// Each slot's channel and recent chat.
    contexts: HashMap<ChatSlot, (String, ContextWindow)>,
    /// Each slot's recent replies (de-duplication).
    recent: HashMap<ChatSlot, VecDeque<String>>,
    drafts: VecDeque<CohostDraft>,
    next_draft_id: i32,
    in_flight: usize,
    totals: CohostTotals,
    /// Recent answers' latencies, ms.
    latencies: VecDeque<f64>,
    last_error: Option<(String, i64)>,
    status: watch::Sender<CohostStatus>,
}

impl CohostActor {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut feed: mpsc::Receiver<HeardLine>,
        cancel: CancellationToken,
    ) {
        let mut events = self.setup.events.subscribe();
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd).await,
                    None => return,
                },
                line = feed.recv() => match line {
                    Some(line) => {
                        self.on_line(line);
                        // Chat arrives in bursts: take what is already waiting (a bounded
                        // number, so commands stay prompt) before the loop sets up again.
                        for _ in 0..FEED_BATCH {
                            let Ok(line) = feed.try_recv() else { break };
                            self.on_line(line);
                        }
                    }
                    None => return,
                },
                ev = events.recv() => match ev {
                    Ok(ev) => self.on_event(ev),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return,
                },
                _ = sleep_until(deadline) => self.on_deadline().await,
            }
        }
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Status(reply) => {
                let _ = reply.send(self.view());
            }
            Command::SaveSettings(s, reply) => {
                let _ = reply.send(self.save_settings(s).await);
            }
            Command::SetApiKey(key, reply) => self.set_api_key(key, reply),
            Command::KeyLoaded(key) => {
                self.key_saved = key.is_some();
                self.api_key = key;
                self.announce();
            }
            Command::TestConnection(s, reply) => self.test_connection(s, reply),
            Command::SendDraft { id, text, reply } => self.send_draft(id, text, reply),
            Command::DiscardDraft(id, reply) => {
                let _ = reply.send(self.discard_draft(id).await);
            }
            Command::Answered(a) => self.on_answered(a).await,
            Command::Delivered(d) => self.on_delivered(d).await,
        }
    }

    fn on_line(&mut self, line: HeardLine) {
        let now = Instant::now();
        let (channel, context) = self.contexts.entry(line.slot).or_insert_with(|| {
            (
                line.channel.clone(),
                ContextWindow::new(
                    self.settings.context_messages as usize,
                    std::time::Duration::from_secs(60 * u64::from(self.settings.context_minutes)),
                ),
            )
        });
        if *channel != line.channel {
            // The slot joined another channel: its context starts afresh.
            *channel = line.channel.clone();
            *context = ContextWindow::new(
                self.settings.context_messages as usize,
                std::time::Duration::from_secs(60 * u64::from(self.settings.context_minutes)),
            );
            self.triggers.forget(&line.slot);
        }
        let decision = self.triggers.on_line(
            &line.slot,
            &line.login,
            &line.text,
            now,
            &self.trigger_rules,
        );
        let HeardLine {
            slot,
            login,
            display,
            text,
            ..
        } = line;
        match decision {
            Decision::Fire(fired) => {
                context.push(now, &display, &text);
                self.ask(slot, display, login, fired)
            }
            Decision::Held(held) => {
                tracing::debug!(?slot, ?held, "co-host trigger held");
                context.push_owned(now, display, text);
            }
            // The chat path: the line's own strings move into the context, no copy.
            Decision::Pass => context.push_owned(now, display, text),
        }
    }

    fn on_event(&mut self, ev: CoreEvent) {
        match ev {
            CoreEvent::Account {
                state: crate::api::AccountState::LoggedIn { login, .. },
            } if login != self.own_name => {
                self.own_name = login;
                self.rebuild_rules();
            }
            CoreEvent::ChatState {
                slot,
                state: ChatState::Disconnected | ChatState::Failed { .. },
            } => {
                // Left the channel: its context is forgotten (memory only, never kept).
                self.contexts.remove(&slot);
                self.recent.remove(&slot);
                self.triggers.forget(&slot);
            }
            _ => {}
        }
    }

    fn rebuild_rules(&mut self) {
        self.trigger_rules = settings::trigger_rules(&self.settings, &self.own_name);
        if let Ok(rules) = settings::processor_rules(&self.settings, &self.own_name) {
            self.processor_rules = rules;
        }
    }

    async fn save_settings(&mut self, s: CohostSettings) -> Result<CohostStatus, ApiError> {
        settings::check(&s)?;
        SETTINGS.save(&self.setup.db, &s).await?;
        let context_changed = s.context_messages != self.settings.context_messages
            || s.context_minutes != self.settings.context_minutes;
        self.settings = s;
        self.rebuild_rules();
        self.feed.set_listening(self.settings.enabled);
        if context_changed || !self.settings.enabled {
            self.contexts.clear();
        }
        self.announce();
        Ok(self.view())
    }

    fn load_key(&self) {
        let secrets = self.setup.secrets.clone();
        let mailbox = self.mailbox.clone();
        self.tracker.spawn(async move {
            let got = crate::secrets::off_runtime(crate::secrets::KEYRING_TIMEOUT, move || {
                secrets.get(crate::secrets::SecretKey::LlmKey)
            })
            .await;
            let key = match got {
                Ok(key) => key,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the co-host's API key from the keyring");
                    None
                }
            };
            let _ = mailbox.tell(Command::KeyLoaded(key)).await;
        });
    }

    fn set_api_key(
        &mut self,
        key: Option<Secret>,
        reply: oneshot::Sender<Result<CohostStatus, ApiError>>,
    ) {
        let secrets = self.setup.secrets.clone();
        let mailbox = self.mailbox.clone();
        self.tracker.spawn(async move {
            let stored = key.clone();
            let done =
                crate::secrets::off_runtime(
                    crate::secrets::KEYRING_TIMEOUT,
                    move || match &stored {
                        Some(k) => secrets.set(crate::secrets::SecretKey::LlmKey, k),
                        None => secrets.delete(crate::secrets::SecretKey::LlmKey),
                    },
                )
                .await;
            match done {
                Ok(()) => {
                    let _ = mailbox.tell(Command::KeyLoaded(key)).await;
                    let status = mailbox.ask(Command::Status).await;
                    let _ = reply.send(status.map_err(ApiError::from));
                }
                Err(e) => {
                    let _ = reply.send(Err(ApiError::new(
                        ErrorCode::Keyring,
                        format!(
                            "The API key could not be saved in the keyring ({e}). Unlock your \
                             keyring and try again."
                        ),
                    )));
                }
            }
        });
    }

    /// The status as the window shows it.
    fn view(&self) -> CohostStatus {
        let mut sorted: Vec<f64> = self.latencies.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let pct = |p: f64| {
            if sorted.is_empty() {
                0.0
            } else {
                sorted[((sorted.len() - 1) as f64 * p).round() as usize]
            }
        };
        let mut counters = work::counters(&self.totals);
        counters.lines_dropped = self.feed.dropped.load(Ordering::Relaxed);
        CohostStatus {
            settings: self.settings.clone(),
            api_key_saved: self.key_saved,
            drafts: self.drafts.iter().cloned().collect(),
            counters,
            latency_p50_ms: pct(0.5),
            latency_p95_ms: pct(0.95),
            in_flight: self.in_flight as u32,
            last_error: self.last_error.as_ref().map(|(e, _)| e.clone()),
            last_error_ms: self.last_error.as_ref().map(|(_, t)| *t as f64),
        }
    }

    fn publish_status_quietly(&mut self) {
        let view = self.view();
        self.status.send_replace(view);
    }

    /// Announces the status (after whatever it shows was written).
    fn announce(&mut self) {
        let view = self.view();
        self.status.send_replace(view.clone());
        self.setup.events.publish(CoreEvent::Cohost {
            status: Box::new(view),
        });
    }

    fn next_deadline(&self) -> Option<Instant> {
        let expiry = self.drafts.front().map(|d| {
            let left = d.expires_ms - crate::clock::now_ms() as f64;
            Instant::now() + std::time::Duration::from_millis(left.max(0.0) as u64)
        });
        let quiet = self
            .settings
            .enabled
            .then(|| self.triggers.next_quiet_check(&self.trigger_rules))
            .flatten();
        match (expiry, quiet) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    async fn on_deadline(&mut self) {
        self.expire_drafts().await;
        if !self.settings.enabled {
            return;
        }
        let now = Instant::now();
        let slots: Vec<ChatSlot> = self.contexts.keys().copied().collect();
        for slot in slots {
            if let Decision::Fire(fired) =
                self.triggers
                    .on_quiet_check(&slot, now, &self.trigger_rules)
            {
                self.ask(slot, String::new(), String::new(), fired);
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
