//! IPC types of the recorder and clips.

use serde::{Deserialize, Serialize};
use specta::Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum RecorderMode {
    Off,
    /// Follow (and start/stop) OBS's own recording; its timecode is the time base.
    Obs,
    /// Record the channel from the platform with streamlink.
    Streamlink,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct RecorderSettings {
    pub mode: RecorderMode,
    /// What streamlink opens ("" = the connected Twitch channel, `twitch.tv/<channel>`).
    pub streamlink_url: String,
    pub quality: String,
    /// Seconds kept before and after a moment when cutting its clip.
    pub pre_seconds: u32,
    pub post_seconds: u32,
    /// Cut every moment of a recording when it stops.
    pub auto_cut: bool,
}

impl Default for RecorderSettings {
    fn default() -> Self {
        Self {
            mode: RecorderMode::Obs,
            streamlink_url: String::new(),
            quality: "best".into(),
            pre_seconds: 10,
            post_seconds: 10,
            auto_cut: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum RecorderPhase {
    Idle,
    /// Streamlink waits for the stream to go live.
    WaitingForLive,
    Recording,
    /// The file stopped growing.
    Stalled,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct RecorderState {
    pub phase: RecorderPhase,
    pub mode: RecorderMode,
    /// The file being written (or the last one).
    pub path: Option<String>,
    pub bytes: f64,
    pub bytes_per_min: f64,
    pub started_at_ms: Option<f64>,
    /// Why it failed or stalled, in words.
    pub message: Option<String>,
}

/// A clip cut around a moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Clip {
    pub id: i32,
    pub moment_id: i32,
    pub path: String,
    /// Where it starts and ends in its recording.
    pub start_ms: f64,
    pub end_ms: f64,
    /// How much earlier than asked it starts (stream copy starts on a keyframe).
    pub widened_ms: f64,
    pub bytes: f64,
    pub created_at_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct RecorderView {
    pub settings: RecorderSettings,
    pub state: RecorderState,
    /// The latest clips, newest first.
    pub clips: Vec<Clip>,
}
