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
//!    means we are in ([`SourceEvent::Joined`]);
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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;
use tokio_util::either::Either;

use super::backoff::Backoff;
use super::{ChatMessage, SourceEvent};
use crate::api::ChatFailure;
use crate::db::now_ms;

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

/// Pusher's own default (and maximum) activity timeout, in seconds.
const MAX_ACTIVITY_TIMEOUT_S: u64 = 120;
/// Events waiting for the `ChatClient`; when it falls behind, reading the socket waits too.
const EVENT_BUFFER: usize = 1024;
/// Longest server-supplied text (an error message) shown to the streamer.
const MAX_SHOWN_TEXT: usize = 200;

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
        }
    }
}

impl KickOptions {
    /// The Pusher URL for an app key and cluster (Kick's usual address).
    pub fn pusher_url(app_key: &str, cluster: &str) -> Result<String, String> {
        fill_url(DEFAULT_WS_URL, app_key, cluster)
    }

    /// The URL this session connects to: `ws_url` with `{key}` and `{cluster}` filled in.
    pub fn resolved_url(&self) -> Result<String, String> {
        fill_url(&self.ws_url, &self.app_key, &self.cluster)
    }
}

fn fill_url(template: &str, app_key: &str, cluster: &str) -> Result<String, String> {
    let mut url = template.trim().to_string();
    if url.contains("{key}") {
        let key = app_key.trim();
        if key.is_empty() || key.len() > 64 || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "the Kick app key {:?} is not valid (it is letters and digits, like {DEFAULT_APP_KEY})",
                shown(key)
            ));
        }
        url = url.replace("{key}", key);
    }
    if url.contains("{cluster}") {
        let cluster = cluster.trim();
        if cluster.is_empty()
            || cluster.len() > 32
            || !cluster
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(format!(
                "the Kick cluster {:?} is not valid (it is like {DEFAULT_CLUSTER})",
                shown(cluster)
            ));
        }
        url = url.replace("{cluster}", &cluster.to_ascii_lowercase());
    }
    endpoint(&url)?;
    Ok(url)
}

/// Counters shared between the session and its connection task.
#[derive(Debug, Default)]
struct Stats {
    malformed: AtomicU64,
    connections: AtomicU64,
}

pub struct KickSession {
    chatroom_id: u64,
    events: mpsc::Receiver<SourceEvent>,
    stats: Arc<Stats>,
    task: AbortHandle,
    finished: bool,
}

impl KickSession {
    /// Starts connecting and subscribing (on the current Tokio runtime); progress arrives
    /// through [`KickSession::next`].
    pub fn start(chatroom_id: u64, options: KickOptions) -> KickSession {
        let (tx, events) = mpsc::channel(EVENT_BUFFER);
        let stats = Arc::new(Stats::default());
        let worker = Worker {
            channel: chatroom_channel(chatroom_id),
            options,
            tx,
            stats: stats.clone(),
            attempt: 0,
        };
        let task = tokio::spawn(worker.run()).abort_handle();
        KickSession {
            chatroom_id,
            events,
            stats,
            task,
            finished: false,
        }
    }

    pub fn chatroom_id(&self) -> u64 {
        self.chatroom_id
    }

    /// The Pusher channel this session reads (`chatrooms.{id}.v2`).
    pub fn channel_name(&self) -> String {
        chatroom_channel(self.chatroom_id)
    }

    /// Frames skipped so far: not JSON, wrong shape, binary, too large, invalid UTF-8.
    pub fn malformed_frames(&self) -> u64 {
        self.stats.malformed.load(Ordering::Relaxed)
    }

    /// WebSocket connections opened so far (the first one included).
    pub fn connections(&self) -> u64 {
        self.stats.connections.load(Ordering::Relaxed)
    }

    /// The next thing that happened. Cancel-safe. After `Failed` it never returns.
    pub async fn next(&mut self) -> SourceEvent {
        if self.finished {
            return std::future::pending().await;
        }
        match self.events.recv().await {
            Some(ev) => {
                if matches!(ev, SourceEvent::Failed { .. }) {
                    self.finished = true;
                }
                ev
            }
            None => {
                self.finished = true;
                SourceEvent::Failed {
                    failure: ChatFailure::ChannelUnavailable,
                    message: "The Kick chat connection stopped unexpectedly.".into(),
                }
            }
        }
    }
}

