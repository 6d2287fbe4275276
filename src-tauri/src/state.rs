//! What the shell keeps in Tauri's managed state: the engine handle (or why it failed to
//! start) and the engine itself, only to shut it down on exit.

use std::sync::Mutex;

use streamcue::api::{ApiError, ErrorCode};
use streamcue::{Engine, EngineHandle};

/// The handle commands use; `Err` when the engine could not start (the UI shows why).
pub struct EngineSlot(pub Result<EngineHandle, String>);

impl EngineSlot {
    pub fn get(&self) -> Result<&EngineHandle, ApiError> {
        self.0
            .as_ref()
            .map_err(|why| ApiError::new(ErrorCode::StartupFailed, why.clone()))
    }
}

/// Owns the running engine until the app exits.
pub struct EngineLifetime(pub Mutex<Option<Engine>>);
