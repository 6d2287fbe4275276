//! The engine harness: an [`Engine`] running in a temporary data folder with every
//! `CoreEvent` recorded ([`EventLog`]), and the small helpers tests share (bounded waits,
//! tracing into the test's captured output, config files).
//!
//! Invariants: every wait is bounded and panics with what it was waiting for; engines that
//! talk to Twitch never overlap inside one test process (the dial target is process-wide, so
//! [`Harness`] holds a lock for them from before `Engine::start` until the engine has shut
//! down, even when the test fails).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use streamcue::api::{AppSnapshot, ChatCounters, ChatSlot, ChatState, CoreEvent, VelocityPoint};
use streamcue::chat::Backoff;
use streamcue::db::Database;
use streamcue::paths::AppPaths;
use streamcue::secrets::{MemoryStore, Secret, SecretKey, SecretStore};
use streamcue::server::{DirAssets, PortChoice};
use streamcue::{Engine, EngineOptions};
use tokio::sync::{broadcast, watch, MutexGuard};

pub use crate::ids::now_ms;
use crate::watched::wait_for;

/// The Twitch dial target and backoff are process-wide (see `chat::dialer`), so engines that
/// talk to Twitch must not overlap inside one test process. Every harness holds this lock
/// from before `Engine::start` until the engine has shut down.
static TWITCH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Short reconnect backoff for tests.
pub fn short_backoff() -> Backoff {
    Backoff {
        base: Duration::from_millis(50),
        cap: Duration::from_millis(500),
    }
}

/// Logs go to the test's captured output (shown when a test fails). `RUST_LOG` overrides.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,twitch_irc=warn,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Fails the test if `fut` does not finish within `limit`.
pub async fn within<T>(
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = T>,
) -> T {
    match tokio::time::timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// How to start a [`Harness`].
pub struct HarnessOptions {
    pub twitch_irc_addr: Option<String>,
    /// Written to `config.toml` before start.
    pub config_toml: Option<Vec<u8>>,
    /// Put in the secret store as the Twitch token.
    pub twitch_token: Option<String>,
    pub backoff: Backoff,
    /// Reuse this data folder (e.g. one prepared by the test).
    pub dir: Option<tempfile::TempDir>,
    /// Pause generation at start (tests of the queue alone: approved requests stay approved).
    pub generation_paused: bool,
    /// The local server's port on 127.0.0.1 (`Fixed(Some(0))`: a free one; off by default in
    /// tests; `Settings`: as Settings → Local server says).
    pub local_server: PortChoice,
    /// The secret store (default: an in-memory one; the keyring tests pass the real keyring).
    pub secrets: Option<Arc<dyn SecretStore>>,
}

impl Default for HarnessOptions {
    fn default() -> Self {
        Self {
            twitch_irc_addr: None,
            config_toml: None,
            twitch_token: None,
            backoff: short_backoff(),
            dir: None,
            generation_paused: false,
            local_server: PortChoice::Fixed(None),
            secrets: None,
        }
    }
}

/// An engine running in a temporary data folder, with every `CoreEvent` recorded.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub paths: AppPaths,
    engine: Option<Engine>,
    pub events: EventLog,
    _twitch: Option<MutexGuard<'static, ()>>,
}

impl Harness {
    /// An engine whose Twitch connections go to `addr` (takes the process-wide Twitch lock).
    pub async fn twitch(addr: &str) -> Harness {
        Self::start(HarnessOptions {
            twitch_irc_addr: Some(addr.to_string()),
            ..Default::default()
        })
        .await
    }

