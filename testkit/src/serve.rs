//! The one accept loop of the kit: [`Loopback`] listens on 127.0.0.1 and runs each accepted
//! connection as a task; [`serve_http`] is the same loop with hyper serving HTTP/1.1 on each
//! connection (the fakes of the generation endpoint, of Twitch's identity service, of Kick's
//! channel API and the HLS source).
//!
//! Invariants:
//! - binds 127.0.0.1 only, on an ephemeral port (or one the caller names: [`Loopback::bind_port`]);
//! - dropping the [`Loopback`] stops accepting and aborts every connection task it started
//!   (they live in a `JoinSet` owned by the accept task, so aborting that task drops them);
//! - an accept error (e.g. too many open files) is retried after 10 ms, never fatal;
//! - HTTP is one request per connection: every answer says `Connection: close` and the
//!   connection ends after it, as the hand-written servers this replaces did. Header names are
//!   written in title case (`Content-Length`), so raw-socket tests read what they always read.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::http::Body;

/// How long a client may take to send a request head before the connection is closed.
const HEAD_LIMIT: Duration = Duration::from_secs(30);

/// A listening socket on 127.0.0.1 and its accept loop. Stops (with every connection it
/// started) when dropped.
pub struct Loopback {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Loopback {
    /// Binds 127.0.0.1:0 and accepts on the current Tokio runtime. For each connection,
    /// `on_accept` runs at once (in accept order, so it may do bookkeeping or refuse the
    /// connection by returning `None`, which closes it); the future it returns runs as the
    /// connection's task.
    pub async fn bind<F, Fut>(on_accept: F) -> io::Result<Loopback>
    where
        F: FnMut(TcpStream, SocketAddr) -> Option<Fut> + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::bind_port(0, on_accept).await
    }

    /// [`Loopback::bind`] on 127.0.0.1:`port` (0 = ephemeral): a server restarted on the
    /// address its clients already dial (the kill matrix kills and restarts the fake IRC
    /// server). The listener has `SO_REUSEADDR` (as every Tokio listener on Unix), so the
    /// previous instance's connections in TIME_WAIT do not block the bind.
    pub async fn bind_port<F, Fut>(port: u16, mut on_accept: F) -> io::Result<Loopback>
    where
        F: FnMut(TcpStream, SocketAddr) -> Option<Fut> + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                while conns.try_join_next().is_some() {}
                if let Some(conn) = on_accept(stream, peer) {
                    conns.spawn(conn);
                }
            }
        });
        Ok(Loopback { addr, task })
    }

    /// `127.0.0.1:PORT`
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves HTTP/1.1 with hyper on a new [`Loopback`]: `handler` answers each request.
///
/// The connection settings are the fakes' contract: one request per connection, half-closed
/// clients still get their answer (a raw-socket test may shut down its write side after the
/// request), title-case header names, and a head that does not arrive within 30 s closes the
/// connection. Requests hyper cannot parse get hyper's own `400 Bad Request` (431 for a head
/// that is too large) and never reach `handler`.
pub async fn serve_http<H, Fut>(handler: H) -> io::Result<Loopback>
where
    H: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let handler = Arc::new(handler);
    Loopback::bind(move |stream, _| {
        let handler = handler.clone();
        let service = service_fn(move |req| {
            let answer = handler(req);
            async move { Ok::<_, Infallible>(answer.await) }
        });
        Some(async move {
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_LIMIT)
                .keep_alive(false)
                .half_close(true)
                .title_case_headers(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        })
    })
    .await
}
