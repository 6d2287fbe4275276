//! Records a live stream with the `streamlink` CLI as a child process (SPEC §8).
//!
//! streamlink only *copies* the stream: it downloads the HLS segments and writes them one after
//! the other, so nothing is re-encoded. For HLS (Twitch, Kick, `hls://…`) that is an MPEG-TS
//! file, hence the `.ts` extension. (For sites whose video and audio come separately, e.g.
//! YouTube DASH, streamlink muxes them with ffmpeg, still in stream-copy mode.)
//!
//! # API
//!
//! [`run`] is the actor: it records until `cancel` fires or the stream is gone for good, and
//! reports on an `mpsc` channel. [`StreamlinkRecorder`] is the same thing spawned on the tokio
//! runtime with a `stop()` that cancels and waits.
//!
//! # Command line
//!
//! See [`command_args`]; for streamlink 5.2.1 (Debian 12):
//!
//! ```text
//! streamlink --loglevel info --retry-streams 5 --retry-max 12 --stream-segment-threads 1
//!            [extra args] -o <out_dir>/<stem>.ts --force -- <url> <quality>
//! ```
//!
//! `--force` only stops streamlink from prompting: the recorder itself picks a file name that
//! does not exist yet, so nothing is ever overwritten. `--hls-live-restart` is not used (the
//! recording starts at the live edge). streamlink's config file is still read, so plugin
//! settings a user keeps there (e.g. a Twitch `--twitch-api-header`) apply.
//!
//! # Events, in order
//!
//! - `Started { path }`: streamlink opened the stream and `path` exists on disk. Emitted once
//!   per file (the first file, then each `-partN` after a restart).
//! - `Progress { bytes, bytes_per_min }`: every second while the current file exists. `bytes`
//!   is the size of the current file (not the sum of parts); the rate is over the last 10 s.
//! - `Stalled { since_s }`: the recording has not grown for `stall_after` (also while streamlink
//!   is still waiting for the stream after a restart; never before any data came: a stream
//!   that has not started is waited for, not stalled). Once per stall; `since_s` is how long
//!   it has not grown.
//! - `Resumed`: it grows again after a `Stalled` (possibly in a new `-partN` file), by more than
//!   the few KiB a writer flushes when streamlink gives up.
//! - `Exited { code, stderr_tail }`: streamlink ended (also after a stop: 130 after SIGINT, `None`
//!   when it had to be killed). `stderr_tail` is the end of its output; streamlink 5 writes its
//!   log and errors to stdout when recording to a file, so both streams are included.
//! - `Restarting { attempt, in_s }`: streamlink ended while we were not stopping (the stream
//!   dropped, or ended and may come back); it is started again in `in_s` seconds, writing
//!   `<stem>-partN.ts`. `attempt` counts restarts since data last flowed, and at most
//!   `max_restarts` are made in a row without any data; a restart that records resets the count.
//! - `Waiting { checks, next_in_s, reason }` (only with `wait_for_live`): the stream is not
//!   live: streamlink found no stream, or it ended and the restarts ran out. It is checked
//!   again every `wait_for_live` (one streamlink run each, no `--retry-*`) until it records
//!   (`Started`, into the next free `-partN`) or the recorder is stopped; no `Failed` for a
//!   stream that is merely offline, and the restart count starts afresh once data flows.
//! - Last, exactly one of:
//!   - `Stopped { path, bytes }`: the recording is over and the files are final. After `cancel`
//!     (SIGINT, up to `stop_grace`, then SIGKILL), or when the restarts ran out after something
//!     was recorded (the stream ended). `path` is the last file written and `bytes` its size
//!     (earlier parts were announced by their own `Started`); `bytes == 0` means nothing was
//!     recorded and `path` may not exist.
//!   - `Failed { message }`: nothing could be recorded: streamlink is missing, the URL or
//!     quality is wrong, the output cannot be written, or the stream never came up.
//!
//! Every wait races `cancel` and is bounded; events other than `Progress` wait at most 2 s for
//! room in the channel (`Progress` is dropped when the channel is full).
//!
//! # Layout
//! This file holds the types, the handle and [`run`] with its restart policy; `command` the file
//! names and the command line, `process` spawning and stopping the child and reading its output,
//! `health` watching one run (growth, stalls, progress).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::chat::Backoff;
use crate::tools::ToolError;

mod command;
mod health;
mod process;
#[cfg(test)]
mod tests;

use command::free_part;
pub use command::{command_args, part_path, recording_stem, sanitize_stem};
use health::{file_size, supervise, Health};
use process::{read_lines, spawn, Tail};

