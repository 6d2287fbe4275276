//! The generation queue end to end: viewers' `!anime` / `!status` / `!queue` arrive through the
//! fake Twitch IRC server (real loopback TCP, real twitch-irc), the queue writes real SQLite, and
//! its replies go back out through `ChatReplies` and twitch-irc to the server, which records
//! exactly what it received. The streamer's actions go through `EngineHandle::queue()`.
//!
//! Nothing inside the process is mocked. Every wait is bounded. The Twitch dial target is
//! process-wide, so each harness holds the test kit's Twitch lock for its lifetime.
//!
//! About the wire format of replies: twitch-irc's `say` sends `PRIVMSG #chan :. <text>`. The
//! leading `. ` is twitch-irc's own escape (Twitch drops a single leading dot), so `<text>`, what
//! viewers see, is what must never start with `/` or `.`. The helpers below check both.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use streamcue::api::{
    ApiError, ChatSlot, ChatState, ChatTarget, Cooldowns, CoreEvent, ErrorCode, LimitsView,
    QueueAction, QueueCounters, QueueItem, QueueView, ReplyLimits, RequestState,
};
use streamcue::clock::now_ms;
use streamcue::db::Database;
use streamcue_testkit::fake_irc::{message_id, parse_client_line, room_id, FakeIrc, Privmsg};
use streamcue_testkit::{is_connected, is_reconnecting, secs, within, Harness, HarnessOptions};

const BOT: &str = "cuebot";
const TOKEN: &str = "queue_test_token";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A config file: logged in as [`BOT`] (or anonymous) with the given `[queue]` lines.
fn config(logged_in: bool, queue: &str) -> String {
    let login = if logged_in { BOT } else { "" };
    format!("[chat]\ntwitch_login = \"{login}\"\n\n[queue]\n{queue}\n")
}

async fn start_fake() -> FakeIrc {
    FakeIrc::start()
        .await
        .expect("fake IRC server binds 127.0.0.1")
}

/// Starts an engine talking to `fake`; logged in (token in the store) when `logged_in`.
async fn start(
    fake: &FakeIrc,
    logged_in: bool,
    config_text: &str,
    dir: Option<tempfile::TempDir>,
) -> Harness {
    Harness::start(HarnessOptions {
        twitch_irc_addr: Some(fake.addr_string()),
        config_toml: Some(config_text.as_bytes().to_vec()),
        twitch_token: logged_in.then(|| TOKEN.to_string()),
        dir,
        // The queue alone: approved requests stay approved (the generator has its own tests).
        generation_paused: true,
        ..Default::default()
    })
    .await
}

/// Shuts `h` down (if still running), keeps its data folder and starts a new engine on it.
async fn restart(mut h: Harness, fake: &FakeIrc, logged_in: bool, config_text: &str) -> Harness {
    let dir = std::mem::replace(&mut h.dir, tempfile::tempdir().expect("temp dir"));
    drop(h); // shuts the engine down if needed and releases the Twitch lock
    start(fake, logged_in, config_text, Some(dir)).await
}

/// Connects to `channel` and waits for the (next) `Connected`; returns the session id.
async fn connect(h: &Harness, fake: &FakeIrc, channel: &str) -> i64 {
    let joins = fake.joins(channel);
    let connected = h.events.states().iter().filter(|s| is_connected(s)).count();
    within(
        secs(5.0),
        "connect_chat",
        h.engine().connect_chat(ChatTarget::Twitch {
            channel: channel.into(),
        }),
    )
    .await
    .expect("connect");
    assert!(
        fake.wait_joins(channel, joins + 1, secs(5.0)).await,
        "the server saw no JOIN #{channel}; received {:?}",
        fake.received()
    );
    match h
        .events
        .wait_state(secs(5.0), connected + 1, "Connected", is_connected)
        .await
    {
        ChatState::Connected { session_id, .. } => i64::from(session_id),
        _ => unreachable!(),
    }
}

/// A chat line from `login` (shown as `display`) with a known message id.
fn msg(channel: &str, login: &str, display: &str, text: &str, id: u64) -> Privmsg {
    Privmsg::new(channel, login, text)
        .display_name(display)
        .id(&message_id(id))
}

fn send(fake: &FakeIrc, channel: &str, msgs: &[Privmsg]) {
    let lines: Vec<String> = msgs.iter().map(Privmsg::line).collect();
    assert_eq!(
        fake.broadcast_lines(channel, &lines),
        1,
        "exactly one connection is joined to #{channel}"
    );
}

fn queue_events(h: &Harness) -> Vec<QueueItem> {
    h.events
        .all()
        .into_iter()
        .filter_map(|s| match s.event {
            CoreEvent::QueueItem { item } => Some(item),
            _ => None,
        })
        .collect()
}

fn counter_events(h: &Harness) -> Vec<QueueCounters> {
    h.events
        .all()
        .into_iter()
        .filter_map(|s| match s.event {
            CoreEvent::QueueCounters { counters } => Some(counters),
            _ => None,
        })
        .collect()
}

/// The last announced state of every item, by id.
fn last_announced(h: &Harness) -> BTreeMap<i32, QueueItem> {
    queue_events(h).into_iter().map(|i| (i.id, i)).collect()
}

/// Waits until at least `n` `QueueItem` events match `pred`; returns those, in order.
async fn wait_items(
    h: &Harness,
    n: usize,
    what: &str,
    pred: impl Fn(&QueueItem) -> bool,
) -> Vec<QueueItem> {
    h.events
        .wait(secs(5.0), what, |_| {
            queue_events(h).iter().filter(|i| pred(i)).count() >= n
        })
        .await;
    queue_events(h).into_iter().filter(|i| pred(i)).collect()
}

/// Waits until the last announced counters satisfy `pred`.
async fn wait_counters(
    h: &Harness,
    what: &str,
    pred: impl Fn(&QueueCounters) -> bool,
) -> QueueCounters {
    h.events
        .wait(secs(5.0), what, |_| {
            counter_events(h).last().is_some_and(&pred)
        })
        .await;
    *counter_events(h).last().expect("counters seen")
}

async fn view(h: &Harness) -> QueueView {
    within(secs(5.0), "queue view", h.engine().handle().queue().view())
        .await
        .expect("queue view")
}

async fn act(h: &Harness, id: i32, action: QueueAction) -> Result<QueueItem, ApiError> {
    within(
        secs(5.0),
        "queue action",
        h.engine().handle().queue().act(id, action),
    )
    .await
}

/// Acts, expects success, and checks the returned item was also announced.
async fn act_ok(h: &Harness, id: i32, action: QueueAction) -> QueueItem {
    let item = act(h, id, action)
        .await
        .unwrap_or_else(|e| panic!("{action:?} #{id}: {e:?}"));
    let want = item.clone();
    wait_items(h, 1, &format!("the event for {action:?} #{id}"), |i| {
        *i == want
    })
    .await;
    item
}

async fn act_err(h: &Harness, id: i32, action: QueueAction) -> ErrorCode {
    match act(h, id, action).await {
        Ok(item) => panic!("{action:?} #{id} should fail, got {item:?}"),
        Err(e) => e.code,
    }
}

