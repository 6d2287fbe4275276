//! `ObsClient`: the actor that owns the obs-websocket connection (obws).
//!
//! Invariants: only this task talks to OBS; every obws call has a timeout (a request in flight
//! when OBS dies can hang forever), and a timeout, a closed connection or `ServerStopped` all
//! mean "disconnected" → reconnect with backoff. The UI's OBS state comes from OBS's events, not
//! polling. Scene switches happen one at a time, in this task. A clip counts as shown only when
//! OBS played it to the end (media-ended event, or its duration as a fallback); if OBS goes away
//! mid-sequence the request simply stays `ready`.

use std::collections::VecDeque;
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

use super::mp4;
use super::settings::{password, StoredObsSettings};
use super::setup::set_up_scenes;
use crate::api::{
    ApiError, CoreEvent, ErrorCode, ObsConnection, ObsFailure, ObsSettingsUpdate, ObsSetupReport,
    ObsState, ObsView,
};
use crate::chat::Backoff;
use crate::db::Database;
use crate::events::EventBus;
use crate::secrets::SecretStore;

/// Longest wait for one obws request.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Grace after a clip's own duration before the fallback returns from the Result scene.
const FALLBACK_GRACE: Duration = Duration::from_millis(1500);
/// When a clip's duration cannot be read.
const UNKNOWN_CLIP_LENGTH: Duration = Duration::from_secs(15);

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

