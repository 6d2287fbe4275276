//! What Twitch hands back: user tokens and what a token check says about one.

use serde::Deserialize;

use super::client::Reply;
use super::error::AuthError;
use crate::secrets::Secret;

/// A user access token from the device flow or a refresh. `Debug` shows no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserToken {
    pub access_token: Secret,
    /// Twitch gives public clients a one-time-use refresh token (valid ~30 days).
    pub refresh_token: Option<Secret>,
    /// Seconds until the access token expires (0 = Twitch did not say).
    pub expires_in: u64,
    pub scope: Vec<String>,
}

/// What `GET /oauth2/validate` says about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The application the token belongs to (needed to revoke it).
    pub client_id: String,
    /// The Twitch account, lower-case.
    pub login: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    /// Seconds until the token expires; 0 for tokens that do not expire.
    pub expires_in: u64,
}

impl TokenInfo {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Scopes as Twitch sends them (a JSON array) or as RFC 6749 does (one space-separated string).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Scopes {
    List(Vec<String>),
    Text(String),
}

impl Scopes {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Scopes::List(v) => v,
            Scopes::Text(s) => s.split_whitespace().map(str::to_string).collect(),
        }
    }
}

impl UserToken {
    pub(crate) fn from_reply(reply: &Reply) -> Result<Self, AuthError> {
        #[derive(Deserialize)]
        struct Raw {
            access_token: String,
            #[serde(default)]
            refresh_token: Option<String>,
            #[serde(default)]
            expires_in: u64,
            #[serde(default)]
            scope: Option<Scopes>,
        }
        let raw: Raw = reply.json("the token answer")?;
        if raw.access_token.trim().is_empty() {
            return Err(AuthError::InvalidResponse(
                "the token answer has an empty token".into(),
            ));
        }
        Ok(UserToken {
            access_token: Secret::new(raw.access_token.trim()),
            refresh_token: raw
                .refresh_token
                .filter(|r| !r.trim().is_empty())
                .map(|r| Secret::new(r.trim())),
            expires_in: raw.expires_in,
            scope: raw.scope.map(Scopes::into_vec).unwrap_or_default(),
        })
    }
}

/// A token as the streamer may paste it: trimmed, `oauth:` prefix (any case) removed.
pub fn normalize_token(token: &Secret) -> Secret {
    let raw = token.expose().trim();
    let raw = match raw.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("oauth:") => &raw[6..],
        _ => raw,
    };
    Secret::new(raw.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_prefix_is_optional() {
        for given in [
            "abc123",
            "oauth:abc123",
            "  OAuth:abc123 \n",
            "oauth: abc123",
        ] {
            assert_eq!(
                normalize_token(&Secret::new(given)).expose(),
                "abc123",
                "{given:?}"
            );
        }
        assert_eq!(normalize_token(&Secret::new("oauth:")).expose(), "");
        assert_eq!(normalize_token(&Secret::new("oau")).expose(), "oau");
    }

    #[test]
    fn token_answers_in_both_scope_shapes() {
        let twitch = Reply {
            status: 200,
            body: br#"{"access_token":"tok-A1-secret","expires_in":14124,"refresh_token":"ref-R1-secret","scope":["chat:read","chat:edit"],"token_type":"bearer"}"#.to_vec(),
        };
        let t = UserToken::from_reply(&twitch).unwrap();
        assert_eq!(t.access_token.expose(), "tok-A1-secret");
        assert_eq!(
            t.refresh_token.as_ref().map(Secret::expose),
            Some("ref-R1-secret")
        );
        assert_eq!(t.expires_in, 14124);
        assert_eq!(t.scope, vec!["chat:read", "chat:edit"]);
        let shown = format!("{t:?}");
        assert!(!shown.contains("A1") && !shown.contains("R1"), "{shown}");

        let rfc = Reply {
            status: 200,
            body: br#"{"access_token":"a2","scope":"chat:read chat:edit"}"#.to_vec(),
        };
        let t = UserToken::from_reply(&rfc).unwrap();
        assert_eq!(t.scope, vec!["chat:read", "chat:edit"]);
        assert_eq!(t.refresh_token, None);

        let empty = Reply {
            status: 200,
            body: br#"{"access_token":" "}"#.to_vec(),
        };
        assert!(matches!(
            UserToken::from_reply(&empty),
            Err(AuthError::InvalidResponse(_))
        ));
    }
}
