//! `ChatReplies`: the one actor that sends StreamCue's messages to chat.
//!
//! Everything StreamCue says goes through here: sanitised ([`sanitise_outgoing`]) and spaced
//! by Twitch's sliding-window limit (20 / 30 s, or 100 / 30 s once Twitch says the account is
//! a moderator or the broadcaster). Replies that cannot be sent (read-only chat, no session)
//! are dropped with a log line; a flood of replies beyond [`BACKLOG`] is dropped too rather
//! than sent minutes late.

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::chat::outgoing::{sanitise_outgoing, SlidingWindow};
use crate::chat::ChatClient;

/// Replies waiting for a send slot, at most.
pub const BACKLOG: usize = 50;

/// Where the queue (and later the generator) hands chat replies.
#[derive(Clone, Debug)]
pub struct ReplySink {
    tx: mpsc::Sender<(String, String)>,
}

impl ReplySink {
    /// Queues `text` for `channel`; never blocks.
    pub fn say(&self, channel: &str, text: String) {
        static DROPPED: crate::logging::Throttle = crate::logging::Throttle::new();
        if self.tx.try_send((channel.to_string(), text)).is_err() {
            if let Some(also) = DROPPED.allow() {
                tracing::warn!(also_dropped = also, "chat reply dropped: too many waiting");
            }
        }
    }

    /// A sink whose replies go nowhere (tests of the queue alone).
    pub fn discard() -> (Self, mpsc::Receiver<(String, String)>) {
        let (tx, rx) = mpsc::channel(BACKLOG);
        (Self { tx }, rx)
    }
}

pub struct ChatReplies;

impl ChatReplies {
    pub fn spawn(
        chat: ChatClient,
        cancel: CancellationToken,
        tracker: &tokio_util::task::TaskTracker,
    ) -> (ReplySink, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(BACKLOG);
        let handle = tracker.spawn(run(chat, rx, cancel));
        (ReplySink { tx }, handle)
    }
}

async fn run(
    chat: ChatClient,
    mut rx: mpsc::Receiver<(String, String)>,
    cancel: CancellationToken,
) {
    let mut window = SlidingWindow::for_twitch(false);
    loop {
        let (channel, text) = tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            next = rx.recv() => match next {
                Some(v) => v,
                None => return,
            },
        };
        let Some(text) = sanitise_outgoing(&text) else {
            continue;
        };
        loop {
            match window.try_acquire(Instant::now()) {
                Ok(()) => break,
                Err(wait) => {
                    tracing::debug!(
                        wait_ms = wait.as_millis() as u64,
                        "chat reply waits for the rate limit"
                    );
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        match chat.say(&channel, &text).await {
            Ok(elevated) => window.set_limit(if elevated { 100 } else { 20 }),
            Err(e) => {
                // Nothing went out (read-only chat, no session): give the slot back.
                window.undo();
                static NOT_SENT: crate::logging::Throttle = crate::logging::Throttle::new();
                if let Some(also) = NOT_SENT.allow() {
                    tracing::info!(code = ?e.code, reason = %e.message, also_not_sent = also, "chat reply not sent");
                }
            }
        }
    }
}
