//! Viewers' support as moment signals (seed 003), end to end over real sockets: subs, gifted
//! subs, raids and bits from the fake Twitch IRC server (USERNOTICE and PRIVMSG lines as Twitch
//! sends them), subscriptions, gifts and the viewer count from the fake Kick (Pusher WebSocket
//! and channel API). Each becomes a trigger when it reaches its threshold, the session keeps
//! counts only (no viewer's name is written), and a gift bomb's announcement is not counted on
//! top of its gifts.

use streamcue::api::{
    ChatSlot, ChatTarget, Moment, MomentSettings, SupportRules, TriggerKind, VelocityRule,
    ViewerSpikeRule,
};
use streamcue_testkit::fake_irc::{
    raid_line, sub_line, subgift_line, submysterygift_line, FakeIrc, Privmsg,
};
use streamcue_testkit::fake_pusher::FakePusher;
use streamcue_testkit::{is_connected, secs, Harness, HarnessOptions};

const CH: &str = "supportchan";
const ROOM: u64 = 668;
/// Names that must never reach the database.
const NAMES: &[&str] = &[
    "subbyone",
    "resubbytwo",
    "bombgifter",
    "luckyrecipient",
    "raidlord",
    "cheerful",
    "kicksubber",
    "kickgifter",
];

/// Only support (and viewer spikes) can fire: velocity, keywords and emotes are out of reach.
fn settings(support: SupportRules) -> MomentSettings {
    MomentSettings {
        window_seconds: 4,
        merge_gap_seconds: 2,
        velocity: VelocityRule::Fixed { per_second: 1000.0 },
        keyword_threshold: 0,
        emote_threshold: 0,
        support,
        viewer_spike: ViewerSpikeRule {
            ratio: 1.5,
            min_increase: 20,
        },
        ..MomentSettings::default()
    }
}

/// The support names (`subs`, `gifts`, …) and whether a viewer spike is among `m`'s triggers.
fn kinds(m: &Moment) -> Vec<String> {
    let mut k: Vec<String> = m
        .triggers
        .iter()
        .map(|t| match t.kind {
            TriggerKind::Support => t.name.clone().unwrap_or_default(),
            TriggerKind::ViewerSpike => "viewer_spike".into(),
            other => format!("{other:?}"),
        })
        .collect();
    k.sort();
    k
}

fn latest(h: &Harness) -> Option<Moment> {
    h.events.moments().last().cloned()
}

