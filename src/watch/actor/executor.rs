//! The two executors, as the watch-along actor drives them:
//! - **OBS** (built in): the link is resolved (`resolve`: streamlink for YouTube, Twitch and
//!   Vimeo, an address check for any other link) on a tracked task, then OBS is told to play it
//!   in the Watch-along scene; OBS's media reports move the session (playing → STREAMING,
//!   ended → ENDED, failed → FAILED with ERR_SHARE_FAILED);
//! - **controller**: `POST /stream` on a tracked task; its webhooks move the session.
//!
//! Invariant: what an executor reports only moves the session it was started for (the
//! compare-and-set in `db::watch` refuses anything else), and every report is for a session id.

use super::{Actor, Command, WatchRefusal};
use crate::actor::spawn_racing;
use crate::api::WatchExecutor;
use crate::db::WatchSessionRow;
use crate::obs::{WatchMedia, WatchMediaReport, WatchPlay};
use crate::watch::codes::WatchErrorCode;
use crate::watch::contract::StreamRequest;
use crate::watch::controller::{ControllerClient, DEFAULT_TIMEOUT};
use crate::watch::resolve::Refusal;
use crate::watch::session::WatchEvent;
use crate::watch::url::WatchUrl;

/// What a start needs, checked before a session is created.
pub(super) enum Launch {
    Controller {
        client: ControllerClient,
        server_url: String,
    },
    Obs,
}

impl Actor {
    pub(super) fn client(&self) -> Result<ControllerClient, WatchRefusal> {
        if self.settings.controller_url.trim().is_empty() {
            return Err(WatchRefusal {
                code: WatchErrorCode::SandboxFailed,
                message: "No screen-share controller is set up: add its address in Settings → Watch-along.".into(),
            });
        }
        ControllerClient::new(&self.settings.controller_url, DEFAULT_TIMEOUT).map_err(|e| {
            WatchRefusal {
                code: WatchErrorCode::SandboxFailed,
                message: format!("{e}."),
            }
        })
    }

    /// Whether `executor` can take a session now (refused before anything is written).
    pub(super) fn prepare(&self, executor: WatchExecutor) -> Result<Launch, WatchRefusal> {
        match executor {
            WatchExecutor::Obs => {
                if self.setup.obs.is_connected() {
                    Ok(Launch::Obs)
                } else {
                    Err(WatchRefusal {
                        code: WatchErrorCode::SandboxFailed,
                        message: "OBS is not connected: start OBS and check Settings → OBS (or pick the screen-share controller in Settings → Watch-along).".into(),
                    })
                }
            }
            WatchExecutor::Controller => {
                let client = self.client()?;
                let Some(server_url) = self.server_url.clone() else {
                    return Err(WatchRefusal {
                        code: WatchErrorCode::SandboxFailed,
                        message: "The controller reports back to StreamCue's local server, which is off: turn it on in Settings → Local server.".into(),
                    });
                };
                Ok(Launch::Controller { client, server_url })
            }
        }
    }

    /// Where a session plays, as messages name it.
    pub(super) fn target(&self, executor: WatchExecutor) -> String {
        let name = self.settings.channel_name.trim();
        match executor {
            WatchExecutor::Obs => "OBS".into(),
            WatchExecutor::Controller if name.is_empty() => "the screen share".into(),
            WatchExecutor::Controller => name.to_string(),
        }
    }

    /// Hands a new session to its executor (answers come back through the mailbox).
    pub(super) fn launch(&mut self, row: &WatchSessionRow, url: WatchUrl, launch: Launch) {
        let mailbox = self.mailbox.clone();
        let id = row.id.clone();
        match launch {
            Launch::Obs => {
                let resolver = self.setup.resolver.clone();
                spawn_racing(
                    &self.tracker,
                    self.cancel.child_token(),
                    async move { resolver.playable(&url).await },
                    move |answer| async move {
                        let _ = mailbox.tell(Command::Resolved(id, answer)).await;
                    },
                );
            }
            Launch::Controller { client, server_url } => {
                let (guild_id, channel_id) = (
                    self.settings.guild_id.trim().parse().unwrap_or(0),
                    self.settings.channel_id.trim().parse().unwrap_or(0),
                );
                let request = StreamRequest {
                    session_id: row.id.clone(),
                    url: row.url.clone(),
                    guild_id,
                    channel_id,
                    channel_name: self.settings.channel_name.clone(),
                    webhook_url: Some(format!("{server_url}/watch/status")),
                };
                spawn_racing(
                    &self.tracker,
                    self.cancel.child_token(),
                    async move { client.start_stream(&request).await.map(|_| ()) },
                    move |answer| async move {
                        let _ = mailbox.tell(Command::StartAnswered(id, answer)).await;
                    },
                );
            }
        }
    }

    /// The link of session `id` resolved (or not): OBS is told to play it.
    pub(super) async fn on_resolved(
        &mut self,
        id: String,
        answer: Option<Result<String, Refusal>>,
    ) {
        match answer {
            None => {}
            Some(Err(Refusal { code, message })) => {
                self.apply(&id, WatchEvent::Failed { code, message }).await;
            }
            Some(Ok(url)) => {
                // Written before OBS is asked, so OBS's report can only move it forward. A
                // session stopped (or timed out) while streamlink ran is final: the step is
                // refused and nothing is played.
                if let Some(Ok(_)) = self.apply(&id, WatchEvent::Starting).await {
                    self.setup.obs.watch_play(WatchPlay {
                        session: id,
                        url,
                        volume_percent: self.settings.obs_volume_percent.min(100),
                        return_scene: self.settings.return_scene.clone(),
                        reports: self.obs_reports.clone(),
                    });
                }
            }
        }
    }

    /// What OBS says of a video.
    pub(super) async fn on_obs_media(&mut self, report: WatchMediaReport) {
        let event = match report.media {
            WatchMedia::Playing => WatchEvent::Streaming,
            WatchMedia::Ended => WatchEvent::Ended,
            WatchMedia::Failed(why) => {
                let code = WatchErrorCode::ShareFailed;
                WatchEvent::Failed {
                    message: format!("{why}. {}", code.info().recovery),
                    code,
                }
            }
        };
        if let Some(Err(why)) = self.apply(&report.session, event).await {
            tracing::debug!(session = %report.session, %why, "OBS report for a session that moved on");
        }
    }

    /// Tells the session's executor to take the video down (never waits for it).
    pub(super) fn tell_executor_to_stop(&self, executor: &str, id: String) {
        match WatchExecutor::from_name(executor) {
            WatchExecutor::Obs => self.setup.obs.watch_stop(Some(id)),
            WatchExecutor::Controller => {
                let Ok(client) = self.client() else { return };
                spawn_racing(
                    &self.tracker,
                    self.cancel.child_token(),
                    async move { client.stop_stream(&id).await.map(|_| id) },
                    |done| async move {
                        if let Some(Err(e)) = done {
                            tracing::warn!(error = %e, "watch-along: the controller did not take the stop");
                        }
                    },
                );
            }
        }
    }
}
