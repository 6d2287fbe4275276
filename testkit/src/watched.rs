//! State that a fake's (or the event recorder's) tasks write and a test waits on: a mutex and
//! a version number bumped after every change, so a wait re-checks its condition when
//! something changed instead of polling.
//!
//! Invariants: a panicking task does not poison the state for the test (the lock is taken
//! over); every wait is bounded by its timeout; bump after releasing the lock, so a woken
//! waiter does not block on it.

use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

pub(crate) struct Watched<S> {
    state: Mutex<S>,
    version: watch::Sender<u64>,
}

impl<S> Watched<S> {
    pub(crate) fn new(state: S) -> Self {
        Self {
            state: Mutex::new(state),
            version: watch::channel(0).0,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, S> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes waiters; call after releasing the state lock.
    pub(crate) fn bump(&self) {
        self.version.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Waits until `check` holds (checked now and after every bump); `false` on timeout.
    pub(crate) fn wait(
        &self,
        timeout: Duration,
        check: impl FnMut() -> bool,
    ) -> impl Future<Output = bool> {
        wait_for(self.version.subscribe(), timeout, check)
    }
}

/// Waits until `check` holds, checked now and after every change of `version`; `false` on
/// timeout. A closed channel (nothing will change any more) waits out the timeout.
pub(crate) async fn wait_for(
    mut version: watch::Receiver<u64>,
    timeout: Duration,
    mut check: impl FnMut() -> bool,
) -> bool {
    let wait = async {
        loop {
            version.borrow_and_update();
            if check() {
                return;
            }
            if version.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::time::timeout(timeout, wait).await.is_ok()
}
