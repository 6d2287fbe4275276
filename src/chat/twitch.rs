//! A Twitch chat session: the twitch-irc client, joined to one channel.
//!
//! Owned by the `ChatClient` actor; dropping it closes the connection.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use twitch_irc::login::StaticLoginCredentials;
use twitch_irc::message::{ClearChatAction, ServerMessage, UserNoticeEvent};
use twitch_irc::transport::tcp::TCPTransport;
use twitch_irc::{ClientConfig, TwitchIRCClient};

use super::channel::ChannelName;
use super::dialer::{self, DialEvent, DialerLease, TwitchDial};
use super::{ChatMessage, SourceEvent};
use crate::api::{ChatFailure, SupportCounts};
use crate::clock::now_ms;
use crate::secrets::Secret;

type Client = TwitchIRCClient<TCPTransport<TwitchDial>, StaticLoginCredentials>;

/// A Twitch account to log in as. Without one, StreamCue reads anonymously.
#[derive(Clone, Debug)]
pub struct TwitchCredentials {
    pub login: String,
    pub token: Secret,
}

impl TwitchCredentials {
    /// Accepts the token with or without the `oauth:` prefix.
    pub fn new(login: &str, token: &Secret) -> Self {
        let raw = token.expose().trim();
        let raw = raw.strip_prefix("oauth:").unwrap_or(raw);
        Self {
            login: login.trim().to_ascii_lowercase(),
            token: Secret::new(raw),
        }
    }
}

pub struct TwitchSession {
    channel: ChannelName,
    /// Logged in with a token (else anonymous: chat is read-only).
    logged_in: bool,
    client: Option<Client>,
    incoming: UnboundedReceiver<ServerMessage>,
    lease: DialerLease,
    failed: bool,
    /// Sockets closed since the last JOIN was confirmed (see `explained`).
    drops_before_join: u32,
}

/// What the streamer reads after Twitch dropped two logins in a row before its welcome.
const SILENT_DROP: &str = "Twitch closed the connection before login finished: check the token \
                           and that the login name matches the token's account";

