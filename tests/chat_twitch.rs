//! Twitch chat end to end: the real engine (actor, twitch-irc, dialer, line guard, SQLite)
//! against a fake Twitch IRC server on a real loopback socket. Nothing inside the process is
//! mocked.
//!
//! The dial target is process-wide, so every test holds the test kit's Twitch lock for
//! its engine's lifetime: plain `cargo test` runs these one at a time, nextest runs each in its
//! own process.

use std::time::{Duration, Instant};

use streamcue::api::{ChatFailure, ChatPlatform, ChatSlot, ChatState, ChatTarget, ErrorCode};
use streamcue::db::Database;
use streamcue_testkit::fake_irc::{sample_privmsg, FakeIrc, Privmsg};
use streamcue_testkit::{
    is_connected, is_reconnecting, now_ms, secs, Harness, HarnessOptions, SnapshotSlots,
};

fn twitch(channel: &str) -> ChatTarget {
    ChatTarget::Twitch {
        channel: channel.to_string(),
    }
}

fn lines(channel: &str, from: u64, n: u64) -> Vec<String> {
    (from..from + n)
        .map(|i| sample_privmsg(channel, i))
        .collect()
}

async fn start_fake() -> FakeIrc {
    FakeIrc::start()
        .await
        .expect("fake IRC server binds 127.0.0.1")
}

/// Connects and waits for the first `Connected`; returns the session id.
async fn connect_and_join(h: &Harness, fake: &FakeIrc, typed: &str, channel: &str) -> i64 {
    let state = h
        .engine()
        .connect_chat(twitch(typed))
        .await
        .expect("connect");
    assert_eq!(
        state,
        ChatState::Connecting {
            platform: ChatPlatform::Twitch,
            channel: channel.into()
        }
    );
    assert!(
        fake.wait_joins(channel, 1, secs(5.0)).await,
        "the server saw no JOIN #{channel}; received {:?}",
        fake.received()
    );
    match h
        .events
        .wait_state(secs(5.0), 1, "Connected", is_connected)
        .await
    {
        ChatState::Connected {
            platform,
            channel: c,
            session_id,
        } => {
            assert_eq!((platform, c.as_str()), (ChatPlatform::Twitch, channel));
            i64::from(session_id)
        }
        _ => unreachable!(),
    }
}

