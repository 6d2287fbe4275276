//! OBS: the `ObsClient` actor drives OBS Studio (≥ 30.2) over obs-websocket 5 with `obws`:
//! the Generating → Result → back sequence for clips, the Hero Shot in degraded mode, the
//! **Set up OBS** button, and OBS's live state for the window.

mod actor;
pub mod mp4;
mod settings;
mod setup;

pub use actor::{
    ObsClient, ObsRecording, ObsReport, ObsSetup, Show, WatchMedia, WatchMediaReport, WatchPlay,
};
#[cfg(test)]
pub(crate) use settings::check_port;
pub use settings::{PORT_MAX, PORT_MIN};
