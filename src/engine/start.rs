//! `Engine::start`: what is prepared on the caller's thread before the engine thread runs.
//!
//! It loads the config (a problem becomes a notice, never a failed start), decides where
//! Twitch and Kick chat go (the development overrides are logged and announced), spawns the
//! "streamcue-engine" thread with its current-thread runtime, and returns only once the actors
//! are up (or the start failed, in which case the thread has been joined). When the runtime
//! stops, blocking calls get `BLOCKING_GRACE` before they are left behind.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::run::{run_engine, ActorOptions, Actors};
use super::{
    Engine, EngineHandle, EngineOptions, StartError, KICK_API_URL_ENV, KICK_VIEWERS_EVERY_MS_ENV,
    KICK_WS_URL_ENV, TWITCH_IRC_ADDR_ENV,
};
use crate::api::{Notice, NoticeCode, NoticeLevel};
use crate::chat::dialer::{self, DialTarget};
use crate::chat::kick::KickOptions;
use crate::chat::twitch::TwitchCredentials;
use crate::chat::{Backoff, ChatOptions, ChatSlot};
use crate::config::Config;
use crate::events::EventBus;
use crate::generator::GeneratorOptions;
use crate::queue::QueueOptions;
use crate::secrets::{SecretKey, SecretStore};

/// How long blocking calls (keyring, file system) get when the engine's runtime stops.
const BLOCKING_GRACE: Duration = Duration::from_secs(2);

impl Engine {
    pub async fn start(options: EngineOptions) -> Result<Engine, StartError> {
        let (config, problem) = Config::load_or_create(&options.paths.config_file);
        // After the config file may have been made, before the database is opened.
        for problem in options.paths.make_private() {
            tracing::warn!(%problem, "StreamCue's folders could not be made private");
        }
        let mut notices = Vec::new();
        if let Some(p) = problem {
            tracing::warn!(problem = %p.message, "config problem");
            notices.push(Notice {
                level: NoticeLevel::Warning,
                code: NoticeCode::ConfigInvalid,
                message: p.message,
            });
        }
        let keyring_available = options.secrets.available();
        if !keyring_available {
            let message = match options.secrets.unavailable_because() {
                Some(crate::secrets::SecretError::NotAnswering) => {
                    "The OS keyring does not answer (it is probably locked): StreamCue reads chat \
                     anonymously for now. Unlock your keyring, then restart StreamCue to use your \
                     saved login."
                }
                _ => {
                    "No OS keyring is available: StreamCue reads chat anonymously and cannot save \
                     logins. Install and unlock a keyring (e.g. GNOME Keyring) to enable them."
                }
            };
            notices.push(Notice {
                level: NoticeLevel::Warning,
                code: NoticeCode::KeyringUnavailable,
                message: message.into(),
            });
        }
        let credentials = twitch_credentials(&config, options.secrets.as_ref());
        match &options.twitch_irc_addr {
            Some(addr) => {
                tracing::warn!(addr, "Twitch IRC address overridden (development/testing)");
                notices.push(Notice {
                    level: NoticeLevel::Info,
                    code: NoticeCode::TwitchAddressOverridden,
                    message: format!("Twitch chat goes to {addr} ({TWITCH_IRC_ADDR_ENV} is set)."),
                });
                dialer::set_target(DialTarget::Plain(addr.clone()));
            }
            None => dialer::set_target(DialTarget::Twitch),
        }
        dialer::set_backoff(options.backoff.clone());

        let events = EventBus::default();
        let cancel = CancellationToken::new();
        let (ready_tx, ready_rx) = oneshot::channel::<Result<Actors, StartError>>();
        let (stopped_tx, stopped_rx) = oneshot::channel::<()>();
        let db_path = options.paths.database_file.clone();
        let (queue_options, queue_problems) = QueueOptions::from_config(&config.queue);
        for message in queue_problems {
            tracing::warn!(problem = %message, "config problem");
            notices.push(Notice {
                level: NoticeLevel::Warning,
                code: NoticeCode::ConfigInvalid,
                message,
            });
        }
        let chat_options = ChatOptions {
            twitch_credentials: credentials,
            inbound: None, // set on the engine thread, with the queue's channel
            command_prefix: queue_options.names.prefix.clone(),
            detector: None, // set on the engine thread, with the detector's channel
            cohost: None,   // set on the engine thread, with the co-host's feed
            slot: ChatSlot::Main,
            kick: kick_options(&config, options.backoff.clone()),
        };
        let generator_options = GeneratorOptions::from_config(&config.generator);
        let default_paths = options.paths.clone();
        let ffmpeg = config.generator.ffmpeg.clone();
        let watch_resolver = crate::watch::resolve::Resolver {
            streamlink: config.watch.streamlink.clone(),
            timeout: std::time::Duration::from_secs(
                config.watch.resolve_timeout_seconds.clamp(1, 600),
            ),
        };
        let thread_events = events.clone();
        let thread_secrets = options.secrets.clone();
        let thread_cancel = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("streamcue-engine".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(StartError::Thread(e.to_string())));
                        return;
                    }
                };
                rt.block_on(run_engine(
                    ActorOptions {
                        secrets: thread_secrets,
                        db_path,
                        chat_options,
                        queue_options,
                        generator_options,
                        paths: default_paths,
                        ffmpeg,
                        watch_resolver,
                        local_server: options.local_server,
                        ui_assets: options.ui_assets,
                    },
                    thread_events,
                    thread_cancel,
                    ready_tx,
                ));
                // Blocking calls still running (a keyring that never answers) are left behind
                // rather than holding Quit: the process is about to exit.
                rt.shutdown_timeout(BLOCKING_GRACE);
                let _ = stopped_tx.send(());
            })
            .map_err(|e| StartError::Thread(e.to_string()))?;
        let started = match ready_rx.await {
            Ok(Ok(started)) => started,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(StartError::Thread(
                    "the engine thread ended during start".into(),
                ));
            }
        };
        Ok(Engine {
            handle: EngineHandle {
                actors: started,
                twitch_client_id: config.chat.twitch_client_id.trim().into(),
                events,
                notices: Arc::new(notices),
                paths: Arc::new(options.paths),
                keyring_available,
                default_channel: config.chat.default_channel.trim().into(),
            },
            cancel,
            stopped: Some(stopped_rx),
            thread: Some(thread),
            config,
        })
    }
}