/// Checks the text viewers would see: one line, never a chat command, within Twitch's limit.
fn assert_safe_text(text: &str) {
    assert!(!text.is_empty(), "empty reply");
    assert!(
        !text.chars().any(char::is_control),
        "control character in reply {text:?}"
    );
    assert!(
        !text.starts_with('/') && !text.starts_with('.') && !text.starts_with(char::is_whitespace),
        "reply could run a chat command: {text:?}"
    );
    assert!(text.chars().count() <= 500, "reply too long: {text:?}");
}

/// The chat messages the server received for `channel`, in order: the text after twitch-irc's
/// `. ` escape, each checked with [`assert_safe_text`].
fn replies(fake: &FakeIrc, channel: &str) -> Vec<String> {
    fake.received()
        .iter()
        .filter_map(|line| {
            let (command, params) = parse_client_line(line)?;
            (command == "PRIVMSG").then(|| {
                assert_eq!(params.len(), 2, "PRIVMSG with odd params: {line:?}");
                assert_eq!(params[0], format!("#{channel}"), "{line:?}");
                let text = params[1]
                    .strip_prefix(". ")
                    .unwrap_or_else(|| panic!("twitch-irc's say escape is missing: {line:?}"));
                assert_safe_text(text);
                text.to_string()
            })
        })
        .collect()
}

/// Waits until the server has received `n` chat messages in total; returns them.
async fn wait_replies(fake: &FakeIrc, channel: &str, n: usize, limit: Duration) -> Vec<String> {
    let ok = fake
        .wait_until(limit, |f| replies(f, channel).len() >= n)
        .await;
    let got = replies(fake, channel);
    assert!(
        ok,
        "timed out after {limit:?} waiting for {n} replies; got {}: {got:#?}",
        got.len()
    );
    got
}

/// Every line a client sent is an ordinary protocol line: nothing was injected.
fn assert_only_protocol_lines(fake: &FakeIrc) {
    const ALLOWED: &[&str] = &[
        "CAP", "PASS", "NICK", "USER", "JOIN", "PART", "PING", "PONG", "PRIVMSG", "QUIT",
    ];
    for line in fake.received() {
        assert!(
            !line.chars().any(char::is_control),
            "control character in a client line: {line:?}"
        );
        let (command, _) = parse_client_line(&line).expect("a parseable line");
        assert!(
            ALLOWED.contains(&command.as_str()),
            "unexpected client command: {line:?}"
        );
    }
}

/// The prompt as the queue echoes it in chat (at most 60 characters).
fn short(prompt: &str) -> String {
    if prompt.chars().count() <= 60 {
        prompt.to_string()
    } else {
        prompt.chars().take(59).chain(['…']).collect()
    }
}

fn got_it(display: &str, prompt: &str, position: usize) -> String {
    format!(
        "@{display} got it! \"{}\" is #{position} in the queue.",
        short(prompt)
    )
}

/// The N of a "please wait N s" reply to `display`.
fn wait_seconds(reply: &str, display: &str) -> i64 {
    reply
        .strip_prefix(&format!("@{display} please wait "))
        .and_then(|r| r.strip_suffix(" s before your next request."))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a cooldown reply to {display}: {reply:?}"))
}

/// The cooldown N must be what is left of `cooldown_ms` after the viewer's last accepted
/// request at `last_ms`, rounded up, measured at some moment between `sent_ms` (the command was
/// sent) and `replied_ms` (its reply had arrived).
fn assert_wait_is_exact(n: i64, last_ms: i64, cooldown_ms: i64, sent_ms: i64, replied_ms: i64) {
    let left = |now: i64| (last_ms + cooldown_ms - now + 999).div_euclid(1000);
    let (lo, hi) = (left(replied_ms), left(sent_ms));
    assert!(
        lo <= n && n <= hi && n >= 1,
        "please wait {n} s: expected {lo}..={hi} (last accepted at {last_ms}, cooldown {cooldown_ms} ms)"
    );
}

/// All requests in the database, in queue order:
/// (id, session_id, user_login, display_name, message_id, prompt, state, reason, position).
type Row = (
    i64,
    Option<i64>,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    i64,
);

async fn db_rows(db: &Database) -> Vec<Row> {
    sqlx::query_as(
        "SELECT id, session_id, user_login, display_name, message_id, prompt, state, reason, \
         position FROM requests ORDER BY position, id",
    )
    .fetch_all(db.pool())
    .await
    .expect("read requests")
}

/// The database's view of every item equals the last state announced for it.
async fn assert_db_matches_announced(db: &Database, announced: &BTreeMap<i32, QueueItem>) {
    assert!(!announced.is_empty());
    for (id, item) in announced {
        let stored = db
            .requests()
            .get(i64::from(*id))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("request #{id} was announced but is not in the database"));
        assert_eq!(
            &streamcue::api::QueueItem::from(stored),
            item,
            "request #{id}: database vs last announcement"
        );
    }
}

