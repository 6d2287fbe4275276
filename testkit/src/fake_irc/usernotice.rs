//! `USERNOTICE` lines as Twitch sends them for support events: a sub or resub, a gifted sub, a
//! gift bomb's announcement, and a raid. The tags are the ones Twitch sends (and twitch-irc
//! requires); ids are deterministic in the inputs, `tmi-sent-ts` is now.

use super::privmsg::{escape_tag_value, message_id, normalise_channel, room_id, stable_id};
use super::SERVER;
use crate::ids::now_ms;

/// A `USERNOTICE` from `login` with the event's `msg-id` and its `msg-param-*` tags.
fn usernotice(channel: &str, login: &str, msg_id: &str, params: &[(&str, String)]) -> String {
    let channel = normalise_channel(channel);
    let login = login.to_ascii_lowercase();
    let mut tags = vec![
        ("badge-info", String::new()),
        ("badges", String::new()),
        ("color", String::new()),
        ("display-name", login.clone()),
        ("emotes", String::new()),
        ("flags", String::new()),
        (
            "id",
            message_id(stable_id(&login, 6) ^ stable_id(msg_id, 7) ^ now_ms() as u64),
        ),
        ("login", login.clone()),
        ("mod", "0".into()),
        ("msg-id", msg_id.into()),
    ];
    tags.extend(params.iter().map(|(k, v)| (*k, v.clone())));
    tags.extend([
        ("room-id", room_id(&channel)),
        ("subscriber", "0".into()),
        ("system-msg", format!("{login} did {msg_id}")),
        ("tmi-sent-ts", now_ms().to_string()),
        ("user-id", stable_id(&login, 4).to_string()),
        ("user-type", String::new()),
    ]);
    let tags: Vec<String> = tags
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_tag_value(v)))
        .collect();
    format!("@{} :{SERVER} USERNOTICE #{channel}", tags.join(";"))
}

/// `login` subscribed (`resub`: again, for `months` months in all).
pub fn sub_line(channel: &str, login: &str, resub: bool, months: u32) -> String {
    let plan_name = format!("Channel Subscription ({})", normalise_channel(channel));
    usernotice(
        channel,
        login,
        if resub { "resub" } else { "sub" },
        &[
            ("msg-param-cumulative-months", months.to_string()),
            ("msg-param-months", "0".into()),
            ("msg-param-should-share-streak", "0".into()),
            ("msg-param-sub-plan-name", plan_name),
            ("msg-param-sub-plan", "1000".into()),
        ],
    )
}

/// `gifter` gifted a sub to `recipient` (one line per gift, also within a gift bomb).
pub fn subgift_line(channel: &str, gifter: &str, recipient: &str) -> String {
    let plan_name = format!("Channel Subscription ({})", normalise_channel(channel));
    usernotice(
        channel,
        gifter,
        "subgift",
        &[
            ("msg-param-gift-months", "1".into()),
            ("msg-param-months", "1".into()),
            ("msg-param-recipient-display-name", recipient.into()),
            (
                "msg-param-recipient-id",
                stable_id(recipient, 4).to_string(),
            ),
            (
                "msg-param-recipient-user-name",
                recipient.to_ascii_lowercase(),
            ),
            ("msg-param-sub-plan-name", plan_name),
            ("msg-param-sub-plan", "1000".into()),
        ],
    )
}

/// `gifter` is gifting `count` subs (the `subgift` lines follow it).
pub fn submysterygift_line(channel: &str, gifter: &str, count: u32) -> String {
    usernotice(
        channel,
        gifter,
        "submysterygift",
        &[
            ("msg-param-mass-gift-count", count.to_string()),
            ("msg-param-sender-count", count.to_string()),
            ("msg-param-sub-plan", "1000".into()),
        ],
    )
}

/// `raider` raided the channel with `viewers` viewers.
pub fn raid_line(channel: &str, raider: &str, viewers: u32) -> String {
    let raider = raider.to_ascii_lowercase();
    usernotice(
        channel,
        &raider,
        "raid",
        &[
            ("msg-param-displayName", raider.clone()),
            ("msg-param-login", raider.clone()),
            (
                "msg-param-profileImageURL",
                "https://static-cdn.jtvnw.net/jtv_user_pictures/x-profile_image-70x70.png".into(),
            ),
            ("msg-param-viewerCount", viewers.to_string()),
        ],
    )
}
