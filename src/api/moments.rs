//! IPC types of chat moments: detection settings, moments, live readings, session history.

use serde::{Deserialize, Serialize};
use specta::Type;

/// How velocity is judged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "rule", rename_all = "camelCase")]
pub enum VelocityRule {
    /// Against the channel's own recent baseline: fires when the window's rate exceeds
    /// max(mean + sigmas × deviation, mean × ratio, min_per_second).
    Baseline {
        sigmas: f64,
        ratio: f64,
        #[serde(rename = "minPerSecond")]
        min_per_second: f64,
        /// How fast the baseline follows the channel (half-life, seconds).
        #[serde(rename = "halfLifeSeconds")]
        half_life_seconds: u32,
        /// Seconds of chat needed before velocity can fire.
        #[serde(rename = "warmupSeconds")]
        warmup_seconds: u32,
    },
    /// A fixed rate, messages per second.
    Fixed {
        #[serde(rename = "perSecond")]
        per_second: f64,
    },
}

/// The rate the fixed rule starts from when the streamer switches to it, messages per second.
pub const DEFAULT_FIXED_PER_SECOND: f64 = 5.0;

/// What makes a moment (editable in Settings → Moments). A setting missing from what was saved
/// (e.g. `support`, saved before it existed) takes its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase", default)]
pub struct MomentSettings {
    /// The rolling window for velocity and keywords, seconds.
    pub window_seconds: u32,
    pub velocity: VelocityRule,
    /// Words and phrases (case-insensitive, whole words), counted once per message.
    pub keywords: Vec<String>,
    /// Messages with a keyword in the window that make a moment (0 = off).
    pub keyword_threshold: u32,
    /// Text emotes recognised in messages besides the platform's own (e.g. KEKW).
    pub text_emotes: Vec<String>,
    /// Messages with the same emote within `emote_window_seconds` that make a moment (0 = off).
    pub emote_threshold: u32,
    pub emote_window_seconds: u32,
    /// Triggers this close together belong to one moment, seconds.
    pub merge_gap_seconds: u32,
    /// Subs, gifts, raids and bits as signals.
    pub support: SupportRules,
    /// The viewer count jumping (Kick only: Twitch chat carries no viewer count).
    pub viewer_spike: ViewerSpikeRule,
}

/// Viewers' support in a stretch of chat (one second, or a session's totals). Counts only:
/// who subscribed, gifted, raided or cheered is never kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SupportCounts {
    /// New subs and resubs.
    pub subs: u32,
    /// Gifted subs (one per recipient).
    pub gifts: u32,
    /// Incoming raids, and the viewers they brought.
    pub raids: u32,
    pub raid_viewers: u32,
    /// Bits cheered.
    pub bits: u32,
}

impl SupportCounts {
    /// Adds `other` in (saturating: a hostile source cannot wrap a counter).
    pub fn add(&mut self, other: SupportCounts) {
        self.subs = self.subs.saturating_add(other.subs);
        self.gifts = self.gifts.saturating_add(other.gifts);
        self.raids = self.raids.saturating_add(other.raids);
        self.raid_viewers = self.raid_viewers.saturating_add(other.raid_viewers);
        self.bits = self.bits.saturating_add(other.bits);
    }

    pub fn is_empty(&self) -> bool {
        *self == SupportCounts::default()
    }
}

/// Viewer support as moment signals, counted over the rolling window; 0 turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase", default)]
pub struct SupportRules {
    /// New subs and resubs (Twitch `sub`/`resub`, Kick subscriptions) in the window.
    pub subs: u32,
    /// Gifted subs (Twitch `subgift`, each gift of a gift bomb; Kick gifted subscriptions).
    pub gifts: u32,
    /// An incoming raid of at least this many viewers (Twitch `raid`).
    pub raid_viewers: u32,
    /// Bits cheered in the window (Twitch).
    pub bits: u32,
}

impl Default for SupportRules {
    fn default() -> Self {
        Self {
            subs: 3,
            gifts: 5,
            raid_viewers: 10,
            bits: 500,
        }
    }
}

/// The viewer count rising between two readings (about a minute apart) by at least `ratio`
/// times and by at least `min_increase` viewers. `ratio` 0 turns it off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase", default)]
pub struct ViewerSpikeRule {
    pub ratio: f64,
    pub min_increase: u32,
}

