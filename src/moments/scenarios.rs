//! Scripted chat scenarios for the `SpikeDetector`, on synthetic time, with the detected
//! moments compared as text snapshots; and a property test: a perfectly steady stream of any
//! rate never makes a moment.

use std::collections::HashMap;

use proptest::prelude::*;

use super::detector::{Baseline, MomentEvent, SecondSummary, SpikeDetector};
use super::matcher::Matcher;
use crate::api::{MomentSettings, SupportCounts, SupportRules, VelocityRule, ViewerSpikeRule};

/// Seconds of chat: `count` messages a second, `lines` of which are these texts.
struct Chat {
    detector: SpikeDetector,
    matcher: Matcher,
    t: i64,
    log: Vec<String>,
}

impl Chat {
    fn new() -> Self {
        Self::with(MomentSettings::default())
    }

    fn with(settings: MomentSettings) -> Self {
        Self {
            matcher: Matcher::new(&settings),
            detector: SpikeDetector::new(settings, Baseline::EMPTY),
            t: 0,
            log: Vec::new(),
        }
    }

    /// `seconds` seconds at `per_second` plain messages, plus `texts` each second.
    fn run(&mut self, seconds: u32, per_second: u32, texts: &[&str]) {
        for _ in 0..seconds {
            let mut s = SecondSummary {
                second_ms: self.t * 1000,
                messages: per_second + texts.len() as u32,
                keyword_messages: 0,
                keywords: HashMap::new(),
                emotes: HashMap::new(),
                ..SecondSummary::default()
            };
            for text in texts {
                if self.matcher.scan(text, &[], &mut s.keywords, &mut s.emotes) {
                    s.keyword_messages += 1;
                }
            }
            for e in self.detector.on_second(s) {
                self.log.push(describe(&e));
            }
            self.t += 1;
        }
    }

    /// One second of `per_second` plain messages with this support and viewer reading.
    fn second(&mut self, per_second: u32, support: SupportCounts, viewers: Option<u32>) {
        let s = SecondSummary {
            second_ms: self.t * 1000,
            messages: per_second,
            support,
            viewers,
            ..SecondSummary::default()
        };
        for e in self.detector.on_second(s) {
            self.log.push(describe(&e));
        }
        self.t += 1;
    }

    fn snapshot(&self) -> String {
        self.log.join("\n")
    }
}

fn describe(e: &MomentEvent) -> String {
    let labels = |t: &[crate::api::MomentTrigger]| {
        t.iter()
            .map(|t| t.label.clone())
            .collect::<Vec<_>>()
            .join(" + ")
    };
    match e {
        MomentEvent::Opened {
            started_ms,
            triggers,
            ..
        } => format!("opened t={} [{}]", started_ms / 1000, labels(triggers)),
        MomentEvent::Updated { triggers, .. } => format!("updated [{}]", labels(triggers)),
        MomentEvent::Closed {
            ended_ms, triggers, ..
        } => format!("closed t={} [{}]", ended_ms / 1000, labels(triggers)),
    }
}

#[test]
fn quiet_chat_then_one_burst_is_one_moment() {
    let mut c = Chat::new();
    c.run(120, 2, &[]);
    c.run(8, 12, &[]);
    c.run(60, 2, &[]);
    assert_eq!(
        c.snapshot(),
        "opened t=122 [velocity 5.0/s vs baseline 2.0/s]\n\
         updated [velocity 7.0/s vs baseline 2.0/s]\n\
         updated [velocity 9.0/s vs baseline 2.1/s]\n\
         closed t=135 [velocity 10.0/s vs baseline 2.1/s]",
        "2 msg/s, then 12 msg/s for 8 s: one moment, from the third second of the burst"
    );
}

#[test]
fn a_big_steady_channel_fires_only_on_a_surge() {
    let mut c = Chat::new();
    c.run(300, 500, &[]);
    assert_eq!(c.snapshot(), "", "steady 500 msg/s is no moment");
    c.run(20, 1500, &[]);
    c.run(60, 500, &[]);
    let lines: Vec<&str> = c.log.iter().map(String::as_str).collect();
    assert!(lines[0].starts_with("opened t=30"), "{lines:?}");
    assert_eq!(
        c.snapshot(),
        "opened t=305 [velocity 1100.0/s vs baseline 514.6/s]\n\
         updated [velocity 1400.0/s vs baseline 523.5/s]\n\
         closed t=321 [velocity 1500.0/s vs baseline 526.5/s]",
        "detected 5 s into a 3× surge; the burst barely moved the baseline"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("opened")).count(),
        1,
        "{lines:?}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("closed")).count(),
        1,
        "{lines:?}"
    );
}

