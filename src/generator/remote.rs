//! The remote backend: asks an HTTP endpoint for a clip URL (`docs/generation-endpoint.md`).
//!
//! One *attempt* is `POST /generate`, then any redirect hops (each with the per-attempt
//! timeout) or job polls, up to a clip URL. Timeouts, unreachable hosts, 5xx and 429 are
//! retried with backoff and jitter (429/503 wait for `Retry-After`); other answers are final.
//! Credentials go only to the endpoint's own origin, never to a redirect elsewhere.

use std::time::Duration;

use reqwest::{header, Method, StatusCode, Url};

use super::clock;
use super::contract::{parse_answer, Answer, SignedUrl};
use super::download::short_error;
use super::error::{error_detail, GenerationError};
use crate::chat::Backoff;
use crate::secrets::Secret;

/// The largest answer body read (JSON answers are tiny; error pages may not be).
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct RemoteOptions {
    /// `https://host/path`, no trailing slash.
    pub base: String,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub max_hops: u32,
    pub poll_every: Duration,
    /// Modal proxy auth: `Modal-Key`, `Modal-Secret`.
    pub credentials: Option<(Secret, Secret)>,
}

/// What `GET /health` said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    /// The endpoint answers but has no `/health` (404/405).
    NoHealthRoute,
}

/// Why a base URL typed by the streamer was refused (the text is what they read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    #[error("the base URL is not a URL ({0})")]
    NotAUrl(String),
    #[error("the base URL must start with https:// (or http://)")]
    NotHttp,
    #[error("the base URL must be a host and path, without ? or #")]
    NotHostAndPath,
    #[error("put credentials in the Modal key and secret fields, not in the URL")]
    CredentialsInUrl,
}

/// Checks and normalises a base URL typed by the streamer.
pub fn normalise_base_url(text: &str) -> Result<String, BaseUrlError> {
    let text = text.trim().trim_end_matches('/');
    let url = Url::parse(text).map_err(|e| BaseUrlError::NotAUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(BaseUrlError::NotHttp);
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(BaseUrlError::NotHostAndPath);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BaseUrlError::CredentialsInUrl);
    }
    Ok(text.to_string())
}

enum Fail {
    Retry {
        cause: Cause,
        wait: Option<Duration>,
    },
    Fatal(GenerationError),
}

enum Cause {
    Timeout,
    Unreachable(String),
    Status(u16, String),
    RateLimited,
}

pub struct RemoteBackend {
    client: reqwest::Client,
    options: RemoteOptions,
}

