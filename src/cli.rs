//! `streamcue clip`: the seed's clip tool on the command line, using the app's own cutter
//! ([`crate::recorder::cut`]: stream copy from the keyframe at or before the start).
//!
//! ```text
//! streamcue clip --recording FILE --start HH:MM:SS --duration S [--out DIR] [--name NAME]
//! ```
//!
//! Times are `HH:MM:SS`, `MM:SS` or seconds, each with an optional fraction (`1:23:45.5`,
//! `90`, `12.5`). The clip goes to `--out` (default: the current folder) as `NAME.<ext>`
//! (default name: `<recording>_<start as HHMMSS>`; the extension follows the recording's
//! container, as in the app). It does not open StreamCue's database, so it works while the app
//! is running, and it needs no window.
//!
//! Invariants: parsing is pure ([`parse`]) and every refusal says what to type instead; the
//! exit status is 0 for a saved clip, 1 when the cut failed (with the cutter's own words), 2
//! for a usage error; nothing is written but the clip (the cutter writes a hidden `.part` and
//! renames it only when it is a real video).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::recorder::cut::{cut_clip, CutClip, CutError, CutRequest};

/// What `streamcue clip …` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipCommand {
    pub recording: PathBuf,
    pub start: Duration,
    pub duration: Duration,
    pub out_dir: PathBuf,
    /// The clip's file name without extension.
    pub name: String,
}

/// A command line that cannot be run, in words that say what to type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{flag} needs a value")]
    NoValue { flag: String },
    #[error("unknown option {0:?}")]
    Unknown(String),
    #[error("{flag} was given twice")]
    Twice { flag: String },
    #[error(
        "{flag} {value:?} is not a time: write HH:MM:SS, MM:SS or seconds (e.g. 1:23:45 or 90)"
    )]
    BadTime { flag: &'static str, value: String },
    #[error("--duration must be more than 0 seconds")]
    ZeroDuration,
    #[error("{0:?} is not valid text (file names are fine, option values must be UTF-8)")]
    NotText(OsString),
}

/// How to call it, printed with `--help` and after a usage error.
pub const CLIP_USAGE: &str = "\
Usage: streamcue clip --recording FILE --start TIME --duration TIME [--out DIR] [--name NAME]

Cuts a clip out of a recording without re-encoding (it starts on the keyframe at or before
--start, so it may begin a little earlier than asked).

  --recording FILE   the recording (MKV, MP4, MOV, WebM, MPEG-TS, FLV, ...)
  --start TIME       where the clip starts: HH:MM:SS, MM:SS or seconds (1:23:45, 83:45, 5025.5)
  --duration TIME    how long it is: seconds or HH:MM:SS (60, 1:30)
  --out DIR          the folder for the clip (default: the current folder; created if missing)
  --name NAME        its file name without extension (default: <recording>_<HHMMSS>)
";

/// What `streamcue clip` should do: run a cut, or print the usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Clip(ClipCommand),
    Help,
}

/// Parses the words after `clip`. `cwd` is where a relative `--out` (and the default) points.
pub fn parse(args: &[OsString], cwd: &std::path::Path) -> Result<Parsed, UsageError> {
    let mut recording: Option<PathBuf> = None;
    let mut start: Option<Duration> = None;
    let mut duration: Option<Duration> = None;
    let mut out: Option<PathBuf> = None;
    let mut name: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i]
            .to_str()
            .ok_or_else(|| UsageError::NotText(args[i].clone()))?;
        if arg == "--help" || arg == "-h" {
            return Ok(Parsed::Help);
        }
        // `--flag value` or `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(OsString::from(v))),
            _ => (arg, None),
        };
        if !matches!(
            flag,
            "--recording" | "--start" | "--duration" | "--out" | "--name"
        ) {
            return Err(UsageError::Unknown(arg.to_string()));
        }
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i).cloned().ok_or_else(|| UsageError::NoValue {
                    flag: flag.to_string(),
                })?
            }
        };
        if value.is_empty() {
            return Err(UsageError::NoValue {
                flag: flag.to_string(),
            });
        }
        let twice = || UsageError::Twice {
            flag: flag.to_string(),
        };
        let text = || {
            value
                .to_str()
                .map(str::to_string)
                .ok_or_else(|| UsageError::NotText(value.clone()))
        };
        match flag {
            "--recording" => set(&mut recording, PathBuf::from(&value)).map_err(|_| twice())?,
            "--out" => set(&mut out, PathBuf::from(&value)).map_err(|_| twice())?,
            "--name" => set(&mut name, text()?).map_err(|_| twice())?,
            "--start" => {
                let t = parse_time(&text()?).ok_or(UsageError::BadTime {
                    flag: "--start",
                    value: text()?,
                })?;
                set(&mut start, t).map_err(|_| twice())?
            }
            _ => {
                let t = parse_time(&text()?).ok_or(UsageError::BadTime {
                    flag: "--duration",
                    value: text()?,
                })?;
                set(&mut duration, t).map_err(|_| twice())?
            }
        }
        i += 1;
    }
    let recording = recording.ok_or(UsageError::Missing("--recording FILE"))?;
    let start = start.ok_or(UsageError::Missing("--start TIME"))?;
    let duration = duration.ok_or(UsageError::Missing("--duration TIME"))?;
    if duration.is_zero() {
        return Err(UsageError::ZeroDuration);
    }
    let name = name.unwrap_or_else(|| default_name(&recording, start));
    let out_dir = cwd.join(out.unwrap_or_default());
    Ok(Parsed::Clip(ClipCommand {
        recording: cwd.join(recording),
        start,
        duration,
        out_dir,
        name,
    }))
}

