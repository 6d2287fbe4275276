//! The `Generations` store: generation runs and degraded-mode periods. Only the
//! `GenerationWorker` writes these (and OBS's show marks a clip shown); it moves requests only
//! out of `approved` (claim), out of `generating` (finish) and out of `ready` (shown).

use sqlx::{Row, SqlitePool};

use super::requests::{item, RequestRow, COLUMNS};
use super::{DbError, WriteTx};
use crate::api::{GeneratorBackend, GeneratorCounters, RequestState};

/// A request the worker has claimed: moved to `generating`, with its run recorded.
#[derive(Debug, Clone)]
pub struct ClaimedRequest {
    pub item: RequestRow,
    /// The chat channel it came from (for the degraded-mode announcement).
    pub channel: String,
    /// The `generations` row of this run.
    pub run_id: i64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Ready {
        file_path: String,
        bytes: u64,
        generation_ms: i64,
    },
    Failed {
        reason: String,
    },
    Interrupted {
        reason: String,
    },
}

/// How many of the latest ready runs the percentiles are taken over.
const PERCENTILE_WINDOW: i64 = 200;

/// Generation runs and degraded periods (`db.generations()`).
#[derive(Debug, Clone, Copy)]
pub struct Generations<'a> {
    pub(super) pool: &'a SqlitePool,
}

impl Generations<'_> {
    /// Claims the first approved request in queue order: `approved → generating`.
    pub async fn claim_next_approved(
        self,
        backend: GeneratorBackend,
        now_ms: i64,
    ) -> Result<Option<ClaimedRequest>, DbError> {
        let mut tx = WriteTx::begin(self.pool).await?;
        let row = sqlx::query(&format!(
            "UPDATE requests SET state = 'generating', reason = NULL, attempts = 0, updated_at_ms = ? \
             WHERE id = (SELECT id FROM requests WHERE state = 'approved' ORDER BY position, id LIMIT 1) \
             RETURNING {COLUMNS}"
        ))
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let item = item(&row)?;
        let channel: String = row.try_get("channel")?;
        let run_id: i64 = sqlx::query_scalar(
            "INSERT INTO generations (request_id, backend, started_at_ms) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(item.id)
        .bind(backend_name(backend))
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(ClaimedRequest {
            item,
            channel,
            run_id,
        }))
    }

    /// Ends a run: `generating → ready | failed | interrupted`, in one transaction. `None`
    /// when the request is no longer generating.
    pub async fn finish_run(
        self,
        request_id: i64,
        run_id: i64,
        attempts: u32,
        outcome: &RunOutcome,
        now_ms: i64,
    ) -> Result<Option<RequestRow>, DbError> {
        let (state, reason, file, bytes, ms) = match outcome {
            RunOutcome::Ready {
                file_path,
                bytes,
                generation_ms,
            } => (
                RequestState::Ready,
                None,
                Some(file_path.as_str()),
                Some(*bytes as i64),
                Some(*generation_ms),
            ),
            RunOutcome::Failed { reason } => (
                RequestState::Failed,
                Some(reason.as_str()),
                None,
                None,
                None,
            ),
            RunOutcome::Interrupted { reason } => (
                RequestState::Interrupted,
                Some(reason.as_str()),
                None,
                None,
                None,
            ),
        };
        let mut tx = WriteTx::begin(self.pool).await?;
        let row = sqlx::query(&format!(
            "UPDATE requests SET state = ?, reason = ?, attempts = ?, updated_at_ms = ?, \
             file_path = COALESCE(?, file_path), generation_ms = COALESCE(?, generation_ms) \
             WHERE id = ? AND state = 'generating' RETURNING {COLUMNS}"
        ))
        .bind(state.as_str())
        .bind(reason)
        .bind(attempts as i64)
        .bind(now_ms)
        .bind(file)
        .bind(ms)
        .bind(request_id)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE generations SET finished_at_ms = ?, outcome = ?, reason = ?, attempts = ?, bytes = ? \
             WHERE id = ?",
        )
        .bind(now_ms)
        .bind(state.as_str())
        .bind(reason)
        .bind(attempts as i64)
        .bind(bytes)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(item).transpose()
    }

    /// OBS played the clip: `ready → shown`. `None` when it was not `ready` (e.g. shown again).
    pub async fn mark_shown(
        self,
        request_id: i64,
        now_ms: i64,
    ) -> Result<Option<RequestRow>, DbError> {
        let row = sqlx::query(&format!(
            "UPDATE requests SET state = 'shown', updated_at_ms = ? WHERE id = ? AND state = 'ready' \
             RETURNING {COLUMNS}"
        ))
        .bind(now_ms)
        .bind(request_id)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(item).transpose()
    }

    /// When the longest-waiting approved request was approved (Unix ms).
    pub async fn oldest_approved_at(self) -> Result<Option<i64>, DbError> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(COALESCE(approved_at_ms, updated_at_ms)) FROM requests WHERE state = 'approved'",
        )
        .fetch_one(self.pool)
        .await?)
    }

    pub async fn counters(self) -> Result<GeneratorCounters, DbError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT outcome, COUNT(*) FROM generations WHERE outcome IS NOT NULL GROUP BY outcome",
        )
        .fetch_all(self.pool)
        .await?;
        let mut c = GeneratorCounters::default();
        for (outcome, n) in rows {
            let n = n.clamp(0, u32::MAX as i64) as u32;
            match outcome.as_str() {
                "ready" => c.ready = n,
                "failed" => c.failed = n,
                "interrupted" => c.interrupted = n,
                _ => {}
            }
        }
        let activations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM degraded_periods")
            .fetch_one(self.pool)
            .await?;
        c.degraded_activations = activations.clamp(0, u32::MAX as i64) as u32;
        let mut times: Vec<i64> = sqlx::query_scalar(
            "SELECT finished_at_ms - started_at_ms FROM generations WHERE outcome = 'ready' \
             ORDER BY finished_at_ms DESC LIMIT ?",
        )
        .bind(PERCENTILE_WINDOW)
        .fetch_all(self.pool)
        .await?;
        times.sort_unstable();
        c.p50_ms = percentile(&times, 50.0);
        c.p95_ms = percentile(&times, 95.0);
        Ok(c)
    }

    /// Starts a degraded-mode period; returns its id.
    pub async fn enter_degraded(self, reason: &str, now_ms: i64) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO degraded_periods (entered_at_ms, reason) VALUES (?, ?) RETURNING id",
        )
        .bind(now_ms)
        .bind(reason)
        .fetch_one(self.pool)
        .await?)
    }

    /// Ends every open degraded-mode period (at start, also those a crash left open).
    pub async fn leave_degraded(self, now_ms: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE degraded_periods SET left_at_ms = ? WHERE left_at_ms IS NULL")
            .bind(now_ms)
            .execute(self.pool)
            .await?;
        Ok(())
    }
}

fn backend_name(b: GeneratorBackend) -> &'static str {
    match b {
        GeneratorBackend::Offline => "offline",
        GeneratorBackend::Remote => "remote",
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1] as f64)
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 95.0), Some(7.0));
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 95.0), Some(95.0));
        assert_eq!(percentile(&[1, 2, 3, 1000], 95.0), Some(1000.0));
    }
}
