//! StreamCue local-server benchmark (not a test): what N idle event-stream clients (`GET
//! /events`, Server-Sent Events) cost the app, measured on the StreamCue process only.
//!
//! ```text
//! sse_bench [--n 200] [--secs 20]      the app (engine + local server + demo chat), measured
//! sse_bench --clients <addr> <N>       the load generator (started by the above, not by hand)
//! ```
//! `scripts/bench-sse.sh` builds this in release and runs it (each run a fresh process).
//!
//! Phases, on the app process: warm-up 5 s (demo chat connected, so the core publishes a few
//! events a second); SECS s with 0 clients; N clients connect (all must see `HTTP/1.1 200` and
//! the server's view must say `clients == N`), 1 s settle, SECS s idle with N clients; then 50
//! sequential `GET /health` from the clients process (the N streams still open); then the
//! clients close and the view must go back to 0 within 5 s.
//!
//! Honesty rules this follows:
//! - the clients run in a SEPARATE process (this binary re-executed as `sse_bench --clients`,
//!   talking over its stdin/stdout, one thread), so their CPU is not counted; it is printed for
//!   information only; /health is timed there too, as a real outside client would see it;
//! - CPU is `getrusage(RUSAGE_SELF)` user+sys of the StreamCue process (every thread) over each
//!   idle window, as % of one core (CPU time / wall time); nothing else runs in the windows
//!   (this driver only sleeps; a counter of the bus's events, subscribed in both windows, wakes
//!   once per event);
//! - the events each client counted (`data:` lines) must cover every event the app published
//!   while all N were connected (no loss, no `resync`) and no more than it published at all;
//! - the report goes to stdout, the app's console log to stderr; exit 1 if any check failed.

use std::io::Write as _;
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use streamcue::api::{ChatSlot, ChatState, ChatTarget};
use streamcue::chat::Backoff;
use streamcue::paths::AppPaths;
use streamcue::secrets::MemoryStore;
use streamcue::server::{PortChoice, ServerState};
use streamcue::{Engine, EngineOptions};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const WARMUP: Duration = Duration::from_secs(5);
const HEALTH_REQUESTS: usize = 50;
/// After `CLOSE` the clients keep reading this long, so events already published arrive.
const DRAIN: Duration = Duration::from_millis(500);

/// The report goes to the original stdout; fd 1 becomes stderr for the app's console log.
static REPORT: std::sync::OnceLock<std::sync::Mutex<std::fs::File>> = std::sync::OnceLock::new();

macro_rules! out {
    ($($arg:tt)*) => {{
        let line = format!($($arg)*);
        match REPORT.get() {
            Some(f) => { let _ = writeln!(f.lock().unwrap_or_else(|p| p.into_inner()), "{line}"); }
            None => println!("{line}"),
        }
    }};
}

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

/// `getrusage(RUSAGE_SELF)`: (user + sys CPU, ru_maxrss KiB).
fn rusage() -> (Duration, u64) {
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    // SAFETY: getrusage writes into the zeroed struct we pass; no other invariants.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) }, 0);
    (tv(ru.ru_utime) + tv(ru.ru_stime), ru.ru_maxrss as u64)
}

/// Peak RSS of this process (`VmHWM` of /proc/self/status), MB.
fn vm_hwm_mb() -> f64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = text
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:")?.trim().strip_suffix(" kB"));
    kib.and_then(|k| k.parse::<f64>().ok()).unwrap_or(f64::NAN) / 1024.0
}

