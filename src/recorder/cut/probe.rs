//! Probing with ffprobe: what a file is (container, start time, duration, whether it has real
//! video) and where the keyframe a clip starts on is.
//!
//! Invariants: times are microseconds, offsets from the container's start time (as ffmpeg's
//! `-ss` counts); only a window around the cut is read (`-read_intervals`, growing 6 s → 10 min
//! before `start`), never the whole recording; a keyframe is taken only with its decode time
//! known, except the recording's very first one; every ffprobe run is bounded by
//! `PROBE_TIMEOUT`.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::error::last_line;
use super::{file_url, fmt_us, time_us, CutError, FFPROBE};
use crate::tools;

/// How long one ffprobe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);
/// Keyframe windows tried before `start`, in seconds.
const LOOK_BACK_S: [i64; 4] = [6, 30, 120, 600];
/// The keyframe window reaches this far past `start`.
const LOOK_AHEAD_US: i64 = 500_000;

/// What ffprobe says about a file. Times are microseconds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Media {
    pub(super) format_name: String,
    /// The container's start time (absolute); offsets in a recording count from here, as
    /// ffmpeg's `-ss` does.
    start_us: i64,
    pub(super) duration_us: Option<i64>,
    /// A video stream that is not just cover art.
    pub(super) has_video: bool,
}

/// A video keyframe, as offsets from the recording's start (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Keyframe {
    pub(super) pts_us: i64,
    /// Its decode time; unknown right after a seek in Matroska (ffprobe prints no `dts_time`).
    pub(super) dts_us: Option<i64>,
}

pub(super) async fn check_source(path: &Path) -> Result<(), CutError> {
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

pub(super) async fn probe_media(ffprobe: &str, path: &Path) -> Result<Media, CutError> {
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
pub(super) async fn find_keyframe(
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
pub(super) struct Packet {
    key: bool,
    pts_us: i64,
    dts_us: Option<i64>,
}

pub(super) fn parse_packets(json: &Value, origin_us: i64) -> Vec<Packet> {
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

pub(super) fn last_keyframe_at_or_before(packets: &[Packet], start_us: i64) -> Option<Keyframe> {
    packets
        .iter()
        .filter(|p| p.key && p.pts_us <= start_us)
        .max_by_key(|p| p.pts_us)
        .map(|p| Keyframe {
            pts_us: p.pts_us,
            dts_us: p.dts_us,
        })
}

pub(super) fn first_keyframe_before(packets: &[Packet], end_us: i64) -> Option<Keyframe> {
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
