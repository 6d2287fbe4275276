//! What Kick sends: chat events shaped like recorded Kick payloads ([`KickChat`]), Pusher event
//! frames with their data double-encoded ([`event_frame`]), and the channel names.

use serde_json::{json, Value};

use crate::ids::{fnv1a, uuid_like};

/// One chat line to send, as Kick's `App\Events\ChatMessageEvent` carries it.
#[derive(Debug, Clone)]
pub struct KickChat {
    /// Kick uses UUIDs.
    pub id: String,
    pub user_id: u64,
    pub username: String,
    /// `None` leaves `slug` out of the payload.
    pub slug: Option<String>,
    /// With emotes inline as `[emote:ID:NAME]`.
    pub content: String,
    pub color: String,
    /// Badge `type`s: `broadcaster`, `moderator`, `vip`, `og`, `subscriber`, `founder`...
    pub badges: Vec<String>,
    /// `message` or `reply`.
    pub kind: String,
}

impl KickChat {
    pub fn new(username: &str, content: &str) -> KickChat {
        let seed = fnv1a(username, 0) ^ fnv1a(content, 0).rotate_left(17);
        KickChat {
            id: uuid_like(seed),
            user_id: 1_000_000 + seed % 100_000_000,
            username: username.to_string(),
            slug: Some(username.to_ascii_lowercase().replace('_', "-")),
            content: content.to_string(),
            color: "#1475E1".into(),
            badges: Vec::new(),
            kind: "message".into(),
        }
    }

    pub fn id(mut self, id: &str) -> KickChat {
        self.id = id.to_string();
        self
    }

    pub fn slug(mut self, slug: Option<&str>) -> KickChat {
        self.slug = slug.map(str::to_string);
        self
    }

    pub fn badge(mut self, kind: &str) -> KickChat {
        self.badges.push(kind.to_string());
        self
    }

    pub fn reply(mut self) -> KickChat {
        self.kind = "reply".into();
        self
    }

    /// The inner event data (what Kick double-encodes into `data`).
    pub fn data(&self, chatroom: u64) -> Value {
        let badges: Vec<Value> = self
            .badges
            .iter()
            .map(|kind| {
                let mut b = json!({ "type": kind, "text": badge_text(kind) });
                if kind == "subscriber" {
                    b["count"] = json!(3);
                }
                b
            })
            .collect();
        let mut sender = json!({
            "id": self.user_id,
            "username": self.username,
            "identity": { "color": self.color, "badges": badges },
        });
        if let Some(slug) = &self.slug {
            sender["slug"] = json!(slug);
        }
        let mut data = json!({
            "id": self.id,
            "chatroom_id": chatroom,
            "content": self.content,
            "type": self.kind,
            "created_at": "2025-07-19T03:47:45+00:00",
            "sender": sender,
            "metadata": { "message_ref": "1752896864929" },
        });
        if self.kind == "reply" {
            data["metadata"]["original_sender"] = json!({ "id": 2853400, "username": "someone" });
            data["metadata"]["original_message"] =
                json!({ "id": uuid_like(7), "content": "earlier [emote:37225:KEKLEO]" });
        }
        data
    }
}

fn badge_text(kind: &str) -> String {
    match kind {
        "vip" => "VIP".into(),
        "og" => "OG".into(),
        other => {
            let mut c = other.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        }
    }
}

/// A Pusher event frame with `data` double-encoded (a JSON string), as Kick sends them.
pub fn event_frame(event: &str, channel: Option<&str>, data: &Value) -> String {
    let mut frame = json!({ "event": event, "data": data.to_string() });
    if let Some(channel) = channel {
        frame["channel"] = json!(channel);
    }
    frame.to_string()
}

pub fn chatroom_channel(chatroom: u64) -> String {
    format!("chatrooms.{chatroom}.v2")
}
