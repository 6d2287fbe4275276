//! What one scenario counted, the checks after each kill that feed it, and its report line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::check;

#[derive(Default, Debug)]
pub struct Tally {
    pub cycles: u32,
    /// What the engine announced (a request in chat or on the bus, a clip cut): committed.
    pub accepted: BTreeSet<String>,
    pub lost: BTreeSet<String>,
    pub duplicated: BTreeSet<String>,
    /// Files under a final name that ffprobe/ffmpeg cannot read whole.
    pub partial: BTreeSet<PathBuf>,
    /// Temporary files a crash left that the next start did not remove.
    pub stale: BTreeSet<PathBuf>,
    /// Rows that say a clip is there (ready/shown, a clip row) whose file is missing or broken.
    pub missing: BTreeSet<String>,
    pub integrity_ok: u32,
    pub integrity_checks: u32,
    pub orphans: usize,
    /// ffmpeg/ffprobe processes of the data folder alive just before the kills (what the
    /// orphan check had to kill), and kills that landed while a temporary file was written.
    pub tools_at_kill: usize,
    pub kills_mid: u32,
    pub retried: i64,
    pub reconnect_ms: Vec<f64>,
    /// Something the driver could not do (a timeout): the run does not count as passed.
    pub notes: Vec<String>,
    /// Facts printed with the report.
    pub info: Vec<String>,
}

impl Tally {
    pub fn ok(&self) -> bool {
        self.lost.is_empty()
            && self.duplicated.is_empty()
            && self.partial.is_empty()
            && self.stale.is_empty()
            && self.missing.is_empty()
            && self.integrity_ok == self.integrity_checks
            && self.integrity_checks > 0
            && self.orphans == 0
            && self.notes.is_empty()
    }

    pub fn note(&mut self, cycle: u32, what: impl std::fmt::Display) {
        let line = format!("cycle {cycle}: {what}");
        out!("  ! {line}");
        self.notes.push(line);
    }

    /// After a kill, with no StreamCue running on `data`: waits until 2 s after `killed_at`,
    /// counts the folder's ffmpeg/ffprobe processes still alive, then reads the database copy.
    pub async fn after_kill(&mut self, cycle: u32, data: &Path, killed_at: Instant) {
        let wait = (killed_at + Duration::from_secs(2)).saturating_duration_since(Instant::now());
        tokio::time::sleep(wait).await;
        let left = check::tools_for(data);
        if !left.is_empty() {
            out!("  ! cycle {cycle}: {} ffmpeg/ffprobe still alive 2 s after the kill: pids {left:?}", left.len());
        }
        self.orphans += left.len();
        self.check_db(cycle, data).await;
    }

    /// The database against what was accepted: lost, duplicated, rows without their file.
    pub async fn check_db(&mut self, cycle: u32, data: &Path) {
        self.integrity_checks += 1;
        let db = match check::db(data).await {
            Ok(db) => db,
            Err(e) => return self.note(cycle, format!("database: {e}")),
        };
        if db.integrity_ok {
            self.integrity_ok += 1;
        } else {
            out!("  ! cycle {cycle}: PRAGMA integrity_check is not ok");
        }
        for login in self.accepted.iter().filter(|a| !a.starts_with("moment#")) {
            match db.rows.get(login).copied().unwrap_or(0) {
                0 if self.lost.insert(login.clone()) => {
                    out!("  ! cycle {cycle}: request of {login} was announced but has no row")
                }
                n if n > 1 && self.duplicated.insert(login.clone()) => {
                    out!("  ! cycle {cycle}: request of {login} has {n} rows")
                }
                _ => {}
            }
        }
        for id in &db.ready_twice {
            if self.duplicated.insert(format!("request#{id}")) {
                out!("  ! cycle {cycle}: request #{id} has more than one successful generation");
            }
        }
        for (id, _, state, file) in &db.items {
            if !matches!(state.as_str(), "ready" | "shown") {
                continue;
            }
            let whole = file
                .as_deref()
                .is_some_and(|f| check::playable(Path::new(f)));
            if !whole && self.missing.insert(format!("request#{id}")) {
                out!("  ! cycle {cycle}: request #{id} is {state} but its file {file:?} is missing or unreadable");
            }
        }
        for (moment, n) in &db.clips {
            if *n > 1 && self.duplicated.insert(format!("moment#{moment}")) {
                out!("  ! cycle {cycle}: moment #{moment} has {n} clip rows");
            }
        }
        for m in self
            .accepted
            .iter()
            .filter_map(|a| a.strip_prefix("moment#"))
        {
            let id: i64 = m.parse().unwrap_or(-1);
            if !db.clips.contains_key(&id) && self.lost.insert(format!("moment#{id}")) {
                out!("  ! cycle {cycle}: the clip of moment #{id} was announced but has no row");
            }
        }
        for p in &db.clip_paths {
            if !check::playable(Path::new(p)) && self.missing.insert(p.clone()) {
                out!("  ! cycle {cycle}: clip row for {p} but the file is missing or unreadable");
            }
        }
    }

    /// The clips folder after a start: unreadable final files, and temporary files older than
    /// `started` (left by the crash, not removed by the start's sweep).
    pub fn check_files(&mut self, cycle: u32, clips: &Path, started: SystemTime) -> usize {
        let files = check::files(clips);
        for p in files.unreadable {
            if self.partial.insert(p.clone()) {
                out!(
                    "  ! cycle {cycle}: {} is under a final name but not readable whole",
                    p.display()
                );
            }
        }
        for (p, mtime) in files.temps {
            if mtime < started && self.stale.insert(p.clone()) {
                let age = started.duration_since(mtime).unwrap_or_default();
                out!(
                    "  ! cycle {cycle}: {} (written {:.3} s before the restart) is still there",
                    p.display(),
                    age.as_secs_f64()
                );
            }
        }
        files.finals.len()
    }

    pub fn report(&self, scenario: &str, took: Duration) {
        let mut ms = self.reconnect_ms.clone();
        ms.sort_by(f64::total_cmp);
        let (p50, max) = (
            check::percentile(&ms, 50.0),
            ms.last().copied().unwrap_or(f64::NAN),
        );
        out!(
            "RESULT scenario={scenario} cycles={} accepted={} lost={} duplicated={} partial={} stale_temp={} missing_files={} integrity_ok={}/{} orphans={} tools_at_kill={} kills_mid_write={} retried={} reconnect_p50_ms={p50:.0} reconnect_max_ms={max:.0} secs={:.0} ok={}",
            self.cycles,
            self.accepted.len(),
            self.lost.len(),
            self.duplicated.len(),
            self.partial.len(),
            self.stale.len(),
            self.missing.len(),
            self.integrity_ok,
            self.integrity_checks,
            self.orphans,
            self.tools_at_kill,
            self.kills_mid,
            self.retried,
            took.as_secs_f64(),
            u8::from(self.ok())
        );
        for i in &self.info {
            out!("  {scenario}: {i}");
        }
        for n in &self.notes {
            out!("  {scenario}: NOT DONE: {n}");
        }
    }
}

/// Whether a temporary file is being written in `clips` now.
pub fn writing(clips: &Path) -> bool {
    !check::temps(clips).is_empty()
}
