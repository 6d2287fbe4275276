//! A fake Twitch IRC server over real TCP on 127.0.0.1, for tests and benchmarks.
//!
//! It speaks enough of the real protocol for twitch-irc (and any other IRC client) to log in,
//! join and read chat: `CAP REQ` → `CAP * ACK`, `PASS`/`NICK` (anonymous `justinfan*` without
//! `PASS`; tokens marked as rejected get `NOTICE * :Login authentication failed` and the
//! connection closed, as Twitch does), the welcome numerics, `JOIN` echo + `353`/`366` +
//! `ROOMSTATE`, `PING` → `PONG`, `PART`, `QUIT`. The test drives everything else: chat lines
//! ([`Privmsg`], [`sample_privmsg`]), raw (even malformed) bytes, `RECONNECT`, dropping
//! connections, refusing new ones.
//!
//! Raw TCP (no HTTP here), accepted by the kit's one accept loop ([`crate::serve::Loopback`]).
//!
//! Robustness: client input is split on `\n` whatever the packet boundaries, decoded lossily,
//! and never trusted (no indexing, no unwraps on it); a client line longer than
//! [`MAX_CLIENT_BUFFER`] without a newline closes that connection. A connection the server
//! closes gets a FIN and is drained for a while, so the client reads our last lines instead of
//! a reset.

mod privmsg;
mod protocol;
mod usernotice;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

pub use privmsg::{
    emotes_tag, escape_tag_value, message_id, privmsg_line, room_id, sample_privmsg, Privmsg,
    EMOTES,
};
pub use protocol::parse_client_line;
pub use usernotice::{raid_line, sub_line, subgift_line, submysterygift_line};

use crate::serve::Loopback;
use crate::watched::Watched;
use privmsg::normalise_channel;
use protocol::{handle_line, Flow};

/// Bytes a client may send without a newline before the server hangs up on it.
pub const MAX_CLIENT_BUFFER: usize = 64 * 1024;

/// How long a closing connection keeps reading (and discarding) after its FIN, so the peer
/// gets our last lines instead of a reset.
const LINGER: Duration = Duration::from_secs(2);

/// Host part Twitch uses in server prefixes.
pub const SERVER: &str = "tmi.twitch.tv";

/// A login the server saw (`PASS`/`NICK`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub conn: u64,
    pub nick: String,
    /// The token without its `oauth:` prefix; `None` when no `PASS` was sent.
    pub token: Option<String>,
    pub accepted: bool,
}

enum Out {
    Bytes(Arc<[u8]>),
    Close,
}

struct Conn {
    tx: mpsc::UnboundedSender<Out>,
    pass: Option<String>,
    nick: Option<String>,
    registered: bool,
    tags: bool,
    channels: HashSet<String>,
}

#[derive(Default)]
struct State {
    conns: HashMap<u64, Conn>,
    next_id: u64,
    /// Every TCP connection accepted, refused ones included, with its time.
    accepted_at: Vec<Instant>,
    refused: usize,
    refuse: bool,
    rejected_tokens: HashSet<String>,
    /// Logins with these tokens are dropped before the welcome, without a NOTICE (Twitch's
    /// "silent disconnect" for a login name that is not the token's account).
    silent_tokens: HashSet<String>,
    /// (connection, channel) for every JOIN answered, in order.
    joins: Vec<(u64, String)>,
    /// (connection, line) for every line received from a client, in order.
    received: Vec<(u64, String)>,
    /// When each line of `received` arrived (same index).
    received_at: Vec<Instant>,
    logins: Vec<Login>,
    closed: usize,
}

/// The state, shared by the connection tasks and the test.
type Shared = Watched<State>;

/// The server. Dropping it closes the port and every connection.
pub struct FakeIrc {
    server: Loopback,
    shared: Arc<Shared>,
}

impl FakeIrc {
    /// Listens on a random port of 127.0.0.1 (on the current Tokio runtime).
    pub async fn start() -> std::io::Result<FakeIrc> {
        Self::start_on_port(0).await
    }

