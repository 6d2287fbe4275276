//! The account actor's state and loop: commands from the handle, messages from the running
//! job, and how their results change the login.
//!
//! Invariants: only this task changes the held token and the announced [`AccountState`]; at
//! most one job runs (a new one cancels the old, whose caller hears `Cancelled`), and a message
//! from a superseded job is ignored; the held token is only ever a [`Secret`]; a token Twitch
//! refuses is forgotten (and deleted from the keyring), one that could not be checked is kept
//! and checked again after `retry_every`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::jobs::{login, Checked, Job, JobKind, JobMsg, Outcome, PendingReply, Verified};
use super::{AccountOptions, AccountState, Command};
use crate::chat::twitch::TwitchCredentials;
use crate::secrets::{Secret, SecretKey, SecretStore};
use crate::twitch_auth::client::TwitchId;
use crate::twitch_auth::error::AuthError;
use crate::twitch_auth::token::{normalize_token, TokenInfo};

/// How long shutdown waits for a job or a revoke to finish before dropping it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

const NO_KEYRING: &str =
    "No OS keyring is available, so this Twitch login cannot be saved and lasts only until StreamCue closes.";
const NO_CHAT_EDIT: &str =
    "This token cannot send chat messages (it lacks the chat:edit permission), so StreamCue can read chat but not reply.";
const SESSION_ENDED: &str =
    "Twitch ended this login (the token expired or was revoked), so it was removed; log in again.";
const SAVED_INVALID: &str =
    "The saved Twitch login is no longer valid (it expired or was revoked), so it was removed; log in again.";

/// The token in use and what is known about it.
pub(super) struct Held {
    pub(super) token: Secret,
    pub(super) refresh: Option<Secret>,
    /// The app that issued it, when StreamCue ran the login (needed to refresh).
    pub(super) client_id: Option<String>,
    /// What Twitch said at the last successful check; `None` until then.
    pub(super) info: Option<TokenInfo>,
    /// Why it could not be saved, if it was not.
    pub(super) save_problem: Option<String>,
    /// Why the last check failed, while `info` is `None`.
    pub(super) check_problem: Option<String>,
}

pub(super) struct Actor {
    pub(super) secrets: Arc<dyn SecretStore>,
    pub(super) id: TwitchId,
    pub(super) options: AccountOptions,
    pub(super) cancel: CancellationToken,
    pub(super) state_tx: watch::Sender<AccountState>,
    pub(super) held: Option<Held>,
    /// Shown with `LoggedOut` when nothing is held.
    pub(super) logged_out_message: Option<String>,
    pub(super) job: Option<Job>,
    pub(super) next_job: u64,
    pub(super) job_tx: mpsc::UnboundedSender<JobMsg>,
    /// When to check the held token next.
    pub(super) next_check: Option<Instant>,
    /// Revokes after logout; given a moment at shutdown.
    pub(super) background: JoinSet<()>,
}

