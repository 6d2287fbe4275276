//! Driving the real StreamCue window in tests: tauri-driver + WebKitWebDriver under Xvfb, through
//! a fantoccini WebDriver session ([`Window`]), with the waits and workarounds WebKitGTK needs
//! (the first session request retried while WebKitWebDriver starts, clicks that survive a row
//! re-rendered by a live update, text read through the page, a screenshot that first schedules
//! a paint, tauri-driver stopped with SIGTERM because SIGKILL orphans WebKitWebDriver).
//!
//! [`Window::open`] runs the app built here on its own data folder (`STREAMCUE_DATA_DIR`) with
//! Twitch chat pointed at a local fake; [`Window::launch`] runs any app path through a given
//! native driver (the install test's packaged `/usr/bin/streamcue` in a Debian root).
//! Dropping a [`Window`] stops the app and the drivers.

use std::ffi::OsStr;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::real_obs;

pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("STREAMCUE_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `Some(reason)` when the window tests cannot run here.
pub fn missing_prerequisite() -> Option<String> {
    if std::env::var_os("DISPLAY").is_none() {
        return Some("no DISPLAY (scripts/test.sh starts Xvfb)".into());
    }
    missing_tool(&["tauri-driver", "WebKitWebDriver"])
}

/// `Some(reason)` when one of `tools` is not on PATH.
fn missing_tool(tools: &[&str]) -> Option<String> {
    for tool in tools {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !found {
            return Some(format!("{tool} is not on PATH"));
        }
    }
    None
}

/// Returns false (after printing why) when the test should be skipped.
pub fn can_run(test: &str) -> bool {
    skip_unless_ci(test, missing_prerequisite())
}

/// Like [`can_run`], for tests in headless Chromium (no display needed).
pub fn can_run_chromium(test: &str) -> bool {
    skip_unless_ci(test, missing_tool(&["chromium", "chromedriver"]))
}

/// In CI a missing prerequisite is a failure; elsewhere the test is skipped, saying why.
fn skip_unless_ci(test: &str, missing: Option<String>) -> bool {
    match missing {
        None => true,
        Some(why) if std::env::var_os("CI").is_some() => {
            panic!("{test}: this test must run in CI but cannot: {why}")
        }
        Some(why) => {
            eprintln!("SKIPPED {test}: {why}");
            false
        }
    }
}

/// Prints the app's own log (JSON lines in the data dir) to help read a failure.
pub fn dump_app_log(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir.join("logs")) else {
        return;
    };
    for entry in entries.flatten() {
        if let Ok(text) = std::fs::read_to_string(entry.path()) {
            eprintln!("--- app log {} ---\n{text}", entry.path().display());
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How long an element may take to appear.
pub const ELEMENT_LIMIT: Duration = Duration::from_secs(20);

/// A WebDriver server plus the session it opened: tauri-driver on our app, or chromedriver on
/// a page. Stops both on drop (and the app with them, if it still runs).
pub struct Window {
    client: Option<Client>,
    driver: Child,
    artifacts: PathBuf,
    /// Screenshots are `<artifacts>/<prefix>-<name>.png`.
    prefix: String,
}

impl Window {
    pub async fn open(app: &str, data_dir: &Path, irc_addr: &str) -> Window {
        Self::open_with(app, data_dir, irc_addr, &[]).await
    }

    /// The app built on this machine, on its own data folder with Twitch chat at `irc_addr`,
    /// with more environment for the app (e.g. the login service's address).
    pub async fn open_with(
        app: &str,
        data_dir: &Path,
        irc_addr: &str,
        env: &[(&str, String)],
    ) -> Window {
        let mut all: Vec<(&str, &OsStr)> = vec![
            ("STREAMCUE_DATA_DIR", data_dir.as_os_str()),
            ("STREAMCUE_TWITCH_IRC_ADDR", OsStr::new(irc_addr)),
            ("RUST_LOG", OsStr::new("info")),
            // Window tests run side by side: each app's local server on a free port.
            ("STREAMCUE_SERVER_PORT", OsStr::new("0")),
        ];
        all.extend(env.iter().map(|(k, v)| (*k, OsStr::new(v.as_str()))));
        Self::launch(app, None, &all, &artifacts_dir(), "window").await
    }

    /// The app with "Log in with Twitch" pointed at `oauth` (its client id in `config.toml`,
    /// its address in the environment), once the login button is there.
    pub async fn open_with_login_service(
        app: &str,
        data_dir: &Path,
        irc_addr: &str,
        oauth: &crate::fake_oauth::FakeOauth,
    ) -> Window {
        std::fs::write(
            data_dir.join("config.toml"),
            format!("[chat]\ntwitch_client_id = \"{}\"\n", oauth.client_id()),
        )
        .expect("write config.toml");
        let w = Self::open_with(
            app,
            data_dir,
            irc_addr,
            &[("STREAMCUE_TWITCH_ID_URL", oauth.base_url())],
        )
        .await;
        w.until("the login button", ELEMENT_LIMIT, || async {
            w.attr("#account", "data-state").await.as_deref() == Some("loggedOut")
        })
        .await;
        w
    }

    /// Starts tauri-driver (with `native_driver` as its WebKitWebDriver when given: the install
    /// test runs the packaged app inside a Debian root through a wrapper) and opens a session on
    /// `application`, a path as the native driver sees it.
    pub async fn launch(
        application: &str,
        native_driver: Option<&Path>,
        env: &[(&str, &OsStr)],
        artifacts: &Path,
        prefix: &str,
    ) -> Window {
        let port = free_port();
        let native_port = free_port();
        let mut cmd = Command::new("tauri-driver");
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ]);
        if let Some(path) = native_driver {
            cmd.arg("--native-driver").arg(path);
        }
        cmd.envs(env.iter().copied());
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": application }),
        );
        Self::session(cmd, port, caps, artifacts, prefix, application).await
    }

    /// A page in headless Chromium (Debian's `chromium` and `chromium-driver`), 1280×720: the
    /// overlay test opens the local server's `/overlay` as OBS's browser source would.
    pub async fn chromium(url: &str, artifacts: &Path, prefix: &str) -> Window {
        let port = free_port();
        let mut cmd = Command::new("chromedriver");
        cmd.arg(format!("--port={port}"));
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,720",
                         "--hide-scrollbars"],
            },
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let window = Self::session(cmd, port, caps, artifacts, prefix, "chromium").await;
        window.c().goto(url).await.expect("open the page");
        window
    }

    /// Starts the WebDriver server `cmd` (listening on `port`), then opens a session with
    /// `caps`, retrying while the server (or the native driver behind it) starts.
    async fn session(
        mut cmd: Command,
        port: u16,
        caps: serde_json::Map<String, serde_json::Value>,
        artifacts: &Path,
        prefix: &str,
        what: &str,
    ) -> Window {
        // If this test process dies, the driver gets SIGTERM (not SIGKILL: see stop_driver).
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let driver = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {:?}: {e}", cmd.get_program()));
        let mut window = Window {
            client: None,
            driver,
            artifacts: artifacts.to_owned(),
            prefix: prefix.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the WebDriver server did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // tauri-driver listens before WebKitWebDriver behind it is ready: the first session
        // request can be cut off. Retry that (only that) for a while.
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("WebDriver session not ready yet ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("open a WebDriver session on {what}: {e}"),
            }
        };
        window.client = Some(client);
        window
    }

    pub fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// Clicks the element `css` names. Live updates may replace the element while it is being
    /// found or clicked (a row re-rendered by an event): then it is found again, a few times.
    pub async fn click(&self, css: &str) {
        let replaced = |e: &fantoccini::error::CmdError| {
            let text = e.to_string().to_lowercase();
            text.contains("not found") || text.contains("stale")
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let found = self
                .c()
                .wait()
                .at_most(ELEMENT_LIMIT)
                .for_element(Locator::Css(css))
                .await;
            let el = match found {
                Ok(el) => el,
                Err(e) if attempt < 5 && replaced(&e) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => panic!("{css} did not appear: {e}"),
            };
            // Bring it on screen first (cards low in the window are below the fold).
            let _ = self
                .c()
                .execute(
                    "document.querySelector(arguments[0])?.scrollIntoView({block: 'center'});",
                    vec![css.into()],
                )
                .await;
            match el.click().await {
                Ok(_) => return,
                Err(e) if attempt < 5 && replaced(&e) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.c()
            .wait()
            .at_most(ELEMENT_LIMIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// The element's text content (read through the page: WebKitWebDriver's getText can come
    /// back empty for elements it considers not rendered yet).
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await;
        let script =
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';";
        match self.c().execute(script, vec![css.into()]).await {
            Ok(serde_json::Value::String(s)) => s,
            Ok(_) => String::new(),
            Err(e) => panic!("read text of {css}: {e}"),
        }
    }

    /// Opens Settings → OBS, types the real OBS's port, saves, closes Settings, and waits until
    /// the OBS card says connected.
    pub async fn point_obs_card_at(&self, obs: &real_obs::RealObs) {
        self.click("#settings-open").await;
        self.click("#settings-nav-obs").await;
        let port = self.wait_for("#obs-port").await;
        port.clear().await.unwrap();
        port.send_keys(&obs.port().to_string()).await.unwrap();
        self.click("#obs-save").await;
        self.click("#settings-close").await;
        self.until("OBS connected", Duration::from_secs(40), || async {
            self.attr("#obs-state", "data-state").await.as_deref() == Some("connected")
        })
        .await;
    }

    /// Whether an element matches `css` now (no waiting).
    pub async fn exists(&self, css: &str) -> bool {
        let script = "return document.querySelector(arguments[0]) !== null;";
        matches!(
            self.c().execute(script, vec![css.into()]).await,
            Ok(serde_json::Value::Bool(true))
        )
    }

    /// An attribute of the first element matching `css`, once there is one.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.wait_for(css).await;
        self.attr_now(css, name).await
    }

    /// An attribute of the first element matching `css` now (no waiting; `None` when there is
    /// no such element or attribute).
    pub async fn attr_now(&self, css: &str, name: &str) -> Option<String> {
        let script = "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;";
        match self
            .c()
            .execute(script, vec![css.into(), name.into()])
            .await
        {
            Ok(serde_json::Value::String(s)) => Some(s),
            Ok(_) => None,
            Err(e) => panic!("read {name} of {css}: {e}"),
        }
    }

    /// Polls `check` until it returns true, or panics with `what` after `limit`.
    pub async fn until<F, Fut>(&self, what: &str, limit: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if check().await {
                return;
            }
            if Instant::now() > deadline {
                let state = self.attr_now("#chat-state", "data-state").await;
                self.screenshot("failure").await;
                panic!("timed out after {limit:?} waiting for {what} (chat state: {state:?})");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Types `typed` as the channel (Twitch selected), waits until it is accepted, clicks
    /// Connect and waits for the connected state.
    pub async fn connect_twitch(&self, typed: &str) {
        let input = self.wait_for("#channel-input").await;
        input.clear().await.unwrap();
        input.send_keys(typed).await.unwrap();
        self.until(
            "the channel to be accepted",
            Duration::from_secs(5),
            || async {
                self.text("#channel-error").await.trim().is_empty()
                    && self
                        .wait_for("#connect-btn")
                        .await
                        .is_enabled()
                        .await
                        .unwrap_or(false)
            },
        )
        .await;
        self.click("#connect-btn").await;
        self.until("connected", Duration::from_secs(20), || async {
            self.state().await == "connected"
        })
        .await;
    }

    pub async fn state(&self) -> String {
        self.attr("#chat-state", "data-state")
            .await
            .unwrap_or_default()
    }

    /// A counter's value (digits only: the window may group thousands by the locale).
    pub async fn number(&self, css: &str) -> u64 {
        let text = self.text(css).await;
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        digits.parse().unwrap_or(0)
    }

    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let path = self.artifacts.join(format!("{}-{name}.png", self.prefix));
        // WebKitWebDriver answers a screenshot after the page's next paint, and a window where
        // nothing moves never paints again (idle means idle), so the request would wait for
        // ever. Adding an invisible 1-px box schedules exactly one paint.
        let nudge = "const d = document.createElement('div'); \
                     d.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none'; \
                     document.body.appendChild(d); setTimeout(() => d.remove(), 2000); return 1;";
        if let Err(e) = self.c().execute(nudge, vec![]).await {
            eprintln!("screenshot {name}: could not nudge a paint: {e}");
        }
        match tokio::time::timeout(Duration::from_secs(30), self.c().screenshot()).await {
            Ok(Ok(png)) => std::fs::write(&path, png).unwrap(),
            Ok(Err(e)) => eprintln!("screenshot {name} failed: {e}"),
            Err(_) => panic!("screenshot {name}: WebKitWebDriver did not answer within 30 s"),
        }
        path
    }

    /// Asks the app to quit the way the desktop does at logout (SIGTERM), waits until it has
    /// exited by itself, then ends the WebDriver session. (WebDriver's own "close" kills the
    /// app outright, which is not what a streamer does.)
    pub async fn quit_app(&mut self) {
        let app = self.app_pid();
        let _ = Command::new("kill")
            .args(["-TERM", &app.to_string()])
            .status();
        self.wait_app_exit(app, "SIGTERM").await;
    }

    /// The app's process (under tauri-driver and WebKitWebDriver).
    pub fn app_pid(&self) -> u32 {
        descendants(self.driver.id())
            .into_iter()
            .find(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim_end() == "streamcue")
            })
            .expect("the app process under tauri-driver")
    }

    /// Waits until process `app` has exited by itself (15 s at most after `what`).
    pub async fn wait_app_exit(&self, app: u32, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Path::new(&format!("/proc/{app}")).exists() && !is_zombie(app) {
            assert!(
                Instant::now() < deadline,
                "the app did not exit within 15 s of {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session, stops tauri-driver and waits (up to 20 s) until nothing it started
    /// runs any more.
    pub async fn close(mut self) {
        let below = descendants(self.driver.id());
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
        stop_driver(&mut self.driver);
        let deadline = Instant::now() + Duration::from_secs(20);
        for pid in below {
            while Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) {
                if Instant::now() > deadline {
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        // After a failed test the app may still run under the driver: stop it too.
        for pid in descendants(self.driver.id()) {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        stop_driver(&mut self.driver);
    }
}

/// All processes below `root` (children, grandchildren, ...).
pub fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The fields after the command (which may contain spaces) start after the last ')'.
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        if let Some(ppid) = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
        {
            parent_of.push((pid, ppid));
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(pid, ppid) in &parent_of {
            if ppid == p {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    out
}

pub fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// SIGTERM, not SIGKILL: a killed tauri-driver orphans WebKitWebDriver (see notes/tauri.md).
pub fn stop_driver(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
