//! `EngineHandle`: the cheap, cloneable handle on a running engine that the shell's commands
//! use.
//!
//! It only holds the actors' handles and what was settled at start (notices, paths, the
//! configured client id and default channel); every call goes to an actor's mailbox, so a
//! stopped engine answers `ShuttingDown` rather than hanging. Twitch chat connects with the
//! account's confirmed credentials (anonymously without); Kick targets go to the Kick slot.

use std::sync::Arc;

use crate::api::{ApiError, AppSnapshot, ChatState, ChatTarget, LimitsView, Notice};
use crate::chat::{ChatClient, ChatSlot};
use crate::events::EventBus;
use crate::generator::GenerationWorker;
use crate::moments::MomentDetector;
use crate::obs::ObsClient;
use crate::paths::AppPaths;
use crate::queue::{GenerationQueue, ReplySink};
use crate::recorder::Recorder;
use crate::secrets::Secret;
use crate::twitch_auth::{LoginPrompt, TwitchAccount};

/// A cheap, cloneable handle on a running engine: what commands need.
#[derive(Clone, Debug)]
pub struct EngineHandle {
    pub(super) chat: ChatClient,
    pub(super) kick: ChatClient,
    pub(super) queue: GenerationQueue,
    pub(super) replies: ReplySink,
    pub(super) generator: GenerationWorker,
    pub(super) obs: ObsClient,
    pub(super) moments: MomentDetector,
    pub(super) recorder: Recorder,
    pub(super) account: TwitchAccount,
    pub(super) twitch_client_id: Arc<str>,
    pub(super) events: EventBus,
    pub(super) notices: Arc<Vec<Notice>>,
    pub(super) paths: Arc<AppPaths>,
    pub(super) keyring_available: bool,
    pub(super) default_channel: Arc<str>,
}

impl EngineHandle {
    pub fn chat(&self) -> &ChatClient {
        &self.chat
    }

    pub fn events(&self) -> &EventBus {
        &self.events
    }

    pub fn queue(&self) -> &GenerationQueue {
        &self.queue
    }

    pub fn account(&self) -> &TwitchAccount {
        &self.account
    }

    pub fn generator(&self) -> &GenerationWorker {
        &self.generator
    }

    pub fn obs(&self) -> &ObsClient {
        &self.obs
    }

    pub fn moments(&self) -> &MomentDetector {
        &self.moments
    }

    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// The chat actor of `slot`.
    pub fn chat_slot(&self, slot: ChatSlot) -> &ChatClient {
        match slot {
            ChatSlot::Main => &self.chat,
            ChatSlot::Kick => &self.kick,
        }
    }

    /// Connects chat, logged in as the streamer's Twitch account when there is one. A Kick
    /// target goes to the Kick slot, which runs beside the main chat.
    pub async fn connect_chat(&self, target: ChatTarget) -> Result<ChatState, ApiError> {
        if ChatSlot::for_target(&target) == ChatSlot::Kick {
            return self.kick.connect(target).await;
        }
        let credentials = self.account.credentials().await.ok().flatten();
        self.chat.connect_as(target, credentials).await
    }

    /// Starts "Log in with Twitch" (Device Code Grant) with the configured client id.
    pub async fn start_login(&self) -> Result<LoginPrompt, ApiError> {
        self.account
            .start_login(&self.twitch_client_id)
            .await
            .map_err(ApiError::from)
    }

    pub async fn cancel_login(&self) -> Result<(), ApiError> {
        self.account.cancel_login().await.map_err(ApiError::from)
    }

    pub async fn logout(&self) -> Result<(), ApiError> {
        self.account.logout().await.map_err(ApiError::from)
    }

    /// The fallback: a token the streamer pasted (with or without `oauth:`). Returns the login.
    pub async fn paste_token(&self, token: Secret) -> Result<String, ApiError> {
        self.account
            .paste_token(token)
            .await
            .map_err(ApiError::from)
    }

    /// Disconnects one chat slot (the others stay).
    pub async fn disconnect_chat(&self, slot: ChatSlot) -> Result<ChatState, ApiError> {
        self.chat_slot(slot).disconnect().await
    }

    pub async fn snapshot(&self) -> Result<AppSnapshot, ApiError> {
        let mut chats = Vec::with_capacity(ChatSlot::ALL.len());
        for slot in ChatSlot::ALL {
            chats.push(self.chat_slot(slot).view().await?);
        }
        let queue = self.queue.view().await?;
        let generator = self.generator.status().await?;
        let obs = self.obs.view().await?;
        let moments = self.moments.latest().await?;
        let recorder = self.recorder.view().await?;
        let moment_settings = self.moments.settings().await?;
        let limits = LimitsView {
            replies: self.replies.limits(),
            cooldowns: self.queue.cooldowns().await?,
        };
        Ok(AppSnapshot {
            limits,
            recorder,
            moments,
            moment_settings,
            generator,
            obs,
            queue,
            chats,
            notices: self.notices.as_ref().clone(),
            paths: self.paths.info(),
            keyring_available: self.keyring_available,
            default_channel: self.default_channel.to_string(),
            account: self.account.state(),
            twitch_client_id_set: !self.twitch_client_id.is_empty(),
        })
    }
}
