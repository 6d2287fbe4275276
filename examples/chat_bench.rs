//! StreamCue chat benchmark (not a test): the fake Twitch IRC server → `LineGuard` → twitch-irc
//! → `ChatClient` actor → velocity buckets → SQLite, measured on the StreamCue side only.
//!
//! ```text
//! chat_bench burst [--n 200000]            N lines written as fast as the socket takes them
//! chat_bench paced [--rate 5000] [--secs 40]   RATE lines/s in 10 ms ticks, drift-corrected
//! ```
//! `scripts/bench.sh` builds this in release and runs both modes (each in a fresh process).
//!
//! Honesty rules this follows:
//! - the fake server runs in a SEPARATE process (this binary re-executed as
//!   `chat_bench --serve ...`, talking over its stdin/stdout), so its CPU and memory are not
//!   counted; its own CPU is printed for information only;
//! - one mode per process, so the peak RSS (`VmHWM`) of one mode cannot leak into another;
//! - CPU is `getrusage(RUSAGE_SELF)` user+sys of the StreamCue process (every thread: the
//!   engine thread, the SQLite worker, and this driver's polling), from the moment the server is
//!   told to start until the engine has counted the last message;
//! - at the end the engine must have counted exactly N messages (snapshot), and after shutdown
//!   the database must hold N in the session row and N in the velocity buckets.

use std::collections::HashMap;
use std::io::Write as _;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use streamcue::api::{ChatState, ChatTarget};
use streamcue::chat::Backoff;
use streamcue::db::Database;
use streamcue::paths::AppPaths;
use streamcue::secrets::MemoryStore;
use streamcue::{Engine, EngineOptions};
use streamcue_testkit::fake_irc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The report goes to the original stdout; the app's console log (which `logging::init` sends
/// to stdout) is moved to stderr, so the figures are not interleaved with log lines.
static REPORT: std::sync::OnceLock<std::sync::Mutex<std::fs::File>> = std::sync::OnceLock::new();

macro_rules! out {
    ($($arg:tt)*) => {{
        let line = format!($($arg)*);
        match REPORT.get() {
            Some(f) => {
                let mut f = f.lock().unwrap_or_else(|p| p.into_inner());
                let _ = writeln!(f, "{line}");
            }
            None => println!("{line}"),
        }
    }};
}

/// From now on fd 1 is stderr (for the log) and `out!` writes to the real stdout.
fn split_report_from_log() {
    use std::os::fd::FromRawFd;
    let _ = std::io::stdout().flush();
    // SAFETY: plain fd juggling on fds this process owns; `report` is a fresh dup of fd 1.
    unsafe {
        let report = libc::dup(1);
        if report < 0 || libc::dup2(2, 1) < 0 {
            return;
        }
        let _ = REPORT.set(std::sync::Mutex::new(std::fs::File::from_raw_fd(report)));
    }
}

const CHANNEL: &str = "benchchan";
/// Give up when the engine's count has not moved for this long.
const STALL: Duration = Duration::from_secs(20);
/// Lines per write in burst mode (the server queues them all at once; TCP paces them).
const BURST_CHUNK: usize = 256;
/// Tick of the paced sender.
const PACED_TICK: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Burst,
    Paced,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Burst => "burst",
            Mode::Paced => "paced",
        }
    }
}

#[derive(Debug, Clone)]
struct Params {
    mode: Mode,
    /// Lines to send in total.
    n: u64,
    /// Paced only: lines per second.
    rate: u64,
    /// `false`: a config whose command prefix never occurs in the chat, so no line is handed to
    /// the queue actor (a diagnostic that isolates the chat path; the default is the app's
    /// default config, where about 1 line in 14 of the sample chat is a `!anime` command).
    commands: bool,
    /// `false`: the co-host switched off before the run (a diagnostic for what it costs the
    /// chat path; the app's default is on, with the offline demo responder).
    cohost: bool,
}

fn usage() -> String {
    "usage: chat_bench burst [--n N] [--commands on|off] [--cohost on|off] | chat_bench paced [--rate R] [--secs S] [--commands on|off] [--cohost on|off]".into()
}

