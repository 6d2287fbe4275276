//! `SpikeDetector`: finds chat *moments* in per-second summaries of one channel's chat. Pure:
//! no I/O and no clock (the second's timestamp comes with its data), so scenarios and property
//! tests run on synthetic time.
//!
//! Signals over rolling windows: message velocity against the channel's own baseline (an
//! exponentially weighted mean and variance of the per-second rate, with a floor; each second
//! is folded in clipped at the current threshold, so a burst barely moves it while a lasting
//! change of pace is learned within minutes), or against a fixed rate; keyword hits (messages with a keyword, once per
//! message); emote spam (the same emote in ≥ N messages within a shorter window); viewers'
//! support (subs, gifts, bits and raid viewers summed over the window); a viewer spike (a
//! reading of the viewer count well above the one before it, live for that second only). One
//! burst is one moment: triggers that overlap, or follow within `merge_gap_s`, merge into it.

use std::collections::{HashMap, VecDeque};

use crate::api::{MomentSettings, MomentTrigger, SupportCounts, TriggerKind, VelocityRule};

/// One second of one channel's chat, reduced to what detection needs (no message text).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecondSummary {
    /// Unix ms of the second's start.
    pub second_ms: i64,
    pub messages: u32,
    /// Messages that contained at least one keyword.
    pub keyword_messages: u32,
    /// Messages that contained each keyword (by keyword, lower-case).
    pub keywords: HashMap<String, u32>,
    /// Messages that contained each emote (by emote name).
    pub emotes: HashMap<String, u32>,
    /// Subs, gifts, raids and bits in this second.
    pub support: SupportCounts,
    /// A new reading of the viewer count arrived in this second (Kick's channel API).
    pub viewers: Option<u32>,
}

/// A change to the moment being detected.
#[derive(Debug, Clone, PartialEq)]
pub enum MomentEvent {
    /// A new moment began at `started_ms`.
    Opened {
        started_ms: i64,
        triggers: Vec<MomentTrigger>,
        strength: f64,
    },
    /// The open moment gained a trigger type or grew noticeably stronger.
    Updated {
        triggers: Vec<MomentTrigger>,
        strength: f64,
    },
    /// The open moment ended (no trigger for `merge_gap_s`) at `ended_ms`.
    Closed {
        ended_ms: i64,
        triggers: Vec<MomentTrigger>,
        strength: f64,
    },
}

/// The live readings, for the settings' preview.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Readings {
    pub rate: f64,
    pub baseline: f64,
    pub threshold: f64,
    pub keyword_hits: u32,
    pub top_emote_count: u32,
}

/// The baseline: EWMA mean and variance of messages per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    pub mean: f64,
    pub var: f64,
    /// Seconds folded in (capped); velocity cannot fire before `warmup_s`.
    pub samples: u32,
}

impl Baseline {
    pub const EMPTY: Baseline = Baseline {
        mean: 0.0,
        var: 0.0,
        samples: 0,
    };

    /// Folds in one second. During warm-up (`samples < warmup`) it is a plain running mean and
    /// variance, so a channel that starts busy is learned in seconds; then an EWMA.
    fn update(&mut self, x: f64, half_life_s: f64, warmup: u32) {
        if self.samples == 0 {
            self.mean = x;
            self.var = 0.0;
        } else {
            let ewma = 1.0 - 0.5f64.powf(1.0 / half_life_s.max(1.0));
            let alpha = if self.samples < warmup {
                (1.0 / (self.samples as f64 + 1.0)).max(ewma)
            } else {
                ewma
            };
            let diff = x - self.mean;
            let incr = alpha * diff;
            self.mean += incr;
            self.var = (1.0 - alpha) * (self.var + diff * incr);
        }
        self.samples = self.samples.saturating_add(1).min(1_000_000);
    }
}

struct Open {
    last_active_ms: i64,
    triggers: Vec<MomentTrigger>,
    strength: f64,
    reported_strength: f64,
}

pub struct SpikeDetector {
    settings: MomentSettings,
    window: VecDeque<SecondSummary>,
    baseline: Baseline,
    open: Option<Open>,
    readings: Readings,
    /// The viewer count's previous reading, what a spike is measured against.
    last_viewers: Option<u32>,
}

impl SpikeDetector {
    pub fn new(settings: MomentSettings, baseline: Baseline) -> Self {
        Self {
            settings,
            window: VecDeque::new(),
            baseline,
            open: None,
            readings: Readings::default(),
            last_viewers: None,
        }
    }

    pub fn baseline(&self) -> Baseline {
        self.baseline
    }

