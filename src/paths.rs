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
