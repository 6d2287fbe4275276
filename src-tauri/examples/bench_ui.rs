//! StreamCue whole-app benchmark (not a test): CPU and memory of the real app, window included.
//!
//! What it measures: the release app (`--app`, normally `target/release/streamcue`) opened
//! through tauri-driver + WebKitWebDriver on the display in `DISPLAY` (`scripts/bench-ui.sh`
//! starts a private Xvfb 1280x720x24), with its own temporary data dir and Twitch chat from a
//! fake IRC server in THIS process (127.0.0.1; its CPU is not counted). The counted tree is the
//! `streamcue` process (found below tauri-driver by its executable) plus all its descendants
//! (WebKitWebProcess, WebKitNetworkProcess, ...); tauri-driver and WebKitWebDriver are not.
//!
//! How: each state is held for `HOLD_SECS` (default 60); every second every process of the
//! tree is read: utime+stime from `/proc/PID/stat` and `Pss` from `/proc/PID/smaps_rollup`.
//! CPU = ticks used during the hold / hold time, as % of one core (tree, `streamcue` alone,
//! WebKitWebProcess alone). PSS = the tree's sum at the last sample, and its largest sample.
//! The page is not touched through WebDriver while a state is held.
//!
//! States: `idle` (disconnected, no OBS, sampled from ~10 s after load), `demo` (the demo
//! chat), `irc-50` (Twitch via the fake server, 10 `!anime` requests waiting, 50 chat msg/s),
//! `irc-500` (same connection, 500 msg/s). `LONG_MINUTES=N` then keeps 500 msg/s for N minutes
//! and prints the tree's PSS at 5 minutes and at the end (leak check: within 20 MB).
//!
//! Everything it starts (tauri-driver in its own process group, the app below it, the fake
//! server) is stopped on exit, on error and on SIGINT/SIGTERM/SIGHUP.

use std::collections::HashMap;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use streamcue_testkit::fake_irc::{privmsg_line, sample_privmsg, FakeIrc};
use tokio::signal::unix::{signal, SignalKind};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const CHANNEL: &str = "benchui";
/// Tick of the paced chat sender (lines per tick follow the rate, drift-free).
const TICK: Duration = Duration::from_millis(20);

/// One held state. Per-kind arrays: [streamcue, WebKitWebProcess, other descendants].
struct Held {
    name: String,
    secs: f64,
    /// Mean CPU, % of one core.
    cpu: [f64; 3],
    /// PSS at the last sample, kB.
    pss_end: [u64; 3],
    /// Largest tree PSS sampled, kB.
    pss_max: u64,
    /// (seconds since the start, tree PSS kB), one per sample.
    samples: Vec<(f64, u64)>,
    note: String,
}

impl Held {
    fn tree_cpu(&self) -> f64 {
        self.cpu.iter().sum()
    }
    fn tree_pss(&self) -> u64 {
        self.pss_end.iter().sum()
    }
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

// ---------------------------------------------------------------- /proc

struct Stat {
    comm: String,
    zombie: bool,
    ppid: u32,
    ticks: u64,
    start: u64,
}

fn read_stat(pid: u32) -> Option<Stat> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, rest) = s.rsplit_once(')')?;
    // The fields after the command start at field 3 (state): field n is at index n - 3.
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some(Stat {
        comm: head.split_once('(')?.1.to_string(),
        zombie: f.first() == Some(&"Z"),
        ppid: num(1)? as u32,
        ticks: num(11)? + num(12)?, // utime + stime
        start: num(19)?,
    })
}

/// `root` and every process below it, with their stats.
fn tree(root: u32) -> Vec<(u32, Stat)> {
    let mut all: HashMap<u32, Stat> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter_map(|pid| Some((pid, read_stat(pid)?)))
        .collect();
    let mut out: Vec<(u32, Stat)> = all.remove(&root).map(|s| (root, s)).into_iter().collect();
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].0;
        let children: Vec<u32> = all
            .iter()
            .filter(|(_, s)| s.ppid == parent)
            .map(|(&p, _)| p)
            .collect();
        out.extend(
            children
                .into_iter()
                .filter_map(|p| Some((p, all.remove(&p)?))),
        );
        i += 1;
    }
    out
}

