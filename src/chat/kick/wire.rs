//! Kick's wire format: Pusher frames (`{"event", "data", "channel"}`) and the payloads of the
//! three Kick events StreamCue reads, turned into [`SourceEvent`]s.
//!
//! Pure parsing, no I/O. Invariants: nothing the server sends is trusted; a frame or payload
//! of the wrong shape is a [`Malformed`] (the session skips and counts it), never a panic;
//! every text kept (names, messages) has its control characters replaced by spaces, and text
//! shown to the streamer is also cut to [`MAX_SHOWN_TEXT`] characters ([`shown`]).

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::api::SupportCounts;
use crate::chat::{ChatMessage, SourceEvent};

pub(super) const CHAT_EVENT: &str = "App\\Events\\ChatMessageEvent";
pub(super) const DELETED_EVENT: &str = "App\\Events\\MessageDeletedEvent";
pub(super) const BANNED_EVENT: &str = "App\\Events\\UserBannedEvent";
/// A (re)subscription: `{"chatroom_id", "username", "months"}`.
pub(super) const SUB_EVENT: &str = "App\\Events\\SubscriptionEvent";
/// Gifted subscriptions: `{"chatroom_id", "gifted_usernames": [...], "gifter_username"}`.
pub(super) const GIFTS_EVENT: &str = "App\\Events\\GiftedSubscriptionsEvent";
pub(super) const PING: &str = r#"{"event":"pusher:ping","data":{}}"#;
pub(super) const PONG: &str = r#"{"event":"pusher:pong","data":{}}"#;

/// Longest server-supplied text (an error message) shown to the streamer.
const MAX_SHOWN_TEXT: usize = 200;

/// What was wrong with a skipped frame (logged with the count, never shown to the streamer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(super) enum Malformed {
    #[error("a binary frame")]
    Binary,
    #[error("an oversized frame")]
    Oversized,
    #[error("a text frame that is not UTF-8")]
    NotUtf8,
    #[error("a frame larger than the WebSocket limit")]
    TooLarge,
    #[error("a WebSocket protocol violation")]
    Protocol,
    #[error("a frame that is not a Pusher event")]
    NotPusher,
    #[error("an event whose data is not a JSON string")]
    DataNotString,
    #[error("a chat message of an unknown shape")]
    ChatShape,
    #[error("a chat message without an id")]
    ChatWithoutId,
    #[error("a chat message without a sender")]
    ChatWithoutSender,
    #[error("a deletion of an unknown shape")]
    DeletionShape,
    #[error("a deletion without an id")]
    DeletionWithoutId,
    #[error("a ban of an unknown shape")]
    BanShape,
    #[error("a ban without a user")]
    BanWithoutUser,
    #[error("gifted subscriptions of an unknown shape")]
    GiftsShape,
}

/// A Pusher frame: `{"event": "...", "data": ..., "channel": "..."}`.
#[derive(Deserialize)]
pub(super) struct Envelope {
    pub event: String,
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub channel: Option<String>,
}

impl Envelope {
    pub fn parse(text: &str) -> Result<Envelope, Malformed> {
        serde_json::from_str(text).map_err(|_| Malformed::NotPusher)
    }
}

/// Pusher's `data`: a JSON string holding JSON (usual), or the JSON itself.
pub(super) fn decode_data(data: Option<&Value>) -> Option<Value> {
    match data? {
        Value::String(s) => serde_json::from_str(s).ok(),
        other => Some(other.clone()),
    }
}

/// One of Kick's events (`CHAT_EVENT`, `DELETED_EVENT`, `BANNED_EVENT`, `SUB_EVENT`,
/// `GIFTS_EVENT`) from its `data`.
pub(super) fn kick_event(event: &str, data: Option<Value>) -> Result<SourceEvent, Malformed> {
    let Some(Value::String(data)) = data else {
        return Err(Malformed::DataNotString);
    };
    match event {
        CHAT_EVENT => chat_message(&data),
        DELETED_EVENT => message_deleted(&data),
        SUB_EVENT => Ok(SourceEvent::Support(SupportCounts {
            subs: 1,
            ..SupportCounts::default()
        })),
        GIFTS_EVENT => gifted_subscriptions(&data),
        _ => user_banned(&data),
    }
}

