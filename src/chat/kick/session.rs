//! The Kick chat session: a spawned task that connects, greets, subscribes and reads one
//! chatroom's Pusher channel, reconnecting as the Pusher protocol says, and hands what happened
//! to [`KickSession::next`] through a bounded channel.
//!
//! Invariants: [`KickSession::next`] is cancel-safe and returns nothing after `Failed`;
//! dropping the session aborts the task (and so closes the socket); every wait (connect,
//! greeting, subscription, our ping's answer, a send) is bounded; a frame that cannot be used
//! is skipped and counted, never fatal, except one too large to skip in place (the connection
//! is opened again); the backoff restarts once a subscription is confirmed. Pusher close and
//! error codes: 4000–4099 stop for good, 4100–4199 reconnect after a backoff, 4200–4299 at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use super::transport::{describe_io_error, open, Ws};
use super::wire::{
    decode_data, kick_event, shown, Envelope, Malformed, BANNED_EVENT, CHAT_EVENT, DELETED_EVENT,
    GIFTS_EVENT, PING, PONG, SUB_EVENT,
};
use super::{KickOptions, MAX_TEXT_FRAME};
use crate::api::ChatFailure;
use crate::chat::SourceEvent;
use crate::clock::now_ms;

/// Pusher's own default (and maximum) activity timeout, in seconds.
const MAX_ACTIVITY_TIMEOUT_S: u64 = 120;
/// Events waiting for the `ChatClient`; when it falls behind, reading the socket waits too.
const EVENT_BUFFER: usize = 1024;

/// Counters shared between the session and its connection task.
#[derive(Debug, Default)]
struct Stats {
    malformed: AtomicU64,
    connections: AtomicU64,
}

/// One chatroom's chat, read-only; see the module docs.
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
            Ok(Err(e)) => return Ended::lost(e.to_string()),
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
                            self.malformed(Malformed::Binary);
                            continue;
                        }
                        Message::Close(frame) => return on_close(frame),
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                    }
                }
            };
            if text.len() > MAX_TEXT_FRAME {
                self.malformed(Malformed::Oversized);
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

    fn malformed(&self, what: Malformed) {
        let total = self.stats.malformed.fetch_add(1, Ordering::Relaxed) + 1;
        static THROTTLE: crate::logging::Throttle = crate::logging::Throttle::new();
        if let Some(also) = THROTTLE.allow() {
            tracing::warn!(
                what = %what,
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
                self.malformed(Malformed::NotUtf8);
                None
            }
            // Only the frame's header was read: the stream cannot be trusted any more.
            E::Capacity(_) => {
                self.malformed(Malformed::TooLarge);
                Some(Ended::lost("Kick's chat sent a frame too large to read"))
            }
            E::ConnectionClosed | E::AlreadyClosed => {
                Some(Ended::lost("Kick's chat closed the connection"))
            }
            E::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                Some(Ended::lost("Kick's chat dropped the connection"))
            }
            E::Protocol(p) => {
                self.malformed(Malformed::Protocol);
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
    fn on_text(&self, text: &str, phase: Phase) -> Result<Step, Malformed> {
        let env = Envelope::parse(text)?;
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
            CHAT_EVENT | DELETED_EVENT | BANNED_EVENT | SUB_EVENT | GIFTS_EVENT
                if phase == Phase::Joined && for_us =>
            {
                Ok(Step::Emit(kick_event(&env.event, env.data)?))
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

#[cfg(test)]
mod tests {
    use super::*;

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
