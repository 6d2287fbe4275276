//! `WatchAlong`: the actor that owns watch-along sessions. It checks the link, keeps the one
//! active session in SQLite, hands it to the executor (OBS, or the external controller; see
//! `executor`), follows what the executor reports (OBS's media reports, the controller's
//! webhooks), enforces the start timeout, and announces every change.
//!
//! Invariants:
//! - every transition is written (`db::watch`, compare-and-set) before it is announced, and a
//!   refused one (backwards, final, wrong session) changes nothing and is not announced;
//! - calls to the controller and streamlink runs run on tracked tasks that race the actor's
//!   token and report back through its mailbox, and OBS is told with `try_tell`: an executor
//!   that never answers stalls nothing;
//! - a session that is not streaming `start_timeout_seconds` after it was asked for fails with
//!   ERR_TIMEOUT and its executor is told to stop it;
//! - at start, a session a crash left active is FAILED and its executor told to stop.

use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::codes::WatchErrorCode;
use super::contract::{HealthResponse, StatusUpdate};
use super::controller::{ControllerClient, ControllerError, DEFAULT_TIMEOUT};
use super::session::{StepRefusal, WatchEvent, WatchStatus};
use crate::actor::{spawn_racing, Mailbox};
use crate::api::WatchExecutor;
use crate::api::{
    ApiError, CoreEvent, ErrorCode, WatchRefusal, WatchSessionView, WatchSettings, WatchSource,
    WatchStartOutcome, WatchView,
};
use crate::clock::now_ms;
use crate::db::{Applied, Created, Database, NewWatchSession, Setting, WatchSessionRow};
use crate::events::EventBus;
use crate::obs::{ObsClient, WatchMediaReport};

/// Saved in the database.
pub const SETTINGS: Setting<WatchSettings> = Setting::new("watch.settings");
/// Sessions listed in the card.
pub const HISTORY_SHOWN: u32 = 10;
/// The start timeout's bounds, seconds.
pub const START_TIMEOUT_MIN: u32 = 10;
pub const START_TIMEOUT_MAX: u32 = 900;

