//! Cuts a moment out of a recording into a clip **without re-encoding** (ffmpeg stream copy),
//! so a clip costs no CPU/GPU while live and keeps the recording's exact quality.
//!
//! # Keyframes
//! A stream copy can only start on a keyframe: the pictures after it are stored as differences
//! from it. So the clip starts at the **last video keyframe at or before `start`** (its
//! presentation time), and [`CutClip::widened_by`] says how much earlier than asked that is
//! ("widened by 1.3 s to the nearest keyframe"). Only if `start` is before the recording's
//! first keyframe does the clip start at that first keyframe (a hair later than asked;
//! `widened_by` is then 0).
//!
//! The keyframe is found from the **packet flags** of the first real video stream (no decoding),
//! reading only a window around `start` (`-read_intervals`), so a six-hour recording is not
//! scanned; the window grows (6 s, 30 s, 2 min, 10 min before `start`) until it holds a keyframe
//! at or before `start` whose decode time ffprobe reports (Matroska gives none for the first
//! packets read after a seek):
//!
//! ```text
//! ffprobe -v error -select_streams V:0 -read_intervals <start-6s>%<start+0.5s>
//!         -show_entries packet=pts_time,dts_time,flags -of json file:<source>
//! ```
//!
//! # The cut
//! ffmpeg's own input seek does not land on a chosen keyframe reliably: it moves the target
//! 3/23 s earlier for formats without PTS seeking (Matroska) when the video has B-frames, and
//! MPEG-TS has no index at all (a binary search on timestamps). So the cut is made in two steps
//! that work the same for every container:
//!
//! ```text
//! ffmpeg -hide_banner -nostdin -loglevel error -y -ignore_unknown
//!        -ss <keyframe decode time − 1 s> -i file:<source>
//!        -map 0 -map -0:d [-map -0:s] -c copy
//!        -ss <to the keyframe's decode time − 1 ms> -t <up to end>
//!        -avoid_negative_ts make_zero [-movflags +faststart]
//!        -f <matroska|webm|mp4|mov> file:<out_dir>/.<stem>.<ext>.<random>.part
//! ```
//!
//! The input `-ss` lands somewhere before the keyframe (on an earlier keyframe in indexed
//! containers, by timestamp search in MPEG-TS); the output `-ss` then drops
//! every packet whose decode time is before the keyframe's (ffmpeg compares decode times for
//! stream copy, and drops leading non-keyframes anyway), so video starts exactly on the keyframe
//! and audio starts with it (audio can begin up to the B-frame delay, e.g. 0.08 s, before the
//! first picture, as in any remux). Both `-ss` are left out when not needed (clip at the very
//! start of the recording). Offsets count from the container's start time, as ffmpeg's `-ss`
//! does (MPEG-TS timestamps do not start at 0).
//!
//! # The end
//! The end stays at `end` (clamped to the recording's length; [`CutClip::clamped_end`]). ffmpeg
//! stops copying at the first packet whose decode time is ≥ `end`, so every picture shown before
//! `end` is in; with B-frames a few pictures decoded before `end` are shown just after it (the
//! B-frame delay plus run: ≤ 6 frames, 0.24 s at 25 fps with 3 B-frames).
//! The measured length of the written clip is [`CutClip::duration`].
//!
//! # Containers
//! * Matroska (`.mkv`, OBS's recommended format) → `.mkv` (`.webm` → `.webm`): every track is
//!   kept (all audio tracks, subtitles, attachments).
//! * MP4/MOV (`.mp4`, `.mov`, `.m4v`) → same extension.
//! * Anything else (MPEG-TS from streamlink, FLV, …) → `.mp4`: H.264/HEVC + AAC remux into MP4
//!   without re-encoding, and MP4 is what editors and upload pages take. Subtitle tracks are
//!   left out there (MP4 cannot hold them as a copy).
//!
//! Data tracks (e.g. Twitch's timed ID3 metadata in TS) are always left out: neither MP4 nor
//! Matroska can hold them. MP4 outputs get `+faststart` (playable while downloading).
//!
//! # Files
//! ffmpeg writes a hidden temporary name in `out_dir`; it is renamed to `<stem>.<ext>` only when
//! ffmpeg succeeded **and** the output has a video stream and a duration > 0. A guard
//! (`tempfile::TempPath`) deletes the temporary file on every other path (errors, timeouts, the
//! future being dropped), so no half-written clip is ever left behind. ffmpeg and ffprobe run
//! through [`crate::tools`] (timeouts, killed when dropped, the install hint when missing). An existing clip with the same name is replaced; the
//! recording itself never is.
//!
//! Known limit: MPEG-TS recordings whose timestamps jump (a stream restart inside one file) can
//! put the cut at the wrong place after the jump; recordings made by the app restart into a new
//! file instead.
//!
//! # Layout
//! `probe` asks ffprobe what the recording is and where the keyframe is, `command` turns that
//! into ffmpeg's command line, `error` holds [`CutError`] and reads tools' failures; this file
//! runs the cut and handles the files.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempPath;

