//! The co-host's LLM client: any OpenAI-compatible server (OpenAI, Ollama, llama.cpp's server,
//! LM Studio, vLLM…) through `POST {root}/v1/chat/completions`, and `GET {root}/v1/models` for
//! the Test connection button.
//!
//! - [`LlmClient::complete`] sends `model`, `messages`, `temperature`, `max_tokens` and
//!   `stream` (plus `stream_options: {include_usage: true}` when streaming) and reads a plain
//!   answer or an SSE stream, whichever the server sends (by its `Content-Type`, or a body
//!   that starts with `data:`).
//! - One *attempt* is one HTTP exchange under [`LlmEndpoint::timeout`], from sending the
//!   request to the end of the answer. Timeouts, connection failures (also a plain body cut
//!   mid-way), 408, 5xx and 429 are retried up to [`LlmEndpoint::retries`] times with
//!   exponential backoff and jitter ([`crate::chat::Backoff`]), or after the server's
//!   `Retry-After` (seconds or an HTTP date) when it sends one. A `Retry-After` over
//!   [`MAX_RETRY_AFTER`] is not waited for: the call ends at once with
//!   [`LlmError::RateLimited`] naming the wait (for a 5xx, [`LlmError::Server`]). Every other
//!   answer is final: other 4xx, a malformed or empty answer, a cut stream.
//! - A streamed answer cut before `[DONE]` is [`LlmError::StreamCut`] even when part of the
//!   text had arrived: half an answer never reaches chat. It is not retried (the server did
//!   answer, and spent the tokens; a cut that repeats would double the viewer's wait).
//! - Failures come back as a [`Failure`]: the [`LlmError`] (a sentence for the streamer) and
//!   the number of HTTP attempts made; a [`Completion`] carries its attempts too.
//!
//! Invariants:
//! - memory is bounded whatever the server sends: a body is read chunk by chunk up to
//!   [`MAX_BODY_BYTES`] and the text up to [`MAX_TEXT_CHARS`]; past either the call is
//!   [`LlmError::TooLarge`] and the connection is dropped unread;
//! - the API key is only ever in the `Authorization` header (sent only when a key is set):
//!   never in an error, a log line or `Debug` output (`Secret` prints `***`, and a server
//!   message quoting the key has it replaced);
//! - cancel-safe: the call holds no state outside its future and spawns nothing, so dropping
//!   it (the caller races it against a cancellation token) closes its connection and ends it;
//! - redirects are not followed (a key is never sent on to another host); a 3xx is
//!   [`LlmError::Refused`] asking for the address it points to;
//! - a loopback server is called without any system proxy.

mod answer;
mod endpoint;
mod error;
mod sse;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{
    HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER,
};
use reqwest::{Response, Url};
use serde::{Deserialize, Serialize};

pub use answer::MAX_TEXT_CHARS;
pub use endpoint::{
    normalise_base_url, LlmEndpoint, DEFAULT_BACKOFF_BASE, DEFAULT_RETRIES, DEFAULT_TIMEOUT,
};
pub use error::{parse_retry_after, LlmError, MAX_MESSAGE_CHARS};

use answer::{parse_plain, Answer, StreamAnswer};
use error::{classify_status, redact, whole_secs, Route, Verdict};
use sse::SseDecoder;

/// The largest answer body read (a streamed one included).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// The longest `Retry-After` waited for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// The largest error body read (only its message is kept).
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
/// The longest backoff between attempts (before jitter).
const BACKOFF_CAP: Duration = Duration::from_secs(8);

/// Who says a chat turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One message of the conversation sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatTurn {
    pub role: Role,
    pub content: String,
}

impl ChatTurn {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// What to ask.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<ChatTurn>,
    pub temperature: f32,
    pub max_tokens: u32,
}

/// Tokens counted by the server (`usage`, in a plain answer or a stream's last chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenUsage {
    pub prompt: u32,
    pub completion: u32,
    pub total: u32,
}

/// A whole answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// As the model wrote it (not yet cleaned up: that is the response processor's job).
    pub text: String,
    /// When the server said.
    pub usage: Option<TokenUsage>,
    /// HTTP attempts made (1 = no retry).
    pub attempts: u32,
    /// The whole call, retries and waits included (what the viewer waited).
    pub latency: Duration,
    /// `stop`, `length`… when the server said.
    pub finish_reason: Option<String>,
}

