//! Chat moments: the pure `SpikeDetector` and its `Matcher`, and the `MomentDetector` actor
//! that feeds them each session's seconds and keeps moments in SQLite.

mod actor;
pub mod detector;
pub mod matcher;
mod rules;
#[cfg(test)]
mod scenarios;

pub use actor::{
    detector_channel, DetectorInput, MomentDetector, Sample, SecondOfChat, MAX_SAMPLES_PER_SECOND,
};
pub use detector::{Baseline, MomentEvent, SecondSummary, SpikeDetector};
pub use matcher::Matcher;
#[cfg(test)]
pub(crate) use rules::{check_note, validate as validate_settings};
pub use rules::{
    BASELINE_FLOOR_MIN, BASELINE_HALF_LIFE_MIN_SECONDS, BASELINE_RATIO_MIN, BASELINE_SIGMAS_MIN,
    BASELINE_WARMUP_MAX_SECONDS, MERGE_GAP_MAX_SECONDS, NOTE_MAX_CHARS,
    VIEWER_SPIKE_MIN_INCREASE_MAX, VIEWER_SPIKE_RATIO_MAX, WINDOW_SECONDS_MAX, WINDOW_SECONDS_MIN,
    WORDS_MAX, WORD_MAX_CHARS,
};