fn pss_kb(pid: u32) -> u64 {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let pss = rollup.lines().find_map(|l| l.strip_prefix("Pss:"));
    pss.and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU ticks so far per process: (pid, start time) → (kind, ticks).
type Ticks = HashMap<(u32, u64), (usize, u64)>;

/// One sample of the tree below `app`: its processes' CPU ticks, and PSS (kB) per kind.
fn sample(app: u32) -> (Ticks, [u64; 3]) {
    let mut cpu = HashMap::new();
    let mut pss = [0u64; 3];
    for (pid, st) in tree(app) {
        let kind = match () {
            _ if pid == app => 0,
            _ if st.comm.starts_with("WebKitWebProc") => 1, // comm is cut at 15 bytes
            _ => 2,
        };
        cpu.insert((pid, st.start), (kind, st.ticks));
        pss[kind] += pss_kb(pid);
    }
    (cpu, pss)
}

/// How the tree renders: Xvfb has no GPU, so any GL is Mesa's software rasteriser.
fn rendering(app: u32) -> String {
    for (pid, _) in tree(app) {
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        let mut libs = maps.lines().filter_map(|l| l.rsplit('/').next());
        let gl = libs.find(|f| f.contains("_dri.so") || f.starts_with("libgallium"));
        if let Some(lib) = gl {
            return format!("software rendering (Xvfb, no GPU; Mesa {lib} loaded)");
        }
    }
    "software rendering (Xvfb, no GPU; no GL driver loaded: WebKit paints with the CPU)".into()
}

fn kill(pid: u32, group: bool, sig: i32) {
    let target = if group { -(pid as i32) } else { pid as i32 };
    // SAFETY: kill(2) on a process (or the process group) this program started.
    unsafe { libc::kill(target, sig) };
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0");
    listener
        .and_then(|l| l.local_addr())
        .map_or(4444, |a| a.port())
}

// ---------------------------------------------------------------- tauri-driver and the app

/// tauri-driver (in its own process group) and the app below it. Dropping it stops them all.
struct Driver {
    child: Child,
}

impl Driver {
    fn start(port: u16, data_dir: &Path, irc: &str, log: Option<&Path>) -> Res<Driver> {
        let file = match log {
            Some(p) => Some(std::fs::File::options().create(true).append(true).open(p)?),
            None => None,
        };
        let out = || {
            file.as_ref()
                .map_or(Ok(Stdio::null()), |f| f.try_clone().map(Stdio::from))
        };
        let mut cmd = Command::new("tauri-driver");
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &free_port().to_string(),
        ])
        .env("STREAMCUE_DATA_DIR", data_dir)
        .env("STREAMCUE_TWITCH_IRC_ADDR", irc)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(out()?)
        .stderr(out()?)
        .process_group(0);
        // SAFETY: only prctl (async-signal-safe) between fork and exec: tauri-driver gets
        // SIGTERM if this process dies without cleaning up.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            })
        };
        Ok(Driver {
            child: cmd.spawn()?,
        })
    }

    /// The app: the `streamcue` executable below tauri-driver (and WebKitWebDriver).
    fn app(&self) -> Option<u32> {
        let exe = |pid: u32| std::fs::read_link(format!("/proc/{pid}/exe"));
        let below = tree(self.child.id()).into_iter().map(|(pid, _)| pid);
        below
            .into_iter()
            .find(|&pid| exe(pid).is_ok_and(|p| p.ends_with("streamcue")))
    }

    /// SIGTERM to the app (its ordered shutdown, as at logout), waiting up to 15 s.
    fn quit_app(&self) {
        if let Some(app) = self.app() {
            kill(app, false, libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(15);
            while read_stat(app).is_some_and(|s| !s.zombie) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.quit_app();
        // SIGTERM, not SIGKILL: a killed tauri-driver orphans WebKitWebDriver.
        kill(self.child.id(), false, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !matches!(self.child.try_wait(), Ok(Some(_))) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left in the group we created (WebKitWebDriver, the app, its children).
        kill(self.child.id(), true, libc::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- the window

async fn open_session(port: u16, app: &Path) -> Res<Client> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("tauri-driver did not listen on {port}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": app }),
    );
    // tauri-driver listens before WebKitWebDriver is ready: retry the session a while.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = ClientBuilder::new(connector);
        builder.capabilities(caps.clone());
        match builder.connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(c) => return Ok(c),
            Err(e) if Instant::now() < deadline => {
                eprintln!("WebDriver session not ready yet ({e}); retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(format!("open a WebDriver session: {e}").into()),
        }
    }
}

struct Window(Client);

impl Window {
    async fn find(&self, css: &str) -> Res<Element> {
        let wait = self.0.wait().at_most(Duration::from_secs(20));
        Ok(wait.for_element(Locator::Css(css)).await?)
    }

    async fn js(&self, script: &str, css: &str) -> Res<serde_json::Value> {
        Ok(self.0.execute(script, vec![css.into()]).await?)
    }

    /// Clicks `css`, finding it again (a few times) if a live update replaced it.
    async fn click(&self, css: &str) -> Res<()> {
        let scroll = "document.querySelector(arguments[0])?.scrollIntoView({block: 'center'});";
        for attempt in 1.. {
            let clicked = match self.find(css).await {
                Ok(el) => {
                    let _ = self.js(scroll, css).await;
                    el.click().await.map(|_| ()).map_err(Into::into)
                }
                Err(e) => Err(e),
            };
            match clicked {
                Err(e) if attempt < 5 => eprintln!("click {css}: {e}; again"),
                other => return other.map_err(|e| format!("click {css}: {e}").into()),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        unreachable!()
    }

    /// The digits of the element's text as a number (locale separators ignored).
    async fn number(&self, css: &str) -> u64 {
        let script =
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';";
        let text = self.js(script, css).await.unwrap_or_default();
        let text = text.as_str().unwrap_or("");
        text.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0)
    }

    /// The chat state as window.rs's `state()` reads it (`#chat-state`'s `data-state`); also
    /// accepts a `data-state` inside it, else reads the pill's text ("Connected", "Disconnected").
    async fn chat_state(&self) -> String {
        let script = r#"
            const e = document.querySelector(arguments[0]);
            if (!e) return '';
            const all = [e, ...e.querySelectorAll('[data-state]')];
            const s = all.map(x => (x.getAttribute('data-state') || '').toLowerCase()).find(x => x);
            if (s) return s;
            const t = e.textContent || '';
            if (/(dis|not |un)connected/i.test(t)) return 'disconnected';
            return /\bConnected\b/.test(t) ? 'connected' : t.trim().toLowerCase();"#;
        let state = self.js(script, "#chat-state").await.unwrap_or_default();
        state.as_str().unwrap_or("").to_string()
    }

    async fn wait_state(&self, want: &str, secs: u64) -> Res<()> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.chat_state().await;
            if s == want {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("chat state is {s:?}, not {want:?}, after {secs} s").into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

// ---------------------------------------------------------------- the run

struct Bench<'a> {
    w: &'a Window,
    app: u32,
    irc: &'a FakeIrc,
    rate: &'a AtomicU64,
    sent: &'a AtomicU64,
    hold: u64,
}

impl Bench<'_> {
    /// Holds the current state for `secs`, sampling every second (and printing the tree's PSS
    /// every `progress` seconds, if any).
    async fn hold(&self, name: &str, secs: u64, progress: Option<u64>) -> Held {
        eprintln!("[{}] {name}: holding {secs} s", clock());
        let (first, _) = sample(self.app);
        let t0 = Instant::now();
        let (mut last, mut pss_end, mut samples) = (first.clone(), [0u64; 3], Vec::new());
        let start = tokio::time::Instant::now() + Duration::from_secs(1);
        let mut tick = tokio::time::interval_at(start, Duration::from_secs(1));
        for i in 1..=secs {
            tick.tick().await;
            let (now, pss) = sample(self.app);
            last.extend(now);
            pss_end = pss;
            let tree: u64 = pss.iter().sum();
            samples.push((t0.elapsed().as_secs_f64(), tree));
            if progress.is_some_and(|p| i % p == 0) {
                eprintln!("[{}] {name}: {i} s, tree PSS {:.1} MB", clock(), mb(tree));
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        // SAFETY: sysconf has no preconditions.
        let hz = (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).max(1) as f64;
        let mut cpu = [0f64; 3];
        for (key, (kind, ticks)) in &last {
            let before = first.get(key).map_or(0, |(_, t)| *t); // 0: born during the hold
            cpu[*kind] += ticks.saturating_sub(before) as f64 / hz / secs * 100.0;
        }
        let pss_max = samples.iter().map(|s| s.1).max().unwrap_or(0);
        let name = name.to_string();
        let note = String::new();
        Held {
            name,
            secs,
            cpu,
            pss_end,
            pss_max,
            samples,
            note,
        }
    }

    async fn run(&self, results: &mut Vec<Held>, long_minutes: u64) -> Res<()> {
        let (w, hold) = (self.w, self.hold);
        // 1. idle: a new user's first minute (disconnected, no OBS).
        w.find("#connect-btn").await?;
        w.wait_state("disconnected", 20).await?;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let idle = self.hold("idle", hold, None).await;
        report(&idle);
        results.push(idle);

        // 2. The demo chat.
        w.click("#source-demo").await?;
        w.click("#connect-btn").await?;
        w.wait_state("connected", 30).await?;
        let mut demo = self.hold("demo", hold, None).await;
        demo.note = format!("#msg-total {}", w.number("#msg-total").await);
        report(&demo);
        results.push(demo);
        w.click("#disconnect-btn").await?;
        w.wait_state("disconnected", 20).await?;

        // 3. Twitch (the fake server) with 10 requests waiting, then 50 and 500 msg/s.
        w.click("#source-twitch").await?;
        let input = w.find("#channel-input").await?;
        input.clear().await?;
        input.send_keys(CHANNEL).await?;
        for _ in 0..25 {
            if w.find("#connect-btn").await?.is_enabled().await? {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        w.click("#connect-btn").await?;
        w.wait_state("connected", 30).await?;
        if !self
            .irc
            .wait_joins(CHANNEL, 1, Duration::from_secs(10))
            .await
        {
            return Err("the app never joined the fake server's channel".into());
        }
        for i in 1..=10 {
            let text = format!("!anime a paper boat number {i} sailing through neon rain");
            let line = privmsg_line(CHANNEL, &format!("viewer{i:02}"), &text);
            self.irc.broadcast(CHANNEL, &line);
        }
        self.sent.fetch_add(10, Relaxed);
        let deadline = Instant::now() + Duration::from_secs(20);
        while w.number("#queue-waiting").await != 10 {
            if Instant::now() > deadline {
                let n = w.number("#queue-waiting").await;
                return Err(format!("#queue-waiting shows {n}, not 10").into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for rate in [50, 500] {
            self.rate.store(rate, Relaxed);
            let mut h = self.hold(&format!("irc-{rate}"), hold, None).await;
            h.note = self.counts().await;
            report(&h);
            results.push(h);
        }

        // 4. The leak check: 500 msg/s for LONG_MINUTES.
        if long_minutes > 0 {
            let mut h = self.hold("long-500", long_minutes * 60, Some(60)).await;
            let end = mb(h.tree_pss());
            let at5 = h.samples.iter().find(|s| s.0 >= 300.0).map(|s| mb(s.1));
            h.note = match at5 {
                Some(at5) if long_minutes > 5 => {
                    let grew = end - at5;
                    // A leak grows; PSS also falls when other processes start sharing the
                    // same libraries (their pages are then split), which is not a leak.
                    let verdict = if grew <= 20.0 { "ok" } else { "NOT ok" };
                    format!(
                        "leak check: tree PSS {at5:.1} MB at 5 min, {end:.1} MB at {long_minutes} \
                         min: {grew:+.1} MB ({verdict}: grew at most 20 MB); {}",
                        self.counts().await
                    )
                }
                _ => format!(
                    "tree PSS {end:.1} MB at the end (LONG_MINUTES > 5 compares with 5 min); {}",
                    self.counts().await
                ),
            };
            report(&h);
            results.push(h);
        }
        self.rate.store(0, Relaxed);
        Ok(())
    }

    async fn counts(&self) -> String {
        let shown = self.w.number("#msg-total").await;
        let waiting = self.w.number("#queue-waiting").await;
        let sent = self.sent.load(Relaxed);
        format!(
            "sent {sent} lines in all, window shows #msg-total {shown}, #queue-waiting {waiting}"
        )
    }
}

/// Sends `rate` (changeable at any time) ordinary chat lines per second to `CHANNEL`.
async fn chat(irc: Arc<FakeIrc>, rate: Arc<AtomicU64>, sent: Arc<AtomicU64>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut last, mut budget, mut n) = (Instant::now(), 0f64, 0u64);
    loop {
        tick.tick().await;
        budget += rate.load(Relaxed) as f64 * last.elapsed().as_secs_f64();
        last = Instant::now();
        let k = budget.floor() as usize;
        if k == 0 {
            continue;
        }
        budget -= k as f64;
        let mut lines = Vec::with_capacity(k);
        while lines.len() < k {
            // Ordinary chat only: the samples' `!anime` line would add requests.
            let line = sample_privmsg(CHANNEL, n);
            n += 1;
            if !line.contains("!anime") {
                lines.push(line);
            }
        }
        irc.broadcast_lines(CHANNEL, &lines);
        sent.fetch_add(k as u64, Relaxed);
    }
}

/// Seconds since the benchmark started, for progress lines.
fn clock() -> String {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    format!(
        "{:4.0} s",
        START.get_or_init(Instant::now).elapsed().as_secs_f64()
    )
}

/// "streamcue 1.0, WebKitWebProcess 2.0, other 3.0"
fn by_kind(v: [f64; 3]) -> String {
    let [app, web, other] = v;
    format!("streamcue {app:.1}, WebKitWebProcess {web:.1}, other {other:.1}")
}

fn report(h: &Held) {
    let (cpu, end, max) = (h.tree_cpu(), mb(h.tree_pss()), mb(h.pss_max));
    let (cpus, pss) = (by_kind(h.cpu), by_kind(h.pss_end.map(mb)));
    println!(
        "{}: {:.0} s; CPU % of one core: tree {cpu:.1} ({cpus})",
        h.name, h.secs
    );
    println!("    PSS MB: tree {end:.1} at the end, max {max:.1}; at the end {pss}");
    if !h.note.is_empty() {
        println!("    {}", h.note);
    }
}

fn table(results: &[Held], hold: u64, machine: &str) {
    println!("\n| state | CPU tree (% of 1 core) | streamcue | WebKitWebProcess | PSS tree end (MB) | PSS tree max (MB) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for h in results {
        let (cpu, end, max) = (h.tree_cpu(), mb(h.tree_pss()), mb(h.pss_max));
        let (app, web) = (h.cpu[0], h.cpu[1]);
        println!(
            "| {} | {cpu:.1} | {app:.1} | {web:.1} | {end:.1} | {max:.1} |",
            h.name
        );
    }
    println!(
        "\nEach state held {hold} s, sampled every second. Tree = the `streamcue` process and all \
         its descendants (WebKitWebProcess, WebKitNetworkProcess, ...), not tauri-driver or \
         WebKitWebDriver; CPU = utime+stime (/proc/PID/stat), PSS from /proc/PID/smaps_rollup.\n\
         {machine}"
    );
}

fn machine(render: &str) -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = info
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .unwrap_or("?");
    let cpu = cpu.trim_start_matches([' ', '\t', ':']);
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    format!("Machine: nproc={nproc}, CPU \"{cpu}\", {render}; load average {load} at the end.")
}

/// Resolves on the first SIGTERM, SIGINT or SIGHUP (handlers installed when called).
fn interrupted() -> impl std::future::Future<Output = &'static str> {
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
    async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
            _ = hup.recv() => "SIGHUP",
        }
    }
}

fn arg(name: &str) -> Option<PathBuf> {
    std::env::args_os()
        .skip_while(|a| a != name)
        .nth(1)
        .map(PathBuf::from)
}

fn env_u64(name: &str, default: u64) -> u64 {
    let v = std::env::var(name).ok().and_then(|v| v.trim().parse().ok());
    v.unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let hold = env_u64("HOLD_SECS", 60).max(1);
    let long_minutes = env_u64("LONG_MINUTES", 0);
    let default_app = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/streamcue");
    let app = arg("--app").unwrap_or_else(|| default_app.into());
    let log = arg("--log");
    if std::env::var_os("DISPLAY").is_none() || !app.exists() {
        let app = app.display();
        eprintln!("bench_ui: needs DISPLAY and the release app ({app}): use scripts/bench-ui.sh");
        return ExitCode::from(2);
    }
    clock();
    let stop = interrupted();
    let (irc, data) = match (FakeIrc::start().await, tempfile::tempdir()) {
        (Ok(irc), Ok(data)) => (Arc::new(irc), data),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("bench_ui: FAILED to start the fake server or make a data dir: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (rate, sent) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut results = Vec::new();
    let mut render = String::from("software rendering (Xvfb, no GPU)");
    // Owned out here so that they are stopped in order whatever ends the run.
    let mut driver: Option<Driver> = None;
    let mut window: Option<Window> = None;
    let run = async {
        let port = free_port();
        let addr = irc.addr_string();
        let d = driver.insert(Driver::start(port, data.path(), &addr, log.as_deref())?);
        let w = window.insert(Window(open_session(port, &app).await?));
        let deadline = Instant::now() + Duration::from_secs(20);
        let app = loop {
            match d.app() {
                Some(pid) => break pid,
                None if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                None => return Err("no streamcue process below tauri-driver".into()),
            }
        };
        let dir = data.path().display();
        eprintln!(
            "[{}] app pid {app}, data dir {dir}, fake IRC {addr}",
            clock()
        );
        let chat = tokio::spawn(chat(irc.clone(), rate.clone(), sent.clone()));
        let (irc, rate, sent) = (&*irc, &*rate, &*sent);
        let bench = Bench {
            w,
            app,
            irc,
            rate,
            sent,
            hold,
        };
        let r = bench.run(&mut results, long_minutes).await;
        render = rendering(app);
        chat.abort();
        r
    };
    let ok = tokio::select! {
        r = run => r.map_err(|e| eprintln!("bench_ui: FAILED: {e}")).is_ok(),
        s = stop => { eprintln!("bench_ui: {s}: stopping"); false }
    };
    // Ordered stop: the app first (SIGTERM, its own shutdown), the session, then the driver.
    if let Some(d) = driver {
        eprintln!(
            "[{}] stopping the app, tauri-driver and the fake server",
            clock()
        );
        d.quit_app();
        if let Some(Window(c)) = window {
            let _ = tokio::time::timeout(Duration::from_secs(5), c.close()).await;
        }
        drop(d);
    }
    drop((irc, data));
    if !results.is_empty() {
        table(&results, hold, &machine(&render));
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
