//! Soak test (reliability issue, seed 002): the real engine stays connected to the fake Twitch
//! IRC server through a long stretch of steady chat and server PINGs; afterwards there has been
//! no reconnect, every PING got its PONG, every message was counted, and memory stayed flat.
//!
//! The duration is `STREAMCUE_SOAK_SECS` (default 120, the length CI runs; at least 60, so the
//! warm-up and the two measuring windows do not overlap). `scripts/soak.sh` runs it for 600 s
//! in release and prints the figures (every figure line starts with `soak:`).
//!
//! What runs, for the whole duration:
//! - chat at [`RATE`] messages/s, sent in [`TICK`] ticks (drift-corrected: each tick sends what
//!   is due by now, so a late tick is caught up, never dropped): 4 lines in 5 from the test
//!   kit's varied sample chat (badges, colours, non-ASCII, emotes, `/me`, the odd `!anime`),
//!   1 in 5 from a rotating crowd of [`CROWD`] viewers (emote talk and `!anime` requests), so
//!   the queue's intake (cooldowns, "queue full", accepted requests written to SQLite) runs all
//!   the time; the streamer clears the queue every [`CLEAR_EVERY`] so requests keep being
//!   accepted;
//! - `PING :tmi.twitch.tv` from the server every [`PING_EVERY`] (what Twitch sends; the fake
//!   server does not send PINGs by itself), to be answered by the engine's IRC client;
//! - the memory of this process (`VmRSS` and `RssAnon` from `/proc/self/status`; the engine,
//!   its SQLite and the fake server all run in it) sampled every [`SAMPLE_EVERY`].
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
use streamcue_testkit::{
    is_connected, is_reconnecting, secs, within, EventLog, Harness, HarnessOptions,
};

const CH: &str = "soak_channel";
/// Chat messages per second.
const RATE: u64 = 50;
/// The sender's tick.
const TICK: Duration = Duration::from_millis(100);
/// How often the server sends `PING :tmi.twitch.tv`.
const PING_EVERY: Duration = Duration::from_secs(5);
/// How often memory is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// Samples before this are the warm-up (buffers, caches, SQLite pages, the allocator's first
/// pages fill up): not compared.
const WARM_UP: Duration = Duration::from_secs(20);
/// Samples in each measuring window: the first `WINDOW` after the warm-up and the last `WINDOW`
/// are each reduced to their median, so one sample's noise cannot decide the verdict.
const WINDOW: usize = 4;
/// How often the streamer clears the queue.
const CLEAR_EVERY: Duration = Duration::from_secs(10);
/// Distinct extra viewers, rotating (besides the sample chat's eight regulars).
const CROWD: u64 = 500;
/// The bound on `VmRSS` growth from the first measuring window to the last, in MiB.
///
/// Measured with transparent huge pages off for this process (see [`disable_thp`]), so memory
/// is counted in 4 KiB pages, and with the harness's event log (which keeps every `CoreEvent`,
/// about 14 a second here) swapped for a fresh one every [`SAMPLE_EVERY`], so the test's own
/// recorder does not grow with the soak (see [`rotate_event_log`]).
///
/// Why 4 MiB: nothing in the steady state should grow with time, and what legitimately moves
/// after the warm-up is small: the allocator keeping freed pages for a while, SQLite's page
/// cache following the database as requests and velocity rows are added, the fake server's
/// record of client lines (a few a minute). A real leak is larger: keeping a copy of every raw
/// chat line (~400 B) adds ~9 MiB over the 28 250 messages between the windows of the 10-minute
/// run, and keeping every parsed message (a twitch-irc `PrivmsgMessage` with its tag map,
/// ~2 KiB) ~8 MiB over the 4 250 messages of the 2-minute run. The growth per message is
/// printed too, so a smaller leak shows in the figures.
const MAX_GROWTH_MIB: f64 = 4.0;

const PROMPTS: &[&str] = &[
    "a cat surfing a wave at sunset",
    "two foxes sharing ramen in the rain",
    "a tiny robot watering a giant sunflower",
    "クロ the cat fighting a dragon",
    "the streamer as a magical girl ✨",
    "a lighthouse on the moon, watercolour",
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
        "STREAMCUE_SOAK_SECS={secs}: at least {min} s (the warm-up, then two measuring windows)"
    );
    Duration::from_secs(secs)
}

/// The `n`-th chat line: 4 in 5 from the sample chat, 1 in 5 from the crowd (emote talk, or a
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
        // A unique id per message (the default one depends only on the login and the text).
        .id(&message_id(n ^ 0x50a4_0000_0000));
    match k % 7 {
        0 => msg = msg.subscriber(1 + (k % 24) as u32),
        1 => msg = msg.color("#1E90FF"),
        _ => {}
    }
    msg.line()
}