impl Default for ViewerSpikeRule {
    fn default() -> Self {
        Self {
            ratio: 1.5,
            min_increase: 20,
        }
    }
}

impl Default for MomentSettings {
    fn default() -> Self {
        Self {
            window_seconds: 10,
            velocity: VelocityRule::Baseline {
                sigmas: 4.0,
                ratio: 2.0,
                min_per_second: 1.0,
                half_life_seconds: 120,
                warmup_seconds: 30,
            },
            keywords: [
                "clip",
                "clip that",
                "no way",
                "lmao",
                "omg",
                "insane",
                "pog",
                "wtf",
            ]
            .map(String::from)
            .to_vec(),
            keyword_threshold: 5,
            text_emotes: [
                "KEKW", "LUL", "PogChamp", "Pog", "OMEGALUL", "monkaS", "Kappa",
            ]
            .map(String::from)
            .to_vec(),
            emote_threshold: 10,
            emote_window_seconds: 5,
            merge_gap_seconds: 15,
            support: SupportRules::default(),
            viewer_spike: ViewerSpikeRule::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum TriggerKind {
    Velocity,
    Keyword,
    Emote,
    /// Marked by hand (the control API's `POST /api/moments/mark`, e.g. from a Stream Deck).
    Manual,
    /// Viewers' support: `name` says which (`subs`, `gifts`, `raid`, `bits`).
    Support,
    /// The viewer count jumped (Kick).
    ViewerSpike,
}

impl TriggerKind {
    /// Its name in the database's `kinds` column and in metrics' labels.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Velocity => "velocity",
            TriggerKind::Keyword => "keyword",
            TriggerKind::Emote => "emote",
            TriggerKind::Manual => "manual",
            TriggerKind::Support => "support",
            TriggerKind::ViewerSpike => "viewer_spike",
        }
    }
}

/// One signal that crossed its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct MomentTrigger {
    pub kind: TriggerKind,
    /// What the streamer reads, e.g. "velocity 8.7/s vs baseline 1.9/s", "CLIP ×5", "KEKW ×14".
    pub label: String,
    /// The keyword or emote; for support, which kind (`subs`, `gifts`, `raid`, `bits`).
    pub name: Option<String>,
    pub value: f64,
    pub threshold: f64,
    pub baseline: Option<f64>,
}

/// A burst of chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Moment {
    pub id: i32,
    pub session_id: i32,
    pub started_at_ms: f64,
    /// `None` while it is still going on.
    pub ended_at_ms: Option<f64>,
    /// From the start of the chat session (the stream's time base until recordings exist).
    pub offset_ms: f64,
    pub triggers: Vec<MomentTrigger>,
    /// How far past its threshold the strongest trigger went (1.0 = just at it).
    pub strength: f64,
    pub note: String,
}

/// The detector's live readings for the current session (the settings' preview).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct MomentReadings {
    pub session_id: i32,
    pub rate: f64,
    pub baseline: f64,
    pub threshold: f64,
    pub keyword_hits: u32,
    pub top_emote_count: u32,
}

/// A past (or the current) chat session, for the history picker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    pub id: i32,
    pub platform: String,
    pub channel: String,
    pub started_at_ms: f64,
    pub ended_at_ms: Option<f64>,
    pub messages: f64,
    pub moments: u32,
}

/// One session's graph and moments, loaded from the database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionHistory {
    pub session: SessionSummary,
    /// One point per second, oldest first (at most the last 6 hours).
    pub velocity: Vec<crate::api::VelocityPoint>,
    pub moments: Vec<Moment>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_saved_before_support_existed_get_its_defaults() {
        let mut old = serde_json::to_value(MomentSettings::default()).unwrap();
        let obj = old.as_object_mut().unwrap();
        obj.remove("support");
        obj.remove("viewerSpike");
        obj.insert("keywordThreshold".into(), 7.into());
        let read: MomentSettings = serde_json::from_value(old).unwrap();
        assert_eq!(read.keyword_threshold, 7, "what was saved is kept");
        assert_eq!(read.support, SupportRules::default());
        assert_eq!(read.viewer_spike, ViewerSpikeRule::default());
    }
}
