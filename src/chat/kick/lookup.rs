//! Which chatroom: what the streamer typed (a channel name, a kick.com link, or a chatroom
//! id) and the lookup of a channel's chatroom id on kick.com.
//!
//! Invariants: a channel name is letters, digits, `_` and `-`, 1 to 25 characters, lower-cased,
//! before it is ever put into a URL; a chatroom id is a positive integer; the lookup is bounded
//! (15 s, 4 MiB) and its errors say how to paste the chatroom id instead (Kick's bot protection
//! often turns scripts away). Every error text is a sentence for the streamer.

use std::time::Duration;

use serde_json::Value;

use super::wire::shown;

/// What the streamer typed to pick a Kick chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KickTarget {
    /// A channel name (lower-cased), to look up with [`chatroom_id_for`].
    Slug(String),
    /// A chatroom id, used as is.
    ChatroomId(u64),
}

/// Why what the streamer typed does not name a Kick chat.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KickTargetError {
    #[error("Type a Kick channel name, its kick.com link, or its chatroom id.")]
    Empty,
    #[error("{typed:?} is not a valid Kick chatroom id.")]
    BadChatroomId { typed: String },
    #[error(
        "{typed:?} is not a kick.com link. Type the channel name, its kick.com link, or its chatroom id."
    )]
    NotKickLink { typed: String },
    #[error("That kick.com link has no channel name in it.")]
    LinkWithoutChannel,
    #[error(
        "{slug:?} is not a Kick channel name (letters, digits, _ and -, at most 25 characters)."
    )]
    BadChannelName { slug: String },
}

impl KickTarget {
    /// Accepts a channel name (`xqc`, `@xqc`), a link (`kick.com/xqc`, `https://kick.com/xqc`,
    /// `https://kick.com/popout/xqc/chat`), or a chatroom id (`668`).
    pub fn parse(input: &str) -> Result<KickTarget, KickTargetError> {
        let typed = input.trim();
        if typed.is_empty() {
            return Err(KickTargetError::Empty);
        }
        if typed.bytes().all(|b| b.is_ascii_digit()) {
            return match typed.parse::<u64>() {
                Ok(id) if id > 0 => Ok(KickTarget::ChatroomId(id)),
                _ => Err(KickTargetError::BadChatroomId {
                    typed: shown(typed),
                }),
            };
        }
        let lower = typed.to_ascii_lowercase();
        let without_scheme = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .unwrap_or(&lower);
        let without_www = without_scheme
            .strip_prefix("www.")
            .unwrap_or(without_scheme);
        let slug = if let Some(path) = without_www.strip_prefix("kick.com/") {
            let path = path.split(['?', '#']).next().unwrap_or("");
            let mut parts = path.split('/').filter(|p| !p.is_empty());
            match parts.next() {
                Some("popout") => parts.next().unwrap_or(""),
                Some(first) => first,
                None => "",
            }
            .to_string()
        } else if without_www == "kick.com" || without_www.starts_with("kick.com?") {
            String::new()
        } else if without_scheme.len() != lower.len() || without_www.contains('/') {
            return Err(KickTargetError::NotKickLink {
                typed: shown(typed),
            });
        } else {
            without_www.trim_start_matches('@').to_string()
        };
        if slug.is_empty() {
            return Err(KickTargetError::LinkWithoutChannel);
        }
        validate_slug(&slug)?;
        Ok(KickTarget::Slug(slug))
    }
}

/// Kick channel names: letters, digits, `_` and `-`, 1 to 25 characters.
fn validate_slug(slug: &str) -> Result<(), KickTargetError> {
    let ok_chars = slug
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok_chars || slug.is_empty() || slug.len() > 25 {
        return Err(KickTargetError::BadChannelName { slug: shown(slug) });
    }
    Ok(())
}

/// Why a chatroom id lookup failed. The messages are for the streamer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KickLookupError {
    #[error(transparent)]
    InvalidName(#[from] KickTargetError),
    #[error(
        "Kick has no channel called \"{slug}\". Check the spelling, or paste the chatroom id instead."
    )]
    NotFound { slug: String },
    #[error(
        "Kick blocked StreamCue's channel lookup ({why}). Paste the chatroom id instead: open \
         https://kick.com/api/v2/channels/{slug} in your web browser and copy the number after \
         \"chatroom\":{{\"id\": (the chatroom id, not the channel id)."
    )]
    Blocked { slug: String, why: String },
    #[error(
        "Could not reach kick.com to look up \"{slug}\" ({detail}). Check the network, or paste \
         the chatroom id instead."
    )]
    Network { slug: String, detail: String },
    #[error(
        "kick.com gave an answer StreamCue does not understand for \"{slug}\" ({detail}). Paste \
         the chatroom id instead: open https://kick.com/api/v2/channels/{slug} in your web \
         browser and copy the number after \"chatroom\":{{\"id\":."
    )]
    Unexpected { slug: String, detail: String },
}

