//! Watch-along in the real window: paste a link, Start, the card shows Streaming (the fake
//! controller's webhooks arrive at the app's own local server), Stop, and the controller is
//! told. Needs what `window.rs` needs; skips with a reason outside CI when something is missing.

use std::time::Duration;

use fantoccini::Locator;
use streamcue::api::{WatchExecutor, WatchSettings};
use streamcue_testkit::fake_controller::FakeController;
use streamcue_testkit::fake_irc::FakeIrc;
use streamcue_testkit::window::{can_run, Window};

const APP: &str = env!("CARGO_BIN_EXE_streamcue");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_a_link_start_see_it_streaming_then_stop() {
    if !can_run("paste_a_link_start_see_it_streaming_then_stop") {
        return;
    }
    let fake = FakeController::start().await;
    let irc = FakeIrc::start().await.expect("fake IRC");
    let data = tempfile::tempdir().unwrap();
    // The controller's address, saved as Settings → Watch-along would.
    {
        let db = streamcue::db::Database::open(&data.path().join("streamcue.db"))
            .await
            .unwrap();
        streamcue::watch::SETTINGS
            .save(
                &db,
                &WatchSettings {
                    executor: WatchExecutor::Controller,
                    controller_url: fake.base_url(),
                    channel_name: "Movie Night".into(),
                    ..WatchSettings::default()
                },
            )
            .await
            .unwrap();
        db.close().await;
    }
    let mut w = Window::open(APP, data.path(), &irc.addr().to_string()).await;

    let input = w.wait_for("#watch-url").await;
    input
        .send_keys("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
        .await
        .expect("type the link");
    w.click("#watch-start").await;
    w.until(
        "the card shows streaming",
        Duration::from_secs(15),
        || async { w.attr("#watch-status", "data-status").await.as_deref() == Some("streaming") },
    )
    .await;
    let card = w.text("#watch").await;
    assert!(card.contains("youtube.com"), "{card}");
    w.screenshot("watch-streaming").await;
    assert_eq!(fake.calls("/stream").len(), 1);

    w.click("#watch-stop").await;
    w.until("the session ended", Duration::from_secs(10), || async {
        w.c()
            .find_all(Locator::Css("#watch-stop"))
            .await
            .map(|v| v.is_empty())
            .unwrap_or(false)
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while fake.calls("/stop/").is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        fake.calls("/stop/").len(),
        1,
        "the controller was told to stop"
    );
    w.screenshot("watch-stopped").await;
    w.quit_app().await;
    w.close().await;

    let db = streamcue::db::Database::open(&data.path().join("streamcue.db"))
        .await
        .unwrap();
    let rows = db.watch().recent(5).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, streamcue::watch::WatchStatus::Ended);
    db.close().await;
}
