//! A socket wrapper that lets only well-formed IRC lines reach twitch-irc.
//!
//! twitch-irc closes the whole connection on a single line it cannot parse (or on invalid
//! UTF-8). A hostile or buggy server must not be able to do that, so every incoming line is
//! checked here first: lines that are not UTF-8, longer than [`MAX_LINE`], or that
//! `IRCMessage::parse` would reject are dropped and counted. What passes through is
//! re-terminated with `\r\n`.
//!
//! The wrapper also reports when the peer closes the socket (EOF or read error) and, when
//! protocol debugging is on, logs both directions with `PASS` redacted.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Longest incoming line accepted, in bytes. Twitch lines with all tags stay well under 4 kB.
pub const MAX_LINE: usize = 16 * 1024;

/// Counters shared between the guard (writer) and the chat session (reader).
#[derive(Debug, Default)]
pub struct GuardStats {
    pub malformed: AtomicU64,
}

/// Called once when the peer closes or the socket fails.
pub type OnClose = Box<dyn FnOnce(String) + Send + Sync>;

pub struct LineGuard<S> {
    inner: S,
    /// Bytes read but not yet split into lines.
    pending: Vec<u8>,
    /// Accepted lines waiting to be handed to the reader.
    out: Vec<u8>,
    out_pos: usize,
    /// Dropping the rest of an over-long line until its newline arrives.
    discarding: bool,
    stats: Arc<GuardStats>,
    on_close: Option<OnClose>,
    wire_log: bool,
}

impl<S> LineGuard<S> {
    pub fn new(inner: S, stats: Arc<GuardStats>, on_close: OnClose) -> Self {
        Self {
            inner,
            pending: Vec::with_capacity(8 * 1024),
            out: Vec::with_capacity(8 * 1024),
            out_pos: 0,
            discarding: false,
            stats,
            on_close: Some(on_close),
            wire_log: tracing::enabled!(target: "streamcue::irc_wire", tracing::Level::TRACE),
        }
    }

    fn closed(&mut self, why: String) {
        if let Some(f) = self.on_close.take() {
            f(why);
        }
    }

