//! The fake of Kick's channel API (`GET /api/v2/channels/{slug}`), served by hyper. Every
//! request's path (with query) is recorded before it is answered.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::json;

use super::{ApiMode, Shared, State};
use crate::http::{answer as reply, with_header, Body};

const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=UTF-8";

/// One request: recorded, then answered as the current [`ApiMode`] says.
pub(super) async fn answer(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let resp = {
        let mut st = shared.lock();
        st.api_requests.push(path.clone());
        channel(&st, req.method().as_str(), &path)
    };
    shared.bump();
    resp
}

/// What Cloudflare adds to what it answers.
fn cloudflare(resp: Response<Body>) -> Response<Body> {
    let resp = with_header(resp, "Server", "cloudflare");
    with_header(resp, "CF-RAY", "8f1c2d3e4a5b6c7d-AMS")
}

fn channel(st: &State, method: &str, path: &str) -> Response<Body> {
    match st.api_mode {
        ApiMode::Blocked => {
            let resp = cloudflare(reply(403, HTML, CHALLENGE_PAGE));
            return with_header(resp, "cf-mitigated", "challenge");
        }
        ApiMode::RateLimited => {
            let page = "<html><body>Too Many Requests</body></html>";
            return with_header(cloudflare(reply(429, HTML, page)), "Retry-After", "60");
        }
        ApiMode::HtmlPage => return cloudflare(reply(200, HTML, CHALLENGE_PAGE)),
        ApiMode::Normal => {}
    }
    if method != "GET" {
        return reply(405, JSON, "{}");
    }
    let Some(slug) = path
        .split('?')
        .next()
        .and_then(|p| p.strip_prefix("/api/v2/channels/"))
        .filter(|s| !s.is_empty() && !s.contains('/'))
    else {
        return reply(404, JSON, r#"{"message":"Not found"}"#);
    };
    let Some(&chatroom_id) = st.api_channels.get(&slug.to_ascii_lowercase()) else {
        return reply(404, JSON, r#"{"message":"Channel not found"}"#);
    };
    let channel_id = chatroom_id + 2;
    let body = json!({
        "id": channel_id,
        "user_id": channel_id + 50,
        "slug": slug,
        "is_banned": false,
        "playback_url": "https://example.invalid/playback.m3u8",
        "vod_enabled": true,
        "subscription_enabled": true,
        "can_host": true,
        "chatroom": {
            "id": chatroom_id,
            "chatable_type": "App\\Models\\Channel",
            "channel_id": channel_id,
            "created_at": "2022-12-07T04:42:13.000000Z",
            "updated_at": "2025-02-01T03:27:53.000000Z",
            "chat_mode_old": "public",
            "chat_mode": "public",
            "slow_mode": false,
            "chatable_id": channel_id,
            "followers_mode": false,
            "subscribers_mode": false,
            "emotes_mode": false,
            "message_interval": 0,
            "following_min_duration": 0
        },
        "user": { "id": channel_id + 50, "username": slug, "bio": null },
        "livestream": match st.api_viewers.get(&slug.to_ascii_lowercase()) {
            Some(&viewers) => json!({
                "id": channel_id + 7,
                "slug": format!("{slug}-live"),
                "channel_id": channel_id,
                "is_live": true,
                "viewer_count": viewers,
            }),
            None => serde_json::Value::Null,
        },
    });
    reply(200, JSON, body.to_string())
}

const CHALLENGE_PAGE: &str = "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>\
<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"></head><body>\
<div class=\"main-wrapper\" role=\"main\"><div class=\"main-content\"><noscript>Enable JavaScript and \
cookies to continue</noscript></div></div></body></html>";