/// The show sequence: where to return to, what plays now, what waits.
#[derive(Default)]
struct Sequence {
    /// The streamer's scene before StreamCue switched away from it.
    previous: Option<String>,
    /// The clip playing in the Result scene, and when the fallback ends it.
    playing: Option<(i32, Instant)>,
    /// The request whose prompt the Generating scene shows.
    generating: Option<i32>,
    /// Shows that arrived while a clip played.
    waiting: VecDeque<Show>,
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
    async fn run(mut self, mut rx: mpsc::Receiver<Command>, cancel: CancellationToken) {
        self.settings = StoredObsSettings::load(&self.setup.db).await;
        self.reset_connection();
        loop {
            let attempt_at = self.next_attempt;
            let fallback_at = self.seq.playing.map(|(_, at)| at);
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
            }
        }
        if let Some(mut link) = self.link.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), link.client.disconnect()).await;
        }
        tracing::info!("OBS client stopped");
    }

    fn publish(&mut self) {
        self.connected.store(
            matches!(self.state.connection, ObsConnection::Connected { .. }),
            Ordering::Relaxed,
        );
        self.setup.events.publish(CoreEvent::Obs {
            state: self.state.clone(),
        });
    }

    /// After a settings change (or at start): drop any connection and start over.
    fn reset_connection(&mut self) {
        self.link = None;
        self.attempt = 0;
        self.seq = Sequence::default();
        self.state.showing = None;
        self.state.program_scene = None;
        self.state.recording = false;
        if self.settings.enabled {
            self.state.connection = ObsConnection::Connecting;
            self.next_attempt = Some(Instant::now());
        } else {
            self.state.connection = ObsConnection::Disabled;
            self.next_attempt = None;
        }
        self.publish();
    }

    async fn connect(&mut self) {
        self.attempt += 1;
        let pw = password(self.setup.secrets.as_ref());
        let config = obws::client::ConnectConfig {
            host: self.settings.host.clone(),
            port: self.settings.port,
            dangerous: None,
            password: pw.as_ref().map(|p| p.expose().to_string()),
            event_subscriptions: None,
            broadcast_capacity: 256,
            connect_timeout: CONNECT_TIMEOUT,
        };
        let where_ = format!("{}:{}", self.settings.host, self.settings.port);
        // obws's own connect timeout covers only TCP, not the handshake.
        let connecting = obws::Client::connect_with_config(config);
        let client = match tokio::time::timeout(CONNECT_TIMEOUT * 2, connecting).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return self.connect_failed(&where_, e, pw.is_some()),
            Err(_) => {
                return self.retry_later(format!(
                    "OBS at {where_} did not complete the handshake within {} s",
                    (CONNECT_TIMEOUT * 2).as_secs()
                ))
            }
        };
        let events = match client.events() {
            Ok(ev) => Box::pin(ev),
            Err(e) => return self.retry_later(format!("OBS events unavailable: {e}")),
        };
        let version = match call(client.general().version()).await {
            Ok(v) => v,
            Err(CallError::Lost(r) | CallError::Refused(r)) => return self.retry_later(r),
        };
        let scene = call(client.scenes().current_program_scene()).await.ok();
        let recording = call(client.recording().status()).await.ok();
        if let Some(r) = &recording {
            let elapsed = r.duration.whole_milliseconds().clamp(0, i64::MAX as i128) as i64;
            self.recording.send_modify(|rec| {
                rec.active = r.active;
                rec.started_at_ms = r.active.then(|| crate::queue::clock_ms() - elapsed);
            });
        }
        self.link = Some(Link { client, events });
        self.attempt = 0;
        self.state.connection = ObsConnection::Connected {
            obs_version: version.obs_studio_version.to_string(),
            websocket_version: version.obs_web_socket_version.to_string(),
        };
        self.state.program_scene = scene.map(|s| s.id.name);
        self.state.recording = recording.is_some_and(|r| r.active);
        tracing::info!(
            obs = %version.obs_studio_version,
            websocket = %version.obs_web_socket_version,
            scene = ?self.state.program_scene,
            "OBS connected"
        );
        self.publish();
        if self.state.hero {
            self.apply(Show::Hero(true)).await;
        }
    }

    fn connect_failed(&mut self, where_: &str, e: obws::error::Error, had_password: bool) {
        use obws::client::HandshakeError;
        use obws::error::Error;
        let failure = match &e {
            Error::ObsStudioVersion(found, _) => Some((
                ObsFailure::TooOld,
                format!("OBS {found} is too old: StreamCue needs OBS 30.2 or newer. Update OBS and reconnect."),
            )),
            Error::ObsWebsocketVersion(found, _) => Some((
                ObsFailure::TooOld,
                format!("obs-websocket {found} is too old: StreamCue needs 5.5 or newer (OBS 30.2+)."),
            )),
            Error::Handshake(HandshakeError::ConnectionClosed(Some(details)))
                if u16::from(details.code) == 4009 =>
            {
                Some((
                    ObsFailure::WrongPassword,
                    if had_password {
                        "OBS refused the password: check it in Settings → OBS (OBS: Tools → WebSocket Server Settings).".to_string()
                    } else {
                        "OBS asks for a password: enter it in Settings → OBS (OBS: Tools → WebSocket Server Settings).".to_string()
                    },
                ))
            }
            _ => None,
        };
        match failure {
            Some((failure, message)) => {
                tracing::warn!(%message, "OBS connection refused; not retrying until the settings change");
                self.state.connection = ObsConnection::Failed { failure, message };
                self.next_attempt = None;
                self.publish();
            }
            None => self.retry_later(format!("OBS is not reachable at {where_} ({e})")),
        }
    }

    fn retry_later(&mut self, reason: String) {
        let delay = self.setup.backoff.delay(self.attempt.max(1));
        let retry_at_ms = crate::queue::clock_ms() as f64 + delay.as_millis() as f64;
        if self.attempt <= 1 {
            tracing::info!(%reason, "OBS not connected; retrying with backoff");
        }
        self.link = None;
        self.state.connection = ObsConnection::Reconnecting {
            attempt: self.attempt,
            retry_at_ms,
            reason,
        };
        self.next_attempt = Some(Instant::now() + delay);
        self.publish();
    }

    /// The connection is gone: forget what was playing (its request stays `ready`).
    async fn lost(&mut self, reason: &str) {
        tracing::warn!(reason, "OBS disconnected");
        self.link = None;
        self.seq.playing = None;
        self.seq.generating = None;
        self.seq.waiting.clear();
        self.state.showing = None;
        self.state.program_scene = None;
        self.state.recording = false;
        self.attempt = 1;
        self.retry_later(format!("OBS disconnected: {reason}"));
    }

    async fn on_event(&mut self, event: Event) {
        match event {
            Event::CurrentProgramSceneChanged { id } => {
                self.state.program_scene = Some(id.name);
                self.publish();
            }
            Event::SceneNameChanged {
                old_name, new_name, ..
            } if self.state.program_scene.as_deref() == Some(old_name.as_str()) => {
                self.state.program_scene = Some(new_name);
                self.publish();
            }
            Event::RecordStateChanged {
                active,
                state,
                path,
            } => {
                use obws::events::OutputState;
                // Only the settled states count: `Stopping` says inactive before the file is
                // named; `Stopped` names it.
                let settled = match state {
                    OutputState::Started => Some(true),
                    OutputState::Stopped => Some(false),
                    _ => None,
                };
                if let Some(on) = settled {
                    self.recording.send_if_modified(|rec| {
                        let changed = rec.active != on || (path.is_some() && rec.last_path != path);
                        if on && !rec.active {
                            rec.started_at_ms = Some(crate::queue::clock_ms());
                        }
                        if !on {
                            rec.started_at_ms = None;
                            if path.is_some() {
                                rec.last_path = path.clone();
                            }
                        }
                        rec.active = on;
                        changed
                    });
                }
                if self.state.recording != active {
                    self.state.recording = active;
                    self.publish();
                }
            }
            Event::MediaInputPlaybackEnded { id }
                if id.name == self.settings.names.result_source && self.seq.playing.is_some() =>
            {
                self.clip_ended("OBS said the clip ended").await;
            }
            Event::ServerStopping | Event::ServerStopped | Event::ExitStarted => {
                self.lost("OBS is closing").await;
            }
            _ => {}
        }
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

    fn view(&self) -> ObsView {
        ObsView {
            settings: self.settings.view(self.setup.secrets.as_ref()),
            state: self.state.clone(),
        }
    }

    fn is_ours(&self, scene: &str) -> bool {
        let n = &self.settings.names;
        scene == n.generating_scene || scene == n.result_scene || scene == n.hero_scene
    }

    /// Remembers the streamer's scene before the first switch of a sequence.
    fn remember_previous(&mut self) {
        if self.seq.previous.is_none() {
            if let Some(current) = &self.state.program_scene {
                if !self.is_ours(current) {
                    self.seq.previous = Some(current.clone());
                }
            }
        }
    }

    async fn apply(&mut self, show: Show) {
        if let Show::Hero(on) = show {
            self.state.hero = on;
        }
        if self.link.is_none() {
            tracing::debug!(?show, "OBS not connected: nothing shown");
            self.publish();
            return;
        }
        if self.seq.playing.is_some() && !matches!(show, Show::Hero(_) | Show::Failed { .. }) {
            self.seq.waiting.push_back(show);
            return;
        }
        let result = match show {
            Show::Generating { id, prompt } => self.show_generating(id, &prompt).await,
            Show::Result { id, path } => self.show_result(id, path).await,
            Show::Failed { id } => {
                if self.seq.generating == Some(id) {
                    self.seq.generating = None;
                    self.state.showing = None;
                    self.return_to_previous().await
                } else {
                    Ok(())
                }
            }
            Show::Hero(true) => {
                if self.seq.playing.is_none() && self.seq.generating.is_none() {
                    self.remember_previous();
                    let hero = self.settings.names.hero_scene.clone();
                    self.switch(&hero).await
                } else {
                    Ok(())
                }
            }
            Show::Hero(false) => {
                let hero = self.settings.names.hero_scene.clone();
                if self.state.program_scene.as_deref() == Some(hero.as_str()) {
                    self.return_to_previous().await
                } else {
                    Ok(())
                }
            }
        };
        self.publish();
        self.settle(result).await;
    }

    async fn settle(&mut self, result: Result<(), CallError>) {
        match result {
            Ok(()) => {}
            Err(CallError::Refused(why)) => {
                tracing::warn!(%why, "OBS refused a step of the show (run Set up OBS?)")
            }
            Err(CallError::Lost(why)) => self.lost(&why).await,
        }
    }

    async fn show_generating(&mut self, id: i32, prompt: &str) -> Result<(), CallError> {
        self.remember_previous();
        let names = self.settings.names.clone();
        let client = &self.link.as_ref().expect("connected").client;
        let text = serde_json::json!({ "text": prompt });
        call(
            client
                .inputs()
                .set_settings(obws::requests::inputs::SetSettings {
                    input: obws::requests::inputs::InputId::Name(&names.prompt_source),
                    settings: &text,
                    overlay: Some(true),
                }),
        )
        .await?;
        self.seq.generating = Some(id);
        self.state.showing = Some(id);
        self.switch(&names.generating_scene).await
    }

    async fn show_result(&mut self, id: i32, path: PathBuf) -> Result<(), CallError> {
        self.remember_previous();
        let names = self.settings.names.clone();
        let client = &self.link.as_ref().expect("connected").client;
        let media = serde_json::json!({
            "is_local_file": true,
            "local_file": path.display().to_string(),
            "looping": false,
            "restart_on_activate": true,
            "clear_on_media_end": false,
        });
        let input = obws::requests::inputs::InputId::Name(&names.result_source);
        call(
            client
                .inputs()
                .set_settings(obws::requests::inputs::SetSettings {
                    input,
                    settings: &media,
                    overlay: Some(true),
                }),
        )
        .await?;
        let length = mp4::duration(&path).unwrap_or(UNKNOWN_CLIP_LENGTH);
        self.seq.generating = None;
        self.seq.playing = Some((id, Instant::now() + length + FALLBACK_GRACE));
        self.state.showing = Some(id);
        self.switch(&names.result_scene).await?;
        let client = &self.link.as_ref().expect("connected").client;
        call(
            client
                .media_inputs()
                .trigger_action(input, obws::common::MediaAction::Restart),
        )
        .await
    }

    async fn clip_ended(&mut self, how: &str) {
        let Some((id, _)) = self.seq.playing.take() else {
            return;
        };
        tracing::info!(request_id = id, how, "clip shown in OBS");
        let _ = self.setup.reports.try_send(ObsReport::Shown { id });
        self.state.showing = None;
        let result = self.return_to_previous().await;
        self.publish();
        self.settle(result).await;
        while self.seq.playing.is_none() && self.link.is_some() {
            let Some(next) = self.seq.waiting.pop_front() else {
                break;
            };
            Box::pin(self.apply(next)).await;
        }
    }

    /// Back to the streamer's scene (or the Hero Shot while degraded), unless the streamer has
    /// already moved away from StreamCue's scenes.
    async fn return_to_previous(&mut self) -> Result<(), CallError> {
        let on_ours = self
            .state
            .program_scene
            .as_deref()
            .is_some_and(|s| self.is_ours(s));
        let target = if self.state.hero {
            Some(self.settings.names.hero_scene.clone())
        } else {
            self.seq.previous.take()
        };
        match target {
            Some(scene)
                if on_ours && self.state.program_scene.as_deref() != Some(scene.as_str()) =>
            {
                self.switch(&scene).await
            }
            _ => Ok(()),
        }
    }

    async fn switch(&mut self, scene: &str) -> Result<(), CallError> {
        let client = &self.link.as_ref().expect("connected").client;
        call(client.scenes().set_current_program_scene(scene)).await?;
        // Our own switch is the truth now; OBS's event follows.
        self.state.program_scene = Some(scene.to_string());
        Ok(())
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
