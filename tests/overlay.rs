//! The OBS overlay page in real headless Chromium (Debian's `chromium` + `chromium-driver`),
//! served by the local server as an OBS browser source would load it: it renders the queue and
//! the last moment from its snapshot, then follows the event stream (a new request appears
//! without a reload), and its URL parameters choose what shows. A screenshot goes to
//! `artifacts/overlay-*.png`.

use std::time::Duration;

use streamcue_testkit::fake_gen::{FakeGen, Fault};
use streamcue_testkit::gen_rig::{GenRig, FAST};
use streamcue_testkit::secs;
use streamcue_testkit::window::{artifacts_dir, can_run_chromium, Window};

const TEST: &str = "the_overlay_follows_the_queue_live_and_its_parameters";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overlay_follows_the_queue_live_and_its_parameters() {
    if !can_run_chromium(TEST) {
        return;
    }
    // The endpoint answers so slowly that the first request stays "generating".
    let gen = FakeGen::start().await;
    gen.set_default_fault(Some(Fault::Slow(Duration::from_secs(600))));
    let mut rig = GenRig::start(Some(gen), FAST, 600).await;
    let now = rig.request("a neon city at night, rain").await;
    rig.h
        .events
        .wait(secs(10.0), "the first request is generating", |log| {
            log.items()
                .iter()
                .any(|i| i.id == now && i.state == streamcue::api::RequestState::Generating)
        })
        .await;
    let second = rig.request("a fox knight guarding a bridge").await;
    let third = rig.request("sunrise over a floating island").await;
    rig.handle()
        .moments()
        .mark("the clutch round".into())
        .await
        .expect("a moment marked by hand");
    let base = rig
        .h
        .engine()
        .handle()
        .server()
        .state()
        .await
        .unwrap()
        .url()
        .unwrap();

    let page = Window::chromium(
        &format!("{base}/overlay?scale=1.25"),
        &artifacts_dir(),
        "overlay",
    )
    .await;
    page.until("the overlay's first state", secs(20.0), || async {
        page.attr_now("#overlay", "data-ready").await.as_deref() == Some("true")
    })
    .await;
    assert_eq!(
        page.text("#overlay-now .prompt").await,
        "a neon city at night, rain"
    );
    for id in [second, third] {
        page.wait_for(&format!("#overlay-next li[data-id=\"{id}\"]"))
            .await;
    }
    assert!(page
        .text("#overlay-moment")
        .await
        .contains("marked by hand"));
    page.until("the event stream is open", secs(10.0), || async {
        page.attr_now("#overlay", "data-live").await.as_deref() == Some("true")
    })
    .await;

    // A new request shows up without a reload.
    let fourth = rig.request("a tiny dragon drinking tea").await;
    page.wait_for(&format!("#overlay-next li[data-id=\"{fourth}\"]"))
        .await;
    assert!(page
        .text(&format!("#overlay-next li[data-id=\"{fourth}\"]"))
        .await
        .contains("a tiny dragon drinking tea"));

    // The page itself is transparent (OBS composites it over the scene).
    let background = page
        .c()
        .execute(
            "return getComputedStyle(document.body).backgroundColor",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(background, "rgba(0, 0, 0, 0)");
    // For the screenshot only: a backdrop like a game scene behind the overlay.
    page.c()
        .execute(
            "document.documentElement.style.background = \
             'linear-gradient(135deg, #1d2b4a 0%, #3a2448 55%, #0f1a24 100%)'; \
             document.documentElement.style.minHeight = '100%'; return 1;",
            vec![],
        )
        .await
        .unwrap();
    // Past the one-shot fade-in of the newest row.
    tokio::time::sleep(Duration::from_millis(500)).await;
    page.screenshot("queue").await;

    // `show=` picks the sections.
    page.c()
        .goto(&format!("{base}/overlay?show=moment&theme=light"))
        .await
        .unwrap();
    page.until("the moment-only overlay", secs(20.0), || async {
        page.attr_now("#overlay", "data-ready").await.as_deref() == Some("true")
    })
    .await;
    assert!(page.exists("#overlay-moment").await);
    assert!(!page.exists("#overlay-next").await);
    assert!(!page.exists("#overlay-now").await);
    page.close().await;
}
