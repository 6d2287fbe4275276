//! `DesktopPrefs` actor: the only writer of the desktop settings and the tray notice flag.
//! The shell reads them when the window closes or an event may notify; the window edits them.

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{DesktopSettings, SETTINGS, TRAY_NOTICE_SHOWN};
use crate::actor::Mailbox;
use crate::api::{ApiError, CoreEvent};
use crate::db::{write_then_announce, Database};
use crate::events::EventBus;

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

enum Command {
    Settings(Reply<DesktopSettings>),
    SetSettings(DesktopSettings, Reply<DesktopSettings>),
    TakeTrayNotice(Reply<bool>),
}

/// Handle on the desktop preferences.
#[derive(Clone, Debug)]
pub struct DesktopPrefs {
    mailbox: Mailbox<Command>,
}

impl DesktopPrefs {
    pub fn spawn(
        db: Database,
        events: EventBus,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (mailbox, rx) = Mailbox::new(8);
        let task = tracker.spawn(run(db, events, rx, cancel));
        (Self { mailbox }, task)
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
    db: Database,
    events: EventBus,
    mut rx: mpsc::Receiver<Command>,
    cancel: CancellationToken,
) {
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