    pub async fn start(options: HarnessOptions) -> Harness {
        init_tracing();
        let guard = match options.twitch_irc_addr {
            Some(_) => Some(within(secs(120.0), "the Twitch test lock", TWITCH.lock()).await),
            None => None,
        };
        let dir = options
            .dir
            .unwrap_or_else(|| tempfile::tempdir().expect("temp dir"));
        let paths = AppPaths::under(dir.path());
        if let Some(text) = &options.config_toml {
            std::fs::write(&paths.config_file, text).expect("write config.toml");
        }
        let secrets: Arc<dyn SecretStore> = options
            .secrets
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryStore::default()));
        if let Some(token) = &options.twitch_token {
            secrets
                .set(SecretKey::TwitchToken, &Secret::new(token.clone()))
                .unwrap();
        }
        let engine = within(
            secs(10.0),
            "Engine::start",
            Engine::start(EngineOptions {
                paths: paths.clone(),
                secrets,
                twitch_irc_addr: options.twitch_irc_addr,
                backoff: options.backoff,
                local_server: options.local_server,
                // The overlay page from this checkout's UI build (scripts/test.sh builds it).
                ui_assets: Some(Arc::new(DirAssets::new(
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist"),
                ))),
            }),
        )
        .await
        .expect("engine starts");
        if options.generation_paused {
            engine
                .handle()
                .generator()
                .set_paused(true)
                .await
                .expect("generation paused");
        }
        let events = EventLog::start(&engine);
        Harness {
            dir,
            paths,
            engine: Some(engine),
            events,
            _twitch: guard,
        }
    }

    pub fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("engine already shut down")
    }

    /// The local server's address (it must be listening: see `HarnessOptions::local_server`).
    pub async fn server_addr(&self) -> std::net::SocketAddr {
        match self.engine().handle().server().state().await.unwrap() {
            streamcue::server::ServerState::Listening { addr } => addr,
            other => panic!("the local server is not listening: {other:?}"),
        }
    }

    pub async fn snapshot(&self) -> AppSnapshot {
        within(secs(5.0), "snapshot", self.engine().snapshot())
            .await
            .expect("snapshot")
    }

    pub async fn counters(&self) -> ChatCounters {
        self.snapshot().await.slot(ChatSlot::Main).counters
    }

    /// The main chat slot's state, from a fresh snapshot.
    pub async fn chat_state(&self) -> ChatState {
        self.snapshot().await.slot(ChatSlot::Main).state.clone()
    }

    /// Polls the snapshot until `pred` holds on the counters; panics after `limit`.
    pub async fn wait_counters(
        &self,
        limit: Duration,
        what: &str,
        pred: impl Fn(&ChatCounters) -> bool,
    ) -> ChatCounters {
        let deadline = Instant::now() + limit;
        loop {
            let counters = self.counters().await;
            if pred(&counters) {
                return counters;
            }
            if Instant::now() >= deadline {
                panic!("timed out after {limit:?} waiting for counters: {what}; last {counters:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Shuts the engine down, failing the test if that takes longer than `limit`.
    /// Returns how long it took.
    pub async fn shutdown_within(&mut self, limit: Duration) -> Duration {
        let engine = self.engine.take().expect("engine already shut down");
        let t0 = Instant::now();
        within(limit, "Engine::shutdown", engine.shutdown()).await;
        t0.elapsed()
    }

    /// Opens the database again (only after shutdown: it takes an exclusive lock).
    pub async fn reopen_db(&self) -> Database {
        assert!(
            self.engine.is_none(),
            "shut the engine down before reopening its database"
        );
        within(
            secs(10.0),
            "Database::open",
            Database::open(&self.paths.database_file),
        )
        .await
        .expect("the database opens again after shutdown")
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // A failed test still stops its engine before the Twitch lock is released, so that a
        // leftover session cannot dial the next test's server.
        if let Some(engine) = self.engine.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(async {
                        let _ =
                            tokio::time::timeout(Duration::from_secs(10), engine.shutdown()).await;
                    });
                }
            })
            .join();
        }
    }
}

/// One recorded event and when the recorder saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub at_ms: i64,
    pub event: CoreEvent,
}

