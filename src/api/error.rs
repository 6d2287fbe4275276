//! The one place where the core's errors become what the UI receives: a stable [`ErrorCode`]
//! and a sentence for the streamer. Each module keeps its own error type; the `From` impls
//! below are the only mapping from those types to codes, so `?` at the API edge is enough.

use serde::{Deserialize, Serialize};
use specta::Type;

/// Stable, machine-readable error codes. The UI switches on these; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub enum ErrorCode {
    /// The channel name is empty, too long or has characters Twitch does not allow.
    InvalidChannel,
    /// A chat connection is already open; disconnect first.
    AlreadyConnected,
    /// There is no chat connection to act on.
    NotConnected,
    /// No request has that id.
    UnknownRequest,
    /// No moment has that id.
    UnknownMoment,
    /// No chat session has that id.
    UnknownSession,
    /// The file named does not exist (or is not the kind of file asked for).
    FileNotFound,
    /// Logging in to Twitch failed or is not set up; the message says why and what to do.
    Login,
    /// The request is not in a state that allows this action (e.g. approving a skipped one).
    InvalidTransition,
    /// The database could not be read or written.
    Database,
    /// A setting is out of range or malformed; the message says which and why.
    InvalidSettings,
    /// The OS keyring could not save or read a secret.
    Keyring,
    /// The generation endpoint could not be reached or refused (Test connection).
    Generator,
    /// OBS is not connected, or refused a request; the message says why.
    Obs,
    /// The co-host's model server could not be reached or refused (Test connection, a draft).
    Cohost,
    /// No co-host draft has that id (it was sent, discarded or expired).
    UnknownDraft,
    /// Recording or cutting a clip failed (e.g. ffmpeg or streamlink missing); the message says why.
    Recorder,
    /// A chosen clips or recordings folder cannot be used; the message says why and what to do.
    Folder,
    /// The engine is shutting down or has stopped.
    ShuttingDown,
    /// StreamCue could not start; the message says why (the database's own causes have the
    /// codes below).
    StartupFailed,
    /// Another program (another StreamCue) holds the database.
    DatabaseLocked,
    /// The database was written by a newer StreamCue.
    DatabaseTooNew,
    /// The database file is damaged or not a database: it can be moved aside.
    DatabaseCorrupt,
    /// The database cannot be opened or written (a folder in its place, read-only, I/O error,
    /// full disk); the message says which.
    DatabaseUnusable,
    /// The local server's control API was called without its token, or with a wrong one.
    Unauthorized,
    /// An HTTP request to the local server was malformed (its body, its path); the message
    /// says what.
    BadRequest,
    /// An HTTP request body was larger than the local server accepts.
    TooLarge,
    /// An HTTP request named another host than the local server (DNS rebinding).
    WrongHost,
    /// Anything else; the message says what.
    Internal,
}

/// An error as the UI receives it: a stable code plus a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<crate::actor::Gone> for ApiError {
    fn from(_: crate::actor::Gone) -> Self {
        ApiError::new(ErrorCode::ShuttingDown, "StreamCue is shutting down.")
    }
}

impl From<crate::folders::FolderError> for ApiError {
    fn from(e: crate::folders::FolderError) -> Self {
        ApiError::new(ErrorCode::Folder, e.to_string())
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::new(ErrorCode::Database, e.to_string())
    }
}

impl From<crate::twitch_auth::AuthError> for ApiError {
    fn from(e: crate::twitch_auth::AuthError) -> Self {
        ApiError::new(ErrorCode::Login, e.to_string())
    }
}

impl From<crate::recorder::cut::CutError> for ApiError {
    fn from(e: crate::recorder::cut::CutError) -> Self {
        ApiError::new(ErrorCode::Recorder, e.to_string())
    }
}

impl From<&crate::engine::StartError> for ApiError {
    fn from(e: &crate::engine::StartError) -> Self {
        use crate::db::DbError;
        use crate::engine::StartError;
        let code = match e {
            StartError::Database(DbError::Locked { .. }) => ErrorCode::DatabaseLocked,
            StartError::Database(DbError::NewerSchema { .. }) => ErrorCode::DatabaseTooNew,
            StartError::Database(DbError::Corrupt { .. }) => ErrorCode::DatabaseCorrupt,
            StartError::Database(_) => ErrorCode::DatabaseUnusable,
            StartError::Thread(_) | StartError::Account(_) => ErrorCode::StartupFailed,
        };
        ApiError::new(code, e.to_string())
    }
}
