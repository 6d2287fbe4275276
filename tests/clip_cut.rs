//! Cutting clips out of recordings with the real ffmpeg/ffprobe (scripts/setup.sh installs
//! them): test recordings are made here (testsrc2 320x180 @ 25 fps, H.264 with a keyframe
//! every 2 s and B-frames like OBS's x264, plus AAC audio) as MKV (OBS) and MPEG-TS
//! (streamlink). Every test makes its own small recording; the file runs in a few seconds.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use streamcue::recorder::cut::{cut_clip, probe_duration, CutError, CutRequest, INSTALL_HINT};

fn require_tools() {
    for tool in ["ffmpeg", "ffprobe"] {
        let ok = Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "`{tool}` is required for these tests: run scripts/setup.sh (sudo apt install ffmpeg)"
        );
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Mkv,
    Mp4,
    Ts,
}

/// A `secs`-long recording: video keyframes every 2 s (`-g 50` at 25 fps, no scene-cut
/// keyframes), x264 `veryfast` (B-frames, as OBS's default), AAC sine audio.
fn make_recording(dir: &Path, name: &str, secs: u32, kind: Kind) -> PathBuf {
    make_recording_gop(dir, name, secs, kind, 50)
}

fn make_recording_gop(dir: &Path, name: &str, secs: u32, kind: Kind, gop: u32) -> PathBuf {
    let path = dir.join(name);
    let format = match kind {
        Kind::Mkv => "matroska",
        Kind::Mp4 => "mp4",
        Kind::Ts => "mpegts",
    };
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size=320x180:rate=25:duration={secs}"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency=440:sample_rate=48000:duration={secs}"
        ))
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        ])
        .args(["-g", &gop.to_string(), "-keyint_min", &gop.to_string()])
        .args(["-sc_threshold", "0"])
        .args(["-c:a", "aac", "-b:a", "64k", "-shortest"])
        .args(["-f", format])
        .arg(&path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "making the test recording failed");
    path
}