/// The kernel's count of connections dropped because a listen queue was full (all sockets).
fn listen_overflows() -> f64 {
    let text = std::fs::read_to_string("/proc/net/netstat").unwrap_or_default();
    let mut tcp = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (tcp.next().unwrap_or(""), tcp.next().unwrap_or(""));
    let at = names
        .split_whitespace()
        .position(|n| n == "ListenOverflows");
    let value = at.and_then(|i| values.split_whitespace().nth(i)?.parse().ok());
    value.unwrap_or(f64::NAN)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let rt = rt.expect("tokio runtime");
    if args.get(1).map(String::as_str) == Some("--clients") {
        let (Some(addr), Some(Ok(n))) = (args.get(2), args.get(3).map(|n| n.parse())) else {
            eprintln!("usage: sse_bench --clients <addr> <N>");
            return ExitCode::from(2);
        };
        return match rt.block_on(clients::run(addr.clone(), n)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("clients: {e}");
                ExitCode::from(1)
            }
        };
    }
    let (mut n, mut secs) = (200usize, 20u64);
    let mut it = args[1..].iter();
    while let Some(flag) = it.next() {
        match (flag.as_str(), it.next().and_then(|v| v.parse::<u64>().ok())) {
            ("--n", Some(v)) if (1..=250).contains(&v) => n = v as usize,
            ("--secs", Some(v)) if v > 0 => secs = v,
            _ => {
                eprintln!("usage: sse_bench [--n 1..250] [--secs S]  (the server caps at 256)");
                return ExitCode::from(2);
            }
        }
    }
    match rt.block_on(app(n, secs, &args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("sse_bench: FAILED: {e}");
            out!("RESULT clients={n} secs={secs} ok=0 error={e:?}");
            ExitCode::from(1)
        }
    }
}

/// CPU of this process over `len` of sleep: (CPU s, wall s, % of one core).
async fn idle_window(len: Duration) -> (f64, f64, f64) {
    let (cpu0, t0) = (rusage().0, Instant::now());
    tokio::time::sleep(len).await;
    let (cpu, wall) = (
        (rusage().0 - cpu0).as_secs_f64(),
        t0.elapsed().as_secs_f64(),
    );
    (cpu, wall, cpu / wall * 100.0)
}

