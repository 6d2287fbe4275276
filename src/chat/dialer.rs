//! How twitch-irc reaches the server: our `MakeConnection`, with backoff and visibility.
//!
//! twitch-irc hides its connections: it reconnects by itself and says nothing about it. Every
//! connection it opens goes through [`TwitchDial::new_socket`], so this is where StreamCue
//! (1) waits out an exponential backoff with jitter before each retry, (2) tells the chat
//! session what is happening (dialing, connected, closed), (3) wraps the socket in a
//! [`LineGuard`], and (4) dials a local address instead of Twitch when a test or developer
//! overrides it. TLS is the shared chat set-up of [`super::tls`].
//!
//! `new_socket` takes no arguments, so the state is process-wide. Invariant: at most one
//! Twitch session is attached at a time (the `ChatClient` actor owns it); a new session
//! replaces the old one's listener and resets the backoff.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::either::Either;
use twitch_irc::transport::tcp::{MakeConnection, TCPTransportConnectError};

use super::backoff::Backoff;
use super::line_guard::{GuardStats, LineGuard};
use super::tls::{self, ChatStream};

const TWITCH_HOST: &str = "irc.chat.twitch.tv";
const TWITCH_TLS_PORT: u16 = 6697;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the dialer tells the attached session.
#[derive(Debug, Clone, PartialEq)]
pub enum DialEvent {
    /// Waiting `delay` before attempt `attempt` (attempt 1 is the first retry).
    Waiting {
        attempt: u32,
        delay: Duration,
        reason: String,
    },
    /// A socket is open (the IRC welcome is still to come).
    Connected,
    /// The attempt failed before a socket was open.
    Failed { error: String },
    /// An open socket was closed by the peer or failed.
    Closed { reason: String },
}

/// Where to dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialTarget {
    /// Twitch itself, over TLS.
    Twitch,
    /// A plain-TCP address (development and tests only), e.g. `127.0.0.1:6667`.
    Plain(String),
}

struct Attached {
    generation: u64,
    events: mpsc::UnboundedSender<DialEvent>,
    stats: Arc<GuardStats>,
}

struct DialerState {
    target: DialTarget,
    backoff: Backoff,
    attached: Option<Attached>,
    next_generation: u64,
    last_failure: Option<String>,
}

fn state() -> &'static Mutex<DialerState> {
    static STATE: OnceLock<Mutex<DialerState>> = OnceLock::new();
    STATE.get_or_init(|| {
        Mutex::new(DialerState {
            target: DialTarget::Twitch,
            backoff: Backoff::default(),
            attached: None,
            next_generation: 1,
            last_failure: None,
        })
    })
}

/// Consecutive attempts since the last confirmed login (0 = the next dial is immediate).
static ATTEMPT: AtomicU32 = AtomicU32::new(0);

fn lock() -> std::sync::MutexGuard<'static, DialerState> {
    state().lock().unwrap_or_else(|p| p.into_inner())
}

/// Sets where all Twitch connections of this process go.
pub fn set_target(target: DialTarget) {
    lock().target = target;
}

pub fn target() -> DialTarget {
    lock().target.clone()
}

/// Sets the reconnect backoff (tests use a short one).
pub fn set_backoff(backoff: Backoff) {
    lock().backoff = backoff;
}

/// A session's view of the dialer; dropping it detaches.
pub struct DialerLease {
    generation: u64,
    pub events: mpsc::UnboundedReceiver<DialEvent>,
    pub stats: Arc<GuardStats>,
}

/// Attaches a new session: it receives all dial events from now on, and the backoff restarts.
pub fn attach() -> DialerLease {
    let (tx, rx) = mpsc::unbounded_channel();
    let stats = Arc::new(GuardStats::default());
    let mut st = lock();
    let generation = st.next_generation;
    st.next_generation += 1;
    st.attached = Some(Attached {
        generation,
        events: tx,
        stats: stats.clone(),
    });
    st.last_failure = None;
    ATTEMPT.store(0, Ordering::SeqCst);
    DialerLease {
        generation,
        events: rx,
        stats,
    }
}

