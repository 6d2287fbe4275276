//! What streamlink is asked to do: the recording's file names (stem, `-partN` paths) and the
//! command line.
//!
//! Invariants: stems are sanitised (`A-Z a-z 0-9 . _ -`, no leading dot, at most 120
//! characters), so a channel name never escapes the recordings folder; a new part never reuses
//! an existing file; braces in the output path are escaped (`-o` is a streamlink template).

use std::path::{Path, PathBuf};
use std::time::Duration;

use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

use super::StreamlinkOptions;

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
pub(super) fn free_part(dir: &Path, stem: &str, from: u32) -> u32 {
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
