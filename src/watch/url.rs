//! Finding the link in what someone wrote (seed 004, E2-T4): the seed's patterns in the seed's
//! order (YouTube, Twitch, Vimeo, then any http(s) URL), the first pattern that matches wins.
//!
//! Beyond the seed: `www.` and `m.` hosts, links written without `https://` for the known
//! sites, Twitch VODs and clips, and the wrapping chat and Discord add (`<https://…>`,
//! `[title](https://…)`, a trailing `.` or `)`) are understood.
//!
//! Invariants: a [`WatchUrl`] is always http(s), has no user name or password, and its host is
//! a public name or address (never loopback, private, link-local, `localhost`, `.local`…), so a
//! viewer can never make StreamCue (or the controller it calls) fetch an internal address. The
//! host is checked after WHATWG parsing, so `http://2130706433/` and `http://0x7f.1/` are
//! recognised as 127.0.0.1. This check is on the link as written; a public name can still
//! resolve to a private address (DNS rebinding, `127.0.0.1.nip.io`), so whatever fetches the
//! link must check the address it connects to as well (the executors, not built yet).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;
use reqwest::Url;
use serde::Serialize;

/// The longest URL taken.
pub const URL_MAX_CHARS: usize = 2048;

/// Which site a link is for (decides how the OBS executor plays it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum UrlSite {
    Youtube,
    Twitch,
    Vimeo,
    Other,
}

/// A link that may be watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchUrl {
    /// Normalised (scheme and host lower case, `https://` added where it was left out).
    pub url: String,
    pub site: UrlSite,
}

/// Why a message gave no link to watch. Every one is `ERR_INVALID_URL` to the requester.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("there is no link in the message")]
    NoLink,
    #[error("only http and https links can be watched, not {0}: links")]
    Scheme(String),
    #[error("the link has a user name or password in it")]
    Credentials,
    #[error("the link points at a private or local address ({0})")]
    PrivateHost(String),
    #[error("the link is not a valid web address")]
    Malformed,
    #[error("the link is longer than {URL_MAX_CHARS} characters")]
    TooLong,
}

/// The patterns in the seed's order. The known sites also match without a scheme.
static PATTERNS: LazyLock<[(UrlSite, Regex); 6]> = LazyLock::new(|| {
    let re = |p: &str| Regex::new(p).expect("static pattern");
    [
        (
            UrlSite::Youtube,
            re(r"(?i)(?:https?://)?(?:www\.|m\.)?youtube\.com/watch\?v=[\w\-]+"),
        ),
        (UrlSite::Youtube, re(r"(?i)(?:https?://)?youtu\.be/[\w\-]+")),
        (
            UrlSite::Twitch,
            re(r"(?i)(?:https?://)?(?:www\.|m\.)?twitch\.tv/(?:videos/\d+|\w+/clip/[\w\-]+|\w+)"),
        ),
        (
            UrlSite::Twitch,
            re(r"(?i)(?:https?://)?clips\.twitch\.tv/[\w\-]+"),
        ),
        (
            UrlSite::Vimeo,
            re(r"(?i)(?:https?://)?(?:www\.)?vimeo\.com/\d+"),
        ),
        (UrlSite::Other, re(r"(?i)https?://\S+")),
    ]
});

/// Schemes that are refused by name when no http(s) link is found (so the requester hears why).
static OTHER_SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(javascript|file|data|ftp|vbscript|chrome|about|blob|ws|wss):")
        .expect("static pattern")
});

/// The first link to watch in `text`, as the seed's `extract_url` finds it, checked.
pub fn extract_url(text: &str) -> Result<WatchUrl, UrlRefusal> {
    for (site, pattern) in PATTERNS.iter() {
        // A known site inside a longer URL (`https://evil.example/?u=youtu.be/x`) is not that
        // site: a match must start at a word boundary that is not part of another URL.
        let Some(m) = pattern
            .find_iter(text)
            .find(|m| *site == UrlSite::Other || starts_cleanly(text, m.start()))
        else {
            continue;
        };
        let raw = trim_wrapping(m.as_str());
        return check(raw, *site);
    }
    if let Some(m) = OTHER_SCHEME.captures(text) {
        return Err(UrlRefusal::Scheme(m[1].to_lowercase()));
    }
    Err(UrlRefusal::NoLink)
}

/// Whether a match at `start` begins a link of its own, not the middle of a word or of another
/// URL (`notyoutube.com/…`, `https://a.example/?u=youtu.be/x`).
fn starts_cleanly(text: &str, start: usize) -> bool {
    text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || "<([\"'*_`".contains(c))
}

/// Drops what chat and Markdown put around or after a link: `<…>`, a closing `)` with no
/// opening one inside the link, and trailing sentence punctuation or quotes.
fn trim_wrapping(raw: &str) -> &str {
    let mut s = raw;
    loop {
        let before = s;
        s = s.trim_end_matches(['.', ',', '!', '?', ';', ':', '"', '\'', '>', '*', '_', '`']);
        if let Some(stripped) = s.strip_suffix(')') {
            if s.matches('(').count() < s.matches(')').count() {
                s = stripped;
            }
        }
        if let Some(stripped) = s.strip_suffix(']') {
            if s.matches('[').count() < s.matches(']').count() {
                s = stripped;
            }
        }
        if s == before {
            return s;
        }
    }
}

fn check(raw: &str, site: UrlSite) -> Result<WatchUrl, UrlRefusal> {
    if raw.chars().count() > URL_MAX_CHARS {
        return Err(UrlRefusal::TooLong);
    }
    let with_scheme = if raw.len() >= 7 && raw[..7].eq_ignore_ascii_case("http://")
        || raw.len() >= 8 && raw[..8].eq_ignore_ascii_case("https://")
    {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let url = Url::parse(&with_scheme).map_err(|_| UrlRefusal::Malformed)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlRefusal::Scheme(url.scheme().to_owned()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefusal::Credentials);
    }
    let host = url.host().ok_or(UrlRefusal::Malformed)?;
    let private = match &host {
        url::Host::Ipv4(ip) => is_private_v4(*ip),
        url::Host::Ipv6(ip) => is_private_v6(*ip),
        url::Host::Domain(name) => is_private_name(name),
    };
    if private {
        return Err(UrlRefusal::PrivateHost(host.to_string()));
    }
    Ok(WatchUrl {
        url: url.to_string(),
        site,
    })
}

/// An address a viewer's link must never reach (loopback, private, link-local, …).
pub(crate) fn is_private_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Carrier-grade NAT (100.64.0.0/10) and benchmarking (198.18.0.0/15) ranges.
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (18..20).contains(&b))
        || a >= 240
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_private_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10, documentation.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        // IPv4-compatible (deprecated) ::a.b.c.d and NAT64 64:ff9b::/96 carry a v4 address.
        || (ip.segments()[..6].iter().all(|s| *s == 0))
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)
}

/// Names that only mean something inside a network (or this machine).
fn is_private_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = name.parse::<IpAddr>() {
        return is_private_ip(ip);
    }
    !name.contains('.')
        || [
            "localhost",
            ".localhost",
            ".local",
            ".internal",
            ".lan",
            ".home",
            ".home.arpa",
            ".intranet",
            ".corp",
            ".localdomain",
        ]
        .iter()
        .any(|suffix| {
            if let Some(s) = suffix.strip_prefix('.') {
                name == s || name.ends_with(suffix)
            } else {
                name == *suffix
            }
        })
}

#[cfg(test)]
#[path = "url_tests.rs"]
mod tests;
