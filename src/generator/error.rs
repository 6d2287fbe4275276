//! Why a generation failed, in words a streamer understands. The `Display` text is what the
//! queue row shows as the reason (and what is stored in `requests.reason`).

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerationError {
    #[error("no endpoint URL is set: choose one in Settings → Generator, or use Offline demo")]
    NotConfigured,
    #[error("endpoint timed out after {} s ({attempts} attempts)", secs(*after))]
    Timeout { after: Duration, attempts: u32 },
    #[error("generation took longer than {} s in all", secs(*after))]
    OverallTimeout { after: Duration },
    #[error("cannot reach the endpoint: {detail} ({attempts} attempts)")]
    Unreachable { detail: String, attempts: u32 },
    #[error(
        "endpoint failed with HTTP {status} ({attempts} attempts){}",
        suffix(detail)
    )]
    Server {
        status: u16,
        attempts: u32,
        detail: String,
    },
    #[error("endpoint is rate-limiting (HTTP 429, {attempts} attempts)")]
    RateLimited { attempts: u32 },
    #[error("{status}: check the Modal key in Settings")]
    Unauthorized { status: u16 },
    #[error("endpoint refused the prompt (HTTP {status}){}", suffix(detail))]
    Refused { status: u16, detail: String },
    #[error("endpoint answered with something that is not the contract: {detail}")]
    BadAnswer { detail: String },
    #[error("endpoint redirected more than {hops} times")]
    TooManyRedirects { hops: u32 },
    #[error("signed URL expired twice")]
    ExpiredTwice,
    #[error("download failed with HTTP {status} ({attempts} attempts)")]
    DownloadStatus { status: u16, attempts: u32 },
    #[error("download ended early: got {got} of {expected} bytes ({attempts} attempts)")]
    Truncated {
        got: u64,
        expected: u64,
        attempts: u32,
    },
    #[error("download failed: {detail} ({attempts} attempts)")]
    DownloadBroken { detail: String, attempts: u32 },
    #[error("the download is {content_type}, not an MP4 video")]
    WrongContentType { content_type: String },
    #[error("the download is not an MP4 video (no `ftyp` header)")]
    NotMp4,
    #[error("the clip is larger than {limit_mb} MB")]
    TooLarge { limit_mb: u64 },
    #[error("cannot save the clip: {detail}")]
    Disk { detail: String },
    #[error("{tool} is not installed: {install}")]
    ToolMissing {
        tool: &'static str,
        install: &'static str,
    },
    #[error("the offline renderer failed: {detail}")]
    Render { detail: String },
}

impl GenerationError {
    /// A disk error with the folder named and the cause in plain words.
    pub fn disk(what: &str, path: &std::path::Path, e: &std::io::Error) -> Self {
        Self::Disk {
            detail: crate::paths::disk_problem(what, path, e),
        }
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 || s.fract() == 0.0 {
        format!("{}", s.round() as u64)
    } else {
        format!("{s:.1}")
    }
}

fn suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// An error body made fit to show: `{"error": …}` / `{"detail": …}` / `{"message": …}` or the
/// text itself, one line, at most 200 characters, no control characters.
pub fn error_detail(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let picked = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            ["error", "detail", "message"].iter().find_map(|k| {
                v.get(k).map(|x| match x.as_str() {
                    Some(s) => s.to_string(),
                    None => x.to_string(),
                })
            })
        })
        .unwrap_or_else(|| text.into_owned());
    let one_line: String = picked
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if one_line.chars().count() > 200 {
        one_line.chars().take(199).chain(['…']).collect()
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_like_the_issue_says() {
        let t = GenerationError::Timeout {
            after: Duration::from_secs(60),
            attempts: 3,
        };
        assert_eq!(t.to_string(), "endpoint timed out after 60 s (3 attempts)");
        let t = GenerationError::Timeout {
            after: Duration::from_millis(300),
            attempts: 1,
        };
        assert_eq!(t.to_string(), "endpoint timed out after 0.3 s (1 attempts)");
        assert_eq!(
            GenerationError::ExpiredTwice.to_string(),
            "signed URL expired twice"
        );
        assert_eq!(
            GenerationError::Unauthorized { status: 401 }.to_string(),
            "401: check the Modal key in Settings"
        );
    }

    #[test]
    fn error_bodies_are_made_short_and_safe() {
        assert_eq!(error_detail(br#"{"error":"model OOM"}"#), "model OOM");
        assert_eq!(error_detail(br#"{"detail":{"x":1}}"#), r#"{"x":1}"#);
        assert_eq!(error_detail(b"line one\r\n\x1b[31mtwo"), "line one [31mtwo");
        assert_eq!(error_detail(&[b'a'; 500]).chars().count(), 200);
        assert_eq!(error_detail(&[0xff, 0xfe]), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn disk_errors_name_the_cause() {
        let e = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let d = GenerationError::disk("cannot write", std::path::Path::new("/clips"), &e);
        assert_eq!(
            d.to_string(),
            "cannot save the clip: cannot write /clips: the disk is full"
        );
    }
}
