//! `StorageMonitor`: watches the data folder's disk so that a full disk is said, not silent.
//!
//! Every [`CHECK_EVERY`] it reads the free space (`statvfs`, no disk I/O). While space is
//! plentiful that is all it does. Under the low mark (a tenth of the disk, at most 500 MB) or
//! after a failed check it also proves the database can still be written (a one-row upsert);
//! a failure is `CannotSave` with the free space and the next step, until a later probe works
//! again. Each change is announced (`CoreEvent::Storage`) and kept for snapshots.
//!
//! Invariant: the probe is the only write it makes, and only while space is short or saving
//! has failed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::api::{CoreEvent, StoragePhase, StorageView};
use crate::db::Database;
use crate::events::EventBus;

/// How often the free space is read.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);
/// The low mark's ceiling.
const LOW_MAX_BYTES: u64 = 500 * 1024 * 1024;
/// How long a probe write may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Free bytes (for an unprivileged writer) and total bytes of the file system holding `path`.
pub fn disk_space(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string and `stat` is a plain out-parameter.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    let block = stat.f_frsize as u64;
    #[allow(clippy::unnecessary_cast)]
    Some((
        (stat.f_bavail as u64).saturating_mul(block),
        (stat.f_blocks as u64).saturating_mul(block),
    ))
}

/// Under this much free space saving is at risk.
fn low_mark(total: u64) -> u64 {
    (total / 10).min(LOW_MAX_BYTES)
}

/// Decimal MB with one decimal, as `folders::free_text` counts.
fn mb(bytes: u64) -> f64 {
    (bytes as f64 / 1e5).round() / 10.0
}

/// The state from one check (pure: the probe's outcome is passed in).
pub fn judge(dir: &Path, free: u64, total: u64, probe: Option<Result<(), String>>) -> StorageView {
    let path = dir.display().to_string();
    let free_mb = mb(free);
    let shown = crate::folders::free_text(Some(free));
    let (phase, message) = match probe {
        Some(Err(e)) => {
            let full = free < 1024 * 1024 || e.contains("disk is full") || e.contains("(code: 13)");
            let message = if full {
                format!(
                    "StreamCue cannot save: the disk is full ({shown} free on {path}). Free some space; StreamCue saves again by itself."
                )
            } else {
                format!("StreamCue cannot save to its database in {path}: {e}. Check the folder and its disk.")
            };
            (StoragePhase::CannotSave, Some(message))
        }
        _ if free < low_mark(total) => (
            StoragePhase::Low,
            Some(format!(
                "Only {shown} free on the disk of {path}: recordings, clips and StreamCue's database stop when it is full."
            )),
        ),
        _ => (StoragePhase::Ok, None),
    };
    StorageView {
        phase,
        free_mb,
        path,
        message,
    }
}

/// Starts the monitor; the receiver holds the latest state (for snapshots).
pub fn spawn(
    db: Database,
    events: EventBus,
    dir: PathBuf,
    cancel: CancellationToken,
    tracker: &tokio_util::task::TaskTracker,
) -> (watch::Receiver<StorageView>, tokio::task::JoinHandle<()>) {
    let first = check(&dir);
    let (tx, rx) = watch::channel(first.clone());
    let task = tracker.spawn(async move {
        let mut last = first;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(CHECK_EVERY) => {}
            }
            let now = check_with_probe(&db, &dir, last.phase).await;
            if now.phase != last.phase {
                match now.phase {
                    StoragePhase::CannotSave => {
                        tracing::error!(message = ?now.message, "cannot save")
                    }
                    StoragePhase::Low => tracing::warn!(free_mb = now.free_mb, "disk space low"),
                    StoragePhase::Ok => tracing::info!(free_mb = now.free_mb, "disk space fine"),
                }
            }
            // Announced on a change of phase, or of the free space shown (in whole MB) while
            // it matters.
            let moved =
                now.phase != StoragePhase::Ok && now.free_mb.floor() != last.free_mb.floor();
            if now.phase != last.phase || moved {
                tx.send_replace(now.clone());
                events.publish(CoreEvent::Storage {
                    storage: now.clone(),
                });
            }
            last = now;
        }
    });
    (rx, task)
}

/// The first check, at start: free space only (the database was just opened and migrated).
fn check(dir: &Path) -> StorageView {
    let (free, total) = disk_space(dir).unwrap_or((u64::MAX, u64::MAX));
    judge(dir, free, total, None)
}

async fn check_with_probe(db: &Database, dir: &Path, before: StoragePhase) -> StorageView {
    // Unknown space (the call failed): judged by the probe alone.
    let (free, total) = disk_space(dir).unwrap_or((u64::MAX, u64::MAX));
    let probe = if before != StoragePhase::Ok || free < low_mark(total) {
        let stamp = crate::clock::now_ms().to_string();
        let write = db.settings().set("storage.probe", &stamp);
        Some(match tokio::time::timeout(PROBE_TIMEOUT, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
        })
    } else {
        None
    };
    judge(dir, free, total, probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1024 * 1024 * 1024;

    #[test]
    fn the_phase_follows_the_space_and_the_probe() {
        let dir = Path::new("/data");
        assert_eq!(judge(dir, 50 * GB, 100 * GB, None).phase, StoragePhase::Ok);
        // The low mark is a tenth of the disk, at most 500 MB.
        assert_eq!(
            judge(dir, 400 * 1024 * 1024, 100 * GB, None).phase,
            StoragePhase::Low
        );
        assert_eq!(
            judge(dir, 4 * 1024 * 1024, 32 * 1024 * 1024, None).phase,
            StoragePhase::Ok
        );
        assert_eq!(
            judge(dir, 2 * 1024 * 1024, 32 * 1024 * 1024, None).phase,
            StoragePhase::Low
        );
        let full = judge(
            dir,
            0,
            32 * 1024 * 1024,
            Some(Err("(code: 13) database or disk is full".into())),
        );
        assert_eq!(full.phase, StoragePhase::CannotSave);
        assert_eq!(
            full.message.as_deref(),
            Some("StreamCue cannot save: the disk is full (0 kB free on /data). Free some space; StreamCue saves again by itself.")
        );
        let other = judge(dir, 50 * GB, 100 * GB, Some(Err("disk I/O error".into())));
        assert_eq!(other.phase, StoragePhase::CannotSave);
        assert!(other.message.unwrap().contains("disk I/O error"));
        // A probe that works again, with space back: fine.
        assert_eq!(
            judge(dir, 50 * GB, 100 * GB, Some(Ok(()))).phase,
            StoragePhase::Ok
        );
    }
}
