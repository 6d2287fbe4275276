//! The endpoint's answers (`docs/generation-endpoint.md`), parsed and checked: a signed clip
//! URL with its expiry, or a job id to poll.

use reqwest::Url;
use serde::Deserialize;

use super::clock;

/// A clip URL the endpoint handed out.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedUrl {
    pub url: Url,
    /// When it stops working (Unix s): the earliest of `expires_at` and the URL's own
    /// parameters; `None` when neither says.
    pub expires_at: Option<i64>,
}

impl SignedUrl {
    /// Expired, or expires within a second (not worth starting a download).
    pub fn is_expired(&self, now_unix: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now_unix + 1)
    }
}

/// What `POST /generate` (or a redirect target, or a finished job) answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Clip(SignedUrl),
    Job { call_id: String },
}

#[derive(Deserialize)]
struct Raw {
    output_url: Option<serde_json::Value>,
    expires_at: Option<serde_json::Value>,
    call_id: Option<serde_json::Value>,
}

/// What is wrong with an endpoint's answer: a short sentence shown to the streamer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("the body is empty")]
    Empty,
    #[error("invalid JSON ({0})")]
    InvalidJson(String),
    #[error("`output_url` is not a string")]
    OutputUrlNotText,
    #[error("`output_url` is not a URL ({0})")]
    OutputUrlInvalid(String),
    #[error("`output_url` must be http or https, not {scheme}")]
    OutputUrlScheme { scheme: String },
    #[error("`expires_at` is not a valid number")]
    ExpiresAtNotANumber,
    #[error("`expires_at` is not an RFC 3339 time")]
    ExpiresAtNotRfc3339,
    #[error("`expires_at` must be text or a number")]
    ExpiresAtWrongType,
    #[error("`call_id` must be a short text of letters, digits, '-' or '_'")]
    BadCallId,
    #[error("it has neither `output_url` nor `call_id`")]
    NeitherUrlNorJob,
}

/// Parses an answer body. `base` resolves a relative `output_url`.
pub fn parse_answer(body: &[u8], base: &Url) -> Result<Answer, AnswerError> {
    let raw: Raw = serde_json::from_slice(body).map_err(|e| {
        if body.iter().all(u8::is_ascii_whitespace) {
            AnswerError::Empty
        } else {
            AnswerError::InvalidJson(e.to_string())
        }
    })?;
    if let Some(url) = raw.output_url {
        let text = url
            .as_str()
            .ok_or(AnswerError::OutputUrlNotText)?
            .trim()
            .to_string();
        let url = base
            .join(&text)
            .map_err(|e| AnswerError::OutputUrlInvalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(AnswerError::OutputUrlScheme {
                scheme: url.scheme().to_string(),
            });
        }
        let declared = match raw.expires_at {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Number(n)) => Some(
                n.as_f64()
                    .filter(|v| v.is_finite())
                    .ok_or(AnswerError::ExpiresAtNotANumber)? as i64,
            ),
            Some(serde_json::Value::String(s)) => {
                Some(clock::parse_rfc3339(&s).ok_or(AnswerError::ExpiresAtNotRfc3339)?)
            }
            Some(_) => return Err(AnswerError::ExpiresAtWrongType),
        };
        let expires_at = match (declared, url_expiry(&url)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        return Ok(Answer::Clip(SignedUrl { url, expires_at }));
    }
    match raw.call_id {
        Some(serde_json::Value::String(id)) if valid_call_id(&id) => {
            Ok(Answer::Job { call_id: id })
        }
        Some(_) => Err(AnswerError::BadCallId),
        None => Err(AnswerError::NeitherUrlNorJob),
    }
}

fn valid_call_id(id: &str) -> bool {
    (1..=200).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// The expiry a signed URL carries in its query: `X-Amz-Date` + `X-Amz-Expires` (S3, R2,
/// MinIO), `X-Goog-Date` + `X-Goog-Expires` (GCS v4), or `Expires=<unix s>` (CloudFront,
/// GCS v2, Azure-style signers). Parameter names are matched case-insensitively.
pub fn url_expiry(url: &Url) -> Option<i64> {
    let get = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.into_owned())
    };
    for (date, expires) in [
        ("X-Amz-Date", "X-Amz-Expires"),
        ("X-Goog-Date", "X-Goog-Expires"),
    ] {
        if let (Some(d), Some(e)) = (get(date), get(expires)) {
            if let (Some(start), Ok(secs)) = (clock::parse_compact(&d), e.trim().parse::<i64>()) {
                return Some(start.saturating_add(secs));
            }
        }
    }
    get("Expires").and_then(|e| e.trim().parse::<i64>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://gen.example/").unwrap()
    }

    #[test]
    fn reads_clip_answers_and_their_expiry() {
        let body = br#"{"output_url":"https://b.s3.amazonaws.com/42.mp4?X-Amz-Date=20261127T011203Z&X-Amz-Expires=600&X-Amz-Signature=ab","extra":1}"#;
        let Answer::Clip(c) = parse_answer(body, &base()).unwrap() else {
            panic!()
        };
        assert_eq!(c.expires_at, Some(1_795_741_923 + 600));
        assert!(!c.is_expired(1_795_741_923));
        assert!(c.is_expired(1_795_741_923 + 600));

        let body = br#"{"output_url":"/files/1.mp4?Expires=1795741923&Signature=x","expires_at":"2026-11-27T01:00:00Z"}"#;
        let Answer::Clip(c) = parse_answer(body, &base()).unwrap() else {
            panic!()
        };
        assert_eq!(
            c.url.as_str(),
            "https://gen.example/files/1.mp4?Expires=1795741923&Signature=x"
        );
        assert_eq!(c.expires_at, Some(1_795_741_923 - 723)); // the earlier of the two

        let body = br#"{"output_url":"https://x/1.mp4","expires_at":1795741923}"#;
        assert!(matches!(
            parse_answer(body, &base()),
            Ok(Answer::Clip(SignedUrl {
                expires_at: Some(1_795_741_923),
                ..
            }))
        ));
        let body = br#"{"output_url":"https://x/1.mp4"}"#;
        assert!(matches!(
            parse_answer(body, &base()),
            Ok(Answer::Clip(SignedUrl {
                expires_at: None,
                ..
            }))
        ));
    }

    #[test]
    fn reads_jobs() {
        assert_eq!(
            parse_answer(br#"{"call_id":"fc-01HXYZ"}"#, &base()),
            Ok(Answer::Job {
                call_id: "fc-01HXYZ".into()
            })
        );
    }

    #[test]
    fn says_what_is_wrong_with_bad_answers() {
        let cases: [(&[u8], &str); 9] = [
            (b"", "empty"),
            (b"{\"output_url\": ", "invalid JSON"),
            (b"<html>502</html>", "invalid JSON"),
            (b"{\"url\":\"https://x\"}", "neither"),
            (b"{\"output_url\":42}", "not a string"),
            (b"{\"output_url\":\"file:///etc/passwd\"}", "http or https"),
            (
                b"{\"output_url\":\"https://x\",\"expires_at\":\"tomorrow\"}",
                "RFC 3339",
            ),
            (b"{\"call_id\":\"../../etc\"}", "call_id"),
            (b"[1,2]", "invalid JSON"),
        ];
        for (body, want) in cases {
            let err = parse_answer(body, &base()).unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} should say {want:?}");
        }
    }
}
