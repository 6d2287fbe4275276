//! `TwitchAccount`: the actor that owns the streamer's Twitch login.
//!
//! One task holds the token (only ever as a [`Secret`]) and the login state; a cloneable
//! handle talks to it over `mpsc` and gets answers over `oneshot`. Network work (the device
//! flow, token checks, refreshes) runs in one job task at a time so the actor always answers
//! at once; a job's result is applied by the actor, and a superseded job's result is dropped.
//! State changes are published on a `watch` channel for the engine to forward.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use specta::Type;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::actor::{Gone, Mailbox};

use super::client::{TwitchId, DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT};
use super::device::{DeviceFlow, SLOW_DOWN_STEP};
use super::error::AuthError;
use super::token::{normalize_token, TokenInfo};
use crate::chat::twitch::TwitchCredentials;
use crate::secrets::{Secret, SecretError, SecretKey, SecretStore};

/// Twitch asks apps to validate tokens hourly.
pub const DEFAULT_REVALIDATE_EVERY: Duration = Duration::from_secs(60 * 60);
/// After a check that could not reach Twitch, try again this soon.
pub const DEFAULT_RETRY_EVERY: Duration = Duration::from_secs(60);
/// Refresh proactively when the token would expire within the next check plus this.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Longest a keyring call may take (the OS may be showing an unlock prompt).
const KEYRING_TIMEOUT: Duration = Duration::from_secs(20);
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

/// The token in use and what is known about it.
struct Held {
    token: Secret,
    refresh: Option<Secret>,
    /// The app that issued it, when StreamCue ran the login (needed to refresh).
    client_id: Option<String>,
    /// What Twitch said at the last successful check; `None` until then.
    info: Option<TokenInfo>,
    /// Why it could not be saved, if it was not.
    save_problem: Option<String>,
    /// Why the last check failed, while `info` is `None`.
    check_problem: Option<String>,
}

/// A token Twitch has just confirmed.
struct Verified {
    token: Secret,
    refresh: Option<Secret>,
    client_id: Option<String>,
    info: TokenInfo,
}

enum Checked {
    StillValid(TokenInfo),
    Refreshed(Verified),
}

enum JobKind {
    Login,
    Paste,
    Check,
}

enum PendingReply {
    Login(oneshot::Sender<Result<LoginPrompt, AuthError>>),
    Paste(oneshot::Sender<Result<String, AuthError>>),
}

impl PendingReply {
    fn fail(self, e: AuthError) {
        match self {
            PendingReply::Login(r) => drop(r.send(Err(e))),
            PendingReply::Paste(r) => drop(r.send(Err(e))),
        }
    }
}

struct Job {
    id: u64,
    kind: JobKind,
    cancel: CancellationToken,
    task: JoinHandle<()>,
    /// The caller still waiting for this job (a login until its code is out, a paste).
    reply: Option<PendingReply>,
}

enum JobMsg {
    Prompt { job: u64, prompt: LoginPrompt },
    Done { job: u64, outcome: Outcome },
}

enum Outcome {
    Login(Result<Verified, AuthError>),
    Paste(Result<Verified, AuthError>),
    Check(Result<Checked, AuthError>),
}

struct Actor {
    secrets: Arc<dyn SecretStore>,
    id: TwitchId,
    options: AccountOptions,
    cancel: CancellationToken,
    state_tx: watch::Sender<AccountState>,
    held: Option<Held>,
    /// Shown with `LoggedOut` when nothing is held.
    logged_out_message: Option<String>,
    job: Option<Job>,
    next_job: u64,
    job_tx: mpsc::UnboundedSender<JobMsg>,
    /// When to check the held token next.
    next_check: Option<Instant>,
    /// Revokes after logout; given a moment at shutdown.
    background: JoinSet<()>,
}