#[derive(Deserialize)]
struct ChatData {
    id: IdValue,
    content: String,
    sender: Sender,
}

#[derive(Deserialize)]
struct Sender {
    username: String,
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    identity: Option<Identity>,
}

#[derive(Deserialize, Default)]
struct Identity {
    #[serde(default)]
    badges: Vec<Badge>,
}

#[derive(Deserialize)]
struct Badge {
    #[serde(rename = "type")]
    kind: String,
}

/// An id Kick sends as a string (a UUID) or, in older payloads, as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdValue {
    Text(String),
    Number(u64),
}

impl IdValue {
    fn into_string(self) -> Option<String> {
        let s = match self {
            IdValue::Text(s) => s,
            IdValue::Number(n) => n.to_string(),
        };
        let s = s.trim().to_string();
        (!s.is_empty() && s.len() <= 100).then_some(s)
    }
}

/// `App\Events\ChatMessageEvent`'s data: `{"id", "chatroom_id", "content", "type",
/// "created_at", "sender": {"id", "username", "slug", "identity": {"color", "badges": [{"type",
/// "text", "count"?}]}}, "metadata"?}`.
fn chat_message(data: &str) -> Result<SourceEvent, Malformed> {
    let chat: ChatData = serde_json::from_str(data).map_err(|_| Malformed::ChatShape)?;
    let message_id = chat.id.into_string().ok_or(Malformed::ChatWithoutId)?;
    let display_name = clean(&chat.sender.username);
    if display_name.is_empty() {
        return Err(Malformed::ChatWithoutSender);
    }
    let user_login = chat
        .sender
        .slug
        .as_deref()
        .map(clean)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| display_name.to_lowercase());
    let badges = chat.sender.identity.unwrap_or_default().badges;
    let is_broadcaster = badges.iter().any(|b| b.kind == "broadcaster");
    let is_moderator = is_broadcaster || badges.iter().any(|b| b.kind == "moderator");
    let (text, emotes) = parse_emotes(&chat.content);
    Ok(SourceEvent::Message(ChatMessage {
        user_login,
        display_name,
        message_id: Some(message_id),
        text: clean(&text),
        emotes,
        is_moderator,
        is_broadcaster,
        bits: 0,
    }))
}

/// `App\Events\MessageDeletedEvent`'s data: `{"id", "message": {"id"}}`.
fn message_deleted(data: &str) -> Result<SourceEvent, Malformed> {
    #[derive(Deserialize)]
    struct Deleted {
        message: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        id: IdValue,
    }
    let d: Deleted = serde_json::from_str(data).map_err(|_| Malformed::DeletionShape)?;
    let message_id = d
        .message
        .id
        .into_string()
        .ok_or(Malformed::DeletionWithoutId)?;
    Ok(SourceEvent::MessageDeleted { message_id })
}

/// `App\Events\UserBannedEvent`'s data: `{"id", "user": {"id", "username", "slug"},
/// "banned_by": {...}, "expires_at"?}` (timeouts carry `expires_at`; both map to a ban).
fn user_banned(data: &str) -> Result<SourceEvent, Malformed> {
    #[derive(Deserialize)]
    struct Banned {
        user: User,
    }
    #[derive(Deserialize)]
    struct User {
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        slug: Option<String>,
    }
    let b: Banned = serde_json::from_str(data).map_err(|_| Malformed::BanShape)?;
    let login = b
        .user
        .slug
        .as_deref()
        .map(clean)
        .filter(|s| !s.is_empty())
        .or_else(|| b.user.username.as_deref().map(|u| clean(u).to_lowercase()))
        .filter(|s| !s.is_empty())
        .ok_or(Malformed::BanWithoutUser)?;
    Ok(SourceEvent::UserBanned { login })
}

/// `App\Events\GiftedSubscriptionsEvent`'s data: one gift per name in `gifted_usernames`
/// (the names themselves are not kept).
fn gifted_subscriptions(data: &str) -> Result<SourceEvent, Malformed> {
    #[derive(Deserialize)]
    struct Gifts {
        gifted_usernames: Vec<serde_json::Value>,
    }
    let g: Gifts = serde_json::from_str(data).map_err(|_| Malformed::GiftsShape)?;
    if g.gifted_usernames.is_empty() {
        return Err(Malformed::GiftsShape);
    }
    Ok(SourceEvent::Support(SupportCounts {
        gifts: g.gifted_usernames.len().min(u32::MAX as usize) as u32,
        ..SupportCounts::default()
    }))
}