impl Drop for KickSession {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The Pusher channel of a chatroom.
pub fn chatroom_channel(chatroom_id: u64) -> String {
    format!("chatrooms.{chatroom_id}.v2")
}

// ---------------------------------------------------------------------------------------------
// The connection task
// ---------------------------------------------------------------------------------------------

type Socket = Either<TcpStream, TlsStream<TcpStream>>;
type Ws = WebSocketStream<Socket>;

/// How one connection ended.
enum Ended {
    /// Stop for good; the message is for the streamer.
    Fatal(String),
    /// Lost; try again (`immediate`: without waiting, as Pusher codes 4200–4299 ask).
    Lost { reason: String, immediate: bool },
    /// The session was dropped: nobody is listening.
    Closed,
}

impl Ended {
    fn lost(reason: impl Into<String>) -> Ended {
        Ended::Lost {
            reason: reason.into(),
            immediate: false,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for `pusher:connection_established`.
    Greeting,
    /// Sent `pusher:subscribe`, waiting for `pusher_internal:subscription_succeeded`.
    Subscribing,
    /// In the chatroom.
    Joined,
}

/// What one incoming frame leads to.
enum Step {
    Continue,
    /// The greeting, with the activity timeout to use.
    Greeted(Duration),
    /// The subscription is confirmed.
    Subscribed,
    Emit(SourceEvent),
    Send(&'static str),
    End(Ended),
}

const CHAT_EVENT: &str = "App\\Events\\ChatMessageEvent";
const DELETED_EVENT: &str = "App\\Events\\MessageDeletedEvent";
const BANNED_EVENT: &str = "App\\Events\\UserBannedEvent";
const PING: &str = r#"{"event":"pusher:ping","data":{}}"#;
const PONG: &str = r#"{"event":"pusher:pong","data":{}}"#;

struct Worker {
    channel: String,
    options: KickOptions,
    tx: mpsc::Sender<SourceEvent>,
    stats: Arc<Stats>,
    /// Failed attempts since the last confirmed subscription.
    attempt: u32,
}

impl Worker {
    async fn run(mut self) {
        let url = match self.options.resolved_url() {
            Ok(url) => url,
            Err(e) => {
                let _ = self
                    .tx
                    .send(SourceEvent::Failed {
                        failure: ChatFailure::ChannelUnavailable,
                        message: format!(
                            "Cannot connect to Kick's chat: {e}. Fix it in the config."
                        ),
                    })
                    .await;
                return;
            }
        };
        let mut immediate = false;
        let mut reason = String::new();
        loop {
            if self.attempt > 0 {
                let delay = if immediate && self.attempt == 1 {
                    Duration::ZERO
                } else {
                    self.options.backoff.delay(self.attempt)
                };
                let ev = SourceEvent::Reconnecting {
                    attempt: self.attempt,
                    retry_at_ms: now_ms() + delay.as_millis() as i64,
                    reason: reason.clone(),
                };
                if self.tx.send(ev).await.is_err() {
                    return;
                }
                tokio::time::sleep(delay).await;
            }
            match self.connection(&url).await {
                Ended::Fatal(message) => {
                    tracing::error!(%message, "Kick chat stopped");
                    let _ = self
                        .tx
                        .send(SourceEvent::Failed {
                            failure: ChatFailure::ChannelUnavailable,
                            message,
                        })
                        .await;
                    return;
                }
                Ended::Lost {
                    reason: why,
                    immediate: now,
                } => {
                    tracing::warn!(reason = %why, "Kick chat connection lost");
                    self.attempt = self.attempt.saturating_add(1);
                    reason = why;
                    immediate = now;
                }
                Ended::Closed => return,
            }
        }
    }

    /// One connection, from dialing to its end.
    async fn connection(&mut self, url: &str) -> Ended {
        let connect_timeout = self.options.connect_timeout;
        let mut ws = match tokio::time::timeout(connect_timeout, open(url)).await {
            Ok(Ok(ws)) => ws,
            Ok(Err(reason)) => return Ended::lost(reason),
            Err(_) => {
                return Ended::lost(format!(
                    "Kick's chat did not answer within {} s",
                    connect_timeout.as_secs_f64().ceil()
                ))
            }
        };
        self.stats.connections.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(channel = %self.channel, "Kick chat socket open");
        let ended = self.converse(&mut ws).await;
        if !matches!(ended, Ended::Closed) {
            // Best effort: say goodbye, without waiting long for the peer.
            let _ = tokio::time::timeout(Duration::from_millis(200), ws.close(None)).await;
        }
        ended
    }

    /// Greeting, subscription, then chat until the connection ends.
    async fn converse(&mut self, ws: &mut Ws) -> Ended {
        let mut phase = Phase::Greeting;
        let mut phase_deadline = Instant::now() + self.options.connect_timeout;
        let mut activity = Duration::from_secs(MAX_ACTIVITY_TIMEOUT_S);
        let mut last_rx = Instant::now();
        let mut pong_due: Option<Instant> = None;
        loop {
            let wake = match phase {
                Phase::Greeting | Phase::Subscribing => phase_deadline,
                Phase::Joined => pong_due.unwrap_or(last_rx + activity),
            };
            let frame = tokio::select! {
                frame = ws.next() => frame,
                _ = tokio::time::sleep_until(wake) => {
                    match phase {
                        Phase::Greeting => return Ended::lost("Kick's chat did not greet StreamCue"),
                        Phase::Subscribing => return Ended::lost(format!(
                            "Kick's chat did not confirm the chatroom subscription within {} s",
                            self.options.subscribe_timeout.as_secs_f64().ceil()
                        )),
                        Phase::Joined => {}
                    }
                    if pong_due.is_some() {
                        return Ended::lost(format!(
                            "no answer from Kick's chat for {} s",
                            (activity + self.options.pong_timeout).as_secs_f64().ceil()
                        ));
                    }
                    if let Err(e) = send(ws, PING).await {
                        return e;
                    }
                    pong_due = Some(Instant::now() + self.options.pong_timeout);
                    continue;
                }
            };
            let text = match frame {
                None => return Ended::lost("Kick's chat closed the connection"),
                Some(Err(e)) => match self.on_ws_error(e) {
                    Some(ended) => return ended,
                    None => continue,
                },
                Some(Ok(msg)) => {
                    // Anything at all shows that the connection is alive.
                    last_rx = Instant::now();
                    pong_due = None;
                    match msg {
                        Message::Text(text) => text,
                        Message::Binary(_) => {
                            self.malformed("a binary frame");
                            continue;
                        }
                        Message::Close(frame) => return on_close(frame),
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                    }
                }
            };
            if text.len() > MAX_TEXT_FRAME {
                self.malformed("an oversized frame");
                continue;
            }
            let step = match self.on_text(text.as_str(), phase) {
                Ok(step) => step,
                Err(what) => {
                    self.malformed(what);
                    continue;
                }
            };
            match step {
                Step::Continue => {}
                Step::Greeted(timeout) => {
                    activity = timeout;
                    phase = Phase::Subscribing;
                    phase_deadline = Instant::now() + self.options.subscribe_timeout;
                    let subscribe = serde_json::json!({
                        "event": "pusher:subscribe",
                        "data": { "auth": "", "channel": self.channel },
                    })
                    .to_string();
                    if let Err(e) = send(ws, &subscribe).await {
                        return e;
                    }
                }
                Step::Subscribed => {
                    phase = Phase::Joined;
                    self.attempt = 0;
                    tracing::info!(channel = %self.channel, "Kick chatroom joined");
                    if self.tx.send(SourceEvent::Joined).await.is_err() {
                        return Ended::Closed;
                    }
                }
                Step::Emit(ev) => {
                    if self.tx.send(ev).await.is_err() {
                        return Ended::Closed;
                    }
                }
                Step::Send(out) => {
                    if let Err(e) = send(ws, out).await {
                        return e;
                    }
                }
                Step::End(ended) => return ended,
            }
        }
    }

    fn malformed(&self, what: &str) {
        let total = self.stats.malformed.fetch_add(1, Ordering::Relaxed) + 1;
        static THROTTLE: crate::logging::Throttle = crate::logging::Throttle::new();
        if let Some(also) = THROTTLE.allow() {
            tracing::warn!(
                what,
                total,
                also_skipped = also,
                "skipped a frame from Kick's chat"
            );
        }
    }

    /// A read error: `None` to keep reading, else how the connection ends.
    fn on_ws_error(&self, e: tungstenite::Error) -> Option<Ended> {
        use tungstenite::error::ProtocolError;
        use tungstenite::Error as E;
        match e {
            // The frame was read whole: the stream is still in step.
            E::Utf8(_) => {
                self.malformed("a text frame that is not UTF-8");
                None
            }
            // Only the frame's header was read: the stream cannot be trusted any more.
            E::Capacity(_) => {
                self.malformed("a frame larger than the WebSocket limit");
                Some(Ended::lost("Kick's chat sent a frame too large to read"))
            }
            E::ConnectionClosed | E::AlreadyClosed => {
                Some(Ended::lost("Kick's chat closed the connection"))
            }
            E::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                Some(Ended::lost("Kick's chat dropped the connection"))
            }
            E::Protocol(p) => {
                self.malformed("a WebSocket protocol violation");
                Some(Ended::lost(format!(
                    "Kick's chat broke the WebSocket protocol ({p})"
                )))
            }
            E::Io(io) => Some(Ended::lost(format!(
                "the connection to Kick's chat broke ({})",
                describe_io_error(&io)
            ))),
            other => Some(Ended::lost(format!(
                "the connection to Kick's chat broke ({other})"
            ))),
        }
    }

    /// One text frame. `Err` says what was wrong with it (it is then skipped and counted).
    fn on_text(&self, text: &str, phase: Phase) -> Result<Step, &'static str> {
        let env: Envelope =
            serde_json::from_str(text).map_err(|_| "a frame that is not a Pusher event")?;
        let for_us = env.channel.as_deref() == Some(self.channel.as_str());
        match env.event.as_str() {
            "pusher:connection_established" if phase == Phase::Greeting => {
                let data = decode_data(env.data.as_ref()).unwrap_or(Value::Null);
                let server = data
                    .get("activity_timeout")
                    .and_then(Value::as_u64)
                    .unwrap_or(MAX_ACTIVITY_TIMEOUT_S);
                let secs = server.clamp(1, MAX_ACTIVITY_TIMEOUT_S);
                let socket_id = data.get("socket_id").and_then(|v| v.as_str()).unwrap_or("");
                tracing::debug!(socket_id, activity_timeout = secs, "Kick chat greeting");
                Ok(Step::Greeted(Duration::from_secs(secs)))
            }
            "pusher_internal:subscription_succeeded" if phase == Phase::Subscribing && for_us => {
                Ok(Step::Subscribed)
            }
            "pusher:ping" => Ok(Step::Send(PONG)),
            "pusher:error" => Ok(on_pusher_error(env.data.as_ref())),
            CHAT_EVENT | DELETED_EVENT | BANNED_EVENT if phase == Phase::Joined && for_us => {
                let Some(Value::String(data)) = env.data else {
                    return Err("an event whose data is not a JSON string");
                };
                let ev = match env.event.as_str() {
                    CHAT_EVENT => chat_message(&data)?,
                    DELETED_EVENT => message_deleted(&data)?,
                    _ => user_banned(&data)?,
                };
                Ok(Step::Emit(ev))
            }
            // `pusher:pong`, other Kick events (polls, subscriptions, pins...), other channels.
            _ => Ok(Step::Continue),
        }
    }
}

/// Sends one text frame (bounded in time).
async fn send(ws: &mut Ws, text: &str) -> Result<(), Ended> {
    match tokio::time::timeout(
        Duration::from_secs(10),
        ws.send(Message::text(text.to_owned())),
    )
    .await
    {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Ended::lost(format!("could not write to Kick's chat ({e})"))),
        Err(_) => Err(Ended::lost(
            "Kick's chat stopped reading what StreamCue sends",
        )),
    }
}

/// What a close frame (or a `pusher:error`) code asks for, per the Pusher protocol.
fn on_code(code: u16, message: &str) -> Ended {
    let message = shown(message);
    match code {
        4000 => Ended::Fatal(format!(
            "Kick's chat service only accepts encrypted connections (Pusher error 4000: {message}). \
             Use a wss:// address for Kick's chat in the config."
        )),
        4001 => Ended::Fatal(format!(
            "Kick's chat service refused the app key (Pusher error 4001: {message}). \
             Kick may have changed it: update the Kick app key in the config."
        )),
        4002..=4099 => Ended::Fatal(format!(
            "Kick's chat service refused the connection (Pusher error {code}: {message}). \
             StreamCue will not retry; the Kick app key or cluster in the config may be out of date."
        )),
        4100..=4199 => Ended::lost(format!(
            "Kick's chat service asked StreamCue to come back later (Pusher error {code}: {message})"
        )),
        4200..=4299 => Ended::Lost {
            reason: format!(
                "Kick's chat service asked StreamCue to reconnect (Pusher code {code}: {message})"
            ),
            immediate: true,
        },
        _ if message.is_empty() => {
            Ended::lost(format!("Kick's chat closed the connection (code {code})"))
        }
        _ => Ended::lost(format!(
            "Kick's chat closed the connection (code {code}: {message})"
        )),
    }
}

fn on_close(frame: Option<tungstenite::protocol::CloseFrame>) -> Ended {
    match frame {
        Some(f) if f.code != CloseCode::Normal && f.code != CloseCode::Away => {
            on_code(u16::from(f.code), f.reason.as_str())
        }
        _ => Ended::lost("Kick's chat closed the connection"),
    }
}

/// `pusher:error`: `data` is `{"code": 4001 | null, "message": "..."}` (or that as a string).
fn on_pusher_error(data: Option<&Value>) -> Step {
    let data = decode_data(data).unwrap_or(Value::Null);
    let code = data.get("code").and_then(Value::as_u64);
    let message = data.get("message").and_then(Value::as_str).unwrap_or("");
    match code {
        Some(code @ 4000..=4299) => Step::End(on_code(code as u16, message)),
        // 4300+ (e.g. a rate limit on client events) or no code: a notice; the connection
        // stays open (if the server closes it, the close code says what to do).
        _ => {
            tracing::warn!(?code, message = %shown(message), "Kick chat error notice");
            Step::Continue
        }
    }
}

/// A Pusher frame: `{"event": "...", "data": ..., "channel": "..."}`.
#[derive(Deserialize)]
struct Envelope {
    event: String,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    channel: Option<String>,
}

/// Pusher's `data`: a JSON string holding JSON (usual), or the JSON itself.
fn decode_data(data: Option<&Value>) -> Option<Value> {
    match data? {
        Value::String(s) => serde_json::from_str(s).ok(),
        other => Some(other.clone()),
    }
}

// ---------------------------------------------------------------------------------------------
// Kick's events
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct ChatData {
    id: IdValue,
    content: String,
    sender: Sender,
}

#[derive(Deserialize)]
struct Sender {
    username: String,
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    identity: Option<Identity>,
}

#[derive(Deserialize, Default)]
struct Identity {
    #[serde(default)]
    badges: Vec<Badge>,
}

#[derive(Deserialize)]
struct Badge {
    #[serde(rename = "type")]
    kind: String,
}

/// An id Kick sends as a string (a UUID) or, in older payloads, as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdValue {
    Text(String),
    Number(u64),
}

