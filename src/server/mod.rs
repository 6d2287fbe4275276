//! `LocalServer`: StreamCue's HTTP server for tools outside the window (monitoring, OBS
//! browser sources, scripts), an actor like the others.
//!
//! It listens on **127.0.0.1 only** (port 7373 by default). It follows the core's events into a
//! health projection ([`health`]) and Prometheus metrics ([`metrics`]), and serves them with the
//! live event stream ([`http`]). A port that is taken is a notice in the window, never a crash.
//!
//! Invariants: nothing is served on another interface; every connection holds one of
//! [`http::MAX_CONNECTIONS`] permits (event-stream clients included); the event follower never
//! blocks a publisher (it reads the broadcast bus and drops to "resync" when it lags).

pub mod health;
mod http;
pub mod metrics;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actor::Mailbox;
use crate::api::{ApiError, CoreEvent};
use crate::db::Database;
use crate::events::EventBus;

/// The default port (`STREAMCUE_SERVER_PORT` overrides it; `off` switches the server off).
pub const DEFAULT_PORT: u16 = 7373;
pub const SERVER_PORT_ENV: &str = "STREAMCUE_SERVER_PORT";

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

/// What the handlers share: the projections, the database (for the write probe) and the bus.
pub(crate) struct Shared {
    pub(crate) health: Mutex<health::HealthInputs>,
    pub(crate) metrics: Mutex<metrics::Metrics>,
    pub(crate) db: Database,
    pub(crate) events: EventBus,
    pub(crate) started: Instant,
}

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

enum Command {
    State(Reply<ServerState>),
}

/// Handle on the local server.
#[derive(Clone, Debug)]
pub struct LocalServer {
    mailbox: Mailbox<Command>,
}

impl LocalServer {
    /// Starts following events at once (so the projections see everything from the start) and
    /// listens on `port` (0: any free port; `None`: off).
    pub fn spawn(
        db: Database,
        events: EventBus,
        port: Option<u16>,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (mailbox, rx) = Mailbox::new(8);
        let shared = Arc::new(Shared {
            health: Mutex::new(health::HealthInputs::default()),
            metrics: Mutex::new(metrics::Metrics::new()),
            db,
            events,
            started: Instant::now(),
        });
        let follow = shared.events.subscribe();
        let task = tracker.spawn(run(shared, port, follow, rx, cancel, tracker.clone()));
        (Self { mailbox }, task)
    }

    pub async fn state(&self) -> Result<ServerState, ApiError> {
        self.mailbox.ask(Command::State).await?
    }
}

async fn run(
    shared: Arc<Shared>,
    port: Option<u16>,
    mut follow: broadcast::Receiver<CoreEvent>,
    mut rx: mpsc::Receiver<Command>,
    cancel: CancellationToken,
    tracker: TaskTracker,
) {
    let state = match port {
        None => ServerState::Off,
        Some(port) => match http::listen(port).await {
            Ok(listener) => {
                let addr = listener
                    .local_addr()
                    .expect("a bound socket has an address");
                tracker.spawn(http::serve(
                    listener,
                    shared.clone(),
                    cancel.child_token(),
                    tracker.clone(),
                ));
                tracing::info!(%addr, "local server listening");
                ServerState::Listening { addr }
            }
            Err(e) => {
                let message = if e.kind() == std::io::ErrorKind::AddrInUse {
                    format!(
                        "The local server could not start: port {port} on 127.0.0.1 is used by another program. Close it, or start StreamCue with {SERVER_PORT_ENV}=<another port>."
                    )
                } else {
                    format!("The local server could not start on 127.0.0.1:{port}: {e}.")
                };
                // The window shows it among the notices of its snapshot (EngineHandle).
                tracing::warn!(%message, "local server not started");
                ServerState::Failed { message }
            }
        },
    };
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            cmd = rx.recv() => match cmd {
                Some(Command::State(reply)) => drop(reply.send(Ok(state.clone()))),
                None => break,
            },
            event = follow.recv() => match event {
                Ok(event) => {
                    if let Ok(mut h) = shared.health.lock() {
                        h.apply(&event);
                    }
                    if let Ok(mut m) = shared.metrics.lock() {
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
    tracing::info!("local server stopped");
}