/// The message when the `streamlink` program cannot be found.
pub const INSTALL_HINT: &str =
    "streamlink is not installed: sudo apt install streamlink (or pip install streamlink)";

/// How long an important event may wait for room in the channel.
const SEND_TIMEOUT: Duration = Duration::from_secs(2);
/// After SIGKILL, how long to wait for the process to be reaped.
const KILL_WAIT: Duration = Duration::from_secs(5);
/// After the process exits, how long to wait for the rest of its output.
const OUTPUT_DRAIN: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct StreamlinkOptions {
    /// The program to run: `"streamlink"` (looked up on `PATH`) or a path.
    pub program: String,
    /// What streamlink should open: `"twitch.tv/shroud"`, `"hls://http://127.0.0.1:8080/live.m3u8"`.
    pub url: String,
    /// Stream quality, e.g. `"best"`, or a fallback list such as `"720p60,720p,best"`.
    pub quality: String,
    /// Where recordings go; created if missing.
    pub out_dir: PathBuf,
    /// File name without extension; see [`recording_stem`]. Sanitised again here.
    pub file_stem: String,
    /// The file not growing this long counts as stalled (default 20 s).
    pub stall_after: Duration,
    /// Delay before restart attempt N.
    pub restart_backoff: Backoff,
    /// How many restarts in a row without any data before giving up.
    pub max_restarts: u32,
    /// On stop: SIGINT, wait this long for streamlink to finish the file, then SIGKILL (10 s).
    pub stop_grace: Duration,
    /// `--retry-streams`: while the stream is not (yet / again) available, streamlink asks
    /// every this long…
    pub retry_streams: Duration,
    /// …at most this many times (`--retry-max`). 0 = ask once (no retry flags passed).
    pub retry_max: u32,
    /// `Some(poll)`: while the stream is not live (before it starts, or once it ended and the
    /// restarts ran out), check again every `poll` until stopped (`Waiting` events), instead
    /// of ending with `Failed`/`Stopped`. Each check is one quick streamlink run (no
    /// `--retry-*`). `None`: give up as described in the module docs.
    pub wait_for_live: Option<Duration>,
    /// More streamlink options, passed before `-o`, e.g. `["--twitch-disable-ads"]` or
    /// `["--stream-timeout", "20"]`. Not logged (they may hold an auth header).
    pub extra_args: Vec<String>,
}

impl Default for StreamlinkOptions {
    fn default() -> Self {
        Self {
            program: "streamlink".into(),
            url: String::new(),
            quality: "best".into(),
            out_dir: PathBuf::from("."),
            file_stem: "recording".into(),
            stall_after: Duration::from_secs(20),
            restart_backoff: Backoff {
                base: Duration::from_secs(2),
                cap: Duration::from_secs(30),
            },
            max_restarts: 5,
            stop_grace: Duration::from_secs(10),
            retry_streams: Duration::from_secs(5),
            retry_max: 12,
            wait_for_live: None,
            extra_args: Vec::new(),
        }
    }
}

/// What the recorder reports. See the module docs for when each is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RecorderEvent {
    Started {
        path: PathBuf,
    },
    Progress {
        bytes: u64,
        bytes_per_min: u64,
    },
    Stalled {
        since_s: u64,
    },
    Resumed,
    Exited {
        code: Option<i32>,
        stderr_tail: String,
    },
    Restarting {
        attempt: u32,
        in_s: f64,
    },
    /// The stream is not live (with `wait_for_live`): checked `checks` times so far, the next
    /// check in `next_in_s`; `reason` is streamlink's own word on the last check.
    Waiting {
        checks: u32,
        next_in_s: f64,
        reason: String,
    },
    Stopped {
        path: PathBuf,
        bytes: u64,
    },
    Failed {
        message: String,
    },
}

/// A recorder running on the tokio runtime. Dropping it does not stop it: call [`Self::stop`]
/// (or cancel the token given to [`Self::start_with`]).
pub struct StreamlinkRecorder {
    cancel: CancellationToken,
    task: JoinHandle<()>,
    stop_grace: Duration,
}

impl StreamlinkRecorder {
    pub fn start(options: StreamlinkOptions, events: mpsc::Sender<RecorderEvent>) -> Self {
        Self::start_with(options, events, CancellationToken::new())
    }

    /// Like `start`, stopped also when `cancel` (e.g. a child of the engine's token) fires.
    pub fn start_with(
        options: StreamlinkOptions,
        events: mpsc::Sender<RecorderEvent>,
        cancel: CancellationToken,
    ) -> Self {
        let stop_grace = options.stop_grace;
        let task = tokio::spawn(run(options, events, cancel.clone()));
        Self {
            cancel,
            task,
            stop_grace,
        }
    }

