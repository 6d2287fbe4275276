//! Recordings and clips. Only the `Recorder` actor writes these.

use sqlx::Row;

use super::{Database, DbError};
use crate::api::{Clip, RecorderMode};

/// A recording row.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingRow {
    pub id: i64,
    pub path: Option<String>,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
}

const CLIP_COLUMNS: &str =
    "id, moment_id, path, start_ms, end_ms, widened_ms, bytes, created_at_ms";

fn clip(r: &sqlx::sqlite::SqliteRow) -> Result<Clip, DbError> {
    Ok(Clip {
        id: r.try_get::<i64, _>("id")? as i32,
        moment_id: r.try_get::<i64, _>("moment_id")? as i32,
        path: r.try_get("path")?,
        start_ms: r.try_get::<i64, _>("start_ms")? as f64,
        end_ms: r.try_get::<i64, _>("end_ms")? as f64,
        widened_ms: r.try_get::<i64, _>("widened_ms")? as f64,
        bytes: r.try_get::<i64, _>("bytes")? as f64,
        created_at_ms: r.try_get::<i64, _>("created_at_ms")? as f64,
    })
}

fn recording(r: &sqlx::sqlite::SqliteRow) -> Result<RecordingRow, DbError> {
    Ok(RecordingRow {
        id: r.try_get("id")?,
        path: r.try_get("path")?,
        started_at_ms: r.try_get("started_at_ms")?,
        ended_at_ms: r.try_get("ended_at_ms")?,
    })
}

impl Database {
    pub async fn start_recording(
        &self,
        mode: RecorderMode,
        path: Option<&str>,
        started_at_ms: i64,
    ) -> Result<i64, DbError> {
        let mode = match mode {
            RecorderMode::Streamlink => "streamlink",
            _ => "obs",
        };
        Ok(sqlx::query_scalar(
            "INSERT INTO recordings (mode, path, started_at_ms) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(mode)
        .bind(path)
        .bind(started_at_ms)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn end_recording(
        &self,
        id: i64,
        path: Option<&str>,
        ended_at_ms: i64,
        bytes: Option<i64>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE recordings SET path = COALESCE(?, path), ended_at_ms = ?, bytes = COALESCE(?, bytes) WHERE id = ?",
        )
        .bind(path)
        .bind(ended_at_ms)
        .bind(bytes)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Recordings left open by a crash end where they were last known.
    pub async fn close_open_recordings(&self, now_ms: i64) -> Result<u64, DbError> {
        Ok(
            sqlx::query("UPDATE recordings SET ended_at_ms = ? WHERE ended_at_ms IS NULL")
                .bind(now_ms)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    pub async fn recording_by_id(&self, id: i64) -> Result<Option<RecordingRow>, DbError> {
        let row =
            sqlx::query("SELECT id, path, started_at_ms, ended_at_ms FROM recordings WHERE id = ?")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(recording).transpose()
    }

    /// The recording that covers `at_ms`, newest first.
    pub async fn recording_at(&self, at_ms: i64) -> Result<Option<RecordingRow>, DbError> {
        let row = sqlx::query(
            "SELECT id, path, started_at_ms, ended_at_ms FROM recordings \
             WHERE started_at_ms <= ? AND (ended_at_ms IS NULL OR ended_at_ms >= ?) \
             ORDER BY started_at_ms DESC LIMIT 1",
        )
        .bind(at_ms)
        .bind(at_ms)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(recording).transpose()
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_clip(
        &self,
        moment_id: i64,
        recording_id: i64,
        path: &str,
        start_ms: i64,
        end_ms: i64,
        widened_ms: i64,
        bytes: i64,
        now_ms: i64,
    ) -> Result<Clip, DbError> {
        let row = sqlx::query(&format!(
            "INSERT INTO clips (moment_id, recording_id, path, start_ms, end_ms, widened_ms, bytes, created_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {CLIP_COLUMNS}"
        ))
        .bind(moment_id)
        .bind(recording_id)
        .bind(path)
        .bind(start_ms)
        .bind(end_ms)
        .bind(widened_ms)
        .bind(bytes)
        .bind(now_ms)
        .fetch_one(self.pool())
        .await?;
        clip(&row)
    }

    pub async fn latest_clips(&self, limit: i64) -> Result<Vec<Clip>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {CLIP_COLUMNS} FROM clips ORDER BY created_at_ms DESC, id DESC LIMIT ?"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(clip).collect()
    }

    /// Moments that started inside a recording's time span.
    pub async fn moments_between(&self, from_ms: i64, to_ms: i64) -> Result<Vec<i64>, DbError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM moments WHERE started_at_ms BETWEEN ? AND ? ORDER BY started_at_ms",
        )
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool())
        .await?)
    }
}
