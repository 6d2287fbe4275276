//! `cut`: StreamCue's recorder cutting a clip around a moment (ffprobe for the keyframe, an
//! ffmpeg stream copy into a hidden `.part`, a probe of the output, the rename, the `clips`
//! row), SIGKILLed at a random point of it.
//!
//! The data folder starts as a past stream left it: a finished 60 s OBS recording (MKV,
//! 1280x720, a large file so the copy takes a while) and one moment per cycle inside it,
//! written through `streamcue::db` before the first start. Each cycle asks the engine child
//! to cut the oldest moment that has no announced clip yet (a cut the kill interrupted is
//! asked again, as the streamer would) and kills: two cycles in three 0–100 ms after the
//! hidden temporary file appears (ffmpeg is copying), the third at a random point within what a
//! cut takes here (measured on the cuts that finished). Announced = the engine answered the cut
//! with a clip (written, then announced): it must have exactly one row and a whole file.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

use streamcue::api::{MomentTrigger, RecorderMode, TriggerKind};
use streamcue::db::{Database, Platform};
use streamcue_testkit::fake_irc::FakeIrc;

use crate::proc::start_engine;
use crate::tally::{writing, Tally};

const RECORDING_SECS: i64 = 60;

fn make_recording(path: &Path) -> Result<(), String> {
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i"])
        .arg(format!(
            "testsrc2=size=1280x720:rate=30:duration={RECORDING_SECS}"
        ))
        .args(["-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency=440:sample_rate=48000:duration={RECORDING_SECS}"
        ))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "10",
            "-g",
            "60",
        ])
        .args([
            "-keyint_min",
            "60",
            "-sc_threshold",
            "0",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
        ])
        .args(["-shortest", "-f", "matroska"])
        .arg(path)
        .status()
        .map_err(|e| format!("ffmpeg: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| "ffmpeg could not make the recording".into())
}

/// The recording's row and `n` moments inside it; returns the moments' ids.
async fn seed(data: &Path, recording: &Path, n: u32) -> Result<Vec<i64>, String> {
    let e = |e: streamcue::db::DbError| e.to_string();
    let db = Database::open(&data.join("streamcue.db"))
        .await
        .map_err(e)?;
    let started = streamcue_testkit::now_ms() as i64 - 3_600_000;
    let session = db
        .sessions()
        .start(Platform::Demo, "demo", started)
        .await
        .map_err(e)?;
    let rec = db
        .recordings()
        .start(RecorderMode::Obs, None, started, None)
        .await
        .map_err(e)?;
    let path = recording.display().to_string();
    let end = started + RECORDING_SECS * 1000;
    db.recordings()
        .end(rec, Some(&path), end, None)
        .await
        .map_err(e)?;
    let mut ids = Vec::new();
    for i in 0..n {
        let trigger = MomentTrigger {
            kind: TriggerKind::Keyword,
            label: "CLIP ×5".into(),
            name: Some("CLIP".into()),
            value: 5.0,
            threshold: 3.0,
            baseline: None,
        };
        let at = started + 15_000 + i64::from(i % 20) * 1_000;
        let m = db
            .moments()
            .insert(session, at, at - started, &[trigger], 1.0)
            .await;
        ids.push(m.map_err(e)?.id);
    }
    db.close().await;
    Ok(ids)
}

pub async fn run(cycles: u32) -> Tally {
    let mut t = Tally::default();
    let dir = match tempfile::Builder::new().prefix("km-cut-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            t.note(0, format!("temp dir: {e}"));
            return t;
        }
    };
    let data = dir.path().join("data");
    let clips = data.join("clips");
    let recording = dir.path().join("recording.mkv");
    if let Err(e) = make_recording(&recording) {
        t.note(0, e);
        return t;
    }
    let size = std::fs::metadata(&recording).map_or(0, |m| m.len());
    t.info.push(format!(
        "recording: {RECORDING_SECS} s 1280x720 MKV, {:.0} MB; clips of about 21 s (stream copy)",
        size as f64 / 1e6
    ));
    let moments = match seed(&data, &recording, cycles + 1).await {
        Ok(m) => m,
        Err(e) => {
            t.note(0, format!("seeding the database: {e}"));
            return t;
        }
    };
    let Ok(irc) = FakeIrc::start().await else {
        t.note(0, "the fake IRC server did not start");
        return t;
    };
    let (mut estimate, mut took) = (0.6f64, Vec::<f64>::new());
    let mut announced = BTreeSet::new();
    let mut asks = 0;
    for cycle in 0..=cycles {
        let started = SystemTime::now();
        let (mut p, _) = match start_engine(&data, &irc.addr_string(), "offline", None).await {
            Ok(s) => s,
            Err(e) => {
                t.note(cycle, e);
                break;
            }
        };
        t.check_files(cycle, &clips, started);
        if cycle == cycles {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if !p.quit(Duration::from_secs(30)).await {
                t.note(cycle, "the engine did not stop cleanly within 30 s");
            }
            t.check_db(cycle, &data).await;
            break;
        }
        let Some(moment) = moments.iter().find(|m| !announced.contains(*m)).copied() else {
            t.note(cycle, "no moment left to cut");
            break;
        };
        let asked = std::time::Instant::now();
        p.send(&format!("CUT {moment}")).await;
        asks += 1;
        if cycle % 3 == 2 {
            // Anywhere in the cut: probing, copying, probing the output, the rename, the row.
            let delay = Duration::from_secs_f64(fastrand::f64() * estimate * 1.3);
            tokio::time::sleep(delay).await;
        } else {
            // While ffmpeg writes the temporary file (the copy is a fraction of a second).
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !writing(&clips) && std::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            tokio::time::sleep(Duration::from_millis(fastrand::u64(0..100))).await;
        }
        t.tools_at_kill += crate::check::tools_for(&data).len();
        t.kills_mid += u32::from(writing(&clips));
        let killed_at = p.sigkill().await;
        t.cycles += 1;
        for l in p.all() {
            match l.word(0) {
                "CLIP" | "CUT_OK" if l.num(1) == moment => {
                    if announced.insert(moment) {
                        took.push(l.at.duration_since(asked).as_secs_f64());
                    }
                    t.accepted.insert(format!("moment#{moment}"));
                }
                "CUT_ERR" => t.note(cycle, format!("the cut failed: {}", l.words.join(" "))),
                _ => {}
            }
        }
        if !took.is_empty() {
            estimate = took.iter().sum::<f64>() / took.len() as f64;
        }
        t.after_kill(cycle, &data, killed_at).await;
    }
    // Clips under a final name that no row names (killed between the rename and the row):
    // whole files the app does not list; the next cut of that moment replaces them.
    let rows = crate::check::db(&data)
        .await
        .map(|d| d.clip_paths)
        .unwrap_or_default();
    let unlisted = crate::check::files(&clips)
        .finals
        .iter()
        .filter(|f| !rows.iter().any(|r| Path::new(r) == f.as_path()))
        .count();
    took.sort_by(f64::total_cmp);
    t.info.push(format!(
        "{asks} cuts asked, {} finished before their kill (ask → clip announced p50 {:.2} s); {unlisted} whole clip files without a row at the end",
        took.len(),
        crate::check::percentile(&took, 50.0)
    ));
    t
}
