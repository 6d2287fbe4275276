//! Recording and clips: the `Recorder` actor follows OBS's recording or runs streamlink, and cuts
//! clips around moments with ffmpeg (`cut`), stream copy only.

mod actor;
pub mod cut;
pub mod streamlink;

pub use actor::{Recorder, RecorderSetup};
