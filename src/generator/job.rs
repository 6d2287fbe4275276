//! One generation: a claimed request in, a verified clip (or a reason) out. The pipeline is
//! remote (ask for a URL → stream it to disk, re-asking once when the URL has expired) or
//! offline (render with ffmpeg). A clip already on disk for the request is never fetched again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::contract::SignedUrl;
use super::download::{check_mp4, fetch_once, DownloadFail, DownloadLimits, PartFile};
use super::error::GenerationError;
use super::offline::{render, OfflineOptions};
use super::remote::RemoteBackend;
use crate::api::{CoreEvent, GenerationPhase, GenerationProgress};
use crate::chat::Backoff;
use crate::events::EventBus;

/// Progress events at most this often (plus every phase change).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

pub enum Backend {
    Offline(OfflineOptions),
    Remote(Arc<RemoteBackend>),
}

/// What a job needs besides its request.
pub struct JobSetup {
    pub backend: Backend,
    pub clips_dir: PathBuf,
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub limits: DownloadLimits,
    pub overall_timeout: Duration,
}

pub struct JobOutput {
    pub result: Result<(PathBuf, u64), GenerationError>,
    pub attempts: u32,
    pub elapsed: Duration,
}

/// The final file of a request.
pub fn clip_path(clips_dir: &Path, request_id: i32) -> PathBuf {
    clips_dir.join(format!("request-{request_id}.mp4"))
}

/// Publishes a request's live progress, throttled.
pub struct Progress {
    id: i32,
    events: EventBus,
    state: Mutex<ProgressState>,
}

struct ProgressState {
    phase: GenerationPhase,
    attempt: u32,
    percent: Option<f64>,
    bytes: u64,
    last_sent: Option<Instant>,
}

impl Progress {
    pub fn new(id: i32, events: EventBus) -> Self {
        Self {
            id,
            events,
            state: Mutex::new(ProgressState {
                phase: GenerationPhase::Requesting,
                attempt: 0,
                percent: None,
                bytes: 0,
                last_sent: None,
            }),
        }
    }

    pub fn attempts(&self) -> u32 {
        self.lock().attempt
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProgressState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update(&self, change: impl FnOnce(&mut ProgressState)) {
        let mut s = self.lock();
        let before = (s.phase, s.attempt);
        change(&mut s);
        let urgent = before != (s.phase, s.attempt) || s.percent == Some(100.0);
        if !urgent && s.last_sent.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return;
        }
        s.last_sent = Some(Instant::now());
        self.events.publish(CoreEvent::GenerationProgress {
            progress: GenerationProgress {
                id: self.id,
                phase: s.phase,
                attempt: s.attempt,
                percent: s.percent,
                bytes: s.bytes as f64,
            },
        });
    }

    /// One more try (a `/generate` attempt or a download retry).
    pub fn next_attempt(&self, phase: GenerationPhase) {
        self.update(|s| {
            s.attempt += 1;
            s.phase = phase;
            s.percent = None;
            s.bytes = 0;
        });
    }

    pub fn phase(&self, phase: GenerationPhase) {
        self.update(|s| {
            s.phase = phase;
            s.percent = None;
            s.bytes = 0;
        });
    }

    pub fn bytes(&self, got: u64, total: Option<u64>) {
        self.update(|s| {
            s.bytes = got;
            s.percent = total
                .filter(|&t| t > 0)
                .map(|t| ((got as f64 / t as f64) * 100.0).min(100.0).floor());
        });
    }

    pub fn percent(&self, percent: f64) {
        self.update(|s| s.percent = Some(percent.floor()));
    }
}

/// Runs one generation for request `id`.
pub async fn run(setup: &JobSetup, id: i32, prompt: &str, progress: &Progress) -> JobOutput {
    let started = Instant::now();
    let final_path = clip_path(&setup.clips_dir, id);
    let result = match tokio::time::timeout(
        setup.overall_timeout,
        produce(setup, id, prompt, &final_path, progress),
    )
    .await
    {
        Ok(r) => r.map(|bytes| (final_path, bytes)),
        Err(_) => Err(GenerationError::OverallTimeout {
            after: setup.overall_timeout,
        }),
    };
    JobOutput {
        result,
        attempts: progress.attempts(),
        elapsed: started.elapsed(),
    }
}

async fn produce(
    setup: &JobSetup,
    id: i32,
    prompt: &str,
    final_path: &Path,
    progress: &Progress,
) -> Result<u64, GenerationError> {
    tokio::fs::create_dir_all(&setup.clips_dir)
        .await
        .map_err(|e| GenerationError::disk("cannot create", &setup.clips_dir, &e))?;
    if let Ok(meta) = tokio::fs::metadata(final_path).await {
        if check_mp4(final_path).await.is_ok() {
            tracing::info!(request_id = id, "clip already on disk: not fetched again");
            return Ok(meta.len());
        }
        // Not ours or damaged: replaced below (rename overwrites).
    }
    match &setup.backend {
        Backend::Offline(options) => {
            progress.next_attempt(GenerationPhase::Rendering);
            render(options, prompt, final_path, &mut |p| progress.percent(p)).await
        }
        Backend::Remote(remote) => {
            fetch_remote(setup, remote, id, prompt, final_path, progress).await
        }
    }
}

async fn fetch_remote(
    setup: &JobSetup,
    remote: &RemoteBackend,
    id: i32,
    prompt: &str,
    final_path: &Path,
    progress: &Progress,
) -> Result<u64, GenerationError> {
    let request_id = format!("streamcue-{id}");
    let ask = || async {
        remote
            .request_clip(
                prompt,
                &request_id,
                &mut |_| progress.next_attempt(GenerationPhase::Requesting),
                &mut || progress.phase(GenerationPhase::Waiting),
            )
            .await
    };
    let mut url: SignedUrl = ask().await?;
    let mut asked_again = false;
    'url: loop {
        if url.is_expired(super::clock::now_unix()) {
            if asked_again {
                return Err(GenerationError::ExpiredTwice);
            }
            tracing::info!(
                request_id = id,
                "signed URL already expired: asking for a fresh one"
            );
            asked_again = true;
            url = ask().await?;
            continue 'url;
        }
        let mut tries = 0;
        loop {
            tries += 1;
            if tries > 1 {
                progress.next_attempt(GenerationPhase::Downloading);
            } else {
                progress.phase(GenerationPhase::Downloading);
            }
            let part = PartFile::for_final(final_path)?;
            let fetched = fetch_once(
                remote.client(),
                &url.url,
                &part,
                setup.limits,
                &mut |got, total| progress.bytes(got, total),
            )
            .await;
            match fetched {
                Ok(bytes) => {
                    part.commit(final_path).await?;
                    return Ok(bytes);
                }
                Err(DownloadFail::Fatal(e)) => return Err(e),
                Err(DownloadFail::Expired) => {
                    if asked_again {
                        return Err(GenerationError::ExpiredTwice);
                    }
                    tracing::info!(
                        request_id = id,
                        "signed URL refused (expired): asking for a fresh one"
                    );
                    asked_again = true;
                    drop(part);
                    url = ask().await?;
                    continue 'url;
                }
                Err(DownloadFail::Retry(cause)) => {
                    tracing::info!(request_id = id, attempt = tries, cause = ?cause, "download failed");
                    if tries >= setup.max_attempts.max(1) {
                        return Err(cause.into_error(tries));
                    }
                    drop(part);
                    tokio::time::sleep(setup.backoff.delay(tries)).await;
                }
            }
        }
    }
}
