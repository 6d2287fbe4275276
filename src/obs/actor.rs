//! `ObsClient`: the actor that owns the obs-websocket connection (obws): its handle, its
//! commands and its loop.
//!
//! Invariants: only this task talks to OBS; every obws call has a timeout (a request in flight
//! when OBS dies can hang forever), and a timeout, a closed connection or `ServerStopped` all
//! mean "disconnected" → reconnect with backoff. The UI's OBS state comes from OBS's events, not
//! polling. Scene switches happen one at a time, in this task. A clip counts as shown only when
//! OBS played it to the end (media-ended event, or its duration as a fallback); if OBS goes away
//! mid-sequence the request simply stays `ready`.
//!
//! The rest of the actor lives in its child modules: `connection` (connect, backoff, loss),
//! `show` (the Generating → Result → back sequence and the Hero Shot), `state` (OBS's live
//! state from its events, and announcing it), `watch` (watch-along videos in the Watch-along
//! scene).

mod connection;
mod show;
mod state;
mod watch;

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use obws::events::{Event, EventStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::actor::Mailbox;
use tokio_util::task::TaskTracker;

use super::settings::StoredObsSettings;
use super::setup::set_up_scenes;
use crate::api::{
    ApiError, CoreEvent, ErrorCode, ObsConnection, ObsSettingsUpdate, ObsSetupReport, ObsState,
    ObsView,
};
use crate::chat::Backoff;
use crate::db::Database;
use crate::events::EventBus;
use crate::secrets::SecretStore;
use show::Sequence;

/// Longest wait for one obws request.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// What the generation pipeline asks OBS to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Show {
    /// The Generating scene with the prompt.
    Generating { id: i32, prompt: String },
    /// The Result scene playing the clip, then back to where the streamer was.
    Result { id: i32, path: PathBuf },
    /// Generation of `id` failed: leave the Generating scene.
    Failed { id: i32 },
    /// Degraded mode: the Hero Shot scene on / off.
    Hero(bool),
}

/// What OBS tells the generation worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObsReport {
    /// The clip of request `id` was played to the end.
    Shown { id: i32 },
}

/// A watch-along video to play in the Watch-along scene (the OBS executor).
#[derive(Debug, Clone)]
pub struct WatchPlay {
    pub session: String,
    /// What the media source opens (a stream URL streamlink found, or the link itself).
    pub url: String,
    pub volume_percent: u32,
    /// Shown when the video ends ("" = the scene that was on before).
    pub return_scene: String,
    /// Where [`WatchMediaReport`]s go (never awaited: `try_send`).
    pub reports: mpsc::Sender<WatchMediaReport>,
}

/// What happened to a watch-along video in OBS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchMedia {
    Playing,
    Ended,
    /// It could not be played, or stopped: why, in words.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchMediaReport {
    pub session: String,
    pub media: WatchMedia,
}

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

/// OBS's own recording, as the recorder follows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObsRecording {
    pub active: bool,
    /// When the running recording started (Unix ms), from OBS's record timecode.
    pub started_at_ms: Option<i64>,
    /// The file of the last recording that stopped.
    pub last_path: Option<String>,
}

enum Command {
    View(Reply<ObsView>),
    Update(Box<ObsSettingsUpdate>, Reply<ObsView>),
    SetUp(Reply<ObsSetupReport>),
    Show(Show),
    StartRecording(Reply<()>),
    StopRecording(Reply<String>),
    WatchPlay(Box<WatchPlay>),
    WatchStop(Option<String>),
}

/// Handle on the OBS actor.
#[derive(Clone, Debug)]
pub struct ObsClient {
    mailbox: Mailbox<Command>,
    connected: Arc<AtomicBool>,
    recording: tokio::sync::watch::Receiver<ObsRecording>,
}

pub struct ObsSetup {
    pub db: Database,
    pub events: EventBus,
    pub secrets: Arc<dyn SecretStore>,
    pub reports: mpsc::Sender<ObsReport>,
    pub backoff: Backoff,
}

fn not_connected() -> ApiError {
    ApiError::new(
        ErrorCode::Obs,
        "OBS is not connected: start OBS and check Settings → OBS (host, port, password).",
    )
}

