//! Twitch's Device Code Grant (RFC 8628): ask for a code, show it to the streamer, poll until
//! they approve it on twitch.tv.

use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::client::TwitchId;
use super::error::AuthError;
use super::token::UserToken;
use crate::secrets::Secret;

/// The scopes StreamCue asks for: read and send chat over IRC.
pub const CHAT_SCOPES: &str = "chat:read chat:edit";
/// RFC 8628 §3.5: on `slow_down`, poll 5 s less often from then on.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The grant type of a device-code token request.
pub const DEVICE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Polling gives up after this many network failures in a row.
const MAX_FAILURES_IN_A_ROW: u32 = 5;

/// What `POST /oauth2/device` returns: the code to show and how to poll.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    /// Identifies this login when polling; never shown or logged.
    pub device_code: Secret,
    /// What the streamer types on Twitch's page (often already in `verification_uri`).
    pub user_code: String,
    pub verification_uri: String,
    /// Seconds the code stays valid, counted from `received_at`.
    pub expires_in: u64,
    /// Seconds to wait between polls (at least 1).
    pub interval: u64,
    pub received_at: Instant,
}

impl DeviceCode {
    /// When the code stops being valid.
    pub fn deadline(&self) -> Instant {
        self.received_at + Duration::from_secs(self.expires_in)
    }
}

/// One poll's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Not approved yet (`authorization_pending`).
    Pending,
    /// Polling too fast (`slow_down`): add [`DeviceFlow::slow_down_step`] to the interval.
    SlowDown,
    Approved(UserToken),
}

/// A Device Code Grant for one client id.
#[derive(Clone, Debug)]
pub struct DeviceFlow {
    id: TwitchId,
    client_id: String,
    scopes: String,
    slow_down_step: Duration,
}

