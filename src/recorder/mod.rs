//! Recording and clips: the `Recorder` actor follows OBS's recording or runs streamlink, and cuts
//! clips around moments with ffmpeg (`cut`), stream copy only.

mod actor;
pub mod cut;
pub mod streamlink;

#[cfg(test)]
pub(crate) use actor::check_settings;
pub use actor::{
    follow_live_session, Recorder, RecorderSetup, CLIPS_SHOWN, LIVE_POLL, PADDING_MAX_SECONDS,
};
