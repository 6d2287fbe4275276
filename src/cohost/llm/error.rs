//! What can go wrong with an LLM call, as the streamer reads it ([`LlmError`]), and the pure
//! decisions behind it: which answers are retried ([`classify_status`]), what a server's error
//! body says ([`error_message`]), and how long `Retry-After` asks to wait
//! ([`parse_retry_after`]).
//!
//! Invariants: no error holds the API key (messages quoted from the server have it replaced by
//! `***`, see [`redact`]); a quoted server message is one line of at most
//! [`MAX_MESSAGE_CHARS`] characters without control characters; nothing here panics on any
//! input.

use std::time::Duration;

/// The longest server message quoted in [`LlmError::Refused`].
pub const MAX_MESSAGE_CHARS: usize = 200;

/// Why a call to the LLM server failed. The `Display` text is a sentence for the streamer that
/// names the next step; [`LlmError::code`] is a stable short name for counters and logs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// 401 or 403.
    #[error("{status}: check the API key")]
    Unauthorized { status: u16 },
    /// 404 on chat completions, or an error body saying the model is missing.
    #[error("the model `{model}` is not loaded on the server (pick one with Test connection)")]
    ModelNotFound { model: String },
    /// No whole answer within the per-request timeout (rounded up to whole seconds), on every
    /// attempt.
    #[error("the server did not answer within {after_s} s: is the model still loading, or is the machine busy?")]
    Timeout { after_s: u32 },
    /// No connection (refused, DNS, TLS, reset). `detail` starts with the server's address.
    #[error("cannot reach {detail}: is the server running?")]
    Unreachable { detail: String },
    /// 429. `retry_after_s`: what the server asked to wait, when it said.
    #[error("{}", rate_limited(*.retry_after_s))]
    RateLimited { retry_after_s: Option<u32> },
    /// 5xx on every attempt.
    #[error("the server failed ({status}): try again in a moment, or look at the server's log")]
    Server { status: u16 },
    /// Any other refusal (400, 422, a redirect…), with the server's own `error.message`.
    #[error("{}", refused(*.status, .message))]
    Refused { status: u16, message: String },
    /// The answer is not what an OpenAI-compatible server sends.
    #[error("the server's answer could not be read ({what}): is the base URL an OpenAI-compatible server?")]
    Malformed { what: String },
    /// No `choices`, or no text in them.
    #[error("the model gave an empty answer: try again, or try another model")]
    EmptyAnswer,
    /// A streamed answer ended before `[DONE]` (or a final `finish_reason`). Even with part of
    /// the text received this is an error: half an answer never reaches chat.
    #[error("the answer stream was cut before the end, so nothing was used: try again, or turn streaming off")]
    StreamCut,
    /// The answer is over 1 MiB, or its text over 64 Ki characters.
    #[error("the answer was too long to use: lower the co-host's max tokens")]
    TooLarge,
    /// The base URL is not an http(s) URL StreamCue can use (credentials in it are shown as
    /// `***`).
    #[error("`{url}` is not a server address StreamCue can use: type it like http://127.0.0.1:11434 or https://api.openai.com/v1")]
    BadUrl { url: String },
}

fn rate_limited(retry_after_s: Option<u32>) -> String {
    match retry_after_s {
        Some(s) => format!(
            "the server is rate-limiting StreamCue (429) and asks to wait {s} s: \
             lower the co-host's rate or try again later"
        ),
        None => "the server is rate-limiting StreamCue (429): lower the co-host's rate or try \
                 again later"
            .to_string(),
    }
}

fn refused(status: u16, message: &str) -> String {
    if message.is_empty() {
        format!("the server refused the request ({status}): check the co-host's settings")
    } else {
        format!(
            "the server refused the request ({status}: {message}): check the co-host's settings"
        )
    }
}

impl LlmError {
    /// A stable short name (`"timeout"`, `"unauthorized"`, …) for counters and logs.
    pub fn code(&self) -> &'static str {
        match self {
            LlmError::Unauthorized { .. } => "unauthorized",
            LlmError::ModelNotFound { .. } => "model_not_found",
            LlmError::Timeout { .. } => "timeout",
            LlmError::Unreachable { .. } => "unreachable",
            LlmError::RateLimited { .. } => "rate_limited",
            LlmError::Server { .. } => "server_error",
            LlmError::Refused { .. } => "refused",
            LlmError::Malformed { .. } => "malformed",
            LlmError::EmptyAnswer => "empty_answer",
            LlmError::StreamCut => "stream_cut",
            LlmError::TooLarge => "too_large",
            LlmError::BadUrl { .. } => "bad_url",
        }
    }
}

