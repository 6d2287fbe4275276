//! The local server's HTTP side: the routes, the guards, and the accept loop.
//!
//! Guards, in order: at most [`MAX_CONNECTIONS`] connections at once (a connection over the cap
//! is closed at once); request headers within [`HEADER_TIMEOUT`]; the `Host` header must name
//! this server (`127.0.0.1:PORT` or `localhost:PORT`), so a web page that rebinds a DNS name to
//! 127.0.0.1 gets 421; request bodies over [`BODY_LIMIT`] get 413.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream::Stream;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Shared;
use crate::api::{ApiError, CoreEvent, ErrorCode};
use crate::clock::now_ms;

/// Connections served at once (event-stream clients included).
pub const MAX_CONNECTIONS: usize = 256;
/// How long a client may take to send its request headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;
/// How long the database write probe of `/health` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Connections the kernel holds before they are accepted. The default (128) overflows when
/// hundreds of overlays and dashboards reconnect at once after a restart (each overflowed one
/// waits a second to retry: measured by `scripts/bench-sse.sh`).
const LISTEN_BACKLOG: u32 = 1024;

/// Binds 127.0.0.1:`port` (0: any free port). Never another interface.
pub async fn listen(port: u16) -> std::io::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    // As std's bind does: a restarted StreamCue can listen again at once.
    socket.set_reuseaddr(true)?;
    socket.bind((std::net::Ipv4Addr::LOCALHOST, port).into())?;
    socket.listen(LISTEN_BACKLOG)
}

#[derive(Clone)]
pub(super) struct AppState {
    pub(super) shared: Arc<Shared>,
    /// The `Host` values this server answers to.
    hosts: Arc<[String; 2]>,
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/events", get(events))
        .merge(super::overlay::routes())
        .merge(super::control::routes(state.clone()))
        .merge(super::webhook::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), only_our_host))
        .with_state(state)
}

/// Serves connections from `listener` until `cancel`.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    tracker: TaskTracker,
) {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let app = router(AppState {
        shared,
        hosts: Arc::new([format!("127.0.0.1:{port}"), format!("localhost:{port}")]),
    });
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, _) = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, go on.
                    tracing::warn!(error = %e, "local server: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!("local server: too many connections, one refused");
            continue; // dropping the stream closes it
        };
        let service = TowerToHyperService::new(app.clone());
        let cancel = cancel.clone();
        tracker.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = cancel.cancelled() => conn.as_mut().graceful_shutdown(),
            }
            drop(permit);
        });
    }
}

/// 421 for a request whose `Host` is not this server (DNS rebinding).
async fn only_our_host(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !state.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        let message = format!(
            "This server answers to {} (or {}) only.",
            state.hosts[0], state.hosts[1]
        );
        return error_response(&ApiError::new(ErrorCode::WrongHost, message));
    }
    next.run(req).await
}

/// JSON `{code, message}` (the IPC's error type) with the HTTP status its code stands for.
pub(super) fn error_response(e: &ApiError) -> Response {
    (status_of(e.code), axum::Json(e)).into_response()
}

/// The one mapping from the stable error codes to HTTP statuses.
fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        InvalidChannel | InvalidSettings | BadRequest => StatusCode::BAD_REQUEST,
        Unauthorized => StatusCode::UNAUTHORIZED,
        UnknownRequest | UnknownMoment | UnknownSession | UnknownDraft | FileNotFound => {
            StatusCode::NOT_FOUND
        }
        AlreadyConnected | NotConnected | InvalidTransition => StatusCode::CONFLICT,
        TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        WrongHost => StatusCode::MISDIRECTED_REQUEST,
        Obs | Generator | Cohost | ShuttingDown | StartupFailed | DatabaseLocked
        | DatabaseTooNew | DatabaseCorrupt | DatabaseUnusable => StatusCode::SERVICE_UNAVAILABLE,
        Recorder => StatusCode::CONFLICT,
        Login | Database | Keyring | Folder | Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn not_found(req: Request) -> Response {
    error_response(&ApiError::new(
        ErrorCode::BadRequest,
        format!(
            "Nothing at {} {}. The local server has GET /health, /metrics, /events, /overlay and POST /api/….",
            req.method(),
            req.uri().path()
        ),
    ))
    .map_status(StatusCode::NOT_FOUND)
}

/// Sets a response's status (for the few answers whose status is not their code's).
trait MapStatus {
    fn map_status(self, status: StatusCode) -> Self;
}

impl MapStatus for Response {
    fn map_status(mut self, status: StatusCode) -> Self {
        *self.status_mut() = status;
        self
    }
}

async fn health(State(state): State<AppState>) -> Response {
    let shared = &state.shared;
    let stamp = now_ms().to_string();
    let probe = shared.db.settings().set("server.health_probe", &stamp);
    let database = match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
    };
    let report = match shared.health.lock() {
        Ok(h) => h.report(
            database,
            env!("CARGO_PKG_VERSION"),
            shared.started.elapsed().as_secs(),
        ),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let code = StatusCode::from_u16(report.http_status()).unwrap_or(StatusCode::OK);
    (code, axum::Json(report)).into_response()
}

/// OpenMetrics when the client asks for it (Prometheus does), else the classic text format.
async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let text = match state.shared.metrics.lock() {
        Ok(m) => m.encode(),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    let (body, content_type) = if openmetrics {
        (
            text,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
    } else {
        (
            super::metrics::to_prometheus_text(&text),
            "text/plain; version=0.0.4; charset=utf-8",
        )
    };
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// The window's events as Server-Sent Events (`event: <kind>`, `data: <json>`). A client that
/// falls behind gets `event: resync` and goes on with the newest events.
async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.shared.events.subscribe();
    let client = ClientCount::join(&state.shared);
    let stream = futures_util::stream::unfold((rx, client), |(mut rx, client)| async move {
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(_)) => CoreEvent::Resync,
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            let Ok(json) = serde_json::to_value(&event) else {
                continue;
            };
            let kind = json
                .get("kind")
                .and_then(|k| k.as_str())
                .unwrap_or("event")
                .to_string();
            let sse = Event::default().event(kind).data(json.to_string());
            return Some((Ok(sse), (rx, client)));
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// One event-stream client, counted while its stream lives (the window shows the count).
struct ClientCount(Arc<Shared>);

impl ClientCount {
    fn join(shared: &Arc<Shared>) -> Self {
        shared.clients.send_modify(|n| *n += 1);
        Self(shared.clone())
    }
}

impl Drop for ClientCount {
    fn drop(&mut self) {
        self.0.clients.send_modify(|n| *n = n.saturating_sub(1));
    }
}
