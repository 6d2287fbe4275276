//! The `Watch` store: watch-along sessions (seed 004). Only the watch-along actor writes them.
//!
//! Invariants: at most one session is active, kept by the `active` column's UNIQUE constraint
//! (a second `create` while one is active gets [`Created::Busy`] with the running one); every
//! transition is a compare-and-set on the status it was decided from (`UPDATE … WHERE id = ?
//! AND status = ?`), so two writers racing (a webhook and Stop) cannot both apply, and the
//! loser re-decides on what the winner wrote; the rule itself is `watch::session::step`.

use sqlx::SqlitePool;

use super::DbError;
use crate::watch::codes::WatchErrorCode;
use crate::watch::session::{step, Step, StepRefusal, WatchEvent, WatchStatus};

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSessionRow {
    pub id: String,
    pub requester: String,
    pub source: String,
    pub executor: String,
    pub target: String,
    pub url: String,
    pub status: WatchStatus,
    pub error_code: Option<WatchErrorCode>,
    pub error_message: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A session to start.
#[derive(Debug, Clone)]
pub struct NewWatchSession {
    pub id: String,
    pub requester: String,
    pub source: String,
    pub executor: String,
    pub target: String,
    pub url: String,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Started(WatchSessionRow),
    /// Another session is active (ERR_BUSY): this one.
    Busy(WatchSessionRow),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Moved(WatchSessionRow),
    /// Already in that status: nothing written.
    Same(WatchSessionRow),
    Refused(WatchSessionRow, StepRefusal),
    NotFound,
}

type Tuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
);

const COLUMNS: &str = "id, requester, source, executor, target, url, status, error_code, \
                       error_message, created_ms, updated_ms";

fn row(t: Tuple) -> WatchSessionRow {
    WatchSessionRow {
        id: t.0,
        requester: t.1,
        source: t.2,
        executor: t.3,
        target: t.4,
        url: t.5,
        // A status this version does not know (a newer StreamCue wrote it) reads as failed.
        status: WatchStatus::from_name(&t.6).unwrap_or(WatchStatus::Failed),
        error_code: t.7.as_deref().map(WatchErrorCode::from_wire),
        error_message: t.8,
        created_ms: t.9,
        updated_ms: t.10,
    }
}

/// The watch-along sessions (`db.watch()`).
#[derive(Debug, Clone, Copy)]
pub struct Watch<'a> {
    pub(super) pool: &'a SqlitePool,
}

impl Watch<'_> {
    /// Starts a session (PENDING) unless one is active.
    pub async fn create(self, new: &NewWatchSession) -> Result<Created, DbError> {
        // Twice at most: a unique violation with no active session found means the active one
        // ended in between (then the second insert succeeds) or the id is taken (an error).
        for _ in 0..2 {
            let inserted = sqlx::query(
                "INSERT INTO watch_sessions (id, requester, source, executor, target, url, \
                 status, active, created_ms, updated_ms) \
                 VALUES (?, ?, ?, ?, ?, ?, 'pending', 1, ?, ?)",
            )
            .bind(&new.id)
            .bind(&new.requester)
            .bind(&new.source)
            .bind(&new.executor)
            .bind(&new.target)
            .bind(&new.url)
            .bind(new.now_ms)
            .bind(new.now_ms)
            .execute(self.pool)
            .await;
            match inserted {
                Ok(_) => {
                    let created = self
                        .get(&new.id)
                        .await?
                        .ok_or(DbError::Query(sqlx::Error::RowNotFound))?;
                    return Ok(Created::Started(created));
                }
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    if let Some(running) = self.active().await? {
                        return Ok(Created::Busy(running));
                    }
                    if self.get(&new.id).await?.is_some() {
                        break;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(DbError::Query(sqlx::Error::Protocol(format!(
            "a watch session with id {} already exists",
            new.id
        ))))
    }

    pub async fn get(self, id: &str) -> Result<Option<WatchSessionRow>, DbError> {
        let t: Option<Tuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM watch_sessions WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        Ok(t.map(row))
    }

    /// The active session, if any.
    pub async fn active(self) -> Result<Option<WatchSessionRow>, DbError> {
        let t: Option<Tuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM watch_sessions WHERE active = 1"
        ))
        .fetch_optional(self.pool)
        .await?;
        Ok(t.map(row))
    }

    /// The latest sessions, newest first.
    pub async fn recent(self, limit: u32) -> Result<Vec<WatchSessionRow>, DbError> {
        let rows: Vec<Tuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM watch_sessions ORDER BY created_ms DESC, rowid DESC LIMIT ?"
        ))
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(row).collect())
    }

    /// Applies `event` to session `id` by the state machine's rule, as a compare-and-set.
    pub async fn apply(
        self,
        id: &str,
        event: &WatchEvent,
        now_ms: i64,
    ) -> Result<Applied, DbError> {
        // A lost race re-reads and decides again; a session only moves forward, so this ends.
        for _ in 0..8 {
            let Some(current) = self.get(id).await? else {
                return Ok(Applied::NotFound);
            };
            let to = match step(current.status, event) {
                Step::Same => return Ok(Applied::Same(current)),
                Step::Refused(why) => return Ok(Applied::Refused(current, why)),
                Step::To(to) => to,
            };
            let (code, message) = match event {
                WatchEvent::Failed { code, message } => (Some(code.wire()), Some(message.as_str())),
                _ => (None, None),
            };
            let done = sqlx::query(
                "UPDATE watch_sessions SET status = ?, active = ?, \
                 error_code = COALESCE(?, error_code), error_message = COALESCE(?, error_message), \
                 updated_ms = ? WHERE id = ? AND status = ?",
            )
            .bind(to.name())
            .bind(to.is_active().then_some(1i64))
            .bind(code)
            .bind(message)
            .bind(now_ms)
            .bind(id)
            .bind(current.status.name())
            .execute(self.pool)
            .await?;
            if done.rows_affected() == 1 {
                let moved = self
                    .get(id)
                    .await?
                    .ok_or(DbError::Query(sqlx::Error::RowNotFound))?;
                return Ok(Applied::Moved(moved));
            }
        }
        Err(DbError::Query(sqlx::Error::Protocol(format!(
            "watch session {id} kept changing while being updated"
        ))))
    }

    /// At start: a session left active by a crash (or a kill) is FAILED, "StreamCue stopped".
    /// Returns those sessions (so the executor can be told to stop them).
    pub async fn fail_interrupted(self, now_ms: i64) -> Result<Vec<WatchSessionRow>, DbError> {
        let Some(active) = self.active().await? else {
            return Ok(Vec::new());
        };
        let event = WatchEvent::Failed {
            code: WatchErrorCode::Unknown,
            message: "StreamCue stopped while this session was running.".into(),
        };
        Ok(match self.apply(&active.id, &event, now_ms).await? {
            Applied::Moved(row) => vec![row],
            _ => Vec::new(),
        })
    }
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
