//! The worker's control side: its status, the streamer's commands (settings, pause,
//! **Test connection**) and the health probe that can end degraded mode.
//!
//! Invariants: settings and the pause are written before they take effect and are announced;
//! a probe runs on a task of its own (racing the worker's token), so the job in hand keeps
//! running, and reports back through the worker's mailbox (`ProbeDone`); only one unasked-for
//! probe runs at a time.

use std::time::Instant;

use crate::actor::spawn_racing;
use crate::api::{
    ApiError, ConnectionCheck, CoreEvent, DegradedInfo, ErrorCode, GeneratorBackend,
    GeneratorStatus,
};
use crate::clock::now_ms;
use crate::generator::offline::ffmpeg_available;
use crate::generator::remote::{Health, RemoteBackend, RemoteOptions};
use crate::generator::settings::StoredSettings;
use crate::generator::GenerationError;

use super::{Command, Reply, Worker, PAUSED};

impl Worker {
    async fn status(&self) -> Result<GeneratorStatus, ApiError> {
        let counters = self
            .setup
            .db
            .generations()
            .counters()
            .await
            .map_err(ApiError::from)?;
        Ok(GeneratorStatus {
            settings: self.settings.view(self.setup.secrets.as_ref()),
            degraded: self.degraded.active().map(|(reason, since)| DegradedInfo {
                reason: reason.to_string(),
                since_ms: since,
                intake_paused: self.setup.signals.intake_paused(),
            }),
            current: self.current,
            paused: self.paused,
            counters,
            clips_dir: self.setup.folders.borrow().clips_dir.display().to_string(),
        })
    }

    pub(super) async fn publish_status(&self) {
        match self.status().await {
            Ok(status) => self.setup.events.publish(CoreEvent::Generator { status }),
            Err(e) => tracing::error!(error = %e, "could not read the generator status"),
        }
    }

    pub(super) async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Status(reply) => {
                let _ = reply.send(self.status().await);
            }
            Command::Update(update, reply) => {
                let result =
                    StoredSettings::apply(&self.setup.db, self.setup.secrets.as_ref(), *update)
                        .await;
                match result {
                    Ok(stored) => {
                        tracing::info!(backend = ?stored.backend, timeout_s = stored.timeout_seconds, "generator settings changed");
                        self.settings = stored;
                        let status = self.status().await;
                        if let Ok(status) = &status {
                            self.setup.events.publish(CoreEvent::Generator {
                                status: status.clone(),
                            });
                        }
                        let _ = reply.send(status);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::TestConnection(reply) => self.probe(Some(reply)),
            Command::SetPaused(paused, reply) => {
                let saved = PAUSED.save(&self.setup.db, &paused).await;
                if let Err(e) = saved {
                    let _ = reply.send(Err(ApiError::from(e)));
                    return;
                }
                self.paused = paused;
                tracing::info!(paused, "generation paused by the streamer");
                let status = self.status().await;
                if let Ok(status) = &status {
                    self.setup.events.publish(CoreEvent::Generator {
                        status: status.clone(),
                    });
                }
                let _ = reply.send(status);
            }
            Command::ProbeDone { healthy } => {
                self.probing = false;
                if healthy {
                    if let Some(t) = self.degraded.on_probe_ok(now_ms()) {
                        self.apply(t).await;
                        self.publish_status().await;
                    }
                }
            }
        }
    }

    /// Checks the backend's health on a task of its own (the job in hand keeps running); the
    /// result comes back as `ProbeDone`, and to `reply` when the streamer asked.
    pub(super) fn probe(&mut self, reply: Option<Reply<ConnectionCheck>>) {
        if reply.is_none() && self.probing {
            return;
        }
        self.probing = true;
        let backend = self.settings.backend;
        let remote = (backend == GeneratorBackend::Remote)
            .then(|| self.remote_options())
            .filter(|o| !o.base.is_empty());
        let ffmpeg = self.setup.options.offline.ffmpeg.clone();
        let mailbox = self.mailbox.clone();
        let started = Instant::now();
        let work = async move {
            let checked: Result<String, ApiError> = match (backend, remote) {
                (GeneratorBackend::Offline, _) => ffmpeg_available(&ffmpeg)
                    .await
                    .map(|()| {
                        "Offline demo is ready: ffmpeg renders clips on this computer.".to_string()
                    })
                    .map_err(|e| ApiError::new(ErrorCode::Generator, e.to_string())),
                (GeneratorBackend::Remote, None) => Err(ApiError::new(
                    ErrorCode::Generator,
                    GenerationError::NotConfigured.to_string(),
                )),
                (GeneratorBackend::Remote, Some(options)) => {
                    let base = options.base.clone();
                    match RemoteBackend::new(RemoteOptions { max_attempts: 1, ..options }) {
                        Err(e) => Err(ApiError::new(ErrorCode::Generator, e.to_string())),
                        Ok(remote) => match remote.health().await {
                            Ok(Health::Healthy) => Ok(format!("Connected: {base}/health answered OK.")),
                            Ok(Health::NoHealthRoute) => Ok(format!(
                                "{base} answers, but has no /health (see docs/generation-endpoint.md); clips will still be requested."
                            )),
                            Err(e) => Err(ApiError::new(ErrorCode::Generator, e.to_string())),
                        },
                    }
                }
            };
            checked
        };
        // Cancelled (shutdown): nothing to report; a waiting reply reads as "shutting down".
        spawn_racing(
            &self.tracker,
            self.cancel.clone(),
            work,
            move |checked| async move {
                let Some(checked) = checked else { return };
                let healthy = matches!(&checked, Ok(m) if !m.contains("no /health"));
                let _ = mailbox.tell(Command::ProbeDone { healthy }).await;
                if let Some(reply) = reply {
                    let _ = reply.send(checked.map(|message| ConnectionCheck {
                        message,
                        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
                    }));
                }
            },
        );
    }
}
