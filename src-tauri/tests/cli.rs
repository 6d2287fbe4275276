//! `streamcue clip` (seed 003's clip tool) as a user runs it: the app's own binary, no display,
//! a real recording made here with ffmpeg, and the clip checked with ffprobe. It must not start
//! the app: no window, no database, nothing in the data folder.

use std::path::Path;
use std::process::{Command, Output};

const APP: &str = env!("CARGO_BIN_EXE_streamcue");

/// A 12 s MKV with a keyframe every 2 s (B-frames, AAC audio), as OBS records.
fn make_recording(path: &Path) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=25:duration=12",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=12",
        ])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        ])
        .args(["-g", "50", "-keyint_min", "50", "-sc_threshold", "0"])
        .args(["-c:a", "aac", "-b:a", "64k", "-shortest", "-f", "matroska"])
        .arg(path)
        .status()
        .expect("ffmpeg runs (scripts/setup.sh installs it)");
    assert!(status.success(), "ffmpeg could not make the test recording");
}

fn duration_of(path: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a duration")
}

/// Runs `streamcue clip ARGS` in `cwd` with an empty home and no display.
fn clip(cwd: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(APP)
        .arg("clip")
        .args(args)
        .current_dir(cwd)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("the app runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn clip_cuts_a_recording_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let rec = dir.path().join("chan_s5_20261206_1530.mkv");
    make_recording(&rec);

    // 0:05 for 3 s: the keyframe before 5 s is at 4 s, so the clip is about 4 s long.
    let out = clip(
        dir.path(),
        &home,
        &[
            "--recording",
            "chan_s5_20261206_1530.mkv",
            "--start",
            "0:05",
            "--duration",
            "3",
            "--out",
            "clips",
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    let clip_path = dir.path().join("clips/chan_s5_20261206_1530_000005.mkv");
    assert!(
        stdout.starts_with(&format!("Clip saved: {} (", clip_path.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("starts 1.0 s earlier, on the keyframe at 0:00:04.0"),
        "{stdout}"
    );
    let secs = duration_of(&clip_path);
    assert!((3.8..4.4).contains(&secs), "the clip is {secs} s long");
    let left: Vec<_> = std::fs::read_dir(dir.path().join("clips"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        ["chan_s5_20261206_1530_000005.mkv"],
        "nothing but the clip"
    );
    // It never started the app: nothing was made in the empty home.
    assert_eq!(
        std::fs::read_dir(&home).unwrap().count(),
        0,
        "the app wrote into its home"
    );

    // Past the end: the clip ends with the recording, and says so (named, in the cwd).
    let out = clip(
        dir.path(),
        &home,
        &[
            "--recording",
            rec.to_str().unwrap(),
            "--start=10",
            "--duration=1:00",
            "--name",
            "tail",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("ends with the recording at 0:00:12"),
        "{}",
        text(&out.stdout)
    );
    assert!(dir.path().join("tail.mkv").is_file());
}

#[test]
fn clip_says_what_went_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();

    // A usage mistake: status 2, the mistake and how to call it.
    let out = clip(
        dir.path(),
        &home,
        &["--recording", "x.mkv", "--start", "1:75", "--duration", "5"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--start \"1:75\" is not a time"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Usage: streamcue clip --recording FILE"),
        "{stderr}"
    );

    // A recording that is not there: status 1, in words.
    let out = clip(
        dir.path(),
        &home,
        &["--recording", "gone.mkv", "--start", "5", "--duration", "5"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the recording is missing"), "{stderr}");

    // Not a video: status 1, and no clip left behind.
    std::fs::write(dir.path().join("notes.mkv"), b"this is not a video").unwrap();
    let out = clip(
        dir.path(),
        &home,
        &[
            "--recording",
            "notes.mkv",
            "--start",
            "0",
            "--duration",
            "5",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!dir.path().join("notes_000000.mkv").exists());
    assert_eq!(std::fs::read_dir(&home).unwrap().count(), 0);

    // --help: the usage on stdout, status 0.
    let out = clip(dir.path(), &home, &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("--duration TIME"));
}
