//! The fatal screen in the real window: a damaged database is explained as such, and "Move it
//! aside and start fresh" renames it (never deletes it) and starts StreamCue in the same
//! window, which then works (the demo chat connects).

use std::time::Duration;

use streamcue_testkit::fake_irc::FakeIrc;
use streamcue_testkit::window::{can_run, Window};

const APP: &str = env!("CARGO_BIN_EXE_streamcue");
const TEST: &str = "a_damaged_database_is_moved_aside_from_the_fatal_screen_and_streamcue_starts";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_moved_aside_from_the_fatal_screen_and_streamcue_starts() {
    if !can_run(TEST) {
        return;
    }
    let irc = FakeIrc::start().await.expect("fake IRC");
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("streamcue.db");
    std::fs::write(&db, vec![0x5Au8; 32 * 1024]).unwrap();

    let w = Window::open(APP, data.path(), &irc.addr().to_string()).await;
    w.wait_for("#fatal").await;
    assert_eq!(w.text("#fatal-title").await, "StreamCue could not start");
    assert!(w.text("#fatal-explain").await.contains("damaged"));
    w.screenshot("fatal-damaged-database").await;
    w.click("#fatal-move-aside").await;
    w.until(
        "the main window after a fresh start",
        Duration::from_secs(20),
        || async { !w.exists("#fatal").await && w.exists("#connect-btn").await },
    )
    .await;
    let aside: Vec<_> = std::fs::read_dir(data.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("streamcue.db.damaged-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read(data.path().join(&aside[0])).unwrap().len(),
        32 * 1024,
        "moved whole"
    );
    w.click("#source-demo").await;
    w.click("#connect-btn").await;
    w.until("connected to the demo", Duration::from_secs(20), || async {
        w.state().await == "connected"
    })
    .await;
    let mut w = w;
    w.quit_app().await;
    w.close().await;
}
