//! A fake Kick chat (Pusher WebSocket) server, plus a fake of Kick's channel API, over real
//! sockets on 127.0.0.1, for tests.
//!
//! The WebSocket side ([`ws`](self)) speaks the Pusher protocol (version 7) as Kick's chat uses
//! it: the greeting `pusher:connection_established` (data double-encoded: a JSON string with
//! `socket_id` and `activity_timeout`), `pusher:subscribe` →
//! `pusher_internal:subscription_succeeded`, `pusher:ping` → `pusher:pong`, and for a wrong app
//! key `pusher:error` 4001 followed by a close with code 4001, as the real service does. The
//! test drives everything else: chat events shaped like recorded Kick payloads ([`KickChat`],
//! `MessageDeletedEvent`, `UserBannedEvent`, all with double-encoded data), raw (even hostile)
//! frames, errors, pings, dropped connections. Everything clients send is recorded.
//!
//! The HTTP side answers `GET /api/v2/channels/{slug}` with a channel JSON modelled on Kick's
//! (`{"id", "slug", ..., "chatroom": {"id", ...}}`), 404 for unknown slugs, or, in the blocked
//! modes ([`ApiMode`]), what Cloudflare sends scripts (403 HTML challenge page, 429).
//!
//! The WebSocket port is raw TCP handed to tokio-tungstenite by the kit's accept loop
//! ([`crate::serve::Loopback`]); the API port is hyper ([`crate::serve::serve_http`]). Every
//! change to what was recorded wakes [`FakePusher::wait_until`].

mod api;
mod kick;
mod ws;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub use kick::{chatroom_channel, event_frame, KickChat};

use crate::ids::fnv1a;
pub use crate::ids::uuid_like;
use crate::serve::{serve_http, Loopback};
use crate::watched::Watched;

/// The app key the fake accepts (any other gets error 4001).
pub const APP_KEY: &str = "32cbd69e4b950bf97679";

/// How the channel API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiMode {
    Normal,
    /// 403 with Cloudflare's challenge page (what scripts usually get).
    Blocked,
    /// 429 Too Many Requests.
    RateLimited,
    /// 200 with an HTML page instead of JSON.
    HtmlPage,
}

enum Out {
    Frame(Message),
    /// Close frame with this code and reason, then hang up.
    Close(u16, String),
    /// Hang up at once, without a close frame.
    Drop,
}

struct Conn {
    tx: mpsc::UnboundedSender<Out>,
    channels: HashSet<String>,
}

struct State {
    conns: HashMap<u64, Conn>,
    next_id: u64,
    connections_total: usize,
    /// Request path (with query) of every WebSocket handshake.
    paths: Vec<String>,
    /// (connection, channel) of every subscription confirmed.
    subscriptions: Vec<(u64, String)>,
    /// (connection, text) of every text frame received.
    received: Vec<(u64, String)>,
    pings_received: usize,
    pongs_received: usize,
    closed: usize,
    activity_timeout: u64,
    answer_pings: bool,
    confirm_subscriptions: bool,
    app_key: String,
    api_channels: HashMap<String, u64>,
    /// Live channels' viewer counts (`livestream.viewer_count`); absent = offline.
    api_viewers: HashMap<String, u32>,
    api_mode: ApiMode,
    api_requests: Vec<String>,
}

/// The state, shared by the connection tasks and the test.
type Shared = Watched<State>;

/// The fake. Dropping it closes both ports and every connection.
pub struct FakePusher {
    ws: Loopback,
    api: Loopback,
    shared: Arc<Shared>,
}

impl FakePusher {
    /// Listens on two random ports of 127.0.0.1 (WebSocket and HTTP API).
    pub async fn start() -> std::io::Result<FakePusher> {
        let shared = Arc::new(Shared::new(State {
            conns: HashMap::new(),
            next_id: 1,
            connections_total: 0,
            paths: Vec::new(),
            subscriptions: Vec::new(),
            received: Vec::new(),
            pings_received: 0,
            pongs_received: 0,
            closed: 0,
            activity_timeout: 120,
            answer_pings: true,
            confirm_subscriptions: true,
            app_key: APP_KEY.to_string(),
            api_channels: HashMap::new(),
            api_viewers: HashMap::new(),
            api_mode: ApiMode::Normal,
            api_requests: Vec::new(),
        }));
        let sh = shared.clone();
        let ws = Loopback::bind(move |stream, _| Some(ws::run(sh.clone(), stream))).await?;
        let sh = shared.clone();
        let api = serve_http(move |req| api::answer(sh.clone(), req)).await?;
        Ok(FakePusher { ws, api, shared })
    }

