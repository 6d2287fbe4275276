//! What an executor plays for a link: YouTube, Twitch and Vimeo links become a stream URL with
//! `streamlink --stream-url <link> best` (OBS cannot play a web page); any other link is played
//! as it is, once its host is known to resolve only to public addresses.
//!
//! Invariants:
//! - the link was checked as written (`url::extract_url`); here the **addresses** its host
//!   resolves to are checked too, so a public-looking name that points inside the network
//!   (`127.0.0.1.nip.io`, DNS rebinding) is refused before anything fetches it;
//! - streamlink runs through `tools` (stdin closed, killed on timeout or when StreamCue dies),
//!   bounded by `resolve_timeout`; its first line of output must be an http(s) URL;
//! - every failure is a [`Refusal`] with the seed's code and a sentence naming the next step.

use std::net::IpAddr;
use std::time::Duration;

use super::codes::WatchErrorCode;
use super::url::{is_private_ip, UrlSite, WatchUrl};
use crate::tools::{Invocation, Tool, ToolError};

const STREAMLINK: Tool = Tool {
    name: "streamlink",
    install_hint: crate::recorder::streamlink::INSTALL_HINT,
};

/// Longest wait for the host's addresses.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a link cannot be played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: WatchErrorCode,
    pub message: String,
}

impl Refusal {
    fn new(code: WatchErrorCode, what: impl std::fmt::Display) -> Self {
        Refusal {
            code,
            message: format!("{what}. {}", code.info().recovery),
        }
    }
}

/// How links are turned into something OBS plays.
#[derive(Debug, Clone)]
pub struct Resolver {
    /// The streamlink program (`[watch] streamlink`).
    pub streamlink: String,
    pub timeout: Duration,
}

impl Resolver {
    /// The URL OBS's media source should open for `link`.
    pub async fn playable(&self, link: &WatchUrl) -> Result<String, Refusal> {
        match link.site {
            UrlSite::Youtube | UrlSite::Twitch | UrlSite::Vimeo => self.streamlink(&link.url).await,
            UrlSite::Other => {
                check_public_host(&link.url).await?;
                Ok(link.url.clone())
            }
        }
    }

