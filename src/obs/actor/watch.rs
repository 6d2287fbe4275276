//! Watch-along in OBS (the built-in executor): the Watch-along scene's media source plays a
//! link's stream; OBS says when it plays and when it ends; then OBS goes back to the streamer's
//! scene (or the return scene set in Settings → Watch-along).
//!
//! Invariants:
//! - one video at a time; a new one replaces the old (the watch-along actor allows one session);
//! - `Playing` is reported once, when OBS's media state is playing **and its cursor has moved**
//!   (asked every second until then, and at once on `MediaInputPlaybackStarted`). OBS says
//!   "started" and even "playing" at cursor 0 for a server that never sends a byte, so neither
//!   alone counts. `Ended` when it ended (event or state); `Failed` when OBS cannot be asked to
//!   play it, when it goes away mid-video, or when the media stays in error while playing;
//! - a clip (`Show`) may interrupt: the Watch-along scene is not one of StreamCue's own for the
//!   show sequence, so a clip returns to it; when the video ends, a clip's return target is
//!   corrected to the streamer's scene;
//! - stopping empties the source (`input` ""), so OBS stops fetching the stream.

use std::time::Duration;

use obws::requests::inputs::{InputId, Volume};
use obws::responses::media_inputs::MediaState;
use tokio::time::Instant;

use super::{call, Actor, CallError, WatchMedia, WatchMediaReport, WatchPlay};

/// How often OBS's media state is asked while the video is not playing yet.
const START_POLL: Duration = Duration::from_secs(1);
/// …and while it plays (a fallback for a missed ended event, and to notice errors).
const PLAYING_POLL: Duration = Duration::from_secs(5);
/// Polls in a row that found the playing media in error before it counts as failed.
const ERRORS_TO_FAIL: u32 = 3;

/// The video in the Watch-along scene.
pub(super) struct Watching {
    play: WatchPlay,
    started: bool,
    /// The streamer's scene before the Watch-along scene.
    previous: Option<String>,
    /// When OBS's media state is asked next.
    pub(super) poll_at: Instant,
    errors: u32,
}

/// Tells the watch-along actor what became of `play` (never waits; a full channel is logged).
fn report(play: &WatchPlay, media: WatchMedia) {
    let report = WatchMediaReport {
        session: play.session.clone(),
        media,
    };
    if play.reports.try_send(report).is_err() {
        tracing::warn!(session = %play.session, "watch-along report dropped: the watch-along actor is busy");
    }
}

impl Watching {
    fn report(&self, media: WatchMedia) {
        report(&self.play, media);
    }
}

impl Actor {
    pub(super) fn is_watch_scene(&self, scene: &str) -> bool {
        scene == self.settings.names.watch_scene
    }

    pub(super) async fn watch_play(&mut self, play: WatchPlay) {
        if let Some(old) = self.watching.take() {
            tracing::info!(session = %old.play.session, "watch-along video replaced");
        }
        let failed = |play: &WatchPlay, why: String| report(play, WatchMedia::Failed(why));
        if self.link.is_none() {
            failed(
                &play,
                "OBS is not connected: start OBS and check Settings → OBS".into(),
            );
            return;
        }
        let previous = self
            .state
            .program_scene
            .clone()
            .filter(|s| !self.is_ours(s) && !self.is_watch_scene(s));
        match self.load_and_switch(&play).await {
            Ok(()) => {
                tracing::info!(session = %play.session, "watch-along video loaded in OBS");
                self.watching = Some(Watching {
                    play,
                    started: false,
                    previous: previous.or_else(|| self.seq.previous.clone()),
                    poll_at: Instant::now() + START_POLL,
                    errors: 0,
                });
                self.publish();
            }
            Err(CallError::Refused(why)) => {
                let names = &self.settings.names;
                failed(
                    &play,
                    format!(
                        "{why}: OBS needs the scene “{}” with the media source “{}” (press Set up OBS in Settings → OBS)",
                        names.watch_scene, names.watch_source
                    ),
                );
            }
            Err(CallError::Lost(why)) => {
                failed(&play, format!("OBS went away ({why})"));
                self.lost(&why).await;
            }
        }
    }

    async fn load_and_switch(&mut self, play: &WatchPlay) -> Result<(), CallError> {
        let names = self.settings.names.clone();
        let media = serde_json::json!({
            "is_local_file": false,
            "input": play.url,
            "looping": false,
            "restart_on_activate": false,
            "clear_on_media_end": true,
            "close_when_inactive": false,
        });
        self.set_input(&names.watch_source, &media).await?;
        let volume = play.volume_percent.min(100) as f32 / 100.0;
        let client = &self.link.as_ref().expect("connected").client;
        let input = InputId::Name(&names.watch_source);
        call(client.inputs().set_volume(input, Volume::Mul(volume))).await?;
        self.switch(&names.watch_scene).await?;
        self.restart_media(&names.watch_source).await
    }