/// How to reach Kick: the config's app key and cluster, or the development overrides.
fn kick_options(config: &Config, backoff: Backoff) -> KickOptions {
    let env = |name: &str| std::env::var(name).ok().filter(|s| !s.trim().is_empty());
    let mut o = KickOptions {
        app_key: config.kick.app_key.trim().to_string(),
        cluster: config.kick.cluster.trim().to_string(),
        backoff,
        ..KickOptions::default()
    };
    if let Some(url) = env(KICK_WS_URL_ENV) {
        tracing::warn!(%url, "Kick chat address overridden (development/testing)");
        o.ws_url = url;
    }
    if let Some(url) = env(KICK_API_URL_ENV) {
        o.api_base = url;
    }
    if let Some(ms) = env(KICK_VIEWERS_EVERY_MS_ENV).and_then(|v| v.trim().parse().ok()) {
        o.viewers_every = std::time::Duration::from_millis(ms);
    }
    o
}

fn twitch_credentials(config: &Config, secrets: &dyn SecretStore) -> Option<TwitchCredentials> {
    let login = config.chat.twitch_login.trim();
    if login.is_empty() {
        return None;
    }
    match secrets.get(SecretKey::TwitchToken) {
        Ok(Some(token)) => Some(TwitchCredentials::new(login, &token)),
        Ok(None) => {
            tracing::info!("no Twitch token saved: reading chat anonymously");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read the Twitch token: reading chat anonymously");
            None
        }
    }
}
