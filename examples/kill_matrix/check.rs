//! What the driver looks at while no StreamCue runs on a data folder: the database (through a
//! copy: the engine's own file is never opened by anyone else, and SQLite replays the WAL the
//! kill left into the copy exactly as the next start would), the clips folder, and ffmpeg
//! processes left running for the folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};

/// The database as the next start would find it.
#[derive(Debug, Default)]
pub struct Db {
    pub integrity_ok: bool,
    /// Request rows per viewer login.
    pub rows: BTreeMap<String, i64>,
    /// (id, login, state, file_path) of every request.
    pub items: Vec<(i64, String, String, Option<String>)>,
    /// Requests with more than one successful generation run.
    pub ready_twice: Vec<i64>,
    /// Clip rows per moment, and every clip's path.
    pub clips: BTreeMap<i64, i64>,
    pub clip_paths: Vec<String>,
}

/// Copies `streamcue.db` (+ `-wal`, `-shm`) of `data` to a scratch folder and reads the copy:
/// `PRAGMA integrity_check`, then the rows.
pub async fn db(data: &Path) -> Result<Db, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("scratch dir: {e}"))?;
    let copy = scratch.path().join("streamcue.db");
    for suffix in ["", "-wal", "-shm"] {
        let from = data.join(format!("streamcue.db{suffix}"));
        if from.exists() {
            let to = scratch.path().join(format!("streamcue.db{suffix}"));
            std::fs::copy(&from, &to).map_err(|e| format!("copy {}: {e}", from.display()))?;
        }
    }
    let mut conn = SqliteConnectOptions::new()
        .filename(&copy)
        .connect()
        .await
        .map_err(|e| format!("open the copy of {}: {e}", data.display()))?;
    let out = read(&mut conn).await;
    let _ = conn.close().await;
    out
}

async fn read(conn: &mut SqliteConnection) -> Result<Db, String> {
    let e = |e: sqlx::Error| e.to_string();
    let check: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(e)?;
    let mut db = Db {
        integrity_ok: check.len() == 1 && check[0].0 == "ok",
        ..Db::default()
    };
    let rows = sqlx::query("SELECT id, user_login, state, file_path FROM requests ORDER BY id")
        .fetch_all(&mut *conn)
        .await
        .map_err(e)?;
    for r in rows {
        let login: String = r.get(1);
        *db.rows.entry(login.clone()).or_default() += 1;
        db.items.push((r.get(0), login, r.get(2), r.get(3)));
    }
    db.ready_twice = sqlx::query_scalar(
        "SELECT request_id FROM generations WHERE outcome = 'ready' GROUP BY request_id HAVING COUNT(*) > 1",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(e)?;
    let clips = sqlx::query("SELECT moment_id, path FROM clips")
        .fetch_all(&mut *conn)
        .await
        .map_err(e)?;
    for c in clips {
        *db.clips.entry(c.get(0)).or_default() += 1;
        db.clip_paths.push(c.get(1));
    }
    Ok(db)
}

/// The clips folder: videos under final names, and temporary files with their mtime.
#[derive(Debug, Default)]
pub struct Files {
    /// Videos under a final name that ffprobe does not read whole.
    pub unreadable: Vec<PathBuf>,
    pub finals: Vec<PathBuf>,
    pub temps: Vec<(PathBuf, SystemTime)>,
}

/// Temporary files in `dir` (hidden or `.part`/`.tmp` names) with their mtime; no probing.
pub fn temps(dir: &Path) -> Vec<(PathBuf, SystemTime)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    // A file whose metadata cannot be read was removed meanwhile (a finished render's).
    rd.flatten()
        .filter(|e| is_temp(&e.file_name().to_string_lossy()))
        .filter_map(|e| Some((e.path(), e.metadata().and_then(|m| m.modified()).ok()?)))
        .collect()
}

fn is_temp(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".part") || name.contains(".tmp")
}

pub fn files(dir: &Path) -> Files {
    let mut out = Files {
        temps: temps(dir),
        ..Files::default()
    };
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if is_temp(&name) {
            continue;
        } else if [".mp4", ".mkv", ".mov", ".webm"]
            .iter()
            .any(|x| name.ends_with(x))
        {
            if !playable(&path) {
                out.unreadable.push(path.clone());
            }
            out.finals.push(path);
        }
    }
    out
}

/// ffprobe reads the container (a duration) and a video stream, and decodes the last second
/// (a file cut short fails here even when its header is whole).
pub fn playable(path: &Path) -> bool {
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=codec_name:format=duration", "-of", "default=nw=1"])
        .arg(path)
        .output();
    let Ok(o) = probe else { return false };
    let text = String::from_utf8_lossy(&o.stdout);
    let duration = text
        .lines()
        .find_map(|l| l.strip_prefix("duration="))
        .and_then(|d| d.trim().parse::<f64>().ok());
    let (true, true, Some(d)) = (o.status.success(), text.contains("codec_name="), duration) else {
        return false;
    };
    // Decode the end of the file: errors (truncated packets, missing moov) fail it.
    let tail = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-xerror", "-ss"])
        .arg(format!("{:.3}", (d - 1.0).max(0.0)))
        .arg("-i")
        .arg(path)
        .args(["-map", "0:v:0", "-f", "null", "-"])
        .output();
    tail.is_ok_and(|t| t.status.success() && t.stderr.is_empty())
}

/// ffmpeg/ffprobe processes (not zombies) started for `dir`: its path in their command line,
/// or their working directory under it (the offline render runs in the clips folder with
/// relative names).
pub fn tools_for(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().to_string();
    let mut found = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in rd.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if !matches!(comm.trim(), "ffmpeg" | "ffprobe") || is_zombie(pid) {
            continue;
        }
        let raw = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
        let cwd = std::fs::read_link(entry.path().join("cwd")).unwrap_or_default();
        if cmd.contains(&needle) || cwd.starts_with(dir) {
            found.push(pid);
        }
    }
    found
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s.rsplit(')').next().unwrap_or("").trim_start();
            state.starts_with('Z') || state.starts_with('X')
        })
        .unwrap_or(true)
}

/// Nearest-rank percentile of sorted values (NaN when empty).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}
