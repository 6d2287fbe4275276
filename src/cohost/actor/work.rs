//! The co-host's jobs: asking the model on a tracked task, turning its answer into a draft or
//! a reply, delivering replies through `ChatReplies`, and the drafts' life (send, discard,
//! expire). Counters are written before they are announced.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{CohostActor, Command, DRAFTS_MAX, IN_FLIGHT_MAX, RECENT_REPLIES};
use crate::api::{
    ApiError, ChatSlot, CohostBackend, CohostCounters, CohostDraft, CohostMode, CohostModels,
    CohostSettings, CohostStatus, CohostTrigger, ErrorCode,
};
use crate::cohost::context::{build_messages, PromptInput};
use crate::cohost::demo::{demo_answer, DEMO_LATENCY};
use crate::cohost::llm::{ChatRequest, LlmClient, TokenUsage};
use crate::cohost::processor::process;
use crate::cohost::settings;
use crate::cohost::triggers::{Fired, FiredBy};
use crate::db::{CohostCounter, CohostReplyRow, CohostTotals};
use crate::queue::ReplyOutcome;

/// How long a reply may wait for `ChatReplies` to say what became of it.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// Latencies kept for p50 / p95.
const LATENCIES_KEPT: usize = 200;

/// A model call's result, back on the actor.
pub(crate) struct Answered {
    slot: ChatSlot,
    channel: String,
    viewer: String,
    /// How the viewer is addressed in the reply (`@login`), empty for a quiet prompt.
    mention: String,
    fired: Fired,
    result: Result<ModelAnswer, String>,
}

struct ModelAnswer {
    text: String,
    usage: Option<TokenUsage>,
    latency: Duration,
}

/// What `ChatReplies` did with a reply, back on the actor.
pub(crate) struct Delivered {
    draft: CohostDraft,
    how: How,
    outcome: ReplyOutcome,
    reply: Option<oneshot::Sender<Result<CohostStatus, ApiError>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    Draft,
    Edited,
    Auto,
}

impl How {
    fn as_str(self) -> &'static str {
        match self {
            How::Draft => "draft",
            How::Edited => "edited",
            How::Auto => "auto",
        }
    }
}

fn trigger_of(by: FiredBy) -> CohostTrigger {
    match by {
        FiredBy::Mention => CohostTrigger::Mention,
        FiredBy::Command => CohostTrigger::Command,
        FiredBy::Keyword => CohostTrigger::Keyword,
        FiredBy::Quiet => CohostTrigger::Quiet,
    }
}

/// The answer as said to the viewer: `@login ` in front (as a person in chat would reply),
/// unless the answer already names them or nobody asked (a quiet prompt). Still at most one
/// chat message long.
fn addressed_to(mention: &str, text: String) -> String {
    if mention.is_empty()
        || text
            .to_lowercase()
            .contains(&format!("@{}", mention.to_lowercase()))
    {
        return text;
    }
    let line = format!("@{mention} {text}");
    crate::chat::outgoing::sanitise_outgoing(&line).unwrap_or(text)
}

/// The window's counters from the stored totals.
pub(super) fn counters(t: &CohostTotals) -> CohostCounters {
    let n = |c| t.get(c).min(u64::from(u32::MAX)) as u32;
    CohostCounters {
        answered: n(CohostCounter::Answered),
        failed: n(CohostCounter::Failed),
        rejected: n(CohostCounter::Rejected),
        prompt_tokens: n(CohostCounter::PromptTokens),
        completion_tokens: n(CohostCounter::CompletionTokens),
        drafts_sent: n(CohostCounter::DraftsSent),
        drafts_edited: n(CohostCounter::DraftsEdited),
        drafts_discarded: n(CohostCounter::DraftsDiscarded),
        drafts_expired: n(CohostCounter::DraftsExpired),
        auto_sent: n(CohostCounter::AutoSent),
        limited: n(CohostCounter::Limited),
        lines_dropped: 0,
    }
}

fn not_a_draft(id: i32) -> ApiError {
    ApiError::new(
        ErrorCode::UnknownDraft,
        format!("Draft #{id} is gone (sent, discarded or expired)."),
    )
}

