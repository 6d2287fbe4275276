//! Kick chat end to end: `KickSession` against a fake Pusher server on a real loopback
//! WebSocket, and the chatroom lookup against a fake of Kick's channel API. Every wait is
//! bounded.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use streamcue::api::ChatFailure;
use streamcue::chat::kick::{
    chatroom_id_for, KickLookupError, KickOptions, KickSession, KickTarget, MAX_TEXT_FRAME,
};
use streamcue::chat::{Backoff, ChatMessage, SourceEvent};
use streamcue_testkit::fake_pusher::{
    self, chatroom_channel, event_frame, ApiMode, FakePusher, KickChat,
};

const ROOM: u64 = 668;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

async fn start_fake() -> FakePusher {
    FakePusher::start()
        .await
        .expect("the fake Pusher server binds 127.0.0.1")
}

fn options(fake: &FakePusher) -> KickOptions {
    KickOptions {
        ws_url: fake.ws_url(),
        api_base: fake.api_base(),
        backoff: Backoff {
            base: Duration::from_millis(50),
            cap: Duration::from_millis(400),
        },
        connect_timeout: secs(5.0),
        subscribe_timeout: secs(5.0),
        ..KickOptions::default()
    }
}

/// The next event, or a panic after `limit`.
async fn next_event(session: &mut KickSession, limit: Duration, what: &str) -> SourceEvent {
    match tokio::time::timeout(limit, session.next()).await {
        Ok(ev) => ev,
        Err(_) => panic!("timed out after {limit:?} waiting for {what}"),
    }
}

/// Asserts that nothing happens for `quiet`.
async fn expect_quiet(session: &mut KickSession, quiet: Duration, why: &str) {
    if let Ok(ev) = tokio::time::timeout(quiet, session.next()).await {
        panic!("expected no event ({why}), got {ev:?}");
    }
}

async fn joined(session: &mut KickSession) {
    let ev = next_event(session, secs(5.0), "Joined").await;
    assert_eq!(ev, SourceEvent::Joined);
}

async fn next_message(session: &mut KickSession) -> ChatMessage {
    match next_event(session, secs(5.0), "a chat message").await {
        SourceEvent::Message(m) => m,
        other => panic!("expected a chat message, got {other:?}"),
    }
}

/// A fake with one session joined to `ROOM`.
async fn connected() -> (FakePusher, KickSession) {
    let fake = start_fake().await;
    let mut session = KickSession::start(ROOM, options(&fake));
    joined(&mut session).await;
    (fake, session)
}

fn parsed(frames: &[String]) -> Vec<Value> {
    frames
        .iter()
        .map(|t| serde_json::from_str(t).expect("the client sends JSON"))
        .collect()
}

#[tokio::test]
async fn subscribes_to_the_v2_chatroom_channel_then_joins() {
    let fake = start_fake().await;
    let mut session = KickSession::start(ROOM, options(&fake));
    assert_eq!(session.chatroom_id(), ROOM);
    assert_eq!(session.channel_name(), "chatrooms.668.v2");
    joined(&mut session).await;

    assert_eq!(fake.subscriptions(), ["chatrooms.668.v2"]);
    assert_eq!(
        parsed(&fake.received()),
        [json!({"event": "pusher:subscribe", "data": {"auth": "", "channel": "chatrooms.668.v2"}})]
    );
    assert_eq!(
        fake.paths(),
        [format!(
            "/app/{}?protocol=7&client=js&version=8.4.0&flash=false",
            fake_pusher::APP_KEY
        )]
    );
    assert_eq!(session.connections(), 1);
    assert_eq!(session.malformed_frames(), 0);
}

