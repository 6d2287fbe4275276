//! The engine: starts the actors, hands out their handles, and shuts them down in order.
//!
//! The actors run on one dedicated current-thread Tokio runtime ("streamcue-engine"): chat
//! parsing is cheapest there (no cross-thread wake-ups) and the UI's runtime stays free.
//! Shutdown order (fixed, in `run_engine`): chat → Kick → moments → generator → recorder →
//! OBS → replies → queue → account → remaining tracked tasks → database (checkpoint, close),
//! each step under [`SHUTDOWN_STEP_TIMEOUT`] (see [`crate::actor::Shutdown`]). Nothing is
//! announced after the database closes.
//!
//! This file holds the options, the errors and [`Engine`] itself (accessors, ordered stop).
//! The rest is split by concern:
//! - `start`: [`Engine::start`], what is prepared on the caller's thread (config, notices,
//!   the chat dialer's target) before the engine thread is spawned;
//! - `run`: `run_engine` on the engine thread: opens the database, starts and wires the
//!   actors, then runs the ordered shutdown;
//! - `handle`: [`EngineHandle`], what commands need.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::api::{ApiError, AppSnapshot, ChatState, ChatTarget};
use crate::chat::{Backoff, ChatClient, ChatSlot};
use crate::config::Config;
use crate::db::DbError;
use crate::events::EventBus;
use crate::paths::AppPaths;
use crate::secrets::SecretStore;
use crate::twitch_auth::AuthError;

mod handle;
mod run;
mod start;

pub use handle::EngineHandle;

/// The environment variable that points Twitch IRC at another address (plain TCP).
/// A development and testing knob; never set in normal use.
pub const TWITCH_IRC_ADDR_ENV: &str = "STREAMCUE_TWITCH_IRC_ADDR";

/// Environment variables that point Kick chat at another Pusher server (a full `ws://` URL)
/// and Kick's channel lookup at another web server. Development and testing knobs.
pub const KICK_WS_URL_ENV: &str = "STREAMCUE_KICK_WS_URL";
pub const KICK_API_URL_ENV: &str = "STREAMCUE_KICK_API_URL";
/// Development/testing: a streamlink recording checks an offline stream every this many
/// milliseconds (default 60 s).
pub const STREAMLINK_LIVE_POLL_MS_ENV: &str = "STREAMCUE_STREAMLINK_LIVE_POLL_MS";
/// Development/testing: read Kick's viewer count every this many milliseconds (default 60 s).
pub const KICK_VIEWERS_EVERY_MS_ENV: &str = "STREAMCUE_KICK_VIEWERS_EVERY_MS";

/// The environment variable that points "Log in with Twitch" at another identity server
/// (e.g. `http://127.0.0.1:PORT`). A development and testing knob; never set in normal use.
pub const TWITCH_ID_URL_ENV: &str = "STREAMCUE_TWITCH_ID_URL";

/// How long each shutdown step may take before Quit goes on without it.
pub const SHUTDOWN_STEP_TIMEOUT: Duration = Duration::from_secs(5);

pub struct EngineOptions {
    pub paths: AppPaths,
    pub secrets: Arc<dyn SecretStore>,
    /// `Some(addr)`: dial this plain-TCP address instead of Twitch.
    pub twitch_irc_addr: Option<String>,
    /// Reconnect backoff (tests shorten it).
    pub backoff: Backoff,
    /// Where the local server's port comes from (settings, or fixed by the environment).
    pub local_server: crate::server::PortChoice,
    /// The built web UI, for the local server's overlay page (the shell passes Tauri's).
    pub ui_assets: Option<Arc<dyn crate::server::UiAssets>>,
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
            local_server: local_server_port(std::env::var(crate::server::SERVER_PORT_ENV).ok()),
            ui_assets: None,
        }
    }
}

/// The local server's port from `STREAMCUE_SERVER_PORT` (unset: the settings; `off`: off; a
/// value that is not a port: the settings, with a warning).
fn local_server_port(env: Option<String>) -> crate::server::PortChoice {
    use crate::server::PortChoice;
    match env.as_deref().map(str::trim) {
        None | Some("") => PortChoice::Settings,
        Some(v) if v.eq_ignore_ascii_case("off") => PortChoice::Fixed(None),
        Some(v) => match v.parse() {
            Ok(port) => PortChoice::Fixed(Some(port)),
            Err(_) => {
                tracing::warn!(
                    value = v,
                    "{} is not a port: using the settings",
                    crate::server::SERVER_PORT_ENV
                );
                PortChoice::Settings
            }
        },
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

/// A running engine. Dropping it without [`Engine::shutdown`] cancels the actors but does not
/// wait for them.
pub struct Engine {
    handle: EngineHandle,
    cancel: CancellationToken,
    stopped: Option<oneshot::Receiver<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    config: Config,
}

impl Engine {
    pub fn handle(&self) -> EngineHandle {
        self.handle.clone()
    }

    pub fn chat(&self) -> &ChatClient {
        &self.handle.actors.chat
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
