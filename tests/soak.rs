//! Soak test (reliability issue, seed 002): the real engine stays connected to the fake Twitch
//! IRC server for a long stretch of steady chat and server PINGs, and afterwards there has been
//! no reconnect, every PING got its PONG, every message was counted, and memory stayed flat.
//!
//! The duration is `STREAMCUE_SOAK_SECS` (default 120: the length CI runs; at least 60 so the
//! warm-up and the two measuring windows do not overlap). `scripts/soak.sh` runs it for 600 s in
//! release and prints the figures.
//!
//! What runs, for the whole duration:
//! - chat at [`RATE`] messages/s, sent in [`TICK`] ticks (drift-corrected: each tick sends what
//!   is due by now, so a slow tick is caught up, never dropped): mostly the test kit's varied
//!   sample chat (badges, colours, non-ASCII, emotes, `/me`, the odd `!anime`), plus lines
//!   from a rotating crowd of [`CROWD`] viewers with emotes and `!anime` requests, so the queue
//!   actor's intake (cooldowns, "queue full", accepted requests written to SQLite) runs all the
//!   time; the streamer clears the queue every [`CLEAR_EVERY`] so requests keep being accepted;
//! - `PING :tmi.twitch.tv` from the server every [`PING_EVERY`] (what Twitch sends; the fake
//!   server does not send PINGs by itself), answered by the engine's IRC client;
//! - the RSS of this process (`VmRSS`; the engine, its SQLite and the fake server all run in
//!   it) sampled every [`SAMPLE_EVERY`].
//!
//! Generation is paused (the queue alone: no generation endpoint is involved) and the chat is
//! read anonymously, as in `tests/chat_twitch.rs`. Nothing inside the process is mocked.
//!
//! No latency is asserted: on a busy 2-core machine ticks may run late (the sender catches up),
//! and every wait is a generous bounded wait for an exact end state.

use std::time::{Duration, Instant};

use streamcue::api::{ChatState, ChatTarget, QueueCounters};
use streamcue_testkit::fake_irc::{
    message_id, parse_client_line, sample_privmsg, FakeIrc, Privmsg,
};
use streamcue_testkit::{is_connected, is_reconnecting, secs, within, Harness, HarnessOptions};

const CH: &str = "soak_channel";
/// Chat messages per second.
const RATE: u64 = 50;
/// The sender's tick.
const TICK: Duration = Duration::from_millis(100);
/// How often the server sends `PING :tmi.twitch.tv`.
const PING_EVERY: Duration = Duration::from_secs(5);
/// How often the RSS is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// Samples before this are the warm-up (buffers, caches, SQLite pages, the allocator's first
/// segments fill up): not compared.
const WARM_UP: Duration = Duration::from_secs(20);
/// Samples in each measuring window: the first `WINDOW` after the warm-up and the last `WINDOW`
/// are each reduced to their median (one sample's noise cannot decide the verdict).
const WINDOW: usize = 4;
/// How often the streamer clears the queue.
const CLEAR_EVERY: Duration = Duration::from_secs(10);
/// Distinct extra viewers, rotating (besides the sample chat's eight regulars).
const CROWD: u64 = 500;
/// The bound on RSS growth from the first measuring window to the last, in MiB.
///
/// Why 8 MiB: the steady state has nothing that should grow with time. What legitimately moves
/// RSS after the warm-up is noise of a few MiB at most: mimalloc keeping freed pages for a
/// while before purging them, SQLite's page cache (at most 2 MiB per connection) following the
/// database as accepted requests and velocity rows are added, Vec doubling in the test's own
/// recorders (the event log and the fake server's record of client lines, both small). A real
/// leak is far larger: the engine keeping every parsed message (a twitch-irc `PrivmsgMessage`
/// with its tag map is about 2 KiB) would add over 10 MiB across the 5 000 messages after the
/// warm-up of the 2-minute run and over 55 MiB in the 10-minute one. The growth per message is
/// printed as well, so a smaller leak shows in the figures of the long run.
const MAX_GROWTH_MIB: f64 = 8.0;

const PROMPTS: &[&str] = &[
    "a cat surfing a wave at sunset",
    "two foxes sharing ramen in the rain",
    "a tiny robot watering a giant sunflower",
    "クロ the cat fighting a dragon",
    "the streamer as a magical girl ✨",
    "a lighthouse on the moon, studio ghibli style",
    "samurai penguin in a bamboo forest",
];

const TALK: &[&str] = &[
    "PogChamp PogChamp that play",
    "LUL LUL LUL",
    "Kappa did you see that Kappa",
    "gg SeemsGood <3",
    "BibleThump noooo",
    "Kreygasm this song",
    "hello from Brazil! olá chat <3",
    "W W W Kappa",
];

