//! `WriteTx`: the one way the stores write several statements at once.
//!
//! Why not sqlx's `Transaction`: after a failed `COMMIT` (SQLITE_FULL on a full disk, an I/O
//! error), SQLite and sqlx's own count of open transactions can disagree; from then on every
//! `begin()` nested a savepoint inside a transaction that never committed, so every later write
//! "succeeded" and was lost (found on a full disk: the WAL stopped changing while the window
//! showed new requests). A `WriteTx` uses plain `BEGIN IMMEDIATE` / `COMMIT`. One that does not
//! commit — an error in a statement, a failed COMMIT, a drop — rolls back before its connection
//! goes back to the pool (the pool has one connection, so nothing else can run inside the
//! stale transaction meanwhile); if even the rollback fails, the connection is closed instead
//! and the pool opens a fresh one, which takes the exclusive lock again as it connects.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

pub struct WriteTx {
    /// `None` only while dropping.
    conn: Option<PoolConnection<Sqlite>>,
    done: bool,
}

impl WriteTx {
    /// Takes the connection and starts a write transaction (`BEGIN IMMEDIATE`: the write lock
    /// now, not at the first write).
    pub async fn begin(pool: &SqlitePool) -> Result<Self, sqlx::Error> {
        let conn = pool.acquire().await?;
        let mut tx = Self {
            conn: Some(conn),
            done: false,
        };
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *tx).await?;
        Ok(tx)
    }

    /// Commits. On failure it is rolled back as it drops (see the module's docs).
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        sqlx::query("COMMIT").execute(&mut *self).await?;
        self.done = true;
        Ok(())
    }

    /// Ends it without keeping anything (nothing to do after all).
    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        sqlx::query("ROLLBACK").execute(&mut *self).await?;
        self.done = true;
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let (false, Some(mut conn)) = (self.done, self.conn.take()) else {
            return;
        };
        tracing::warn!("a database write did not commit: rolled back");
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Err(e) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
                        // "no transaction is active": SQLite already rolled it back itself.
                        if !e.to_string().contains("no transaction is active") {
                            tracing::warn!(error = %e, "rollback failed: the connection is replaced");
                            conn.close_on_drop();
                        }
                    }
                });
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.conn
            .as_ref()
            .expect("a WriteTx in use has its connection")
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .expect("a WriteTx in use has its connection")
    }
}
