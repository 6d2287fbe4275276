//! A fake Kick chat (Pusher WebSocket) server, plus a fake of Kick's channel API, over real
//! sockets on 127.0.0.1, for tests.
//!
//! The WebSocket side speaks the Pusher protocol (version 7) as Kick's chat uses it:
//! the greeting `pusher:connection_established` (data double-encoded: a JSON string with
//! `socket_id` and `activity_timeout`), `pusher:subscribe` → `pusher_internal:subscription_succeeded`,
//! `pusher:ping` → `pusher:pong`, and for a wrong app key `pusher:error` 4001 followed by a close
//! with code 4001, as the real service does. The test drives everything else: chat events
//! shaped like recorded Kick payloads (`App\Events\ChatMessageEvent`, `MessageDeletedEvent`,
//! `UserBannedEvent`, all with double-encoded data), raw (even hostile) frames, errors, pings,
//! dropped connections. Everything clients send is recorded.
//!
//! The HTTP side answers `GET /api/v2/channels/{slug}` with a channel JSON modelled on Kick's
//! (`{"id", "slug", ..., "chatroom": {"id", ...}}`), 404 for unknown slugs, or, in the blocked
//! modes, what Cloudflare sends scripts (403 HTML challenge page, 429).
//!
//! Standalone (std, tokio, tokio-tungstenite, futures-util, serde_json): include it with
//! `#[path = "support/fake_pusher.rs"] mod fake_pusher;`.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// The app key the fake accepts (any other gets error 4001).
pub const APP_KEY: &str = "32cbd69e4b950bf97679";

/// One chat line to send, as Kick's `App\Events\ChatMessageEvent` carries it.
#[derive(Debug, Clone)]
pub struct KickChat {
    /// Kick uses UUIDs.
    pub id: String,
    pub user_id: u64,
    pub username: String,
    /// `None` leaves `slug` out of the payload.
    pub slug: Option<String>,
    /// With emotes inline as `[emote:ID:NAME]`.
    pub content: String,
    pub color: String,
    /// Badge `type`s: `broadcaster`, `moderator`, `vip`, `og`, `subscriber`, `founder`...
    pub badges: Vec<String>,
    /// `message` or `reply`.
    pub kind: String,
}

impl KickChat {
    pub fn new(username: &str, content: &str) -> KickChat {
        let seed = stable_hash(username) ^ stable_hash(content).rotate_left(17);
        KickChat {
            id: uuid_like(seed),
            user_id: 1_000_000 + seed % 100_000_000,
            username: username.to_string(),
            slug: Some(username.to_ascii_lowercase().replace('_', "-")),
            content: content.to_string(),
            color: "#1475E1".into(),
            badges: Vec::new(),
            kind: "message".into(),
        }
    }

    pub fn id(mut self, id: &str) -> KickChat {
        self.id = id.to_string();
        self
    }

    pub fn slug(mut self, slug: Option<&str>) -> KickChat {
        self.slug = slug.map(str::to_string);
        self
    }

    pub fn badge(mut self, kind: &str) -> KickChat {
        self.badges.push(kind.to_string());
        self
    }

    pub fn reply(mut self) -> KickChat {
        self.kind = "reply".into();
        self
    }

    /// The inner event data (what Kick double-encodes into `data`).
    pub fn data(&self, chatroom: u64) -> Value {
        let badges: Vec<Value> = self
            .badges
            .iter()
            .map(|kind| {
                let mut b = json!({ "type": kind, "text": badge_text(kind) });
                if kind == "subscriber" {
                    b["count"] = json!(3);
                }
                b
            })
            .collect();
        let mut sender = json!({
            "id": self.user_id,
            "username": self.username,
            "identity": { "color": self.color, "badges": badges },
        });
        if let Some(slug) = &self.slug {
            sender["slug"] = json!(slug);
        }
        let mut data = json!({
            "id": self.id,
            "chatroom_id": chatroom,
            "content": self.content,
            "type": self.kind,
            "created_at": "2025-07-19T03:47:45+00:00",
            "sender": sender,
            "metadata": { "message_ref": "1752896864929" },
        });
        if self.kind == "reply" {
            data["metadata"]["original_sender"] = json!({ "id": 2853400, "username": "someone" });
            data["metadata"]["original_message"] =
                json!({ "id": uuid_like(7), "content": "earlier [emote:37225:KEKLEO]" });
        }
        data
    }
}

