//! Settings → Local server in the real window (WebKitGTK under Xvfb, tauri-driver): the card
//! shows where the app's server listens; the overlay page comes from the UI files embedded in
//! the app; the API token is shown, works from outside (a moment marked over HTTP shows up in
//! the Moments panel), and Regenerate makes the old one stop working.

use std::time::Duration;

use streamcue_testkit::fake_irc::FakeIrc;
use streamcue_testkit::window::{can_run, Window};

const APP: &str = env!("CARGO_BIN_EXE_streamcue");
const TEST: &str = "the_local_server_card_shows_the_address_and_a_token_that_works";

async fn mark(url: &str, token: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("{url}/api/moments/mark"))
        .bearer_auth(token)
        .body(r#"{"note": "from the stream deck"}"#)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("POST /api/moments/mark")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_server_card_shows_the_address_and_a_token_that_works() {
    if !can_run(TEST) {
        return;
    }
    let irc = FakeIrc::start().await.expect("fake IRC");
    let data = tempfile::tempdir().unwrap();
    let w = Window::open(APP, data.path(), &irc.addr().to_string()).await;
    w.click("#source-demo").await;
    w.click("#connect-btn").await;
    w.until("connected to the demo", Duration::from_secs(20), || async {
        w.state().await == "connected"
    })
    .await;

    w.click("#settings-open").await;
    w.click("#settings-nav-server").await;
    w.until("the server listening", Duration::from_secs(10), || async {
        w.attr_now("#local-server", "data-phase").await.as_deref() == Some("listening")
    })
    .await;
    let state = w.text("#local-server-state").await;
    let url = state
        .split_whitespace()
        .find(|s| s.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {state:?}"))
        .to_string();
    // The window tests fix the port with STREAMCUE_SERVER_PORT: the card says so.
    assert!(state.contains("STREAMCUE_SERVER_PORT"), "{state}");

    // The overlay page is served from the UI embedded in the app.
    let page = reqwest::get(format!("{url}/overlay")).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let script = html
        .split('"')
        .find(|s| s.starts_with("./assets/") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("no script in {html}"));
    let js = reqwest::get(format!("{url}{}", script.trim_start_matches('.')))
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));

    // Show, then use the token from outside.
    w.click("#server-token button").await;
    w.until("the token shown", Duration::from_secs(10), || async {
        w.text("#server-token-value").await.starts_with("sc_")
    })
    .await;
    let token = w.text("#server-token-value").await;
    assert_eq!(mark(&url, "sc_wrong").await, 401);
    assert_eq!(mark(&url, &token).await, 200);
    w.click("#settings-close").await;
    w.until(
        "the marked moment in the panel",
        Duration::from_secs(10),
        || async { w.exists(".moment-row[data-kinds='manual']").await },
    )
    .await;
    let note = w
        .c()
        .execute(
            "return document.querySelector(\".moment-row[data-kinds='manual'] .moment-note\").value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(note, "from the stream deck");

    // Regenerate: a new token, and the old one is refused.
    w.click("#settings-open").await;
    w.click("#settings-nav-server").await;
    w.click("#server-token-regenerate").await;
    w.click("#server-token-regenerate-confirm").await;
    w.until("a new token", Duration::from_secs(10), || async {
        let shown = w.text("#server-token-value").await;
        shown.starts_with("sc_") && shown != token
    })
    .await;
    w.screenshot("settings-local-server").await;
    assert_eq!(mark(&url, &token).await, 401);
    let fresh = w.text("#server-token-value").await;
    assert_eq!(mark(&url, &fresh).await, 200);
    let mut w = w;
    w.quit_app().await;
    w.close().await;
}
