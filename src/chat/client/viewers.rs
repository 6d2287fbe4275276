//! Kick's viewer count, read every `KickOptions::viewers_every` from Kick's website for the
//! moment detector's `viewer_spike` trigger. Twitch chat carries no viewer count (it needs the
//! Helix API), and a Kick chat joined by chatroom id has no channel name to ask about, so in
//! those cases there is no reading and the trigger cannot fire (Settings → Moments says so).
//!
//! Invariants: the polling runs on a tracked task, never on the chat loop, and stops with the
//! session (its token is a child of the actor's, cancelled when the `Live` is dropped); a
//! reading reaches the actor by `try_tell` (a busy actor skips a reading, nothing waits); a
//! failed reading is logged (throttled) and the next one is tried as usual.

use tokio_util::sync::DropGuard;

use super::{ChatActor, Command};
use crate::actor::spawn_racing;
use crate::chat::kick::viewer_count;

impl ChatActor {
    /// Starts reading `slug`'s viewer count for `session_id`; dropping the guard stops it.
    pub(super) fn poll_kick_viewers(&self, session_id: i64, slug: String) -> DropGuard {
        let token = self.cancel.child_token();
        let every = self
            .options
            .kick
            .viewers_every
            .max(std::time::Duration::from_millis(50));
        let api_base = self.options.kick.api_base.clone();
        let mailbox = self.mailbox.clone();
        let work = async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let read = tokio::time::timeout(every.max(std::time::Duration::from_secs(5)), {
                    viewer_count(&slug, &api_base)
                });
                match read.await {
                    Ok(Ok(Some(viewers))) => {
                        let _ = mailbox.try_tell(Command::KickViewers {
                            session_id,
                            viewers,
                        });
                    }
                    Ok(Ok(None)) => tracing::debug!(%slug, "Kick says the channel is offline"),
                    Ok(Err(e)) => {
                        static FAILED: crate::logging::Throttle = crate::logging::Throttle::new();
                        if let Some(also) = FAILED.allow() {
                            tracing::warn!(error = %e, also_failed = also, "could not read Kick's viewer count");
                        }
                    }
                    Err(_) => tracing::warn!(%slug, "Kick did not answer the viewer count in time"),
                }
            }
        };
        spawn_racing(&self.tracker, token.clone(), work, |_: Option<()>| async {});
        token.drop_guard()
    }
}