fn soak_duration() -> Duration {
    let secs = match std::env::var("STREAMCUE_SOAK_SECS") {
        Ok(v) => v.trim().parse::<u64>().unwrap_or_else(|_| {
            panic!("STREAMCUE_SOAK_SECS is not a whole number of seconds: {v:?}")
        }),
        Err(_) => 120,
    };
    let min = WARM_UP.as_secs() + 2 * WINDOW as u64 * SAMPLE_EVERY.as_secs();
    assert!(
        secs >= min,
        "STREAMCUE_SOAK_SECS={secs}: at least {min} s (warm-up, then two measuring windows)"
    );
    Duration::from_secs(secs)
}

/// The `n`-th chat line: 8 in 10 from the sample chat, 2 in 10 from the crowd (emote talk, or a
/// `!anime` request one time in three).
fn chat_line(n: u64) -> String {
    if n % 5 != 2 {
        return sample_privmsg(CH, n);
    }
    let k = n / 5;
    let login = format!("viewer{}", k % CROWD);
    let text = if k % 3 == 0 {
        let prompt = PROMPTS[(k / 3 % PROMPTS.len() as u64) as usize];
        if k % 2 == 0 {
            format!("!anime \"{prompt}\"")
        } else {
            format!("!anime {prompt}")
        }
    } else {
        TALK[(k % TALK.len() as u64) as usize].to_string()
    };
    let mut msg = Privmsg::new(CH, &login, &text)
        // A unique id per message (the default one depends only on login and text).
        .id(&message_id(n ^ 0x50a4_0000_0000));
    match k % 7 {
        0 => msg = msg.subscriber(1 + (k % 24) as u32),
        1 => msg = msg.color("#1E90FF"),
        _ => {}
    }
    msg.line()
}