#[tokio::test]
async fn chat_arrives_with_emotes_parsed_and_badges_mapped() {
    let (fake, mut session) = connected().await;

    let plain = KickChat::new("iStyl3z", "Stare").id("f3b7c335-71a1-416a-89ba-bbff7082761b");
    assert_eq!(fake.send_chat(ROOM, plain), 1);
    assert_eq!(
        next_message(&mut session).await,
        ChatMessage {
            user_login: "istyl3z".into(),
            display_name: "iStyl3z".into(),
            message_id: Some("f3b7c335-71a1-416a-89ba-bbff7082761b".into()),
            text: "Stare".into(),
            emotes: vec![],
            is_moderator: false,
            is_broadcaster: false,
            bits: 0,
        }
    );

    let modded = KickChat::new(
        "The_Mod",
        "!sr [emote:37225:KEKLEO] now [emote:39261:emojiAngry]",
    )
    .badge("moderator")
    .badge("subscriber");
    fake.send_chat(ROOM, modded);
    let m = next_message(&mut session).await;
    assert_eq!(m.text, "!sr KEKLEO now emojiAngry");
    assert_eq!(m.emotes, ["KEKLEO", "emojiAngry"]);
    assert_eq!(m.user_login, "the-mod", "the slug is the login");
    assert_eq!(m.display_name, "The_Mod");
    assert!(m.is_moderator && !m.is_broadcaster);

    fake.send_chat(
        ROOM,
        KickChat::new("Streamer", "hello chat")
            .badge("broadcaster")
            .reply(),
    );
    let m = next_message(&mut session).await;
    assert!(m.is_broadcaster && m.is_moderator, "{m:?}");

    // No slug: the lower-cased username. Other badges grant nothing.
    fake.send_chat(
        ROOM,
        KickChat::new("NoSlug", "multi\nline")
            .slug(None)
            .badge("vip")
            .badge("og"),
    );
    let m = next_message(&mut session).await;
    assert_eq!(
        (m.user_login.as_str(), m.text.as_str()),
        ("noslug", "multi line")
    );
    assert!(!m.is_moderator && !m.is_broadcaster);

    // Another chatroom's events are not ours (and not malformed either).
    let other = chatroom_channel(999);
    let foreign = event_frame(
        "App\\Events\\ChatMessageEvent",
        Some(&other),
        &KickChat::new("x", "elsewhere").data(999),
    );
    fake.send_raw(&foreign);
    // Events Kick sends that StreamCue does not use are ignored.
    fake.send_raw(&event_frame(
        "App\\Events\\PollUpdateEvent",
        Some(&chatroom_channel(ROOM)),
        &json!({"poll": {"title": "?"}}),
    ));
    fake.send_chat(ROOM, KickChat::new("after", "still here"));
    assert_eq!(next_message(&mut session).await.text, "still here");
    assert_eq!(session.malformed_frames(), 0);
}

#[tokio::test]
async fn deletions_and_bans_are_mapped() {
    let (fake, mut session) = connected().await;
    fake.send_message_deleted(ROOM, "cb4cd57d-926c-4f28-859d-abccca87e119");
    assert_eq!(
        next_event(&mut session, secs(5.0), "MessageDeleted").await,
        SourceEvent::MessageDeleted {
            message_id: "cb4cd57d-926c-4f28-859d-abccca87e119".into()
        }
    );
    fake.send_user_banned(ROOM, "JohnsonAndJohnson1", Some("johnsonandjohnson1"), None);
    assert_eq!(
        next_event(&mut session, secs(5.0), "UserBanned").await,
        SourceEvent::UserBanned {
            login: "johnsonandjohnson1".into()
        }
    );
    // A timeout (with `expires_at`) and no slug: the lower-cased username.
    fake.send_user_banned(ROOM, "Spammer", None, Some("2025-07-19T03:52:45+00:00"));
    assert_eq!(
        next_event(&mut session, secs(5.0), "UserBanned").await,
        SourceEvent::UserBanned {
            login: "spammer".into()
        }
    );
}

#[tokio::test]
async fn answers_the_servers_pings() {
    let (fake, mut session) = connected().await;
    assert_eq!(fake.ping_all(), 1);
    assert!(
        fake.wait_until(secs(5.0), |f| f.pongs_received() == 1)
            .await,
        "no pong; received {:?}",
        fake.received()
    );
    let pong = parsed(&fake.received()).pop().unwrap();
    assert_eq!(pong, json!({"event": "pusher:pong", "data": {}}));
    // Still connected and reading.
    fake.send_chat(ROOM, KickChat::new("a", "b"));
    assert_eq!(next_message(&mut session).await.text, "b");
}

