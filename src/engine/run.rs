//! `run_engine`: the engine thread's whole life, from opening the database to closing it.
//!
//! It opens the database (closing chat sessions a crash left open), starts every actor with
//! its own child cancellation token and wires their channels (chat → queue and detector, the
//! generator's OBS reports, the account's state onto the event bus), reports the handles back
//! to [`super::Engine::start`], then waits for the engine's token. Shutdown is one fixed,
//! ordered [`Shutdown`] list, each step under [`SHUTDOWN_STEP_TIMEOUT`]; then the remaining
//! tracked tasks get one more step, and the database is closed last.

use std::sync::Arc;

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{StartError, SHUTDOWN_STEP_TIMEOUT, TWITCH_ID_URL_ENV};
use crate::actor::Shutdown;
use crate::api::CoreEvent;
use crate::chat::{Backoff, ChatClient, ChatOptions, ChatSlot};
use crate::db::Database;
use crate::desktop::{DesktopPrefs, PrefsSetup};
use crate::events::EventBus;
use crate::folders::CHOSEN;
use crate::generator::worker::WorkerSetup;
use crate::generator::{GenerationSignals, GenerationWorker, GeneratorOptions};
use crate::moments::{detector_channel, MomentDetector};
use crate::obs::{ObsClient, ObsSetup};
use crate::paths::AppPaths;
use crate::queue::{
    inbound_channel, ChatReplies, GenerationQueue, QueueOptions, QueueSetup, ReplySink,
};
use crate::recorder::{Recorder, RecorderSetup};
use crate::secrets::SecretStore;
use crate::server::{Controls, LocalServer, PortChoice, ServerSetup, UiAssets};
use crate::twitch_auth::{AccountOptions, AccountState, TwitchAccount};

/// The running actors' handles: what `run_engine` reports back and `EngineHandle` holds.
#[derive(Clone, Debug)]
pub(super) struct Actors {
    pub(super) chat: ChatClient,
    pub(super) kick: ChatClient,
    pub(super) queue: GenerationQueue,
    pub(super) replies: ReplySink,
    pub(super) generator: GenerationWorker,
    pub(super) obs: ObsClient,
    pub(super) moments: MomentDetector,
    pub(super) recorder: Recorder,
    pub(super) account: TwitchAccount,
    pub(super) desktop: DesktopPrefs,
    pub(super) server: LocalServer,
    pub(super) cohost: crate::cohost::Cohost,
    pub(super) watch: crate::watch::WatchAlong,
    /// The data folder's disk, as last checked.
    pub(super) storage: tokio::sync::watch::Receiver<crate::api::StorageView>,
    /// What opening the database found that the streamer should know.
    pub(super) notices: Vec<crate::api::Notice>,
}

/// What the actors are started with (prepared on the caller's thread).
pub(super) struct ActorOptions {
    pub(super) secrets: Arc<dyn SecretStore>,
    pub(super) db_path: std::path::PathBuf,
    pub(super) chat_options: ChatOptions,
    pub(super) queue_options: QueueOptions,
    pub(super) generator_options: GeneratorOptions,
    /// The default paths; the clips and recordings folders may be replaced by chosen ones.
    pub(super) paths: AppPaths,
    pub(super) ffmpeg: String,
    /// Watch-along: how links become what OBS plays (`[watch]` in the config).
    pub(super) watch_resolver: crate::watch::resolve::Resolver,
    /// The local server's port (see `EngineOptions::local_server`).
    pub(super) local_server: PortChoice,
    pub(super) ui_assets: Option<Arc<dyn UiAssets>>,
}