/// Largest channel description StreamCue reads (they are a few tens of KB).
const MAX_LOOKUP_BODY: usize = 4 * 1024 * 1024;

/// Looks up a channel's chatroom id: `GET {api_base}/api/v2/channels/{slug}` → `chatroom.id`.
/// Kick often answers scripts with a Cloudflare block; the error then says how to paste the id.
pub async fn chatroom_id_for(slug: &str, api_base: &str) -> Result<u64, KickLookupError> {
    let (slug, json) = channel_json(slug, api_base).await?;
    let id = json.get("chatroom").and_then(|c| c.get("id"));
    let id = match id {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    match id {
        Some(id) if id > 0 => Ok(id),
        _ => Err(KickLookupError::Unexpected {
            slug,
            detail: "it has no chatroom id".into(),
        }),
    }
}

/// The channel's current viewer count from the same channel description: `livestream.
/// viewer_count`, `None` while the channel is offline (`livestream` is null).
pub async fn viewer_count(slug: &str, api_base: &str) -> Result<Option<u32>, KickLookupError> {
    let (_, json) = channel_json(slug, api_base).await?;
    Ok(json
        .get("livestream")
        .and_then(|l| l.get("viewer_count"))
        .and_then(Value::as_u64)
        .map(|n| n.min(u32::MAX as u64) as u32))
}

/// `GET {api_base}/api/v2/channels/{slug}` as JSON, with the slug as it was looked up.
async fn channel_json(slug: &str, api_base: &str) -> Result<(String, Value), KickLookupError> {
    let slug = slug.trim().trim_start_matches('@').to_ascii_lowercase();
    validate_slug(&slug).map_err(KickLookupError::InvalidName)?;
    let url = format!(
        "{}/api/v2/channels/{slug}",
        api_base.trim().trim_end_matches('/')
    );
    let network = |detail: String| KickLookupError::Network {
        slug: slug.clone(),
        detail,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("StreamCue/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| network(e.to_string()))?;
    let mut resp = client
        .get(&url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            network(if e.is_timeout() {
                "no answer in time".into()
            } else if e.is_connect() {
                "could not connect".into()
            } else {
                e.to_string()
            })
        })?;
    let status = resp.status();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let cloudflare = !header("cf-mitigated").is_empty() || header("server").contains("cloudflare");
    let html = header("content-type").contains("text/html");
    let blocked = |why: String| KickLookupError::Blocked {
        slug: slug.clone(),
        why,
    };
    match status.as_u16() {
        200 => {}
        404 => return Err(KickLookupError::NotFound { slug }),
        403 => {
            return Err(blocked(
                "HTTP 403: its bot protection turned StreamCue away".into(),
            ))
        }
        429 => return Err(blocked("HTTP 429: too many requests".into())),
        code if cloudflare || html => {
            return Err(blocked(format!("HTTP {code} from its bot protection")))
        }
        code => {
            return Err(KickLookupError::Unexpected {
                slug,
                detail: format!("HTTP {code}"),
            })
        }
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| network(format!("the answer was cut off: {e}")))?
    {
        if body.len() + chunk.len() > MAX_LOOKUP_BODY {
            return Err(KickLookupError::Unexpected {
                slug,
                detail: "the answer is far too large".into(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    let json: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            let looks_html = html
                || body
                    .iter()
                    .find(|b| !b.is_ascii_whitespace())
                    .is_some_and(|&b| b == b'<');
            return Err(if looks_html {
                blocked("it answered with a web page, probably its bot check".into())
            } else {
                KickLookupError::Unexpected {
                    slug,
                    detail: "the answer is not JSON".into(),
                }
            });
        }
    };
    Ok((slug, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_errors_read_as_the_sentences_the_window_shows() {
        let err = |s: &str| KickTarget::parse(s).unwrap_err();
        assert_eq!(err("  "), KickTargetError::Empty);
        assert_eq!(
            err("0").to_string(),
            "\"0\" is not a valid Kick chatroom id."
        );
        assert_eq!(
            err("twitch.tv/xqc").to_string(),
            "\"twitch.tv/xqc\" is not a kick.com link. Type the channel name, its kick.com \
             link, or its chatroom id."
        );
        assert_eq!(
            err("https://kick.com/"),
            KickTargetError::LinkWithoutChannel
        );
        assert_eq!(
            err("bad!name").to_string(),
            "\"bad!name\" is not a Kick channel name (letters, digits, _ and -, at most 25 \
             characters)."
        );
        assert_eq!(
            KickLookupError::from(KickTargetError::Empty).to_string(),
            KickTargetError::Empty.to_string()
        );
    }
}
