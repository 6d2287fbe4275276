//! Kick chat beside Twitch in one engine: the fake Pusher server (real WebSocket on
//! 127.0.0.1) and the fake Twitch IRC server at once. Each chat has its own session, graph
//! (`Velocity` events carry their slot) and moments; Kick's channel lookup and its fallback.

use streamcue::api::{
    ChatPlatform, ChatSlot, ChatState, ChatTarget, CoreEvent, ErrorCode, MomentSettings,
};
use streamcue_testkit::fake_irc::{FakeIrc, Privmsg};
use streamcue_testkit::fake_pusher::{ApiMode, FakePusher, KickChat};
use streamcue_testkit::{is_connected, secs, Harness, HarnessOptions, SnapshotSlots};

const ROOM: u64 = 668;

fn kick_states(h: &Harness) -> Vec<ChatState> {
    h.events
        .all()
        .into_iter()
        .filter_map(|s| match s.event {
            CoreEvent::ChatState {
                slot: ChatSlot::Kick,
                state,
            } => Some(state),
            _ => None,
        })
        .collect()
}

async fn start() -> (Harness, FakeIrc, FakePusher) {
    let irc = FakeIrc::start().await.unwrap();
    let pusher = FakePusher::start().await.unwrap();
    pusher.add_channel("xqc", ROOM);
    // The engine reads these at start (one test per process under nextest).
    std::env::set_var("STREAMCUE_KICK_WS_URL", pusher.ws_url());
    std::env::set_var("STREAMCUE_KICK_API_URL", pusher.api_base());
    let h = Harness::start(HarnessOptions {
        twitch_irc_addr: Some(irc.addr_string()),
        generation_paused: true,
        ..Default::default()
    })
    .await;
    (h, irc, pusher)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kick_and_twitch_run_at_once_each_with_its_own_graph_and_moments() {
    let (h, irc, pusher) = start().await;
    h.engine()
        .handle()
        .moments()
        .set_settings(MomentSettings {
            window_seconds: 5,
            merge_gap_seconds: 2,
            ..MomentSettings::default()
        })
        .await
        .unwrap();
    h.engine()
        .connect_chat(ChatTarget::Twitch {
            channel: "twchan".into(),
        })
        .await
        .unwrap();
    h.events
        .wait_state(secs(5.0), 1, "Twitch connected", is_connected)
        .await;
    let state = h
        .engine()
        .connect_chat(ChatTarget::Kick {
            channel: "https://kick.com/xqc".into(),
        })
        .await
        .expect("Kick connects (slug looked up)");
    assert!(
        matches!(
            state,
            ChatState::Connecting {
                platform: ChatPlatform::Kick,
                ..
            }
        ),
        "{state:?}"
    );
    h.events
        .wait(secs(10.0), "Kick connected", |_| {
            kick_states(&h).last().is_some_and(|s| {
                matches!(s, ChatState::Connected { platform: ChatPlatform::Kick, channel, .. } if channel == "xqc")
            })
        })
        .await;
    assert_eq!(pusher.subscriptions(), vec![format!("chatrooms.{ROOM}.v2")]);
    assert!(pusher
        .api_requests()
        .iter()
        .any(|p| p.contains("/api/v2/channels/xqc")));
    let ChatState::Connected {
        session_id: kick_session,
        ..
    } = kick_states(&h).last().cloned().unwrap()
    else {
        unreachable!()
    };
    // Both chats talk; Kick viewers spam an emote (Kick's inline emote syntax).
    for i in 0..3 {
        irc.broadcast(
            "twchan",
            &Privmsg::new("twchan", &format!("tw{i}"), "hello").line(),
        );
    }
    for i in 0..12 {
        pusher.send_chat(
            ROOM,
            KickChat::new(
                &format!("kicker{i}"),
                "[emote:37226:KEKW] [emote:37226:KEKW]",
            ),
        );
    }
    h.events
        .wait(secs(10.0), "a Kick moment", |_| {
            !h.events.moments().is_empty()
        })
        .await;
    let m = h.events.moments()[0].clone();
    assert_eq!(
        m.session_id, kick_session,
        "the moment belongs to the Kick session"
    );
    assert_eq!(m.triggers[0].label, "KEKW ×12");
    // Each chat has its own graph: each second carries its slot.
    h.events
        .wait(secs(5.0), "both graphs counted", |log| {
            let all = log.all();
            let kick: u32 = all
                .iter()
                .filter_map(|s| match &s.event {
                    CoreEvent::Velocity {
                        slot: ChatSlot::Kick,
                        point,
                        ..
                    } => Some(point.count),
                    _ => None,
                })
                .sum();
            let tw: u32 = all
                .iter()
                .filter_map(|s| match &s.event {
                    CoreEvent::Velocity {
                        slot: ChatSlot::Main,
                        point,
                        ..
                    } => Some(point.count),
                    _ => None,
                })
                .sum();
            kick == 12 && tw == 3
        })
        .await;
    let snap = h.snapshot().await;
    assert_eq!(snap.slot(ChatSlot::Kick).counters.messages, 12);
    assert_eq!(snap.slot(ChatSlot::Main).counters.messages, 3);
    // Disconnecting Kick leaves Twitch connected.
    h.engine()
        .handle()
        .disconnect_chat(ChatSlot::Kick)
        .await
        .unwrap();
    let snap = h.snapshot().await;
    assert_eq!(snap.slot(ChatSlot::Kick).state, ChatState::Disconnected);
    assert!(
        is_connected(&snap.slot(ChatSlot::Main).state),
        "{:?}",
        snap.slot(ChatSlot::Main).state
    );
    let sessions = h.engine().handle().moments().sessions().await.unwrap();
    let platforms: Vec<&str> = sessions.iter().map(|s| s.platform.as_str()).collect();
    assert!(
        platforms.contains(&"kick") && platforms.contains(&"twitch"),
        "{platforms:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_lookup_says_to_paste_the_chatroom_id_which_then_works() {
    let (h, _irc, pusher) = start().await;
    pusher.set_api_mode(ApiMode::Blocked);
    let e = h
        .engine()
        .connect_chat(ChatTarget::Kick {
            channel: "xqc".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidChannel);
    assert!(e.message.contains("chatroom"), "{}", e.message);
    let e = h
        .engine()
        .connect_chat(ChatTarget::Kick {
            channel: "not a slug!".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidChannel);
    h.engine()
        .connect_chat(ChatTarget::Kick {
            channel: ROOM.to_string(),
        })
        .await
        .expect("a chatroom id needs no lookup");
    h.events
        .wait(secs(10.0), "Kick connected", |_| {
            kick_states(&h).last().is_some_and(is_connected)
        })
        .await;
    // The main chat is untouched.
    assert_eq!(h.chat_state().await, ChatState::Disconnected);
}
