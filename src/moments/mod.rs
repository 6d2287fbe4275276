//! Chat moments: the pure `SpikeDetector` and its `Matcher`, and the `MomentDetector` actor
//! that feeds them each session's seconds and keeps moments in SQLite.

pub mod detector;
pub mod matcher;
#[cfg(test)]
mod scenarios;

pub use detector::{Baseline, MomentEvent, SecondSummary, SpikeDetector};
pub use matcher::Matcher;