#[tokio::test]
async fn pings_when_idle_and_stays_connected_when_answered() {
    let fake = start_fake().await;
    fake.set_activity_timeout(1);
    let mut session = KickSession::start(ROOM, options(&fake));
    joined(&mut session).await;
    let t0 = Instant::now();
    assert!(
        fake.wait_until(secs(5.0), |f| f.pings_received() >= 2)
            .await,
        "expected a ping per idle second; received {:?}",
        fake.received()
    );
    assert!(
        t0.elapsed() >= secs(1.5),
        "pinged too early: {:?}",
        t0.elapsed()
    );
    let ping = parsed(&fake.received())
        .into_iter()
        .find(|f| f["event"] == "pusher:ping")
        .unwrap();
    assert_eq!(ping, json!({"event": "pusher:ping", "data": {}}));
    expect_quiet(&mut session, secs(1.5), "pongs keep the connection").await;
    assert_eq!(fake.connections_total(), 1);
}

#[tokio::test]
async fn no_pong_means_a_dead_connection() {
    let fake = start_fake().await;
    fake.set_activity_timeout(1);
    fake.set_answer_pings(false);
    let mut session = KickSession::start(
        ROOM,
        KickOptions {
            pong_timeout: secs(1.0),
            ..options(&fake)
        },
    );
    joined(&mut session).await;
    let t0 = Instant::now();
    match next_event(&mut session, secs(6.0), "Reconnecting").await {
        SourceEvent::Reconnecting {
            attempt, reason, ..
        } => {
            assert_eq!(attempt, 1);
            assert!(reason.contains("no answer"), "{reason}");
        }
        other => panic!("expected Reconnecting, got {other:?}"),
    }
    let waited = t0.elapsed();
    assert!(waited >= secs(1.8) && waited < secs(4.0), "{waited:?}");
    joined(&mut session).await;
    assert_eq!(fake.connections_total(), 2);
}

#[tokio::test]
async fn reconnects_and_subscribes_again_after_a_drop() {
    let (fake, mut session) = connected().await;
    assert_eq!(fake.drop_all(), 1);
    let before = now_ms();
    match next_event(&mut session, secs(5.0), "Reconnecting").await {
        SourceEvent::Reconnecting {
            attempt,
            retry_at_ms,
            reason,
        } => {
            assert_eq!(attempt, 1);
            assert!(retry_at_ms >= before && retry_at_ms <= now_ms() + 1_000);
            assert!(!reason.is_empty());
        }
        other => panic!("expected Reconnecting, got {other:?}"),
    }
    joined(&mut session).await;
    let subs = fake.subscriptions_by_conn();
    assert_eq!(subs.len(), 2, "{subs:?}");
    assert_ne!(
        subs[0].0, subs[1].0,
        "subscribed again on the new connection"
    );
    assert!(subs.iter().all(|(_, c)| c == "chatrooms.668.v2"));
    fake.send_chat(ROOM, KickChat::new("back", "welcome back"));
    assert_eq!(next_message(&mut session).await.text, "welcome back");

    // A close frame with a normal code: the same.
    fake.close_all(1000, "bye");
    assert!(matches!(
        next_event(&mut session, secs(5.0), "Reconnecting").await,
        SourceEvent::Reconnecting { attempt: 1, .. }
    ));
    joined(&mut session).await;
    assert_eq!(fake.connections_total(), 3);
}

