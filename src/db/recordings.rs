//! The `Recordings` store: recordings and clips. Only the `Recorder` actor writes these.

use sqlx::{Row, SqlitePool};

use super::DbError;
use crate::api::RecorderMode;

/// A recording row.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingRow {
    pub id: i64,
    pub path: Option<String>,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    /// The chat session live when it started.
    pub session_id: Option<i64>,
}

const CLIP_COLUMNS: &str =
    "id, moment_id, path, start_ms, end_ms, widened_ms, bytes, created_at_ms";

/// A clip as stored. The window's `Clip` is made from it at the API edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipRow {
    pub id: i64,
    pub moment_id: i64,
    pub path: String,
    /// Where it starts and ends in its recording.
    pub start_ms: i64,
    pub end_ms: i64,
    /// How much earlier than asked it starts (stream copy starts on a keyframe).
    pub widened_ms: i64,
    pub bytes: i64,
    pub created_at_ms: i64,
}

/// A clip about to be saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClip<'a> {
    pub moment_id: i64,
    pub recording_id: i64,
    pub path: &'a str,
    pub start_ms: i64,
    pub end_ms: i64,
    pub widened_ms: i64,
    pub bytes: i64,
}

fn clip(r: &sqlx::sqlite::SqliteRow) -> Result<ClipRow, DbError> {
    Ok(ClipRow {
        id: r.try_get("id")?,
        moment_id: r.try_get("moment_id")?,
        path: r.try_get("path")?,
        start_ms: r.try_get("start_ms")?,
        end_ms: r.try_get("end_ms")?,
        widened_ms: r.try_get("widened_ms")?,
        bytes: r.try_get("bytes")?,
        created_at_ms: r.try_get("created_at_ms")?,
    })
}

fn recording(r: &sqlx::sqlite::SqliteRow) -> Result<RecordingRow, DbError> {
    Ok(RecordingRow {
        id: r.try_get("id")?,
        path: r.try_get("path")?,
        started_at_ms: r.try_get("started_at_ms")?,
        ended_at_ms: r.try_get("ended_at_ms")?,
        session_id: r.try_get("session_id")?,
    })
}

/// Recordings and clips (`db.recordings()`).
#[derive(Debug, Clone, Copy)]
pub struct Recordings<'a> {
    pub(super) pool: &'a SqlitePool,
}

impl Recordings<'_> {
    /// A recording starts (`session_id`: the chat session live then, if any).
    pub async fn start(
        self,
        mode: RecorderMode,
        path: Option<&str>,
        started_at_ms: i64,
        session_id: Option<i64>,
    ) -> Result<i64, DbError> {
        let mode = match mode {
            RecorderMode::Streamlink => "streamlink",
            _ => "obs",
        };
        Ok(sqlx::query_scalar(
            "INSERT INTO recordings (mode, path, started_at_ms, session_id) VALUES (?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(mode)
        .bind(path)
        .bind(started_at_ms)
        .bind(session_id)
        .fetch_one(self.pool)
        .await?)
    }

    pub async fn end(
        self,
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
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Recordings left open by a crash end where they were last known.
    pub async fn close_open(self, now_ms: i64) -> Result<u64, DbError> {
        Ok(
            sqlx::query("UPDATE recordings SET ended_at_ms = ? WHERE ended_at_ms IS NULL")
                .bind(now_ms)
                .execute(self.pool)
                .await?
                .rows_affected(),
        )
    }

    pub async fn get(self, id: i64) -> Result<Option<RecordingRow>, DbError> {
        let row = sqlx::query(
            "SELECT id, path, started_at_ms, ended_at_ms, session_id FROM recordings WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(recording).transpose()
    }

    /// The recording that covers `at_ms`, newest first.
    pub async fn covering(self, at_ms: i64) -> Result<Option<RecordingRow>, DbError> {
        let row = sqlx::query(
            "SELECT id, path, started_at_ms, ended_at_ms, session_id FROM recordings \
             WHERE started_at_ms <= ? AND (ended_at_ms IS NULL OR ended_at_ms >= ?) \
             ORDER BY started_at_ms DESC LIMIT 1",
        )
        .bind(at_ms)
        .bind(at_ms)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(recording).transpose()
    }

    pub async fn insert_clip(self, new: &NewClip<'_>, now_ms: i64) -> Result<ClipRow, DbError> {
        let row = sqlx::query(&format!(
            "INSERT INTO clips (moment_id, recording_id, path, start_ms, end_ms, widened_ms, bytes, created_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {CLIP_COLUMNS}"
        ))
        .bind(new.moment_id)
        .bind(new.recording_id)
        .bind(new.path)
        .bind(new.start_ms)
        .bind(new.end_ms)
        .bind(new.widened_ms)
        .bind(new.bytes)
        .bind(now_ms)
        .fetch_one(self.pool)
        .await?;
        clip(&row)
    }

    pub async fn latest_clips(self, limit: i64) -> Result<Vec<ClipRow>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {CLIP_COLUMNS} FROM clips ORDER BY created_at_ms DESC, id DESC LIMIT ?"
        ))
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(clip).collect()
    }
}