impl ObsClient {
    pub fn spawn(
        setup: ObsSetup,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (mailbox, rx) = Mailbox::new(64);
        let connected = Arc::new(AtomicBool::new(false));
        let (recording_tx, recording) = tokio::sync::watch::channel(ObsRecording::default());
        let actor = Actor {
            recording: recording_tx,
            setup,
            settings: StoredObsSettings::default(),
            link: None,
            state: ObsState {
                connection: ObsConnection::Disabled,
                program_scene: None,
                recording: false,
                showing: None,
                hero: false,
            },
            attempt: 0,
            next_attempt: None,
            seq: Sequence::default(),
            watching: None,
            connected: connected.clone(),
        };
        let handle = tracker.spawn(actor.run(rx, cancel));
        (
            Self {
                mailbox,
                connected,
                recording,
            },
            handle,
        )
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ApiError> {
        self.mailbox.ask(make).await?
    }

    pub async fn view(&self) -> Result<ObsView, ApiError> {
        self.ask(Command::View).await
    }

    pub async fn update_settings(&self, update: ObsSettingsUpdate) -> Result<ObsView, ApiError> {
        self.ask(|r| Command::Update(Box::new(update), r)).await
    }

    /// **Set up OBS**: creates the scenes and sources StreamCue needs if they are missing.
    pub async fn set_up(&self) -> Result<ObsSetupReport, ApiError> {
        self.ask(Command::SetUp).await
    }

    /// OBS's recording state, kept current from its events.
    pub fn recording(&self) -> tokio::sync::watch::Receiver<ObsRecording> {
        self.recording.clone()
    }

    /// Starts OBS's recording.
    pub async fn start_recording(&self) -> Result<(), ApiError> {
        self.ask(Command::StartRecording).await
    }

    /// Stops OBS's recording; returns the file it wrote.
    pub async fn stop_recording(&self) -> Result<String, ApiError> {
        self.ask(Command::StopRecording).await
    }

    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Asks OBS to show something; never waits (dropped with a log line when OBS is busy).
    pub fn show(&self, show: Show) {
        if self.mailbox.try_tell(Command::Show(show)).is_err() {
            tracing::warn!("OBS show request dropped: the OBS actor is busy");
        }
    }

    /// Plays a watch-along video in the Watch-along scene; never waits. What becomes of it
    /// comes back on `play.reports` (a full mailbox is reported there as a failure).
    pub fn watch_play(&self, play: WatchPlay) {
        let reports = play.reports.clone();
        let session = play.session.clone();
        if self
            .mailbox
            .try_tell(Command::WatchPlay(Box::new(play)))
            .is_err()
        {
            let _ = reports.try_send(WatchMediaReport {
                session,
                media: WatchMedia::Failed("the OBS connection is busy; try again".into()),
            });
        }
    }

    /// Stops the watch-along video of `session` (None: whatever plays); never waits.
    pub fn watch_stop(&self, session: Option<String>) {
        if self.mailbox.try_tell(Command::WatchStop(session)).is_err() {
            tracing::warn!("OBS watch-along stop dropped: the OBS actor is busy");
        }
    }

    /// Plays a clip again (**Show again**); fails when OBS is not connected.
    pub fn show_again(&self, id: i32, path: PathBuf) -> Result<(), ApiError> {
        if !self.is_connected() {
            return Err(not_connected());
        }
        self.show(Show::Result { id, path });
        Ok(())
    }
}

struct Link {
    client: obws::Client,
    events: Pin<Box<EventStream>>,
}

struct Actor {
    recording: tokio::sync::watch::Sender<ObsRecording>,
    setup: ObsSetup,
    settings: StoredObsSettings,
    link: Option<Link>,
    state: ObsState,
    attempt: u32,
    next_attempt: Option<Instant>,
    seq: Sequence,
    watching: Option<watch::Watching>,
    connected: Arc<AtomicBool>,
}

/// A failed obws call: the connection is gone, or OBS refused the request.
enum CallError {
    Lost(String),
    Refused(String),
}

async fn call<T>(
    fut: impl std::future::Future<Output = obws::error::Result<T>>,
) -> Result<T, CallError> {
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Err(_) => Err(CallError::Lost(format!(
            "OBS did not answer within {} s",
            CALL_TIMEOUT.as_secs()
        ))),
        Ok(Ok(v)) => Ok(v),
        Ok(Err(obws::error::Error::Api { code, message })) => Err(CallError::Refused(format!(
            "OBS refused: {}",
            message.unwrap_or_else(|| format!("{code:?}"))
        ))),
        Ok(Err(e)) => Err(CallError::Lost(e.to_string())),
    }
}

