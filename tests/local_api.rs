//! The local server's control API, overlay routes and settings over real HTTP on 127.0.0.1:
//! the token (missing or wrong → 401 and nothing changes), each action acting like the window's
//! button, JSON `{code, message}` errors with the IPC's codes (400, 404, 409, 413), a moment
//! marked by hand, the overlay's page and snapshot, and the server following its settings.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use streamcue::api::{CoreEvent, RequestState, ServerPhase, ServerSettings, TriggerKind};
use streamcue::server::PortChoice;
use streamcue_testkit::gen_rig::{GenRig, FAST};
use streamcue_testkit::{secs, Harness, HarnessOptions};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn post(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut req = client()
        .post(format!("http://{addr}{path}"))
        .body(body.to_string());
    if let Some(token) = token {
        req = req.header("Authorization", format!("Bearer {token}"));
    }
    let res = req.send().await.expect("POST");
    let status = res.status();
    let text = res.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, json)
}

fn assert_error(got: &(StatusCode, Value), status: u16, code: &str) {
    assert_eq!(got.0.as_u16(), status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert!(
        got.1["message"].as_str().is_some_and(|m| m.len() > 10),
        "an error says what to do: {}",
        got.1
    );
}

async fn state_of(rig: &GenRig, id: i32) -> RequestState {
    let view = rig.handle().queue().view().await.unwrap();
    view.items
        .iter()
        .find(|i| i.id == id)
        .expect("listed")
        .state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_needs_the_token_and_acts_like_the_window() {
    let mut rig = GenRig::start(None, FAST, 30).await;
    rig.handle().generator().set_paused(true).await.unwrap();
    rig.handle().queue().set_auto_approve(false).await.unwrap();
    let addr = rig.h.server_addr().await;
    let first = rig.request("a cat on a skateboard").await;
    let second = rig.request("a dog surfing").await;
    assert_eq!(state_of(&rig, first).await, RequestState::Pending);
    let approve = format!("/api/queue/{first}/approve");

    // No token, a wrong one, a wrong scheme: 401, and the request is still pending.
    let refused = post(addr, &approve, None, "").await;
    assert_error(&refused, 401, "Unauthorized");
    let wrong = post(addr, &approve, Some("sc_0000"), "").await;
    assert_error(&wrong, 401, "Unauthorized");
    let basic = client()
        .post(format!("http://{addr}{approve}"))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    assert_eq!(
        basic.headers()["www-authenticate"],
        "Bearer realm=\"StreamCue\""
    );
    assert_eq!(state_of(&rig, first).await, RequestState::Pending);

    // With the token (made on first use, as Settings shows it).
    let token = rig.handle().server().token().await;
    let token = token.expose();
    let (status, item) = post(addr, &approve, Some(token), "").await;
    assert_eq!(status, 200, "{item}");
    assert_eq!(
        (item["id"].as_i64(), item["state"].as_str()),
        (Some(first as i64), Some("approved"))
    );
    assert_eq!(state_of(&rig, first).await, RequestState::Approved);
    rig.h
        .events
        .wait(secs(5.0), "the approval is announced", |log| {
            log.items()
                .iter()
                .any(|i| i.id == first && i.state == RequestState::Approved)
        })
        .await;
    let (status, item) = post(addr, &format!("/api/queue/{second}/skip"), Some(token), "").await;
    assert_eq!(
        (status.as_u16(), item["state"].as_str()),
        (200, Some("skipped"))
    );

    // Errors, each JSON with its stable code.
    assert_error(
        &post(
            addr,
            &format!("/api/queue/{second}/approve"),
            Some(token),
            "",
        )
        .await,
        409,
        "InvalidTransition",
    );
    assert_error(
        &post(addr, "/api/queue/999999/approve", Some(token), "").await,
        404,
        "UnknownRequest",
    );
    assert_error(
        &post(addr, "/api/queue/abc/approve", Some(token), "").await,
        400,
        "BadRequest",
    );
    assert_error(
        &post(
            addr,
            &format!("/api/queue/{first}/explode"),
            Some(token),
            "",
        )
        .await,
        400,
        "BadRequest",
    );
    assert_error(
        &post(addr, "/api/obs/show-again", Some(token), "").await,
        404,
        "UnknownRequest",
    );
    // The recorder follows OBS by default, and OBS is not running here.
    assert_error(
        &post(addr, "/api/recorder/start", Some(token), "").await,
        503,
        "Obs",
    );
    assert_error(
        &post(addr, "/api/nothing/here", Some(token), "").await,
        404,
        "BadRequest",
    );
    let big = "x".repeat(100 * 1024);
    assert_error(
        &post(addr, "/api/moments/mark", Some(token), &big).await,
        413,
        "TooLarge",
    );
    assert_error(
        &post(addr, "/api/moments/mark", Some(token), "{\"note\": ").await,
        400,
        "BadRequest",
    );
    assert_error(
        &post(addr, "/api/moments/mark", Some(token), "{\"colour\": 1}").await,
        400,
        "BadRequest",
    );
    assert_eq!(
        state_of(&rig, second).await,
        RequestState::Skipped,
        "errors changed nothing"
    );

    // A moment marked by hand: written, announced, with its note.
    let (status, moment) = post(
        addr,
        "/api/moments/mark",
        Some(token),
        "{\"note\": \"the boss fight\"}",
    )
    .await;
    assert_eq!(status, 200, "{moment}");
    assert_eq!(moment["note"], "the boss fight");
    assert_eq!(moment["triggers"][0]["kind"], "manual");
    let id = moment["id"].as_i64().unwrap() as i32;
    rig.h
        .events
        .wait(secs(5.0), "the marked moment is announced", |log| {
            log.moments().iter().any(|m| {
                m.id == id && m.triggers[0].kind == TriggerKind::Manual && m.ended_at_ms.is_some()
            })
        })
        .await;
    let stored = rig.handle().moments().latest().await.unwrap();
    assert!(stored
        .iter()
        .any(|m| m.id == id && m.note == "the boss fight"));

    // A new token: the old one stops working at once.
    let fresh = rig.handle().server().regenerate_token().await;
    assert_ne!(fresh.expose(), token);
    assert_error(
        &post(addr, "/api/moments/mark", Some(token), "").await,
        401,
        "Unauthorized",
    );
    let (status, _) = post(addr, "/api/moments/mark", Some(fresh.expose()), "").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overlay_page_and_its_snapshot_are_served_read_only() {
    let mut rig = GenRig::start(None, FAST, 30).await;
    rig.handle().generator().set_paused(true).await.unwrap();
    let addr = rig.h.server_addr().await;
    let id = rig.request("a lighthouse in a storm").await;

    let snap: Value = client()
        .get(format!("http://{addr}/overlay/snapshot"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = snap["queue"]["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|i| i["id"] == id && i["prompt"] == "a lighthouse in a storm"),
        "{snap}"
    );
    assert!(snap["moments"].is_array());
    // The watch-along card (nothing active: the overlay's panel stays hidden).
    assert!(snap["watch"]["current"].is_null(), "{snap}");
    assert!(snap["watch"]["history"].is_array(), "{snap}");

    let page = client()
        .get(format!("http://{addr}/overlay?show=queue"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    // Every script and style the page names is served.
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("./assets/") || s.starts_with("/assets/"))
        .collect();
    assert!(!assets.is_empty(), "{html}");
    for asset in assets {
        let path = asset.trim_start_matches('.');
        let res = client()
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let escape = client()
        .get(format!("http://{addr}/assets/..%2F..%2FCargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(escape.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_follows_its_settings_and_counts_event_stream_clients() {
    let mut h = Harness::start(HarnessOptions {
        local_server: PortChoice::Settings,
        ..Default::default()
    })
    .await;
    let server = h.engine().handle().server().clone();
    let first = server.view().await.unwrap();
    assert_eq!(first.overridden_by, None);
    // (Port 7373 may be taken on this machine: then the first state is Failed, which is fine.)
    let port = streamcue_testkit::window::free_port();
    let view = server
        .configure(ServerSettings {
            enabled: true,
            port,
        })
        .await
        .unwrap();
    assert_eq!(view.phase, ServerPhase::Listening, "{view:?}");
    assert_eq!(
        view.url.as_deref(),
        Some(format!("http://127.0.0.1:{port}").as_str())
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let health = client()
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // An event-stream client is counted while connected, and announced.
    let mut stream = client()
        .get(format!("http://{addr}/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let counted = |n: u32| {
        move |log: &streamcue_testkit::EventLog| {
            log.all().iter().rev().find_map(|s| match &s.event {
                CoreEvent::LocalServer { server } => Some(server.clients),
                _ => None,
            }) == Some(n)
        }
    };
    h.events.wait(secs(5.0), "one client", counted(1)).await;
    let _ = tokio::time::timeout(Duration::from_millis(50), stream.chunk()).await;
    drop(stream);
    h.events.wait(secs(5.0), "no client", counted(0)).await;

    // Off: nothing listens; the settings are kept.
    let off = server
        .configure(ServerSettings {
            enabled: false,
            port,
        })
        .await
        .unwrap();
    assert_eq!((off.phase, off.url), (ServerPhase::Off, None));
    let mut refused = false;
    for _ in 0..50 {
        if std::net::TcpStream::connect(addr).is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "nothing listens on {addr} once off");
    let bad = server
        .configure(ServerSettings {
            enabled: true,
            port: 80,
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code, streamcue::api::ErrorCode::InvalidSettings);
    h.shutdown_within(secs(10.0)).await;
    let db = h.reopen_db().await;
    let saved = db.settings().get("server.settings").await.unwrap().unwrap();
    let saved: ServerSettings = serde_json::from_str(&saved).unwrap();
    assert_eq!(
        saved,
        ServerSettings {
            enabled: false,
            port
        }
    );
}
