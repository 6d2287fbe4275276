//! Clip generation: the `GenerationWorker` actor takes approved requests one at a time and
//! turns each into a verified MP4 in the clips folder, through the remote endpoint
//! (`docs/generation-endpoint.md`) or the offline ffmpeg renderer, and runs degraded mode.

mod clock;
pub mod completions;
pub mod contract;
pub mod degraded;
pub mod download;
pub mod error;
mod job;
pub mod offline;
pub mod remote;
mod settings;
pub mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

pub use degraded::{DegradedMode, DegradedPolicy, Transition};
pub use error::GenerationError;
#[cfg(test)]
pub(crate) use settings::check_timeout;
pub use settings::{DEFAULT_TIMEOUT_S, TIMEOUT_MAX_S, TIMEOUT_MIN_S};
pub use worker::GenerationWorker;

use crate::chat::Backoff;
use crate::config::GeneratorConfig;
use offline::OfflineOptions;

/// What the queue and the worker share: the queue wakes the worker when something becomes
/// approved; the worker tells the queue when intake is paused (degraded mode).
#[derive(Clone, Debug, Default)]
pub struct GenerationSignals {
    wake: Arc<Notify>,
    intake_paused: Arc<AtomicBool>,
}

impl GenerationSignals {
    /// A request became approved.
    pub fn work_available(&self) {
        self.wake.notify_one();
    }

    pub fn intake_paused(&self) -> bool {
        self.intake_paused.load(Ordering::Relaxed)
    }

    fn set_intake_paused(&self, paused: bool) {
        self.intake_paused.store(paused, Ordering::Relaxed);
    }

    async fn woken(&self) {
        self.wake.notified().await
    }
}

/// The worker's fixed options (from the config file).
#[derive(Debug, Clone)]
pub struct GeneratorOptions {
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub overall_timeout: Duration,
    pub max_clip_bytes: u64,
    pub degraded: DegradedPolicy,
    pub probe_every: Option<Duration>,
    pub pause_intake_when_degraded: bool,
    pub offline: OfflineOptions,
    /// How often the worker looks for approved work and long waits without being woken.
    pub tick: Duration,
    /// Polling interval for job-style endpoints without `Retry-After`.
    pub poll_every: Duration,
    /// What the viewer hears when their clip is on screen or could not be made.
    pub completions: completions::Completions,
}

impl Default for GeneratorOptions {
    fn default() -> Self {
        Self::from_config(&GeneratorConfig::default())
    }
}

impl GeneratorOptions {
    pub fn from_config(c: &GeneratorConfig) -> Self {
        let base = Duration::from_millis(c.retry_backoff_ms.max(1));
        Self {
            max_attempts: c.max_attempts.clamp(1, 10),
            backoff: Backoff {
                base,
                cap: (base * 30).max(Duration::from_secs(1)),
            },
            overall_timeout: Duration::from_secs(c.overall_timeout_seconds.max(1)),
            max_clip_bytes: c.max_clip_mb.max(1).saturating_mul(1_000_000),
            degraded: DegradedPolicy {
                failures_to_enter: c.failures_to_degrade.max(1),
                max_wait: Duration::from_secs(c.max_wait_seconds.max(1)),
                healthy_to_leave: c.healthy_to_recover.max(1),
            },
            probe_every: (c.probe_every_seconds > 0)
                .then(|| Duration::from_secs(c.probe_every_seconds)),
            pause_intake_when_degraded: c.pause_intake_when_degraded,
            offline: OfflineOptions {
                ffmpeg: c.ffmpeg.clone(),
                seconds: c.offline_clip_seconds.clamp(1, 30),
                ..OfflineOptions::default()
            },
            tick: Duration::from_secs(1),
            poll_every: Duration::from_secs(2),
            completions: completions::Completions {
                on_screen: c.reply_on_screen.clone(),
                failed: c.reply_failed.clone(),
            },
        }
    }
}
