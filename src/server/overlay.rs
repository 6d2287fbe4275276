//! The OBS overlay page: `GET /overlay` (the UI build's `overlay.html`), its `GET /assets/…`,
//! and `GET /overlay/snapshot`, the first state it then keeps current from `/events`.
//!
//! Read-only and without a token, like `/events`: an OBS browser source cannot send one. The
//! page's Content-Security-Policy lets it load only from this server.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::http::{error_response, AppState};
use crate::api::{ApiError, ErrorCode, OverlaySnapshot};

const CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/overlay", get(page))
        .route("/overlay/snapshot", get(snapshot))
        .route("/assets/{file}", get(asset))
}

async fn page(State(state): State<AppState>) -> Response {
    serve(&state, "overlay.html", "no-cache")
}

async fn asset(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    // Vite names them by content hash: they never change under the same name.
    serve(
        &state,
        &format!("assets/{file}"),
        "public, max-age=31536000, immutable",
    )
}

fn serve(state: &AppState, path: &str, cache: &'static str) -> Response {
    let Some(assets) = &state.shared.assets else {
        return error_response(&ApiError::new(
            ErrorCode::FileNotFound,
            "This StreamCue was built without its web UI, so there is no overlay page.",
        ));
    };
    let Some(file) = assets.get(path) else {
        return error_response(&ApiError::new(
            ErrorCode::FileNotFound,
            format!("No file {path} in StreamCue's web UI."),
        ));
    };
    let mut res = file.bytes.into_response();
    let headers = res.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(&file.mime) {
        headers.insert(header::CONTENT_TYPE, mime);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

async fn snapshot(State(state): State<AppState>) -> Response {
    let controls = &state.shared.controls;
    let result = async {
        Ok::<_, ApiError>(OverlaySnapshot {
            queue: controls.queue.view().await?,
            moments: controls.moments.latest().await?,
            watch: controls.watch.view_now(),
        })
    }
    .await;
    match result {
        Ok(snap) => Json(snap).into_response(),
        Err(e) => error_response(&e),
    }
}
