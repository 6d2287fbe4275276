//! Chat: sources (Twitch, demo) behind one event type, and the `ChatClient` actor.

mod backoff;
pub mod channel;
mod client;
pub mod demo;
pub mod dialer;
pub mod invisible;
pub mod kick;
pub mod line_guard;
pub mod outgoing;
mod tls;
pub mod twitch;
mod velocity;

pub use backoff::Backoff;
pub use channel::{ChannelName, ChannelNameError};
pub use client::{ChatClient, ChatOptions, ChatSlot, SayStatus};
pub use velocity::{VelocityMeter, LIVE_WINDOW_SECS};

use crate::api::ChatFailure;

/// One chat line, whatever platform it came from. (Only counts and names are ever stored.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub user_login: String,
    /// How the viewer's name is shown (falls back to the login).
    pub display_name: String,
    /// The platform's id for this message (Twitch `id` tag), for moderation (CLEARMSG).
    pub message_id: Option<String>,
    pub text: String,
    /// Emote names in the order they appear (Twitch `emotes` tag).
    pub emotes: Vec<String>,
    pub is_moderator: bool,
    pub is_broadcaster: bool,
    /// Bits cheered with this message (Twitch `bits` tag; 0 elsewhere).
    pub bits: u32,
}

/// What a chat source tells the `ChatClient`.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceEvent {
    Message(ChatMessage),
    /// Subs, gifts or a raid (Twitch USERNOTICE, Kick subscription events); counts only.
    Support(crate::api::SupportCounts),
    /// Joined the channel (first time, or again after a reconnect).
    Joined,
    /// The connection is gone; the next attempt starts at `retry_at_ms` (Unix ms).
    Reconnecting {
        attempt: u32,
        retry_at_ms: i64,
        reason: String,
    },
    /// The source stopped for good.
    Failed {
        failure: ChatFailure,
        message: String,
    },
    /// A moderator banned or timed out a viewer (Twitch CLEARCHAT with a user).
    UserBanned {
        login: String,
    },
    /// A moderator deleted one message (Twitch CLEARMSG).
    MessageDeleted {
        message_id: String,
    },
    /// What Twitch says about StreamCue's own account in the channel (USERSTATE).
    OwnStatus {
        elevated: bool,
    },
}