use crate::tools::{self, Tool};

mod command;
mod error;
mod probe;
#[cfg(test)]
mod tests;

use command::{ffmpeg_args, output_for, plan};
use error::ffmpeg_failed;
pub use error::CutError;
use probe::{check_source, find_keyframe, probe_media};

/// How to get ffmpeg (ffprobe comes with it).
pub const INSTALL_HINT: &str = "install ffmpeg, which includes ffprobe (Debian/Ubuntu: \
     sudo apt install ffmpeg, macOS: brew install ffmpeg, Windows: winget install ffmpeg), \
     then try again";

/// How long the cut may take (stream copy runs at disk speed; this only catches a hang).
const CUT_TIMEOUT: Duration = Duration::from_secs(600);

/// What to cut: `[start, end]` of `source`, offsets from the start of the recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutRequest {
    pub source: PathBuf,
    /// Offset in the recording where the clip should start.
    pub start: Duration,
    /// Offset in the recording where the clip should end (clamped to the recording's length).
    pub end: Duration,
    /// The clips folder (created if missing).
    pub out_dir: PathBuf,
    /// The clip's file name without extension (the extension follows the container).
    pub file_stem: String,
    /// The ffmpeg program (a name on `PATH` or a full path).
    pub ffmpeg: String,
    /// The ffprobe program (a name on `PATH` or a full path).
    pub ffprobe: String,
}

impl CutRequest {
    /// A request using `ffmpeg` and `ffprobe` from `PATH`.
    pub fn new(
        source: impl Into<PathBuf>,
        start: Duration,
        end: Duration,
        out_dir: impl Into<PathBuf>,
        file_stem: impl Into<String>,
    ) -> Self {
        Self {
            source: source.into(),
            start,
            end,
            out_dir: out_dir.into(),
            file_stem: file_stem.into(),
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
        }
    }
}

/// A clip that was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutClip {
    /// `<out_dir>/<file_stem>.<ext>`.
    pub path: PathBuf,
    /// Where the clip starts in the recording: the keyframe at or before the asked start.
    pub actual_start: Duration,
    /// Where the clip ends in the recording: the asked end, or the recording's end if clamped.
    pub actual_end: Duration,
    /// How much earlier than asked the clip starts (to reach a keyframe).
    pub widened_by: Duration,
    /// Whether the asked end was past the end of the recording (the clip ends with it).
    pub clamped_end: bool,
    /// The written clip's length as ffprobe measures it.
    pub duration: Duration,
    /// The clip's size on disk.
    pub bytes: u64,
}

/// The length of a recording (ffprobe's container duration).
pub async fn probe_duration(ffprobe: &str, path: &Path) -> Result<Duration, CutError> {
    check_source(path).await?;
    let media = probe_media(ffprobe, path).await?;
    media
        .duration_us
        .map(from_us)
        .ok_or_else(|| CutError::UnknownDuration {
            path: path.to_path_buf(),
        })
}

