//! Where StreamCue keeps its files.
//!
//! By default the platform's folders (`directories`); with `--data-dir DIR` (or
//! `STREAMCUE_DATA_DIR`) everything lives under one folder, for tests and portable use.

use std::path::{Path, PathBuf};

use crate::api::PathsInfo;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    pub config_file: PathBuf,
    pub database_file: PathBuf,
    pub log_dir: PathBuf,
    pub data_dir: PathBuf,
    /// Finished clips (`request-<id>.mp4`, `moment-<id>.mkv`).
    pub clips_dir: PathBuf,
    /// Streamlink recordings.
    pub recordings_dir: PathBuf,
}

/// The kinds of file "Show in folder" accepts.
const VIDEO_EXTENSIONS: [&str; 6] = ["mp4", "mkv", "ts", "mov", "flv", "webm"];

#[derive(Debug, thiserror::Error)]
#[error("{0} is not a clip, recording or StreamCue folder that exists.")]
pub struct NotRevealable(pub String);

#[derive(Debug, thiserror::Error)]
#[error("No home folder was found to keep StreamCue's files in; start it with --data-dir DIR.")]
pub struct NoHomeDir;

impl AppPaths {
    /// All files under one folder.
    pub fn under(dir: &Path) -> Self {
        Self {
            config_file: dir.join("config.toml"),
            database_file: dir.join("streamcue.db"),
            log_dir: dir.join("logs"),
            data_dir: dir.to_path_buf(),
            clips_dir: dir.join("clips"),
            recordings_dir: dir.join("recordings"),
        }
    }

    /// The platform's standard folders (e.g. `~/.config/streamcue`, `~/.local/share/streamcue`).
    pub fn platform() -> Result<Self, NoHomeDir> {
        let dirs = directories::ProjectDirs::from("", "", "streamcue").ok_or(NoHomeDir)?;
        Ok(Self {
            config_file: dirs.config_dir().join("config.toml"),
            database_file: dirs.data_dir().join("streamcue.db"),
            log_dir: dirs.data_local_dir().join("logs"),
            data_dir: dirs.data_dir().to_path_buf(),
            clips_dir: dirs.data_dir().join("clips"),
            recordings_dir: dirs.data_dir().join("recordings"),
        })
    }

    /// `override_dir` if given, else `STREAMCUE_DATA_DIR`, else the platform folders.
    pub fn resolve(override_dir: Option<&Path>) -> Result<Self, NoHomeDir> {
        if let Some(dir) = override_dir {
            return Ok(Self::under(dir));
        }
        match std::env::var_os("STREAMCUE_DATA_DIR") {
            Some(dir) if !dir.is_empty() => Ok(Self::under(Path::new(&dir))),
            _ => Self::platform(),
        }
    }

    /// A stable name for "StreamCue on this data folder" (16 hex digits of FNV-1a over the
    /// folder's path): one running instance per data folder, so a second window on the same
    /// database raises the first, while tests on their own folders run side by side.
    pub fn instance_id(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.data_dir.as_os_str().as_encoded_bytes() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    }

    /// What "Show in folder" may open: an existing clip or recording (a video file), the config
    /// file or the database, or one of StreamCue's own folders. Anything else is refused; nothing is ever executed.
    pub fn revealable(&self, path: &str) -> Result<PathBuf, NotRevealable> {
        let wanted = PathBuf::from(path);
        let own_folders = [
            &self.log_dir,
            &self.data_dir,
            &self.clips_dir,
            &self.recordings_dir,
        ];
        if own_folders.iter().any(|d| **d == wanted) {
            return if wanted.is_dir() {
                Ok(wanted)
            } else {
                Err(NotRevealable(path.to_string()))
            };
        }
        let own_files = [&self.config_file, &self.database_file];
        if own_files.iter().any(|f| **f == wanted) && wanted.is_file() {
            return Ok(wanted);
        }
        if let Some(db_dir) = self.database_file.parent() {
            if wanted == db_dir && wanted.is_dir() {
                return Ok(wanted);
            }
        }
        let is_video = wanted
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if is_video && wanted.is_file() {
            Ok(wanted)
        } else {
            Err(NotRevealable(path.to_string()))
        }
    }

    pub fn info(&self) -> PathsInfo {
        PathsInfo {
            config_file: self.config_file.display().to_string(),
            database_file: self.database_file.display().to_string(),
            log_dir: self.log_dir.display().to_string(),
        }
    }
}

/// A file-system error as a streamer reads it: "cannot write /clips: the disk is full".
pub fn disk_problem(what: &str, path: &Path, e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    let cause = match e.kind() {
        StorageFull => "the disk is full".to_string(),
        PermissionDenied => "permission denied".to_string(),
        ReadOnlyFilesystem => "the disk is read-only".to_string(),
        NotADirectory | AlreadyExists => "a file is in the way of the folder".to_string(),
        _ => e.to_string(),
    };
    format!("{what} {}: {cause}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instance_id_per_data_folder() {
        let a = AppPaths::under(Path::new("/tmp/a"));
        assert_eq!(
            a.instance_id(),
            AppPaths::under(Path::new("/tmp/a")).instance_id()
        );
        assert_ne!(
            a.instance_id(),
            AppPaths::under(Path::new("/tmp/b")).instance_id()
        );
        assert_eq!(a.instance_id().len(), 16);
    }

    #[test]
    fn only_videos_that_exist_and_own_folders_are_revealable() {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::under(dir.path());
        std::fs::create_dir_all(&paths.clips_dir).unwrap();
        let clip = paths.clips_dir.join("request-1.MP4");
        std::fs::write(&clip, b"x").unwrap();
        let script = paths.clips_dir.join("run.sh");
        std::fs::write(&script, b"x").unwrap();
        let shown = |p: &Path| paths.revealable(&p.display().to_string());
        assert_eq!(shown(&clip).unwrap(), clip);
        assert_eq!(shown(&paths.clips_dir).unwrap(), paths.clips_dir);
        assert!(shown(&script).is_err(), "not a video");
        assert!(shown(&paths.clips_dir.join("gone.mp4")).is_err(), "missing");
        assert!(
            shown(&paths.log_dir).is_err(),
            "own folder, not created yet"
        );
        assert!(shown(Path::new("/etc")).is_err(), "not ours");
        std::fs::write(&paths.config_file, b"").unwrap();
        assert_eq!(shown(&paths.config_file).unwrap(), paths.config_file);
    }
}