fn badge_text(kind: &str) -> String {
    match kind {
        "vip" => "VIP".into(),
        "og" => "OG".into(),
        other => {
            let mut c = other.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        }
    }
}

/// A Pusher event frame with `data` double-encoded (a JSON string), as Kick sends them.
pub fn event_frame(event: &str, channel: Option<&str>, data: &Value) -> String {
    let mut frame = json!({ "event": event, "data": data.to_string() });
    if let Some(channel) = channel {
        frame["channel"] = json!(channel);
    }
    frame.to_string()
}

pub fn chatroom_channel(chatroom: u64) -> String {
    format!("chatrooms.{chatroom}.v2")
}

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
    api_mode: ApiMode,
    api_requests: Vec<String>,
    tasks: Vec<AbortHandle>,
}

struct Shared {
    state: Mutex<State>,
    version: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// The fake. Dropping it closes both ports and every connection.
pub struct FakePusher {
    ws_addr: SocketAddr,
    api_addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Vec<JoinHandle<()>>,
}

impl FakePusher {
    /// Listens on two random ports of 127.0.0.1 (WebSocket and HTTP API).
    pub async fn start() -> std::io::Result<FakePusher> {
        let ws = TcpListener::bind(("127.0.0.1", 0)).await?;
        let api = TcpListener::bind(("127.0.0.1", 0)).await?;
        let (ws_addr, api_addr) = (ws.local_addr()?, api.local_addr()?);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
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
                api_mode: ApiMode::Normal,
                api_requests: Vec::new(),
                tasks: Vec::new(),
            }),
            version: watch::channel(0).0,
        });
        let accept = vec![
            tokio::spawn(ws_accept_loop(ws, shared.clone())),
            tokio::spawn(api_accept_loop(api, shared.clone())),
        ];
        Ok(FakePusher {
            ws_addr,
            api_addr,
            shared,
            accept,
        })
    }

    /// `ws://127.0.0.1:PORT/app/{APP_KEY}?protocol=7&client=js&version=8.4.0&flash=false`.
    pub fn ws_url(&self) -> String {
        self.ws_url_with_key(APP_KEY)
    }

    pub fn ws_url_with_key(&self, key: &str) -> String {
        format!(
            "ws://{}/app/{key}?protocol=7&client=js&version=8.4.0&flash=false",
            self.ws_addr
        )
    }

    /// `http://127.0.0.1:PORT`, the form `KickOptions::api_base` takes.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.api_addr)
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

    /// A moderator deleted message `message_id`.
    pub fn send_message_deleted(&self, chatroom: u64, message_id: &str) -> usize {
        let channel = chatroom_channel(chatroom);
        let data = json!({
            "id": uuid_like(stable_hash(message_id)),
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
            "id": uuid_like(stable_hash(username)),
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
        let mut rx = self.shared.version.subscribe();
        let wait = async {
            loop {
                rx.borrow_and_update();
                if pred(self) {
                    return;
                }
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
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
        for task in &self.accept {
            task.abort();
        }
        let mut st = self.shared.lock();
        for task in st.tasks.drain(..) {
            task.abort();
        }
        st.conns.clear();
    }
}

// --- WebSocket side ---------------------------------------------------------------------------

async fn ws_accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let task = tokio::spawn(run_ws(shared.clone(), stream));
        let mut st = shared.lock();
        st.tasks.retain(|t| !t.is_finished());
        st.tasks.push(task.abort_handle());
    }
}

async fn run_ws(shared: Arc<Shared>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let path = Arc::new(Mutex::new(String::new()));
    let seen = path.clone();
    // The callback's type is fixed by tungstenite (its error is an HTTP response).
    #[allow(clippy::result_large_err)]
    let callback = move |req: &Request, resp: Response| {
        *seen.lock().unwrap() = req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default();
        Ok(resp)
    };
    let Ok(Ok(mut ws)) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::accept_hdr_async(stream, callback),
    )
    .await
    else {
        return;
    };
    let path = path.lock().unwrap().clone();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (id, key_ok, activity_timeout) = {
        let mut st = shared.lock();
        let id = st.next_id;
        st.next_id += 1;
        st.connections_total += 1;
        st.paths.push(path.clone());
        let key = path
            .strip_prefix("/app/")
            .and_then(|rest| rest.split(['?', '/']).next())
            .unwrap_or("");
        let key_ok = key == st.app_key;
        st.conns.insert(
            id,
            Conn {
                tx,
                channels: HashSet::new(),
            },
        );
        (id, key_ok, st.activity_timeout)
    };
    shared.bump();

    if !key_ok {
        // What Pusher does with an unknown app key: an error event, then a close with the code.
        let error = json!({
            "event": "pusher:error",
            "data": {
                "code": 4001,
                "message": "App key not in this cluster. Did you forget to specify the cluster?",
            },
        });
        let _ = ws.send(Message::text(error.to_string())).await;
        let _ = ws
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::from(4001),
                reason: "App key not in this cluster".into(),
            })))
            .await;
        linger(&mut ws).await;
        finish(&shared, id);
        return;
    }

    let greeting = event_frame(
        "pusher:connection_established",
        None,
        &json!({ "socket_id": format!("{}.{}", 100_000 + id, 7_000_000 + id), "activity_timeout": activity_timeout }),
    );
    if ws.send(Message::text(greeting)).await.is_err() {
        finish(&shared, id);
        return;
    }

    loop {
        tokio::select! {
            incoming = ws.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let replies = handle_client_text(&shared, id, &text);
                shared.bump();
                let mut failed = false;
                for reply in replies {
                    if ws.send(Message::text(reply)).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                if failed {
                    break;
                }
            }
            out = rx.recv() => match out {
                Some(Out::Frame(msg)) => {
                    if ws.send(msg).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close(code, reason)) => {
                    let _ = ws
                        .send(Message::Close(Some(CloseFrame {
                            code: CloseCode::from(code),
                            reason: reason.into(),
                        })))
                        .await;
                    linger(&mut ws).await;
                    break;
                }
                Some(Out::Drop) | None => break,
            },
        }
    }
    drop(ws);
    finish(&shared, id);
}

