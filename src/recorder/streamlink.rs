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
//!   is still waiting for the stream, e.g. after a restart). Once per stall; `since_s` is how
//!   long it has not grown.
//! - `Resumed`: it grows again after a `Stalled` (possibly in a new `-partN` file), by more than
//!   the few KiB a writer flushes when streamlink gives up.
//! - `Exited { code, stderr_tail }`: streamlink ended (also after a stop: 130 after SIGINT, `None`
//!   when it had to be killed). `stderr_tail` is the end of its output; streamlink 5 writes its
//!   log and errors to stdout when recording to a file, so both streams are included.
//! - `Restarting { attempt, in_s }`: streamlink ended while we were not stopping (the stream
//!   dropped, or ended and may come back); it is started again in `in_s` seconds, writing
//!   `<stem>-partN.ts`. `attempt` counts restarts since data last flowed, and at most
//!   `max_restarts` are made in a row without any data; a restart that records resets the count.
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

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Child;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::chat::Backoff;
use crate::tools::{Invocation, Tool, ToolError};

/// The message when the `streamlink` program cannot be found.
pub const INSTALL_HINT: &str =
    "streamlink is not installed: sudo apt install streamlink (or pip install streamlink)";

/// How many lines of streamlink's output `Exited` carries.
const TAIL_LINES: usize = 20;
/// The window `bytes_per_min` is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(10);
/// How long an important event may wait for room in the channel.
const SEND_TIMEOUT: Duration = Duration::from_secs(2);
/// Growth a stalled file may show without counting as resumed: what streamlink (Python's
/// 8 KiB file buffer) or its ffmpeg muxer (32 KiB) still had buffered when the data stopped,
/// and flushes when it gives up.
const FLUSH_SLACK: u64 = 64 * 1024;
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

/// A file stem from the channel, the session id and the start time (UTC), sanitised:
/// `shroud_s42_20240501-193000`.
pub fn recording_stem(channel: &str, session_id: &str, started_unix_s: u64) -> String {
    const STAMP: &[FormatItem<'_>] =
        format_description!("[year][month][day]-[hour][minute][second]");
    // Past year 9999 (never a real start time) the stamp is the epoch's.
    let started = i64::try_from(started_unix_s)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let stamp = started
        .format(STAMP)
        .unwrap_or_else(|_| "19700101-000000".into());
    sanitize_stem(&format!("{channel}_{session_id}_{stamp}"))
}

/// Keeps `A-Z a-z 0-9 . _ -`, turns anything else into `_` (no runs), no leading dot, at most
/// 120 characters; `"recording"` when nothing is left.
pub fn sanitize_stem(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '_'
        };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_start_matches(['.', '_']).trim_end_matches('_');
    let out: String = out.chars().take(120).collect();
    if out.is_empty() {
        "recording".into()
    } else {
        out
    }
}

/// File `n` of a recording: `<stem>.ts` for 1, `<stem>-part<n>.ts` after that.
pub fn part_path(dir: &Path, stem: &str, n: u32) -> PathBuf {
    if n <= 1 {
        dir.join(format!("{stem}.ts"))
    } else {
        dir.join(format!("{stem}-part{n}.ts"))
    }
}

/// The first part number `>= from` whose file does not exist yet.
fn free_part(dir: &Path, stem: &str, from: u32) -> u32 {
    let mut n = from.max(1);
    while part_path(dir, stem, n).exists() {
        n += 1;
    }
    n
}

