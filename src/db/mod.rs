//! The SQLite database: the source of truth for everything StreamCue knows.
//!
//! [`Database`] opens, migrates and closes the file and hands out one store per table group
//! (`db.requests()`, `db.generations()`, `db.moments()`, `db.recordings()`, `db.sessions()`,
//! `db.velocity()`, `db.settings()`). Stores return domain rows (`RequestRow`, `MomentRow`,
//! ...); the window's DTOs are made from them at the API edge (`api/rows.rs`).
//!
//! Invariants: WAL journal; one connection (SQLite serialises writers anyway) holding an
//! exclusive lock, so a second StreamCue on the same data dir gets a clear "locked" error
//! instead of two writers; schema changes only through `migrations/`; each table group has
//! one writing actor (named in its store's docs); an event that reports a write is published
//! only after the write committed ([`write_then_announce`]).

mod cohost;
mod generations;
mod moments;
mod recordings;
mod requests;
mod sessions;
mod settings;
mod velocity;
mod watch;
mod watch_asks;
mod write_tx;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqlitePoolOptions};
use sqlx::SqlitePool;

pub use cohost::{Cohost, CohostCounter, CohostReplyRow, CohostTotals};
pub use generations::{ClaimedRequest, Generations, RunOutcome};
pub use moments::{MomentRow, Moments};
pub use recordings::{ClipRow, NewClip, RecordingRow, Recordings};
pub use requests::{NewRequest, QueueCounter, RequestRow, Requests};
pub use sessions::{ChatSessionRow, Platform, SessionSummaryRow, Sessions};
pub use settings::{Setting, Settings};
pub use velocity::{MinuteCounts, Velocity};
pub use watch::{Applied, Created, NewWatchSession, Watch, WatchSessionRow};
pub use watch_asks::{AskAdded, WatchAskRow, WatchAsks, MAX_WAITING as WATCH_ASKS_MAX};
pub use write_tx::WriteTx;

use crate::api::CoreEvent;
use crate::events::EventBus;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("The database {path} is in use by another program (is StreamCue already running?).")]
    Locked { path: String },
    #[error(
        "The database {path} was written by a newer StreamCue (schema version {found}); \
         update StreamCue or choose another data folder."
    )]
    NewerSchema { path: String, found: i64 },
    /// The file is not a database, or is damaged (SQLITE_CORRUPT, SQLITE_NOTADB).
    #[error(
        "The database {path} is damaged ({message}). Move it aside and start fresh (it is \
         renamed, never deleted), or restore a backup."
    )]
    Corrupt { path: String, message: String },
    #[error("The database {path} could not be opened: {message}")]
    Open { path: String, message: String },
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("{what} could not be encoded for saving: {message}")]
    Encode { what: &'static str, message: String },
}

/// A cloneable handle on the database.
#[derive(Clone, Debug)]
pub struct Database {
    pool: SqlitePool,
    /// The file was there but empty (0 bytes) when opened: whatever it held is gone, and
    /// StreamCue started a new history in it. The window is told.
    was_empty: bool,
}

impl Database {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub async fn open(path: &Path) -> Result<Self, DbError> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| DbError::Open {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        }
        let was_empty = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0);
        if was_empty {
            tracing::warn!(path = %shown, "the database file is empty: starting a new history");
        }
        // A new database file is the user's alone (SQLite gives its WAL the same mode).
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path);
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| DbError::Open {
                path: shown.clone(),
                message: e.to_string(),
            })?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .locking_mode(SqliteLockingMode::Exclusive)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(500));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            // Every connection takes the exclusive lock as it opens, including one that
            // replaces a discarded connection (`WriteTx`): the lock is never left free.
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query("BEGIN IMMEDIATE; COMMIT;")
                        .execute(conn)
                        .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| classify(&shown, e))?;
        MIGRATOR.run(&pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::VersionMissing(found) => DbError::NewerSchema {
                path: shown.clone(),
                found,
            },
            sqlx::migrate::MigrateError::Execute(e) => classify(&shown, e),
            other => DbError::Open {
                path: shown.clone(),
                message: other.to_string(),
            },
        })?;
        Ok(Self { pool, was_empty })
    }

    /// Whether the file was there but empty (0 bytes) when opened.
    pub fn was_empty_file(&self) -> bool {
        self.was_empty
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn requests(&self) -> Requests<'_> {
        Requests { pool: &self.pool }
    }

    pub fn generations(&self) -> Generations<'_> {
        Generations { pool: &self.pool }
    }

    pub fn moments(&self) -> Moments<'_> {
        Moments { pool: &self.pool }
    }

    pub fn recordings(&self) -> Recordings<'_> {
        Recordings { pool: &self.pool }
    }

    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { pool: &self.pool }
    }

    pub fn cohost(&self) -> Cohost<'_> {
        Cohost { pool: &self.pool }
    }

    pub fn watch(&self) -> Watch<'_> {
        Watch { pool: &self.pool }
    }

    pub fn watch_asks(&self) -> WatchAsks<'_> {
        WatchAsks { pool: &self.pool }
    }

    pub fn velocity(&self) -> Velocity<'_> {
        Velocity { pool: &self.pool }
    }

    pub fn settings(&self) -> Settings<'_> {
        Settings { pool: &self.pool }
    }

    /// Waits for pending work, checkpoints the WAL and closes the connection: when this returns,
    /// the exclusive lock is released.
    pub async fn close(&self) {
        // sqlx hands a used connection back to the pool from a spawned task. If that task runs
        // before the pool is marked closed (it can, on a multi-thread runtime), the connection is
        // parked idle and `Pool::close` returns with it still open and the file still locked.
        // So: hold the connection, mark the pool closed, and only then let it go back.
        match self.pool.acquire().await {
            Ok(mut conn) => {
                let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&mut *conn)
                    .await;
                let closing = self.pool.close(); // marks the pool closed now
                drop(conn); // returned to a closed pool: closed, not parked
                closing.await;
            }
            Err(_) => self.pool.close().await,
        }
    }
}

