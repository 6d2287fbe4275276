//! Types that cross the process boundary to the UI.
//!
//! Everything here derives `specta::Type`; the shell exports them as TypeScript
//! (`ui/src/bindings.ts`). Changing a type here changes the UI contract: the
//! `bindings_are_current` test in `src-tauri` fails until the bindings are regenerated.

use serde::{Deserialize, Serialize};
use specta::Type;

mod cohost;
mod error;
mod generation;
mod limits;
mod moments;
mod obs;
mod recorder;
pub mod rows;
mod server;
mod watch;

pub use crate::twitch_auth::AccountState;
pub use cohost::*;
pub use error::*;
pub use generation::*;
pub use limits::*;
pub use moments::*;
pub use obs::*;
pub use recorder::*;
pub use server::*;
pub use watch::*;

/// Which chat a streamer wants to watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ChatTarget {
    /// The built-in demo chat: a script shipped with the app, replayed in real time.
    Demo,
    /// A Twitch channel, as typed by the streamer (name, `#name` or a twitch.tv URL).
    Twitch { channel: String },
    /// A Kick channel: its slug (`kick.com/slug` works too) or its chatroom id.
    Kick { channel: String },
}

/// Why a chat connection stopped for good (it is not retried).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub enum ChatFailure {
    /// Twitch refused the login (bad or expired token).
    AuthFailed,
    /// Twitch said the channel cannot be joined (suspended or unknown).
    ChannelUnavailable,
}

/// Which platform a chat session is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum ChatPlatform {
    Demo,
    Twitch,
    Kick,
}

/// The chat connection's state, as the streamer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ChatState {
    Disconnected,
    Connecting {
        platform: ChatPlatform,
        channel: String,
    },
    Connected {
        platform: ChatPlatform,
        channel: String,
        #[serde(rename = "sessionId")]
        session_id: i32,
    },
    /// Lost the connection; the next attempt starts at `retry_at_ms` (Unix ms).
    Reconnecting {
        platform: ChatPlatform,
        channel: String,
        attempt: u32,
        #[serde(rename = "retryAtMs")]
        retry_at_ms: f64,
        reason: String,
    },
    Failed {
        platform: ChatPlatform,
        channel: String,
        failure: ChatFailure,
        message: String,
    },
}

/// One second of chat: how many messages arrived in it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct VelocityPoint {
    /// Unix time of the bucket's start, in whole seconds.
    pub second: f64,
    pub count: u32,
}

/// Running totals for the current chat session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ChatCounters {
    pub messages: u32,
    pub malformed_lines: u32,
    pub reconnects: u32,
    /// Subs, gifts, raids and bits so far (counts only; who gave them is never kept).
    pub support: SupportCounts,
}

/// Something the streamer should know that is not tied to one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    pub level: NoticeLevel,
    pub code: NoticeCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub enum NoticeLevel {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub enum NoticeCode {
    /// The config file could not be read; defaults are in use and the file was left alone.
    ConfigInvalid,
    /// No OS keyring is reachable: chat is read-only and nothing secret can be saved.
    KeyringUnavailable,
    /// The Twitch IRC address is overridden (a development and testing knob).
    TwitchAddressOverridden,
    /// The local server (127.0.0.1) could not listen, e.g. its port is taken.
    LocalServerUnavailable,
    /// The database file was empty (0 bytes): a new history was started in it.
    DatabaseWasEmpty,
}

/// Where StreamCue keeps its files, shown in the UI so the streamer can find them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct PathsInfo {
    pub config_file: String,
    pub database_file: String,
    pub log_dir: String,
    pub clips_dir: String,
    pub recordings_dir: String,
    /// The clips folder is the default one (not chosen in Settings → Folders).
    pub clips_dir_is_default: bool,
    pub recordings_dir_is_default: bool,
}

/// Everything the UI needs to draw itself from scratch (on load, or after it lagged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct AppSnapshot {
    /// Every chat slot, in [`ChatSlot::ALL`] order.
    pub chats: Vec<ChatView>,
    pub notices: Vec<Notice>,
    pub paths: PathsInfo,
    /// The local server (127.0.0.1): settings, state, clients.
    pub local_server: ServerView,
    /// Whether StreamCue can save (the data folder's disk).
    pub storage: StorageView,
    pub keyring_available: bool,
    /// The channel to fill in when the window opens (`chat.default_channel`; "" = demo).
    pub default_channel: String,
    pub queue: QueueView,
    /// The Twitch login (for replies in chat).
    pub account: AccountState,
    /// Whether `chat.twitch_client_id` is set (needed for "Log in with Twitch").
    pub twitch_client_id_set: bool,
    pub generator: GeneratorStatus,
    pub obs: ObsView,
    /// The current (or last) session's moments, oldest first.
    pub moments: Vec<Moment>,
    pub moment_settings: MomentSettings,
    pub cohost: CohostStatus,
    pub watch: WatchView,
    pub recorder: RecorderView,
    /// The limits strip: outgoing chat limit and running cooldowns.
    pub limits: LimitsView,
    /// Close to tray and desktop notifications.
    pub desktop: crate::desktop::DesktopSettings,
}

impl AppSnapshot {
    /// The view of one chat slot.
    pub fn chat(&self, slot: ChatSlot) -> Option<&ChatView> {
        self.chats.iter().find(|c| c.slot == slot)
    }
}

/// A chat that runs on its own, beside the others: each is one `ChatClient` actor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum ChatSlot {
    /// Demo or Twitch: its commands feed the queue.
    #[default]
    Main,
    /// Kick: read-only (graph and moments).
    Kick,
}

impl ChatSlot {
    pub const ALL: [ChatSlot; 2] = [ChatSlot::Main, ChatSlot::Kick];