    /// OBS's `MediaInputPlaybackStarted` / `Ended` for the Watch-along source.
    pub(super) async fn watch_media_event(&mut self, started: bool) {
        if started {
            // OBS says "started" as soon as the source is restarted, before anything was read
            // (seen with a server that never answers): only its media state counts, asked now.
            if self.watching.as_ref().is_some_and(|w| !w.started) {
                self.watch_poll().await;
            }
        } else if self.watching.as_ref().is_some_and(|w| w.started) {
            self.watch_finished(WatchMedia::Ended, "OBS said it ended")
                .await;
        }
    }

    fn watch_started(&mut self, how: &str) {
        if let Some(w) = self.watching.as_mut().filter(|w| !w.started) {
            w.started = true;
            w.errors = 0;
            w.poll_at = Instant::now() + PLAYING_POLL;
            tracing::info!(session = %w.play.session, how, "watch-along video playing in OBS");
            w.report(WatchMedia::Playing);
        }
    }

    /// Asks OBS's media state (see the module's invariants).
    pub(super) async fn watch_poll(&mut self) {
        let Some(link) = &self.link else { return };
        let source = self.settings.names.watch_source.clone();
        let status = call(link.client.media_inputs().status(InputId::Name(&source))).await;
        let (state, moved) = match status {
            Ok(s) => {
                tracing::debug!(state = ?s.state, cursor = ?s.cursor, "watch-along media status");
                (s.state, s.cursor.is_some_and(|c| c.is_positive()))
            }
            Err(CallError::Refused(why)) => {
                let why = format!("OBS no longer has the media source “{source}” ({why})");
                self.watch_finished(WatchMedia::Failed(why), "source gone")
                    .await;
                return;
            }
            Err(CallError::Lost(why)) => {
                self.lost(&why).await;
                return;
            }
        };
        let Some(w) = self.watching.as_mut() else {
            return;
        };
        w.poll_at = Instant::now() + if w.started { PLAYING_POLL } else { START_POLL };
        let errors = match (w.started, state) {
            (true, MediaState::Error) => {
                w.errors += 1;
                w.errors
            }
            _ => {
                w.errors = 0;
                0
            }
        };
        match (w.started, state) {
            (false, MediaState::Playing) if moved => {
                self.watch_started("its media state is playing and its cursor moved")
            }
            (true, MediaState::Ended) => {
                self.watch_finished(WatchMedia::Ended, "its media state is ended")
                    .await
            }
            (true, MediaState::Error) if errors >= ERRORS_TO_FAIL => {
                let why = "the video stopped playing in OBS (its media source reports an error)";
                self.watch_finished(WatchMedia::Failed(why.into()), "media error")
                    .await;
            }
            // Not playing yet (opening, buffering, or an error OBS retries): the watch-along
            // actor's start timeout decides.
            _ => {}
        }
    }

    /// The watch-along actor stops the video (`session` None: whatever plays, e.g. one a crash
    /// left in OBS).
    pub(super) async fn watch_stop(&mut self, session: Option<String>) {
        let matches = match (&self.watching, &session) {
            (Some(w), Some(id)) => &w.play.session == id,
            (_, None) => true,
            (None, Some(_)) => false,
        };
        if !matches {
            return;
        }
        let previous = self.watching.take().and_then(|w| w.previous);
        self.end_video(previous).await;
    }

    async fn watch_finished(&mut self, media: WatchMedia, how: &str) {
        let Some(w) = self.watching.take() else {
            return;
        };
        tracing::info!(session = %w.play.session, how, "watch-along video finished in OBS");
        w.report(media);
        let back = if w.play.return_scene.trim().is_empty() {
            w.previous
        } else {
            Some(w.play.return_scene.trim().to_string())
        };
        self.end_video(back).await;
    }

    /// Empties the source and leaves the Watch-along scene for `back`.
    async fn end_video(&mut self, back: Option<String>) {
        let watch_scene = self.settings.names.watch_scene.clone();
        // A clip that interrupted the video must not return to the empty Watch-along scene.
        if self.seq.previous.as_deref() == Some(watch_scene.as_str()) {
            self.seq.previous = back.clone();
        }
        if self.link.is_none() {
            return;
        }
        let source = self.settings.names.watch_source.clone();
        let cleared = self
            .set_input(&source, &serde_json::json!({ "input": "" }))
            .await;
        let result = match (cleared, back) {
            (Err(e), _) => Err(e),
            (Ok(()), Some(scene))
                if self.state.program_scene.as_deref() == Some(watch_scene.as_str()) =>
            {
                self.switch(&scene).await
            }
            (Ok(()), _) => Ok(()),
        };
        self.publish();
        self.settle(result).await;
    }

    /// The connection is gone mid-video: it cannot go on (a restarted OBS plays nothing).
    pub(super) fn watch_lost(&mut self, reason: &str) {
        if let Some(w) = self.watching.take() {
            w.report(WatchMedia::Failed(format!(
                "OBS went away while the video played ({reason})"
            )));
        }
    }
}