/// Turns transparent huge pages off for this process (`PR_SET_THP_DISABLE`); `true` if done.
///
/// mimalloc (the app's allocator) asks for huge pages on its arena (`MADV_HUGEPAGE`), so with
/// THP on, touching one new 64 KiB allocator page shows in `VmRSS` as a whole 2 MiB page. The
/// first runs of this test saw `VmRSS` climb in 2 MiB steps (+4 MiB over 100 s) while the heap
/// measured in 4 KiB pages grew 0.7 MiB. With THP off, memory is counted page by page; the
/// huge pages already faulted in before this call stay as they are (they are constant).
fn disable_thp() -> bool {
    // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 }
}

/// A `kB` field of `/proc/self/status` (`VmRSS`, `RssAnon`, `VmHWM`), in KiB.
fn status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    text.lines()
        .find_map(|l| {
            let rest = l.strip_prefix(field)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Seconds since the soak started.
    t: f64,
    rss_kib: u64,
    anon_kib: u64,
}

fn mib(kib: f64) -> f64 {
    kib / 1024.0
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    assert!(n > 0);
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The two measuring windows of a series: the median of the first [`WINDOW`] samples after the
/// warm-up and the median of the last [`WINDOW`].
struct Windows {
    first: f64,
    last: f64,
    /// Seconds between the middles of the two windows.
    span_s: f64,
}

impl Windows {
    fn of(samples: &[Sample], pick: impl Fn(&Sample) -> f64) -> Windows {
        let after: Vec<f64> = samples
            .iter()
            .filter(|s| s.t >= WARM_UP.as_secs_f64())
            .map(pick)
            .collect();
        assert!(
            after.len() >= 2 * WINDOW,
            "too few samples after the warm-up: {samples:?}"
        );
        Windows {
            first: median(&after[..WINDOW]),
            last: median(&after[after.len() - WINDOW..]),
            span_s: (after.len() - WINDOW) as f64 * SAMPLE_EVERY.as_secs_f64(),
        }
    }

    fn growth(&self) -> f64 {
        self.last - self.first
    }
}

/// Swaps the harness's event log for a fresh one and returns what the old one saw: the main
/// chat's states and how many events it missed. The fresh log subscribes first and the old one
/// gets a moment to take in what was already sent, so an event is seen by one or both. (The
/// states are the third witness of "no reconnect", after the chat counters and the server's
/// count of connections.)
async fn rotate_event_log(h: &mut Harness) -> (Vec<ChatState>, u64) {
    let fresh = EventLog::start(h.engine());
    tokio::time::sleep(Duration::from_millis(20)).await;
    let old = std::mem::replace(&mut h.events, fresh);
    (old.states(), old.lagged())
}

/// The `PONG`s the engine sent, with when they arrived and their parameters.
fn pongs(fake: &FakeIrc) -> Vec<(Instant, Vec<String>)> {
    fake.received_timed()
        .into_iter()
        .filter_map(|(at, line)| match parse_client_line(&line) {
            Some((cmd, params)) if cmd == "PONG" => Some((at, params)),
            _ => None,
        })
        .collect()
}

fn queue_summary(c: &QueueCounters) -> String {
    format!(
        "accepted {}, refused for cooldown {}, refused as queue full {}, skipped (cleared) {}",
        c.accepted, c.cooldown_rejects, c.overflow_rejects, c.skipped
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_chat_and_pings_no_reconnect_flat_memory() {
    let duration = soak_duration();
    let thp_off = disable_thp();
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

    // From here on the event log is swapped every sample; the states it saw are kept here.
    let (mut states, mut lagged) = rotate_event_log(&mut h).await;

    // ---- the soak ----
    let total = RATE * duration.as_secs();
    let t0 = tokio::time::Instant::now();
    let mut sent = 0u64;
    let mut largest_batch = 0u64;
    let mut late_ticks = 0u64;
    let mut ping_times: Vec<Instant> = Vec::new();
    let mut samples: Vec<Sample> = Vec::new();
    let mut next_sample = Duration::ZERO;
    let mut next_ping = PING_EVERY;
    let mut next_clear = CLEAR_EVERY;
    let mut next_progress = Duration::from_secs(60);
    let mut k = 0u32;
    loop {
        k += 1;
        tokio::time::sleep_until(t0 + TICK * k).await;
        let elapsed = t0.elapsed();
        if elapsed > TICK * (k + 1) {
            late_ticks += 1;
        }
        if elapsed >= next_sample && next_sample <= duration {
            let (seen, missed) = rotate_event_log(&mut h).await;
            states.extend(seen);
            lagged += missed;
            samples.push(Sample {
                t: elapsed.as_secs_f64(),
                rss_kib: status_kib("VmRSS"),
                anon_kib: status_kib("RssAnon"),
            });
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
            .expect("clear the queue");
            next_clear += CLEAR_EVERY;
        }
        if elapsed >= next_progress {
            let c = h.counters().await;
            println!(
                "soak: progress {:>4.0} s: sent {sent}, counted {}, reconnects {}, VmRSS {:.1} MB, PINGs {}, PONGs {}",
                elapsed.as_secs_f64(),
                c.messages,
                c.reconnects,
                mib(samples.last().map_or(0, |s| s.rss_kib) as f64),
                ping_times.len(),
                pongs(&fake).len()
            );
            next_progress += Duration::from_secs(60);
        }
        if sent == total && next_sample > duration && next_ping > duration {
            break;
        }
    }
    let send_secs = t0.elapsed().as_secs_f64();

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
    let (seen, missed) = rotate_event_log(&mut h).await;
    states.extend(seen);
    lagged += missed;
    let hwm_kib = status_kib("VmHWM");

    // ---- figures ----
    let rss = Windows::of(&samples, |s| s.rss_kib as f64);
    let anon = Windows::of(&samples, |s| s.anon_kib as f64);
    let msgs_between = rss.span_s * RATE as f64;
    let max_pong_ms = ping_times
        .iter()
        .zip(&pong_list)
        .map(|(sent_at, (at, _))| at.saturating_duration_since(*sent_at).as_secs_f64() * 1e3)
        .fold(0.0, f64::max);
    let rss_all: Vec<f64> = samples.iter().map(|s| s.rss_kib as f64).collect();

    println!(
        "soak: {} s (STREAMCUE_SOAK_SECS), {} build, transparent huge pages {} for this process",
        duration.as_secs(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        if thp_off {
            "off"
        } else {
            "NOT turned off (prctl failed): VmRSS moves in 2 MiB steps"
        }
    );
    println!(
        "soak: chat: {sent} messages in {send_secs:.1} s = {:.1} msg/s ({RATE}/s in {} ms ticks; largest batch {largest_batch}; {late_ticks} ticks over one tick late)",
        sent as f64 / send_secs,
        TICK.as_millis()
    );
    println!(
        "soak: engine: counted {} of {sent} (1 s later {}), malformed {}, reconnects {}; server: {} connection(s) in all, {} open",
        counters.messages,
        counters_after.messages,
        counters_after.malformed_lines,
        counters_after.reconnects,
        fake.connections_total(),
        fake.connections_open()
    );
    println!(
        "soak: PING: {pings} sent by the server, {} PONGs back (slowest {max_pong_ms:.0} ms); the client's own keepalive PINGs: {client_pings}",
        pong_list.len()
    );
    println!("soak: queue: {}", queue_summary(&queue.counters));
    println!(
        "soak: memory: VmRSS {:.1} MB at the start, {:.1} MB after the warm-up (median of {WINDOW} samples from {} s), {:.1} MB at the end (median of the last {WINDOW}); min {:.1}, max {:.1}, peak VmHWM {:.1} MB",
        mib(rss_all[0]),
        mib(rss.first),
        WARM_UP.as_secs(),
        mib(rss.last),
        mib(rss_all.iter().copied().fold(f64::MAX, f64::min)),
        mib(rss_all.iter().copied().fold(0.0, f64::max)),
        mib(hwm_kib as f64)
    );
    println!(
        "soak: flat: VmRSS {:+.2} MB (RssAnon {:+.2} MB) from the first window to the last, over {msgs_between:.0} messages = {:+.0} bytes/message (bound {MAX_GROWTH_MIB} MB); event log swapped every {} s, {lagged} events missed by it",
        mib(rss.growth()),
        mib(anon.growth()),
        rss.growth() * 1024.0 / msgs_between,
        SAMPLE_EVERY.as_secs()
    );
    let series: Vec<String> = samples
        .iter()
        .map(|s| {
            format!(
                "{:.0}:{:.1}/{:.1}",
                s.t,
                mib(s.rss_kib as f64),
                mib(s.anon_kib as f64)
            )
        })
        .collect();
    println!("soak: samples (s:VmRSS/RssAnon MB): {}", series.join(" "));

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
            && states.iter().filter(|s| is_connected(s)).count() == 1
            && states
                .iter()
                .all(|s| is_connected(s) || matches!(s, ChatState::Connecting { .. })),
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
        mib(rss.growth()) < MAX_GROWTH_MIB,
        "memory is not flat: VmRSS grew {:.2} MB from the first window after the warm-up to the last (bound {MAX_GROWTH_MIB} MB); samples (s:VmRSS/RssAnon MB) {}",
        mib(rss.growth()),
        series.join(" ")
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
