//! What the fake IRC server sends as chat: [`Privmsg`] builds a `PRIVMSG` line with the tags
//! Twitch puts on it, [`sample_privmsg`] a varied, realistic chat, and the ids Twitch uses
//! (room ids, message ids), all deterministic in their inputs (only `tmi-sent-ts` is now).

use std::fmt::Write as _;

use super::SERVER;
use crate::ids::{fnv1a, now_ms, splitmix64, uuid_like};

/// Well-known global Twitch emotes: (code, id).
pub const EMOTES: &[(&str, &str)] = &[
    ("Kappa", "25"),
    ("PogChamp", "305954156"),
    ("LUL", "425618"),
    ("BibleThump", "86"),
    ("Kreygasm", "41"),
    ("SeemsGood", "64138"),
    ("<3", "555555584"),
];

pub(crate) fn normalise_channel(channel: &str) -> String {
    channel.trim().trim_start_matches('#').to_ascii_lowercase()
}

/// A stable numeric id for a name (Twitch ids are decimal strings).
pub(super) fn stable_id(s: &str, salt: u64) -> u64 {
    10_000_000 + fnv1a(s, salt) % 900_000_000
}

/// The `room-id` used for a channel.
pub fn room_id(channel: &str) -> String {
    stable_id(&normalise_channel(channel), 1).to_string()
}

/// A UUID-looking message id, deterministic in `seed`.
pub fn message_id(seed: u64) -> String {
    uuid_like(seed)
}

