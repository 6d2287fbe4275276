//! Watch-along sessions in the engine, with the external controller executor: a fake
//! controller over real HTTP, and its webhooks into StreamCue's local server (127.0.0.1).

use std::time::Duration;

use streamcue::api::{
    CoreEvent, WatchExecutor, WatchSettings, WatchSource, WatchStartOutcome, WatchView,
};
use streamcue::server::PortChoice;
use streamcue::watch::{WatchErrorCode, WatchStatus};
use streamcue_testkit::fake_controller::{post_raw, FakeController, Fault};
use streamcue_testkit::{secs, Harness, HarnessOptions};

/// An engine whose local server listens (the controller's webhooks go there).
async fn engine() -> Harness {
    let h = Harness::start(HarnessOptions {
        local_server: PortChoice::Fixed(Some(0)),
        ..Default::default()
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !matches!(
        h.engine().handle().server().state().await,
        Ok(streamcue::server::ServerState::Listening { .. })
    ) {
        assert!(
            std::time::Instant::now() < deadline,
            "the local server never listened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The watch-along actor learns the address from the server's event.
    h.events
        .wait(secs(5.0), "the server's address announced", |log| {
            !log.pick(|e| match e {
                CoreEvent::LocalServer { server } if server.url.is_some() => Some(()),
                _ => None,
            })
            .is_empty()
        })
        .await;
    h
}

fn settings(fake: &FakeController) -> WatchSettings {
    WatchSettings {
        executor: WatchExecutor::Controller,
        controller_url: fake.base_url(),
        guild_id: "1234567890123456789".into(),
        channel_id: "42".into(),
        channel_name: "Movie Night".into(),
        ..WatchSettings::default()
    }
}

fn latest(h: &Harness) -> Option<WatchView> {
    h.events
        .pick(|e| match e {
            CoreEvent::Watch { view } => Some(*view.clone()),
            _ => None,
        })
        .pop()
}

async fn wait_view(h: &Harness, what: &str, pred: impl Fn(&WatchView) -> bool) -> WatchView {
    h.events
        .wait(secs(20.0), what, |_| latest(h).is_some_and(|v| pred(&v)))
        .await;
    latest(h).expect("seen")
}

fn status_of(v: &WatchView) -> Option<WatchStatus> {
    v.current.as_ref().map(|s| s.status)
}

async fn start(h: &Harness, text: &str) -> WatchStartOutcome {
    h.engine()
        .handle()
        .watch()
        .start(text.into(), "streamer".into(), WatchSource::Window)
        .await
        .expect("start answered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_goes_accepted_starting_streaming_ended_and_is_kept() {
    let fake = FakeController::start().await;
    let h = engine().await;
    let watch = h.engine().handle().watch().clone();
    let view = watch
        .save_settings(settings(&fake))
        .await
        .expect("settings");
    assert_eq!(view.settings.channel_name, "Movie Night");

    let outcome = start(
        &h,
        "watch this <https://www.youtube.com/watch?v=dQw4w9WgXcQ>!",
    )
    .await;
    let WatchStartOutcome::Started { session } = outcome else {
        panic!("refused: {outcome:?}")
    };
    assert_eq!(session.status, WatchStatus::Pending);
    assert_eq!(session.url, "https://www.youtube.com/watch?v=dQw4w9WgXcQ");
    // The controller got the seed's StreamRequest, with the webhook on the local server.
    let streaming = wait_view(&h, "streaming", |v| {
        status_of(v) == Some(WatchStatus::Streaming)
    })
    .await;
    let req = fake.calls("/stream")[0].json().unwrap();
    assert_eq!(req["session_id"], session.id.as_str());
    assert_eq!(
        req["guild_id"],
        serde_json::json!(1_234_567_890_123_456_789u64)
    );
    assert_eq!(req["channel_id"], 42);
    let addr = h.server_addr().await;
    assert_eq!(req["webhook_url"], format!("http://{addr}/watch/status"));
    assert_eq!(streaming.current.as_ref().unwrap().id, session.id);
    // Both webhooks were taken.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while fake.webhooks().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hooks = fake.webhooks();
    assert_eq!(
        hooks.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        [200, 200]
    );

    // A second request while this one plays: ERR_BUSY naming where it plays.
    match start(&h, "https://vimeo.com/123456").await {
        WatchStartOutcome::Refused { refusal } => {
            assert_eq!(refusal.code, WatchErrorCode::Busy);
            assert!(
                refusal.message.contains("Movie Night"),
                "{}",
                refusal.message
            );
        }
        other => panic!("{other:?}"),
    }
    // A late `starting` does not move it back; a wrong session id is refused.
    let hook = format!("http://{addr}/watch/status");
    let (code, body) = fake.send_status(&hook, &session.id, "starting", None).await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("ignored"), "{body}");
    let (code, body) = fake
        .send_status(&hook, "0d6f6c1e-0000-4000-8000-000000000000", "ended", None)
        .await;
    assert_eq!(code, 409, "{body}");
    assert!(body.contains("ERR_INVALID_REQUEST"), "{body}");
    assert_eq!(
        status_of(&latest(&h).unwrap()),
        Some(WatchStatus::Streaming)
    );

    // The video ends: ENDED, nothing active, kept in the history.
    let (code, _) = fake.send_status(&hook, &session.id, "ended", None).await;
    assert_eq!(code, 200);
    let ended = wait_view(&h, "ended", |v| v.current.is_none()).await;
    assert_eq!(ended.history[0].status, WatchStatus::Ended);
    // An update after the end is ignored.
    let (code, body) = fake
        .send_status(&hook, &session.id, "streaming", None)
        .await;
    assert_eq!(
        (code, body.contains("already ended")),
        (200, true),
        "{body}"
    );

    let mut h = h;
    h.shutdown_within(secs(10.0)).await;
    let db = h.reopen_db().await;
    let row = db.watch().get(&session.id).await.unwrap().unwrap();
    assert_eq!(row.status, WatchStatus::Ended);
    assert_eq!(row.source, "window");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_links_bad_bodies_and_failures_are_said_with_their_codes() {
    let fake = FakeController::start().await;
    fake.set_auto(false);
    let h = engine().await;
    let watch = h.engine().handle().watch().clone();
    watch
        .save_settings(settings(&fake))
        .await
        .expect("settings");

    for text in [
        "!watch javascript:alert(1)",
        "http://127.0.0.1/secret",
        "no link",
    ] {
        match start(&h, text).await {
            WatchStartOutcome::Refused { refusal } => {
                assert_eq!(refusal.code, WatchErrorCode::InvalidUrl, "{text}")
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    assert!(
        fake.calls("/stream").is_empty(),
        "nothing reached the controller"
    );

    // Malformed webhook bodies: 400 with the seed's code, every problem named.
    let addr = h.server_addr().await;
    let hook = format!("http://{addr}/watch/status");
    let (code, body) = post_raw(&hook, "{not json").await;
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("ERR_INVALID_REQUEST"), "{body}");
    let (code, body) = post_raw(&hook, r#"{"session_id":"x","status":"paused"}"#).await;
    assert_eq!(code, 400);
    assert!(
        body.contains("paused") && body.contains("timestamp"),
        "{body}"
    );

    // The controller says the voice channel is not there: FAILED with that code, and the place
    // is free again.
    let WatchStartOutcome::Started { session } = start(&h, "https://youtu.be/abc").await else {
        panic!("refused")
    };
    wait_view(&h, "starting", |v| {
        status_of(v) == Some(WatchStatus::Starting)
    })
    .await;
    let (code, _) = fake
        .send_status(&hook, &session.id, "error", Some("ERR_CHANNEL_NOT_FOUND"))
        .await;
    assert_eq!(code, 200);
    let failed = wait_view(&h, "failed", |v| v.current.is_none()).await;
    assert_eq!(failed.history[0].status, WatchStatus::Failed);
    assert_eq!(
        failed.history[0].error_code,
        Some(WatchErrorCode::ChannelNotFound)
    );

    // The controller refuses at once (5xx on every try): FAILED after the retries.
    fake.push_faults([
        Fault::Status(500),
        Fault::Status(500),
        Fault::Status(500),
        Fault::Status(500),
    ]);
    let WatchStartOutcome::Started { session } = start(&h, "https://youtu.be/def").await else {
        panic!("refused")
    };
    h.events
        .wait(secs(15.0), "failed after retries", |_| {
            latest(&h).is_some_and(|v| {
                v.history[0].id == session.id && v.history[0].status == WatchStatus::Failed
            })
        })
        .await;
    assert_eq!(
        fake.calls("/stream").len(),
        1 + 4,
        "one try, then four for this one"
    );

    // Stop while nothing plays.
    assert!(watch.stop().await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_the_start_timeout_end_a_session_and_tell_the_controller() {
    let fake = FakeController::start().await;
    fake.set_auto(false);
    let h = engine().await;
    let watch = h.engine().handle().watch().clone();
    watch
        .save_settings(WatchSettings {
            start_timeout_seconds: 10,
            ..settings(&fake)
        })
        .await
        .expect("settings");
    let WatchStartOutcome::Started { session } = start(&h, "https://twitch.tv/somebody").await
    else {
        panic!("refused: {:?}", latest(&h))
    };
    wait_view(&h, "starting", |v| {
        status_of(v) == Some(WatchStatus::Starting)
    })
    .await;
    assert_eq!(watch.stop().await.unwrap(), None);
    let ended = wait_view(&h, "ended by stop", |v| v.current.is_none()).await;
    assert_eq!(ended.history[0].status, WatchStatus::Ended);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while fake.calls("/stop/").is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        fake.calls("/stop/")[0].route(),
        format!("/stop/{}", session.id)
    );

    // Never streaming within the timeout: ERR_TIMEOUT, and the controller is told to stop.
    let WatchStartOutcome::Started { session } = start(&h, "https://twitch.tv/other").await else {
        panic!("refused")
    };
    h.events
        .wait(secs(20.0), "timed out", |_| {
            latest(&h).is_some_and(|v| {
                v.history[0].id == session.id && v.history[0].status == WatchStatus::Failed
            })
        })
        .await;
    let v = latest(&h).unwrap();
    assert_eq!(v.history[0].error_code, Some(WatchErrorCode::Timeout));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while fake.calls("/stop/").len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        fake.calls("/stop/")[1].route(),
        format!("/stop/{}", session.id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_controller_is_shown_and_a_start_fails_with_the_next_step() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let h = engine().await;
    let watch = h.engine().handle().watch().clone();
    watch
        .save_settings(WatchSettings {
            executor: WatchExecutor::Controller,
            controller_url: format!("http://127.0.0.1:{port}"),
            ..WatchSettings::default()
        })
        .await
        .expect("settings");
    let v = wait_view(&h, "the health check failed", |v| v.health_error.is_some()).await;
    assert!(
        v.health_error
            .as_deref()
            .unwrap()
            .contains("did not answer"),
        "{:?}",
        v.health_error
    );
    assert!(v.health.is_none());
}
