//! StreamCue kill matrix (not a test): processes are SIGKILLed at the worst moments, again and
//! again on one data folder per scenario (kept across its cycles, as a streamer's is), and
//! what that leaves behind is counted.
//!
//! ```text
//! kill_matrix [--cycles N] [--only render,download,cut,irc,obs]    (CYCLES=N works too; 20)
//! kill_matrix --engine …  /  --irc …     the children it kills (started by the above)
//! ```
//! `scripts/kill-matrix.sh` builds this in release and runs it.
//!
//! Scenarios (the child is this binary re-executed, see `child`):
//! - `render`: StreamCue killed while the offline generator's ffmpeg renders a viewer's clip;
//! - `download`: killed while a clip downloads slowly from the fake endpoint;
//! - `cut`: killed while its recorder cuts a clip out of a recording;
//! - `irc`: the fake Twitch IRC server killed (and restarted on its port): reconnect time;
//! - `obs`: a real OBS killed while it shows a clip (skipped, with the reason, where a real OBS
//!   cannot run).
//!
//! Counted after every kill (with StreamCue dead where it was the one killed): what StreamCue
//! announced (it writes, commits, then announces) vs the rows in SQLite (lost = announced, no
//! row; duplicated = more than one row, or a request generated twice, or a moment with two
//! clips); files under a final name that ffprobe (and a decode of their last second) does
//! not read whole; temporary files the next start did not sweep; rows that name a file that is
//! missing or broken; `PRAGMA integrity_check` (on a copy of the file, WAL included, so SQLite
//! recovers it as the next start would); ffmpeg/ffprobe of the data folder still alive 2 s
//! after the kill (the core gives them `PR_SET_PDEATHSIG`).
//!
//! The report goes to stdout (one `RESULT scenario=…` line each, then a table), the children's
//! logs to stderr; exit 1 when a target is missed (0 lost, 0 duplicated, 0 partial, 0 stale,
//! 0 missing, integrity ok every time, 0 orphans) or a scenario could not be driven.

use std::process::ExitCode;
use std::time::{Duration, Instant};

macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut so = std::io::stdout().lock();
        let _ = writeln!(so, $($arg)*).and_then(|_| so.flush());
    }};
}

mod check;
mod child;
mod cut;
mod gen;
mod irc;
mod obs;
mod proc;
mod tally;

const ALL: [&str; 5] = ["render", "download", "cut", "irc", "obs"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let child = match args.first().map(String::as_str) {
        Some("--engine") => Some(child::engine(&args[1..])),
        Some("--irc") => Some(child::irc(&args[1..])),
        _ => None,
    };
    if let Some(result) = child {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kill_matrix child: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let env_cycles = std::env::var("CYCLES").ok().and_then(|c| c.parse().ok());
    let mut cycles: u32 = env_cycles.unwrap_or(20);
    let mut only: Vec<String> = ALL.iter().map(|s| s.to_string()).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match (flag.as_str(), it.next()) {
            ("--cycles", Some(v)) if v.parse::<u32>().is_ok_and(|n| n > 0) => {
                cycles = v.parse().unwrap_or(cycles)
            }
            ("--only", Some(v)) if v.split(',').all(|s| ALL.contains(&s)) => {
                only = v.split(',').map(str::to_string).collect()
            }
            _ => {
                eprintln!("usage: kill_matrix [--cycles N] [--only {}]", ALL.join(","));
                return ExitCode::from(2);
            }
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    out!(
        "== StreamCue kill matrix: {cycles} cycles per scenario ({}) ==",
        only.join(", ")
    );
    out!(
        "command: {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    let mut rows = Vec::new();
    let mut all_ok = true;
    for scenario in ALL.iter().filter(|s| only.iter().any(|o| o == *s)) {
        let t0 = Instant::now();
        out!("");
        out!("=== {scenario}");
        if *scenario == "obs" {
            if let Some(why) = obs::unavailable() {
                out!("obs: skipped ({why})");
                out!("RESULT scenario=obs skipped=1 reason=\"{why}\"");
                rows.push(format!("{:<9} skipped: {why}", "obs"));
                continue;
            }
        }
        // Each scenario runs in the main thread's block_on (not a spawned task): RealObs ties
        // OBS's death signal to the thread that starts it.
        let tally = rt.block_on(async {
            match *scenario {
                "render" => gen::run(gen::Kind::Render, cycles).await,
                "download" => gen::run(gen::Kind::Download, cycles).await,
                "cut" => cut::run(cycles).await,
                "irc" => irc::run(cycles).await,
                _ => obs::run(cycles).await,
            }
        });
        tally.report(scenario, t0.elapsed());
        rows.push(row(scenario, &tally, t0.elapsed()));
        all_ok &= tally.ok();
    }
    out!("");
    out!(
        "{:<9} {:>6} {:>8} {:>4} {:>4} {:>7} {:>5} {:>7} {:>9} {:>7} {:>8} {:>20} {:>6} {}",
        "scenario",
        "cycles",
        "accepted",
        "lost",
        "dup",
        "partial",
        "stale",
        "missing",
        "integrity",
        "orphans",
        "mid-kill",
        "reconnect p50/max ms",
        "secs",
        "verdict"
    );
    for r in &rows {
        out!("{r}");
    }
    out!("(mid-kill: kills that landed while a temporary file was being written; stale: temporary files the next start left; missing: rows whose file is missing or broken)");
    drop(rt);
    if all_ok {
        ExitCode::SUCCESS
    } else {
        out!("FAILED: a target was missed or a scenario could not be driven (see above)");
        ExitCode::FAILURE
    }
}

fn row(scenario: &str, t: &tally::Tally, took: Duration) -> String {
    let mut ms = t.reconnect_ms.clone();
    ms.sort_by(f64::total_cmp);
    let reconnect = if ms.is_empty() {
        "-".to_string()
    } else {
        format!(
            "{:.0}/{:.0}",
            check::percentile(&ms, 50.0),
            ms[ms.len() - 1]
        )
    };
    format!(
        "{scenario:<9} {:>6} {:>8} {:>4} {:>4} {:>7} {:>5} {:>7} {:>9} {:>7} {:>8} {:>20} {:>6.0} {}",
        t.cycles,
        t.accepted.len(),
        t.lost.len(),
        t.duplicated.len(),
        t.partial.len(),
        t.stale.len(),
        t.missing.len(),
        format!("{}/{}", t.integrity_ok, t.integrity_checks),
        t.orphans,
        t.kills_mid,
        reconnect,
        took.as_secs_f64(),
        if t.ok() { "ok" } else { "FAILED" }
    )
}
