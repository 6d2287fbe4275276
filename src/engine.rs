//! The engine: starts the actors, hands out their handles, and shuts them down in order.
//!
//! The actors run on one dedicated current-thread Tokio runtime ("streamcue-engine"): chat
//! parsing is cheapest there (no cross-thread wake-ups) and the UI's runtime stays free.
//! Shutdown order (fixed, in `run_engine`): chat → Kick → moments → generator → recorder →
//! OBS → replies → queue → account → remaining tracked tasks → database (checkpoint, close),
//! each step under [`SHUTDOWN_STEP_TIMEOUT`] (see [`crate::actor::Shutdown`]). Nothing is
//! announced after the database closes.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actor::Shutdown;
use crate::api::{
    ApiError, AppSnapshot, ChatState, ChatTarget, CoreEvent, ErrorCode, LimitsView, Notice,
    NoticeCode, NoticeLevel,
};
use crate::chat::dialer::{self, DialTarget};
use crate::chat::kick::KickOptions;
use crate::chat::twitch::TwitchCredentials;
use crate::chat::{Backoff, ChatClient, ChatOptions, ChatSlot};
use crate::config::Config;
use crate::db::{Database, DbError};
use crate::events::EventBus;
use crate::generator::worker::WorkerSetup;
use crate::generator::{GenerationSignals, GenerationWorker, GeneratorOptions};
use crate::moments::{detector_channel, MomentDetector};
use crate::obs::{ObsClient, ObsSetup};
use crate::paths::AppPaths;
use crate::queue::{
    inbound_channel, ChatReplies, GenerationQueue, QueueOptions, QueueSetup, ReplySink,
};
use crate::recorder::{Recorder, RecorderSetup};
use crate::secrets::{Secret, SecretKey, SecretStore};
use crate::twitch_auth::{AccountOptions, AccountState, AuthError, LoginPrompt, TwitchAccount};

/// The environment variable that points Twitch IRC at another address (plain TCP).
/// A development and testing knob; never set in normal use.
pub const TWITCH_IRC_ADDR_ENV: &str = "STREAMCUE_TWITCH_IRC_ADDR";

/// Environment variables that point Kick chat at another Pusher server (a full `ws://` URL)
/// and Kick's channel lookup at another web server. Development and testing knobs.
pub const KICK_WS_URL_ENV: &str = "STREAMCUE_KICK_WS_URL";
pub const KICK_API_URL_ENV: &str = "STREAMCUE_KICK_API_URL";

/// The environment variable that points "Log in with Twitch" at another identity server
/// (e.g. `http://127.0.0.1:PORT`). A development and testing knob; never set in normal use.
pub const TWITCH_ID_URL_ENV: &str = "STREAMCUE_TWITCH_ID_URL";

/// How long each shutdown step may take before Quit goes on without it.
pub const SHUTDOWN_STEP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long blocking calls (keyring, file system) get when the engine's runtime stops.
const BLOCKING_GRACE: Duration = Duration::from_secs(2);

pub struct EngineOptions {
    pub paths: AppPaths,
    pub secrets: Arc<dyn SecretStore>,
    /// `Some(addr)`: dial this plain-TCP address instead of Twitch.
    pub twitch_irc_addr: Option<String>,
    /// Reconnect backoff (tests shorten it).
    pub backoff: Backoff,
}

