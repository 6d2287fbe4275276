//! The ffmpeg command of a cut: where to seek and trim so the clip starts exactly on the chosen
//! keyframe (`Plan`), which container and tracks the clip gets (`Output`), and the argument list.
//!
//! Invariants: pure (no processes, no files); the input seek always lands before the keyframe
//! (`PRE_ROLL_US`), the output trim just before its decode time (`MARGIN_US`); paths are passed
//! as `file:` URLs; data tracks are always dropped, subtitles only when remuxing into MP4.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use super::probe::Keyframe;
use super::{file_url, fmt_us};

/// How far before the keyframe's decode time ffmpeg's input seek aims. Landing earlier than
/// the keyframe costs only reading (the output `-ss` drops it); landing after it must never
/// happen, so this is well above the 3/23 s ffmpeg may move the seek by itself and any error of
/// the MPEG-TS timestamp search.
const PRE_ROLL_US: i64 = 1_000_000;
/// The output `-ss` sits this much before the keyframe's decode time (rounding headroom; far
/// less than one frame, even at 240 fps).
const MARGIN_US: i64 = 1_000;

/// Where ffmpeg seeks (input `-ss`), where it starts writing (output `-ss`, relative to the
/// seek) and for how long (`-t`, from there). Microseconds; offsets from the recording's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Plan {
    pub(super) seek_us: i64,
    pub(super) trim_us: Option<i64>,
    pub(super) length_us: i64,
}

pub(super) fn plan(key: &Keyframe, end_us: i64) -> Plan {
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
pub(super) struct Output {
    pub(super) ext: &'static str,
    pub(super) format: &'static str,
    /// Keep subtitle tracks (not when remuxing into MP4 from another family).
    pub(super) subtitles: bool,
    pub(super) faststart: bool,
}

pub(super) fn output_for(format_name: &str, source: &Path) -> Output {
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

pub(super) fn ffmpeg_args(
    source: &Path,
    out: &Path,
    plan: &Plan,
    output: &Output,
) -> Vec<OsString> {
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