impl Drop for DialerLease {
    fn drop(&mut self) {
        let mut st = lock();
        if st
            .attached
            .as_ref()
            .is_some_and(|a| a.generation == self.generation)
        {
            st.attached = None;
        }
    }
}

/// The session saw the IRC welcome / its JOIN: the next disconnect retries immediately.
pub fn login_confirmed() {
    ATTEMPT.store(0, Ordering::SeqCst);
}

/// The number the next retry will have (1 = first retry since the last confirmed login), so
/// that an outage counts up 1, 2, 3... whichever event (closed, failed, waiting) reports it.
pub fn next_attempt() -> u32 {
    ATTEMPT.load(Ordering::SeqCst).max(1)
}

fn emit(generation: Option<u64>, ev: DialEvent) {
    let st = lock();
    if let Some(a) = &st.attached {
        if generation.is_none_or(|g| g == a.generation) {
            let _ = a.events.send(ev);
        }
    }
}

/// The `MakeConnection` StreamCue gives twitch-irc.
pub struct TwitchDial;

pub type DialSocket = LineGuard<ChatStream>;

#[async_trait]
impl MakeConnection for TwitchDial {
    type Socket = DialSocket;

    async fn new_socket() -> Result<Self::Socket, TCPTransportConnectError> {
        let attempt = ATTEMPT.fetch_add(1, Ordering::SeqCst);
        let (target, delay, generation, stats, reason) = {
            let st = lock();
            let delay = st.backoff.delay(attempt);
            let (generation, stats) = match &st.attached {
                Some(a) => (Some(a.generation), a.stats.clone()),
                None => (None, Arc::new(GuardStats::default())),
            };
            let reason = st
                .last_failure
                .clone()
                .unwrap_or_else(|| "connection lost".into());
            (st.target.clone(), delay, generation, stats, reason)
        };
        if attempt > 0 {
            emit(
                generation,
                DialEvent::Waiting {
                    attempt,
                    delay,
                    reason,
                },
            );
            tokio::time::sleep(delay).await;
        }
        match tokio::time::timeout(CONNECT_TIMEOUT, open(&target)).await {
            Ok(Ok(socket)) => {
                emit(generation, DialEvent::Connected);
                let on_close = Box::new(move |why: String| {
                    lock().last_failure = Some(why.clone());
                    emit(generation, DialEvent::Closed { reason: why });
                });
                Ok(LineGuard::new(socket, stats, on_close))
            }
            Ok(Err(e)) => {
                let error = describe_io_error(&e);
                lock().last_failure = Some(error.clone());
                emit(generation, DialEvent::Failed { error });
                Err(TCPTransportConnectError::IOError(e))
            }
            Err(_) => {
                let error = format!("no answer within {} s", CONNECT_TIMEOUT.as_secs());
                lock().last_failure = Some(error.clone());
                emit(
                    generation,
                    DialEvent::Failed {
                        error: error.clone(),
                    },
                );
                Err(TCPTransportConnectError::IOError(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    error,
                )))
            }
        }
    }
}

async fn open(target: &DialTarget) -> std::io::Result<ChatStream> {
    match target {
        DialTarget::Plain(addr) => {
            let s = TcpStream::connect(addr.as_str()).await?;
            s.set_nodelay(true)?;
            Ok(Either::Left(s))
        }
        DialTarget::Twitch => {
            use tokio_rustls::rustls::pki_types::ServerName;
            let tcp = TcpStream::connect((TWITCH_HOST, TWITCH_TLS_PORT)).await?;
            tcp.set_nodelay(true)?;
            let name = ServerName::try_from(TWITCH_HOST).expect("valid host name");
            Ok(Either::Right(tls::connector().connect(name, tcp).await?))
        }
    }
}

/// A sentence for the streamer, not an errno.
fn describe_io_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "the chat server refused the connection".into(),
        ConnectionReset | ConnectionAborted => "the chat server dropped the connection".into(),
        TimedOut => "the chat server did not answer".into(),
        NotFound => "the chat server's address could not be found (no network or DNS?)".into(),
        _ if e.to_string().contains("lookup") || e.to_string().contains("resolve") => {
            "the chat server's address could not be found (no network or DNS?)".into()
        }
        _ => format!("could not reach the chat server: {e}"),
    }
}