impl Actor {
    async fn run(
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

    async fn load_saved_token(&mut self) {
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

    fn start_check(&mut self) {
        let Some(held) = &self.held else {
            return;
        };
        let id = self.id.clone();
        let token = held.token.clone();
        let refresh = held.refresh.clone().zip(held.client_id.clone().or_else(|| {
            held.info
                .as_ref()
                .map(|i| i.client_id.clone())
                .filter(|c| !c.is_empty())
        }));
        let refresh_below = self.options.revalidate_every + REFRESH_MARGIN;
        self.next_check = None;
        self.spawn_job(JobKind::Check, move |cancel, job, tx| async move {
            let outcome = check(id, token, refresh, refresh_below, &cancel).await;
            let _ = tx.send(JobMsg::Done {
                job,
                outcome: Outcome::Check(outcome),
            });
        });
    }

    fn spawn_job<F, Fut>(&mut self, kind: JobKind, work: F) -> &mut Job
    where
        F: FnOnce(CancellationToken, u64, mpsc::UnboundedSender<JobMsg>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.next_job += 1;
        let id = self.next_job;
        let cancel = self.cancel.child_token();
        let task = tokio::spawn(work(cancel.clone(), id, self.job_tx.clone()));
        self.job.insert(Job {
            id,
            kind,
            cancel,
            task,
            reply: None,
        })
    }

    /// Cancels the running job, if any; its caller (if still waiting) hears `Cancelled`.
    fn stop_job(&mut self) {
        if let Some(job) = self.job.take() {
            job.cancel.cancel();
            if let Some(reply) = job.reply {
                reply.fail(AuthError::Cancelled);
            }
            if matches!(job.kind, JobKind::Check) && self.held.is_some() {
                // Check again once whatever replaced it is done.
                self.next_check = Some(Instant::now());
            }
        }
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

    fn publish_base(&self) {
        self.publish(self.base_state());
    }

    fn publish(&self, state: AccountState) {
        self.state_tx.send_if_modified(|current| {
            if *current == state {
                false
            } else {
                *current = state;
                true
            }
        });
    }

    /// Runs a keyring call off the runtime thread (it may block on D-Bus or a prompt), with a
    /// timeout.
    async fn keyring<T: Send + 'static>(
        &self,
        op: impl FnOnce(&dyn SecretStore) -> Result<T, SecretError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let secrets = self.secrets.clone();
        let call = tokio::task::spawn_blocking(move || op(secrets.as_ref()));
        match tokio::time::timeout(KEYRING_TIMEOUT, call).await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) => Err(AuthError::Storage(e.to_string())),
            Ok(Err(_)) => Err(AuthError::Storage("the keyring call failed".into())),
            Err(_) => Err(AuthError::Storage(format!(
                "no answer within {} s",
                KEYRING_TIMEOUT.as_secs()
            ))),
        }
    }
}

/// The device login job: code → (prompt) → approval → check.
async fn login(
    flow: DeviceFlow,
    id: TwitchId,
    cancel: &CancellationToken,
    job: u64,
    tx: &mpsc::UnboundedSender<JobMsg>,
) -> Result<Verified, AuthError> {
    let code = flow.request_code(cancel).await?;
    let prompt = LoginPrompt {
        user_code: code.user_code.clone(),
        verification_uri: code.verification_uri.clone(),
        expires_at_ms: crate::db::now_ms() as f64 + code.expires_in as f64 * 1000.0,
    };
    let _ = tx.send(JobMsg::Prompt { job, prompt });
    let token = flow.wait_for_token(&code, cancel).await?;
    let info = id.validate(&token.access_token, cancel).await?;
    Ok(Verified {
        token: token.access_token,
        refresh: token.refresh_token,
        client_id: Some(flow.client_id().to_string()),
        info,
    })
}

/// The check job: validate; refresh when the token is about to expire or already refused and
/// a refresh token is held.
async fn check(
    id: TwitchId,
    token: Secret,
    refresh: Option<(Secret, String)>,
    refresh_below: Duration,
    cancel: &CancellationToken,
) -> Result<Checked, AuthError> {
    match id.validate(&token, cancel).await {
        Ok(info) => {
            let expiring =
                info.expires_in > 0 && Duration::from_secs(info.expires_in) <= refresh_below;
            if let (true, Some((refresh_token, client_id))) = (expiring, &refresh) {
                match refresh_now(&id, client_id, refresh_token, cancel).await {
                    Ok(v) => return Ok(Checked::Refreshed(v)),
                    // Still valid for now: keep it, try again at the next check.
                    Err(e) => tracing::warn!(error = %e, "twitch login: could not refresh"),
                }
            }
            Ok(Checked::StillValid(info))
        }
        Err(AuthError::InvalidToken) => match &refresh {
            Some((refresh_token, client_id)) => refresh_now(&id, client_id, refresh_token, cancel)
                .await
                .map(Checked::Refreshed),
            None => Err(AuthError::InvalidToken),
        },
        Err(e) => Err(e),
    }
}

async fn refresh_now(
    id: &TwitchId,
    client_id: &str,
    refresh_token: &Secret,
    cancel: &CancellationToken,
) -> Result<Verified, AuthError> {
    let token = id.refresh(client_id, refresh_token, cancel).await?;
    let info = id.validate(&token.access_token, cancel).await?;
    Ok(Verified {
        token: token.access_token,
        // Twitch's refresh tokens for public clients are single-use: keep the new one.
        refresh: token.refresh_token,
        client_id: Some(client_id.to_string()),
        info,
    })
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

    #[test]
    fn messages_are_sentences() {
        for m in [NO_KEYRING, NO_CHAT_EDIT, SESSION_ENDED, SAVED_INVALID] {
            assert!(m.ends_with('.') && !m.contains('\n'), "{m}");
        }
        assert_eq!(human_duration(Duration::from_secs(60)), "60 seconds");
        assert_eq!(human_duration(Duration::from_secs(3600)), "60 minutes");
    }
}
