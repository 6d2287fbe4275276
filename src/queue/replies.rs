//! `ChatReplies`: the one actor that sends StreamCue's messages to chat.
//!
//! Everything StreamCue says goes through here: sanitised ([`sanitise_outgoing`]) and spaced
//! by Twitch's sliding-window limit (20 / 30 s, or 100 / 30 s once Twitch says the account is
//! a moderator or the broadcaster). Replies that cannot be sent (read-only chat, no session)
//! are dropped with a log line; a flood of replies beyond [`BACKLOG`] is dropped too rather
//! than sent minutes late.
//!
//! It owns the outgoing limit, so it announces it (`CoreEvent::ReplyLimits`): after each reply
//! that went out, and when the limit changes (the chat's [`SayStatus`]: mod status, login,
//! connection). Never on a timer: the window counts the sends down from their times.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::actor::Mailbox;
use crate::api::{CoreEvent, ReplyLimits};
use crate::chat::outgoing::{sanitise_outgoing, twitch_limit, SlidingWindow};
use crate::chat::{ChatClient, SayStatus};
use crate::events::EventBus;

/// Replies waiting for a send slot, at most.
pub const BACKLOG: usize = 50;

/// What became of a reply sent with [`ReplySink::say_within`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// It went out to chat (after the sanitiser).
    Sent { text: String },
    /// The limit's room for this sender was used up: it was not sent (nor kept to send later).
    Limited,
    /// It could not be sent: nothing sendable was left after the sanitiser, chat is read-only
    /// or not connected, or too many replies were waiting. In words.
    NotSent { reason: String },
}

/// One reply for the actor.
#[derive(Debug)]
pub struct Reply {
    pub channel: String,
    pub text: String,
    /// Sends of the window this reply must leave free (0: it may take the last one and wait for
    /// a slot; more: it goes now or not at all, so queue replies always find room).
    pub reserve: u32,
    /// Told what became of it.
    pub outcome: Option<oneshot::Sender<ReplyOutcome>>,
}

/// Where the queue (and later the generator) hands chat replies.
#[derive(Clone, Debug)]
pub struct ReplySink {
    mailbox: Mailbox<Reply>,
    /// The limits as last announced (read for snapshots: never waits on the actor, which may
    /// be waiting for a send slot).
    limits: watch::Receiver<ReplyLimits>,
    /// Replies dropped, shared with the actor (which announces the total).
    dropped: Arc<AtomicU32>,
}

impl ReplySink {
    /// Queues `text` for `channel`; never blocks.
    pub fn say(&self, channel: &str, text: String) {
        self.send(Reply {
            channel: channel.to_string(),
            text,
            reserve: 0,
            outcome: None,
        });
    }

    /// Queues `text` for `channel` only if it can go out now leaving `reserve` sends of the
    /// window free (the co-host leaves room for queue replies); never blocks. The answer says
    /// what became of it.
    pub fn say_within(
        &self,
        channel: &str,
        text: String,
        reserve: u32,
    ) -> oneshot::Receiver<ReplyOutcome> {
        let (tx, rx) = oneshot::channel();
        self.send(Reply {
            channel: channel.to_string(),
            text,
            reserve,
            outcome: Some(tx),
        });
        rx
    }

    fn send(&self, reply: Reply) {
        static DROPPED: crate::logging::Throttle = crate::logging::Throttle::new();
        if let Err(e) = self.mailbox.try_tell_back(reply) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            if let Some(tx) = e.outcome {
                let _ = tx.send(ReplyOutcome::NotSent {
                    reason: "too many chat replies are waiting".into(),
                });
            }
            if let Some(also) = DROPPED.allow() {
                tracing::warn!(also_dropped = also, "chat reply dropped: too many waiting");
            }
        }
    }

    /// The outgoing limit now: the last announced [`ReplyLimits`] without the sends that have
    /// left the window since.
    pub fn limits(&self) -> ReplyLimits {
        let mut limits = self.limits.borrow().clone();
        limits.dropped = self.dropped.load(Ordering::Relaxed);
        let since = crate::clock::now_ms() as f64 - f64::from(limits.window_ms);
        limits.sent_at_ms.retain(|t| *t > since);
        limits
    }

    /// A sink whose replies go nowhere (tests of the queue alone).
    pub fn discard() -> (Self, mpsc::Receiver<Reply>) {
        let (mailbox, rx) = Mailbox::new(BACKLOG);
        let dropped = Arc::new(AtomicU32::new(0));
        let limits = watch::channel(Limits::new(dropped.clone()).view(Instant::now())).1;
        (
            Self {
                mailbox,
                limits,
                dropped,
            },
            rx,
        )
    }
}

pub struct ChatReplies;

impl ChatReplies {
    /// Starts the actor. It announces [`CoreEvent::ReplyLimits`] on `events` when a reply
    /// went out or the limit changed (never on a timer).
    pub fn spawn(
        chat: ChatClient,
        events: EventBus,
        cancel: CancellationToken,
        tracker: &tokio_util::task::TaskTracker,
    ) -> (ReplySink, tokio::task::JoinHandle<()>) {
        let (mailbox, rx) = Mailbox::new(BACKLOG);
        let dropped = Arc::new(AtomicU32::new(0));
        let mut limits = Limits::new(dropped.clone());
        let (latest, limits_rx) = watch::channel(limits.view(Instant::now()));
        let handle = tracker.spawn(run(chat, rx, limits, latest, events, cancel));
        (
            ReplySink {
                mailbox,
                limits: limits_rx,
                dropped,
            },
            handle,
        )
    }
}

