//! Moments end to end: chat from the fake Twitch IRC server (real TCP), the engine's
//! `MomentDetector` on real SQLite. A burst of "CLIP" after steady chat becomes one moment,
//! written before it is announced, with no message text stored; notes, settings, history and a
//! restart keep what was found.

use streamcue::api::{ChatTarget, ErrorCode, MomentSettings, TriggerKind, VelocityRule};
use streamcue_testkit::fake_irc::{FakeIrc, Privmsg};
use streamcue_testkit::{is_connected, secs, Harness, HarnessOptions};

const CH: &str = "momentchan";
const SECRET_TEXT: &str = "zebra-umbrella-7731";

async fn start(irc: &FakeIrc, dir: Option<tempfile::TempDir>) -> Harness {
    Harness::start(HarnessOptions {
        twitch_irc_addr: Some(irc.addr_string()),
        generation_paused: true,
        dir,
        ..Default::default()
    })
    .await
}

async fn connect(h: &Harness, irc: &FakeIrc, joins: usize) {
    h.engine()
        .connect_chat(ChatTarget::Twitch { channel: CH.into() })
        .await
        .unwrap();
    h.events
        .wait_state(secs(5.0), joins, "Connected", is_connected)
        .await;
    assert!(irc.wait_joins(CH, joins, secs(5.0)).await);
}

fn say(irc: &FakeIrc, n: usize, text: &str) {
    let lines: Vec<String> = (0..n)
        .map(|i| Privmsg::new(CH, &format!("viewer{i}"), text).line())
        .collect();
    assert_eq!(irc.broadcast_lines(CH, &lines), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_burst_after_steady_chat_is_one_moment_kept_across_a_restart() {
    let irc = FakeIrc::start().await.unwrap();
    let mut h = start(&irc, None).await;
    let settings = MomentSettings {
        window_seconds: 5,
        merge_gap_seconds: 2,
        velocity: VelocityRule::Baseline {
            sigmas: 4.0,
            ratio: 3.0,
            min_per_second: 1.0,
            half_life_seconds: 60,
            warmup_seconds: 3,
        },
        ..MomentSettings::default()
    };
    h.engine()
        .handle()
        .moments()
        .set_settings(settings.clone())
        .await
        .expect("settings");
    connect(&h, &irc, 1).await;
    // Steady chat: 2 messages a second for 5 s (one carries a text that must never be stored).
    for s in 0..5 {
        say(&irc, 2, if s == 2 { SECRET_TEXT } else { "hello there" });
        tokio::time::sleep(secs(1.0)).await;
    }
    assert!(
        h.events.moments().is_empty(),
        "steady chat made a moment: {:?}",
        h.events.moments()
    );
    // The burst: eight viewers type CLIP within a second.
    say(&irc, 8, "CLIP IT");
    h.events
        .wait(secs(5.0), "a moment", |_| !h.events.moments().is_empty())
        .await;
    let first = h.events.moments()[0].clone();
    let kinds: Vec<TriggerKind> = first.triggers.iter().map(|t| t.kind).collect();
    assert!(kinds.contains(&TriggerKind::Keyword), "{first:?}");
    let kw = first
        .triggers
        .iter()
        .find(|t| t.kind == TriggerKind::Keyword)
        .unwrap();
    assert_eq!(kw.label, "CLIP ×8");
    assert!(first.ended_at_ms.is_none(), "open while the burst goes on");
    assert!(
        first.offset_ms >= 4000.0,
        "offset from the session start: {}",
        first.offset_ms
    );
    // Silence: the moment ends after the merge gap; still one moment.
    h.events
        .wait(secs(20.0), "the moment ends", |_| {
            h.events
                .moments()
                .last()
                .is_some_and(|m| m.ended_at_ms.is_some())
        })
        .await;
    let ended = h.events.moments().last().cloned().unwrap();
    assert_eq!(ended.id, first.id);
    assert!(
        h.events.moments().iter().all(|m| m.id == first.id),
        "one burst, one moment"
    );

    // A note; the history has the graph and the moment.
    let noted = h
        .engine()
        .handle()
        .moments()
        .set_note(first.id, "  the cat jumped  ".into())
        .await
        .unwrap();
    assert_eq!(noted.note, "the cat jumped");
    let sessions = h.engine().handle().moments().sessions().await.unwrap();
    let session = sessions[0].clone();
    assert_eq!((session.channel.as_str(), session.moments), (CH, 1));
    let history = h
        .engine()
        .handle()
        .moments()
        .history(session.id)
        .await
        .unwrap();
    assert!(
        history.velocity.iter().map(|p| p.count).sum::<u32>() >= 18,
        "{:?}",
        history.velocity
    );
    assert_eq!(history.moments, vec![noted.clone()]);

    // Restart: the moment, its note and the settings are still there; no text was stored.
    h.shutdown_within(secs(5.0)).await;
    let db_file = h.paths.database_file.clone();
    for path in [db_file.clone(), db_file.with_extension("db-wal")] {
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes
                .windows(SECRET_TEXT.len())
                .any(|w| w == SECRET_TEXT.as_bytes()),
            "message text in {}",
            path.display()
        );
    }
    let dir = std::mem::replace(&mut h.dir, tempfile::tempdir().unwrap());
    drop(h);
    let h = start(&irc, Some(dir)).await;
    let snap = h.snapshot().await;
    assert_eq!(snap.moments, vec![noted]);
    assert_eq!(snap.moment_settings, settings);
}

#[tokio::test]
async fn bad_settings_and_notes_are_refused_with_a_code() {
    let h = Harness::start(HarnessOptions::default()).await;
    let m = h.engine().handle().moments().clone();
    let base = MomentSettings::default();
    for bad in [
        MomentSettings {
            window_seconds: 0,
            ..base.clone()
        },
        MomentSettings {
            velocity: VelocityRule::Fixed { per_second: -1.0 },
            ..base.clone()
        },
        MomentSettings {
            velocity: VelocityRule::Baseline {
                sigmas: f64::NAN,
                ratio: 2.0,
                min_per_second: 1.0,
                half_life_seconds: 60,
                warmup_seconds: 10,
            },
            ..base.clone()
        },
        MomentSettings {
            keywords: vec!["x".repeat(41)],
            ..base.clone()
        },
    ] {
        let e = m.set_settings(bad.clone()).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidSettings, "{bad:?}");
    }
    assert_eq!(m.settings().await.unwrap(), base, "nothing was saved");
    let e = m.set_note(12345, "x".into()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::UnknownMoment);
    let cleaned = m
        .set_settings(MomentSettings {
            keywords: vec![" clip ".into(), "".into(), "no way".into()],
            ..base.clone()
        })
        .await
        .unwrap();
    assert_eq!(cleaned.keywords, vec!["clip", "no way"]);
}
