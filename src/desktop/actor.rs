//! `DesktopPrefs` actor: the only writer of the desktop settings, the tray notice flag and the
//! chosen clips and recordings folders. The shell reads them when the window closes or an
//! event may notify; the window edits them. The folders in use go out on a `watch` channel
//! (read by the generator and the recorder) only after the choice has been saved.

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{DesktopSettings, SETTINGS, TRAY_NOTICE_SHOWN};
use crate::actor::Mailbox;
use crate::api::{ApiError, CoreEvent, PathsInfo};
use crate::db::{announce_written, write_then_announce, Database};
use crate::events::EventBus;
use crate::folders::{ChosenFolders, FolderKind, FolderWatch, MediaFolders, CHOSEN};
use crate::paths::AppPaths;

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

enum Command {
    Settings(Reply<DesktopSettings>),
    SetSettings(DesktopSettings, Reply<DesktopSettings>),
    TakeTrayNotice(Reply<bool>),
    /// A checked folder (`None`: back to the default).
    SetFolder(FolderKind, Option<std::path::PathBuf>, Reply<PathsInfo>),
}

/// Handle on the desktop preferences.
#[derive(Clone, Debug)]
pub struct DesktopPrefs {
    mailbox: Mailbox<Command>,
    folders: FolderWatch,
}

/// What the desktop preferences start with.
pub struct PrefsSetup {
    pub db: Database,
    pub events: EventBus,
    /// The default paths (the chosen folders replace the clips and recordings ones).
    pub defaults: AppPaths,
    /// The folders chosen when the engine started (loaded before any actor that writes files).
    pub chosen: ChosenFolders,
}

impl DesktopPrefs {
    pub fn spawn(
        setup: PrefsSetup,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (mailbox, rx) = Mailbox::new(8);
        let (folders_tx, folders) =
            tokio::sync::watch::channel(setup.chosen.apply(&setup.defaults));
        let task = tracker.spawn(run(setup, folders_tx, rx, cancel));
        (Self { mailbox, folders }, task)
    }

    /// The clips and recordings folders in use, followed as they change.
    pub fn folders(&self) -> FolderWatch {
        self.folders.clone()
    }

    /// The folders in use now.
    pub fn folders_now(&self) -> MediaFolders {
        self.folders.borrow().clone()
    }

    /// Saves a folder that passed `folders::check` (or `None`: the default), then uses it for
    /// the next file and announces `CoreEvent::Paths`.
    pub async fn set_folder(
        &self,
        kind: FolderKind,
        dir: Option<std::path::PathBuf>,
    ) -> Result<PathsInfo, ApiError> {
        self.ask(|r| Command::SetFolder(kind, dir, r)).await
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ApiError> {
        self.mailbox.ask(make).await?
    }

    pub async fn settings(&self) -> Result<DesktopSettings, ApiError> {
        self.ask(Command::Settings).await
    }

    /// Saves, then announces `CoreEvent::DesktopSettings`.
    pub async fn set_settings(&self, s: DesktopSettings) -> Result<DesktopSettings, ApiError> {
        self.ask(|r| Command::SetSettings(s, r)).await
    }

    /// `true` exactly once per data folder: the first time the window hides to the tray.
    pub async fn take_tray_notice(&self) -> Result<bool, ApiError> {
        self.ask(Command::TakeTrayNotice).await
    }
}

async fn run(
    setup: PrefsSetup,
    folders: tokio::sync::watch::Sender<MediaFolders>,
    mut rx: mpsc::Receiver<Command>,
    cancel: CancellationToken,
) {
    let PrefsSetup {
        db,
        events,
        defaults,
        mut chosen,
    } = setup;
    let mut settings = SETTINGS.load(&db).await;
    loop {
        let cmd = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            cmd = rx.recv() => match cmd { Some(c) => c, None => break },
        };
        match cmd {
            Command::Settings(reply) => drop(reply.send(Ok(settings))),
            Command::SetSettings(s, reply) => {
                let write = async { SETTINGS.save(&db, &s).await.map(|()| s) };
                let saved = write_then_announce(&events, "the desktop settings", write, |s| {
                    vec![CoreEvent::DesktopSettings { settings: *s }]
                })
                .await;
                if let Ok(s) = saved {
                    settings = s;
                }
                let _ = reply.send(saved.map_err(ApiError::from));
            }
            Command::SetFolder(kind, dir, reply) => {
                let mut next = chosen.clone();
                next.set(kind, dir);
                let used = next.apply(&defaults);
                let info = defaults.info(&used);
                // Saved, then in use, then announced: a failed save changes nothing.
                let written = CHOSEN.save(&db, &next).await.map(|()| info);
                if written.is_ok() {
                    chosen = next;
                    folders.send_replace(used);
                }
                let saved = announce_written(&events, "the chosen folders", written, |paths| {
                    vec![CoreEvent::Paths {
                        paths: paths.clone(),
                    }]
                });
                let _ = reply.send(saved.map_err(ApiError::from));
            }
            Command::TakeTrayNotice(reply) => {
                let shown = TRAY_NOTICE_SHOWN.load(&db).await;
                let result = if shown {
                    Ok(false)
                } else {
                    TRAY_NOTICE_SHOWN.save(&db, &true).await.map(|()| true)
                };
                let _ = reply.send(result.map_err(ApiError::from));
            }
        }
    }
}
