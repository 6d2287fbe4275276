//! `Recorder`: the actor that records the stream (following OBS's own recording, or running
//! streamlink) and cuts clips around moments with ffmpeg (stream copy).
//!
//! Invariants: it is the only writer of `recordings` and `clips`; a recording's start time is
//! the time base of offsets into its file (OBS: from its record timecode); a clip row is written
//! only after the clip file is complete; on shutdown streamlink is stopped cleanly (SIGINT, so
//! the file is finalised) before the database closes. It never awaits OBS or ffmpeg in its loop:
//! starting/stopping OBS's recording and cutting clips run as tracked tasks that race the
//! recorder's token, and a finished cut comes back through its mailbox to be written.
//! Planning, running and writing the cuts is in `clips`; the command loop, following OBS and
//! streamlink's events are here.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::streamlink::{recording_stem, RecorderEvent, StreamlinkOptions, StreamlinkRecorder};
use crate::actor::{spawn_racing, Mailbox};
use crate::api::rows;
use crate::api::{
    ApiError, Clip, CoreEvent, ErrorCode, RecorderMode, RecorderPhase, RecorderSettings,
    RecorderState, RecorderView,
};
use crate::clock::now_ms;
use crate::db::{Database, DbError, Setting};
use crate::events::EventBus;
use crate::folders::FolderWatch;
use crate::obs::{ObsClient, ObsRecording};

mod clips;

use clips::FinishedCut;

const SETTINGS: Setting<RecorderSettings> = Setting::new("recorder.settings");
/// How many of the latest clips the recorder's view carries.
pub const CLIPS_SHOWN: u32 = 30;
/// Most seconds kept before (and, separately, after) a moment when cutting its clip.
pub const PADDING_MAX_SECONDS: u32 = 600;

/// Checks the parts of recorder settings that do not depend on the recorder's state.
pub(crate) fn check_settings(s: &RecorderSettings) -> Result<(), ApiError> {
    if s.pre_seconds > PADDING_MAX_SECONDS || s.post_seconds > PADDING_MAX_SECONDS {
        return Err(ApiError::new(
            ErrorCode::InvalidSettings,
            format!("Keep at most {PADDING_MAX_SECONDS} s before and after a moment."),
        ));
    }
    let quality = s.quality.trim();
    if quality.is_empty()
        || !quality
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ',' | '_' | '-'))
    {
        return Err(ApiError::new(
            ErrorCode::InvalidSettings,
            "The quality is a streamlink quality like best, 720p60 or 720p,best.",
        ));
    }
    Ok(())
}

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

enum Command {
    View(Reply<RecorderView>),
    SetSettings(Box<RecorderSettings>, Reply<RecorderSettings>),
    Start(Reply<RecorderState>),
    Stop(Reply<RecorderState>),
    Cut(i32, Reply<Clip>),
    /// A cut this actor started has finished; the actor writes its row (it is the only writer).
    CutDone(Box<FinishedCut>),
}

#[derive(Clone, Debug)]
pub struct Recorder {
    mailbox: Mailbox<Command>,
}

pub struct RecorderSetup {
    pub db: Database,
    pub events: EventBus,
    pub obs: ObsClient,
    /// Where cuts and streamlink recordings go (read as each file starts).
    pub folders: FolderWatch,
    pub ffmpeg: String,
    /// The main chat's live session (id, channel), which names and owns a new recording.
    pub live_session: tokio::sync::watch::Receiver<Option<(i64, String)>>,
    /// How often streamlink checks a stream that is not live ([`LIVE_POLL`] but in tests).
    pub live_poll: Duration,
}

/// How often a streamlink recording checks whether the stream went live (seed 003: 60 s).
pub const LIVE_POLL: Duration = Duration::from_secs(60);

/// "Not live yet (3 checks): No playable streams found … Checking again every 60 s."
fn waiting_message(checks: u32, next_in_s: f64, reason: &str) -> String {
    let checks = if checks == 1 {
        "1 check".to_string()
    } else {
        format!("{checks} checks")
    };
    let reason: String = reason.chars().take(200).collect();
    format!("Not live yet ({checks}: {reason}). Checking again every {next_in_s:.0} s until you press Stop.")
}

