//! The account actor's jobs: the work that talks to Twitch (the device login, the token
//! check, the refresh), run off the actor's loop so it always answers at once.
//!
//! Invariants: one job at a time (`Actor::job`); each carries an id, and its messages
//! ([`JobMsg`]) are applied by the actor only while it is still the current job; a job stops
//! when its token (a child of the actor's) is cancelled; a login's caller is answered as soon
//! as Twitch has issued the code, a paste's when the token has been checked.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::actor::Actor;
use super::LoginPrompt;
use crate::secrets::Secret;
use crate::twitch_auth::client::TwitchId;
use crate::twitch_auth::device::DeviceFlow;
use crate::twitch_auth::error::AuthError;
use crate::twitch_auth::token::TokenInfo;

/// Refresh proactively when the token would expire within the next check plus this.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A token Twitch has just confirmed.
pub(super) struct Verified {
    pub(super) token: Secret,
    pub(super) refresh: Option<Secret>,
    pub(super) client_id: Option<String>,
    pub(super) info: TokenInfo,
}

pub(super) enum Checked {
    StillValid(TokenInfo),
    Refreshed(Verified),
}

pub(super) enum JobKind {
    Login,
    Paste,
    Check,
}

pub(super) enum PendingReply {
    Login(oneshot::Sender<Result<LoginPrompt, AuthError>>),
    Paste(oneshot::Sender<Result<String, AuthError>>),
}

impl PendingReply {
    pub(super) fn fail(self, e: AuthError) {
        match self {
            PendingReply::Login(r) => drop(r.send(Err(e))),
            PendingReply::Paste(r) => drop(r.send(Err(e))),
        }
    }
}

pub(super) struct Job {
    pub(super) id: u64,
    pub(super) kind: JobKind,
    pub(super) cancel: CancellationToken,
    pub(super) task: JoinHandle<()>,
    /// The caller still waiting for this job (a login until its code is out, a paste).
    pub(super) reply: Option<PendingReply>,
}

pub(super) enum JobMsg {
    Prompt { job: u64, prompt: LoginPrompt },
    Done { job: u64, outcome: Outcome },
}

pub(super) enum Outcome {
    Login(Result<Verified, AuthError>),
    Paste(Result<Verified, AuthError>),
    Check(Result<Checked, AuthError>),
}

impl Actor {
    pub(super) fn start_check(&mut self) {
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

    pub(super) fn spawn_job<F, Fut>(&mut self, kind: JobKind, work: F) -> &mut Job
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
    pub(super) fn stop_job(&mut self) {
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
}

/// The device login job: code → (prompt) → approval → check.
pub(super) async fn login(
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
        expires_at_ms: crate::clock::now_ms() as f64 + code.expires_in as f64 * 1000.0,
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
