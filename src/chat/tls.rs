//! The one TLS client set-up of the chat connections (Twitch IRC in [`super::dialer`], Kick's
//! Pusher WebSocket in [`super::kick`]).
//!
//! Invariants: rustls with the *ring* provider, its safe default protocol versions, and the
//! Mozilla roots compiled in (`webpki-roots`): no OS certificate store, no client certificate,
//! no way to turn verification off. The test/dev overrides do not touch TLS: they dial plain
//! TCP instead (the dialer's `DialTarget::Plain`, a `ws://` Kick address), so whatever goes
//! through TLS is verified the same way. Built once per process.

use std::sync::{Arc, OnceLock};

use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use tokio_util::either::Either;

/// A chat socket: plain TCP (tests and development only) or TLS over TCP.
pub type ChatStream = Either<TcpStream, TlsStream<TcpStream>>;

/// The process-wide TLS connector of the chat connections.
pub fn connector() -> &'static TlsConnector {
    static CONNECTOR: OnceLock<TlsConnector> = OnceLock::new();
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
        TlsConnector::from(Arc::new(config))
    })
}