pub(super) async fn run_engine(
    options: ActorOptions,
    events: EventBus,
    cancel: CancellationToken,
    ready: oneshot::Sender<Result<Actors, StartError>>,
) {
    let ActorOptions {
        secrets,
        db_path,
        mut chat_options,
        queue_options,
        generator_options,
        paths,
        ffmpeg,
        watch_resolver,
        local_server,
        ui_assets,
    } = options;
    let db = match Database::open(&db_path).await {
        Ok(db) => db,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    match db.sessions().close_interrupted().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(sessions = n, "closed chat sessions left open by a crash"),
        Err(e) => tracing::error!(error = %e, "could not close interrupted sessions"),
    }
    let mut notices = Vec::new();
    if db.was_empty_file() {
        notices.push(empty_database_notice(&db_path, &paths.clips_dir));
    }
    let tracker = TaskTracker::new();
    let storage_cancel = cancel.child_token();
    let data_dir = db_path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let (storage, storage_task) = crate::storage::spawn(
        db.clone(),
        events.clone(),
        data_dir,
        storage_cancel.clone(),
        &tracker,
    );
    // The local server follows events from the very first one (it starts once the actors it
    // controls exist).
    let server_follow = events.subscribe();
    // The desktop preferences hold the chosen folders: started before anything writes a file.
    let desktop_cancel = cancel.child_token();
    let (desktop, desktop_task) = DesktopPrefs::spawn(
        PrefsSetup {
            db: db.clone(),
            events: events.clone(),
            chosen: CHOSEN.load(&db).await,
            defaults: paths,
        },
        desktop_cancel.clone(),
        &tracker,
    );
    let (inbound_tx, inbound_rx) = inbound_channel();
    chat_options.inbound = Some(inbound_tx);
    let (detector_tx, detector_rx) = detector_channel();
    chat_options.detector = Some(detector_tx.clone());
    let (cohost_feed, cohost_inlet) = crate::cohost::CohostFeed::channel();
    chat_options.cohost = Some(cohost_feed.clone());
    let own_login = chat_options
        .twitch_credentials
        .as_ref()
        .map(|c| c.login.clone());
    let kick_options = ChatOptions {
        twitch_credentials: None,
        inbound: None, // Kick is read-only: graph and moments, no requests
        command_prefix: chat_options.command_prefix.clone(),
        detector: Some(detector_tx),
        cohost: Some(cohost_feed),
        slot: ChatSlot::Kick,
        kick: chat_options.kick.clone(),
    };
    let moments_cancel = cancel.child_token();
    let (moments, moments_task) = MomentDetector::spawn(
        db.clone(),
        events.clone(),
        detector_rx,
        moments_cancel.clone(),
        &tracker,
    );
    let chat_cancel = cancel.child_token();
    let (chat, chat_task) = ChatClient::spawn(
        db.clone(),
        events.clone(),
        chat_options,
        chat_cancel.clone(),
        &tracker,
    );
    let kick_cancel = cancel.child_token();
    let (kick, kick_task) = ChatClient::spawn(
        db.clone(),
        events.clone(),
        kick_options,
        kick_cancel.clone(),
        &tracker,
    );
    let replies_cancel = cancel.child_token();
    let (replies, replies_task) = ChatReplies::spawn(
        chat.clone(),
        events.clone(),
        replies_cancel.clone(),
        &tracker,
    );
    let cohost_cancel = cancel.child_token();
    let (cohost, cohost_task) = crate::cohost::Cohost::spawn(
        crate::cohost::CohostSetup {
            db: db.clone(),
            events: events.clone(),
            replies: replies.clone(),
            secrets: secrets.clone(),
            own_login,
            seed: fastrand::u64(..),
        },
        cohost_inlet,
        cohost_cancel.clone(),
        &tracker,
    )
    .await;
    let queue_cancel = cancel.child_token();
    let events_for_account = events.clone();
    let signals = GenerationSignals::default();
    let (obs_reports_tx, obs_reports) = tokio::sync::mpsc::channel(64);
    let obs_cancel = cancel.child_token();
    let (obs, obs_task) = ObsClient::spawn(
        ObsSetup {
            db: db.clone(),
            events: events.clone(),
            secrets: secrets.clone(),
            reports: obs_reports_tx,
            backoff: Backoff {
                base: std::time::Duration::from_millis(500),
                cap: std::time::Duration::from_secs(5),
            },
        },
        obs_cancel.clone(),
        &tracker,
    );
    let recorder_cancel = cancel.child_token();
    let (live_tx, live_session) = tokio::sync::watch::channel(None);
    tracker.spawn(crate::recorder::follow_live_session(
        events.subscribe(),
        live_tx,
        recorder_cancel.clone(),
    ));
    let (recorder, recorder_task) = Recorder::spawn(
        RecorderSetup {
            db: db.clone(),
            events: events.clone(),
            obs: obs.clone(),
            folders: desktop.folders(),
            ffmpeg,
            live_session,
            live_poll: std::env::var(super::STREAMLINK_LIVE_POLL_MS_ENV)
                .ok()
                .and_then(|ms| ms.trim().parse().ok())
                .map_or(crate::recorder::LIVE_POLL, std::time::Duration::from_millis),
        },
        recorder_cancel.clone(),
        &tracker,
    );
    let generator_cancel = cancel.child_token();
    let (generator, generator_task) = GenerationWorker::spawn(
        WorkerSetup {
            db: db.clone(),
            events: events.clone(),
            replies: replies.clone(),
            secrets: secrets.clone(),
            signals: signals.clone(),
            options: generator_options,
            folders: desktop.folders(),
            obs: obs.clone(),
        },
        obs_reports,
        generator_cancel.clone(),
        &tracker,
    );
    let watch_cancel = cancel.child_token();
    let (watch, watch_task) = crate::watch::WatchAlong::spawn(
        crate::watch::WatchSetup {
            db: db.clone(),
            events: events.clone(),
            replies: replies.clone(),
            obs: obs.clone(),
            resolver: watch_resolver,
        },
        watch_cancel.clone(),
        &tracker,
    )
    .await;
    let (queue, queue_task) = GenerationQueue::spawn(
        QueueSetup {
            db: db.clone(),
            events: events.clone(),
            replies: replies.clone(),
            options: queue_options,
            signals,
            obs: obs.clone(),
            watch: watch.clone(),
        },
        inbound_rx,
        queue_cancel.clone(),
        &tracker,
    );
    let server_cancel = cancel.child_token();
    let (server, server_task) = LocalServer::spawn(
        ServerSetup {
            db: db.clone(),
            events,
            follow: server_follow,
            port: local_server,
            controls: Controls {
                queue: queue.clone(),
                recorder: recorder.clone(),
                moments: moments.clone(),
                watch: watch.clone(),
            },
            secrets: secrets.clone(),
            assets: ui_assets,
        },
        server_cancel.clone(),
        &tracker,
    );
    let account_cancel = cancel.child_token();
    let account_options = AccountOptions {
        base_url: std::env::var(TWITCH_ID_URL_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| crate::twitch_auth::DEFAULT_BASE_URL.to_string()),
        ..AccountOptions::default()
    };
    let (account, account_task) =
        match TwitchAccount::start(secrets, account_options, account_cancel.clone()) {
            Ok(started) => started,
            Err(e) => {
                let _ = ready.send(Err(e.into()));
                return;
            }
        };
    tracker.spawn(forward_account(
        account.watch(),
        events_for_account,
        cancel.clone(),
    ));
    if ready
        .send(Ok(Actors {
            chat,
            kick,
            queue,
            replies,
            generator,
            obs,
            moments,
            recorder,
            account,
            desktop,
            server,
            cohost,
            watch,
            storage,
            notices,
        }))
        .is_err()
    {
        cancel.cancel();
    }
    cancel.cancelled().await;
    // Fixed order: chat first (it writes its last second and ends its session; nothing new
    // reaches the queue after it), then the moment detector (it takes what chat sent and
    // closes open moments), then the co-host (its model calls are cancelled, drafts dropped),
    // then the generator (the item in hand is written as interrupted,
    // its partial file removed), then the recorder (streamlink stopped with SIGINT so its file
    // is finalised), then OBS (disconnects), then the replies (nothing left to say to), then
    // the queue (it finishes the event in hand), then the account, then the database. Each
    // step has SHUTDOWN_STEP_TIMEOUT; one that is stuck is logged and left behind.
    let mut shutdown = Shutdown::new();
    shutdown.then("local server", server_cancel, server_task);
    shutdown.then("chat", chat_cancel, chat_task);
    shutdown.then("kick", kick_cancel, kick_task);
    shutdown.then("moments", moments_cancel, moments_task);
    shutdown.then("co-host", cohost_cancel, cohost_task);
    shutdown.then("watch-along", watch_cancel, watch_task);
    shutdown.then("generator", generator_cancel, generator_task);
    shutdown.then("recorder", recorder_cancel, recorder_task);
    shutdown.then("obs", obs_cancel, obs_task);
    shutdown.then("replies", replies_cancel, replies_task);
    shutdown.then("queue", queue_cancel, queue_task);
    shutdown.then("account", account_cancel, account_task);
    shutdown.then("desktop", desktop_cancel, desktop_task);
    shutdown.then("storage", storage_cancel, storage_task);
    let report = shutdown.run(SHUTDOWN_STEP_TIMEOUT).await;
    if !report.timed_out.is_empty() {
        tracing::warn!(steps = ?report.timed_out, "shutdown went on without these actors");
    }
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_STEP_TIMEOUT, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            tasks = tracker.len(),
            "tracked tasks still running after the actors stopped; left behind"
        );
    }
    db.close().await;
}

/// The database was an empty file: say so, and how many clips from before are still there.
fn empty_database_notice(db: &std::path::Path, clips: &std::path::Path) -> crate::api::Notice {
    let clips_before = std::fs::read_dir(clips)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    !name.starts_with('.') && (name.ends_with(".mp4") || name.ends_with(".mkv"))
                })
                .count()
        })
        .unwrap_or(0);
    let clips_text = match clips_before {
        0 => String::new(),
        n => format!(
            " The {n} clip{} made before are still in {}.",
            if n == 1 { "" } else { "s" },
            clips.display()
        ),
    };
    crate::api::Notice {
        level: crate::api::NoticeLevel::Warning,
        code: crate::api::NoticeCode::DatabaseWasEmpty,
        message: format!(
            "The database {} was an empty file, so StreamCue started a new history in it: \
             earlier requests, moments and sessions are not listed.{clips_text}",
            db.display()
        ),
    }
}

/// Announces every change of the Twitch login.
async fn forward_account(
    mut rx: tokio::sync::watch::Receiver<AccountState>,
    events: EventBus,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
                let state = rx.borrow_and_update().clone();
                events.publish(CoreEvent::Account { state });
            }
        }
    }
}
