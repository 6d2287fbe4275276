//! The `Velocity` store: one 240-byte row per session-minute (60 × u32 little-endian). Only
//! the chat actor writes these.

use sqlx::SqlitePool;

use super::sessions::{bind_counters, COUNTERS_SET};
use super::{DbError, WriteTx};
use crate::api::{ChatCounters, VelocityPoint};

/// The counts of one minute of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinuteCounts {
    /// Unix seconds / 60.
    pub minute: i64,
    pub counts: [u32; 60],
}

impl MinuteCounts {
    pub fn new(minute: i64) -> Self {
        Self {
            minute,
            counts: [0; 60],
        }
    }

    fn encode(&self) -> Vec<u8> {
        self.counts.iter().flat_map(|c| c.to_le_bytes()).collect()
    }

    fn decode(minute: i64, blob: &[u8]) -> Option<Self> {
        if blob.len() != 240 {
            return None;
        }
        let mut counts = [0u32; 60];
        for (i, c) in blob.chunks_exact(4).enumerate() {
            counts[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        Some(Self { minute, counts })
    }
}

/// The per-second message counts (`db.velocity()`).
#[derive(Debug, Clone, Copy)]
pub struct Velocity<'a> {
    pub(super) pool: &'a SqlitePool,
}

impl Velocity<'_> {
    /// Writes finished minutes' counts and the session's running totals in one transaction
    /// (nothing when there is no minute to write).
    pub async fn save_minutes(
        self,
        session_id: i64,
        minutes: &[MinuteCounts],
        counters: ChatCounters,
    ) -> Result<(), DbError> {
        if minutes.is_empty() {
            return Ok(());
        }
        let mut tx = WriteTx::begin(self.pool).await?;
        for minute in minutes {
            sqlx::query(
                "INSERT INTO velocity_minutes (session_id, minute, counts) VALUES (?, ?, ?) \
                 ON CONFLICT (session_id, minute) DO UPDATE SET counts = excluded.counts",
            )
            .bind(session_id)
            .bind(minute.minute)
            .bind(minute.encode())
            .execute(&mut *tx)
            .await?;
        }
        let sql = format!("UPDATE chat_sessions SET {COUNTERS_SET} WHERE id = ?");
        bind_counters(sqlx::query(&sql), counters)
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Per-second points of a session between `from_sec` and `to_sec` (inclusive), oldest
    /// first, only for minutes that were recorded.
    pub async fn points(
        self,
        session_id: i64,
        from_sec: i64,
        to_sec: i64,
    ) -> Result<Vec<VelocityPoint>, DbError> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT minute, counts FROM velocity_minutes \
             WHERE session_id = ? AND minute BETWEEN ? AND ? ORDER BY minute",
        )
        .bind(session_id)
        .bind(from_sec.div_euclid(60))
        .bind(to_sec.div_euclid(60))
        .fetch_all(self.pool)
        .await?;
        let mut out = Vec::new();
        for (minute, blob) in rows {
            let Some(m) = MinuteCounts::decode(minute, &blob) else {
                tracing::warn!(session_id, minute, "skipping a damaged velocity row");
                continue;
            };
            for (i, count) in m.counts.iter().enumerate() {
                let second = minute * 60 + i as i64;
                if (from_sec..=to_sec).contains(&second) {
                    out.push(VelocityPoint {
                        second: second as f64,
                        count: *count,
                    });
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        let mut m = MinuteCounts::new(29_000_000);
        m.counts[0] = 1;
        m.counts[59] = u32::MAX;
        let blob = m.encode();
        assert_eq!(blob.len(), 240);
        assert_eq!(MinuteCounts::decode(m.minute, &blob), Some(m));
        assert_eq!(MinuteCounts::decode(1, &blob[..239]), None);
    }
}