impl RemoteBackend {
    pub fn new(options: RemoteOptions) -> Result<Self, GenerationError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.timeout.min(Duration::from_secs(20)))
            .user_agent(concat!("StreamCue/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GenerationError::Unreachable {
                detail: short_error(&e),
                attempts: 0,
            })?;
        Ok(Self { client, options })
    }

    /// The HTTP client (downloads share its connection pool and TLS set-up).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    fn url(&self, path: &str) -> Result<Url, GenerationError> {
        Url::parse(&format!("{}{path}", self.options.base)).map_err(|e| {
            GenerationError::BadAnswer {
                detail: format!("cannot build the URL ({e})"),
            }
        })
    }

    /// Asks for a clip with retries; `on_attempt(n)` is called as attempt `n` starts.
    pub async fn request_clip(
        &self,
        prompt: &str,
        request_id: &str,
        on_attempt: &mut (dyn FnMut(u32) + Send),
        on_waiting: &mut (dyn FnMut() + Send),
    ) -> Result<SignedUrl, GenerationError> {
        let body = serde_json::json!({ "prompt": prompt, "request_id": request_id });
        let max = self.options.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            on_attempt(attempt);
            let (cause, wait) = match self.attempt(&body, on_waiting).await {
                Ok(url) => return Ok(url),
                Err(Fail::Fatal(e)) => return Err(e),
                Err(Fail::Retry { cause, wait }) => (cause, wait),
            };
            tracing::info!(
                request_id,
                attempt,
                cause = cause_name(&cause),
                "generation attempt failed"
            );
            if attempt >= max {
                return Err(cause.into_error(attempt, self.options.timeout));
            }
            let delay = wait.unwrap_or_else(|| self.options.backoff.delay(attempt));
            tokio::time::sleep(delay.min(MAX_RETRY_AFTER)).await;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        body: &serde_json::Value,
        on_waiting: &mut (dyn FnMut() + Send),
    ) -> Result<SignedUrl, Fail> {
        let generate = self.url("/generate").map_err(Fail::Fatal)?;
        let mut answer = self
            .send(Method::POST, generate.clone(), Some(body))
            .await?;
        let mut hops = 0;
        loop {
            let (status, location, retry_after, bytes, at) = answer;
            if status.is_redirection() {
                hops += 1;
                if hops > self.options.max_hops {
                    return Err(Fail::Fatal(GenerationError::TooManyRedirects {
                        hops: self.options.max_hops,
                    }));
                }
                let target = location
                    .and_then(|l| at.join(&l).ok())
                    .ok_or_else(|| bad("a redirect without a usable Location"))?;
                let (method, body) = match status.as_u16() {
                    307 | 308 => (Method::POST, Some(body)),
                    _ => (Method::GET, None),
                };
                answer = self.send(method, target, body).await?;
                continue;
            }
            if !status.is_success() {
                return Err(classify(status, retry_after, &bytes));
            }
            return match parse_answer(&bytes, &at).map_err(|e| bad(&e.to_string()))? {
                Answer::Clip(url) => Ok(url),
                Answer::Job { call_id } => {
                    on_waiting();
                    self.poll(&call_id).await
                }
            };
        }
    }

    async fn poll(&self, call_id: &str) -> Result<SignedUrl, Fail> {
        let url = self
            .url(&format!("/result/{call_id}"))
            .map_err(Fail::Fatal)?;
        loop {
            let (status, _, retry_after, bytes, at) =
                self.send(Method::GET, url.clone(), None).await?;
            if status == StatusCode::ACCEPTED {
                let wait = retry_after.unwrap_or(self.options.poll_every);
                tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await;
                continue;
            }
            if !status.is_success() {
                return Err(classify(status, retry_after, &bytes));
            }
            return match parse_answer(&bytes, &at).map_err(|e| bad(&e.to_string()))? {
                Answer::Clip(url) => Ok(url),
                Answer::Job { .. } => Err(bad("a finished job answered with another call_id")),
            };
        }
    }

    /// One HTTP exchange with the per-attempt timeout: (status, Location, Retry-After, body
    /// (capped), the URL answered).
    async fn send(
        &self,
        method: Method,
        url: Url,
        json: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, Option<String>, Option<Duration>, Vec<u8>, Url), Fail> {
        let mut request = self
            .client
            .request(method, url.clone())
            .header(header::ACCEPT, "application/json");
        if let Some(json) = json {
            request = request.json(json);
        }
        if let Some((key, secret)) = &self.options.credentials {
            if same_origin(&url, &self.options.base) {
                request = request
                    .header("Modal-Key", key.expose())
                    .header("Modal-Secret", secret.expose());
            }
        }
        let exchange = async {
            let mut response = request.send().await?;
            let status = response.status();
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok::<_, reqwest::Error>((status, location, retry_after, body, url))
        };
        match tokio::time::timeout(self.options.timeout, exchange).await {
            Err(_) => Err(Fail::Retry {
                cause: Cause::Timeout,
                wait: None,
            }),
            Ok(Err(e)) if e.is_timeout() => Err(Fail::Retry {
                cause: Cause::Timeout,
                wait: None,
            }),
            Ok(Err(e)) => Err(Fail::Retry {
                cause: Cause::Unreachable(short_error(&e)),
                wait: None,
            }),
            Ok(Ok(answer)) => Ok(answer),
        }
    }

    /// `GET {base}/health`.
    pub async fn health(&self) -> Result<Health, GenerationError> {
        let url = self.url("/health")?;
        let timeout = self.options.timeout;
        match self.send(Method::GET, url, None).await {
            Ok((status, _, _, _, _)) if status.is_success() => Ok(Health::Healthy),
            Ok((status, _, _, _, _)) if matches!(status.as_u16(), 404 | 405) => {
                Ok(Health::NoHealthRoute)
            }
            Ok((status, _, retry_after, bytes, _)) => {
                Err(match classify(status, retry_after, &bytes) {
                    Fail::Fatal(e) => e,
                    Fail::Retry { cause, .. } => cause.into_error(1, timeout),
                })
            }
            Err(Fail::Retry { cause, .. }) => Err(cause.into_error(1, timeout)),
            Err(Fail::Fatal(e)) => Err(e),
        }
    }
}

