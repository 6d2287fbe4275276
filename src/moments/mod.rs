//! Chat moments: the pure `SpikeDetector` and its `Matcher`, and the `MomentDetector` actor
//! that feeds them each session's seconds and keeps moments in SQLite.

mod actor;
pub mod detector;
pub mod matcher;
#[cfg(test)]
mod scenarios;

pub use actor::{detector_channel, DetectorInput, MomentDetector, Sample, MAX_SAMPLES_PER_SECOND};
pub use detector::{Baseline, MomentEvent, SecondSummary, SpikeDetector};
pub use matcher::Matcher;
