//! Unit tests of the streamlink recorder's pure parts: stems and part paths, the command line,
//! reading streamlink's errors, the install hint and the growth rate (no streamlink needed).

use std::collections::VecDeque;
use std::path::Path;
use std::time::Instant;

use super::health::rate_per_min;
use super::process::STREAMLINK;
use super::*;
use crate::tools::Invocation;

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
