//! `TwitchAccount`: the actor that owns the streamer's Twitch login.
//!
//! One task holds the token (only ever as a [`Secret`]) and the login state; a cloneable
//! handle talks to it over `mpsc` and gets answers over `oneshot`. Network work (the device
//! flow, token checks, refreshes) runs in one job task at a time so the actor always answers
//! at once; a job's result is applied by the actor, and a superseded job's result is dropped.
//! State changes are published on a `watch` channel for the engine to forward.
//!
//! This file holds the public face: the options, [`AccountState`], [`LoginPrompt`], the
//! [`TwitchAccount`] handle and the commands it sends. The actor itself is split by concern:
//! - `actor`: the actor's state, its loop, the commands and how results are applied;
//! - `jobs`: the one-at-a-time jobs that talk to Twitch (login, check, refresh);
//! - `storage`: the OS keyring (read at start, every call off the runtime thread, bounded).
//!
//! Invariant: every command is answered within `answer_within` (each actor step is bounded).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use specta::Type;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::actor::{Gone, Mailbox};

use super::client::{TwitchId, DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT};
use super::device::SLOW_DOWN_STEP;
use super::error::AuthError;
use crate::chat::twitch::TwitchCredentials;
use crate::secrets::{Secret, SecretStore};

mod actor;
mod jobs;
mod storage;

use actor::Actor;
use storage::KEYRING_TIMEOUT;

/// Twitch asks apps to validate tokens hourly.
pub const DEFAULT_REVALIDATE_EVERY: Duration = Duration::from_secs(60 * 60);
/// After a check that could not reach Twitch, try again this soon.
pub const DEFAULT_RETRY_EVERY: Duration = Duration::from_secs(60);

/// How the account actor talks to Twitch. `Default` is production.
#[derive(Debug, Clone)]
pub struct AccountOptions {
    /// Twitch's identity service ([`DEFAULT_BASE_URL`]); tests point it at a fake.
    pub base_url: String,
    pub request_timeout: Duration,
    /// How often a held token is checked ([`DEFAULT_REVALIDATE_EVERY`]).
    pub revalidate_every: Duration,
    /// How soon a check that could not reach Twitch is retried ([`DEFAULT_RETRY_EVERY`]).
    pub retry_every: Duration,
    /// What `slow_down` adds to the poll interval ([`SLOW_DOWN_STEP`], RFC 8628).
    pub slow_down_step: Duration,
}

impl Default for AccountOptions {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            revalidate_every: DEFAULT_REVALIDATE_EVERY,
            retry_every: DEFAULT_RETRY_EVERY,
            slow_down_step: SLOW_DOWN_STEP,
        }
    }
}

/// The Twitch login as the streamer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum AccountState {
    /// Not logged in. `message` says why when it was not the streamer's doing (e.g. a saved
    /// token Twitch no longer accepts).
    LoggedOut { message: Option<String> },
    /// Talking to Twitch: checking a saved token or asking for a login code.
    Checking,
    /// The streamer must open `verification_uri` and enter `user_code` before
    /// `expires_at_ms` (Unix ms).
    WaitingForUser {
        #[serde(rename = "userCode")]
        user_code: String,
        #[serde(rename = "verificationUri")]
        verification_uri: String,
        #[serde(rename = "expiresAtMs")]
        expires_at_ms: f64,
    },
    /// Logged in as `login`. `warning` says what does not work (e.g. no keyring to save the
    /// login in, or a pasted token that cannot send chat).
    LoggedIn {
        login: String,
        warning: Option<String>,
    },
    /// The last login attempt failed, or a saved login could not be checked; `message` says
    /// why and what to do.
    Failed { message: String },
}

/// What the streamer needs to approve a device login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct LoginPrompt {
    #[serde(rename = "userCode")]
    pub user_code: String,
    #[serde(rename = "verificationUri")]
    pub verification_uri: String,
    #[serde(rename = "expiresAtMs")]
    pub expires_at_ms: f64,
}

/// A cloneable handle on the account actor.
#[derive(Clone, Debug)]
pub struct TwitchAccount {
    mailbox: Mailbox<Command>,
    state: watch::Receiver<AccountState>,
    /// Longest a command may wait for its answer (every actor step is itself bounded).
    answer_within: Duration,
}

enum Command {
    StartLogin {
        client_id: String,
        reply: oneshot::Sender<Result<LoginPrompt, AuthError>>,
    },
    CancelLogin {
        reply: oneshot::Sender<()>,
    },
    Logout {
        reply: oneshot::Sender<Result<(), AuthError>>,
    },
    PasteToken {
        token: Secret,
        reply: oneshot::Sender<Result<String, AuthError>>,
    },
    Credentials {
        reply: oneshot::Sender<Option<TwitchCredentials>>,
    },
}

