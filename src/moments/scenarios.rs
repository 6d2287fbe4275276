//! Scripted chat scenarios for the `SpikeDetector`, on synthetic time, with the detected
//! moments compared as text snapshots; and a property test: a perfectly steady stream of any
//! rate never makes a moment.

use std::collections::HashMap;

use proptest::prelude::*;

use super::detector::{Baseline, MomentEvent, SecondSummary, SpikeDetector};
use super::matcher::Matcher;
use crate::api::{MomentSettings, VelocityRule};

/// Seconds of chat: `count` messages a second, `lines` of which are these texts.
struct Chat {
    detector: SpikeDetector,
    matcher: Matcher,
    t: i64,
    log: Vec<String>,
}

impl Chat {
    fn new() -> Self {
        let settings = MomentSettings::default();
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
}