    /// Moves every complete line from `pending` to `out`, dropping malformed ones.
    fn split_lines(&mut self) {
        let mut start = 0;
        while let Some(nl) = memchr(b'\n', &self.pending[start..]) {
            let end = start + nl;
            if self.discarding {
                self.discarding = false;
            } else {
                let mut line = &self.pending[start..end];
                if let [rest @ .., b'\r'] = line {
                    line = rest;
                }
                if !line.is_empty() {
                    match std::str::from_utf8(line) {
                        Ok(text)
                            if line.len() <= MAX_LINE
                                && is_parseable_irc(text)
                                && !panics_twitch_irc(text) =>
                        {
                            if self.wire_log {
                                tracing::trace!(target: "streamcue::irc_wire", "< {text}");
                            }
                            self.out.extend_from_slice(line);
                            self.out.extend_from_slice(b"\r\n");
                        }
                        _ => {
                            self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(len = line.len(), "dropped a malformed IRC line");
                        }
                    }
                }
            }
            start = end + 1;
        }
        self.pending.drain(..start);
        if self.pending.len() > MAX_LINE {
            // No newline within the limit: drop what we have and the rest of this line.
            self.pending.clear();
            if !self.discarding {
                self.discarding = true;
                self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("dropped an over-long IRC line");
            }
        } else if self.discarding {
            self.pending.clear();
        }
    }
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// The same acceptance rule as `twitch_irc::message::IRCMessage::parse`, without allocating.
/// (A property test checks the two agree.)
pub fn is_parseable_irc(line: &str) -> bool {
    if line.contains(['\r', '\n']) {
        return false;
    }
    let mut rest = line;
    if let Some(after) = rest.strip_prefix('@') {
        match after.split_once(' ') {
            Some((tags, r)) if !tags.is_empty() => rest = r,
            _ => return false,
        }
    }
    if let Some(after) = rest.strip_prefix(':') {
        match after.split_once(' ') {
            Some((prefix, r)) if !prefix.is_empty() => rest = r,
            _ => return false,
        }
    }
    let (command, params) = match rest.split_once(' ') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let alpha = command.chars().all(|c| c.is_ascii_alphabetic());
    let numeric = command.chars().all(|c| c.is_ascii_digit());
    if command.is_empty() || !(alpha || numeric) {
        return false;
    }
    let mut rest = params;
    while let Some(r) = rest {
        if r.starts_with(':') {
            break;
        }
        let (param, next) = match r.split_once(' ') {
            Some((p, n)) => (p, Some(n)),
            None => (r, None),
        };
        if param.is_empty() {
            return false;
        }
        rest = next;
    }
    true
}

/// Whether the line has a tag value that makes twitch-irc 6.1 panic while turning it into a
/// `ServerMessage`. The panic kills twitch-irc's connection task without closing the session:
/// chat silently stops (no error, no reconnect). Two cases, both in tags of PRIVMSG and friends:
/// - `color`: 7 bytes that are not ASCII (it slices bytes 1..3, 3..5, 5..7 as `str`);
/// - `emotes`: a range `start-end` with `end + 1` overflowing or below `start` (it computes
///   `end + 1 - start`; only a panic where overflow checks are on, e.g. debug builds).
pub fn panics_twitch_irc(line: &str) -> bool {
    let Some(tags) = line
        .strip_prefix('@')
        .and_then(|l| l.split_once(' '))
        .map(|(t, _)| t)
    else {
        return false;
    };
    tags.split(';').any(|tag| {
        if let Some(raw) = tag.strip_prefix("color=") {
            let value = decode_tag_value(raw);
            value.len() == 7 && !value.is_ascii()
        } else if let Some(raw) = tag.strip_prefix("emotes=") {
            let value = decode_tag_value(raw);
            value
                .split('/')
                .filter_map(|emote| emote.split_once(':'))
                .flat_map(|(_, ranges)| ranges.split(','))
                .filter_map(|range| range.split_once('-'))
                .filter_map(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
                .any(|(start, end)| end.checked_add(1).is_none_or(|end| end < start))
        } else {
            false
        }
    })
}

/// IRCv3 tag value unescaping, as twitch-irc does it (borrowed when there is nothing to do).
fn decode_tag_value(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.contains('\\') {
        return raw.into();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(':') => out.push(';'),
            Some('s') => out.push(' '),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out.into()
}

impl<S: AsyncRead + Unpin> AsyncRead for LineGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.out_pos < this.out.len() {
                let n = (this.out.len() - this.out_pos).min(buf.remaining());
                buf.put_slice(&this.out[this.out_pos..this.out_pos + n]);
                this.out_pos += n;
                if this.out_pos == this.out.len() {
                    this.out.clear();
                    this.out_pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; 8192];
            let mut rb = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => {
                    this.closed(format!("connection error: {e}"));
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Ok(())) => {
                    let filled = rb.filled();
                    if filled.is_empty() {
                        this.closed("the server closed the connection".into());
                        return Poll::Ready(Ok(()));
                    }
                    this.pending.extend_from_slice(filled);
                    this.split_lines();
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LineGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.wire_log {
            for line in String::from_utf8_lossy(data).lines() {
                tracing::trace!(target: "streamcue::irc_wire", "> {}", redact_outgoing(line));
            }
        }
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// `PASS <anything>` becomes `PASS ***`; other lines are unchanged.
pub fn redact_outgoing(line: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = line.trim_start();
    if trimmed.len() >= 5 && trimmed[..5].eq_ignore_ascii_case("PASS ") {
        "PASS ***".into()
    } else {
        line.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use twitch_irc::message::IRCMessage;

    async fn run_guard(input: &[u8]) -> (String, u64, Option<String>) {
        let stats = Arc::new(GuardStats::default());
        let closed = Arc::new(std::sync::Mutex::new(None));
        let c2 = closed.clone();
        let mut guard = LineGuard::new(
            input,
            stats.clone(),
            Box::new(move |why| *c2.lock().unwrap() = Some(why)),
        );
        let mut out = String::new();
        guard.read_to_string(&mut out).await.unwrap();
        let why = closed.lock().unwrap().clone();
        (out, stats.malformed.load(Ordering::Relaxed), why)
    }

    #[tokio::test]
    async fn passes_good_lines_and_drops_bad_ones() {
        let mut input = Vec::new();
        input.extend_from_slice(b"PING :tmi.twitch.tv\r\n");
        input.extend_from_slice(b"@ :x PRIVMSG\r\n"); // empty tags
        input.extend_from_slice(b"\xff\xfe not utf8\r\n");
        input.extend_from_slice(b"PRIV-MSG #a :b\r\n"); // bad command
        input.extend_from_slice(b"PRIVMSG #a  b\r\n"); // double space in middle params
        input.extend_from_slice(b"bad\rcarriage\r\n");
        input.extend_from_slice(b"\r\n\n"); // empty lines are skipped, not counted
        input.extend_from_slice(&[b'A'; 64 * 1024]); // a 64 kB line
        input.extend_from_slice(b"\r\n");
        input.extend_from_slice(
            "@emotes=25:0-4;display-name=Zoë :zoe!zoe@zoe.tmi.twitch.tv PRIVMSG #c :Kappa ünïcödé 🎉\r\n"
                .as_bytes(),
        );
        input.extend_from_slice(b":tmi.twitch.tv 001 justinfan1 :Welcome"); // no final newline
        let (out, malformed, why) = run_guard(&input).await;
        assert_eq!(
            out,
            "PING :tmi.twitch.tv\r\n@emotes=25:0-4;display-name=Zoë :zoe!zoe@zoe.tmi.twitch.tv PRIVMSG #c :Kappa ünïcödé 🎉\r\n"
        );
        assert_eq!(malformed, 6);
        assert_eq!(why.as_deref(), Some("the server closed the connection"));
    }

    #[tokio::test]
    async fn lines_split_across_reads_are_joined() {
        // `&[u8]` as AsyncRead returns everything at once; feed bytes one at a time instead.
        let (mut tx, rx) = tokio::io::duplex(1);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            tx.write_all(b"PING :a\r\nPRIVMSG #x :hello world\r\n")
                .await
                .unwrap();
        });
        let stats = Arc::new(GuardStats::default());
        let mut guard = LineGuard::new(rx, stats.clone(), Box::new(|_| {}));
        let mut out = String::new();
        guard.read_to_string(&mut out).await.unwrap();
        writer.await.unwrap();
        assert_eq!(out, "PING :a\r\nPRIVMSG #x :hello world\r\n");
        assert_eq!(stats.malformed.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn flags_tag_values_that_panic_twitch_irc() {
        for line in [
            "@color=#\u{20ac}abc :u!u@u PRIVMSG #c :hi",
            "@color=#\\s\u{e9}abc :u!u@u PRIVMSG #c :hi",
            "@emotes=25:5-2 :u!u@u PRIVMSG #c :Kappa hello",
            "@badges=;emotes=25:0-4,8-3/86:1-1 :u!u@u PRIVMSG #c :Kappa hello",
            "@emotes=25:0-18446744073709551615 :u!u@u PRIVMSG #c :Kappa",
            "@emotes=25:9-\\7 :u!u@u PRIVMSG #c :x",
        ] {
            assert!(panics_twitch_irc(line), "{line}");
        }
        for line in [
            "PRIVMSG #c :color=#\u{20ac}abc emotes=25:5-2",
            "@color=#FF4500;emotes=25:0-4,6-10/86:12-21 :u!u@u PRIVMSG #c :Kappa Kappa BibleThump",
            "@color=;emotes= :u!u@u PRIVMSG #c :hi",
            "@color=red;emotes=25:x-y :u!u@u PRIVMSG #c :hi",
            "@emotes=25:40-44;color=#\u{20ac} :u!u@u PRIVMSG #c :Kappa",
            "@emotes=25:3-2 :u!u@u PRIVMSG #c :x",
        ] {
            assert!(!panics_twitch_irc(line), "{line}");
        }
    }

    #[test]
    fn redacts_pass() {
        assert_eq!(redact_outgoing("PASS oauth:abc123"), "PASS ***");
        assert_eq!(redact_outgoing("pass abc"), "PASS ***");
        assert_eq!(redact_outgoing("NICK justinfan1"), "NICK justinfan1");
    }

    proptest::proptest! {
        #[test]
        fn guard_agrees_with_twitch_irc_parser(line in "(@[a-z=;-]{0,6} )?(:[a-z!@.]{0,6} )?[A-Z0-9a-z:-]{0,8}( [#a-z:]{0,5}){0,4}( :[ -~]{0,10})?") {
            proptest::prop_assert_eq!(is_parseable_irc(&line), IRCMessage::parse(&line).is_ok(), "line {:?}", line);
        }

        #[test]
        fn guard_agrees_on_arbitrary_text(line in "\\PC{0,30}") {
            proptest::prop_assert_eq!(is_parseable_irc(&line), IRCMessage::parse(&line).is_ok(), "line {:?}", line);
        }
    }
}
