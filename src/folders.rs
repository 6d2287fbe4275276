//! The clips and recordings folders, as the streamer chose them in Settings → Folders.
//!
//! The defaults come from [`AppPaths`]; a chosen folder replaces one of them and is kept as a
//! setting ([`CHOSEN`]). The folders in use are published on a `watch` channel
//! ([`FolderWatch`]): the generator and the recorder read it each time they start a file, so
//! a change applies to the next clip or recording. Nothing is ever moved: clips and recordings
//! already made stay where they are, and their rows keep their full paths.
//!
//! A folder is [`check`]ed before it is accepted: a full path, a folder (made if missing),
//! writable (a probe file is written, synced and removed), and not on a full disk. A folder
//! that breaks later (removed, unmounted, filled) is met by the generator and the cutter, which
//! recreate a missing folder and report a disk problem in words (`paths::disk_problem`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use specta::Type;
use tokio::sync::watch;

use crate::db::Setting;
use crate::paths::{disk_problem, AppPaths};

/// Which folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub enum FolderKind {
    Clips,
    Recordings,
}

impl FolderKind {
    fn noun(self) -> &'static str {
        match self {
            FolderKind::Clips => "clips",
            FolderKind::Recordings => "recordings",
        }
    }
}

/// The folders the streamer chose (`None`: the default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChosenFolders {
    pub clips: Option<PathBuf>,
    pub recordings: Option<PathBuf>,
}

/// Where the chosen folders are kept.
pub const CHOSEN: Setting<ChosenFolders> = Setting::new("folders.chosen");

/// The folders in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFolders {
    pub clips_dir: PathBuf,
    pub recordings_dir: PathBuf,
}

/// The folders in use, as the generator and the recorder read them.
pub type FolderWatch = watch::Receiver<MediaFolders>;

impl ChosenFolders {
    /// The folders in use: each chosen one, else the default.
    pub fn apply(&self, defaults: &AppPaths) -> MediaFolders {
        MediaFolders {
            clips_dir: self
                .clips
                .clone()
                .unwrap_or_else(|| defaults.clips_dir.clone()),
            recordings_dir: self
                .recordings
                .clone()
                .unwrap_or_else(|| defaults.recordings_dir.clone()),
        }
    }

    pub fn set(&mut self, kind: FolderKind, dir: Option<PathBuf>) {
        match kind {
            FolderKind::Clips => self.clips = dir,
            FolderKind::Recordings => self.recordings = dir,
        }
    }
}

/// Less free space than this and a folder is refused: one recording would not fit.
pub const MIN_FREE_BYTES: u64 = 16 * 1024 * 1024;

/// How long a folder check may take (a network share or a sleeping disk that never answers).
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// A folder that cannot be used, in words that name the next step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FolderError {
    #[error("\"{0}\" is not a full path: use Choose…, or type a path that starts with /.")]
    NotAbsolute(String),
    #[error("{0} is a file, not a folder: choose a folder.")]
    NotAFolder(String),
    #[error(
        "StreamCue cannot use {problem}. Choose another folder, or fix this one and try again."
    )]
    Unusable { problem: String },
    #[error("{path} is on a disk that is full or nearly full ({free} free; StreamCue needs 16 MB): free some space there or choose a folder on another disk.")]
    DiskFull { path: String, free: String },
    #[error("{0} did not answer within 10 s (a network share or disk that is away?): choose another folder.")]
    NoAnswer(String),
}

/// A folder that passed [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedFolder {
    pub path: PathBuf,
    pub free_bytes: Option<u64>,
}

/// Whether `typed` can hold StreamCue's `kind` files: made if missing, then a probe file is
/// written, synced and removed. Blocking (file-system calls); see [`check_in_background`].
pub fn check(kind: FolderKind, typed: &str) -> Result<CheckedFolder, FolderError> {
    let trimmed = typed.trim();
    let path = PathBuf::from(trimmed);
    if trimmed.is_empty() || !path.is_absolute() {
        return Err(FolderError::NotAbsolute(trimmed.to_string()));
    }
    let shown = path.display().to_string();
    if path.exists() && !path.is_dir() {
        return Err(FolderError::NotAFolder(shown));
    }
    let unusable = |what: &str, e: &std::io::Error| {
        if e.kind() == std::io::ErrorKind::StorageFull {
            FolderError::DiskFull {
                path: shown.clone(),
                free: free_text(free_bytes(&path)),
            }
        } else {
            FolderError::Unusable {
                problem: disk_problem(what, &path, e),
            }
        }
    };
    std::fs::create_dir_all(&path).map_err(|e| unusable("the folder", &e))?;
    let probe = tempfile::Builder::new()
        .prefix(".streamcue-probe-")
        .tempfile_in(&path)
        .and_then(|mut f| {
            // One block of real data: creating an empty file can succeed on a full disk.
            f.write_all(&[0u8; 4096])?;
            f.as_file().sync_all()?;
            Ok(f)
        })
        .map_err(|e| unusable("the folder", &e))?;
    drop(probe); // removes the probe file
    let free = free_bytes(&path);
    if free.is_some_and(|b| b < MIN_FREE_BYTES) {
        return Err(FolderError::DiskFull {
            path: shown,
            free: free_text(free),
        });
    }
    tracing::info!(folder = kind.noun(), path = %path.display(), free_bytes = ?free, "folder checked");
    Ok(CheckedFolder {
        path,
        free_bytes: free,
    })
}

