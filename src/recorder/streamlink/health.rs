//! Watching one streamlink run: whether the file grows (`Started`, `Progress` every second,
//! `Stalled` once per stall, `Resumed`), until streamlink exits or the recorder is cancelled.
//!
//! Invariants: the stall state is carried across restarts (`Health`), so one stall is reported
//! once; only a recording that has received data can stall (before that it waits for the
//! stream); a stalled file must grow by more than `FLUSH_SLACK` to count as resumed; the rate
//! is over the last `RATE_WINDOW`; `Progress` never waits for room in the channel.

use std::collections::VecDeque;
use std::path::Path;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use tokio::process::Child;
use tokio_util::sync::CancellationToken;

use super::process::stop_child;
use super::{Emitter, RecorderEvent, StreamlinkOptions};

/// The window `bytes_per_min` is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(10);
/// Growth a stalled file may show without counting as resumed: what streamlink (Python's
/// 8 KiB file buffer) or its ffmpeg muxer (32 KiB) still had buffered when the data stopped,
/// and flushes when it gives up.
const FLUSH_SLACK: u64 = 64 * 1024;

/// How one streamlink run ended.
pub(super) struct RunEnd {
    /// `None` when it could not be waited for.
    pub(super) status: Option<ExitStatus>,
    /// We asked it to stop.
    pub(super) stopping: bool,
    /// The file grew during this run.
    pub(super) recorded: bool,
}

/// Whether the recording grows; carried across restarts so one stall is reported once.
/// A recording that never received data cannot stall: it is waiting for the stream.
pub(super) struct Health {
    last_growth: Instant,
    stalled: bool,
    seen_data: bool,
}

impl Health {
    pub(super) fn new() -> Self {
        Self {
            last_growth: Instant::now(),
            stalled: false,
            seen_data: false,
        }
    }
}

/// Watches one streamlink run until it exits or `cancel` fires (then stops it).
pub(super) async fn supervise(
    child: &mut Child,
    path: &Path,
    options: &StreamlinkOptions,
    health: &mut Health,
    out: &Emitter,
    cancel: &CancellationToken,
) -> RunEnd {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut announced = false;
    let mut recorded = false;
    let mut size: u64 = 0;
    let mut samples: VecDeque<(Instant, u64)> = VecDeque::new();
    // While stalled: the size the file must grow past (by `FLUSH_SLACK`) to count as resumed.
    // A new file (after a restart) starts from 0.
    let mut stalled_at: Option<u64> = health.stalled.then_some(0);
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                let status = stop_child(child, options.stop_grace).await;
                return RunEnd { status, stopping: true, recorded };
            }
            status = child.wait() => {
                return RunEnd { status: status.ok(), stopping: false, recorded };
            }
            _ = ticker.tick() => {}
        }
        let now = Instant::now();
        if let Some(bytes) = file_size(path).await {
            if !announced {
                announced = true;
                tracing::info!(path = %path.display(), "recording started");
                out.send(RecorderEvent::Started {
                    path: path.to_path_buf(),
                })
                .await;
            }
            if bytes > size {
                size = bytes;
                recorded = true;
                match stalled_at {
                    // Only the writer's buffered tail, flushed as streamlink gives up.
                    Some(at) if bytes <= at + FLUSH_SLACK => {}
                    _ => {
                        health.last_growth = now;
                        health.seen_data = true;
                        if health.stalled {
                            health.stalled = false;
                            stalled_at = None;
                            tracing::info!(bytes, "recording resumed");
                            out.send(RecorderEvent::Resumed).await;
                        }
                    }
                }
            }
            samples.push_back((now, bytes));
            while samples
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW)
            {
                samples.pop_front();
            }
            out.progress(RecorderEvent::Progress {
                bytes,
                bytes_per_min: rate_per_min(&samples),
            });
        }
        let quiet = now.duration_since(health.last_growth);
        if health.seen_data && !health.stalled && quiet >= options.stall_after {
            health.stalled = true;
            stalled_at = Some(size);
            tracing::warn!(
                since_s = quiet.as_secs(),
                path = %path.display(),
                "recording stalled: the file is not growing"
            );
            out.send(RecorderEvent::Stalled {
                since_s: quiet.as_secs(),
            })
            .await;
        }
    }
}

/// Bytes per minute between the oldest and the newest sample.
pub(super) fn rate_per_min(samples: &VecDeque<(Instant, u64)>) -> u64 {
    let (Some((t0, b0)), Some((t1, b1))) = (samples.front(), samples.back()) else {
        return 0;
    };
    let secs = t1.duration_since(*t0).as_secs_f64();
    if secs < 0.5 {
        return 0;
    }
    (b1.saturating_sub(*b0) as f64 / secs * 60.0) as u64
}

pub(super) async fn file_size(path: &Path) -> Option<u64> {
    tokio::fs::metadata(path).await.ok().map(|m| m.len())
}
