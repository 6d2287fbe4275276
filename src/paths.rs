//! Where StreamCue keeps its files.
//!
//! By default the platform's folders (`directories`); with `--data-dir DIR` (or
//! `STREAMCUE_DATA_DIR`) everything lives under one folder, for tests and portable use.

use std::path::{Path, PathBuf};

use crate::api::PathsInfo;
use crate::folders::MediaFolders;

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

/// The platform's folders [`AppPaths::choose`] picks from (`None`: the platform has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformDirs {
    pub config: PathBuf,
    pub data: PathBuf,
    pub data_local: PathBuf,
    pub state: Option<PathBuf>,
    pub videos: Option<PathBuf>,
}

/// StreamCue's own files in its folders: config, database (with its WAL), logs.
fn private_file(name: &str) -> bool {
    name == "config.toml" || name.starts_with("streamcue.db") || name.ends_with(".jsonl")
}

/// Whether `dir` exists and holds at least one entry.
fn has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
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

    /// Makes StreamCue's own folders private to the user (0700) and their files (config,
    /// database, logs) 0600: the database holds viewers' names and prompts, protocol logs hold
    /// chat. Missing folders are made that way; existing ones are repaired (at every start).
    /// Clips and recordings folders are the streamer's and are left alone. Returns what could
    /// not be done, in words (nothing stops because of it).
    pub fn make_private(&self) -> Vec<String> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let mut problems = Vec::new();
        let mut dirs: Vec<&Path> = vec![&self.data_dir, &self.log_dir];
        if let Some(config_dir) = self.config_file.parent() {
            dirs.push(config_dir);
        }
        for dir in dirs {
            if let Err(e) = std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
            {
                problems.push(disk_problem("cannot make the folder", dir, &e));
                continue;
            }
            repair(dir, 0o700, &mut problems);
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let is_file = entry.file_type().is_ok_and(|t| t.is_file());
                if is_file && private_file(&entry.file_name().to_string_lossy()) {
                    repair(&entry.path(), 0o600, &mut problems);
                }
            }
        }
        return problems;

        fn repair(path: &Path, mode: u32, problems: &mut Vec<String>) {
            let Ok(meta) = std::fs::metadata(path) else {
                return;
            };
            if meta.permissions().mode() & 0o077 != 0 {
                let set = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
                if let Err(e) = set {
                    problems.push(disk_problem("cannot restrict access to", path, &e));
                }
            }
        }
    }

    /// The platform's standard folders: config in `~/.config/streamcue`, the database in
    /// `~/.local/share/streamcue`, logs in the XDG state folder (`~/.local/state/streamcue/logs`),
    /// clips and recordings in the user's Videos folder (`~/Videos/StreamCue/{clips,recordings}`).
    pub fn platform() -> Result<Self, NoHomeDir> {
        let dirs = directories::ProjectDirs::from("", "", "streamcue").ok_or(NoHomeDir)?;
        let videos =
            directories::UserDirs::new().and_then(|u| u.video_dir().map(Path::to_path_buf));
        Ok(Self::choose(&PlatformDirs {
            config: dirs.config_dir().to_path_buf(),
            data: dirs.data_dir().to_path_buf(),
            data_local: dirs.data_local_dir().to_path_buf(),
            state: dirs.state_dir().map(Path::to_path_buf),
            videos,
        }))
    }

    /// Where each file goes, given the platform's folders. Folders of an earlier StreamCue
    /// (clips and recordings under the data folder, logs under the local data folder) are kept
    /// while they hold anything, so existing clips, recordings and their database rows keep
    /// working and nothing is moved behind the streamer's back; a new install uses the new
    /// places.
    pub fn choose(dirs: &PlatformDirs) -> Self {
        let keep_old = |old: PathBuf, new: Option<PathBuf>| match new {
            Some(new) if !has_entries(&old) => new,
            _ => old,
        };
        let videos = dirs.videos.as_ref().map(|v| v.join("StreamCue"));
        Self {
            config_file: dirs.config.join("config.toml"),
            database_file: dirs.data.join("streamcue.db"),
            log_dir: keep_old(
                dirs.data_local.join("logs"),
                dirs.state.as_ref().map(|s| s.join("logs")),
            ),
            data_dir: dirs.data.clone(),
            clips_dir: keep_old(
                dirs.data.join("clips"),
                videos.as_ref().map(|v| v.join("clips")),
            ),
            recordings_dir: keep_old(
                dirs.data.join("recordings"),
                videos.as_ref().map(|v| v.join("recordings")),
            ),
        }
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

    /// These paths with the clips and recordings folders in use (see `folders`).
    pub fn using(&self, folders: &MediaFolders) -> Self {
        Self {
            clips_dir: folders.clips_dir.clone(),
            recordings_dir: folders.recordings_dir.clone(),
            ..self.clone()
        }
    }

    /// What the window shows, with the folders in use; these paths are the defaults.
    pub fn info(&self, folders: &MediaFolders) -> PathsInfo {
        PathsInfo {
            config_file: self.config_file.display().to_string(),
            database_file: self.database_file.display().to_string(),
            log_dir: self.log_dir.display().to_string(),
            clips_dir: folders.clips_dir.display().to_string(),
            recordings_dir: folders.recordings_dir.display().to_string(),
            clips_dir_is_default: folders.clips_dir == self.clips_dir,
            recordings_dir_is_default: folders.recordings_dir == self.recordings_dir,
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

    fn dirs(home: &Path) -> PlatformDirs {
        PlatformDirs {
            config: home.join(".config/streamcue"),
            data: home.join(".local/share/streamcue"),
            data_local: home.join(".local/share/streamcue"),
            state: Some(home.join(".local/state/streamcue")),
            videos: Some(home.join("Videos")),
        }
    }

    #[test]
    fn a_new_install_keeps_videos_in_videos_and_logs_in_state() {
        let home = tempfile::tempdir().unwrap();
        let p = AppPaths::choose(&dirs(home.path()));
        assert_eq!(p.clips_dir, home.path().join("Videos/StreamCue/clips"));
        assert_eq!(
            p.recordings_dir,
            home.path().join("Videos/StreamCue/recordings")
        );
        assert_eq!(p.log_dir, home.path().join(".local/state/streamcue/logs"));
        assert_eq!(
            p.database_file,
            home.path().join(".local/share/streamcue/streamcue.db")
        );
    }

    #[test]
    fn an_earlier_install_keeps_its_clips_recordings_and_logs_where_they_are() {
        let home = tempfile::tempdir().unwrap();
        let d = dirs(home.path());
        for old in ["clips", "recordings", "logs"] {
            let dir = d.data.join(old);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("request-1.mp4"), b"x").unwrap();
        }
        let p = AppPaths::choose(&d);
        assert_eq!(p.clips_dir, d.data.join("clips"));
        assert_eq!(p.recordings_dir, d.data.join("recordings"));
        assert_eq!(p.log_dir, d.data.join("logs"));
        // An empty old folder (made but never used) does not hold the new place back.
        std::fs::remove_file(d.data.join("clips/request-1.mp4")).unwrap();
        assert_eq!(
            AppPaths::choose(&d).clips_dir,
            home.path().join("Videos/StreamCue/clips")
        );
    }

    #[test]
    fn without_videos_or_state_folders_everything_stays_in_the_data_folder() {
        let home = tempfile::tempdir().unwrap();
        let d = PlatformDirs {
            state: None,
            videos: None,
            ..dirs(home.path())
        };
        let p = AppPaths::choose(&d);
        assert_eq!(p.clips_dir, d.data.join("clips"));
        assert_eq!(p.log_dir, d.data_local.join("logs"));
    }

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
