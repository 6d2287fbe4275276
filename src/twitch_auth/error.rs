//! What can go wrong while logging in to Twitch, as a stable code plus the sentence the
//! streamer sees. No variant ever carries a token: messages come from Twitch's error field or
//! from the HTTP client, never from a request or response body that holds a secret.

use serde::{Deserialize, Serialize};
use specta::Type;

/// Everything that can go wrong in the Twitch login. `Display` is the sentence shown to the
/// streamer; [`AuthError::code`] is the stable machine-readable part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The client id setting is empty.
    #[error(
        "Logging in with Twitch needs a client ID: register an application (client type \
         \"Public\") at https://dev.twitch.tv/console/apps and paste its client ID into \
         StreamCue's settings."
    )]
    MissingClientId,
    /// The streamer pressed "Cancel"/"Deny" on Twitch's page.
    #[error("The login was declined on Twitch, so StreamCue is not logged in.")]
    Denied,
    /// The code was not approved in time (Twitch said so, or `expires_in` passed).
    #[error("The Twitch login code expired before it was approved; start the login again.")]
    Expired,
    /// Twitch does not accept the token (HTTP 401 on validate, or a refused refresh).
    #[error(
        "Twitch does not accept this token (it is wrong, expired or was revoked); log in again."
    )]
    InvalidToken,
    /// Twitch could not be reached or did not answer in time.
    #[error("Could not reach Twitch ({0}); check the internet connection and try again.")]
    Network(String),
    /// Twitch answered with an error this module has no special meaning for.
    #[error("Twitch refused the request (HTTP {status}: {message}).")]
    Rejected { status: u16, message: String },
    /// Twitch answered something that could not be understood.
    #[error("Twitch sent an answer StreamCue could not read ({0}).")]
    InvalidResponse(String),
    /// The login was cancelled (by the streamer, or because StreamCue is closing).
    #[error("The Twitch login was cancelled.")]
    Cancelled,
    /// The OS keyring failed (the login itself may still have worked).
    #[error("The OS keyring could not be used ({0}).")]
    Storage(String),
    /// The account actor has stopped (StreamCue is shutting down).
    #[error("StreamCue is shutting down, so the Twitch login is not available.")]
    Stopped,
}

/// Stable codes for [`AuthError`]. The UI may switch on these; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
pub enum AuthErrorCode {
    MissingClientId,
    Denied,
    Expired,
    InvalidToken,
    Network,
    Rejected,
    InvalidResponse,
    Cancelled,
    Storage,
    Stopped,
}

impl AuthErrorCode {
    /// The code as a short snake_case string (for logs).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingClientId => "missing_client_id",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::InvalidToken => "invalid_token",
            Self::Network => "network",
            Self::Rejected => "rejected",
            Self::InvalidResponse => "invalid_response",
            Self::Cancelled => "cancelled",
            Self::Storage => "storage",
            Self::Stopped => "stopped",
        }
    }
}

impl AuthError {
    pub fn code(&self) -> AuthErrorCode {
        match self {
            Self::MissingClientId => AuthErrorCode::MissingClientId,
            Self::Denied => AuthErrorCode::Denied,
            Self::Expired => AuthErrorCode::Expired,
            Self::InvalidToken => AuthErrorCode::InvalidToken,
            Self::Network(_) => AuthErrorCode::Network,
            Self::Rejected { .. } => AuthErrorCode::Rejected,
            Self::InvalidResponse(_) => AuthErrorCode::InvalidResponse,
            Self::Cancelled => AuthErrorCode::Cancelled,
            Self::Storage(_) => AuthErrorCode::Storage,
            Self::Stopped => AuthErrorCode::Stopped,
        }
    }

    /// Worth trying again soon: the network failed, or Twitch had a server-side problem or
    /// asked us to back off (HTTP 429 / 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network(_) => true,
            Self::Rejected { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// Describes a reqwest error for a person, without the URL (ours never hold secrets, but the
/// sentence reads better without it) and with the underlying cause.
pub(crate) fn network_error(e: reqwest::Error, timeout: std::time::Duration) -> AuthError {
    if e.is_timeout() {
        return AuthError::Network(format!("no answer within {} s", timeout.as_secs().max(1)));
    }
    let what = if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "the request failed"
    };
    // The innermost cause is usually the useful part ("Connection refused", a DNS failure…).
    let mut cause: &dyn std::error::Error = &e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let cause = cause.to_string();
    let e = e.without_url().to_string();
    if cause.is_empty() || cause == e {
        AuthError::Network(what.to_string())
    } else {
        AuthError::Network(format!("{what}: {}", clip(&cause, 200)))
    }
}

/// At most `max` characters, without control characters.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.chars().count() <= max {
        cleaned.to_string()
    } else {
        let mut s: String = cleaned.chars().take(max).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_is_one_sentence_with_a_stable_code() {
        let all = [
            AuthError::MissingClientId,
            AuthError::Denied,
            AuthError::Expired,
            AuthError::InvalidToken,
            AuthError::Network("could not connect: Connection refused".into()),
            AuthError::Rejected {
                status: 400,
                message: "invalid client".into(),
            },
            AuthError::InvalidResponse("missing field `login`".into()),
            AuthError::Cancelled,
            AuthError::Storage("no keyring".into()),
            AuthError::Stopped,
        ];
        let mut codes = std::collections::HashSet::new();
        for e in &all {
            let text = e.to_string();
            assert!(text.ends_with('.'), "{text}");
            assert!(text.chars().next().unwrap().is_uppercase(), "{text}");
            assert!(!text.contains('\n'), "{text}");
            assert!(codes.insert(e.code().as_str()), "duplicate code for {e:?}");
        }
        assert!(AuthError::MissingClientId
            .to_string()
            .contains("dev.twitch.tv/console"));
    }

    #[test]
    fn transient_errors() {
        assert!(AuthError::Network("x".into()).is_transient());
        for (status, transient) in [(500, true), (503, true), (429, true), (400, false)] {
            let e = AuthError::Rejected {
                status,
                message: String::new(),
            };
            assert_eq!(e.is_transient(), transient, "{status}");
        }
        assert!(!AuthError::Denied.is_transient());
    }

    #[test]
    fn clip_removes_control_characters_and_caps_length() {
        assert_eq!(clip("a\r\nb", 10), "a  b");
        assert_eq!(clip("abcdef", 3), "abc…");
    }
}
