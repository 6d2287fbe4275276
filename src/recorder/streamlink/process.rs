//! The streamlink child process: spawning it (its own process group), stopping it (SIGINT,
//! grace, SIGKILL to the group) and keeping the tail of its output.
//!
//! Invariants: every wait is bounded (`stop_grace`, then `KILL_WAIT`); a stop never leaves
//! streamlink's ffmpeg helper behind (the whole group is killed); output lines are cut to 500
//! characters and only the last `TAIL_LINES` are kept.

use std::collections::VecDeque;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Child;
use tokio::task::JoinHandle;

use super::{command_args, StreamlinkOptions, KILL_WAIT};
use crate::tools::{Invocation, Tool, ToolError};

/// How many lines of streamlink's output `Exited` carries.
const TAIL_LINES: usize = 20;

/// streamlink as the recorder runs it; a missing program reads exactly
/// [`INSTALL_HINT`](super::INSTALL_HINT).
pub(super) const STREAMLINK: Tool = Tool {
    name: "streamlink",
    install_hint: "sudo apt install streamlink (or pip install streamlink)",
};

pub(super) fn spawn(options: &StreamlinkOptions, path: &Path) -> Result<Child, ToolError> {
    // Its own process group: a Ctrl-C in our terminal reaches us (and we stop it cleanly), and a
    // SIGKILL can take its ffmpeg helper along.
    Invocation::new(STREAMLINK, &options.program)
        .args(command_args(options, path))
        .own_process_group()
        .spawn()
}

/// SIGINT (streamlink closes the file and exits 130), up to `grace`, then SIGKILL.
pub(super) async fn stop_child(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
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
/// The last lines of streamlink's output (stdout and stderr interleaved).
#[derive(Clone, Default)]
pub(super) struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    pub(super) fn text(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

pub(super) fn read_lines(
    stream: impl AsyncRead + Unpin + Send + 'static,
    tail: Tail,
) -> JoinHandle<()> {
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