fn waiting_ids(v: &QueueView) -> Vec<(i32, i32)> {
    v.items
        .iter()
        .filter(|i| i.state.is_waiting())
        .map(|i| (i.id, i.position))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Requests from chat, the bound, refusals and the exact replies; the rate limit.
// ---------------------------------------------------------------------------------------------

const LONG_PROMPT: &str =
    "an enormous castle floating above the clouds at sunset, with dragons circling its towers";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_fills_the_queue_and_gets_exactly_the_right_replies_within_the_rate_limit() {
    const CH: &str = "queue_main";
    let fake = start_fake().await;
    let cfg = config(
        true,
        "cooldown_seconds = 600\nmax_waiting = 10\nblocked_words = [\"badword\"]",
    );
    let mut h = start(&fake, true, &cfg, None).await;
    let session = connect(&h, &fake, CH).await;
    let t0 = Instant::now();

    // Burst 1: ten viewers fill the queue (quoted, unquoted, curly, unicode, zero-width, long,
    // odd spacing); two more find it full.
    let long_cmd = format!("!anime {LONG_PROMPT}");
    let accepted: [(&str, &str, &str, &str); 10] = [
        (
            "aki",
            "Aki",
            "!anime \"a cat surfing a wave\"",
            "a cat surfing a wave",
        ),
        (
            "bo_bo",
            "Bo_Bo",
            "!anime a fox in   the snow",
            "a fox in the snow",
        ),
        (
            "kuro99",
            "クロ",
            "!anime 猫が波に乗る 🌊",
            "猫が波に乗る 🌊",
        ),
        (
            "dee",
            "Dee",
            "!anime “curly quoted dragon”",
            "curly quoted dragon",
        ),
        (
            "eve",
            "Eve",
            "!ANIME ünïcödé castle at night",
            "ünïcödé castle at night",
        ),
        ("fynn", "Fynn", "!anime 'single quotes'", "single quotes"),
        (
            "gus",
            "Gus",
            "!anime \"unclosed quote robot",
            "unclosed quote robot",
        ),
        (
            "hana",
            "Hana",
            "!anime a\u{200B}b zero width",
            "ab zero width",
        ),
        ("ivo", "Ivo", &long_cmd, LONG_PROMPT),
        (
            "jun",
            "Jun",
            "!anime   spaced   out   words  ",
            "spaced out words",
        ),
    ];
    let mut burst1: Vec<Privmsg> = accepted
        .iter()
        .enumerate()
        .map(|(i, (login, display, text, _))| msg(CH, login, display, text, 100 + i as u64))
        .collect();
    burst1.push(msg(CH, "kai", "Kai", "!anime too late", 200));
    burst1.push(msg(CH, "lea", "Lea", "!anime \"also too late\"", 201));
    send(&fake, CH, &burst1);

    let mut expected: Vec<String> = accepted
        .iter()
        .enumerate()
        .map(|(i, (_, display, _, prompt))| got_it(display, prompt, i + 1))
        .collect();
    expected.push("@Kai the queue is full (10 waiting). Try again in a bit!".into());
    expected.push("@Lea the queue is full (10 waiting). Try again in a bit!".into());
    let got = wait_replies(&fake, CH, 12, secs(5.0)).await;
    assert_eq!(got, expected, "replies to burst 1, in order");

    // Ten QueueItem events: pending, positions 1..10, in arrival order.
    let items = wait_items(&h, 10, "10 accepted requests", |_| true).await;
    assert_eq!(items.len(), 10, "{items:#?}");
    for (k, (item, (login, display, _, prompt))) in items.iter().zip(&accepted).enumerate() {
        assert_eq!(
            (
                item.user_login.as_str(),
                item.display_name.as_str(),
                item.prompt.as_str(),
                item.state,
                item.reason.as_deref(),
                item.position
            ),
            (
                *login,
                *display,
                *prompt,
                RequestState::Pending,
                None,
                k as i32 + 1
            )
        );
    }
    assert!(items.windows(2).all(|w| w[0].id < w[1].id));

    // Burst 2, more than a second after Aki's request: the cooldown, every refusal, !queue,
    // !position, !status; then three more commands whose replies exceed 20 per 30 s.
    let aki_at = items[0].created_at_ms as i64;
    let pause = (aki_at + 1300 - now_ms()).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(pause)).await;
    let huge = format!("!anime {}", "x".repeat(10 * 1024));
    let burst2 = [
        msg(CH, "aki", "Aki", "!anime another one", 300),
        msg(CH, "mo", "Mo", "!anime", 301),
        msg(CH, "nia", "Nia", "!anime a BadWord here", 302),
        msg(CH, "oto", "Oto", &huge, 303),
        msg(CH, "kuro99", "クロ", "!queue", 304),
        msg(CH, "mo", "Mo", "!position", 305),
        msg(CH, "pip", "Pip", "!status", 306),
        msg(CH, "jun", "Jun", "!QUEUE", 307),
        // 21st to 23rd replies: held back by the limiter.
        msg(CH, "qin", "Qin", "!status", 308),
        msg(CH, "ray", "Ray", "!queue", 309),
        msg(CH, "sol", "Sol", "!anime one too many", 310),
    ];
    let sent2 = now_ms();
    send(&fake, CH, &burst2);
    let got = wait_replies(&fake, CH, 20, secs(5.0)).await;
    let replied2 = now_ms();
    let first20 = t0.elapsed();

    let n = wait_seconds(&got[12], "Aki");
    assert_wait_is_exact(n, aki_at, 600_000, sent2, replied2);
    assert!(n < 600, "time since the request counts: {n}");
    expected.extend([
        format!("@Aki please wait {n} s before your next request."),
        "@Mo Usage: !anime <what to draw>, e.g. !anime \"a cat surfing a wave\"".into(),
        "@Nia sorry, that prompt can't be used here.".into(),
        "@Oto that prompt is too long (10240 characters, the limit is 200); please shorten it."
            .into(),
        "@クロ your request is #3 of 10: \"猫が波に乗る 🌊\"".into(),
        "@Mo you have no request waiting. Usage: !anime <what to draw>".into(),
        "StreamCue: 10 waiting (0 approved), queue limit 10, cooldown 600 s, auto-approve off."
            .into(),
        "@Jun your request is #10 of 10: \"spaced out words\"".into(),
    ]);
    assert_eq!(
        got, expected,
        "exactly these 20 replies, each once, in order"
    );
    for r in got.iter().filter(|r| !r.starts_with("StreamCue: ")) {
        assert!(r.starts_with('@'), "addressed to the viewer: {r:?}");
    }

    // The queue has handled all 23 commands (Sol's overflow is counted)...
    let counters = wait_counters(&h, "Sol's overflow counted", |c| c.overflow_rejects == 3).await;
    let want = QueueCounters {
        paused_rejects: 0,
        accepted: 10,
        cooldown_rejects: 1,
        overflow_rejects: 3,
        blocked_prompts: 2,
        usage_replies: 1,
        approved: 0,
        skipped: 0,
        moderated: 0,
    };
    assert_eq!(counters, want);
    // ... but the 21st reply does not go out within the 30 s window: nothing more for 2 s.
    let more = fake
        .wait_until(secs(2.0), |f| replies(f, CH).len() > 20)
        .await;
    assert!(!more, "a 21st reply was sent: {:#?}", replies(&fake, CH));
    let times: Vec<Instant> = fake
        .received_timed()
        .into_iter()
        .filter(|(_, l)| l.starts_with("PRIVMSG"))
        .map(|(t, _)| t)
        .collect();
    assert_eq!(times.len(), 20);
    assert!(
        times[19].duration_since(times[0]) < secs(5.0),
        "the first 20 replies go out promptly ({first20:?} from the first command)"
    );
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < secs(30.0))
            .count();
        assert!(in_window <= 20, "{in_window} messages within 30 s");
    }

    // The panel agrees, and the chat connection was never reported lost.
    let v = view(&h).await;
    assert_eq!(v.counters, want);
    assert_eq!(v.max_waiting, 10);
    assert!(!v.auto_approve);
    assert_eq!(v.items, items, "the view is the ten announced items");
    let states = h.events.states();
    assert!(
        !states.iter().any(is_reconnecting)
            && states.iter().filter(|s| is_connected(s)).count() == 1,
        "the chat stayed connected while replying: {states:#?}"
    );
    assert_eq!(h.counters().await.malformed_lines, 0);
    assert_only_protocol_lines(&fake);
    // One connection, one login: twitch-irc opened no extra connection for the burst of replies
    // (that reordered them and showed the streamer a false "Reconnecting").
    let logins = fake.logins();
    assert!(
        logins.len() == 1
            && logins[0].nick == BOT
            && logins[0].token.as_deref() == Some(TOKEN)
            && logins[0].accepted,
        "{logins:?}"
    );
    assert_eq!(fake.connections_total(), 1);

    // Shutdown is prompt although replies are waiting for the limiter.
    let took = h.shutdown_within(secs(5.0)).await;
    assert!(took < secs(3.0), "shutdown took {took:?}");
    let db = h.reopen_db().await;
    let rows = db_rows(&db).await;
    let want_rows: Vec<Row> = items
        .iter()
        .zip(&accepted)
        .enumerate()
        .map(|(k, (item, (login, display, _, prompt)))| {
            (
                i64::from(item.id),
                Some(session),
                login.to_string(),
                display.to_string(),
                Some(message_id(100 + k as u64)),
                prompt.to_string(),
                "pending".to_string(),
                None,
                k as i64 + 1,
            )
        })
        .collect();
    assert_eq!(
        rows, want_rows,
        "the database holds the ten requests, in order"
    );
    let cooldowns: Vec<(String, i64)> =
        sqlx::query_as("SELECT user_login, last_accepted_ms FROM cooldowns ORDER BY user_login")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let mut want_cooldowns: Vec<(String, i64)> = items
        .iter()
        .map(|i| (i.user_login.clone(), i.created_at_ms as i64))
        .collect();
    want_cooldowns.sort();
    assert_eq!(
        cooldowns, want_cooldowns,
        "only accepted requests start a cooldown"
    );
    assert_eq!(
        db.requests().counters(session).await.unwrap(),
        want,
        "the session's counters are persisted"
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_chat_queues_requests_but_sends_nothing() {
    const CH: &str = "queue_anon";
    let fake = start_fake().await;
    let mut h = start(&fake, false, &config(false, "cooldown_seconds = 600"), None).await;
    connect(&h, &fake, CH).await;
    send(
        &fake,
        CH,
        &[
            msg(CH, "ana", "Ana", "!anime a quiet fox", 1),
            msg(CH, "ben", "Ben", "!anime \"a loud owl\"", 2),
            msg(CH, "cy", "Cy", "!anime", 3),
            msg(CH, "ana", "Ana", "!anime again", 4),
            msg(CH, "dan", "Dan", "!status", 5),
            msg(CH, "ana", "Ana", "!queue", 6),
            msg(CH, "eli", "Eli", "!anime a badword? no, fine", 7),
            msg(CH, "fay", "Fay", "!anime", 8), // the last one: everything before is handled
        ],
    );
    let items = wait_items(&h, 3, "3 accepted", |_| true).await;
    let prompts: Vec<&str> = items.iter().map(|i| i.prompt.as_str()).collect();
    assert_eq!(
        prompts,
        ["a quiet fox", "a loud owl", "a badword? no, fine"]
    );
    assert!(items.iter().all(|i| i.state == RequestState::Pending));
    let counters = wait_counters(&h, "both usage replies", |c| c.usage_replies == 2).await;
    assert_eq!((counters.accepted, counters.cooldown_rejects), (3, 1));
    // Give the replies actor time to try: nothing may reach the server.
    tokio::time::sleep(secs(1.0)).await;
    let said: Vec<String> = fake
        .received()
        .into_iter()
        .filter(|l| l.starts_with("PRIVMSG"))
        .collect();
    assert!(said.is_empty(), "anonymous chat said {said:?}");
    // Each of the eight replies (three accepted, one cooldown, two usage, !status, !queue) is
    // counted as dropped.
    assert_eq!(h.snapshot().await.limits.replies.dropped, 8);
    let logins = fake.logins();
    assert!(
        logins.len() == 1 && logins[0].nick.starts_with("justinfan") && logins[0].token.is_none(),
        "{logins:?}"
    );
    assert_only_protocol_lines(&fake);
    h.shutdown_within(secs(5.0)).await;
}

// ---------------------------------------------------------------------------------------------
// 2. Nothing a viewer types makes StreamCue send a chat command or an extra line.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_prompts_and_names_cannot_inject_commands_or_lines() {
    const CH: &str = "queue_inject";
    let fake = start_fake().await;
    let mut h = start(&fake, true, &config(true, ""), None).await;
    connect(&h, &fake, CH).await;
    let crlf_name = format!("x\r\nPRIVMSG #{CH} :/ban streamer");
    send(
        &fake,
        CH,
        &[
            msg(CH, "inj1", "inj1", "!anime /ban streamer", 1),
            msg(CH, "inj2", "inj2", "!anime .timeout x 600", 2),
            msg(CH, "inj3", "inj3", "!anime \u{1}ACTION dances\u{1}", 3),
            // A display-name tag with escaped CR LF: twitch-irc unescapes it to a real CR LF.
            msg(CH, "inj4", &crlf_name, "!anime cat", 4),
            // A `/me` line: twitch-irc strips the ACTION wrapper; the prompt starts with a dot.
            msg(CH, "inj5", "inj5", "!anime .me dances", 5).action(),
            msg(CH, "inj1", "inj1", "!queue", 6),
            // A display name that is itself a command.
            msg(CH, "inj6", "/ban streamer", "!queue", 7),
            msg(CH, "inj7", "inj7", "!status", 8),
        ],
    );
    let expected = vec![
        got_it("inj1", "/ban streamer", 1),
        got_it("inj2", ".timeout x 600", 2),
        got_it("inj3", "ACTION dances", 3),
        format!("@x PRIVMSG #{CH} :/ban streamer got it! \"cat\" is #4 in the queue."),
        got_it("inj5", ".me dances", 5),
        "@inj1 your request is #1 of 5: \"/ban streamer\"".to_string(),
        "@/ban streamer you have no request waiting. Usage: !anime <what to draw>".to_string(),
        "StreamCue: 5 waiting (0 approved), queue limit 10, cooldown 30 s, auto-approve off."
            .to_string(),
    ];
    let got = wait_replies(&fake, CH, expected.len(), secs(5.0)).await;
    assert_eq!(got, expected);
    // Nothing else arrives: exactly one PRIVMSG per reply, and only protocol lines.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(replies(&fake, CH), expected);
    let privmsgs = fake
        .received()
        .iter()
        .filter(|l| l.starts_with("PRIVMSG"))
        .count();
    assert_eq!(privmsgs, expected.len());
    assert_only_protocol_lines(&fake);

    // The prompts are stored as the viewers wrote them (only what is said is sanitised).
    let prompts: Vec<String> = queue_events(&h).into_iter().map(|i| i.prompt).collect();
    assert_eq!(
        prompts,
        [
            "/ban streamer",
            ".timeout x 600",
            "ACTION dances",
            "cat",
            ".me dances"
        ]
    );
    h.shutdown_within(secs(5.0)).await;
}