fn parse_args(args: &[String]) -> Result<Params, String> {
    let mode = match args.first().map(String::as_str) {
        Some("burst") => Mode::Burst,
        Some("paced") => Mode::Paced,
        _ => return Err(usage()),
    };
    let mut n = None;
    let mut rate = 5_000u64;
    let mut secs = 40u64;
    let mut commands = true;
    let mut cohost = true;
    let mut it = args[1..].iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
        if flag == "--commands" {
            commands = match value.as_str() {
                "on" => true,
                "off" => false,
                _ => return Err(format!("--commands on|off, not {value}")),
            };
            continue;
        }
        if flag == "--cohost" {
            cohost = match value.as_str() {
                "on" => true,
                "off" => false,
                _ => return Err(format!("--cohost on|off, not {value}")),
            };
            continue;
        }
        let value: u64 = value
            .replace('_', "")
            .parse()
            .map_err(|_| format!("{flag}: not a number: {value}"))?;
        match flag.as_str() {
            "--n" => n = Some(value),
            "--rate" => rate = value,
            "--secs" => secs = value,
            _ => return Err(format!("unknown option {flag}\n{}", usage())),
        }
    }
    let n = match mode {
        Mode::Burst => n.unwrap_or(200_000),
        Mode::Paced => n.unwrap_or(rate * secs),
    };
    if n == 0 || rate == 0 || n > u32::MAX as u64 {
        return Err("N and RATE must be positive (and N fit in u32)".into());
    }
    Ok(Params {
        mode,
        n,
        rate,
        commands,
        cohost,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        return match parse_args(&args[2..]) {
            Ok(p) => server::main(p),
            Err(e) => {
                eprintln!("serve: {e}");
                ExitCode::from(2)
            }
        };
    }
    let params = match parse_args(&args[1..]) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(client::run(params, &args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("chat_bench: FAILED: {e}");
            out!("RESULT mode=error ok=0 error={:?}", e);
            ExitCode::from(1)
        }
    }
}

/// Process measurements (Linux).
mod proc_stats {
    use std::collections::HashMap;
    use std::time::Duration;

    /// user + sys CPU of the whole process.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Cpu {
        pub user: Duration,
        pub sys: Duration,
    }

    impl Cpu {
        pub fn total(&self) -> Duration {
            self.user + self.sys
        }
        pub fn since(&self, earlier: &Cpu) -> Cpu {
            Cpu {
                user: self.user.saturating_sub(earlier.user),
                sys: self.sys.saturating_sub(earlier.sys),
            }
        }
    }

    fn tv(t: libc::timeval) -> Duration {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    }

    /// `getrusage(RUSAGE_SELF)`: CPU and `ru_maxrss` (KiB).
    pub fn rusage() -> (Cpu, u64) {
        // SAFETY: getrusage writes into the zeroed struct we pass; no other invariants.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
        assert_eq!(rc, 0, "getrusage failed");
        (
            Cpu {
                user: tv(ru.ru_utime),
                sys: tv(ru.ru_stime),
            },
            ru.ru_maxrss as u64,
        )
    }

    /// A `kB` field of /proc/self/status (e.g. `VmHWM`, `VmRSS`), in KiB.
    pub fn status_kib(field: &str) -> u64 {
        let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        text.lines()
            .find_map(|l| {
                let rest = l.strip_prefix(field)?.strip_prefix(':')?;
                rest.split_whitespace().next()?.parse().ok()
            })
            .unwrap_or(0)
    }

    /// CPU per thread (from /proc/self/task/*/stat, clock-tick resolution): tid → (name, time).
    pub fn threads() -> HashMap<u32, (String, Duration)> {
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        let mut out = HashMap::new();
        let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
            return out;
        };
        for entry in dir.flatten() {
            let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let name = stat[open + 1..close].to_string();
            let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
            // After ")": state(3) ... utime is field 14, stime 15 → indexes 11, 12.
            let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
            if let (Some(u), Some(s)) = (ticks(11), ticks(12)) {
                out.insert(tid, (name, Duration::from_millis((u + s) * 1000 / hz)));
            }
        }
        out
    }

    /// Per-thread CPU between two `threads()` samples, summed by thread name, largest first.
    pub fn thread_delta(
        before: &HashMap<u32, (String, Duration)>,
        after: &HashMap<u32, (String, Duration)>,
    ) -> Vec<(String, Duration)> {
        let mut by_name: HashMap<String, Duration> = HashMap::new();
        for (tid, (name, t)) in after {
            let base = before.get(tid).map_or(Duration::ZERO, |(_, b)| *b);
            *by_name.entry(name.clone()).or_default() += t.saturating_sub(base);
        }
        let mut v: Vec<_> = by_name.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown".to_string(), |(_, m)| m.trim().to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "nproc={cpus}, CPU model \"{model}\", Linux {}, load average {} at start",
        kernel.trim(),
        load.join(" ")
    )
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The StreamCue side: the engine, measured.
mod client {
    use super::*;

