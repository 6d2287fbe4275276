//! What StreamCue may say in chat: sanitising and rate limiting outgoing messages.
//!
//! Invariants: an outgoing message has no control characters (so no CR/LF: an echoed prompt
//! can never inject an IRC line), does not start with `/` or `.` (so it can never run a chat
//! command like `/ban`), is at most 500 characters, and no more are sent than Twitch allows
//! (20 per 30 s for a normal account, 100 for a moderator or the broadcaster).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::invisible::disarm_start;

/// Twitch's limit on one chat message.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// Messages a normal account may send per [`TWITCH_WINDOW`].
pub const TWITCH_LIMIT: usize = 20;
/// Messages a moderator or the broadcaster may send per [`TWITCH_WINDOW`].
pub const TWITCH_LIMIT_ELEVATED: usize = 100;
/// Twitch's sliding window for outgoing messages.
pub const TWITCH_WINDOW: Duration = Duration::from_secs(30);

/// Twitch's outgoing limit for an account: [`TWITCH_LIMIT_ELEVATED`] as moderator or
/// broadcaster, else [`TWITCH_LIMIT`].
pub fn twitch_limit(elevated: bool) -> usize {
    if elevated {
        TWITCH_LIMIT_ELEVATED
    } else {
        TWITCH_LIMIT
    }
}

/// Makes `text` safe to send, or `None` if nothing sendable is left.
pub fn sanitise_outgoing(text: &str) -> Option<String> {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    // Invisible characters in front would hide a command from this check, not from chat.
    let body = disarm_start(&collapsed);
    if body.is_empty() {
        return None;
    }
    if body.chars().count() <= MAX_MESSAGE_CHARS {
        return Some(body.to_string());
    }
    let mut cut: String = body.chars().take(MAX_MESSAGE_CHARS - 1).collect();
    cut.push('…');
    Some(cut)
}

/// At most `limit` events in any `window`.
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    limit: usize,
    window: Duration,
    sent: VecDeque<Instant>,
}

impl SlidingWindow {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            sent: VecDeque::new(),
        }
    }

    /// Twitch's limit for an account: 100 / 30 s as moderator or broadcaster, else 20 / 30 s.
    pub fn for_twitch(elevated: bool) -> Self {
        Self::new(twitch_limit(elevated), TWITCH_WINDOW)
    }

    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(1);
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// When the events still inside the window at `now` happened, oldest first (at most the
    /// largest limit this window has had).
    pub fn recent(&mut self, now: Instant) -> impl ExactSizeIterator<Item = Instant> + '_ {
        self.forget_before(now);
        self.sent.iter().copied()
    }

    /// Drops the events that left the window at `now`.
    fn forget_before(&mut self, now: Instant) {
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            self.sent.pop_front();
        }
    }

    /// Returns the slot taken last (the message was not sent after all).
    pub fn undo(&mut self) {
        self.sent.pop_back();
    }

    /// Takes a slot at `now`, or says how long until one frees up.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        self.forget_before(now);
        if self.sent.len() < self.limit {
            self.sent.push_back(now);
            Ok(())
        } else {
            let oldest = *self.sent.front().expect("full window has entries");
            Err(self.window - now.duration_since(oldest))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outgoing_text_is_made_safe() {
        assert_eq!(
            sanitise_outgoing("@bob you are #3"),
            Some("@bob you are #3".into())
        );
        assert_eq!(
            sanitise_outgoing("cat\r\nPRIVMSG #x :owned\u{0}"),
            Some("cat PRIVMSG #x :owned".into())
        );
        assert_eq!(
            sanitise_outgoing("/ban streamer"),
            Some("ban streamer".into())
        );
        assert_eq!(
            sanitise_outgoing(" ./. /timeout x 600"),
            Some("timeout x 600".into())
        );
        assert_eq!(sanitise_outgoing(".me dances"), Some("me dances".into()));
        // A zero-width space, BOM or word joiner in front must not hide the command.
        assert_eq!(sanitise_outgoing("\u{200B}/ban x"), Some("ban x".into()));
        assert_eq!(
            sanitise_outgoing("\u{FEFF}\u{2060} .timeout x"),
            Some("timeout x".into())
        );
        assert_eq!(sanitise_outgoing("\r\n/ \t."), None);
        let long = sanitise_outgoing(&"é".repeat(600)).unwrap();
        assert_eq!(long.chars().count(), 500);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn window_allows_the_limit_then_waits() {
        let t0 = Instant::now();
        let mut w = SlidingWindow::for_twitch(false);
        for i in 0..20 {
            assert_eq!(w.try_acquire(t0 + Duration::from_millis(i)), Ok(()));
        }
        assert_eq!(
            w.try_acquire(t0 + Duration::from_secs(10)),
            Err(Duration::from_secs(20))
        );
        assert_eq!(
            w.try_acquire(t0 + Duration::from_secs(30)),
            Ok(()),
            "the first slot freed"
        );
        assert!(w.try_acquire(t0 + Duration::from_secs(30)).is_err());
        let mut mod_w = SlidingWindow::for_twitch(true);
        assert_eq!(
            (0..150).filter(|_| mod_w.try_acquire(t0).is_ok()).count(),
            100
        );
    }

    #[test]
    fn recent_lists_what_is_still_in_the_window() {
        let t0 = Instant::now();
        let mut w = SlidingWindow::for_twitch(false);
        for s in [0, 10, 20] {
            w.try_acquire(t0 + Duration::from_secs(s)).unwrap();
        }
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(
            w.recent(at(25)).collect::<Vec<_>>(),
            [at(0), at(10), at(20)]
        );
        assert_eq!(w.recent(at(30)).collect::<Vec<_>>(), [at(10), at(20)]);
        assert_eq!((w.limit(), w.window()), (TWITCH_LIMIT, TWITCH_WINDOW));
        w.set_limit(twitch_limit(true));
        assert_eq!(w.limit(), TWITCH_LIMIT_ELEVATED);
    }

    proptest::proptest! {
        #[test]
        fn sanitised_text_is_always_safe(text in "\\PC{0,700}|[/. \r\n\u{0}\u{200B}\u{FEFF}\u{2060}a-z]{0,30}") {
            if let Some(out) = sanitise_outgoing(&text) {
                proptest::prop_assert!(!out.chars().any(char::is_control));
                proptest::prop_assert!(!out.starts_with('/') && !out.starts_with('.') && !out.starts_with(' '));
                let first = out.chars().next().unwrap_or(' ');
                proptest::prop_assert!(!super::super::invisible::is_invisible(first), "{:?}", out);
                proptest::prop_assert!(out.chars().count() <= MAX_MESSAGE_CHARS);
            }
        }

        #[test]
        fn never_more_than_the_limit_in_any_window(gaps in proptest::collection::vec(0u64..4000, 1..200)) {
            let t0 = Instant::now();
            let mut w = SlidingWindow::new(20, Duration::from_secs(30));
            let mut now = t0;
            let mut sent = Vec::new();
            for g in gaps {
                now += Duration::from_millis(g);
                if w.try_acquire(now).is_ok() { sent.push(now); }
            }
            for (i, t) in sent.iter().enumerate() {
                let in_window = sent[i..].iter().take_while(|s| s.duration_since(*t) < Duration::from_secs(30)).count();
                proptest::prop_assert!(in_window <= 20);
            }
        }
    }
}
