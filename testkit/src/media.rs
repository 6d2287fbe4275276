//! What tests ask of a media file, answered by the real `ffprobe`.

use std::path::Path;
use std::process::Command;

/// ffprobe's verdict on a recording or clip: (has a video stream, duration in seconds; 0 when
/// ffprobe cannot read it).
pub fn probe(path: &Path) -> (bool, f64) {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type:format=duration",
        ])
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(path)
        .output()
        .expect("run ffprobe (package ffmpeg)");
    let text = String::from_utf8_lossy(&out.stdout);
    let video = text.lines().any(|l| l.trim() == "codec_type=video");
    let duration = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("duration="))
        .and_then(|d| d.parse().ok())
        .unwrap_or(0.0);
    (video, duration)
}
