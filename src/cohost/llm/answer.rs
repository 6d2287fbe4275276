//! Reading an answer: a plain chat completion (`choices[0].message.content`) or the events of
//! a streamed one (`choices[0].delta.content` … `[DONE]`), into text, usage and finish reason.
//!
//! Invariants: the text never grows past [`MAX_TEXT_CHARS`] (the event that would take it
//! over is [`LlmError::TooLarge`], so a huge answer is refused as it arrives); an answer whose
//! text is empty or only whitespace is [`LlmError::EmptyAnswer`]; a stream is whole only after
//! `[DONE]`, or after a `finish_reason` when the body then ends cleanly (servers that never send
//! `[DONE]`) — anything less is [`LlmError::StreamCut`], even with text received.

use serde_json::Value;

use super::error::{classify_inline_error, LlmError};
use super::TokenUsage;

/// The longest answer text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 64 * 1024;

/// What an answer said.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Answer {
    pub text: String,
    pub usage: Option<TokenUsage>,
    pub finish_reason: Option<String>,
}

fn malformed(what: &str) -> LlmError {
    LlmError::Malformed {
        what: what.to_string(),
    }
}

fn usage_of(value: &Value) -> Option<TokenUsage> {
    let usage = value.get("usage")?;
    if !usage.is_object() {
        return None;
    }
    let n = |k: &str| {
        usage
            .get(k)
            .and_then(Value::as_u64)
            .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
    };
    let prompt = n("prompt_tokens").unwrap_or(0);
    let completion = n("completion_tokens").unwrap_or(0);
    let total = n("total_tokens").unwrap_or(prompt.saturating_add(completion));
    Some(TokenUsage {
        prompt,
        completion,
        total,
    })
}

fn string_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// A plain (non-streamed) answer body.
pub(super) fn parse_plain(body: &[u8], model: &str) -> Result<Answer, LlmError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| malformed("the answer is not JSON"))?;
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        return Err(classify_inline_error(error, model));
    }
    let choices = value
        .get("choices")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("the answer has no `choices`"))?;
    let Some(first) = choices.first() else {
        return Err(LlmError::EmptyAnswer);
    };
    let text = match first.pointer("/message/content") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(_) => return Err(malformed("`message.content` is not text")),
    };
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(LlmError::TooLarge);
    }
    if text.trim().is_empty() {
        return Err(LlmError::EmptyAnswer);
    }
    Ok(Answer {
        text,
        usage: usage_of(&value),
        finish_reason: string_at(first, "/finish_reason").map(str::to_string),
    })
}

/// Puts a streamed answer together, one event's data at a time.
#[derive(Debug, Default)]
pub(super) struct StreamAnswer {
    text: String,
    chars: usize,
    usage: Option<TokenUsage>,
    finish_reason: Option<String>,
    done: bool,
}

impl StreamAnswer {
    /// Whether `[DONE]` has come (nothing after it matters).
    pub(super) fn done(&self) -> bool {
        self.done
    }