/// streamlink's arguments for writing to `output`. `-o` is a template for streamlink
/// (`{author}` …), so braces in the path are escaped.
pub fn command_args(options: &StreamlinkOptions, output: &Path) -> Vec<String> {
    let mut args: Vec<String> = vec!["--loglevel".into(), "info".into()];
    if options.retry_max > 0 {
        let every = options.retry_streams.max(Duration::from_millis(100));
        args.extend([
            "--retry-streams".into(),
            format!("{}", every.as_secs_f64()),
            "--retry-max".into(),
            options.retry_max.to_string(),
        ]);
    }
    args.extend(["--stream-segment-threads".into(), "1".into()]);
    args.extend(options.extra_args.iter().cloned());
    let out = output
        .to_string_lossy()
        .replace('{', "{{")
        .replace('}', "}}");
    args.extend(["-o".into(), out, "--force".into()]);
    args.extend(["--".into(), options.url.clone(), options.quality.clone()]);
    args
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
    loop {
        let path = part_path(&dir, &stem, part);
        tracing::info!(
            program = %options.program,
            url = %options.url,
            quality = %options.quality,
            path = %path.display(),
            extra_args = options.extra_args.len(),
            "starting streamlink"
        );
        let mut child = match spawn(&options, &path) {
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
        let end = supervise(&mut child, &path, &options, &mut health, &out, &cancel).await;
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
        if end.recorded {
            attempt = 0;
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

/// streamlink as the recorder runs it; a missing program reads exactly [`INSTALL_HINT`].
const STREAMLINK: Tool = Tool {
    name: "streamlink",
    install_hint: "sudo apt install streamlink (or pip install streamlink)",
};

fn spawn(options: &StreamlinkOptions, path: &Path) -> Result<Child, ToolError> {
    // Its own process group: a Ctrl-C in our terminal reaches us (and we stop it cleanly), and a
    // SIGKILL can take its ffmpeg helper along.
    Invocation::new(STREAMLINK, &options.program)
        .args(command_args(options, path))
        .own_process_group()
        .spawn()
}

/// How one streamlink run ended.
struct RunEnd {
    /// `None` when it could not be waited for.
    status: Option<ExitStatus>,
    /// We asked it to stop.
    stopping: bool,
    /// The file grew during this run.
    recorded: bool,
}

/// Whether the recording grows; carried across restarts so one stall is reported once.
struct Health {
    last_growth: Instant,
    stalled: bool,
}

impl Health {
    fn new() -> Self {
        Self {
            last_growth: Instant::now(),
            stalled: false,
        }
    }
}

/// Watches one streamlink run until it exits or `cancel` fires (then stops it).
async fn supervise(
    child: &mut Child,
    path: &Path,
    options: &StreamlinkOptions,
    health: &mut Health,
    out: &Emitter,
    cancel: &CancellationToken,
) -> RunEnd {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut announced = false;
    let mut recorded = false;
    let mut size: u64 = 0;
    let mut samples: VecDeque<(Instant, u64)> = VecDeque::new();
    // While stalled: the size the file must grow past (by `FLUSH_SLACK`) to count as resumed.
    // A new file (after a restart) starts from 0.
    let mut stalled_at: Option<u64> = health.stalled.then_some(0);
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                let status = stop_child(child, options.stop_grace).await;
                return RunEnd { status, stopping: true, recorded };
            }
            status = child.wait() => {
                return RunEnd { status: status.ok(), stopping: false, recorded };
            }
            _ = ticker.tick() => {}
        }
        let now = Instant::now();
        if let Some(bytes) = file_size(path).await {
            if !announced {
                announced = true;
                tracing::info!(path = %path.display(), "recording started");
                out.send(RecorderEvent::Started {
                    path: path.to_path_buf(),
                })
                .await;
            }
            if bytes > size {
                size = bytes;
                recorded = true;
                match stalled_at {
                    // Only the writer's buffered tail, flushed as streamlink gives up.
                    Some(at) if bytes <= at + FLUSH_SLACK => {}
                    _ => {
                        health.last_growth = now;
                        if health.stalled {
                            health.stalled = false;
                            stalled_at = None;
                            tracing::info!(bytes, "recording resumed");
                            out.send(RecorderEvent::Resumed).await;
                        }
                    }
                }
            }
            samples.push_back((now, bytes));
            while samples
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW)
            {
                samples.pop_front();
            }
            out.progress(RecorderEvent::Progress {
                bytes,
                bytes_per_min: rate_per_min(&samples),
            });
        }
        let quiet = now.duration_since(health.last_growth);
        if !health.stalled && quiet >= options.stall_after {
            health.stalled = true;
            stalled_at = Some(size);
            tracing::warn!(
                since_s = quiet.as_secs(),
                path = %path.display(),
                "recording stalled: the file is not growing"
            );
            out.send(RecorderEvent::Stalled {
                since_s: quiet.as_secs(),
            })
            .await;
        }
    }
}

