//! IPC types of the AI co-host: its settings, its drafts and its status.

use serde::{Deserialize, Serialize};
use specta::Type;

use super::ChatSlot;

/// Where answers come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum CohostBackend {
    /// The offline demo responder: canned, deterministic, and says so.
    #[default]
    Demo,
    /// Any server with `POST {base}/v1/chat/completions` (OpenAI, Ollama, llama.cpp, LM Studio,
    /// vLLM).
    OpenAiCompatible,
}

/// What happens to an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum CohostMode {
    /// Each answer waits as a draft until the streamer sends, edits or discards it.
    #[default]
    Approval,
    /// Answers go to chat at once (still through the sanitiser and the limit).
    Auto,
}

/// How a too-long answer is shortened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum CohostTruncation {
    /// At the last sentence end that fits (else a word, else a hard cut).
    #[default]
    Sentence,
    Hard,
}

/// One filter over answers: a whole-word keyword or a regular expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct CohostFilter {
    pub pattern: String,
    pub regex: bool,
    /// `None`: an answer that matches is dropped; `Some(text)`: the match is replaced by it.
    pub replace_with: Option<String>,
}

/// Everything the streamer sets for the co-host (Settings → Co-host). Saved in the database;
/// the API key is in the OS keyring, never here. Missing fields take their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase", default)]
pub struct CohostSettings {
    pub enabled: bool,
    pub backend: CohostBackend,
    /// The server's address, e.g. `http://127.0.0.1:11434` (Ollama) or
    /// `https://api.openai.com`; `/v1` is added when missing.
    pub base_url: String,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: u32,
    /// Ask for a streamed (SSE) answer.
    pub stream: bool,
    pub timeout_seconds: u32,
    /// The persona / system prompt.
    pub persona: String,
    /// Names the co-host answers to besides the logged-in account's (e.g. `cuebot`).
    pub names: Vec<String>,
    /// Commands that ask it (e.g. `!ask`).
    pub ask_commands: Vec<String>,
    pub keywords: Vec<String>,
    /// The chance, 0–1, that a keyword line is answered (mentions and commands always are).
    pub keyword_chance: f64,
    /// Prompt the co-host after this many minutes without chat (0 = off).
    pub quiet_minutes: u32,
    /// Per channel: at most one answer every this many seconds.
    pub cooldown_seconds: u32,
    /// All channels together: at most this many answers a minute.
    pub per_minute: u32,
    /// Logins never answered (other bots). Its own account is always ignored.
    pub ignore: Vec<String>,
    /// The context window: the last N messages, none older than M minutes (memory only).
    pub context_messages: u32,
    pub context_minutes: u32,
    pub mode: CohostMode,
    /// A draft not acted on within this many seconds expires.
    pub draft_expiry_seconds: u32,
    /// Sends of the 20 / 30 s chat limit the co-host leaves for queue replies.
    pub reserve_for_queue: u32,
    pub max_chars: u32,
    pub truncation: CohostTruncation,
    pub strip_markdown: bool,
    pub filters: Vec<CohostFilter>,
}

impl Default for CohostSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            backend: CohostBackend::Demo,
            base_url: "http://127.0.0.1:11434".into(),
            model: "llama3.2".into(),
            temperature: 0.7,
            max_tokens: 120,
            stream: false,
            timeout_seconds: 30,
            persona:
                "You are a friendly, witty co-host of a live stream. Keep answers short, kind \
                      and on topic."
                    .into(),
            names: Vec::new(),
            ask_commands: vec!["!ask".into()],
            keywords: Vec::new(),
            keyword_chance: 1.0,
            quiet_minutes: 0,
            cooldown_seconds: 20,
            per_minute: 6,
            ignore: [
                "nightbot",
                "streamelements",
                "streamlabs",
                "moobot",
                "fossabot",
                "wizebot",
            ]
            .map(String::from)
            .to_vec(),
            context_messages: 20,
            context_minutes: 10,
            mode: CohostMode::Approval,
            draft_expiry_seconds: 120,
            reserve_for_queue: 5,
            max_chars: 400,
            truncation: CohostTruncation::Sentence,
            strip_markdown: true,
            filters: Vec::new(),
        }
    }
}

/// What fired the co-host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum CohostTrigger {
    Mention,
    Command,
    Keyword,
    Quiet,
}

/// An answer waiting for the streamer (approval mode). Lives in memory only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct CohostDraft {
    pub id: i32,
    pub slot: ChatSlot,
    pub channel: String,
    /// Who asked (display name); empty for a quiet prompt.
    pub viewer: String,
    pub question: String,
    pub answer: String,
    pub trigger: CohostTrigger,
    /// How long the model took, ms.
    pub latency_ms: f64,
    pub created_ms: f64,
    pub expires_ms: f64,
    /// Whether Send can work: Kick is read-only, so its drafts can only be shown (overlay).
    pub sendable: bool,
}

/// The co-host's running totals (kept in the database).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct CohostCounters {
    /// Requests to the model by outcome.
    pub answered: u32,
    pub failed: u32,
    /// Answers the processor refused (echo, duplicate, filter, empty).
    pub rejected: u32,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub drafts_sent: u32,
    pub drafts_edited: u32,
    pub drafts_discarded: u32,
    pub drafts_expired: u32,
    /// Answers sent in auto mode.
    pub auto_sent: u32,
    /// Answers not sent because the chat limit's room for the co-host was used up.
    pub limited: u32,
    /// Chat lines not taken in because the co-host was behind.
    pub lines_dropped: u32,
}

/// The co-host's state: settings, drafts, counters, latency, the last failure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct CohostStatus {
    pub settings: CohostSettings,
    /// Whether an API key is saved in the keyring.
    pub api_key_saved: bool,
    /// Drafts waiting, oldest first.
    pub drafts: Vec<CohostDraft>,
    pub counters: CohostCounters,
    /// Latency of the recent answers, ms (0 when none yet).
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    /// Questions being answered right now.
    pub in_flight: u32,
    /// The last failure in words, with the next step, and when (Unix ms).
    pub last_error: Option<String>,
    pub last_error_ms: Option<f64>,
}

/// What Test connection found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct CohostModels {
    pub models: Vec<String>,
    /// The configured model is among them.
    pub model_found: bool,
}