#[tokio::test]
async fn pusher_reconnect_codes_are_honoured() {
    let fake = start_fake().await;
    let mut session = KickSession::start(
        ROOM,
        KickOptions {
            backoff: Backoff {
                base: Duration::from_millis(800),
                cap: Duration::from_millis(800),
            },
            ..options(&fake)
        },
    );
    joined(&mut session).await;

    // 4200-4299: reconnect at once.
    fake.send_error(4200, "Generic reconnect immediately");
    let t0 = now_ms();
    match next_event(&mut session, secs(5.0), "Reconnecting").await {
        SourceEvent::Reconnecting {
            retry_at_ms,
            reason,
            ..
        } => {
            assert!(
                retry_at_ms <= t0 + 100,
                "no wait expected ({retry_at_ms} vs {t0})"
            );
            assert!(reason.contains("4200"), "{reason}");
        }
        other => panic!("expected Reconnecting, got {other:?}"),
    }
    joined(&mut session).await;

    // 4100-4199 (here as a close code): back off first.
    fake.close_all(4100, "Over capacity");
    let t0 = now_ms();
    match next_event(&mut session, secs(5.0), "Reconnecting").await {
        SourceEvent::Reconnecting {
            retry_at_ms,
            reason,
            ..
        } => {
            assert!(
                retry_at_ms >= t0 + 350,
                "a backoff expected ({retry_at_ms} vs {t0})"
            );
            assert!(reason.contains("4100"), "{reason}");
        }
        other => panic!("expected Reconnecting, got {other:?}"),
    }
    joined(&mut session).await;

    // An error without a code (or 4300+) is a notice: the connection stays.
    fake.send_error(4301, "Client event rejected due to rate limit");
    fake.send_raw(r#"{"event":"pusher:error","data":{"code":null,"message":"whatever"}}"#);
    fake.send_chat(ROOM, KickChat::new("still", "here"));
    assert_eq!(next_message(&mut session).await.text, "here");
    assert_eq!(fake.connections_total(), 3);
}

#[tokio::test]
async fn hostile_frames_are_skipped_and_counted() {
    let (fake, mut session) = connected().await;
    let channel = chatroom_channel(ROOM);
    let chat_event = "App\\Events\\ChatMessageEvent";
    let good = KickChat::new("viewer", "hi").data(ROOM);
    let mut hostile: Vec<String> = vec![
        "not json at all".into(),
        "[]".into(),
        "{}".into(),
        "null".into(),
        r#"{"event": 5}"#.into(),
        // `data` not a string (Kick double-encodes it).
        json!({"event": chat_event, "channel": channel, "data": good}).to_string(),
        json!({"event": chat_event, "channel": channel, "data": 42}).to_string(),
        json!({"event": chat_event, "channel": channel}).to_string(),
        // `data` a string, but not JSON.
        json!({"event": chat_event, "channel": channel, "data": "{oops"}).to_string(),
    ];
    // Wrong types and missing fields inside the data.
    for bad in [
        json!({"id": "1", "content": 5, "sender": {"username": "x"}}),
        json!({"id": "1", "content": "x"}),
        json!({"id": "1", "content": "x", "sender": {"username": ["x"]}}),
        json!({"id": "1", "content": "x", "sender": {"username": ""}}),
        json!({"id": null, "content": "x", "sender": {"username": "x"}}),
        json!({"id": "1", "content": "x", "sender": {"username": "x", "identity": {"badges": [7]}}}),
        json!("just a string"),
    ] {
        hostile.push(event_frame(chat_event, Some(&channel), &bad));
    }
    hostile.push(event_frame(
        "App\\Events\\MessageDeletedEvent",
        Some(&channel),
        &json!({"id": "x"}),
    ));
    hostile.push(event_frame(
        "App\\Events\\UserBannedEvent",
        Some(&channel),
        &json!({"user": {"id": 1}}),
    ));
    // 1 MB of valid JSON (over the 64 KiB frame cap).
    let huge = event_frame(
        chat_event,
        Some(&channel),
        &KickChat::new("big", &"x".repeat(1_000_000)).data(ROOM),
    );
    assert!(huge.len() > 1_000_000 && huge.len() > MAX_TEXT_FRAME);
    hostile.push(huge);
    for frame in &hostile {
        assert_eq!(fake.send_raw(frame), 1);
    }
    fake.send_binary(&[0xff, 0x00, 0x7b, 0x22]);
    fake.send_chat(ROOM, KickChat::new("good", "after the storm"));

    let m = next_message(&mut session).await;
    assert_eq!(m.text, "after the storm");
    assert_eq!(session.malformed_frames(), hostile.len() as u64 + 1);
    assert_eq!(
        fake.connections_total(),
        1,
        "skipped in place, no reconnect"
    );
}

#[tokio::test]
async fn a_frame_too_large_for_the_socket_reconnects() {
    let (fake, mut session) = connected().await;
    fake.send_raw(&"y".repeat(3 * 1024 * 1024));
    assert!(matches!(
        next_event(&mut session, secs(5.0), "Reconnecting").await,
        SourceEvent::Reconnecting { attempt: 1, .. }
    ));
    joined(&mut session).await;
    assert_eq!(session.malformed_frames(), 1);
    fake.send_chat(ROOM, KickChat::new("good", "fine again"));
    assert_eq!(next_message(&mut session).await.text, "fine again");
}

#[tokio::test]
async fn a_refused_app_key_fails_without_retrying() {
    let fake = start_fake().await;
    let mut session = KickSession::start(
        ROOM,
        KickOptions {
            ws_url: fake.ws_url_with_key("0000000000000000dead"),
            ..options(&fake)
        },
    );
    match next_event(&mut session, secs(5.0), "Failed").await {
        SourceEvent::Failed { failure, message } => {
            assert_eq!(failure, ChatFailure::ChannelUnavailable);
            assert!(message.contains("refused the app key"), "{message}");
            assert!(message.contains("config"), "{message}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    expect_quiet(&mut session, secs(1.5), "nothing after Failed").await;
    assert_eq!(fake.connections_total(), 1, "no retry storm");
    assert!(fake.subscriptions().is_empty());
}

#[tokio::test]
async fn a_4001_midstream_also_stops_for_good() {
    let (fake, mut session) = connected().await;
    fake.send_error(4001, "App key not in this cluster");
    assert!(matches!(
        next_event(&mut session, secs(5.0), "Failed").await,
        SourceEvent::Failed { .. }
    ));
    expect_quiet(&mut session, secs(1.0), "nothing after Failed").await;
    assert_eq!(fake.connections_total(), 1);
}

#[tokio::test]
async fn an_unreachable_server_backs_off() {
    // A port with nothing listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut session = KickSession::start(
        ROOM,
        KickOptions {
            ws_url: format!("ws://127.0.0.1:{port}/app/k?protocol=7"),
            ..KickOptions::default()
        },
    );
    for expected in 1..=3u32 {
        match next_event(&mut session, secs(10.0), "Reconnecting").await {
            SourceEvent::Reconnecting {
                attempt,
                retry_at_ms,
                reason,
            } => {
                assert_eq!(attempt, expected);
                assert!(retry_at_ms > now_ms() - 50, "waits before the retry");
                assert!(reason.contains("refused"), "{reason}");
            }
            other => panic!("expected Reconnecting, got {other:?}"),
        }
    }
    assert_eq!(session.connections(), 0);
}

#[tokio::test]
async fn an_unconfirmed_subscription_is_retried() {
    let fake = start_fake().await;
    fake.set_confirm_subscriptions(false);
    let mut session = KickSession::start(
        ROOM,
        KickOptions {
            subscribe_timeout: secs(0.5),
            ..options(&fake)
        },
    );
    match next_event(&mut session, secs(5.0), "Reconnecting").await {
        SourceEvent::Reconnecting { reason, .. } => {
            assert!(reason.contains("subscription"), "{reason}")
        }
        other => panic!("expected Reconnecting, got {other:?}"),
    }
    fake.set_confirm_subscriptions(true);
    joined(&mut session).await;
}

#[tokio::test]
async fn next_is_cancel_safe_inside_select() {
    let (fake, mut session) = connected().await;
    let n = 300;
    for i in 0..n {
        fake.send_chat(ROOM, KickChat::new("flood", &format!("line {i}")));
    }
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + secs(10.0);
    let mut tick = tokio::time::interval(Duration::from_micros(200));
    while got.len() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "got {} of {n}",
            got.len()
        );
        tokio::select! {
            ev = session.next() => match ev {
                SourceEvent::Message(m) => got.push(m.text),
                other => panic!("unexpected {other:?}"),
            },
            _ = tick.tick() => {}
        }
    }
    let expected: Vec<String> = (0..n).map(|i| format!("line {i}")).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn dropping_the_session_closes_the_socket() {
    let (fake, session) = connected().await;
    assert_eq!(fake.connections_open(), 1);
    drop(session);
    assert!(fake.wait_open(0, secs(5.0)).await, "the socket stays open");
    tokio::time::sleep(secs(0.3)).await;
    assert_eq!(fake.connections_total(), 1, "no reconnect after drop");
}

#[tokio::test]
async fn lookup_finds_the_chatroom_id() {
    let fake = start_fake().await;
    fake.add_channel("xqc", 668);
    assert_eq!(chatroom_id_for("xqc", &fake.api_base()).await, Ok(668));
    assert_eq!(chatroom_id_for(" XQC ", &fake.api_base()).await, Ok(668));
    assert_eq!(
        fake.api_requests(),
        ["/api/v2/channels/xqc", "/api/v2/channels/xqc"]
    );

    let err = chatroom_id_for("nobody", &fake.api_base())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        KickLookupError::NotFound {
            slug: "nobody".into()
        }
    );
    assert!(err.to_string().contains("no channel called \"nobody\""));

    // Refused before any request.
    let err = chatroom_id_for("../etc", &fake.api_base())
        .await
        .unwrap_err();
    assert!(matches!(err, KickLookupError::InvalidName(_)), "{err:?}");
    assert_eq!(fake.api_requests().len(), 3);
}

#[tokio::test]
async fn a_blocked_lookup_says_to_paste_the_chatroom_id() {
    let fake = start_fake().await;
    fake.add_channel("xqc", 668);
    for mode in [ApiMode::Blocked, ApiMode::RateLimited, ApiMode::HtmlPage] {
        fake.set_api_mode(mode);
        let err = chatroom_id_for("xqc", &fake.api_base()).await.unwrap_err();
        assert!(
            matches!(err, KickLookupError::Blocked { .. }),
            "{mode:?}: {err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("Paste the chatroom id"), "{text}");
        assert!(
            text.contains("https://kick.com/api/v2/channels/xqc"),
            "says where to find it: {text}"
        );
        assert!(text.contains("\"chatroom\":{\"id\":"), "{text}");
    }
}

#[tokio::test]
async fn an_unreachable_api_is_a_network_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = chatroom_id_for("xqc", &format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(matches!(err, KickLookupError::Network { .. }), "{err:?}");
    assert!(err.to_string().contains("paste the chatroom id"), "{err}");
}

#[test]
fn kick_targets_in_every_form() {
    let slug = |s: &str| Ok(KickTarget::Slug(s.into()));
    assert_eq!(KickTarget::parse("xqc"), slug("xqc"));
    assert_eq!(KickTarget::parse("  Adin_Ross "), slug("adin_ross"));
    assert_eq!(KickTarget::parse("@some-one"), slug("some-one"));
    assert_eq!(KickTarget::parse("kick.com/xqc"), slug("xqc"));
    assert_eq!(KickTarget::parse("https://kick.com/xQc"), slug("xqc"));
    assert_eq!(KickTarget::parse("http://www.kick.com/xqc/"), slug("xqc"));
    assert_eq!(
        KickTarget::parse("https://kick.com/xqc?ref=abc#x"),
        slug("xqc")
    );
    assert_eq!(
        KickTarget::parse("https://kick.com/popout/xqc/chat"),
        slug("xqc")
    );
    assert_eq!(
        KickTarget::parse("https://kick.com/xqc/videos"),
        slug("xqc")
    );
    assert_eq!(KickTarget::parse("668"), Ok(KickTarget::ChatroomId(668)));
    assert_eq!(
        KickTarget::parse(" 27670567 "),
        Ok(KickTarget::ChatroomId(27670567))
    );

    for bad in [
        "",
        "   ",
        "0",
        "99999999999999999999999",
        "kick.com",
        "https://kick.com/",
        "https://twitch.tv/xqc",
        "twitch.tv/xqc",
        "a b",
        "x".repeat(26).as_str(),
        "bad!name",
        "name/../../etc",
        "ünïcode",
    ] {
        let err = KickTarget::parse(bad).expect_err(bad);
        assert!(!err.to_string().is_empty());
    }
    assert!(KickTarget::parse("https://twitch.tv/xqc")
        .unwrap_err()
        .to_string()
        .contains("not a kick.com link"));
}

fn now_ms() -> i64 {
    streamcue::clock::now_ms()
}

#[tokio::test]
async fn wss_goes_through_tls() {
    // A local server that does not speak TLS: the handshake fails and is retried.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let mut accepted = 0;
        while let Ok((mut s, _)) = listener.accept().await {
            accepted += 1;
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            if accepted == 2 {
                break;
            }
        }
        accepted
    });
    let mut session = KickSession::start(
        ROOM,
        KickOptions {
            ws_url: format!("wss://127.0.0.1:{port}/app/{{key}}?protocol=7"),
            backoff: Backoff {
                base: Duration::from_millis(50),
                cap: Duration::from_millis(100),
            },
            ..KickOptions::default()
        },
    );
    match next_event(&mut session, secs(5.0), "Reconnecting").await {
        SourceEvent::Reconnecting { reason, .. } => {
            assert!(reason.contains("secure connection"), "{reason}")
        }
        other => panic!("expected Reconnecting, got {other:?}"),
    }
    let accepted = tokio::time::timeout(secs(5.0), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(accepted, 2, "retried");
}
