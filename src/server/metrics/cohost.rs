//! The co-host's metrics: its all-time counters (kept in SQLite, so they only ever grow) and
//! the latency of its recent answers, from its `Cohost` status events. No per-viewer label.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::api::{CohostCounters, CohostStatus};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: &'static str,
}

pub(super) struct CohostMetrics {
    answers: Family<Outcome, Counter>,
    drafts: Family<Outcome, Counter>,
    tokens: Family<Kind, Counter>,
    lines_dropped: Counter,
    latency_p50: Gauge<f64, std::sync::atomic::AtomicU64>,
    latency_p95: Gauge<f64, std::sync::atomic::AtomicU64>,
    last: CohostCounters,
}

impl CohostMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let m = Self {
            answers: Family::default(),
            drafts: Family::default(),
            tokens: Family::default(),
            lines_dropped: Counter::default(),
            latency_p50: Gauge::default(),
            latency_p95: Gauge::default(),
            last: CohostCounters::default(),
        };
        registry.register(
            "cohost_answers",
            "The co-host's requests to the model by outcome (answered, failed, rejected by the processor, limited by the chat limit), all time",
            m.answers.clone(),
        );
        registry.register(
            "cohost_replies",
            "The co-host's replies by what happened to them (draft sent, edited then sent, discarded, expired, sent in auto mode), all time",
            m.drafts.clone(),
        );
        registry.register(
            "cohost_tokens",
            "Tokens the model server reported (prompt, completion), all time",
            m.tokens.clone(),
        );
        registry.register(
            "cohost_lines_dropped",
            "Chat lines the co-host did not take in because it was behind, since StreamCue started",
            m.lines_dropped.clone(),
        );
        registry.register(
            "cohost_latency_p50_seconds",
            "The model's median answer time over the recent answers",
            m.latency_p50.clone(),
        );
        registry.register(
            "cohost_latency_p95_seconds",
            "The model's 95th-percentile answer time over the recent answers",
            m.latency_p95.clone(),
        );
        m
    }

    pub(super) fn apply(&mut self, status: &CohostStatus) {
        let (b, n) = (self.last.clone(), status.counters.clone());
        let grow = |before: u32, now: u32| u64::from(now.saturating_sub(before));
        for (outcome, before, now) in [
            ("answered", b.answered, n.answered),
            ("failed", b.failed, n.failed),
            ("rejected", b.rejected, n.rejected),
            ("limited", b.limited, n.limited),
        ] {
            self.answers
                .get_or_create(&Outcome { outcome })
                .inc_by(grow(before, now));
        }
        for (outcome, before, now) in [
            ("sent", b.drafts_sent, n.drafts_sent),
            ("edited", b.drafts_edited, n.drafts_edited),
            ("discarded", b.drafts_discarded, n.drafts_discarded),
            ("expired", b.drafts_expired, n.drafts_expired),
            ("auto", b.auto_sent, n.auto_sent),
        ] {
            self.drafts
                .get_or_create(&Outcome { outcome })
                .inc_by(grow(before, now));
        }
        for (kind, before, now) in [
            ("prompt", b.prompt_tokens, n.prompt_tokens),
            ("completion", b.completion_tokens, n.completion_tokens),
        ] {
            self.tokens
                .get_or_create(&Kind { kind })
                .inc_by(grow(before, now));
        }
        self.lines_dropped
            .inc_by(grow(b.lines_dropped, n.lines_dropped));
        // Totals never go down; keep the highest seen so a stale event cannot count twice.
        self.last = CohostCounters {
            answered: b.answered.max(n.answered),
            failed: b.failed.max(n.failed),
            rejected: b.rejected.max(n.rejected),
            limited: b.limited.max(n.limited),
            drafts_sent: b.drafts_sent.max(n.drafts_sent),
            drafts_edited: b.drafts_edited.max(n.drafts_edited),
            drafts_discarded: b.drafts_discarded.max(n.drafts_discarded),
            drafts_expired: b.drafts_expired.max(n.drafts_expired),
            auto_sent: b.auto_sent.max(n.auto_sent),
            prompt_tokens: b.prompt_tokens.max(n.prompt_tokens),
            completion_tokens: b.completion_tokens.max(n.completion_tokens),
            lines_dropped: b.lines_dropped.max(n.lines_dropped),
        };
        self.latency_p50
            .set(status.latency_p50_ms.max(0.0) / 1000.0);
        self.latency_p95
            .set(status.latency_p95_ms.max(0.0) / 1000.0);
    }
}