/// Bytes per minute between the oldest and the newest sample.
fn rate_per_min(samples: &VecDeque<(Instant, u64)>) -> u64 {
    let (Some((t0, b0)), Some((t1, b1))) = (samples.front(), samples.back()) else {
        return 0;
    };
    let secs = t1.duration_since(*t0).as_secs_f64();
    if secs < 0.5 {
        return 0;
    }
    (b1.saturating_sub(*b0) as f64 / secs * 60.0) as u64
}

/// SIGINT (streamlink closes the file and exits 130), up to `grace`, then SIGKILL.
async fn stop_child(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    let Some(pid) = child.id() else {
        // Already reaped.
        return child.try_wait().ok().flatten();
    };
    tracing::info!(pid, "stopping streamlink (SIGINT)");
    let signalled = interrupt(pid);
    if signalled {
        if let Ok(status) = tokio::time::timeout(grace, child.wait()).await {
            return status.ok();
        }
        tracing::warn!(
            pid,
            grace_s = grace.as_secs_f64(),
            "streamlink did not exit after SIGINT; killing it"
        );
    }
    kill_group(pid);
    let _ = child.start_kill();
    tokio::time::timeout(KILL_WAIT, child.wait())
        .await
        .ok()
        .and_then(Result::ok)
}

#[cfg(unix)]
mod signal {
    /// Sends `sig` to `pid` (a negative `pid` is a process group); whether it was delivered.
    fn send(pid: libc::pid_t, sig: libc::c_int) -> bool {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe { libc::kill(pid, sig) == 0 }
    }

    /// SIGINT to the child (streamlink closes its file and exits 130).
    pub fn interrupt(pid: u32) -> bool {
        libc::pid_t::try_from(pid).is_ok_and(|pid| pid > 0 && send(pid, libc::SIGINT))
    }

    /// The child leads its own process group (`process_group(0)`): kill all of it.
    pub fn kill_group(pid: u32) {
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            if pid > 0 {
                send(-pid, libc::SIGKILL);
            }
        }
    }
}

#[cfg(unix)]
use signal::{interrupt, kill_group};

/// No SIGINT on this platform: go straight to killing.
#[cfg(not(unix))]
fn interrupt(_pid: u32) -> bool {
    false
}

#[cfg(not(unix))]
fn kill_group(_pid: u32) {}

async fn file_size(path: &Path) -> Option<u64> {
    tokio::fs::metadata(path).await.ok().map(|m| m.len())
}