impl IdValue {
    fn into_string(self) -> Option<String> {
        let s = match self {
            IdValue::Text(s) => s,
            IdValue::Number(n) => n.to_string(),
        };
        let s = s.trim().to_string();
        (!s.is_empty() && s.len() <= 100).then_some(s)
    }
}

/// `App\Events\ChatMessageEvent`'s data: `{"id", "chatroom_id", "content", "type",
/// "created_at", "sender": {"id", "username", "slug", "identity": {"color", "badges": [{"type",
/// "text", "count"?}]}}, "metadata"?}`.
fn chat_message(data: &str) -> Result<SourceEvent, &'static str> {
    let chat: ChatData =
        serde_json::from_str(data).map_err(|_| "a chat message of an unknown shape")?;
    let message_id = chat
        .id
        .into_string()
        .ok_or("a chat message without an id")?;
    let display_name = clean(&chat.sender.username);
    if display_name.is_empty() {
        return Err("a chat message without a sender");
    }
    let user_login = chat
        .sender
        .slug
        .as_deref()
        .map(clean)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| display_name.to_lowercase());
    let badges = chat.sender.identity.unwrap_or_default().badges;
    let is_broadcaster = badges.iter().any(|b| b.kind == "broadcaster");
    let is_moderator = is_broadcaster || badges.iter().any(|b| b.kind == "moderator");
    let (text, emotes) = parse_emotes(&chat.content);
    Ok(SourceEvent::Message(ChatMessage {
        user_login,
        display_name,
        message_id: Some(message_id),
        text: clean(&text),
        emotes,
        is_moderator,
        is_broadcaster,
    }))
}