/// A call that failed: why, and after how many HTTP attempts (0 when none could be made) and
/// how long. Displays as the error's sentence.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}")]
pub struct Failure {
    pub error: LlmError,
    pub attempts: u32,
    pub latency: Duration,
}

impl From<Failure> for LlmError {
    fn from(f: Failure) -> Self {
        f.error
    }
}

/// The client. Cheap to clone (one connection pool shared by the clones).
#[derive(Clone)]
pub struct LlmClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: LlmEndpoint,
    /// The normalised root, for errors and logs.
    root: String,
    completions: Url,
    models: Url,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("root", &self.inner.root)
            .field("model", &self.inner.endpoint.model)
            .field("api_key", &self.inner.endpoint.api_key)
            .field("stream", &self.inner.endpoint.stream)
            .finish()
    }
}

/// One attempt's outcome when it failed.
type Attempt<T> = Result<T, Verdict>;

impl LlmClient {
    /// Checks the base URL ([`LlmError::BadUrl`]) and sets up the HTTP client.
    pub fn new(endpoint: LlmEndpoint) -> Result<Self, LlmError> {
        let root = normalise_base_url(&endpoint.base_url)?;
        let bad = || LlmError::BadUrl { url: root.clone() };
        let completions = Url::parse(&format!("{root}/v1/chat/completions")).map_err(|_| bad())?;
        let models = Url::parse(&format!("{root}/v1/models")).map_err(|_| bad())?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(endpoint.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("StreamCue/", env!("CARGO_PKG_VERSION")));
        if is_loopback(&completions) {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| LlmError::Unreachable {
            detail: format!(
                "{root} (the HTTP client could not be set up: {})",
                short(&e)
            ),
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                endpoint,
                root,
                completions,
                models,
            }),
        })
    }

    /// The endpoint as given.
    pub fn endpoint(&self) -> &LlmEndpoint {
        &self.inner.endpoint
    }

    /// The server's root (`http://127.0.0.1:11434`), the base URL normalised.
    pub fn root(&self) -> &str {
        &self.inner.root
    }

    /// Asks for one answer, with retries (see the module's doc). Cancel-safe.
    pub async fn complete(&self, request: &ChatRequest) -> Result<Completion, Failure> {
        let started = Instant::now();
        let e = &self.inner.endpoint;
        let body = self.body(request);
        let backoff = crate::chat::Backoff {
            base: e.backoff_base,
            cap: BACKOFF_CAP.max(e.backoff_base),
        };
        let max = e.retries.saturating_add(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let verdict = match self.attempt_completion(&body).await {
                Ok(answer) => {
                    let latency = started.elapsed();
                    tracing::debug!(
                        attempts = attempt,
                        latency_ms = latency.as_millis() as u64,
                        "co-host LLM answered"
                    );
                    return Ok(Completion {
                        text: answer.text,
                        usage: answer.usage,
                        attempts: attempt,
                        latency,
                        finish_reason: answer.finish_reason,
                    });
                }
                Err(verdict) => verdict,
            };
            let fail = |error: LlmError| {
                tracing::warn!(
                    attempts = attempt,
                    error = error.code(),
                    "co-host LLM call failed: {error}"
                );
                Failure {
                    error,
                    attempts: attempt,
                    latency: started.elapsed(),
                }
            };
            let (error, wait) = match verdict {
                Verdict::Final(error) => return Err(fail(error)),
                Verdict::Retry { error, wait } => (error, wait),
            };
            tracing::info!(
                attempt,
                of = max,
                error = error.code(),
                "co-host LLM attempt failed"
            );
            if let Some(wait) = wait.filter(|w| *w > MAX_RETRY_AFTER) {
                return Err(fail(match error {
                    LlmError::RateLimited { .. } => LlmError::RateLimited {
                        retry_after_s: Some(whole_secs(wait)),
                    },
                    other => other,
                }));
            }
            if attempt >= max {
                return Err(fail(error));
            }
            tokio::time::sleep(wait.unwrap_or_else(|| backoff.delay(attempt))).await;
        }
    }

    /// The models the server has (`GET /v1/models`, `data[].id`), for Test connection. One
    /// attempt, no retry: the streamer is waiting for a verdict.
    pub async fn models(&self) -> Result<Vec<String>, LlmError> {
        let exchange = async {
            let response = self
                .authorised(self.inner.http.get(self.inner.models.clone()))
                .header(ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| self.transport(&e))?;
            let status = response.status().as_u16();
            if !(200..300).contains(&status) {
                return Err(self.refusal(response, Route::Models).await);
            }
            let body = self.read_capped(response, MAX_BODY_BYTES).await?;
            parse_models(&body).map_err(Verdict::Final)
        };
        let result = match tokio::time::timeout(self.inner.endpoint.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Verdict::Retry {
                error: self.timeout(),
                wait: None,
            }),
        };
        result.map_err(|v| match v {
            Verdict::Final(error) | Verdict::Retry { error, .. } => self.clean(error),
        })
    }

    fn body(&self, request: &ChatRequest) -> serde_json::Value {
        let e = &self.inner.endpoint;
        let mut body = serde_json::json!({
            "model": e.model,
            "messages": request.messages,
            "temperature": decimal(request.temperature),
            "max_tokens": request.max_tokens,
            "stream": e.stream,
        });
        if e.stream {
            body["stream_options"] = serde_json::json!({ "include_usage": true });
        }
        body
    }

    fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.inner.endpoint.api_key {
            Some(key) if !key.expose().is_empty() => {
                match HeaderValue::from_str(&format!("Bearer {}", key.expose())) {
                    Ok(mut value) => {
                        value.set_sensitive(true);
                        request.header(AUTHORIZATION, value)
                    }
                    // A key with a newline or the like cannot be sent; the server's 401 says so.
                    Err(_) => request,
                }
            }
            _ => request,
        }
    }

    /// One attempt under the timeout.
    async fn attempt_completion(&self, body: &serde_json::Value) -> Attempt<Answer> {
        let exchange = async {
            let accept = if self.inner.endpoint.stream {
                "text/event-stream, application/json"
            } else {
                "application/json"
            };
            let response = self
                .authorised(self.inner.http.post(self.inner.completions.clone()))
                .header(ACCEPT, accept)
                .json(body)
                .send()
                .await
                .map_err(|e| self.transport(&e))?;
            let status = response.status().as_u16();
            if !(200..300).contains(&status) {
                return Err(self.refusal(response, Route::Completions).await);
            }
            let is_sse = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.to_ascii_lowercase().contains("text/event-stream"));
            if is_sse {
                self.read_stream(response).await
            } else {
                self.read_plain(response).await
            }
        };
        match tokio::time::timeout(self.inner.endpoint.timeout, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(verdict)) => Err(match verdict {
                Verdict::Final(e) => Verdict::Final(self.clean(e)),
                Verdict::Retry { error, wait } => Verdict::Retry {
                    error: self.clean(error),
                    wait,
                },
            }),
            Err(_) => Err(Verdict::Retry {
                error: self.timeout(),
                wait: None,
            }),
        }
    }

    /// A plain answer (or an SSE body sent without its content type).
    async fn read_plain(&self, response: Response) -> Attempt<Answer> {
        let body = self.read_capped(response, MAX_BODY_BYTES).await?;
        let model = &self.inner.endpoint.model;
        let start = body
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(body.len());
        if body[start..].starts_with(b"data:") || body[start..].starts_with(b":") {
            let mut decoder = SseDecoder::default();
            let mut events = Vec::new();
            decoder
                .feed(&body, &mut events)
                .and_then(|()| decoder.finish(&mut events))
                .map_err(|_| not_utf8())?;
            let mut answer = StreamAnswer::default();
            for data in &events {
                answer.push(data, model).map_err(Verdict::Final)?;
            }
            return answer.finish(true).map_err(Verdict::Final);
        }
        parse_plain(&body, model).map_err(Verdict::Final)
    }

    /// An SSE answer, event by event as it arrives; stops reading at `[DONE]`.
    async fn read_stream(&self, mut response: Response) -> Attempt<Answer> {
        let model = &self.inner.endpoint.model;
        let mut decoder = SseDecoder::default();
        let mut answer = StreamAnswer::default();
        let mut events = Vec::new();
        let mut read = 0usize;
        let clean_end = loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break true,
                Err(e) => {
                    tracing::debug!(error = %short(&e), "co-host LLM stream broke");
                    break false;
                }
            };
            read += chunk.len();
            if read > MAX_BODY_BYTES {
                return Err(Verdict::Final(LlmError::TooLarge));
            }
            decoder.feed(&chunk, &mut events).map_err(|_| not_utf8())?;
            for data in events.drain(..) {
                answer.push(&data, model).map_err(Verdict::Final)?;
            }
            if answer.done() {
                break true;
            }
        };
        if clean_end && !answer.done() {
            decoder.finish(&mut events).map_err(|_| not_utf8())?;
            for data in events.drain(..) {
                answer.push(&data, model).map_err(Verdict::Final)?;
            }
        }
        answer.finish(clean_end).map_err(Verdict::Final)
    }

    /// The body of a 2xx answer, up to `limit` bytes (more is [`LlmError::TooLarge`]).
    async fn read_capped(&self, mut response: Response, limit: usize) -> Attempt<Vec<u8>> {
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(Verdict::Final(LlmError::TooLarge));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        return Err(Verdict::Final(LlmError::TooLarge));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) => {
                    return Err(Verdict::Retry {
                        error: LlmError::Unreachable {
                            detail: format!(
                                "{} (the connection broke during the answer: {})",
                                self.inner.root,
                                short(&e)
                            ),
                        },
                        wait: None,
                    })
                }
            }
        }
    }

    /// A non-2xx answer: its status, `Retry-After` and error body, classified.
    async fn refusal(&self, mut response: Response, route: Route) -> Verdict {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, crate::clock::now_ms()));
        let mut body = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            let room = MAX_ERROR_BODY_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room <= chunk.len() {
                break;
            }
        }
        match classify_status(
            status,
            retry_after,
            &body,
            &self.inner.endpoint.model,
            route,
        ) {
            Verdict::Retry {
                error: LlmError::Timeout { .. },
                wait,
            } => Verdict::Retry {
                error: self.timeout(),
                wait,
            },
            other => other,
        }
    }

    /// A request that got no answer.
    fn transport(&self, e: &reqwest::Error) -> Verdict {
        let error = if e.is_timeout() {
            self.timeout()
        } else {
            LlmError::Unreachable {
                detail: format!("{} ({})", self.inner.root, short(e)),
            }
        };
        Verdict::Retry { error, wait: None }
    }

    fn timeout(&self) -> LlmError {
        LlmError::Timeout {
            after_s: whole_secs(self.inner.endpoint.timeout),
        }
    }

    /// `error` with the API key, if a server quoted it, replaced by `***`.
    fn clean(&self, error: LlmError) -> LlmError {
        redact(
            error,
            self.inner.endpoint.api_key.as_ref().map(|k| k.expose()),
        )
    }
}