/// The last lines of streamlink's output (stdout and stderr interleaved).
#[derive(Clone, Default)]
struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    fn text(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

fn read_lines(stream: impl AsyncRead + Unpin + Send + 'static, tail: Tail) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let line: String = line.trim_end().chars().take(500).collect();
            if line.is_empty() {
                continue;
            }
            if line.starts_with("error:") || line.contains("][error]") {
                tracing::warn!(target: "streamlink", "{line}");
            } else {
                tracing::debug!(target: "streamlink", "{line}");
            }
            tail.push(line);
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_sanitised_and_dated() {
        assert_eq!(
            recording_stem("shroud", "s42", 1_714_591_800),
            "shroud_s42_20240501-193000"
        );
        assert_eq!(
            recording_stem("../We ird/ch@n", "", 0),
            "We_ird_ch_n_19700101-000000"
        );
        assert_eq!(sanitize_stem("..."), "recording");
        assert_eq!(sanitize_stem("a/b\\c:d{e}"), "a_b_c_d_e");
        assert_eq!(sanitize_stem(&"x".repeat(300)).len(), 120);
        // Calendar edges: a new year, a leap day.
        assert_eq!(
            recording_stem("a", "s", 1_704_067_200),
            "a_s_20240101-000000"
        );
        assert_eq!(recording_stem("a", "s", 951_868_799), "a_s_20000229-235959");
        assert_eq!(recording_stem("a", "s", u64::MAX), "a_s_19700101-000000");
    }

    #[test]
    fn parts_never_reuse_an_existing_file() {
        let dir = std::env::temp_dir().join(format!("sl-parts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(part_path(&dir, "s", 1), dir.join("s.ts"));
        assert_eq!(part_path(&dir, "s", 3), dir.join("s-part3.ts"));
        assert_eq!(free_part(&dir, "s", 1), 1);
        std::fs::write(dir.join("s.ts"), b"x").unwrap();
        std::fs::write(dir.join("s-part2.ts"), b"x").unwrap();
        assert_eq!(free_part(&dir, "s", 1), 3);
        assert_eq!(free_part(&dir, "s", 5), 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn command_line_is_stream_copy_to_a_file() {
        let options = StreamlinkOptions {
            url: "twitch.tv/shroud".into(),
            extra_args: vec!["--twitch-disable-ads".into()],
            ..Default::default()
        };
        let args = command_args(&options, Path::new("/rec/{x}/s.ts"));
        assert_eq!(
            args.join(" "),
            "--loglevel info --retry-streams 5 --retry-max 12 --stream-segment-threads 1 \
             --twitch-disable-ads -o /rec/{{x}}/s.ts --force -- twitch.tv/shroud best"
        );
        let once = StreamlinkOptions {
            retry_max: 0,
            retry_streams: Duration::from_millis(1500),
            ..options
        };
        assert!(!command_args(&once, Path::new("/s.ts")).contains(&"--retry-streams".into()));
    }

    #[test]
    fn errors_are_classified() {
        let offline = "[cli][info] streamlink is running as root! Be careful!\n\
                       error: No playable streams found on this URL: twitch.tv/x";
        assert_eq!(
            error_line(offline).as_deref(),
            Some("No playable streams found on this URL: twitch.tv/x")
        );
        assert_eq!(fatal_error(offline), None);
        let timeout = "[cli][info] Stream ended\nerror: Error when reading from stream: Read \
                       timeout, exiting\n[cli][info] Closing currently open stream...";
        assert_eq!(fatal_error(timeout), None);
        let plugin = "error: No plugin can handle URL: nope";
        assert_eq!(
            fatal_error(plugin).as_deref(),
            Some("streamlink cannot record this: No plugin can handle URL: nope")
        );
        let quality = "error: The specified stream(s) '4k' could not be found.\n       \
                       Available streams: 720p, best";
        assert_eq!(
            fatal_error(quality).as_deref(),
            Some(
                "streamlink cannot record this: The specified stream(s) '4k' could not be \
                 found. Available streams: 720p, best"
            )
        );
        let usage = "usage: streamlink [OPTIONS] <URL> [STREAM]\n\
                     streamlink: error: unrecognized arguments: --bogus";
        assert_eq!(
            fatal_error(usage).as_deref(),
            Some("streamlink rejected its options: unrecognized arguments: --bogus")
        );
    }

    #[tokio::test]
    async fn a_missing_streamlink_reads_the_install_hint() {
        let missing = Invocation::new(STREAMLINK, "/nonexistent/streamlink")
            .spawn()
            .unwrap_err();
        assert!(matches!(missing, ToolError::Missing { .. }), "{missing:?}");
        assert_eq!(missing.to_string(), INSTALL_HINT);
    }

    #[test]
    fn rate_is_per_minute_over_the_window() {
        let t0 = Instant::now();
        let samples: VecDeque<_> = [(t0, 1000), (t0 + Duration::from_secs(2), 3000)].into();
        assert_eq!(rate_per_min(&samples), 60_000);
        assert_eq!(rate_per_min(&VecDeque::new()), 0);
    }
}