// ---------------------------------------------------------------------------------------------
// 3. Cooldowns: moderator exemption on and off, and surviving a restart.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooldowns_exempt_moderators_only_when_configured_and_survive_a_restart() {
    const CH: &str = "queue_cool";
    let fake = start_fake().await;
    let exempt = config(true, "cooldown_seconds = 600\nexempt_moderators = true");
    let h = start(&fake, true, &exempt, None).await;
    let session1 = connect(&h, &fake, CH).await;
    let sent = now_ms();
    send(
        &fake,
        CH,
        &[
            msg(CH, "moddy", "Moddy", "!anime mod one", 1).moderator(),
            msg(CH, "moddy", "Moddy", "!anime mod two", 2).moderator(),
            msg(CH, CH, "Boss", "!anime boss one", 3).broadcaster(),
            msg(CH, CH, "Boss", "!anime boss two", 4).broadcaster(),
            msg(CH, "vic", "Vic", "!anime vic one", 5),
            msg(CH, "vic", "Vic", "!anime vic two", 6),
        ],
    );
    let got = wait_replies(&fake, CH, 6, secs(5.0)).await;
    let replied = now_ms();
    let items = wait_items(&h, 5, "5 accepted", |_| true).await;
    let by_prompt = |p: &str| {
        items
            .iter()
            .find(|i| i.prompt == p)
            .unwrap_or_else(|| panic!("no request {p:?}: {items:#?}"))
            .clone()
    };
    let vic_at = by_prompt("vic one").created_at_ms as i64;
    let n = wait_seconds(&got[5], "Vic");
    assert_wait_is_exact(n, vic_at, 600_000, sent, replied);
    assert_eq!(
        got,
        vec![
            got_it("Moddy", "mod one", 1),
            got_it("Moddy", "mod two", 2),
            got_it("Boss", "boss one", 3),
            got_it("Boss", "boss two", 4),
            got_it("Vic", "vic one", 5),
            format!("@Vic please wait {n} s before your next request."),
        ],
        "moderator and broadcaster skip the cooldown; a viewer does not"
    );
    let c1 = wait_counters(&h, "6 commands", |c| c.cooldown_rejects == 1).await;
    assert_eq!((c1.accepted, c1.cooldown_rejects), (5, 1));
    let moddy_at = by_prompt("mod two").created_at_ms as i64;
    let boss_at = by_prompt("boss two").created_at_ms as i64;

    // Same data folder, moderators no longer exempt: every cooldown is still running.
    let no_exempt = config(true, "cooldown_seconds = 600\nexempt_moderators = false");
    let mut h = restart(h, &fake, true, &no_exempt).await;
    let session2 = connect(&h, &fake, CH).await;
    assert_ne!(session1, session2);
    // More than a second after Vic's request, so the remaining time has visibly gone down.
    let pause = (vic_at + 1300 - now_ms()).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(pause)).await;
    let before = replies(&fake, CH).len();
    let sent = now_ms();
    send(
        &fake,
        CH,
        &[
            msg(CH, "vic", "Vic", "!anime vic three", 11),
            msg(CH, "moddy", "Moddy", "!anime mod three", 12).moderator(),
            msg(CH, CH, "Boss", "!anime boss three", 13).broadcaster(),
            msg(CH, "newmod", "NewMod", "!anime newmod one", 14).moderator(),
            msg(CH, "newmod", "NewMod", "!anime newmod two", 15).moderator(),
        ],
    );
    let got = wait_replies(&fake, CH, before + 5, secs(5.0)).await[before..].to_vec();
    let replied = now_ms();
    let new_items = wait_items(&h, 1, "newmod accepted", |_| true).await;
    assert_eq!(new_items.len(), 1, "{new_items:#?}");
    let newmod_at = new_items[0].created_at_ms as i64;
    let waits = [
        (0, "Vic", vic_at),
        (1, "Moddy", moddy_at),
        (2, "Boss", boss_at),
        (4, "NewMod", newmod_at),
    ];
    let mut expected = Vec::new();
    for (k, display, last) in waits {
        let n = wait_seconds(&got[k], display);
        assert_wait_is_exact(n, last, 600_000, sent, replied);
        expected.push(format!(
            "@{display} please wait {n} s before your next request."
        ));
    }
    expected.insert(3, got_it("NewMod", "newmod one", 6));
    assert_eq!(got, expected, "after the restart");
    assert!(
        wait_seconds(&got[0], "Vic") < 600,
        "the remaining time, not a fresh cooldown"
    );
    let c2 = wait_counters(&h, "5 commands", |c| c.cooldown_rejects == 4).await;
    assert_eq!((c2.accepted, c2.cooldown_rejects), (1, 4));

    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    let cooldowns: Vec<(String, i64)> =
        sqlx::query_as("SELECT user_login, last_accepted_ms FROM cooldowns ORDER BY user_login")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let mut want = vec![
        (CH.to_string(), boss_at),
        ("moddy".to_string(), moddy_at),
        ("newmod".to_string(), newmod_at),
        ("vic".to_string(), vic_at),
    ];
    want.sort();
    assert_eq!(cooldowns, want, "refusals do not restart a cooldown");
    assert_eq!(db.requests().counters(session1).await.unwrap(), c1);
    assert_eq!(db.requests().counters(session2).await.unwrap(), c2);
    db.close().await;
}

