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

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempPath;

use crate::tools::{self, Tool, ToolError};

/// How to get ffmpeg (ffprobe comes with it).
pub const INSTALL_HINT: &str = "install ffmpeg, which includes ffprobe (Debian/Ubuntu: \
     sudo apt install ffmpeg, macOS: brew install ffmpeg, Windows: winget install ffmpeg), \
     then try again";

/// How long one ffprobe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the cut may take (stream copy runs at disk speed; this only catches a hang).
const CUT_TIMEOUT: Duration = Duration::from_secs(600);
/// How far before the keyframe's decode time ffmpeg's input seek aims. Landing earlier than
/// the keyframe costs only reading (the output `-ss` drops it); landing after it must never
/// happen, so this is well above the 3/23 s ffmpeg may move the seek by itself and any error of
/// the MPEG-TS timestamp search.
const PRE_ROLL_US: i64 = 1_000_000;
/// The output `-ss` sits this much before the keyframe's decode time (rounding headroom; far
/// less than one frame, even at 240 fps).
const MARGIN_US: i64 = 1_000;
/// Keyframe windows tried before `start`, in seconds.
const LOOK_BACK_S: [i64; 4] = [6, 30, 120, 600];
/// The keyframe window reaches this far past `start`.
const LOOK_AHEAD_US: i64 = 500_000;

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
fn clock(d: Duration) -> String {
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
// Probing

/// What ffprobe says about a file. Times are microseconds.
#[derive(Debug, Clone, PartialEq)]
struct Media {
    format_name: String,
    /// The container's start time (absolute); offsets in a recording count from here, as
    /// ffmpeg's `-ss` does.
    start_us: i64,
    duration_us: Option<i64>,
    /// A video stream that is not just cover art.
    has_video: bool,
}

/// A video keyframe, as offsets from the recording's start (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Keyframe {
    pts_us: i64,
    /// Its decode time; unknown right after a seek in Matroska (ffprobe prints no `dts_time`).
    dts_us: Option<i64>,
}