fn set<T>(slot: &mut Option<T>, value: T) -> Result<(), ()> {
    if slot.is_some() {
        return Err(());
    }
    *slot = Some(value);
    Ok(())
}

/// `HH:MM:SS(.f)`, `MM:SS(.f)` or `S(.f)`; minutes and seconds after the first part are
/// below 60. None for anything else (negative, empty parts, NaN, more than 100 000 hours).
pub fn parse_time(text: &str) -> Option<Duration> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    let mut total = 0.0f64;
    for (i, part) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        let ok_chars = !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_digit() || (last && c == '.'))
            && part.chars().filter(|&c| c == '.').count() <= 1
            && !part.starts_with('.')
            && !part.ends_with('.');
        if !ok_chars {
            return None;
        }
        let n: f64 = part.parse().ok()?;
        if i > 0 && n >= 60.0 {
            return None;
        }
        total = total * 60.0 + n;
    }
    (total.is_finite() && total <= 100_000.0 * 3600.0).then(|| Duration::from_secs_f64(total))
}

/// `<recording stem>_<HHMMSS>` of the start (a fraction of a second is left out of the name).
fn default_name(recording: &std::path::Path, start: Duration) -> String {
    let stem = recording
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty() && !s.starts_with('.'))
        .unwrap_or_else(|| "clip".into());
    let s = start.as_secs();
    format!("{stem}_{:02}{:02}{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Runs the cut (the app's cutter, with ffmpeg and ffprobe from `PATH`).
pub async fn run_clip(cmd: &ClipCommand) -> Result<CutClip, CutError> {
    let req = CutRequest::new(
        &cmd.recording,
        cmd.start,
        cmd.start + cmd.duration,
        &cmd.out_dir,
        &cmd.name,
    );
    cut_clip(&req).await
}

/// The line printed for a saved clip: where it is, how long, and how its start moved.
pub fn report(clip: &CutClip) -> String {
    let mut notes = Vec::new();
    if !clip.widened_by.is_zero() {
        notes.push(format!(
            "starts {:.1} s earlier, on the keyframe at {}",
            clip.widened_by.as_secs_f64(),
            hms(clip.actual_start)
        ));
    }
    if clip.clamped_end {
        notes.push(format!(
            "ends with the recording at {}",
            hms(clip.actual_end)
        ));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    format!(
        "Clip saved: {} ({:.1} s, {:.1} MB{notes})",
        clip.path.display(),
        clip.duration.as_secs_f64(),
        clip.bytes as f64 / 1_000_000.0
    )
}

/// `1:23:45.3`.
fn hms(d: Duration) -> String {
    let s = d.as_secs_f64();
    let whole = s.floor() as u64;
    format!(
        "{}:{:02}:{:04.1}",
        whole / 3600,
        whole / 60 % 60,
        s - (whole - whole % 60) as f64
    )
}

/// `streamcue clip …` from a process's arguments (after the program name): `None` when the
/// first word is not `clip` (the app starts as usual), else the exit status after printing.
pub fn run_if_asked(args: &[OsString]) -> Option<i32> {
    if args.first().map(|a| a.as_os_str()) != Some("clip".as_ref()) {
        return None;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let cmd = match parse(&args[1..], &cwd) {
        Ok(Parsed::Help) => {
            print!("{CLIP_USAGE}");
            return Some(0);
        }
        Ok(Parsed::Clip(cmd)) => cmd,
        Err(e) => {
            eprintln!("streamcue clip: {e}\n\n{CLIP_USAGE}");
            return Some(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("streamcue clip: cannot start: {e}");
            return Some(1);
        }
    };
    match runtime.block_on(run_clip(&cmd)) {
        Ok(clip) => {
            println!("{}", report(&clip));
            Some(0)
        }
        Err(e) => {
            eprintln!("streamcue clip: {e}");
            Some(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<OsString> {
        s.split_whitespace().map(OsString::from).collect()
    }

    fn clip(s: &str) -> Result<Parsed, UsageError> {
        parse(&words(s), std::path::Path::new("/home/me"))
    }

    #[test]
    fn times_in_every_written_form() {
        let ok = [
            ("90", 90.0),
            ("12.5", 12.5),
            ("1:30", 90.0),
            ("1:23:45", 5025.0),
            ("01:23:45.5", 5025.5),
            ("83:45", 5025.0),
            ("0", 0.0),
            ("100:00:00", 360_000.0),
        ];
        for (text, secs) in ok {
            assert_eq!(
                parse_time(text),
                Some(Duration::from_secs_f64(secs)),
                "{text}"
            );
        }
        for bad in [
            "",
            ":",
            "1:",
            ":30",
            "1:60",
            "1:2:60",
            "1:2:3:4",
            "-5",
            "1e3",
            "NaN",
            "inf",
            "1.5:00",
            "1..5",
            ".5",
            "5.",
            "1 2",
            "100001:00:00",
        ] {
            assert_eq!(parse_time(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_full_command_line() {
        let got = clip(
            "--recording rec/stream.mkv --start 1:23:45 --duration 60 --out clips --name best",
        )
        .unwrap();
        assert_eq!(
            got,
            Parsed::Clip(ClipCommand {
                recording: "/home/me/rec/stream.mkv".into(),
                start: Duration::from_secs(5025),
                duration: Duration::from_secs(60),
                out_dir: "/home/me/clips".into(),
                name: "best".into(),
            })
        );
        // `=` forms, absolute paths, the default folder and name.
        let got = clip("--recording=/v/s_s5_x.ts --start=0:07.5 --duration=1:30").unwrap();
        assert_eq!(
            got,
            Parsed::Clip(ClipCommand {
                recording: "/v/s_s5_x.ts".into(),
                start: Duration::from_secs_f64(7.5),
                duration: Duration::from_secs(90),
                out_dir: "/home/me".into(),
                name: "s_s5_x_000007".into(),
            })
        );
        assert_eq!(clip("--help"), Ok(Parsed::Help));
        assert_eq!(clip("--recording x -h"), Ok(Parsed::Help));
    }

    #[test]
    fn each_mistake_is_named() {
        let cases: [(&str, UsageError); 8] = [
            (
                "--start 1 --duration 2",
                UsageError::Missing("--recording FILE"),
            ),
            (
                "--recording a --duration 2",
                UsageError::Missing("--start TIME"),
            ),
            (
                "--recording a --start 2",
                UsageError::Missing("--duration TIME"),
            ),
            (
                "--recording a --start 1 --duration 0",
                UsageError::ZeroDuration,
            ),
            (
                "--recording a --start 1 --duration",
                UsageError::NoValue {
                    flag: "--duration".into(),
                },
            ),
            (
                "--recording a --start 1:75 --duration 3",
                UsageError::BadTime {
                    flag: "--start",
                    value: "1:75".into(),
                },
            ),
            (
                "--recording a --recording b",
                UsageError::Twice {
                    flag: "--recording".into(),
                },
            ),
            ("--recording a --end 5", UsageError::Unknown("--end".into())),
        ];
        for (line, want) in cases {
            assert_eq!(clip(line), Err(want), "{line}");
        }
        assert_eq!(
            clip("--recording= --start 1"),
            Err(UsageError::NoValue {
                flag: "--recording".into()
            })
        );
        assert!(UsageError::BadTime {
            flag: "--start",
            value: "x".into()
        }
        .to_string()
        .contains("HH:MM:SS, MM:SS or seconds"));
    }

    #[test]
    fn only_clip_is_taken() {
        assert_eq!(run_if_asked(&words("--data-dir /tmp/x")), None);
        assert_eq!(run_if_asked(&[]), None);
        assert_eq!(run_if_asked(&words("clip --help")), Some(0));
        assert_eq!(run_if_asked(&words("clip --start")), Some(2));
    }

    #[test]
    fn the_report_says_how_the_start_moved() {
        let c = CutClip {
            path: "/c/best.mkv".into(),
            actual_start: Duration::from_secs_f64(5023.7),
            actual_end: Duration::from_secs(5085),
            widened_by: Duration::from_secs_f64(1.3),
            clamped_end: false,
            duration: Duration::from_secs_f64(61.3),
            bytes: 4_200_000,
        };
        assert_eq!(
            report(&c),
            "Clip saved: /c/best.mkv (61.3 s, 4.2 MB; starts 1.3 s earlier, on the keyframe at 1:23:43.7)"
        );
        let end = CutClip {
            widened_by: Duration::ZERO,
            clamped_end: true,
            ..c
        };
        assert_eq!(
            report(&end),
            "Clip saved: /c/best.mkv (61.3 s, 4.2 MB; ends with the recording at 1:24:45.0)"
        );
    }
}
