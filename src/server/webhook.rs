//! `POST /watch/status`: the watch-along controller's webhook (seed 004, E4-T2), answered in
//! the seed's error shape (`{"error": "ERR_…", "message": …}`).
//!
//! No token: the controller is told this URL in its stream request and has no other secret.
//! What stands in for one is the session id, a random UUID only StreamCue and that controller
//! know; an update for any other session is refused (409) and changes nothing. A body that
//! does not follow the contract is 400 `ERR_INVALID_REQUEST` naming every problem.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

use super::http::AppState;
use crate::watch::contract::{parse_status_update, WEBHOOK_BODY_MAX};
use crate::watch::{WatchErrorCode, WebhookAnswer, WebhookRefusal};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/watch/status", post(status_update))
}

fn refusal(status: StatusCode, code: WatchErrorCode, message: String) -> Response {
    (
        status,
        Json(json!({ "error": code.wire(), "message": message })),
    )
        .into_response()
}

async fn status_update(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let invalid = WatchErrorCode::InvalidRequest;
    let body = match body {
        Ok(b) if b.len() <= WEBHOOK_BODY_MAX => b,
        Ok(_) | Err(_) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                invalid,
                format!("The body could not be read or is over {WEBHOOK_BODY_MAX} bytes."),
            )
        }
    };
    let update = match parse_status_update(&body) {
        Ok(u) => u,
        Err(problems) => {
            tracing::info!(%problems, "watch-along webhook refused: invalid body");
            return refusal(StatusCode::BAD_REQUEST, invalid, problems);
        }
    };
    match state.shared.controls.watch.webhook(update).await {
        Ok(WebhookAnswer::Applied(session)) => (
            StatusCode::OK,
            Json(json!({ "ok": true, "session_id": session.id, "status": session.status })),
        )
            .into_response(),
        Ok(WebhookAnswer::Ignored { reason }) => (
            StatusCode::OK,
            Json(json!({ "ok": true, "ignored": reason })),
        )
            .into_response(),
        Err(e @ WebhookRefusal::NotCurrent(_)) => {
            tracing::info!(error = %e, "watch-along webhook refused");
            refusal(StatusCode::CONFLICT, invalid, format!("{e}."))
        }
        Err(e @ WebhookRefusal::Gone) => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            WatchErrorCode::Unknown,
            format!("{e}."),
        ),
    }
}