    pub fn readings(&self) -> Readings {
        self.readings
    }

    pub fn settings(&self) -> &MomentSettings {
        &self.settings
    }

    pub fn set_settings(&mut self, settings: MomentSettings) {
        self.settings = settings;
    }

    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Folds in one second (seconds must come in order; gaps count as silent seconds).
    pub fn on_second(&mut self, s: SecondSummary) -> Vec<MomentEvent> {
        let now = s.second_ms;
        let window_s = self.settings.window_seconds.clamp(1, 600) as usize;
        let viewers = s.viewers;
        self.window.push_back(s);
        while self.window.len() > window_s {
            self.window.pop_front();
        }
        let mut triggers = self.triggers(now);
        if let Some(v) = viewers {
            triggers.extend(self.viewer_spike(v));
        }
        let mut out = Vec::new();
        if !triggers.is_empty() {
            let strength = triggers
                .iter()
                .map(|t| t.value / t.threshold.max(f64::MIN_POSITIVE))
                .fold(0.0, f64::max);
            match &mut self.open {
                None => {
                    self.open = Some(Open {
                        last_active_ms: now,
                        triggers: triggers.clone(),
                        strength,
                        reported_strength: strength,
                    });
                    out.push(MomentEvent::Opened {
                        started_ms: now,
                        triggers,
                        strength,
                    });
                }
                Some(open) => {
                    open.last_active_ms = now;
                    let grew_kinds = merge(&mut open.triggers, triggers);
                    open.strength = open.strength.max(strength);
                    if grew_kinds || open.strength >= open.reported_strength * 1.25 {
                        open.reported_strength = open.strength;
                        out.push(MomentEvent::Updated {
                            triggers: open.triggers.clone(),
                            strength: open.strength,
                        });
                    }
                }
            }
        } else if let Some(open) = &self.open {
            let gap_ms = self.settings.merge_gap_seconds as i64 * 1000;
            if now - open.last_active_ms >= gap_ms {
                let open = self.open.take().expect("checked");
                out.push(MomentEvent::Closed {
                    ended_ms: open.last_active_ms + 1000,
                    triggers: open.triggers,
                    strength: open.strength,
                });
            }
        }
        let last = self.window.back().map_or(0, |s| s.messages) as f64;
        if let VelocityRule::Baseline {
            half_life_seconds,
            warmup_seconds,
            ..
        } = self.settings.velocity
        {
            // Learn freely while warming up; afterwards a second counts at most up to the
            // threshold, so a burst barely moves the baseline.
            let clipped = if self.baseline.samples < warmup_seconds {
                last
            } else {
                last.min(self.readings.threshold)
            };
            self.baseline
                .update(clipped, half_life_seconds as f64, warmup_seconds);
        }
        out
    }