/// What one failed attempt means for the call.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Verdict {
    /// Worth another attempt (after `wait` when the server said, else the backoff).
    Retry {
        error: LlmError,
        wait: Option<Duration>,
    },
    /// Final: another attempt would fail the same way.
    Final(LlmError),
}

/// Which route answered (a 404 means different things on each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    Completions,
    Models,
}

/// A non-2xx answer: retried (408, 429, 5xx) or final (every other status). A body saying the
/// model is missing is [`LlmError::ModelNotFound`] whatever the status (but 401/403/429); a 404
/// on completions is too unless its body plainly is about something else (a route that does
/// not exist: then the base URL is wrong).
pub(super) fn classify_status(
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
    model: &str,
    route: Route,
) -> Verdict {
    let message = error_message(body);
    match status {
        401 | 403 => return Verdict::Final(LlmError::Unauthorized { status }),
        429 => {
            return Verdict::Retry {
                error: LlmError::RateLimited {
                    retry_after_s: retry_after.map(whole_secs),
                },
                wait: retry_after,
            }
        }
        _ => {}
    }
    if status >= 400 && (says_model_missing(&message) || error_code(body) == "model_not_found") {
        return Verdict::Final(LlmError::ModelNotFound {
            model: model.to_string(),
        });
    }
    match status {
        404 if route == Route::Completions && is_openai_error(body) => {
            Verdict::Final(LlmError::ModelNotFound {
                model: model.to_string(),
            })
        }
        404 => Verdict::Final(LlmError::Refused {
            status,
            message: match route {
                Route::Completions => "no /v1/chat/completions at this address: check the base URL",
                Route::Models => "no /v1/models at this address: check the base URL",
            }
            .to_string(),
        }),
        408 => Verdict::Retry {
            error: LlmError::Timeout { after_s: 0 },
            wait: retry_after,
        },
        500..=599 => Verdict::Retry {
            error: LlmError::Server { status },
            wait: retry_after,
        },
        300..=399 => Verdict::Final(LlmError::Refused {
            status,
            message: "the server redirects elsewhere: use the address it points to as the base URL"
                .to_string(),
        }),
        _ => Verdict::Final(LlmError::Refused { status, message }),
    }
}

/// An error reported inside a 200 answer or a stream event (`{"error": …}`): its `code` (or
/// `status`) when that is an HTTP status, else 500.
pub(super) fn classify_inline_error(error: &serde_json::Value, model: &str) -> LlmError {
    let status = ["code", "status"]
        .iter()
        .find_map(|k| error.get(k).and_then(serde_json::Value::as_u64))
        .filter(|s| (400..=599).contains(s))
        .unwrap_or(500) as u16;
    let body = serde_json::json!({ "error": error }).to_string();
    match classify_status(status, None, body.as_bytes(), model, Route::Models) {
        Verdict::Final(e) | Verdict::Retry { error: e, .. } => e,
    }
}

/// `secs` rounded up to whole seconds (a 300 ms timeout is "1 s", never "0 s").
pub(super) fn whole_secs(d: Duration) -> u32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    u32::try_from(secs).unwrap_or(u32::MAX)
}

fn says_model_missing(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("model")
        && [
            "not found",
            "does not exist",
            "not loaded",
            "no such",
            "unknown model",
            "not available",
            "invalid model",
            "model_not_found",
            "try pulling",
        ]
        .iter()
        .any(|needle| m.contains(needle))
}

fn is_openai_error(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| {
        v.get("error")
            .is_some_and(|e| e.is_object() || e.is_string())
    })
}