impl DeviceFlow {
    /// A flow against `id` for the app `client_id` (a setting). An empty client id is
    /// [`AuthError::MissingClientId`].
    pub fn new(id: TwitchId, client_id: &str) -> Result<Self, AuthError> {
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err(AuthError::MissingClientId);
        }
        Ok(Self {
            id,
            client_id: client_id.to_string(),
            scopes: CHAT_SCOPES.to_string(),
            slow_down_step: SLOW_DOWN_STEP,
        })
    }

    /// Asks for other scopes (space-separated) than [`CHAT_SCOPES`].
    pub fn with_scopes(mut self, scopes: &str) -> Self {
        self.scopes = scopes.to_string();
        self
    }

    /// How much `slow_down` adds to the interval ([`SLOW_DOWN_STEP`] unless changed).
    pub fn with_slow_down_step(mut self, step: Duration) -> Self {
        self.slow_down_step = step;
        self
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn slow_down_step(&self) -> Duration {
        self.slow_down_step
    }

    /// `POST {base}/oauth2/device` (client_id, scopes).
    pub async fn request_code(&self, cancel: &CancellationToken) -> Result<DeviceCode, AuthError> {
        #[derive(Deserialize)]
        struct Raw {
            device_code: String,
            user_code: String,
            verification_uri: String,
            expires_in: u64,
            #[serde(default)]
            interval: Option<u64>,
        }
        let form = [
            ("client_id", self.client_id.as_str()),
            ("scopes", self.scopes.as_str()),
        ];
        let reply = self.id.post_form("/oauth2/device", &form, cancel).await?;
        let received_at = Instant::now();
        if !reply.ok() {
            return Err(reply.rejected());
        }
        let raw: Raw = reply.json("the login code answer")?;
        if raw.device_code.is_empty() || raw.user_code.trim().is_empty() {
            return Err(AuthError::InvalidResponse(
                "the login code answer has an empty code".into(),
            ));
        }
        if !(raw.verification_uri.starts_with("https://")
            || raw.verification_uri.starts_with("http://"))
        {
            return Err(AuthError::InvalidResponse(
                "the login code answer has no web address".into(),
            ));
        }
        Ok(DeviceCode {
            device_code: Secret::new(raw.device_code),
            user_code: raw.user_code.trim().to_string(),
            verification_uri: raw.verification_uri,
            expires_in: raw.expires_in,
            // RFC 8628: 5 s when absent. Never faster than once a second.
            interval: raw.interval.unwrap_or(5).max(1),
            received_at,
        })
    }

    /// One `POST {base}/oauth2/token` for `code`.
    pub async fn poll(
        &self,
        code: &DeviceCode,
        cancel: &CancellationToken,
    ) -> Result<Poll, AuthError> {
        let form = [
            ("client_id", self.client_id.as_str()),
            ("scopes", self.scopes.as_str()),
            ("device_code", code.device_code.expose()),
            ("grant_type", DEVICE_GRANT_TYPE),
        ];
        let reply = self.id.post_form("/oauth2/token", &form, cancel).await?;
        if reply.ok() {
            return UserToken::from_reply(&reply).map(Poll::Approved);
        }
        let codes = reply.error_codes();
        let says = |what: &str| codes.iter().any(|c| c == what);
        if says("authorization_pending") {
            Ok(Poll::Pending)
        } else if says("slow_down") {
            Ok(Poll::SlowDown)
        } else if says("access_denied") {
            Err(AuthError::Denied)
        } else if says("expired_token") {
            Err(AuthError::Expired)
        } else {
            Err(reply.rejected())
        }
    }

    /// Polls until the streamer approves, honouring `interval` (grown by `slow_down`), until
    /// the code expires or `cancel` fires. A few network failures in a row are tolerated.
    pub async fn wait_for_token(
        &self,
        code: &DeviceCode,
        cancel: &CancellationToken,
    ) -> Result<UserToken, AuthError> {
        let deadline = code.deadline();
        let mut interval = Duration::from_secs(code.interval.max(1));
        let mut failures = 0u32;
        loop {
            let wake = Instant::now() + interval;
            if wake >= deadline {
                // The next poll would come after the code died: wait it out, then say so.
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return Err(AuthError::Cancelled),
                    _ = tokio::time::sleep_until(deadline) => return Err(AuthError::Expired),
                }
            }
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(AuthError::Cancelled),
                _ = tokio::time::sleep_until(wake) => {}
            }
            match self.poll(code, cancel).await {
                Ok(Poll::Approved(token)) => return Ok(token),
                Ok(Poll::Pending) => failures = 0,
                Ok(Poll::SlowDown) => {
                    failures = 0;
                    interval += self.slow_down_step;
                    tracing::info!(
                        interval_s = interval.as_secs_f64(),
                        "twitch login: asked to slow down"
                    );
                }
                Err(e) if e.is_transient() && failures + 1 < MAX_FAILURES_IN_A_ROW => {
                    failures += 1;
                    tracing::warn!(error = %e, failures, "twitch login: poll failed, retrying");
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl TwitchId {
    /// A device flow for `client_id` through this client.
    pub fn device_flow(&self, client_id: &str) -> Result<DeviceFlow, AuthError> {
        DeviceFlow::new(self.clone(), client_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_client_id_is_refused_with_the_registration_hint() {
        let id = TwitchId::new("http://127.0.0.1:9").unwrap();
        for bad in ["", "   ", "\n"] {
            let e = DeviceFlow::new(id.clone(), bad).unwrap_err();
            assert_eq!(e, AuthError::MissingClientId);
        }
        let flow = DeviceFlow::new(id, " abc ").unwrap();
        assert_eq!(flow.client_id(), "abc");
        assert_eq!(
            flow.slow_down_step(),
            Duration::from_secs(5),
            "RFC 8628 §3.5"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_code_is_reported_without_polling_and_cancel_is_prompt() {
        // Nothing listens on port 9: any poll would be a network error, not `Expired`.
        let flow = TwitchId::new("http://127.0.0.1:9")
            .unwrap()
            .device_flow("abc")
            .unwrap();
        let code = DeviceCode {
            device_code: Secret::new("dc"),
            user_code: "ABCD".into(),
            verification_uri: "https://www.twitch.tv/activate".into(),
            expires_in: 3,
            interval: 5,
            received_at: Instant::now(),
        };
        let t0 = Instant::now();
        let e = flow
            .wait_for_token(&code, &CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(e, AuthError::Expired);
        assert_eq!(t0.elapsed(), Duration::from_secs(3));

        let cancel = CancellationToken::new();
        let code = DeviceCode {
            expires_in: 600,
            received_at: Instant::now(),
            ..code
        };
        let c2 = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            c2.cancel();
        });
        let t0 = Instant::now();
        assert_eq!(
            flow.wait_for_token(&code, &cancel).await.unwrap_err(),
            AuthError::Cancelled
        );
        assert_eq!(t0.elapsed(), Duration::from_secs(2));
    }
}
