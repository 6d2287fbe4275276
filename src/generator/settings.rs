//! The generator settings the streamer edits in the window: backend, endpoint URL and timeout
//! in the database (`settings` row `generator.settings`, JSON), the Modal key and secret in the
//! OS keyring. Invariant: no secret is ever written to the database or sent to the UI.

use serde::{Deserialize, Serialize};

use super::remote::normalise_base_url;
use crate::api::{
    ApiError, ErrorCode, GeneratorBackend, GeneratorSettings, GeneratorSettingsUpdate,
};
use crate::db::{Database, Setting};
use crate::secrets::{Secret, SecretKey, SecretStore};

const SETTING: Setting<StoredSettings> = Setting::new("generator.settings");
pub const DEFAULT_TIMEOUT_S: u32 = 60;
/// Shortest timeout (seconds) one generation attempt may be given.
pub const TIMEOUT_MIN_S: u32 = 1;
/// Longest timeout (seconds) one generation attempt may be given.
pub const TIMEOUT_MAX_S: u32 = 900;
const TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = TIMEOUT_MIN_S..=TIMEOUT_MAX_S;

/// Why generator settings from the window were refused; the text is what the streamer reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeneratorSettingsError {
    #[error("The timeout must be between {TIMEOUT_MIN_S} and {TIMEOUT_MAX_S} seconds.")]
    TimeoutOutOfRange { seconds: u32 },
    #[error(transparent)]
    BaseUrl(#[from] super::remote::BaseUrlError),
}

/// Checks a timeout from the window.
pub(crate) fn check_timeout(seconds: u32) -> Result<(), GeneratorSettingsError> {
    if TIMEOUT_RANGE.contains(&seconds) {
        Ok(())
    } else {
        Err(GeneratorSettingsError::TimeoutOutOfRange { seconds })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSettings {
    pub backend: GeneratorBackend,
    pub base_url: String,
    pub timeout_seconds: u32,
}

impl Default for StoredSettings {
    fn default() -> Self {
        Self {
            backend: GeneratorBackend::Offline,
            base_url: String::new(),
            timeout_seconds: DEFAULT_TIMEOUT_S,
        }
    }
}

impl StoredSettings {
    /// The saved settings; the defaults (offline) when none are saved or they are unreadable.
    /// The saved settings; the defaults when none are saved or they are unreadable.
    pub async fn load(db: &Database) -> Self {
        SETTING.load(db).await
    }

    pub fn view(&self, secrets: &dyn SecretStore) -> GeneratorSettings {
        GeneratorSettings {
            backend: self.backend,
            base_url: self.base_url.clone(),
            timeout_seconds: self.timeout_seconds,
            credentials_saved: credentials(secrets).is_some(),
        }
    }

    /// Checks an update, saves the credentials (keyring) and then the rest (database).
    pub async fn apply(
        db: &Database,
        secrets: &dyn SecretStore,
        update: GeneratorSettingsUpdate,
    ) -> Result<Self, ApiError> {
        let invalid = |m: String| ApiError::new(ErrorCode::InvalidSettings, m);
        let base_url = if update.base_url.trim().is_empty() {
            String::new()
        } else {
            normalise_base_url(&update.base_url).map_err(|e| invalid(e.to_string()))?
        };
        if update.backend == GeneratorBackend::Remote && base_url.is_empty() {
            return Err(invalid(
                "Set the endpoint's base URL to use the remote backend.".into(),
            ));
        }
        check_timeout(update.timeout_seconds).map_err(|e| invalid(e.to_string()))?;
        for (key, value) in [
            (SecretKey::ModalKey, &update.modal_key),
            (SecretKey::ModalSecret, &update.modal_secret),
        ] {
            let Some(value) = value else { continue };
            let value = value.trim();
            if value.chars().any(|c| c.is_control()) || value.len() > 512 {
                return Err(invalid(
                    "The Modal key and secret must be one line of at most 512 characters.".into(),
                ));
            }
            let saved = if value.is_empty() {
                secrets.delete(key)
            } else {
                secrets.set(key, &Secret::new(value))
            };
            saved.map_err(|e| {
                ApiError::new(
                    ErrorCode::Keyring,
                    format!("The Modal credentials could not be saved: {e}."),
                )
            })?;
        }
        let stored = Self {
            backend: update.backend,
            base_url,
            timeout_seconds: update.timeout_seconds,
        };
        SETTING.save(db, &stored).await.map_err(ApiError::from)?;
        Ok(stored)
    }
}

/// The Modal key and secret, when both are saved.
pub fn credentials(secrets: &dyn SecretStore) -> Option<(Secret, Secret)> {
    let key = secrets.get(SecretKey::ModalKey).ok().flatten()?;
    let secret = secrets.get(SecretKey::ModalSecret).ok().flatten()?;
    Some((key, secret))
}
