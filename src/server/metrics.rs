//! `GET /metrics`: Prometheus counters, gauges and a histogram, kept by following the core's
//! events (the same `CoreEvent`s the window gets), encoded by `prometheus-client`.
//!
//! Invariants: no label names a viewer, a channel or a prompt (cardinality stays bounded: the
//! labels are a platform, an outcome or a trigger kind); counters only go up. Events carry
//! running totals (a chat session's counters, the queue's counters), so each counter adds the
//! difference to the last total it saw: a missed event (the bus lagged) loses nothing, and a
//! total that goes back down (a new session) starts a new base.

use std::collections::{HashMap, HashSet};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::api::{
    ChatCounters, ChatPlatform, ChatSlot, ChatState, CoreEvent, ObsConnection, QueueCounters,
    RequestState, TriggerKind,
};

mod cohost;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Platform {
    platform: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Trigger {
    trigger: &'static str,
}

/// Every metric, and what is needed to turn running totals into increments.
pub struct Metrics {
    registry: Registry,
    messages: Family<Platform, Counter>,
    malformed: Family<Platform, Counter>,
    reconnects: Family<Platform, Counter>,
    requests: Family<Outcome, Counter>,
    replies_sent: Counter,
    replies_dropped: Counter,
    reply_limit_use: Gauge<f64, std::sync::atomic::AtomicU64>,
    generations: Family<Outcome, Counter>,
    generation_seconds: Histogram,
    degraded_activations: Counter,
    moments: Family<Trigger, Counter>,
    recording_bytes: Gauge,
    obs_connected: Gauge,
    cohost: cohost::CohostMetrics,
    // Bookkeeping (never exported).
    platform_of: HashMap<ChatSlot, &'static str>,
    chat_totals: HashMap<ChatSlot, ChatCounters>,
    queue_totals: QueueCounters,
    finished: HashSet<i32>,
    moments_seen: HashSet<i32>,
    degraded: bool,
    last_reply_ms: f64,
    replies_dropped_total: u32,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("streamcue");
        let messages = Family::<Platform, Counter>::default();
        let malformed = Family::<Platform, Counter>::default();
        let reconnects = Family::<Platform, Counter>::default();
        let requests = Family::<Outcome, Counter>::default();
        let replies_sent = Counter::default();
        let replies_dropped = Counter::default();
        let reply_limit_use = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        let generations = Family::<Outcome, Counter>::default();
        // 1 s … ~17 min: offline renders take seconds, remote GPU jobs minutes.
        let generation_seconds =
            Histogram::new([1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 1000.0]);
        let degraded_activations = Counter::default();
        let moments = Family::<Trigger, Counter>::default();
        let recording_bytes = Gauge::default();
        let obs_connected = Gauge::default();
        registry.register(
            "chat_messages",
            "Chat messages read, by platform",
            messages.clone(),
        );
        registry.register(
            "chat_malformed_lines",
            "Chat lines that could not be parsed, by platform",
            malformed.clone(),
        );
        registry.register(
            "chat_reconnects",
            "Chat reconnections, by platform",
            reconnects.clone(),
        );
        registry.register(
            "requests",
            "!anime requests by outcome (accepted, cooldown, queue_full, blocked, moderated, paused, usage)",
            requests.clone(),
        );
        registry.register(
            "chat_replies_sent",
            "Chat replies StreamCue sent",
            replies_sent.clone(),
        );
        registry.register(
            "chat_replies_dropped",
            "Chat replies StreamCue dropped (chat read-only or gone, or too many waiting)",
            replies_dropped.clone(),
        );
        registry.register(
            "chat_reply_limit_use_ratio",
            "Replies inside the outgoing window divided by the limit (1 = at the limit)",
            reply_limit_use.clone(),
        );
        registry.register(
            "generations",
            "Finished generations by outcome (ready, failed, interrupted)",
            generations.clone(),
        );
        registry.register(
            "generation_duration_seconds",
            "Time to generate a clip that became ready",
            generation_seconds.clone(),
        );
        registry.register(
            "degraded_activations",
            "Times the generator entered degraded mode",
            degraded_activations.clone(),
        );
        registry.register(
            "moments",
            "Chat moments by the kind of their first trigger",
            moments.clone(),
        );
        registry.register(
            "recording_bytes",
            "Size of the recording being written (0 when not recording)",
            recording_bytes.clone(),
        );
        registry.register(
            "obs_connected",
            "1 while OBS is connected",
            obs_connected.clone(),
        );
        let cohost = cohost::CohostMetrics::register(&mut registry);
        Self {
            registry,
            cohost,
            messages,
            malformed,
            reconnects,
            requests,
            replies_sent,
            replies_dropped,
            reply_limit_use,
            generations,
            generation_seconds,
            degraded_activations,
            moments,
            recording_bytes,
            obs_connected,
            platform_of: HashMap::new(),
            chat_totals: HashMap::new(),
            queue_totals: QueueCounters::default(),
            finished: HashSet::new(),
            moments_seen: HashSet::new(),
            degraded: false,
            last_reply_ms: 0.0,
            replies_dropped_total: 0,
        }
    }