/// `App\Events\MessageDeletedEvent`'s data: `{"id", "message": {"id"}}`.
fn message_deleted(data: &str) -> Result<SourceEvent, &'static str> {
    #[derive(Deserialize)]
    struct Deleted {
        message: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        id: IdValue,
    }
    let d: Deleted = serde_json::from_str(data).map_err(|_| "a deletion of an unknown shape")?;
    let message_id = d
        .message
        .id
        .into_string()
        .ok_or("a deletion without an id")?;
    Ok(SourceEvent::MessageDeleted { message_id })
}

/// `App\Events\UserBannedEvent`'s data: `{"id", "user": {"id", "username", "slug"},
/// "banned_by": {...}, "expires_at"?}` (timeouts carry `expires_at`; both map to a ban).
fn user_banned(data: &str) -> Result<SourceEvent, &'static str> {
    #[derive(Deserialize)]
    struct Banned {
        user: User,
    }
    #[derive(Deserialize)]
    struct User {
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        slug: Option<String>,
    }
    let b: Banned = serde_json::from_str(data).map_err(|_| "a ban of an unknown shape")?;
    let login = b
        .user
        .slug
        .as_deref()
        .map(clean)
        .filter(|s| !s.is_empty())
        .or_else(|| b.user.username.as_deref().map(|u| clean(u).to_lowercase()))
        .filter(|s| !s.is_empty())
        .ok_or("a ban without a user")?;
    Ok(SourceEvent::UserBanned { login })
}