/// IRCv3 tag value escaping (`;` → `\:`, space → `\s`, `\` → `\\`, CR → `\r`, LF → `\n`).
pub fn escape_tag_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            ';' => out.push_str("\\:"),
            ' ' => out.push_str("\\s"),
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The `emotes` tag for `text`: every whitespace-separated word that is one of [`EMOTES`],
/// as `id:start-end,start-end/id:start-end` with inclusive indices in characters (code
/// points), ids in order of first appearance.
pub fn emotes_tag(text: &str) -> String {
    let mut groups: Vec<(&str, Vec<(usize, usize)>)> = Vec::new();
    let mut index = 0usize;
    let mut word_start: Option<usize> = None;
    let mut word = String::new();
    let mut flush = |word: &mut String, start: Option<usize>, end: usize| {
        if let (Some(start), Some((_, id))) = (
            start,
            EMOTES.iter().find(|(code, _)| *code == word.as_str()),
        ) {
            match groups.iter_mut().find(|(g, _)| g == id) {
                Some((_, ranges)) => ranges.push((start, end - 1)),
                None => groups.push((id, vec![(start, end - 1)])),
            }
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut word, word_start.take(), index);
        } else {
            if word_start.is_none() {
                word_start = Some(index);
            }
            word.push(c);
        }
        index += 1;
    }
    flush(&mut word, word_start.take(), index);
    groups
        .iter()
        .map(|(id, ranges)| {
            let ranges: Vec<String> = ranges.iter().map(|(s, e)| format!("{s}-{e}")).collect();
            format!("{id}:{}", ranges.join(","))
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A chat message as Twitch sends it (`PRIVMSG` with the usual IRCv3 tags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privmsg {
    pub channel: String,
    pub room_id: String,
    pub login: String,
    pub display_name: String,
    pub user_id: String,
    pub text: String,
    /// `""` or `#RRGGBB`.
    pub color: String,
    /// Raw `badges` value, e.g. `moderator/1,subscriber/12`.
    pub badges: String,
    /// Raw `badge-info` value, e.g. `subscriber/14`.
    pub badge_info: String,
    /// Raw `emotes` value; [`Privmsg::new`] computes it from the text.
    pub emotes: String,
    pub moderator: bool,
    pub subscriber: bool,
    pub turbo: bool,
    pub id: String,
    pub tmi_sent_ts: i64,
    /// A `/me` message (`\x01ACTION ...\x01`).
    pub action: bool,
    /// Extra tags appended as given (`key`, raw value; `None` = a tag with no `=`).
    pub extra_tags: Vec<(String, Option<String>)>,
}

impl Privmsg {
    pub fn new(channel: &str, login: &str, text: &str) -> Self {
        let channel = normalise_channel(channel);
        let login = login.to_ascii_lowercase();
        let seed = stable_id(&login, 2) ^ stable_id(text, 3);
        Self {
            room_id: room_id(&channel),
            user_id: stable_id(&login, 4).to_string(),
            display_name: login.clone(),
            color: String::new(),
            badges: String::new(),
            badge_info: String::new(),
            emotes: emotes_tag(text),
            moderator: false,
            subscriber: false,
            turbo: false,
            id: message_id(seed),
            tmi_sent_ts: now_ms(),
            action: false,
            extra_tags: Vec::new(),
            channel,
            login,
            text: text.to_string(),
        }
    }

    pub fn display_name(mut self, name: &str) -> Self {
        self.display_name = name.to_string();
        self
    }

    pub fn color(mut self, color: &str) -> Self {
        self.color = color.to_string();
        self
    }

    pub fn moderator(mut self) -> Self {
        self.moderator = true;
        self.badges = join_badges(&self.badges, "moderator/1");
        self
    }

    pub fn broadcaster(mut self) -> Self {
        self.badges = join_badges(&self.badges, "broadcaster/1");
        self
    }

    pub fn subscriber(mut self, months: u32) -> Self {
        self.subscriber = true;
        let tier = match months {
            0..=2 => 0,
            3..=5 => 3,
            6..=8 => 6,
            9..=11 => 9,
            _ => 12,
        };
        self.badges = join_badges(&self.badges, &format!("subscriber/{tier}"));
        self.badge_info = format!("subscriber/{months}");
        self
    }

    pub fn action(mut self) -> Self {
        self.action = true;
        self
    }

    pub fn id(mut self, id: &str) -> Self {
        self.id = id.to_string();
        self
    }

    pub fn tag(mut self, key: &str, value: Option<&str>) -> Self {
        self.extra_tags
            .push((key.to_string(), value.map(str::to_string)));
        self
    }

    /// The line, without its `\r\n`.
    pub fn line(&self) -> String {
        let mut s = String::with_capacity(320 + self.text.len());
        let _ = write!(
            s,
            "@badge-info={};badges={};client-nonce={};color={};display-name={};emotes={};first-msg=0;flags=;id={};mod={};returning-chatter=0;room-id={};subscriber={};tmi-sent-ts={};turbo={};user-id={};user-type={}",
            escape_tag_value(&self.badge_info),
            escape_tag_value(&self.badges),
            client_nonce(&self.id),
            self.color,
            escape_tag_value(&self.display_name),
            self.emotes,
            self.id,
            u8::from(self.moderator),
            self.room_id,
            u8::from(self.subscriber),
            self.tmi_sent_ts,
            u8::from(self.turbo),
            self.user_id,
            if self.moderator { "mod" } else { "" },
        );
        for (key, value) in &self.extra_tags {
            match value {
                Some(v) => {
                    let _ = write!(s, ";{key}={v}");
                }
                None => {
                    let _ = write!(s, ";{key}");
                }
            }
        }
        let login = &self.login;
        let _ = write!(
            s,
            " :{login}!{login}@{login}.{SERVER} PRIVMSG #{} :",
            self.channel
        );
        if self.action {
            let _ = write!(s, "\u{1}ACTION {}\u{1}", self.text);
        } else {
            s.push_str(&self.text);
        }
        s
    }
}

/// A 32-hex-digit `client-nonce`, derived from the message id.
fn client_nonce(id: &str) -> String {
    let seed = stable_id(id, 5);
    format!(
        "{:016x}{:016x}",
        splitmix64(seed),
        splitmix64(seed ^ 0x5555)
    )
}

fn join_badges(existing: &str, badge: &str) -> String {
    if existing.is_empty() {
        badge.to_string()
    } else {
        format!("{existing},{badge}")
    }
}

/// A realistic `PRIVMSG` line (no `\r\n`) from user `login` saying `text` in `channel`.
pub fn privmsg_line(channel: &str, login: &str, text: &str) -> String {
    Privmsg::new(channel, login, text).line()
}

const SAMPLE_USERS: &[(&str, &str, &str)] = &[
    ("pixelcat", "PixelCat", "#FF4500"),
    ("neonfox", "NeonFox", "#1E90FF"),
    ("sleepy_owl", "sleepy_owl", ""),
    ("kuro99", "クロ", "#9ACD32"),
    ("mochibyte", "MochiByte", "#FF69B4"),
    ("vexbard", "VexBard", "#00FF7F"),
    ("lumi_gg", "Lumi_GG", "#DAA520"),
    ("zorbowl", "zorbOwl", "#8A2BE2"),
];

const SAMPLE_TEXTS: &[&str] = &[
    "hi chat Kappa",
    "how long has the stream been on?",
    "ünïcödé test ✨",
    "日本から見てます PogChamp",
    "привет чат LUL",
    "🔥🔥🔥 Kappa Kappa",
    "CLIP THAT PogChamp PogChamp",
    "that was close <3",
    "gg wp SeemsGood",
    "!anime \"a cat surfing a wave\"",
    "Kreygasm the music slaps",
    "first time here, love the vibe BibleThump",
    "is this ranked? ¿qué pasa? ça va",
    "W streamer",
];

/// The `n`-th line of a varied, realistic chat (users with badges, colours, non-ASCII text,
/// emotes, the odd `/me`). Deterministic in `n` (except `tmi-sent-ts`, which is now).
pub fn sample_privmsg(channel: &str, n: u64) -> String {
    let r = splitmix64(n);
    let (login, display, color) = SAMPLE_USERS[(r % SAMPLE_USERS.len() as u64) as usize];
    let text = SAMPLE_TEXTS[((r >> 8) % SAMPLE_TEXTS.len() as u64) as usize];
    let mut msg = Privmsg::new(channel, login, text)
        .display_name(display)
        .color(color)
        .id(&message_id(n.wrapping_mul(7919)));
    match (r >> 16) % 10 {
        0 => msg = msg.moderator(),
        1..=3 => msg = msg.subscriber(1 + ((r >> 24) % 30) as u32),
        4 => msg = msg.subscriber(14).moderator(),
        _ => {}
    }
    // One in 25 is a `/me`, one in 17 has turbo (no `is_multiple_of`: it needs Rust 1.87).
    if matches!((r >> 32) % 25, 0) {
        msg = msg.action();
    }
    msg.turbo = matches!((r >> 40) % 17, 0);
    msg.line()
}
