//! Unit tests of the cut: the seek/trim plan, keyframe choice from packet flags, containers,
//! the exact ffmpeg command line, small helpers and error wording (no ffmpeg needed).

use super::command::Plan;
use super::error::{clock, last_line};
use super::probe::{first_keyframe_before, last_keyframe_at_or_before, parse_packets, Keyframe};
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
