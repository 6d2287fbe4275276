//! Where the LLM server is and how to call it ([`LlmEndpoint`]), and the base URL as the
//! streamer types it, normalised to the server's root ([`normalise_base_url`]).
//!
//! Invariants: the root is an http(s) URL with a host, no credentials, query or fragment, and
//! no trailing `/` or `/v1`, so `{root}/v1/chat/completions` and `{root}/v1/models` are the
//! routes whichever of `http://host:11434`, `http://host:11434/` or `http://host:11434/v1` was
//! typed; a refused URL is named with any credentials in it replaced by `***`.

use std::time::Duration;

use reqwest::Url;

use super::error::LlmError;
use crate::secrets::Secret;

/// The per-request timeout by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries after the first attempt by default.
pub const DEFAULT_RETRIES: u32 = 2;
/// The first retry's backoff by default (then doubled, with jitter).
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(500);

/// An OpenAI-compatible server and how to call it.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmEndpoint {
    /// As typed: `http://127.0.0.1:11434`, `…/`, or `…/v1` (see [`normalise_base_url`]).
    pub base_url: String,
    pub model: String,
    /// Sent as `Authorization: Bearer …` when set; local servers need none.
    pub api_key: Option<Secret>,
    /// One attempt's limit, from sending the request to the end of the answer.
    pub timeout: Duration,
    /// Attempts after the first, for timeouts, connection failures, 5xx and 429.
    pub retries: u32,
    /// The first retry's backoff (doubled for each later one, with jitter).
    pub backoff_base: Duration,
    /// Ask for a streamed (SSE) answer.
    pub stream: bool,
}

impl LlmEndpoint {
    /// `base_url` and `model` with the defaults: no key, 30 s timeout, 2 retries, 500 ms
    /// backoff, not streamed.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff_base: DEFAULT_BACKOFF_BASE,
            stream: false,
        }
    }
}

impl Default for LlmEndpoint {
    /// A local Ollama (`http://127.0.0.1:11434`, model `llama3`).
    fn default() -> Self {
        Self::new("http://127.0.0.1:11434", "llama3")
    }
}

/// The server's root (`http://127.0.0.1:11434`, `https://openrouter.ai/api`) from what the
/// streamer typed: trimmed, a trailing `/`, `/v1` or `/v1/chat/completions` dropped.
pub fn normalise_base_url(text: &str) -> Result<String, LlmError> {
    let text = text.trim();
    let bad = || LlmError::BadUrl {
        url: redacted(text),
    };
    let mut url = Url::parse(text).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none_or(str::is_empty)
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(bad());
    }
    let mut path = url.path().trim_end_matches('/').to_string();
    for suffix in ["/chat/completions", "/models"] {
        if let Some(p) = path.strip_suffix(suffix) {
            path = p.trim_end_matches('/').to_string();
            break;
        }
    }
    if let Some(p) = path.strip_suffix("/v1") {
        path = p.trim_end_matches('/').to_string();
    }
    url.set_path(&path);
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// `text` with any `user:password@` shown as `***@`, and cut to 100 characters.
fn redacted(text: &str) -> String {
    let shown = match (text.find("://"), text.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let host_end = text[scheme_end + 3..]
                .find('/')
                .map_or(text.len(), |i| i + scheme_end + 3);
            if at < host_end {
                format!("{}***{}", &text[..scheme_end + 3], &text[at..])
            } else {
                text.to_string()
            }
        }
        _ => text.to_string(),
    };
    shown.chars().take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised_to_the_root() {
        for (typed, root) in [
            ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
            ("http://127.0.0.1:11434/", "http://127.0.0.1:11434"),
            ("http://127.0.0.1:11434/v1", "http://127.0.0.1:11434"),
            (" http://127.0.0.1:11434/v1/ ", "http://127.0.0.1:11434"),
            (
                "http://localhost:8080/v1/chat/completions",
                "http://localhost:8080",
            ),
            ("http://localhost:1234/v1/models", "http://localhost:1234"),
            ("https://api.openai.com/v1", "https://api.openai.com"),
            ("https://openrouter.ai/api/v1", "https://openrouter.ai/api"),
            ("https://gpu.example/vllm/", "https://gpu.example/vllm"),
            ("HTTP://Example.COM:80/v1", "http://example.com"),
        ] {
            assert_eq!(normalise_base_url(typed).as_deref(), Ok(root), "{typed}");
        }
    }

    #[test]
    fn urls_that_are_not_http_servers_are_refused() {
        for bad in [
            "",
            "127.0.0.1:11434",
            "localhost:11434",
            "ftp://example.com",
            "file:///tmp/x",
            "http://",
            "https://example.com/v1?key=1",
            "https://example.com/#x",
        ] {
            assert!(
                matches!(normalise_base_url(bad), Err(LlmError::BadUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn credentials_in_a_refused_url_are_not_shown() {
        let err = normalise_base_url("https://me:sk-secret@api.example.com/v1").unwrap_err();
        assert_eq!(
            err,
            LlmError::BadUrl {
                url: "https://***@api.example.com/v1".into()
            }
        );
        assert!(!err.to_string().contains("sk-secret"));
        // An @ in the path is not userinfo.
        assert_eq!(redacted("ftp://host/a@b"), "ftp://host/a@b");
    }

    #[test]
    fn the_defaults() {
        let e = LlmEndpoint::new("http://x", "m");
        assert_eq!(e.timeout, Duration::from_secs(30));
        assert_eq!(e.retries, 2);
        assert_eq!(e.backoff_base, Duration::from_millis(500));
        assert!(e.api_key.is_none() && !e.stream);
    }
}
