//! The external controller's HTTP contract, exactly as seed 004 defines it (E2-T3, E3-T1,
//! E4-T3, E4-T4): the JSON StreamCue sends and reads, and the webhook body it accepts.
//! `docs/watch-along-controller.md` is the same contract for people writing a controller.
//!
//! Invariants: field names and types are the seed's (`guild_id`/`channel_id` are integers:
//! Discord ids); a webhook body is checked whole before anything is applied
//! ([`parse_status_update`] returns every problem in one sentence for the 400 answer).

use serde::{Deserialize, Serialize};

use super::codes::WatchErrorCode;
use super::session::WatchEvent;

/// `POST {base}/stream`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRequest {
    pub session_id: String,
    pub url: String,
    pub guild_id: u64,
    pub channel_id: u64,
    pub channel_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamRequestStatus {
    Accepted,
    Rejected,
    InProgress,
}

/// The controller's answer to `POST /stream`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamResponse {
    pub session_id: String,
    pub status: StreamRequestStatus,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub estimated_start_time: Option<f64>,
    /// Not in the seed's model, but a controller that rejects may say why with a code.
    #[serde(default)]
    pub error_code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

/// `GET {base}/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct HealthResponse {
    pub status: HealthStatus,
    pub sandbox_ready: bool,
    pub active_sessions: u32,
    pub version: String,
}

/// The webhook's body, checked (`POST /watch/status` on the local server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub session_id: String,
    pub event: WatchEvent,
    pub message: Option<String>,
    /// Unix ms from the body's `timestamp`.
    pub timestamp_ms: i64,
}

/// The longest webhook body taken (the local server refuses larger ones before parsing).
pub const WEBHOOK_BODY_MAX: usize = 16 * 1024;
/// The longest `message` kept from a controller.
pub const MESSAGE_MAX_CHARS: usize = 500;

/// The webhook body as sent; everything optional so that each missing field is named.
#[derive(Debug, Deserialize)]
struct RawStatusUpdate {
    session_id: Option<serde_json::Value>,
    status: Option<serde_json::Value>,
    message: Option<serde_json::Value>,
    error_code: Option<serde_json::Value>,
    timestamp: Option<serde_json::Value>,
}

/// Checks a webhook body. `Err` is the 400's message (`ERR_INVALID_REQUEST`).
pub fn parse_status_update(body: &[u8]) -> Result<StatusUpdate, String> {
    let raw: RawStatusUpdate = serde_json::from_slice(body)
        .map_err(|e| format!("the body is not a JSON object of the StatusUpdate shape ({e})"))?;
    let mut problems = Vec::new();
    let text = |v: &Option<serde_json::Value>, name: &str, problems: &mut Vec<String>| match v {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        None | Some(serde_json::Value::Null) => None,
        Some(_) => {
            problems.push(format!("`{name}` must be a string"));
            None
        }
    };
    let session_id = text(&raw.session_id, "session_id", &mut problems);
    if raw.session_id.is_none() {
        problems.push("`session_id` is missing".into());
    }
    let status = text(&raw.status, "status", &mut problems);
    if raw.status.is_none() {
        problems.push("`status` is missing".into());
    }
    let message = text(&raw.message, "message", &mut problems).map(|m| {
        m.chars()
            .filter(|c| !c.is_control())
            .take(MESSAGE_MAX_CHARS)
            .collect()
    });
    let error_code = text(&raw.error_code, "error_code", &mut problems);
    let timestamp = text(&raw.timestamp, "timestamp", &mut problems);
    let timestamp_ms = match &timestamp {
        None => {
            if raw.timestamp.is_none() {
                problems.push("`timestamp` is missing".into());
            }
            None
        }
        Some(t) => match parse_timestamp(t) {
            Some(ms) => Some(ms),
            None => {
                problems.push(format!("`timestamp` {t:?} is not an ISO 8601 date-time"));
                None
            }
        },
    };
    let event = match status.as_deref() {
        None => None,
        Some("starting") => Some(WatchEvent::Starting),
        Some("streaming") => Some(WatchEvent::Streaming),
        Some("ended") => Some(WatchEvent::Ended),
        Some("error") => Some(WatchEvent::Failed {
            code: error_code
                .as_deref()
                .map(WatchErrorCode::from_wire)
                .unwrap_or(WatchErrorCode::Unknown),
            message: message.clone().unwrap_or_default(),
        }),
        Some(other) => {
            problems.push(format!(
                "`status` {other:?} is not one of starting, streaming, error, ended"
            ));
            None
        }
    };
    if let Some(id) = &session_id {
        if id.trim().is_empty() || id.len() > 100 {
            problems.push("`session_id` must be a session id (1–100 characters)".into());
        }
    }
    match (problems.is_empty(), session_id, event, timestamp_ms) {
        (true, Some(session_id), Some(event), Some(timestamp_ms)) => Ok(StatusUpdate {
            session_id,
            event,
            message,
            timestamp_ms,
        }),
        _ => Err(problems.join("; ")),
    }
}

