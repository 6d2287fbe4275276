//! The streamer's settings: a TOML file in the config folder.
//!
//! Invariants: a missing file is created with the defaults (commented); a file with problems is
//! never overwritten. The file is read setting by setting (`lenient`): a setting that is
//! unknown, of the wrong type or out of range is skipped (its default is used) and reported
//! with its place and line, and every other setting is kept. Only a file that is not TOML at
//! all (broken syntax, a key set twice), cannot be read, or is unreasonably large gives all the
//! defaults, with the problem (and its line) reported.

use std::path::Path;

use serde::{Deserialize, Serialize};

mod lenient;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub chat: ChatConfig,
    pub queue: QueueConfig,
    pub generator: GeneratorConfig,
    pub watch: WatchConfig,
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
    /// Said to the viewer when their clip goes on screen (`{name}`, `{prompt}`; "" = off).
    pub reply_on_screen: String,
    /// Said to the viewer when their clip could not be made (`{name}`, `{prompt}`, `{reason}`;
    /// "" = off).
    pub reply_failed: String,
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
            reply_on_screen: crate::generator::completions::DEFAULT_ON_SCREEN.into(),
            reply_failed: crate::generator::completions::DEFAULT_FAILED.into(),
        }
    }
}

/// Watch-along's advanced knobs (the executor, controller and timeouts are set in the window).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchConfig {
    /// The streamlink program that turns YouTube, Twitch and Vimeo links into a stream URL for
    /// OBS (`streamlink --stream-url <link> best`).
    pub streamlink: String,
    /// Longest that resolving one link may take.
    pub resolve_timeout_seconds: u64,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            streamlink: "streamlink".into(),
            resolve_timeout_seconds: 30,
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
    /// Watch-along: start (the broadcaster and moderators), stop, and what is playing.
    pub watch_commands: Vec<String>,
    pub watch_stop_commands: Vec<String>,
    pub watching_commands: Vec<String>,
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
            watch_commands: vec!["watch".into()],
            watch_stop_commands: vec!["stop".into()],
            watching_commands: vec!["watching".into()],
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
# Watch-along (Settings -> Watch-along): !watch <link> and !stop for the broadcaster and mods,
# !watching for everyone.
watch_commands = ["watch"]
watch_stop_commands = ["stop"]
watching_commands = ["watching"]
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
# What the viewer hears when their clip is on screen, and when it could not be made ("" = off).
reply_on_screen = "@{name} your clip is on screen now!"
reply_failed = "@{name} sorry, I couldn't make that one: {reason}"

[watch]
# Watch-along in OBS: the program that turns YouTube, Twitch and Vimeo links into a stream OBS
# can play, and how long that may take.
streamlink = "streamlink"
resolve_timeout_seconds = 30

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

/// What went wrong reading the config; shown to the streamer. With several problems, the
/// message has a first line naming the file, then one line per problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub message: String,
}

/// Larger files are refused (a settings file is a few KB; this keeps a wrong file from
/// exhausting memory).
const MAX_FILE_BYTES: u64 = 64 << 20;

impl Config {
    /// Loads `path`, creating it with the defaults if it does not exist.
    ///
    /// Settings with problems are skipped (defaults used for them) and the others kept; a file
    /// that is not TOML at all gives the defaults. Either way the file is left as it is and the
    /// problem is returned.
    pub fn load_or_create(path: &Path) -> (Config, Option<ConfigProblem>) {
        match read_limited(path) {
            Ok(bytes) => match Self::parse_lenient(&bytes) {
                Ok(parsed) => {
                    let message = parsed.message(path);
                    (
                        parsed.config,
                        message.map(|message| ConfigProblem { message }),
                    )
                }
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

    /// Parses config text strictly: any problem (broken syntax, or a setting that
    /// [`Config::parse_lenient`] would skip) is an error naming the first one and its line.
    pub fn parse(text: &str) -> Result<Config, ConfigSyntaxError> {
        let parsed = Self::parse_lenient(text.as_bytes())?;
        match parsed.problems.into_iter().next() {
            None => Ok(parsed.config),
            Some(p) => Err(ConfigSyntaxError {
                line: p.line,
                message: if p.place.is_empty() {
                    p.message
                } else {
                    format!("{}: {}", p.place, p.message)
                },
            }),
        }
    }

    /// Parses the file's bytes setting by setting: what is usable is kept and every other
    /// setting is listed as a problem (its default used). Fails only when the bytes are not
    /// TOML at all. Bytes that are not UTF-8 are reported, and a value containing them is
    /// skipped.
    pub fn parse_lenient(bytes: &[u8]) -> Result<ParsedConfig, ConfigSyntaxError> {
        lenient::parse(bytes)
    }
}

/// A config file read setting by setting.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedConfig {
    /// Every usable setting; defaults for the rest.
    pub config: Config,
    /// The problems, in the order of the file (at most 30; see `unlisted`).
    pub problems: Vec<SettingProblem>,
    /// Problems left out of `problems` (a file full of mistakes).
    pub unlisted: usize,
}

impl ParsedConfig {
    /// The notice for the streamer, `None` when there is no problem: a first line naming the
    /// file, then one line per problem.
    pub fn message(&self, path: &Path) -> Option<String> {
        if self.problems.is_empty() {
            return None;
        }
        let count = self.problems.len() + self.unlisted;
        let mut message = format!(
            "{} has {}; StreamCue uses the defaults for {}, applies every other setting and \
             left the file as it is:",
            path.display(),
            if count == 1 {
                "a problem".to_string()
            } else {
                format!("{count} problems")
            },
            if count == 1 { "it" } else { "them" },
        );
        for p in &self.problems {
            message.push('\n');
            message.push_str(&p.to_string());
        }
        if self.unlisted > 0 {
            message.push_str(&format!("\n… and {} more", self.unlisted));
        }
        Some(message)
    }
}

/// One setting (or section, or line) of `config.toml` that could not be used.
///
/// Shown as `[chat] twitch_clientid (line 4): unknown setting — did you mean
/// twitch_client_id?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    /// `[section] key`, `[section]`, a key outside any section, or "" for a whole line.
    pub place: String,
    /// Where it is written, when known.
    pub line: Option<usize>,
    /// What is wrong (and the likely fix).
    pub message: String,
}

impl std::fmt::Display for SettingProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.place.is_empty(), self.line) {
            (false, Some(line)) => write!(f, "{} (line {line}): {}", self.place, self.message),
            (false, None) => write!(f, "{}: {}", self.place, self.message),
            (true, Some(line)) => write!(f, "line {line}: {}", self.message),
            (true, None) => f.write_str(&self.message),
        }
    }
}

/// What is wrong in `config.toml`, and on which line when TOML says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct ConfigSyntaxError {
    pub line: Option<usize>,
    pub message: String,
}

/// The file's bytes; a file larger than [`MAX_FILE_BYTES`] is an error.
fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let too_large = || std::io::Error::other(format!("larger than {} MB", MAX_FILE_BYTES >> 20));
    let file = std::fs::File::open(path)?;
    if file.metadata().is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
        return Err(too_large());
    }
    // Checked again while reading: the size on disk may be wrong (special files) or change.
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
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
mod tests;