// ---------------------------------------------------------------------------------------------
// 4. The streamer's actions.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamer_actions_change_states_persist_and_are_announced() {
    use QueueAction::*;
    use RequestState::*;
    const CH: &str = "queue_actions";
    let fake = start_fake().await;
    let cfg = config(false, "");
    let mut h = start(&fake, false, &cfg, None).await;
    connect(&h, &fake, CH).await;
    let viewers = ["v1", "v2", "v3", "v4", "v5", "v6"];
    let msgs: Vec<Privmsg> = viewers
        .iter()
        .enumerate()
        .map(|(k, v)| msg(CH, v, v, &format!("!anime prompt {v}"), k as u64))
        .collect();
    send(&fake, CH, &msgs);
    let items = wait_items(&h, 6, "6 requests", |_| true).await;
    let id: Vec<i32> = items.iter().map(|i| i.id).collect();

    // Approve: pending → approved, once.
    let a = act_ok(&h, id[0], Approve).await;
    assert_eq!((a.state, a.reason.as_deref()), (Approved, None));
    assert_eq!(
        act_err(&h, id[0], Approve).await,
        ErrorCode::InvalidTransition
    );
    assert_eq!(
        act_err(&h, id[0], Retry).await,
        ErrorCode::InvalidTransition
    );

    // Skip: → skipped with a reason; then nothing but retry applies.
    let s = act_ok(&h, id[1], Skip).await;
    assert_eq!(
        (s.state, s.reason.as_deref()),
        (Skipped, Some("skipped by the streamer"))
    );
    for action in [Approve, Skip, MoveUp, MoveDown] {
        assert_eq!(
            act_err(&h, id[1], action).await,
            ErrorCode::InvalidTransition,
            "{action:?} on a skipped request"
        );
    }
    assert_eq!(
        act_err(&h, id[2], Retry).await,
        ErrorCode::InvalidTransition
    );
    // Retry a skipped request: back to pending, reason cleared, in its old place.
    let r = act_ok(&h, id[1], Retry).await;
    assert_eq!((r.state, r.reason.as_deref()), (Pending, None));
    let v = view(&h).await;
    assert_eq!(
        waiting_ids(&v),
        (0..6).map(|k| (id[k], k as i32 + 1)).collect::<Vec<_>>()
    );

    // Unknown ids.
    for action in [Approve, Skip, Retry, MoveUp, MoveDown] {
        assert_eq!(
            act_err(&h, 999_999, action).await,
            ErrorCode::UnknownRequest
        );
    }

    // Moves: order and positions 1..n follow.
    let m = act_ok(&h, id[0], MoveDown).await;
    assert_eq!(m.position, 2);
    assert_eq!(
        waiting_ids(&view(&h).await),
        vec![
            (id[1], 1),
            (id[0], 2),
            (id[2], 3),
            (id[3], 4),
            (id[4], 5),
            (id[5], 6)
        ]
    );
    let m = act_ok(&h, id[5], MoveUp).await;
    assert_eq!(m.position, 5);
    act_ok(&h, id[1], MoveUp).await; // already first: stays
    act_ok(&h, id[4], MoveDown).await; // already last: stays
    let v = view(&h).await;
    let order = vec![
        (id[1], 1),
        (id[0], 2),
        (id[2], 3),
        (id[3], 4),
        (id[5], 5),
        (id[4], 6),
    ];
    assert_eq!(waiting_ids(&v), order);
    assert_eq!(
        v.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        order.iter().map(|o| o.0).collect::<Vec<_>>(),
        "the view lists waiting items in queue order"
    );

    // Auto-approve: announced, and new requests arrive approved.
    let on = within(
        secs(5.0),
        "auto-approve",
        h.engine().handle().queue().set_auto_approve(true),
    )
    .await
    .unwrap();
    assert!(on, "set_auto_approve answers the new setting");
    h.events
        .wait(secs(5.0), "QueueSettings", |log| {
            log.all()
                .iter()
                .any(|s| matches!(s.event, CoreEvent::QueueSettings { auto_approve: true }))
        })
        .await;
    assert!(view(&h).await.auto_approve);
    send(&fake, CH, &[msg(CH, "v7", "v7", "!anime prompt v7", 7)]);
    let v7 = wait_items(&h, 1, "v7's request", |i| i.user_login == "v7").await[0].clone();
    assert_eq!((v7.state, v7.position), (Approved, 7));

    // Clear: every waiting request → skipped with a reason.
    let cleared = within(secs(5.0), "clear", h.engine().handle().queue().clear())
        .await
        .unwrap();
    assert_eq!(cleared, 7);
    let v = view(&h).await;
    assert!(waiting_ids(&v).is_empty());
    assert_eq!(v.items.len(), 7);
    for item in &v.items {
        assert_eq!(
            (item.state, item.reason.as_deref()),
            (Skipped, Some("cleared by the streamer")),
            "{item:?}"
        );
    }
    assert_eq!(
        within(secs(5.0), "clear", h.engine().handle().queue().clear())
            .await
            .unwrap(),
        0,
        "nothing left to clear"
    );
    let counters = view(&h).await.counters;
    assert_eq!(
        (counters.accepted, counters.approved, counters.skipped),
        (7, 2, 8),
        "approve + auto-approved v7; skip + 7 cleared"
    );
    assert_eq!(counter_events(&h).last(), Some(&counters));
    // Everything announced matches the panel.
    let announced = last_announced(&h);
    for item in &v.items {
        assert_eq!(announced.get(&item.id), Some(item));
    }

    // Every change is in the database, exactly as last announced.
    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    assert_db_matches_announced(&db, &announced).await;
    assert_eq!(db_rows(&db).await.len(), 7);
    // Simulate a failed generation, then restart.
    let was = db
        .requests()
        .get(i64::from(id[2]))
        .await
        .unwrap()
        .unwrap()
        .state;
    let failed = db
        .requests()
        .set_state(
            i64::from(id[2]),
            was,
            Failed,
            Some("the generator crashed"),
            now_ms(),
        )
        .await
        .unwrap()
        .expect("the request was in the state just read");
    db.close().await;

    let mut h = restart(h, &fake, false, &cfg).await;
    let v = view(&h).await;
    assert!(v.auto_approve, "auto-approve persists across a restart");
    assert!(v.items.contains(&failed.into()));
    // Failed → approved on retry; skipped → pending.
    let r = act_ok(&h, id[2], Retry).await;
    assert_eq!((r.state, r.reason.as_deref()), (Approved, None));
    let r = act_ok(&h, id[3], Retry).await;
    assert_eq!(r.state, Pending);
    // A new request after the restart is auto-approved too.
    connect(&h, &fake, CH).await;
    send(&fake, CH, &[msg(CH, "v8", "v8", "!anime prompt v8", 8)]);
    let v8 = wait_items(&h, 1, "v8's request", |i| i.user_login == "v8").await[0].clone();
    assert_eq!(v8.state, Approved);
    let on = within(
        secs(5.0),
        "auto-approve off",
        h.engine().handle().queue().set_auto_approve(false),
    )
    .await
    .unwrap();
    assert!(!on, "set_auto_approve answers the new setting");
    let announced2 = last_announced(&h);
    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    assert_db_matches_announced(&db, &announced2).await;
    assert_eq!(
        db.settings()
            .get("queue.auto_approve")
            .await
            .unwrap()
            .as_deref(),
        Some("false")
    );
    db.close().await;
}

