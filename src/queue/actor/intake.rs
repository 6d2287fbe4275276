//! The queue actor's intake from chat: `!anime`, `!status` and `!queue`, and moderation
//! (a banned or timed-out viewer, a deleted message) of requests still waiting.
//!
//! Invariants: whether a request gets in is decided by
//! [`QueuePolicy`](crate::queue::policy::QueuePolicy) alone, from facts gathered here; an
//! accepted request is written (with its cooldown) before it is announced and answered in
//! chat; refusals are counted through `count_soon` (no write of their own); moderation skips
//! only waiting requests, and one the generator claimed meanwhile is left alone.

use crate::api::RequestState;
use crate::chat::ChatMessage;
use crate::db::{DbError, NewRequest, QueueCounter, RequestRow};
use crate::queue::command::{ChatCommand, PromptRefusal};
use crate::queue::policy::{accepted_reply, short, Admission, RequestFacts, ViewerFacts};
use crate::watch::{WatchAsk, WatchChat};

use super::{Inbound, QueueActor};
use crate::clock::now_ms;

impl QueueActor {
    pub(super) async fn on_inbound(&mut self, inbound: Inbound) {
        let result = match inbound {
            Inbound::Message {
                session_id,
                channel,
                message,
            } => {
                self.session_id = session_id;
                self.on_message(channel, message).await
            }
            Inbound::SessionStarted { session_id } => {
                self.session_id = session_id;
                self.publish_counters().await;
                Ok(())
            }
            Inbound::UserBanned { login } => self.on_banned(&login).await,
            Inbound::MessageDeleted { message_id } => self.on_deleted(&message_id).await,
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "queue could not handle a chat event");
        }
    }

    async fn on_message(&mut self, channel: String, message: ChatMessage) -> Result<(), DbError> {
        let Some(command) = self.options.names.parse(&message.text) else {
            return Ok(());
        };
        let name = &message.display_name;
        match command {
            ChatCommand::Status => {
                let waiting = self.db.requests().waiting().await?;
                let approved = waiting
                    .iter()
                    .filter(|i| i.state == RequestState::Approved)
                    .count();
                self.replies.say(
                    &channel,
                    format!(
                        "StreamCue: {} waiting ({approved} approved), queue limit {}, cooldown {} s, auto-approve {}.",
                        waiting.len(),
                        self.options.policy.max_waiting,
                        self.options.policy.cooldown.as_secs(),
                        if self.auto_approve { "on" } else { "off" },
                    ),
                );
            }
            ChatCommand::Queue => {
                let waiting = self.db.requests().waiting().await?;
                let text = match waiting
                    .iter()
                    .position(|i| i.user_login == message.user_login)
                {
                    Some(p) => format!(
                        "@{name} your request is #{} of {}: \"{}\"",
                        p + 1,
                        waiting.len(),
                        short(&waiting[p].prompt)
                    ),
                    None => format!("@{name} you have no request waiting. {}", self.usage()),
                };
                self.replies.say(&channel, text);
            }
            ChatCommand::Anime(raw) => self.on_anime(channel, message, &raw).await?,
            // Watch-along commands belong to the watch-along actor: handed over, never awaited.
            ChatCommand::Watch(text) => {
                self.hand_to_watch(channel, &message, WatchAsk::Start(text))
            }
            ChatCommand::WatchStop => self.hand_to_watch(channel, &message, WatchAsk::Stop),
            ChatCommand::Watching => self.hand_to_watch(channel, &message, WatchAsk::Watching),
        }
        Ok(())
    }

    fn hand_to_watch(&self, channel: String, message: &ChatMessage, ask: WatchAsk) {
        self.watch.hear(WatchChat {
            channel,
            login: message.user_login.clone(),
            display: message.display_name.clone(),
            elevated: message.is_moderator || message.is_broadcaster,
            ask,
        });
    }

    fn usage(&self) -> String {
        let anime = self
            .options
            .names
            .anime
            .first()
            .map_or("anime", String::as_str);
        format!("Usage: {}{anime} <what to draw>", self.options.names.prefix)
    }

    async fn on_anime(
        &mut self,
        channel: String,
        message: ChatMessage,
        raw: &str,
    ) -> Result<(), DbError> {
        let name = message.display_name.clone();
        let user = message.user_login.clone();
        let prompt = match self.options.rules.normalise(raw) {
            Ok(p) => p,
            Err(refusal) => {
                let (counter, text) = match &refusal {
                    PromptRefusal::Empty => (
                        QueueCounter::UsageReplies,
                        format!(
                            "@{name} {}, e.g. {}{} \"a cat surfing a wave\"",
                            self.usage(),
                            self.options.names.prefix,
                            self.options
                                .names
                                .anime
                                .first()
                                .map_or("anime", String::as_str)
                        ),
                    ),
                    PromptRefusal::TooLong { .. } => {
                        (QueueCounter::BlockedPrompts, format!("@{name} {refusal}."))
                    }
                    PromptRefusal::Blocked => {
                        (QueueCounter::BlockedPrompts, format!("@{name} {refusal}."))
                    }
                };
                tracing::info!(user = %user, outcome = ?refusal, "request refused");
                self.count_soon(counter).await;
                self.replies.say(&channel, text);
                return Ok(());
            }
        };
        let now = now_ms();
        let viewer = ViewerFacts {
            now_ms: now,
            last_accepted_ms: self.last_accepted(&user).await?,
            elevated: message.is_moderator || message.is_broadcaster,
            intake_paused: self.signals.intake_paused(),
        };
        // Refused without counting the queue (no query) when the viewer cannot get in anyway.
        let admission = match self.options.policy.refuse_viewer(&viewer) {
            Some(refusal) => Admission::Refuse(refusal),
            None => self.options.policy.admit(&RequestFacts {
                now_ms: viewer.now_ms,
                last_accepted_ms: viewer.last_accepted_ms,
                elevated: viewer.elevated,
                intake_paused: viewer.intake_paused,
                waiting: self.db.requests().waiting_count().await?,
                auto_approve: self.auto_approve,
            }),
        };
        let (state, position) = match admission {
            Admission::Accept { state, position } => (state, position),
            Admission::Refuse(refusal) => {
                tracing::info!(user = %user, outcome = refusal.outcome(), "request refused");
                self.count_soon(refusal.counter()).await;
                self.replies.say(&channel, refusal.reply(&name));
                return Ok(());
            }
        };
        let new = NewRequest {
            session_id: (self.session_id > 0).then_some(self.session_id),
            channel: channel.clone(),
            user_login: user.clone(),
            display_name: name.clone(),
            message_id: message.message_id.clone(),
            prompt,
            state,
        };
        let item = self.db.requests().accept(&new, now).await?;
        self.cooldowns.insert(user.clone(), Some(now));
        self.note(QueueCounter::Accepted).await;
        if state == RequestState::Approved {
            self.note(QueueCounter::Approved).await;
            self.signals.work_available();
        }
        tracing::info!(request_id = item.id, user = %user, queue_depth = position, outcome = "accepted", "request accepted");
        self.publish_item(&item).await;
        self.publish_counters().await;
        self.publish_cooldowns();
        self.replies
            .say(&channel, accepted_reply(&name, &item.prompt, position));
        Ok(())
    }

    async fn on_banned(&mut self, login: &str) -> Result<(), DbError> {
        for item in self.db.requests().waiting_for_user(login).await? {
            self.moderate(item, "the viewer was banned or timed out")
                .await?;
        }
        Ok(())
    }

    async fn on_deleted(&mut self, message_id: &str) -> Result<(), DbError> {
        if let Some(item) = self.db.requests().waiting_for_message(message_id).await? {
            self.moderate(item, "a moderator deleted the chat message")
                .await?;
        }
        Ok(())
    }

    async fn moderate(&mut self, item: RequestRow, reason: &str) -> Result<(), DbError> {
        if self
            .skip_waiting(&item, reason, QueueCounter::Moderated)
            .await?
            .is_none()
        {
            return Ok(()); // claimed by the generator meanwhile
        }
        tracing::info!(request_id = item.id, user = %item.user_login, outcome = "moderated", reason, "request skipped");
        self.publish_counters().await;
        Ok(())
    }
}
