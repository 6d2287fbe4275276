//! Moments, detector baselines and session history. Only the `MomentDetector` writes these
//! (and the note, on the streamer's behalf).

use sqlx::Row;

use super::{Database, DbError};
use crate::api::{Moment, MomentTrigger, SessionSummary, TriggerKind};
use crate::moments::Baseline;

const COLUMNS: &str =
    "id, session_id, started_at_ms, ended_at_ms, offset_ms, strength, triggers, note";

fn moment(row: &sqlx::sqlite::SqliteRow) -> Result<Moment, DbError> {
    let triggers: String = row.try_get("triggers")?;
    Ok(Moment {
        id: row.try_get::<i64, _>("id")? as i32,
        session_id: row.try_get::<i64, _>("session_id")? as i32,
        started_at_ms: row.try_get::<i64, _>("started_at_ms")? as f64,
        ended_at_ms: row
            .try_get::<Option<i64>, _>("ended_at_ms")?
            .map(|v| v as f64),
        offset_ms: row.try_get::<i64, _>("offset_ms")? as f64,
        strength: row.try_get("strength")?,
        triggers: serde_json::from_str(&triggers).unwrap_or_default(),
        note: row.try_get("note")?,
    })
}

fn kinds(triggers: &[MomentTrigger]) -> String {
    let mut k: Vec<&str> = triggers
        .iter()
        .map(|t| match t.kind {
            TriggerKind::Velocity => "velocity",
            TriggerKind::Keyword => "keyword",
            TriggerKind::Emote => "emote",
        })
        .collect();
    k.sort_unstable();
    k.dedup();
    k.join(",")
}

const SUMMARY_SELECT: &str =
    "SELECT s.id, s.platform, s.channel, s.started_at_ms, s.ended_at_ms, s.messages, \
     (SELECT COUNT(*) FROM moments m WHERE m.session_id = s.id) AS moments \
     FROM chat_sessions s";

fn summary(r: &sqlx::sqlite::SqliteRow) -> Result<SessionSummary, DbError> {
    Ok(SessionSummary {
        id: r.try_get::<i64, _>("id")? as i32,
        platform: r.try_get("platform")?,
        channel: r.try_get("channel")?,
        started_at_ms: r.try_get::<i64, _>("started_at_ms")? as f64,
        ended_at_ms: r
            .try_get::<Option<i64>, _>("ended_at_ms")?
            .map(|v| v as f64),
        messages: r.try_get::<i64, _>("messages")? as f64,
        moments: r.try_get::<i64, _>("moments")?.clamp(0, u32::MAX as i64) as u32,
    })
}

impl Database {
    pub async fn insert_moment(
        &self,
        session_id: i64,
        started_at_ms: i64,
        offset_ms: i64,
        triggers: &[MomentTrigger],
        strength: f64,
    ) -> Result<Moment, DbError> {
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
        .fetch_one(self.pool())
        .await?;
        moment(&row)
    }

    pub async fn update_moment(
        &self,
        id: i64,
        triggers: &[MomentTrigger],
        strength: f64,
        ended_at_ms: Option<i64>,
    ) -> Result<Option<Moment>, DbError> {
        let row = sqlx::query(&format!(
            "UPDATE moments SET triggers = ?, kinds = ?, strength = ?, \
             ended_at_ms = COALESCE(?, ended_at_ms) WHERE id = ? RETURNING {COLUMNS}"
        ))
        .bind(serde_json::to_string(triggers).expect("plain data"))
        .bind(kinds(triggers))
        .bind(strength)
        .bind(ended_at_ms)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(moment).transpose()
    }

    pub async fn set_moment_note(&self, id: i64, note: &str) -> Result<Option<Moment>, DbError> {
        let row = sqlx::query(&format!(
            "UPDATE moments SET note = ? WHERE id = ? RETURNING {COLUMNS}"
        ))
        .bind(note)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(moment).transpose()
    }

    /// Moments still open (after a crash they are closed at their start).
    pub async fn close_open_moments(&self) -> Result<u64, DbError> {
        let done =
            sqlx::query("UPDATE moments SET ended_at_ms = started_at_ms WHERE ended_at_ms IS NULL")
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected())
    }

    pub async fn session_moments(&self, session_id: i64) -> Result<Vec<Moment>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM moments WHERE session_id = ? ORDER BY started_at_ms, id"
        ))
        .bind(session_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(moment).collect()
    }

    pub async fn moment_row(&self, id: i64) -> Result<Option<Moment>, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM moments WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(moment).transpose()
    }

    /// The latest sessions, newest first, with their moment counts.
    pub async fn session_summaries(&self, limit: i64) -> Result<Vec<SessionSummary>, DbError> {
        let rows = sqlx::query(&format!(
            "{SUMMARY_SELECT} ORDER BY s.started_at_ms DESC, s.id DESC LIMIT ?"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(summary).collect()
    }

    pub async fn session_summary(&self, id: i64) -> Result<Option<SessionSummary>, DbError> {
        let row = sqlx::query(&format!("{SUMMARY_SELECT} WHERE s.id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(summary).transpose()
    }

    pub async fn load_baseline(
        &self,
        channel_key: &str,
        fresh_since_ms: i64,
    ) -> Result<Option<Baseline>, DbError> {
        let row: Option<(f64, f64, i64)> = sqlx::query_as(
            "SELECT mean, var, samples FROM detector_baselines WHERE channel_key = ? AND updated_at_ms >= ?",
        )
        .bind(channel_key)
        .bind(fresh_since_ms)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(mean, var, samples)| Baseline {
            mean,
            var,
            samples: samples.clamp(0, u32::MAX as i64) as u32,
        }))
    }

    pub async fn save_baseline(
        &self,
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
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
