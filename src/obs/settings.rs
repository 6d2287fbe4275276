//! OBS settings edited in the window: host, port, on/off and the names of scenes and sources in
//! the database (`settings` row `obs.settings`, JSON); the password in the OS keyring.

use serde::{Deserialize, Serialize};

use crate::api::{ApiError, ErrorCode, ObsNames, ObsSettings, ObsSettingsUpdate};
use crate::db::{Database, Setting};
use crate::secrets::{Secret, SecretKey, SecretStore};

const SETTING: Setting<StoredObsSettings> = Setting::new("obs.settings");
/// Lowest OBS WebSocket port the window accepts (the highest is `u16::MAX`, [`PORT_MAX`]).
pub const PORT_MIN: u16 = 1;
pub const PORT_MAX: u16 = u16::MAX;

/// Why OBS settings from the window were refused; the text is the sentence the streamer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ObsSettingsError {
    #[error("The OBS port must be between {PORT_MIN} and {PORT_MAX} (OBS's default is 4455).")]
    PortOutOfRange { port: u16 },
}

/// Checks a port from the window.
pub(crate) fn check_port(port: u16) -> Result<(), ObsSettingsError> {
    if (PORT_MIN..=PORT_MAX).contains(&port) {
        Ok(())
    } else {
        Err(ObsSettingsError::PortOutOfRange { port })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredObsSettings {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub names: ObsNames,
}

impl Default for StoredObsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            host: "127.0.0.1".into(),
            port: 4455,
            names: ObsNames::default(),
        }
    }
}

impl StoredObsSettings {
    /// The saved settings; the defaults when none are saved or they are unreadable.
    pub async fn load(db: &Database) -> Self {
        SETTING.load(db).await
    }

    pub fn view(&self, secrets: &dyn SecretStore) -> ObsSettings {
        ObsSettings {
            enabled: self.enabled,
            host: self.host.clone(),
            port: self.port,
            password_saved: password(secrets).is_some(),
            names: self.names.clone(),
        }
    }

    /// Checks an update, saves the password (keyring), then the rest (database).
    pub async fn apply(
        db: &Database,
        secrets: &dyn SecretStore,
        update: ObsSettingsUpdate,
    ) -> Result<Self, ApiError> {
        let invalid = |m: &str| ApiError::new(ErrorCode::InvalidSettings, m);
        let host = update.host.trim().to_string();
        if host.is_empty()
            || host.len() > 253
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        {
            return Err(invalid(
                "The OBS host must be a host name or an IP address, e.g. 127.0.0.1.",
            ));
        }
        check_port(update.port).map_err(|e| invalid(&e.to_string()))?;
        let n = &update.names;
        let names = [
            &n.generating_scene,
            &n.prompt_source,
            &n.result_scene,
            &n.result_source,
            &n.hero_scene,
            &n.watch_scene,
            &n.watch_source,
        ];
        if names.iter().any(|s| {
            s.trim().is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control)
        }) {
            return Err(invalid(
                "Scene and source names must be 1–100 characters on one line.",
            ));
        }
        let trimmed: Vec<String> = names.iter().map(|s| s.trim().to_string()).collect();
        let mut unique = trimmed.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != trimmed.len() {
            return Err(invalid("Each scene and source needs its own name."));
        }
        if let Some(pw) = &update.password {
            let pw = pw.trim();
            if pw.len() > 512 || pw.chars().any(char::is_control) {
                return Err(invalid(
                    "The OBS password must be one line of at most 512 characters.",
                ));
            }
            let saved = if pw.is_empty() {
                secrets.delete(SecretKey::ObsPassword)
            } else {
                secrets.set(SecretKey::ObsPassword, &Secret::new(pw))
            };
            saved.map_err(|e| {
                ApiError::new(
                    ErrorCode::Keyring,
                    format!("The OBS password could not be saved: {e}."),
                )
            })?;
        }
        let stored = Self {
            enabled: update.enabled,
            host,
            port: update.port,
            names: ObsNames {
                generating_scene: trimmed[0].clone(),
                prompt_source: trimmed[1].clone(),
                result_scene: trimmed[2].clone(),
                result_source: trimmed[3].clone(),
                hero_scene: trimmed[4].clone(),
                watch_scene: trimmed[5].clone(),
                watch_source: trimmed[6].clone(),
            },
        };
        SETTING.save(db, &stored).await.map_err(ApiError::from)?;
        Ok(stored)
    }
}

pub fn password(secrets: &dyn SecretStore) -> Option<Secret> {
    secrets.get(SecretKey::ObsPassword).ok().flatten()
}
