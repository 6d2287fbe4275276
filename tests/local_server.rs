//! The local server over real HTTP on 127.0.0.1: `/health` as components change, `/metrics`
//! checked by Prometheus's own `promtool` and read back against what happened, the event stream
//! (and a client that reconnects), the Host guard, and a port that is already taken.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use streamcue::api::{ChatTarget, NoticeCode};
use streamcue::server::ServerState;
use streamcue_testkit::{secs, Harness, HarnessOptions};

async fn with_server(port: u16) -> Harness {
    Harness::start(HarnessOptions {
        local_server: streamcue::server::PortChoice::Fixed(Some(port)),
        ..Default::default()
    })
    .await
}

async fn addr(h: &Harness) -> SocketAddr {
    h.server_addr().await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn health(addr: SocketAddr) -> (u16, serde_json::Value) {
    let res = client()
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("GET /health");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_each_component_and_follows_chat() {
    let h = with_server(0).await;
    let addr = addr(&h).await;
    assert!(addr.ip().is_loopback(), "{addr}");
    let (status, body) = health(addr).await;
    assert_eq!(status, 200, "{body}");
    // OBS is on by default and not running here: that alone makes StreamCue "degraded".
    let obs_ok = matches!(
        body["components"]["obs"]["state"].as_str(),
        Some("ok" | "off")
    );
    assert_eq!(
        body["status"],
        if obs_ok { "healthy" } else { "degraded" },
        "{body}"
    );
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["components"]["chat"]["state"], "off", "{body}");
    assert_eq!(body["components"]["database"]["state"], "ok", "{body}");

    h.engine().connect_chat(ChatTarget::Demo).await.unwrap();
    let mut last = serde_json::Value::Null;
    for _ in 0..50 {
        last = health(addr).await.1;
        if last["components"]["chat"]["state"] == "ok" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last["components"]["chat"]["state"], "ok", "{last}");
    assert!(
        last["components"]["chat"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("connected to"),
        "{last}"
    );
    assert_ne!(last["status"], "unhealthy", "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool_and_count_what_chat_did() {
    let h = with_server(0).await;
    let addr = addr(&h).await;
    h.engine().connect_chat(ChatTarget::Demo).await.unwrap();
    // The demo chat talks at a few lines a second: wait for some, then one more tick.
    h.wait_counters(secs(20.0), "demo messages", |c| c.messages >= 5)
        .await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let res = client()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    let text = res.text().await.unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let om = client()
        .get(format!("http://{addr}/metrics"))
        .header(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert!(om.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    assert!(om.text().await.unwrap().ends_with("# EOF\n"));

    let counted: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("streamcue_chat_messages_total{platform=\"demo\"} "))
        .unwrap_or_else(|| panic!("no demo message counter in\n{text}"))
        .parse()
        .unwrap();
    let now = f64::from(h.counters().await.messages);
    assert!(
        (5.0..=now).contains(&counted),
        "metrics counted {counted}, the session {now}"
    );

    // Prometheus's own linter and parser.
    if Command::new("promtool").arg("--version").output().is_err() {
        if std::env::var_os("CI").is_some() {
            panic!("promtool is missing (Debian package prometheus; scripts/setup.sh installs it)");
        }
        eprintln!("SKIP the promtool check: promtool is not installed");
        return;
    }
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut check.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}\n--- the exposition ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_carries_the_windows_events_and_a_client_can_reconnect() {
    let h = with_server(0).await;
    let addr = addr(&h).await;
    for round in 0..2 {
        let mut res = client()
            .get(format!("http://{addr}/events"))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        if round == 0 {
            h.engine().connect_chat(ChatTarget::Demo).await.unwrap();
        } else {
            h.engine()
                .handle()
                .disconnect_chat(streamcue::api::ChatSlot::Main)
                .await
                .unwrap();
        }
        let mut seen = String::new();
        while !seen.contains("event: chatState") {
            let chunk = tokio::time::timeout(Duration::from_secs(10), res.chunk())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        let line = seen
            .lines()
            .find(|l| l.starts_with("data: {\"kind\":\"chatState\""))
            .unwrap_or_else(|| panic!("{seen}"));
        let want = if round == 0 {
            "connect"
        } else {
            "disconnected"
        };
        assert!(line.contains(want), "round {round}: {line}");
        // Dropping `res` closes this client; the next round connects again.
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_host_header_is_refused() {
    let h = with_server(0).await;
    let addr = addr(&h).await;
    for (host, want) in [
        ("evil.example:7373", 421),
        ("127.0.0.1", 421),
        ("localhost:1", 421),
        (&*format!("localhost:{}", addr.port()), 200),
        (&*format!("127.0.0.1:{}", addr.port()), 200),
    ] {
        let res = client()
            .get(format!("http://{addr}/health"))
            .header("Host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), want, "Host: {host}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_is_a_notice_and_everything_else_runs() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let h = with_server(port).await;
    match h.engine().handle().server().state().await.unwrap() {
        ServerState::Failed { message } => {
            assert!(message.contains(&format!("port {port}")), "{message}");
            assert!(message.contains("used by another program"), "{message}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    // The window gets it with its first snapshot (the start's events are gone by then).
    let notices = h.snapshot().await.notices;
    assert!(
        notices
            .iter()
            .any(|n| n.code == NoticeCode::LocalServerUnavailable && n.message.contains("port")),
        "{notices:?}"
    );
    // The rest of StreamCue is unaffected.
    h.engine().connect_chat(ChatTarget::Demo).await.unwrap();
    drop(taken);
}

/// Polls `/health` until `pred` holds (10 s), returning the last answer.
async fn health_until(
    addr: SocketAddr,
    what: &str,
    pred: impl Fn(u16, &serde_json::Value) -> bool,
) -> (u16, serde_json::Value) {
    let mut last = (0, serde_json::Value::Null);
    for _ in 0..100 {
        last = health(addr).await;
        if pred(last.0, &last.1) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/health never showed {what}: {} {}", last.0, last.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_goes_healthy_degraded_unhealthy_and_back_over_http() {
    use streamcue::api::{ObsNames, ObsSettingsUpdate};
    use streamcue_testkit::fake_gen::{FakeGen, Fault, HealthMode};
    use streamcue_testkit::gen_rig::GenRig;
    use streamcue_testkit::tmpfs::Tmpfs;

    // The data folder on its own small disk, so the test can fill it.
    let disk = match Tmpfs::mount(64 * 1024 * 1024) {
        Ok(d) => d,
        Err(why) => {
            println!("SKIP: {why}");
            return;
        }
    };
    let gen = FakeGen::start().await;
    let config = "retry_backoff_ms = 20\nmax_attempts = 1\nfailures_to_degrade = 1\n\
                  probe_every_seconds = 1\n";
    let mut rig = GenRig::start_with(
        Some(gen),
        config,
        5,
        Some(tempfile::tempdir_in(disk.path()).unwrap()),
    )
    .await;
    rig.handle()
        .obs()
        .update_settings(ObsSettingsUpdate {
            enabled: false,
            host: "127.0.0.1".into(),
            port: 4455,
            password: None,
            names: ObsNames::default(),
        })
        .await
        .unwrap();
    let addr = rig.h.server_addr().await;

    // Chat connected, OBS control off, the generator fine: healthy.
    let (status, body) = health_until(addr, "healthy", |_, b| b["status"] == "healthy").await;
    assert_eq!(status, 200);
    assert_eq!(body["components"]["chat"]["state"], "ok", "{body}");
    assert_eq!(body["components"]["obs"]["state"], "off", "{body}");

    // The endpoint fails: degraded mode → the generator is degraded, and so is StreamCue (200).
    rig.gen().set_default_fault(Some(Fault::Status(500)));
    rig.gen().set_health(HealthMode::Failing);
    rig.request("this one fails").await;
    let (status, body) = health_until(addr, "degraded", |_, b| b["status"] == "degraded").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["components"]["generator"]["state"], "degraded",
        "{body}"
    );
    assert!(
        body["components"]["generator"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("failed")),
        "{body}"
    );

    // The data disk fills up: the database cannot be written → unhealthy, 503.
    let filler = disk.fill();
    let (_, body) = health_until(addr, "unhealthy", |s, b| {
        s == 503 && b["status"] == "unhealthy"
    })
    .await;
    assert_eq!(body["components"]["database"]["state"], "down", "{body}");
    assert!(
        body["components"]["database"]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("cannot write")),
        "{body}"
    );

    // Space again and the endpoint back: healthy again.
    std::fs::remove_file(filler).unwrap();
    rig.gen().set_health(HealthMode::Ok);
    rig.gen().set_default_fault(None);
    health_until(addr, "healthy again", |s, b| {
        s == 200 && b["status"] == "healthy"
    })
    .await;
}