/// Replaces Kick's inline emotes `[emote:ID:NAME]` by `NAME`; returns the text and the names
/// in order.
pub fn parse_emotes(content: &str) -> (String, Vec<String>) {
    static EMOTE: OnceLock<regex::Regex> = OnceLock::new();
    let re = EMOTE.get_or_init(|| {
        regex::Regex::new(r"\[emote:[0-9]{1,20}:([^\[\]:\s]{1,100})\]").expect("valid regex")
    });
    let mut emotes = Vec::new();
    let text = re.replace_all(content, |caps: &regex::Captures<'_>| {
        let name = caps[1].to_string();
        emotes.push(name.clone());
        name
    });
    (text.into_owned(), emotes)
}

/// Control characters (line breaks included) become spaces; the ends are trimmed.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Server text fit to show: cleaned and cut to a sane length.
fn shown(s: &str) -> String {
    let s = clean(s);
    if s.chars().count() <= MAX_SHOWN_TEXT {
        s
    } else {
        let mut cut: String = s.chars().take(MAX_SHOWN_TEXT).collect();
        cut.push('…');
        cut
    }
}

// ---------------------------------------------------------------------------------------------
// Opening the socket
// ---------------------------------------------------------------------------------------------

struct Endpoint {
    tls: bool,
    host: String,
    port: u16,
}

