//! A chat session's beginning and end: what a connect asks for (checked), the Kick
//! channel-name lookup off the actor's loop, starting the live session, and ending it.
//!
//! Invariants: at most one session is live; its `chat_sessions` row exists before any event
//! about it; a Kick lookup that finishes for an older connect attempt does not connect; ending a
//! session closes its source first, then saves its last seconds and totals.

use std::time::Duration;

use tokio::sync::oneshot;

use crate::actor::spawn_racing;

use super::{ChatActor, Command, Live, Source};
use crate::api::{ApiError, ChatCounters, ChatState, ChatTarget, ErrorCode};
use crate::chat::channel::ChannelName;
use crate::chat::demo::DemoSession;
use crate::chat::kick::{chatroom_id_for, KickSession, KickTarget};
use crate::chat::twitch::{TwitchCredentials, TwitchSession};
use crate::chat::velocity::VelocityMeter;
use crate::clock::now_ms;
use crate::db::Platform;
use crate::moments::DetectorInput;
use crate::queue::Inbound;

/// What a connect asks for: a session that can start now, or a Kick channel name to look up
/// first.
pub(super) enum Plan {
    Ready(Planned),
    LookUpKick(String),
}

/// A chat session about to start.
pub(super) enum Planned {
    Demo,
    Twitch(ChannelName),
    /// `slug` when joined by channel name (its viewer count can then be read).
    Kick {
        shown: String,
        room: u64,
        slug: Option<String>,
    },
}

/// How long Kick's website gets to answer a channel-name lookup.
const KICK_LOOKUP_TIMEOUT: Duration = Duration::from_secs(15);

impl ChatActor {
    /// What `target` means, checked.
    pub(super) fn plan(&self, target: &ChatTarget) -> Result<Plan, ApiError> {
        self.refuse_if_live()?;
        let invalid = |m: String| ApiError::new(ErrorCode::InvalidChannel, m);
        Ok(Plan::Ready(match target {
            ChatTarget::Demo => Planned::Demo,
            ChatTarget::Twitch { channel } => {
                Planned::Twitch(ChannelName::parse(channel).map_err(|e| invalid(e.to_string()))?)
            }
            ChatTarget::Kick { channel } => {
                match KickTarget::parse(channel).map_err(|e| invalid(e.to_string()))? {
                    KickTarget::ChatroomId(id) => Planned::Kick {
                        shown: id.to_string(),
                        room: id,
                        slug: None,
                    },
                    KickTarget::Slug(slug) => return Ok(Plan::LookUpKick(slug)),
                }
            }
        }))
    }

    /// Looks up a Kick channel's chatroom id on a tracked task that races the actor's token
    /// (Kick's website may take up to [`KICK_LOOKUP_TIMEOUT`]); the result comes back as
    /// [`Command::KickLookedUp`], which answers `reply`.
    pub(super) fn look_up_kick(
        &self,
        slug: String,
        reply: oneshot::Sender<Result<ChatState, ApiError>>,
    ) {
        let api_base = self.options.kick.api_base.clone();
        let mailbox = self.mailbox.clone();
        let attempt = self.lookup_attempt;
        let work = async move {
            let invalid = |m: String| ApiError::new(ErrorCode::InvalidChannel, m);
            let room = match tokio::time::timeout(
                KICK_LOOKUP_TIMEOUT,
                chatroom_id_for(&slug, &api_base),
            )
            .await
            {
                Err(_) => Err(invalid(format!(
                    "Kick did not answer the lookup of {slug} within {} s; paste the channel's chatroom id instead.",
                    KICK_LOOKUP_TIMEOUT.as_secs()
                ))),
                Ok(r) => r.map_err(|e| invalid(e.to_string())),
            };
            (slug, room)
        };
        spawn_racing(
            &self.tracker,
            self.cancel.clone(),
            work,
            move |r| async move {
                if let Some((slug, room)) = r {
                    let looked_up = Command::KickLookedUp {
                        attempt,
                        slug,
                        room,
                        reply,
                    };
                    let _ = mailbox.tell(looked_up).await;
                }
            },
        );
    }