    pub fn apply(&mut self, event: &CoreEvent) {
        match event {
            CoreEvent::ChatState { slot, state } => {
                if let Some(p) = platform(state) {
                    self.platform_of.insert(*slot, p);
                }
            }
            CoreEvent::Velocity { slot, counters, .. } => self.on_chat_totals(*slot, *counters),
            CoreEvent::QueueCounters { counters } => self.on_queue_totals(*counters),
            CoreEvent::ReplyLimits { limits } => {
                let new = limits
                    .sent_at_ms
                    .iter()
                    .filter(|&&t| t > self.last_reply_ms)
                    .count();
                self.replies_sent.inc_by(new as u64);
                // A running total: count what it grew by.
                let dropped = limits.dropped.saturating_sub(self.replies_dropped_total);
                self.replies_dropped.inc_by(u64::from(dropped));
                self.replies_dropped_total = self.replies_dropped_total.max(limits.dropped);
                if let Some(&last) = limits.sent_at_ms.last() {
                    self.last_reply_ms = self.last_reply_ms.max(last);
                }
                let limit = f64::from(limits.limit.max(1));
                self.reply_limit_use
                    .set(limits.sent_at_ms.len() as f64 / limit);
            }
            CoreEvent::QueueItem { item } => {
                let outcome = match item.state {
                    RequestState::Ready => "ready",
                    RequestState::Failed => "failed",
                    RequestState::Interrupted => "interrupted",
                    _ => {
                        // Retried or re-approved: it may finish again.
                        self.finished.remove(&item.id);
                        return;
                    }
                };
                if self.finished.insert(item.id) {
                    self.generations.get_or_create(&Outcome { outcome }).inc();
                    if let (RequestState::Ready, Some(ms)) = (item.state, item.generation_ms) {
                        self.generation_seconds.observe(ms / 1000.0);
                    }
                }
            }
            CoreEvent::Generator { status } => {
                let now = status.degraded.is_some();
                if now && !self.degraded {
                    self.degraded_activations.inc();
                }
                self.degraded = now;
            }
            CoreEvent::Moment { moment } if self.moments_seen.insert(moment.id) => {
                let trigger = moment
                    .triggers
                    .first()
                    .map_or(TriggerKind::Velocity, |t| t.kind)
                    .as_str();
                self.moments.get_or_create(&Trigger { trigger }).inc();
            }
            CoreEvent::Recorder { state } => {
                self.recording_bytes.set(state.bytes.max(0.0) as i64);
            }
            CoreEvent::Obs { state } => {
                let up = matches!(state.connection, ObsConnection::Connected { .. });
                self.obs_connected.set(i64::from(up));
            }
            CoreEvent::Cohost { status } => self.cohost.apply(status),
            _ => {}
        }
    }

    fn on_chat_totals(&mut self, slot: ChatSlot, now: ChatCounters) {
        let before = self.chat_totals.insert(slot, now).unwrap_or_default();
        let platform = self.platform_of.get(&slot).copied().unwrap_or(match slot {
            ChatSlot::Main => "twitch",
            ChatSlot::Kick => "kick",
        });
        let label = Platform { platform };
        self.messages
            .get_or_create(&label)
            .inc_by(increase(before.messages, now.messages));
        self.malformed
            .get_or_create(&label)
            .inc_by(increase(before.malformed_lines, now.malformed_lines));
        self.reconnects
            .get_or_create(&label)
            .inc_by(increase(before.reconnects, now.reconnects));
    }

