//! `LocalServer`: StreamCue's HTTP server for tools outside the window (monitoring, OBS
//! browser sources, Stream Decks, scripts), an actor like the others.
//!
//! It listens on **127.0.0.1 only** (port 7373 by default, switchable off and movable in
//! Settings → Local server; `STREAMCUE_SERVER_PORT` overrides both). It follows the core's
//! events into a health projection ([`health`]) and Prometheus metrics ([`metrics`]), and
//! serves them with the live event stream, the overlay page ([`overlay`]) and the control API
//! ([`control`], behind a [`token`]). A port that is taken is a notice in the window, never a
//! crash.
//!
//! Invariants: nothing is served on another interface; every connection holds one of
//! [`http::MAX_CONNECTIONS`] permits (event-stream clients included); the event follower never
//! blocks a publisher (it reads the broadcast bus and drops to "resync" when it lags); the
//! control API changes nothing without the token.

pub mod assets;
mod control;
pub mod health;
mod http;
pub mod metrics;
mod overlay;
pub mod token;
mod webhook;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actor::Mailbox;
use crate::api::{ApiError, CoreEvent, ErrorCode, ServerPhase, ServerSettings, ServerView};
use crate::db::{Database, Setting};
use crate::events::EventBus;
use crate::moments::MomentDetector;
use crate::queue::GenerationQueue;
use crate::recorder::Recorder;
use crate::secrets::{Secret, SecretStore};

pub use assets::{DirAssets, UiAssets};

/// The default port.
pub const DEFAULT_PORT: u16 = 7373;
/// `N` fixes the port, `0` takes any free one, `off` switches the server off; either way the
/// settings are not used.
pub const SERVER_PORT_ENV: &str = "STREAMCUE_SERVER_PORT";
/// The lowest port the settings accept (below are for the system).
pub const PORT_MIN: u16 = 1024;

const SETTINGS: Setting<ServerSettings> = Setting::new("server.settings");

/// Where the port comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortChoice {
    /// Settings → Local server.
    Settings,
    /// [`SERVER_PORT_ENV`] (or a test): this port (`0`: any free one), or off.
    Fixed(Option<u16>),
}

/// What the server is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerState {
    Off,
    Listening { addr: SocketAddr },
    Failed { message: String },
}

impl ServerState {
    /// The base URL while listening (`http://127.0.0.1:7373`).
    pub fn url(&self) -> Option<String> {
        match self {
            ServerState::Listening { addr } => Some(format!("http://{addr}")),
            _ => None,
        }
    }
}

/// The actors the control API and the overlay use.
#[derive(Clone, Debug)]
pub struct Controls {
    pub queue: GenerationQueue,
    pub recorder: Recorder,
    pub moments: MomentDetector,
    /// Takes the watch-along controller's webhooks (`POST /watch/status`).
    pub watch: crate::watch::WatchAlong,
}

/// What the handlers share.
pub(crate) struct Shared {
    pub(crate) health: Mutex<health::HealthInputs>,
    pub(crate) metrics: Mutex<metrics::Metrics>,
    pub(crate) db: Database,
    pub(crate) events: EventBus,
    pub(crate) started: Instant,
    pub(crate) controls: Controls,
    pub(crate) token: Arc<token::ApiToken>,
    pub(crate) assets: Option<Arc<dyn UiAssets>>,
    /// Event-stream clients connected now.
    pub(crate) clients: watch::Sender<u32>,
}

/// How the server is set up.
pub struct ServerSetup {
    pub db: Database,
    pub events: EventBus,
    /// Subscribed before any other actor started, so the projections see every event.
    pub follow: broadcast::Receiver<CoreEvent>,
    pub port: PortChoice,
    pub controls: Controls,
    pub secrets: Arc<dyn SecretStore>,
    pub assets: Option<Arc<dyn UiAssets>>,
}

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

enum Command {
    State(Reply<ServerState>),
    View(Reply<ServerView>),
    Configure(ServerSettings, Reply<ServerView>),
}

/// Handle on the local server.
#[derive(Clone)]
pub struct LocalServer {
    mailbox: Mailbox<Command>,
    token: Arc<token::ApiToken>,
}

impl std::fmt::Debug for LocalServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalServer")
            .field("mailbox", &self.mailbox)
            .finish_non_exhaustive()
    }
}

impl LocalServer {
    pub fn spawn(
        setup: ServerSetup,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (mailbox, rx) = Mailbox::new(8);
        let token = Arc::new(token::ApiToken::new(setup.secrets));
        let (clients, clients_rx) = watch::channel(0);
        let shared = Arc::new(Shared {
            health: Mutex::new(health::HealthInputs::default()),
            metrics: Mutex::new(metrics::Metrics::new()),
            db: setup.db,
            events: setup.events,
            started: Instant::now(),
            controls: setup.controls,
            token: token.clone(),
            assets: setup.assets,
            clients,
        });
        let actor = Actor {
            shared,
            choice: setup.port,
            settings: ServerSettings::default(),
            state: ServerState::Off,
            listening: None,
            cancel,
            tracker: tracker.clone(),
        };
        let task = tracker.spawn(actor.run(setup.follow, rx, clients_rx));
        (Self { mailbox, token }, task)
    }

