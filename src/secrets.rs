//! Secrets live only in the OS keyring; this module is the only place that touches them.
//!
//! `Secret` never prints its value (Debug/Display show `***`), so a secret cannot leak into
//! logs by accident.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// The co-host's LLM API key (`Authorization: Bearer …`).
    LlmKey,
}

impl SecretKey {
    fn account(self) -> &'static str {
        match self {
            SecretKey::TwitchToken => "twitch-token",
            SecretKey::ModalKey => "modal-key",
            SecretKey::ModalSecret => "modal-secret",
            SecretKey::ObsPassword => "obs-password",
            SecretKey::ApiToken => "local-api-token",
            SecretKey::LlmKey => "llm-api-key",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no OS keyring is available: {0}")]
    Unavailable(String),
    /// A call took longer than [`KEYRING_TIMEOUT`] (or one still has not come back).
    #[error(
        "the OS keyring does not answer (it is probably locked): unlock your keyring to let \
         StreamCue use your saved login"
    )]
    NotAnswering,
}

/// How long one keyring call may take. A locked keyring can wait on an unlock prompt for ever;
/// StreamCue goes on without it rather than hang (and a hung call is never stacked on).
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(5);
/// Why [`off_runtime`] gave nothing back.
#[derive(Debug, thiserror::Error)]
pub enum OffRuntimeError {
    #[error("no answer within {} s", .0.as_secs())]
    TimedOut(Duration),
    #[error("the keyring call failed")]
    Failed,
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// Runs a keyring call on the blocking pool (it may wait on D-Bus or an unlock prompt), never
/// on the runtime's thread, and gives up waiting after `limit`. The one way async code calls
/// the keyring (the Twitch account, the local API token).
pub async fn off_runtime<T: Send + 'static>(
    limit: Duration,
    call: impl FnOnce() -> Result<T, SecretError> + Send + 'static,
) -> Result<T, OffRuntimeError> {
    match tokio::time::timeout(limit, tokio::task::spawn_blocking(call)).await {
        Ok(Ok(out)) => Ok(out?),
        Ok(Err(_)) => Err(OffRuntimeError::Failed),
        Err(_) => Err(OffRuntimeError::TimedOut(limit)),
    }
}

/// After a call got no answer, how long later calls fail at once rather than wait again.
pub const QUIET_FOR: Duration = Duration::from_secs(30);

pub trait SecretStore: Send + Sync {
    /// Whether a backend answered at start.
    fn available(&self) -> bool;
    /// When not available: why, for the window (`None`: no keyring at all).
    fn unavailable_because(&self) -> Option<&SecretError> {
        None
    }
    fn get(&self, key: SecretKey) -> Result<Option<Secret>, SecretError>;
    fn set(&self, key: SecretKey, value: &Secret) -> Result<(), SecretError>;
    fn delete(&self, key: SecretKey) -> Result<(), SecretError>;
}

/// The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
///
/// Every call runs on a thread of its own and is waited for at most [`KEYRING_TIMEOUT`]. After a
/// call that got no answer, later calls fail at once with `NotAnswering` for [`QUIET_FOR`] (or
/// until the stuck call comes back) instead of each waiting again or stacking stuck threads.
pub struct KeyringStore {
    available: bool,
    /// Why the probe failed.
    because: Option<SecretError>,
    /// A call is still out after its timeout.
    stuck: Arc<AtomicBool>,
    /// Calls fail at once until then (the keyring did not answer lately).
    quiet_until: Mutex<Option<std::time::Instant>>,
}

impl KeyringStore {
    /// Probes the backend once; on a machine without one, every call says `Unavailable`. A
    /// keyring that does not answer counts as unavailable for this run.
    pub fn probe() -> Self {
        let mut store = Self {
            available: true,
            because: None,
            stuck: Arc::new(AtomicBool::new(false)),
            quiet_until: Mutex::new(None),
        };
        match store.call(|| keyring::Entry::new(SERVICE, "probe").and_then(|e| e.get_password())) {
            Ok(_) | Err(CallError::Keyring(keyring::Error::NoEntry)) => {}
            Err(e) => {
                let e = SecretError::from(e);
                tracing::warn!(error = %e, "no OS keyring: secrets cannot be saved");
                store.available = false;
                store.because = Some(e);
            }
        }
        store
    }

