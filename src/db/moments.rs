//! The `Moments` store: moments and detector baselines. Only the `MomentDetector` writes
//! these (and the note, on the streamer's behalf); the recorder only reads them.

use sqlx::{Row, SqlitePool};

use super::DbError;
use crate::api::MomentTrigger;
use crate::moments::Baseline;

/// A moment as stored (times in Unix ms). The window's `Moment` is made from it at the API edge.
#[derive(Debug, Clone, PartialEq)]
pub struct MomentRow {
    pub id: i64,
    pub session_id: i64,
    pub started_at_ms: i64,
    /// `None` while it is still going on.
    pub ended_at_ms: Option<i64>,
    /// From the start of its chat session.
    pub offset_ms: i64,
    pub triggers: Vec<MomentTrigger>,
    /// How far past its threshold the strongest trigger went (1.0 = just at it).
    pub strength: f64,
    pub note: String,
}

const COLUMNS: &str =
    "id, session_id, started_at_ms, ended_at_ms, offset_ms, strength, triggers, note";

fn moment(row: &sqlx::sqlite::SqliteRow) -> Result<MomentRow, DbError> {
    let triggers: String = row.try_get("triggers")?;
    Ok(MomentRow {
        id: row.try_get("id")?,
        session_id: row.try_get("session_id")?,
        started_at_ms: row.try_get("started_at_ms")?,
        ended_at_ms: row.try_get("ended_at_ms")?,
        offset_ms: row.try_get("offset_ms")?,
        strength: row.try_get("strength")?,
        triggers: serde_json::from_str(&triggers).unwrap_or_default(),
        note: row.try_get("note")?,
    })
}

fn kinds(triggers: &[MomentTrigger]) -> String {
    let mut k: Vec<&str> = triggers.iter().map(|t| t.kind.as_str()).collect();
    k.sort_unstable();
    k.dedup();
    k.join(",")
}

/// Moments and detector baselines (`db.moments()`).
#[derive(Debug, Clone, Copy)]
pub struct Moments<'a> {
    pub(super) pool: &'a SqlitePool,
}

impl Moments<'_> {
    pub async fn insert(
        self,
        session_id: i64,
        started_at_ms: i64,
        offset_ms: i64,
        triggers: &[MomentTrigger],
        strength: f64,
    ) -> Result<MomentRow, DbError> {
        let row = sqlx::query(&format!(
            "INSERT INTO moments (session_id, started_at_ms, offset_ms, strength, kinds, triggers) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
        ))
        .bind(session_id)
        .bind(started_at_ms)
        .bind(offset_ms)
        .bind(strength)
        .bind(kinds(triggers))
        .bind(serde_json::to_string(triggers).expect("plain data"))
        .fetch_one(self.pool)
        .await?;
        moment(&row)
    }

    /// A finished moment in one write (a mark by hand: it starts and ends at `at_ms`).
    pub async fn insert_marked(
        self,
        session_id: i64,
        at_ms: i64,
        offset_ms: i64,
        triggers: &[MomentTrigger],
        note: &str,
    ) -> Result<MomentRow, DbError> {
        let row = sqlx::query(&format!(
            "INSERT INTO moments (session_id, started_at_ms, ended_at_ms, offset_ms, strength, \
             kinds, triggers, note) VALUES (?, ?, ?, ?, 1.0, ?, ?, ?) RETURNING {COLUMNS}"
        ))
        .bind(session_id)
        .bind(at_ms)
        .bind(at_ms)
        .bind(offset_ms)
        .bind(kinds(triggers))
        .bind(serde_json::to_string(triggers).expect("plain data"))
        .bind(note)
        .fetch_one(self.pool)
        .await?;
        moment(&row)
    }

    pub async fn update(
        self,
        id: i64,
        triggers: &[MomentTrigger],
        strength: f64,
        ended_at_ms: Option<i64>,
    ) -> Result<Option<MomentRow>, DbError> {
        let row = sqlx::query(&format!(
            "UPDATE moments SET triggers = ?, kinds = ?, strength = ?, \
             ended_at_ms = COALESCE(?, ended_at_ms) WHERE id = ? RETURNING {COLUMNS}"
        ))
        .bind(serde_json::to_string(triggers).expect("plain data"))
        .bind(kinds(triggers))
        .bind(strength)
        .bind(ended_at_ms)
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(moment).transpose()
    }

    pub async fn set_note(self, id: i64, note: &str) -> Result<Option<MomentRow>, DbError> {
        let row = sqlx::query(&format!(
            "UPDATE moments SET note = ? WHERE id = ? RETURNING {COLUMNS}"
        ))
        .bind(note)
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(moment).transpose()
    }

    /// Moments still open (after a crash they are closed at their start).
    pub async fn close_open(self) -> Result<u64, DbError> {
        let done =
            sqlx::query("UPDATE moments SET ended_at_ms = started_at_ms WHERE ended_at_ms IS NULL")
                .execute(self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    pub async fn of_session(self, session_id: i64) -> Result<Vec<MomentRow>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM moments WHERE session_id = ? ORDER BY started_at_ms, id"
        ))
        .bind(session_id)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(moment).collect()
    }

    pub async fn get(self, id: i64) -> Result<Option<MomentRow>, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM moments WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool)
            .await?;
        row.as_ref().map(moment).transpose()
    }

    pub async fn load_baseline(
        self,
        channel_key: &str,
        fresh_since_ms: i64,
    ) -> Result<Option<Baseline>, DbError> {
        let row: Option<(f64, f64, i64)> = sqlx::query_as(
            "SELECT mean, var, samples FROM detector_baselines WHERE channel_key = ? AND updated_at_ms >= ?",
        )
        .bind(channel_key)
        .bind(fresh_since_ms)
        .fetch_optional(self.pool)
        .await?;
        Ok(row.map(|(mean, var, samples)| Baseline {
            mean,
            var,
            samples: samples.clamp(0, u32::MAX as i64) as u32,
        }))
    }

    pub async fn save_baseline(
        self,
        channel_key: &str,
        b: &Baseline,
        now_ms: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO detector_baselines (channel_key, mean, var, samples, updated_at_ms) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_key) DO UPDATE SET mean = excluded.mean, \
             var = excluded.var, samples = excluded.samples, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(channel_key)
        .bind(b.mean)
        .bind(b.var)
        .bind(b.samples as i64)
        .bind(now_ms)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The moments that started inside a time span (a recording's), oldest first.
    pub async fn started_between(self, from_ms: i64, to_ms: i64) -> Result<Vec<i64>, DbError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM moments WHERE started_at_ms BETWEEN ? AND ? ORDER BY started_at_ms",
        )
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool)
        .await?)
    }
}
