//! Driving a StreamCue window through tauri-driver + WebKitWebDriver with fantoccini, for tests
//! whose app is not simply `CARGO_BIN_EXE_streamcue` on this machine (the install test runs the
//! packaged `/usr/bin/streamcue` inside a Debian root, through a native driver wrapper).
//!
//! The same waits and workarounds as [`crate::window`] (the first session request is retried
//! while WebKitWebDriver starts behind tauri-driver, clicks survive a row re-rendered by a live
//! update, text is read through the page, a screenshot first schedules a paint, tauri-driver is
//! stopped with SIGTERM because SIGKILL orphans WebKitWebDriver); [`crate::window::Window`] is
//! the simpler form for the app built on this machine. Folding the two into one type is a
//! follow-up.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::window::{descendants, free_port, is_zombie, stop_driver};

/// How long an element may take to appear.
pub const ELEMENT_LIMIT: Duration = Duration::from_secs(20);

/// tauri-driver plus the WebDriver session it opened on an app. Stops both on drop (and the app
/// with them, if it still runs).
pub struct Session {
    client: Option<Client>,
    driver: Child,
    artifacts: PathBuf,
    name: String,
}

impl Session {
    /// Starts tauri-driver (with `native_driver` as its WebKitWebDriver when given) and opens a
    /// session on `application`, a path as the native driver sees it. Screenshots go to
    /// `artifacts/<name>-*.png`.
    pub async fn open(
        application: &str,
        native_driver: Option<&Path>,
        env: &[(&str, &OsStr)],
        artifacts: &Path,
        name: &str,
    ) -> Session {
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
        // If this test process dies, tauri-driver gets SIGTERM (not SIGKILL: see stop_driver).
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
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tauri-driver");
        let mut session = Session {
            client: None,
            driver,
            artifacts: artifacts.to_owned(),
            name: name.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": application }),
        );
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
                Err(e) => panic!("open a WebDriver session on {application}: {e}"),
            }
        };
        session.client = Some(client);
        session
    }

    pub fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// The PID of tauri-driver (the app and the native driver run below it).
    pub fn driver_pid(&self) -> u32 {
        self.driver.id()
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

    /// The element's text content, read through the page.
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

    /// Polls `check` until it returns true, or takes a screenshot and panics with `what` (and
    /// the chat state pill) after `limit`.
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
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Saves `artifacts/<name>-<what>.png`.
    pub async fn screenshot(&self, what: &str) -> PathBuf {
        let path = self.artifacts.join(format!("{}-{what}.png", self.name));
        // A window where nothing moves never paints again, and WebKitWebDriver answers a
        // screenshot after the next paint: an invisible 1-px box schedules exactly one.
        let nudge = "const d = document.createElement('div'); \
                     d.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none'; \
                     document.body.appendChild(d); setTimeout(() => d.remove(), 2000); return 1;";
        let _ = self.c().execute(nudge, vec![]).await;
        match tokio::time::timeout(Duration::from_secs(30), self.c().screenshot()).await {
            Ok(Ok(png)) => std::fs::write(&path, png).unwrap(),
            Ok(Err(e)) => eprintln!("screenshot {what} failed: {e}"),
            Err(_) => eprintln!("screenshot {what}: WebKitWebDriver did not answer within 30 s"),
        }
        path
    }

    /// Asks the app (the descendant of tauri-driver whose command name is `comm`) to quit the
    /// way the desktop does at logout (SIGTERM) and waits until it has exited by itself.
    pub async fn quit_app(&self, comm: &str) {
        let app = descendants(self.driver.id())
            .into_iter()
            .find(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim_end() == comm)
            })
            .unwrap_or_else(|| panic!("no {comm} process under tauri-driver"));
        let _ = Command::new("kill")
            .args(["-TERM", &app.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Path::new(&format!("/proc/{app}")).exists() && !is_zombie(app) {
            assert!(
                Instant::now() < deadline,
                "{comm} did not exit within 15 s of SIGTERM"
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

impl Drop for Session {
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