    /// Listens on 127.0.0.1:`port` (0 = a random one): a fresh server (no state kept) on the
    /// address an engine already dials, e.g. after the previous one was killed.
    pub async fn start_on_port(port: u16) -> std::io::Result<FakeIrc> {
        let shared = Arc::new(Shared::new(State::default()));
        let sh = shared.clone();
        let server = Loopback::bind_port(port, move |stream, _| accept(&sh, stream)).await?;
        Ok(FakeIrc { server, shared })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `127.0.0.1:PORT`, the form `EngineOptions::twitch_irc_addr` takes.
    pub fn addr_string(&self) -> String {
        self.addr().to_string()
    }

    /// Logins with this token (with or without `oauth:`) are dropped from now on before the
    /// welcome, with no NOTICE at all.
    pub fn drop_silently(&self, token: &str) {
        let token = token.strip_prefix("oauth:").unwrap_or(token).to_string();
        self.shared.lock().silent_tokens.insert(token);
    }

    /// Logins with this token (with or without `oauth:`) are refused from now on.
    pub fn reject_token(&self, token: &str) {
        let token = token.strip_prefix("oauth:").unwrap_or(token).to_string();
        self.shared.lock().rejected_tokens.insert(token);
    }

    /// While on, new connections are accepted and closed at once (nothing is sent).
    pub fn set_refuse(&self, refuse: bool) {
        self.shared.lock().refuse = refuse;
        self.shared.bump();
    }

    /// Sends one line (`\r\n` is added) to every connection joined to `channel`.
    /// Returns how many connections it went to.
    pub fn broadcast(&self, channel: &str, line: &str) -> usize {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.broadcast_raw(channel, &bytes)
    }

    /// Sends many lines in one write (each gets `\r\n`) to the connections joined to `channel`.
    pub fn broadcast_lines<S: AsRef<str>>(&self, channel: &str, lines: &[S]) -> usize {
        let mut bytes = Vec::new();
        for line in lines {
            bytes.extend_from_slice(line.as_ref().as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        self.broadcast_raw(channel, &bytes)
    }

    /// Sends bytes exactly as given (no terminator added; may be malformed) to the
    /// connections joined to `channel`.
    pub fn broadcast_raw(&self, channel: &str, bytes: &[u8]) -> usize {
        let channel = normalise_channel(channel);
        let bytes: Arc<[u8]> = Arc::from(bytes);
        let st = self.shared.lock();
        st.conns
            .values()
            .filter(|c| c.channels.contains(&channel))
            .filter(|c| c.tx.send(Out::Bytes(bytes.clone())).is_ok())
            .count()
    }

    /// Sends bytes exactly as given to every open connection (logged in or not).
    pub fn send_raw_all(&self, bytes: &[u8]) -> usize {
        let bytes: Arc<[u8]> = Arc::from(bytes);
        let st = self.shared.lock();
        st.conns
            .values()
            .filter(|c| c.tx.send(Out::Bytes(bytes.clone())).is_ok())
            .count()
    }

    /// Sends `:tmi.twitch.tv RECONNECT` to every open connection (Twitch's "please move").
    pub fn send_reconnect(&self) -> usize {
        self.send_raw_all(format!(":{SERVER} RECONNECT\r\n").as_bytes())
    }

    /// Closes every open connection (after writing what was already queued for it).
    pub fn drop_all(&self) -> usize {
        let st = self.shared.lock();
        st.conns
            .values()
            .filter(|c| c.tx.send(Out::Close).is_ok())
            .count()
    }

    /// TCP connections accepted so far, refused ones included.
    pub fn connections_total(&self) -> usize {
        self.shared.lock().accepted_at.len()
    }

    /// When each connection was accepted, in order.
    pub fn accept_times(&self) -> Vec<Instant> {
        self.shared.lock().accepted_at.clone()
    }

    /// Connections closed at once because of [`FakeIrc::set_refuse`].
    pub fn refused(&self) -> usize {
        self.shared.lock().refused
    }

    /// Connections currently open.
    pub fn connections_open(&self) -> usize {
        self.shared.lock().conns.len()
    }

    /// Connections that have ended (closed by either side), refused ones not included.
    pub fn connections_closed(&self) -> usize {
        self.shared.lock().closed
    }

    /// JOINs of `channel` answered so far (over all connections).
    pub fn joins(&self, channel: &str) -> usize {
        let channel = normalise_channel(channel);
        self.shared
            .lock()
            .joins
            .iter()
            .filter(|(_, c)| *c == channel)
            .count()
    }

    /// Every JOIN answered: (connection id, channel without `#`).
    pub fn all_joins(&self) -> Vec<(u64, String)> {
        self.shared.lock().joins.clone()
    }

    pub fn logins(&self) -> Vec<Login> {
        self.shared.lock().logins.clone()
    }

    /// Every line received from clients, in order (PASS lines included, unredacted).
    pub fn received(&self) -> Vec<String> {
        self.shared
            .lock()
            .received
            .iter()
            .map(|(_, l)| l.clone())
            .collect()
    }

    /// Every line received from clients with when it arrived, in order.
    pub fn received_timed(&self) -> Vec<(Instant, String)> {
        let st = self.shared.lock();
        st.received_at
            .iter()
            .copied()
            .zip(st.received.iter().map(|(_, l)| l.clone()))
            .collect()
    }

    /// Waits until `pred` holds (checked now and after every change); `false` on timeout.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&FakeIrc) -> bool,
    ) -> bool {
        self.shared.wait(timeout, || pred(self)).await
    }

    /// Waits until `channel` has been joined at least `n` times in total.
    pub async fn wait_joins(&self, channel: &str, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |f| f.joins(channel) >= n).await
    }

    /// Waits until at least `n` connections have been accepted in total.
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

impl Drop for FakeIrc {
    fn drop(&mut self) {
        // The listener and every connection task stop with `self.server`.
        self.shared.lock().conns.clear();
    }
}

/// A new connection: counted, then refused (closed at once) or registered and served.
fn accept(
    shared: &Arc<Shared>,
    stream: TcpStream,
) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
    let mut st = shared.lock();
    st.accepted_at.push(Instant::now());
    if st.refuse {
        st.refused += 1;
        drop(st);
        drop(stream);
        shared.bump();
        return None;
    }
    let id = st.next_id;
    st.next_id += 1;
    let (tx, rx) = mpsc::unbounded_channel();
    st.conns.insert(
        id,
        Conn {
            tx,
            pass: None,
            nick: None,
            registered: false,
            tags: false,
            channels: HashSet::new(),
        },
    );
    drop(st);
    shared.bump();
    Some(run_conn(shared.clone(), id, stream, rx))
}

async fn run_conn(
    shared: Arc<Shared>,
    id: u64,
    mut stream: TcpStream,
    mut rx: mpsc::UnboundedReceiver<Out>,
) {
    let _ = stream.set_nodelay(true);
    let mut pending: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    let server_closes = loop {
        tokio::select! {
            read = stream.read(&mut chunk) => {
                let n = match read {
                    Ok(0) | Err(_) => break false,
                    Ok(n) => n,
                };
                pending.extend_from_slice(&chunk[..n]);
                let mut replies = String::new();
                let mut flow = Flow::Continue;
                let mut start = 0;
                while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
                    let end = start + nl;
                    let raw = &pending[start..end];
                    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                    start = end + 1;
                    let line = String::from_utf8_lossy(raw);
                    if line.trim().is_empty() {
                        continue;
                    }
                    flow = handle_line(&shared, id, &line, &mut replies);
                    if matches!(flow, Flow::Close) {
                        break;
                    }
                }
                pending.drain(..start);
                if pending.len() > MAX_CLIENT_BUFFER {
                    flow = Flow::Close;
                }
                shared.bump();
                if !replies.is_empty() && stream.write_all(replies.as_bytes()).await.is_err() {
                    break false;
                }
                if matches!(flow, Flow::Close) {
                    break true;
                }
            }
            cmd = rx.recv() => match cmd {
                Some(Out::Bytes(bytes)) => {
                    if stream.write_all(&bytes).await.is_err() {
                        break false;
                    }
                }
                Some(Out::Close) | None => break true,
            },
        }
    };
    {
        let mut st = shared.lock();
        st.conns.remove(&id);
        st.closed += 1;
    }
    shared.bump();
    if server_closes {
        // Send FIN, then drain until the peer closes too, so our last lines are not lost to a
        // reset (closing a socket with unread input sends RST).
        let _ = stream.shutdown().await;
        let _ = tokio::time::timeout(LINGER, async {
            loop {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
    }
}