/// Sum of the per-second counts stored for a session.
async fn stored_velocity_sum(db: &Database, session_id: i64) -> (u64, usize) {
    let rows: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT minute, counts FROM velocity_minutes WHERE session_id = ?")
            .bind(session_id)
            .fetch_all(db.pool())
            .await
            .unwrap();
    let mut sum = 0u64;
    for (_, blob) in &rows {
        assert_eq!(blob.len(), 240, "a velocity row is 60 little-endian u32");
        sum += blob
            .chunks_exact(4)
            .map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .sum::<u64>();
    }
    (sum, rows.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_counts_messages_and_stores_velocity() {
    const CH: &str = "streamcue_test";
    let fake = start_fake().await;
    let mut h = Harness::twitch(&fake.addr_string()).await;
    let t_start = now_ms();
    let session_id = connect_and_join(&h, &fake, "https://www.twitch.tv/StreamCue_Test", CH).await;

    // Connecting, then Connected, nothing in between.
    let states = h.events.states();
    assert_eq!(
        states,
        vec![
            ChatState::Connecting {
                platform: ChatPlatform::Twitch,
                channel: CH.into()
            },
            ChatState::Connected {
                platform: ChatPlatform::Twitch,
                channel: CH.into(),
                session_id: session_id as i32
            },
        ]
    );
    // Anonymous login, with the capabilities Twitch needs for tags.
    let logins = fake.logins();
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert!(
        logins[0].nick.starts_with("justinfan") && logins[0].token.is_none() && logins[0].accepted
    );
    let received = fake.received();
    assert!(
        received
            .iter()
            .any(|l| l.starts_with("CAP REQ") && l.contains("twitch.tv/tags")),
        "{received:?}"
    );
    assert!(
        received.iter().any(|l| l == &format!("JOIN #{CH}")),
        "{received:?}"
    );
    assert!(
        !received.iter().any(|l| l.starts_with("PASS")),
        "anonymous logins send no PASS"
    );

    // Three bursts, more than a second apart, so they land in different seconds.
    let mut next = 0;
    for (i, size) in [40u64, 25, 35].into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(secs(1.1)).await;
        }
        assert_eq!(fake.broadcast_lines(CH, &lines(CH, next, size)), 1);
        next += size;
    }
    let total = next;
    h.wait_counters(secs(5.0), "all messages counted", |c| {
        u64::from(c.messages) == total
    })
    .await;
    h.events
        .wait(
            secs(5.0),
            "velocity points adding up to every message",
            |log| {
                let v = log.velocity();
                v.iter().map(|(p, _)| u64::from(p.count)).sum::<u64>() == total
                    && v.last()
                        .is_some_and(|(_, c)| u64::from(c.messages) == total)
            },
        )
        .await;
    let velocity = h.events.velocity();
    let busy: Vec<_> = velocity
        .iter()
        .filter(|(p, _)| p.count > 0)
        .map(|(p, _)| *p)
        .collect();
    assert!(
        busy.len() >= 2,
        "bursts 2.2 s apart fill at least two seconds: {busy:?}"
    );
    for p in &busy {
        assert_eq!(p.second.fract(), 0.0);
        let ms = p.second as i64 * 1000;
        assert!(
            ms >= t_start - 1000 && ms <= now_ms(),
            "second {} outside the session",
            p.second
        );
    }
    let seconds: Vec<f64> = velocity.iter().map(|(p, _)| p.second).collect();
    assert!(
        seconds.windows(2).all(|w| w[0] < w[1]),
        "each second is announced once, in order: {seconds:?}"
    );
    let counters = h.counters().await;
    assert_eq!((counters.malformed_lines, counters.reconnects), (0, 0));
    assert_eq!(fake.connections_total(), 1);
    assert_eq!(h.events.lagged(), 0);

    let took = h.shutdown_within(secs(5.0)).await;
    assert!(took < secs(3.0), "shutdown took {took:?}");
    let db = h.reopen_db().await;
    let row = db
        .sessions()
        .get(session_id)
        .await
        .unwrap()
        .expect("session row");
    assert_eq!(
        (row.platform.as_str(), row.channel.as_str()),
        ("twitch", CH)
    );
    assert_eq!(row.messages as u64, total);
    assert_eq!((row.malformed_lines, row.reconnects), (0, 0));
    assert_eq!(row.end_reason.as_deref(), Some("StreamCue closed"));
    let ended = row.ended_at_ms.expect("ended_at_ms");
    assert!(row.started_at_ms >= t_start - 1000 && ended >= row.started_at_ms && ended <= now_ms());
    let (sum, minute_rows) = stored_velocity_sum(&db, session_id).await;
    assert_eq!(
        sum, total,
        "stored per-second counts add up to the messages sent"
    );
    assert!(minute_rows >= 1);
    // What the UI was shown is what was stored.
    let stored = db
        .velocity()
        .points(session_id, row.started_at_ms / 1000 - 1, ended / 1000 + 1)
        .await
        .unwrap();
    for p in &busy {
        let s = stored
            .iter()
            .find(|s| s.second == p.second)
            .expect("announced second is stored");
        assert_eq!(s.count, p.count, "second {}", p.second);
    }
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_and_rejoins_after_the_server_drops_the_connection() {
    const CH: &str = "drop_test";
    let fake = start_fake().await;
    let mut h = Harness::twitch(&fake.addr_string()).await;
    let session_id = connect_and_join(&h, &fake, CH, CH).await;
    fake.broadcast_lines(CH, &lines(CH, 0, 10));
    h.wait_counters(secs(5.0), "10 messages", |c| c.messages == 10)
        .await;

    assert_eq!(fake.drop_all(), 1);
    let lost = h
        .events
        .wait_state(secs(5.0), 1, "Reconnecting", is_reconnecting)
        .await;
    let ChatState::Reconnecting {
        channel, reason, ..
    } = &lost
    else {
        unreachable!()
    };
    assert_eq!(channel, CH);
    assert!(reason.contains("closed"), "reason: {reason}");
    assert!(fake.wait_joins(CH, 2, secs(5.0)).await, "no second JOIN");
    let again = h
        .events
        .wait_state(secs(5.0), 2, "Connected again", is_connected)
        .await;
    assert_eq!(
        again,
        ChatState::Connected {
            platform: ChatPlatform::Twitch,
            channel: CH.into(),
            session_id: session_id as i32
        },
        "the same session continues"
    );
    let states = h.events.states();
    let first_reconnecting = states.iter().position(is_reconnecting).unwrap();
    let second_connected = states.iter().rposition(is_connected).unwrap();
    assert!(
        first_reconnecting > 1 && first_reconnecting < second_connected,
        "{states:#?}"
    );
    h.wait_counters(secs(2.0), "reconnect counted", |c| c.reconnects == 1)
        .await;

    fake.broadcast_lines(CH, &lines(CH, 100, 15));
    let c = h
        .wait_counters(secs(5.0), "25 messages", |c| c.messages == 25)
        .await;
    assert_eq!((c.reconnects, c.malformed_lines), (1, 0));
    assert_eq!(fake.connections_total(), 2);
    assert_eq!(fake.connections_open(), 1);
    assert_eq!(
        fake.logins().len(),
        2,
        "logged in again on the new connection"
    );

    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    let row = db.sessions().get(session_id).await.unwrap().unwrap();
    assert_eq!((row.messages, row.reconnects), (25, 1));
    assert_eq!(stored_velocity_sum(&db, session_id).await.0, 25);
    assert_eq!(
        db.sessions().all().await.unwrap().len(),
        1,
        "a reconnect is not a new session"
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_a_reconnect_command() {
    const CH: &str = "reconnect_cmd";
    let fake = start_fake().await;
    let mut h = Harness::twitch(&fake.addr_string()).await;
    let session_id = connect_and_join(&h, &fake, CH, CH).await;

    // Messages just before RECONNECT, in the same packet, still count.
    let mut burst = lines(CH, 0, 5).join("\r\n").into_bytes();
    burst.extend_from_slice(b"\r\n:tmi.twitch.tv RECONNECT\r\n");
    assert_eq!(fake.broadcast_raw(CH, &burst), 1);
    let lost = h
        .events
        .wait_state(secs(5.0), 1, "Reconnecting", is_reconnecting)
        .await;
    let ChatState::Reconnecting { reason, .. } = &lost else {
        unreachable!()
    };
    assert!(
        reason.to_lowercase().contains("reconnect"),
        "reason: {reason}"
    );
    assert!(
        fake.wait_joins(CH, 2, secs(5.0)).await,
        "no JOIN on a new connection"
    );
    h.events
        .wait_state(secs(5.0), 2, "Connected again", is_connected)
        .await;
    assert!(
        fake.wait_open(1, secs(3.0)).await,
        "the client closes the old connection itself"
    );
    assert_eq!(fake.connections_total(), 2);
    let joins = fake.all_joins();
    assert_ne!(joins[0].0, joins[1].0, "the re-join is on a new connection");

    // A RECONNECT through the helper (on its own) works the same way a second time.
    assert_eq!(fake.send_reconnect(), 1);
    assert!(fake.wait_joins(CH, 3, secs(5.0)).await);
    h.events
        .wait_state(secs(5.0), 3, "Connected a third time", is_connected)
        .await;

    fake.broadcast_lines(CH, &lines(CH, 50, 7));
    let c = h
        .wait_counters(secs(5.0), "12 messages", |c| c.messages == 12)
        .await;
    assert_eq!((c.reconnects, c.malformed_lines), (2, 0));

    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    let row = db.sessions().get(session_id).await.unwrap().unwrap();
    assert_eq!((row.messages, row.reconnects), (12, 2));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_token_fails_once_without_a_retry_storm() {
    const CH: &str = "auth_test";
    let fake = start_fake().await;
    fake.reject_token("badtoken123");
    let mut h = Harness::start(HarnessOptions {
        twitch_irc_addr: Some(fake.addr_string()),
        config_toml: Some(b"[chat]\ntwitch_login = \"StreamerName\"\n".to_vec()),
        twitch_token: Some("oauth:badtoken123".into()),
        ..Default::default()
    })
    .await;
    h.engine().connect_chat(twitch(CH)).await.unwrap();
    let failed = h
        .events
        .wait_state(secs(5.0), 1, "Failed", |s| {
            matches!(s, ChatState::Failed { .. })
        })
        .await;
    let ChatState::Failed {
        channel,
        failure,
        message,
        ..
    } = &failed
    else {
        unreachable!()
    };
    assert_eq!((channel.as_str(), *failure), (CH, ChatFailure::AuthFailed));
    assert!(message.contains("Login authentication failed"), "{message}");
    assert!(
        !message.contains("badtoken123"),
        "the token is never shown: {message}"
    );

    tokio::time::sleep(secs(3.0)).await;
    let total = fake.connections_total();
    assert!(
        (1..=2).contains(&total),
        "{total} connections after an auth failure"
    );
    assert_eq!(fake.joins(CH), 0);
    assert_eq!(h.chat_state().await, failed, "still Failed, nobody retried");
    let states = h.events.states();
    assert_eq!(states.last(), Some(&failed));
    assert!(!states.iter().any(is_connected), "{states:#?}");
    for login in fake.logins() {
        assert_eq!(login.nick, "streamername");
        assert_eq!(login.token.as_deref(), Some("badtoken123"));
        assert!(!login.accepted);
    }
    assert!(fake
        .received()
        .iter()
        .any(|l| l == "PASS oauth:badtoken123"));

    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    let sessions = db.sessions().all().await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].ended_at_ms.is_some());
    assert_eq!(
        sessions[0].end_reason.as_deref(),
        Some("failed: AuthFailed")
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_in_with_the_saved_token() {
    const CH: &str = "login_ok";
    let fake = start_fake().await;
    fake.reject_token("some_other_token");
    let mut h = Harness::start(HarnessOptions {
        twitch_irc_addr: Some(fake.addr_string()),
        config_toml: Some(b"[chat]\ntwitch_login = \" StreamerName \"\n".to_vec()),
        twitch_token: Some("goodtoken".into()),
        ..Default::default()
    })
    .await;
    connect_and_join(&h, &fake, CH, CH).await;
    let logins = fake.logins();
    assert_eq!(logins.len(), 1);
    assert_eq!(
        (
            logins[0].nick.as_str(),
            logins[0].token.as_deref(),
            logins[0].accepted
        ),
        ("streamername", Some("goodtoken"), true)
    );
    assert!(fake.received().iter().any(|l| l == "PASS oauth:goodtoken"));
    fake.broadcast(CH, &Privmsg::new(CH, "viewer", "hello Kappa").line());
    h.wait_counters(secs(5.0), "1 message", |c| c.messages == 1)
        .await;
    h.shutdown_within(secs(5.0)).await;
}

/// Every Reconnecting state as (attempt, retry_at_ms, seen at ms, reason), in order.
fn reconnecting(h: &Harness) -> Vec<(u32, f64, i64, String)> {
    h.events
        .states_timed()
        .into_iter()
        .filter_map(|(_, at_ms, state)| match state {
            ChatState::Reconnecting {
                attempt,
                retry_at_ms,
                reason,
                ..
            } => Some((attempt, retry_at_ms, at_ms, reason)),
            _ => None,
        })
        .collect()
}

/// The last Reconnecting state of each attempt >= 2, by attempt. (Each retry is announced
/// twice: when the previous try fails, "retrying now", then with the backoff delay.)
fn retries(h: &Harness) -> Vec<(u32, f64, i64, String)> {
    let mut out: Vec<(u32, f64, i64, String)> = Vec::new();
    for r in reconnecting(h).into_iter().filter(|r| r.0 >= 2) {
        match out.iter_mut().find(|o| o.0 == r.0) {
            Some(o) => *o = r,
            None => out.push(r),
        }
    }
    out.sort_by_key(|r| r.0);
    out
}

/// Polls `snapshot()` until `retries` reaches `attempts`; returns the slowest answer.
async fn watch_retries(h: &Harness, attempts: u32, limit: Duration) -> Duration {
    let deadline = Instant::now() + limit;
    let mut slowest = Duration::ZERO;
    loop {
        let t = Instant::now();
        let snap = h.snapshot().await;
        slowest = slowest.max(t.elapsed());
        assert!(
            !is_connected(&snap.slot(ChatSlot::Main).state),
            "nothing to connect to, yet {:?}",
            snap.slot(ChatSlot::Main).state
        );
        if retries(h).iter().any(|r| r.0 >= attempts) {
            return slowest;
        }
        assert!(
            Instant::now() < deadline,
            "no attempt {attempts} within {limit:?}; states {:#?}",
            h.events.states()
        );
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

/// Backoff grows: the delay announced for later attempts is longer, and so is the real wait.
fn assert_backoff_grows(h: &Harness) {
    let all = reconnecting(h);
    assert!(
        all.windows(2).all(|w| w[1].0 >= w[0].0),
        "the attempt number never goes back during an outage: {all:#?}"
    );
    // Attempts 2..=5, each as announced with its delay (attempt 6 proves 5 is complete).
    let r: Vec<_> = retries(h).into_iter().filter(|x| x.0 <= 5).collect();
    let attempts: Vec<u32> = r.iter().map(|r| r.0).collect();
    assert_eq!(
        &attempts[..],
        &[2, 3, 4, 5],
        "attempts counted up one by one: {r:?}"
    );
    assert!(
        r.windows(2).all(|w| w[1].1 > w[0].1),
        "retry_at_ms increases: {r:?}"
    );
    let announced = |a: u32| {
        let x = r.iter().find(|x| x.0 == a).unwrap();
        x.1 - x.2 as f64
    };
    // base 50 ms, cap 1 s, jitter x0.5..1: attempt 2 waits 50..100 ms, attempt 5 waits 400..800 ms.
    assert!(
        announced(2) <= 150.0,
        "attempt 2 announced {} ms",
        announced(2)
    );
    assert!(
        announced(5) >= 300.0,
        "attempt 5 announced {} ms",
        announced(5)
    );
    let gap = |a: u32| {
        let at = |a: u32| r.iter().find(|x| x.0 == a).unwrap().1;
        at(a + 1) - at(a)
    };
    assert!(gap(4) > gap(2), "waits grow: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_back_off_then_recover() {
    const CH: &str = "refuse_test";
    let fake = start_fake().await;
    fake.set_refuse(true);
    let mut h = Harness::start(HarnessOptions {
        twitch_irc_addr: Some(fake.addr_string()),
        backoff: streamcue::chat::Backoff {
            base: Duration::from_millis(50),
            cap: Duration::from_millis(1000),
        },
        ..Default::default()
    })
    .await;
    h.engine().connect_chat(twitch(CH)).await.unwrap();
    let slowest = watch_retries(&h, 6, secs(8.0)).await;
    assert!(
        slowest < Duration::from_millis(300),
        "snapshot took {slowest:?} while retrying"
    );
    assert_backoff_grows(&h);
    let r = retries(&h);
    // Usually EOF ("the server closed the connection"); a reset if our CAP/NICK raced the close
    // ("connection error: ..."); the generic "connection lost" when the write failed first
    // (the line guard only sees reads).
    assert!(
        r.iter()
            .all(|x| ["closed", "connection error", "connection lost"]
                .iter()
                .any(|w| x.3.contains(w))),
        "{r:?}"
    );
    assert!(fake.refused() >= 4, "{} refused", fake.refused());
    // The server's view agrees: the gaps between connection attempts grow.
    let times = fake.accept_times();
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.len() >= 4 && gaps[3] > gaps[0],
        "gaps between attempts: {gaps:?}"
    );

    // The server comes back: the session connects by itself (within the 1 s cap + slack).
    fake.set_refuse(false);
    assert!(fake.wait_joins(CH, 1, secs(4.0)).await, "did not come back");
    h.events
        .wait_state(secs(3.0), 1, "Connected", is_connected)
        .await;
    fake.broadcast_lines(CH, &lines(CH, 0, 3));
    let c = h
        .wait_counters(secs(5.0), "3 messages", |c| c.messages == 3)
        .await;
    assert_eq!(
        c.reconnects, 0,
        "never joined before, so this is the first join"
    );
    let took = h.shutdown_within(secs(5.0)).await;
    assert!(took < secs(3.0), "shutdown took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_backs_off_and_shuts_down_promptly() {
    const CH: &str = "nobody_home";
    // A port that was just free: nothing listens there.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let mut h = Harness::start(HarnessOptions {
        twitch_irc_addr: Some(addr),
        backoff: streamcue::chat::Backoff {
            base: Duration::from_millis(50),
            cap: Duration::from_millis(1000),
        },
        ..Default::default()
    })
    .await;
    h.engine().connect_chat(twitch(CH)).await.unwrap();
    let slowest = watch_retries(&h, 6, secs(8.0)).await;
    assert!(
        slowest < Duration::from_millis(300),
        "snapshot took {slowest:?} while retrying"
    );
    assert_backoff_grows(&h);
    let r = retries(&h);
    assert!(r.iter().all(|x| x.3.contains("refused")), "{r:?}");
    let first = h.events.states().into_iter().find(is_reconnecting).unwrap();
    let ChatState::Reconnecting { reason, .. } = first else {
        unreachable!()
    };
    assert!(reason.contains("refused"), "{reason}");

    // Shut down in the middle of a backoff wait.
    let took = h.shutdown_within(secs(5.0)).await;
    assert!(
        took < secs(2.0),
        "shutdown took {took:?} while reconnecting"
    );
    let db = h.reopen_db().await;
    let sessions = db.sessions().all().await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].end_reason.as_deref(), Some("StreamCue closed"));
    assert_eq!(sessions[0].messages, 0);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lines_are_counted_and_do_not_drop_the_connection() {
    const CH: &str = "junk_test";
    let fake = start_fake().await;
    let mut h = Harness::twitch(&fake.addr_string()).await;
    let session_id = connect_and_join(&h, &fake, CH, CH).await;

    let good = |i: u64| sample_privmsg(CH, 1000 + i);
    let mut good_count = 0u32;
    let mut bad_count = 0u32;
    let mut payload: Vec<u8> = Vec::new();
    let mut push_good = |payload: &mut Vec<u8>, line: &str| {
        payload.extend_from_slice(line.as_bytes());
        payload.extend_from_slice(b"\r\n");
        good_count += 1;
    };
    let mut push_bad = |payload: &mut Vec<u8>, line: &[u8]| {
        payload.extend_from_slice(line);
        payload.extend_from_slice(b"\r\n");
        bad_count += 1;
    };

    push_good(&mut payload, &good(0));
    // Rejected by the line guard.
    push_bad(&mut payload, b"\xff\xfe\xfd not utf-8 at all");
    push_bad(
        &mut payload,
        &[format!("PRIVMSG #{CH} :caf").as_bytes(), b"\xe9 latin-1"].concat(),
    );
    push_good(&mut payload, &good(1));
    push_bad(&mut payload, &vec![b'A'; 64 * 1024]);
    push_bad(
        &mut payload,
        format!("{} {}", good(90), "x".repeat(20 * 1024)).as_bytes(),
    );
    push_good(&mut payload, &good(2));
    push_bad(&mut payload, b":tmi.twitch.tv");
    push_bad(
        &mut payload,
        format!("@ :u!u@u.tmi.twitch.tv PRIVMSG #{CH} :empty tags").as_bytes(),
    );
    push_bad(
        &mut payload,
        format!("PRIV-MSG #{CH} :bad command").as_bytes(),
    );
    push_bad(
        &mut payload,
        format!("PRIVMSG #{CH}  :double space").as_bytes(),
    );
    // Lone CRs inside a line (two messages glued by a bare CR are one bad line).
    push_bad(
        &mut payload,
        format!("{}\r{}", good(91), good(92)).as_bytes(),
    );
    push_bad(&mut payload, b"\r\r\rPING");
    push_good(&mut payload, &good(3));
    // Well-formed IRC, but PRIVMSGs twitch-irc cannot read (bad or missing tags).
    let base = Privmsg::new(CH, "oddtags", "odd tags Kappa");
    push_bad(&mut payload, base.clone().color("red").line().as_bytes());
    let mut bad_emotes = base.clone();
    bad_emotes.emotes = "25:x-y".into();
    push_bad(&mut payload, bad_emotes.line().as_bytes());
    let mut bad_badges = base.clone();
    bad_badges.badges = "moderator".into();
    push_bad(&mut payload, bad_badges.line().as_bytes());
    // Tag values that panic inside twitch-irc's parser (which would silently kill chat).
    push_bad(
        &mut payload,
        base.clone().color("#\u{20ac}abc").line().as_bytes(),
    );
    let mut reversed = base.clone();
    reversed.emotes = "25:0-4,9-2".into();
    push_bad(&mut payload, reversed.line().as_bytes());
    push_bad(
        &mut payload,
        base.line()
            .replace(
                &format!("tmi-sent-ts={}", base.tmi_sent_ts),
                "tmi-sent-ts=soon",
            )
            .as_bytes(),
    );
    push_bad(
        &mut payload,
        format!(":bare!bare@bare.tmi.twitch.tv PRIVMSG #{CH} :no tags at all").as_bytes(),
    );
    // Odd but valid: unknown, valueless and client tags, escapes, out-of-range emotes, /me.
    push_good(
        &mut payload,
        &base
            .clone()
            .tag("+example.com/client-tag", Some("x"))
            .tag("valueless", None)
            .tag("msg-param-odd", Some("a\\sb\\:c\\\\d"))
            .tag("empty", Some(""))
            .line(),
    );
    let mut out_of_range = Privmsg::new(CH, "zoe", "Kappa 🎉");
    out_of_range.emotes = "25:0-4,40-44".into();
    push_good(
        &mut payload,
        &out_of_range.display_name("Zoë (ゾエ)").line(),
    );
    push_good(
        &mut payload,
        &Privmsg::new(CH, "mover", "dances LUL")
            .action()
            .moderator()
            .line(),
    );
    // Lines that are valid IRC but not chat: neither messages nor malformed.
    payload.extend_from_slice(
        b"FOO bar :baz\r\n:tmi.twitch.tv NOTICE #junk_test :Some notice\r\n\r\n\n",
    );
    payload.extend_from_slice(
        format!("@msg-id=host_on :tmi.twitch.tv NOTICE #{CH} :Now hosting.\r\n").as_bytes(),
    );
    push_good(&mut payload, &good(4));
    assert_eq!(fake.broadcast_raw(CH, &payload), 1);

    // A good line split across three packets, then several lines in one packet.
    // (The cut in the middle of the text may fall inside a multi-byte character.)
    let split = Privmsg::new(CH, "splitter", "ünïcödé 日本語 ✨ across packets Kappa").line();
    let bytes = split.as_bytes();
    let cut = split.find("ü").unwrap() + 1;
    let (a, rest) = bytes.split_at(17);
    let (b, c) = rest.split_at(cut - 17);
    for part in [a, b] {
        fake.broadcast_raw(CH, part);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let tail = [c, format!("\r\n{}\r\n{}\r\n", good(6), good(7)).as_bytes()].concat();
    fake.broadcast_raw(CH, &tail);
    good_count += 3;

    let want = (good_count, bad_count);
    let c = h
        .wait_counters(
            secs(5.0),
            "good lines counted, bad ones as malformed",
            |c| (c.messages, c.malformed_lines) == want,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(h.counters().await, c, "nothing more was counted later");
    assert_eq!(c.reconnects, 0);
    assert_eq!(
        fake.connections_total(),
        1,
        "the junk did not cost the connection"
    );
    assert_eq!(fake.connections_open(), 1);
    assert!(
        !h.events.states().iter().any(is_reconnecting),
        "{:#?}",
        h.events.states()
    );

    // Still healthy afterwards.
    fake.broadcast_lines(CH, &lines(CH, 0, 4));
    h.wait_counters(secs(5.0), "4 more", |c| c.messages == good_count + 4)
        .await;

    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    let row = db.sessions().get(session_id).await.unwrap().unwrap();
    assert_eq!(row.messages, i64::from(good_count + 4));
    assert_eq!(row.malformed_lines, i64::from(bad_count));
    assert_eq!(
        stored_velocity_sum(&db, session_id).await.0,
        u64::from(good_count + 4)
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_shutdown_while_connected() {
    const CH: &str = "shutdown_test";
    let fake = start_fake().await;
    let mut h = Harness::twitch(&fake.addr_string()).await;
    let session_id = connect_and_join(&h, &fake, CH, CH).await;
    fake.broadcast_lines(CH, &lines(CH, 0, 5));
    h.wait_counters(secs(5.0), "5 messages", |c| c.messages == 5)
        .await;

    let before = now_ms();
    let took = h.shutdown_within(secs(5.0)).await;
    assert!(took < secs(3.0), "shutdown took {took:?}");
    assert!(
        fake.wait_open(0, secs(3.0)).await,
        "the client closed its connection"
    );
    assert_eq!(fake.connections_total(), 1);

    let db = h.reopen_db().await;
    let row = db.sessions().get(session_id).await.unwrap().unwrap();
    let ended = row.ended_at_ms.expect("ended_at_ms is set");
    assert!(
        ended >= before && ended <= now_ms(),
        "ended {ended}, shutdown began {before}"
    );
    assert_eq!(row.end_reason.as_deref(), Some("StreamCue closed"));
    assert_eq!(row.messages, 5);
    db.close().await;
    // And again: the database was left closed and consistent.
    let db = Database::open(&h.paths.database_file)
        .await
        .expect("opens a second time");
    assert_eq!(db.sessions().all().await.unwrap().len(), 1);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_closes_the_connection_and_the_session() {
    const CH: &str = "disconnect_test";
    let fake = start_fake().await;
    let mut h = Harness::twitch(&fake.addr_string()).await;
    let session_id = connect_and_join(&h, &fake, CH, CH).await;
    fake.broadcast_lines(CH, &lines(CH, 0, 3));
    h.wait_counters(secs(5.0), "3 messages", |c| c.messages == 3)
        .await;

    let state = h.engine().disconnect_chat(ChatSlot::Main).await.unwrap();
    assert_eq!(state, ChatState::Disconnected);
    assert!(
        fake.wait_open(0, secs(3.0)).await,
        "disconnect closes the socket"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.connections_total(), 1, "and nothing reconnects");
    assert_eq!(h.counters().await, Default::default());

    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    let row = db.sessions().get(session_id).await.unwrap().unwrap();
    assert_eq!(row.end_reason.as_deref(), Some("disconnected"));
    assert_eq!(row.messages, 3);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_channel_names_are_rejected_before_anything_is_sent() {
    let fake = start_fake().await;
    let mut h = Harness::twitch(&fake.addr_string()).await;
    let long = "a".repeat(26);
    for bad in [
        "",
        "   ",
        "#",
        "bad name",
        "x\r\nJOIN #evil",
        "chan\nPRIVMSG #evil :hi",
        "café",
        long.as_str(),
        "https://youtube.com/watch?v=1",
        "twitch.tv/",
        "semi;colon",
    ] {
        let err = h.engine().connect_chat(twitch(bad)).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidChannel, "{bad:?}: {err:?}");
        assert!(!err.message.is_empty());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.connections_total(), 0, "nothing was dialled");
    assert!(fake.received().is_empty());
    assert_eq!(h.chat_state().await, ChatState::Disconnected);
    assert!(h.events.states().is_empty(), "{:?}", h.events.states());

    // A valid name still works, and only it reaches the server.
    connect_and_join(&h, &fake, " @Valid_Name ", "valid_name").await;
    let err = h.engine().connect_chat(twitch("other")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::AlreadyConnected);
    let joins: Vec<String> = fake
        .received()
        .into_iter()
        .filter(|l| l.starts_with("JOIN"))
        .collect();
    assert_eq!(joins, vec!["JOIN #valid_name".to_string()]);
    assert!(!fake.received().iter().any(|l| l.contains("evil")));

    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    let sessions = db.sessions().all().await.unwrap();
    assert_eq!(sessions.len(), 1, "rejected names create no session rows");
    assert_eq!(sessions[0].channel, "valid_name");
    db.close().await;
}

/// Twitch's "silent disconnect" (a login name that is not the token's account): the socket is
/// closed before the welcome with no NOTICE. After two in a row the window says what to check,
/// and StreamCue keeps retrying (it may be the network).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_dropped_before_the_welcome_say_what_to_check() {
    const CH: &str = "silent_drop";
    let fake = start_fake().await;
    fake.drop_silently("mismatchedtoken9");
    let mut h = Harness::start(HarnessOptions {
        twitch_irc_addr: Some(fake.addr_string()),
        config_toml: Some(b"[chat]\ntwitch_login = \"NotTheTokensAccount\"\n".to_vec()),
        twitch_token: Some("oauth:mismatchedtoken9".into()),
        ..Default::default()
    })
    .await;
    h.engine().connect_chat(twitch(CH)).await.unwrap();
    let explained = h
        .events
        .wait_state(secs(15.0), 1, "the reason explained", |s| {
            matches!(s, ChatState::Reconnecting { reason, .. }
                if reason.starts_with("Twitch closed the connection before login finished"))
        })
        .await;
    let ChatState::Reconnecting { reason, .. } = &explained else {
        unreachable!()
    };
    assert!(
        reason.contains("login name matches the token's account"),
        "{reason}"
    );
    assert!(
        !reason.contains("mismatchedtoken9"),
        "the token is never shown: {reason}"
    );
    assert!(fake.connections_total() >= 2);
    assert_eq!(fake.joins(CH), 0);
    h.shutdown_within(secs(5.0)).await;
}