// ---------------------------------------------------------------------------------------------
// 5. A restart restores the queue exactly; a kill mid-generation leaves it interrupted.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_restores_the_queue_and_interrupted_generations_can_be_retried() {
    use RequestState::*;
    const CH: &str = "queue_restart";
    let fake = start_fake().await;
    let cfg = config(false, "");
    let mut h = start(&fake, false, &cfg, None).await;
    connect(&h, &fake, CH).await;
    let msgs: Vec<Privmsg> = ["r1", "r2", "r3", "r4", "r5"]
        .iter()
        .enumerate()
        .map(|(k, v)| {
            msg(
                CH,
                v,
                &v.to_uppercase(),
                &format!("!anime «prompt {v} ✨»"),
                k as u64,
            )
        })
        .collect();
    send(&fake, CH, &msgs);
    let items = wait_items(&h, 5, "5 requests", |_| true).await;
    let id: Vec<i32> = items.iter().map(|i| i.id).collect();
    act_ok(&h, id[1], QueueAction::Approve).await;
    act_ok(&h, id[2], QueueAction::Skip).await;
    act_ok(&h, id[4], QueueAction::MoveUp).await;
    act_ok(&h, id[3], QueueAction::Approve).await;
    let before = view(&h).await;
    let order: Vec<(i32, RequestState)> = before.items.iter().map(|i| (i.id, i.state)).collect();
    assert_eq!(
        order,
        vec![
            (id[0], Pending),
            (id[1], Approved),
            (id[4], Pending),
            (id[3], Approved),
            (id[2], Skipped),
        ]
    );
    assert_eq!(before.items[0].prompt, "prompt r1 ✨");

    h.shutdown_within(secs(5.0)).await;
    let mut h = restart(h, &fake, false, &cfg).await;
    let after = view(&h).await;
    assert_eq!(
        after.items, before.items,
        "same ids, order, states, prompts, positions, times"
    );
    assert_eq!(after.auto_approve, before.auto_approve);

    // The crash case: an item left `generating` (as if StreamCue was killed mid-generation).
    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    let was = db
        .requests()
        .get(i64::from(id[1]))
        .await
        .unwrap()
        .unwrap()
        .state;
    let generating = db
        .requests()
        .set_state(i64::from(id[1]), was, Generating, None, now_ms())
        .await
        .unwrap()
        .expect("the request was in the state just read");
    assert_eq!(generating.state, Generating);
    db.close().await;

    let mut h = restart(h, &fake, false, &cfg).await;
    let v = view(&h).await;
    let interrupted = v
        .items
        .iter()
        .find(|i| i.id == id[1])
        .expect("the interrupted item is listed")
        .clone();
    assert_eq!(interrupted.state, Interrupted);
    assert_eq!(
        interrupted.reason.as_deref(),
        Some("StreamCue stopped while this was generating")
    );
    // Everything else is untouched.
    for b in before.items.iter().filter(|b| b.id != id[1]) {
        assert!(v.items.contains(b), "{b:?} changed: {:#?}", v.items);
    }
    assert_eq!(
        act_err(&h, id[1], QueueAction::Approve).await,
        ErrorCode::InvalidTransition
    );
    let retried = act_ok(&h, id[1], QueueAction::Retry).await;
    assert_eq!((retried.state, retried.reason.as_deref()), (Approved, None));
    assert!(waiting_ids(&view(&h).await)
        .iter()
        .any(|(i, _)| *i == id[1]));
    let announced = last_announced(&h);
    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    assert_db_matches_announced(&db, &announced).await;
    db.close().await;
}