    /// Whether the recorder has finished (sent `Stopped` or `Failed`).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the recording and waits for it to finish (bounded: `stop_grace` + 10 s).
    pub async fn stop(self) {
        self.cancel.cancel();
        let mut task = self.task;
        let limit = self.stop_grace + KILL_WAIT + OUTPUT_DRAIN + 3 * SEND_TIMEOUT;
        if tokio::time::timeout(limit, &mut task).await.is_err() {
            tracing::warn!("streamlink recorder did not stop in time; abandoning it");
            task.abort();
        }
    }
}

/// Records until `cancel` fires or the stream is gone for good. See the module docs.
pub async fn run(
    options: StreamlinkOptions,
    events: mpsc::Sender<RecorderEvent>,
    cancel: CancellationToken,
) {
    let out = Emitter { tx: events };
    let dir = match std::path::absolute(&options.out_dir) {
        Ok(dir) => dir,
        Err(e) => {
            let message = format!(
                "cannot use the recordings folder {}: {e}",
                options.out_dir.display()
            );
            out.send(RecorderEvent::Failed { message }).await;
            return;
        }
    };
    if let Err(e) = tokio::fs::create_dir_all(&dir).await {
        let message = format!("cannot create the recordings folder {}: {e}", dir.display());
        out.send(RecorderEvent::Failed { message }).await;
        return;
    }
    let stem = sanitize_stem(&options.file_stem);
    let mut health = Health::new();
    let mut part = free_part(&dir, &stem, 1);
    if cancel.is_cancelled() {
        let path = part_path(&dir, &stem, part);
        out.send(RecorderEvent::Stopped { path, bytes: 0 }).await;
        return;
    }
    // The last file that received data, and its size.
    let mut last: Option<(PathBuf, u64)> = None;
    let mut attempt: u32 = 0;
    let mut last_error = String::new();
    // Checks made while the stream is not live (`wait_for_live`); 0 = not waiting.
    let mut checks: u32 = 0;
    // While waiting, each check asks once: the wait between checks is ours (and shown).
    let check_options = StreamlinkOptions {
        retry_max: 0,
        ..options.clone()
    };
    loop {
        let path = part_path(&dir, &stem, part);
        let options = if checks > 0 { &check_options } else { &options };
        tracing::info!(
            program = %options.program,
            url = %options.url,
            quality = %options.quality,
            path = %path.display(),
            extra_args = options.extra_args.len(),
            "starting streamlink"
        );
        let mut child = match spawn(options, &path) {
            Ok(child) => child,
            Err(e) => {
                let message = match e {
                    ToolError::CannotStart { source, .. } | ToolError::Wait { source, .. } => {
                        format!("cannot start streamlink ({}): {source}", options.program)
                    }
                    missing => missing.to_string(),
                };
                tracing::error!(%message, "recorder failed");
                out.send(RecorderEvent::Failed { message }).await;
                return;
            }
        };
        let tail = Tail::default();
        let readers = [
            child.stdout.take().map(|s| read_lines(s, tail.clone())),
            child.stderr.take().map(|s| read_lines(s, tail.clone())),
        ];
        let end = supervise(&mut child, &path, options, &mut health, &out, &cancel).await;
        for reader in readers.into_iter().flatten() {
            // The readers end at EOF; a grandchild (streamlink's ffmpeg) could hold the pipe.
            let abort = reader.abort_handle();
            if tokio::time::timeout(OUTPUT_DRAIN, reader).await.is_err() {
                abort.abort();
            }
        }
        let bytes = file_size(&path).await.unwrap_or(0);
        let stderr_tail = tail.text();
        let code = end.status.and_then(|s| s.code());
        tracing::info!(?code, bytes, path = %path.display(), "streamlink exited");
        out.send(RecorderEvent::Exited {
            code,
            stderr_tail: stderr_tail.clone(),
        })
        .await;
        if bytes > 0 {
            last = Some((path.clone(), bytes));
            part += 1;
        }
        if end.stopping {
            let (path, bytes) = last.unwrap_or((path, 0));
            tracing::info!(path = %path.display(), bytes, "recording stopped");
            out.send(RecorderEvent::Stopped { path, bytes }).await;
            return;
        }
        last_error = error_line(&stderr_tail).unwrap_or(last_error);
        if bytes == 0 {
            if let Some(message) = fatal_error(&stderr_tail) {
                tracing::error!(%message, "recorder failed");
                out.send(RecorderEvent::Failed { message }).await;
                return;
            }
        }
        if end.recorded || bytes > 0 {
            attempt = 0;
            checks = 0;
        }
        let not_live = bytes == 0 && last_error.starts_with("No playable streams found");
        if let Some(poll) = options.wait_for_live {
            // Offline (never started, or ended and restarted in vain): wait for it to go live.
            if checks > 0 || (not_live && attempt == 0) || attempt >= options.max_restarts {
                checks += 1;
                let reason = if last_error.is_empty() {
                    "streamlink recorded nothing".to_string()
                } else {
                    last_error.clone()
                };
                tracing::info!(checks, poll_s = poll.as_secs_f64(), %reason, "stream not live; waiting");
                out.send(RecorderEvent::Waiting {
                    checks,
                    next_in_s: (poll.as_secs_f64() * 10.0).round() / 10.0,
                    reason,
                })
                .await;
                part = free_part(&dir, &stem, part);
                tokio::select! {
                    _ = cancel.cancelled() => {
                        let (path, bytes) = last.unwrap_or((path, 0));
                        tracing::info!(path = %path.display(), bytes, "recording stopped while waiting");
                        out.send(RecorderEvent::Stopped { path, bytes }).await;
                        return;
                    }
                    _ = tokio::time::sleep(poll) => {}
                }
                continue;
            }
        }
        attempt += 1;
        if attempt > options.max_restarts {
            let event = match last {
                Some((path, bytes)) => {
                    tracing::info!(path = %path.display(), bytes, "stream ended; recording stopped");
                    RecorderEvent::Stopped { path, bytes }
                }
                None => {
                    let attempts = options.max_restarts + 1;
                    let message = if last_error.starts_with("No playable streams found") {
                        format!(
                            "{} is not live: streamlink found no stream ({attempts} attempt(s))",
                            options.url
                        )
                    } else if last_error.is_empty() {
                        format!(
                            "could not record {}: streamlink recorded nothing ({attempts} attempt(s))",
                            options.url
                        )
                    } else {
                        format!(
                            "could not record {} ({attempts} attempt(s)): {last_error}",
                            options.url
                        )
                    };
                    tracing::error!(%message, "recorder failed");
                    RecorderEvent::Failed { message }
                }
            };
            out.send(event).await;
            return;
        }
        part = free_part(&dir, &stem, part);
        let delay = options.restart_backoff.delay(attempt);
        tracing::warn!(
            attempt,
            delay_ms = delay.as_millis() as u64,
            "streamlink exited while recording; restarting"
        );
        out.send(RecorderEvent::Restarting {
            attempt,
            in_s: (delay.as_secs_f64() * 10.0).round() / 10.0,
        })
        .await;
        tokio::select! {
            _ = cancel.cancelled() => {
                let (path, bytes) = last.unwrap_or((path, 0));
                tracing::info!(path = %path.display(), bytes, "recording stopped");
                out.send(RecorderEvent::Stopped { path, bytes }).await;
                return;
            }
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// The most telling line of streamlink's output: its last `error: …` (with its indented
/// continuation lines, e.g. "Available streams: …"), else its last error or warning log line.
fn error_line(tail: &str) -> Option<String> {
    let lines: Vec<&str> = tail.lines().collect();
    if let Some(i) = lines.iter().rposition(|l| l.starts_with("error: ")) {
        let mut text = lines[i]["error: ".len()..].trim().to_string();
        for more in lines[i + 1..]
            .iter()
            .take_while(|l| l.starts_with(char::is_whitespace))
        {
            text.push(' ');
            text.push_str(more.trim());
        }
        return Some(text);
    }
    lines
        .iter()
        .rev()
        .find(|l| l.contains("][error]") || l.contains("][warning]"))
        .map(|l| l.trim().to_string())
}

/// Errors that a restart cannot fix, as a message for the user.
fn fatal_error(tail: &str) -> Option<String> {
    // argparse: an unknown or bad option.
    if let Some(usage) = tail
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("streamlink: error: "))
    {
        return Some(format!("streamlink rejected its options: {}", usage.trim()));
    }
    let error = error_line(tail)?;
    let fatal = error.starts_with("No plugin can handle URL")
        || error.contains("could not be found")
        || error.starts_with("Failed to open output");
    fatal.then(|| format!("streamlink cannot record this: {error}"))
}

/// Sends events without ever blocking the recorder for long.
struct Emitter {
    tx: mpsc::Sender<RecorderEvent>,
}

impl Emitter {
    async fn send(&self, event: RecorderEvent) {
        match tokio::time::timeout(SEND_TIMEOUT, self.tx.send(event)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => tracing::debug!("recorder event dropped: nobody is listening"),
            Err(_) => tracing::warn!("recorder event dropped: the listener is not keeping up"),
        }
    }

    fn progress(&self, event: RecorderEvent) {
        let _ = self.tx.try_send(event);
    }
}
