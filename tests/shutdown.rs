//! Quit stays bounded: long work (an ffmpeg cut) races the engine's cancellation instead of
//! holding an actor's loop, and the cut's ffmpeg is killed with it.
//!
//! The cut's "ffmpeg" is a script that answers `-version` (the generator's health probe) and
//! otherwise records its pid and sleeps for ten minutes, like an ffmpeg stuck on a slow disk.
//! The recording it cuts from is a real one made with Debian's ffmpeg (ffprobe reads it first).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use streamcue::api::{ErrorCode, MomentTrigger, RecorderMode, TriggerKind};
use streamcue::db::{Database, Platform};
use streamcue::engine::SHUTDOWN_STEP_TIMEOUT;
use streamcue_testkit::{now_ms, secs, within, Harness, HarnessOptions};

fn make_recording(path: &Path) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x90:rate=25:duration=6",
        ])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "50"])
        .args(["-f", "matroska"])
        .arg(path)
        .status()
        .expect("ffmpeg runs (scripts/setup.sh installs it)");
    assert!(status.success(), "making the test recording failed");
}

/// A stand-in for ffmpeg that hangs on any real work and writes its pid to `pid_file`.
fn stuck_ffmpeg(dir: &Path, pid_file: &Path) -> std::path::PathBuf {
    let path = dir.join("stuck-ffmpeg");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n\
             if [ \"$1\" = \"-version\" ]; then echo 'ffmpeg version stuck'; exit 0; fi\n\
             echo $$ > '{}.tmp' && mv '{}.tmp' '{}'\n\
             exec sleep 600\n",
            pid_file.display(),
            pid_file.display(),
            pid_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Whether process `pid` is gone (or a zombie waiting to be reaped: it no longer runs).
fn process_ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Invariant: a cut in progress does not delay Quit beyond its step timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_in_progress_does_not_delay_quit() {
    let dir = tempfile::tempdir().unwrap();
    let paths = streamcue::paths::AppPaths::under(dir.path());
    let recording = dir.path().join("recording.mkv");
    make_recording(&recording);
    let pid_file = dir.path().join("ffmpeg.pid");
    let ffmpeg = stuck_ffmpeg(dir.path(), &pid_file);

    // A finished recording with a moment inside it, as a past stream left them.
    let db = Database::open(&paths.database_file).await.unwrap();
    let started = now_ms() - 60_000;
    let session = db
        .sessions()
        .start(Platform::Demo, "demo", started)
        .await
        .unwrap();
    let rec = db
        .recordings()
        .start(RecorderMode::Obs, None, started, None)
        .await
        .unwrap();
    db.recordings()
        .end(
            rec,
            Some(&recording.display().to_string()),
            started + 6_000,
            None,
        )
        .await
        .unwrap();
    let trigger = MomentTrigger {
        kind: TriggerKind::Keyword,
        label: "CLIP ×5".into(),
        name: Some("CLIP".into()),
        value: 5.0,
        threshold: 3.0,
        baseline: None,
    };
    let moment = db
        .moments()
        .insert(session, started + 3_000, 3_000, &[trigger], 1.0)
        .await
        .unwrap();
    db.close().await;

    let config = format!(
        "[generator]\nffmpeg = \"{}\"\n",
        ffmpeg.display().to_string().replace('\\', "\\\\")
    );
    let mut h = Harness::start(HarnessOptions {
        dir: Some(dir),
        config_toml: Some(config.into_bytes()),
        ..HarnessOptions::default()
    })
    .await;

    let recorder = h.engine().handle().recorder().clone();
    let cut = tokio::spawn(async move { recorder.cut(moment.id as i32).await });
    let pid = within(secs(20.0), "the cut's ffmpeg to start", async {
        loop {
            if let Ok(text) = std::fs::read_to_string(&pid_file) {
                if let Ok(pid) = text.trim().parse::<u32>() {
                    return pid;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(!process_ended(pid), "the stuck ffmpeg is running");

    // Quit: the recorder's step must not wait for the ten-minute "ffmpeg".
    let took = h.shutdown_within(SHUTDOWN_STEP_TIMEOUT * 3).await;
    assert!(
        took < SHUTDOWN_STEP_TIMEOUT,
        "shutdown took {took:?}: the cut held it up (a step times out at {SHUTDOWN_STEP_TIMEOUT:?})"
    );
    let answer = within(secs(5.0), "the cut's answer", cut).await.unwrap();
    let err = answer.expect_err("a cut cancelled by Quit is not a clip");
    assert_eq!(err.code, ErrorCode::ShuttingDown, "{err:?}");
    within(secs(5.0), "the cut's ffmpeg to be killed", async {
        while !process_ended(pid) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;

    // Nothing half-done was recorded: no clip row for the cancelled cut.
    let db = h.reopen_db().await;
    assert!(db.recordings().latest_clips(10).await.unwrap().is_empty());
    db.close().await;
}
