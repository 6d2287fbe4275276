//! No network / DNS failure: the state says so in words, retries with backoff, nothing hangs.

use std::time::Instant;

use streamcue::api::{ChatSlot, ChatState, ChatTarget};
use streamcue_testkit::{is_reconnecting, secs, Harness, HarnessOptions, SnapshotSlots};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unresolvable_server_is_reported_and_retried() {
    // `.invalid` never resolves (RFC 6761), with or without a network.
    let mut h = Harness::start(HarnessOptions {
        twitch_irc_addr: Some("irc.streamcue.invalid:6667".into()),
        ..Default::default()
    })
    .await;
    h.engine()
        .connect_chat(ChatTarget::Twitch {
            channel: "anyone".into(),
        })
        .await
        .unwrap();
    let third = h
        .events
        .wait_state(secs(15.0), 3, "three Reconnecting states", is_reconnecting)
        .await;
    let ChatState::Reconnecting {
        reason, attempt, ..
    } = &third
    else {
        unreachable!()
    };
    assert!(
        reason.contains("could not be found"),
        "the reason says what is wrong in words: {reason}"
    );
    assert!(*attempt >= 2, "attempts count up: {third:?}");

    // The engine stays responsive while it retries, and shuts down promptly.
    let t0 = Instant::now();
    let snap = h.engine().snapshot().await.unwrap();
    assert!(t0.elapsed() < secs(0.5), "snapshot took {:?}", t0.elapsed());
    assert!(
        matches!(
            snap.slot(ChatSlot::Main).state,
            ChatState::Reconnecting { .. }
        ),
        "{:?}",
        snap.slot(ChatSlot::Main).state
    );
    assert!(h.shutdown_within(secs(5.0)).await < secs(3.0));
}
