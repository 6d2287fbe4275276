//! `CutError`: why a clip could not be cut, in words a streamer understands, and turning a
//! tool's failure (a missing, broken or hung ffmpeg/ffprobe; ffmpeg's last stderr line) into
//! one. (ffprobe's own stderr is read in `probe`.)
//!
//! Invariants: every message names the cause in plain words (disk full, read-only, permission
//! denied) rather than ffmpeg's raw output where it can; raw lines are cut to one line of at
//! most 200 characters with no control characters.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::tools::ToolError;

/// Why a clip could not be cut, in words a streamer understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CutError {
    #[error("{tool} is not installed: {install}")]
    ToolMissing {
        tool: &'static str,
        install: &'static str,
    },
    #[error("cannot start {tool}: {detail}")]
    ToolBroken { tool: &'static str, detail: String },
    #[error("the recording is missing: {} (was it moved or deleted?)", .path.display())]
    SourceMissing { path: PathBuf },
    #[error("{} is not a video recording: {detail}", .path.display())]
    NotAVideo { path: PathBuf, detail: String },
    #[error("the clip must end after it starts (asked {} → {})", clock(*.start), clock(*.end))]
    EmptyRange { start: Duration, end: Duration },
    #[error(
        "the moment is after the end of the recording (it starts at {}, the recording is {} long)",
        clock(*.start),
        clock(*.duration)
    )]
    AfterEnd { start: Duration, duration: Duration },
    #[error("cannot tell how long {} is: is it still being written?", .path.display())]
    UnknownDuration { path: PathBuf },
    #[error(
        "found no keyframe (a picture a clip can start on) near the moment: the recording may \
         be damaged"
    )]
    NoKeyframe,
    #[error("{name:?} cannot be used as a clip file name")]
    BadName { name: String },
    #[error(
        "the clip would replace the recording itself ({}): choose another folder or name",
        .path.display()
    )]
    WouldReplaceSource { path: PathBuf },
    #[error("ffprobe could not read {}: {detail}", .path.display())]
    Probe { path: PathBuf, detail: String },
    #[error("ffmpeg could not cut the clip: {detail}")]
    Ffmpeg { detail: String },
    #[error("ffmpeg wrote no usable clip: {detail}")]
    BadOutput { detail: String },
    #[error("{tool} took longer than {}", clock(*.after))]
    Timeout { tool: &'static str, after: Duration },
    #[error("cannot save the clip: {detail}")]
    Disk { detail: String },
}

impl CutError {
    /// A disk error with the path named and the cause in plain words.
    pub fn disk(what: &str, path: &Path, e: &std::io::Error) -> Self {
        Self::Disk {
            detail: crate::paths::disk_problem(what, path, e),
        }
    }
}

/// `12.3 s` under a minute, `m:ss` / `h:mm:ss` above.
pub(super) fn clock(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        if s.fract() == 0.0 {
            format!("{s:.0} s")
        } else {
            format!("{s:.1} s")
        }
    } else {
        let t = d.as_secs();
        let (h, m, s) = (t / 3600, t / 60 % 60, t % 60);
        if h > 0 {
            format!("{h}:{m:02}:{s:02}")
        } else {
            format!("{m}:{s:02}")
        }
    }
}

impl From<ToolError> for CutError {
    fn from(e: ToolError) -> Self {
        match e {
            ToolError::Missing {
                tool, install_hint, ..
            } => CutError::ToolMissing {
                tool,
                install: install_hint,
            },
            ToolError::CannotStart {
                tool,
                program,
                source,
            } => CutError::ToolBroken {
                tool,
                detail: if source.kind() == std::io::ErrorKind::PermissionDenied {
                    format!("{program}: permission denied (is it executable?)")
                } else {
                    format!("{program}: {source}")
                },
            },
            ToolError::Timeout { tool, after } => CutError::Timeout { tool, after },
            ToolError::Wait { tool, source } => CutError::ToolBroken {
                tool,
                detail: source.to_string(),
            },
        }
    }
}

/// Why ffmpeg failed: a disk problem in plain words, or ffmpeg's last line.
pub(super) fn ffmpeg_failed(output: &std::process::Output, out_dir: &Path) -> CutError {
    let Some(line) = last_line(&output.stderr) else {
        return CutError::Ffmpeg {
            detail: format!("ffmpeg exited with {}", output.status),
        };
    };
    let cause = if line.contains("No space left on device") {
        Some("the disk is full")
    } else if line.contains("Read-only file system") {
        Some("the disk is read-only")
    } else if line.contains("Permission denied") && line.contains(".part") {
        Some("permission denied")
    } else {
        None
    };
    match cause {
        Some(cause) => CutError::Disk {
            detail: format!("cannot write in {}: {cause}", out_dir.display()),
        },
        None => CutError::Ffmpeg { detail: line },
    }
}

/// The last non-empty stderr line, one line, no control characters, at most 200 characters.
pub(super) fn last_line(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    let clean: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string();
    Some(if clean.chars().count() > 200 {
        clean.chars().take(199).chain(['…']).collect()
    } else {
        clean
    })
}
