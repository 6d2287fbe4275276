//! The OBS connection: connecting (with the handshake under a timeout), reading why a connect
//! failed, retrying with backoff, and forgetting a lost connection.
//!
//! Invariants: a refused version or password stops the retries until the settings change;
//! everything else retries with backoff; a lost connection forgets what was playing (its request
//! stays `ready`) and starts the reconnect.

use std::time::Duration;

use tokio::time::Instant;

use super::{call, Actor, CallError, Link, Sequence, Show};
use crate::api::{ObsConnection, ObsFailure};
use crate::obs::settings::password;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Actor {
    /// After a settings change (or at start): drop any connection and start over.
    pub(super) fn reset_connection(&mut self) {
        self.link = None;
        self.attempt = 0;
        self.seq = Sequence::default();
        self.watch_lost("the OBS settings changed");
        self.state.showing = None;
        self.state.program_scene = None;
        self.state.recording = false;
        if self.settings.enabled {
            self.state.connection = ObsConnection::Connecting;
            self.next_attempt = Some(Instant::now());
        } else {
            self.state.connection = ObsConnection::Disabled;
            self.next_attempt = None;
        }
        self.publish();
    }

    pub(super) async fn connect(&mut self) {
        self.attempt += 1;
        let pw = password(self.setup.secrets.as_ref());
        let config = obws::client::ConnectConfig {
            host: self.settings.host.clone(),
            port: self.settings.port,
            dangerous: None,
            password: pw.as_ref().map(|p| p.expose().to_string()),
            event_subscriptions: None,
            broadcast_capacity: 256,
            connect_timeout: CONNECT_TIMEOUT,
        };
        let where_ = format!("{}:{}", self.settings.host, self.settings.port);
        // obws's own connect timeout covers only TCP, not the handshake.
        let connecting = obws::Client::connect_with_config(config);
        let client = match tokio::time::timeout(CONNECT_TIMEOUT * 2, connecting).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return self.connect_failed(&where_, e, pw.is_some()),
            Err(_) => {
                return self.retry_later(format!(
                    "OBS at {where_} did not complete the handshake within {} s",
                    (CONNECT_TIMEOUT * 2).as_secs()
                ))
            }
        };
        let events = match client.events() {
            Ok(ev) => Box::pin(ev),
            Err(e) => return self.retry_later(format!("OBS events unavailable: {e}")),
        };
        let version = match call(client.general().version()).await {
            Ok(v) => v,
            Err(CallError::Lost(r) | CallError::Refused(r)) => return self.retry_later(r),
        };
        let scene = call(client.scenes().current_program_scene()).await.ok();
        let recording = call(client.recording().status()).await.ok();
        if let Some(r) = &recording {
            let elapsed = r.duration.whole_milliseconds().clamp(0, i64::MAX as i128) as i64;
            self.recording.send_modify(|rec| {
                rec.active = r.active;
                rec.started_at_ms = r.active.then(|| crate::clock::now_ms() - elapsed);
            });
        }
        self.link = Some(Link { client, events });
        self.attempt = 0;
        self.state.connection = ObsConnection::Connected {
            obs_version: version.obs_studio_version.to_string(),
            websocket_version: version.obs_web_socket_version.to_string(),
        };
        self.state.program_scene = scene.map(|s| s.id.name);
        self.state.recording = recording.is_some_and(|r| r.active);
        tracing::info!(
            obs = %version.obs_studio_version,
            websocket = %version.obs_web_socket_version,
            scene = ?self.state.program_scene,
            "OBS connected"
        );
        self.publish();
        if self.state.hero {
            self.apply(Show::Hero(true)).await;
        }
    }

    fn connect_failed(&mut self, where_: &str, e: obws::error::Error, had_password: bool) {
        use obws::client::HandshakeError;
        use obws::error::Error;
        let failure = match &e {
            Error::ObsStudioVersion(found, _) => Some((
                ObsFailure::TooOld,
                format!("OBS {found} is too old: StreamCue needs OBS 30.2 or newer. Update OBS and reconnect."),
            )),
            Error::ObsWebsocketVersion(found, _) => Some((
                ObsFailure::TooOld,
                format!("obs-websocket {found} is too old: StreamCue needs 5.5 or newer (OBS 30.2+)."),
            )),
            Error::Handshake(HandshakeError::ConnectionClosed(Some(details)))
                if u16::from(details.code) == 4009 =>
            {
                Some((
                    ObsFailure::WrongPassword,
                    if had_password {
                        "OBS refused the password: check it in Settings → OBS (OBS: Tools → WebSocket Server Settings).".to_string()
                    } else {
                        "OBS asks for a password: enter it in Settings → OBS (OBS: Tools → WebSocket Server Settings).".to_string()
                    },
                ))
            }
            _ => None,
        };
        match failure {
            Some((failure, message)) => {
                tracing::warn!(%message, "OBS connection refused; not retrying until the settings change");
                self.state.connection = ObsConnection::Failed { failure, message };
                self.next_attempt = None;
                self.publish();
            }
            None => self.retry_later(format!("OBS is not reachable at {where_} ({e})")),
        }
    }

    fn retry_later(&mut self, reason: String) {
        let delay = self.setup.backoff.delay(self.attempt.max(1));
        let retry_at_ms = crate::clock::now_ms() as f64 + delay.as_millis() as f64;
        if self.attempt <= 1 {
            tracing::info!(%reason, "OBS not connected; retrying with backoff");
        }
        self.link = None;
        self.state.connection = ObsConnection::Reconnecting {
            attempt: self.attempt,
            retry_at_ms,
            reason,
        };
        self.next_attempt = Some(Instant::now() + delay);
        self.publish();
    }

    /// The connection is gone: forget what was playing (its request stays `ready`).
    pub(super) async fn lost(&mut self, reason: &str) {
        tracing::warn!(reason, "OBS disconnected");
        self.link = None;
        self.watch_lost(reason);
        self.seq.playing = None;
        self.seq.generating = None;
        self.seq.waiting.clear();
        self.state.showing = None;
        self.state.program_scene = None;
        self.state.recording = false;
        self.attempt = 1;
        self.retry_later(format!("OBS disconnected: {reason}"));
    }
}
