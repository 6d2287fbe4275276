//! A real OBS Studio 30.2 with obs-websocket 5.5, headless, for tests.
//!
//! Debian 12 ships OBS 29, which obws 0.15 cannot talk to, so OBS runs from a Debian 13 root
//! made by `scripts/obs-root.sh` (cached at `$STREAMCUE_OBS_ROOT`, default
//! `/var/cache/streamcue/obs-trixie`; `scripts/setup.sh` builds it). Each [`RealObs`] has:
//!
//! - its own Xvfb (on the host, 1280x720x24, `-nolisten tcp`, display picked by `-displayfd`);
//! - its own OBS, started as
//!   `unshare --mount --propagation private sh -c 'mount …; exec chroot ROOT env -i … obs …'`,
//!   so every exec keeps one PID: [`RealObs::pid`] is OBS itself. Inside that private mount
//!   namespace the host's `/proc`, `/dev`, `/sys` and **`/tmp`** are mounted into the root, so a
//!   host path under `/tmp` (a media file the app made, the X socket `/tmp/.X11-unix`, the
//!   config dir) means the same file to OBS. Paths elsewhere are NOT visible to OBS (see
//!   [`visible_to_obs`]; create test files with [`obs_tempdir`], not `tempfile::tempdir()`,
//!   which follows `$TMPDIR`);
//! - an isolated config in a fresh temp dir under `/tmp` (global.ini, a profile recording to
//!   [`RealObs::recordings_dir`] in Simple output mode, a scene collection with one empty
//!   scene `Live` unless told otherwise), preview disabled, software GL;
//! - a random free port and a random password for obs-websocket. obs-websocket 5.5 binds
//!   every interface (it has no bind-address setting, only `ipv4_only`), so the port is
//!   reserved on all of them (see `process::free_port`); clients reach it on 127.0.0.1.
//!
//! Readiness is a real `GetVersion` (OBS answers NotReady for 1–2 s after opening its port).
//! OBS and Xvfb each lead their own process group; stopping kills the whole group with
//! SIGKILL and reaps it, and `Drop` does that for both, so nothing outlives the test. As a net
//! against a test process killed outright, both are started with `PR_SET_PDEATHSIG` = SIGKILL
//! (tied to the spawning thread: call [`RealObs::launch`]/[`RealObs::restart`] from the test's
//! own runtime, not from a short-lived `spawn_blocking` thread).
//!
//! Needs root (chroot and mount namespaces), `unshare`, `chroot` and `Xvfb` on the host, and
//! ImageMagick `import` for [`RealObs::screenshot`]. [`unavailable`] says why it cannot run.
//!
//! obws 0.15 when OBS dies (seen here every time, see `tests/obs_harness.rs`): an existing
//! event stream yields `ServerStopped` and ends at once, `client.events()` returns
//! `Err(Disconnected)`, and a request sent afterwards never gets an answer (the write still
//! succeeds, nobody reads the reply): wrap every call in a timeout and treat `ServerStopped` as
//! the disconnect. A wrong password fails the handshake with
//! `Handshake(ConnectionClosed(Some(CloseDetails { code: 4009, .. })))`.

mod config;
mod process;

use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use config::empty_collection;
use config::random_hex;
use process::{free_port, kill_group, on_path};

/// Default location of the Debian 13 root (see `scripts/obs-root.sh`).
pub const DEFAULT_ROOT: &str = "/var/cache/streamcue/obs-trixie";
/// Written by `scripts/obs-root.sh` when the root is complete; holds the OBS package version.
pub const READY_MARKER: &str = ".streamcue-ready";
/// The host directory shared with OBS at the same path.
pub const SHARED_DIR: &str = "/tmp";
/// The scene an empty collection has (and the current one at start).
pub const DEFAULT_SCENE: &str = "Live";
/// How long OBS may take from launch to answering `GetVersion`.
pub const READY_LIMIT: Duration = Duration::from_secs(60);

