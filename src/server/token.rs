//! The control API's token: made on first use (32 random bytes), kept in the OS keyring, shown
//! and regenerable in Settings → Local server, and compared in constant time.
//!
//! Keyring calls block (D-Bus) and a locked keyring may never answer, so each runs on the
//! blocking pool under [`KEYRING_TIMEOUT`] ([`off_runtime`]). Without an answer the token still
//! works for this run, from memory, and the window says it is not saved.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use crate::secrets::{off_runtime, Secret, SecretKey, SecretStore, KEYRING_TIMEOUT};

/// Every token starts with this, so a streamer can tell it apart from other secrets.
const PREFIX: &str = "sc_";

pub struct ApiToken {
    secrets: Arc<dyn SecretStore>,
    current: RwLock<Option<Secret>>,
    /// Whether `current` is what the keyring holds.
    saved: AtomicBool,
}

impl ApiToken {
    pub fn new(secrets: Arc<dyn SecretStore>) -> Self {
        Self {
            secrets,
            current: RwLock::new(None),
            saved: AtomicBool::new(false),
        }
    }

    /// Reads the saved token, if any (at start, so the API works before Settings is opened).
    pub async fn load(&self) {
        let secrets = self.secrets.clone();
        match off_runtime(KEYRING_TIMEOUT, move || secrets.get(SecretKey::ApiToken)).await {
            Ok(Some(token)) if token.expose().starts_with(PREFIX) => {
                self.replace(token, true);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the local API token"),
        }
    }

    /// Whether the keyring holds the token in use.
    pub fn saved(&self) -> bool {
        self.saved.load(Ordering::Relaxed)
    }

    /// The token, made (and saved) first if there is none yet.
    pub async fn get_or_create(&self) -> Secret {
        if let Some(token) = self.current() {
            return token;
        }
        self.regenerate().await
    }

    /// A new token; the old one stops working at once.
    pub async fn regenerate(&self) -> Secret {
        let token = generate();
        self.replace(token.clone(), false);
        let secrets = self.secrets.clone();
        let value = token.clone();
        match off_runtime(KEYRING_TIMEOUT, move || {
            secrets.set(SecretKey::ApiToken, &value)
        })
        .await
        {
            Ok(()) => self.saved.store(true, Ordering::Relaxed),
            Err(e) => tracing::warn!(
                error = %e,
                "the local API token is not saved; it works until StreamCue quits"
            ),
        }
        token
    }

    /// Whether `presented` is the token (false while there is none).
    pub fn accepts(&self, presented: &str) -> bool {
        self.current()
            .is_some_and(|t| constant_time_eq(t.expose().as_bytes(), presented.as_bytes()))
    }

    fn current(&self) -> Option<Secret> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn replace(&self, token: Secret, saved: bool) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(token);
        self.saved.store(saved, Ordering::Relaxed);
    }
}

fn generate() -> Secret {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Secret::new(format!("{PREFIX}{hex}"))
}

/// Compares without stopping at the first difference (a wrong guess takes as long as any).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MemoryStore;

    #[test]
    fn tokens_are_long_random_and_prefixed() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), PREFIX.len() + 64);
        assert!(a.expose().starts_with(PREFIX));
    }

    #[test]
    fn comparison_needs_the_whole_token() {
        assert!(constant_time_eq(b"sc_abc", b"sc_abc"));
        assert!(!constant_time_eq(b"sc_abc", b"sc_abd"));
        assert!(!constant_time_eq(b"sc_abc", b"sc_ab"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[tokio::test]
    async fn made_on_first_use_saved_and_replaced_by_regenerate() {
        let store = Arc::new(MemoryStore::default());
        let token = ApiToken::new(store.clone());
        assert!(!token.accepts(""), "no token yet: nothing is accepted");
        let first = token.get_or_create().await;
        assert!(token.saved());
        assert_eq!(store.get(SecretKey::ApiToken).unwrap(), Some(first.clone()));
        assert_eq!(token.get_or_create().await, first, "kept, not remade");
        assert!(token.accepts(first.expose()));
        let second = token.regenerate().await;
        assert!(!token.accepts(first.expose()) && token.accepts(second.expose()));
        // A restart reads it back.
        let again = ApiToken::new(store);
        again.load().await;
        assert!(again.accepts(second.expose()) && again.saved());
    }
}
