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
//!
//! It also bounds twitch-irc's read-ahead ([`ReadAhead`]): twitch-irc reads its socket as fast
//! as it can and queues what it parsed in unbounded channels, so a burst the chat actor cannot
//! follow at once (a raid, the backlog after a pause) used to be parsed and held in memory whole:
//! about 2.3 kB per line, 400-450 MB for 200,000 lines, kept by the allocator afterwards. Now
//! the guard stops reading (TCP holds the rest) while [`READ_AHEAD_HIGH`] lines it passed on
//! have not been taken by the chat session yet.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Longest incoming line accepted, in bytes. Twitch lines with all tags stay well under 4 kB.
pub const MAX_LINE: usize = 16 * 1024;

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

/// The guard pauses while this many lines it passed to twitch-irc are not yet taken by the
/// chat session (about 5 MB of parsed chat; the actor takes ~50,000 lines/s)...
pub const READ_AHEAD_HIGH: u64 = 2048;
/// ...and reads again once the session has brought that down to this.
pub const READ_AHEAD_LOW: u64 = 512;

/// Counters shared between the guard (writer) and the chat session (reader).
#[derive(Debug, Default)]
pub struct GuardStats {
    pub malformed: AtomicU64,
    pub read_ahead: ReadAhead,
}

/// The read-ahead limit between the guards of one session (one per connection) and the chat
/// session that takes twitch-irc's messages.
///
/// Only on once the session calls [`ReadAhead::enable`]; it must then call
/// [`ReadAhead::took_one`] for every message it receives from twitch-irc (twitch-irc turns
/// every line the guard passes into exactly one message). Lines lost with a closed connection
/// are never taken: each guard counts from the `taken` value at its creation, so they cannot
/// stall the next connection (and leftovers of the old one only make the new guard more
/// lenient). Trade-off: while the chat actor is blocked the socket is not read, so a stall of
/// more than ~5 s during a burst lets twitch-irc's PING time out and reconnect, instead of
/// buffering without limit.
#[derive(Debug)]
pub struct ReadAhead {
    enabled: AtomicBool,
    /// Messages the session has taken out of twitch-irc (all connections).
    taken: AtomicU64,
    /// The smallest `taken` a paused guard waits for (`u64::MAX`: none waits).
    next_wake: AtomicU64,
    waiters: Mutex<Vec<Waiter>>,
}

#[derive(Debug)]
struct Waiter {
    guard: u64,
    wake_at: u64,
    waker: Waker,
}

impl Default for ReadAhead {
    fn default() -> Self {
        Self {
            enabled: AtomicBool::new(false),
            taken: AtomicU64::new(0),
            next_wake: AtomicU64::new(u64::MAX),
            waiters: Mutex::new(Vec::new()),
        }
    }
}

impl ReadAhead {
    /// Turns the limit on. The caller promises to call [`ReadAhead::took_one`] for every
    /// message it receives.
    pub fn enable(&self) {
        self.enabled.store(true, Ordering::SeqCst);
    }