/// The clients process, seen from the app: its stdout lines and its stdin.
struct Link {
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Link {
    /// Says `cmd` (if any), then returns the fields of the next line that starts with `word`.
    async fn ask(&mut self, cmd: &str, word: &str) -> Result<Vec<String>, String> {
        if !cmd.is_empty() {
            let sent = self.stdin.write_all(format!("{cmd}\n").as_bytes()).await;
            sent.and(self.stdin.flush().await)
                .map_err(|e| format!("to the clients: {e}"))?;
        }
        loop {
            let next = tokio::time::timeout(Duration::from_secs(120), self.lines.next_line());
            let line = match next.await {
                Ok(Ok(Some(line))) => line,
                _ => return Err(format!("the clients did not say {word}")),
            };
            let mut parts = line.split_whitespace().map(str::to_string);
            if parts.next().as_deref() == Some(word) {
                return Ok(parts.collect());
            }
        }
    }
}

/// Field `i` of a protocol line as a number (NaN if missing: every check then fails).
fn f(v: &[String], i: usize) -> f64 {
    v.get(i).and_then(|s| s.parse().ok()).unwrap_or(f64::NAN)
}

async fn app(n: usize, secs: u64, argv: &[String]) -> Result<bool, String> {
    split_report_from_log();
    out!("== StreamCue local-server benchmark: {n} idle event-stream clients, {secs} s windows ==");
    out!("command: {}", argv.join(" "));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let pid = std::process::id();
    out!(
        "machine: nproc={cpus}, load average {} at start; pid {pid}",
        load.join(" ")
    );
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let paths = AppPaths::under(dir.path());
    let _log = streamcue::logging::init(&paths.log_dir, false, 1);
    let engine = Engine::start(EngineOptions {
        paths: paths.clone(),
        secrets: Arc::new(MemoryStore::default()),
        twitch_irc_addr: None,
        backoff: Backoff::default(),
        local_server: PortChoice::Fixed(Some(0)),
        ui_assets: None,
    })
    .await
    .map_err(|e| format!("Engine::start: {e}"))?;
    let h = engine.handle();
    let server = h.server().clone();
    let t = Instant::now();
    let addr = loop {
        match server.state().await.map_err(|e| format!("state: {e:?}"))? {
            ServerState::Listening { addr } => break addr.to_string(),
            s if t.elapsed() > Duration::from_secs(10) => return Err(format!("server: {s:?}")),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let chat = h.connect_chat(ChatTarget::Demo).await;
    chat.map_err(|e| format!("connect_chat: {e:?}"))?;
    out!("server: listening on {addr} (on the engine's thread); demo chat connecting");
    // Every event the core publishes (`Lagged` counts what was skipped).
    let published = Arc::new(AtomicU64::new(0));
    let (mut bus, count) = (h.events().subscribe(), published.clone());
    tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match bus.recv().await {
                Ok(_) => count.fetch_add(1, Ordering::Relaxed),
                Err(RecvError::Lagged(k)) => count.fetch_add(k, Ordering::Relaxed),
                Err(RecvError::Closed) => break,
            };
        }
    });
    let published = || published.load(Ordering::Relaxed) as f64;
    // Polls the server's view until it says `want` clients (at most 5 s): (clients, ms).
    let server = &server;
    let wait_for = |want: u32| async move {
        let t = Instant::now();
        loop {
            let now = server.view().await.map_err(|e| format!("{e:?}"))?.clients;
            if now == want || t.elapsed() > Duration::from_secs(5) {
                return Ok::<_, String>((now, t.elapsed().as_secs_f64() * 1e3));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };

    tokio::time::sleep(WARMUP).await;
    let snap = h.snapshot().await.map_err(|e| format!("snapshot: {e:?}"))?;
    let chat = snap.chat(ChatSlot::Main).map(|c| c.state.clone());
    let demo_up = matches!(chat, Some(ChatState::Connected { .. }));
    out!(
        "after the {} s warm-up, demo chat: {chat:?}",
        WARMUP.as_secs()
    );
    let (cpu0, wall0, pct0) = idle_window(Duration::from_secs(secs)).await;
    out!("CPU at 0 clients: {cpu0:.3} s in {wall0:.2} s = {pct0:.2} % of one core");

    let (c0, overflows0) = (published(), listen_overflows());
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut child = tokio::process::Command::new(exe);
    child
        .args(["--clients", &addr, &n.to_string()])
        .kill_on_drop(true);
    let child = child.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
    let mut child = child.map_err(|e| format!("spawn clients: {e}"))?;
    let stdin = child.stdin.take().expect("piped");
    let lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut link = Link { stdin, lines };
    let up = link.ask("", "CONNECTED").await?;
    let (up_ok, up_failed, overflows) = (f(&up, 0), f(&up, 1), listen_overflows() - overflows0);
    out!(
        "clients: separate process pid {}: {up_ok} of {n} saw HTTP/1.1 200 ({up_failed} failed), half of them in {:.0} ms, all in {:.0} ms; kernel ListenOverflows +{overflows} meanwhile",
        child.id().unwrap_or(0),
        f(&up, 2),
        f(&up, 3)
    );
    let (view_n, _) = wait_for(n as u32).await?;
    tokio::time::sleep(Duration::from_secs(1)).await; // the counter catches up with the connects
    let c1 = published();
    let (cpu_n, wall_n, pct_n) = idle_window(Duration::from_secs(secs)).await;
    let (view_n_end, _) = wait_for(n as u32).await?;
    out!("CPU at {n} clients: {cpu_n:.3} s in {wall_n:.2} s = {pct_n:.2} % of one core");
    out!("server view: clients={view_n} after connecting, {view_n_end} at the end of the window");

    let hr = link.ask("HEALTH", "HEALTH").await?;
    let (h_ok, p50, p95, hmax) = (f(&hr, 0), f(&hr, 1), f(&hr, 2), f(&hr, 3));
    out!(
        "/health: {HEALTH_REQUESTS} sequential GETs from the clients process (new connection each, {n} streams open): p50 {p50:.2} ms, p95 {p95:.2} ms, max {hmax:.2} ms; {h_ok} answered 200/503 with JSON (statuses {})",
        hr.get(4).map_or("?", String::as_str)
    );

    let c2 = published();
    let tot = link.ask("CLOSE", "TOTALS").await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let c3 = published();
    let (ev_min, ev_max, resyncs, ended) = (f(&tot, 0), f(&tot, 1), f(&tot, 3), f(&tot, 4));
    let _ = child.wait().await;
    let (view_after, back_ms) = wait_for(0).await?;
    let hwm_mb = vm_hwm_mb();
    engine.shutdown().await;

    let (must, may) = (c2 - c1, c3 - c0);
    out!(
        "events: the app published {must} while all {n} were connected (settle → CLOSE), {may} from the clients' start to their end; per client min {ev_min} / max {ev_max} (sum {}, {:.2} MB read), {resyncs} resync, {ended} streams ended early",
        f(&tot, 2),
        f(&tot, 5) / 1e6
    );
    let (diff, per) = (pct_n - pct0, (pct_n - pct0) / n as f64);
    out!("difference: {diff:+.2} percentage points of one core for {n} clients ({per:+.4} each)");
    out!("after CLOSE: server view clients={view_after} {back_ms:.0} ms after the clients exited");
    out!("memory: app peak RSS VmHWM {hwm_mb:.1} MB");
    let (ccpu, crss) = (f(&tot, 6), f(&tot, 7) / 1024.0);
    out!("clients process (NOT counted above): {ccpu:.3} CPU s, {crss:.1} MB peak RSS");

    let n_f = n as f64;
    let checks = [
        ("demo chat connected", demo_up),
        ("all connected", up_ok == n_f && up_failed == 0.0),
        (
            "view == N",
            view_n as usize == n && view_n_end as usize == n,
        ),
        ("events flowed, none lost", must > 0.0 && ev_min >= must),
        (
            "no resync, none ended early",
            resyncs == 0.0 && ended == 0.0,
        ),
        ("none invented", ev_max <= may),
        ("/health answered", h_ok == HEALTH_REQUESTS as f64),
        ("view back to 0 in 5 s", view_after == 0),
    ];
    let ok = checks.iter().all(|c| c.1);
    let verdict = |pass: bool| if pass { "ok" } else { "FAILED" };
    let shown: Vec<String> = checks
        .iter()
        .map(|(w, p)| format!("{w} {}", verdict(*p)))
        .collect();
    out!("verify: {}", shown.join("; "));
    out!(
        "RESULT clients={n} secs={secs} cpu0_pct={pct0:.2} cpun_pct={pct_n:.2} diff_pp={diff:.2} ev_min={ev_min} ev_max={ev_max} ev_window={must} health_p50_ms={p50:.2} health_p95_ms={p95:.2} health_max_ms={hmax:.2} connect_ms={:.0} peak_rss_mb={hwm_mb:.1} ok={}",
        f(&up, 3),
        u8::from(ok)
    );
    Ok(ok)
}

/// The load generator: `sse_bench --clients ADDR N`. stdout: `CONNECTED <ok> <failed> <p50 ms>
/// <all ms>` once every stream answered (or 30 s passed); on `HEALTH`: `HEALTH <answered> <p50>
/// <p95> <max> <statuses>`; on `CLOSE` (after [`DRAIN`]): `TOTALS <min> <max> <sum> <resyncs>
/// <ended early> <bytes> <own CPU s> <own peak RSS KiB>`, and exit.
mod clients {
    use super::*;
    use tokio::sync::mpsc;
    use tokio_util::sync::CancellationToken;

    fn say(line: String) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}").and(out.flush());
    }