impl TwitchAccount {
    /// Starts the actor. It reads the saved token (if any) and checks it with Twitch, then
    /// re-checks every `revalidate_every`. It stops when `cancel` fires (await the returned
    /// task for an orderly shutdown).
    pub fn start(
        secrets: Arc<dyn SecretStore>,
        options: AccountOptions,
        cancel: CancellationToken,
    ) -> Result<(Self, JoinHandle<()>), AuthError> {
        let id = TwitchId::new(&options.base_url)?.with_timeout(options.request_timeout);
        let (mailbox, rx) = Mailbox::new(32);
        let (state_tx, state) = watch::channel(AccountState::Checking);
        let (job_tx, job_rx) = mpsc::unbounded_channel();
        let answer_within = options.request_timeout * 2 + KEYRING_TIMEOUT * 2;
        let actor = Actor {
            secrets,
            id,
            options,
            cancel,
            state_tx,
            held: None,
            logged_out_message: None,
            job: None,
            next_job: 0,
            job_tx,
            next_check: None,
            background: JoinSet::new(),
        };
        let task = tokio::spawn(actor.run(rx, job_rx));
        Ok((
            Self {
                mailbox,
                state,
                answer_within,
            },
            task,
        ))
    }

    /// The current state.
    pub fn state(&self) -> AccountState {
        self.state.borrow().clone()
    }

    /// Every state change, for forwarding to the UI.
    pub fn watch(&self) -> watch::Receiver<AccountState> {
        self.state.clone()
    }

    /// Starts a device login for the app `client_id` (a setting) and returns the code to show
    /// once Twitch has issued it; the rest runs in the background (watch the state). Replaces
    /// a login already in progress. A held login stays in use until the new one succeeds.
    pub async fn start_login(&self, client_id: &str) -> Result<LoginPrompt, AuthError> {
        let client_id = client_id.to_string();
        self.ask(|reply| Command::StartLogin { client_id, reply })
            .await?
    }

    /// Stops a device login in progress (nothing happens if there is none).
    pub async fn cancel_login(&self) -> Result<(), AuthError> {
        self.ask(|reply| Command::CancelLogin { reply }).await
    }

    /// Forgets the login: deletes the saved token and asks Twitch to revoke it.
    pub async fn logout(&self) -> Result<(), AuthError> {
        self.ask(|reply| Command::Logout { reply }).await?
    }

    /// The fallback: a token the streamer pasted (with or without `oauth:`). It is checked
    /// with Twitch and, if valid, saved and used. Returns the account's login.
    pub async fn paste_token(&self, token: Secret) -> Result<String, AuthError> {
        self.ask(|reply| Command::PasteToken { token, reply })
            .await?
    }

    /// What the chat connection should log in with, if Twitch has confirmed a token.
    pub async fn credentials(&self) -> Result<Option<TwitchCredentials>, AuthError> {
        self.ask(|reply| Command::Credentials { reply }).await
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, AuthError> {
        // Gone: the actor stopped, or dropped the reply because a later command superseded it.
        let exchange = async {
            self.mailbox.ask(command).await.map_err(|Gone| {
                if self.mailbox.is_closed() {
                    AuthError::Stopped
                } else {
                    AuthError::Cancelled
                }
            })
        };
        match tokio::time::timeout(self.answer_within, exchange).await {
            Ok(r) => r,
            Err(_) => Err(AuthError::Network(format!(
                "no answer within {} s",
                self.answer_within.as_secs()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_serialises_for_the_ui() {
        let s = AccountState::WaitingForUser {
            user_code: "ABCDEFGH".into(),
            verification_uri: "https://www.twitch.tv/activate".into(),
            expires_at_ms: 1.5e12,
        };
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({
                "state": "waitingForUser",
                "userCode": "ABCDEFGH",
                "verificationUri": "https://www.twitch.tv/activate",
                "expiresAtMs": 1.5e12,
            })
        );
        assert_eq!(
            serde_json::to_value(AccountState::LoggedOut { message: None }).unwrap(),
            serde_json::json!({"state": "loggedOut", "message": null})
        );
        assert_eq!(
            serde_json::to_value(AccountState::LoggedIn {
                login: "x".into(),
                warning: None
            })
            .unwrap(),
            serde_json::json!({"state": "loggedIn", "login": "x", "warning": null})
        );
        assert_eq!(
            serde_json::to_value(AccountState::Checking).unwrap(),
            serde_json::json!({"state": "checking"})
        );
    }
}
