//! What the shell keeps in Tauri's managed state: the engine handle (or why it failed to
//! start), the engine itself (only to shut it down on exit), and what a new start needs (the
//! fatal screen's Try again).

use std::sync::{Arc, Mutex, RwLock};

use streamcue::api::ApiError;
use streamcue::paths::AppPaths;
use streamcue::secrets::SecretStore;
use streamcue::server::UiAssets;
use streamcue::{Engine, EngineHandle};

/// The handle commands use; `Err` when the engine could not start (the UI shows why, by code).
pub struct EngineSlot(RwLock<Result<EngineHandle, ApiError>>);

impl EngineSlot {
    pub fn new(started: Result<EngineHandle, ApiError>) -> Self {
        Self(RwLock::new(started))
    }

    pub fn get(&self) -> Result<EngineHandle, ApiError> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, started: Result<EngineHandle, ApiError>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = started;
    }
}

/// Owns the running engine until the app exits.
pub struct EngineLifetime(pub Mutex<Option<Engine>>);

/// What starting the engine again needs.
pub struct StartAgain {
    pub paths: AppPaths,
    pub secrets: Arc<dyn SecretStore>,
    pub ui_assets: Arc<dyn UiAssets>,
}