/// After our close frame: reads until the peer answers or hangs up (bounded).
async fn linger<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

fn finish(shared: &Shared, id: u64) {
    {
        let mut st = shared.lock();
        st.conns.remove(&id);
        st.closed += 1;
    }
    shared.bump();
}

/// One text frame from a client; returns the replies.
fn handle_client_text(shared: &Shared, id: u64, text: &str) -> Vec<String> {
    let mut st = shared.lock();
    st.received.push((id, text.to_string()));
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    match frame.get("event").and_then(Value::as_str).unwrap_or("") {
        "pusher:subscribe" => {
            // Pusher accepts `data` as an object (what clients send) or a JSON string.
            let data = match frame.get("data") {
                Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
                Some(v) => v.clone(),
                None => Value::Null,
            };
            let Some(channel) = data.get("channel").and_then(Value::as_str) else {
                return vec![json!({
                    "event": "pusher:error",
                    "data": { "code": null, "message": "No channel given" },
                })
                .to_string()];
            };
            let channel = channel.to_string();
            st.subscriptions.push((id, channel.clone()));
            if let Some(conn) = st.conns.get_mut(&id) {
                conn.channels.insert(channel.clone());
            }
            if st.confirm_subscriptions {
                vec![json!({
                    "event": "pusher_internal:subscription_succeeded",
                    "data": "{}",
                    "channel": channel,
                })
                .to_string()]
            } else {
                Vec::new()
            }
        }
        "pusher:unsubscribe" => {
            let channel = frame
                .pointer("/data/channel")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Some(conn) = st.conns.get_mut(&id) {
                conn.channels.remove(&channel);
            }
            Vec::new()
        }
        "pusher:ping" => {
            st.pings_received += 1;
            if st.answer_pings {
                vec![r#"{"event":"pusher:pong","data":"{}"}"#.to_string()]
            } else {
                Vec::new()
            }
        }
        "pusher:pong" => {
            st.pongs_received += 1;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

// --- HTTP channel API -------------------------------------------------------------------------

async fn api_accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let task = tokio::spawn(serve_api(shared.clone(), stream));
        let mut st = shared.lock();
        st.tasks.retain(|t| !t.is_finished());
        st.tasks.push(task.abort_handle());
    }
}

/// One request per connection (`Connection: close`).
async fn serve_api(shared: Arc<Shared>, mut stream: TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await;
        let n = match read {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(n)) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > 16 * 1024 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut parts = head.lines().next().unwrap_or("").split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, content_type, extra, body) = {
        let mut st = shared.lock();
        st.api_requests.push(path.to_string());
        api_answer(&st, method, path)
    };
    shared.bump();
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn api_answer(
    st: &State,
    method: &str,
    path: &str,
) -> (&'static str, &'static str, String, String) {
    const JSON: &str = "application/json";
    const HTML: &str = "text/html; charset=UTF-8";
    let cloudflare = "Server: cloudflare\r\nCF-RAY: 8f1c2d3e4a5b6c7d-AMS\r\n".to_string();
    match st.api_mode {
        ApiMode::Blocked => {
            return (
                "403 Forbidden",
                HTML,
                format!("{cloudflare}cf-mitigated: challenge\r\n"),
                CHALLENGE_PAGE.to_string(),
            )
        }
        ApiMode::RateLimited => {
            return (
                "429 Too Many Requests",
                HTML,
                format!("{cloudflare}Retry-After: 60\r\n"),
                "<html><body>Too Many Requests</body></html>".to_string(),
            )
        }
        ApiMode::HtmlPage => return ("200 OK", HTML, cloudflare, CHALLENGE_PAGE.to_string()),
        ApiMode::Normal => {}
    }
    if method != "GET" {
        return ("405 Method Not Allowed", JSON, String::new(), "{}".into());
    }
    let Some(slug) = path
        .split('?')
        .next()
        .and_then(|p| p.strip_prefix("/api/v2/channels/"))
        .filter(|s| !s.is_empty() && !s.contains('/'))
    else {
        return (
            "404 Not Found",
            JSON,
            String::new(),
            r#"{"message":"Not found"}"#.into(),
        );
    };
    let Some(&chatroom_id) = st.api_channels.get(&slug.to_ascii_lowercase()) else {
        return (
            "404 Not Found",
            JSON,
            String::new(),
            r#"{"message":"Channel not found"}"#.into(),
        );
    };
    let channel_id = chatroom_id + 2;
    let body = json!({
        "id": channel_id,
        "user_id": channel_id + 50,
        "slug": slug,
        "is_banned": false,
        "playback_url": "https://example.invalid/playback.m3u8",
        "vod_enabled": true,
        "subscription_enabled": true,
        "can_host": true,
        "chatroom": {
            "id": chatroom_id,
            "chatable_type": "App\\Models\\Channel",
            "channel_id": channel_id,
            "created_at": "2022-12-07T04:42:13.000000Z",
            "updated_at": "2025-02-01T03:27:53.000000Z",
            "chat_mode_old": "public",
            "chat_mode": "public",
            "slow_mode": false,
            "chatable_id": channel_id,
            "followers_mode": false,
            "subscribers_mode": false,
            "emotes_mode": false,
            "message_interval": 0,
            "following_min_duration": 0
        },
        "user": { "id": channel_id + 50, "username": slug, "bio": null },
        "livestream": null,
    });
    ("200 OK", JSON, String::new(), body.to_string())
}

const CHALLENGE_PAGE: &str = "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>\
<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"></head><body>\
<div class=\"main-wrapper\" role=\"main\"><div class=\"main-content\"><noscript>Enable JavaScript and \
cookies to continue</noscript></div></div></body></html>";

// --- helpers ----------------------------------------------------------------------------------

fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A UUID-looking id, deterministic in `seed`.
pub fn uuid_like(seed: u64) -> String {
    let a = splitmix64(seed);
    let b = splitmix64(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}