const PROFILE: &str = "StreamCue";
const COLLECTION: &str = "StreamCue";
/// Bound on every single websocket step of the readiness check.
const STEP_LIMIT: Duration = Duration::from_secs(5);

/// The root holding OBS: `$STREAMCUE_OBS_ROOT` or [`DEFAULT_ROOT`].
pub fn obs_root() -> PathBuf {
    std::env::var_os("STREAMCUE_OBS_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT))
}

/// `Some(reason)` when a real OBS cannot run on this machine.
pub fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root (chroot and mount namespaces)".into());
    }
    for tool in ["unshare", "chroot", "Xvfb"] {
        if !on_path(tool) {
            return Some(format!("{tool} is not on PATH (run scripts/setup.sh)"));
        }
    }
    let root = obs_root();
    if !root.join(READY_MARKER).is_file() || !root.join("usr/bin/obs").exists() {
        return Some(format!(
            "no OBS root at {} (run scripts/obs-root.sh)",
            root.display()
        ));
    }
    None
}

/// The OBS package version in the root (e.g. `30.2.3+dfsg-3`), if it is ready.
pub fn root_obs_version() -> Option<String> {
    fs::read_to_string(obs_root().join(READY_MARKER))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// Whether OBS sees `path` at the same place (only what is under `/tmp` is shared).
pub fn visible_to_obs(path: &Path) -> bool {
    path.is_absolute() && path.starts_with(SHARED_DIR)
}

/// A temp dir under `/tmp` (whatever `$TMPDIR` says), so OBS can read what the test puts there.
pub fn obs_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("streamcue-obs-media-")
        .tempdir_in(SHARED_DIR)
        .expect("temp dir under /tmp")
}

/// Starts a real OBS, or, when this machine cannot run one, prints
/// `SKIPPED <test>: <reason>` and returns `None`. Panics instead of skipping when `CI` is set
/// (CI must run these tests), and always when OBS fails to start on a machine that can run it.
pub async fn obs_or_skip(test: &str) -> Option<RealObs> {
    let mut obs = prepare_or_skip(test)?;
    if let Err(why) = obs.launch().await {
        panic!("{test}: real OBS failed to start: {why}");
    }
    Some(obs)
}

/// Like [`obs_or_skip`] but OBS is not launched yet ([`RealObs::prepare`]).
pub fn prepare_or_skip(test: &str) -> Option<RealObs> {
    if let Some(why) = unavailable() {
        if std::env::var_os("CI").is_some() {
            panic!("{test}: the real-OBS tests must run in CI but cannot: {why}");
        }
        eprintln!("SKIPPED {test}: {why}");
        return None;
    }
    match RealObs::prepare() {
        Ok(obs) => Some(obs),
        Err(why) => panic!("{test}: cannot prepare a real OBS: {why}"),
    }
}

/// What OBS starts with.
#[derive(Debug, Clone)]
pub struct ObsSetup {
    /// Empty scenes to create, in order; the first is current. Default: `["Live"]`.
    pub scenes: Vec<String>,
    /// A whole scene collection (OBS's `basic/scenes/*.json` format) used instead of
    /// `scenes`; its `name` is overwritten.
    pub collection: Option<serde_json::Value>,
    /// obs-websocket asks for a password (default). Without: `password()` is "".
    pub auth: bool,
}

impl Default for ObsSetup {
    fn default() -> Self {
        Self {
            scenes: vec![DEFAULT_SCENE.to_owned()],
            collection: None,
            auth: true,
        }
    }
}

/// A real OBS under its own Xvfb. Stops both on drop.
pub struct RealObs {
    root: PathBuf,
    /// Config, home, runtime dir, recordings and logs. Under /tmp.
    dir: tempfile::TempDir,
    port: u16,
    password: String,
    display: String,
    xvfb: Option<Child>,
    obs: Option<Child>,
    /// PID of the last OBS started (0 before the first launch).
    obs_pid: u32,
    launches: u32,
    ready_after: Option<Duration>,
}