/// `oauth:…` (and anything shaped like a token after it) replaced by `oauth:***`.
fn redact_tokens(text: &str) -> String {
    text.split(' ')
        .map(|w| {
            if w.to_ascii_lowercase().starts_with("oauth:") && w.len() > 6 {
                "oauth:***"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// NOTICE texts Twitch sends when the login is refused.
fn is_login_failure(text: &str) -> bool {
    text.contains("Login authentication failed")
        || text.contains("Improperly formatted auth")
        || text.contains("Login unsuccessful")
}

impl TwitchSession {
    /// Starts connecting and joining; progress arrives through [`TwitchSession::next`].
    pub fn start(channel: ChannelName, credentials: Option<&TwitchCredentials>) -> Self {
        let lease = dialer::attach();
        // This session takes every message twitch-irc produces (see `next`), so the line
        // guards may hold twitch-irc's read-ahead to what it has not taken yet.
        lease.stats.read_ahead.enable();
        let creds = match credentials {
            Some(c) => StaticLoginCredentials::new(c.login.clone(), Some(c.token.expose().into())),
            None => StaticLoginCredentials::anonymous(),
        };
        let mut config = ClientConfig::new_simple(creds);
        // Our dialer already spaces out retries with backoff; this only stops bursts.
        config.new_connection_every = Duration::from_millis(50);
        config.connect_timeout = Duration::from_secs(20);
        // One connection carries everything. twitch-irc opens an extra pool connection when 5
        // messages were sent within 150 ms; `ChatReplies` already paces what StreamCue says (at
        // most 100 per 30 s), and an extra connection would reorder replies and look like a
        // reconnect to the dialer (which counts every new socket as an attempt).
        config.max_waiting_messages_per_connection = 200;
        let (incoming, client) = Client::new(config);
        if let Err(e) = client.join(channel.as_str().to_owned()) {
            tracing::error!(error = %e, "twitch-irc refused a validated channel name");
        }
        Self {
            channel,
            logged_in: credentials.is_some(),
            client: Some(client),
            incoming,
            lease,
            failed: false,
            drops_before_join: 0,
        }
    }

    pub fn channel(&self) -> &ChannelName {
        &self.channel
    }

    /// Logged in with a token: StreamCue may speak (anonymous chat is read-only).
    pub fn logged_in(&self) -> bool {
        self.logged_in
    }

    /// Lines dropped as malformed so far (by the line guard or as unparseable PRIVMSG).
    pub fn malformed_lines(&self) -> u64 {
        self.lease.stats.malformed.load(Ordering::Relaxed)
    }

    /// The next thing that happened. Cancel-safe. After `Failed` it never returns.
    pub async fn next(&mut self) -> SourceEvent {
        loop {
            if self.failed {
                return std::future::pending().await;
            }
            tokio::select! {
                biased;
                Some(dial) = self.lease.events.recv() => {
                    if let Some(ev) = self.on_dial(dial) {
                        return ev;
                    }
                }
                msg = self.incoming.recv() => match msg {
                    Some(msg) => {
                        self.lease.stats.read_ahead.took_one();
                        if let Some(ev) = self.on_message(msg) {
                            return ev;
                        }
                    }
                    None => {
                        self.failed = true;
                        return SourceEvent::Reconnecting {
                            attempt: 1,
                            retry_at_ms: now_ms(),
                            reason: "the chat client stopped".into(),
                        };
                    }
                },
            }
        }
    }

    /// Twitch drops a login whose name is not the token's account before its welcome, with no
    /// NOTICE. After two such drops in a row the reason says what to check.
    fn explained(&self, reason: String) -> String {
        if self.logged_in && self.drops_before_join >= 2 {
            format!("{SILENT_DROP} ({reason})")
        } else {
            reason
        }
    }

    fn on_dial(&mut self, ev: DialEvent) -> Option<SourceEvent> {
        // A socket that opened and then closed (not one that never opened).
        let closed = matches!(ev, DialEvent::Closed { .. });
        match ev {
            DialEvent::Waiting {
                attempt,
                delay,
                reason,
            } => Some(SourceEvent::Reconnecting {
                attempt,
                retry_at_ms: now_ms() + delay.as_millis() as i64,
                reason: self.explained(reason),
            }),
            DialEvent::Closed { reason } | DialEvent::Failed { error: reason } => {
                if closed {
                    self.drops_before_join += 1;
                }
                Some(SourceEvent::Reconnecting {
                    attempt: dialer::next_attempt(),
                    retry_at_ms: now_ms(),
                    reason: self.explained(reason),
                })
            }
            DialEvent::Connected => None,
        }
    }

    fn on_message(&mut self, msg: ServerMessage) -> Option<SourceEvent> {
        if let ServerMessage::Notice(n) = &msg {
            // Every NOTICE, with its msg-id: how Twitch explains refusals and limits.
            tracing::info!(
                msg_id = n.message_id.as_deref().unwrap_or("-"),
                channel = n.channel_login.as_deref().unwrap_or("-"),
                text = %redact_tokens(&n.message_text),
                "Twitch NOTICE"
            );
        }
        match msg {
            ServerMessage::Privmsg(m) => {
                let is_broadcaster = m.badges.iter().any(|b| b.name == "broadcaster");
                let is_moderator = is_broadcaster || m.badges.iter().any(|b| b.name == "moderator");
                Some(SourceEvent::Message(ChatMessage {
                    user_login: m.sender.login,
                    display_name: m.sender.name,
                    message_id: Some(m.message_id),
                    text: m.message_text,
                    emotes: m.emotes.into_iter().map(|e| e.code).collect(),
                    is_moderator,
                    is_broadcaster,
                    bits: m.bits.map_or(0, |b| b.min(u32::MAX as u64) as u32),
                }))
            }
            ServerMessage::UserNotice(n) if n.channel_login == self.channel.as_str() => {
                support_of(&n.event).map(SourceEvent::Support)
            }
            ServerMessage::Join(j) if j.channel_login == self.channel.as_str() => {
                dialer::login_confirmed();
                self.drops_before_join = 0;
                Some(SourceEvent::Joined)
            }
            ServerMessage::Notice(n) if is_login_failure(&n.message_text) => {
                self.stop();
                Some(SourceEvent::Failed {
                    failure: ChatFailure::AuthFailed,
                    message: format!(
                        "Twitch refused the login ({}). Log in again to get a fresh token.",
                        n.message_text.trim()
                    ),
                })
            }
            ServerMessage::Notice(n)
                if matches!(
                    n.message_id.as_deref(),
                    Some("msg_channel_suspended" | "msg_banned")
                ) =>
            {
                self.stop();
                Some(SourceEvent::Failed {
                    failure: ChatFailure::ChannelUnavailable,
                    message: format!("Twitch: {}", n.message_text.trim()),
                })
            }
            ServerMessage::ClearChat(c) if c.channel_login == self.channel.as_str() => {
                match c.action {
                    ClearChatAction::UserBanned { user_login, .. }
                    | ClearChatAction::UserTimedOut { user_login, .. } => {
                        Some(SourceEvent::UserBanned { login: user_login })
                    }
                    ClearChatAction::ChatCleared => None,
                }
            }
            ServerMessage::ClearMsg(c) if c.channel_login == self.channel.as_str() => {
                Some(SourceEvent::MessageDeleted {
                    message_id: c.message_id,
                })
            }
            ServerMessage::UserState(u) if u.channel_login == self.channel.as_str() => {
                let elevated = u
                    .badges
                    .iter()
                    .any(|b| b.name == "moderator" || b.name == "broadcaster");
                Some(SourceEvent::OwnStatus { elevated })
            }
            ServerMessage::Reconnect(_) => Some(SourceEvent::Reconnecting {
                attempt: 1,
                retry_at_ms: now_ms(),
                reason: "Twitch asked StreamCue to reconnect".into(),
            }),
            ref generic @ ServerMessage::Generic(_) if generic.source().command == "PRIVMSG" => {
                // A PRIVMSG twitch-irc could not understand (e.g. missing required tags).
                self.lease.stats.malformed.fetch_add(1, Ordering::Relaxed);
                None
            }
            _ => None,
        }
    }

    /// Sends a chat message to the joined channel. `text` must already be sanitised.
    pub async fn say(&self, text: &str) -> Result<(), SayError> {
        if !self.logged_in {
            return Err(SayError::ReadOnly);
        }
        let Some(client) = &self.client else {
            return Err(SayError::Closed);
        };
        client
            .say(self.channel.as_str().to_owned(), text.to_owned())
            .await
            .map_err(|e| SayError::Send(e.to_string()))
    }

    /// Drops the client, which closes its connections and stops twitch-irc's retries.
    fn stop(&mut self) {
        self.failed = true;
        self.client = None;
    }
}

/// What a USERNOTICE adds to the support counts: `sub`/`resub` a sub, each `subgift` one gift
/// (a gift bomb's `submysterygift` announces the `subgift`s that follow, so it is not counted
/// itself), `raid` a raid with its viewers. Anything else (announcements, upgrades) is none.
pub(crate) fn support_of(event: &UserNoticeEvent) -> Option<SupportCounts> {
    let clamp = |n: u64| n.min(u32::MAX as u64) as u32;
    let counts = match event {
        UserNoticeEvent::SubOrResub { .. } => SupportCounts {
            subs: 1,
            ..Default::default()
        },
        UserNoticeEvent::SubGift { .. } => SupportCounts {
            gifts: 1,
            ..Default::default()
        },
        UserNoticeEvent::Raid { viewer_count, .. } => SupportCounts {
            raids: 1,
            raid_viewers: clamp(*viewer_count),
            ..Default::default()
        },
        _ => return None,
    };
    Some(counts)
}

/// Why a chat message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SayError {
    #[error("StreamCue is not logged in to Twitch: chat is read-only")]
    ReadOnly,
    #[error("the Twitch connection is closed")]
    Closed,
    #[error("Twitch did not take the message: {0}")]
    Send(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use twitch_irc::message::IRCMessage;

    /// A USERNOTICE with the tags Twitch sends (`params`: the event's `msg-param-*` tags).
    fn line(msg_id: &str, params: &str) -> String {
        format!(
            "@badge-info=;badges=;color=;display-name=A;emotes=;flags=;id=1;login=a;mod=0;\
             msg-id={msg_id};{params};room-id=1;subscriber=0;system-msg=x;tmi-sent-ts=1;\
             user-id=2;user-type= :tmi.twitch.tv USERNOTICE #c"
        )
    }

    fn support(line: &str) -> Option<SupportCounts> {
        match ServerMessage::try_from(IRCMessage::parse(line).expect("an IRC line")) {
            Ok(ServerMessage::UserNotice(n)) => support_of(&n.event),
            other => panic!("not a USERNOTICE: {other:?}"),
        }
    }

    #[test]
    fn usernotices_count_subs_gifts_and_raids_but_not_gift_announcements() {
        let sub = "msg-param-cumulative-months=3;msg-param-months=0;\
                   msg-param-should-share-streak=0;msg-param-sub-plan-name=S;\
                   msg-param-sub-plan=1000";
        let one_sub = Some(SupportCounts {
            subs: 1,
            ..SupportCounts::default()
        });
        assert_eq!(support(&line("sub", sub)), one_sub);
        assert_eq!(support(&line("resub", sub)), one_sub);
        let gift = "msg-param-gift-months=1;msg-param-months=1;\
                    msg-param-recipient-display-name=R;msg-param-recipient-id=3;\
                    msg-param-recipient-user-name=r;msg-param-sub-plan-name=S;\
                    msg-param-sub-plan=1000";
        assert_eq!(
            support(&line("subgift", gift)),
            Some(SupportCounts {
                gifts: 1,
                ..SupportCounts::default()
            })
        );
        let bomb = "msg-param-mass-gift-count=50;msg-param-sender-count=50;msg-param-sub-plan=1000";
        assert_eq!(
            support(&line("submysterygift", bomb)),
            None,
            "its subgifts follow"
        );
        let raid = "msg-param-displayName=R;msg-param-login=r;\
                    msg-param-profileImageURL=https://x/y.png;msg-param-viewerCount=4000";
        assert_eq!(
            support(&line("raid", raid)),
            Some(SupportCounts {
                raids: 1,
                raid_viewers: 4_000,
                ..SupportCounts::default()
            })
        );
        assert_eq!(
            support(&line("announcement", "msg-param-color=PRIMARY")),
            None
        );
        let mut total = SupportCounts {
            bits: u32::MAX - 1,
            ..SupportCounts::default()
        };
        total.add(SupportCounts {
            bits: 10,
            ..SupportCounts::default()
        });
        assert_eq!(total.bits, u32::MAX, "counts saturate");
    }
}