/// Replaces Kick's inline emotes `[emote:ID:NAME]` by `NAME`; returns the text and the names
/// in order.
pub fn parse_emotes(content: &str) -> (String, Vec<String>) {
    static EMOTE: OnceLock<regex::Regex> = OnceLock::new();
    let re = EMOTE.get_or_init(|| {
        regex::Regex::new(r"\[emote:[0-9]{1,20}:([^\[\]:\s]{1,100})\]").expect("valid regex")
    });
    let mut emotes = Vec::new();
    let text = re.replace_all(content, |caps: &regex::Captures<'_>| {
        let name = caps[1].to_string();
        emotes.push(name.clone());
        name
    });
    (text.into_owned(), emotes)
}

/// Control characters (line breaks included) become spaces; the ends are trimmed.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Server text fit to show: cleaned and cut to a sane length.
pub(super) fn shown(s: &str) -> String {
    let s = clean(s);
    if s.chars().count() <= MAX_SHOWN_TEXT {
        s
    } else {
        let mut cut: String = s.chars().take(MAX_SHOWN_TEXT).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emotes_become_their_names() {
        let (text, emotes) = parse_emotes("hi [emote:37225:KEKLEO] and [emote:1:Hi][emote:2:Hi]!");
        assert_eq!(text, "hi KEKLEO and HiHi!");
        assert_eq!(emotes, ["KEKLEO", "Hi", "Hi"]);
        // Not emotes: left as typed.
        for s in [
            "[emote:x:Y]",
            "[emote:1:]",
            "[emote:1:a b]",
            "[emote:1:Y",
            "[emote::Y]",
        ] {
            assert_eq!(parse_emotes(s), (s.to_string(), vec![]));
        }
    }

    #[test]
    fn payloads_of_the_wrong_shape_say_what_was_wrong() {
        let ev = |data: &str| kick_event(CHAT_EVENT, Some(Value::String(data.into())));
        assert_eq!(
            kick_event(CHAT_EVENT, Some(serde_json::json!({}))),
            Err(Malformed::DataNotString)
        );
        assert_eq!(ev("[]"), Err(Malformed::ChatShape));
        assert_eq!(
            ev(r#"{"id":" ","content":"x","sender":{"username":"a"}}"#),
            Err(Malformed::ChatWithoutId)
        );
        assert_eq!(
            ev(r#"{"id":"1","content":"x","sender":{"username":"\n"}}"#),
            Err(Malformed::ChatWithoutSender)
        );
        assert_eq!(
            kick_event(BANNED_EVENT, Some(Value::String(r#"{"user":{}}"#.into()))),
            Err(Malformed::BanWithoutUser)
        );
        assert_eq!(
            Malformed::NotPusher.to_string(),
            "a frame that is not a Pusher event"
        );
        assert_eq!(shown(&"x".repeat(300)).chars().count(), 201);
    }

    #[test]
    fn subscriptions_and_gifts_are_counts() {
        let ev = |event: &str, data: &str| kick_event(event, Some(Value::String(data.into())));
        let counts = |subs, gifts| {
            Ok(SourceEvent::Support(SupportCounts {
                subs,
                gifts,
                ..SupportCounts::default()
            }))
        };
        assert_eq!(
            ev(
                SUB_EVENT,
                r#"{"chatroom_id":668,"username":"a","months":3}"#
            ),
            counts(1, 0)
        );
        assert_eq!(
            ev(SUB_EVENT, "{}"),
            counts(1, 0),
            "a sub is a sub, whatever it says"
        );
        assert_eq!(
            ev(
                GIFTS_EVENT,
                r#"{"gifted_usernames":["a","b","c"],"gifter_username":"g"}"#
            ),
            counts(0, 3)
        );
        for bad in [
            "{}",
            r#"{"gifted_usernames":[]}"#,
            r#"{"gifted_usernames":"a"}"#,
            "[]",
        ] {
            assert_eq!(ev(GIFTS_EVENT, bad), Err(Malformed::GiftsShape), "{bad}");
        }
    }
}