#[test]
fn clip_spam_is_a_keyword_moment() {
    let mut c = Chat::new();
    c.run(60, 3, &[]);
    c.run(3, 3, &["CLIP THAT", "clip!!"]);
    c.run(40, 3, &[]);
    assert_eq!(
        c.snapshot(),
        "opened t=62 [CLIP ×6]\n\
         closed t=70 [CLIP ×6]",
        "6 messages with a keyword in 3 s (one with two keywords counts once)"
    );
}

#[test]
fn emote_spam_is_an_emote_moment() {
    let mut c = Chat::new();
    c.run(60, 20, &[]);
    c.run(3, 16, &["KEKW", "KEKW KEKW", "lol KEKW", "KEKW"]);
    c.run(40, 20, &[]);
    assert_eq!(
        c.snapshot(),
        "opened t=62 [KEKW ×12]\n\
         closed t=65 [KEKW ×12]"
    );
}

#[test]
fn overlapping_triggers_make_one_moment_with_all_of_them() {
    let mut c = Chat::new();
    c.run(90, 2, &[]);
    let burst = [
        "CLIP",
        "clip that",
        "KEKW",
        "KEKW",
        "KEKW",
        "KEKW",
        "omg KEKW",
    ];
    c.run(4, 10, &burst);
    c.run(5, 2, &[]);
    c.run(2, 2, &["no way", "NO WAY", "insane"]);
    c.run(60, 2, &[]);
    assert_eq!(
        c.snapshot(),
        "opened t=91 [velocity 5.0/s vs baseline 2.0/s + CLIP ×4 + KEKW ×10]\n\
         updated [velocity 6.5/s vs baseline 2.0/s + CLIP ×6 + KEKW ×15]\n\
         updated [velocity 8.0/s vs baseline 2.0/s + CLIP ×8 + KEKW ×20]\n\
         updated [velocity 8.3/s vs baseline 2.0/s + CLIP ×8 + KEKW ×20]\n\
         closed t=109 [velocity 8.3/s vs baseline 2.0/s + CLIP ×8 + KEKW ×20]",
        "velocity, keywords and emotes together, and keywords 9 s later: one moment"
    );
}

#[test]
fn a_busy_channel_is_learned_during_warm_up_even_from_a_partial_first_second() {
    let mut c = Chat::new();
    c.run(1, 137, &[]); // connected mid-second
    c.run(300, 800, &[]);
    assert_eq!(
        c.snapshot(),
        "",
        "no moment for a channel that is simply busy"
    );
    let b = c.detector.baseline();
    assert!((b.mean - 800.0).abs() < 10.0, "{b:?}");
}

#[test]
fn a_fixed_rate_rule_fires_without_a_baseline() {
    let settings = MomentSettings {
        velocity: VelocityRule::Fixed { per_second: 5.0 },
        ..MomentSettings::default()
    };
    let mut d = SpikeDetector::new(settings, Baseline::EMPTY);
    let mut events = Vec::new();
    for t in 0..30 {
        events.extend(d.on_second(SecondSummary {
            second_ms: t * 1000,
            messages: if t >= 10 { 8 } else { 1 },
            ..Default::default()
        }));
    }
    assert!(
        matches!(events.first(), Some(MomentEvent::Opened { .. })),
        "{events:?}"
    );
}

/// Support only: velocity, keywords and emotes out of reach.
fn support_only() -> MomentSettings {
    MomentSettings {
        window_seconds: 10,
        merge_gap_seconds: 5,
        velocity: VelocityRule::Fixed { per_second: 1e6 },
        keyword_threshold: 0,
        emote_threshold: 0,
        support: SupportRules {
            subs: 3,
            gifts: 5,
            raid_viewers: 10,
            bits: 500,
        },
        viewer_spike: ViewerSpikeRule {
            ratio: 1.5,
            min_increase: 20,
        },
        ..MomentSettings::default()
    }
}

const NONE: SupportCounts = SupportCounts {
    subs: 0,
    gifts: 0,
    raids: 0,
    raid_viewers: 0,
    bits: 0,
};