/// Records every `CoreEvent` of an engine (from the moment it is created).
pub struct EventLog {
    seen: Arc<Mutex<Vec<Seen>>>,
    lagged: Arc<Mutex<u64>>,
    version: watch::Receiver<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl EventLog {
    pub fn start(engine: &Engine) -> Self {
        let mut rx = engine.events().subscribe();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let lagged = Arc::new(Mutex::new(0));
        let (tx, version) = watch::channel(0u64);
        let (seen2, lagged2) = (seen.clone(), lagged.clone());
        let task = tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(event) => {
                        seen2.lock().unwrap().push(Seen {
                            at: Instant::now(),
                            at_ms: now_ms(),
                            event,
                        });
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => *lagged2.lock().unwrap() += n,
                    Err(broadcast::error::RecvError::Closed) => break,
                }
                tx.send_modify(|v| *v += 1);
            }
        });
        Self {
            seen,
            lagged,
            version,
            task,
        }
    }

    pub fn all(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn lagged(&self) -> u64 {
        *self.lagged.lock().unwrap()
    }

    /// What `pick` takes from each event, in order (e.g. every `Moment`).
    pub fn pick<T>(&self, pick: impl Fn(CoreEvent) -> Option<T>) -> Vec<T> {
        self.all()
            .into_iter()
            .filter_map(|s| pick(s.event))
            .collect()
    }

    /// Every `QueueItem` announced, in order.
    pub fn items(&self) -> Vec<streamcue::api::QueueItem> {
        self.pick(|e| match e {
            CoreEvent::QueueItem { item } => Some(item),
            _ => None,
        })
    }

    /// Every `Moment` announced (new or updated), in order.
    pub fn moments(&self) -> Vec<streamcue::api::Moment> {
        self.pick(|e| match e {
            CoreEvent::Moment { moment } => Some(moment),
            _ => None,
        })
    }

    /// Every `ChatState` announced, in order.
    pub fn states(&self) -> Vec<ChatState> {
        self.states_timed().into_iter().map(|(_, _, s)| s).collect()
    }

    /// Every `ChatState` announced, with when it was seen (`Instant`, Unix ms).
    pub fn states_timed(&self) -> Vec<(Instant, i64, ChatState)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(|s| match &s.event {
                CoreEvent::ChatState {
                    slot: ChatSlot::Main,
                    state,
                } => Some((s.at, s.at_ms, state.clone())),
                _ => None,
            })
            .collect()
    }

    /// Every velocity point announced with the counters that came with it.
    pub fn velocity(&self) -> Vec<(VelocityPoint, ChatCounters)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(|s| match &s.event {
                CoreEvent::Velocity {
                    slot: ChatSlot::Main,
                    point,
                    counters,
                } => Some((*point, *counters)),
                _ => None,
            })
            .collect()
    }

    /// Waits until `pred` holds on the recorded events; panics after `limit`.
    pub async fn wait(&self, limit: Duration, what: &str, mut pred: impl FnMut(&EventLog) -> bool) {
        let ok = wait_for(self.version.clone(), limit, || pred(self)).await;
        if !ok {
            panic!(
                "timed out after {limit:?} waiting for {what}; states seen: {:#?}",
                self.states()
            );
        }
    }

    /// Waits until at least `n` announced states match `pred`; returns the `n`-th.
    pub async fn wait_state(
        &self,
        limit: Duration,
        n: usize,
        what: &str,
        pred: impl Fn(&ChatState) -> bool,
    ) -> ChatState {
        self.wait(limit, what, |log| {
            log.states().iter().filter(|s| pred(s)).count() >= n
        })
        .await;
        self.states()
            .into_iter()
            .filter(|s| pred(s))
            .nth(n - 1)
            .expect("state just seen")
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn is_connected(s: &ChatState) -> bool {
    matches!(s, ChatState::Connected { .. })
}

pub fn is_reconnecting(s: &ChatState) -> bool {
    matches!(s, ChatState::Reconnecting { .. })
}

/// Writes `text` as the config file of the data folder `dir`.
pub fn write_config(dir: &Path, text: &str) {
    std::fs::write(AppPaths::under(dir).config_file, text).expect("write config.toml");
}

/// A chat slot's view in a snapshot (every slot is always there).
pub trait SnapshotSlots {
    fn slot(&self, slot: ChatSlot) -> &streamcue::api::ChatView;
}

impl SnapshotSlots for AppSnapshot {
    fn slot(&self, slot: ChatSlot) -> &streamcue::api::ChatView {
        self.chat(slot)
            .unwrap_or_else(|| panic!("the snapshot has no {slot:?} chat"))
    }
}