impl CohostActor {
    fn platform(slot: ChatSlot) -> &'static str {
        match slot {
            ChatSlot::Kick => "Kick",
            _ => "Twitch",
        }
    }

    fn name(&self) -> &str {
        if self.own_name.is_empty() {
            "StreamCue"
        } else {
            &self.own_name
        }
    }

    /// Starts a model call for what fired (on the tracker, raced against the actor's token).
    pub(super) fn ask(&mut self, slot: ChatSlot, viewer: String, mention: String, fired: Fired) {
        if self.in_flight >= IN_FLIGHT_MAX {
            tracing::info!(
                ?slot,
                "co-host busy: {IN_FLIGHT_MAX} answers already coming"
            );
            return;
        }
        let Some((channel, context)) = self.contexts.get(&slot) else {
            return;
        };
        let s = &self.settings;
        let input = PromptInput {
            persona: &s.persona,
            name: self.name(),
            platform: Self::platform(slot),
            channel,
            max_chars: s.max_chars as usize,
            quiet_for: self.trigger_rules.quiet_after.unwrap_or_default(),
        };
        let messages = build_messages(&input, context, &viewer, &fired);
        let channel = channel.clone();
        let request = ChatRequest {
            messages,
            temperature: s.temperature as f32,
            max_tokens: s.max_tokens,
        };
        let backend = s.backend;
        let endpoint = settings::endpoint(s, self.api_key.clone());
        let (by, question) = (fired.by, fired.question.clone());
        let work = async move {
            let started = Instant::now();
            match backend {
                CohostBackend::Demo => {
                    tokio::time::sleep(DEMO_LATENCY).await;
                    Ok(ModelAnswer {
                        text: demo_answer(by, &question),
                        usage: None,
                        latency: started.elapsed(),
                    })
                }
                CohostBackend::OpenAiCompatible => {
                    let client = LlmClient::new(endpoint).map_err(|e| e.to_string())?;
                    let c = client
                        .complete(&request)
                        .await
                        .map_err(|f| format!("{} (after {} attempt(s))", f.error, f.attempts))?;
                    Ok(ModelAnswer {
                        text: c.text,
                        usage: c.usage,
                        latency: c.latency,
                    })
                }
            }
        };
        self.in_flight += 1;
        self.announce();
        let mailbox = self.mailbox.clone();
        crate::actor::spawn_racing(
            &self.tracker,
            self.cancel.clone(),
            work,
            move |result| async move {
                if let Some(result) = result {
                    let answered = Answered {
                        slot,
                        channel,
                        viewer,
                        mention,
                        fired,
                        result,
                    };
                    let _ = mailbox.tell(Command::Answered(answered)).await;
                }
            },
        );
    }

    /// Writes counters; on success they are applied in memory (announce after).
    async fn bump(&mut self, counts: &[(CohostCounter, u64)]) -> Result<(), ApiError> {
        self.setup.db.cohost().bump(counts).await.map_err(|e| {
            tracing::error!(error = %e, "could not save the co-host's counters: not announced");
            ApiError::from(e)
        })?;
        for (c, n) in counts {
            self.totals.add(*c, *n);
        }
        Ok(())
    }

    pub(super) async fn on_answered(&mut self, a: Answered) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let answer = match a.result {
            Err(why) => {
                tracing::warn!(slot = ?a.slot, error = %why, "co-host answer failed");
                let _ = self.bump(&[(CohostCounter::Failed, 1)]).await;
                self.last_error = Some((why, crate::clock::now_ms()));
                self.announce();
                return;
            }
            Ok(answer) => answer,
        };
        let recent: Vec<String> = self
            .recent
            .get(&a.slot)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default();
        let question = a.fired.question.as_str();
        let text = match process(&answer.text, question, &recent, &self.processor_rules) {
            Ok(text) => text,
            Err(rejected) => {
                tracing::info!(slot = ?a.slot, reason = %rejected, "co-host answer refused");
                let _ = self.bump(&[(CohostCounter::Rejected, 1)]).await;
                self.announce();
                return;
            }
        };
        let text = addressed_to(&a.mention, text);
        let usage = answer.usage.unwrap_or_default();
        let counts = [
            (CohostCounter::Answered, 1),
            (CohostCounter::PromptTokens, u64::from(usage.prompt)),
            (CohostCounter::CompletionTokens, u64::from(usage.completion)),
        ];
        if self.bump(&counts).await.is_err() {
            self.announce();
            return;
        }
        let latency_ms = answer.latency.as_secs_f64() * 1000.0;
        if self.latencies.len() >= LATENCIES_KEPT {
            self.latencies.pop_front();
        }
        self.latencies.push_back(latency_ms);
        let now = crate::clock::now_ms() as f64;
        let sendable = a.slot == ChatSlot::Main && !self.setup.replies.limits().read_only;
        let draft = CohostDraft {
            id: self.next_draft_id,
            slot: a.slot,
            channel: a.channel,
            viewer: a.viewer,
            question: a.fired.question,
            answer: text.clone(),
            trigger: trigger_of(a.fired.by),
            latency_ms,
            created_ms: now,
            expires_ms: now + f64::from(self.settings.draft_expiry_seconds) * 1000.0,
            sendable,
        };
        self.next_draft_id += 1;
        if self.settings.mode == CohostMode::Auto && sendable {
            self.announce();
            self.deliver(draft, How::Auto, text, None);
            return;
        }
        self.drafts.push_back(draft);
        let mut overflow = 0;
        while self.drafts.len() > DRAFTS_MAX {
            self.drafts.pop_front();
            overflow += 1;
        }
        if overflow > 0 {
            let _ = self.bump(&[(CohostCounter::DraftsExpired, overflow)]).await;
        }
        self.announce();
    }

    /// Hands a reply to `ChatReplies`; what became of it comes back as `Delivered`.
    fn deliver(
        &mut self,
        draft: CohostDraft,
        how: How,
        text: String,
        reply: Option<oneshot::Sender<Result<CohostStatus, ApiError>>>,
    ) {
        let outcome =
            self.setup
                .replies
                .say_within(&draft.channel, text, self.settings.reserve_for_queue);
        let mailbox = self.mailbox.clone();
        self.tracker.spawn(async move {
            let outcome = match tokio::time::timeout(DELIVERY_TIMEOUT, outcome).await {
                Ok(Ok(o)) => o,
                _ => ReplyOutcome::NotSent {
                    reason: "chat did not take the reply in time".into(),
                },
            };
            let delivered = Delivered {
                draft,
                how,
                outcome,
                reply,
            };
            let _ = mailbox.tell(Command::Delivered(delivered)).await;
        });
    }

    pub(super) fn send_draft(
        &mut self,
        id: i32,
        text: Option<String>,
        reply: oneshot::Sender<Result<CohostStatus, ApiError>>,
    ) {
        let Some(at) = self.drafts.iter().position(|d| d.id == id) else {
            let _ = reply.send(Err(not_a_draft(id)));
            return;
        };
        if !self.drafts[at].sendable {
            let why = if self.drafts[at].slot == ChatSlot::Kick {
                "Kick chat is read-only here: this draft can be shown on the overlay, not sent."
            } else {
                "This chat is read-only (the demo, or not logged in): the draft cannot be sent."
            };
            let _ = reply.send(Err(ApiError::new(ErrorCode::NotConnected, why)));
            return;
        }
        let edited = text
            .as_deref()
            .map(str::trim)
            .filter(|t| *t != self.drafts[at].answer);
        let (how, text) = match edited {
            Some("") => {
                let _ = reply.send(Err(ApiError::new(
                    ErrorCode::InvalidSettings,
                    "The edited answer is empty: write something or Discard.",
                )));
                return;
            }
            Some(t) => (How::Edited, t.to_string()),
            None => (How::Draft, self.drafts[at].answer.clone()),
        };
        // Out of the list while it is being sent, so it cannot be sent twice.
        let Some(draft) = self.drafts.remove(at) else {
            return;
        };
        self.deliver(draft, how, text, Some(reply));
    }

    pub(super) async fn on_delivered(&mut self, d: Delivered) {
        let Delivered {
            mut draft,
            how,
            outcome,
            reply,
        } = d;
        let answer = |r: Result<CohostStatus, ApiError>| {
            if let Some(tx) = reply {
                let _ = tx.send(r);
            }
        };
        match outcome {
            ReplyOutcome::Sent { text } => {
                let mut counts = vec![match how {
                    How::Auto => (CohostCounter::AutoSent, 1),
                    _ => (CohostCounter::DraftsSent, 1),
                }];
                if how == How::Edited {
                    counts.push((CohostCounter::DraftsEdited, 1));
                }
                let row = CohostReplyRow {
                    id: 0,
                    slot: format!("{:?}", draft.slot).to_lowercase(),
                    channel: draft.channel.clone(),
                    viewer: draft.viewer.clone(),
                    trigger: format!("{:?}", draft.trigger).to_lowercase(),
                    reply: text.clone(),
                    how: how.as_str().into(),
                    latency_ms: draft.latency_ms as i64,
                    prompt_tokens: None,
                    completion_tokens: None,
                    sent_ms: crate::clock::now_ms(),
                };
                let written = self.setup.db.cohost().record_sent(&row, &counts).await;
                // It went out either way: remember it for de-duplication and as context.
                let recent = self.recent.entry(draft.slot).or_default();
                if recent.len() >= RECENT_REPLIES {
                    recent.pop_front();
                }
                recent.push_back(text.clone());
                let name = self.name().to_string();
                if let Some((_, context)) = self.contexts.get_mut(&draft.slot) {
                    context.push(Instant::now(), &name, &text);
                }
                match written {
                    Ok(_) => {
                        for (c, n) in &counts {
                            self.totals.add(*c, *n);
                        }
                        self.announce();
                        answer(Ok(self.view()));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "co-host reply sent but not saved");
                        self.announce();
                        answer(Err(ApiError::new(
                            ErrorCode::Database,
                            format!("The reply went out, but could not be saved: {e}"),
                        )));
                    }
                }
            }
            ReplyOutcome::Limited => {
                let _ = self.bump(&[(CohostCounter::Limited, 1)]).await;
                let reserve = self.settings.reserve_for_queue;
                if how != How::Auto {
                    self.restore(draft);
                }
                self.announce();
                answer(Err(ApiError::new(
                    ErrorCode::Cohost,
                    format!(
                        "The chat limit's room for the co-host is used up ({reserve} sends are \
                         kept for the queue): try again in a few seconds."
                    ),
                )));
            }
            ReplyOutcome::NotSent { reason } => {
                if how != How::Auto {
                    draft.sendable = !self.setup.replies.limits().read_only;
                    self.restore(draft);
                } else {
                    self.last_error = Some((
                        format!("An answer was not sent: {reason}."),
                        crate::clock::now_ms(),
                    ));
                }
                self.announce();
                answer(Err(ApiError::new(
                    ErrorCode::NotConnected,
                    format!("The reply was not sent: {reason}."),
                )));
            }
        }
    }

    /// Puts a draft that was not sent back in its place (oldest first).
    fn restore(&mut self, draft: CohostDraft) {
        let at = self
            .drafts
            .iter()
            .position(|d| d.id > draft.id)
            .unwrap_or(self.drafts.len());
        self.drafts.insert(at, draft);
    }

    pub(super) async fn discard_draft(&mut self, id: i32) -> Result<CohostStatus, ApiError> {
        let at = self
            .drafts
            .iter()
            .position(|d| d.id == id)
            .ok_or_else(|| not_a_draft(id))?;
        self.bump(&[(CohostCounter::DraftsDiscarded, 1)]).await?;
        self.drafts.remove(at);
        self.announce();
        Ok(self.view())
    }

    pub(super) async fn expire_drafts(&mut self) {
        let now = crate::clock::now_ms() as f64;
        let expired = self.drafts.iter().filter(|d| d.expires_ms <= now).count();
        if expired == 0 {
            return;
        }
        // A draft never outlives its time, even when the count cannot be saved (logged).
        let _ = self
            .bump(&[(CohostCounter::DraftsExpired, expired as u64)])
            .await;
        self.drafts.retain(|d| d.expires_ms > now);
        self.announce();
    }

    pub(super) fn test_connection(
        &mut self,
        s: CohostSettings,
        reply: oneshot::Sender<Result<CohostModels, ApiError>>,
    ) {
        // Listing the models is how a model gets picked, so none chosen yet is fine here.
        let mut checked = s.clone();
        if checked.model.trim().is_empty() {
            checked.model = "(none yet)".into();
        }
        if let Err(e) = settings::check(&checked) {
            let _ = reply.send(Err(e));
            return;
        }
        if s.backend == CohostBackend::Demo {
            let _ = reply.send(Ok(CohostModels {
                models: vec!["demo".into()],
                model_found: true,
            }));
            return;
        }
        let endpoint = settings::endpoint(&s, self.api_key.clone());
        let model = s.model.trim().to_string();
        self.tracker.spawn(async move {
            let listed = match LlmClient::new(endpoint) {
                Ok(client) => client.models().await,
                Err(e) => Err(e),
            };
            let _ = reply.send(
                listed
                    .map(|models| CohostModels {
                        model_found: models.contains(&model),
                        models,
                    })
                    .map_err(|e| ApiError::new(ErrorCode::Cohost, e.to_string())),
            );
        });
    }
}