fn ffprobe_json(args: &[&str], file: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(file)
        .output()
        .expect("ffprobe runs");
    assert!(
        out.status.success(),
        "ffprobe {args:?} {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

fn secs(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

struct Info {
    format_name: String,
    start: f64,
    duration: f64,
    /// (codec_name, profile, level, width, height) of the first video stream.
    video: (String, String, i64, i64, i64),
    audio_codec: String,
}

fn info(file: &Path) -> Info {
    let j = ffprobe_json(
        &[
            "-show_entries",
            "format=format_name,start_time,duration:\
             stream=codec_type,codec_name,profile,level,width,height",
        ],
        file,
    );
    let streams = j["streams"].as_array().expect("streams");
    let v = streams
        .iter()
        .find(|s| s["codec_type"] == "video")
        .expect("a video stream");
    let a = streams
        .iter()
        .find(|s| s["codec_type"] == "audio")
        .expect("an audio stream");
    Info {
        format_name: j["format"]["format_name"].as_str().unwrap().to_string(),
        start: secs(&j["format"]["start_time"]),
        duration: secs(&j["format"]["duration"]),
        video: (
            v["codec_name"].as_str().unwrap().to_string(),
            v["profile"].as_str().unwrap_or("").to_string(),
            v["level"].as_i64().unwrap_or(0),
            v["width"].as_i64().unwrap(),
            v["height"].as_i64().unwrap(),
        ),
        audio_codec: a["codec_name"].as_str().unwrap().to_string(),
    }
}

/// The last keyframe at or before `offset` (seconds from the recording's start), found a
/// different way than the code under test: by *decoding* only keyframes
/// (`-skip_frame nokey`) over the whole file.
fn keyframe_before(file: &Path, offset: f64) -> f64 {
    let start = info(file).start;
    let j = ffprobe_json(
        &[
            "-skip_frame",
            "nokey",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=pts_time",
        ],
        file,
    );
    j["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| secs(&f["pts_time"]) - start)
        .filter(|t| *t <= offset + 1e-6)
        .fold(f64::NEG_INFINITY, f64::max)
}

/// `(pts_time, keyframe, sha256 of the bytes)` of one stream's packets, in file order.
fn packets(file: &Path, stream: &str, interval: Option<&str>) -> Vec<(f64, bool, String)> {
    let mut args = vec![
        "-select_streams",
        stream,
        "-show_data_hash",
        "SHA256",
        "-show_entries",
        "packet=pts_time,flags,data_hash",
    ];
    if let Some(i) = interval {
        args.extend(["-read_intervals", i]);
    }
    let j = ffprobe_json(&args, file);
    j["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                secs(&p["pts_time"]),
                p["flags"].as_str().unwrap_or("").contains('K'),
                p["data_hash"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The MD5 of each of the first `n` decoded pictures, starting at `from` seconds (input seek
/// with accurate decoding, so the first picture is the one shown at `from`).
fn picture_md5s(file: &Path, from: Option<f64>, n: usize) -> Vec<String> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error"]);
    if let Some(from) = from {
        cmd.args(["-ss", &format!("{from:.6}")]);
    }
    let out = cmd
        .arg("-i")
        .arg(file)
        .args(["-map", "0:v:0", "-frames:v", &n.to_string()])
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next().map(|m| m.trim().to_string()))
        .collect()
}

/// Everything in `dir` (names), sorted; empty if `dir` does not exist.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn request(source: &Path, start: f64, end: f64, out_dir: &Path, stem: &str) -> CutRequest {
    CutRequest::new(
        source,
        Duration::from_secs_f64(start),
        Duration::from_secs_f64(end),
        out_dir,
        stem,
    )
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// The clip's length against `expected` = `end − keyframe`:
/// * its audio track (cut by timestamp at both ends, starting with the keyframe's decode
///   time, 0.08 s before its picture here) is within ±0.2 s of it;
/// * the whole clip (ffprobe's container duration) is never shorter (minus a frame) and longer
///   by at most 8 frames (0.32 s): that audio lead (2 frames of B-frame delay), plus the
///   pictures decoded before `end` but shown after it (a P-frame is decoded up to 3 B-frames
///   + 2 frames of delay before it is shown) and the last picture's own frame.
fn assert_length(clip: &Path, expected: f64) {
    let total = info(clip).duration;
    assert!(
        total >= expected - 0.05 && total <= expected + 0.33,
        "clip is {total:.3} s, expected {expected:.3} s (−0.05/+0.33)"
    );
    let j = ffprobe_json(
        &[
            "-select_streams",
            "a:0",
            "-show_entries",
            "packet=pts_time,duration_time",
        ],
        clip,
    );
    let audio = j["packets"].as_array().unwrap();
    let first = secs(&audio[0]["pts_time"]);
    let last = audio.last().unwrap();
    let span = secs(&last["pts_time"]) + secs(&last["duration_time"]) - first;
    assert!(
        close(span, expected, 0.2),
        "audio is {span:.3} s, expected {expected:.3} s (±0.2)"
    );
}

#[tokio::test]
async fn cuts_a_moment_on_the_keyframe_before_it_without_reencoding() {
    cut_and_check(Kind::Mkv, "mkv", "matroska,webm").await;
}

#[tokio::test]
async fn an_obs_mp4_recording_is_cut_the_same_way() {
    cut_and_check(Kind::Mp4, "mp4", "mov,mp4,m4a,3gp,3g2,mj2").await;
}

/// Cuts 10.7 s → 14.2 s out of a 30 s recording and checks where the clip starts, how long it
/// is, and that it is a copy (same container family as the source).
async fn cut_and_check(kind: Kind, ext: &str, format_name: &str) {
    require_tools();
    let tmp = tempfile::tempdir().unwrap();
    let source = make_recording(tmp.path(), &format!("rec.{ext}"), 30, kind);
    let out_dir = tmp.path().join("clips");

    let clip = cut_clip(&request(&source, 10.7, 14.2, &out_dir, "moment-1"))
        .await
        .expect("the cut works");
    eprintln!("{clip:?}");

    // Named after the stem, same container, nothing else left in the folder.
    let name = format!("moment-1.{ext}");
    assert_eq!(clip.path, out_dir.join(&name));
    assert_eq!(listing(&out_dir), vec![name]);
    assert_eq!(clip.bytes, std::fs::metadata(&clip.path).unwrap().len());
    assert!(clip.bytes > 10_000, "{} bytes", clip.bytes);

    // It starts on the keyframe before 10.7 s (10.0 s of video; 10.021 s in the MKV, whose
    // video starts 21 ms after the AAC priming), found independently by decoding keyframes.
    let key = keyframe_before(&source, 10.7);
    assert!(close(key, 10.0, 0.05), "keyframe at {key}");
    assert!(close(clip.actual_start.as_secs_f64(), key, 0.000_5));
    assert_eq!(
        clip.widened_by,
        Duration::from_secs_f64(10.7) - clip.actual_start
    );
    assert!(
        close(clip.widened_by.as_secs_f64(), 0.7, 0.05),
        "widened by {:?}",
        clip.widened_by
    );
    assert_eq!(clip.actual_end, Duration::from_secs_f64(14.2));
    assert!(!clip.clamped_end);

    // Its length, as ffprobe measures it.
    let out = info(&clip.path);
    assert_length(&clip.path, 14.2 - key);
    assert!(close(clip.duration.as_secs_f64(), out.duration, 0.001));

    // Copied, not re-encoded: same codecs and parameters, and the packets are byte for byte
    // the source's, starting with the keyframe itself. (A re-encode cannot reproduce the
    // encoder's bytes; matching SHA-256 of the first second of packets proves the copy, and
    // that the clip starts on exactly that keyframe.)
    let src = info(&source);
    assert_eq!(out.format_name, format_name);
    assert_eq!(out.video.0, "h264");
    assert_eq!(out.audio_codec, "aac");
    assert_eq!(out.video, src.video);
    let interval = format!("{:.3}%{:.3}", key - 3.0, key + 3.0);
    let src_video = packets(&source, "v:0", Some(&interval));
    let at = src_video
        .iter()
        .position(|(pts, k, _)| *k && close(*pts - src.start, key, 0.000_5))
        .expect("the keyframe is in the source");
    let clip_video = packets(&clip.path, "v:0", None);
    assert!(clip_video[0].1, "the clip starts with a keyframe");
    let hashes = |p: &[(f64, bool, String)]| p.iter().map(|x| x.2.clone()).collect::<Vec<_>>();
    assert_eq!(
        hashes(&clip_video[..25]),
        hashes(&src_video[at..at + 25]),
        "the clip's first 25 video packets are the source's from the keyframe on"
    );
    // Audio too: the clip's first 20 audio packets are a run of the source's.
    let src_audio = hashes(&packets(&source, "a:0", Some(&interval)));
    let clip_audio = hashes(&packets(&clip.path, "a:0", None)[..20]);
    assert!(
        src_audio.windows(20).any(|w| w == clip_audio.as_slice()),
        "the clip's audio packets are copied from the source"
    );
    // And it starts with the keyframe's audio, not with a second of sound before the picture.
    let clip_first_video = clip_video[0].0;
    let clip_first_audio = packets(&clip.path, "a:0", None)[0].0;
    assert!(
        clip_first_video - clip_first_audio <= 0.1,
        "audio leads the first picture by {:.3} s",
        clip_first_video - clip_first_audio
    );
}

#[tokio::test]
async fn an_end_past_the_recording_is_clamped_and_bad_ranges_are_refused() {
    require_tools();
    let tmp = tempfile::tempdir().unwrap();
    let source = make_recording(tmp.path(), "rec.mkv", 12, Kind::Mkv);
    let out_dir = tmp.path().join("clips");

    let length = probe_duration("ffprobe", &source).await.unwrap();
    assert!(close(length.as_secs_f64(), 12.0, 0.05), "{length:?}");

    // End 40 s into a 12 s recording: the clip runs to the end, and says so.
    let clip = cut_clip(&request(&source, 9.3, 40.0, &out_dir, "tail"))
        .await
        .expect("clamped cut works");
    eprintln!("{clip:?}");
    assert!(clip.clamped_end);
    assert_eq!(clip.actual_end, length);
    let key = keyframe_before(&source, 9.3);
    assert!(close(key, 8.0, 0.05), "keyframe at {key}");
    assert!(close(clip.actual_start.as_secs_f64(), key, 0.000_5));
    assert_length(&clip.path, length.as_secs_f64() - key);

    // The moment starts after the recording ended.
    let err = cut_clip(&request(&source, 45.0, 50.0, &out_dir, "late"))
        .await
        .unwrap_err();
    assert!(matches!(err, CutError::AfterEnd { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("the moment is after the end of the recording"),
        "{err}"
    );
    // Start at or after end.
    let err = cut_clip(&request(&source, 5.0, 5.0, &out_dir, "empty"))
        .await
        .unwrap_err();
    assert!(matches!(err, CutError::EmptyRange { .. }), "{err:?}");
    let err = cut_clip(&request(&source, 6.0, 5.0, &out_dir, "backwards"))
        .await
        .unwrap_err();
    assert!(matches!(err, CutError::EmptyRange { .. }), "{err:?}");

    // A moment exactly on a keyframe starts there, not one keyframe earlier (ffmpeg's own
    // input seek would go back 3/23 s here, to the previous keyframe).
    let on_key = keyframe_before(&source, 6.5);
    let clip = cut_clip(&request(&source, on_key, 8.0, &out_dir, "on-key"))
        .await
        .expect("cut on a keyframe");
    assert_eq!(clip.widened_by, Duration::ZERO);
    assert_length(&clip.path, 8.0 - on_key);

    // A moment before the first keyframe (0.021 s here) starts on it; nothing is widened.
    let clip = cut_clip(&request(&source, 0.0, 3.0, &out_dir, "head"))
        .await
        .expect("cut from the very start");
    assert_eq!(clip.widened_by, Duration::ZERO);
    assert!(clip.actual_start < Duration::from_millis(50));
    assert_length(&clip.path, 3.0 - clip.actual_start.as_secs_f64());

    assert_eq!(
        listing(&out_dir),
        vec!["head.mkv", "on-key.mkv", "tail.mkv"]
    );
}

#[tokio::test]
async fn a_long_keyframe_interval_widens_the_search() {
    require_tools();
    let tmp = tempfile::tempdir().unwrap();
    // A keyframe every 10 s (x264's default interval at 25 fps).
    let source = make_recording_gop(tmp.path(), "rec.mkv", 24, Kind::Mkv, 250);
    let out_dir = tmp.path().join("clips");
    // 17 s: the first 6 s window lands on the 10 s keyframe itself (read first, so without a
    // decode time); the search looks further back and still starts the clip there.
    let clip = cut_clip(&request(&source, 17.0, 19.0, &out_dir, "long-gop"))
        .await
        .expect("cut with a long GOP");
    eprintln!("{clip:?}");
    let key = keyframe_before(&source, 17.0);
    assert!(close(key, 10.0, 0.05), "keyframe at {key}");
    assert!(close(clip.actual_start.as_secs_f64(), key, 0.000_5));
    assert!(close(clip.widened_by.as_secs_f64(), 7.0, 0.05));
    assert_length(&clip.path, 19.0 - key);
    let src_video = packets(&source, "v:0", Some("9.0%11.0"));
    let at = src_video
        .iter()
        .position(|(pts, k, _)| *k && close(*pts, key, 0.000_5))
        .expect("the keyframe is in the source");
    assert_eq!(packets(&clip.path, "v:0", None)[0].2, src_video[at].2);
}

#[tokio::test]
async fn a_streamlink_ts_recording_is_cut_into_an_mp4() {
    require_tools();
    let tmp = tempfile::tempdir().unwrap();
    let source = make_recording(tmp.path(), "chan_s1_20240501.ts", 30, Kind::Ts);
    let src = info(&source);
    assert_eq!(src.format_name, "mpegts");
    assert!(src.start > 1.0, "TS timestamps do not start at 0");
    let out_dir = tmp.path().join("clips");

    let clip = cut_clip(&request(&source, 10.7, 14.2, &out_dir, "ts-moment"))
        .await
        .expect("the TS cut works");
    eprintln!("{clip:?}");
    assert_eq!(clip.path, out_dir.join("ts-moment.mp4"));
    assert_eq!(listing(&out_dir), vec!["ts-moment.mp4"]);

    let key = keyframe_before(&source, 10.7);
    assert!(close(key, 10.0, 0.05), "keyframe at {key}");
    assert!(close(clip.actual_start.as_secs_f64(), key, 0.000_5));
    assert!(close(clip.widened_by.as_secs_f64(), 0.7, 0.05));
    assert!(!clip.clamped_end);

    let out = info(&clip.path);
    assert!(out.format_name.contains("mp4"), "{}", out.format_name);
    assert_eq!(out.video.0, "h264");
    assert_eq!(out.audio_codec, "aac");
    assert_eq!(out.video, src.video);
    assert_length(&clip.path, 14.2 - key);

    // Copied, not re-encoded: TS → MP4 rewraps the H.264 (start codes become lengths) so the
    // packet bytes differ, but the decoded pictures are bit-identical to the source's from
    // the keyframe on, which a lossy re-encode cannot give.
    let clip_pictures = picture_md5s(&clip.path, None, 10);
    let source_pictures = picture_md5s(&source, Some(key - 0.000_5), 10);
    assert_eq!(clip_pictures.len(), 10);
    assert_eq!(clip_pictures, source_pictures);
    assert!(
        packets(&clip.path, "v:0", None)[0].1,
        "starts on a keyframe"
    );
}

#[tokio::test]
async fn failures_say_why_and_leave_nothing_behind() {
    require_tools();
    let tmp = tempfile::tempdir().unwrap();
    let source = make_recording(tmp.path(), "rec.mkv", 4, Kind::Mkv);
    let out_dir = tmp.path().join("clips");
    let ok = request(&source, 1.0, 3.0, &out_dir, "c");

    // The recording is gone.
    let gone = tmp.path().join("moved-away.mkv");
    let err = cut_clip(&request(&gone, 1.0, 3.0, &out_dir, "c"))
        .await
        .unwrap_err();
    assert_eq!(err, CutError::SourceMissing { path: gone.clone() });
    assert!(err.to_string().contains("missing"), "{err}");
    assert!(matches!(
        probe_duration("ffprobe", &gone).await,
        Err(CutError::SourceMissing { .. })
    ));

    // ffmpeg / ffprobe not installed: the install command is in the message.
    let err = cut_clip(&CutRequest {
        ffmpeg: "/nonexistent/ffmpeg".into(),
        ..ok.clone()
    })
    .await
    .unwrap_err();
    assert_eq!(
        err,
        CutError::ToolMissing {
            tool: "ffmpeg",
            install: INSTALL_HINT
        }
    );
    let text = err.to_string();
    assert!(
        text.starts_with("ffmpeg is not installed") && text.contains("sudo apt install ffmpeg"),
        "{text}"
    );
    let err = cut_clip(&CutRequest {
        ffprobe: "/nonexistent/ffprobe".into(),
        ..ok.clone()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            CutError::ToolMissing {
                tool: "ffprobe",
                ..
            }
        ),
        "{err:?}"
    );

    // Not a video: a text file, and an audio-only file.
    let notes = tmp.path().join("notes.mkv");
    std::fs::write(
        &notes,
        "these are my stream notes, not a video\n".repeat(50),
    )
    .unwrap();
    let err = cut_clip(&request(&notes, 1.0, 3.0, &out_dir, "c"))
        .await
        .unwrap_err();
    assert!(matches!(err, CutError::NotAVideo { .. }), "{err:?}");
    let audio = tmp.path().join("voice.m4a");
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "sine=duration=4", "-c:a", "aac"])
        .arg(&audio)
        .status()
        .unwrap();
    assert!(status.success());
    let err = cut_clip(&request(&audio, 1.0, 3.0, &out_dir, "c"))
        .await
        .unwrap_err();
    assert!(matches!(err, CutError::NotAVideo { .. }), "{err:?}");
    assert!(err.to_string().contains("no video track"), "{err}");

    // A clip name that is a path is refused; so is a clip that would replace the recording.
    let err = cut_clip(&request(&source, 1.0, 3.0, &out_dir, "../escape"))
        .await
        .unwrap_err();
    assert!(matches!(err, CutError::BadName { .. }), "{err:?}");
    let err = cut_clip(&request(&source, 1.0, 3.0, tmp.path(), "rec"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CutError::WouldReplaceSource { .. }),
        "{err:?}"
    );
    assert!(
        std::fs::metadata(&source).unwrap().len() > 10_000,
        "the recording is intact"
    );

    // The clips folder is a file: a disk error naming it.
    let blocked = tmp.path().join("blocked");
    std::fs::write(&blocked, "x").unwrap();
    let err = cut_clip(&request(&source, 1.0, 3.0, &blocked, "c"))
        .await
        .unwrap_err();
    assert!(matches!(err, CutError::Disk { .. }), "{err:?}");
    assert!(err.to_string().contains("blocked"), "{err}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let fake = |name: &str, body: &str| {
            let path = tmp.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path.to_string_lossy().into_owned()
        };
        // ffmpeg dies half-way, after writing part of the clip: its last line is the reason.
        let dies = fake(
            "ffmpeg-dies",
            "for last; do :; done\n\
             printf 'half a clip' > \"${last#file:}\"\n\
             echo 'frame=  10 fps=0.0 q=-1.0 size=1kB' >&2\n\
             echo 'Error while filtering: Cannot allocate memory' >&2\n\
             exit 1\n",
        );
        let err = cut_clip(&CutRequest {
            ffmpeg: dies,
            ..ok.clone()
        })
        .await
        .unwrap_err();
        assert_eq!(
            err,
            CutError::Ffmpeg {
                detail: "Error while filtering: Cannot allocate memory".into()
            }
        );
        assert_eq!(
            listing(&out_dir),
            Vec::<String>::new(),
            "no half-written clip"
        );

        // The disk fills up while writing: said in plain words, nothing left behind.
        let full = fake(
            "ffmpeg-full",
            "for last; do :; done\n\
             printf 'half a clip' > \"${last#file:}\"\n\
             echo \"Error writing trailer of $last: No space left on device\" >&2\n\
             exit 1\n",
        );
        let err = cut_clip(&CutRequest {
            ffmpeg: full,
            ..ok.clone()
        })
        .await
        .unwrap_err();
        assert!(matches!(err, CutError::Disk { .. }), "{err:?}");
        assert!(err.to_string().ends_with("the disk is full"), "{err}");
        assert_eq!(
            listing(&out_dir),
            Vec::<String>::new(),
            "no half-written clip"
        );

        // ffmpeg "succeeds" but what it wrote is not a video.
        let lies = fake(
            "ffmpeg-lies",
            "for last; do :; done\nprintf 'not a video at all' > \"${last#file:}\"\nexit 0\n",
        );
        let err = cut_clip(&CutRequest {
            ffmpeg: lies,
            ..ok.clone()
        })
        .await
        .unwrap_err();
        assert!(matches!(err, CutError::BadOutput { .. }), "{err:?}");
        assert_eq!(listing(&out_dir), Vec::<String>::new(), "no bad clip");
    }

    // After all that, a good cut still works and is the only file there.
    let clip = cut_clip(&ok).await.expect("the cut works");
    assert_eq!(listing(&out_dir), vec!["c.mkv"]);
    assert!(clip.duration > Duration::ZERO);
}
