//! The `WatchAsks` store: viewers' watch-along links waiting for the streamer's yes or no.
//! Only the watch-along actor writes them.
//!
//! Invariants: a viewer has at most one waiting link, and at most [`MAX_WAITING`] wait in all
//! (both checked in the insert's own statement, so two asks racing cannot pass together); a
//! decision is a compare-and-set from `waiting` (`UPDATE … WHERE id = ? AND state =
//! 'waiting'`), so a link is played or denied once, whatever clicks twice.

use sqlx::SqlitePool;

use super::DbError;

/// Links that may wait at once (the card shows them all).
pub const MAX_WAITING: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchAskRow {
    pub id: i64,
    pub login: String,
    pub display: String,
    pub channel: String,
    pub url: String,
    pub state: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskAdded {
    Added(WatchAskRow),
    /// This viewer already has a link waiting: that one.
    AlreadyWaiting(WatchAskRow),
    /// [`MAX_WAITING`] links wait already.
    Full,
}

type Tuple = (i64, String, String, String, String, String, i64);
const COLUMNS: &str = "id, login, display, channel, url, state, created_ms";

fn row(t: Tuple) -> WatchAskRow {
    WatchAskRow {
        id: t.0,
        login: t.1,
        display: t.2,
        channel: t.3,
        url: t.4,
        state: t.5,
        created_ms: t.6,
    }
}

/// `db.watch_asks()`.
#[derive(Debug, Clone, Copy)]
pub struct WatchAsks<'a> {
    pub(super) pool: &'a SqlitePool,
}

impl WatchAsks<'_> {
    /// Keeps a viewer's link waiting, unless they have one waiting or the list is full.
    pub async fn add(
        self,
        login: &str,
        display: &str,
        channel: &str,
        url: &str,
        now_ms: i64,
    ) -> Result<AskAdded, DbError> {
        let inserted = sqlx::query(
            "INSERT INTO watch_asks (login, display, channel, url, state, created_ms) \
             SELECT ?, ?, ?, ?, 'waiting', ? \
             WHERE NOT EXISTS (SELECT 1 FROM watch_asks WHERE state = 'waiting' AND login = ?) \
             AND (SELECT COUNT(*) FROM watch_asks WHERE state = 'waiting') < ?",
        )
        .bind(login)
        .bind(display)
        .bind(channel)
        .bind(url)
        .bind(now_ms)
        .bind(login)
        .bind(MAX_WAITING)
        .execute(self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            let id = inserted.last_insert_rowid();
            return Ok(match self.get(id).await? {
                Some(r) => AskAdded::Added(r),
                None => return Err(DbError::Query(sqlx::Error::RowNotFound)),
            });
        }
        let mine = sqlx::query_as::<_, Tuple>(&format!(
            "SELECT {COLUMNS} FROM watch_asks WHERE state = 'waiting' AND login = ?"
        ))
        .bind(login)
        .fetch_optional(self.pool)
        .await?;
        Ok(match mine {
            Some(t) => AskAdded::AlreadyWaiting(row(t)),
            None => AskAdded::Full,
        })
    }

    pub async fn get(self, id: i64) -> Result<Option<WatchAskRow>, DbError> {
        let t =
            sqlx::query_as::<_, Tuple>(&format!("SELECT {COLUMNS} FROM watch_asks WHERE id = ?"))
                .bind(id)
                .fetch_optional(self.pool)
                .await?;
        Ok(t.map(row))
    }

    /// The waiting links, oldest first.
    pub async fn waiting(self) -> Result<Vec<WatchAskRow>, DbError> {
        let rows = sqlx::query_as::<_, Tuple>(&format!(
            "SELECT {COLUMNS} FROM watch_asks WHERE state = 'waiting' ORDER BY created_ms, id"
        ))
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(row).collect())
    }

    /// Moves a waiting link to `played` or `denied`; `None` when it is not waiting (decided
    /// already, or no such link).
    pub async fn decide(
        self,
        id: i64,
        played: bool,
        now_ms: i64,
    ) -> Result<Option<WatchAskRow>, DbError> {
        let to = if played { "played" } else { "denied" };
        let done = sqlx::query(
            "UPDATE watch_asks SET state = ?, decided_ms = ? WHERE id = ? AND state = 'waiting'",
        )
        .bind(to)
        .bind(now_ms)
        .bind(id)
        .execute(self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get(id).await
    }
}

#[cfg(test)]
mod tests {
    use crate::db::Database;

    #[tokio::test]
    async fn one_waiting_link_per_viewer_a_bounded_list_and_each_decided_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("t.db")).await.unwrap();
        let asks = db.watch_asks();
        let first = match asks
            .add("amy", "Amy", "chan", "https://youtu.be/a", 1)
            .await
            .unwrap()
        {
            super::AskAdded::Added(r) => r,
            other => panic!("{other:?}"),
        };
        assert_eq!(first.state, "waiting");
        // A second link of Amy's while the first waits: that one is named.
        assert_eq!(
            asks.add("amy", "Amy", "chan", "https://youtu.be/b", 2)
                .await
                .unwrap(),
            super::AskAdded::AlreadyWaiting(first.clone())
        );
        for n in 1..super::MAX_WAITING {
            let login = format!("v{n}");
            let added = asks
                .add(&login, &login, "chan", "https://youtu.be/c", 3)
                .await
                .unwrap();
            assert!(matches!(added, super::AskAdded::Added(_)), "{added:?}");
        }
        assert_eq!(
            asks.add("late", "Late", "chan", "https://youtu.be/d", 4)
                .await
                .unwrap(),
            super::AskAdded::Full
        );
        assert_eq!(
            asks.waiting().await.unwrap().len() as i64,
            super::MAX_WAITING
        );
        // Decided once: the second decision (either way) finds nothing waiting.
        let played = asks.decide(first.id, true, 5).await.unwrap().unwrap();
        assert_eq!(played.state, "played");
        assert_eq!(asks.decide(first.id, false, 6).await.unwrap(), None);
        assert_eq!(asks.decide(first.id, true, 6).await.unwrap(), None);
        assert_eq!(asks.decide(9999, true, 6).await.unwrap(), None);
        // Amy may ask again now; the list has room again.
        assert!(matches!(
            asks.add("amy", "Amy", "chan", "https://youtu.be/e", 7)
                .await
                .unwrap(),
            super::AskAdded::Added(_)
        ));
        assert_eq!(asks.waiting().await.unwrap()[0].login, "v1");
        db.close().await;
    }
}
