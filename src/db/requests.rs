//! The `Requests` store: viewer requests, cooldowns and queue counters. The queue actor
//! writes these; the generation worker moves requests only through [`super::Generations`].

use sqlx::{Row, SqlitePool};

use super::{DbError, WriteTx};
use crate::api::{QueueCounters, RequestState};

/// A viewer request as stored (times in Unix ms). The window's `RequestRow` is made from it
/// at the API edge.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow {
    pub id: i64,
    /// The chat channel it came from ("" for requests made outside chat).
    pub channel: String,
    pub user_login: String,
    pub display_name: String,
    pub prompt: String,
    pub state: RequestState,
    /// Why it was skipped, failed or interrupted.
    pub reason: Option<String>,
    /// Order among waiting requests (smaller first).
    pub position: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// The finished clip (state `ready` or `shown`).
    pub file_path: Option<String>,
    /// Attempts (or renders) the latest generation took; 0 before one started.
    pub attempts: u32,
    /// How long the latest successful generation took.
    pub generation_ms: Option<i64>,
}

/// A request about to be accepted.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub session_id: Option<i64>,
    pub channel: String,
    pub user_login: String,
    pub display_name: String,
    pub message_id: Option<String>,
    pub prompt: String,
    pub state: RequestState,
}

/// Names of the counters in `queue_counters`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueCounter {
    Accepted,
    CooldownRejects,
    OverflowRejects,
    BlockedPrompts,
    UsageReplies,
    Approved,
    Skipped,
    Moderated,
    PausedRejects,
}

impl QueueCounter {
    fn name(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::CooldownRejects => "cooldown_rejects",
            Self::OverflowRejects => "overflow_rejects",
            Self::BlockedPrompts => "blocked_prompts",
            Self::UsageReplies => "usage_replies",
            Self::Approved => "approved",
            Self::Skipped => "skipped",
            Self::Moderated => "moderated",
            Self::PausedRejects => "paused_rejects",
        }
    }
}

pub(super) const COLUMNS: &str = "id, channel, user_login, display_name, prompt, state, reason, \
     position, created_at_ms, updated_at_ms, file_path, attempts, generation_ms";

pub(super) fn item(row: &sqlx::sqlite::SqliteRow) -> Result<RequestRow, DbError> {
    let state: String = row.try_get("state")?;
    Ok(RequestRow {
        id: row.try_get("id")?,
        channel: row.try_get("channel")?,
        user_login: row.try_get("user_login")?,
        display_name: row.try_get("display_name")?,
        prompt: row.try_get("prompt")?,
        state: RequestState::parse(&state).unwrap_or(RequestState::Interrupted),
        reason: row.try_get("reason")?,
        position: row.try_get("position")?,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
        file_path: row.try_get("file_path")?,
        attempts: row.try_get::<i64, _>("attempts")?.clamp(0, u32::MAX as i64) as u32,
        generation_ms: row.try_get("generation_ms")?,
    })
}

/// Requests, cooldowns and queue counters (`db.requests()`).
#[derive(Debug, Clone, Copy)]
pub struct Requests<'a> {
    pub(super) pool: &'a SqlitePool,
}