    struct Sample {
        at: Instant,
        cpu: proc_stats::Cpu,
        threads: HashMap<u32, (String, Duration)>,
    }

    impl Sample {
        fn now() -> Sample {
            let threads = proc_stats::threads();
            let (cpu, _) = proc_stats::rusage();
            Sample {
                at: Instant::now(),
                cpu,
                threads,
            }
        }
    }

    /// What the server reports over its stdout.
    struct ServerLink {
        child: tokio::process::Child,
        stdin: tokio::process::ChildStdin,
        lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    }

    impl ServerLink {
        async fn expect(&mut self, word: &str) -> Result<Vec<String>, String> {
            loop {
                let line = tokio::time::timeout(Duration::from_secs(120), self.lines.next_line())
                    .await
                    .map_err(|_| format!("the server did not say {word} within 120 s"))?
                    .map_err(|e| format!("reading the server: {e}"))?
                    .ok_or_else(|| format!("the server exited before saying {word}"))?;
                let mut parts = line.split_whitespace().map(str::to_string);
                if parts.next().as_deref() == Some(word) {
                    return Ok(parts.collect());
                }
                eprintln!("server: {line}");
            }
        }

        async fn say(&mut self, line: &str) -> Result<(), String> {
            self.stdin
                .write_all(format!("{line}\n").as_bytes())
                .await
                .and(self.stdin.flush().await)
                .map_err(|e| format!("writing to the server: {e}"))
        }
    }

    pub async fn run(p: Params, argv: &[String]) -> Result<bool, String> {
        split_report_from_log();
        let command = argv.join(" ");
        out!("== StreamCue chat benchmark: {} ==", p.mode.name());
        out!("command: {command}");
        out!("machine: {}", machine());
        out!(
            "pid {} (StreamCue side: Engine on its own current-thread runtime; this driver on a current-thread runtime)",
            std::process::id()
        );

        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let paths = AppPaths::under(dir.path());
        if p.commands {
            out!("config: the app's defaults (command prefix \"!\": sample lines with `!anime` go to the queue actor)");
        } else {
            std::fs::write(
                &paths.config_file,
                "[queue]\ncommand_prefix = \"#bench-no-commands#\"\n",
            )
            .map_err(|e| format!("write config: {e}"))?;
            out!("config: DIAGNOSTIC, command prefix \"#bench-no-commands#\" (never in the chat): nothing goes to the queue actor");
        }
        // The app's own logging set-up and default filter (`info` unless RUST_LOG says
        // otherwise): console (moved to stderr, see `split_report_from_log`) + JSON file.
        let _log = streamcue::logging::init(&paths.log_dir, false, 1);
        out!(
            "logging: the app's set-up (console on stderr + JSON file), RUST_LOG={}",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "unset (app default: info)".into())
        );