/// An ISO 8601 date-time as Python's `datetime` writes it: with an offset or `Z`, or naive
/// (taken as UTC), with or without fractional seconds.
fn parse_timestamp(t: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, PrimitiveDateTime};
    let t = t.trim();
    if let Ok(dt) = OffsetDateTime::parse(t, &Rfc3339) {
        return Some((dt.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let naive = time::macros::format_description!(
        version = 2,
        "[year]-[month]-[day][first [T] [ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(t, naive)
        .ok()
        .map(|dt| (dt.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_stream_request_and_answers() {
        let req = StreamRequest {
            session_id: "s1".into(),
            url: "https://youtu.be/abc".into(),
            guild_id: 1_234_567_890_123_456_789,
            channel_id: 42,
            channel_name: "Movie Night".into(),
            webhook_url: Some("http://127.0.0.1:7/watch/status".into()),
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"session_id":"s1","url":"https://youtu.be/abc","guild_id":1234567890123456789,"channel_id":42,"channel_name":"Movie Night","webhook_url":"http://127.0.0.1:7/watch/status"}"#
        );
        let resp: StreamResponse = serde_json::from_str(
            r#"{"session_id":"s1","status":"in_progress","estimated_start_time":12.5}"#,
        )
        .unwrap();
        assert_eq!(resp.status, StreamRequestStatus::InProgress);
        assert_eq!(resp.estimated_start_time, Some(12.5));
        let health: HealthResponse = serde_json::from_str(
            r#"{"status":"degraded","sandbox_ready":false,"active_sessions":1,"version":"0.1.0"}"#,
        )
        .unwrap();
        assert_eq!(health.status, HealthStatus::Degraded);
    }

    #[test]
    fn webhook_bodies() {
        let ok = parse_status_update(
            br#"{"session_id":"s1","status":"error","message":"no\u0007 voice","error_code":"ERR_CHANNEL_NOT_FOUND","timestamp":"2026-12-07T12:00:00.250000"}"#,
        )
        .unwrap();
        assert_eq!(
            ok.event,
            WatchEvent::Failed {
                code: WatchErrorCode::ChannelNotFound,
                message: "no voice".into()
            }
        );
        assert_eq!(ok.timestamp_ms, 1_796_644_800_250);
        for (t, ms) in [
            ("2026-12-07T12:00:00Z", 1_796_644_800_000),
            ("2026-12-07T13:00:00+01:00", 1_796_644_800_000),
            ("2026-12-07 12:00:00", 1_796_644_800_000),
        ] {
            let body = format!(r#"{{"session_id":"s","status":"streaming","timestamp":"{t}"}}"#);
            assert_eq!(
                parse_status_update(body.as_bytes()).unwrap().timestamp_ms,
                ms,
                "{t}"
            );
        }
        let bad: &[(&[u8], &str)] = &[
            (b"", "not a JSON object"),
            (b"[1,2]", "not a JSON object"),
            (b"{}", "`session_id` is missing; `status` is missing; `timestamp` is missing"),
            (
                br#"{"session_id":5,"status":"paused","timestamp":"yesterday"}"#,
                "`session_id` must be a string; `timestamp` \"yesterday\" is not an ISO 8601 date-time; `status` \"paused\" is not one of starting, streaming, error, ended",
            ),
            (
                br#"{"session_id":"","status":"ended","timestamp":"2026-12-07T12:00:00Z"}"#,
                "`session_id` must be a session id",
            ),
        ];
        for (body, expected) in bad {
            let e = parse_status_update(body).unwrap_err();
            assert!(e.contains(expected), "{e}");
        }
    }
}