/// `VmRSS` of this process, in KiB.
fn vm_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    text.lines()
        .find_map(|l| {
            let rest = l.strip_prefix(field)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

fn mib(kib: f64) -> f64 {
    kib / 1024.0
}

fn median(values: &[u64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    assert!(n > 0);
    if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
    }
}

/// Lines the engine sent that are `PONG`s, with their parameters.
fn pongs(fake: &FakeIrc) -> Vec<(Instant, Vec<String>)> {
    fake.received_timed()
        .into_iter()
        .filter_map(|(at, line)| match parse_client_line(&line) {
            Some((cmd, params)) if cmd == "PONG" => Some((at, params)),
            _ => None,
        })
        .collect()
}

/// The two measuring windows of a sample series: the median of the first [`WINDOW`] samples
/// after the warm-up and of the last [`WINDOW`], in KiB.
struct Windows {
    first: f64,
    last: f64,
    min: f64,
    max: f64,
    /// Seconds between the middles of the two windows.
    span_s: f64,
}

impl Windows {
    fn of(samples: &[(f64, u64, u64)], pick: impl Fn(&(f64, u64, u64)) -> u64) -> Windows {
        let after: Vec<u64> = samples
            .iter()
            .filter(|s| s.0 >= WARM_UP.as_secs_f64())
            .map(&pick)
            .collect();
        assert!(
            after.len() >= 2 * WINDOW,
            "too few samples after the warm-up: {samples:?}"
        );
        let all: Vec<u64> = samples.iter().map(&pick).collect();
        Windows {
            first: median(&after[..WINDOW]),
            last: median(&after[after.len() - WINDOW..]),
            min: *all.iter().min().unwrap() as f64,
            max: *all.iter().max().unwrap() as f64,
            span_s: (after.len() - WINDOW) as f64 * SAMPLE_EVERY.as_secs_f64(),
        }
    }
}

fn queue_summary(c: &QueueCounters) -> String {
    format!(
        "accepted {}, cooldown refusals {}, queue-full refusals {}, skipped (cleared) {}",
        c.accepted, c.cooldown_rejects, c.overflow_rejects, c.skipped
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_chat_and_pings_no_reconnect_flat_memory() {
    let duration = soak_duration();
    let fake = FakeIrc::start()
        .await
        .expect("fake IRC server binds 127.0.0.1");
    let mut h = Harness::start(HarnessOptions {
        twitch_irc_addr: Some(fake.addr_string()),
        // The queue alone: approved requests stay approved (no generation endpoint).
        generation_paused: true,
        ..Default::default()
    })
    .await;

    // Connect (anonymously) and wait for the join.
    within(
        secs(10.0),
        "connect_chat",
        h.engine()
            .connect_chat(ChatTarget::Twitch { channel: CH.into() }),
    )
    .await
    .expect("connect_chat");
    assert!(
        fake.wait_joins(CH, 1, secs(10.0)).await,
        "the server saw no JOIN #{CH}; received {:?}",
        fake.received()
    );
    let session_id = match h
        .events
        .wait_state(secs(10.0), 1, "Connected", is_connected)
        .await
    {
        ChatState::Connected { session_id, .. } => i64::from(session_id),
        _ => unreachable!(),
    };

    // ---- the soak ----
    let total = RATE * duration.as_secs();
    let t0 = tokio::time::Instant::now();
    let started = Instant::now();
    let mut sent = 0u64;
    let mut largest_batch = 0u64;
    let mut ping_times: Vec<Instant> = Vec::new();
    // (seconds since start, VmRSS KiB, RssAnon KiB)
    let mut samples: Vec<(f64, u64, u64)> = Vec::new();
    let mut next_sample = Duration::ZERO;
    let mut next_ping = PING_EVERY;
    let mut next_clear = CLEAR_EVERY;
    let mut next_progress = Duration::from_secs(60);
    let mut late_ticks = 0u64;
    let mut k = 0u32;
    loop {
        k += 1;
        tokio::time::sleep_until(t0 + TICK * k).await;
        let elapsed = t0.elapsed();
        if elapsed > TICK * k + TICK {
            late_ticks += 1;
        }
        if elapsed >= next_sample && next_sample <= duration {
            samples.push((elapsed.as_secs_f64(), vm_kib("VmRSS"), vm_kib("RssAnon")));
            next_sample += SAMPLE_EVERY;
        }
        let due = ((elapsed.as_secs_f64() * RATE as f64) as u64).min(total);
        if due > sent {
            let lines: Vec<String> = (sent..due).map(chat_line).collect();
            assert_eq!(
                fake.broadcast_lines(CH, &lines),
                1,
                "the engine is no longer joined at {:.1} s",
                elapsed.as_secs_f64()
            );
            largest_batch = largest_batch.max(due - sent);
            sent = due;
        }
        if elapsed >= next_ping && next_ping <= duration {
            assert_eq!(
                fake.send_raw_all(b"PING :tmi.twitch.tv\r\n"),
                1,
                "no open connection for the PING at {:.1} s",
                elapsed.as_secs_f64()
            );
            ping_times.push(Instant::now());
            next_ping += PING_EVERY;
        }
        if elapsed >= next_clear && next_clear < duration {
            within(
                secs(30.0),
                "the streamer clears the queue",
                h.engine().handle().queue().clear(),
            )
            .await
            .expect("queue clear");
            next_clear += CLEAR_EVERY;
        }
        if elapsed >= next_progress {
            let c = h.counters().await;
            println!(
                "soak: progress {:>4.0} s: sent {sent}, counted {}, reconnects {}, RSS {:.1} MB, PINGs {}, PONGs {}",
                elapsed.as_secs_f64(),
                c.messages,
                c.reconnects,
                mib(samples.last().map_or(0, |s| s.1) as f64),
                ping_times.len(),
                pongs(&fake).len()
            );
            next_progress += Duration::from_secs(60);
        }
        if sent == total && next_sample > duration && next_ping > duration {
            break;
        }
    }
    let send_secs = started.elapsed().as_secs_f64();

    // ---- the end state ----
    let counters = h
        .wait_counters(secs(60.0), "every message sent counted", |c| {
            u64::from(c.messages) >= total
        })
        .await;
    let pings = ping_times.len();
    let all_pongs = fake
        .wait_until(secs(30.0), |f| pongs(f).len() >= pings)
        .await;
    // A moment more, so that anything extra (a double count, a late reconnect) would show.
    tokio::time::sleep(secs(1.0)).await;
    let counters_after = h.counters().await;
    let pong_list = pongs(&fake);
    let queue = within(secs(10.0), "queue view", h.engine().handle().queue().view())
        .await
        .expect("queue view");
    let client_pings = fake
        .received()
        .iter()
        .filter(|l| parse_client_line(l).is_some_and(|(c, _)| c == "PING"))
        .count();
    let states = h.events.states();
    let events = h.events.all();
    // What the harness's event log holds (a test-side recorder inside the measured process):
    // its slots plus roughly each event's own heap data (its JSON size as a proxy).
    let events_kib = events
        .iter()
        .map(|s| std::mem::size_of_val(s) + serde_json::to_string(&s.event).map_or(0, |j| j.len()))
        .sum::<usize>() as f64
        / 1024.0;
    let hwm_kib = vm_kib("VmHWM");

    // ---- figures ----
    let rss = Windows::of(&samples, |s| s.1);
    let anon = Windows::of(&samples, |s| s.2);
    let growth_kib = rss.last - rss.first;
    let msgs_between = rss.span_s * RATE as f64;
    let pong_delays: Vec<f64> = ping_times
        .iter()
        .zip(&pong_list)
        .map(|(sent_at, (at, _))| at.saturating_duration_since(*sent_at).as_secs_f64() * 1e3)
        .collect();
    let max_pong_ms = pong_delays.iter().copied().fold(0.0, f64::max);

    println!(
        "soak: duration {} s (STREAMCUE_SOAK_SECS), {} build, pid {}",
        duration.as_secs(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::process::id()
    );
    println!(
        "soak: chat: {sent} messages in {send_secs:.1} s = {:.1} msg/s ({RATE} msg/s in {} ms ticks; largest batch {largest_batch}, {late_ticks} ticks more than one tick late)",
        sent as f64 / send_secs,
        TICK.as_millis()
    );
    println!(
        "soak: engine: counted {} of {sent} (1 s later {}), malformed {}, reconnects {}; server connections {} (open {})",
        counters.messages,
        counters_after.messages,
        counters_after.malformed_lines,
        counters_after.reconnects,
        fake.connections_total(),
        fake.connections_open()
    );
    println!(
        "soak: PING: {pings} sent by the server, {} PONGs back (largest delay {max_pong_ms:.0} ms); the client's own keepalive PINGs: {client_pings}",
        pong_list.len()
    );
    println!("soak: queue: {}", queue_summary(&queue.counters));
    println!(
        "soak: RSS (VmRSS of the test process): start {:.1} MB; median of {WINDOW} samples from {} s {:.1} MB, of the last {WINDOW} {:.1} MB: growth {:+.2} MB (bound {MAX_GROWTH_MIB}) = {:+.0} bytes/message over the {msgs_between:.0} messages between the windows; min {:.1}, max {:.1}, peak VmHWM {:.1} MB",
        mib(samples[0].1 as f64),
        WARM_UP.as_secs(),
        mib(rss.first),
        mib(rss.last),
        mib(growth_kib),
        growth_kib * 1024.0 / msgs_between,
        mib(rss.min),
        mib(rss.max),
        mib(hwm_kib as f64)
    );
    println!(
        "soak: anonymous memory (RssAnon, the heap): {:.1} MB → {:.1} MB, growth {:+.2} MB",
        mib(anon.first),
        mib(anon.last),
        mib(anon.last - anon.first)
    );
    let series: Vec<String> = samples
        .iter()
        .map(|(t, rss, anon)| format!("{t:.0}:{:.1}/{:.1}", mib(*rss as f64), mib(*anon as f64)))
        .collect();
    println!("soak: samples (s:VmRSS/RssAnon MB): {}", series.join(" "));
    println!(
        "soak: test-side recorders in the measured process: the harness's event log holds {} events (≈ {:.1} MB), the fake server {} client lines",
        events.len(),
        mib(events_kib),
        fake.received().len()
    );

    // ---- verdict ----
    assert_eq!(
        u64::from(counters_after.messages),
        total,
        "the engine counted every message, exactly"
    );
    assert_eq!(counters_after.malformed_lines, 0, "no malformed lines");
    assert_eq!(counters_after.reconnects, 0, "no reconnect");
    assert_eq!(
        fake.connections_total(),
        1,
        "one connection for the whole soak"
    );
    assert_eq!(fake.connections_open(), 1, "still connected at the end");
    assert!(
        !states.iter().any(is_reconnecting)
            && states.iter().filter(|s| is_connected(s)).count() == 1,
        "connected once, never reconnecting: {states:?}"
    );
    assert!(
        all_pongs && pong_list.len() == pings,
        "every PING answered by one PONG: {pings} PINGs, {} PONGs",
        pong_list.len()
    );
    for (_, params) in &pong_list {
        assert!(
            params.iter().any(|p| p == "tmi.twitch.tv"),
            "a PONG echoes the PING's tmi.twitch.tv: {params:?}"
        );
    }
    assert!(
        queue.counters.accepted > 0,
        "the queue path ran (requests accepted): {}",
        queue_summary(&queue.counters)
    );
    assert!(
        mib(growth_kib) < MAX_GROWTH_MIB,
        "memory is not flat: RSS grew {:.2} MB from the first window after the warm-up to the last (bound {MAX_GROWTH_MIB} MB); samples {series:?}",
        mib(growth_kib)
    );

    // What was stored agrees.
    h.shutdown_within(secs(15.0)).await;
    let db = h.reopen_db().await;
    let row = db
        .sessions()
        .get(session_id)
        .await
        .expect("read the session")
        .expect("session row");
    assert_eq!(row.messages as u64, total, "stored message count");
    assert_eq!((row.malformed_lines, row.reconnects), (0, 0));
    db.close().await;
}