/// No viewer's name in the database files.
fn assert_no_names(h: &Harness) {
    let db = h.paths.database_file.clone();
    for path in [db.clone(), db.with_extension("db-wal")] {
        let bytes = std::fs::read(&path).unwrap_or_default();
        for name in NAMES {
            assert!(
                !bytes.windows(name.len()).any(|w| w == name.as_bytes()),
                "{name} written to {}",
                path.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twitch_subs_gifts_raids_and_bits_become_moments_kept_as_counts() {
    let irc = FakeIrc::start().await.unwrap();
    let mut h = Harness::start(HarnessOptions {
        twitch_irc_addr: Some(irc.addr_string()),
        generation_paused: true,
        ..Default::default()
    })
    .await;
    let rules = SupportRules {
        subs: 2,
        gifts: 3,
        raid_viewers: 20,
        bits: 100,
    };
    h.engine()
        .handle()
        .moments()
        .set_settings(settings(rules))
        .await
        .unwrap();
    h.engine()
        .connect_chat(ChatTarget::Twitch { channel: CH.into() })
        .await
        .unwrap();
    h.events
        .wait_state(secs(5.0), 1, "Connected", is_connected)
        .await;
    assert!(irc.wait_joins(CH, 1, secs(5.0)).await);

    // One sub is under the threshold of two: no moment.
    irc.broadcast(CH, &sub_line(CH, "subbyone", false, 1));
    tokio::time::sleep(secs(2.5)).await;
    assert!(
        h.events.moments().is_empty(),
        "one sub made a moment: {:?}",
        h.events.moments()
    );
    // A resub makes two within the window: a moment, triggered by subs alone.
    irc.broadcast(CH, &sub_line(CH, "resubbytwo", true, 14));
    h.events
        .wait(secs(5.0), "a subs moment", |e| !e.moments().is_empty())
        .await;
    let first = latest(&h).unwrap();
    assert_eq!(kinds(&first), ["subs"]);
    assert_eq!(first.triggers[0].label, "2 subs");
    h.events
        .wait(secs(10.0), "the subs moment ends", |e| {
            e.moments()
                .last()
                .is_some_and(|m| m.id == first.id && m.ended_at_ms.is_some())
        })
        .await;

    // A gift bomb of three (its announcement, then one line per gift), a raid of 25 and a
    // 150-bit cheer: one more moment with all three signals.
    let mut lines = vec![submysterygift_line(CH, "bombgifter", 3)];
    lines.extend((0..3).map(|i| subgift_line(CH, "bombgifter", &format!("luckyrecipient{i}"))));
    lines.push(raid_line(CH, "raidlord", 25));
    lines.push(
        Privmsg::new(CH, "cheerful", "cheer100 cheer50 what a play")
            .tag("bits", Some("150"))
            .line(),
    );
    assert_eq!(irc.broadcast_lines(CH, &lines), 1);
    h.events
        .wait(secs(6.0), "gifts, raid and bits in one moment", |e| {
            e.moments()
                .last()
                .is_some_and(|m| m.id != first.id && kinds(m) == ["bits", "gifts", "raid"])
        })
        .await;
    let second = latest(&h).unwrap();
    let label = |name: &str| {
        second
            .triggers
            .iter()
            .find(|t| t.name.as_deref() == Some(name))
            .map(|t| t.label.clone())
            .unwrap()
    };
    assert_eq!(
        label("gifts"),
        "3 gifted subs",
        "the announcement is not a gift"
    );
    assert_eq!(label("raid"), "raid with 25 viewers");
    assert_eq!(label("bits"), "150 bits");

    // The session keeps the counts (and every chat message, the cheer included).
    let state = h.engine().disconnect_chat(ChatSlot::Main).await.unwrap();
    assert!(!is_connected(&state));
    let session_id = second.session_id as i64;
    h.shutdown_within(secs(5.0)).await;
    assert_no_names(&h);
    let db = h.reopen_db().await;
    let row = db.sessions().get(session_id).await.unwrap().unwrap();
    assert_eq!(
        (
            row.subs,
            row.gifts,
            row.raids,
            row.raid_viewers,
            row.bits,
            row.messages
        ),
        (2, 3, 1, 25, 150, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kick_subs_gifts_and_a_viewer_spike_become_moments() {
    let pusher = FakePusher::start().await.unwrap();
    pusher.add_channel("xqc", ROOM);
    pusher.set_viewers("xqc", Some(100));
    // The engine reads these at start (one test per process under nextest).
    std::env::set_var("STREAMCUE_KICK_WS_URL", pusher.ws_url());
    std::env::set_var("STREAMCUE_KICK_API_URL", pusher.api_base());
    std::env::set_var("STREAMCUE_KICK_VIEWERS_EVERY_MS", "300");
    let mut h = Harness::start(HarnessOptions {
        generation_paused: true,
        ..Default::default()
    })
    .await;
    let rules = SupportRules {
        subs: 1,
        gifts: 5,
        ..SupportRules::default()
    };
    h.engine()
        .handle()
        .moments()
        .set_settings(settings(rules))
        .await
        .unwrap();
    h.engine()
        .connect_chat(ChatTarget::Kick {
            channel: "xqc".into(),
        })
        .await
        .expect("Kick connects by name");
    let viewer_reads = || {
        pusher
            .api_requests()
            .iter()
            .filter(|p| p.starts_with("/api/v2/channels/xqc"))
            .count()
    };
    // The lookup, then the viewer count read again and again: steady, so no moment.
    let polled = tokio::time::Instant::now();
    while viewer_reads() < 6 {
        assert!(
            polled.elapsed() < secs(10.0),
            "the viewer count is not being read"
        );
        tokio::time::sleep(secs(0.1)).await;
    }
    assert!(
        h.events.moments().is_empty(),
        "a steady count made a moment"
    );

    // 100 → 400 viewers: a viewer spike.
    pusher.set_viewers("xqc", Some(400));
    h.events
        .wait(secs(5.0), "a viewer spike", |e| {
            e.moments()
                .iter()
                .any(|m| kinds(m).contains(&"viewer_spike".to_string()))
        })
        .await;
    let spike = latest(&h).unwrap();
    let t = spike
        .triggers
        .iter()
        .find(|t| t.kind == TriggerKind::ViewerSpike)
        .unwrap();
    assert_eq!(t.label, "viewers 100 → 400");
    assert_eq!(t.baseline, Some(100.0));

    // A subscription and five gifted subs (names never kept).
    pusher.send_subscription(ROOM, "kicksubber", 3);
    let recipients: Vec<String> = (0..5).map(|i| format!("kickgifter-to-{i}")).collect();
    let names: Vec<&str> = recipients.iter().map(String::as_str).collect();
    assert_eq!(
        pusher.send_gifted_subscriptions(ROOM, "kickgifter", &names),
        1
    );
    h.events
        .wait(secs(6.0), "subs and gifts triggers", |e| {
            let all: Vec<String> = e.moments().iter().flat_map(kinds).collect();
            all.contains(&"subs".to_string()) && all.contains(&"gifts".to_string())
        })
        .await;

    // Offline again: no reading, no spike; and the polling stops with the session.
    pusher.set_viewers("xqc", None);
    h.engine().disconnect_chat(ChatSlot::Kick).await.unwrap();
    let after = viewer_reads();
    tokio::time::sleep(secs(1.0)).await;
    assert!(
        viewer_reads() <= after + 1,
        "the viewer count was still read after disconnect"
    );
    let session_id = spike.session_id as i64;
    h.shutdown_within(secs(5.0)).await;
    assert_no_names(&h);
    let db = h.reopen_db().await;
    let row = db.sessions().get(session_id).await.unwrap().unwrap();
    assert_eq!((row.subs, row.gifts, row.raids, row.bits), (1, 5, 0, 0));
}