fn endpoint(url: &str) -> Result<Endpoint, String> {
    let uri: Uri = url
        .parse()
        .map_err(|_| format!("the Kick chat address {:?} is not a valid URL", shown(url)))?;
    let tls = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        _ => {
            return Err(format!(
                "the Kick chat address {:?} must start with wss://",
                shown(url)
            ))
        }
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("the Kick chat address {:?} has no host", shown(url)))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    Ok(Endpoint { tls, host, port })
}

/// TCP (+ TLS for `wss://`) + the WebSocket handshake. Errors are sentences for the streamer.
async fn open(url: &str) -> Result<Ws, String> {
    let ep = endpoint(url)?;
    let tcp = TcpStream::connect((ep.host.as_str(), ep.port))
        .await
        .map_err(|e| format!("could not reach Kick's chat ({})", describe_io_error(&e)))?;
    let _ = tcp.set_nodelay(true);
    let socket = if ep.tls {
        use tokio_rustls::rustls::pki_types::ServerName;
        let name = ServerName::try_from(ep.host.clone())
            .map_err(|_| format!("{:?} is not a valid host name", shown(&ep.host)))?;
        let tls = tls_connector()
            .connect(name, tcp)
            .await
            .map_err(|e| format!("could not set up a secure connection to Kick's chat ({e})"))?;
        Either::Right(tls)
    } else {
        Either::Left(tcp)
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_WS_MESSAGE))
        .max_frame_size(Some(MAX_WS_MESSAGE));
    let (ws, _response) = tokio_tungstenite::client_async_with_config(url, socket, Some(config))
        .await
        .map_err(|e| match e {
            tungstenite::Error::Http(resp) => format!(
                "Kick's chat refused the WebSocket (HTTP {})",
                resp.status().as_u16()
            ),
            other => format!("the WebSocket handshake with Kick's chat failed ({other})"),
        })?;
    Ok(ws)
}

/// rustls with the ring provider and the webpki roots (as the Twitch dialer).
fn tls_connector() -> &'static tokio_rustls::TlsConnector {
    use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
    static CONNECTOR: OnceLock<tokio_rustls::TlsConnector> = OnceLock::new();
    CONNECTOR.get_or_init(|| {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    })
}

/// A sentence for the streamer, not an errno.
fn describe_io_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "the server refused the connection".into(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
            "the server dropped the connection".into()
        }
        TimedOut => "the server did not answer".into(),
        NotFound => "its address could not be found: no network or DNS?".into(),
        _ if e.to_string().contains("lookup") || e.to_string().contains("resolve") => {
            "its address could not be found: no network or DNS?".into()
        }
        _ => e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Which chatroom
// ---------------------------------------------------------------------------------------------

/// What the streamer typed to pick a Kick chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KickTarget {
    /// A channel name (lower-cased), to look up with [`chatroom_id_for`].
    Slug(String),
    /// A chatroom id, used as is.
    ChatroomId(u64),
}

