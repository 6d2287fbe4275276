//! How StreamCue lives on the desktop, as pure decisions the shell only carries out: whether
//! closing the window should keep StreamCue running in the tray ([`Activity`]), which events
//! become desktop notifications ([`notice_for`]), and the streamer's choices about both
//! ([`DesktopSettings`], kept in SQLite like every other setting).
//!
//! Invariants: nothing here touches a window or the OS; the shell (`src-tauri/`) asks and acts.
//! A notification never carries chat text (a moment's trigger labels and counts only).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::api::{AccountState, ChatSlot, ChatState, CoreEvent, RecorderPhase, RequestState};
use crate::db::Setting;

/// The streamer's desktop choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase", default)]
pub struct DesktopSettings {
    /// Closing the window while chat, a recording or a generation is active hides it to the
    /// tray instead of quitting.
    pub close_to_tray: bool,
    /// A desktop notification for each new moment (off by default: they can be many).
    pub notify_moments: bool,
    /// Degraded mode entered or left.
    pub notify_degraded: bool,
    /// A clip became ready while the window was hidden.
    pub notify_clip_ready: bool,
    /// The Twitch login expired or was revoked.
    pub notify_login_expiry: bool,
}

impl Default for DesktopSettings {
    fn default() -> Self {
        Self {
            close_to_tray: true,
            notify_moments: false,
            notify_degraded: true,
            notify_clip_ready: true,
            notify_login_expiry: true,
        }
    }
}

/// Where the desktop settings are kept.
pub const SETTINGS: Setting<DesktopSettings> = Setting::new("desktop.settings");
/// Whether the one-time "still running in the tray" notice was shown.
pub const TRAY_NOTICE_SHOWN: Setting<bool> = Setting::new("desktop.tray_notice_shown");

/// What is running, followed from the core's events: the tray's status line and the
/// close-to-tray decision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Activity {
    /// Each chat slot's connection, in words (`None`: disconnected).
    chats: HashMap<ChatSlot, String>,
    recording: bool,
    /// The request being generated.
    generating: Option<i32>,
    degraded: bool,
}

impl Activity {
    pub fn apply(&mut self, event: &CoreEvent) {
        match event {
            CoreEvent::ChatState { slot, state } => match chat_line(state) {
                Some(line) => {
                    self.chats.insert(*slot, line);
                }
                None => {
                    self.chats.remove(slot);
                }
            },
            CoreEvent::Recorder { state } => {
                self.recording = matches!(
                    state.phase,
                    RecorderPhase::Recording
                        | RecorderPhase::WaitingForLive
                        | RecorderPhase::Stalled
                );
            }
            CoreEvent::Generator { status } => {
                self.generating = status.current;
                self.degraded = status.degraded.is_some();
            }
            CoreEvent::QueueItem { item } => match item.state {
                RequestState::Generating => self.generating = Some(item.id),
                _ if self.generating == Some(item.id) => self.generating = None,
                _ => {}
            },
            _ => {}
        }
    }

    /// Why quitting now would interrupt something, in words; `None` when nothing runs.
    pub fn busy(&self) -> Option<String> {
        let mut what = Vec::new();
        if !self.chats.is_empty() {
            what.push("chat is connected");
        }
        if self.recording {
            what.push("a recording is running");
        }
        if self.generating.is_some() {
            what.push("a clip is being generated");
        }
        (!what.is_empty()).then(|| what.join(", "))
    }

    /// The tray's status line, e.g. "Twitch #alice connected · recording".
    pub fn status_line(&self) -> String {
        let mut parts: Vec<String> = {
            let mut slots: Vec<_> = self.chats.iter().collect();
            slots.sort_by_key(|(slot, _)| format!("{slot:?}"));
            slots.into_iter().map(|(_, line)| line.clone()).collect()
        };
        if parts.is_empty() {
            parts.push("Chat disconnected".into());
        }
        if self.recording {
            parts.push("recording".into());
        }
        if let Some(id) = self.generating {
            parts.push(format!("generating #{id}"));
        }
        if self.degraded {
            parts.push("degraded mode".into());
        }
        parts.join(" · ")
    }
}

