//! The streamer's settings: a TOML file in the config folder.
//!
//! Invariants: a missing file is created with the defaults (commented); a file that cannot be
//! read or parsed is never overwritten: the defaults are used and the problem (with its line)
//! is reported to the streamer.

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub chat: ChatConfig,
    pub queue: QueueConfig,
    pub generator: GeneratorConfig,
    pub kick: KickConfig,
    pub logging: LoggingConfig,
}

/// Kick chat (read through Kick's public Pusher feed; no account needed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KickConfig {
    /// Kick's Pusher app key and cluster (they change now and then; update them here).
    pub app_key: String,
    pub cluster: String,
}

impl Default for KickConfig {
    fn default() -> Self {
        let o = crate::chat::kick::KickOptions::default();
        Self {
            app_key: o.app_key,
            cluster: o.cluster,
        }
    }
}

/// The generator's advanced knobs. The backend, endpoint URL and timeout are set in the window
/// (Settings → Generator) and kept in the database; credentials live in the OS keyring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneratorConfig {
    /// HTTP attempts per generation (timeouts, 5xx and 429 are retried).
    pub max_attempts: u32,
    /// First retry delay in ms (doubles each retry, with jitter).
    pub retry_backoff_ms: u64,
    /// Longest a whole generation (request, redirects/polls, download) may take.
    pub overall_timeout_seconds: u64,
    /// Clips larger than this are refused.
    pub max_clip_mb: u64,
    /// Degraded mode: consecutive failures that enter it.
    pub failures_to_degrade: u32,
    /// Degraded mode: an approved request waiting longer than this enters it.
    pub max_wait_seconds: u64,
    /// Degraded mode: clips generated in a row that leave it.
    pub healthy_to_recover: u32,
    /// Degraded mode: how often the endpoint's health is probed (0 = never).
    pub probe_every_seconds: u64,
    /// Degraded mode: refuse new requests until it ends.
    pub pause_intake_when_degraded: bool,
    /// Offline demo clips: length in seconds.
    pub offline_clip_seconds: u32,
    /// The ffmpeg program (offline backend).
    pub ffmpeg: String,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            retry_backoff_ms: 1000,
            overall_timeout_seconds: 600,
            max_clip_mb: 500,
            failures_to_degrade: 3,
            max_wait_seconds: 300,
            healthy_to_recover: 2,
            probe_every_seconds: 30,
            pause_intake_when_degraded: false,
            offline_clip_seconds: 4,
            ffmpeg: "ffmpeg".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// What chat commands start with.
    pub command_prefix: String,
    /// Names of the request command (`!anime`), the status command and the position command.
    pub request_commands: Vec<String>,
    pub status_commands: Vec<String>,
    pub position_commands: Vec<String>,
    /// Seconds between two accepted requests of one viewer.
    pub cooldown_seconds: u64,
    /// Moderators and the broadcaster skip the cooldown.
    pub exempt_moderators: bool,
    /// Requests that may wait at once (pending + approved); more are refused as "queue full".
    pub max_waiting: usize,
    /// Longest prompt accepted, in characters.
    pub max_prompt_chars: usize,
    /// Whole words refused in prompts (case-insensitive).
    pub blocked_words: Vec<String>,
    /// Regular expressions refused in prompts (case-insensitive).
    pub blocked_patterns: Vec<String>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            command_prefix: "!".into(),
            request_commands: vec!["anime".into()],
            status_commands: vec!["status".into()],
            position_commands: vec!["queue".into(), "position".into()],
            cooldown_seconds: 30,
            exempt_moderators: true,
            max_waiting: 10,
            max_prompt_chars: 200,
            blocked_words: Vec::new(),
            blocked_patterns: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatConfig {
    /// The channel filled in when the window opens ("" = the demo chat).
    pub default_channel: String,
    /// The Twitch account StreamCue logs in as (its token lives in the OS keyring).
    /// Empty: read chat anonymously.
    pub twitch_login: String,
    /// The Client ID of the Twitch app used for "Log in with Twitch" (a public client you
    /// register at dev.twitch.tv; see the README).
    pub twitch_client_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    /// Log every IRC line (tokens are redacted). Noisy; for troubleshooting.
    pub protocol_debug: bool,
    /// Log files older than this many days are deleted.
    pub keep_days: u32,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            protocol_debug: false,
            keep_days: 7,
        }
    }
}

const DEFAULT_FILE: &str = r#"# StreamCue settings. Delete this file to get the defaults back.
# Secrets (tokens, passwords) are never kept here: they live in the OS keyring.

[chat]
# Channel filled in when the window opens ("" = the demo chat).
default_channel = ""
# Twitch account StreamCue logs in as (its token is in the keyring). "" = read-only, anonymous.
twitch_login = ""
# Client ID of your Twitch app, for "Log in with Twitch" (README: two-minute set-up).
twitch_client_id = ""

