//! The `Sessions` store: chat sessions (when the streamer watched which channel, and its
//! totals). Only the chat actor writes these.

use sqlx::{Row, SqlitePool};

use super::DbError;
use crate::api::ChatCounters;

/// The platform of a session, as stored.
pub use crate::api::ChatPlatform as Platform;

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Demo => "demo",
            Platform::Twitch => "twitch",
            Platform::Kick => "kick",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChatSessionRow {
    pub id: i64,
    pub platform: String,
    pub channel: String,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub end_reason: Option<String>,
    pub messages: i64,
    pub malformed_lines: i64,
    pub reconnects: i64,
    /// Viewers' support (counts only).
    pub subs: i64,
    pub gifts: i64,
    pub raids: i64,
    pub raid_viewers: i64,
    pub bits: i64,
}

/// A session with its moment count, for the history list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummaryRow {
    pub id: i64,
    pub platform: String,
    pub channel: String,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub messages: i64,
    pub moments: i64,
}

const SUMMARY_SELECT: &str =
    "SELECT s.id, s.platform, s.channel, s.started_at_ms, s.ended_at_ms, s.messages, \
     (SELECT COUNT(*) FROM moments m WHERE m.session_id = s.id) AS moments \
     FROM chat_sessions s";

fn summary(r: &sqlx::sqlite::SqliteRow) -> Result<SessionSummaryRow, DbError> {
    Ok(SessionSummaryRow {
        id: r.try_get("id")?,
        platform: r.try_get("platform")?,
        channel: r.try_get("channel")?,
        started_at_ms: r.try_get("started_at_ms")?,
        ended_at_ms: r.try_get("ended_at_ms")?,
        messages: r.try_get("messages")?,
        moments: r.try_get("moments")?,
    })
}

/// The `SET` list for a session's running totals; [`bind_counters`] binds them in this order.
pub(super) const COUNTERS_SET: &str = "messages = ?, malformed_lines = ?, reconnects = ?, \
     subs = ?, gifts = ?, raids = ?, raid_viewers = ?, bits = ?";

/// Binds `counters` for [`COUNTERS_SET`].
pub(super) fn bind_counters<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    c: ChatCounters,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    query
        .bind(c.messages as i64)
        .bind(c.malformed_lines as i64)
        .bind(c.reconnects as i64)
        .bind(c.support.subs as i64)
        .bind(c.support.gifts as i64)
        .bind(c.support.raids as i64)
        .bind(c.support.raid_viewers as i64)
        .bind(c.support.bits as i64)
}

/// Chat sessions (`db.sessions()`).
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    pub(super) pool: &'a SqlitePool,
}

impl Sessions<'_> {
    pub async fn start(
        self,
        platform: Platform,
        channel: &str,
        started_at_ms: i64,
    ) -> Result<i64, DbError> {
        let id = sqlx::query_scalar(
            "INSERT INTO chat_sessions (platform, channel, started_at_ms) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(platform.as_str())
        .bind(channel)
        .bind(started_at_ms)
        .fetch_one(self.pool)
        .await?;
        Ok(id)
    }

    pub async fn end(
        self,
        id: i64,
        ended_at_ms: i64,
        reason: &str,
        counters: ChatCounters,
    ) -> Result<(), DbError> {
        let sql = format!(
            "UPDATE chat_sessions SET ended_at_ms = ?, end_reason = ?, {COUNTERS_SET} WHERE id = ?"
        );
        let query = sqlx::query(&sql).bind(ended_at_ms).bind(reason);
        bind_counters(query, counters)
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Sessions left open by a crash are closed as `interrupted` at their last recorded second.
    pub async fn close_interrupted(self) -> Result<u64, DbError> {
        let done = sqlx::query(
            "UPDATE chat_sessions SET end_reason = 'interrupted', ended_at_ms = COALESCE( \
                 (SELECT (MAX(minute) + 1) * 60000 FROM velocity_minutes WHERE session_id = chat_sessions.id), \
                 started_at_ms) \
             WHERE ended_at_ms IS NULL",
        )
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn get(self, id: i64) -> Result<Option<ChatSessionRow>, DbError> {
        Ok(sqlx::query_as("SELECT * FROM chat_sessions WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool)
            .await?)
    }

    pub async fn all(self) -> Result<Vec<ChatSessionRow>, DbError> {
        Ok(sqlx::query_as("SELECT * FROM chat_sessions ORDER BY id")
            .fetch_all(self.pool)
            .await?)
    }

    /// The latest sessions, newest first, with their moment counts.
    pub async fn summaries(self, limit: i64) -> Result<Vec<SessionSummaryRow>, DbError> {
        let rows = sqlx::query(&format!(
            "{SUMMARY_SELECT} ORDER BY s.started_at_ms DESC, s.id DESC LIMIT ?"
        ))
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(summary).collect()
    }

    pub async fn summary(self, id: i64) -> Result<Option<SessionSummaryRow>, DbError> {
        let row = sqlx::query(&format!("{SUMMARY_SELECT} WHERE s.id = ?"))
            .bind(id)
            .fetch_optional(self.pool)
            .await?;
        row.as_ref().map(summary).transpose()
    }
}