    /// The triggers active at the end of the window.
    fn triggers(&mut self, _now: i64) -> Vec<MomentTrigger> {
        let set = &self.settings;
        let window_s = self.window.len().max(1) as f64;
        let total: u64 = self.window.iter().map(|s| s.messages as u64).sum();
        let rate = total as f64 / set.window_seconds.max(1) as f64;
        let mut triggers = Vec::new();

        // Velocity.
        let (threshold, baseline, ready) = match set.velocity {
            VelocityRule::Fixed { per_second } => (per_second.max(0.01), None, true),
            VelocityRule::Baseline {
                sigmas,
                ratio,
                min_per_second,
                warmup_seconds,
                ..
            } => {
                let b = self.baseline;
                let t = (b.mean + sigmas * b.var.max(0.0).sqrt())
                    .max(b.mean * ratio)
                    .max(min_per_second);
                (t, Some(b.mean), b.samples >= warmup_seconds)
            }
        };
        // Velocity needs a full window of data and a warmed-up baseline.
        let full = window_s >= set.window_seconds.max(1) as f64;
        if ready && full && rate > threshold {
            let label = match baseline {
                Some(b) => format!("velocity {rate:.1}/s vs baseline {b:.1}/s"),
                None => format!("velocity {rate:.1}/s (threshold {threshold:.1}/s)"),
            };
            triggers.push(MomentTrigger {
                kind: TriggerKind::Velocity,
                label,
                name: None,
                value: rate,
                threshold,
                baseline,
            });
        }

        // Keywords: messages with any keyword, per keyword for the label.
        let mut per_keyword: HashMap<&str, u32> = HashMap::new();
        for s in &self.window {
            for (k, n) in &s.keywords {
                *per_keyword.entry(k.as_str()).or_default() += n;
            }
        }
        let hits: u32 = self.window.iter().map(|s| s.keyword_messages).sum();
        let mut top: Vec<(&str, u32)> = per_keyword.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        if set.keyword_threshold > 0 && hits >= set.keyword_threshold && !top.is_empty() {
            let (word, n) = top[0];
            triggers.push(MomentTrigger {
                kind: TriggerKind::Keyword,
                label: format!("{} ×{n}", word.to_uppercase()),
                name: Some(word.to_string()),
                value: hits as f64,
                threshold: set.keyword_threshold as f64,
                baseline: None,
            });
        }

        // Emote spam over the (shorter) emote window.
        let emote_s = set.emote_window_seconds.clamp(1, 600) as usize;
        let mut per_emote: HashMap<&str, u32> = HashMap::new();
        for s in self.window.iter().rev().take(emote_s) {
            for (e, n) in &s.emotes {
                *per_emote.entry(e.as_str()).or_default() += n;
            }
        }
        let top_emote = per_emote
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)));
        if let Some((emote, n)) = top_emote {
            if set.emote_threshold > 0 && n >= set.emote_threshold {
                triggers.push(MomentTrigger {
                    kind: TriggerKind::Emote,
                    label: format!("{emote} ×{n}"),
                    name: Some(emote.to_string()),
                    value: n as f64,
                    threshold: set.emote_threshold as f64,
                    baseline: None,
                });
            }
        }
        let mut support = SupportCounts::default();
        for s in &self.window {
            support.add(s.support);
        }
        triggers.extend(support_triggers(&set.support, &support));
        self.readings = Readings {
            rate,
            baseline: baseline.unwrap_or(0.0),
            threshold,
            keyword_hits: hits,
            top_emote_count: top_emote.map_or(0, |(_, n)| n),
        };
        triggers
    }
}

impl SpikeDetector {
    /// Takes a new viewer-count reading; a trigger when it jumped from the previous one.
    fn viewer_spike(&mut self, viewers: u32) -> Option<MomentTrigger> {
        let rule = self.settings.viewer_spike;
        let before = self.last_viewers.replace(viewers)?;
        if !(rule.ratio.is_finite() && rule.ratio > 0.0) {
            return None;
        }
        let threshold = (before as f64 * rule.ratio).max(before as f64 + rule.min_increase as f64);
        (viewers as f64 >= threshold && viewers > before).then(|| MomentTrigger {
            kind: TriggerKind::ViewerSpike,
            label: format!("viewers {before} → {viewers}"),
            name: None,
            value: viewers as f64,
            threshold: threshold.max(1.0),
            baseline: Some(before as f64),
        })
    }
}

/// The support signals at or past their thresholds, given the window's totals.
fn support_triggers(rules: &crate::api::SupportRules, sum: &SupportCounts) -> Vec<MomentTrigger> {
    let raids = |n: u32| if n == 1 { "raid" } else { "raids" };
    let candidates = [
        ("subs", rules.subs, sum.subs, format!("{} subs", sum.subs)),
        (
            "gifts",
            rules.gifts,
            sum.gifts,
            format!("{} gifted subs", sum.gifts),
        ),
        (
            "raid",
            rules.raid_viewers,
            if sum.raids > 0 { sum.raid_viewers } else { 0 },
            format!("{} with {} viewers", raids(sum.raids), sum.raid_viewers),
        ),
        ("bits", rules.bits, sum.bits, format!("{} bits", sum.bits)),
    ];
    candidates
        .into_iter()
        .filter(|(_, threshold, value, _)| *threshold > 0 && *value >= *threshold)
        .map(|(name, threshold, value, label)| MomentTrigger {
            kind: TriggerKind::Support,
            label,
            name: Some(name.to_string()),
            value: value as f64,
            threshold: threshold as f64,
            baseline: None,
        })
        .collect()
}

/// Merges `new` into `into`: per kind (per name for support, whose names are different
/// signals), the strongest reading wins. Returns whether a kind (or support name) was added.
fn merge(into: &mut Vec<MomentTrigger>, new: Vec<MomentTrigger>) -> bool {
    let mut added = false;
    let same = |a: &MomentTrigger, b: &MomentTrigger| {
        a.kind == b.kind && (a.kind != TriggerKind::Support || a.name == b.name)
    };
    for t in new {
        match into.iter_mut().find(|x| same(x, &t)) {
            Some(x) => {
                if t.value / t.threshold > x.value / x.threshold {
                    *x = t;
                }
            }
            None => {
                into.push(t);
                added = true;
            }
        }
    }
    added
}