    async fn streamlink(&self, url: &str) -> Result<String, Refusal> {
        let run = Invocation::new(STREAMLINK, &self.streamlink)
            .args(["--stream-url", url, "best"])
            .output(self.timeout)
            .await;
        let output = match run {
            Ok(o) => o,
            Err(e @ ToolError::Missing { .. }) => {
                return Err(Refusal::new(WatchErrorCode::SandboxFailed, e))
            }
            Err(e @ ToolError::Timeout { .. }) => {
                return Err(Refusal::new(
                    WatchErrorCode::Timeout,
                    format!("{e} to find the video's stream"),
                ))
            }
            Err(e) => return Err(Refusal::new(WatchErrorCode::SandboxFailed, e)),
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let first = stdout.lines().map(str::trim).find(|l| !l.is_empty());
        match first {
            Some(line) if output.status.success() && is_http_url(line) => Ok(line.to_string()),
            _ => {
                let said = streamlink_error(&stdout, &String::from_utf8_lossy(&output.stderr));
                Err(Refusal::new(
                    WatchErrorCode::ShareFailed,
                    format!("streamlink found no stream to play for this link ({said})"),
                ))
            }
        }
    }
}

fn is_http_url(s: &str) -> bool {
    reqwest::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// streamlink's own words (`error: No playable streams found on this URL: …`), one line, short.
fn streamlink_error(stdout: &str, stderr: &str) -> String {
    let line = stderr
        .lines()
        .chain(stdout.lines())
        .map(str::trim)
        .rfind(|l| l.starts_with("error:"))
        .or_else(|| stderr.lines().map(str::trim).rfind(|l| !l.is_empty()))
        .unwrap_or("it printed nothing");
    let line = line.strip_prefix("error:").unwrap_or(line).trim();
    line.chars().take(200).collect()
}

/// Refuses a link whose host resolves to a private or local address, or to nothing.
pub async fn check_public_host(url: &str) -> Result<(), Refusal> {
    let parsed = reqwest::Url::parse(url).map_err(|_| {
        Refusal::new(
            WatchErrorCode::InvalidUrl,
            "the link is not a valid web address",
        )
    })?;
    let host = parsed
        .host_str()
        .ok_or_else(|| Refusal::new(WatchErrorCode::InvalidUrl, "the link has no host"))?
        .trim_matches(['[', ']'])
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let lookup = tokio::time::timeout(
        LOOKUP_TIMEOUT,
        tokio::net::lookup_host((host.as_str(), port)),
    );
    let addrs: Vec<IpAddr> = match lookup.await {
        Err(_) => {
            return Err(Refusal::new(
                WatchErrorCode::InvalidUrl,
                format!(
                    "the address of {host} could not be looked up within {} s",
                    LOOKUP_TIMEOUT.as_secs()
                ),
            ))
        }
        Ok(Err(_)) => Vec::new(),
        Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
    };
    match first_private(&addrs) {
        _ if addrs.is_empty() => Err(Refusal::new(
            WatchErrorCode::InvalidUrl,
            format!("{host} cannot be found (no address)"),
        )),
        Some(ip) => Err(Refusal::new(
            WatchErrorCode::InvalidUrl,
            format!("{host} points at a private or local address ({ip})"),
        )),
        None => Ok(()),
    }
}

/// The first address a viewer's link must not reach (any one is enough to refuse: the fetcher
/// may pick it).
pub fn first_private(addrs: &[IpAddr]) -> Option<IpAddr> {
    addrs.iter().copied().find(|ip| is_private_ip(*ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_private_address_among_the_answers_refuses_the_host() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(first_private(&[ip("93.184.216.34")]), None);
        assert_eq!(first_private(&[ip("2606:2800:220:1::1")]), None);
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.10",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            assert_eq!(
                first_private(&[ip("93.184.216.34"), ip(bad)]),
                Some(ip(bad)),
                "{bad}"
            );
        }
    }

    #[test]
    fn streamlinks_error_line_is_kept_short_and_without_its_prefix() {
        let said = streamlink_error(
            "",
            "[cli][info] Found matching plugin youtube\nerror: No playable streams found on this URL: x\n",
        );
        assert_eq!(said, "No playable streams found on this URL: x");
        assert_eq!(streamlink_error("", ""), "it printed nothing");
        assert_eq!(streamlink_error("", &"y".repeat(500)).chars().count(), 200);
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_before_anything_fetches_it() {
        // `localhost` resolves from /etc/hosts, without a DNS server.
        let r = check_public_host("http://localhost:9/x.mp4")
            .await
            .unwrap_err();
        assert_eq!(r.code, WatchErrorCode::InvalidUrl);
        assert!(
            r.message.contains("private or local address"),
            "{}",
            r.message
        );
        let r = check_public_host("https://no-such-host.invalid/x.mp4")
            .await
            .unwrap_err();
        assert_eq!(r.code, WatchErrorCode::InvalidUrl);
        assert!(r.message.contains("cannot be found"), "{}", r.message);
    }

    #[tokio::test]
    async fn streamlinks_failures_become_codes_with_a_next_step() {
        let dir = tempfile::tempdir().unwrap();
        let script = |name: &str, body: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            p.display().to_string()
        };
        let link = WatchUrl {
            url: "https://www.youtube.com/watch?v=abc".into(),
            site: UrlSite::Youtube,
        };
        let resolver = |program: String, secs: u64| Resolver {
            streamlink: program,
            timeout: Duration::from_secs(secs),
        };
        let ok = script("ok", "echo \"https://cdn.example/v.m3u8?for=$2\"");
        assert_eq!(
            resolver(ok, 5).playable(&link).await.unwrap(),
            "https://cdn.example/v.m3u8?for=https://www.youtube.com/watch?v=abc"
        );
        let none = script(
            "none",
            "echo 'error: No playable streams found on this URL: x' >&2; exit 1",
        );
        let r = resolver(none, 5).playable(&link).await.unwrap_err();
        assert_eq!(r.code, WatchErrorCode::ShareFailed);
        assert!(
            r.message.contains("No playable streams found"),
            "{}",
            r.message
        );
        let junk = script("junk", "echo 'not a url'");
        let r = resolver(junk, 5).playable(&link).await.unwrap_err();
        assert_eq!(r.code, WatchErrorCode::ShareFailed);
        let slow = script("slow", "sleep 30");
        let r = resolver(slow, 1).playable(&link).await.unwrap_err();
        assert_eq!(r.code, WatchErrorCode::Timeout);
        let r = resolver("/nonexistent/streamlink".into(), 5)
            .playable(&link)
            .await
            .unwrap_err();
        assert_eq!(r.code, WatchErrorCode::SandboxFailed);
        assert!(
            r.message.contains("apt install streamlink"),
            "{}",
            r.message
        );
    }
}
