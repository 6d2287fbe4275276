//! The control API: `POST /api/…` for Stream Decks and scripts, behind the token.
//!
//! Every route needs `Authorization: Bearer <token>` (Settings → Local server); without it,
//! or with a wrong one, the answer is 401 and nothing changes. Bodies are optional JSON; every
//! error is JSON `{code, message}` with the IPC's stable codes ([`super::http::error_response`]).
//! There are no CORS headers, so a web page cannot read these answers (nor send the token).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::http::{error_response, AppState};
use crate::api::{ApiError, ErrorCode, QueueAction, RequestState};

pub(super) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/queue/{id}/{action}", post(queue_act))
        .route("/api/obs/show-again", post(show_again))
        .route("/api/recorder/{action}", post(recorder))
        .route("/api/moments/mark", post(mark_moment))
        .route_layer(middleware::from_fn_with_state(state, with_token))
}

/// 401 unless the request carries the token.
async fn with_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let message = match presented {
        Some(token) if state.shared.token.accepts(token) => return next.run(req).await,
        Some(_) => "The token is wrong (it may have been regenerated): copy it again from Settings → Local server.",
        None => "This needs StreamCue's API token: copy it from Settings → Local server and send it as `Authorization: Bearer <token>`.",
    };
    tracing::info!(path = %req.uri().path(), "local API call refused: no valid token");
    let mut res = error_response(&ApiError::new(ErrorCode::Unauthorized, message));
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"StreamCue\""),
    );
    res
}

/// The JSON body, or the default when there is none.
fn body<T: DeserializeOwned + Default>(
    bytes: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = bytes.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::TooLarge,
                format!("The body is over {} KiB.", super::http::BODY_LIMIT / 1024),
            )
        } else {
            ApiError::new(
                ErrorCode::BadRequest,
                format!("The body could not be read: {e}."),
            )
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("The body is not the JSON expected: {e}."),
        )
    })
}

fn answer<T: Serialize>(result: Result<T, ApiError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => error_response(&e),
    }
}

/// `POST /api/queue/{id}/approve|skip|retry`
async fn queue_act(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        body::<serde_json::Value>(bytes)?;
        let id: i32 = id.parse().map_err(|_| {
            ApiError::new(
                ErrorCode::BadRequest,
                format!("`{id}` is not a request id."),
            )
        })?;
        let action = match action.as_str() {
            "approve" => QueueAction::Approve,
            "skip" => QueueAction::Skip,
            "retry" => QueueAction::Retry,
            other => {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    format!("`{other}` is not a queue action: use approve, skip or retry."),
                ))
            }
        };
        tracing::info!(id, ?action, "local API: queue action");
        state.shared.controls.queue.act(id, action).await
    }
    .await;
    answer(result)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ShowAgain {
    /// The request whose clip to play; none: the one shown last.
    id: Option<i32>,
}

/// `POST /api/obs/show-again` (`{"id": n}` optional)
async fn show_again(
    State(state): State<AppState>,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let ShowAgain { id } = body(bytes)?;
        let queue = &state.shared.controls.queue;
        let id = match id {
            Some(id) => id,
            None => queue
                .view()
                .await?
                .items
                .iter()
                .filter(|i| matches!(i.state, RequestState::Shown | RequestState::Ready))
                .max_by(|a, b| a.updated_at_ms.total_cmp(&b.updated_at_ms))
                .map(|i| i.id)
                .ok_or_else(|| {
                    ApiError::new(ErrorCode::UnknownRequest, "No clip is ready or shown yet.")
                })?,
        };
        tracing::info!(id, "local API: show again");
        queue.act(id, QueueAction::ShowAgain).await
    }
    .await;
    answer(result)
}

/// `POST /api/recorder/start|stop`
async fn recorder(
    State(state): State<AppState>,
    Path(action): Path<String>,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        body::<serde_json::Value>(bytes)?;
        let recorder = &state.shared.controls.recorder;
        tracing::info!(action, "local API: recorder");
        match action.as_str() {
            "start" => recorder.start().await,
            "stop" => recorder.stop().await,
            other => Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("`{other}` is not a recorder action: use start or stop."),
            )),
        }
    }
    .await;
    answer(result)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Mark {
    note: String,
}

/// `POST /api/moments/mark` (`{"note": "…"}` optional)
async fn mark_moment(
    State(state): State<AppState>,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let Mark { note } = body(bytes)?;
        state.shared.controls.moments.mark(note).await
    }
    .await;
    answer(result)
}
