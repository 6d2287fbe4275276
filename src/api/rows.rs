//! The API edge for stored rows: how each domain row from a `db` store becomes what the window
//! sees. Ids become `i32` and times `f64` here because TypeScript numbers are doubles (and
//! specta refuses `i64`); nothing else changes.

use super::{Clip, Moment, QueueItem, SessionSummary};
use crate::db::{ClipRow, MomentRow, RequestRow, SessionSummaryRow};

impl From<RequestRow> for QueueItem {
    fn from(r: RequestRow) -> Self {
        Self {
            id: r.id as i32,
            user_login: r.user_login,
            display_name: r.display_name,
            prompt: r.prompt,
            state: r.state,
            reason: r.reason,
            position: r.position as i32,
            created_at_ms: r.created_at_ms as f64,
            updated_at_ms: r.updated_at_ms as f64,
            file_path: r.file_path,
            attempts: r.attempts,
            generation_ms: r.generation_ms.map(|v| v as f64),
        }
    }
}

impl From<MomentRow> for Moment {
    fn from(r: MomentRow) -> Self {
        Self {
            id: r.id as i32,
            session_id: r.session_id as i32,
            started_at_ms: r.started_at_ms as f64,
            ended_at_ms: r.ended_at_ms.map(|v| v as f64),
            offset_ms: r.offset_ms as f64,
            triggers: r.triggers,
            strength: r.strength,
            note: r.note,
        }
    }
}

impl From<ClipRow> for Clip {
    fn from(r: ClipRow) -> Self {
        Self {
            id: r.id as i32,
            moment_id: r.moment_id as i32,
            path: r.path,
            start_ms: r.start_ms as f64,
            end_ms: r.end_ms as f64,
            widened_ms: r.widened_ms as f64,
            bytes: r.bytes as f64,
            created_at_ms: r.created_at_ms as f64,
        }
    }
}

impl From<SessionSummaryRow> for SessionSummary {
    fn from(r: SessionSummaryRow) -> Self {
        Self {
            id: r.id as i32,
            platform: r.platform,
            channel: r.channel,
            started_at_ms: r.started_at_ms as f64,
            ended_at_ms: r.ended_at_ms.map(|v| v as f64),
            messages: r.messages as f64,
            moments: r.moments.clamp(0, u32::MAX as i64) as u32,
        }
    }
}

/// Converts a list of rows.
pub fn all<R, D: From<R>>(rows: Vec<R>) -> Vec<D> {
    rows.into_iter().map(D::from).collect()
}