[queue]
# Chat commands: prefix and names.
command_prefix = "!"
request_commands = ["anime"]
status_commands = ["status"]
position_commands = ["queue", "position"]
# Seconds between two accepted requests of one viewer; mods and the broadcaster may skip it.
cooldown_seconds = 30
exempt_moderators = true
# Requests that may wait at once; the next one is told the queue is full.
max_waiting = 10
# Longest prompt, in characters.
max_prompt_chars = 200
# Refused in prompts: whole words, and regular expressions (both case-insensitive).
blocked_words = []
blocked_patterns = []

[generator]
# Backend, endpoint URL, timeout and credentials are set in the window (Settings → Generator).
# HTTP attempts per clip (timeouts, 5xx and 429 are retried) and the first retry delay.
max_attempts = 3
retry_backoff_ms = 1000
# Longest one clip may take in all (request, redirects or job polls, download), and its size.
overall_timeout_seconds = 600
max_clip_mb = 500
# Degraded mode: entered after this many failures in a row, or when an approved request has
# waited this long; left after this many clips in a row or a passing health probe.
failures_to_degrade = 3
max_wait_seconds = 300
healthy_to_recover = 2
probe_every_seconds = 30
# Refuse new requests while degraded (otherwise they queue up).
pause_intake_when_degraded = false
# Offline demo clips.
offline_clip_seconds = 4
ffmpeg = "ffmpeg"

[kick]
# Kick's chat feed (Pusher). If Kick chat stops connecting with "refused the app key", update these.
app_key = "32cbd69e4b950bf97679"
cluster = "us2"

[logging]
# Log every IRC line, with tokens redacted. Noisy; for troubleshooting.
protocol_debug = false
# Days of log files to keep.
keep_days = 7
"#;

/// What went wrong reading the config; shown to the streamer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub message: String,
}

impl Config {
    /// Loads `path`, creating it with the defaults if it does not exist.
    pub fn load_or_create(path: &Path) -> (Config, Option<ConfigProblem>) {
        match std::fs::read_to_string(path) {
            Ok(text) => match Self::parse(&text) {
                Ok(config) => (config, None),
                Err(why) => (
                    Config::default(),
                    Some(ConfigProblem {
                        message: format!(
                            "{} is not valid ({why}). StreamCue is using the defaults and left \
                             the file as it is; fix or delete it and restart.",
                            path.display()
                        ),
                    }),
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let written = path
                    .parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|_| write_new(path, DEFAULT_FILE));
                let problem = written.err().map(|e| ConfigProblem {
                    message: format!(
                        "Could not create {}: {e}. Using the defaults.",
                        path.display()
                    ),
                });
                (Config::default(), problem)
            }
            Err(e) => (
                Config::default(),
                Some(ConfigProblem {
                    message: format!(
                        "Could not read {}: {e}. Using the defaults.",
                        path.display()
                    ),
                }),
            ),
        }
    }

    /// Parses config text; the error names the line and what is wrong.
    pub fn parse(text: &str) -> Result<Config, ConfigSyntaxError> {
        toml::from_str(text).map_err(|e| ConfigSyntaxError {
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
            message: e.message().to_string(),
        })
    }
}

/// What is wrong in `config.toml`, and on which line when TOML says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct ConfigSyntaxError {
    pub line: Option<usize>,
    pub message: String,
}

/// Creates `path` only if it does not exist yet (never clobbers a file written meanwhile).
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_file_parses_to_the_defaults() {
        assert_eq!(Config::parse(DEFAULT_FILE).unwrap(), Config::default());
    }

    #[test]
    fn missing_file_is_created_and_broken_file_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        let (config, problem) = Config::load_or_create(&path);
        assert_eq!((config, problem), (Config::default(), None));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), DEFAULT_FILE);

        let broken = "[chat]\ndefault_channel = \"x\"\n\n[logging]\nprotocol_debug = maybe\n";
        std::fs::write(&path, broken).unwrap();
        let (config, problem) = Config::load_or_create(&path);
        assert_eq!(config, Config::default());
        let message = problem.unwrap().message;
        assert!(message.contains("line 5"), "{message}");
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            broken,
            "the user's file is untouched"
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_reported() {
        let err = Config::parse("[chat]\ndefualt_channel = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("defualt_channel"),
            "{err}"
        );
        let err = Config::parse("[logging]\nkeep_days = \"seven\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        let ok = Config::parse("[chat]\ndefault_channel = \"shroud\"\n").unwrap();
        assert_eq!(ok.chat.default_channel, "shroud");
        assert_eq!(ok.logging, LoggingConfig::default());
    }
}
