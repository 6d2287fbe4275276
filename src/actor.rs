//! The one way actors are reached, the one way their long work runs, and the one way they stop.
//!
//! - [`Mailbox`] is the handle every actor hands out: [`Mailbox::ask`] sends a command carrying
//!   a reply channel and waits for the answer, [`Mailbox::tell`] sends without an answer (waiting
//!   for room), [`Mailbox::try_tell`] sends only if there is room now — the form the chat path
//!   uses, since nothing on the chat path may await a slower actor. An actor that has stopped (or
//!   dropped the reply) is [`Gone`], and `Gone` maps to `ErrorCode::ShuttingDown` in one place.
//! - [`spawn_racing`] runs an actor's long work (a clip cut, a slug lookup) as a task on the
//!   engine's tracker that stops when its token is cancelled; the result goes back to the actor
//!   through its own mailbox, so the actor's loop never blocks on it.
//! - [`Shutdown`] stops the actors in a fixed order, each under a timeout; a step that does not
//!   finish in time is logged by name and abandoned, so Quit always finishes.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The actor behind a mailbox has stopped, or dropped the reply to a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("StreamCue is shutting down.")]
pub struct Gone;

/// Why [`Mailbox::try_tell`] did not deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TryTellError {
    /// The mailbox is full: the actor is behind. The command was dropped.
    #[error("the actor is busy; the command was dropped")]
    Full,
    #[error(transparent)]
    Gone(#[from] Gone),
}

/// The sending half of an actor's command channel. Cheap to clone.
pub struct Mailbox<C> {
    tx: mpsc::Sender<C>,
}

impl<C> std::fmt::Debug for Mailbox<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox")
            .field("capacity", &self.tx.capacity())
            .field("closed", &self.tx.is_closed())
            .finish()
    }
}

impl<C> Clone for Mailbox<C> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<C> Mailbox<C> {
    /// A mailbox holding at most `capacity` commands, and the receiver the actor reads.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<C>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Self { tx }, rx)
    }

    /// Sends the command `make` builds around a reply channel and waits for the reply.
    /// A reply that is itself a `Result` comes back whole: `ask(..).await?` yields it.
    pub async fn ask<R>(&self, make: impl FnOnce(oneshot::Sender<R>) -> C) -> Result<R, Gone> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| Gone)?;
        answer.await.map_err(|_| Gone)
    }

    /// Sends a command that needs no answer, waiting for room in the mailbox.
    pub async fn tell(&self, command: C) -> Result<(), Gone> {
        self.tx.send(command).await.map_err(|_| Gone)
    }

    /// Sends a command only if there is room now; never waits.
    pub fn try_tell(&self, command: C) -> Result<(), TryTellError> {
        self.tx.try_send(command).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => TryTellError::Full,
            mpsc::error::TrySendError::Closed(_) => TryTellError::Gone(Gone),
        })
    }

    /// Like [`Mailbox::try_tell`], but a command that was not delivered comes back (so the
    /// sender can answer a reply channel inside it).
    pub fn try_tell_back(&self, command: C) -> Result<(), C> {
        self.tx.try_send(command).map_err(|e| e.into_inner())
    }

    /// Whether the actor has stopped reading (its receiver is gone).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Runs `work` on `tracker` until it finishes or `token` is cancelled, whichever comes first.
/// `done` receives the result (`None` when cancelled first) — typically it tells the result to
/// the actor that started the work.
pub fn spawn_racing<T, W, D, DF>(
    tracker: &TaskTracker,
    token: CancellationToken,
    work: W,
    done: D,
) -> JoinHandle<()>
where
    T: Send + 'static,
    W: Future<Output = T> + Send + 'static,
    D: FnOnce(Option<T>) -> DF + Send + 'static,
    DF: Future<Output = ()> + Send + 'static,
{
    tracker.spawn(async move {
        let result = tokio::select! {
            biased;
            _ = token.cancelled() => None,
            r = work => Some(r),
        };
        done(result).await;
    })
}

/// One step of an ordered shutdown: cancel `token`, then wait for `handle`.
struct Step {
    name: &'static str,
    token: CancellationToken,
    handle: JoinHandle<()>,
}

/// What happened during [`Shutdown::run`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Steps that stopped in time, in order.
    pub stopped: Vec<&'static str>,
    /// Steps that did not stop within their timeout and were abandoned (aborted).
    pub timed_out: Vec<&'static str>,
}

/// The engine's stop order: the actors in the order they must stop (producers before the
/// actors they feed), each awaited under the same per-step timeout.
#[derive(Default)]
pub struct Shutdown {
    steps: Vec<Step>,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next step: at shutdown, `token` is cancelled and `handle` awaited.
    pub fn then(&mut self, name: &'static str, token: CancellationToken, handle: JoinHandle<()>) {
        self.steps.push(Step {
            name,
            token,
            handle,
        });
    }

