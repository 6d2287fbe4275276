//! The co-host in the real window: a viewer's question becomes a draft row, the streamer edits
//! it and sends it, and the fake Twitch IRC server receives exactly the edited line.
//!
//! Needs what `window.rs` needs (Xvfb, tauri-driver, WebKitWebDriver); skips with a reason
//! outside CI when something is missing.

use std::time::Duration;

use fantoccini::Locator;
use streamcue_testkit::fake_irc::{privmsg_line, FakeIrc};
use streamcue_testkit::fake_oauth;
use streamcue_testkit::window::{can_run, Window};

const APP: &str = env!("CARGO_BIN_EXE_streamcue");

/// What the app said in `channel` (twitch-irc puts ". " in front of every PRIVMSG it sends).
fn said(irc: &FakeIrc, channel: &str) -> Vec<String> {
    let prefix = format!("PRIVMSG #{channel} :");
    irc.received()
        .iter()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|t| t.strip_prefix(". ").unwrap_or(t).to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_becomes_a_draft_that_is_edited_then_sent() {
    if !can_run("a_question_becomes_a_draft_that_is_edited_then_sent") {
        return;
    }
    const TOKEN: &str = "cohostWindowToken123";
    let irc = FakeIrc::start().await.expect("fake IRC");
    let oauth = fake_oauth::FakeOauth::start().await;
    oauth.set_device(1, 300);
    oauth.approve_after(1, TOKEN, None, "streamerbob");
    let data = tempfile::tempdir().unwrap();
    // Logged in, so chat can be answered (the co-host's default: on, demo, approval mode).
    let mut w =
        Window::open_with_login_service(APP, data.path(), &irc.addr().to_string(), &oauth).await;
    w.click("#account-login").await;
    w.until("logged in", Duration::from_secs(20), || async {
        w.attr("#account", "data-state").await.as_deref() == Some("loggedIn")
    })
    .await;
    w.click("#source-twitch").await;
    w.connect_twitch("cohostchan").await;
    assert!(
        irc.wait_joins("cohostchan", 1, Duration::from_secs(5))
            .await
    );

    irc.broadcast(
        "cohostchan",
        &privmsg_line("cohostchan", "quizzy", "!ask what game is this?"),
    );
    w.until("a draft row", Duration::from_secs(15), || async {
        w.exists("#cohost .cohost-draft").await
    })
    .await;
    let row = w.text("#cohost .cohost-draft").await;
    assert!(row.contains("quizzy"), "{row}");
    assert!(row.contains("what game is this?"), "{row}");
    assert!(row.contains("(demo co-host)"), "{row}");
    w.screenshot("cohost-draft").await;
    // Nothing is said before the streamer sends.
    assert!(said(&irc, "cohostchan").is_empty());

    w.click("#cohost .cohost-draft .cohost-edit").await;
    let edited = "@quizzy it's a roguelike, edited by the streamer";
    let field = w.wait_for("#cohost .cohost-draft .cohost-edit-text").await;
    field.clear().await.expect("clear the draft");
    field.send_keys(edited).await.expect("type the edit");
    w.click("#cohost .cohost-draft .cohost-send").await;

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while said(&irc, "cohostchan").is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(said(&irc, "cohostchan"), vec![edited.to_string()]);
    w.until(
        "the draft is gone and counted",
        Duration::from_secs(5),
        || async { !w.exists("#cohost .cohost-draft").await },
    )
    .await;
    w.until("the counters", Duration::from_secs(5), || async {
        w.number("#cohost-edited").await == 1 && w.number("#cohost-sent").await == 1
    })
    .await;
    w.screenshot("cohost-sent").await;

    // No second line, whatever happens next.
    assert!(w
        .c()
        .find_all(Locator::Css("#cohost .cohost-send"))
        .await
        .unwrap()
        .is_empty());
    w.quit_app().await;
    w.close().await;
    assert_eq!(said(&irc, "cohostchan").len(), 1);
}
