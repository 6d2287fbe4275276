//! `GET /health` as a pure projection of the core's events: each component's state and a
//! reason in words, and the overall status by these rules:
//!
//! - **unhealthy** (HTTP 503) when the database cannot be written: nothing StreamCue does is
//!   kept;
//! - **degraded** (HTTP 200) when any component is `degraded` or `down`: chat reconnecting or
//!   failed, OBS reconnecting, the generator in degraded mode, the recorder stalled or failed,
//!   or a recording growing slower than [`GROWTH_FLOOR_BYTES_PER_MIN`] (seed 003's 1 MB/min: a
//!   frozen or nearly empty stream);
//! - **healthy** (HTTP 200) otherwise. A component switched off or not in use (`off`: chat not
//!   connected, OBS disabled, no recording) never lowers the status.

use serde::Serialize;

use crate::api::{ChatSlot, ChatState, CoreEvent, ObsConnection, RecorderPhase};

/// A recording growing slower than this (once its rate is measured) is degraded.
pub const GROWTH_FLOOR_BYTES_PER_MIN: f64 = 1_000_000.0;

/// One component's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentState {
    Ok,
    Degraded,
    Down,
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    pub state: ComponentState,
    pub reason: String,
}

impl Component {
    fn new(state: ComponentState, reason: impl Into<String>) -> Self {
        Self {
            state,
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Healthy,
    Degraded,
    Unhealthy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Components {
    pub chat: Component,
    pub kick: Component,
    pub obs: Component,
    pub generator: Component,
    pub recorder: Component,
    pub database: Component,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    pub status: Status,
    pub version: String,
    pub uptime_s: u64,
    pub components: Components,
}

impl HealthReport {
    /// 200 when healthy or degraded, 503 when unhealthy.
    pub fn http_status(&self) -> u16 {
        match self.status {
            Status::Unhealthy => 503,
            _ => 200,
        }
    }
}

/// What the events said last, per component.
#[derive(Debug, Clone)]
pub struct HealthInputs {
    chat: Component,
    kick: Component,
    obs: Component,
    generator: Component,
    recorder: Component,
}

impl Default for HealthInputs {
    fn default() -> Self {
        let off = |r: &str| Component::new(ComponentState::Off, r);
        Self {
            chat: off("not connected"),
            kick: off("not connected"),
            obs: off("OBS control is off"),
            generator: Component::new(ComponentState::Ok, "ready"),
            recorder: off("not recording"),
        }
    }
}

impl HealthInputs {
    pub fn apply(&mut self, event: &CoreEvent) {
        match event {
            CoreEvent::ChatState { slot, state } => {
                let c = chat_component(state);
                match slot {
                    ChatSlot::Main => self.chat = c,
                    ChatSlot::Kick => self.kick = c,
                }
            }
            CoreEvent::Obs { state } => self.obs = obs_component(&state.connection),
            CoreEvent::Generator { status } => {
                self.generator = match (&status.degraded, status.paused) {
                    (Some(d), _) => Component::new(
                        ComponentState::Degraded,
                        format!("degraded mode: {}", d.reason),
                    ),
                    (None, true) => Component::new(ComponentState::Ok, "paused by the streamer"),
                    (None, false) => Component::new(ComponentState::Ok, "ready"),
                }
            }
            CoreEvent::Recorder { state } => {
                let why = || state.message.clone().unwrap_or_default();
                self.recorder = match state.phase {
                    RecorderPhase::Idle => Component::new(ComponentState::Off, "not recording"),
                    RecorderPhase::WaitingForLive => {
                        Component::new(ComponentState::Ok, "waiting for the stream to go live")
                    }
                    RecorderPhase::Recording
                        if state.bytes_per_min > 0.0
                            && state.bytes_per_min < GROWTH_FLOOR_BYTES_PER_MIN =>
                    {
                        Component::new(
                            ComponentState::Degraded,
                            format!(
                                "the recording grows only {:.2} MB/min (under 1 MB/min: is the stream frozen?)",
                                state.bytes_per_min / 1e6
                            ),
                        )
                    }
                    RecorderPhase::Recording => Component::new(ComponentState::Ok, "recording"),
                    RecorderPhase::Stalled => Component::new(
                        ComponentState::Degraded,
                        format!("the recording stopped growing {}", why()).trim_end(),
                    ),
                    RecorderPhase::Failed => {
                        Component::new(ComponentState::Down, format!("recording failed: {}", why()))
                    }
                }
            }
            _ => {}
        }
    }

    /// The report, given whether a database write just went through (`Err`: why not).
    pub fn report(
        &self,
        database: Result<(), String>,
        version: &str,
        uptime_s: u64,
    ) -> HealthReport {
        let database = match database {
            Ok(()) => Component::new(ComponentState::Ok, "writable"),
            Err(why) => Component::new(ComponentState::Down, format!("cannot write: {why}")),
        };
        let components = Components {
            chat: self.chat.clone(),
            kick: self.kick.clone(),
            obs: self.obs.clone(),
            generator: self.generator.clone(),
            recorder: self.recorder.clone(),
            database,
        };
        let all = [
            &components.chat,
            &components.kick,
            &components.obs,
            &components.generator,
            &components.recorder,
        ];
        let status = if components.database.state != ComponentState::Ok {
            Status::Unhealthy
        } else if all
            .iter()
            .any(|c| matches!(c.state, ComponentState::Degraded | ComponentState::Down))
        {
            Status::Degraded
        } else {
            Status::Healthy
        };
        HealthReport {
            status,
            version: version.to_string(),
            uptime_s,
            components,
        }
    }
}

fn chat_component(state: &ChatState) -> Component {
    match state {
        ChatState::Disconnected => Component::new(ComponentState::Off, "not connected"),
        ChatState::Connecting { channel, .. } => {
            Component::new(ComponentState::Degraded, format!("connecting to {channel}"))
        }
        ChatState::Connected { channel, .. } => {
            Component::new(ComponentState::Ok, format!("connected to {channel}"))
        }
        ChatState::Reconnecting {
            channel, reason, ..
        } => Component::new(
            ComponentState::Degraded,
            format!("reconnecting to {channel}: {reason}"),
        ),
        ChatState::Failed {
            channel, message, ..
        } => Component::new(ComponentState::Down, format!("{channel}: {message}")),
    }
}

fn obs_component(c: &ObsConnection) -> Component {
    match c {
        ObsConnection::Disabled => Component::new(ComponentState::Off, "OBS control is off"),
        ObsConnection::Connecting => Component::new(ComponentState::Degraded, "connecting"),
        ObsConnection::Connected { obs_version, .. } => Component::new(
            ComponentState::Ok,
            format!("connected to OBS {obs_version}"),
        ),
        ObsConnection::Reconnecting { reason, .. } => Component::new(
            ComponentState::Degraded,
            format!("not connected, retrying: {reason}"),
        ),
        ObsConnection::Failed { message, .. } => {
            Component::new(ComponentState::Down, message.clone())
        }
    }
}

#[cfg(test)]
mod tests;