impl RealObs {
    /// Starts Xvfb and OBS with one empty scene `Live`; returns once OBS answers `GetVersion`.
    pub async fn start() -> Result<RealObs, String> {
        Self::start_with(ObsSetup::default()).await
    }

    /// [`RealObs::start`] with another initial scene collection.
    pub async fn start_with(setup: ObsSetup) -> Result<RealObs, String> {
        let mut obs = Self::prepare_with(setup)?;
        obs.launch().await?;
        Ok(obs)
    }

    /// Reserves the port and password, writes the config and starts Xvfb, but not OBS (for
    /// "OBS starts after the app" tests): call [`RealObs::launch`] later.
    pub fn prepare() -> Result<RealObs, String> {
        Self::prepare_with(ObsSetup::default())
    }

    /// [`RealObs::prepare`] with another initial scene collection.
    pub fn prepare_with(setup: ObsSetup) -> Result<RealObs, String> {
        if let Some(why) = unavailable() {
            return Err(why);
        }
        let dir = tempfile::Builder::new()
            .prefix("streamcue-obs-")
            .tempdir_in(SHARED_DIR)
            .map_err(|e| format!("temp dir under {SHARED_DIR}: {e}"))?;
        let mut obs = RealObs {
            root: obs_root(),
            dir,
            port: free_port()?,
            password: if setup.auth {
                random_hex(12)
            } else {
                String::new()
            },
            display: String::new(),
            xvfb: None,
            obs: None,
            obs_pid: 0,
            launches: 0,
            ready_after: None,
        };
        obs.write_config(&setup)?;
        obs.start_xvfb()?;
        Ok(obs)
    }

    /// Starts OBS (after [`RealObs::prepare`], [`RealObs::kill`] or [`RealObs::stop`]) and waits
    /// until it answers `GetVersion`. An OBS still running is killed first.
    pub async fn launch(&mut self) -> Result<(), String> {
        self.kill();
        if self.xvfb_exited() {
            return Err(format!(
                "Xvfb exited; its log:\n{}",
                self.log_tail("xvfb.log")
            ));
        }
        let started = Instant::now();
        self.spawn_obs()?;
        self.wait_ready(started).await
    }

    /// Starts OBS again with the same config dir, port and password; waits until ready.
    pub async fn restart(&mut self) -> Result<(), String> {
        self.launch().await
    }

    /// SIGKILLs OBS and its process group (as a crash would) and reaps it; Xvfb keeps running.
    pub fn kill(&mut self) {
        if let Some(child) = self.obs.take() {
            kill_group(child);
        }
    }

    /// Stops OBS: SIGTERM, then SIGKILL after 5 s. (OBS 30 sends no goodbye either way.)
    pub fn stop(&mut self) {
        let Some(mut child) = self.obs.take() else {
            return;
        };
        // SAFETY: plain syscall on a process group we created.
        unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        kill_group(child);
    }

