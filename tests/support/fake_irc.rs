//! A fake Twitch IRC server over real TCP on 127.0.0.1, for tests and benchmarks.
//!
//! It speaks enough of the real protocol for twitch-irc (and any other IRC client) to log in,
//! join and read chat: `CAP REQ` → `CAP * ACK`, `PASS`/`NICK` (anonymous `justinfan*` without
//! `PASS`; tokens marked as rejected get `NOTICE * :Login authentication failed` and the
//! connection closed, as Twitch does), the welcome numerics, `JOIN` echo + `353`/`366` +
//! `ROOMSTATE`, `PING` → `PONG`, `PART`, `QUIT`. The test drives everything else: chat lines,
//! raw (even malformed) bytes, `RECONNECT`, dropping connections, refusing new ones.
//!
//! Self-contained on purpose (std + tokio only): benchmarks include this file with
//! `#[path = "../tests/support/fake_irc.rs"] mod fake_irc;`.
//!
//! Robustness: client input is split on `\n` whatever the packet boundaries, decoded lossily,
//! and never trusted (no indexing, no unwraps on it); a client line longer than
//! [`MAX_CLIENT_BUFFER`] without a newline closes that connection.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle};

/// Bytes a client may send without a newline before the server hangs up on it.
pub const MAX_CLIENT_BUFFER: usize = 64 * 1024;

/// How long a closing connection keeps reading (and discarding) after its FIN, so the peer
/// gets our last lines instead of a reset.
const LINGER: Duration = Duration::from_secs(2);

/// Host part Twitch uses in server prefixes.
pub const SERVER: &str = "tmi.twitch.tv";