    /// The session received one message from twitch-irc.
    #[inline]
    pub fn took_one(&self) {
        let taken = self.taken.fetch_add(1, Ordering::SeqCst) + 1;
        if taken >= self.next_wake.load(Ordering::SeqCst) {
            self.wake_ready(taken);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiter>> {
        self.waiters.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake_ready(&self, taken: u64) {
        let mut ready = Vec::new();
        {
            let mut waiters = self.lock();
            waiters.retain_mut(|w| {
                if w.wake_at <= taken {
                    ready.push(w.waker.clone());
                    false
                } else {
                    true
                }
            });
            self.update_next_wake(&waiters);
        }
        ready.into_iter().for_each(Waker::wake);
    }

    fn update_next_wake(&self, waiters: &[Waiter]) {
        let next = waiters.iter().map(|w| w.wake_at).min().unwrap_or(u64::MAX);
        self.next_wake.store(next, Ordering::SeqCst);
    }

    /// Whether a guard that has passed `passed` lines since `taken` was `base` must pause; if
    /// so, it is woken once the backlog is down to [`READ_AHEAD_LOW`].
    fn must_pause(&self, guard: u64, base: u64, passed: u64, cx: &Context<'_>) -> bool {
        if !self.enabled.load(Ordering::Relaxed) {
            return false;
        }
        let backlog = |taken: u64| passed.saturating_sub(taken.saturating_sub(base));
        if backlog(self.taken.load(Ordering::SeqCst)) < READ_AHEAD_HIGH {
            return false;
        }
        let wake_at = base + passed - READ_AHEAD_LOW;
        {
            let mut waiters = self.lock();
            waiters.retain(|w| w.guard != guard);
            waiters.push(Waiter {
                guard,
                wake_at,
                waker: cx.waker().clone(),
            });
            self.update_next_wake(&waiters);
        }
        // The session may have caught up between the first look and `next_wake`.
        let taken = self.taken.load(Ordering::SeqCst);
        if taken >= wake_at {
            self.wake_ready(taken);
        }
        backlog(taken) > READ_AHEAD_LOW
    }

    fn forget(&self, guard: u64) {
        let mut waiters = self.lock();
        if waiters.iter().any(|w| w.guard == guard) {
            waiters.retain(|w| w.guard != guard);
            self.update_next_wake(&waiters);
        }
    }
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
    /// Where socket reads land (allocated and zeroed once, not per read).
    chunk: Box<[u8]>,
    /// Dropping the rest of an over-long line until its newline arrives.
    discarding: bool,
    stats: Arc<GuardStats>,
    on_close: Option<OnClose>,
    wire_log: bool,
    /// Identifies this guard among the [`ReadAhead`] waiters.
    id: u64,
    /// `stats.read_ahead.taken` when this guard was created.
    taken_base: u64,
    /// Lines this guard has passed on.
    passed: u64,
}

impl<S> Drop for LineGuard<S> {
    fn drop(&mut self) {
        self.stats.read_ahead.forget(self.id);
    }
}

impl<S> LineGuard<S> {
    pub fn new(inner: S, stats: Arc<GuardStats>, on_close: OnClose) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let taken_base = stats.read_ahead.taken.load(Ordering::SeqCst);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            taken_base,
            passed: 0,
            inner,
            pending: Vec::with_capacity(READ_CHUNK),
            out: Vec::with_capacity(READ_CHUNK),
            out_pos: 0,
            chunk: vec![0u8; READ_CHUNK].into_boxed_slice(),
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
                            self.passed += 1;
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
    if has_cr_or_lf(line.as_bytes()) {
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

/// Whether `bytes` contains `\r` or `\n`. (`str::contains(['\r', '\n'])` decodes and compares
/// char by char, which was a quarter of the guard's cost on 400-byte chat lines; this checks
/// 32 bytes per step without branching, which the compiler turns into vector compares.)
fn has_cr_or_lf(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        let mut hit = false;
        for &b in chunk {
            hit |= (b == b'\r') | (b == b'\n');
        }
        if hit {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| b == b'\r' || b == b'\n')
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
    // Every `;`-separated tag is looked at, but only `c…` and `e…` ones any further: a plain
    // byte loop over the tags instead of `split(';')` plus two `strip_prefix` per tag.
    let bytes = tags.as_bytes();
    let mut start = 0;
    loop {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b';')
            .map_or(bytes.len(), |i| start + i);
        // `;` is ASCII, so `start..end` are char boundaries.
        let tag = &tags[start..end];
        let panics = match bytes.get(start) {
            Some(b'c') => tag.strip_prefix("color=").is_some_and(color_panics),
            Some(b'e') => tag.strip_prefix("emotes=").is_some_and(emotes_panic),
            _ => false,
        };
        if panics {
            return true;
        }
        if end == bytes.len() {
            return false;
        }
        start = end + 1;
    }
}

/// twitch-irc slices a 7-byte `color` value at bytes 1..3, 3..5, 5..7 as `str`.
fn color_panics(raw: &str) -> bool {
    let value = decode_tag_value(raw);
    value.len() == 7 && !value.is_ascii()
}

/// twitch-irc computes `end + 1 - start` for every `emotes` range.
fn emotes_panic(raw: &str) -> bool {
    let value = decode_tag_value(raw);
    value
        .split('/')
        .filter_map(|emote| emote.split_once(':'))
        .flat_map(|(_, ranges)| ranges.split(','))
        .filter_map(|range| range.split_once('-'))
        .filter_map(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
        .any(|(start, end)| end.checked_add(1).is_none_or(|end| end < start))
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
            if this
                .stats
                .read_ahead
                .must_pause(this.id, this.taken_base, this.passed, cx)
            {
                return Poll::Pending;
            }
            let mut rb = ReadBuf::new(&mut this.chunk);
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

    /// Reads lines through a guard until none arrives for 200 ms; returns how many arrived.
    async fn read_until_quiet<R: tokio::io::AsyncBufRead + Unpin>(
        lines: &mut tokio::io::Lines<R>,
    ) -> u64 {
        let mut n = 0;
        while let Ok(Ok(Some(_))) =
            tokio::time::timeout(std::time::Duration::from_millis(200), lines.next_line()).await
        {
            n += 1;
        }
        n
    }

    /// A duplex "socket" already holding `n` short chat lines.
    async fn socket_with_lines(n: usize) -> tokio::io::DuplexStream {
        use tokio::io::AsyncWriteExt;
        let (mut tx, rx) = tokio::io::duplex(4 << 20);
        let mut bytes = Vec::new();
        for i in 0..n {
            bytes.extend_from_slice(format!("PRIVMSG #c :line {i}\r\n").as_bytes());
        }
        tx.write_all(&bytes).await.unwrap();
        // Keep the writer open (no EOF): the guard must wait, not see the end.
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            drop(tx);
        });
        rx
    }

    #[tokio::test]
    async fn read_ahead_pauses_until_the_session_takes_messages() {
        use tokio::io::AsyncBufReadExt;
        let total = 6 * READ_AHEAD_HIGH;
        let stats = Arc::new(GuardStats::default());
        stats.read_ahead.enable();
        let guard = LineGuard::new(
            socket_with_lines(total as usize).await,
            stats.clone(),
            Box::new(|_| {}),
        );
        // twitch-irc's side: a task that reads lines as fast as the guard gives them.
        let read = Arc::new(AtomicU64::new(0));
        let read2 = read.clone();
        let reader = tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(guard).lines();
            while let Ok(Some(_)) = lines.next_line().await {
                read2.fetch_add(1, Ordering::SeqCst);
            }
        });
        let settle = || tokio::time::sleep(std::time::Duration::from_millis(200));
        let take = |n: u64| (0..n).for_each(|_| stats.read_ahead.took_one());

        // Nothing taken: it stops a little past the high mark (the rest of one read).
        settle().await;
        let first = read.load(Ordering::SeqCst);
        assert!(
            (READ_AHEAD_HIGH..READ_AHEAD_HIGH + READ_CHUNK as u64 / 16).contains(&first),
            "{first}"
        );
        // Taken down to one above the low mark: still paused.
        take(first - READ_AHEAD_LOW - 1);
        settle().await;
        assert_eq!(read.load(Ordering::SeqCst), first);
        // One more: the paused reader is woken and reads again.
        take(1);
        settle().await;
        let second = read.load(Ordering::SeqCst);
        assert!(
            second >= first + READ_AHEAD_HIGH - READ_AHEAD_LOW,
            "{second}"
        );
        // A session that keeps taking lets every line through.
        let mut taken = first - READ_AHEAD_LOW;
        while taken < total {
            let now = read.load(Ordering::SeqCst);
            assert!(now > taken, "stalled at {now} of {total}");
            take(now - taken);
            taken = now;
            settle().await;
        }
        assert_eq!(read.load(Ordering::SeqCst), total);
        assert_eq!(stats.malformed.load(Ordering::Relaxed), 0);
        reader.abort();
    }

    #[tokio::test]
    async fn lines_lost_with_a_connection_do_not_stall_the_next_one() {
        use tokio::io::AsyncBufReadExt;
        let stats = Arc::new(GuardStats::default());
        stats.read_ahead.enable();
        let old = LineGuard::new(
            socket_with_lines(3 * READ_AHEAD_HIGH as usize).await,
            stats.clone(),
            Box::new(|_| {}),
        );
        let mut old_lines = tokio::io::BufReader::new(old).lines();
        let lost = read_until_quiet(&mut old_lines).await;
        assert!(lost >= READ_AHEAD_HIGH, "{lost}");
        drop(old_lines); // the connection closes; none of its lines is ever taken

        let new = LineGuard::new(
            socket_with_lines(READ_AHEAD_HIGH as usize).await,
            stats.clone(),
            Box::new(|_| {}),
        );
        let mut new_lines = tokio::io::BufReader::new(new).lines();
        assert_eq!(read_until_quiet(&mut new_lines).await, READ_AHEAD_HIGH);
    }

    #[tokio::test]
    async fn without_a_session_taking_messages_there_is_no_limit() {
        use tokio::io::AsyncBufReadExt;
        let total = 3 * READ_AHEAD_HIGH;
        let guard = LineGuard::new(
            socket_with_lines(total as usize).await,
            Arc::new(GuardStats::default()),
            Box::new(|_| {}),
        );
        let mut lines = tokio::io::BufReader::new(guard).lines();
        assert_eq!(read_until_quiet(&mut lines).await, total);
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

        /// Long lines (the 32-byte steps of `has_cr_or_lf`) with a CR or LF anywhere, or none.
        #[test]
        fn guard_agrees_on_long_lines(
            head in "@[a-z=;-]{1,80} :[a-z!@.]{1,20} PRIVMSG #[a-z]{1,10} :",
            text in "[ -~\u{e9}\u{1F389}]{0,200}",
            cut in proptest::option::of((0usize..400, proptest::sample::select(vec!["\r", "\n"]))),
        ) {
            let mut line = format!("{head}{text}");
            if let Some((at, what)) = cut {
                let mut at = at.min(line.len());
                while !line.is_char_boundary(at) {
                    at -= 1;
                }
                line.insert_str(at, what);
            }
            proptest::prop_assert_eq!(is_parseable_irc(&line), IRCMessage::parse(&line).is_ok(), "line {:?}", line);
        }

        /// The byte-loop `panics_twitch_irc` says exactly what the `split(';')` version said.
        #[test]
        fn panic_check_matches_the_reference(
            tags in proptest::collection::vec(
                "(color|emotes|colour|e|c|display-name)(=[-0-9:/,#a-fA-F\\\\s\u{e9}\u{20ac}]{0,12})?",
                0..8,
            ),
            rest in "( :u!u@u PRIVMSG #c :hi)?",
        ) {
            let line = format!("@{}{rest}", tags.join(";"));
            proptest::prop_assert_eq!(panics_twitch_irc(&line), reference_panics(&line), "line {:?}", line);
        }
    }

    /// The previous implementation of [`panics_twitch_irc`], kept as the oracle.
    fn reference_panics(line: &str) -> bool {
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
}