/// Follows the main chat's state on the bus into `live` (for the recorder).
pub async fn follow_live_session(
    mut events: tokio::sync::broadcast::Receiver<crate::api::CoreEvent>,
    live: tokio::sync::watch::Sender<Option<(i64, String)>>,
    cancel: CancellationToken,
) {
    use crate::api::{ChatSlot, ChatState, CoreEvent};
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => return,
            e = events.recv() => e,
        };
        match event {
            Ok(CoreEvent::ChatState {
                slot: ChatSlot::Main,
                state,
            }) => {
                let now = match state {
                    ChatState::Connected {
                        channel,
                        session_id,
                        ..
                    } => Some((i64::from(session_id), channel)),
                    // A reconnect keeps its session.
                    ChatState::Reconnecting { .. } => continue,
                    _ => None,
                };
                live.send_replace(now);
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// The channel a streamlink URL names: its last path segment (`twitch.tv/shroud` → `shroud`).
fn channel_of(url: &str) -> String {
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_string()
}

fn refused(m: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidTransition, m)
}

impl Recorder {
    pub fn spawn(
        setup: RecorderSetup,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (mailbox, rx) = Mailbox::new(32);
        let obs_recording = setup.obs.recording();
        let actor = Actor {
            mailbox: mailbox.clone(),
            tracker: tracker.clone(),
            cancel: cancel.clone(),
            setup,
            settings: RecorderSettings::default(),
            state: RecorderState {
                phase: RecorderPhase::Idle,
                mode: RecorderMode::Obs,
                path: None,
                bytes: 0.0,
                bytes_per_min: 0.0,
                started_at_ms: None,
                message: None,
            },
            recording_id: None,
            streamlink: None,
        };
        (
            Self { mailbox },
            tracker.spawn(actor.run(rx, obs_recording, cancel)),
        )
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ApiError> {
        self.mailbox.ask(make).await?
    }

    pub async fn view(&self) -> Result<RecorderView, ApiError> {
        self.ask(Command::View).await
    }

    pub async fn set_settings(&self, s: RecorderSettings) -> Result<RecorderSettings, ApiError> {
        self.ask(|r| Command::SetSettings(Box::new(s), r)).await
    }

    /// Starts recording in the chosen mode (OBS: starts OBS's recording).
    pub async fn start(&self) -> Result<RecorderState, ApiError> {
        self.ask(Command::Start).await
    }

    pub async fn stop(&self) -> Result<RecorderState, ApiError> {
        self.ask(Command::Stop).await
    }

    /// **Cut clip** around a moment, from the recording that covers it.
    pub async fn cut(&self, moment_id: i32) -> Result<Clip, ApiError> {
        self.ask(|r| Command::Cut(moment_id, r)).await
    }
}

struct Streamlink {
    recorder: StreamlinkRecorder,
    events: mpsc::Receiver<RecorderEvent>,
}

struct Actor {
    /// Its own mailbox: finished cuts come back through it.
    mailbox: Mailbox<Command>,
    tracker: TaskTracker,
    /// The recorder's token; the cuts and OBS calls it starts race it.
    cancel: CancellationToken,
    setup: RecorderSetup,
    settings: RecorderSettings,
    state: RecorderState,
    /// The `recordings` row being written.
    recording_id: Option<i64>,
    streamlink: Option<Streamlink>,
}

async fn next_streamlink_event(s: &mut Option<Streamlink>) -> Option<RecorderEvent> {
    match s {
        Some(s) => s.events.recv().await,
        None => std::future::pending().await,
    }
}

impl Actor {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut obs: watch::Receiver<ObsRecording>,
        cancel: CancellationToken,
    ) {
        if let Err(e) = self.setup.db.recordings().close_open(now_ms()).await {
            tracing::error!(error = %e, "could not close recordings left open");
        }
        self.settings = SETTINGS.load(&self.setup.db).await;
        self.state.mode = self.settings.mode;
        loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                Some(cmd) = rx.recv() => self.on_command(cmd).await,
                changed = obs.changed() => {
                    if changed.is_err() {
                        std::future::pending::<()>().await;
                    }
                    let rec = obs.borrow_and_update().clone();
                    self.on_obs_recording(rec).await;
                }
                event = next_streamlink_event(&mut self.streamlink), if self.streamlink.is_some() => {
                    match event {
                        Some(e) => self.on_streamlink(e).await,
                        None => self.streamlink = None,
                    }
                }
            }
        }
        // Cuts that finished before the token fired are still written.
        while let Ok(cmd) = rx.try_recv() {
            if let Command::CutDone(done) = cmd {
                self.on_cut_done(*done).await;
            }
        }
        if let Some(s) = self.streamlink.take() {
            s.recorder.stop().await; // SIGINT: streamlink finalises the file
            let mut events = s.events;
            while let Ok(e) = events.try_recv() {
                self.on_streamlink(e).await;
            }
        }
        tracing::info!("recorder stopped");
    }

    fn publish(&self) {
        self.setup.events.publish(CoreEvent::Recorder {
            state: self.state.clone(),
        });
    }

    /// A recording row that could not be written: the file on disk is real, so the state
    /// still says what is happening, and its message says what was not saved and what that
    /// costs (clips are cut only from saved recordings).
    /// The main chat's live session, which a new recording belongs to.
    fn live_session_id(&self) -> Option<i64> {
        self.setup.live_session.borrow().as_ref().map(|(id, _)| *id)
    }

    fn not_saved(&mut self, what: &str, e: DbError) {
        tracing::error!(error = %e, "could not save {what}");
        self.state.message = Some(format!(
            "StreamCue could not save {what} ({e}); clips cannot be cut from this recording."
        ));
    }

    /// Clears a passing message; a recording that was never saved keeps saying so.
    fn clear_message(&mut self) {
        if self.recording_id.is_some() {
            self.state.message = None;
        }
    }

    async fn on_obs_recording(&mut self, rec: ObsRecording) {
        if self.settings.mode != RecorderMode::Obs {
            return;
        }
        let now = now_ms();
        match (rec.active, self.recording_id) {
            (true, None) => {
                let started = rec.started_at_ms.unwrap_or(now);
                let saved = self.setup.db.recordings().start(
                    RecorderMode::Obs,
                    None,
                    started,
                    self.live_session_id(),
                );
                self.state.message = None;
                match saved.await {
                    Ok(id) => self.recording_id = Some(id),
                    Err(e) => self.not_saved("the OBS recording's start", e),
                }
                self.state.phase = RecorderPhase::Recording;
                self.state.started_at_ms = Some(started as f64);
                self.state.path = None;
                tracing::info!(started_at_ms = started, "OBS recording followed");
                self.publish();
            }
            (false, Some(id)) => {
                let path = rec.last_path.clone();
                let saved = self
                    .setup
                    .db
                    .recordings()
                    .end(id, path.as_deref(), now, None);
                if let Err(e) = saved.await {
                    self.not_saved("the OBS recording's end", e);
                }
                self.recording_id = None;
                self.state.phase = RecorderPhase::Idle;
                self.state.path = path;
                self.state.started_at_ms = None;
                tracing::info!(path = ?self.state.path, "OBS recording ended");
                self.publish();
                self.auto_cut(id).await;
            }
            _ => {}
        }
    }

    async fn on_streamlink(&mut self, e: RecorderEvent) {
        let now = now_ms();
        match e {
            RecorderEvent::Started { path } => {
                let shown = path.display().to_string();
                if let Some(old) = self.recording_id.take() {
                    if let Err(e) = self.setup.db.recordings().end(old, None, now, None).await {
                        self.not_saved("the previous recording's end", e);
                    }
                }
                let saved = self.setup.db.recordings().start(
                    RecorderMode::Streamlink,
                    Some(&shown),
                    now,
                    self.live_session_id(),
                );
                match saved.await {
                    Ok(id) => self.recording_id = Some(id),
                    Err(e) => self.not_saved("the recording's start", e),
                }
                self.state.phase = RecorderPhase::WaitingForLive;
                self.state.path = Some(shown);
                self.state.started_at_ms = Some(now as f64);
                self.state.bytes = 0.0;
            }
            RecorderEvent::Progress {
                bytes,
                bytes_per_min,
            } => {
                self.state.phase = if bytes > 0 {
                    RecorderPhase::Recording
                } else {
                    RecorderPhase::WaitingForLive
                };
                self.state.bytes = bytes as f64;
                self.state.bytes_per_min = bytes_per_min as f64;
                self.clear_message();
            }
            RecorderEvent::Stalled { since_s } => {
                self.state.phase = RecorderPhase::Stalled;
                self.state.message = Some(format!("the recording has not grown for {since_s} s"));
            }
            RecorderEvent::Resumed => {
                self.state.phase = RecorderPhase::Recording;
                self.clear_message();
            }
            RecorderEvent::Exited { code, stderr_tail } => {
                self.state.message = Some(format!(
                    "streamlink exited ({}): {stderr_tail}",
                    code.map_or("signal".to_string(), |c| c.to_string())
                ));
            }
            RecorderEvent::Restarting { attempt, in_s } => {
                self.state.phase = RecorderPhase::WaitingForLive;
                self.state.message = Some(format!(
                    "the stream dropped; restarting in {in_s:.0} s (attempt {attempt})"
                ));
            }
            RecorderEvent::Waiting {
                checks,
                next_in_s,
                reason,
            } => {
                self.state.phase = RecorderPhase::WaitingForLive;
                self.state.message = Some(waiting_message(checks, next_in_s, &reason));
            }
            RecorderEvent::Stopped { path, bytes } => {
                if let Some(id) = self.recording_id.take() {
                    let shown = path.display().to_string();
                    let saved =
                        self.setup
                            .db
                            .recordings()
                            .end(id, Some(&shown), now, Some(bytes as i64));
                    if let Err(e) = saved.await {
                        self.not_saved("the recording's end", e);
                    }
                    self.state.phase = RecorderPhase::Idle;
                    self.state.bytes = bytes as f64;
                    self.publish();
                    self.auto_cut(id).await;
                }
                self.state.phase = RecorderPhase::Idle;
            }
            RecorderEvent::Failed { message } => {
                self.state.phase = RecorderPhase::Failed;
                self.state.message = Some(message);
            }
        }
        self.publish();
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::View(reply) => {
                let clips = self
                    .setup
                    .db
                    .recordings()
                    .latest_clips(CLIPS_SHOWN.into())
                    .await;
                let _ = reply.send(clips.map_err(ApiError::from).map(|clips| RecorderView {
                    settings: self.settings.clone(),
                    state: self.state.clone(),
                    clips: rows::all(clips),
                }));
            }
            Command::SetSettings(s, reply) => {
                let _ = reply.send(self.set_settings(*s).await);
            }
            Command::Start(reply) => self.start(reply),
            Command::Stop(reply) => self.stop(reply).await,
            Command::Cut(id, reply) => match self.plan_cut(id.into()).await {
                Ok(plan) => self.spawn_cuts(vec![(plan, Some(reply))]),
                Err(e) => drop(reply.send(Err(e))),
            },
            Command::CutDone(done) => self.on_cut_done(*done).await,
        }
    }

    /// Runs `work` (a call to OBS) off the loop; its answer goes straight to the streamer.
    fn answer_later<T: Send + 'static>(
        &self,
        reply: Reply<RecorderState>,
        work: impl std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
    ) {
        let state = self.state.clone();
        spawn_racing(
            &self.tracker,
            self.cancel.clone(),
            work,
            move |r| async move {
                if let Some(r) = r {
                    let _ = reply.send(r.map(|_| state));
                } // cancelled: the dropped reply reads as "shutting down"
            },
        );
    }

    async fn set_settings(&mut self, s: RecorderSettings) -> Result<RecorderSettings, ApiError> {
        if self.state.phase != RecorderPhase::Idle && s.mode != self.settings.mode {
            return Err(refused("Stop the recording before changing the mode."));
        }
        check_settings(&s)?;
        SETTINGS
            .save(&self.setup.db, &s)
            .await
            .map_err(ApiError::from)?;
        self.settings = s.clone();
        self.state.mode = s.mode;
        self.setup.events.publish(CoreEvent::RecorderSettings {
            settings: s.clone(),
        });
        self.publish();
        Ok(s)
    }

    fn start(&mut self, reply: Reply<RecorderState>) {
        match self.settings.mode {
            RecorderMode::Off => {
                drop(reply.send(Err(refused("Recording is off: choose OBS or Streamlink."))))
            }
            RecorderMode::Obs => {
                // The recording's state arrives from OBS's own report (`on_obs_recording`).
                let obs = self.setup.obs.clone();
                self.answer_later(reply, async move { obs.start_recording().await });
            }
            RecorderMode::Streamlink => drop(reply.send(self.start_streamlink())),
        }
    }

    fn start_streamlink(&mut self) -> Result<RecorderState, ApiError> {
        if self.streamlink.is_some() {
            return Err(refused("Already recording."));
        }
        let url = self.settings.streamlink_url.trim().to_string();
        if url.is_empty() {
            return Err(ApiError::new(
                ErrorCode::InvalidSettings,
                "Set what streamlink records, e.g. twitch.tv/yourchannel.",
            ));
        }
        let (tx, rx) = mpsc::channel(64);
        // `{channel}_s{session}_{timestamp}`: the live chat's channel and session, else the
        // channel in the URL and no session.
        let live = self.setup.live_session.borrow().clone();
        let (channel, session) = match live {
            Some((id, channel)) => (channel, format!("s{id}")),
            None => (channel_of(&url), "nosession".to_string()),
        };
        let stem = recording_stem(&channel, &session, (now_ms() / 1000).max(0) as u64);
        let options = StreamlinkOptions {
            url,
            quality: self.settings.quality.clone(),
            out_dir: self.setup.folders.borrow().recordings_dir.clone(),
            file_stem: stem,
            wait_for_live: Some(self.setup.live_poll),
            ..StreamlinkOptions::default()
        };
        self.streamlink = Some(Streamlink {
            recorder: StreamlinkRecorder::start(options, tx),
            events: rx,
        });
        self.state.phase = RecorderPhase::WaitingForLive;
        self.state.message = None;
        self.publish();
        Ok(self.state.clone())
    }

    async fn stop(&mut self, reply: Reply<RecorderState>) {
        match self.settings.mode {
            RecorderMode::Obs => {
                let obs = self.setup.obs.clone();
                self.answer_later(reply, async move { obs.stop_recording().await });
                return;
            }
            _ => {
                if let Some(s) = self.streamlink.take() {
                    s.recorder.stop().await;
                    let mut events = s.events;
                    while let Ok(e) = events.try_recv() {
                        self.on_streamlink(e).await;
                    }
                }
            }
        }
        let _ = reply.send(Ok(self.state.clone()));
    }
}