impl Requests<'_> {
    /// Accepts a request: inserts it at the end of the queue, starts the viewer's cooldown and
    /// counts it, in one transaction.
    pub async fn accept(self, new: &NewRequest, now_ms: i64) -> Result<RequestRow, DbError> {
        let mut tx = WriteTx::begin(self.pool).await?;
        let position: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM requests")
                .fetch_one(&mut *tx)
                .await?;
        let row = sqlx::query(&format!(
            "INSERT INTO requests (session_id, channel, user_login, display_name, message_id, prompt, \
             state, position, created_at_ms, updated_at_ms, approved_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING {COLUMNS}"
        ))
        .bind(new.session_id)
        .bind(&new.channel)
        .bind(&new.user_login)
        .bind(&new.display_name)
        .bind(&new.message_id)
        .bind(&new.prompt)
        .bind(new.state.as_str())
        .bind(position)
        .bind(now_ms)
        .bind(now_ms)
        .bind((new.state == RequestState::Approved).then_some(now_ms))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO cooldowns (user_login, last_accepted_ms) VALUES (?, ?) \
             ON CONFLICT (user_login) DO UPDATE SET last_accepted_ms = excluded.last_accepted_ms",
        )
        .bind(&new.user_login)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        bump(&mut tx, new.session_id.unwrap_or(0), QueueCounter::Accepted).await?;
        if new.state == RequestState::Approved {
            bump(&mut tx, new.session_id.unwrap_or(0), QueueCounter::Approved).await?;
        }
        tx.commit().await?;
        item(&row)
    }

    pub async fn get(self, id: i64) -> Result<Option<RequestRow>, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM requests WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool)
            .await?;
        row.as_ref().map(item).transpose()
    }

    /// Moves a request from state `from` to `to` (with a reason), returning it as stored;
    /// `None` when it is no longer in `from` (another actor changed it meanwhile).
    pub async fn set_state(
        self,
        id: i64,
        from: RequestState,
        to: RequestState,
        reason: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<RequestRow>, DbError> {
        let row = sqlx::query(&format!(
            "UPDATE requests SET state = ?, reason = ?, updated_at_ms = ?, \
             approved_at_ms = CASE WHEN ? = 'approved' THEN ? ELSE approved_at_ms END \
             WHERE id = ? AND state = ? RETURNING {COLUMNS}"
        ))
        .bind(to.as_str())
        .bind(reason)
        .bind(now_ms)
        .bind(to.as_str())
        .bind(now_ms)
        .bind(id)
        .bind(from.as_str())
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(item).transpose()
    }

    /// Waiting items (pending, approved), in queue order.
    pub async fn waiting(self) -> Result<Vec<RequestRow>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM requests WHERE state IN ('pending', 'approved') ORDER BY position, id"
        ))
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(item).collect()
    }

    /// How many items wait (pending, approved).
    pub async fn waiting_count(self) -> Result<usize, DbError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM requests WHERE state IN ('pending', 'approved')",
        )
        .fetch_one(self.pool)
        .await?;
        Ok(n.max(0) as usize)
    }

    /// Gives the waiting items the positions 1..n in the order of `ids`; returns them.
    pub async fn reorder_waiting(
        self,
        ids: &[i64],
        now_ms: i64,
    ) -> Result<Vec<RequestRow>, DbError> {
        let mut tx = WriteTx::begin(self.pool).await?;
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let row = sqlx::query(&format!(
                "UPDATE requests SET position = ?, updated_at_ms = ? WHERE id = ? RETURNING {COLUMNS}"
            ))
            .bind(i as i64 + 1)
            .bind(now_ms)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            out.push(item(&row)?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Active items in queue order, then the `recent` most recently finished ones.
    pub async fn listed(self, recent: i64) -> Result<Vec<RequestRow>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM (\
               SELECT *, 0 AS grp FROM requests WHERE state IN ('pending', 'approved', 'generating', 'ready') \
               UNION ALL \
               SELECT * FROM (SELECT *, 1 AS grp FROM requests \
                 WHERE state IN ('shown', 'skipped', 'failed', 'interrupted') \
                 ORDER BY updated_at_ms DESC, id DESC LIMIT ?)) \
             ORDER BY grp, CASE grp WHEN 0 THEN position ELSE -updated_at_ms END, id"
        ))
        .bind(recent)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(item).collect()
    }

    /// The waiting requests of one viewer.
    pub async fn waiting_for_user(self, user_login: &str) -> Result<Vec<RequestRow>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM requests WHERE user_login = ? AND state IN ('pending', 'approved') \
             ORDER BY position, id"
        ))
        .bind(user_login)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(item).collect()
    }

    /// The waiting request made by a chat message, if any.
    pub async fn waiting_for_message(
        self,
        message_id: &str,
    ) -> Result<Option<RequestRow>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM requests WHERE message_id = ? AND state IN ('pending', 'approved')"
        ))
        .bind(message_id)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(item).transpose()
    }

    pub async fn last_accepted_ms(self, user_login: &str) -> Result<Option<i64>, DbError> {
        Ok(
            sqlx::query_scalar("SELECT last_accepted_ms FROM cooldowns WHERE user_login = ?")
                .bind(user_login)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// Viewers whose last accepted request is later than `since_ms`, with its time: the latest
    /// `limit`, latest first.
    pub async fn running_cooldowns(
        self,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, DbError> {
        Ok(sqlx::query_as(
            "SELECT user_login, last_accepted_ms FROM cooldowns WHERE last_accepted_ms > ? \
             ORDER BY last_accepted_ms DESC LIMIT ?",
        )
        .bind(since_ms)
        .bind(limit)
        .fetch_all(self.pool)
        .await?)
    }

    /// Items left `generating` by a crash or kill become `interrupted` (retryable), and
    /// their generation runs are closed.
    pub async fn interrupt_generating(self, now_ms: i64) -> Result<u64, DbError> {
        let mut tx = WriteTx::begin(self.pool).await?;
        let done = sqlx::query(
            "UPDATE requests SET state = 'interrupted', \
             reason = 'StreamCue stopped while this was generating', updated_at_ms = ? \
             WHERE state = 'generating'",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE generations SET finished_at_ms = ?, outcome = 'interrupted', \
             reason = 'StreamCue stopped while this was generating' WHERE finished_at_ms IS NULL",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    pub async fn bump_counter(self, session_id: i64, counter: QueueCounter) -> Result<(), DbError> {
        let mut conn = self.pool.acquire().await?;
        bump(&mut conn, session_id, counter).await
    }

    /// Adds several counts at once (one transaction): the queue batches refusals under load.
    pub async fn add_counts(
        self,
        session_id: i64,
        counts: &[(QueueCounter, u32)],
    ) -> Result<(), DbError> {
        let mut tx = WriteTx::begin(self.pool).await?;
        for (counter, n) in counts.iter().filter(|(_, n)| *n > 0) {
            sqlx::query(
                "INSERT INTO queue_counters (session_id, name, value) VALUES (?, ?, ?) \
                 ON CONFLICT (session_id, name) DO UPDATE SET value = value + excluded.value",
            )
            .bind(session_id)
            .bind(counter.name())
            .bind(*n as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn counters(self, session_id: i64) -> Result<QueueCounters, DbError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, value FROM queue_counters WHERE session_id = ?")
                .bind(session_id)
                .fetch_all(self.pool)
                .await?;
        let mut c = QueueCounters::default();
        for (name, value) in rows {
            let v = value.clamp(0, u32::MAX as i64) as u32;
            match name.as_str() {
                "accepted" => c.accepted = v,
                "cooldown_rejects" => c.cooldown_rejects = v,
                "overflow_rejects" => c.overflow_rejects = v,
                "blocked_prompts" => c.blocked_prompts = v,
                "usage_replies" => c.usage_replies = v,
                "approved" => c.approved = v,
                "skipped" => c.skipped = v,
                "moderated" => c.moderated = v,
                "paused_rejects" => c.paused_rejects = v,
                _ => {}
            }
        }
        Ok(c)
    }
}

async fn bump(
    conn: &mut sqlx::SqliteConnection,
    session_id: i64,
    counter: QueueCounter,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO queue_counters (session_id, name, value) VALUES (?, ?, 1) \
         ON CONFLICT (session_id, name) DO UPDATE SET value = value + 1",
    )
    .bind(session_id)
    .bind(counter.name())
    .execute(conn)
    .await?;
    Ok(())
}
