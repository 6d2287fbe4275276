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

/// What makes a moment (editable in Settings → Moments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
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
}

/// One signal that crossed its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct MomentTrigger {
    pub kind: TriggerKind,
    /// What the streamer reads, e.g. "velocity 8.7/s vs baseline 1.9/s", "CLIP ×5", "KEKW ×14".
    pub label: String,
    /// The keyword or emote.
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
