//! The SQLite database: the source of truth for everything StreamCue knows.
//!
//! Invariants: WAL journal; one connection (SQLite serialises writers anyway) holding an
//! exclusive lock, so a second StreamCue on the same data dir gets a clear "locked" error
//! instead of two writers; schema changes only through `migrations/`.

mod generation;
mod moments;
mod queue;
mod recordings;
mod sessions;
mod velocity;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqlitePoolOptions};
use sqlx::SqlitePool;

pub use generation::{ClaimedRequest, RunOutcome};
pub use queue::{NewRequest, QueueCounter};
pub use recordings::RecordingRow;
pub use sessions::{ChatSessionRow, Platform};
pub use velocity::MinuteCounts;

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
    #[error("The database {path} could not be opened: {message}")]
    Open { path: String, message: String },
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// A cloneable handle on the database.
#[derive(Clone, Debug)]
pub struct Database {
    pool: SqlitePool,
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
            .connect_with(options)
            .await
            .map_err(|e| classify(&shown, e))?;
        // Take the exclusive lock now, so a second instance fails here and not later.
        sqlx::query("BEGIN IMMEDIATE; COMMIT;")
            .execute(&pool)
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
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
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

fn classify(path: &str, e: sqlx::Error) -> DbError {
    if let sqlx::Error::Database(db) = &e {
        let code = db.code().unwrap_or_default();
        // SQLITE_BUSY (5) / SQLITE_LOCKED (6), possibly extended.
        if code == "5" || code == "6" || code.ends_with("05") && code.len() > 2 {
            return DbError::Locked {
                path: path.to_string(),
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
