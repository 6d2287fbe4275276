//! `render` and `download`: viewers' `!anime` requests, StreamCue SIGKILLed while a clip is
//! being made (the offline generator's ffmpeg render, or a slow download from the fake
//! endpoint), restarted on the same data folder, again and again.
//!
//! One cycle: start the engine child (its start marks what the kill left `generating` as
//! `interrupted`, sweeps `.part` files, and the child presses Retry on the interrupted ones);
//! check the clips folder; two new requests from viewers; wait until one clip is ready (so
//! the folder holds finished clips to check), then until the next one is being made; SIGKILL
//! at a random point within the time a clip takes (measured on the ones that finished); then,
//! with StreamCue dead: ffmpeg left after 2 s, and the database (integrity, every announced
//! request exactly once, no request generated twice, every ready clip's file whole).

use std::path::Path;
use std::time::{Duration, SystemTime};

use streamcue_testkit::fake_gen::{FakeGen, Fault};
use streamcue_testkit::fake_irc::{parse_client_line, FakeIrc, Privmsg};

use crate::child::CHANNEL;
use crate::proc::{start_engine, Proc};
use crate::tally::{writing, Tally};

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Render,
    Download,
}

/// A real H.264 MP4 of about 400 KB for the fake endpoint: with its slow download (16 KiB
/// every 100 ms) it takes about 2.5 s.
fn download_clip(dir: &Path) -> Result<Vec<u8>, String> {
    let path = dir.join("served.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=30:duration=3",
        ])
        .args(["-c:v", "libx264", "-preset", "veryfast", "-b:v", "1000k"])
        .args(["-pix_fmt", "yuv420p", "-movflags", "+faststart"])
        .arg(&path)
        .status()
        .map_err(|e| format!("ffmpeg: {e}"))?;
    if !status.success() {
        return Err("ffmpeg could not make the served clip".into());
    }
    std::fs::read(&path).map_err(|e| e.to_string())
}

/// Logins StreamCue told "got it!" in chat.
fn said_got_it(irc: &FakeIrc) -> Vec<String> {
    irc.received()
        .iter()
        .filter_map(|l| {
            let (cmd, params) = parse_client_line(l)?;
            let text = params.get(1)?.trim_start_matches(". ");
            (cmd == "PRIVMSG" && text.contains(" got it!")).then(|| {
                text.trim_start_matches('@')
                    .split(' ')
                    .next()
                    .map(str::to_string)
            })?
        })
        .collect()
}

/// Logins of every request the child announced on the bus (`ITEM id login state`).
fn announced(p: &Proc) -> Vec<String> {
    p.all()
        .iter()
        .filter(|l| l.word(0) == "ITEM")
        .map(|l| l.word(2).to_string())
        .collect()
}

/// How long the clips that finished took, from their first progress line to `ready` (s).
fn durations(p: &Proc) -> Vec<f64> {
    let lines = p.all();
    let mut out = Vec::new();
    for ready in lines
        .iter()
        .filter(|l| l.word(0) == "ITEM" && l.word(3) == "ready")
    {
        let id = ready.word(1);
        let first = lines
            .iter()
            .find(|l| l.word(0) == "PROGRESS" && l.word(1) == id);
        if let Some(first) = first {
            out.push(ready.at.duration_since(first.at).as_secs_f64());
        }
    }
    out
}

pub async fn run(kind: Kind, cycles: u32) -> Tally {
    let mut t = Tally::default();
    let dir = match tempfile::Builder::new().prefix("km-gen-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            t.note(0, format!("temp dir: {e}"));
            return t;
        }
    };
    let data = dir.path().to_path_buf();
    let clips = data.join("clips");
    let Ok(irc) = FakeIrc::start().await else {
        t.note(0, "the fake IRC server did not start");
        return t;
    };
    let mut fake = None;
    if kind == Kind::Download {
        let gen = FakeGen::start().await;
        match download_clip(dir.path()) {
            Ok(bytes) => {
                t.info.push(format!(
                    "served clip: {} bytes, slow download (16 KiB / 100 ms)",
                    bytes.len()
                ));
                gen.set_clip(bytes);
            }
            Err(e) => {
                t.note(0, e);
                return t;
            }
        }
        gen.set_default_fault(Some(Fault::SlowBody));
        fake = Some(gen);
    }
    let generator = fake.as_ref().map_or("offline".into(), FakeGen::base_url);
    let phase = if kind == Kind::Render {
        "rendering"
    } else {
        "downloading"
    };
    let (mut estimate, mut finished) = (2.0f64, Vec::<f64>::new());
    let mut final_files = 0;
    for cycle in 0..=cycles {
        let started = SystemTime::now();
        let joins = irc.joins(CHANNEL);
        let (mut p, retried) = match start_engine(&data, &irc.addr_string(), &generator, None).await
        {
            Ok(s) => s,
            Err(e) => {
                t.note(cycle, e);
                break;
            }
        };
        t.retried += retried;
        final_files = t.check_files(cycle, &clips, started);
        if cycle == cycles {
            // The last start: recovery only, then a clean stop and the last checks.
            tokio::time::sleep(Duration::from_secs(2)).await;
            if !p.quit(Duration::from_secs(30)).await {
                t.note(cycle, "the engine did not stop cleanly within 30 s");
            }
            t.accepted.extend(announced(&p));
            t.check_db(cycle, &data).await;
            break;
        }
        if !irc
            .wait_joins(CHANNEL, joins + 1, Duration::from_secs(10))
            .await
        {
            t.note(cycle, "the engine did not join the channel within 10 s");
        }
        for k in 0..2 {
            let login = format!("c{cycle}v{k}");
            let text = format!("!anime kill matrix cycle {cycle} viewer {k}");
            irc.broadcast(CHANNEL, &Privmsg::new(CHANNEL, &login, &text).line());
        }
        // One clip finishes whole, then the next one is being made.
        let ready = p.wait_line(Duration::from_secs(90), |l| {
            l.word(0) == "ITEM" && l.word(3) == "ready"
        });
        if ready.await.is_none() {
            t.note(cycle, "no clip got ready within 90 s");
        }
        let busy = p.wait_line(Duration::from_secs(30), |l| {
            l.word(0) == "PROGRESS" && l.word(2) == phase
        });
        if busy.await.is_none() {
            t.note(cycle, format!("nothing was {phase} within 30 s"));
        }
        let delay = Duration::from_secs_f64(fastrand::f64() * estimate * 1.1);
        tokio::time::sleep(delay).await;
        t.tools_at_kill += crate::check::tools_for(&data).len();
        t.kills_mid += u32::from(writing(&clips));
        let killed_at = p.sigkill().await;
        t.cycles += 1;
        t.accepted.extend(announced(&p));
        t.accepted.extend(said_got_it(&irc));
        finished.extend(durations(&p));
        if !finished.is_empty() {
            estimate = finished.iter().sum::<f64>() / finished.len() as f64;
        }
        t.after_kill(cycle, &data, killed_at).await;
    }
    let (mut sorted, n) = (finished.clone(), finished.len());
    sorted.sort_by(f64::total_cmp);
    t.info.push(format!(
        "{n} clips finished between kills ({phase} p50 {:.2} s); {final_files} finished clips in the folder at the end, all checked whole by ffprobe + a decode of their last second",
        crate::check::percentile(&sorted, 50.0)
    ));
    if let Some(g) = &fake {
        t.info.push(format!(
            "fake endpoint: {} /generate calls, {} downloads started",
            g.generate_calls(),
            g.download_calls()
        ));
    }
    t
}
