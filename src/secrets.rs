//! Secrets live only in the OS keyring; this module is the only place that touches them.
//!
//! `Secret` never prints its value (Debug/Display show `***`), so a secret cannot leak into
//! logs by accident.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

const SERVICE: &str = "streamcue";

/// A secret value. Its `Debug`/`Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Names of the secrets StreamCue keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKey {
    TwitchToken,
    /// Modal proxy auth for the generation endpoint (`Modal-Key` / `Modal-Secret`).
    ModalKey,
    ModalSecret,
    /// The obs-websocket password.
    ObsPassword,
    /// The local server's control API token (`Authorization: Bearer …`).
    ApiToken,
}

impl SecretKey {
    fn account(self) -> &'static str {
        match self {
            SecretKey::TwitchToken => "twitch-token",
            SecretKey::ModalKey => "modal-key",
            SecretKey::ModalSecret => "modal-secret",
            SecretKey::ObsPassword => "obs-password",
            SecretKey::ApiToken => "local-api-token",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no OS keyring is available: {0}")]
    Unavailable(String),
}

pub trait SecretStore: Send + Sync {
    /// Whether a backend answered at start.
    fn available(&self) -> bool;
    fn get(&self, key: SecretKey) -> Result<Option<Secret>, SecretError>;
    fn set(&self, key: SecretKey, value: &Secret) -> Result<(), SecretError>;
    fn delete(&self, key: SecretKey) -> Result<(), SecretError>;
}

/// The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
pub struct KeyringStore {
    available: bool,
}

impl KeyringStore {
    /// Probes the backend once; on a machine without one, every call says `Unavailable`.
    pub fn probe() -> Self {
        let available = match keyring::Entry::new(SERVICE, "probe").and_then(|e| e.get_password()) {
            Ok(_) | Err(keyring::Error::NoEntry) => true,
            Err(e) => {
                tracing::warn!(error = %e, "no OS keyring: secrets cannot be saved");
                false
            }
        };
        Self { available }
    }

    fn entry(&self, key: SecretKey) -> Result<keyring::Entry, SecretError> {
        if !self.available {
            return Err(SecretError::Unavailable(
                "no keyring backend answered".into(),
            ));
        }
        keyring::Entry::new(SERVICE, key.account())
            .map_err(|e| SecretError::Unavailable(e.to_string()))
    }
}

impl SecretStore for KeyringStore {
    fn available(&self) -> bool {
        self.available
    }

    fn get(&self, key: SecretKey) -> Result<Option<Secret>, SecretError> {
        match self.entry(key)?.get_password() {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(SecretError::Unavailable(e.to_string())),
        }
    }

    fn set(&self, key: SecretKey, value: &Secret) -> Result<(), SecretError> {
        self.entry(key)?
            .set_password(value.expose())
            .map_err(|e| SecretError::Unavailable(e.to_string()))
    }

    fn delete(&self, key: SecretKey) -> Result<(), SecretError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(SecretError::Unavailable(e.to_string())),
        }
    }
}

/// An in-memory store for tests and for a run with no keyring.
#[derive(Default)]
pub struct MemoryStore {
    values: Mutex<HashMap<SecretKey, Secret>>,
}

impl SecretStore for MemoryStore {
    fn available(&self) -> bool {
        true
    }
    fn get(&self, key: SecretKey) -> Result<Option<Secret>, SecretError> {
        Ok(self
            .values
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned())
    }
    fn set(&self, key: SecretKey, value: &Secret) -> Result<(), SecretError> {
        self.values
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, value.clone());
        Ok(())
    }
    fn delete(&self, key: SecretKey) -> Result<(), SecretError> {
        self.values
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("oauth:hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
    }
}