/// Moves a damaged database aside (with its WAL and shared-memory files): renamed to
/// `<name>.damaged-<YYYYMMDD-HHMMSS>`, never deleted, so a new one can be started and the old
/// one still be rescued. Returns the new name of the database file.
pub fn move_aside(path: &Path) -> std::io::Result<std::path::PathBuf> {
    let stamp = crate::clock::file_stamp();
    let renamed = |p: &Path| {
        let mut name = p.as_os_str().to_os_string();
        name.push(format!(".damaged-{stamp}"));
        std::path::PathBuf::from(name)
    };
    let target = renamed(path);
    if target.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already exists", target.display()),
        ));
    }
    std::fs::rename(path, &target)?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_os_string();
        side.push(suffix);
        let side = std::path::PathBuf::from(side);
        if side.exists() {
            std::fs::rename(&side, renamed(&side))?;
        }
    }
    tracing::warn!(from = %path.display(), to = %target.display(), "damaged database moved aside");
    Ok(target)
}

fn classify(path: &str, e: sqlx::Error) -> DbError {
    if let sqlx::Error::Database(db) = &e {
        let code = db.code().unwrap_or_default();
        let primary = code.parse::<i64>().map(|c| c & 0xff).unwrap_or(-1);
        // SQLITE_CORRUPT (11), SQLITE_NOTADB (26).
        if primary == 11 || primary == 26 {
            return DbError::Corrupt {
                path: path.to_string(),
                message: db.message().to_string(),
            };
        }
        // SQLITE_BUSY (5), SQLITE_LOCKED (6), with any extended code.
        if primary == 5 || primary == 6 {
            return DbError::Locked {
                path: path.to_string(),
            };
        }
        let why = match primary {
            8 => Some("the file or its folder is read-only; StreamCue needs to write it"),
            10 => Some("the disk reported an I/O error; check the disk"),
            13 => Some("the disk is full; free some space"),
            14 => {
                Some("it cannot be opened: is it a folder, or in a folder StreamCue cannot write?")
            }
            _ => None,
        };
        if let Some(why) = why {
            return DbError::Open {
                path: path.to_string(),
                message: why.to_string(),
            };
        }
        if db.message().contains("locked") {
            return DbError::Locked {
                path: path.to_string(),
            };
        }
    }
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Configuration(_) | sqlx::Error::Database(_) => {
            DbError::Open {
                path: path.to_string(),
                message: e.to_string(),
            }
        }
        other => DbError::Query(other),
    }
}

/// Write, commit, then announce: runs `write` (which commits before it returns `Ok`), and
/// only then publishes the events `announce` makes from what was stored. A failed write is
/// logged with `what` and returned; nothing is published for it, so the window never shows a
/// write that did not happen.
pub async fn write_then_announce<T>(
    events: &EventBus,
    what: &str,
    write: impl std::future::Future<Output = Result<T, DbError>>,
    announce: impl FnOnce(&T) -> Vec<CoreEvent>,
) -> Result<T, DbError> {
    announce_written(events, what, write.await, announce)
}

/// The second half of [`write_then_announce`], for a write the caller has already awaited.
pub fn announce_written<T>(
    events: &EventBus,
    what: &str,
    written: Result<T, DbError>,
    announce: impl FnOnce(&T) -> Vec<CoreEvent>,
) -> Result<T, DbError> {
    match written {
        Ok(stored) => {
            for event in announce(&stored) {
                events.publish(event);
            }
            Ok(stored)
        }
        Err(e) => {
            tracing::error!(error = %e, "could not save {what}: not announced");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAG: Setting<bool> = Setting::new("test.flag");

    fn announce(on: &bool) -> Vec<CoreEvent> {
        vec![CoreEvent::QueueSettings { auto_approve: *on }]
    }

    #[tokio::test]
    async fn a_write_is_announced_only_after_it_committed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("t.sqlite")).await.unwrap();
        let events = EventBus::new(8);
        let mut rx = events.subscribe();

        let write = async { FLAG.save(&db, &true).await.map(|()| true) };
        write_then_announce(&events, "a flag", write, announce)
            .await
            .unwrap();
        assert!(matches!(
            rx.try_recv(),
            Ok(CoreEvent::QueueSettings { auto_approve: true })
        ));
        assert_eq!(
            db.settings().get("test.flag").await.unwrap().as_deref(),
            Some("true")
        );

        db.close().await; // every later write fails
        let write = async { FLAG.save(&db, &false).await.map(|()| false) };
        let failed = write_then_announce(&events, "a flag", write, announce).await;
        assert!(failed.is_err());
        assert!(rx.try_recv().is_err(), "a failed write was announced");
    }
}
