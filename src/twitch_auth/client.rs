//! `TwitchId`: the HTTP client for Twitch's identity service (`id.twitch.tv`), and the small
//! endpoints that are one request each: validate, refresh, revoke.
//!
//! Every request has a timeout and races a `CancellationToken`; every function is also
//! cancel-safe (dropping the future drops the request). Tokens travel only in headers or form
//! bodies, never in URLs, and are never logged or put into an error.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::error::{clip, network_error, AuthError};
use super::token::{Scopes, TokenInfo, UserToken};
use crate::secrets::Secret;

/// Where Twitch's identity service is.
pub const DEFAULT_BASE_URL: &str = "https://id.twitch.tv";
/// How long one request to Twitch may take, connect to last byte.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Answers bigger than this are not Twitch's (its largest is well under 1 KiB).
const MAX_BODY: usize = 64 * 1024;

/// A client for `id.twitch.tv` (or a stand-in at another base URL, for tests).
#[derive(Clone, Debug)]
pub struct TwitchId {
    http: reqwest::Client,
    base: String,
    timeout: Duration,
}

/// One answer: the status and the (size-capped) body.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Twitch's error text: `message` (Twitch's shape, `{"status":400,"message":"…"}`), else
    /// the RFC 6749 `error` / `error_description`, else a placeholder. Sanitised and capped.
    pub fn error_text(&self) -> String {
        #[derive(Deserialize)]
        struct ErrorBody {
            message: Option<String>,
            error: Option<String>,
            error_description: Option<String>,
        }
        let text = serde_json::from_slice::<ErrorBody>(&self.body)
            .ok()
            .and_then(|b| {
                b.message
                    .filter(|m| !m.trim().is_empty())
                    .or(b.error_description.filter(|m| !m.trim().is_empty()))
                    .or(b.error)
            })
            .unwrap_or_default();
        let text = clip(&text, 200);
        if text.is_empty() {
            "no message".to_string()
        } else {
            text
        }
    }

    /// Every error code the body names (`message` and `error`), lower-cased, so that both
    /// Twitch's and RFC 8628's shapes can be matched.
    pub fn error_codes(&self) -> Vec<String> {
        #[derive(Deserialize)]
        struct ErrorBody {
            message: Option<String>,
            error: Option<String>,
        }
        serde_json::from_slice::<ErrorBody>(&self.body)
            .ok()
            .map(|b| {
                [b.message, b.error]
                    .into_iter()
                    .flatten()
                    .map(|s| s.trim().to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn rejected(&self) -> AuthError {
        AuthError::Rejected {
            status: self.status,
            message: self.error_text(),
        }
    }

    /// Parses a successful body. The error never quotes the body (it may hold a token).
    pub fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T, AuthError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| AuthError::InvalidResponse(format!("{what}: {}", describe_json_error(&e))))
    }
}

/// A serde_json error described without quoting any value from the document: "invalid type:
/// string \"…\"" would quote a token if Twitch ever put one where a number belongs.
pub(crate) fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    for keep in ["missing field", "unknown field", "duplicate field"] {
        if text.starts_with(keep) {
            // serde names only the field here, never a value.
            return clip(&text, 120);
        }
    }
    let kind = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "unexpected value",
        serde_json::error::Category::Eof => "cut off",
    };
    format!("{kind} at line {} column {}", e.line(), e.column())
}

