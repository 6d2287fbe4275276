//! The external controller's client (seed 004, E2-T3 + E4-T5): `POST {base}/stream`,
//! `POST {base}/stop/{session_id}`, `GET {base}/health`.
//!
//! - One `reqwest::Client` per controller, so connections are reused (the seed's "session not
//!   recreated each call").
//! - Each request has its own timeout (30 s by default). Timeouts, connection failures and 5xx
//!   are retried 3 times, after 1, 2 and 4 s (the seed's `2 ** attempt`); 4xx never is: 409 is
//!   [`ControllerError::Busy`], other 4xx [`ControllerError::Refused`] with the controller's
//!   own `error`/`message` when its body has them.
//! - The delays run on tokio's clock, so tests check them under paused time.
//!
//! Invariants: bodies are read up to [`MAX_BODY_BYTES`]; redirects are not followed; an error
//! names what failed and what to check, and maps to one [`WatchErrorCode`].

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

use super::codes::WatchErrorCode;
use super::contract::{HealthResponse, StreamRequest, StreamResponse};

/// The seed's per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Waits before the 2nd, 3rd and 4th attempt.
pub const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];
/// The largest answer read from a controller.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControllerError {
    #[error("the controller address {0:?} is not an http(s) URL")]
    BadAddress(String),
    #[error(
        "the controller at {base} did not answer ({what}) after {attempts} attempts: check that it runs and the address in Settings → Watch-along"
    )]
    Unreachable {
        base: String,
        what: String,
        attempts: u32,
    },
    #[error("the controller at {base} kept failing (HTTP {status}) after {attempts} attempts")]
    ServerError {
        base: String,
        status: u16,
        attempts: u32,
    },
    #[error("the controller is already streaming something else")]
    Busy,
    #[error("the controller refused (HTTP {status}): {message}")]
    Refused {
        status: u16,
        code: WatchErrorCode,
        message: String,
    },
    #[error("the controller's answer was not what the contract says ({0})")]
    Malformed(String),
}

impl ControllerError {
    /// The watch-along code the requester is given.
    pub fn code(&self) -> WatchErrorCode {
        match self {
            ControllerError::BadAddress(_) | ControllerError::Unreachable { .. } => {
                WatchErrorCode::SandboxFailed
            }
            ControllerError::ServerError { .. } | ControllerError::Malformed(_) => {
                WatchErrorCode::Unknown
            }
            ControllerError::Busy => WatchErrorCode::Busy,
            ControllerError::Refused { code, .. } => *code,
        }
    }
}

/// A result and how many HTTP attempts it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempted<T> {
    pub value: T,
    pub attempts: u32,
}

/// The client of one controller.
#[derive(Debug, Clone)]
pub struct ControllerClient {
    http: reqwest::Client,
    base: Url,
    timeout: Duration,
    delays: Vec<Duration>,
}