/// Cuts `[req.start, req.end]` of `req.source` into `<out_dir>/<file_stem>.<ext>`, stream copy,
/// starting on the keyframe at or before `start`. See the module documentation.
pub async fn cut_clip(req: &CutRequest) -> Result<CutClip, CutError> {
    check_stem(&req.file_stem)?;
    if req.start >= req.end {
        return Err(CutError::EmptyRange {
            start: req.start,
            end: req.end,
        });
    }
    check_source(&req.source).await?;
    let media = probe_media(&req.ffprobe, &req.source).await?;
    if !media.has_video {
        return Err(CutError::NotAVideo {
            path: req.source.clone(),
            detail: "it has no video track".into(),
        });
    }
    let length_us = media.duration_us.ok_or_else(|| CutError::UnknownDuration {
        path: req.source.clone(),
    })?;
    let start_us = to_us(req.start);
    if start_us >= length_us {
        return Err(CutError::AfterEnd {
            start: req.start,
            duration: from_us(length_us),
        });
    }
    let asked_end_us = to_us(req.end);
    let clamped_end = asked_end_us > length_us;
    let end_us = asked_end_us.min(length_us);

    let key = find_keyframe(&req.ffprobe, &req.source, &media, start_us, end_us).await?;
    let plan = plan(&key, end_us);
    let out = output_for(&media.format_name, &req.source);

    tokio::fs::create_dir_all(&req.out_dir)
        .await
        .map_err(|e| CutError::disk("cannot create the folder", &req.out_dir, &e))?;
    let final_path = req.out_dir.join(format!("{}.{}", req.file_stem, out.ext));
    if same_file(&req.source, &req.out_dir, &final_path).await {
        return Err(CutError::WouldReplaceSource { path: final_path });
    }
    // Deleted when dropped (every error, a timeout, the future being dropped) unless
    // committed. ffmpeg itself creates the file.
    let temp_name = req.out_dir.join(format!(
        ".{}.{}.{:08x}.part",
        req.file_stem,
        out.ext,
        fastrand::u32(..)
    ));
    let temp = TempPath::try_from_path(&temp_name)
        .map_err(|e| CutError::disk("cannot write in", &req.out_dir, &e))?;

    let args = ffmpeg_args(&req.source, &temp, &plan, &out);
    tracing::debug!(?args, "cutting a clip");
    let output = tools::run(FFMPEG, &req.ffmpeg, &args, CUT_TIMEOUT).await?;
    if !output.status.success() {
        return Err(ffmpeg_failed(&output, &req.out_dir));
    }

    let written = match probe_media(&req.ffprobe, &temp).await {
        Ok(m) => m,
        Err(CutError::NotAVideo { detail, .. }) | Err(CutError::Probe { detail, .. }) => {
            return Err(CutError::BadOutput { detail });
        }
        Err(CutError::SourceMissing { .. }) => {
            return Err(CutError::BadOutput {
                detail: "ffmpeg wrote no file".into(),
            });
        }
        Err(e) => return Err(e),
    };
    let duration_us = written.duration_us.unwrap_or(0);
    if !written.has_video || duration_us <= 0 {
        return Err(CutError::BadOutput {
            detail: if written.has_video {
                "the clip is empty".into()
            } else {
                "the clip has no video".into()
            },
        });
    }
    let bytes = tokio::fs::metadata(&temp)
        .await
        .map_err(|e| CutError::disk("cannot read", &temp, &e))?
        .len();
    commit(temp, &final_path)?;

    let actual_start = from_us(key.pts_us);
    let clip = CutClip {
        path: final_path,
        actual_start,
        actual_end: from_us(end_us),
        widened_by: req.start.saturating_sub(actual_start),
        clamped_end,
        duration: from_us(duration_us),
        bytes,
    };
    tracing::info!(
        clip = %clip.path.display(),
        start_ms = clip.actual_start.as_millis() as u64,
        end_ms = clip.actual_end.as_millis() as u64,
        widened_ms = clip.widened_by.as_millis() as u64,
        clamped_end,
        bytes,
        "clip cut"
    );
    Ok(clip)
}

// ---------------------------------------------------------------------------------------------
// Processes, files, small helpers

/// ffmpeg as the cut runs it (`program` is the request's `ffmpeg`).
const FFMPEG: Tool = Tool {
    name: "ffmpeg",
    install_hint: INSTALL_HINT,
};
/// ffprobe as the cut runs it (`program` is the request's `ffprobe`).
const FFPROBE: Tool = Tool {
    name: "ffprobe",
    install_hint: INSTALL_HINT,
};

/// Renames the finished temporary output into place (atomic: same folder). On failure the
/// temporary file is deleted with its guard.
fn commit(temp: TempPath, final_path: &Path) -> Result<(), CutError> {
    temp.persist(final_path)
        .map_err(|e| CutError::disk("cannot rename into", final_path, &e.error))
}

fn check_stem(stem: &str) -> Result<(), CutError> {
    let bad = stem.trim().is_empty()
        || stem == "."
        || stem == ".."
        || stem.starts_with('.')
        || stem
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        Err(CutError::BadName {
            name: stem.to_string(),
        })
    } else {
        Ok(())
    }
}

/// Whether `final_path` (in `out_dir`, which exists) is the recording itself.
async fn same_file(source: &Path, out_dir: &Path, final_path: &Path) -> bool {
    let (Ok(source), Ok(dir)) = (
        tokio::fs::canonicalize(source).await,
        tokio::fs::canonicalize(out_dir).await,
    ) else {
        return false;
    };
    match final_path.file_name() {
        Some(name) => dir.join(name) == source,
        None => false,
    }
}

/// `file:<path>`: no part of a path is ever read as an option or a protocol.
fn file_url(path: &Path) -> OsString {
    let mut s = OsString::from("file:");
    s.push(path.as_os_str());
    s
}

/// ffprobe's `"12.345678"` → µs.
fn time_us(v: &Value) -> Option<i64> {
    let f: f64 = v.as_str()?.trim().parse().ok()?;
    f.is_finite().then(|| (f * 1e6).round() as i64)
}

fn fmt_us(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let a = us.unsigned_abs();
    format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
}

fn to_us(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 4)
}

fn from_us(us: i64) -> Duration {
    Duration::from_micros(us.max(0) as u64)
}
