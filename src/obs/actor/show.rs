//! The show sequence: the Generating scene with the prompt, the Result scene playing a clip,
//! then back to where the streamer was; the Hero Shot in degraded mode.
//!
//! Invariants: one clip plays at a time (other shows wait their turn, except Hero and Failed);
//! a clip counts as shown only when OBS played it to the end (media-ended event, or its duration
//! plus a grace as a fallback); StreamCue returns to the streamer's scene only while OBS still
//! shows one of StreamCue's own scenes.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use tokio::time::Instant;

use super::{call, Actor, CallError, ObsReport, Show};
use crate::obs::mp4;

/// Grace after a clip's own duration before the fallback returns from the Result scene.
const FALLBACK_GRACE: Duration = Duration::from_millis(1500);
/// When a clip's duration cannot be read.
const UNKNOWN_CLIP_LENGTH: Duration = Duration::from_secs(15);

/// The show sequence: where to return to, what plays now, what waits.
#[derive(Default)]
pub(super) struct Sequence {
    /// The streamer's scene before StreamCue switched away from it.
    pub(super) previous: Option<String>,
    /// The clip playing in the Result scene, and when the fallback ends it.
    pub(super) playing: Option<(i32, Instant)>,
    /// The request whose prompt the Generating scene shows.
    pub(super) generating: Option<i32>,
    /// Shows that arrived while a clip played.
    pub(super) waiting: VecDeque<Show>,
}

impl Actor {
    pub(super) fn is_ours(&self, scene: &str) -> bool {
        let n = &self.settings.names;
        scene == n.generating_scene || scene == n.result_scene || scene == n.hero_scene
    }

    /// Remembers the streamer's scene before the first switch of a sequence.
    fn remember_previous(&mut self) {
        if self.seq.previous.is_none() {
            if let Some(current) = &self.state.program_scene {
                if !self.is_ours(current) {
                    self.seq.previous = Some(current.clone());
                }
            }
        }
    }

    pub(super) async fn apply(&mut self, show: Show) {
        if let Show::Hero(on) = show {
            self.state.hero = on;
        }
        if self.link.is_none() {
            tracing::debug!(?show, "OBS not connected: nothing shown");
            self.publish();
            return;
        }
        if self.seq.playing.is_some() && !matches!(show, Show::Hero(_) | Show::Failed { .. }) {
            self.seq.waiting.push_back(show);
            return;
        }
        let result = match show {
            Show::Generating { id, prompt } => self.show_generating(id, &prompt).await,
            Show::Result { id, path } => self.show_result(id, path).await,
            Show::Failed { id } => {
                if self.seq.generating == Some(id) {
                    self.seq.generating = None;
                    self.state.showing = None;
                    self.return_to_previous().await
                } else {
                    Ok(())
                }
            }
            Show::Hero(true) => {
                if self.seq.playing.is_none() && self.seq.generating.is_none() {
                    self.remember_previous();
                    let hero = self.settings.names.hero_scene.clone();
                    self.switch(&hero).await
                } else {
                    Ok(())
                }
            }
            Show::Hero(false) => {
                let hero = self.settings.names.hero_scene.clone();
                if self.state.program_scene.as_deref() == Some(hero.as_str()) {
                    self.return_to_previous().await
                } else {
                    Ok(())
                }
            }
        };
        self.publish();
        self.settle(result).await;
    }

    pub(super) async fn settle(&mut self, result: Result<(), CallError>) {
        match result {
            Ok(()) => {}
            Err(CallError::Refused(why)) => {
                tracing::warn!(%why, "OBS refused a step of the show (run Set up OBS?)")
            }
            Err(CallError::Lost(why)) => self.lost(&why).await,
        }
    }

    async fn show_generating(&mut self, id: i32, prompt: &str) -> Result<(), CallError> {
        self.remember_previous();
        let names = self.settings.names.clone();
        let text = serde_json::json!({ "text": prompt });
        self.set_input(&names.prompt_source, &text).await?;
        self.seq.generating = Some(id);
        self.state.showing = Some(id);
        self.switch(&names.generating_scene).await
    }

    async fn show_result(&mut self, id: i32, path: PathBuf) -> Result<(), CallError> {
        self.remember_previous();
        let names = self.settings.names.clone();
        let media = serde_json::json!({
            "is_local_file": true,
            "local_file": path.display().to_string(),
            "looping": false,
            "restart_on_activate": true,
            "clear_on_media_end": false,
        });
        self.set_input(&names.result_source, &media).await?;
        let length = mp4::duration(&path).unwrap_or(UNKNOWN_CLIP_LENGTH);
        self.seq.generating = None;
        self.seq.playing = Some((id, Instant::now() + length + FALLBACK_GRACE));
        self.state.showing = Some(id);
        self.switch(&names.result_scene).await?;
        self.restart_media(&names.result_source).await
    }

    pub(super) async fn clip_ended(&mut self, how: &str) {
        let Some((id, _)) = self.seq.playing.take() else {
            return;
        };
        tracing::info!(request_id = id, how, "clip shown in OBS");
        let _ = self.setup.reports.try_send(ObsReport::Shown { id });
        self.state.showing = None;
        let result = self.return_to_previous().await;
        self.publish();
        self.settle(result).await;
        while self.seq.playing.is_none() && self.link.is_some() {
            let Some(next) = self.seq.waiting.pop_front() else {
                break;
            };
            Box::pin(self.apply(next)).await;
        }
    }

    /// Back to the streamer's scene (or the Hero Shot while degraded), unless the streamer has
    /// already moved away from StreamCue's scenes.
    async fn return_to_previous(&mut self) -> Result<(), CallError> {
        let on_ours = self
            .state
            .program_scene
            .as_deref()
            .is_some_and(|s| self.is_ours(s));
        let target = if self.state.hero {
            Some(self.settings.names.hero_scene.clone())
        } else {
            self.seq.previous.take()
        };
        match target {
            Some(scene)
                if on_ours && self.state.program_scene.as_deref() != Some(scene.as_str()) =>
            {
                self.switch(&scene).await
            }
            _ => Ok(()),
        }
    }

    pub(super) async fn switch(&mut self, scene: &str) -> Result<(), CallError> {
        let client = &self.link.as_ref().expect("connected").client;
        call(client.scenes().set_current_program_scene(scene)).await?;
        // Our own switch is the truth now; OBS's event follows.
        self.state.program_scene = Some(scene.to_string());
        Ok(())
    }
}
