//! End-to-end tests in the real window: the built app (WebKitGTK) under Xvfb, driven through
//! tauri-driver + WebKitWebDriver, talking to a fake Twitch IRC server over real TCP (and, for
//! OBS, to a real OBS Studio 30.2.3 under its own Xvfb).
//!
//! Needs: `DISPLAY` (scripts/test.sh starts Xvfb), `tauri-driver` and `WebKitWebDriver` on PATH.
//! Outside CI a missing prerequisite skips with a printed reason; under CI it fails.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use streamcue_testkit::fake_irc::{privmsg_line, FakeIrc};
use streamcue_testkit::fake_oauth;
use streamcue_testkit::real_obs;
use streamcue_testkit::window::{artifacts_dir, can_run, dump_app_log, Window};

const APP: &str = env!("CARGO_BIN_EXE_streamcue");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twitch_chat_connects_counts_graphs_and_disconnects() {
    if !can_run("twitch_chat_connects_counts_graphs_and_disconnects") {
        return;
    }
    let server = FakeIrc::start()
        .await
        .expect("start the fake Twitch IRC server");
    let data = tempfile::tempdir().unwrap();
    let w = Window::open(APP, data.path(), &server.addr().to_string()).await;

    // The window is up and idle.
    w.until("the idle state", Duration::from_secs(20), || async {
        w.state().await == "disconnected"
    })
    .await;

    // Bad input is refused in the window and never reaches the server.
    w.click("#source-twitch").await;
    let input = w.wait_for("#channel-input").await;
    input.send_keys("bad name!").await.unwrap();
    w.until("a channel error", Duration::from_secs(5), || async {
        !w.text("#channel-error").await.trim().is_empty()
    })
    .await;
    let connect_enabled = w.wait_for("#connect-btn").await.is_enabled().await.unwrap();
    assert!(
        !connect_enabled,
        "Connect must be disabled while the channel name is invalid"
    );
    assert_eq!(server.connections_total(), 0);

    // A URL form of the channel is accepted and connects.
    w.connect_twitch("https://www.twitch.tv/StreamCueTest")
        .await;
    assert!(
        w.text("#chat-state").await.contains("streamcuetest"),
        "state pill names the channel"
    );
    assert!(
        server
            .wait_joins("streamcuetest", 1, Duration::from_secs(5))
            .await,
        "the server saw the JOIN"
    );

    // Chat arrives over ~3 s; the counter and the graph follow.
    let mut sent = 0u64;
    for round in 0..6 {
        for i in 0..(10 + round * 5) {
            let line = privmsg_line(
                "streamcuetest",
                &format!("viewer{i}"),
                &format!("hello {round} Kappa ✨"),
            );
            assert_eq!(
                server.broadcast("streamcuetest", &line),
                1,
                "one connection joined"
            );
            sent += 1;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    w.until(
        &format!("{sent} messages counted"),
        Duration::from_secs(15),
        || async { w.number("#msg-total").await == sent },
    )
    .await;
    w.until(
        "the graph to show the burst",
        Duration::from_secs(10),
        || async {
            let points: u64 = w
                .attr("#velocity-graph", "data-points")
                .await
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            points >= 3
        },
    )
    .await;
    let shot = w.screenshot("twitch-connected").await;
    assert!(
        std::fs::metadata(&shot)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false),
        "screenshot saved"
    );

    // Disconnect ends the session.
    w.click("#disconnect-btn").await;
    w.until("disconnected", Duration::from_secs(10), || async {
        w.state().await == "disconnected"
    })
    .await;
    w.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_chat_plays_with_no_account() {
    if !can_run("demo_chat_plays_with_no_account") {
        return;
    }
    let server = FakeIrc::start()
        .await
        .expect("start the fake Twitch IRC server"); // never dialled: the demo needs no network
    let data = tempfile::tempdir().unwrap();
    let w = Window::open(APP, data.path(), &server.addr().to_string()).await;
    w.click("#source-demo").await;
    w.click("#connect-btn").await;
    w.until("connected to the demo", Duration::from_secs(20), || async {
        w.state().await == "connected"
    })
    .await;
    w.until("demo messages", Duration::from_secs(20), || async {
        w.number("#msg-total").await >= 5
    })
    .await;
    let first = w.number("#msg-total").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        w.number("#msg-total").await > first,
        "the demo keeps playing"
    );
    w.screenshot("demo-connected").await;
    assert_eq!(
        server.connections_total(),
        0,
        "the demo chat made no Twitch connection"
    );
    let shown = w.number("#msg-total").await;
    let mut w = w;
    w.quit_app().await;
    w.close().await;

    // Quitting shut the engine down in order: the session was ended and saved, and the
    // database lock was released.
    let db_path = data.path().join("streamcue.db");
    let deadline = Instant::now() + Duration::from_secs(15);
    let db = loop {
        match streamcue::db::Database::open(&db_path).await {
            Ok(db) => break db,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "the app did not release its database: {e}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let sessions = db.sessions().all().await.unwrap();
    if sessions.first().and_then(|s| s.end_reason.as_deref()) != Some("StreamCue closed") {
        dump_app_log(data.path());
    }
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let s = &sessions[0];
    assert_eq!((s.platform.as_str(), s.channel.as_str()), ("demo", "demo"));
    assert_eq!(s.end_reason.as_deref(), Some("StreamCue closed"), "{s:?}");
    assert!(s.ended_at_ms.is_some());
    assert!(
        s.messages as u64 >= shown,
        "saved {} < shown {shown}",
        s.messages
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_requests_are_approved_in_the_window_and_become_playable_clips() {
    if !can_run("chat_requests_are_approved_in_the_window_and_become_playable_clips") {
        return;
    }
    let server = FakeIrc::start().await.expect("fake server");
    let data = tempfile::tempdir().unwrap();
    let mut w = Window::open(APP, data.path(), &server.addr().to_string()).await;
    w.click("#source-twitch").await;
    w.connect_twitch("queuetest").await;
    assert!(
        server
            .wait_joins("queuetest", 1, Duration::from_secs(5))
            .await
    );

    // Three viewers ask; one asks with nothing to draw (usage reply, not queued).
    for (user, text) in [
        ("pixelcat", "!anime \"a cat surfing a wave\""),
        ("neonfox", "!anime neon city at night, rain"),
        ("sleepy_owl", "!anime"),
        ("mochibyte", "!ANIME “tiny robot gardening” 🌱"),
    ] {
        server.broadcast("queuetest", &privmsg_line("queuetest", user, text));
    }
    w.until(
        "three pending requests",
        Duration::from_secs(15),
        || async { w.text("#queue-waiting").await.trim() == "3" },
    )
    .await;
    let ids: Vec<String> = {
        let script = "return Array.from(document.querySelectorAll('.queue-item')).map(e => e.dataset.id + ':' + e.dataset.state);";
        let v = w.c().execute(script, vec![]).await.unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.iter().all(|s| s.ends_with(":pending")), "{ids:?}");
    let first = ids[0].split(':').next().unwrap().to_string();
    let second = ids[1].split(':').next().unwrap().to_string();

    w.click(&format!(
        ".queue-item[data-id='{first}'] [data-action='approve']"
    ))
    .await;
    w.click(&format!(
        ".queue-item[data-id='{second}'] [data-action='skip']"
    ))
    .await;
    // The approved request is generated by the offline backend (real ffmpeg): the row moves on
    // to `ready` and names its clip.
    w.until(
        "the approved request becomes a clip, the other is skipped",
        Duration::from_secs(60),
        || async {
            w.attr(&format!(".queue-item[data-id='{first}']"), "data-state")
                .await
                .as_deref()
                == Some("ready")
                && w.attr(&format!(".queue-item[data-id='{second}']"), "data-state")
                    .await
                    .as_deref()
                    == Some("skipped")
        },
    )
    .await;
    let clip = w
        .attr(&format!(".queue-item[data-id='{first}']"), "data-file")
        .await
        .expect("the ready row names its clip");
    assert_eq!(
        PathBuf::from(&clip),
        data.path()
            .join("clips")
            .join(format!("request-{first}.mp4"))
    );
    w.until("the counters", Duration::from_secs(10), || async {
        w.number("#q-accepted").await == 3
            && w.number("#q-skipped").await == 1
            && w.number("#gen-ready").await == 1
    })
    .await;
    w.screenshot("queue").await;

    // The clip plays: ffprobe sees H.264 video with a duration.
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=codec_name:format=duration", "-of", "default=nw=1"])
        .arg(&clip)
        .output()
        .expect("ffprobe runs");
    let out = String::from_utf8_lossy(&probe.stdout).to_string();
    assert!(out.contains("codec_name=h264"), "{out}");
    let duration: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("duration="))
        .and_then(|d| d.parse().ok())
        .unwrap_or(0.0);
    assert!(duration > 0.0, "{out}");

    w.quit_app().await;
    w.close().await;
    // The window showed what the database holds.
    let db = streamcue::db::Database::open(&data.path().join("streamcue.db"))
        .await
        .unwrap();
    let first_row = db
        .requests()
        .get(first.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let second_row = db
        .requests()
        .get(second.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first_row.prompt, "a cat surfing a wave");
    assert_eq!(first_row.state, streamcue::api::RequestState::Ready);
    assert_eq!(first_row.file_path.as_deref(), Some(clip.as_str()));
    assert_eq!(second_row.state, streamcue::api::RequestState::Skipped);
    let waiting = db.requests().waiting().await.unwrap();
    assert_eq!(waiting.len(), 1, "one still pending: {waiting:?}");
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_with_twitch_then_chat_as_that_account() {
    if !can_run("log_in_with_twitch_then_chat_as_that_account") {
        return;
    }
    const TOKEN: &str = "e2eAccessTokenXyz123";
    let irc = FakeIrc::start().await.expect("fake IRC");
    let oauth = fake_oauth::FakeOauth::start().await;
    oauth.set_device(1, 300);
    oauth.approve_after(2, TOKEN, None, "streamerbob");
    let data = tempfile::tempdir().unwrap();
    let mut w =
        Window::open_with_login_service(APP, data.path(), &irc.addr().to_string(), &oauth).await;
    w.click("#account-login").await;
    let code = oauth.user_code();
    w.until(
        "the device code to show",
        Duration::from_secs(10),
        || async { w.text("#account-code").await.trim() == code },
    )
    .await;
    assert!(
        w.text("#account-status")
            .await
            .contains("twitch.tv/activate")
            || w.text("#account-status").await.contains("127.0.0.1")
    );
    w.screenshot("login-code").await;
    w.until("logged in", Duration::from_secs(15), || async {
        w.attr("#account", "data-state").await.as_deref() == Some("loggedIn")
    })
    .await;
    assert!(w.text("#account-status").await.contains("streamerbob"));

    // Chat now logs in as that account, with that token.
    w.click("#source-twitch").await;
    w.connect_twitch("bobschannel").await;
    let logins = irc.logins();
    assert!(
        logins
            .iter()
            .any(|l| l.nick == "streamerbob" && l.token.as_deref() == Some(TOKEN)),
        "chat did not log in as the account"
    );
    // The token never reached the page.
    let html = w.c().source().await.unwrap();
    assert!(!html.contains(TOKEN), "the token is in the page");

    w.click("#disconnect-btn").await;
    w.click("#account-logout").await;
    w.until("logged out", Duration::from_secs(10), || async {
        w.attr("#account", "data-state").await.as_deref() == Some("loggedOut")
    })
    .await;
    assert!(
        !oauth.token_is_valid(TOKEN),
        "logging out revoked the token"
    );
    w.quit_app().await;
    w.close().await;
    let log_files = std::fs::read_dir(data.path().join("logs")).unwrap();
    for f in log_files.flatten() {
        let text = std::fs::read_to_string(f.path()).unwrap_or_default();
        assert!(!text.contains(TOKEN), "the token reached the app's log");
    }
}

/// A real OBS whose websocket asks for no password (this machine has no OS keyring for the app
/// to keep one in), or `None` after printing why it cannot run here (panics under CI).
async fn obs_without_password(test: &str) -> Option<real_obs::RealObs> {
    real_obs::prepare_or_skip(test)?;
    let mut obs = real_obs::RealObs::prepare_with(real_obs::ObsSetup {
        auth: false,
        ..Default::default()
    })
    .expect("prepare OBS");
    obs.launch().await.expect("OBS starts");
    Some(obs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obs_panel_shows_the_live_scene_sets_up_obs_and_plays_the_clip() {
    const TEST: &str = "obs_panel_shows_the_live_scene_sets_up_obs_and_plays_the_clip";
    if !can_run(TEST) {
        return;
    }
    let Some(obs) = obs_without_password(TEST).await else {
        return;
    };
    let client = obs.client().await;
    let server = FakeIrc::start().await.expect("fake server");
    let data = real_obs::obs_tempdir(); // under /tmp: OBS sees the clips
    let mut w = Window::open(APP, data.path(), &server.addr().to_string()).await;
    w.point_obs_card_at(&obs).await;
    w.until("the live scene", Duration::from_secs(20), || async {
        w.text("#obs-scene").await.trim() == "Live"
    })
    .await;
    assert!(
        w.text("#obs-conn").await.contains("30.2"),
        "{}",
        w.text("#obs-conn").await
    );
    // The scene follows OBS live.
    client.scenes().create("Just Chatting").await.unwrap();
    client
        .scenes()
        .set_current_program_scene("Just Chatting")
        .await
        .unwrap();
    w.until("the live scene", Duration::from_secs(10), || async {
        w.text("#obs-scene").await.trim() == "Just Chatting"
    })
    .await;

    // Set up OBS creates the scenes.
    w.click("#obs-setup").await;
    w.until("the set-up report", Duration::from_secs(10), || async {
        w.text("#obs-setup-result").await.contains("Created")
    })
    .await;
    let scenes: Vec<String> = client
        .scenes()
        .list()
        .await
        .unwrap()
        .scenes
        .into_iter()
        .map(|s| s.id.name)
        .collect();
    for s in ["Generating", "Result", "Hero Shot"] {
        assert!(scenes.iter().any(|x| x == s), "{s} in {scenes:?}");
    }
    w.screenshot("obs-setup").await;

    // A request, approved in the window, is generated offline and played in OBS's Result scene.
    w.click("#source-twitch").await;
    w.connect_twitch("obstest").await;
    assert!(
        server
            .wait_joins("obstest", 1, Duration::from_secs(5))
            .await
    );
    server.broadcast(
        "obstest",
        &privmsg_line("obstest", "pixelcat", "!anime a cat surfing a wave"),
    );
    w.click(".queue-item[data-state='pending'] [data-action='approve']")
        .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let scene = client
            .scenes()
            .current_program_scene()
            .await
            .unwrap()
            .id
            .name;
        if scene == "Result" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "OBS never showed Result (on {scene})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shot = artifacts_dir().join("obs-result-scene.png");
    obs.screenshot(&shot).expect("OBS screenshot");
    w.until(
        "the panel shows Result",
        Duration::from_secs(10),
        || async { w.text("#obs-scene").await.trim() == "Result" },
    )
    .await;
    w.screenshot("obs-result").await;
    // When the clip ends OBS goes back to the streamer's scene and the request is shown.
    w.until(
        "shown, back on Just Chatting",
        Duration::from_secs(20),
        || async {
            w.text("#obs-scene").await.trim() == "Just Chatting"
                && w.exists(".queue-item[data-state='shown']").await
        },
    )
    .await;
    w.quit_app().await;
    w.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_burst_in_chat_puts_a_marker_on_the_graph_and_a_row_in_moments() {
    if !can_run("a_clip_burst_in_chat_puts_a_marker_on_the_graph_and_a_row_in_moments") {
        return;
    }
    let server = FakeIrc::start().await.expect("fake server");
    let data = tempfile::tempdir().unwrap();
    let mut w = Window::open(APP, data.path(), &server.addr().to_string()).await;
    w.click("#source-twitch").await;
    w.connect_twitch("momenttest").await;
    assert!(
        server
            .wait_joins("momenttest", 1, Duration::from_secs(5))
            .await
    );
    // Steady chat for a few seconds: nothing to mark.
    for s in 0..4 {
        for i in 0..2 {
            server.broadcast(
                "momenttest",
                &privmsg_line("momenttest", &format!("calm{s}{i}"), "nice stream"),
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(!w.exists(".moment-marker").await, "no moment yet");
    // The burst: eight viewers type CLIP.
    for i in 0..8 {
        server.broadcast(
            "momenttest",
            &privmsg_line("momenttest", &format!("clipper{i}"), "CLIP THAT"),
        );
    }
    w.until("a marker and a row", Duration::from_secs(15), || async {
        w.exists(".moment-marker[data-kinds*='keyword']").await
            && w.exists(".moment-row[data-kinds*='keyword']").await
    })
    .await;
    let title = w
        .attr(".moment-marker[data-kinds*='keyword']", "title")
        .await
        .unwrap_or_default();
    assert!(title.contains("CLIP ×8"), "{title}");
    assert_eq!(w.text("#moments-count").await.trim(), "1");
    assert!(w.text(".moment-row").await.contains("CLIP ×8"));
    w.screenshot("moments").await;
    w.quit_app().await;
    w.close().await;
    // What the window showed is in the database.
    let db = streamcue::db::Database::open(&data.path().join("streamcue.db"))
        .await
        .unwrap();
    let sessions = db.sessions().summaries(5).await.unwrap();
    assert_eq!(sessions[0].moments, 1);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_with_obs_then_cut_a_clip_of_a_chat_moment() {
    const TEST: &str = "record_with_obs_then_cut_a_clip_of_a_chat_moment";
    if !can_run(TEST) {
        return;
    }
    let Some(obs) = obs_without_password(TEST).await else {
        return;
    };
    let server = FakeIrc::start().await.expect("fake server");
    let data = real_obs::obs_tempdir(); // under /tmp: OBS sees the clips
    let mut w = Window::open(APP, data.path(), &server.addr().to_string()).await;
    w.point_obs_card_at(&obs).await;
    w.click("#source-twitch").await;
    w.connect_twitch("rectest").await;
    assert!(
        server
            .wait_joins("rectest", 1, Duration::from_secs(5))
            .await
    );

    // Record with OBS, from StreamCue.
    w.click("#recorder-start").await;
    w.until("recording", Duration::from_secs(40), || async {
        w.attr("#recorder-state", "data-phase").await.as_deref() == Some("recording")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for i in 0..8 {
        server.broadcast(
            "rectest",
            &privmsg_line("rectest", &format!("clipper{i}"), "CLIP IT"),
        );
    }
    w.until("the moment", Duration::from_secs(40), || async {
        w.exists(".moment-row[data-kinds*='keyword']").await
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    w.click("#recorder-stop").await;
    w.until(
        "stopped, with the file",
        Duration::from_secs(20),
        || async {
            w.attr("#recorder-state", "data-phase").await.as_deref() == Some("idle")
                && !w.text("#recorder-path").await.trim().is_empty()
        },
    )
    .await;

    // Cut clip on the moment's row.
    w.click(".moment-row[data-kinds*='keyword'] [data-action='cutClip']")
        .await;
    w.until("the clip row", Duration::from_secs(60), || async {
        w.exists(".moment-clip[data-path]").await
    })
    .await;
    let clip = w
        .attr(".moment-clip[data-path]", "data-path")
        .await
        .expect("the clip's file");
    assert!(
        w.exists(".moment-clip [data-action='reveal']").await,
        "the clip can be shown in its folder"
    );
    w.screenshot("clip").await;
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name:format=duration",
        ])
        .args(["-of", "default=nw=1"])
        .arg(&clip)
        .output()
        .expect("ffprobe runs");
    let out = String::from_utf8_lossy(&probe.stdout).to_string();
    assert!(out.contains("codec_name=h264"), "{clip}: {out}");
    let duration: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("duration="))
        .and_then(|d| d.parse().ok())
        .unwrap_or(0.0);
    assert!(duration > 0.5, "{out}");
    w.quit_app().await;
    w.close().await;
}

/// Where the streamer's main controls are, read through the page: each named element's
/// bounding box, the viewport and whether the page itself scrolls.
const LAYOUT_PROBE: &str = r##"
const boxes = {};
const add = (name, el) => {
  if (!el) { boxes[name] = null; return; }
  const r = el.getBoundingClientRect();
  boxes[name] = { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height };
};
add("graph", document.querySelector("#velocity-graph"));
document.querySelectorAll(".queue-item").forEach((el, i) => { if (i < 5) add(`queue row ${i + 1}`, el); });
add("OBS state", document.querySelector("#obs-state"));
add("moments list", document.querySelector("#moments-count")?.closest(".card"));
for (const id of ["limit-replies", "limit-cooldowns", "limit-queue", "limit-generation"]) {
  add(id, document.getElementById(id));
}
const se = document.scrollingElement;
return JSON.stringify({
  boxes,
  width: window.innerWidth,
  height: window.innerHeight,
  pageScrolls: se.scrollHeight > se.clientHeight + 1,
});
"##;

/// The names of the probed elements that are missing or not wholly inside the viewport.
fn outside_viewport(probe: &serde_json::Value) -> Vec<String> {
    let (w, h) = (
        probe["width"].as_f64().unwrap(),
        probe["height"].as_f64().unwrap(),
    );
    let mut bad = Vec::new();
    for (name, b) in probe["boxes"].as_object().unwrap() {
        let inside = b.is_object()
            && b["top"].as_f64().unwrap() >= 0.0
            && b["left"].as_f64().unwrap() >= 0.0
            && b["bottom"].as_f64().unwrap() <= h + 0.5
            && b["right"].as_f64().unwrap() <= w + 0.5;
        if !inside {
            bad.push(format!("{name}: {b}"));
        }
    }
    bad
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_a_streamer_needs_fits_one_screen_in_both_themes() {
    if !can_run("everything_a_streamer_needs_fits_one_screen_in_both_themes") {
        return;
    }
    let server = FakeIrc::start().await.expect("fake server");
    let data = tempfile::tempdir().unwrap();
    let w = Window::open(APP, data.path(), &server.addr().to_string()).await;
    w.click("#source-twitch").await;
    w.connect_twitch("layouttest").await;
    assert!(
        server
            .wait_joins("layouttest", 1, Duration::from_secs(5))
            .await
    );
    // Ten waiting requests with long prompts: the queue is as full as it gets.
    for i in 0..10 {
        server.broadcast(
            "layouttest",
            &privmsg_line(
                "layouttest",
                &format!("viewer{i}"),
                &format!("!anime a very long prompt number {i} about a cat surfing a giant wave at sunset over a neon city"),
            ),
        );
    }
    w.until("10 waiting requests", Duration::from_secs(20), || async {
        w.number("#queue-waiting").await == 10
    })
    .await;

    for (width, height) in [(1280u32, 720u32), (1200, 780)] {
        w.c().set_window_size(width, height).await.unwrap();
        // The window manager-less Xvfb applies the size at once; give layout a frame.
        w.until("the new size", Duration::from_secs(5), || async {
            let v = w
                .c()
                .execute("return [window.innerWidth, window.innerHeight];", vec![])
                .await
                .unwrap();
            v == serde_json::json!([width, height])
        })
        .await;
        let probe: serde_json::Value = serde_json::from_str(
            w.c()
                .execute(LAYOUT_PROBE, vec![])
                .await
                .unwrap()
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let shot = w.screenshot(&format!("layout-{width}x{height}")).await;
        let bad = outside_viewport(&probe);
        assert!(
            bad.is_empty(),
            "at {width}×{height} these are not on screen (see {}): {bad:#?}",
            shot.display()
        );
        assert!(
            !probe["pageScrolls"].as_bool().unwrap(),
            "at {width}×{height} the page scrolls"
        );
        let graph = probe["boxes"]["graph"]["height"].as_f64().unwrap();
        assert!(
            graph >= 200.0,
            "the graph is {graph} px tall at {width}×{height}"
        );
    }

    // Both themes, for people to look at: set from Settings → Appearance.
    w.c().set_window_size(1280, 720).await.unwrap();
    for theme in ["light", "dark"] {
        w.click("#settings-open").await;
        w.click("#settings-nav-appearance").await;
        w.click(&format!("#theme-{theme}")).await;
        w.click("#settings-close").await;
        w.until(
            "Settings closed, the theme applied",
            Duration::from_secs(5),
            || async {
                w.attr("html", "data-theme").await.as_deref() == Some(theme)
                    && !w.exists(".settings-root:not([hidden])").await
            },
        )
        .await;
        w.screenshot(&format!("theme-{theme}")).await;
    }
    w.close().await;
}