    /// Stops every step in order. A step that has not finished after `per_step` is logged by
    /// name, aborted and left behind; the next step starts anyway. Takes at most
    /// `steps × per_step` (plus scheduling).
    pub async fn run(self, per_step: Duration) -> ShutdownReport {
        let mut report = ShutdownReport::default();
        for mut step in self.steps {
            step.token.cancel();
            match tokio::time::timeout(per_step, &mut step.handle).await {
                Ok(_) => {
                    tracing::debug!(step = step.name, "stopped");
                    report.stopped.push(step.name);
                }
                Err(_) => {
                    tracing::warn!(
                        step = step.name,
                        timeout_ms = per_step.as_millis() as u64,
                        "did not stop in time; abandoned"
                    );
                    step.handle.abort();
                    report.timed_out.push(step.name);
                }
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    enum Command {
        Double(u32, oneshot::Sender<u32>),
        Note(u32),
    }

    fn spawn_doubler(cancel: CancellationToken) -> (Mailbox<Command>, JoinHandle<u32>) {
        let (mailbox, mut rx) = Mailbox::new(1);
        let handle = tokio::spawn(async move {
            let mut notes = 0;
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return notes,
                    cmd = rx.recv() => match cmd {
                        Some(Command::Double(n, reply)) => drop(reply.send(n * 2)),
                        Some(Command::Note(n)) => notes += n,
                        None => return notes,
                    },
                }
            }
        });
        (mailbox, handle)
    }

    #[tokio::test]
    async fn ask_gets_the_reply_and_a_stopped_actor_is_gone() {
        let cancel = CancellationToken::new();
        let (mailbox, handle) = spawn_doubler(cancel.clone());
        assert_eq!(mailbox.ask(|r| Command::Double(21, r)).await, Ok(42));
        mailbox.tell(Command::Note(3)).await.unwrap();
        mailbox.tell(Command::Note(4)).await.unwrap();
        assert_eq!(mailbox.ask(|r| Command::Double(1, r)).await, Ok(2));
        cancel.cancel();
        assert_eq!(handle.await.unwrap(), 7);
        assert_eq!(mailbox.ask(|r| Command::Double(1, r)).await, Err(Gone));
        assert_eq!(mailbox.tell(Command::Note(1)).await, Err(Gone));
        assert_eq!(
            mailbox.try_tell(Command::Note(1)),
            Err(TryTellError::Gone(Gone))
        );
        assert!(mailbox.is_closed());
    }

    #[tokio::test]
    async fn try_tell_never_waits_on_a_full_mailbox() {
        // Nobody reads: the first command fills the one slot, the second is refused at once.
        let (mailbox, _rx) = Mailbox::<Command>::new(1);
        assert_eq!(mailbox.try_tell(Command::Note(1)), Ok(()));
        assert_eq!(mailbox.try_tell(Command::Note(2)), Err(TryTellError::Full));
    }

    #[tokio::test]
    async fn a_dropped_reply_is_gone_not_a_hang() {
        let (mailbox, mut rx) = Mailbox::<Command>::new(1);
        tokio::spawn(async move {
            while let Some(cmd) = rx.recv().await {
                drop(cmd); // drops the reply sender unanswered
            }
        });
        assert_eq!(mailbox.ask(|r| Command::Double(1, r)).await, Err(Gone));
    }

    #[tokio::test]
    async fn racing_work_stops_when_its_token_is_cancelled() {
        let tracker = TaskTracker::new();
        let token = CancellationToken::new();
        let (tx, rx) = oneshot::channel();
        spawn_racing(
            &tracker,
            token.clone(),
            std::future::pending::<u32>(),
            move |r| async move {
                let _ = tx.send(r);
            },
        );
        token.cancel();
        assert_eq!(rx.await.unwrap(), None);
        let (tx, rx) = oneshot::channel();
        spawn_racing(
            &tracker,
            CancellationToken::new(),
            async { 5u32 },
            move |r| async move {
                let _ = tx.send(r);
            },
        );
        assert_eq!(rx.await.unwrap(), Some(5));
        tracker.close();
        tracker.wait().await;
    }

    /// Invariant: Quit finishes in bounded time even when an actor never stops.
    #[tokio::test]
    async fn a_shutdown_with_a_stuck_actor_still_finishes_in_bounded_time() {
        let mut shutdown = Shutdown::new();
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        for name in ["chat", "stuck", "queue"] {
            let token = CancellationToken::new();
            let t = token.clone();
            let order = order.clone();
            let handle = tokio::spawn(async move {
                if name == "stuck" {
                    // Ignores its token, like an actor blocked on a peer that never answers.
                    std::future::pending::<()>().await;
                }
                t.cancelled().await;
                order.lock().unwrap().push(name);
            });
            shutdown.then(name, token, handle);
        }
        let started = Instant::now();
        let report = shutdown.run(Duration::from_millis(200)).await;
        let took = started.elapsed();
        assert_eq!(report.stopped, vec!["chat", "queue"]);
        assert_eq!(report.timed_out, vec!["stuck"]);
        assert_eq!(*order.lock().unwrap(), vec!["chat", "queue"]);
        assert!(
            took < Duration::from_secs(2),
            "three steps at 200 ms each took {took:?}"
        );
        assert!(
            took >= Duration::from_millis(200),
            "the stuck step was waited for"
        );
    }
}