/// An `f32` as the decimal it was written as (`0.7`, not `0.699999988079071`); a temperature
/// that is not a number is sent as OpenAI's default, 1.
fn decimal(x: f32) -> f64 {
    if !x.is_finite() {
        return 1.0;
    }
    x.to_string().parse().unwrap_or(f64::from(x))
}

fn not_utf8() -> Verdict {
    Verdict::Final(LlmError::Malformed {
        what: "a streamed line is not UTF-8".into(),
    })
}

/// `data[].id` of a `/v1/models` answer.
fn parse_models(body: &[u8]) -> Result<Vec<String>, LlmError> {
    let malformed = |what: &str| LlmError::Malformed { what: what.into() };
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| malformed("the model list is not JSON"))?;
    let data = value
        .get("data")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| malformed("the model list has no `data`"))?;
    Ok(data
        .iter()
        .filter_map(|m| m.get("id").and_then(serde_json::Value::as_str))
        .map(str::to_string)
        .collect())
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// The innermost cause of a reqwest error, short (`Connection refused (os error 111)`).
fn short(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut innermost = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        innermost = Some(s.to_string());
        source = s.source();
    }
    let text = innermost.unwrap_or_else(|| {
        if e.is_connect() {
            "connection failed".into()
        } else {
            "request failed".into()
        }
    });
    text.chars().take(160).collect()
}

#[cfg(test)]
mod tests;