    type Up = mpsc::UnboundedSender<bool>;

    #[derive(Default)]
    struct Stream {
        status: Option<bool>,
        line: Vec<u8>,
        events: u64,
        resyncs: u64,
        bytes: u64,
        ended: bool,
    }

    impl Stream {
        /// Reads the status line, then counts `data:` lines (one per event: JSON has no raw
        /// newline) and `event: resync`; the chunked-encoding size lines never match.
        fn feed(&mut self, data: &[u8]) {
            self.bytes += data.len() as u64;
            for piece in data.split_inclusive(|b| *b == b'\n') {
                let keep = 16usize.saturating_sub(self.line.len()).min(piece.len());
                self.line.extend_from_slice(&piece[..keep]);
                if !piece.ends_with(b"\n") {
                    continue;
                }
                match self.status {
                    None => self.status = Some(self.line.starts_with(b"HTTP/1.1 200")),
                    Some(_) if self.line.starts_with(b"data:") => self.events += 1,
                    Some(_) if self.line.starts_with(b"event: resync") => self.resyncs += 1,
                    Some(_) => {}
                }
                self.line.clear();
            }
        }
    }

    /// One event stream until `stop`; says on `up` once whether it got its 200.
    async fn stream(addr: String, up: Up, stop: CancellationToken) -> Stream {
        let mut s = Stream::default();
        let req =
            format!("GET /events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
        let mut buf = vec![0u8; 16 * 1024];
        if let Ok(mut tcp) = TcpStream::connect(&addr).await {
            let _ = tcp.write_all(req.as_bytes()).await;
            loop {
                let read = tokio::select! {
                    _ = stop.cancelled() => break,
                    r = tcp.read(&mut buf) => r,
                };
                let had_status = s.status.is_some();
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(k) => s.feed(&buf[..k]),
                }
                if let (false, Some(ok)) = (had_status, s.status) {
                    let _ = up.send(ok);
                }
            }
        }
        if s.status.is_none() {
            let _ = up.send(false);
        }
        s.ended = !stop.is_cancelled();
        s
    }

