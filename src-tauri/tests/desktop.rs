//! The app as a desktop program, in the real window (tauri-driver + WebKitWebDriver under
//! Xvfb): one instance per data folder, close to the tray while chat runs, Quit that saves
//! everything, and the window's size kept across a restart.
//!
//! A private D-Bus session bus is started per test (the single-instance plugin meets the second
//! launch there). Xvfb has no tray host, so the tray menu is not clicked: its Quit calls
//! `app.exit(0)`, the same exit SIGTERM takes, which is what these tests send.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use streamcue_testkit::fake_irc::{privmsg_line, FakeIrc};
use streamcue_testkit::media::probe;
use streamcue_testkit::tray::TrayMenu;
use streamcue_testkit::window::{can_run, dump_app_log, Window};

const APP: &str = env!("CARGO_BIN_EXE_streamcue");

/// A private session bus; stopped on drop.
struct SessionBus {
    daemon: Child,
    address: String,
}

impl SessionBus {
    fn start() -> SessionBus {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dbus-daemon (package dbus)");
        let mut out = std::io::BufReader::new(daemon.stdout.take().unwrap());
        let mut address = String::new();
        std::io::BufRead::read_line(&mut out, &mut address).expect("bus address");
        SessionBus {
            daemon,
            address: address.trim().to_string(),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![("DBUS_SESSION_BUS_ADDRESS", self.address.clone())]
    }
}

impl SessionBus {
    /// A real notification server on this bus (dunst, on the tests' X display) and a
    /// `dbus-monitor` recording every `Notify` call it gets: what the desktop would show.
    fn watch_notifications(&self) -> Notifications {
        let monitor_child = Command::new("dbus-monitor")
            .args([
                "--address",
                &self.address,
                "interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-monitor (package dbus-bin)");
        let dunst = Command::new("dunst")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dunst (package dunst)");
        let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut monitor = Notifications {
            seen: seen.clone(),
            children: vec![monitor_child, dunst],
        };
        let out = monitor.children[0].stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(out)).map_while(Result::ok)
            {
                let mut s = seen.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        monitor
    }
}

/// Notify calls seen on the bus (their `string "…"` arguments: app, title, body).
struct Notifications {
    seen: std::sync::Arc<std::sync::Mutex<String>>,
    children: Vec<Child>,
}

impl Notifications {
    fn titles(&self) -> String {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Notifications {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// Whether the main window is shown (asked through the page, as the window's own API does).
async fn window_visible(w: &Window) -> bool {
    let script = "const done = arguments[arguments.length - 1]; \
        window.__TAURI_INTERNALS__.invoke('plugin:window|is_visible', { label: 'main' }) \
          .then((v) => done(v), (e) => done('error: ' + e));";
    match w.c().execute_async(script, vec![]).await {
        Ok(serde_json::Value::Bool(v)) => v,
        other => panic!("is_visible: {other:?}"),
    }
}

/// The window's close button: the same close request the window manager sends. When the
/// window really closes, the page goes with it and the script gets no answer: that is fine;
/// only a refusal by the window's API is an error.
async fn close_window(w: &Window) {
    let script = "const done = arguments[arguments.length - 1]; \
        window.__TAURI_INTERNALS__.invoke('plugin:window|close', { label: 'main' }) \
          .then(() => done('ok'), (e) => done('error: ' + e));";
    let answer = w.c().execute_async(script, vec![]).await;
    if let Ok(serde_json::Value::String(s)) = &answer {
        assert_eq!(s, "ok", "the close request was refused");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_to_the_tray_keeps_chat_counting_and_a_second_launch_brings_the_window_back() {
    let test = "closing_to_the_tray_keeps_chat_counting_and_a_second_launch_brings_the_window_back";
    if !can_run(test) {
        return;
    }
    let bus = SessionBus::start();
    let notifications = bus.watch_notifications();
    let server = FakeIrc::start().await.expect("fake Twitch IRC");
    let data = tempfile::tempdir().unwrap();
    let mut w = Window::open_with(APP, data.path(), &server.addr().to_string(), &bus.env()).await;
    w.click("#source-twitch").await;
    w.connect_twitch("trayed").await;
    assert!(server.wait_joins("trayed", 1, Duration::from_secs(5)).await);
    w.click("#auto-approve").await;
    w.until("auto-approve on", Duration::from_secs(10), || async {
        w.attr("#auto-approve", "aria-pressed").await.as_deref() == Some("true")
    })
    .await;

    // Closing while chat runs hides the window; StreamCue keeps reading chat.
    close_window(&w).await;
    w.until("the window hidden", Duration::from_secs(10), || async {
        !window_visible(&w).await
    })
    .await;
    let mut sent = 0u64;
    for i in 0..40 {
        let line = privmsg_line("trayed", &format!("viewer{i}"), "still here while hidden");
        sent += server.broadcast("trayed", &line) as u64;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sent, 40, "every line reached the connection");

    // Desktop notifications, through a real notification server: the one-time "still running
    // in the tray" notice, then a viewer's request generated while the window is hidden.
    server.broadcast(
        "trayed",
        &privmsg_line("trayed", "nightowl", "!anime a lantern in the fog"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !notifications.titles().contains("Clip ready") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let seen = notifications.titles();
    println!("Notify calls seen on the bus:\n{seen}");
    assert!(
        seen.contains("string \"Clip ready\"") && seen.contains("from nightowl is ready"),
        "a clip made while hidden is notified: {seen}"
    );
    assert!(
        seen.contains("string \"StreamCue is still running\""),
        "the first hide says StreamCue keeps running in the tray: {seen}"
    );

    // A second launch on the same data folder raises this window and exits with status 0,
    // without opening the database (the first instance holds it).
    let started = Instant::now();
    let mut second = Command::new(APP)
        .env("STREAMCUE_DATA_DIR", data.path())
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("second launch");
    let status = loop {
        if let Some(status) = second.try_wait().expect("wait for the second launch") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = second.kill();
            let _ = second.wait();
            panic!("the second launch was still running after 20 s (a second window?)");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "the second launch exits 0: {status:?}");
    w.until(
        "the window shown again",
        Duration::from_secs(10),
        || async { window_visible(&w).await },
    )
    .await;
    w.until(
        "the messages read while hidden",
        Duration::from_secs(10),
        || async { w.number("#msg-total").await >= 40 },
    )
    .await;
    w.screenshot("desktop-raised").await;

    // Quit (the tray's Quit and SIGTERM take the same exit): the session is ended and saved
    // with every message counted while the window was hidden.
    w.quit_app().await;
    w.close().await;
    let db = streamcue::db::Database::open(&data.path().join("streamcue.db"))
        .await
        .expect("the database is free again after Quit");
    let sessions = db.sessions().all().await.unwrap();
    let session = sessions.last().expect("the chat session row");
    if session.messages < 40 || session.ended_at_ms.is_none() {
        dump_app_log(data.path());
    }
    assert!(
        session.messages >= 40,
        "messages saved: {}",
        session.messages
    );
    assert!(
        session.ended_at_ms.is_some(),
        "the session was ended by Quit"
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nothing_running_closing_the_window_quits() {
    if !can_run("with_nothing_running_closing_the_window_quits") {
        return;
    }
    let bus = SessionBus::start();
    let server = FakeIrc::start().await.expect("fake Twitch IRC");
    let data = tempfile::tempdir().unwrap();
    let w = Window::open_with(APP, data.path(), &server.addr().to_string(), &bus.env()).await;
    w.until("the idle state", Duration::from_secs(20), || async {
        w.state().await == "disconnected"
    })
    .await;
    close_window(&w).await;
    // The app exits by itself: its lock on the database goes with it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let db = loop {
        match streamcue::db::Database::open(&data.path().join("streamcue.db")).await {
            Ok(db) => break db,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(e) => panic!("the app did not quit when its window closed: {e}"),
        }
    };
    db.close().await;
    w.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_size_survives_a_restart() {
    if !can_run("the_window_size_survives_a_restart") {
        return;
    }
    let bus = SessionBus::start();
    let server = FakeIrc::start().await.expect("fake Twitch IRC");
    let data = tempfile::tempdir().unwrap();
    let irc = server.addr().to_string();

    let mut w = Window::open_with(APP, data.path(), &irc, &bus.env()).await;
    w.c().set_window_size(1000, 640).await.expect("resize");
    w.until("the new size", Duration::from_secs(10), || async {
        w.c().get_window_size().await.ok() == Some((1000, 640))
    })
    .await;
    w.quit_app().await;
    w.close().await;
    let saved = std::fs::read_to_string(data.path().join("window-state.json"))
        .expect("the window state was saved at Quit");
    let state: serde_json::Value = serde_json::from_str(&saved).expect("window-state.json");
    assert_eq!(
        (&state["main"]["width"], &state["main"]["height"]),
        (&serde_json::json!(1000), &serde_json::json!(640)),
        "the saved state holds the size at Quit: {saved}"
    );

    // The plugin restores the size as the window is made; under load the X server may answer
    // the first size query before that resize lands, so wait for it (a window that never
    // takes its saved size still fails here).
    let w = Window::open_with(APP, data.path(), &irc, &bus.env()).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut size = w.c().get_window_size().await.expect("size");
    while size != (1000, 640) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(150)).await;
        size = w.c().get_window_size().await.expect("size");
    }
    assert_eq!(
        size,
        (1000, 640),
        "the window opens at the size it was closed at"
    );
    w.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quit_from_the_tray_while_hidden_finalises_a_streamlink_recording_in_the_chosen_folder() {
    let test =
        "quit_from_the_tray_while_hidden_finalises_a_streamlink_recording_in_the_chosen_folder";
    if !can_run(test) {
        return;
    }
    let bus = SessionBus::start();
    let server = FakeIrc::start().await.expect("fake Twitch IRC");
    let source = streamcue_testkit::hls_source::HlsSource::start().await;
    let data = tempfile::tempdir().unwrap();
    let w = Window::open_with(APP, data.path(), &server.addr().to_string(), &bus.env()).await;

    // Settings → Recorder: streamlink from the local HLS source.
    w.click("#settings-open").await;
    w.click("#settings-nav-recorder").await;
    w.wait_for("#recorder-mode")
        .await
        .select_by_value("streamlink")
        .await
        .expect("choose streamlink");
    let url = w.wait_for("#recorder-url").await;
    url.clear().await.unwrap();
    url.send_keys(&source.url()).await.unwrap();
    w.click("#recorder-save").await;
    w.until("the settings saved", Duration::from_secs(10), || async {
        !w.text("#recorder-save-status").await.trim().is_empty()
    })
    .await;

    // Settings → Folders: a file is refused in words; a new folder is used.
    let scratch = tempfile::tempdir().unwrap();
    let in_the_way = scratch.path().join("notes.txt");
    std::fs::write(&in_the_way, b"x").unwrap();
    let chosen = scratch.path().join("Stream recordings");
    w.click("#settings-nav-folders").await;
    for (typed, outcome) in [(&in_the_way, "refused"), (&chosen, "used")] {
        let field = w.wait_for("#folder-recordings-path").await;
        field.clear().await.unwrap();
        field.send_keys(&typed.display().to_string()).await.unwrap();
        w.click("#folder-recordings-save").await;
        w.until(
            &format!("the folder {outcome}"),
            Duration::from_secs(10),
            || async {
                match outcome {
                    "refused" => w
                        .text("#folder-recordings-error")
                        .await
                        .contains("is a file, not a folder"),
                    _ => w.text("#folder-recordings-save-status").await.trim() == "Saved",
                }
            },
        )
        .await;
    }
    w.screenshot("settings-folders").await;
    w.click("#settings-nav-about").await;
    assert_eq!(
        w.text("#path-recordings").await,
        chosen.display().to_string(),
        "About shows the folder in use"
    );
    w.click("#settings-close").await;

    // The demo chat is live, so the recording belongs to its session (named after it).
    w.click("#source-demo").await;
    w.click("#connect-btn").await;
    w.until("connected to the demo", Duration::from_secs(20), || async {
        w.state().await == "connected"
    })
    .await;
    // Record until the file grows, then close the window: it hides, the recording goes on.
    w.click("#recorder-start").await;
    w.until("recording", Duration::from_secs(40), || async {
        w.attr("#recorder-state", "data-phase").await.as_deref() == Some("recording")
    })
    .await;
    close_window(&w).await;
    w.until("the window hidden", Duration::from_secs(10), || async {
        !window_visible(&w).await
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    // The tray, as a desktop's tray host sees it over D-Bus: its status line says what runs;
    // Quit StreamCue stops streamlink with SIGINT and finalises its file before StreamCue exits.
    let app = w.app_pid();
    let tray = TrayMenu::find(&bus.address, app, Duration::from_secs(10)).expect("the tray menu");
    let items = tray.items().expect("the tray's items");
    assert!(
        items
            .first()
            .is_some_and(|i| i.label.contains("recording") && !i.enabled),
        "the status line says a recording runs: {items:?}"
    );
    assert!(
        items.iter().any(|i| i.label == "Show window"),
        "the window is hidden, so the tray offers to show it: {items:?}"
    );
    tray.click("Quit StreamCue").expect("click Quit");
    w.wait_app_exit(app, "Quit in the tray").await;
    w.close().await;
    let recordings: Vec<_> = std::fs::read_dir(&chosen)
        .expect("the chosen recordings folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e != "part"))
        .collect();
    let file = recordings.first().unwrap_or_else(|| {
        dump_app_log(data.path());
        panic!("no recording file")
    });
    let (video, duration) = probe(file);
    assert!(video, "ffprobe finds a video stream in {}", file.display());
    assert!(duration >= 1.0, "the recording lasts {duration} s");
    // `{channel}_s{session}_{timestamp}`, and the row names the same session.
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.starts_with("demo_s1_"), "{name}");
    let db = streamcue::db::Database::open(&data.path().join("streamcue.db"))
        .await
        .unwrap();
    let row = db
        .recordings()
        .get(1)
        .await
        .unwrap()
        .expect("the recording's row");
    assert_eq!(row.session_id, Some(1), "{row:?}");
    db.close().await;
}
