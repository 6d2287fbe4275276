//! IPC types of the clip generator: its settings, status, progress and counters.

use serde::{Deserialize, Serialize};
use specta::Type;

/// Where clips come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum GeneratorBackend {
    /// Rendered on this computer with ffmpeg (the prompt over a moving pattern): no account.
    Offline,
    /// An HTTP endpoint that speaks `docs/generation-endpoint.md` (e.g. a Modal web endpoint).
    Remote,
}

/// The generator's settings as the window shows them. Credentials are never sent to the UI:
/// only whether they are saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct GeneratorSettings {
    pub backend: GeneratorBackend,
    /// The remote endpoint's base URL (`POST {base}/generate`); "" when not set.
    pub base_url: String,
    /// Seconds one HTTP attempt may take.
    pub timeout_seconds: u32,
    /// Whether a Modal key and secret are saved in the OS keyring.
    pub credentials_saved: bool,
}

/// A change of settings from the window. `modal_key`/`modal_secret`: `Some("")` deletes the
/// saved value, `None` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct GeneratorSettingsUpdate {
    pub backend: GeneratorBackend,
    pub base_url: String,
    pub timeout_seconds: u32,
    pub modal_key: Option<String>,
    pub modal_secret: Option<String>,
}

/// What the generator is doing with the item in hand (not stored: progress is a live view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum GenerationPhase {
    /// Waiting for the endpoint to answer `POST /generate` (or a redirect hop).
    Requesting,
    /// The endpoint accepted a job; polling for its result.
    Waiting,
    /// Streaming the clip to disk.
    Downloading,
    /// Rendering locally (offline backend).
    Rendering,
}

/// Live progress of the item being generated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct GenerationProgress {
    pub id: i32,
    pub phase: GenerationPhase,
    /// HTTP attempts so far in this generation (1 = the first).
    pub attempt: u32,
    /// 0–100 when the size is known.
    pub percent: Option<f64>,
    pub bytes: f64,
}

/// Why StreamCue is in degraded mode, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct DegradedInfo {
    pub reason: String,
    pub since_ms: i64,
    /// New requests are refused until degraded mode ends (`generator.pause_intake_when_degraded`).
    pub intake_paused: bool,
}

/// Generation counters (all time, from the database).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct GeneratorCounters {
    pub ready: u32,
    pub failed: u32,
    pub interrupted: u32,
    pub degraded_activations: u32,
    /// Median and 95th percentile time from start to ready, over the last 200 clips.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// The generator as the window shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct GeneratorStatus {
    pub settings: GeneratorSettings,
    /// `Some` while in degraded mode.
    pub degraded: Option<DegradedInfo>,
    /// The request being generated now.
    pub current: Option<i32>,
    /// The streamer paused generation: approved requests wait.
    pub paused: bool,
    pub counters: GeneratorCounters,
    /// Where finished clips are saved.
    pub clips_dir: String,
}

/// The answer of **Test connection**.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCheck {
    pub message: String,
    pub latency_ms: f64,
}
