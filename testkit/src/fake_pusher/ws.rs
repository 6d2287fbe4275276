//! The WebSocket side: the Pusher protocol (version 7) as Kick's chat speaks it, one task per
//! connection (started by the kit's accept loop, see [`super::FakePusher::start`]).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::{event_frame, Conn, Out, Shared};

/// One WebSocket connection, from the handshake (bounded: 5 s) to its end.
pub(super) async fn run(shared: Arc<Shared>, stream: TcpStream) {
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