fn chat_line(state: &ChatState) -> Option<String> {
    match state {
        ChatState::Disconnected | ChatState::Failed { .. } => None,
        ChatState::Connecting { platform, channel } => {
            Some(format!("{platform:?} #{channel} connecting"))
        }
        ChatState::Connected {
            platform, channel, ..
        } => Some(format!("{platform:?} #{channel} connected")),
        ChatState::Reconnecting {
            platform, channel, ..
        } => Some(format!("{platform:?} #{channel} reconnecting")),
    }
}

/// A link from the window the shell may hand to the browser: `https://` only, no user or
/// password part, at most 2,000 characters. Anything else is refused (never run or opened).
pub fn openable_link(url: &str) -> Option<&str> {
    let url = url.trim();
    let rest = url.strip_prefix("https://")?;
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..host_end];
    let ok = url.len() <= 2000
        && !authority.is_empty()
        && !authority.contains('@')
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then_some(url)
}

/// A desktop notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopNotice {
    pub title: String,
    pub body: String,
}

/// Follows the events for what deserves a desktop notification. Keeps the little state the
/// decisions need (degraded or not, logged in or not) so that only changes notify.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    degraded: Option<bool>,
    logged_in: bool,
    /// Moments already announced (an open moment is announced again as it grows).
    moments_seen: std::collections::HashSet<i32>,
}

impl Notifier {
    /// The notification `event` calls for, if any. `window_visible`: whether the streamer can
    /// see the window now (a clip ready is only worth a notification when it is hidden).
    pub fn notice_for(
        &mut self,
        event: &CoreEvent,
        settings: &DesktopSettings,
        window_visible: bool,
    ) -> Option<DesktopNotice> {
        match event {
            CoreEvent::Generator { status } => {
                let now = status.degraded.is_some();
                let before = self.degraded.replace(now);
                if before.is_none() || before == Some(now) || !settings.notify_degraded {
                    return None;
                }
                Some(match &status.degraded {
                    Some(info) => DesktopNotice {
                        title: "Degraded mode".into(),
                        body: format!("Requests wait: {}", info.reason),
                    },
                    None => DesktopNotice {
                        title: "Generation is back".into(),
                        body: "Degraded mode ended; approved requests are generated again.".into(),
                    },
                })
            }
            CoreEvent::QueueItem { item }
                if item.state == RequestState::Ready
                    && settings.notify_clip_ready
                    && !window_visible =>
            {
                Some(DesktopNotice {
                    title: "Clip ready".into(),
                    body: format!(
                        "Request #{} from {} is ready to show.",
                        item.id, item.display_name
                    ),
                })
            }
            CoreEvent::Moment { moment } => {
                if !settings.notify_moments || !self.moments_seen.insert(moment.id) {
                    return None;
                }
                let labels: Vec<&str> = moment.triggers.iter().map(|t| t.label.as_str()).collect();
                Some(DesktopNotice {
                    title: "Chat moment".into(),
                    body: format!("A moment in chat: {}.", labels.join(", ")),
                })
            }
            CoreEvent::Account { state } => {
                let was = std::mem::replace(
                    &mut self.logged_in,
                    matches!(state, AccountState::LoggedIn { .. }),
                );
                match state {
                    AccountState::LoggedOut { message: Some(m) }
                    | AccountState::Failed { message: m }
                        if was && settings.notify_login_expiry =>
                    {
                        Some(DesktopNotice {
                            title: "Twitch login ended".into(),
                            body: m.clone(),
                        })
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

mod actor;
#[cfg(test)]
mod tests;

pub use actor::{DesktopPrefs, PrefsSetup};