    /// `ws://127.0.0.1:PORT/app/{APP_KEY}?protocol=7&client=js&version=8.4.0&flash=false`.
    pub fn ws_url(&self) -> String {
        self.ws_url_with_key(APP_KEY)
    }

    pub fn ws_url_with_key(&self, key: &str) -> String {
        format!(
            "ws://{}/app/{key}?protocol=7&client=js&version=8.4.0&flash=false",
            self.ws.addr()
        )
    }

    /// `http://127.0.0.1:PORT`, the form `KickOptions::api_base` takes.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.api.addr())
    }

    // --- settings -------------------------------------------------------------------------

    /// The `activity_timeout` (seconds) announced to new connections.
    pub fn set_activity_timeout(&self, secs: u64) {
        self.shared.lock().activity_timeout = secs;
    }

    /// Whether client `pusher:ping`s get a `pusher:pong`.
    pub fn set_answer_pings(&self, on: bool) {
        self.shared.lock().answer_pings = on;
    }

    /// Whether subscriptions are confirmed (else they are recorded and left unanswered).
    pub fn set_confirm_subscriptions(&self, on: bool) {
        self.shared.lock().confirm_subscriptions = on;
    }

    /// A channel the API knows: `slug` → chatroom id.
    pub fn add_channel(&self, slug: &str, chatroom_id: u64) {
        self.shared
            .lock()
            .api_channels
            .insert(slug.to_ascii_lowercase(), chatroom_id);
    }

    pub fn set_api_mode(&self, mode: ApiMode) {
        self.shared.lock().api_mode = mode;
    }

    // --- sending --------------------------------------------------------------------------

    /// Sends a text frame to every connection subscribed to `channel`; returns how many.
    pub fn send_to_channel(&self, channel: &str, text: &str) -> usize {
        let st = self.shared.lock();
        st.conns
            .values()
            .filter(|c| c.channels.contains(channel))
            .filter(|c| c.tx.send(Out::Frame(Message::text(text))).is_ok())
            .count()
    }

    /// A chat message to the subscribers of chatroom `chatroom`; returns how many got it.
    pub fn send_chat(&self, chatroom: u64, msg: KickChat) -> usize {
        let channel = chatroom_channel(chatroom);
        let frame = event_frame(
            "App\\Events\\ChatMessageEvent",
            Some(&channel),
            &msg.data(chatroom),
        );
        self.send_to_channel(&channel, &frame)
    }

    /// Channel `slug` is live with `viewers` viewers (`None`: offline) in the channel API.
    pub fn set_viewers(&self, slug: &str, viewers: Option<u32>) {
        let mut st = self.shared.lock();
        let slug = slug.to_ascii_lowercase();
        match viewers {
            Some(n) => st.api_viewers.insert(slug, n),
            None => st.api_viewers.remove(&slug),
        };
    }

    /// A viewer (re)subscribed (`App\Events\SubscriptionEvent`).
    pub fn send_subscription(&self, chatroom: u64, username: &str, months: u32) -> usize {
        let channel = chatroom_channel(chatroom);
        let data = json!({ "chatroom_id": chatroom, "username": username, "months": months });
        self.send_to_channel(
            &channel,
            &event_frame("App\\Events\\SubscriptionEvent", Some(&channel), &data),
        )
    }

    /// `gifter` gifted a sub to each of `recipients` (`App\Events\GiftedSubscriptionsEvent`).
    pub fn send_gifted_subscriptions(
        &self,
        chatroom: u64,
        gifter: &str,
        recipients: &[&str],
    ) -> usize {
        let channel = chatroom_channel(chatroom);
        let data = json!({
            "chatroom_id": chatroom,
            "gifted_usernames": recipients,
            "gifter_username": gifter,
        });
        self.send_to_channel(
            &channel,
            &event_frame(
                "App\\Events\\GiftedSubscriptionsEvent",
                Some(&channel),
                &data,
            ),
        )
    }

    /// A moderator deleted message `message_id`.
    pub fn send_message_deleted(&self, chatroom: u64, message_id: &str) -> usize {
        let channel = chatroom_channel(chatroom);
        let data = json!({
            "id": uuid_like(fnv1a(message_id, 0)),
            "message": { "id": message_id },
            "aiModerated": false,
            "violatedRules": [],
        });
        self.send_to_channel(
            &channel,
            &event_frame("App\\Events\\MessageDeletedEvent", Some(&channel), &data),
        )
    }

    /// A moderator banned (or, with `expires_at`, timed out) a viewer.
    pub fn send_user_banned(
        &self,
        chatroom: u64,
        username: &str,
        slug: Option<&str>,
        expires_at: Option<&str>,
    ) -> usize {
        let channel = chatroom_channel(chatroom);
        let mut user = json!({ "id": 25556531, "username": username });
        if let Some(slug) = slug {
            user["slug"] = json!(slug);
        }
        let mut data = json!({
            "id": uuid_like(fnv1a(username, 0)),
            "user": user,
            "banned_by": { "id": 0, "username": "covid1942", "slug": "covid1942" },
            "permanent": expires_at.is_none(),
        });
        if let Some(at) = expires_at {
            data["expires_at"] = json!(at);
            data["duration"] = json!(5);
        }
        self.send_to_channel(
            &channel,
            &event_frame("App\\Events\\UserBannedEvent", Some(&channel), &data),
        )
    }

    /// A text frame exactly as given to every open connection.
    pub fn send_raw(&self, text: &str) -> usize {
        self.send_frame(Message::text(text))
    }

    /// A binary frame to every open connection.
    pub fn send_binary(&self, bytes: &[u8]) -> usize {
        self.send_frame(Message::binary(bytes.to_vec()))
    }

    /// Any WebSocket message to every open connection.
    pub fn send_frame(&self, msg: Message) -> usize {
        let st = self.shared.lock();
        st.conns
            .values()
            .filter(|c| c.tx.send(Out::Frame(msg.clone())).is_ok())
            .count()
    }

    /// `pusher:ping` to every open connection.
    pub fn ping_all(&self) -> usize {
        self.send_raw(r#"{"event":"pusher:ping","data":"{}"}"#)
    }

    /// `pusher:error` with `code` to every open connection (the connection stays open, as
    /// Pusher does for notices; use [`FakePusher::close_all`] to close with a code).
    pub fn send_error(&self, code: u16, message: &str) -> usize {
        let frame = json!({
            "event": "pusher:error",
            "data": { "code": code, "message": message },
        });
        self.send_raw(&frame.to_string())
    }

    /// Closes every open connection with a close frame carrying `code`.
    pub fn close_all(&self, code: u16, reason: &str) -> usize {
        let st = self.shared.lock();
        st.conns
            .values()
            .filter(|c| c.tx.send(Out::Close(code, reason.to_string())).is_ok())
            .count()
    }

    /// Cuts every open connection (no close frame), like a network failure.
    pub fn drop_all(&self) -> usize {
        let st = self.shared.lock();
        st.conns
            .values()
            .filter(|c| c.tx.send(Out::Drop).is_ok())
            .count()
    }

    // --- what happened --------------------------------------------------------------------

    /// WebSocket connections accepted so far.
    pub fn connections_total(&self) -> usize {
        self.shared.lock().connections_total
    }

    pub fn connections_open(&self) -> usize {
        self.shared.lock().conns.len()
    }

    /// WebSocket connections that have ended (closed by either side).
    pub fn connections_closed(&self) -> usize {
        self.shared.lock().closed
    }

    /// Handshake request paths (with query), in order.
    pub fn paths(&self) -> Vec<String> {
        self.shared.lock().paths.clone()
    }

    /// Channels subscribed (and confirmed or not), in order, over all connections.
    pub fn subscriptions(&self) -> Vec<String> {
        self.shared
            .lock()
            .subscriptions
            .iter()
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// (connection id, channel) of every subscription.
    pub fn subscriptions_by_conn(&self) -> Vec<(u64, String)> {
        self.shared.lock().subscriptions.clone()
    }

    /// Every text frame clients sent, in order.
    pub fn received(&self) -> Vec<String> {
        self.shared
            .lock()
            .received
            .iter()
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// `pusher:ping`s clients sent.
    pub fn pings_received(&self) -> usize {
        self.shared.lock().pings_received
    }

    /// `pusher:pong`s clients sent.
    pub fn pongs_received(&self) -> usize {
        self.shared.lock().pongs_received
    }

    /// Channel API requests (paths), in order.
    pub fn api_requests(&self) -> Vec<String> {
        self.shared.lock().api_requests.clone()
    }

    /// Waits until `pred` holds (checked now and after every change); `false` on timeout.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&FakePusher) -> bool,
    ) -> bool {
        self.shared.wait(timeout, || pred(self)).await
    }

    /// Waits until at least `n` subscriptions were made in total.
    pub async fn wait_subscriptions(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |f| f.subscriptions().len() >= n)
            .await
    }

    pub async fn wait_connections(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |f| f.connections_total() >= n)
            .await
    }

    /// Waits until exactly `n` connections are open.
    pub async fn wait_open(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |f| f.connections_open() == n)
            .await
    }
}

impl Drop for FakePusher {
    fn drop(&mut self) {
        // Both listeners and every connection task stop with `self.ws` and `self.api`.
        self.shared.lock().conns.clear();
    }
}
