//! Server-sent events as OpenAI-compatible servers stream them: an incremental decoder that
//! takes the body in whatever chunks the network gives and hands back each event's data.
//!
//! It follows the SSE rules (WHATWG HTML, "Server-sent events"): lines end with LF, CRLF or a
//! lone CR (a CRLF split across two chunks is one line end); a line starting with `:` is a
//! comment (keep-alives); `data:` lines (one optional space after the colon) are joined with
//! `\n` and dispatched at a blank line; other fields (`event:`, `id:`, `retry:`) are ignored; a
//! leading byte-order mark is dropped. At the end of the body, a last event without its blank
//! line is still dispatched (servers that forget it).
//!
//! Invariants: chunk boundaries never change the events (tested by feeding every split); the
//! decoder holds at most one unfinished line and one unfinished event, which the caller bounds
//! by capping the body it feeds.

/// The incremental decoder. Feed it chunks; collect the data of each complete event.
#[derive(Debug, Default)]
pub(super) struct SseDecoder {
    /// The current line so far (without its end).
    line: Vec<u8>,
    /// Data lines of the current event, joined with `\n`.
    data: Option<String>,
    /// The last byte fed was a CR: an LF first in the next chunk ends nothing.
    after_cr: bool,
    /// Bytes seen so far (for the byte-order mark).
    seen: usize,
}

/// A line that is not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NotUtf8;

impl SseDecoder {
    /// Decodes `chunk`, pushing the data of every event completed by it onto `out`.
    pub(super) fn feed(&mut self, chunk: &[u8], out: &mut Vec<String>) -> Result<(), NotUtf8> {
        let mut chunk = chunk;
        if self.seen < 3 {
            // Drop a UTF-8 byte-order mark at the very start, even if split.
            const BOM: &[u8] = b"\xEF\xBB\xBF";
            while self.seen < 3 {
                match chunk.first() {
                    Some(&b) if b == BOM[self.seen] && self.line.is_empty() => {
                        chunk = &chunk[1..];
                        self.seen += 1;
                    }
                    Some(_) => {
                        self.seen = 3;
                    }
                    None => return Ok(()),
                }
            }
        }
        for &b in chunk {
            match b {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' => self.end_line(out)?,
                b'\r' => {
                    self.end_line(out)?;
                    self.after_cr = true;
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(b);
                }
            }
        }
        Ok(())
    }

    /// The body has ended: the last line and event, if unfinished, count.
    pub(super) fn finish(&mut self, out: &mut Vec<String>) -> Result<(), NotUtf8> {
        if !self.line.is_empty() {
            self.end_line(out)?;
        }
        if let Some(data) = self.data.take() {
            out.push(data);
        }
        Ok(())
    }

    fn end_line(&mut self, out: &mut Vec<String>) -> Result<(), NotUtf8> {
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                out.push(data);
            }
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // a comment: keep-alive
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (&line[..], &[][..]),
        };
        if field != b"data" {
            return Ok(());
        }
        let value = std::str::from_utf8(value).map_err(|_| NotUtf8)?;
        match &mut self.data {
            Some(data) => {
                data.push('\n');
                data.push_str(value);
            }
            None => self.data = Some(value.to_string()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in(chunks: &[&[u8]]) -> Vec<String> {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c, &mut out).unwrap();
        }
        d.finish(&mut out).unwrap();
        out
    }

    fn decode(body: &[u8]) -> Vec<String> {
        decode_in(&[body])
    }

    const STREAM: &[u8] = b": keep-alive\n\n\
        data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n\
        event: message\nid: 7\nretry: 100\n\
        data: {\"choices\":[{\"delta\":{\"content\":\"lo \xC3\xA9t\xC3\xA9\"}}]}\r\n\r\n\
        : ping\r\r\
        data:[DONE]\n\n";

    fn expected() -> Vec<String> {
        vec![
            r#"{"choices":[{"delta":{"content":"Hel"}}]}"#.to_string(),
            "{\"choices\":[{\"delta\":{\"content\":\"lo été\"}}]}".to_string(),
            "[DONE]".to_string(),
        ]
    }

    #[test]
    fn events_comments_and_line_ends() {
        assert_eq!(decode(STREAM), expected());
    }

    #[test]
    fn every_split_in_two_or_three_gives_the_same_events() {
        for i in 0..=STREAM.len() {
            assert_eq!(
                decode_in(&[&STREAM[..i], &STREAM[i..]]),
                expected(),
                "split at {i}"
            );
        }
        for i in 0..=STREAM.len() {
            for j in i..=STREAM.len() {
                assert_eq!(
                    decode_in(&[&STREAM[..i], &STREAM[i..j], &STREAM[j..]]),
                    expected(),
                    "split at {i}, {j}"
                );
            }
        }
        let bytes: Vec<&[u8]> = STREAM.chunks(1).collect();
        assert_eq!(decode_in(&bytes), expected());
    }

    #[test]
    fn a_crlf_split_across_chunks_is_one_line_end() {
        // "data: a\r" | "\n\r\n": one event, not an extra blank line before the data ends.
        assert_eq!(
            decode_in(&[b"data: a\r", b"\ndata: b\r", b"\n\r\n"]),
            ["a\nb"]
        );
    }

    #[test]
    fn multi_line_data_is_joined_and_other_fields_ignored() {
        assert_eq!(
            decode(b"data: one\ndata:two\ndata\nevent: x\n\n"),
            ["one\ntwo\n"]
        );
        assert_eq!(
            decode(b"id: 3\n\n: only a comment\n\n"),
            Vec::<String>::new()
        );
        // Only one space after the colon is dropped.
        assert_eq!(decode(b"data:  x\n\n"), [" x"]);
    }

    #[test]
    fn a_last_event_without_its_blank_line_still_counts() {
        assert_eq!(decode(b"data: [DONE]"), ["[DONE]"]);
        assert_eq!(decode(b"data: a\n"), ["a"]);
    }

    #[test]
    fn a_byte_order_mark_is_dropped_even_split() {
        assert_eq!(decode_in(&[b"\xEF", b"\xBB\xBFdata: x\n\n"]), ["x"]);
        assert_eq!(decode(b"\xEF\xBB\xBF: c\n\ndata: y\n\n"), ["y"]);
    }

    #[test]
    fn a_multibyte_character_split_across_chunks_is_whole() {
        let body = "data: café\n\n".as_bytes();
        let at = body.iter().position(|&b| b == 0xC3).unwrap() + 1;
        assert_eq!(decode_in(&[&body[..at], &body[at..]]), ["café"]);
    }

    #[test]
    fn a_line_that_is_not_utf8_is_an_error() {
        let mut d = SseDecoder::default();
        assert_eq!(d.feed(b"data: \xFF\xFE\n\n", &mut Vec::new()), Err(NotUtf8));
    }
}