    /// Runs `op` on its own thread, waiting at most [`KEYRING_TIMEOUT`].
    fn call<T: Send + 'static>(
        &self,
        op: impl FnOnce() -> Result<T, keyring::Error> + Send + 'static,
    ) -> Result<T, CallError> {
        if !self.available {
            return Err(CallError::Failed(SecretError::Unavailable(
                "no keyring backend answered".into(),
            )));
        }
        let quiet = *self.quiet_until.lock().unwrap_or_else(|p| p.into_inner());
        if self.stuck.load(Ordering::Acquire)
            || quiet.is_some_and(|until| std::time::Instant::now() < until)
        {
            return Err(CallError::Failed(SecretError::NotAnswering));
        }
        let out = self.call_on_thread(op);
        if let Err(e) = &out {
            if e.is_no_answer() {
                *self.quiet_until.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(std::time::Instant::now() + QUIET_FOR);
            }
        }
        out
    }

    fn call_on_thread<T: Send + 'static>(
        &self,
        op: impl FnOnce() -> Result<T, keyring::Error> + Send + 'static,
    ) -> Result<T, CallError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let stuck = self.stuck.clone();
        let spawned = std::thread::Builder::new()
            .name("streamcue-keyring".into())
            .spawn(move || {
                let out = op();
                stuck.store(false, Ordering::Release);
                let _ = tx.send(out);
            });
        if let Err(e) = spawned {
            return Err(CallError::Failed(SecretError::Unavailable(e.to_string())));
        }
        match rx.recv_timeout(KEYRING_TIMEOUT) {
            Ok(out) => out.map_err(CallError::Keyring),
            Err(_) => {
                self.stuck.store(true, Ordering::Release);
                tracing::warn!(
                    timeout_s = KEYRING_TIMEOUT.as_secs(),
                    "the OS keyring did not answer (locked?); going on without it"
                );
                Err(CallError::Failed(SecretError::NotAnswering))
            }
        }
    }
}

/// What [`KeyringStore::call`] can end with: the keyring's own answer, or ours.
#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error(transparent)]
    Keyring(keyring::Error),
    #[error(transparent)]
    Failed(SecretError),
}

impl CallError {
    fn is_no_answer(&self) -> bool {
        matches!(SecretError::from_ref(self), Some(SecretError::NotAnswering))
    }
}

impl SecretError {
    /// Whether `e` means "no answer" (without consuming it).
    fn from_ref(e: &CallError) -> Option<SecretError> {
        match e {
            CallError::Failed(SecretError::NotAnswering) => Some(SecretError::NotAnswering),
            CallError::Keyring(k) if k.to_string().contains("Did not receive a reply") => {
                Some(SecretError::NotAnswering)
            }
            _ => None,
        }
    }
}

impl From<CallError> for SecretError {
    fn from(e: CallError) -> Self {
        // D-Bus may give up waiting itself (the Secret Service is there but does not reply).
        if let Some(no_answer) = SecretError::from_ref(&e) {
            return no_answer;
        }
        match e {
            CallError::Failed(e) => e,
            CallError::Keyring(e) => SecretError::Unavailable(e.to_string()),
        }
    }
}

impl SecretStore for KeyringStore {
    fn available(&self) -> bool {
        self.available
    }

    fn unavailable_because(&self) -> Option<&SecretError> {
        self.because.as_ref()
    }

    fn get(&self, key: SecretKey) -> Result<Option<Secret>, SecretError> {
        let account = key.account();
        match self.call(move || keyring::Entry::new(SERVICE, account)?.get_password()) {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(CallError::Keyring(keyring::Error::NoEntry)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn set(&self, key: SecretKey, value: &Secret) -> Result<(), SecretError> {
        let account = key.account();
        let value = value.clone();
        self.call(move || keyring::Entry::new(SERVICE, account)?.set_password(value.expose()))
            .map_err(SecretError::from)
    }

    fn delete(&self, key: SecretKey) -> Result<(), SecretError> {
        let account = key.account();
        match self.call(move || keyring::Entry::new(SERVICE, account)?.delete_credential()) {
            Ok(()) | Err(CallError::Keyring(keyring::Error::NoEntry)) => Ok(()),
            Err(e) => Err(e.into()),
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