impl EngineOptions {
    /// Options for the app: Twitch address from [`TWITCH_IRC_ADDR_ENV`] if set.
    pub fn for_app(paths: AppPaths, secrets: Arc<dyn SecretStore>) -> Self {
        let twitch_irc_addr = std::env::var(TWITCH_IRC_ADDR_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty());
        Self {
            paths,
            secrets,
            twitch_irc_addr,
            backoff: Backoff::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("could not start the engine thread: {0}")]
    Thread(String),
    #[error("could not start the Twitch account: {0}")]
    Account(#[from] AuthError),
}

/// A cheap, cloneable handle on a running engine: what commands need.
#[derive(Clone, Debug)]
pub struct EngineHandle {
    chat: ChatClient,
    kick: ChatClient,
    queue: GenerationQueue,
    replies: ReplySink,
    generator: GenerationWorker,
    obs: ObsClient,
    moments: MomentDetector,
    recorder: Recorder,
    account: TwitchAccount,
    twitch_client_id: Arc<str>,
    events: EventBus,
    notices: Arc<Vec<Notice>>,
    paths: Arc<AppPaths>,
    keyring_available: bool,
    default_channel: Arc<str>,
}

impl EngineHandle {
    pub fn chat(&self) -> &ChatClient {
        &self.chat
    }

    pub fn events(&self) -> &EventBus {
        &self.events
    }

    pub fn queue(&self) -> &GenerationQueue {
        &self.queue
    }

    pub fn account(&self) -> &TwitchAccount {
        &self.account
    }

    pub fn generator(&self) -> &GenerationWorker {
        &self.generator
    }

    pub fn obs(&self) -> &ObsClient {
        &self.obs
    }

    pub fn moments(&self) -> &MomentDetector {
        &self.moments
    }

    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// The chat actor of `slot`.
    pub fn chat_slot(&self, slot: ChatSlot) -> &ChatClient {
        match slot {
            ChatSlot::Main => &self.chat,
            ChatSlot::Kick => &self.kick,
        }
    }

    /// Connects chat, logged in as the streamer's Twitch account when there is one. A Kick
    /// target goes to the Kick slot, which runs beside the main chat.
    pub async fn connect_chat(&self, target: ChatTarget) -> Result<ChatState, ApiError> {
        if ChatSlot::for_target(&target) == ChatSlot::Kick {
            return self.kick.connect(target).await;
        }
        let credentials = self.account.credentials().await.ok().flatten();
        self.chat.connect_as(target, credentials).await
    }

    /// Starts "Log in with Twitch" (Device Code Grant) with the configured client id.
    pub async fn start_login(&self) -> Result<LoginPrompt, ApiError> {
        self.account
            .start_login(&self.twitch_client_id)
            .await
            .map_err(login_error)
    }

    pub async fn cancel_login(&self) -> Result<(), ApiError> {
        self.account.cancel_login().await.map_err(login_error)
    }

    pub async fn logout(&self) -> Result<(), ApiError> {
        self.account.logout().await.map_err(login_error)
    }

    /// The fallback: a token the streamer pasted (with or without `oauth:`). Returns the login.
    pub async fn paste_token(&self, token: Secret) -> Result<String, ApiError> {
        self.account.paste_token(token).await.map_err(login_error)
    }

    /// Disconnects one chat slot (the others stay).
    pub async fn disconnect_chat(&self, slot: ChatSlot) -> Result<ChatState, ApiError> {
        self.chat_slot(slot).disconnect().await
    }

    pub async fn snapshot(&self) -> Result<AppSnapshot, ApiError> {
        let mut chats = Vec::with_capacity(ChatSlot::ALL.len());
        for slot in ChatSlot::ALL {
            chats.push(self.chat_slot(slot).view().await?);
        }
        let queue = self.queue.view().await?;
        let generator = self.generator.status().await?;
        let obs = self.obs.view().await?;
        let moments = self.moments.latest().await?;
        let recorder = self.recorder.view().await?;
        let moment_settings = self.moments.settings().await?;
        let limits = LimitsView {
            replies: self.replies.limits(),
            cooldowns: self.queue.cooldowns().await?,
        };
        Ok(AppSnapshot {
            limits,
            recorder,
            moments,
            moment_settings,
            generator,
            obs,
            queue,
            chats,
            notices: self.notices.as_ref().clone(),
            paths: self.paths.info(),
            keyring_available: self.keyring_available,
            default_channel: self.default_channel.to_string(),
            account: self.account.state(),
            twitch_client_id_set: !self.twitch_client_id.is_empty(),
        })
    }
}

/// A running engine. Dropping it without [`Engine::shutdown`] cancels the actors but does not
/// wait for them.
pub struct Engine {
    handle: EngineHandle,
    cancel: CancellationToken,
    stopped: Option<oneshot::Receiver<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    config: Config,
}

struct Started {
    chat: ChatClient,
    kick: ChatClient,
    queue: GenerationQueue,
    replies: ReplySink,
    generator: GenerationWorker,
    obs: ObsClient,
    moments: MomentDetector,
    recorder: Recorder,
    account: TwitchAccount,
}

impl Engine {
    pub async fn start(options: EngineOptions) -> Result<Engine, StartError> {
        let (config, problem) = Config::load_or_create(&options.paths.config_file);
        let mut notices = Vec::new();
        if let Some(p) = problem {
            tracing::warn!(problem = %p.message, "config problem");
            notices.push(Notice {
                level: NoticeLevel::Warning,
                code: NoticeCode::ConfigInvalid,
                message: p.message,
            });
        }
        let keyring_available = options.secrets.available();
        if !keyring_available {
            notices.push(Notice {
                level: NoticeLevel::Warning,
                code: NoticeCode::KeyringUnavailable,
                message:
                    "No OS keyring is available: StreamCue reads chat anonymously and cannot save \
                          logins. Install and unlock a keyring (e.g. GNOME Keyring) to enable them."
                        .into(),
            });
        }
        let credentials = twitch_credentials(&config, options.secrets.as_ref());
        match &options.twitch_irc_addr {
            Some(addr) => {
                tracing::warn!(addr, "Twitch IRC address overridden (development/testing)");
                notices.push(Notice {
                    level: NoticeLevel::Info,
                    code: NoticeCode::TwitchAddressOverridden,
                    message: format!("Twitch chat goes to {addr} ({TWITCH_IRC_ADDR_ENV} is set)."),
                });
                dialer::set_target(DialTarget::Plain(addr.clone()));
            }
            None => dialer::set_target(DialTarget::Twitch),
        }
        dialer::set_backoff(options.backoff.clone());

        let events = EventBus::default();
        let cancel = CancellationToken::new();
        let (ready_tx, ready_rx) = oneshot::channel::<Result<Started, StartError>>();
        let (stopped_tx, stopped_rx) = oneshot::channel::<()>();
        let db_path = options.paths.database_file.clone();
        let (queue_options, queue_problems) = QueueOptions::from_config(&config.queue);
        for message in queue_problems {
            tracing::warn!(problem = %message, "config problem");
            notices.push(Notice {
                level: NoticeLevel::Warning,
                code: NoticeCode::ConfigInvalid,
                message,
            });
        }
        let chat_options = ChatOptions {
            twitch_credentials: credentials,
            inbound: None, // set on the engine thread, with the queue's channel
            command_prefix: queue_options.names.prefix.clone(),
            detector: None, // set on the engine thread, with the detector's channel
            slot: ChatSlot::Main,
            kick: kick_options(&config, options.backoff.clone()),
        };
        let generator_options = GeneratorOptions::from_config(&config.generator);
        let clips_dir = options.paths.clips_dir.clone();
        let recordings_dir = options.paths.recordings_dir.clone();
        let ffmpeg = config.generator.ffmpeg.clone();
        let thread_events = events.clone();
        let thread_secrets = options.secrets.clone();
        let thread_cancel = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("streamcue-engine".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(StartError::Thread(e.to_string())));
                        return;
                    }
                };
                rt.block_on(run_engine(
                    ActorOptions {
                        secrets: thread_secrets,
                        db_path,
                        chat_options,
                        queue_options,
                        generator_options,
                        clips_dir,
                        recordings_dir,
                        ffmpeg,
                    },
                    thread_events,
                    thread_cancel,
                    ready_tx,
                ));
                // Blocking calls still running (a keyring that never answers) are left behind
                // rather than holding Quit: the process is about to exit.
                rt.shutdown_timeout(BLOCKING_GRACE);
                let _ = stopped_tx.send(());
            })
            .map_err(|e| StartError::Thread(e.to_string()))?;
        let started = match ready_rx.await {
            Ok(Ok(started)) => started,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(StartError::Thread(
                    "the engine thread ended during start".into(),
                ));
            }
        };
        Ok(Engine {
            handle: EngineHandle {
                chat: started.chat,
                kick: started.kick,
                queue: started.queue,
                replies: started.replies,
                generator: started.generator,
                obs: started.obs,
                moments: started.moments,
                recorder: started.recorder,
                account: started.account,
                twitch_client_id: config.chat.twitch_client_id.trim().into(),
                events,
                notices: Arc::new(notices),
                paths: Arc::new(options.paths),
                keyring_available,
                default_channel: config.chat.default_channel.trim().into(),
            },
            cancel,
            stopped: Some(stopped_rx),
            thread: Some(thread),
            config,
        })
    }

    pub fn handle(&self) -> EngineHandle {
        self.handle.clone()
    }

    pub fn chat(&self) -> &ChatClient {
        &self.handle.chat
    }

    pub fn events(&self) -> &EventBus {
        &self.handle.events
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub async fn connect_chat(&self, target: ChatTarget) -> Result<ChatState, ApiError> {
        self.handle.connect_chat(target).await
    }

    pub async fn disconnect_chat(&self, slot: ChatSlot) -> Result<ChatState, ApiError> {
        self.handle.disconnect_chat(slot).await
    }

    pub async fn snapshot(&self) -> Result<AppSnapshot, ApiError> {
        self.handle.snapshot().await
    }

    /// Stops everything in order and waits until the database is closed.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.await;
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        tracing::info!("engine stopped");
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// What the actors are started with (prepared on the caller's thread).
struct ActorOptions {
    secrets: Arc<dyn SecretStore>,
    db_path: std::path::PathBuf,
    chat_options: ChatOptions,
    queue_options: QueueOptions,
    generator_options: GeneratorOptions,
    clips_dir: std::path::PathBuf,
    recordings_dir: std::path::PathBuf,
    ffmpeg: String,
}

async fn run_engine(
    options: ActorOptions,
    events: EventBus,
    cancel: CancellationToken,
    ready: oneshot::Sender<Result<Started, StartError>>,
) {
    let ActorOptions {
        secrets,
        db_path,
        mut chat_options,
        queue_options,
        generator_options,
        clips_dir,
        recordings_dir,
        ffmpeg,
    } = options;
    let db = match Database::open(&db_path).await {
        Ok(db) => db,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    match db.close_interrupted_sessions().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(sessions = n, "closed chat sessions left open by a crash"),
        Err(e) => tracing::error!(error = %e, "could not close interrupted sessions"),
    }
    let tracker = TaskTracker::new();
    let (inbound_tx, inbound_rx) = inbound_channel();
    chat_options.inbound = Some(inbound_tx);
    let (detector_tx, detector_rx) = detector_channel();
    chat_options.detector = Some(detector_tx.clone());
    let kick_options = ChatOptions {
        twitch_credentials: None,
        inbound: None, // Kick is read-only: graph and moments, no requests
        command_prefix: chat_options.command_prefix.clone(),
        detector: Some(detector_tx),
        slot: ChatSlot::Kick,
        kick: chat_options.kick.clone(),
    };
    let moments_cancel = cancel.child_token();
    let (moments, moments_task) = MomentDetector::spawn(
        db.clone(),
        events.clone(),
        detector_rx,
        moments_cancel.clone(),
        &tracker,
    );
    let chat_cancel = cancel.child_token();
    let (chat, chat_task) = ChatClient::spawn(
        db.clone(),
        events.clone(),
        chat_options,
        chat_cancel.clone(),
        &tracker,
    );
    let kick_cancel = cancel.child_token();
    let (kick, kick_task) = ChatClient::spawn(
        db.clone(),
        events.clone(),
        kick_options,
        kick_cancel.clone(),
        &tracker,
    );
    let replies_cancel = cancel.child_token();
    let (replies, replies_task) = ChatReplies::spawn(
        chat.clone(),
        events.clone(),
        replies_cancel.clone(),
        &tracker,
    );
    let queue_cancel = cancel.child_token();
    let events_for_account = events.clone();
    let signals = GenerationSignals::default();
    let (obs_reports_tx, obs_reports) = tokio::sync::mpsc::channel(64);
    let obs_cancel = cancel.child_token();
    let (obs, obs_task) = ObsClient::spawn(
        ObsSetup {
            db: db.clone(),
            events: events.clone(),
            secrets: secrets.clone(),
            reports: obs_reports_tx,
            backoff: Backoff {
                base: std::time::Duration::from_millis(500),
                cap: std::time::Duration::from_secs(5),
            },
        },
        obs_cancel.clone(),
        &tracker,
    );
    let recorder_cancel = cancel.child_token();
    let (recorder, recorder_task) = Recorder::spawn(
        RecorderSetup {
            db: db.clone(),
            events: events.clone(),
            obs: obs.clone(),
            clips_dir: clips_dir.clone(),
            recordings_dir,
            ffmpeg,
        },
        recorder_cancel.clone(),
        &tracker,
    );
    let generator_cancel = cancel.child_token();
    let (generator, generator_task) = GenerationWorker::spawn(
        WorkerSetup {
            db: db.clone(),
            events: events.clone(),
            replies: replies.clone(),
            secrets: secrets.clone(),
            signals: signals.clone(),
            options: generator_options,
            clips_dir,
            obs: obs.clone(),
        },
        obs_reports,
        generator_cancel.clone(),
        &tracker,
    );
    let (queue, queue_task) = GenerationQueue::spawn(
        QueueSetup {
            db: db.clone(),
            events,
            replies: replies.clone(),
            options: queue_options,
            signals,
            obs: obs.clone(),
        },
        inbound_rx,
        queue_cancel.clone(),
        &tracker,
    );
    let account_cancel = cancel.child_token();
    let account_options = AccountOptions {
        base_url: std::env::var(TWITCH_ID_URL_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| crate::twitch_auth::DEFAULT_BASE_URL.to_string()),
        ..AccountOptions::default()
    };
    let (account, account_task) =
        match TwitchAccount::start(secrets, account_options, account_cancel.clone()) {
            Ok(started) => started,
            Err(e) => {
                let _ = ready.send(Err(e.into()));
                return;
            }
        };
    tracker.spawn(forward_account(
        account.watch(),
        events_for_account,
        cancel.clone(),
    ));
    if ready
        .send(Ok(Started {
            chat,
            kick,
            queue,
            replies,
            generator,
            obs,
            moments,
            recorder,
            account,
        }))
        .is_err()
    {
        cancel.cancel();
    }
    cancel.cancelled().await;
    // Fixed order: chat first (it writes its last second and ends its session; nothing new
    // reaches the queue after it), then the moment detector (it takes what chat sent and
    // closes open moments), then the generator (the item in hand is written as interrupted,
    // its partial file removed), then the recorder (streamlink stopped with SIGINT so its file
    // is finalised), then OBS (disconnects), then the replies (nothing left to say to), then
    // the queue (it finishes the event in hand), then the account, then the database. Each
    // step has SHUTDOWN_STEP_TIMEOUT; one that is stuck is logged and left behind.
    let mut shutdown = Shutdown::new();
    shutdown.then("chat", chat_cancel, chat_task);
    shutdown.then("kick", kick_cancel, kick_task);
    shutdown.then("moments", moments_cancel, moments_task);
    shutdown.then("generator", generator_cancel, generator_task);
    shutdown.then("recorder", recorder_cancel, recorder_task);
    shutdown.then("obs", obs_cancel, obs_task);
    shutdown.then("replies", replies_cancel, replies_task);
    shutdown.then("queue", queue_cancel, queue_task);
    shutdown.then("account", account_cancel, account_task);
    let report = shutdown.run(SHUTDOWN_STEP_TIMEOUT).await;
    if !report.timed_out.is_empty() {
        tracing::warn!(steps = ?report.timed_out, "shutdown went on without these actors");
    }
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_STEP_TIMEOUT, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            tasks = tracker.len(),
            "tracked tasks still running after the actors stopped; left behind"
        );
    }
    db.close().await;
}