async fn check_source(path: &Path) -> Result<(), CutError> {
    match tokio::fs::metadata(path).await {
        Ok(m) if m.is_dir() => Err(CutError::NotAVideo {
            path: path.to_path_buf(),
            detail: "it is a folder".into(),
        }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(CutError::SourceMissing {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(CutError::disk("cannot read", path, &e)),
    }
}

async fn probe_media(ffprobe: &str, path: &Path) -> Result<Media, CutError> {
    let args: Vec<OsString> = [
        "-v",
        "error",
        "-show_entries",
        "format=format_name,start_time,duration:stream=codec_type:stream_disposition=attached_pic",
        "-of",
        "json",
    ]
    .iter()
    .map(OsString::from)
    .chain([file_url(path)])
    .collect();
    let json = probe_json(ffprobe, path, &args).await?;
    let format = &json["format"];
    let has_video = json["streams"].as_array().is_some_and(|streams| {
        streams.iter().any(|s| {
            s["codec_type"] == "video" && s["disposition"]["attached_pic"].as_i64() != Some(1)
        })
    });
    Ok(Media {
        format_name: format["format_name"].as_str().unwrap_or("").to_string(),
        start_us: time_us(&format["start_time"]).unwrap_or(0),
        duration_us: time_us(&format["duration"]),
        has_video,
    })
}

/// The last video keyframe at or before `start_us` (offset), looking back further and further.
async fn find_keyframe(
    ffprobe: &str,
    path: &Path,
    media: &Media,
    start_us: i64,
    end_us: i64,
) -> Result<Keyframe, CutError> {
    let start_abs = media.start_us + start_us;
    for back in LOOK_BACK_S {
        let from_abs = start_abs - back * 1_000_000;
        let from_file_start = from_abs <= media.start_us;
        let interval = if from_file_start {
            format!("%{}", fmt_us(start_abs + LOOK_AHEAD_US))
        } else {
            format!("{}%{}", fmt_us(from_abs), fmt_us(start_abs + LOOK_AHEAD_US))
        };
        let packets = video_packets(ffprobe, path, media, &interval).await?;
        match last_keyframe_at_or_before(&packets, start_us) {
            // A keyframe read first after ffprobe's seek may lack its decode time: look
            // further back so it is read mid-stream.
            Some(k) if k.dts_us.is_some() || from_file_start => return Ok(k),
            _ if from_file_start => {
                // `start` is before the first keyframe: start on the first one (before `end`).
                let interval = format!("%{}", fmt_us(media.start_us + end_us));
                let packets = video_packets(ffprobe, path, media, &interval).await?;
                return first_keyframe_before(&packets, end_us).ok_or(CutError::NoKeyframe);
            }
            _ => {}
        }
    }
    Err(CutError::NoKeyframe)
}

/// The first real video stream's packets in `interval` (`-read_intervals` syntax, absolute
/// times), with times as offsets from the recording's start.
async fn video_packets(
    ffprobe: &str,
    path: &Path,
    media: &Media,
    interval: &str,
) -> Result<Vec<Packet>, CutError> {
    let args: Vec<OsString> = [
        "-v",
        "error",
        "-select_streams",
        "V:0",
        "-read_intervals",
        interval,
        "-show_entries",
        "packet=pts_time,dts_time,flags",
        "-of",
        "json",
    ]
    .iter()
    .map(OsString::from)
    .chain([file_url(path)])
    .collect();
    let json = probe_json(ffprobe, path, &args).await?;
    Ok(parse_packets(&json, media.start_us))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packet {
    key: bool,
    pts_us: i64,
    dts_us: Option<i64>,
}

fn parse_packets(json: &Value, origin_us: i64) -> Vec<Packet> {
    let Some(list) = json["packets"].as_array() else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|p| {
            let dts = time_us(&p["dts_time"]).map(|t| t - origin_us);
            let pts = time_us(&p["pts_time"]).map(|t| t - origin_us).or(dts)?;
            let flags = p["flags"].as_str().unwrap_or("");
            Some(Packet {
                key: flags.contains('K') && !flags.contains('D'),
                pts_us: pts,
                dts_us: dts,
            })
        })
        .collect()
}

fn last_keyframe_at_or_before(packets: &[Packet], start_us: i64) -> Option<Keyframe> {
    packets
        .iter()
        .filter(|p| p.key && p.pts_us <= start_us)
        .max_by_key(|p| p.pts_us)
        .map(|p| Keyframe {
            pts_us: p.pts_us,
            dts_us: p.dts_us,
        })
}

fn first_keyframe_before(packets: &[Packet], end_us: i64) -> Option<Keyframe> {
    packets
        .iter()
        .filter(|p| p.key && p.pts_us < end_us)
        .min_by_key(|p| p.pts_us)
        .map(|p| Keyframe {
            pts_us: p.pts_us,
            dts_us: p.dts_us,
        })
}

async fn probe_json(ffprobe: &str, path: &Path, args: &[OsString]) -> Result<Value, CutError> {
    let output = tools::run(FFPROBE, ffprobe, args, PROBE_TIMEOUT).await?;
    if !output.status.success() {
        let line = last_line(&output.stderr).unwrap_or_default();
        let lower = line.to_ascii_lowercase();
        if lower.contains("no such file") {
            return Err(CutError::SourceMissing {
                path: path.to_path_buf(),
            });
        }
        if lower.contains("invalid data") || lower.contains("end of file") {
            return Err(CutError::NotAVideo {
                path: path.to_path_buf(),
                detail: "ffprobe does not recognise it as audio/video".into(),
            });
        }
        return Err(CutError::Probe {
            path: path.to_path_buf(),
            detail: if line.is_empty() {
                format!("ffprobe exited with {}", output.status)
            } else {
                line
            },
        });
    }
    serde_json::from_slice(&output.stdout).map_err(|e| CutError::Probe {
        path: path.to_path_buf(),
        detail: format!("unexpected ffprobe output: {e}"),
    })
}

// ---------------------------------------------------------------------------------------------
// Planning the ffmpeg command

/// Where ffmpeg seeks (input `-ss`), where it starts writing (output `-ss`, relative to the
/// seek) and for how long (`-t`, from there). Microseconds; offsets from the recording's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    seek_us: i64,
    trim_us: Option<i64>,
    length_us: i64,
}

fn plan(key: &Keyframe, end_us: i64) -> Plan {
    match key.dts_us {
        Some(dts) => {
            let seek_us = (dts - PRE_ROLL_US).max(0);
            let trim = dts - MARGIN_US - seek_us;
            let trim_us = (trim > 0).then_some(trim);
            Plan {
                seek_us,
                trim_us,
                length_us: end_us - seek_us - trim_us.unwrap_or(0),
            }
        }
        // Only for the recording's first keyframe read from the file start: nothing to skip.
        None => Plan {
            seek_us: 0,
            trim_us: None,
            length_us: end_us,
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Output {
    ext: &'static str,
    format: &'static str,
    /// Keep subtitle tracks (not when remuxing into MP4 from another family).
    subtitles: bool,
    faststart: bool,
}

fn output_for(format_name: &str, source: &Path) -> Output {
    let ext = source
        .extension()
        .and_then(OsStr::to_str)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let families: Vec<&str> = format_name.split(',').collect();
    if families.contains(&"matroska") || families.contains(&"webm") {
        if ext == "webm" {
            Output {
                ext: "webm",
                format: "webm",
                subtitles: true,
                faststart: false,
            }
        } else {
            Output {
                ext: "mkv",
                format: "matroska",
                subtitles: true,
                faststart: false,
            }
        }
    } else if families.contains(&"mov") || families.contains(&"mp4") {
        let (ext, format) = match ext.as_str() {
            "mov" => ("mov", "mov"),
            "m4v" => ("m4v", "mp4"),
            _ => ("mp4", "mp4"),
        };
        Output {
            ext,
            format,
            subtitles: true,
            faststart: true,
        }
    } else {
        Output {
            ext: "mp4",
            format: "mp4",
            subtitles: false,
            faststart: true,
        }
    }
}

fn ffmpeg_args(source: &Path, out: &Path, plan: &Plan, output: &Output) -> Vec<OsString> {
    fn push(a: &mut Vec<OsString>, items: &[&str]) {
        a.extend(items.iter().map(OsString::from));
    }
    let mut a: Vec<OsString> = Vec::new();
    push(
        &mut a,
        &["-hide_banner", "-nostdin", "-loglevel", "error", "-y"],
    );
    push(&mut a, &["-ignore_unknown"]);
    if plan.seek_us > 0 {
        push(&mut a, &["-ss", &fmt_us(plan.seek_us)]);
    }
    push(&mut a, &["-i"]);
    a.push(file_url(source));
    push(&mut a, &["-map", "0", "-map", "-0:d"]);
    if !output.subtitles {
        push(&mut a, &["-map", "-0:s"]);
    }
    push(&mut a, &["-c", "copy"]);
    if let Some(trim) = plan.trim_us {
        push(&mut a, &["-ss", &fmt_us(trim)]);
    }
    push(&mut a, &["-t", &fmt_us(plan.length_us)]);
    push(&mut a, &["-avoid_negative_ts", "make_zero"]);
    if output.faststart {
        push(&mut a, &["-movflags", "+faststart"]);
    }
    push(&mut a, &["-f", output.format]);
    a.push(file_url(out));
    a
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
fn ffmpeg_failed(output: &std::process::Output, out_dir: &Path) -> CutError {
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

/// The last non-empty stderr line, one line, no control characters, at most 200 characters.
fn last_line(stderr: &[u8]) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn k(pts: i64, dts: Option<i64>) -> Keyframe {
        Keyframe {
            pts_us: pts,
            dts_us: dts,
        }
    }

    #[test]
    fn the_plan_seeks_a_second_early_and_trims_to_the_keyframe() {
        // Keyframe shown at 10.021 s, decoded at 9.941 s; clip ends at 14.2 s.
        let p = plan(&k(10_021_000, Some(9_941_000)), 14_200_000);
        assert_eq!(p.seek_us, 8_941_000);
        assert_eq!(p.trim_us, Some(999_000));
        assert_eq!(p.seek_us + p.trim_us.unwrap() + p.length_us, 14_200_000);
        // Near the start: no input seek, only the trim.
        let p = plan(&k(500_000, Some(420_000)), 3_000_000);
        assert_eq!(
            (p.seek_us, p.trim_us, p.length_us),
            (0, Some(419_000), 2_581_000)
        );
        // The very first keyframe (decode time before zero, or unknown): nothing to skip.
        let p = plan(&k(21_000, Some(-59_000)), 3_000_000);
        assert_eq!((p.seek_us, p.trim_us, p.length_us), (0, None, 3_000_000));
        let p = plan(&k(21_000, None), 3_000_000);
        assert_eq!((p.seek_us, p.trim_us, p.length_us), (0, None, 3_000_000));
    }

    #[test]
    fn the_keyframe_is_the_last_one_at_or_before_start() {
        let json: Value = serde_json::from_str(
            r#"{"packets":[
                {"pts_time":"6.021000","flags":"K_"},
                {"pts_time":"6.181000","flags":"__"},
                {"pts_time":"8.021000","dts_time":"7.941000","flags":"K_"},
                {"pts_time":"8.101000","dts_time":"7.981000","flags":"__"},
                {"pts_time":"10.021000","dts_time":"9.941000","flags":"K_"},
                {"pts_time":"12.021000","dts_time":"11.941000","flags":"KD"},
                {"dts_time":"12.5","flags":"K_"},
                {"flags":"K_"}
            ]}"#,
        )
        .unwrap();
        let packets = parse_packets(&json, 21_000);
        assert_eq!(packets.len(), 7);
        assert_eq!(
            last_keyframe_at_or_before(&packets, 10_679_000),
            Some(k(10_000_000, Some(9_920_000)))
        );
        assert_eq!(
            last_keyframe_at_or_before(&packets, 10_000_000),
            Some(k(10_000_000, Some(9_920_000)))
        );
        assert_eq!(
            last_keyframe_at_or_before(&packets, 9_999_999),
            Some(k(8_000_000, Some(7_920_000)))
        );
        // Discarded packets are not keyframes; pts falls back to dts.
        assert_eq!(
            last_keyframe_at_or_before(&packets, 13_000_000),
            Some(k(12_479_000, Some(12_479_000)))
        );
        assert_eq!(last_keyframe_at_or_before(&packets, 5_000_000), None);
        assert_eq!(
            first_keyframe_before(&packets, 20_000_000),
            Some(k(6_000_000, None))
        );
        assert_eq!(parse_packets(&Value::Null, 0), vec![]);
    }

    #[test]
    fn containers_follow_the_source() {
        let mkv = output_for("matroska,webm", Path::new("/r/a.mkv"));
        assert_eq!(
            (mkv.ext, mkv.format, mkv.subtitles),
            ("mkv", "matroska", true)
        );
        assert_eq!(output_for("matroska,webm", Path::new("a.webm")).ext, "webm");
        let mp4 = output_for("mov,mp4,m4a,3gp,3g2,mj2", Path::new("a.MP4"));
        assert_eq!((mp4.ext, mp4.format, mp4.faststart), ("mp4", "mp4", true));
        assert_eq!(
            output_for("mov,mp4,m4a,3gp,3g2,mj2", Path::new("a.mov")).format,
            "mov"
        );
        let ts = output_for("mpegts", Path::new("a.ts"));
        assert_eq!((ts.ext, ts.format, ts.subtitles), ("mp4", "mp4", false));
        assert_eq!(output_for("flv", Path::new("a.flv")).ext, "mp4");
    }

    #[test]
    fn the_command_line_is_exact() {
        let plan = Plan {
            seek_us: 8_941_000,
            trim_us: Some(999_000),
            length_us: 4_260_000,
        };
        let args = ffmpeg_args(
            Path::new("/rec/a.ts"),
            Path::new("/clips/.c.mp4.0000abcd.part"),
            &plan,
            &output_for("mpegts", Path::new("/rec/a.ts")),
        );
        let line = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            line,
            "-hide_banner -nostdin -loglevel error -y -ignore_unknown -ss 8.941000 \
             -i file:/rec/a.ts -map 0 -map -0:d -map -0:s -c copy -ss 0.999000 -t 4.260000 \
             -avoid_negative_ts make_zero -movflags +faststart -f mp4 \
             file:/clips/.c.mp4.0000abcd.part"
        );
        let first = Plan {
            seek_us: 0,
            trim_us: None,
            length_us: 3_000_000,
        };
        let args = ffmpeg_args(
            Path::new("a.mkv"),
            Path::new(".c.mkv.part"),
            &first,
            &output_for("matroska,webm", Path::new("a.mkv")),
        );
        let line = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            line,
            "-hide_banner -nostdin -loglevel error -y -ignore_unknown -i file:a.mkv -map 0 \
             -map -0:d -c copy -t 3.000000 -avoid_negative_ts make_zero -f matroska \
             file:.c.mkv.part"
        );
    }

    #[test]
    fn small_helpers() {
        assert_eq!(fmt_us(10_021_000), "10.021000");
        assert_eq!(fmt_us(-59_000), "-0.059000");
        assert_eq!(time_us(&Value::from("1.458667")), Some(1_458_667));
        assert_eq!(time_us(&Value::from("N/A")), None);
        assert_eq!(clock(Duration::from_millis(1300)), "1.3 s");
        assert_eq!(clock(Duration::from_secs(30)), "30 s");
        assert_eq!(clock(Duration::from_secs(754)), "12:34");
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(
            last_line(b"warning\nfile:x.part: Invalid argument\n\n").as_deref(),
            Some("file:x.part: Invalid argument")
        );
        assert_eq!(last_line(&[b'a'; 500]).unwrap().chars().count(), 200);
        assert_eq!(last_line(b"\n \n"), None);
        for bad in ["", " ", ".", "..", ".hidden", "a/b", "a\\b", "a\nb"] {
            assert!(check_stem(bad).is_err(), "{bad:?}");
        }
        assert!(check_stem("chan-2024-05-01 moment 3").is_ok());
    }

    #[test]
    fn errors_read_like_a_streamer_would_say_them() {
        assert_eq!(
            CutError::AfterEnd {
                start: Duration::from_secs(95),
                duration: Duration::from_secs(30),
            }
            .to_string(),
            "the moment is after the end of the recording (it starts at 1:35, the recording \
             is 30 s long)"
        );
        assert!(CutError::ToolMissing {
            tool: "ffmpeg",
            install: INSTALL_HINT
        }
        .to_string()
        .starts_with("ffmpeg is not installed: install ffmpeg"));
        let e = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(
            CutError::disk("cannot write", Path::new("/clips"), &e).to_string(),
            "cannot save the clip: cannot write /clips: the disk is full"
        );
    }
}