impl Actor {
    /// Overlays `settings` on input `input`'s (the connection must be up).
    async fn set_input(&self, input: &str, settings: &serde_json::Value) -> Result<(), CallError> {
        let client = &self.link.as_ref().expect("connected").client;
        call(
            client
                .inputs()
                .set_settings(obws::requests::inputs::SetSettings {
                    input: obws::requests::inputs::InputId::Name(input),
                    settings,
                    overlay: Some(true),
                }),
        )
        .await
    }

    /// Plays media input `input` from its start (the connection must be up).
    async fn restart_media(&self, input: &str) -> Result<(), CallError> {
        let client = &self.link.as_ref().expect("connected").client;
        call(client.media_inputs().trigger_action(
            obws::requests::inputs::InputId::Name(input),
            obws::common::MediaAction::Restart,
        ))
        .await
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Command>, cancel: CancellationToken) {
        self.settings = StoredObsSettings::load(&self.setup.db).await;
        self.reset_connection();
        loop {
            let attempt_at = self.next_attempt;
            let fallback_at = self.seq.playing.map(|(_, at)| at);
            let watch_poll_at = self.watching.as_ref().map(|w| w.poll_at);
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                Some(cmd) = rx.recv() => self.on_command(cmd).await,
                event = next_event(&mut self.link), if self.link.is_some() => match event {
                    Some(event) => self.on_event(event).await,
                    None => self.lost("the connection to OBS closed").await,
                },
                _ = sleep_until(attempt_at), if attempt_at.is_some() && self.link.is_none() => {
                    self.next_attempt = None;
                    self.connect().await;
                }
                _ = sleep_until(fallback_at), if fallback_at.is_some() => {
                    self.clip_ended("its length passed (no media-ended event)").await;
                }
                _ = sleep_until(watch_poll_at), if watch_poll_at.is_some() && self.link.is_some() => {
                    self.watch_poll().await;
                }
            }
        }
        if let Some(mut link) = self.link.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), link.client.disconnect()).await;
        }
        tracing::info!("OBS client stopped");
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::View(reply) => {
                let _ = reply.send(Ok(self.view()));
            }
            Command::Update(update, reply) => {
                let applied =
                    StoredObsSettings::apply(&self.setup.db, self.setup.secrets.as_ref(), *update)
                        .await;
                match applied {
                    Ok(settings) => {
                        tracing::info!(host = %settings.host, port = settings.port, enabled = settings.enabled, "OBS settings changed");
                        self.settings = settings;
                        self.setup.events.publish(CoreEvent::ObsSettings {
                            settings: self.settings.view(self.setup.secrets.as_ref()),
                        });
                        self.reset_connection();
                        let _ = reply.send(Ok(self.view()));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::SetUp(reply) => {
                let Some(link) = &self.link else {
                    let _ = reply.send(Err(not_connected()));
                    return;
                };
                let result = set_up_scenes(&link.client, &self.settings.names).await;
                if let Ok(report) = &result {
                    tracing::info!(created = ?report.created, "OBS set up");
                }
                let _ = reply.send(result);
            }
            Command::Show(show) => self.apply(show).await,
            Command::WatchPlay(play) => self.watch_play(*play).await,
            Command::WatchStop(session) => self.watch_stop(session).await,
            Command::StartRecording(reply) => {
                let Some(link) = &self.link else {
                    let _ = reply.send(Err(not_connected()));
                    return;
                };
                let result = call(link.client.recording().start()).await;
                let _ = reply.send(self.obs_result(result).await);
            }
            Command::StopRecording(reply) => {
                let Some(link) = &self.link else {
                    let _ = reply.send(Err(not_connected()));
                    return;
                };
                let result = call(link.client.recording().stop()).await;
                let _ = reply.send(self.obs_result(result).await);
            }
        }
    }

    /// An obws result for the streamer: a lost connection also starts the reconnect.
    async fn obs_result<T>(&mut self, r: Result<T, CallError>) -> Result<T, ApiError> {
        match r {
            Ok(v) => Ok(v),
            Err(CallError::Refused(why)) => Err(ApiError::new(ErrorCode::Obs, why)),
            Err(CallError::Lost(why)) => {
                self.lost(&why).await;
                Err(not_connected())
            }
        }
    }
}

async fn next_event(link: &mut Option<Link>) -> Option<Event> {
    match link {
        Some(link) => link.events.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
