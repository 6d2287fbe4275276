//! Chat moments: the pure `SpikeDetector` and its `Matcher`, and the `MomentDetector` actor
//! that feeds them each session's seconds and keeps moments in SQLite.

mod actor;
pub mod detector;
pub mod matcher;
#[cfg(test)]
mod scenarios;

#[cfg(test)]
pub(crate) use actor::{check_note, validate as validate_settings};
pub use actor::{
    detector_channel, DetectorInput, MomentDetector, Sample, BASELINE_FLOOR_MIN,
    BASELINE_HALF_LIFE_MIN_SECONDS, BASELINE_RATIO_MIN, BASELINE_SIGMAS_MIN,
    BASELINE_WARMUP_MAX_SECONDS, MAX_SAMPLES_PER_SECOND, MERGE_GAP_MAX_SECONDS, NOTE_MAX_CHARS,
    WINDOW_SECONDS_MAX, WINDOW_SECONDS_MIN, WORDS_MAX, WORD_MAX_CHARS,
};
pub use detector::{Baseline, MomentEvent, SecondSummary, SpikeDetector};
pub use matcher::Matcher;