    /// Starts the chat session `planned` describes.
    pub(super) async fn start_live(
        &mut self,
        planned: Planned,
        credentials: Option<TwitchCredentials>,
    ) -> Result<ChatState, ApiError> {
        self.refuse_if_live()?;
        let (platform, shown) = match &planned {
            Planned::Demo => (Platform::Demo, "demo".to_string()),
            Planned::Twitch(name) => (Platform::Twitch, name.to_string()),
            Planned::Kick { shown, .. } => (Platform::Kick, shown.clone()),
        };
        let started = now_ms();
        let session_id = self
            .db
            .sessions()
            .start(platform, &shown, started)
            .await
            .map_err(ApiError::from)?;
        let mut viewer_poll = None;
        let source = match planned {
            Planned::Kick { room, slug, .. } => {
                match slug {
                    Some(slug) => viewer_poll = Some(self.poll_kick_viewers(session_id, slug)),
                    None => tracing::info!(
                        session_id,
                        "joined Kick by chatroom id: no viewer count (the viewer_spike trigger \
                         needs the channel name)"
                    ),
                }
                Source::Kick(KickSession::start(room, self.options.kick.clone()))
            }
            Planned::Demo => Source::Demo(DemoSession::start()),
            Planned::Twitch(name) => Source::Twitch(TwitchSession::start(
                name,
                credentials
                    .as_ref()
                    .or(self.options.twitch_credentials.as_ref()),
            )),
        };
        tracing::info!(session_id, channel = %shown, platform = platform.as_str(), "chat session started");
        self.forward(Inbound::SessionStarted { session_id });
        self.to_detector(DetectorInput::SessionStarted {
            session_id,
            channel_key: format!("{}:{}", platform.as_str(), shown.to_lowercase()),
            started_at_ms: started,
        });
        self.live = Some(Live {
            source,
            session_id,
            platform,
            channel: shown.clone(),
            meter: VelocityMeter::new(started.div_euclid(1000)),
            counters: ChatCounters::default(),
            joined_once: false,
            elevated: false,
            samples: Vec::new(),
            support: Default::default(),
            viewers: None,
            _viewer_poll: viewer_poll,
        });
        self.update_say_status();
        self.set_state(ChatState::Connecting {
            platform,
            channel: shown,
        });
        Ok(self.state.clone())
    }
    /// Ends the live session (if any): saves its last seconds and totals, then forgets it.
    pub(super) async fn end_live(&mut self, reason: &str) {
        let Some(mut live) = self.live.take() else {
            return;
        };
        self.update_say_status();
        live.counters.malformed_lines = live.source.malformed_lines() as u32;
        drop(live.source); // closes the connection first: nothing more is counted.
        let now = now_ms();
        let (_, minutes) = live.meter.close_until(now.div_euclid(1000) + 1);
        let saved = self
            .db
            .velocity()
            .save_minutes(live.session_id, &minutes, live.counters);
        if let Err(e) = saved.await {
            tracing::error!(error = %e, "could not save the last velocity");
        }
        if let Err(e) = self
            .db
            .sessions()
            .end(live.session_id, now, reason, live.counters)
            .await
        {
            tracing::error!(error = %e, "could not end the chat session");
        }
        self.to_detector(DetectorInput::SessionEnded {
            session_id: live.session_id,
        });
        tracing::info!(
            session_id = live.session_id,
            reason,
            messages = live.counters.messages,
            "chat session ended"
        );
    }

    /// A chat slot holds one session at a time.
    fn refuse_if_live(&self) -> Result<(), ApiError> {
        match self.live {
            Some(_) => Err(ApiError::new(
                ErrorCode::AlreadyConnected,
                "Already connected; disconnect first.",
            )),
            None => Ok(()),
        }
    }
}
