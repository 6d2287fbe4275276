//! The queue actor's bookkeeping: the per-session counters, the per-viewer cooldown table and
//! the health line.
//!
//! Invariants: a counter is written to SQLite before it is mirrored in the cache and announced
//! (`note` only mirrors what was written); refusals are counted in memory (`count_soon`) and
//! written, then announced, by the next flush (at most `FLUSH_EVERY` apart, and before the
//! session changes or the actor stops), always to the session they were counted in. The
//! cooldown table holds every viewer's last accepted request as read from or written to the
//! database; entries whose cooldown is over are dropped on the flush tick.

use crate::api::{Cooldowns, CoreEvent, QueueCounters};
use crate::db::{DbError, QueueCounter};

use super::{QueueActor, MAX_LISTED_COOLDOWNS};
use crate::clock::now_ms;

impl QueueActor {
    pub(super) async fn log_health(&self) {
        let waiting = self
            .db
            .requests()
            .waiting()
            .await
            .map(|w| w.len())
            .unwrap_or(0);
        let c = self
            .db
            .requests()
            .counters(self.session_id)
            .await
            .unwrap_or_default();
        tracing::info!(
            queue_depth = waiting,
            accepted = c.accepted,
            cooldown_rejects = c.cooldown_rejects,
            overflow_rejects = c.overflow_rejects,
            blocked = c.blocked_prompts,
            skipped = c.skipped,
            auto_approve = self.auto_approve,
            "queue health"
        );
    }

    pub(super) async fn count(&mut self, counter: QueueCounter) {
        match self
            .db
            .requests()
            .bump_counter(self.session_id, counter)
            .await
        {
            Ok(()) => self.note(counter).await,
            Err(e) => tracing::error!(error = %e, "could not count"),
        }
        self.publish_counters().await;
    }

    /// The current session's counters, read from the database once per session and then kept
    /// in step with every write (so a refused command costs no extra read).
    pub(super) async fn counters(&mut self) -> Result<QueueCounters, DbError> {
        if self.cached_counters.0 != self.session_id {
            let fresh = self.db.requests().counters(self.session_id).await?;
            self.cached_counters = (self.session_id, fresh);
        }
        Ok(self.cached_counters.1)
    }

    /// Mirrors a counter just written to the database.
    pub(super) async fn note(&mut self, counter: QueueCounter) {
        if self.counters().await.is_err() {
            self.cached_counters.0 = -1; // re-read next time
            return;
        }
        let c = &mut self.cached_counters.1;
        let field = match counter {
            QueueCounter::Accepted => &mut c.accepted,
            QueueCounter::CooldownRejects => &mut c.cooldown_rejects,
            QueueCounter::OverflowRejects => &mut c.overflow_rejects,
            QueueCounter::BlockedPrompts => &mut c.blocked_prompts,
            QueueCounter::UsageReplies => &mut c.usage_replies,
            QueueCounter::Approved => &mut c.approved,
            QueueCounter::Skipped => &mut c.skipped,
            QueueCounter::Moderated => &mut c.moderated,
            QueueCounter::PausedRejects => &mut c.paused_rejects,
        };
        *field = field.saturating_add(1);
    }

    /// Counts a refusal in memory; it is written and announced by the next flush.
    pub(super) async fn count_soon(&mut self, counter: QueueCounter) {
        if self.unflushed_session != self.session_id {
            self.flush_counts().await;
            self.unflushed_session = self.session_id;
        }
        match self.unflushed.iter_mut().find(|(c, _)| *c == counter) {
            Some((_, n)) => *n += 1,
            None => self.unflushed.push((counter, 1)),
        }
    }

    /// Writes the counted refusals, then mirrors and announces them.
    pub(super) async fn flush_counts(&mut self) {
        if self.unflushed.is_empty() {
            return;
        }
        let counts = std::mem::take(&mut self.unflushed);
        let session = self.unflushed_session;
        if let Err(e) = self.db.requests().add_counts(session, &counts).await {
            tracing::error!(error = %e, "could not save queue counters");
            return;
        }
        if session == self.session_id {
            for (counter, n) in counts {
                for _ in 0..n {
                    self.note(counter).await;
                }
            }
            self.publish_counters().await;
        }
    }

    pub(super) async fn on_flush_tick(&mut self) {
        self.flush_counts().await;
        let now = now_ms();
        let cooldown = self.options.policy.cooldown.as_millis() as i64;
        self.cooldowns
            .retain(|_, last| last.is_some_and(|t| t + cooldown > now));
    }

    /// When the viewer last had a request accepted (cached; see `cooldowns`).
    pub(super) async fn last_accepted(&mut self, user: &str) -> Result<Option<i64>, DbError> {
        if let Some(known) = self.cooldowns.get(user) {
            return Ok(*known);
        }
        let last = self.db.requests().last_accepted_ms(user).await?;
        self.cooldowns.insert(user.to_string(), last);
        Ok(last)
    }

    /// Caches the cooldowns still running from before the start (the latest
    /// [`MAX_LISTED_COOLDOWNS`]), so they can be listed before those viewers speak again.
    pub(super) async fn load_running_cooldowns(&mut self) {
        let since = now_ms() - self.options.policy.cooldown.as_millis() as i64;
        match self
            .db
            .requests()
            .running_cooldowns(since, MAX_LISTED_COOLDOWNS as i64)
            .await
        {
            Ok(running) => {
                for (user, last) in running {
                    self.cooldowns.entry(user).or_insert(Some(last));
                }
            }
            Err(e) => tracing::error!(error = %e, "could not read the running cooldowns"),
        }
    }

    /// The cooldowns running now: their ends, soonest first, the latest
    /// [`MAX_LISTED_COOLDOWNS`] at most.
    pub(super) fn cooldowns_now(&self) -> Cooldowns {
        let now = now_ms();
        let cooldown = self.options.policy.cooldown.as_millis() as i64;
        let mut ends: Vec<i64> = self
            .cooldowns
            .values()
            .flatten()
            .map(|last| last + cooldown)
            .filter(|end| *end > now)
            .collect();
        ends.sort_unstable();
        let skip = ends.len().saturating_sub(MAX_LISTED_COOLDOWNS);
        Cooldowns {
            ends_at_ms: ends[skip..].iter().map(|&end| end as f64).collect(),
            cooldown_secs: self.options.policy.cooldown.as_secs().min(u32::MAX.into()) as u32,
        }
    }

    /// Announces the running cooldowns if they changed since last announced (a cooldown
    /// started); their ending is not announced: the window counts down from the end times.
    pub(super) fn publish_cooldowns(&mut self) {
        let now = self.cooldowns_now();
        if self.published_cooldowns == now {
            return;
        }
        self.published_cooldowns = now.clone();
        self.events.publish(CoreEvent::Cooldowns { cooldowns: now });
    }

    pub(super) async fn publish_counters(&mut self) {
        match self.counters().await {
            Ok(counters) => self.events.publish(CoreEvent::QueueCounters { counters }),
            Err(e) => tracing::error!(error = %e, "could not read queue counters"),
        }
    }
}
