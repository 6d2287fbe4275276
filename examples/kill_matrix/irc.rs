//! `irc`: the fake Twitch IRC server, in a child process of its own on a fixed 127.0.0.1 port,
//! SIGKILLed while StreamCue (the engine child, the app's default reconnect backoff) is
//! connected; a new server is started at once on the same port. Measured: from the kill to the
//! engine's chat state `Connected` again. After each reconnect a viewer's `!anime` goes through
//! the new server and must be accepted (generation is paused: only chat is exercised). At the
//! end the engine stops cleanly and the database is checked.

use std::time::{Duration, Instant};

use crate::proc::{start_engine, Proc};
use crate::tally::Tally;

async fn start_server(port: u16) -> Result<(Proc, f64), String> {
    let t0 = Instant::now();
    let mut p = Proc::spawn(&["--irc".into(), port.to_string()], None)?;
    match p.wait_word(Duration::from_secs(10), "READY").await {
        Some(_) => Ok((p, t0.elapsed().as_secs_f64() * 1e3)),
        None => {
            p.sigkill().await;
            Err(format!(
                "the fake IRC server did not listen on 127.0.0.1:{port} within 10 s"
            ))
        }
    }
}

pub async fn run(cycles: u32) -> Tally {
    let mut t = Tally::default();
    let dir = match tempfile::Builder::new().prefix("km-irc-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            t.note(0, format!("temp dir: {e}"));
            return t;
        }
    };
    // A free port for every server of this scenario.
    let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => {
            t.note(0, format!("no free port: {e}"));
            return t;
        }
    };
    let addr = format!("127.0.0.1:{port}");
    let mut server = match start_server(port).await {
        Ok((s, _)) => s,
        Err(e) => {
            t.note(0, e);
            return t;
        }
    };
    let mut engine = match start_engine(dir.path(), &addr, "paused", None).await {
        Ok((e, _)) => e,
        Err(e) => {
            t.note(0, e);
            return t;
        }
    };
    let mut restart_ms = Vec::new();
    for cycle in 0..cycles {
        let killed_at = server.sigkill().await;
        t.cycles += 1;
        match start_server(port).await {
            Ok((s, ms)) => {
                server = s;
                restart_ms.push(ms);
            }
            Err(e) => {
                t.note(cycle, e);
                break;
            }
        }
        let back = engine.wait_line(Duration::from_secs(90), |l| {
            l.word(0) == "CHAT" && l.word(1) == "connected" && l.at > killed_at
        });
        match back.await {
            Some(l) => t
                .reconnect_ms
                .push(l.at.duration_since(killed_at).as_secs_f64() * 1e3),
            None => {
                t.note(cycle, "chat not Connected again within 90 s of the kill");
                continue;
            }
        }
        let login = format!("irc{cycle}");
        server
            .send(&format!("SAY {login} !anime after reconnect {cycle}"))
            .await;
        let said = server.wait_word(Duration::from_secs(10), "SAID").await;
        if said.is_none_or(|l| l.num(1) < 1) {
            t.note(
                cycle,
                "the new server had no joined connection to send the request to",
            );
            continue;
        }
        let seen = engine.wait_line(Duration::from_secs(10), |l| {
            l.word(0) == "ITEM" && l.word(2) == login
        });
        match seen.await {
            Some(_) => {
                t.accepted.insert(login);
            }
            None => t.note(
                cycle,
                format!("the request of {login} was not accepted within 10 s"),
            ),
        }
    }
    let replies = server.all().iter().filter(|l| l.word(0) == "GOT").count();
    server.sigkill().await;
    if !engine.quit(Duration::from_secs(30)).await {
        t.note(cycles, "the engine did not stop cleanly within 30 s");
    }
    t.check_db(cycles, dir.path()).await;
    restart_ms.sort_by(f64::total_cmp);
    t.info.push(format!(
        "a new fake server listened {:.0} ms (p50) after each kill; the reconnect time includes that; \"got it!\" replies seen by the last server: {replies}; orphans: not applicable (StreamCue stays up)",
        crate::check::percentile(&restart_ms, 50.0)
    ));
    t
}