/// Well-known global Twitch emotes: (code, id).
pub const EMOTES: &[(&str, &str)] = &[
    ("Kappa", "25"),
    ("PogChamp", "305954156"),
    ("LUL", "425618"),
    ("BibleThump", "86"),
    ("Kreygasm", "41"),
    ("SeemsGood", "64138"),
    ("<3", "555555584"),
];

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
    peer: SocketAddr,
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
    /// (connection, channel) for every JOIN answered, in order.
    joins: Vec<(u64, String)>,
    /// (connection, line) for every line received from a client, in order.
    received: Vec<(u64, String)>,
    /// When each line of `received` arrived (same index).
    received_at: Vec<Instant>,
    logins: Vec<Login>,
    closed: usize,
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

    /// Wakes waiters; call after releasing the state lock.
    fn bump(&self) {
        self.version.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// The server. Dropping it closes the port and every connection.
pub struct FakeIrc {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl FakeIrc {
    /// Listens on a random port of 127.0.0.1 (on the current Tokio runtime).
    pub async fn start() -> std::io::Result<FakeIrc> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            version: watch::channel(0).0,
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(FakeIrc {
            addr,
            shared,
            accept,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:PORT`, the form `EngineOptions::twitch_irc_addr` takes.
    pub fn addr_string(&self) -> String {
        self.addr.to_string()
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
        let mut rx = self.shared.version.subscribe();
        let wait = async {
            loop {
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
        self.accept.abort();
        let mut st = self.shared.lock();
        for task in st.tasks.drain(..) {
            task.abort();
        }
        st.conns.clear();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                // e.g. too many open files: back off a little and keep serving.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let mut st = shared.lock();
        st.accepted_at.push(Instant::now());
        if st.refuse {
            st.refused += 1;
            drop(st);
            drop(stream);
            shared.bump();
            continue;
        }
        let id = st.next_id;
        st.next_id += 1;
        let (tx, rx) = mpsc::unbounded_channel();
        st.conns.insert(
            id,
            Conn {
                tx,
                peer,
                pass: None,
                nick: None,
                registered: false,
                tags: false,
                channels: HashSet::new(),
            },
        );
        let task = tokio::spawn(run_conn(shared.clone(), id, stream, rx));
        st.tasks.retain(|t| !t.is_finished());
        st.tasks.push(task.abort_handle());
        drop(st);
        shared.bump();
    }
}

enum Flow {
    Continue,
    Close,
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

/// One client line: `(COMMAND in upper case, params)`; tags and prefix are skipped.
pub fn parse_client_line(line: &str) -> Option<(String, Vec<String>)> {
    let mut rest = line.trim_start_matches(' ');
    if rest.starts_with('@') {
        rest = rest.split_once(' ')?.1.trim_start_matches(' ');
    }
    if rest.starts_with(':') {
        rest = rest.split_once(' ')?.1.trim_start_matches(' ');
    }
    let (command, mut params_src) = match rest.split_once(' ') {
        Some((c, p)) => (c, p),
        None => (rest, ""),
    };
    if command.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    loop {
        params_src = params_src.trim_start_matches(' ');
        if params_src.is_empty() {
            break;
        }
        if let Some(trailing) = params_src.strip_prefix(':') {
            params.push(trailing.to_string());
            break;
        }
        match params_src.split_once(' ') {
            Some((p, r)) => {
                params.push(p.to_string());
                params_src = r;
            }
            None => {
                params.push(params_src.to_string());
                break;
            }
        }
    }
    Some((command.to_ascii_uppercase(), params))
}

fn handle_line(shared: &Shared, id: u64, line: &str, out: &mut String) -> Flow {
    let mut st = shared.lock();
    st.received.push((id, line.to_string()));
    st.received_at.push(Instant::now());
    let Some((command, params)) = parse_client_line(line) else {
        return Flow::Continue;
    };
    let param = |i: usize| params.get(i).map(String::as_str).unwrap_or("");
    let State {
        conns,
        rejected_tokens,
        joins,
        logins,
        ..
    } = &mut *st;
    let Some(conn) = conns.get_mut(&id) else {
        return Flow::Close;
    };
    let nick_shown = conn.nick.clone().unwrap_or_else(|| "*".into());
    match command.as_str() {
        "CAP" => match param(0).to_ascii_uppercase().as_str() {
            "REQ" => {
                let caps = param(1);
                if caps.split(' ').any(|c| c == "twitch.tv/tags") {
                    conn.tags = true;
                }
                let _ = write!(out, ":{SERVER} CAP * ACK :{caps}\r\n");
            }
            "LS" => {
                let _ = write!(
                    out,
                    ":{SERVER} CAP * LS :twitch.tv/tags twitch.tv/commands twitch.tv/membership\r\n"
                );
            }
            _ => {}
        },
        "PASS" => conn.pass = Some(param(0).to_string()),
        "NICK" => {
            if conn.registered {
                return Flow::Continue;
            }
            let nick = param(0).trim().to_ascii_lowercase();
            let token = conn
                .pass
                .as_deref()
                .map(|p| p.strip_prefix("oauth:").unwrap_or(p).to_string());
            let refusal = match &token {
                Some(t) if t.is_empty() || rejected_tokens.contains(t) => {
                    Some("Login authentication failed")
                }
                Some(_) => None,
                None if nick.starts_with("justinfan") => None,
                None => Some("Improperly formatted auth"),
            };
            logins.push(Login {
                conn: id,
                nick: nick.clone(),
                token,
                accepted: refusal.is_none(),
            });
            if let Some(text) = refusal {
                let _ = write!(out, ":{SERVER} NOTICE * :{text}\r\n");
                return Flow::Close;
            }
            conn.nick = Some(nick.clone());
            conn.registered = true;
            for (code, text) in [
                ("001", "Welcome, GLHF!"),
                ("002", "Your host is tmi.twitch.tv"),
                ("003", "This server is rather new"),
                ("004", "-"),
                ("375", "-"),
                ("372", "You are in a maze of twisty passages, all alike."),
                ("376", ">"),
            ] {
                let _ = write!(out, ":{SERVER} {code} {nick} :{text}\r\n");
            }
        }
        "USER" | "PONG" | "PRIVMSG" => {}
        "PING" => {
            let _ = write!(out, ":{SERVER} PONG {SERVER} :{}\r\n", param(0));
        }
        "JOIN" => {
            let Some(nick) = conn.nick.clone().filter(|_| conn.registered) else {
                let _ = write!(
                    out,
                    ":{SERVER} 451 {nick_shown} JOIN :You have not registered\r\n"
                );
                return Flow::Continue;
            };
            for target in param(0).split(',') {
                let channel = normalise_channel(target);
                if !target.starts_with('#') || !is_valid_login(&channel) {
                    continue;
                }
                conn.channels.insert(channel.clone());
                joins.push((id, channel.clone()));
                let _ = write!(out, ":{nick}!{nick}@{nick}.{SERVER} JOIN #{channel}\r\n");
                let _ = write!(out, ":{nick}.{SERVER} 353 {nick} = #{channel} :{nick}\r\n");
                let _ = write!(
                    out,
                    ":{nick}.{SERVER} 366 {nick} #{channel} :End of /NAMES list\r\n"
                );
                if conn.tags {
                    let _ = write!(
                        out,
                        "@emote-only=0;followers-only=-1;r9k=0;room-id={};slow=0;subs-only=0 :{SERVER} ROOMSTATE #{channel}\r\n",
                        room_id(&channel)
                    );
                }
            }
        }
        "PART" => {
            let nick = conn.nick.clone().unwrap_or_default();
            for target in param(0).split(',') {
                let channel = normalise_channel(target);
                if conn.channels.remove(&channel) {
                    let _ = write!(out, ":{nick}!{nick}@{nick}.{SERVER} PART #{channel}\r\n");
                }
            }
        }
        "QUIT" => return Flow::Close,
        other => {
            let _ = write!(
                out,
                ":{SERVER} 421 {nick_shown} {other} :Unknown command\r\n"
            );
        }
    }
    Flow::Continue
}

fn normalise_channel(channel: &str) -> String {
    channel.trim().trim_start_matches('#').to_ascii_lowercase()
}

fn is_valid_login(s: &str) -> bool {
    (1..=25).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A stable numeric id for a name (Twitch ids are decimal strings).
fn stable_id(s: &str, salt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    10_000_000 + h % 900_000_000
}

/// The `room-id` used for a channel.
pub fn room_id(channel: &str) -> String {
    stable_id(&normalise_channel(channel), 1).to_string()
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A UUID-looking message id, deterministic in `seed`.
pub fn message_id(seed: u64) -> String {
    let a = splitmix64(seed);
    let b = splitmix64(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// IRCv3 tag value escaping (`;` → `\:`, space → `\s`, `\` → `\\`, CR → `\r`, LF → `\n`).
pub fn escape_tag_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            ';' => out.push_str("\\:"),
            ' ' => out.push_str("\\s"),
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The `emotes` tag for `text`: every whitespace-separated word that is one of [`EMOTES`],
/// as `id:start-end,start-end/id:start-end` with inclusive indices in characters (code
/// points), ids in order of first appearance.
pub fn emotes_tag(text: &str) -> String {
    let mut groups: Vec<(&str, Vec<(usize, usize)>)> = Vec::new();
    let mut index = 0usize;
    let mut word_start: Option<usize> = None;
    let mut word = String::new();
    let mut flush = |word: &mut String, start: Option<usize>, end: usize| {
        if let (Some(start), Some((_, id))) = (
            start,
            EMOTES.iter().find(|(code, _)| *code == word.as_str()),
        ) {
            match groups.iter_mut().find(|(g, _)| g == id) {
                Some((_, ranges)) => ranges.push((start, end - 1)),
                None => groups.push((id, vec![(start, end - 1)])),
            }
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut word, word_start.take(), index);
        } else {
            if word_start.is_none() {
                word_start = Some(index);
            }
            word.push(c);
        }
        index += 1;
    }
    flush(&mut word, word_start.take(), index);
    groups
        .iter()
        .map(|(id, ranges)| {
            let ranges: Vec<String> = ranges.iter().map(|(s, e)| format!("{s}-{e}")).collect();
            format!("{id}:{}", ranges.join(","))
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A chat message as Twitch sends it (`PRIVMSG` with the usual IRCv3 tags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privmsg {
    pub channel: String,
    pub room_id: String,
    pub login: String,
    pub display_name: String,
    pub user_id: String,
    pub text: String,
    /// `""` or `#RRGGBB`.
    pub color: String,
    /// Raw `badges` value, e.g. `moderator/1,subscriber/12`.
    pub badges: String,
    /// Raw `badge-info` value, e.g. `subscriber/14`.
    pub badge_info: String,
    /// Raw `emotes` value; [`Privmsg::new`] computes it from the text.
    pub emotes: String,
    pub moderator: bool,
    pub subscriber: bool,
    pub turbo: bool,
    pub id: String,
    pub tmi_sent_ts: i64,
    /// A `/me` message (`\x01ACTION ...\x01`).
    pub action: bool,
    /// Extra tags appended as given (`key`, raw value; `None` = a tag with no `=`).
    pub extra_tags: Vec<(String, Option<String>)>,
}

impl Privmsg {
    pub fn new(channel: &str, login: &str, text: &str) -> Self {
        let channel = normalise_channel(channel);
        let login = login.to_ascii_lowercase();
        let seed = stable_id(&login, 2) ^ stable_id(text, 3);
        Self {
            room_id: room_id(&channel),
            user_id: stable_id(&login, 4).to_string(),
            display_name: login.clone(),
            color: String::new(),
            badges: String::new(),
            badge_info: String::new(),
            emotes: emotes_tag(text),
            moderator: false,
            subscriber: false,
            turbo: false,
            id: message_id(seed),
            tmi_sent_ts: now_ms(),
            action: false,
            extra_tags: Vec::new(),
            channel,
            login,
            text: text.to_string(),
        }
    }

    pub fn display_name(mut self, name: &str) -> Self {
        self.display_name = name.to_string();
        self
    }

    pub fn color(mut self, color: &str) -> Self {
        self.color = color.to_string();
        self
    }

    pub fn moderator(mut self) -> Self {
        self.moderator = true;
        self.badges = join_badges(&self.badges, "moderator/1");
        self
    }

    pub fn broadcaster(mut self) -> Self {
        self.badges = join_badges(&self.badges, "broadcaster/1");
        self
    }

    pub fn subscriber(mut self, months: u32) -> Self {
        self.subscriber = true;
        let tier = match months {
            0..=2 => 0,
            3..=5 => 3,
            6..=8 => 6,
            9..=11 => 9,
            _ => 12,
        };
        self.badges = join_badges(&self.badges, &format!("subscriber/{tier}"));
        self.badge_info = format!("subscriber/{months}");
        self
    }

    pub fn action(mut self) -> Self {
        self.action = true;
        self
    }

    pub fn id(mut self, id: &str) -> Self {
        self.id = id.to_string();
        self
    }

    pub fn tag(mut self, key: &str, value: Option<&str>) -> Self {
        self.extra_tags
            .push((key.to_string(), value.map(str::to_string)));
        self
    }

    /// The line, without its `\r\n`.
    pub fn line(&self) -> String {
        let mut s = String::with_capacity(320 + self.text.len());
        let _ = write!(
            s,
            "@badge-info={};badges={};client-nonce={};color={};display-name={};emotes={};first-msg=0;flags=;id={};mod={};returning-chatter=0;room-id={};subscriber={};tmi-sent-ts={};turbo={};user-id={};user-type={}",
            escape_tag_value(&self.badge_info),
            escape_tag_value(&self.badges),
            client_nonce(&self.id),
            self.color,
            escape_tag_value(&self.display_name),
            self.emotes,
            self.id,
            u8::from(self.moderator),
            self.room_id,
            u8::from(self.subscriber),
            self.tmi_sent_ts,
            u8::from(self.turbo),
            self.user_id,
            if self.moderator { "mod" } else { "" },
        );
        for (key, value) in &self.extra_tags {
            match value {
                Some(v) => {
                    let _ = write!(s, ";{key}={v}");
                }
                None => {
                    let _ = write!(s, ";{key}");
                }
            }
        }
        let login = &self.login;
        let _ = write!(
            s,
            " :{login}!{login}@{login}.{SERVER} PRIVMSG #{} :",
            self.channel
        );
        if self.action {
            let _ = write!(s, "\u{1}ACTION {}\u{1}", self.text);
        } else {
            s.push_str(&self.text);
        }
        s
    }
}

/// A 32-hex-digit `client-nonce`, derived from the message id.
fn client_nonce(id: &str) -> String {
    let seed = stable_id(id, 5);
    format!(
        "{:016x}{:016x}",
        splitmix64(seed),
        splitmix64(seed ^ 0x5555)
    )
}

fn join_badges(existing: &str, badge: &str) -> String {
    if existing.is_empty() {
        badge.to_string()
    } else {
        format!("{existing},{badge}")
    }
}

/// A realistic `PRIVMSG` line (no `\r\n`) from user `login` saying `text` in `channel`.
pub fn privmsg_line(channel: &str, login: &str, text: &str) -> String {
    Privmsg::new(channel, login, text).line()
}

const SAMPLE_USERS: &[(&str, &str, &str)] = &[
    ("pixelcat", "PixelCat", "#FF4500"),
    ("neonfox", "NeonFox", "#1E90FF"),
    ("sleepy_owl", "sleepy_owl", ""),
    ("kuro99", "クロ", "#9ACD32"),
    ("mochibyte", "MochiByte", "#FF69B4"),
    ("vexbard", "VexBard", "#00FF7F"),
    ("lumi_gg", "Lumi_GG", "#DAA520"),
    ("zorbowl", "zorbOwl", "#8A2BE2"),
];

const SAMPLE_TEXTS: &[&str] = &[
    "hi chat Kappa",
    "how long has the stream been on?",
    "ünïcödé test ✨",
    "日本から見てます PogChamp",
    "привет чат LUL",
    "🔥🔥🔥 Kappa Kappa",
    "CLIP THAT PogChamp PogChamp",
    "that was close <3",
    "gg wp SeemsGood",
    "!anime \"a cat surfing a wave\"",
    "Kreygasm the music slaps",
    "first time here, love the vibe BibleThump",
    "is this ranked? ¿qué pasa? ça va",
    "W streamer",
];

/// The `n`-th line of a varied, realistic chat (users with badges, colours, non-ASCII text,
/// emotes, the odd `/me`). Deterministic in `n` (except `tmi-sent-ts`, which is now).
pub fn sample_privmsg(channel: &str, n: u64) -> String {
    let r = splitmix64(n);
    let (login, display, color) = SAMPLE_USERS[(r % SAMPLE_USERS.len() as u64) as usize];
    let text = SAMPLE_TEXTS[((r >> 8) % SAMPLE_TEXTS.len() as u64) as usize];
    let mut msg = Privmsg::new(channel, login, text)
        .display_name(display)
        .color(color)
        .id(&message_id(n.wrapping_mul(7919)));
    match (r >> 16) % 10 {
        0 => msg = msg.moderator(),
        1..=3 => msg = msg.subscriber(1 + ((r >> 24) % 30) as u32),
        4 => msg = msg.subscriber(14).moderator(),
        _ => {}
    }
    // One in 25 is a `/me`, one in 17 has turbo (no `is_multiple_of`: it needs Rust 1.87).
    if matches!((r >> 32) % 25, 0) {
        msg = msg.action();
    }
    msg.turbo = matches!((r >> 40) % 17, 0);
    msg.line()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
