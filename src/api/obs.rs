//! IPC types of the OBS integration: settings, live state and the set-up report.

use serde::{Deserialize, Serialize};
use specta::Type;

/// Names of the scenes and sources StreamCue drives (configurable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase", default)]
pub struct ObsNames {
    pub generating_scene: String,
    /// A text source in the Generating scene that shows the prompt.
    pub prompt_source: String,
    pub result_scene: String,
    /// A media source in the Result scene that plays the clip.
    pub result_source: String,
    /// The fallback scene shown in degraded mode.
    pub hero_scene: String,
    /// Watch-along (OBS executor): the scene, and the media source in it that plays the link.
    pub watch_scene: String,
    pub watch_source: String,
}

impl Default for ObsNames {
    fn default() -> Self {
        Self {
            generating_scene: "Generating".into(),
            prompt_source: "Prompt Text".into(),
            result_scene: "Result".into(),
            result_source: "Result Video".into(),
            hero_scene: "Hero Shot".into(),
            watch_scene: "Watch-along".into(),
            watch_source: "Watch-along Video".into(),
        }
    }
}

/// OBS connection settings as the window shows them (the password only as "saved").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ObsSettings {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub password_saved: bool,
    pub names: ObsNames,
}

/// A change of OBS settings. `password`: `Some("")` deletes the saved one, `None` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ObsSettingsUpdate {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub password: Option<String>,
    pub names: ObsNames,
}

/// Why StreamCue stopped trying to connect (it retries once the settings change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub enum ObsFailure {
    /// obs-websocket refused the password.
    WrongPassword,
    /// OBS is older than 30.2 (or obs-websocket older than 5.5).
    TooOld,
}

/// The connection to OBS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ObsConnection {
    /// OBS control is switched off in the settings.
    Disabled,
    Connecting,
    Connected {
        #[serde(rename = "obsVersion")]
        obs_version: String,
        #[serde(rename = "websocketVersion")]
        websocket_version: String,
    },
    /// Not connected; the next attempt is at `retry_at_ms` (Unix ms).
    Reconnecting {
        attempt: u32,
        #[serde(rename = "retryAtMs")]
        retry_at_ms: f64,
        reason: String,
    },
    Failed {
        failure: ObsFailure,
        message: String,
    },
}

/// OBS as the window shows it, kept live from OBS's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ObsState {
    pub connection: ObsConnection,
    /// The current program scene.
    pub program_scene: Option<String>,
    pub recording: bool,
    /// The request whose clip (or prompt) OBS is showing now.
    pub showing: Option<i32>,
    /// The Hero Shot fallback is on (degraded mode).
    pub hero: bool,
}

/// The OBS panel's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ObsView {
    pub settings: ObsSettings,
    pub state: ObsState,
}

/// What **Set up OBS** did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ObsSetupReport {
    /// Scenes and sources it created, e.g. "scene Generating", "text source Prompt Text".
    pub created: Vec<String>,
    /// Those that were already there.
    pub existing: Vec<String>,
}