// ---------------------------------------------------------------------------------------------
// 6. Moderation: CLEARCHAT (ban / timeout) and CLEARMSG skip the requests they concern.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bans_timeouts_and_deleted_messages_skip_requests() {
    const CH: &str = "queue_mod";
    let fake = start_fake().await;
    let mut h = start(&fake, false, &config(false, "cooldown_seconds = 0"), None).await;
    let session = connect(&h, &fake, CH).await;
    let room = room_id(CH);
    send(
        &fake,
        CH,
        &[
            msg(CH, "baduser", "BadUser", "!anime bad one", 1),
            msg(CH, "baduser", "BadUser", "!anime bad two", 2),
            msg(CH, "gooduser", "GoodUser", "!anime good one", 3),
            msg(CH, "deleter", "Deleter", "!anime please delete me", 4),
            msg(CH, "banned2", "Banned2", "!anime banned forever", 5),
        ],
    );
    let items = wait_items(&h, 5, "5 requests", |_| true).await;
    let id: Vec<i32> = items.iter().map(|i| i.id).collect();
    act_ok(&h, id[0], QueueAction::Approve).await; // approved requests are waiting too
    let announced_before = queue_events(&h).len();

    let ts = now_ms();
    let timeout = format!(
        "@ban-duration=600;room-id={room};target-user-id=1001;tmi-sent-ts={ts} :tmi.twitch.tv CLEARCHAT #{CH} :baduser"
    );
    let permaban = format!(
        "@room-id={room};target-user-id=1002;tmi-sent-ts={ts} :tmi.twitch.tv CLEARCHAT #{CH} :banned2"
    );
    let clearmsg = |target: &str, text: &str| {
        format!(
            "@login=deleter;room-id=;target-msg-id={target};tmi-sent-ts={ts} :tmi.twitch.tv CLEARMSG #{CH} :{text}"
        )
    };
    // First lines that must change nothing: the whole chat cleared, a ban of someone without
    // requests, a ban in another channel, a deleted message that made no request. Then the
    // timeout: when its effect is seen, the lines before it have been handled too.
    fake.broadcast_lines(
        CH,
        &[
            format!("@room-id={room};tmi-sent-ts={ts} :tmi.twitch.tv CLEARCHAT #{CH}"),
            format!(
                "@ban-duration=60;room-id={room};target-user-id=1003;tmi-sent-ts={ts} :tmi.twitch.tv CLEARCHAT #{CH} :nobody"
            ),
            format!(
                "@room-id=1;target-user-id=1004;tmi-sent-ts={ts} :tmi.twitch.tv CLEARCHAT #elsewhere :gooduser"
            ),
            clearmsg(&message_id(999), "hello"),
            timeout,
        ],
    );
    let skipped = wait_items(&h, 2, "baduser's requests skipped", |i| {
        i.state == RequestState::Skipped
    })
    .await;
    let mut skipped_ids: Vec<i32> = skipped.iter().map(|i| i.id).collect();
    skipped_ids.sort();
    assert_eq!(skipped_ids, vec![id[0], id[1]]);
    for item in &skipped {
        assert_eq!(
            item.reason.as_deref(),
            Some("the viewer was banned or timed out")
        );
    }
    assert_eq!(
        queue_events(&h).len(),
        announced_before + 2,
        "only baduser's requests changed"
    );
    let c = wait_counters(&h, "2 moderated", |c| c.moderated == 2).await;
    assert_eq!(
        c.skipped, 0,
        "moderation is counted apart from the streamer's skips"
    );

    // A permanent ban, a repeat timeout and a repeat delete (no-ops), then the delete.
    fake.broadcast_lines(
        CH,
        &[
            permaban,
            format!(
                "@ban-duration=1;room-id={room};target-user-id=1001;tmi-sent-ts={ts} :tmi.twitch.tv CLEARCHAT #{CH} :baduser"
            ),
            clearmsg(&message_id(1), "!anime bad one"),
            clearmsg(&message_id(4), "!anime please delete me"),
        ],
    );
    let deleted = wait_items(&h, 1, "the deleted message's request skipped", |i| {
        i.id == id[3] && i.state == RequestState::Skipped
    })
    .await;
    assert_eq!(
        deleted[0].reason.as_deref(),
        Some("a moderator deleted the chat message")
    );
    let banned = last_announced(&h)[&id[4]].clone();
    assert_eq!(
        (banned.state, banned.reason.as_deref()),
        (
            RequestState::Skipped,
            Some("the viewer was banned or timed out")
        )
    );
    assert_eq!(queue_events(&h).len(), announced_before + 4);
    let c = wait_counters(&h, "4 moderated", |c| c.moderated == 4).await;
    assert_eq!(
        c,
        QueueCounters {
            accepted: 5,
            approved: 1,
            moderated: 4,
            ..Default::default()
        }
    );
    let v = view(&h).await;
    assert_eq!(v.counters, c);
    assert_eq!(
        waiting_ids(&v),
        vec![(id[2], 3)],
        "only gooduser is still waiting"
    );
    assert_eq!(
        h.counters().await.malformed_lines,
        0,
        "every line was understood"
    );

    let announced = last_announced(&h);
    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    assert_db_matches_announced(&db, &announced).await;
    assert_eq!(db.requests().counters(session).await.unwrap(), c);
    db.close().await;
}

// ---------------------------------------------------------------------------------------------
// 7. Counters are per chat session and persisted.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_are_kept_per_session_and_persisted() {
    const CH: &str = "queue_count";
    let fake = start_fake().await;
    let cfg = config(
        false,
        "cooldown_seconds = 600\nmax_waiting = 3\nblocked_words = [\"badword\"]\nblocked_patterns = ['k[i1]ll\\s+all']",
    );
    let mut h = start(&fake, false, &cfg, None).await;
    let session_a = connect(&h, &fake, CH).await;
    send(
        &fake,
        CH,
        &[
            msg(CH, "a1", "A1", "!anime one", 1),
            msg(CH, "a2", "A2", "!anime two", 2),
            msg(CH, "a1", "A1", "!anime again", 3), // cooldown
            msg(CH, "a3", "A3", "!anime", 4),       // usage
            msg(CH, "a4", "A4", "!anime a badword", 5),
            msg(CH, "a4", "A4", "!anime K1LL   all", 6),
            msg(CH, "a5", "A5", "!anime three", 7),
            msg(CH, "a6", "A6", "!anime four", 8), // full
        ],
    );
    let items = wait_items(&h, 3, "3 accepted", |_| true).await;
    wait_counters(&h, "overflow", |c| c.overflow_rejects == 1).await;
    act_ok(&h, items[0].id, QueueAction::Approve).await;
    act_ok(&h, items[1].id, QueueAction::Skip).await;
    fake.broadcast(
        CH,
        &format!(
            "@login=a5;room-id=;target-msg-id={};tmi-sent-ts={} :tmi.twitch.tv CLEARMSG #{CH} :!anime three",
            message_id(7),
            now_ms()
        ),
    );
    let a = wait_counters(&h, "moderated", |c| c.moderated == 1).await;
    let want_a = QueueCounters {
        paused_rejects: 0,
        accepted: 3,
        cooldown_rejects: 1,
        overflow_rejects: 1,
        blocked_prompts: 2,
        usage_replies: 1,
        approved: 1,
        skipped: 1,
        moderated: 1,
    };
    assert_eq!(a, want_a);
    assert_eq!(view(&h).await.counters, want_a);

    // A new chat session starts its own counters.
    h.engine().disconnect_chat(ChatSlot::Main).await.unwrap();
    assert!(
        fake.wait_open(0, secs(3.0)).await,
        "the old connection closed"
    );
    let session_b = connect(&h, &fake, CH).await;
    assert_ne!(session_a, session_b);
    send(
        &fake,
        CH,
        &[
            msg(CH, "b1", "B1", "!anime five", 11),
            msg(CH, "b2", "B2", "!anime", 12),
        ],
    );
    let b = wait_counters(&h, "session B", |c| c.usage_replies == 1 && c.accepted == 1).await;
    let want_b = QueueCounters {
        accepted: 1,
        usage_replies: 1,
        ..Default::default()
    };
    assert_eq!(b, want_b);
    assert_eq!(view(&h).await.counters, want_b);

    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    assert_eq!(db.requests().counters(session_a).await.unwrap(), want_a);
    assert_eq!(db.requests().counters(session_b).await.unwrap(), want_b);
    db.close().await;

    // After a restart, the stored counters of both sessions are unchanged.
    let mut h = restart(h, &fake, false, &cfg).await;
    h.shutdown_within(secs(5.0)).await;
    let db = h.reopen_db().await;
    assert_eq!(db.requests().counters(session_a).await.unwrap(), want_a);
    assert_eq!(db.requests().counters(session_b).await.unwrap(), want_b);
    db.close().await;
}

