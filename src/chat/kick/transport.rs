//! Reaching Kick's chat: the Pusher address (filled in and checked), then TCP, TLS for
//! `wss://` and the WebSocket handshake.
//!
//! Invariants: the app key and cluster put into the address are letters, digits (and `-` for
//! the cluster) only, so the config cannot redirect the socket elsewhere; only `wss://` (TLS,
//! the shared chat set-up of `chat::tls`) and `ws://` (tests, development) are dialled; the
//! WebSocket layer refuses messages and frames larger than [`MAX_WS_MESSAGE`]. Every error
//! text is a sentence for the streamer.

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self};
use tokio_tungstenite::WebSocketStream;
use tokio_util::either::Either;

use super::wire::shown;
use super::{DEFAULT_APP_KEY, DEFAULT_CLUSTER, MAX_WS_MESSAGE};
use crate::chat::tls::{self, ChatStream};

/// An open WebSocket to Kick's chat.
pub(super) type Ws = WebSocketStream<ChatStream>;

/// Why the Kick chat address is not usable (a config problem: retrying cannot help).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KickUrlError {
    #[error(
        "the Kick app key {key:?} is not valid (it is letters and digits, like {DEFAULT_APP_KEY})"
    )]
    AppKey { key: String },
    #[error("the Kick cluster {cluster:?} is not valid (it is like {DEFAULT_CLUSTER})")]
    Cluster { cluster: String },
    #[error("the Kick chat address {url:?} is not a valid URL")]
    NotAUrl { url: String },
    #[error("the Kick chat address {url:?} must start with wss://")]
    NotWebSocket { url: String },
    #[error("the Kick chat address {url:?} has no host")]
    NoHost { url: String },
}

/// Why a connection could not be opened (worth another try, after a backoff).
#[derive(Debug, thiserror::Error)]
pub(super) enum OpenError {
    #[error(transparent)]
    Address(#[from] KickUrlError),
    #[error("could not reach Kick's chat ({})", describe_io_error(.0))]
    Unreachable(std::io::Error),
    #[error("{host:?} is not a valid host name")]
    HostName { host: String },
    #[error("could not set up a secure connection to Kick's chat ({0})")]
    Tls(std::io::Error),
    #[error("Kick's chat refused the WebSocket (HTTP {status})")]
    Refused { status: u16 },
    #[error("the WebSocket handshake with Kick's chat failed ({0})")]
    Handshake(tungstenite::Error),
}

/// `template` with `{key}` and `{cluster}` filled in (each checked), then checked as a whole.
pub(super) fn fill_url(
    template: &str,
    app_key: &str,
    cluster: &str,
) -> Result<String, KickUrlError> {
    let mut url = template.trim().to_string();
    if url.contains("{key}") {
        let key = app_key.trim();
        if key.is_empty() || key.len() > 64 || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(KickUrlError::AppKey { key: shown(key) });
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
            return Err(KickUrlError::Cluster {
                cluster: shown(cluster),
            });
        }
        url = url.replace("{cluster}", &cluster.to_ascii_lowercase());
    }
    endpoint(&url)?;
    Ok(url)
}

struct Endpoint {
    tls: bool,
    host: String,
    port: u16,
}

fn endpoint(url: &str) -> Result<Endpoint, KickUrlError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| KickUrlError::NotAUrl { url: shown(url) })?;
    let tls = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        _ => return Err(KickUrlError::NotWebSocket { url: shown(url) }),
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| KickUrlError::NoHost { url: shown(url) })?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    Ok(Endpoint { tls, host, port })
}

/// TCP (+ TLS for `wss://`) + the WebSocket handshake.
pub(super) async fn open(url: &str) -> Result<Ws, OpenError> {
    let ep = endpoint(url)?;
    let tcp = TcpStream::connect((ep.host.as_str(), ep.port))
        .await
        .map_err(OpenError::Unreachable)?;
    let _ = tcp.set_nodelay(true);
    let socket = if ep.tls {
        use tokio_rustls::rustls::pki_types::ServerName;
        let name = ServerName::try_from(ep.host.clone()).map_err(|_| OpenError::HostName {
            host: shown(&ep.host),
        })?;
        let tls = tls::connector()
            .connect(name, tcp)
            .await
            .map_err(OpenError::Tls)?;
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
            tungstenite::Error::Http(resp) => OpenError::Refused {
                status: resp.status().as_u16(),
            },
            other => OpenError::Handshake(other),
        })?;
    Ok(ws)
}

/// A sentence for the streamer, not an errno.
pub(super) fn describe_io_error(e: &std::io::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::kick::KickOptions;

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
    fn address_errors_read_as_before() {
        assert_eq!(
            KickOptions::pusher_url("a b", "us2")
                .unwrap_err()
                .to_string(),
            "the Kick app key \"a b\" is not valid (it is letters and digits, like \
             32cbd69e4b950bf97679)"
        );
        assert_eq!(
            KickOptions::pusher_url("abc", "us2.evil.com/")
                .unwrap_err()
                .to_string(),
            "the Kick cluster \"us2.evil.com/\" is not valid (it is like us2)"
        );
        let at = |url: &str| {
            KickOptions {
                ws_url: url.into(),
                ..Default::default()
            }
            .resolved_url()
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            at("http://x/app/k"),
            "the Kick chat address \"http://x/app/k\" must start with wss://"
        );
        assert_eq!(
            at("not a url"),
            "the Kick chat address \"not a url\" is not a valid URL"
        );
        let refused = OpenError::Refused { status: 403 };
        assert_eq!(
            refused.to_string(),
            "Kick's chat refused the WebSocket (HTTP 403)"
        );
        let unreachable = OpenError::Unreachable(std::io::ErrorKind::ConnectionRefused.into());
        assert_eq!(
            unreachable.to_string(),
            "could not reach Kick's chat (the server refused the connection)"
        );
    }
}
