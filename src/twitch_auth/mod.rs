//! "Log in with Twitch": the Device Code Grant, token checks, and the `TwitchAccount` actor
//! that owns the streamer's login.
//!
//! - [`DeviceFlow`]: `POST /oauth2/device`, then polls `POST /oauth2/token` (RFC 8628).
//! - [`TwitchId`] / [`validate`]: `GET /oauth2/validate`, plus refresh and revoke.
//! - [`TwitchAccount`]: an actor that keeps the token in the [`crate::secrets::SecretStore`]
//!   (as [`crate::secrets::Secret`] only), checks it at start and hourly, and announces
//!   [`AccountState`] on a `watch` channel.
//!
//! The client id is a setting the caller passes in (an empty one is
//! [`AuthError::MissingClientId`]). The base URL is overridable so tests can run a fake
//! identity service on 127.0.0.1.

mod account;
mod client;
mod device;
mod error;
mod token;

pub use account::{
    AccountOptions, AccountState, LoginPrompt, TwitchAccount, DEFAULT_RETRY_EVERY,
    DEFAULT_REVALIDATE_EVERY,
};
pub use client::{validate, TwitchId, DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT};
pub use device::{DeviceCode, DeviceFlow, Poll, CHAT_SCOPES, DEVICE_GRANT_TYPE, SLOW_DOWN_STEP};
pub use error::{AuthError, AuthErrorCode};
pub use token::{normalize_token, TokenInfo, UserToken};
