//! The watch-along controller client against a fake controller over real HTTP (127.0.0.1):
//! the seed's calls, its retries (1, 2, 4 s on 5xx and timeouts, never on 4xx), and what each
//! failure becomes.

use std::time::Duration;

use streamcue::watch::codes::WatchErrorCode;
use streamcue::watch::contract::{HealthStatus, StreamRequest, StreamRequestStatus};
use streamcue::watch::controller::{ControllerClient, ControllerError, RETRY_DELAYS};
use streamcue_testkit::fake_controller::{FakeController, Fault};

fn request(id: &str) -> StreamRequest {
    StreamRequest {
        session_id: id.into(),
        url: "https://youtu.be/abc".into(),
        guild_id: 1_234_567_890_123_456_789,
        channel_id: 42,
        channel_name: "Movie Night".into(),
        webhook_url: None,
    }
}

#[tokio::test]
async fn stream_stop_and_health_follow_the_contract() {
    let fake = FakeController::start().await;
    let c = ControllerClient::new(&fake.base_url(), Duration::from_secs(5)).unwrap();
    let health = c.health().await.unwrap();
    assert_eq!(
        (health.value.status, health.attempts),
        (HealthStatus::Healthy, 1)
    );
    assert!(health.value.sandbox_ready);

    let started = c.start_stream(&request("s-1")).await.unwrap();
    assert_eq!(started.value.status, StreamRequestStatus::Accepted);
    assert_eq!(started.value.session_id, "s-1");
    let sent = fake.calls("/stream")[0].json().unwrap();
    assert_eq!(
        sent["guild_id"],
        serde_json::json!(1_234_567_890_123_456_789u64)
    );
    assert_eq!(sent["channel_name"], "Movie Night");
    assert_eq!(
        fake.calls("/stream")[0].header("content-type"),
        Some("application/json")
    );

    c.stop_stream("s-1").await.unwrap();
    assert_eq!(fake.calls("/stop/")[0].route(), "/stop/s-1");
    // A slash in an id cannot reach another route.
    c.stop_stream("../health").await.unwrap();
    assert_eq!(fake.calls("/stop/")[1].route(), "/stop/..%2Fhealth");
}

#[tokio::test]
async fn a_5xx_twice_then_ok_waits_1_then_2_seconds() {
    let fake = FakeController::start().await;
    fake.push_faults([Fault::Status(502), Fault::Status(503)]);
    let c = ControllerClient::new(&fake.base_url(), Duration::from_secs(5)).unwrap();
    let got = c.start_stream(&request("s-2")).await.unwrap();
    assert_eq!(got.attempts, 3);
    let at: Vec<_> = fake.calls("/stream").iter().map(|r| r.at).collect();
    assert_eq!(at.len(), 3);
    let gaps = [at[1] - at[0], at[2] - at[1]];
    for (gap, want) in gaps.iter().zip(RETRY_DELAYS) {
        assert!(*gap >= want, "waited {gap:?}, the seed says {want:?}");
        assert!(
            *gap < want + Duration::from_millis(1500),
            "waited {gap:?} for {want:?}"
        );
    }
}

#[tokio::test]
async fn a_4xx_is_never_retried_and_409_is_busy() {
    let fake = FakeController::start().await;
    let c = ControllerClient::new(&fake.base_url(), Duration::from_secs(5)).unwrap();
    fake.push_faults([Fault::Status(409)]);
    let e = c.start_stream(&request("s-3")).await.unwrap_err();
    assert_eq!(e, ControllerError::Busy);
    assert_eq!(e.code(), WatchErrorCode::Busy);
    fake.push_faults([Fault::Status(402)]);
    let e = c.start_stream(&request("s-4")).await.unwrap_err();
    assert!(
        matches!(e, ControllerError::Refused { status: 402, .. }),
        "{e:?}"
    );
    assert_eq!(fake.calls("/stream").len(), 2, "one attempt each");
    fake.push_faults([Fault::Reject {
        code: "ERR_CHANNEL_NOT_FOUND".into(),
        message: "no such voice channel".into(),
    }]);
    let e = c.start_stream(&request("s-5")).await.unwrap_err();
    assert_eq!(e.code(), WatchErrorCode::ChannelNotFound);
    assert!(e.to_string().contains("no such voice channel"), "{e}");
    fake.push_faults([Fault::Malformed]);
    assert!(matches!(
        c.health().await.unwrap_err(),
        ControllerError::Malformed(_)
    ));
}

#[tokio::test]
async fn timeouts_are_retried_then_reported_with_the_next_step() {
    let fake = FakeController::start().await;
    fake.push_faults([Fault::Hang, Fault::Hang, Fault::Hang, Fault::Hang]);
    let c = ControllerClient::new(&fake.base_url(), Duration::from_millis(200))
        .unwrap()
        .with_delays(vec![Duration::from_millis(10); 3]);
    let e = c.health().await.unwrap_err();
    assert!(
        matches!(&e, ControllerError::Unreachable { attempts: 4, what, .. } if what == "timed out"),
        "{e:?}"
    );
    assert_eq!(fake.calls("/health").len(), 4);
    assert!(e.to_string().contains("Settings → Watch-along"), "{e}");
    assert_eq!(e.code(), WatchErrorCode::SandboxFailed);
}

#[tokio::test]
async fn an_unreachable_controller_is_said_as_such() {
    // A port nothing listens on (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = ControllerClient::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2))
        .unwrap()
        .with_delays(vec![Duration::from_millis(10); 3]);
    let e = c.health().await.unwrap_err();
    assert!(
        matches!(&e, ControllerError::Unreachable { attempts: 4, what, .. } if what == "could not connect"),
        "{e:?}"
    );
    assert!(matches!(
        ControllerClient::new("ftp://x", Duration::from_secs(1)),
        Err(ControllerError::BadAddress(_))
    ));
}