fn error_code(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.pointer("/error/code")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The server's own message in an error body: `error.message`, `error` (a string), `message`
/// (vLLM) or `detail` (FastAPI), made one clean line of at most [`MAX_MESSAGE_CHARS`]. Empty
/// for a body that is not JSON (an HTML error page is never quoted).
pub(super) fn error_message(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let text = value
        .pointer("/error/message")
        .and_then(serde_json::Value::as_str)
        .or_else(|| value.get("error").and_then(serde_json::Value::as_str))
        .or_else(|| value.get("message").and_then(serde_json::Value::as_str))
        .or_else(|| value.get("detail").and_then(serde_json::Value::as_str))
        .unwrap_or_default();
    one_line(text, MAX_MESSAGE_CHARS)
}

/// Control characters and runs of whitespace become one space; cut to `max` characters (with
/// `…`).
fn one_line(text: &str, max: usize) -> String {
    let cleaned = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if cleaned.chars().count() <= max {
        return cleaned;
    }
    let mut cut: String = cleaned.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `error` with every occurrence of `key` in its texts replaced by `***` (a server may quote
/// the key it refused).
pub(super) fn redact(error: LlmError, key: Option<&str>) -> LlmError {
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return error;
    };
    let clean = |s: String| s.replace(key, "***");
    match error {
        LlmError::Refused { status, message } => LlmError::Refused {
            status,
            message: clean(message),
        },
        LlmError::Malformed { what } => LlmError::Malformed { what: clean(what) },
        LlmError::Unreachable { detail } => LlmError::Unreachable {
            detail: clean(detail),
        },
        LlmError::ModelNotFound { model } => LlmError::ModelNotFound {
            model: clean(model),
        },
        other => other,
    }
}

/// `Retry-After`: delay seconds (`"7"`) or an HTTP date (any of the three forms RFC 9110 asks
/// recipients to accept); a date in the past is no wait. `now_ms` is the wall clock
/// (`clock::now_ms()`), given so tests can fix it.
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Some(Duration::from_millis(
        u64::try_from(at_ms.saturating_sub(now_ms)).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = "llama3";

    fn class(status: u16, body: &str) -> Verdict {
        classify_status(status, None, body.as_bytes(), MODEL, Route::Completions)
    }

    #[test]
    fn sentences_name_the_next_step() {
        assert_eq!(
            LlmError::Unauthorized { status: 401 }.to_string(),
            "401: check the API key"
        );
        assert_eq!(
            LlmError::ModelNotFound {
                model: "llama3".into()
            }
            .to_string(),
            "the model `llama3` is not loaded on the server (pick one with Test connection)"
        );
        assert!(LlmError::Timeout { after_s: 30 }
            .to_string()
            .starts_with("the server did not answer within 30 s"));
        assert_eq!(
            LlmError::Unreachable {
                detail: "http://127.0.0.1:11434 (connection refused)".into()
            }
            .to_string(),
            "cannot reach http://127.0.0.1:11434 (connection refused): is the server running?"
        );
        assert!(LlmError::RateLimited {
            retry_after_s: Some(45)
        }
        .to_string()
        .contains("wait 45 s"));
        assert!(!LlmError::RateLimited {
            retry_after_s: None
        }
        .to_string()
        .contains("wait "));
        assert_eq!(
            LlmError::Refused {
                status: 400,
                message: "max_tokens is too large".into()
            }
            .to_string(),
            "the server refused the request (400: max_tokens is too large): check the co-host's settings"
        );
        assert!(LlmError::Refused {
            status: 422,
            message: String::new()
        }
        .to_string()
        .contains("(422)"));
    }

    #[test]
    fn statuses_are_classified() {
        assert_eq!(
            class(401, r#"{"error":{"message":"Incorrect API key"}}"#),
            Verdict::Final(LlmError::Unauthorized { status: 401 })
        );
        assert_eq!(
            class(403, ""),
            Verdict::Final(LlmError::Unauthorized { status: 403 })
        );
        let wait = Some(Duration::from_secs(3));
        assert_eq!(
            classify_status(429, wait, b"", MODEL, Route::Completions),
            Verdict::Retry {
                error: LlmError::RateLimited {
                    retry_after_s: Some(3)
                },
                wait
            }
        );
        assert_eq!(
            class(503, "<html>busy</html>"),
            Verdict::Retry {
                error: LlmError::Server { status: 503 },
                wait: None
            }
        );
        assert!(matches!(class(408, ""), Verdict::Retry { .. }));
        assert_eq!(
            class(
                400,
                r#"{"error":{"message":"  max_tokens\n too   large "}}"#
            ),
            Verdict::Final(LlmError::Refused {
                status: 400,
                message: "max_tokens too large".into()
            })
        );
        assert!(matches!(
            class(302, ""),
            Verdict::Final(LlmError::Refused { status: 302, .. })
        ));
    }

    #[test]
    fn a_missing_model_is_recognised_in_each_servers_words() {
        let missing = Verdict::Final(LlmError::ModelNotFound {
            model: MODEL.into(),
        });
        // OpenAI
        assert_eq!(
            class(
                404,
                r#"{"error":{"message":"The model `llama3` does not exist or you do not have access to it.","type":"invalid_request_error","code":"model_not_found"}}"#
            ),
            missing
        );
        // Ollama
        assert_eq!(
            class(
                404,
                r#"{"error":{"message":"model \"llama3\" not found, try pulling it first","type":"api_error"}}"#
            ),
            missing
        );
        // vLLM
        assert_eq!(
            class(
                404,
                r#"{"object":"error","message":"The model `llama3` does not exist.","code":404}"#
            ),
            missing
        );
        // A 400 that says so (LM Studio style)
        assert_eq!(
            class(400, r#"{"error":"Model llama3 is not loaded"}"#),
            missing
        );
        // An OpenAI-style 404 without words about the model is still about the model.
        assert_eq!(class(404, r#"{"error":{"message":"Not found"}}"#), missing);
        // A 404 page that is not an API error: the route is missing, the URL is wrong.
        assert!(matches!(
            class(404, "404 page not found"),
            Verdict::Final(LlmError::Refused { status: 404, ref message }) if message.contains("base URL")
        ));
        assert!(matches!(
            classify_status(404, None, b"{}", MODEL, Route::Models),
            Verdict::Final(LlmError::Refused { status: 404, .. })
        ));
        // 401 stays about the key even when the text mentions a model.
        assert_eq!(
            class(401, r#"{"error":"model not found"}"#),
            Verdict::Final(LlmError::Unauthorized { status: 401 })
        );
    }

    #[test]
    fn messages_are_one_short_clean_line() {
        let long = format!(r#"{{"error":{{"message":"{}"}}}}"#, "x".repeat(1000));
        let msg = error_message(long.as_bytes());
        assert_eq!(msg.chars().count(), MAX_MESSAGE_CHARS);
        assert!(msg.ends_with('…'));
        assert_eq!(error_message(b"<html>500</html>"), "");
        assert_eq!(error_message(br#"{"detail":"Not Found"}"#), "Not Found");
        assert_eq!(
            error_message(br#"{"error":"bad\u0007 \u001b[31mthing"}"#),
            "bad [31mthing"
        );
    }

    #[test]
    fn inline_errors_are_classified_by_their_code() {
        let e = serde_json::json!({"message": "context length exceeded", "code": 400});
        assert_eq!(
            classify_inline_error(&e, MODEL),
            LlmError::Refused {
                status: 400,
                message: "context length exceeded".into()
            }
        );
        let e = serde_json::json!({"message": "overloaded"});
        assert_eq!(
            classify_inline_error(&e, MODEL),
            LlmError::Server { status: 500 }
        );
    }

    #[test]
    fn the_key_is_redacted_from_quoted_messages() {
        let e = LlmError::Refused {
            status: 400,
            message: "bad key sk-secret-123 given".into(),
        };
        assert_eq!(
            redact(e, Some("sk-secret-123")),
            LlmError::Refused {
                status: 400,
                message: "bad key *** given".into()
            }
        );
        assert_eq!(redact(LlmError::StreamCut, Some("k")), LlmError::StreamCut);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = 1_700_000_000_000; // 2023-11-14T22:13:20Z
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now),
            Some(Duration::from_secs(30))
        );
        // The obsolete forms.
        assert_eq!(
            parse_retry_after("Tuesday, 14-Nov-23 22:13:25 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after("Tue Nov 14 22:13:21 2023", now),
            Some(Duration::from_secs(1))
        );
        // In the past: no wait.
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in ["", "soon", "-3", "1.5", "Tue, 31 Feb 2023 00:00:00 GMT"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn whole_seconds_round_up() {
        assert_eq!(whole_secs(Duration::from_millis(300)), 1);
        assert_eq!(whole_secs(Duration::from_secs(30)), 30);
        assert_eq!(whole_secs(Duration::ZERO), 0);
    }
}