    /// Whether the OBS process is alive (launched and not exited).
    pub fn is_running(&mut self) -> bool {
        match self.obs.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// PID of OBS itself (the last one launched; 0 before the first launch).
    pub fn pid(&self) -> u32 {
        self.obs_pid
    }

    /// PID of the Xvfb.
    pub fn xvfb_pid(&self) -> u32 {
        self.xvfb.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The X display, e.g. `:99`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// `ws://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// The temp dir holding OBS's config (`config/obs-studio`), logs and recordings.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where Simple-output recordings go.
    pub fn recordings_dir(&self) -> PathBuf {
        self.dir.path().join("recordings")
    }

    /// How long the last launch took until `GetVersion` succeeded.
    pub fn ready_after(&self) -> Option<Duration> {
        self.ready_after
    }

    /// How many times OBS was launched.
    pub fn launches(&self) -> u32 {
        self.launches
    }

    /// An obws client connected to this OBS (panics if it cannot connect within 10 s).
    pub async fn client(&self) -> obws::Client {
        match self.try_client(Duration::from_secs(10)).await {
            Ok(client) => client,
            Err(e) => panic!(
                "cannot connect to the real OBS on port {}: {e}\n{}",
                self.port,
                self.logs()
            ),
        }
    }

    /// An obws client, or why not, within `limit` (connect + handshake + GetVersion).
    pub async fn try_client(&self, limit: Duration) -> Result<obws::Client, String> {
        connect(self.port, &self.password, limit).await
    }

    /// Saves a PNG screenshot of the whole X display to `path` (ImageMagick `import`).
    pub fn screenshot(&self, path: &Path) -> Result<(), String> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let mut child = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("import (ImageMagick; run scripts/setup.sh): {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    let mut err = String::new();
                    if let Some(mut stderr) = child.stderr.take() {
                        let _ = stderr.read_to_string(&mut err);
                    }
                    return Err(format!("import failed ({status}): {}", err.trim()));
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err("import took more than 20 s".into());
                }
                Err(e) => return Err(format!("import: {e}")),
            }
        }
    }

    /// The tails of OBS's stdout/stderr and of its own newest log file, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = format!(
            "--- OBS stdout/stderr ---\n{}",
            self.log_tail("obs-stdout.log")
        );
        let log_dir = self.dir.path().join("config/obs-studio/logs");
        if let Ok(entries) = fs::read_dir(&log_dir) {
            let newest = entries
                .flatten()
                .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
                .max();
            if let Some((_, path)) = newest {
                let _ = write!(
                    out,
                    "\n--- {} ---\n{}",
                    path.display(),
                    tail(&fs::read_to_string(&path).unwrap_or_default(), 40)
                );
            }
        }
        out
    }

    // ---- internals ----

    fn log_tail(&self, name: &str) -> String {
        tail(
            &fs::read_to_string(self.dir.path().join(name)).unwrap_or_default(),
            40,
        )
    }

    fn xvfb_exited(&mut self) -> bool {
        match self.xvfb.as_mut() {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    async fn wait_ready(&mut self, started: Instant) -> Result<(), String> {
        let mut last = String::from("no attempt yet");
        loop {
            if let Some(child) = self.obs.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    let logs = self.logs();
                    self.obs = None;
                    return Err(format!(
                        "OBS exited ({status}) before it was ready (last: {last})\n{logs}"
                    ));
                }
            }
            if started.elapsed() > READY_LIMIT {
                let logs = self.logs();
                self.kill();
                return Err(format!(
                    "OBS was not ready after {READY_LIMIT:?} (last: {last})\n{logs}"
                ));
            }
            match connect(self.port, &self.password, STEP_LIMIT).await {
                Ok(mut client) => {
                    client.disconnect().await;
                    self.ready_after = Some(started.elapsed());
                    return Ok(());
                }
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_file(&self, name: &str) -> Result<fs::File, String> {
        let path = self.dir.path().join(name);
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

impl Drop for RealObs {
    fn drop(&mut self) {
        self.kill();
        if let Some(child) = self.xvfb.take() {
            kill_group(child);
        }
    }
}

/// Connects, handshakes and runs a real `GetVersion` (obws checks the versions), all within
/// `limit`.
async fn connect(port: u16, password: &str, limit: Duration) -> Result<obws::Client, String> {
    let attempt = async {
        let client =
            obws::Client::connect("127.0.0.1", port, Some(password).filter(|p| !p.is_empty()))
                .await
                .map_err(|e| describe(&e))?;
        client
            .general()
            .version()
            .await
            .map_err(|e| format!("GetVersion: {}", describe(&e)))?;
        Ok(client)
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {limit:?}")),
    }
}

/// An obws error with its source chain (the `Display` alone hides the cause).
pub fn describe(e: &obws::error::Error) -> String {
    let mut out = format!("{e} [{e:?}]");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let _ = write!(out, ": {s}");
        source = s.source();
    }
    out
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