/// What a webhook did.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookAnswer {
    Applied(WatchSessionView),
    /// A repeat, or an update that would move the session back: nothing changed.
    Ignored {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRefusal {
    #[error("session {0} is not the current watch-along session")]
    NotCurrent(String),
    #[error("StreamCue is stopping")]
    Gone,
}

pub struct WatchSetup {
    pub db: Database,
    pub events: EventBus,
    /// Answers to `!watch`, `!stop` and `!watching` (sanitised and rate-limited there).
    pub replies: crate::queue::ReplySink,
    /// The OBS executor.
    pub obs: ObsClient,
    /// Turns links into what OBS plays.
    pub resolver: super::resolve::Resolver,
}

mod asks;
mod chat;
mod executor;
pub use chat::{WatchAsk, WatchChat};

enum Command {
    Start {
        text: String,
        requester: String,
        source: WatchSource,
        reply: oneshot::Sender<Result<WatchStartOutcome, ApiError>>,
    },
    Stop(oneshot::Sender<Result<Option<WatchRefusal>, ApiError>>),
    /// A viewer's waiting link: Play (`true`) or Deny.
    DecideAsk(
        i64,
        bool,
        oneshot::Sender<Result<Option<WatchRefusal>, ApiError>>,
    ),
    SaveSettings(WatchSettings, oneshot::Sender<Result<WatchView, ApiError>>),
    CheckController(oneshot::Sender<WatchView>),
    Webhook(
        StatusUpdate,
        oneshot::Sender<Result<WebhookAnswer, WebhookRefusal>>,
    ),
    /// The controller's answer to `POST /stream` (`None`: cancelled).
    StartAnswered(String, Option<Result<(), ControllerError>>),
    /// What OBS should play for a session (`None`: cancelled).
    Resolved(String, Option<Result<String, super::resolve::Refusal>>),
    /// A chat command, handed over by the queue (never awaited).
    Chat(WatchChat),
    Health(Option<Result<HealthResponse, ControllerError>>),
}

/// The handle (cheap to clone).
#[derive(Clone, Debug)]
pub struct WatchAlong {
    mailbox: Mailbox<Command>,
    view: watch::Receiver<WatchView>,
}

impl WatchAlong {
    pub async fn spawn(
        setup: WatchSetup,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let settings = SETTINGS.load(&setup.db).await;
        let (mailbox, rx) = Mailbox::new(64);
        let server_url = None;
        let (obs_reports, obs_reports_rx) = tokio::sync::mpsc::channel(16);
        let mut actor = Actor {
            obs_reports,
            events: setup.events.subscribe(),
            setup,
            mailbox: mailbox.clone(),
            tracker: tracker.clone(),
            cancel: cancel.clone(),
            settings,
            server_url,
            health: None,
            health_error: None,
            deadline: None,
            chat_requester: None,
            view: watch::channel(empty_view()).0,
        };
        actor.recover().await;
        actor.refresh_view().await;
        let view = actor.view.subscribe();
        let handle = tracker.spawn(actor.run(rx, obs_reports_rx));
        (Self { mailbox, view }, handle)
    }

    /// The card as last announced (never waits on the actor).
    pub fn view_now(&self) -> WatchView {
        self.view.borrow().clone()
    }

    /// Starts a session for the first link in `text`.
    pub async fn start(
        &self,
        text: String,
        requester: String,
        source: WatchSource,
    ) -> Result<WatchStartOutcome, ApiError> {
        self.mailbox
            .ask(|reply| Command::Start {
                text,
                requester,
                source,
                reply,
            })
            .await?
    }

    /// Stops the active session (`Some(refusal)` when there is none).
    pub async fn stop(&self) -> Result<Option<WatchRefusal>, ApiError> {
        self.mailbox.ask(Command::Stop).await?
    }

    /// Plays (`play`) or denies a viewer's waiting link; `Some(refusal)` when it could not be
    /// played (busy, a bad link, the executor not ready: it keeps waiting) or is not waiting.
    pub async fn decide_ask(&self, id: i64, play: bool) -> Result<Option<WatchRefusal>, ApiError> {
        self.mailbox
            .ask(|r| Command::DecideAsk(id, play, r))
            .await?
    }

    pub async fn save_settings(&self, s: WatchSettings) -> Result<WatchView, ApiError> {
        self.mailbox.ask(|r| Command::SaveSettings(s, r)).await?
    }

    /// Asks the controller's `/health` now; the view carries the answer when it comes.
    pub async fn check_controller(&self) -> Result<WatchView, ApiError> {
        Ok(self.mailbox.ask(Command::CheckController).await?)
    }

    /// A chat command (`!watch`, `!stop`, `!watching`): handed over without waiting; one that
    /// does not fit in the mailbox is dropped and logged.
    pub fn hear(&self, chat: WatchChat) {
        if self.mailbox.try_tell(Command::Chat(chat)).is_err() {
            tracing::warn!("watch-along busy: a chat command was dropped");
        }
    }

    /// A webhook from the controller (`POST /watch/status`).
    pub async fn webhook(&self, update: StatusUpdate) -> Result<WebhookAnswer, WebhookRefusal> {
        self.mailbox
            .ask(|r| Command::Webhook(update, r))
            .await
            .map_err(|_| WebhookRefusal::Gone)?
    }
}

fn empty_view() -> WatchView {
    WatchView {
        settings: WatchSettings::default(),
        current: None,
        history: Vec::new(),
        health: None,
        health_error: None,
        asks: Vec::new(),
    }
}

pub fn session_view(r: WatchSessionRow) -> WatchSessionView {
    WatchSessionView {
        id: r.id,
        requester: r.requester,
        source: WatchSource::from_name(&r.source),
        target: r.target,
        url: r.url,
        status: r.status,
        error_code: r.error_code,
        error_message: r.error_message,
        created_ms: r.created_ms as f64,
        updated_ms: r.updated_ms as f64,
    }
}

/// Refuses settings that cannot work.
pub fn check_settings(s: &WatchSettings) -> Result<(), ApiError> {
    let bad = |m: String| Err(ApiError::new(ErrorCode::InvalidSettings, m));
    if !(START_TIMEOUT_MIN..=START_TIMEOUT_MAX).contains(&s.start_timeout_seconds) {
        return bad(format!(
            "The start timeout must be {START_TIMEOUT_MIN}–{START_TIMEOUT_MAX} seconds."
        ));
    }
    if !s.controller_url.trim().is_empty() {
        ControllerClient::new(&s.controller_url, DEFAULT_TIMEOUT)
            .map_err(|e| ApiError::new(ErrorCode::InvalidSettings, format!("{e}.")))?;
    }
    if s.obs_volume_percent > 100 {
        return bad("The OBS volume must be 0–100 %.".into());
    }
    if s.return_scene.chars().count() > 100 || s.return_scene.chars().any(char::is_control) {
        return bad(
            "The return scene must be a scene name of at most 100 characters on one line.".into(),
        );
    }
    for (what, v) in [("guild id", &s.guild_id), ("channel id", &s.channel_id)] {
        if !v.trim().is_empty() && v.trim().parse::<u64>().is_err() {
            return bad(format!("The {what} must be a number (Discord's ids are)."));
        }
    }
    Ok(())
}

struct Actor {
    setup: WatchSetup,
    /// Given to OBS with each video; read in the actor's loop.
    obs_reports: tokio::sync::mpsc::Sender<WatchMediaReport>,
    events: tokio::sync::broadcast::Receiver<CoreEvent>,
    mailbox: Mailbox<Command>,
    tracker: TaskTracker,
    cancel: CancellationToken,
    settings: WatchSettings,
    /// The local server's base URL while it listens (the webhook goes there).
    server_url: Option<String>,
    health: Option<HealthResponse>,
    health_error: Option<String>,
    /// The active session that must be streaming by then.
    deadline: Option<(String, Instant)>,
    /// The session a chat viewer asked for: (session id, channel, display name), told in chat
    /// when it plays, fails or ends.
    chat_requester: Option<(String, String, String)>,
    view: watch::Sender<WatchView>,
}

impl Actor {
    async fn run(
        mut self,
        mut rx: tokio::sync::mpsc::Receiver<Command>,
        mut obs_reports: tokio::sync::mpsc::Receiver<WatchMediaReport>,
    ) {
        loop {
            let deadline = self.deadline.clone();
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return,
                // Events first: a command (a start) must see the server's latest address.
                ev = self.events.recv() => match ev {
                    Ok(CoreEvent::LocalServer { server }) => self.server_url = server.url,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return,
                },
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd).await,
                    None => return,
                },
                Some(report) = obs_reports.recv() => self.on_obs_media(report).await,
                _ = sleep_until_some(deadline.as_ref().map(|d| d.1)) => {
                    if let Some((id, _)) = self.deadline.take() {
                        self.timed_out(id).await;
                    }
                }
            }
        }
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Start {
                text,
                requester,
                source,
                reply,
            } => {
                let _ = reply.send(self.start(&text, requester, source).await);
            }
            Command::Stop(reply) => {
                let _ = reply.send(self.stop().await);
            }
            Command::DecideAsk(id, play, reply) => {
                let _ = reply.send(self.decide_ask(id, play).await);
            }
            Command::SaveSettings(s, reply) => {
                let result = match check_settings(&s) {
                    Err(e) => Err(e),
                    Ok(()) => match SETTINGS.save(&self.setup.db, &s).await {
                        Err(e) => Err(e.into()),
                        Ok(()) => {
                            self.settings = s;
                            self.ask_health();
                            self.refresh_view().await;
                            Ok(self.view.borrow().clone())
                        }
                    },
                };
                let _ = reply.send(result);
            }
            Command::CheckController(reply) => {
                self.ask_health();
                let _ = reply.send(self.view.borrow().clone());
            }
            Command::Chat(chat) => self.on_chat(chat).await,
            Command::Webhook(update, reply) => {
                let _ = reply.send(self.webhook(update).await);
            }
            Command::Resolved(id, answer) => self.on_resolved(id, answer).await,
            Command::StartAnswered(id, answer) => match answer {
                None | Some(Ok(())) => {
                    if answer.is_some() {
                        self.apply(&id, WatchEvent::Starting).await;
                    }
                }
                Some(Err(e)) => {
                    let code = e.code();
                    let message = format!("{e}. {}", code.info().recovery);
                    self.apply(&id, WatchEvent::Failed { code, message }).await;
                }
            },
            Command::Health(answer) => {
                match answer {
                    None => return,
                    Some(Ok(h)) => {
                        self.health = Some(h);
                        self.health_error = None;
                    }
                    Some(Err(e)) => {
                        self.health = None;
                        self.health_error = Some(format!("{e}."));
                    }
                }
                self.refresh_view().await;
            }
        }
    }

    async fn start(
        &mut self,
        text: &str,
        requester: String,
        source: WatchSource,
    ) -> Result<WatchStartOutcome, ApiError> {
        let refused = |code: WatchErrorCode, message: String| {
            Ok(WatchStartOutcome::Refused {
                refusal: WatchRefusal { code, message },
            })
        };
        let url = match super::url::extract_url(text) {
            Ok(u) => u,
            Err(why) => {
                let code = WatchErrorCode::InvalidUrl;
                return refused(
                    code,
                    format!("{} ({why}). {}", code.info().message, code.info().recovery),
                );
            }
        };
        let executor = self.settings.executor;
        let launch = match self.prepare(executor) {
            Ok(l) => l,
            Err(r) => return refused(r.code, r.message),
        };
        let new = NewWatchSession {
            id: super::new_session_id(),
            requester,
            source: source.name().into(),
            executor: executor.name().into(),
            target: self.target(executor),
            url: url.url.clone(),
            now_ms: now_ms(),
        };
        let row = match self.setup.db.watch().create(&new).await? {
            Created::Busy(running) => {
                return refused(
                    WatchErrorCode::Busy,
                    WatchErrorCode::Busy.sentence(&running.target),
                )
            }
            Created::Started(row) => row,
        };
        self.launch(&row, url, launch);
        self.deadline = Some((
            row.id.clone(),
            Instant::now() + Duration::from_secs(self.settings.start_timeout_seconds.into()),
        ));
        self.refresh_view().await;
        Ok(WatchStartOutcome::Started {
            session: session_view(row),
        })
    }

    async fn stop(&mut self) -> Result<Option<WatchRefusal>, ApiError> {
        let Some(active) = self.setup.db.watch().active().await? else {
            return Ok(Some(WatchRefusal {
                code: WatchErrorCode::Unknown,
                message: "Nothing is playing.".into(),
            }));
        };
        self.apply(&active.id, WatchEvent::StopRequested).await;
        self.tell_executor_to_stop(&active.executor, active.id.clone());
        // The stop is the streamer's word: the session ends whether or not the controller
        // answers (it is told; a late webhook cannot move an ended session).
        self.apply(&active.id, WatchEvent::Ended).await;
        Ok(None)
    }

    fn ask_health(&mut self) {
        let client = match self.client() {
            Ok(c) => c,
            Err(r) => {
                self.health = None;
                self.health_error = Some(r.message);
                return;
            }
        };
        let mailbox = self.mailbox.clone();
        spawn_racing(
            &self.tracker,
            self.cancel.child_token(),
            async move { client.health().await.map(|a| a.value) },
            move |answer| async move {
                let _ = mailbox.tell(Command::Health(answer)).await;
            },
        );
    }

    async fn webhook(&mut self, update: StatusUpdate) -> Result<WebhookAnswer, WebhookRefusal> {
        let active = self.setup.db.watch().active().await.ok().flatten();
        let known = match &active {
            Some(a) if a.id == update.session_id => a.clone(),
            _ => {
                // A late update for a session that already ended or failed is not an error
                // of the controller's: say it is ignored. Any other id is refused.
                return match self.setup.db.watch().get(&update.session_id).await {
                    Ok(Some(row)) if !row.status.is_active() => Ok(WebhookAnswer::Ignored {
                        reason: format!("the session is already {}", row.status.name()),
                    }),
                    _ => Err(WebhookRefusal::NotCurrent(update.session_id)),
                };
            }
        };
        let event = match update.event {
            WatchEvent::Failed { code, message } => WatchEvent::Failed {
                message: if message.is_empty() {
                    code.sentence(&known.target)
                } else {
                    format!("{message} ({})", code.info().recovery)
                },
                code,
            },
            other => other,
        };
        Ok(match self.apply(&known.id, event).await {
            Some(Ok(view)) => WebhookAnswer::Applied(view),
            Some(Err(why)) => WebhookAnswer::Ignored {
                reason: why.to_string(),
            },
            None => WebhookAnswer::Ignored {
                reason: "the update could not be saved".into(),
            },
        })
    }

    async fn timed_out(&mut self, id: String) {
        let row = match self.setup.db.watch().get(&id).await {
            Ok(Some(r)) if r.status.is_active() && r.status != WatchStatus::Streaming => r,
            _ => return,
        };
        let code = WatchErrorCode::Timeout;
        let message = format!(
            "The video was not playing {} s after it was asked for. {}",
            self.settings.start_timeout_seconds,
            code.info().recovery
        );
        self.apply(&id, WatchEvent::Failed { code, message }).await;
        self.tell_executor_to_stop(&row.executor, id);
    }

    /// Applies `event`; `Some(Ok)` when it moved (written, then announced), `Some(Err)` when
    /// refused, `None` when the write failed (logged; nothing announced).
    async fn apply(
        &mut self,
        id: &str,
        event: WatchEvent,
    ) -> Option<Result<WatchSessionView, StepRefusal>> {
        match self.setup.db.watch().apply(id, &event, now_ms()).await {
            Ok(Applied::Moved(row)) => {
                let settled = !row.status.is_active() || row.status == WatchStatus::Streaming;
                if settled && self.deadline.as_ref().is_some_and(|d| d.0 == row.id) {
                    self.deadline = None;
                }
                tracing::info!(session = %row.id, status = row.status.name(), "watch-along session");
                self.tell_chat_requester(&row);
                let view = session_view(row);
                self.refresh_view().await;
                Some(Ok(view))
            }
            Ok(Applied::Same(row)) => Some(Ok(session_view(row))),
            Ok(Applied::Refused(_, why)) => Some(Err(why)),
            Ok(Applied::NotFound) => None,
            Err(e) => {
                tracing::error!(error = %e, session = id, "watch-along: could not save a change; not announced");
                None
            }
        }
    }

    async fn recover(&mut self) {
        match self.setup.db.watch().fail_interrupted(now_ms()).await {
            Ok(failed) => {
                for row in failed {
                    tracing::warn!(session = %row.id, "watch-along session left running by a crash: failed");
                    if WatchExecutor::from_name(&row.executor) == WatchExecutor::Obs {
                        // OBS's actor never saw that session: it clears whatever the
                        // Watch-along source holds (once OBS is connected; before, nothing).
                        self.setup.obs.watch_stop(None);
                    } else {
                        self.tell_executor_to_stop(&row.executor, row.id);
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "watch-along: could not check for interrupted sessions")
            }
        }
    }

    /// Reads the card from the database and announces it.
    async fn refresh_view(&mut self) {
        let history = match self.setup.db.watch().recent(HISTORY_SHOWN).await {
            Ok(rows) => rows.into_iter().map(session_view).collect::<Vec<_>>(),
            Err(e) => {
                tracing::error!(error = %e, "watch-along: could not read the sessions");
                return;
            }
        };
        let asks = match self.setup.db.watch_asks().waiting().await {
            Ok(rows) => rows.into_iter().map(asks::ask_view).collect(),
            Err(e) => {
                tracing::error!(error = %e, "watch-along: could not read the viewers' links");
                return;
            }
        };
        let view = WatchView {
            asks,
            settings: self.settings.clone(),
            current: history.iter().find(|s| s.status.is_active()).cloned(),
            history,
            health: self.health.clone(),
            health_error: self.health_error.clone(),
        };
        self.view.send_replace(view.clone());
        self.setup.events.publish(CoreEvent::Watch {
            view: Box::new(view),
        });
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