impl TwitchId {
    /// A client for `base_url` (no trailing slash needed), e.g. [`DEFAULT_BASE_URL`].
    pub fn new(base_url: &str) -> Result<Self, AuthError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(concat!("StreamCue/", env!("CARGO_PKG_VERSION")))
            // Never follow a redirect: an Authorization header or a form with a token must go
            // to the identity service and nowhere else.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(DEFAULT_REQUEST_TIMEOUT)
            .build()
            .map_err(|e| AuthError::Network(format!("could not set up HTTPS: {e}")))?;
        Ok(Self {
            http,
            base: base_url.trim().trim_end_matches('/').to_string(),
            timeout: DEFAULT_REQUEST_TIMEOUT,
        })
    }

    /// Sets the per-request timeout (connect to last byte).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET {base}/oauth2/validate` with `Authorization: OAuth <token>`. HTTP 401 means the
    /// token is wrong, expired or revoked: [`AuthError::InvalidToken`].
    pub async fn validate(
        &self,
        token: &Secret,
        cancel: &CancellationToken,
    ) -> Result<TokenInfo, AuthError> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            client_id: String,
            login: String,
            user_id: String,
            #[serde(default)]
            scopes: Option<Scopes>,
            #[serde(default)]
            expires_in: u64,
        }
        let raw = token.expose().trim();
        if raw.is_empty() {
            return Err(AuthError::InvalidToken);
        }
        let mut value = HeaderValue::from_str(&format!("OAuth {raw}"))
            // Characters a header cannot carry: no real token has them.
            .map_err(|_| AuthError::InvalidToken)?;
        value.set_sensitive(true);
        let request = self
            .http
            .get(self.url("/oauth2/validate"))
            .header(AUTHORIZATION, value);
        let reply = self.send(request, cancel).await?;
        if reply.status == 401 {
            return Err(AuthError::InvalidToken);
        }
        if !reply.ok() {
            return Err(reply.rejected());
        }
        let raw: Raw = reply.json("the token check")?;
        if raw.login.trim().is_empty() {
            return Err(AuthError::InvalidResponse(
                "the token check named no Twitch account".into(),
            ));
        }
        Ok(TokenInfo {
            client_id: raw.client_id,
            login: raw.login.trim().to_ascii_lowercase(),
            user_id: raw.user_id,
            scopes: raw.scopes.map(Scopes::into_vec).unwrap_or_default(),
            expires_in: raw.expires_in,
        })
    }

    /// `POST {base}/oauth2/token` with `grant_type=refresh_token` (public clients send no
    /// secret). A refused refresh token is [`AuthError::InvalidToken`].
    pub async fn refresh(
        &self,
        client_id: &str,
        refresh_token: &Secret,
        cancel: &CancellationToken,
    ) -> Result<UserToken, AuthError> {
        let form = [
            ("client_id", client_id),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        let reply = self.post_form("/oauth2/token", &form, cancel).await?;
        if reply.ok() {
            return UserToken::from_reply(&reply);
        }
        if matches!(reply.status, 400 | 401) {
            return Err(AuthError::InvalidToken);
        }
        Err(reply.rejected())
    }

    /// `POST {base}/oauth2/revoke`: tells Twitch to forget the token (on logout).
    pub async fn revoke(
        &self,
        client_id: &str,
        token: &Secret,
        cancel: &CancellationToken,
    ) -> Result<(), AuthError> {
        let form = [("client_id", client_id), ("token", token.expose())];
        let reply = self.post_form("/oauth2/revoke", &form, cancel).await?;
        if reply.ok() {
            Ok(())
        } else {
            Err(reply.rejected())
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cancel: &CancellationToken,
    ) -> Result<Reply, AuthError> {
        let request = self.http.post(self.url(path)).form(form);
        self.send(request, cancel).await
    }

    /// Sends, reads at most [`MAX_BODY`] bytes, all within the timeout and racing `cancel`.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        cancel: &CancellationToken,
    ) -> Result<Reply, AuthError> {
        let timeout = self.timeout;
        let work = async {
            let mut response = request
                .timeout(timeout)
                .send()
                .await
                .map_err(|e| network_error(e, timeout))?;
            let status = response.status().as_u16();
            if response.content_length().unwrap_or(0) > MAX_BODY as u64 {
                return Err(AuthError::InvalidResponse(
                    "the answer is far too big".into(),
                ));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| network_error(e, timeout))?
            {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(AuthError::InvalidResponse(
                        "the answer is far too big".into(),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Reply { status, body })
        };
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(AuthError::Cancelled),
            // reqwest's timeout covers the body too; this outer one is a backstop.
            r = tokio::time::timeout(timeout + Duration::from_secs(1), work) => match r {
                Ok(r) => r,
                Err(_) => Err(AuthError::Network(format!(
                    "no answer within {} s",
                    timeout.as_secs().max(1)
                ))),
            },
        }
    }
}

/// Checks a token with Twitch: `GET {base_url}/oauth2/validate`. A convenience over
/// [`TwitchId::validate`] with the default timeout; cancel by dropping the future.
pub async fn validate(base_url: &str, token: &Secret) -> Result<TokenInfo, AuthError> {
    TwitchId::new(base_url)?
        .validate(token, &CancellationToken::new())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn twitch_and_rfc_error_shapes_are_both_read() {
        let twitch = reply(400, r#"{"status":400,"message":"authorization_pending"}"#);
        assert_eq!(twitch.error_codes(), vec!["authorization_pending"]);
        assert_eq!(twitch.error_text(), "authorization_pending");
        let rfc = reply(
            400,
            r#"{"error":"slow_down","error_description":"too fast"}"#,
        );
        assert_eq!(rfc.error_codes(), vec!["slow_down"]);
        assert_eq!(rfc.error_text(), "too fast");
        let both = reply(
            400,
            r#"{"error":"Bad Request","status":400,"message":"invalid client"}"#,
        );
        assert_eq!(both.error_text(), "invalid client");
        assert_eq!(
            both.rejected(),
            AuthError::Rejected {
                status: 400,
                message: "invalid client".into()
            }
        );
        assert_eq!(
            reply(502, "<html>bad gateway</html>").error_text(),
            "no message"
        );
    }

    #[test]
    fn json_errors_never_quote_values() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct T {
            n: u64,
        }
        let secret = "tok3nValueThatMustNotLeak";
        let r = reply(200, &format!(r#"{{"n":"{secret}"}}"#));
        let e = r.json::<T>("the token answer").unwrap_err().to_string();
        assert!(!e.contains(secret), "{e}");
        assert!(e.contains("unexpected value"), "{e}");
        let r = reply(200, r#"{"x":1}"#);
        let e = r.json::<T>("the token answer").unwrap_err().to_string();
        assert!(e.contains("missing field `n`"), "{e}");
    }

    #[test]
    fn base_url_is_normalised() {
        let id = TwitchId::new("http://127.0.0.1:9/ ").unwrap();
        assert_eq!(id.url("/oauth2/device"), "http://127.0.0.1:9/oauth2/device");
        assert_eq!(
            TwitchId::new(DEFAULT_BASE_URL).unwrap().timeout(),
            DEFAULT_REQUEST_TIMEOUT
        );
    }
}
