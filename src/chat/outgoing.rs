//! What StreamCue may say in chat: sanitising and rate limiting outgoing messages.
//!
//! Invariants: an outgoing message has no control characters (so no CR/LF: an echoed prompt
//! can never inject an IRC line), does not start with `/` or `.` (so it can never run a chat
//! command like `/ban`), is at most 500 characters, and no more are sent than Twitch allows
//! (20 per 30 s for a normal account, 100 for a moderator or the broadcaster).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Twitch's limit on one chat message.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// Makes `text` safe to send, or `None` if nothing sendable is left.
pub fn sanitise_outgoing(text: &str) -> Option<String> {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let body = collapsed.trim_start_matches(|c: char| c == '/' || c == '.' || c.is_whitespace());
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
        Self::new(if elevated { 100 } else { 20 }, Duration::from_secs(30))
    }

    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(1);
    }

    /// Returns the slot taken last (the message was not sent after all).
    pub fn undo(&mut self) {
        self.sent.pop_back();
    }

    /// Takes a slot at `now`, or says how long until one frees up.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            self.sent.pop_front();
        }
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

    proptest::proptest! {
        #[test]
        fn sanitised_text_is_always_safe(text in "\\PC{0,700}|[/. \r\n\u{0}a-z]{0,30}") {
            if let Some(out) = sanitise_outgoing(&text) {
                proptest::prop_assert!(!out.chars().any(char::is_control));
                proptest::prop_assert!(!out.starts_with('/') && !out.starts_with('.') && !out.starts_with(' '));
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