#[test]
fn support_fires_at_its_thresholds_over_the_window() {
    let mut c = Chat::with(support_only());
    let sub = SupportCounts { subs: 1, ..NONE };
    // Two subs 20 s apart never share a window; a raid of 5 and 499 bits stay under.
    c.second(2, sub, None);
    c.run(20, 2, &[]);
    c.second(2, sub, None);
    c.second(
        2,
        SupportCounts {
            raids: 1,
            raid_viewers: 5,
            ..NONE
        },
        None,
    );
    c.second(2, SupportCounts { bits: 499, ..NONE }, None);
    c.run(30, 2, &[]);
    assert_eq!(c.snapshot(), "", "under every threshold");
    // Three subs within 10 s, then a gift bomb of 5 and a raid of 40 while it is open.
    for _ in 0..3 {
        c.second(2, sub, None);
        c.run(3, 2, &[]);
    }
    c.second(2, SupportCounts { gifts: 5, ..NONE }, None);
    c.second(
        2,
        SupportCounts {
            raids: 1,
            raid_viewers: 40,
            ..NONE
        },
        None,
    );
    c.run(30, 2, &[]);
    // Later, cheers adding up to 600 bits in the window: a moment of its own.
    for _ in 0..3 {
        c.second(2, SupportCounts { bits: 200, ..NONE }, None);
    }
    c.run(30, 2, &[]);
    assert_eq!(
        c.snapshot(),
        "opened t=62 [3 subs]\n\
         updated [3 subs + 5 gifted subs]\n\
         updated [3 subs + 5 gifted subs + raid with 40 viewers]\n\
         closed t=77 [3 subs + 5 gifted subs + raid with 40 viewers]\n\
         opened t=100 [600 bits]\n\
         closed t=108 [600 bits]",
        "the third sub (t=62) opens it; it lasts while the window holds a trigger (the raid \
         at t=67, until t=76); the cheers add up to 600 at t=100"
    );
}

#[test]
fn a_viewer_spike_is_a_jump_between_two_readings() {
    let mut c = Chat::with(support_only());
    let reading = |c: &mut Chat, viewers: u32| {
        c.second(2, NONE, Some(viewers));
        c.run(59, 2, &[]);
    };
    // Slow growth, a small channel's +6 (×1.6 but under +20), a drop: nothing.
    for v in [100, 110, 120, 140, 100, 10, 16, 20] {
        reading(&mut c, v);
    }
    assert_eq!(c.snapshot(), "");
    // 20 → 300 (a raid, a front page): one moment; it stays high, no second one.
    for v in [300, 310, 320] {
        reading(&mut c, v);
    }
    assert_eq!(
        c.snapshot(),
        "opened t=480 [viewers 20 → 300]\n\
         closed t=481 [viewers 20 → 300]",
        "a spike lives for the second its reading came in"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A perfectly steady stream, integer or fractional rate (spread evenly over the seconds),
    /// with or without a keyword or emote in every message, never makes a moment: the baseline
    /// learns any rate, and a steady trickle of keywords stays below its threshold only if the
    /// threshold says so, so keywords are left out here.
    #[test]
    fn a_steady_stream_never_fires(rate in 0.0f64..3000.0, seconds in 1u32..900, window in 1u32..60) {
        let settings = MomentSettings { window_seconds: window, ..MomentSettings::default() };
        let mut d = SpikeDetector::new(settings, Baseline::EMPTY);
        let mut sent = 0u64;
        for t in 0..seconds as i64 {
            let due = (rate * (t + 1) as f64).floor() as u64;
            let n = (due - sent) as u32;
            sent = due;
            let events = d.on_second(SecondSummary { second_ms: t * 1000, messages: n, ..Default::default() });
            prop_assert!(events.is_empty(), "rate {rate} fired at t={t}: {events:?}");
        }
    }

    /// Viewer readings that never rise by the rule's ratio never make a moment, whatever the
    /// channel's size.
    #[test]
    fn no_jump_no_spike(start in 0u32..100_000, steps in proptest::collection::vec(0.5f64..1.49, 1..40)) {
        let mut d = SpikeDetector::new(support_only(), Baseline::EMPTY);
        let mut v = start as f64;
        for (i, f) in steps.iter().enumerate() {
            v = (v * f).floor();
            let events = d.on_second(SecondSummary {
                second_ms: i as i64 * 60_000,
                viewers: Some(v as u32),
                ..Default::default()
            });
            prop_assert!(events.is_empty(), "fired at {v}: {events:?}");
        }
    }
}
