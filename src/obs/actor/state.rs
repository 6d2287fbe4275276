//! OBS's live state for the window: the program scene and the recording, followed from OBS's
//! events (never polled), and announcing it.
//!
//! Invariants: every announcement also updates the handle's `connected` flag; the recording
//! watch changes only on settled states (`Started` / `Stopped`), so the recorder never sees a
//! recording stop before OBS has named its file.

use std::sync::atomic::Ordering;

use obws::events::Event;

use super::Actor;
use crate::api::{CoreEvent, ObsConnection, ObsView};

impl Actor {
    pub(super) fn publish(&mut self) {
        self.connected.store(
            matches!(self.state.connection, ObsConnection::Connected { .. }),
            Ordering::Relaxed,
        );
        self.setup.events.publish(CoreEvent::Obs {
            state: self.state.clone(),
        });
    }
    pub(super) async fn on_event(&mut self, event: Event) {
        match event {
            Event::CurrentProgramSceneChanged { id } => {
                self.state.program_scene = Some(id.name);
                self.publish();
            }
            Event::SceneNameChanged {
                old_name, new_name, ..
            } if self.state.program_scene.as_deref() == Some(old_name.as_str()) => {
                self.state.program_scene = Some(new_name);
                self.publish();
            }
            Event::RecordStateChanged {
                active,
                state,
                path,
            } => {
                use obws::events::OutputState;
                // Only the settled states count: `Stopping` says inactive before the file is
                // named; `Stopped` names it.
                let settled = match state {
                    OutputState::Started => Some(true),
                    OutputState::Stopped => Some(false),
                    _ => None,
                };
                if let Some(on) = settled {
                    self.recording.send_if_modified(|rec| {
                        let changed = rec.active != on || (path.is_some() && rec.last_path != path);
                        if on && !rec.active {
                            rec.started_at_ms = Some(crate::clock::now_ms());
                        }
                        if !on {
                            rec.started_at_ms = None;
                            if path.is_some() {
                                rec.last_path = path.clone();
                            }
                        }
                        rec.active = on;
                        changed
                    });
                }
                if self.state.recording != active {
                    self.state.recording = active;
                    self.publish();
                }
            }
            Event::MediaInputPlaybackEnded { id }
                if id.name == self.settings.names.result_source && self.seq.playing.is_some() =>
            {
                self.clip_ended("OBS said the clip ended").await;
            }
            Event::MediaInputPlaybackStarted { id }
                if id.name == self.settings.names.watch_source =>
            {
                self.watch_media_event(true).await;
            }
            Event::MediaInputPlaybackEnded { id }
                if id.name == self.settings.names.watch_source =>
            {
                self.watch_media_event(false).await;
            }
            Event::ServerStopping | Event::ServerStopped | Event::ExitStarted => {
                self.lost("OBS is closing").await;
            }
            _ => {}
        }
    }

    pub(super) fn view(&self) -> ObsView {
        ObsView {
            settings: self.settings.view(self.setup.secrets.as_ref()),
            state: self.state.clone(),
        }
    }
}
