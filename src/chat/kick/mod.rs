//! A Kick chat session: Kick's public Pusher WebSocket feed for one chatroom.
//!
//! Kick's web page reads chat from Pusher (a hosted WebSocket service). Anyone can subscribe to
//! a chatroom's public channel `chatrooms.{id}.v2` without logging in, so this source is
//! read-only. The protocol, as StreamCue speaks it:
//!
//! 1. open `wss://ws-{cluster}.pusher.com/app/{key}?protocol=7&...`;
//! 2. the server greets with `pusher:connection_established` (its `data` is a JSON *string*
//!    with `socket_id` and `activity_timeout`);
//! 3. we send `pusher:subscribe` for `chatrooms.{id}.v2`; `pusher_internal:subscription_succeeded`
//!    means we are in ([`SourceEvent::Joined`](super::SourceEvent::Joined));
//! 4. chat arrives as `App\Events\ChatMessageEvent` (its `data` is again a JSON string);
//!    moderation as `App\Events\MessageDeletedEvent` and `App\Events\UserBannedEvent`;
//! 5. keep-alive: the server's `pusher:ping` gets a `pusher:pong`; after `activity_timeout` of
//!    silence we send our own `pusher:ping`, and no answer within `pong_timeout` means the
//!    connection is dead;
//! 6. `pusher:error` / close codes follow the Pusher protocol: 4000–4099 stop for good,
//!    4100–4199 reconnect after a backoff, 4200–4299 reconnect at once.
//!
//! The connection runs in a spawned task that feeds [`KickSession::next`] through a channel,
//! so `next` is cancel-safe. Dropping the session stops the task and closes the socket.
//!
//! Robustness: nothing the server sends is trusted. Frames that are not JSON, have the wrong
//! shape, are binary, or are larger than [`MAX_TEXT_FRAME`] are skipped and counted
//! ([`KickSession::malformed_frames`]); a frame larger than [`MAX_WS_MESSAGE`] cannot be skipped
//! in place (the stream is cut), so it is counted and the connection is opened again.
//!
//! # Parts
//!
//! * `session`: [`KickSession`] and its connection task (phases, keep-alive, Pusher codes,
//!   reconnecting);
//! * `wire`: Pusher frames and Kick's event payloads → [`SourceEvent`](super::SourceEvent)s
//!   (pure parsing, no I/O);
//! * `transport`: the address ([`KickOptions::resolved_url`]), TCP + TLS + the WebSocket
//!   handshake (TLS is the shared chat set-up, `chat::tls`);
//! * `lookup`: what the streamer typed ([`KickTarget::parse`]) and the chatroom id lookup
//!   ([`chatroom_id_for`]).
//!
//! Every error text is a sentence for the streamer; each part has its own `thiserror` enum.

mod lookup;
mod session;
mod transport;
mod wire;

use std::time::Duration;

use super::backoff::Backoff;

pub use lookup::{chatroom_id_for, viewer_count, KickLookupError, KickTarget, KickTargetError};
pub use session::{chatroom_channel, KickSession};
pub use transport::KickUrlError;
pub use wire::parse_emotes;

/// Kick's Pusher app key (public: it is in Kick's web page). It can change; it is configurable.
pub const DEFAULT_APP_KEY: &str = "32cbd69e4b950bf97679";
/// Kick's Pusher cluster.
pub const DEFAULT_CLUSTER: &str = "us2";
/// Where Kick's web page connects; `{cluster}` and `{key}` are filled in from the options.
pub const DEFAULT_WS_URL: &str =
    "wss://ws-{cluster}.pusher.com/app/{key}?protocol=7&client=js&version=8.4.0&flash=false";
/// Kick's website, for the chatroom id lookup.
pub const DEFAULT_API_BASE: &str = "https://kick.com";

/// Text frames larger than this are skipped (and counted) without reading their JSON.
/// Pusher itself refuses messages over 10 KB, so a real chat event is far smaller.
pub const MAX_TEXT_FRAME: usize = 64 * 1024;
/// The WebSocket layer refuses messages (and frames) larger than this; such a frame cuts the
/// connection (it cannot be skipped in place), which is then opened again.
pub const MAX_WS_MESSAGE: usize = 2 * 1024 * 1024;

/// How to reach Kick's chat.
#[derive(Debug, Clone)]
pub struct KickOptions {
    /// The Pusher WebSocket URL. `{key}` and `{cluster}` are replaced by `app_key` and
    /// `cluster`; tests give a literal `ws://127.0.0.1:PORT/app/KEY?protocol=7` instead.
    pub ws_url: String,
    /// Kick's Pusher app key.
    pub app_key: String,
    /// Kick's Pusher cluster, e.g. `us2`.
    pub cluster: String,
    /// Spacing of reconnect attempts.
    pub backoff: Backoff,
    /// Kick's website, for [`chatroom_id_for`] (tests point it at a local fake).
    pub api_base: String,
    /// Opening the socket (TCP, TLS, WebSocket handshake) and the server's greeting must each
    /// finish within this.
    pub connect_timeout: Duration,
    /// After our own `pusher:ping`, the server must answer (with anything) within this.
    pub pong_timeout: Duration,
    /// After `pusher:subscribe`, the server must confirm within this.
    pub subscribe_timeout: Duration,
    /// How often the viewer count is read from Kick's website (for the `viewer_spike`
    /// trigger; only when connected by channel name).
    pub viewers_every: Duration,
}

impl Default for KickOptions {
    fn default() -> Self {
        Self {
            ws_url: DEFAULT_WS_URL.to_string(),
            app_key: DEFAULT_APP_KEY.to_string(),
            cluster: DEFAULT_CLUSTER.to_string(),
            backoff: Backoff::default(),
            api_base: DEFAULT_API_BASE.to_string(),
            connect_timeout: Duration::from_secs(10),
            pong_timeout: Duration::from_secs(30),
            subscribe_timeout: Duration::from_secs(15),
            viewers_every: Duration::from_secs(60),
        }
    }
}

impl KickOptions {
    /// The Pusher URL for an app key and cluster (Kick's usual address).
    pub fn pusher_url(app_key: &str, cluster: &str) -> Result<String, KickUrlError> {
        transport::fill_url(DEFAULT_WS_URL, app_key, cluster)
    }

    /// The URL this session connects to: `ws_url` with `{key}` and `{cluster}` filled in.
    pub fn resolved_url(&self) -> Result<String, KickUrlError> {
        transport::fill_url(&self.ws_url, &self.app_key, &self.cluster)
    }
}
