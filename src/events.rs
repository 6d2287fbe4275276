//! The bus that carries `CoreEvent`s from the actors to whoever shows them (the window).
//!
//! Invariant: an event is published only after the change it describes is in SQLite.
//! Receivers that fall behind get `Lagged` and should ask for a fresh snapshot.

use tokio::sync::broadcast;

use crate::api::CoreEvent;

#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<CoreEvent>,
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity).0,
        }
    }

    pub fn publish(&self, event: CoreEvent) {
        // No receiver is fine: nobody is looking.
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<CoreEvent> {
        self.tx.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(1024)
    }
}
