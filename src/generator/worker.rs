//! `GenerationWorker`: the actor that generates approved requests, one at a time.
//!
//! Invariants: it is the only writer of `generating` and what follows it (`ready`, `failed`,
//! `interrupted`), of `generations` and of `degraded_periods`; every change is written before
//! it is announced. A clip is renamed into the clips folder only once verified, and the row
//! says `ready` only after that. On shutdown the item in hand is written as `interrupted`
//! (retryable) and its partial file removed; a crash leaves it `generating`, which the next
//! start turns into `interrupted`.
//!
//! This file holds the handle, the run loop, claiming and finishing a job, and degraded mode
//! (entering on failures or a long wait, leaving on successes or a healthy probe); the status,
//! the streamer's commands and the probe are in `control`.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::actor::Mailbox;
use tokio_util::task::TaskTracker;

use super::degraded::{DegradedMode, Transition};
use super::download::DownloadLimits;
use super::job::{self, Backend, JobOutput, JobSetup, Progress};
use super::remote::{RemoteBackend, RemoteOptions};
use super::settings::{credentials, StoredSettings};
use super::{GenerationError, GenerationSignals, GeneratorOptions};
use crate::api::{
    ApiError, ConnectionCheck, CoreEvent, GeneratorBackend, GeneratorSettingsUpdate,
    GeneratorStatus,
};
use crate::clock::now_ms;
use crate::db::{write_then_announce, ClaimedRequest, Database, RunOutcome, Setting};
use crate::events::EventBus;
use crate::folders::FolderWatch;
use crate::obs::{ObsClient, ObsReport, Show};
use crate::queue::ReplySink;
use crate::secrets::SecretStore;

mod control;

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

enum Command {
    Status(Reply<GeneratorStatus>),
    Update(Box<GeneratorSettingsUpdate>, Reply<GeneratorStatus>),
    TestConnection(Reply<ConnectionCheck>),
    SetPaused(bool, Reply<GeneratorStatus>),
    /// A health check finished (Test connection or the degraded-mode probe).
    ProbeDone {
        healthy: bool,
    },
}

/// Handle on the worker.
#[derive(Clone, Debug)]
pub struct GenerationWorker {
    mailbox: Mailbox<Command>,
}

/// Everything the worker is started with.
pub struct WorkerSetup {
    pub db: Database,
    pub events: EventBus,
    pub replies: ReplySink,
    pub secrets: Arc<dyn SecretStore>,
    pub signals: GenerationSignals,
    pub options: GeneratorOptions,
    /// Where clips go (read as each job starts: a folder chosen meanwhile takes the next).
    pub folders: FolderWatch,
    /// Where clips are shown (OBS may be absent: generation goes on).
    pub obs: ObsClient,
}