/// Announces every change of the Twitch login.
async fn forward_account(
    mut rx: tokio::sync::watch::Receiver<AccountState>,
    events: EventBus,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
                let state = rx.borrow_and_update().clone();
                events.publish(CoreEvent::Account { state });
            }
        }
    }
}

/// How to reach Kick: the config's app key and cluster, or the development overrides.
fn kick_options(config: &Config, backoff: Backoff) -> KickOptions {
    let env = |name: &str| std::env::var(name).ok().filter(|s| !s.trim().is_empty());
    let mut o = KickOptions {
        app_key: config.kick.app_key.trim().to_string(),
        cluster: config.kick.cluster.trim().to_string(),
        backoff,
        ..KickOptions::default()
    };
    if let Some(url) = env(KICK_WS_URL_ENV) {
        tracing::warn!(%url, "Kick chat address overridden (development/testing)");
        o.ws_url = url;
    }
    if let Some(url) = env(KICK_API_URL_ENV) {
        o.api_base = url;
    }
    o
}

fn login_error(e: AuthError) -> ApiError {
    ApiError::new(ErrorCode::Login, e.to_string())
}

fn twitch_credentials(config: &Config, secrets: &dyn SecretStore) -> Option<TwitchCredentials> {
    let login = config.chat.twitch_login.trim();
    if login.is_empty() {
        return None;
    }
    match secrets.get(SecretKey::TwitchToken) {
        Ok(Some(token)) => Some(TwitchCredentials::new(login, &token)),
        Ok(None) => {
            tracing::info!("no Twitch token saved: reading chat anonymously");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read the Twitch token: reading chat anonymously");
            None
        }
    }
}
