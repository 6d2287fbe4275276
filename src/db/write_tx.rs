//! `WriteTx`: the one way the stores write several statements at once.
//!
//! Why not sqlx's `Transaction`: after a failed `COMMIT` (SQLITE_FULL on a full disk, an I/O
//! error), SQLite can keep the transaction open while sqlx counts it as finished, or the other
//! way round. Either way every later `begin()` nests a savepoint inside a transaction that
//! never commits, so every later write "succeeds" and is lost (found on a full disk: the WAL
//! stopped changing while the window showed new requests). A `WriteTx` that does not commit
//! — an error in a statement, a failed COMMIT, or a drop — discards its connection instead
//! of returning it to the pool: closing it rolls back whatever SQLite still holds, and the pool
//! opens a fresh connection (same options, same exclusive lock) for the next write.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

pub struct WriteTx {
    conn: PoolConnection<Sqlite>,
    committed: bool,
}

impl WriteTx {
    /// Takes the connection and starts a write transaction (`BEGIN IMMEDIATE`: the write lock
    /// now, not at the first write).
    pub async fn begin(pool: &SqlitePool) -> Result<Self, sqlx::Error> {
        let conn = pool.acquire().await?;
        let mut tx = Self {
            conn,
            committed: false,
        };
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *tx.conn)
            .await?;
        Ok(tx)
    }

    /// Commits. On failure the connection is discarded (see the module's docs).
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        sqlx::query("COMMIT").execute(&mut *self.conn).await?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if !self.committed {
            tracing::warn!("a database write did not commit: its connection is replaced");
            self.conn.close_on_drop();
        }
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}