impl GenerationWorker {
    /// Starts the actor; OBS tells it through `obs_reports` which clips it has shown.
    pub fn spawn(
        setup: WorkerSetup,
        obs_reports: mpsc::Receiver<ObsReport>,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (mailbox, rx) = Mailbox::new(32);
        let degraded = DegradedMode::new(setup.options.degraded);
        let actor = Worker {
            setup,
            settings: StoredSettings::default(),
            degraded,
            current: None,
            last_channel: None,
            mailbox: mailbox.clone(),
            tracker: tracker.clone(),
            cancel: cancel.clone(),
            probing: false,
            paused: false,
        };
        let handle = tracker.spawn(actor.run(rx, obs_reports, cancel));
        (Self { mailbox }, handle)
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ApiError> {
        self.mailbox.ask(make).await?
    }

    pub async fn status(&self) -> Result<GeneratorStatus, ApiError> {
        self.ask(Command::Status).await
    }

    pub async fn update_settings(
        &self,
        update: GeneratorSettingsUpdate,
    ) -> Result<GeneratorStatus, ApiError> {
        self.ask(|r| Command::Update(Box::new(update), r)).await
    }

    /// Pauses (or resumes) generation: approved requests wait; the item in hand finishes.
    pub async fn set_paused(&self, paused: bool) -> Result<GeneratorStatus, ApiError> {
        self.ask(|r| Command::SetPaused(paused, r)).await
    }

    /// **Test connection**: the endpoint's `/health` (remote) or ffmpeg (offline).
    pub async fn test_connection(&self) -> Result<ConnectionCheck, ApiError> {
        self.ask(Command::TestConnection).await
    }
}

struct Running {
    claimed: ClaimedRequest,
    progress: Arc<Progress>,
    future: Pin<Box<dyn Future<Output = JobOutput> + Send>>,
}

struct Worker {
    setup: WorkerSetup,
    settings: StoredSettings,
    degraded: DegradedMode,
    current: Option<i32>,
    /// The channel of the latest request (where degraded mode is announced).
    last_channel: Option<String>,
    /// Its own mailbox: probes report back through it.
    mailbox: Mailbox<Command>,
    tracker: TaskTracker,
    /// The worker's token: probes race it.
    cancel: CancellationToken,
    probing: bool,
    /// The streamer paused generation (persisted).
    paused: bool,
}

/// Whether the streamer paused generation (kept across restarts).
const PAUSED: Setting<bool> = Setting::new("generator.paused");

impl Worker {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut obs_reports: mpsc::Receiver<ObsReport>,
        cancel: CancellationToken,
    ) {
        let now = now_ms();
        match self.setup.db.requests().interrupt_generating(now).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                requests = n,
                "requests left generating were marked interrupted"
            ),
            Err(e) => tracing::error!(error = %e, "could not mark interrupted requests"),
        }
        if let Err(e) = self.setup.db.generations().leave_degraded(now).await {
            tracing::error!(error = %e, "could not close degraded-mode periods");
        }
        remove_stale_parts(&self.setup.folders.borrow().clips_dir);
        self.settings = StoredSettings::load(&self.setup.db).await;
        self.paused = PAUSED.load(&self.setup.db).await;
        tracing::info!(backend = ?self.settings.backend, "generator ready");
        let mut running: Option<Running> = None;
        let mut tick = tokio::time::interval(self.setup.options.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_probe = tokio::time::Instant::now();
        let signals = self.setup.signals.clone();
        loop {
            if running.is_none() && !self.paused {
                running = self.claim().await;
            }
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                Some(cmd) = rx.recv() => self.on_command(cmd).await,
                Some(report) = obs_reports.recv() => self.on_obs_report(report).await,
                output = async { (&mut running.as_mut().expect("guarded").future).await }, if running.is_some() => {
                    let done = running.take().expect("guarded");
                    self.finish(done.claimed, output).await;
                }
                _ = signals.woken(), if running.is_none() => {}
                _ = tick.tick() => {
                    self.check_wait().await;
                    if let Some(every) = self.setup.options.probe_every {
                        if self.degraded.active().is_some() && last_probe.elapsed() >= every {
                            last_probe = tokio::time::Instant::now();
                            self.probe(None);
                        }
                    }
                }
            }
        }
        if let Some(r) = running.take() {
            drop(r.future); // removes its partial file
            self.write_outcome(
                &r.claimed,
                r.progress.attempts(),
                RunOutcome::Interrupted {
                    reason: "StreamCue stopped while this was generating".into(),
                },
            )
            .await;
        }
        tracing::info!("generator stopped");
    }

    fn backend(&self) -> Result<Backend, GenerationError> {
        Ok(match self.settings.backend {
            GeneratorBackend::Offline => Backend::Offline(self.setup.options.offline.clone()),
            GeneratorBackend::Remote => {
                if self.settings.base_url.is_empty() {
                    return Err(GenerationError::NotConfigured);
                }
                Backend::Remote(Arc::new(RemoteBackend::new(self.remote_options())?))
            }
        })
    }

    fn remote_options(&self) -> RemoteOptions {
        RemoteOptions {
            base: self.settings.base_url.clone(),
            timeout: Duration::from_secs(self.settings.timeout_seconds.into()),
            max_attempts: self.setup.options.max_attempts,
            backoff: self.setup.options.backoff.clone(),
            max_hops: 20,
            poll_every: self.setup.options.poll_every,
            credentials: credentials(self.setup.secrets.as_ref()),
        }
    }

    async fn claim(&mut self) -> Option<Running> {
        let claimed = match self
            .setup
            .db
            .generations()
            .claim_next_approved(self.settings.backend, now_ms())
            .await
        {
            Ok(Some(c)) => c,
            Ok(None) => return None,
            Err(e) => {
                tracing::error!(error = %e, "could not claim an approved request");
                return None;
            }
        };
        let id = claimed.item.id as i32; // the window's and OBS's request id
        tracing::info!(request_id = id, backend = ?self.settings.backend, "generation started");
        self.current = Some(id);
        self.last_channel = Some(claimed.channel.clone());
        self.setup.events.publish(CoreEvent::QueueItem {
            item: claimed.item.clone().into(),
        });
        self.setup.obs.show(Show::Generating {
            id,
            prompt: claimed.item.prompt.clone(),
        });
        self.publish_status().await;
        let progress = Arc::new(Progress::new(id, self.setup.events.clone()));
        let job_progress = progress.clone();
        let prompt = claimed.item.prompt.clone();
        let setup = self.backend().map(|backend| JobSetup {
            backend,
            clips_dir: self.setup.folders.borrow().clips_dir.clone(),
            max_attempts: self.setup.options.max_attempts,
            backoff: self.setup.options.backoff.clone(),
            limits: DownloadLimits {
                idle: Duration::from_secs(self.settings.timeout_seconds.into()),
                max_bytes: self.setup.options.max_clip_bytes,
            },
            overall_timeout: self.setup.options.overall_timeout,
        });
        let future = Box::pin(async move {
            match setup {
                Ok(setup) => job::run(&setup, id, &prompt, &job_progress).await,
                Err(e) => JobOutput {
                    result: Err(e),
                    attempts: 0,
                    elapsed: Duration::ZERO,
                },
            }
        });
        Some(Running {
            claimed,
            progress,
            future,
        })
    }

    async fn finish(&mut self, claimed: ClaimedRequest, output: JobOutput) {
        let id = claimed.item.id as i32;
        let now = now_ms();
        let (outcome, transition) = match output.result {
            Ok((path, bytes)) => {
                let ms = output.elapsed.as_millis() as i64;
                tracing::info!(
                    request_id = id,
                    generation_ms = ms,
                    bytes,
                    attempts = output.attempts,
                    outcome = "ready",
                    "generation finished"
                );
                (
                    RunOutcome::Ready {
                        file_path: path.display().to_string(),
                        bytes,
                        generation_ms: ms,
                    },
                    self.degraded.on_success(now),
                )
            }
            Err(e) => {
                let reason = e.to_string();
                tracing::warn!(request_id = id, attempts = output.attempts, reason = %reason, outcome = "failed", "generation failed");
                let t = self.degraded.on_failure(&reason, now);
                (RunOutcome::Failed { reason }, t)
            }
        };
        let show = match &outcome {
            RunOutcome::Ready { file_path, .. } => Show::Result {
                id,
                path: PathBuf::from(file_path),
            },
            _ => Show::Failed { id },
        };
        let failed_because = match &outcome {
            RunOutcome::Failed { reason } => Some(reason.clone()),
            _ => None,
        };
        let written = self.write_outcome(&claimed, output.attempts, outcome).await;
        self.setup.obs.show(show); // after `ready` is written
                                   // The viewer hears it failed only once that is saved (and never for a request that
                                   // changed meanwhile, e.g. skipped by the streamer).
        if let (Some(reason), true) = (failed_because, written) {
            let item = &claimed.item;
            let said =
                self.setup
                    .options
                    .completions
                    .failed(&item.display_name, &item.prompt, &reason);
            if let (Some(text), false) = (said, claimed.channel.is_empty()) {
                self.setup.replies.say(&claimed.channel, text);
            }
        }
        self.current = None;
        if let Some(t) = transition {
            self.apply(t).await;
        }
        self.publish_status().await;
    }

    /// Writes how the run ended, then announces it; whether the request took that outcome.
    async fn write_outcome(
        &self,
        claimed: &ClaimedRequest,
        attempts: u32,
        outcome: RunOutcome,
    ) -> bool {
        let db = self.setup.db.generations();
        let write = db.finish_run(
            claimed.item.id,
            claimed.run_id,
            attempts,
            &outcome,
            now_ms(),
        );
        let saved = write_then_announce(
            &self.setup.events,
            "the generation's outcome",
            write,
            |row| {
                row.iter()
                    .map(|row| CoreEvent::QueueItem {
                        item: row.clone().into(),
                    })
                    .collect()
            },
        );
        match saved.await {
            Ok(Some(_)) => true,
            Ok(None) => {
                tracing::warn!(
                    request_id = claimed.item.id,
                    "request changed while generating"
                );
                false
            }
            Err(_) => false,
        }
    }

    async fn on_obs_report(&mut self, report: ObsReport) {
        match report {
            ObsReport::Shown { id } => {
                match self
                    .setup
                    .db
                    .generations()
                    .mark_shown(id.into(), now_ms())
                    .await
                {
                    Ok(Some(item)) => {
                        let said = (!item.channel.is_empty())
                            .then(|| {
                                self.setup
                                    .options
                                    .completions
                                    .on_screen(&item.display_name, &item.prompt)
                            })
                            .flatten();
                        if let Some(text) = said {
                            self.setup.replies.say(&item.channel, text);
                        }
                        self.setup
                            .events
                            .publish(CoreEvent::QueueItem { item: item.into() })
                    }
                    Ok(None) => {} // shown again, or changed meanwhile
                    Err(e) => {
                        tracing::error!(error = %e, request_id = id, "could not mark a clip shown")
                    }
                }
            }
        }
    }

    async fn check_wait(&mut self) {
        if self.degraded.active().is_some() || self.paused {
            return;
        }
        let oldest = match self.setup.db.generations().oldest_approved_at().await {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "could not read the queue's oldest approved request");
                return;
            }
        };
        if let Some(t) = self.degraded.on_wait(oldest, now_ms()) {
            self.apply(t).await;
            self.publish_status().await;
        }
    }

    /// Writes, then announces (UI, chat) a change of mode.
    async fn apply(&mut self, t: Transition) {
        let now = now_ms();
        let channel = self.last_channel.clone();
        match t {
            Transition::Entered { reason } => {
                if let Err(e) = self
                    .setup
                    .db
                    .generations()
                    .enter_degraded(&reason, now)
                    .await
                {
                    tracing::error!(error = %e, "could not record degraded mode");
                }
                self.setup.obs.show(Show::Hero(true));
                let pause = self.setup.options.pause_intake_when_degraded;
                self.setup.signals.set_intake_paused(pause);
                tracing::warn!(reason = %reason, intake_paused = pause, "degraded mode entered");
                if let Some(channel) = channel {
                    let what = if pause {
                        "New requests are paused for now"
                    } else {
                        "Requests stay in the queue"
                    };
                    self.setup.replies.say(
                        &channel,
                        format!("StreamCue: clip generation is having trouble right now. {what}; we'll be back soon!"),
                    );
                }
            }
            Transition::Left { reason } => {
                if let Err(e) = self.setup.db.generations().leave_degraded(now).await {
                    tracing::error!(error = %e, "could not record the end of degraded mode");
                }
                self.setup.signals.set_intake_paused(false);
                self.setup.obs.show(Show::Hero(false));
                tracing::info!(reason = %reason, "degraded mode left");
                if let Some(channel) = channel {
                    self.setup.replies.say(
                        &channel,
                        "StreamCue: clip generation is back. Requests are open!".to_string(),
                    );
                }
            }
        }
    }
}

/// Removes `.part` files a crash left in the clips folder.
fn remove_stale_parts(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".part") {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!(file = %name, "removed a partial file left by a crash"),
                Err(e) => {
                    tracing::warn!(file = %name, error = %e, "could not remove a partial file")
                }
            }
        }
    }
}