/// Accepts a channel name (`xqc`, `@xqc`), a link (`kick.com/xqc`, `https://kick.com/xqc`,
/// `https://kick.com/popout/xqc/chat`), or a chatroom id (`668`).
pub fn parse_kick_target(input: &str) -> Result<KickTarget, String> {
    let typed = input.trim();
    if typed.is_empty() {
        return Err("Type a Kick channel name, its kick.com link, or its chatroom id.".into());
    }
    if typed.bytes().all(|b| b.is_ascii_digit()) {
        return match typed.parse::<u64>() {
            Ok(id) if id > 0 => Ok(KickTarget::ChatroomId(id)),
            _ => Err(format!(
                "{:?} is not a valid Kick chatroom id.",
                shown(typed)
            )),
        };
    }
    let lower = typed.to_ascii_lowercase();
    let without_scheme = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let without_www = without_scheme
        .strip_prefix("www.")
        .unwrap_or(without_scheme);
    let slug = if let Some(path) = without_www.strip_prefix("kick.com/") {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let mut parts = path.split('/').filter(|p| !p.is_empty());
        match parts.next() {
            Some("popout") => parts.next().unwrap_or(""),
            Some(first) => first,
            None => "",
        }
        .to_string()
    } else if without_www == "kick.com" || without_www.starts_with("kick.com?") {
        String::new()
    } else if without_scheme.len() != lower.len() || without_www.contains('/') {
        return Err(format!(
            "{:?} is not a kick.com link. Type the channel name, its kick.com link, or its chatroom id.",
            shown(typed)
        ));
    } else {
        without_www.trim_start_matches('@').to_string()
    };
    if slug.is_empty() {
        return Err("That kick.com link has no channel name in it.".into());
    }
    validate_slug(&slug)?;
    Ok(KickTarget::Slug(slug))
}

/// Kick channel names: letters, digits, `_` and `-`, 1 to 25 characters.
fn validate_slug(slug: &str) -> Result<(), String> {
    let ok_chars = slug
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok_chars || slug.is_empty() || slug.len() > 25 {
        return Err(format!(
            "{:?} is not a Kick channel name (letters, digits, _ and -, at most 25 characters).",
            shown(slug)
        ));
    }
    Ok(())
}

/// Why a chatroom id lookup failed. The messages are for the streamer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KickLookupError {
    #[error("{0}")]
    InvalidName(String),
    #[error(
        "Kick has no channel called \"{slug}\". Check the spelling, or paste the chatroom id instead."
    )]
    NotFound { slug: String },
    #[error(
        "Kick blocked StreamCue's channel lookup ({why}). Paste the chatroom id instead: open \
         https://kick.com/api/v2/channels/{slug} in your web browser and copy the number after \
         \"chatroom\":{{\"id\": (the chatroom id, not the channel id)."
    )]
    Blocked { slug: String, why: String },
    #[error(
        "Could not reach kick.com to look up \"{slug}\" ({detail}). Check the network, or paste \
         the chatroom id instead."
    )]
    Network { slug: String, detail: String },
    #[error(
        "kick.com gave an answer StreamCue does not understand for \"{slug}\" ({detail}). Paste \
         the chatroom id instead: open https://kick.com/api/v2/channels/{slug} in your web \
         browser and copy the number after \"chatroom\":{{\"id\":."
    )]
    Unexpected { slug: String, detail: String },
}

/// Largest channel description StreamCue reads (they are a few tens of KB).
const MAX_LOOKUP_BODY: usize = 4 * 1024 * 1024;