    /// One event's data.
    pub(super) fn push(&mut self, data: &str, model: &str) -> Result<(), LlmError> {
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        if self.done || data.is_empty() {
            return Ok(());
        }
        let value: Value =
            serde_json::from_str(data).map_err(|_| malformed("a streamed event is not JSON"))?;
        if !value.is_object() {
            return Err(malformed("a streamed event is not a JSON object"));
        }
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            return Err(classify_inline_error(error, model));
        }
        if let Some(usage) = usage_of(&value) {
            self.usage = Some(usage);
        }
        let Some(choice) = value
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| {
                c.iter()
                    .find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
            })
        else {
            return Ok(()); // e.g. the usage-only last chunk (`choices: []`)
        };
        match choice.pointer("/delta/content") {
            Some(Value::String(piece)) => {
                self.chars += piece.chars().count();
                if self.chars > MAX_TEXT_CHARS {
                    return Err(LlmError::TooLarge);
                }
                self.text.push_str(piece);
            }
            None | Some(Value::Null) => {}
            Some(_) => return Err(malformed("`delta.content` is not text")),
        }
        if let Some(reason) = string_at(choice, "/finish_reason") {
            self.finish_reason = Some(reason.to_string());
        }
        Ok(())
    }

    /// The stream has ended: cleanly (`clean_end`: the body ended) or not (the connection
    /// broke).
    pub(super) fn finish(self, clean_end: bool) -> Result<Answer, LlmError> {
        let whole = self.done || (clean_end && self.finish_reason.is_some());
        if !whole {
            return Err(LlmError::StreamCut);
        }
        if self.text.trim().is_empty() {
            return Err(LlmError::EmptyAnswer);
        }
        Ok(Answer {
            text: self.text,
            usage: self.usage,
            finish_reason: self.finish_reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = "llama3";

    fn stream(events: &[&str], clean_end: bool) -> Result<Answer, LlmError> {
        let mut s = StreamAnswer::default();
        for e in events {
            s.push(e, M)?;
        }
        s.finish(clean_end)
    }

    fn delta(text: &str) -> String {
        serde_json::json!({"choices":[{"index":0,"delta":{"content":text},"finish_reason":null}]})
            .to_string()
    }

    #[test]
    fn a_plain_answer_gives_text_usage_and_reason() {
        let body = br#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hi chat!"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#;
        assert_eq!(
            parse_plain(body, M).unwrap(),
            Answer {
                text: "Hi chat!".into(),
                usage: Some(TokenUsage {
                    prompt: 12,
                    completion: 3,
                    total: 15
                }),
                finish_reason: Some("stop".into()),
            }
        );
        let no_usage = br#"{"choices":[{"message":{"content":"ok"}}]}"#;
        assert_eq!(parse_plain(no_usage, M).unwrap().usage, None);
        let no_total = br#"{"choices":[{"message":{"content":"ok"}}],"usage":{"prompt_tokens":2,"completion_tokens":1}}"#;
        assert_eq!(parse_plain(no_total, M).unwrap().usage.unwrap().total, 3);
    }

    #[test]
    fn plain_answers_that_cannot_be_used() {
        assert_eq!(
            parse_plain(br#"{"choices":[]}"#, M),
            Err(LlmError::EmptyAnswer)
        );
        for empty in [
            r#"{"choices":[{"message":{"content":""}}]}"#,
            r#"{"choices":[{"message":{"content":"  \n "}}]}"#,
            r#"{"choices":[{"message":{"content":null,"tool_calls":[]}}]}"#,
        ] {
            assert_eq!(
                parse_plain(empty.as_bytes(), M),
                Err(LlmError::EmptyAnswer),
                "{empty}"
            );
        }
        for bad in [
            &br#"{"choices":[{"message":{"content":"trunc"#[..],
            b"<html>ok</html>",
            br#"{"data":[]}"#,
            br#"{"choices":[{"message":{"content":42}}]}"#,
        ] {
            assert!(
                matches!(parse_plain(bad, M), Err(LlmError::Malformed { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let huge =
            serde_json::json!({"choices":[{"message":{"content":"a".repeat(MAX_TEXT_CHARS + 1)}}]});
        assert_eq!(
            parse_plain(huge.to_string().as_bytes(), M),
            Err(LlmError::TooLarge)
        );
        let at_cap =
            serde_json::json!({"choices":[{"message":{"content":"é".repeat(MAX_TEXT_CHARS)}}]});
        assert!(parse_plain(at_cap.to_string().as_bytes(), M).is_ok());
        let error = br#"{"error":{"message":"The model `llama3` does not exist","code":404}}"#;
        assert_eq!(
            parse_plain(error, M),
            Err(LlmError::ModelNotFound { model: M.into() })
        );
    }

    #[test]
    fn a_stream_is_put_together_with_usage_from_the_last_chunk() {
        let role = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
        let stop = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
        let usage =
            r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#;
        let a = stream(
            &[
                role,
                &delta("Hello"),
                &delta(" chat"),
                stop,
                usage,
                "[DONE]",
            ],
            true,
        )
        .unwrap();
        assert_eq!(a.text, "Hello chat");
        assert_eq!(a.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            a.usage,
            Some(TokenUsage {
                prompt: 9,
                completion: 2,
                total: 11
            })
        );
        // Other choices (n > 1) are ignored.
        let other = r#"{"choices":[{"index":1,"delta":{"content":"NO"}}]}"#;
        assert_eq!(
            stream(&[&delta("yes"), other, "[DONE]"], true)
                .unwrap()
                .text,
            "yes"
        );
        // Nothing after [DONE] counts.
        assert_eq!(
            stream(&[&delta("a"), "[DONE]", "not json"], true)
                .unwrap()
                .text,
            "a"
        );
    }

    #[test]
    fn a_cut_stream_is_an_error_even_with_text() {
        assert_eq!(stream(&[], false), Err(LlmError::StreamCut));
        assert_eq!(stream(&[], true), Err(LlmError::StreamCut));
        assert_eq!(
            stream(&[&delta("half an ans")], false),
            Err(LlmError::StreamCut)
        );
        assert_eq!(
            stream(&[&delta("half an ans")], true),
            Err(LlmError::StreamCut)
        );
        // A finish_reason then a broken connection is still cut ([DONE] never came).
        let stop = r#"{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}"#;
        assert_eq!(stream(&[stop], false), Err(LlmError::StreamCut));
        // ... but a finish_reason then a clean end is whole (servers without [DONE]).
        assert_eq!(stream(&[stop], true).unwrap().text, "x");
    }

    #[test]
    fn streams_that_cannot_be_used() {
        assert_eq!(
            stream(&[r#"{"choices":[]}"#, "[DONE]"], true),
            Err(LlmError::EmptyAnswer)
        );
        assert_eq!(
            stream(&[&delta(" "), "[DONE]"], true),
            Err(LlmError::EmptyAnswer)
        );
        assert!(matches!(
            stream(&[r#"{"choices":[{"delta":{"content":"Hel"#], true),
            Err(LlmError::Malformed { .. })
        ));
        assert!(matches!(
            stream(&["42"], true),
            Err(LlmError::Malformed { .. })
        ));
        let error = r#"{"error":{"message":"overloaded","code":503}}"#;
        assert_eq!(
            stream(&[&delta("a"), error], true),
            Err(LlmError::Server { status: 503 })
        );
    }

    #[test]
    fn a_stream_over_the_text_cap_is_refused_as_it_arrives() {
        let mut s = StreamAnswer::default();
        let piece = delta(&"x".repeat(16 * 1024));
        for _ in 0..4 {
            s.push(&piece, M).unwrap();
        }
        assert_eq!(s.push(&delta("y"), M), Err(LlmError::TooLarge));
    }
}
