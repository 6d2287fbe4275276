//! What the kill matrix looks at after each kill: the database (integrity, requests per viewer),
//! the clips folder (every file under a final name must be a whole video), and ffmpeg
//! processes left running for the data folder.

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// `PRAGMA integrity_check` on the database file (StreamCue is not running).
pub async fn integrity_ok(db: &Path) -> Result<bool, String> {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
        .map_err(|e| format!("open {}: {e}", db.display()))?;
    let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| format!("integrity_check: {e}"))?;
    let _ = conn.close().await;
    Ok(rows.len() == 1 && rows[0].0 == "ok")
}

/// Request rows per viewer login, for the logins given.
pub async fn rows_per_viewer(db: &Path, logins: &[String]) -> Result<Vec<(String, i64)>, String> {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
        .map_err(|e| format!("open {}: {e}", db.display()))?;
    let mut out = Vec::new();
    for login in logins {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM requests WHERE user_login = ?")
            .bind(login)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| format!("count: {e}"))?;
        out.push((login.clone(), n));
    }
    let _ = conn.close().await;
    Ok(out)
}

/// Files in `dir` (not recursive).
fn files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

/// (videos under a final name that ffprobe does not accept, temporary/partial files).
pub fn clip_files(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut bad = Vec::new();
    let mut partial = Vec::new();
    for path in files(dir) {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let is_video = [".mp4", ".mkv", ".ts", ".mov"]
            .iter()
            .any(|e| name.ends_with(e));
        if name.starts_with('.') || name.ends_with(".part") || name.contains(".tmp") {
            partial.push(path);
        } else if is_video && !playable(&path) {
            bad.push(path);
        }
    }
    (bad, partial)
}

/// ffprobe reads a duration and a video stream.
pub fn playable(path: &Path) -> bool {
    Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=codec_name:format=duration", "-of", "default=nw=1"])
        .arg(path)
        .output()
        .map(|o| {
            let out = String::from_utf8_lossy(&o.stdout);
            o.status.success() && out.contains("codec_name=") && out.contains("duration=")
        })
        .unwrap_or(false)
}

/// ffmpeg/ffprobe processes whose command line names `dir` (what StreamCue started for it).
pub fn children_for(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().to_string();
    let mut found = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in rd.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
        let prog = cmd.split_whitespace().next().unwrap_or_default();
        let is_tool = prog.ends_with("ffmpeg") || prog.ends_with("ffprobe");
        if is_tool && cmd.contains(&needle) && !is_zombie(pid) {
            found.push(pid);
        }
    }
    found
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

/// Percentile of sorted values (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}