impl Cause {
    /// The error after `attempts` attempts ended with this cause.
    fn into_error(self, attempts: u32, timeout: Duration) -> GenerationError {
        match self {
            Cause::Timeout => GenerationError::Timeout {
                after: timeout,
                attempts,
            },
            Cause::Unreachable(detail) => GenerationError::Unreachable { detail, attempts },
            Cause::Status(status, detail) => GenerationError::Server {
                status,
                attempts,
                detail,
            },
            Cause::RateLimited => GenerationError::RateLimited { attempts },
        }
    }
}

fn cause_name(c: &Cause) -> &'static str {
    match c {
        Cause::Timeout => "timeout",
        Cause::Unreachable(_) => "unreachable",
        Cause::Status(..) => "server_error",
        Cause::RateLimited => "rate_limited",
    }
}

fn bad(detail: &str) -> Fail {
    Fail::Fatal(GenerationError::BadAnswer {
        detail: detail.to_string(),
    })
}

fn classify(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> Fail {
    let code = status.as_u16();
    match code {
        401 | 403 => Fail::Fatal(GenerationError::Unauthorized { status: code }),
        429 => Fail::Retry {
            cause: Cause::RateLimited,
            wait: retry_after,
        },
        408 => Fail::Retry {
            cause: Cause::Timeout,
            wait: retry_after,
        },
        500..=599 => Fail::Retry {
            cause: Cause::Status(code, error_detail(body)),
            wait: retry_after,
        },
        _ => Fail::Fatal(GenerationError::Refused {
            status: code,
            detail: error_detail(body),
        }),
    }
}

fn same_origin(url: &Url, base: &str) -> bool {
    Url::parse(base).is_ok_and(|b| b.origin() == url.origin())
}

/// `Retry-After`: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = clock::parse_http_date(value)?;
    Some(Duration::from_secs((at - clock::now_unix()).max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_normalised() {
        assert_eq!(
            normalise_base_url(" https://me--gen.modal.run/ ").unwrap(),
            "https://me--gen.modal.run"
        );
        assert_eq!(
            normalise_base_url("http://127.0.0.1:8000/api").unwrap(),
            "http://127.0.0.1:8000/api"
        );
        for bad in [
            "",
            "me.modal.run",
            "ftp://x",
            "https://x/?a=1",
            "https://u:p@x",
        ] {
            assert!(normalise_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-3"), None);
    }

    #[test]
    fn statuses_are_classified() {
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, None, b""),
            Fail::Fatal(GenerationError::Unauthorized { status: 401 })
        ));
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, None, br#"{"error":"no"}"#),
            Fail::Fatal(GenerationError::Refused { status: 400, .. })
        ));
        assert!(matches!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                Some(Duration::from_secs(3)),
                b""
            ),
            Fail::Retry {
                cause: Cause::RateLimited,
                wait: Some(_)
            }
        ));
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, None, b""),
            Fail::Retry {
                cause: Cause::Status(502, _),
                ..
            }
        ));
    }
}
