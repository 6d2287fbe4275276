//! The `Settings` store and typed settings.
//!
//! Each setting is one [`Setting<T>`]: a key, a type and its default, declared once beside the
//! code that owns it. Every setting loads and saves the same way:
//! * a missing value is the type's default;
//! * a value that cannot be read (damaged, or written by a newer StreamCue) is the default,
//!   with a warning naming the key; the stored text is left alone until the next save;
//! * a database that cannot be read gives the default with an error in the log, so an actor
//!   always starts;
//! * a save reports its failure to the caller ([`DbError`]); nothing is applied or announced
//!   before the save has committed.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::SqlitePool;

use super::{Database, DbError};

/// The raw key/value table (`db.settings()`). Use a [`Setting<T>`] rather than this directly.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub(super) pool: &'a SqlitePool,
}

impl Settings<'_> {
    pub async fn get(self, key: &str) -> Result<Option<String>, DbError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    pub async fn set(self, key: &str, value: &str) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool)
        .await?;
        Ok(())
    }
}

/// One setting: its key and its type. Stored as JSON (a `bool` is stored as `true`/`false`).
#[derive(Debug)]
pub struct Setting<T> {
    key: &'static str,
    _type: PhantomData<fn() -> T>,
}

// Manual impls: a derive would ask `T: Clone`, but only the key is copied.
impl<T> Clone for Setting<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Setting<T> {}

impl<T> Setting<T> {
    pub const fn new(key: &'static str) -> Self {
        Self {
            key,
            _type: PhantomData,
        }
    }

    pub fn key(&self) -> &'static str {
        self.key
    }
}

impl<T: Serialize + DeserializeOwned + Default> Setting<T> {
    /// The saved value, or the default (see the module's rules).
    pub async fn load(self, db: &Database) -> T {
        match db.settings().get(self.key).await {
            Ok(Some(text)) => self.parse(&text),
            Ok(None) => T::default(),
            Err(e) => {
                tracing::error!(key = self.key, error = %e, "could not read a setting: using the default");
                T::default()
            }
        }
    }

    /// Saves `value`; when this returns `Ok`, it is committed.
    pub async fn save(self, db: &Database, value: &T) -> Result<(), DbError> {
        let text = serde_json::to_string(value).map_err(|e| DbError::Encode {
            what: self.key,
            message: e.to_string(),
        })?;
        db.settings().set(self.key, &text).await
    }

    fn parse(&self, text: &str) -> T {
        serde_json::from_str(text).unwrap_or_else(|e| {
            tracing::warn!(key = self.key, error = %e, "a saved setting is unreadable: using the default");
            T::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, Serialize, serde::Deserialize)]
    struct Sample {
        level: u32,
        name: String,
    }

    const SAMPLE: Setting<Sample> = Setting::new("test.sample");
    const FLAG: Setting<bool> = Setting::new("test.flag");

    async fn db() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("t.sqlite")).await.unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn missing_is_default_saved_comes_back() {
        let (_dir, db) = db().await;
        assert_eq!(SAMPLE.load(&db).await, Sample::default());
        let value = Sample {
            level: 3,
            name: "x".into(),
        };
        SAMPLE.save(&db, &value).await.unwrap();
        assert_eq!(SAMPLE.load(&db).await, value);
    }

    #[tokio::test]
    async fn unreadable_is_default_and_left_alone() {
        let (_dir, db) = db().await;
        db.settings().set(SAMPLE.key(), "{not json").await.unwrap();
        assert_eq!(SAMPLE.load(&db).await, Sample::default());
        let kept = db.settings().get(SAMPLE.key()).await.unwrap();
        assert_eq!(kept.as_deref(), Some("{not json"));
    }

    #[tokio::test]
    async fn bools_keep_the_stored_true_false_text() {
        let (_dir, db) = db().await;
        db.settings().set(FLAG.key(), "true").await.unwrap();
        assert!(FLAG.load(&db).await);
        FLAG.save(&db, &false).await.unwrap();
        let text = db.settings().get(FLAG.key()).await.unwrap();
        assert_eq!(text.as_deref(), Some("false"));
    }

    #[tokio::test]
    async fn a_closed_database_gives_the_default_and_a_failed_save() {
        let (_dir, db) = db().await;
        FLAG.save(&db, &true).await.unwrap();
        db.close().await;
        assert!(!FLAG.load(&db).await);
        assert!(FLAG.save(&db, &true).await.is_err());
    }
}
