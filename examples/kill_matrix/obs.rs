//! `obs`: a real OBS Studio 30.2 (the testkit's, from the cached Debian 13 root under its own
//! Xvfb) SIGKILLed while it shows a viewer's clip in the Result scene; StreamCue (the engine
//! child, data folder under /tmp so OBS can read the clips) stays up. OBS is started again at
//! once; measured: from the kill to StreamCue's OBS state `Connected` again (OBS's own start,
//! 1–2 s, included). "Set up OBS" is pressed after each reconnect (a killed OBS may not have
//! saved the scenes StreamCue created). The request that was on screen must still be there
//! (`ready`, or `shown` if it had ended) with its file whole; at the end the engine stops
//! cleanly and the database is checked. Skipped (not faked) where a real OBS cannot run.

use std::time::{Duration, Instant};

use streamcue_testkit::fake_irc::{FakeIrc, Privmsg};
use streamcue_testkit::real_obs::{self, RealObs};

use crate::child::{obs_connected, CHANNEL, CLIP_SECONDS};
use crate::proc::{start_engine, Proc};
use crate::tally::Tally;

/// Why a real OBS cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    real_obs::unavailable()
}

/// The next `OBS` line after `since` whose fields satisfy `pred(connection, scene, showing)`.
async fn wait_obs(
    p: &mut Proc,
    limit: Duration,
    since: Instant,
    pred: impl Fn(&str, &str, i64) -> bool,
) -> Option<Instant> {
    let line = p.wait_line(limit, |l| {
        l.word(0) == "OBS" && l.at >= since && pred(l.word(1), l.word(2), l.num(3))
    });
    line.await.map(|l| l.at)
}

async fn set_up(p: &mut Proc) -> Result<i64, String> {
    p.send("OBS_SETUP").await;
    match p.wait_word(Duration::from_secs(20), "SETUP").await {
        Some(l) if l.num(1) == 1 => Ok(l.num(2)),
        _ => Err("Set up OBS failed or did not answer within 20 s".into()),
    }
}

pub async fn run(cycles: u32) -> Tally {
    let mut t = Tally::default();
    let mut obs = match RealObs::start().await {
        Ok(o) => o,
        Err(e) => {
            t.note(0, format!("real OBS did not start: {e}"));
            return t;
        }
    };
    let dir = real_obs::obs_tempdir();
    let Ok(irc) = FakeIrc::start().await else {
        t.note(0, "the fake IRC server did not start");
        return t;
    };
    let t0 = Instant::now();
    let start = start_engine(
        dir.path(),
        &irc.addr_string(),
        "offline",
        Some((obs.port(), obs.password())),
    )
    .await;
    let mut p = match start {
        Ok((p, _)) => p,
        Err(e) => {
            t.note(0, e);
            return t;
        }
    };
    if wait_obs(&mut p, Duration::from_secs(30), t0, |c, _, _| {
        obs_connected(c)
    })
    .await
    .is_none()
    {
        t.note(0, "StreamCue did not connect to OBS within 30 s");
        return t;
    }
    if let Err(e) = set_up(&mut p).await {
        t.note(0, e);
        return t;
    }
    let (mut recreated, mut still) = (0, [0u32; 2]);
    let mut obs_ready_ms = Vec::new();
    for cycle in 0..cycles {
        let login = format!("o{cycle}");
        let asked = Instant::now();
        irc.broadcast(
            CHANNEL,
            &Privmsg::new(CHANNEL, &login, &format!("!anime obs kill {cycle}")).line(),
        );
        let Some(item) = p
            .wait_line(Duration::from_secs(10), |l| {
                l.word(0) == "ITEM" && l.word(2) == login
            })
            .await
        else {
            t.note(
                cycle,
                format!("the request of {login} was not accepted within 10 s"),
            );
            continue;
        };
        t.accepted.insert(login.clone());
        let id = item.num(1);
        let on_screen = wait_obs(
            &mut p,
            Duration::from_secs(90),
            asked,
            |c, scene, showing| obs_connected(c) && scene == "Result" && showing == id,
        );
        if on_screen.await.is_none() {
            t.note(
                cycle,
                format!("request #{id} was not on the Result scene within 90 s"),
            );
            continue;
        }
        let delay = fastrand::f64() * f64::from(CLIP_SECONDS) * 0.7;
        tokio::time::sleep(Duration::from_secs_f64(delay)).await;
        let killed_at = Instant::now();
        obs.kill();
        t.cycles += 1;
        let gone = wait_obs(&mut p, Duration::from_secs(15), killed_at, |c, _, _| {
            c == "reconnecting"
        });
        if gone.await.is_none() {
            t.note(cycle, "StreamCue did not notice the kill within 15 s");
        }
        t.orphans += crate::check::tools_for(dir.path()).len();
        if let Err(e) = obs.restart().await {
            t.note(cycle, format!("OBS did not start again: {e}"));
            break;
        }
        obs_ready_ms.push(
            obs.ready_after()
                .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
        );
        match wait_obs(&mut p, Duration::from_secs(60), killed_at, |c, _, _| {
            obs_connected(c)
        })
        .await
        {
            Some(at) => t
                .reconnect_ms
                .push(at.duration_since(killed_at).as_secs_f64() * 1e3),
            None => {
                t.note(cycle, "StreamCue did not reconnect to OBS within 60 s");
                break;
            }
        }
        match set_up(&mut p).await {
            Ok(n) => recreated += n,
            Err(e) => t.note(cycle, e),
        }
        // The request that was on screen: its latest announced state.
        let last = p
            .all()
            .into_iter()
            .rev()
            .find(|l| l.word(0) == "ITEM" && l.num(1) == id);
        match last.as_ref().map(|l| l.word(3)) {
            Some("ready") => still[0] += 1,
            Some("shown") => still[1] += 1,
            other => t.note(cycle, format!("request #{id} is {other:?} after the kill")),
        }
    }
    if !p.quit(Duration::from_secs(30)).await {
        t.note(cycles, "the engine did not stop cleanly within 30 s");
    }
    t.check_db(cycles, dir.path()).await;
    t.check_files(
        cycles,
        &dir.path().join("clips"),
        std::time::SystemTime::now(),
    );
    obs_ready_ms.sort_by(f64::total_cmp);
    t.info.push(format!(
        "OBS {} (root {}); after the kills the clip on screen was still ready {} times, shown {} times; OBS's own restart took p50 {:.0} ms; Set up OBS re-created {recreated} scenes/sources in all",
        real_obs::root_obs_version().unwrap_or_default(),
        real_obs::obs_root().display(),
        still[0],
        still[1],
        crate::check::percentile(&obs_ready_ms, 50.0)
    ));
    t
}