    fn on_queue_totals(&mut self, now: QueueCounters) {
        let before = std::mem::replace(&mut self.queue_totals, now);
        for (outcome, b, n) in [
            ("accepted", before.accepted, now.accepted),
            ("cooldown", before.cooldown_rejects, now.cooldown_rejects),
            ("queue_full", before.overflow_rejects, now.overflow_rejects),
            ("blocked", before.blocked_prompts, now.blocked_prompts),
            ("moderated", before.moderated, now.moderated),
            ("paused", before.paused_rejects, now.paused_rejects),
            ("usage", before.usage_replies, now.usage_replies),
        ] {
            let by = increase(b, n);
            if by > 0 {
                self.requests.get_or_create(&Outcome { outcome }).inc_by(by);
            }
        }
    }

    /// The text exposition (OpenMetrics 1.0, which Prometheus scrapes).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The classic Prometheus text format (0.0.4) of an OpenMetrics exposition, for clients that
/// do not ask for OpenMetrics (curl, `promtool check metrics`): a counter family is named with
/// its `_total` suffix, as its samples are, and there is no `# EOF`.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// What a running total grew by; a total below the last one is a new session's (new base).
fn increase(before: u32, now: u32) -> u64 {
    if now >= before {
        u64::from(now - before)
    } else {
        u64::from(now)
    }
}

fn platform(state: &ChatState) -> Option<&'static str> {
    let p = match state {
        ChatState::Disconnected => return None,
        ChatState::Connecting { platform, .. }
        | ChatState::Connected { platform, .. }
        | ChatState::Reconnecting { platform, .. }
        | ChatState::Failed { platform, .. } => platform,
    };
    Some(match p {
        ChatPlatform::Demo => "demo",
        ChatPlatform::Twitch => "twitch",
        ChatPlatform::Kick => "kick",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::VelocityPoint;

    fn velocity(slot: ChatSlot, messages: u32) -> CoreEvent {
        CoreEvent::Velocity {
            slot,
            point: VelocityPoint {
                second: 0.0,
                count: 0,
            },
            counters: ChatCounters {
                messages,
                ..ChatCounters::default()
            },
        }
    }

    fn value(text: &str, sample: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(sample).map(str::trim))
            .unwrap_or_else(|| panic!("no {sample} in\n{text}"))
            .parse()
            .unwrap()
    }

    #[test]
    fn running_totals_become_counters_that_only_go_up() {
        let mut m = Metrics::new();
        m.apply(&CoreEvent::ChatState {
            slot: ChatSlot::Main,
            state: ChatState::Connected {
                platform: ChatPlatform::Demo,
                channel: "demo".into(),
                session_id: 1,
            },
        });
        for total in [10, 25, 40] {
            m.apply(&velocity(ChatSlot::Main, total));
        }
        // A new session starts from zero: its messages add on top.
        m.apply(&velocity(ChatSlot::Main, 5));
        m.apply(&velocity(ChatSlot::Kick, 7));
        let text = m.encode();
        assert_eq!(
            value(&text, "streamcue_chat_messages_total{platform=\"demo\"}"),
            45.0
        );
        assert_eq!(
            value(&text, "streamcue_chat_messages_total{platform=\"kick\"}"),
            7.0
        );
    }

    #[test]
    fn cohost_totals_and_latency_are_exported_without_counting_twice() {
        let mut m = Metrics::new();
        let status = |answered: u32, edited: u32, p50: f64| CoreEvent::Cohost {
            status: Box::new(crate::api::CohostStatus {
                counters: crate::api::CohostCounters {
                    answered,
                    drafts_edited: edited,
                    prompt_tokens: 10 * answered,
                    ..Default::default()
                },
                latency_p50_ms: p50,
                latency_p95_ms: 2.0 * p50,
                ..Default::default()
            }),
        };
        m.apply(&status(2, 0, 300.0));
        m.apply(&status(3, 1, 500.0));
        // The same status again (a resync) adds nothing.
        m.apply(&status(3, 1, 500.0));
        let text = m.encode();
        assert_eq!(
            value(
                &text,
                "streamcue_cohost_answers_total{outcome=\"answered\"}"
            ),
            3.0
        );
        assert_eq!(
            value(&text, "streamcue_cohost_replies_total{outcome=\"edited\"}"),
            1.0
        );
        assert_eq!(
            value(&text, "streamcue_cohost_tokens_total{kind=\"prompt\"}"),
            30.0
        );
        assert_eq!(value(&text, "streamcue_cohost_latency_p95_seconds"), 1.0);
    }

    #[test]
    fn replies_sent_and_dropped_are_counted_once_from_the_announced_limits() {
        let mut m = Metrics::new();
        let limits = |sent: &[f64], dropped: u32| CoreEvent::ReplyLimits {
            limits: crate::api::ReplyLimits {
                sent_at_ms: sent.to_vec(),
                limit: 20,
                window_ms: 30_000,
                read_only: false,
                dropped,
            },
        };
        m.apply(&limits(&[1.0], 0));
        m.apply(&limits(&[1.0, 2.0], 3));
        // The same announcement again (a snapshot's worth) adds nothing.
        m.apply(&limits(&[1.0, 2.0], 3));
        m.apply(&limits(&[2.0, 5.0], 4));
        let text = m.encode();
        assert_eq!(value(&text, "streamcue_chat_replies_sent_total"), 3.0);
        assert_eq!(value(&text, "streamcue_chat_replies_dropped_total"), 4.0);
    }

    #[test]
    fn queue_outcomes_and_finished_generations_are_counted_once() {
        let mut m = Metrics::new();
        let mut c = QueueCounters {
            accepted: 2,
            cooldown_rejects: 5,
            ..QueueCounters::default()
        };
        m.apply(&CoreEvent::QueueCounters { counters: c });
        c.accepted = 3;
        m.apply(&CoreEvent::QueueCounters { counters: c });
        let text = m.encode();
        assert_eq!(
            value(&text, "streamcue_requests_total{outcome=\"accepted\"}"),
            3.0
        );
        assert_eq!(
            value(&text, "streamcue_requests_total{outcome=\"cooldown\"}"),
            5.0
        );
        assert!(!text.contains("user"), "no per-user label: {text}");

        // A request announced ready twice (e.g. again after a resync) counts once; after a
        // retry it may finish again.
        let item = |state| crate::api::QueueItem {
            id: 7,
            user_login: "viewer".into(),
            display_name: "Viewer".into(),
            prompt: "a cat".into(),
            state,
            reason: None,
            position: 0,
            created_at_ms: 0.0,
            updated_at_ms: 0.0,
            file_path: None,
            attempts: 1,
            generation_ms: Some(4_000.0),
        };
        for state in [
            RequestState::Ready,
            RequestState::Ready,
            RequestState::Approved,
            RequestState::Failed,
        ] {
            m.apply(&CoreEvent::QueueItem { item: item(state) });
        }
        let text = m.encode();
        assert_eq!(
            value(&text, "streamcue_generations_total{outcome=\"ready\"}"),
            1.0
        );
        assert_eq!(
            value(&text, "streamcue_generations_total{outcome=\"failed\"}"),
            1.0
        );
        assert_eq!(
            value(&text, "streamcue_generation_duration_seconds_count"),
            1.0
        );
        assert_eq!(
            value(&text, "streamcue_generation_duration_seconds_sum"),
            4.0
        );
        assert!(
            !text.contains("viewer") && !text.contains("a cat"),
            "{text}"
        );
    }

    #[test]
    fn the_classic_text_format_names_counter_families_with_total() {
        let om = "# HELP streamcue_requests Requests.\n# TYPE streamcue_requests counter\nstreamcue_requests_total{outcome=\"accepted\"} 3\n# HELP streamcue_obs_connected Up.\n# TYPE streamcue_obs_connected gauge\nstreamcue_obs_connected 1\n# EOF\n";
        assert_eq!(
            to_prometheus_text(om),
            "# HELP streamcue_requests_total Requests.\n# TYPE streamcue_requests_total counter\nstreamcue_requests_total{outcome=\"accepted\"} 3\n# HELP streamcue_obs_connected Up.\n# TYPE streamcue_obs_connected gauge\nstreamcue_obs_connected 1\n"
        );
    }
}
