//! IPC and HTTP types of the local server: its settings, what the window shows about it, and
//! the overlay page's first state.

use serde::{Deserialize, Serialize};
use specta::Type;

use super::{Moment, QueueView};

/// The local server's saved settings (Settings → Local server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase", default)]
pub struct ServerSettings {
    pub enabled: bool,
    /// The port on 127.0.0.1 (1024–65535).
    pub port: u16,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            port: crate::server::DEFAULT_PORT,
        }
    }
}

/// What the server is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum ServerPhase {
    Off,
    Listening,
    /// It could not listen (`message` says why and what to do).
    Failed,
}

/// The local server as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ServerView {
    pub settings: ServerSettings,
    pub phase: ServerPhase,
    /// The base URL while listening (`http://127.0.0.1:7373`).
    pub url: Option<String>,
    /// Why it is not listening, in words.
    pub message: Option<String>,
    /// Event-stream clients connected now (overlays, dashboards).
    pub clients: u32,
    /// Set when `STREAMCUE_SERVER_PORT` decides the port (and on/off) instead of the settings.
    pub overridden_by: Option<String>,
    /// Whether the control API's token is kept in the OS keyring (else it lasts until Quit).
    pub token_saved: bool,
}

/// The overlay page's first state: the queue, the latest session's moments and the
/// watch-along card (then it follows `/events`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct OverlaySnapshot {
    pub queue: QueueView,
    pub moments: Vec<Moment>,
    pub watch: crate::api::WatchView,
}

/// Whether StreamCue can save (the data folder's disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum StoragePhase {
    Ok,
    /// Little space left (under a tenth of the disk, at most 500 MB): saving still works.
    Low,
    /// A database write failed (the disk is full, or the file cannot be written): nothing new
    /// is kept until it works again, which StreamCue checks by itself every few seconds.
    CannotSave,
}

/// The data folder's disk as the window shows it (a banner while not `ok`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct StorageView {
    pub phase: StoragePhase,
    /// Free space on the data folder's disk, MB (decimal).
    pub free_mb: f64,
    /// The data folder.
    pub path: String,
    /// What is wrong and what to do (`None` while `ok`).
    pub message: Option<String>,
}
