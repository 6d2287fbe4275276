//! IPC types of watch-along sessions: the settings, a session as the window shows it, and the
//! answer to a start. The error codes themselves are `watch::WatchErrorCode` (exported too), so
//! the window switches on codes, never on message text.

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::watch::contract::HealthResponse;
use crate::watch::{WatchErrorCode, WatchStatus};

/// Who puts the video on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum WatchExecutor {
    /// OBS (built in): the Watch-along scene's media source plays the link (YouTube, Twitch
    /// and Vimeo links through `streamlink --stream-url`), then OBS goes back to the
    /// streamer's scene. Needs nothing but OBS.
    #[default]
    Obs,
    /// An external screen-share controller (seed 004's HTTP contract), e.g. a Discord
    /// screen-share sandbox. StreamCue does not run it.
    Controller,
}

impl WatchExecutor {
    /// As kept in `watch_sessions.executor`.
    pub fn name(self) -> &'static str {
        match self {
            WatchExecutor::Obs => "obs",
            WatchExecutor::Controller => "controller",
        }
    }

    pub fn from_name(s: &str) -> WatchExecutor {
        match s {
            "controller" => WatchExecutor::Controller,
            _ => WatchExecutor::Obs,
        }
    }
}

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum WatchSource {
    Window,
    Twitch,
    Discord,
    Api,
}

impl WatchSource {
    pub fn name(self) -> &'static str {
        match self {
            WatchSource::Window => "window",
            WatchSource::Twitch => "twitch",
            WatchSource::Discord => "discord",
            WatchSource::Api => "api",
        }
    }

    pub fn from_name(s: &str) -> WatchSource {
        match s {
            "twitch" => WatchSource::Twitch,
            "discord" => WatchSource::Discord,
            "api" => WatchSource::Api,
            _ => WatchSource::Window,
        }
    }
}

/// Settings → Watch-along. Missing fields take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase", default)]
pub struct WatchSettings {
    pub executor: WatchExecutor,
    /// The controller's address, e.g. `http://127.0.0.1:8700`.
    pub controller_url: String,
    /// Where the controller shares: a Discord guild and voice channel (ids as text: they are
    /// 64-bit), and the channel's name for messages.
    pub guild_id: String,
    pub channel_id: String,
    pub channel_name: String,
    /// A session that is not streaming this long after it was asked for fails (ERR_TIMEOUT).
    pub start_timeout_seconds: u32,
    /// OBS executor: the Watch-along source's volume, 0–100 %.
    pub obs_volume_percent: u32,
    /// OBS executor: the scene to show when the video ends ("" = the scene that was on before).
    pub return_scene: String,
    /// Viewers' `!watch <link>` waits in the card for the streamer's Play or Deny (off: only
    /// the broadcaster and moderators may start one).
    pub viewer_requests: bool,
}

impl Default for WatchSettings {
    fn default() -> Self {
        Self {
            executor: WatchExecutor::Obs,
            controller_url: String::new(),
            guild_id: String::new(),
            channel_id: String::new(),
            channel_name: String::new(),
            start_timeout_seconds: 120,
            obs_volume_percent: 80,
            return_scene: String::new(),
            viewer_requests: false,
        }
    }
}

/// One session as the window shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct WatchSessionView {
    pub id: String,
    pub requester: String,
    pub source: WatchSource,
    pub target: String,
    pub url: String,
    pub status: WatchStatus,
    pub error_code: Option<WatchErrorCode>,
    /// What went wrong and the next step, in words.
    pub error_message: Option<String>,
    pub created_ms: f64,
    pub updated_ms: f64,
}

/// The Watch-along card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct WatchView {
    pub settings: WatchSettings,
    /// The active session (pending … stopping), if any.
    pub current: Option<WatchSessionView>,
    /// The latest sessions, newest first (the current one included).
    pub history: Vec<WatchSessionView>,
    /// The controller's last `/health` answer, or why it could not be had.
    pub health: Option<HealthResponse>,
    pub health_error: Option<String>,
    /// Viewers' links waiting for Play or Deny, oldest first.
    pub asks: Vec<WatchAskView>,
}

/// A viewer's link waiting for the streamer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct WatchAskView {
    pub id: i32,
    /// The viewer's display name.
    pub viewer: String,
    pub url: String,
    pub created_ms: f64,
}

/// A start or stop that was refused: the seed's code and its sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct WatchRefusal {
    pub code: WatchErrorCode,
    pub message: String,
}

/// The answer to a start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum WatchStartOutcome {
    Started { session: WatchSessionView },
    Refused { refusal: WatchRefusal },
}
