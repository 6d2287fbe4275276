//! The `Cohost` store: the co-host's own replies and its running totals. Only the co-host
//! actor writes these. What viewers said is never stored (the questions and the context live
//! in the actor's memory only).

use std::collections::HashMap;

use sqlx::SqlitePool;

use super::write_tx::WriteTx;
use super::DbError;

/// A counter of the co-host (`cohost_counters.name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CohostCounter {
    Answered,
    Failed,
    Rejected,
    PromptTokens,
    CompletionTokens,
    DraftsSent,
    DraftsEdited,
    DraftsDiscarded,
    DraftsExpired,
    AutoSent,
    Limited,
}

impl CohostCounter {
    pub const ALL: [CohostCounter; 11] = [
        CohostCounter::Answered,
        CohostCounter::Failed,
        CohostCounter::Rejected,
        CohostCounter::PromptTokens,
        CohostCounter::CompletionTokens,
        CohostCounter::DraftsSent,
        CohostCounter::DraftsEdited,
        CohostCounter::DraftsDiscarded,
        CohostCounter::DraftsExpired,
        CohostCounter::AutoSent,
        CohostCounter::Limited,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CohostCounter::Answered => "answered",
            CohostCounter::Failed => "failed",
            CohostCounter::Rejected => "rejected",
            CohostCounter::PromptTokens => "prompt_tokens",
            CohostCounter::CompletionTokens => "completion_tokens",
            CohostCounter::DraftsSent => "drafts_sent",
            CohostCounter::DraftsEdited => "drafts_edited",
            CohostCounter::DraftsDiscarded => "drafts_discarded",
            CohostCounter::DraftsExpired => "drafts_expired",
            CohostCounter::AutoSent => "auto_sent",
            CohostCounter::Limited => "limited",
        }
    }
}

/// The totals as stored (a missing counter is 0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CohostTotals(pub HashMap<CohostCounter, u64>);

impl CohostTotals {
    pub fn get(&self, c: CohostCounter) -> u64 {
        self.0.get(&c).copied().unwrap_or(0)
    }

    pub fn add(&mut self, c: CohostCounter, n: u64) {
        *self.0.entry(c).or_default() += n;
    }
}

/// A reply the co-host sent, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohostReplyRow {
    pub id: i64,
    pub slot: String,
    pub channel: String,
    pub viewer: String,
    pub trigger: String,
    pub reply: String,
    /// `draft`, `edited` or `auto`.
    pub how: String,
    pub latency_ms: i64,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub sent_ms: i64,
}

/// The co-host's replies and counters (`db.cohost()`).
#[derive(Debug, Clone, Copy)]
pub struct Cohost<'a> {
    pub(super) pool: &'a SqlitePool,
}

impl Cohost<'_> {
    pub async fn totals(self) -> Result<CohostTotals, DbError> {
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT name, value FROM cohost_counters")
            .fetch_all(self.pool)
            .await?;
        let mut totals = CohostTotals::default();
        for (name, value) in rows {
            if let Some(c) = CohostCounter::ALL.into_iter().find(|c| c.name() == name) {
                totals.add(c, value.max(0) as u64);
            }
        }
        Ok(totals)
    }

    /// Adds to counters in one transaction.
    pub async fn bump(self, counts: &[(CohostCounter, u64)]) -> Result<(), DbError> {
        let mut tx = WriteTx::begin(self.pool).await?;
        bump_in(&mut tx, counts).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a sent reply (`id` is ignored) and its counters together; returns the row's id.
    pub async fn record_sent(
        self,
        row: &CohostReplyRow,
        counts: &[(CohostCounter, u64)],
    ) -> Result<i64, DbError> {
        let mut tx = WriteTx::begin(self.pool).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO cohost_replies (slot, channel, viewer, trigger, reply, how, latency_ms, \
             prompt_tokens, completion_tokens, sent_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(&row.slot)
        .bind(&row.channel)
        .bind(&row.viewer)
        .bind(&row.trigger)
        .bind(&row.reply)
        .bind(&row.how)
        .bind(row.latency_ms)
        .bind(row.prompt_tokens)
        .bind(row.completion_tokens)
        .bind(row.sent_ms)
        .fetch_one(&mut *tx)
        .await?;
        bump_in(&mut tx, counts).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The latest replies, newest first.
    pub async fn recent_replies(self, limit: u32) -> Result<Vec<CohostReplyRow>, DbError> {
        let rows: Vec<ReplyTuple> = sqlx::query_as(
            "SELECT id, slot, channel, viewer, trigger, reply, how, latency_ms, prompt_tokens, \
             completion_tokens, sent_ms FROM cohost_replies ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(reply_row).collect())
    }
}

type ReplyTuple = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
);

fn reply_row(t: ReplyTuple) -> CohostReplyRow {
    CohostReplyRow {
        id: t.0,
        slot: t.1,
        channel: t.2,
        viewer: t.3,
        trigger: t.4,
        reply: t.5,
        how: t.6,
        latency_ms: t.7,
        prompt_tokens: t.8,
        completion_tokens: t.9,
        sent_ms: t.10,
    }
}

async fn bump_in(
    conn: &mut sqlx::SqliteConnection,
    counts: &[(CohostCounter, u64)],
) -> Result<(), DbError> {
    for (c, n) in counts.iter().filter(|(_, n)| *n > 0) {
        sqlx::query(
            "INSERT INTO cohost_counters (name, value) VALUES (?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
        )
        .bind(c.name())
        .bind(*n as i64)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