impl ControllerClient {
    pub fn new(base: &str, timeout: Duration) -> Result<Self, ControllerError> {
        let trimmed = base.trim().trim_end_matches('/');
        let base = Url::parse(&format!("{trimmed}/"))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| ControllerError::BadAddress(base.to_string()))?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90));
        if base
            .host_str()
            .is_some_and(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]")
        {
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .map_err(|e| ControllerError::BadAddress(e.to_string()))?;
        Ok(Self {
            http,
            base,
            timeout,
            delays: RETRY_DELAYS.to_vec(),
        })
    }

    /// The address as normalised (ends with `/`).
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `POST /stream`. `rejected` comes back as [`ControllerError::Refused`].
    pub async fn start_stream(
        &self,
        req: &StreamRequest,
    ) -> Result<Attempted<StreamResponse>, ControllerError> {
        let body =
            serde_json::to_vec(req).map_err(|e| ControllerError::Malformed(e.to_string()))?;
        let got: Attempted<StreamResponse> = self
            .call(reqwest::Method::POST, "stream", Some(body))
            .await?;
        if got.value.status == super::contract::StreamRequestStatus::Rejected {
            let message = got
                .value
                .message
                .clone()
                .unwrap_or_else(|| "no reason given".into());
            return Err(ControllerError::Refused {
                status: 200,
                code: got
                    .value
                    .error_code
                    .as_deref()
                    .map(WatchErrorCode::from_wire)
                    .unwrap_or(WatchErrorCode::ShareFailed),
                message,
            });
        }
        Ok(got)
    }

    /// `POST /stop/{session_id}` (its body, if any, is not needed).
    pub async fn stop_stream(&self, session_id: &str) -> Result<Attempted<()>, ControllerError> {
        let path = format!("stop/{}", urlencode(session_id));
        let got: Attempted<serde_json::Value> =
            self.call_lenient(reqwest::Method::POST, &path).await?;
        Ok(Attempted {
            value: (),
            attempts: got.attempts,
        })
    }

    /// `GET /health`.
    pub async fn health(&self) -> Result<Attempted<HealthResponse>, ControllerError> {
        self.call(reqwest::Method::GET, "health", None).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Attempted<T>, ControllerError> {
        let (bytes, attempts) = self.exchange(method, path, body).await?;
        serde_json::from_slice(&bytes)
            .map(|value| Attempted { value, attempts })
            .map_err(|e| ControllerError::Malformed(format!("{path}: {e}")))
    }

    /// Like `call`, but an empty or non-JSON 2xx body is fine.
    async fn call_lenient(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<Attempted<serde_json::Value>, ControllerError> {
        let (bytes, attempts) = self.exchange(method, path, None).await?;
        Ok(Attempted {
            value: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
            attempts,
        })
    }

    /// One request with the seed's retries: the 2xx body and the attempts made.
    async fn exchange(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(Vec<u8>, u32), ControllerError> {
        let url = self
            .base
            .join(path)
            .map_err(|_| ControllerError::BadAddress(format!("{}{path}", self.base)))?;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .timeout(self.timeout)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = &body {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(b.clone());
            }
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    match read_capped(resp).await {
                        Ok(bytes) if status.is_success() => return Ok((bytes, attempts)),
                        Ok(_) if status.is_server_error() => Retry::Status(status),
                        Ok(bytes) => return Err(refusal(status, &bytes)),
                        Err(e) => Retry::Failed(e),
                    }
                }
                Err(e) => Retry::Failed(describe(&e)),
            };
            let Some(delay) = self.delays.get(attempts as usize - 1) else {
                return Err(match outcome {
                    Retry::Status(status) => ControllerError::ServerError {
                        base: self.base.to_string(),
                        status: status.as_u16(),
                        attempts,
                    },
                    Retry::Failed(what) => ControllerError::Unreachable {
                        base: self.base.to_string(),
                        what,
                        attempts,
                    },
                });
            };
            tracing::info!(%url, attempts, ?outcome, "watch-along controller: retrying in {delay:?}");
            tokio::time::sleep(*delay).await;
        }
    }
}

#[derive(Debug)]
enum Retry {
    Status(StatusCode),
    Failed(String),
}

/// A 4xx: 409 is busy; otherwise the controller's `error` code and `message` if it sent them.
fn refusal(status: StatusCode, body: &[u8]) -> ControllerError {
    if status == StatusCode::CONFLICT {
        return ControllerError::Busy;
    }
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let code = field("error")
        .or_else(|| field("error_code"))
        .map(|c| WatchErrorCode::from_wire(&c))
        .unwrap_or(match status.as_u16() {
            400 | 422 => WatchErrorCode::InvalidRequest,
            401 | 403 => WatchErrorCode::LoginFailed,
            402 => WatchErrorCode::BudgetExceeded,
            404 => WatchErrorCode::ChannelNotFound,
            _ => WatchErrorCode::Unknown,
        });
    let message = field("message")
        .or_else(|| field("detail"))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("refused").to_string());
    ControllerError::Refused {
        status: status.as_u16(),
        code,
        message: message
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect(),
    }
}

async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(format!("an answer over {MAX_BODY_BYTES} bytes"));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) => return Err(describe(&e)),
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "the connection failed".into()
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl ControllerClient {
    /// Other waits between attempts (their number is the number of retries); for tests.
    pub fn with_delays(mut self, delays: Vec<Duration>) -> Self {
        self.delays = delays;
        self
    }
}