/// The actor's rate-limit state: the window and whether chat can be spoken in.
struct Limits {
    window: SlidingWindow,
    /// The [`crate::clock::now_ms`] of each send the window holds, in the same order (so the times
    /// announced for a send never change).
    sent_ms: VecDeque<i64>,
    read_only: bool,
    /// Replies dropped (here, or by the sink when too many wait).
    dropped: Arc<AtomicU32>,
}

impl Limits {
    fn new(dropped: Arc<AtomicU32>) -> Self {
        Self {
            window: SlidingWindow::for_twitch(false),
            sent_ms: VecDeque::new(),
            read_only: true,
            dropped,
        }
    }

    /// A reply taken at `acquired_ms` went out.
    fn sent(&mut self, acquired_ms: i64) {
        self.sent_ms.push_back(acquired_ms);
    }

    /// Follows the chat's [`SayStatus`]; `true` if the announced limits changed.
    fn follow(&mut self, status: SayStatus) -> bool {
        let limit = twitch_limit(status.elevated);
        let changed = limit != self.window.limit() || self.read_only == status.can_say;
        self.window.set_limit(limit);
        self.read_only = !status.can_say;
        changed
    }

    fn view(&mut self, now: Instant) -> ReplyLimits {
        let in_window = self.window.recent(now).len();
        while self.sent_ms.len() > in_window {
            self.sent_ms.pop_front();
        }
        let window_ms = self.window.window().as_millis().min(u32::MAX.into()) as u32;
        let limit = self.window.limit().min(u32::MAX as usize) as u32;
        ReplyLimits {
            sent_at_ms: self.sent_ms.iter().map(|&t| t as f64).collect(),
            limit,
            window_ms,
            read_only: self.read_only,
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// Announces the limits (after the change they describe), and keeps them for snapshots.
fn announce(limits: &mut Limits, latest: &watch::Sender<ReplyLimits>, events: &EventBus) {
    let view = limits.view(Instant::now());
    latest.send_replace(view.clone());
    events.publish(CoreEvent::ReplyLimits { limits: view });
}

async fn run(
    chat: ChatClient,
    mut rx: mpsc::Receiver<Reply>,
    mut limits: Limits,
    latest: watch::Sender<ReplyLimits>,
    events: EventBus,
    cancel: CancellationToken,
) {
    let mut status = chat.say_status();
    let mut status_open = true;
    if limits.follow(*status.borrow_and_update()) {
        latest.send_replace(limits.view(Instant::now()));
    }
    loop {
        let Reply {
            channel,
            text,
            reserve,
            outcome,
        } = tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            changed = status.changed(), if status_open => {
                match changed {
                    Ok(()) => {
                        if limits.follow(*status.borrow_and_update()) {
                            announce(&mut limits, &latest, &events);
                        }
                    }
                    // The chat actor has stopped (shutdown): nothing more to follow.
                    Err(_) => status_open = false,
                }
                continue;
            }
            next = rx.recv() => match next {
                Some(v) => v,
                None => return,
            },
        };
        let tell = |o: ReplyOutcome| {
            if let Some(tx) = outcome {
                let _ = tx.send(o);
            }
        };
        let Some(text) = sanitise_outgoing(&text) else {
            tell(ReplyOutcome::NotSent {
                reason: "nothing sendable was left after the sanitiser".into(),
            });
            continue;
        };
        if reserve > 0 {
            // Now or not at all, leaving `reserve` sends free for the queue's replies.
            let now = Instant::now();
            let used = limits.window.recent(now).len();
            if used + reserve as usize >= limits.window.limit() {
                tell(ReplyOutcome::Limited);
                continue;
            }
        }
        let acquired_ms = loop {
            match limits.window.try_acquire(Instant::now()) {
                Ok(()) => break crate::clock::now_ms(),
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
        };
        match chat.say(&channel, &text).await {
            Ok(elevated) => {
                limits.sent(acquired_ms);
                limits.follow(SayStatus {
                    can_say: true,
                    elevated,
                });
                announce(&mut limits, &latest, &events);
                tell(ReplyOutcome::Sent { text });
            }
            Err(e) => {
                // Nothing went out (read-only chat, no session): give the slot back, count it
                // and say so (the metrics follow the total).
                limits.window.undo();
                limits.dropped.fetch_add(1, Ordering::Relaxed);
                announce(&mut limits, &latest, &events);
                static NOT_SENT: crate::logging::Throttle = crate::logging::Throttle::new();
                if let Some(also) = NOT_SENT.allow() {
                    tracing::info!(code = ?e.code, reason = %e.message, also_not_sent = also, "chat reply not sent");
                }
                tell(ReplyOutcome::NotSent { reason: e.message });
            }
        }
    }
}