    /// The slot a connect to `target` goes to.
    pub fn for_target(target: &ChatTarget) -> ChatSlot {
        match target {
            ChatTarget::Kick { .. } => ChatSlot::Kick,
            ChatTarget::Demo | ChatTarget::Twitch { .. } => ChatSlot::Main,
        }
    }
}

/// One chat slot's panel: its state, counters and the last ten minutes of velocity (oldest
/// first, one point per second).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ChatView {
    pub slot: ChatSlot,
    pub state: ChatState,
    pub counters: ChatCounters,
    pub velocity: Vec<VelocityPoint>,
}

/// Where a viewer request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum RequestState {
    Pending,
    Approved,
    Generating,
    Ready,
    Shown,
    Skipped,
    Failed,
    Interrupted,
}

impl RequestState {
    pub const ALL: [RequestState; 8] = [
        Self::Pending,
        Self::Approved,
        Self::Generating,
        Self::Ready,
        Self::Shown,
        Self::Skipped,
        Self::Failed,
        Self::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Generating => "generating",
            Self::Ready => "ready",
            Self::Shown => "shown",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Waiting for the generator (counts against the queue's size).
    pub fn is_waiting(self) -> bool {
        matches!(self, Self::Pending | Self::Approved)
    }
}

/// One viewer request, as the queue panel shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct QueueItem {
    pub id: i32,
    pub user_login: String,
    pub display_name: String,
    pub prompt: String,
    pub state: RequestState,
    /// Why it was skipped, failed or interrupted.
    pub reason: Option<String>,
    /// Order among waiting items (smaller first).
    pub position: i32,
    pub created_at_ms: f64,
    pub updated_at_ms: f64,
    /// The finished clip (state `ready` or `shown`).
    pub file_path: Option<String>,
    /// HTTP attempts (or renders) the latest generation took; 0 before one started.
    pub attempts: u32,
    /// How long the latest successful generation took.
    pub generation_ms: Option<f64>,
}

/// Queue counters for the current chat session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct QueueCounters {
    pub accepted: u32,
    pub cooldown_rejects: u32,
    pub overflow_rejects: u32,
    pub blocked_prompts: u32,
    pub usage_replies: u32,
    pub approved: u32,
    pub skipped: u32,
    pub moderated: u32,
    /// Refused because intake is paused in degraded mode.
    pub paused_rejects: u32,
}

/// The queue panel's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct QueueView {
    /// Waiting and in-progress items in queue order, then the most recent finished ones.
    pub items: Vec<QueueItem>,
    pub auto_approve: bool,
    pub max_waiting: u32,
    pub counters: QueueCounters,
}

/// A streamer's action on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum QueueAction {
    Approve,
    Skip,
    Retry,
    MoveUp,
    MoveDown,
    /// Play a ready (or already shown) clip in OBS again.
    ShowAgain,
}

/// A change the core announces after it has been persisted. The UI applies these to its cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum CoreEvent {
    /// A chat slot's connection changed.
    ChatState {
        slot: ChatSlot,
        state: ChatState,
    },
    /// A finished one-second bucket of a chat slot, plus its counters as of its end.
    Velocity {
        slot: ChatSlot,
        point: VelocityPoint,
        counters: ChatCounters,
    },
    Notice {
        notice: Notice,
    },
    /// The co-host's drafts, counters, settings or last failure changed.
    Cohost {
        /// Boxed: the status (drafts, settings) is much larger than every other variant.
        status: Box<CohostStatus>,
    },
    /// A watch-along session changed (or the card's settings or controller health).
    Watch {
        /// Boxed: the view (history, settings) is large.
        view: Box<WatchView>,
    },
    /// A request was added or changed (state, position).
    QueueItem {
        item: QueueItem,
    },
    QueueCounters {
        counters: QueueCounters,
    },
    QueueSettings {
        #[serde(rename = "autoApprove")]
        auto_approve: bool,
    },
    Account {
        state: AccountState,
    },
    /// Live progress of the item being generated (not stored).
    GenerationProgress {
        progress: GenerationProgress,
    },
    /// The generator's settings, degraded mode or counters changed.
    Generator {
        status: GeneratorStatus,
    },
    /// OBS's connection, scene, recording or what it shows changed.
    Obs {
        state: ObsState,
    },
    /// The OBS settings changed.
    ObsSettings {
        settings: ObsSettings,
    },
    /// A moment began, grew or ended (written first).
    Moment {
        moment: Moment,
    },
    /// The detector's readings for the last second (the settings' live preview).
    MomentReadings {
        readings: MomentReadings,
    },
    MomentSettings {
        settings: MomentSettings,
    },
    /// The recorder's state changed (phase, size, file).
    Recorder {
        state: RecorderState,
    },
    /// A clip was cut (written first).
    Clip {
        clip: Clip,
    },
    /// The recorder's settings changed.
    RecorderSettings {
        settings: RecorderSettings,
    },
    /// A chat reply went out, or the outgoing limit changed (mod status, login, connection).
    ReplyLimits {
        limits: ReplyLimits,
    },
    /// A viewer's cooldown started (the list of running ones; they end on their own).
    Cooldowns {
        cooldowns: Cooldowns,
    },
    /// The desktop settings changed (close to tray, notifications).
    DesktopSettings {
        settings: crate::desktop::DesktopSettings,
    },
    /// A clips or recordings folder was chosen (or set back to its default).
    Paths {
        paths: PathsInfo,
    },
    /// The data folder's disk: space low, saving failed, or fine again.
    Storage {
        storage: StorageView,
    },
    /// The local server started, stopped, failed, or its clients changed.
    LocalServer {
        server: ServerView,
    },
    /// The UI missed events (it was too slow): it should fetch a fresh snapshot.
    Resync,
}
