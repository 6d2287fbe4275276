//! A fake watch-along controller (seed 004's CUA controller contract) over real HTTP on
//! 127.0.0.1: `POST /stream`, `POST /stop/{session_id}`, `GET /health`, and webhooks it sends
//! back to the `webhook_url` a stream request carried (`POST` a StatusUpdate JSON body).
//!
//! Scriptable: [`Fault`]s, one per call in order (then none); what `/health` says; whether an
//! accepted stream reports `starting` and `streaming` by itself ([`FakeController::set_auto`]);
//! and [`FakeController::send_status`] to post any update (out of order, wrong id, bad body)
//! as the test wants. Every request is recorded with the time it arrived.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use crate::http::Recorded;
use crate::http::{json as json_answer, Body};
use crate::serve::{serve_http, Loopback};

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and a `{"error","message"}` body.
    Status(u16),
    /// Never answer.
    Hang,
    /// A 200 whose body is not JSON.
    Malformed,
    /// `POST /stream`: `{"status":"rejected"}` with this code and message.
    Reject { code: String, message: String },
}

struct State {
    faults: VecDeque<Fault>,
    requests: Vec<Recorded>,
    health: Value,
    auto: bool,
    webhooks: Vec<(String, u16)>,
    active: Option<String>,
}

pub struct FakeController {
    server: Loopback,
    state: Arc<Mutex<State>>,
}

impl FakeController {
    pub async fn start() -> FakeController {
        let state = Arc::new(Mutex::new(State {
            faults: VecDeque::new(),
            requests: Vec::new(),
            health: json!({"status": "healthy", "sandbox_ready": true, "active_sessions": 0, "version": "fake-1.0"}),
            auto: true,
            webhooks: Vec::new(),
            active: None,
        }));
        let st = state.clone();
        let server = serve_http(move |req| serve(st.clone(), req))
            .await
            .expect("bind fake controller");
        FakeController { server, state }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().unwrap().faults.extend(faults);
    }

    pub fn set_health(&self, health: Value) {
        self.state.lock().unwrap().health = health;
    }

    /// Whether an accepted stream posts `starting` then `streaming` by itself (default on).
    pub fn set_auto(&self, on: bool) {
        self.state.lock().unwrap().auto = on;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Requests to this route (`/stream`, `/health`, or a `/stop/…` prefix).
    pub fn calls(&self, route_prefix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.route().starts_with(route_prefix))
            .collect()
    }

    /// Webhooks sent: (body, the status StreamCue answered).
    pub fn webhooks(&self) -> Vec<(String, u16)> {
        self.state.lock().unwrap().webhooks.clone()
    }

    /// The session id of the last accepted stream, and its webhook URL.
    pub fn last_stream(&self) -> Option<(String, String)> {
        self.calls("/stream").last().and_then(|r| {
            let j = r.json()?;
            Some((
                j["session_id"].as_str()?.to_string(),
                j["webhook_url"].as_str()?.to_string(),
            ))
        })
    }

    /// Posts a StatusUpdate to `webhook_url` (as the controller does); returns StreamCue's
    /// answer: its status and body.
    pub async fn send_status(
        &self,
        webhook_url: &str,
        session_id: &str,
        status: &str,
        error_code: Option<&str>,
    ) -> (u16, String) {
        let body = json!({
            "session_id": session_id,
            "status": status,
            "message": format!("fake controller: {status}"),
            "error_code": error_code,
            "timestamp": "2026-12-07T12:00:00.000000",
        })
        .to_string();
        let answer = post_raw(webhook_url, &body).await;
        self.state.lock().unwrap().webhooks.push((body, answer.0));
        answer
    }
}

/// One HTTP/1.1 POST of `body` (JSON) to `url`; the status and body answered (0 when it
/// could not connect or read).
pub async fn post_raw(url: &str, body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(Ok(mut stream)) =
        tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(host)).await
    else {
        return (0, String::new());
    };
    let head = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if stream.write_all(head.as_bytes()).await.is_err()
        || stream.write_all(body.as_bytes()).await.is_err()
    {
        return (0, String::new());
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

async fn serve(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Response<Body> {
    let req = match Recorded::read(req, 64 * 1024).await {
        Ok(r) => r,
        Err(refusal) => return refusal,
    };
    let (fault, health, auto) = {
        let mut s = state.lock().unwrap();
        s.requests.push(req.clone());
        (s.faults.pop_front(), s.health.clone(), s.auto)
    };
    match fault {
        Some(Fault::Hang) => return std::future::pending().await,
        Some(Fault::Status(code)) => {
            return json_answer(
                code,
                &json!({"error": if code == 409 { "ERR_BUSY" } else { "ERR_UNKNOWN" }, "message": format!("fake controller says {code}")}),
            )
        }
        Some(Fault::Malformed) => return crate::http::answer(200, "application/json", "{not json"),
        _ => {}
    }
    let route = req.route().to_string();
    match (req.method.as_str(), route.as_str()) {
        ("GET", "/health") => json_answer(200, &health),
        ("POST", "/stream") => {
            let Some(body) = req.json() else {
                return json_answer(
                    400,
                    &json!({"error": "ERR_INVALID_REQUEST", "message": "not JSON"}),
                );
            };
            let id = body["session_id"].as_str().unwrap_or_default().to_string();
            if let Some(Fault::Reject { code, message }) = fault {
                return json_answer(
                    200,
                    &json!({"session_id": id, "status": "rejected", "message": message, "error_code": code}),
                );
            }
            state.lock().unwrap().active = Some(id.clone());
            if auto {
                if let Some(hook) = body["webhook_url"].as_str().map(str::to_owned) {
                    let (st, id) = (state.clone(), id.clone());
                    tokio::spawn(async move {
                        for status in ["starting", "streaming"] {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            let b = json!({"session_id": id, "status": status, "message": null, "error_code": null, "timestamp": "2026-12-07T12:00:00Z"}).to_string();
                            let answer = post_raw(&hook, &b).await;
                            st.lock().unwrap().webhooks.push((b, answer.0));
                        }
                    });
                }
            }
            json_answer(
                200,
                &json!({"session_id": id, "status": "accepted", "message": "on it", "estimated_start_time": 0.2}),
            )
        }
        ("POST", r) if r.starts_with("/stop/") => {
            state.lock().unwrap().active = None;
            json_answer(200, &json!({"stopped": true}))
        }
        _ => json_answer(404, &json!({"error": "not found"})),
    }
}