        // The fake server: this binary again, in its own process.
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.arg("--serve")
            .arg(p.mode.name())
            .args(["--n", &p.n.to_string(), "--rate", &p.rate.to_string()])
            .args(["--commands", if p.commands { "on" } else { "off" }])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| format!("spawn server: {e}"))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut server = ServerLink {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        };
        let ready = server.expect("ADDR").await?;
        let addr = ready.first().cloned().ok_or("ADDR without address")?;
        let avg_line: f64 = ready.get(1).and_then(|s| s.parse().ok()).unwrap_or(0.0);
        out!(
            "server: separate process pid {} on {addr}, {} pre-generated tagged PRIVMSG lines, avg {avg_line:.0} B + CRLF ({:.1} MB)",
            server.child.id().unwrap_or(0),
            p.n,
            p.n as f64 * (avg_line + 2.0) / 1e6
        );

        let engine = Engine::start(EngineOptions {
            paths: paths.clone(),
            secrets: Arc::new(MemoryStore::default()),
            twitch_irc_addr: Some(addr.clone()),
            backoff: Backoff::default(),
            local_server: streamcue::server::PortChoice::Fixed(None),
            ui_assets: None,
        })
        .await
        .map_err(|e| format!("Engine::start: {e}"))?;
        if p.cohost {
            out!("co-host: the app's default (on, offline demo responder): every line is handed to it");
        } else {
            let off = streamcue::api::CohostSettings {
                enabled: false,
                ..Default::default()
            };
            engine
                .handle()
                .cohost()
                .save_settings(off)
                .await
                .map_err(|e| format!("co-host off: {e:?}"))?;
            out!("co-host: DIAGNOSTIC, switched off: no line is handed to it");
        }
        engine
            .connect_chat(ChatTarget::Twitch {
                channel: CHANNEL.into(),
            })
            .await
            .map_err(|e| format!("connect_chat: {e:?}"))?;
        let t_connect = Instant::now();
        loop {
            let snap = engine.snapshot().await.map_err(|e| format!("{e:?}"))?;
            let main = main_chat(&snap)?;
            if matches!(main.state, ChatState::Connected { .. }) {
                break;
            }
            if t_connect.elapsed() > Duration::from_secs(20) {
                return Err(format!("not connected after 20 s: {:?}", main.state));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let rss_before_kib = proc_stats::status_kib("VmRSS");
        out!(
            "joined #{CHANNEL}; StreamCue RSS before the run {:.1} MB",
            mib(rss_before_kib)
        );

        // ---- measured window: GO → the engine has counted N ----
        let before = Sample::now();
        server.say("GO").await?;
        let go = before.at;
        let mut first: Option<(Instant, u64)> = None;
        let mut counted = 0u64;
        let mut last_progress = Instant::now();
        let mut polls = 0u64;
        let mut max_lag = 0i64;
        let mut rss_series: Vec<(f64, u64)> = Vec::new();
        let mut next_rss = go;
        let rss_every = match p.mode {
            Mode::Burst => Duration::from_millis(250),
            Mode::Paced => Duration::from_secs(5),
        };
        let after = loop {
            let view = engine
                .chat()
                .view()
                .await
                .map_err(|e| format!("view: {e:?}"))?;
            polls += 1;
            let now = Instant::now();
            let c = u64::from(view.counters.messages);
            if c > counted {
                counted = c;
                last_progress = now;
            }
            if first.is_none() && c > 0 {
                first = Some((now, c));
            }
            if p.mode == Mode::Paced {
                let expected = ((now - go).as_secs_f64() * p.rate as f64).min(p.n as f64) as i64;
                max_lag = max_lag.max(expected - c as i64);
            }
            if c >= p.n {
                break Some((Sample::now(), now));
            }
            if now >= next_rss {
                rss_series.push(((now - go).as_secs_f64(), proc_stats::status_kib("VmRSS")));
                next_rss += rss_every;
            }
            if now - last_progress > STALL {
                break None;
            }
            let pause = match (p.mode, first) {
                (Mode::Burst, None) => Duration::from_millis(1),
                (Mode::Burst, Some(_)) => Duration::from_millis(5),
                (Mode::Paced, _) => Duration::from_millis(50),
            };
            tokio::time::sleep(pause).await;
        };
        let Some((after, last_seen)) = after else {
            out!(
                "FAILED: the engine counted {counted} of {} messages and then nothing for {} s",
                p.n,
                STALL.as_secs()
            );
            let _ = server.say("QUIT").await;
            engine.shutdown().await;
            out!(
                "RESULT mode={} n={} ok=0 counted={counted}",
                p.mode.name(),
                p.n
            );
            return Ok(false);
        };
        rss_series.push((
            (last_seen - go).as_secs_f64(),
            proc_stats::status_kib("VmRSS"),
        ));

        // ---- after the window: let a tick or two pass (no new lines should arrive) ----
        let sent = server.expect("SENT").await?;
        let server_send_ms: f64 = sent.get(1).and_then(|s| s.parse().ok()).unwrap_or(0.0);
        let server_max_batch: u64 = sent.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        let snap = engine.snapshot().await.map_err(|e| format!("{e:?}"))?;
        let hwm_kib = proc_stats::status_kib("VmHWM");
        let (_, maxrss_kib) = proc_stats::rusage();
        let rss_end_kib = proc_stats::status_kib("VmRSS");
        let shutdown_t0 = Instant::now();
        engine.shutdown().await;
        let shutdown_ms = shutdown_t0.elapsed().as_secs_f64() * 1e3;
        server.say("QUIT").await?;
        let server_cpu = server.expect("CPU").await?;
        let _ = server.child.wait().await;

        // ---- verify what was stored ----
        let db = Database::open(&paths.database_file)
            .await
            .map_err(|e| format!("reopen db: {e}"))?;
        let sessions = db.sessions().all().await.map_err(|e| e.to_string())?;
        let (db_messages, db_velocity_sum, db_malformed, db_reconnects, db_ended) =
            match sessions.as_slice() {
                [s] => {
                    let from = s.started_at_ms.div_euclid(1000) - 120;
                    let to = s.ended_at_ms.unwrap_or(s.started_at_ms).div_euclid(1000) + 120;
                    let points = db
                        .velocity()
                        .points(s.id, from, to)
                        .await
                        .map_err(|e| e.to_string())?;
                    let sum: u64 = points.iter().map(|pt| u64::from(pt.count)).sum();
                    (
                        s.messages as u64,
                        sum,
                        s.malformed_lines,
                        s.reconnects,
                        s.ended_at_ms.is_some(),
                    )
                }
                other => {
                    db.close().await;
                    return Err(format!("expected one chat session, found {}", other.len()));
                }
            };
        // Moment detection ran on every second of the run: its baseline is saved and its
        // moments (if any) are stored.
        let moments_found = db
            .moments()
            .of_session(sessions[0].id)
            .await
            .map_err(|e| e.to_string())?
            .len();
        let baseline = db
            .moments()
            .load_baseline(&format!("twitch:{}", CHANNEL.to_lowercase()), 0)
            .await
            .map_err(|e| e.to_string())?;
        db.close().await;
        match baseline {
            Some(b) => out!(
                "detection: on; {} seconds folded into the baseline ({:.0} msg/s), {moments_found} moments",
                b.samples,
                b.mean
            ),
            None => out!("detection: NO baseline saved ({moments_found} moments)"),
        }

        // ---- figures ----
        let cpu = after.cpu.since(&before.cpu);
        let window = after.at - go;
        let (t_first, c_first) = first.expect("first is set once counted > 0");
        let counting = last_seen.saturating_duration_since(t_first);
        let msgs_per_s = (p.n - c_first) as f64 / counting.as_secs_f64().max(1e-9);
        let cpu_us_per_msg = cpu.total().as_secs_f64() * 1e6 / p.n as f64;
        let cpu_pct = cpu.total().as_secs_f64() / window.as_secs_f64() * 100.0;
        let threads = proc_stats::thread_delta(&before.threads, &after.threads);

        out!(
            "counted by the engine: {counted} of {} (polled {polls} times; first seen {:.1} ms after GO with {c_first} counted)",
            p.n,
            (t_first - go).as_secs_f64() * 1e3
        );
        match p.mode {
            Mode::Burst => out!(
                "throughput: {msgs_per_s:.0} msg/s (first→last message counted by the engine: {} msgs in {:.3} s)",
                p.n - c_first,
                counting.as_secs_f64()
            ),
            Mode::Paced => out!(
                "pacing: {} msg/s for {:.1} s (server sent in 10 ms ticks, largest batch {server_max_batch}); engine at most {max_lag} msgs behind schedule",
                p.rate,
                server_send_ms / 1e3
            ),
        }
        out!(
            "CPU of the StreamCue process (getrusage user+sys, GO → last message, {:.3} s wall): {:.3} s (user {:.3} + sys {:.3}) = {cpu_us_per_msg:.2} µs/msg = {cpu_pct:.1} % of one core",
            window.as_secs_f64(),
            cpu.total().as_secs_f64(),
            cpu.user.as_secs_f64(),
            cpu.sys.as_secs_f64()
        );
        let by_thread: Vec<String> = threads
            .iter()
            .filter(|(_, t)| !t.is_zero())
            .map(|(name, t)| format!("{name} {:.2} s", t.as_secs_f64()))
            .collect();
        out!(
            "  by thread (/proc/self/task, 10 ms ticks): {}",
            by_thread.join(", ")
        );
        out!(
            "memory: peak RSS VmHWM {:.1} MB (ru_maxrss {:.1} MB); RSS before run {:.1} MB, at end {:.1} MB",
            mib(hwm_kib),
            mib(maxrss_kib),
            mib(rss_before_kib),
            mib(rss_end_kib)
        );
        let series: Vec<String> = rss_series
            .iter()
            .map(|(t, kib)| format!("{t:.2}s:{:.0}", mib(*kib)))
            .collect();
        out!("  RSS over the run (MB): {}", series.join(" "));
        out!(
            "server process (NOT counted above): {} CPU s, {} MB peak RSS; its send loop took {:.3} s",
            server_cpu.first().map_or("?", String::as_str),
            server_cpu
                .get(1)
                .and_then(|k| k.parse::<u64>().ok())
                .map_or("?".to_string(), |k| format!("{:.0}", mib(k))),
            server_send_ms / 1e3
        );
        out!("engine shutdown took {shutdown_ms:.0} ms");
        let log_bytes: u64 = std::fs::read_dir(&paths.log_dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        out!(
            "JSON log file written during the run: {:.1} MB",
            log_bytes as f64 / 1e6
        );

        let counters = main_chat(&snap)?.counters;
        let checks = [
            (
                "snapshot messages == N",
                u64::from(counters.messages) == p.n,
                counters.messages.to_string(),
            ),
            (
                "snapshot malformed_lines == 0",
                counters.malformed_lines == 0,
                counters.malformed_lines.to_string(),
            ),
            (
                "snapshot reconnects == 0",
                counters.reconnects == 0,
                counters.reconnects.to_string(),
            ),
            (
                "DB session messages == N",
                db_messages == p.n,
                db_messages.to_string(),
            ),
            (
                "DB velocity sum == N",
                db_velocity_sum == p.n,
                db_velocity_sum.to_string(),
            ),
            (
                "DB malformed/reconnects == 0",
                db_malformed == 0 && db_reconnects == 0,
                format!("{db_malformed}/{db_reconnects}"),
            ),
            ("DB session ended", db_ended, db_ended.to_string()),
        ];
        let ok = checks.iter().all(|(_, pass, _)| *pass);
        let shown: Vec<String> = checks
            .iter()
            .map(|(what, pass, got)| {
                format!("{what}: {got} {}", if *pass { "ok" } else { "MISMATCH" })
            })
            .collect();
        out!("verify: {}", shown.join("; "));

        let verdict = |pass: bool| if pass { "PASS" } else { "MISS" };
        match p.mode {
            Mode::Burst => out!(
                "target: ≤ 25 µs CPU/msg → {cpu_us_per_msg:.2} µs {}",
                verdict(cpu_us_per_msg <= 25.0)
            ),
            Mode::Paced => out!(
                "targets: ≤ 15 % of one core → {cpu_pct:.1} % {}; ≤ 80 MB peak RSS → {:.1} MB {}",
                verdict(cpu_pct <= 15.0),
                mib(hwm_kib),
                verdict(mib(hwm_kib) <= 80.0)
            ),
        }
        out!(
            "RESULT mode={} commands={} cohost={} n={} msgs_per_s={msgs_per_s:.0} cpu_s={:.3} user_s={:.3} sys_s={:.3} wall_s={:.3} cpu_us_per_msg={cpu_us_per_msg:.2} cpu_pct={cpu_pct:.1} peak_rss_mb={:.1} ok={}",
            p.mode.name(),
            if p.commands { "on" } else { "off" },
            if p.cohost { "on" } else { "off" },
            p.n,
            cpu.total().as_secs_f64(),
            cpu.user.as_secs_f64(),
            cpu.sys.as_secs_f64(),
            window.as_secs_f64(),
            mib(hwm_kib),
            u8::from(ok)
        );
        Ok(ok)
    }
}

/// The fake Twitch server's process: `chat_bench --serve MODE --n N --rate R`.
///
/// stdout protocol: `ADDR <addr> <avg line bytes>` when listening; waits for `GO` on stdin;
/// `SENT <lines> <ms> <largest batch>` when everything is handed to the connection; on `QUIT`
/// (or EOF) `CPU <seconds> <peak RSS KiB>` and exit.
mod server {
    use super::*;

    pub fn main(p: Params) -> ExitCode {
        // One thread: leaves the other core to StreamCue.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        match rt.block_on(serve(p)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("serve: {e}");
                ExitCode::from(1)
            }
        }
    }

    fn say(line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    async fn serve(p: Params) -> Result<(), String> {
        let lines: Vec<String> = (0..p.n)
            .map(|i| fake_irc::sample_privmsg(CHANNEL, i))
            .collect();
        let avg = lines.iter().map(String::len).sum::<usize>() as f64 / lines.len() as f64;
        let irc = fake_irc::FakeIrc::start()
            .await
            .map_err(|e| format!("listen: {e}"))?;
        say(&format!("ADDR {} {avg:.1}", irc.addr_string()));

        // stdin lines, read on a plain thread (tokio's `io-std` is not enabled here).
        let (tx, mut input) = tokio::sync::mpsc::unbounded_channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { break };
                if tx.send(line.trim().to_string()).is_err() {
                    break;
                }
            }
        });
        loop {
            match input.recv().await {
                Some(l) if l == "GO" => break,
                Some(_) => continue,
                None => return Err("stdin closed before GO".into()),
            }
        }
        if !irc.wait_joins(CHANNEL, 1, Duration::from_secs(30)).await {
            return Err("the client never joined".into());
        }
        let t0 = tokio::time::Instant::now();
        let mut max_batch = 0usize;
        match p.mode {
            Mode::Burst => {
                for chunk in lines.chunks(BURST_CHUNK) {
                    if irc.broadcast_lines(CHANNEL, chunk) != 1 {
                        return Err("the client is not joined any more".into());
                    }
                }
                max_batch = BURST_CHUNK;
            }
            Mode::Paced => {
                let total = lines.len();
                let mut sent = 0usize;
                let mut k = 0u32;
                while sent < total {
                    k += 1;
                    tokio::time::sleep_until(t0 + PACED_TICK * k).await;
                    // Drift correction: send what is due by now, whatever the timer did.
                    let due = ((t0.elapsed().as_secs_f64() * p.rate as f64) as usize).min(total);
                    if due > sent {
                        if irc.broadcast_lines(CHANNEL, &lines[sent..due]) != 1 {
                            return Err("the client is not joined any more".into());
                        }
                        max_batch = max_batch.max(due - sent);
                        sent = due;
                    }
                }
            }
        }
        say(&format!(
            "SENT {} {:.1} {max_batch}",
            lines.len(),
            t0.elapsed().as_secs_f64() * 1e3
        ));
        // Keep serving (PING/PONG) until the client is done.
        loop {
            match input.recv().await {
                Some(l) if l == "QUIT" => break,
                Some(_) => continue,
                None => break,
            }
        }
        let (cpu, maxrss) = proc_stats::rusage();
        say(&format!("CPU {:.3} {maxrss}", cpu.total().as_secs_f64()));
        drop(irc);
        Ok(())
    }
}

/// The main chat slot's view in a snapshot.
fn main_chat(snap: &streamcue::api::AppSnapshot) -> Result<&streamcue::api::ChatView, String> {
    snap.chat(streamcue::api::ChatSlot::Main)
        .ok_or_else(|| "the snapshot has no main chat".to_string())
}