/// [`check`] off the async runtime, under [`CHECK_TIMEOUT`].
pub async fn check_in_background(
    kind: FolderKind,
    typed: String,
) -> Result<CheckedFolder, FolderError> {
    let shown = typed.trim().to_string();
    match tokio::time::timeout(
        CHECK_TIMEOUT,
        tokio::task::spawn_blocking(move || check(kind, &typed)),
    )
    .await
    {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(FolderError::Unusable {
            problem: format!("{shown}: the check stopped ({e})"),
        }),
        Err(_) => Err(FolderError::NoAnswer(shown)),
    }
}

/// Free bytes for an unprivileged writer on the file system holding `path`.
pub fn free_bytes(path: &Path) -> Option<u64> {
    crate::storage::disk_space(path).map(|(free, _)| free)
}

/// "1.2 GB", "300 MB", "12 kB" (decimal units, as file managers show them).
pub fn free_text(bytes: Option<u64>) -> String {
    let Some(b) = bytes else {
        return "unknown".into();
    };
    let f = b as f64;
    if f >= 1e9 {
        format!("{:.1} GB", f / 1e9)
    } else if f >= 1e6 {
        format!("{:.0} MB", f / 1e6)
    } else {
        format!("{:.0} kB", f / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_or_empty_path_is_refused_with_the_next_step() {
        for typed in ["", "   ", "clips", "./clips", "~/Videos"] {
            let e = check(FolderKind::Clips, typed).unwrap_err();
            assert!(matches!(e, FolderError::NotAbsolute(_)), "{typed:?}: {e}");
            assert!(e.to_string().contains("Choose…"), "{e}");
        }
    }

    #[test]
    fn a_missing_folder_is_made_and_a_file_in_the_way_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let wanted = dir.path().join("a/b/clips");
        let checked = check(FolderKind::Clips, &format!("  {}  ", wanted.display())).unwrap();
        assert_eq!(checked.path, wanted);
        assert!(wanted.is_dir());
        assert_eq!(
            std::fs::read_dir(&wanted).unwrap().count(),
            0,
            "the probe file is removed"
        );
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let e = check(FolderKind::Recordings, &file.display().to_string()).unwrap_err();
        assert!(matches!(e, FolderError::NotAFolder(_)), "{e}");
        let under_file = file.join("clips");
        let e = check(FolderKind::Clips, &under_file.display().to_string()).unwrap_err();
        assert!(
            e.to_string().contains("a file is in the way")
                || e.to_string().contains("Not a directory"),
            "{e}"
        );
    }

    #[test]
    fn chosen_folders_replace_only_their_own_default() {
        let paths = AppPaths::under(Path::new("/data"));
        let mut chosen = ChosenFolders::default();
        assert_eq!(
            chosen.apply(&paths),
            MediaFolders {
                clips_dir: "/data/clips".into(),
                recordings_dir: "/data/recordings".into()
            }
        );
        chosen.set(FolderKind::Recordings, Some("/mnt/big/rec".into()));
        let used = chosen.apply(&paths);
        assert_eq!(used.clips_dir, PathBuf::from("/data/clips"));
        assert_eq!(used.recordings_dir, PathBuf::from("/mnt/big/rec"));
        chosen.set(FolderKind::Recordings, None);
        assert_eq!(chosen.apply(&paths).recordings_dir, paths.recordings_dir);
    }

    #[test]
    fn free_space_reads_and_prints_like_a_file_manager() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).is_some());
        assert_eq!(free_bytes(Path::new("/no/such/folder/here")), None);
        assert_eq!(free_text(Some(1_234_000_000)), "1.2 GB");
        assert_eq!(free_text(Some(300_000_000)), "300 MB");
        assert_eq!(free_text(Some(12_000)), "12 kB");
        assert_eq!(free_text(None), "unknown");
    }
}
