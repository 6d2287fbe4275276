//! `EngineHandle`: the cheap, cloneable handle on a running engine that the shell's commands
//! use.
//!
//! It only holds the actors' handles and what was settled at start (notices, paths, the
//! configured client id and default channel); every call goes to an actor's mailbox, so a
//! stopped engine answers `ShuttingDown` rather than hanging. Twitch chat connects with the
//! account's confirmed credentials (anonymously without); Kick targets go to the Kick slot.

use std::sync::Arc;

use super::run::Actors;
use crate::api::{
    ApiError, AppSnapshot, ChatState, ChatTarget, LimitsView, Notice, PathsInfo, ServerPhase,
    ServerView,
};
use crate::chat::{ChatClient, ChatSlot};
use crate::desktop::DesktopPrefs;
use crate::events::EventBus;
use crate::folders::{check_in_background, FolderKind};
use crate::generator::GenerationWorker;
use crate::moments::MomentDetector;
use crate::obs::ObsClient;
use crate::paths::AppPaths;
use crate::queue::GenerationQueue;
use crate::recorder::Recorder;
use crate::secrets::Secret;
use crate::twitch_auth::{LoginPrompt, TwitchAccount};

/// A cheap, cloneable handle on a running engine: what commands need.
#[derive(Clone, Debug)]
pub struct EngineHandle {
    pub(super) actors: Actors,
    pub(super) twitch_client_id: Arc<str>,
    pub(super) events: EventBus,
    pub(super) notices: Arc<Vec<Notice>>,
    pub(super) paths: Arc<AppPaths>,
    pub(super) keyring_available: bool,
    pub(super) default_channel: Arc<str>,
}

impl EngineHandle {
    pub fn chat(&self) -> &ChatClient {
        &self.actors.chat
    }

    pub fn events(&self) -> &EventBus {
        &self.events
    }

    pub fn queue(&self) -> &GenerationQueue {
        &self.actors.queue
    }

    pub fn account(&self) -> &TwitchAccount {
        &self.actors.account
    }

    pub fn generator(&self) -> &GenerationWorker {
        &self.actors.generator
    }

    pub fn obs(&self) -> &ObsClient {
        &self.actors.obs
    }

    pub fn cohost(&self) -> &crate::cohost::Cohost {
        &self.actors.cohost
    }

    pub fn watch(&self) -> &crate::watch::WatchAlong {
        &self.actors.watch
    }

    pub fn moments(&self) -> &MomentDetector {
        &self.actors.moments
    }

    /// Where this engine keeps its files, with the clips and recordings folders in use.
    pub fn paths(&self) -> AppPaths {
        self.paths.using(&self.actors.desktop.folders_now())
    }

    /// Uses `typed` as the clips or recordings folder from the next file on (`None`: back to
    /// the default). The folder is checked first (made if missing, written to, enough free
    /// space); existing files stay where they are.
    pub async fn set_folder(
        &self,
        kind: FolderKind,
        typed: Option<String>,
    ) -> Result<PathsInfo, ApiError> {
        let dir = match typed {
            Some(typed) => Some(check_in_background(kind, typed).await?.path),
            None => None,
        };
        self.actors.desktop.set_folder(kind, dir).await
    }

    pub fn desktop(&self) -> &DesktopPrefs {
        &self.actors.desktop
    }

    /// The local server (127.0.0.1: health, metrics, the event stream).
    pub fn server(&self) -> &crate::server::LocalServer {
        &self.actors.server
    }

    pub fn recorder(&self) -> &Recorder {
        &self.actors.recorder
    }

    /// The chat actor of `slot`.
    pub fn chat_slot(&self, slot: ChatSlot) -> &ChatClient {
        match slot {
            ChatSlot::Main => &self.actors.chat,
            ChatSlot::Kick => &self.actors.kick,
        }
    }

    /// Connects chat, logged in as the streamer's Twitch account when there is one. A Kick
    /// target goes to the Kick slot, which runs beside the main chat.
    pub async fn connect_chat(&self, target: ChatTarget) -> Result<ChatState, ApiError> {
        if ChatSlot::for_target(&target) == ChatSlot::Kick {
            return self.actors.kick.connect(target).await;
        }
        let credentials = self.actors.account.credentials().await.ok().flatten();
        self.actors.chat.connect_as(target, credentials).await
    }

    /// Starts "Log in with Twitch" (Device Code Grant) with the configured client id.
    pub async fn start_login(&self) -> Result<LoginPrompt, ApiError> {
        self.actors
            .account
            .start_login(&self.twitch_client_id)
            .await
            .map_err(ApiError::from)
    }

    pub async fn cancel_login(&self) -> Result<(), ApiError> {
        self.actors
            .account
            .cancel_login()
            .await
            .map_err(ApiError::from)
    }

    pub async fn logout(&self) -> Result<(), ApiError> {
        self.actors.account.logout().await.map_err(ApiError::from)
    }

    /// The fallback: a token the streamer pasted (with or without `oauth:`). Returns the login.
    pub async fn paste_token(&self, token: Secret) -> Result<String, ApiError> {
        self.actors
            .account
            .paste_token(token)
            .await
            .map_err(ApiError::from)
    }

    /// Disconnects one chat slot (the others stay).
    pub async fn disconnect_chat(&self, slot: ChatSlot) -> Result<ChatState, ApiError> {
        self.chat_slot(slot).disconnect().await
    }

    /// The start's notices, and the local server's if it could not listen.
    fn notices_with(&self, server: &ServerView) -> Vec<Notice> {
        let mut notices = self.notices.as_ref().clone();
        notices.extend(self.actors.notices.iter().cloned());
        if let (ServerPhase::Failed, Some(message)) = (server.phase, &server.message) {
            notices.push(Notice {
                level: crate::api::NoticeLevel::Warning,
                code: crate::api::NoticeCode::LocalServerUnavailable,
                message: message.clone(),
            });
        }
        notices
    }

    pub async fn snapshot(&self) -> Result<AppSnapshot, ApiError> {
        let mut chats = Vec::with_capacity(ChatSlot::ALL.len());
        for slot in ChatSlot::ALL {
            chats.push(self.chat_slot(slot).view().await?);
        }
        let queue = self.actors.queue.view().await?;
        let server = self.actors.server.view().await?;
        let storage = self.actors.storage.borrow().clone();
        let generator = self.actors.generator.status().await?;
        let obs = self.actors.obs.view().await?;
        let moments = self.actors.moments.latest().await?;
        let recorder = self.actors.recorder.view().await?;
        let moment_settings = self.actors.moments.settings().await?;
        let limits = LimitsView {
            replies: self.actors.replies.limits(),
            cooldowns: self.actors.queue.cooldowns().await?,
        };
        Ok(AppSnapshot {
            limits,
            recorder,
            moments,
            moment_settings,
            cohost: self.actors.cohost.status_now(),
            watch: self.actors.watch.view_now(),
            generator,
            obs,
            queue,
            chats,
            notices: self.notices_with(&server),
            local_server: server,
            storage,
            paths: self.paths.info(&self.actors.desktop.folders_now()),
            keyring_available: self.keyring_available,
            default_channel: self.default_channel.to_string(),
            account: self.actors.account.state(),
            twitch_client_id_set: !self.twitch_client_id.is_empty(),
            desktop: self.actors.desktop.settings().await?,
        })
    }
}
