//! What the moment settings and notes may hold: the limits (the window reads them from
//! `UiLimits`) and the pure checks that enforce them, each error naming the field.

use crate::api::{ApiError, ErrorCode, MomentSettings, VelocityRule};

// What `validate` and notes accept (the window reads them from `UiLimits`).
/// Longest note on a moment, characters.
pub const NOTE_MAX_CHARS: usize = 500;
/// Range of the rolling window and of the emote window, seconds.
pub const WINDOW_SECONDS_MIN: u32 = 1;
pub const WINDOW_SECONDS_MAX: u32 = 300;
/// Longest merge gap, seconds.
pub const MERGE_GAP_MAX_SECONDS: u32 = 600;
/// Baseline rule: smallest sigmas, ratio and floor (msg/s); shortest half-life; longest warm-up.
pub const BASELINE_SIGMAS_MIN: f64 = 0.0;
pub const BASELINE_RATIO_MIN: f64 = 1.0;
pub const BASELINE_FLOOR_MIN: f64 = 0.0;
pub const BASELINE_HALF_LIFE_MIN_SECONDS: u32 = 1;
pub const BASELINE_WARMUP_MAX_SECONDS: u32 = 3600;
/// Viewer spike: the largest ratio and increase accepted (0 turns the ratio off).
pub const VIEWER_SPIKE_RATIO_MAX: f64 = 100.0;
pub const VIEWER_SPIKE_MIN_INCREASE_MAX: u32 = 1_000_000;
/// Most keywords (and, separately, text emotes), and the longest one, characters.
pub const WORDS_MAX: usize = 100;
pub const WORD_MAX_CHARS: usize = 40;

/// Checks a note from the window; returns it trimmed.
pub(crate) fn check_note(note: &str) -> Result<String, ApiError> {
    let note = note.trim();
    if note.chars().count() > NOTE_MAX_CHARS || note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::new(
            ErrorCode::InvalidSettings,
            format!("A note is at most {NOTE_MAX_CHARS} characters, without control characters."),
        ));
    }
    Ok(note.to_string())
}

/// Checks settings from the window; the error says which field is wrong.
pub(crate) fn validate(mut s: MomentSettings) -> Result<MomentSettings, ApiError> {
    let bad = |m: String| Err(ApiError::new(ErrorCode::InvalidSettings, m));
    let windows = WINDOW_SECONDS_MIN..=WINDOW_SECONDS_MAX;
    if !windows.contains(&s.window_seconds) {
        return bad(format!(
            "The window must be {WINDOW_SECONDS_MIN}–{WINDOW_SECONDS_MAX} seconds."
        ));
    }
    if !windows.contains(&s.emote_window_seconds) {
        return bad(format!(
            "The emote window must be {WINDOW_SECONDS_MIN}–{WINDOW_SECONDS_MAX} seconds."
        ));
    }
    if s.merge_gap_seconds > MERGE_GAP_MAX_SECONDS {
        return bad(format!(
            "The merge gap must be at most {MERGE_GAP_MAX_SECONDS} seconds."
        ));
    }
    match s.velocity {
        VelocityRule::Fixed { per_second } if !(per_second.is_finite() && per_second > 0.0) => {
            return bad(
                "The fixed rate must be a positive number of messages per second.".to_string(),
            );
        }
        VelocityRule::Baseline {
            sigmas,
            ratio,
            min_per_second,
            half_life_seconds,
            warmup_seconds,
        } => {
            let finite = [sigmas, ratio, min_per_second]
                .iter()
                .all(|v| v.is_finite());
            if !finite
                || sigmas < BASELINE_SIGMAS_MIN
                || ratio < BASELINE_RATIO_MIN
                || min_per_second < BASELINE_FLOOR_MIN
                || half_life_seconds < BASELINE_HALF_LIFE_MIN_SECONDS
                || warmup_seconds > BASELINE_WARMUP_MAX_SECONDS
            {
                return bad(format!(
                    "Baseline rule: sigmas ≥ {BASELINE_SIGMAS_MIN}, ratio ≥ {BASELINE_RATIO_MIN}, \
                     floor ≥ {BASELINE_FLOOR_MIN}, half-life ≥ {BASELINE_HALF_LIFE_MIN_SECONDS} s, \
                     warm-up ≤ {BASELINE_WARMUP_MAX_SECONDS} s."
                ));
            }
        }
        _ => {}
    }
    let clean = |list: &mut Vec<String>| -> Result<(), ApiError> {
        list.iter_mut().for_each(|w| *w = w.trim().to_string());
        list.retain(|w| !w.is_empty());
        list.dedup();
        if list.len() > WORDS_MAX
            || list
                .iter()
                .any(|w| w.chars().count() > WORD_MAX_CHARS || w.chars().any(char::is_control))
        {
            return Err(ApiError::new(
                ErrorCode::InvalidSettings,
                format!(
                    "At most {WORDS_MAX} keywords/emotes of at most {WORD_MAX_CHARS} characters each."
                ),
            ));
        }
        Ok(())
    };
    let spike = s.viewer_spike;
    let ratio_ok = spike.ratio == 0.0 || (1.0..=VIEWER_SPIKE_RATIO_MAX).contains(&spike.ratio);
    if !ratio_ok || spike.min_increase > VIEWER_SPIKE_MIN_INCREASE_MAX {
        return bad(format!(
            "Viewer spike: the ratio is 0 (off) or 1–{VIEWER_SPIKE_RATIO_MAX}, the increase at \
             most {VIEWER_SPIKE_MIN_INCREASE_MAX} viewers."
        ));
    }
    clean(&mut s.keywords)?;
    clean(&mut s.text_emotes)?;
    Ok(s)
}
