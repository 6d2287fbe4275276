//! The account actor's use of the OS keyring: reading the saved token at start, and the one
//! way every keyring call is made.
//!
//! Invariants: a keyring call never runs on the runtime thread (it may block on D-Bus or an
//! unlock prompt) and never takes longer than [`KEYRING_TIMEOUT`]; the token read is only ever
//! held as a [`crate::secrets::Secret`], and a saved token is not trusted until Twitch confirms it.

use std::time::Duration;

use tokio::time::Instant;

use super::actor::{Actor, Held};
use super::AccountState;
use crate::secrets::{SecretError, SecretKey, SecretStore};
use crate::twitch_auth::error::AuthError;
use crate::twitch_auth::token::normalize_token;

/// Longest a keyring call may take (the OS may be showing an unlock prompt).
pub(super) const KEYRING_TIMEOUT: Duration = Duration::from_secs(20);

impl Actor {
    pub(super) async fn load_saved_token(&mut self) {
        let saved = self.keyring(|s| s.get(SecretKey::TwitchToken)).await;
        match saved {
            Ok(Some(token)) if !normalize_token(&token).expose().is_empty() => {
                self.held = Some(Held {
                    token: normalize_token(&token),
                    refresh: None,
                    client_id: None,
                    info: None,
                    save_problem: None,
                    check_problem: None,
                });
                self.next_check = Some(Instant::now());
                self.publish(AccountState::Checking);
            }
            Ok(_) => self.publish_base(),
            Err(e) => {
                tracing::info!(error = %e, "twitch login: no saved token could be read");
                self.publish_base();
            }
        }
    }

    /// Runs a keyring call off the runtime thread (it may block on D-Bus or a prompt), with a
    /// timeout.
    pub(super) async fn keyring<T: Send + 'static>(
        &self,
        op: impl FnOnce(&dyn SecretStore) -> Result<T, SecretError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let secrets = self.secrets.clone();
        crate::secrets::off_runtime(KEYRING_TIMEOUT, move || op(secrets.as_ref()))
            .await
            .map_err(|e| AuthError::Storage(e.to_string()))
    }
}