/// Looks up a channel's chatroom id: `GET {api_base}/api/v2/channels/{slug}` → `chatroom.id`.
/// Kick often answers scripts with a Cloudflare block; the error then says how to paste the id.
pub async fn chatroom_id_for(slug: &str, api_base: &str) -> Result<u64, KickLookupError> {
    let slug = slug.trim().trim_start_matches('@').to_ascii_lowercase();
    validate_slug(&slug).map_err(KickLookupError::InvalidName)?;
    let url = format!(
        "{}/api/v2/channels/{slug}",
        api_base.trim().trim_end_matches('/')
    );
    let network = |detail: String| KickLookupError::Network {
        slug: slug.clone(),
        detail,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("StreamCue/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| network(e.to_string()))?;
    let mut resp = client
        .get(&url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            network(if e.is_timeout() {
                "no answer in time".into()
            } else if e.is_connect() {
                "could not connect".into()
            } else {
                e.to_string()
            })
        })?;
    let status = resp.status();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let cloudflare = !header("cf-mitigated").is_empty() || header("server").contains("cloudflare");
    let html = header("content-type").contains("text/html");
    let blocked = |why: String| KickLookupError::Blocked {
        slug: slug.clone(),
        why,
    };
    match status.as_u16() {
        200 => {}
        404 => return Err(KickLookupError::NotFound { slug }),
        403 => {
            return Err(blocked(
                "HTTP 403: its bot protection turned StreamCue away".into(),
            ))
        }
        429 => return Err(blocked("HTTP 429: too many requests".into())),
        code if cloudflare || html => {
            return Err(blocked(format!("HTTP {code} from its bot protection")))
        }
        code => {
            return Err(KickLookupError::Unexpected {
                slug,
                detail: format!("HTTP {code}"),
            })
        }
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| network(format!("the answer was cut off: {e}")))?
    {
        if body.len() + chunk.len() > MAX_LOOKUP_BODY {
            return Err(KickLookupError::Unexpected {
                slug,
                detail: "the answer is far too large".into(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    let json: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            let looks_html = html
                || body
                    .iter()
                    .find(|b| !b.is_ascii_whitespace())
                    .is_some_and(|&b| b == b'<');
            return Err(if looks_html {
                blocked("it answered with a web page, probably its bot check".into())
            } else {
                KickLookupError::Unexpected {
                    slug,
                    detail: "the answer is not JSON".into(),
                }
            });
        }
    };
    let id = json.get("chatroom").and_then(|c| c.get("id"));
    let id = match id {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    match id {
        Some(id) if id > 0 => Ok(id),
        _ => Err(KickLookupError::Unexpected {
            slug,
            detail: "it has no chatroom id".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emotes_become_their_names() {
        let (text, emotes) = parse_emotes("hi [emote:37225:KEKLEO] and [emote:1:Hi][emote:2:Hi]!");
        assert_eq!(text, "hi KEKLEO and HiHi!");
        assert_eq!(emotes, ["KEKLEO", "Hi", "Hi"]);
        // Not emotes: left as typed.
        for s in [
            "[emote:x:Y]",
            "[emote:1:]",
            "[emote:1:a b]",
            "[emote:1:Y",
            "[emote::Y]",
        ] {
            assert_eq!(parse_emotes(s), (s.to_string(), vec![]));
        }
    }

    #[test]
    fn urls_are_filled_and_checked() {
        assert_eq!(
            KickOptions::default().resolved_url().unwrap(),
            "wss://ws-us2.pusher.com/app/32cbd69e4b950bf97679?protocol=7&client=js&version=8.4.0&flash=false"
        );
        assert_eq!(
            KickOptions::pusher_url("abc123", "EU").unwrap(),
            "wss://ws-eu.pusher.com/app/abc123?protocol=7&client=js&version=8.4.0&flash=false"
        );
        assert!(KickOptions::pusher_url("abc/../x", "us2").is_err());
        assert!(KickOptions::pusher_url("abc", "us2.evil.com/").is_err());
        assert!(KickOptions::pusher_url("", "us2").is_err());
        let literal = KickOptions {
            ws_url: "ws://127.0.0.1:9/app/k?protocol=7".into(),
            ..Default::default()
        };
        assert_eq!(
            literal.resolved_url().unwrap(),
            "ws://127.0.0.1:9/app/k?protocol=7"
        );
        for bad in ["http://x/app/k", "ws://", "not a url"] {
            let o = KickOptions {
                ws_url: bad.into(),
                ..Default::default()
            };
            assert!(o.resolved_url().is_err(), "{bad}");
        }
    }

    #[test]
    fn pusher_codes_follow_the_protocol() {
        assert!(matches!(on_code(4001, "no"), Ended::Fatal(m) if m.contains("app key")));
        assert!(matches!(on_code(4009, ""), Ended::Fatal(_)));
        assert!(matches!(
            on_code(4100, ""),
            Ended::Lost {
                immediate: false,
                ..
            }
        ));
        assert!(matches!(
            on_code(4201, ""),
            Ended::Lost {
                immediate: true,
                ..
            }
        ));
        assert!(matches!(
            on_code(1006, ""),
            Ended::Lost {
                immediate: false,
                ..
            }
        ));
        assert!(matches!(
            on_pusher_error(Some(&serde_json::json!({"code": null, "message": "x"}))),
            Step::Continue
        ));
        assert!(matches!(
            on_pusher_error(Some(&Value::String(
                r#"{"code":4001,"message":"x"}"#.into()
            ))),
            Step::End(Ended::Fatal(_))
        ));
    }
}