    /// One `GET /health` on a new connection: (status, JSON body, ms).
    async fn health(addr: &str) -> (u16, bool, f64) {
        let t = Instant::now();
        let req = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        let mut resp = Vec::new();
        let io = async {
            let mut tcp = TcpStream::connect(addr).await?;
            tcp.write_all(req.as_bytes()).await?;
            tcp.read_to_end(&mut resp).await
        };
        let _ = tokio::time::timeout(Duration::from_secs(10), io).await;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let text = String::from_utf8_lossy(&resp);
        let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (status, body.trim_start().starts_with('{'), ms)
    }

    /// The value at fraction `p` of sorted `v`.
    fn pct(v: &[f64], p: f64) -> f64 {
        let i = ((v.len().max(1) - 1) as f64 * p).round() as usize;
        v.get(i).copied().unwrap_or(f64::NAN)
    }

    pub async fn run(addr: String, n: usize) -> Result<(), String> {
        let (tx, mut input) = mpsc::unbounded_channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines().map_while(Result::ok) {
                if tx.send(line.trim().to_string()).is_err() {
                    break;
                }
            }
        });
        let (stop, (up_tx, mut up)) = (CancellationToken::new(), mpsc::unbounded_channel());
        let t0 = Instant::now();
        let spawn = |_| tokio::spawn(stream(addr.clone(), up_tx.clone(), stop.clone()));
        let tasks: Vec<_> = (0..n).map(spawn).collect();
        let (mut ok, mut failed) = (Vec::new(), 0);
        while ok.len() + failed < n {
            match tokio::time::timeout(Duration::from_secs(30), up.recv()).await {
                Ok(Some(true)) => ok.push(t0.elapsed().as_secs_f64() * 1e3),
                Ok(Some(false)) => failed += 1,
                _ => break,
            }
        }
        let all = t0.elapsed().as_secs_f64() * 1e3;
        say(format!(
            "CONNECTED {} {failed} {:.1} {all:.1}",
            ok.len(),
            pct(&ok, 0.5)
        ));
        loop {
            match input.recv().await.as_deref() {
                Some("HEALTH") => {
                    let (mut ms, mut answered) = (Vec::new(), 0);
                    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
                    for _ in 0..HEALTH_REQUESTS {
                        let (status, json, t) = health(&addr).await;
                        answered += usize::from(json && matches!(status, 200 | 503));
                        *statuses.entry(status).or_default() += 1;
                        ms.push(t);
                    }
                    ms.sort_by(f64::total_cmp);
                    let st: Vec<String> =
                        statuses.iter().map(|(s, k)| format!("{s}x{k}")).collect();
                    let (p50, p95, max) = (pct(&ms, 0.5), pct(&ms, 0.95), pct(&ms, 1.0));
                    say(format!(
                        "HEALTH {answered} {p50:.3} {p95:.3} {max:.3} {}",
                        st.join(",")
                    ));
                }
                Some("CLOSE") | None => break,
                Some(_) => {}
            }
        }
        tokio::time::sleep(DRAIN).await;
        stop.cancel();
        let mut done = Vec::new();
        for t in tasks {
            done.push(t.await.map_err(|e| format!("client task: {e}"))?); // its socket is closed
        }
        let events: Vec<u64> = done.iter().map(|s| s.events).collect();
        let (min, max) = (events.iter().min(), events.iter().max());
        let sum = |g: fn(&Stream) -> u64| done.iter().map(g).sum::<u64>();
        let (resyncs, ended) = (sum(|s| s.resyncs), sum(|s| u64::from(s.ended)));
        let (cpu, maxrss) = rusage();
        say(format!(
            "TOTALS {} {} {} {resyncs} {ended} {} {:.3} {maxrss}",
            min.unwrap_or(&0),
            max.unwrap_or(&0),
            events.iter().sum::<u64>(),
            sum(|s| s.bytes),
            cpu.as_secs_f64()
        ));
        Ok(())
    }
}