impl Actor {
    pub(super) async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut jobs: mpsc::UnboundedReceiver<JobMsg>,
    ) {
        self.load_saved_token().await;
        loop {
            let check_due = match self.next_check {
                Some(at) if self.job.is_none() && self.held.is_some() => at,
                // Far away: the branch below is disabled anyway.
                _ => Instant::now() + Duration::from_secs(24 * 60 * 60),
            };
            let can_check = self.job.is_none() && self.held.is_some() && self.next_check.is_some();
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break,
                command = commands.recv() => match command {
                    Some(command) => self.command(command).await,
                    None => break,
                },
                Some(msg) = jobs.recv() => self.job_message(msg).await,
                _ = tokio::time::sleep_until(check_due), if can_check => self.start_check(),
            }
        }
        self.shut_down().await;
    }

    async fn shut_down(&mut self) {
        if let Some(job) = self.job.take() {
            job.cancel.cancel();
            if let Some(reply) = job.reply {
                reply.fail(AuthError::Stopped);
            }
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, job.task).await;
        }
        let background = &mut self.background;
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while background.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            self.background.abort_all();
        }
    }

    async fn command(&mut self, command: Command) {
        match command {
            Command::StartLogin { client_id, reply } => {
                let flow = match self.id.device_flow(&client_id) {
                    Ok(flow) => flow.with_slow_down_step(self.options.slow_down_step),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        return;
                    }
                };
                self.stop_job();
                let id = self.id.clone();
                let job = self.spawn_job(JobKind::Login, move |cancel, job, tx| async move {
                    let outcome = login(flow, id, &cancel, job, &tx).await;
                    let _ = tx.send(JobMsg::Done {
                        job,
                        outcome: Outcome::Login(outcome),
                    });
                });
                job.reply = Some(PendingReply::Login(reply));
                self.publish(AccountState::Checking);
            }
            Command::CancelLogin { reply } => {
                if matches!(
                    self.job,
                    Some(Job {
                        kind: JobKind::Login,
                        ..
                    })
                ) {
                    self.stop_job();
                    tracing::info!("twitch login: cancelled");
                    self.publish_base();
                } else if matches!(*self.state_tx.borrow(), AccountState::Failed { .. }) {
                    // Dismisses a failed attempt's message.
                    self.publish_base();
                }
                let _ = reply.send(());
            }
            Command::Logout { reply } => {
                let _ = reply.send(self.logout().await);
            }
            Command::PasteToken { token, reply } => {
                let token = normalize_token(&token);
                if token.expose().is_empty() {
                    let _ = reply.send(Err(AuthError::InvalidToken));
                    return;
                }
                let was_login = matches!(
                    self.job,
                    Some(Job {
                        kind: JobKind::Login,
                        ..
                    })
                );
                self.stop_job();
                if was_login {
                    self.publish_base();
                }
                let id = self.id.clone();
                let job = self.spawn_job(JobKind::Paste, move |cancel, job, tx| async move {
                    let outcome = id.validate(&token, &cancel).await.map(|info| Verified {
                        token,
                        refresh: None,
                        client_id: None,
                        info,
                    });
                    let _ = tx.send(JobMsg::Done {
                        job,
                        outcome: Outcome::Paste(outcome),
                    });
                });
                job.reply = Some(PendingReply::Paste(reply));
            }
            Command::Credentials { reply } => {
                let credentials = self.held.as_ref().and_then(|h| {
                    h.info
                        .as_ref()
                        .map(|info| TwitchCredentials::new(&info.login, &h.token))
                });
                let _ = reply.send(credentials);
            }
        }
    }

    async fn logout(&mut self) -> Result<(), AuthError> {
        self.stop_job();
        let held = self.held.take();
        self.next_check = None;
        self.logged_out_message = None;
        if let Some(held) = &held {
            let client_id = held
                .info
                .as_ref()
                .map(|i| i.client_id.clone())
                .filter(|c| !c.is_empty())
                .or_else(|| held.client_id.clone());
            if let Some(client_id) = client_id {
                let id = self.id.clone();
                let token = held.token.clone();
                self.background.spawn(async move {
                    // Best effort: the token is forgotten locally whatever Twitch says.
                    match id
                        .revoke(&client_id, &token, &CancellationToken::new())
                        .await
                    {
                        Ok(()) => tracing::info!("twitch login: token revoked"),
                        Err(e) => tracing::warn!(error = %e, "twitch login: could not revoke"),
                    }
                });
            }
        }
        let result = if self.secrets.available() {
            self.keyring(|s| s.delete(SecretKey::TwitchToken))
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "twitch login: could not delete the saved token");
                    e
                })
        } else {
            Ok(())
        };
        tracing::info!("twitch login: logged out");
        self.publish_base();
        result
    }

    async fn job_message(&mut self, msg: JobMsg) {
        let current = self.job.as_ref().map(|j| j.id);
        match msg {
            JobMsg::Prompt { job, prompt } if Some(job) == current => {
                tracing::info!("twitch login: waiting for the streamer to approve");
                // Announced before answering, so the caller already sees the new state.
                self.publish(AccountState::WaitingForUser {
                    user_code: prompt.user_code.clone(),
                    verification_uri: prompt.verification_uri.clone(),
                    expires_at_ms: prompt.expires_at_ms,
                });
                if let Some(PendingReply::Login(reply)) =
                    self.job.as_mut().and_then(|j| j.reply.take())
                {
                    let _ = reply.send(Ok(prompt));
                }
            }
            JobMsg::Done { job, outcome } if Some(job) == current => {
                let reply = self.job.take().and_then(|j| j.reply);
                self.finish(outcome, reply).await;
            }
            // From a job that was superseded or cancelled.
            _ => {}
        }
    }

    async fn finish(&mut self, outcome: Outcome, reply: Option<PendingReply>) {
        match outcome {
            Outcome::Login(Ok(v)) => {
                self.adopt(v).await;
            }
            Outcome::Login(Err(e)) => match reply {
                // Failed before a code was shown: the caller hears it, the state is as before.
                Some(reply) => {
                    tracing::warn!(error = %e, code = e.code().as_str(), "twitch login: could not start");
                    self.publish_base();
                    reply.fail(e);
                }
                None => {
                    tracing::warn!(error = %e, code = e.code().as_str(), "twitch login: failed");
                    self.publish(AccountState::Failed {
                        message: e.to_string(),
                    });
                }
            },
            Outcome::Paste(result) => {
                let result = match result {
                    Ok(v) => Ok(self.adopt(v).await),
                    Err(e) => {
                        tracing::warn!(error = %e, code = e.code().as_str(), "twitch login: pasted token refused");
                        Err(e)
                    }
                };
                if let Some(PendingReply::Paste(reply)) = reply {
                    let _ = reply.send(result);
                }
            }
            Outcome::Check(result) => self.checked(result).await,
        }
    }

    /// Applies a check of the held token.
    async fn checked(&mut self, result: Result<Checked, AuthError>) {
        let Some(held) = self.held.as_mut() else {
            return;
        };
        match result {
            Ok(Checked::StillValid(info)) => {
                tracing::info!(login = %info.login, "twitch login: the token is valid");
                held.info = Some(info);
                held.check_problem = None;
                self.next_check = Some(Instant::now() + self.options.revalidate_every);
                self.publish_base();
            }
            Ok(Checked::Refreshed(v)) => {
                tracing::info!("twitch login: token refreshed");
                self.adopt(v).await;
            }
            Err(AuthError::InvalidToken) => {
                let was_confirmed = held.info.is_some();
                tracing::warn!(
                    was_confirmed,
                    "twitch login: Twitch no longer accepts the token"
                );
                self.held = None;
                self.next_check = None;
                self.logged_out_message = Some(
                    if was_confirmed {
                        SESSION_ENDED
                    } else {
                        SAVED_INVALID
                    }
                    .to_string(),
                );
                if self.secrets.available() {
                    if let Err(e) = self.keyring(|s| s.delete(SecretKey::TwitchToken)).await {
                        tracing::warn!(error = %e, "twitch login: could not delete the invalid token");
                    }
                }
                self.publish_base();
            }
            Err(e) => {
                // Twitch could not be asked: keep the token, ask again soon.
                tracing::warn!(error = %e, code = e.code().as_str(), "twitch login: could not check the token");
                let retry = self.options.retry_every;
                self.next_check = Some(Instant::now() + retry);
                if held.info.is_none() {
                    held.check_problem = Some(format!(
                        "The saved Twitch login could not be checked: {e} StreamCue will try again in {}.",
                        human_duration(retry)
                    ));
                    self.publish_base();
                }
            }
        }
    }

    /// Makes a confirmed token the one in use: saves it (if a keyring is there), announces
    /// `LoggedIn`, schedules the next check. Returns the login.
    async fn adopt(&mut self, v: Verified) -> String {
        let save_problem = if !self.secrets.available() {
            Some(NO_KEYRING.to_string())
        } else {
            let token = v.token.clone();
            match self
                .keyring(move |s| s.set(SecretKey::TwitchToken, &token))
                .await
            {
                Ok(()) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "twitch login: could not save the token");
                    Some(format!(
                        "{e} This Twitch login could not be saved, so it lasts only until StreamCue closes."
                    ))
                }
            }
        };
        let login = v.info.login.clone();
        tracing::info!(login = %login, "twitch login: logged in");
        self.held = Some(Held {
            token: v.token,
            refresh: v.refresh,
            client_id: v.client_id,
            info: Some(v.info),
            save_problem,
            check_problem: None,
        });
        self.logged_out_message = None;
        self.next_check = Some(Instant::now() + self.options.revalidate_every);
        self.publish_base();
        login
    }

    /// The state when nothing is in progress.
    fn base_state(&self) -> AccountState {
        match &self.held {
            None => AccountState::LoggedOut {
                message: self.logged_out_message.clone(),
            },
            Some(Held {
                info: Some(info),
                save_problem,
                ..
            }) => {
                let mut warnings = Vec::new();
                if let Some(p) = save_problem {
                    warnings.push(p.as_str());
                }
                if !info.has_scope("chat:edit") {
                    warnings.push(NO_CHAT_EDIT);
                }
                AccountState::LoggedIn {
                    login: info.login.clone(),
                    warning: (!warnings.is_empty()).then(|| warnings.join(" ")),
                }
            }
            Some(Held {
                info: None,
                check_problem: Some(message),
                ..
            }) => AccountState::Failed {
                message: message.clone(),
            },
            Some(Held { info: None, .. }) => AccountState::Checking,
        }
    }

    pub(super) fn publish_base(&self) {
        self.publish(self.base_state());
    }

    pub(super) fn publish(&self, state: AccountState) {
        self.state_tx.send_if_modified(|current| {
            if *current == state {
                false
            } else {
                *current = state;
                true
            }
        });
    }
}

fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 120 {
        format!("{} minutes", s / 60)
    } else if s == 1 {
        "1 second".to_string()
    } else {
        format!("{s} seconds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_sentences() {
        for m in [NO_KEYRING, NO_CHAT_EDIT, SESSION_ENDED, SAVED_INVALID] {
            assert!(m.ends_with('.') && !m.contains('\n'), "{m}");
        }
        assert_eq!(human_duration(Duration::from_secs(60)), "60 seconds");
        assert_eq!(human_duration(Duration::from_secs(3600)), "60 minutes");
    }
}