// ---------------------------------------------------------------------------------------------
// 7. The limits strip: replies against the outgoing limit, running cooldowns; on change only.
// ---------------------------------------------------------------------------------------------

fn reply_limit_events(h: &Harness) -> Vec<ReplyLimits> {
    h.events.pick(|e| match e {
        CoreEvent::ReplyLimits { limits } => Some(limits),
        _ => None,
    })
}

fn cooldown_events(h: &Harness) -> Vec<Cooldowns> {
    h.events.pick(|e| match e {
        CoreEvent::Cooldowns { cooldowns } => Some(cooldowns),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_and_cooldowns_are_announced_with_their_times_on_change_only() {
    const CH: &str = "queue_limits";
    let fake = start_fake().await;
    let cfg = config(true, "cooldown_seconds = 600");
    let h = start(&fake, true, &cfg, None).await;

    // Before any chat: nothing can be said, nothing is running.
    let before = h.snapshot().await.limits;
    assert_eq!(
        before,
        LimitsView {
            replies: ReplyLimits {
                sent_at_ms: vec![],
                limit: 20,
                window_ms: 30_000,
                read_only: true,
                dropped: 0,
            },
            cooldowns: Cooldowns {
                ends_at_ms: vec![],
                cooldown_secs: 600,
            },
        }
    );

    // Logged in to a Twitch chat: StreamCue can speak (announced once, without a send).
    connect(&h, &fake, CH).await;
    h.events
        .wait(secs(5.0), "replies can be sent", |_| {
            reply_limit_events(&h).last().is_some_and(|l| !l.read_only)
        })
        .await;
    assert_eq!(
        reply_limit_events(&h),
        [ReplyLimits {
            sent_at_ms: vec![],
            limit: 20,
            window_ms: 30_000,
            read_only: false,
            dropped: 0,
        }]
    );
    assert!(cooldown_events(&h).is_empty());

    // Two accepted requests (two cooldowns start), one refused by the cooldown: three replies.
    let sent = now_ms();
    send(
        &fake,
        CH,
        &[
            msg(CH, "aki", "Aki", "!anime a cat", 1),
            msg(CH, "aki", "Aki", "!anime a dog", 2),
            msg(CH, "bo", "Bo", "!anime a fox", 3),
        ],
    );
    wait_replies(&fake, CH, 3, secs(5.0)).await;
    h.events
        .wait(secs(5.0), "three sends announced", |_| {
            reply_limit_events(&h)
                .last()
                .is_some_and(|l| l.sent_at_ms.len() == 3)
        })
        .await;
    let replied = now_ms();
    let items = wait_items(&h, 2, "2 accepted", |_| true).await;
    let ends: Vec<f64> = items.iter().map(|i| i.created_at_ms + 600_000.0).collect();

    let replies_seen = reply_limit_events(&h);
    let counts: Vec<usize> = replies_seen.iter().map(|l| l.sent_at_ms.len()).collect();
    assert_eq!(counts, [0, 1, 2, 3], "one announcement per reply sent");
    let last = replies_seen.last().unwrap().clone();
    assert_eq!(
        (last.limit, last.window_ms, last.read_only),
        (20, 30_000, false)
    );
    // The same clock as `createdAtMs` (a little slack for the ms rounding of two clocks).
    let (lo, hi) = ((sent - 5) as f64, (replied + 5) as f64);
    assert!(
        last.sent_at_ms.windows(2).all(|w| w[0] <= w[1])
            && last.sent_at_ms.iter().all(|t| (lo..=hi).contains(t)),
        "send times {:?} outside {lo}..={hi}",
        last.sent_at_ms
    );

    let cooldowns_seen = cooldown_events(&h);
    assert_eq!(
        cooldowns_seen,
        [
            Cooldowns {
                ends_at_ms: ends[..1].to_vec(),
                cooldown_secs: 600,
            },
            Cooldowns {
                ends_at_ms: ends.clone(),
                cooldown_secs: 600,
            },
        ],
        "one announcement per cooldown started, none for the refusal"
    );

    // Twitch says the account is a moderator now: the limit goes up to 100, the sends stay.
    fake.broadcast(
        CH,
        &format!(
            "@badge-info=;badges=moderator/1;color=;display-name={BOT};emote-sets=0;mod=1;\
             subscriber=0;user-type=mod :tmi.twitch.tv USERSTATE #{CH}"
        ),
    );
    h.events
        .wait(secs(5.0), "the moderator limit", |_| {
            reply_limit_events(&h)
                .last()
                .is_some_and(|l| l.limit == 100)
        })
        .await;
    let elevated = ReplyLimits {
        limit: 100,
        ..last.clone()
    };
    assert_eq!(reply_limit_events(&h).last(), Some(&elevated));

    // Nothing is announced while nothing happens (no timer), and the snapshot has it all.
    let announced = reply_limit_events(&h).len() + cooldown_events(&h).len();
    tokio::time::sleep(secs(1.5)).await;
    assert_eq!(
        reply_limit_events(&h).len() + cooldown_events(&h).len(),
        announced
    );
    let snapshot = h.snapshot().await.limits;
    assert_eq!(
        snapshot,
        LimitsView {
            replies: elevated,
            cooldowns: cooldowns_seen[1].clone(),
        }
    );

    // A window opened after a restart still sees the running cooldowns.
    let mut h = restart(h, &fake, true, &cfg).await;
    let after = h.snapshot().await.limits;
    assert_eq!(after.cooldowns, cooldowns_seen[1]);
    assert!(after.replies.read_only && after.replies.sent_at_ms.is_empty());
    h.shutdown_within(secs(5.0)).await;
}