    pub async fn state(&self) -> Result<ServerState, ApiError> {
        self.mailbox.ask(Command::State).await?
    }

    pub async fn view(&self) -> Result<ServerView, ApiError> {
        self.mailbox.ask(Command::View).await?
    }

    /// Saves the settings, then listens (or stops) as they say.
    pub async fn configure(&self, settings: ServerSettings) -> Result<ServerView, ApiError> {
        self.mailbox
            .ask(|r| Command::Configure(settings, r))
            .await?
    }

    /// The control API's token (made and saved on first use).
    pub async fn token(&self) -> Secret {
        self.token.get_or_create().await
    }

    /// A new control API token; the old one stops working.
    pub async fn regenerate_token(&self) -> Secret {
        self.token.regenerate().await
    }
}

struct Actor {
    shared: Arc<Shared>,
    choice: PortChoice,
    settings: ServerSettings,
    state: ServerState,
    /// Stops the accept loop (and its connections) of the current listener.
    listening: Option<CancellationToken>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Actor {
    async fn run(
        mut self,
        mut follow: broadcast::Receiver<CoreEvent>,
        mut rx: mpsc::Receiver<Command>,
        mut clients: watch::Receiver<u32>,
    ) {
        self.shared.token.load().await;
        self.settings = SETTINGS.load(&self.shared.db).await;
        self.apply().await;
        loop {
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break,
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd).await,
                    None => break,
                },
                changed = clients.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    clients.borrow_and_update();
                    self.announce();
                }
                event = follow.recv() => match event {
                    Ok(event) => {
                        if let Ok(mut h) = self.shared.health.lock() {
                            h.apply(&event);
                        }
                        if let Ok(mut m) = self.shared.metrics.lock() {
                            m.apply(&event);
                        }
                    }
                    // Totals in later events make up for what was missed.
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::debug!(missed = n, "local server lagged behind the events");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        self.stop_listening();
        tracing::info!("local server stopped");
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::State(reply) => drop(reply.send(Ok(self.state.clone()))),
            Command::View(reply) => drop(reply.send(Ok(self.view()))),
            Command::Configure(settings, reply) => {
                let result = self.configure(settings).await;
                drop(reply.send(result));
            }
        }
    }

    async fn configure(&mut self, settings: ServerSettings) -> Result<ServerView, ApiError> {
        if settings.port < PORT_MIN {
            return Err(ApiError::new(
                ErrorCode::InvalidSettings,
                format!("The port must be {PORT_MIN}–65535 (lower ones are for the system)."),
            ));
        }
        SETTINGS.save(&self.shared.db, &settings).await?;
        let changed = settings != self.settings;
        self.settings = settings;
        if changed && self.choice == PortChoice::Settings {
            self.apply().await;
        }
        Ok(self.view())
    }

    /// The port to use now (`None`: off).
    fn port(&self) -> Option<u16> {
        match self.choice {
            PortChoice::Fixed(port) => port,
            PortChoice::Settings => self.settings.enabled.then_some(self.settings.port),
        }
    }

    /// Stops the current listener (if any) and starts the one the settings ask for.
    async fn apply(&mut self) {
        self.stop_listening();
        self.state = match self.port() {
            None => ServerState::Off,
            Some(port) => match http::listen(port).await {
                Ok(listener) => {
                    let addr = listener
                        .local_addr()
                        .expect("a bound socket has an address");
                    let stop = self.cancel.child_token();
                    self.tracker.spawn(http::serve(
                        listener,
                        self.shared.clone(),
                        stop.clone(),
                        self.tracker.clone(),
                    ));
                    self.listening = Some(stop);
                    tracing::info!(%addr, "local server listening");
                    ServerState::Listening { addr }
                }
                Err(e) => {
                    let message = if e.kind() == std::io::ErrorKind::AddrInUse {
                        format!(
                            "The local server could not start: port {port} on 127.0.0.1 is used by another program. Close it, or choose another port in Settings → Local server."
                        )
                    } else {
                        format!("The local server could not start on 127.0.0.1:{port}: {e}.")
                    };
                    tracing::warn!(%message, "local server not started");
                    ServerState::Failed { message }
                }
            },
        };
        self.announce();
    }

    fn stop_listening(&mut self) {
        if let Some(stop) = self.listening.take() {
            stop.cancel();
        }
    }

    fn announce(&self) {
        self.shared.events.publish(CoreEvent::LocalServer {
            server: self.view(),
        });
    }

    fn view(&self) -> ServerView {
        let (phase, message) = match &self.state {
            ServerState::Off => (ServerPhase::Off, None),
            ServerState::Listening { .. } => (ServerPhase::Listening, None),
            ServerState::Failed { message } => (ServerPhase::Failed, Some(message.clone())),
        };
        ServerView {
            settings: self.settings,
            phase,
            url: self.state.url(),
            message,
            clients: *self.shared.clients.borrow(),
            overridden_by: match self.choice {
                PortChoice::Settings => None,
                PortChoice::Fixed(Some(port)) => Some(format!("{SERVER_PORT_ENV}={port}")),
                PortChoice::Fixed(None) => Some(format!("{SERVER_PORT_ENV}=off")),
            },
            token_saved: self.shared.token.saved(),
        }
    }
}
