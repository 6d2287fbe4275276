//! IPC types of the limits strip (the outgoing chat limit and the cooldowns, live) and the
//! limits and defaults the window's forms use ([`UiLimits`], the bindings' `UI_LIMITS`).

use serde::{Deserialize, Serialize};
use specta::Type;

use super::MomentSettings;

/// StreamCue's chat replies against Twitch's outgoing limit. Announced by `ChatReplies` when a
/// reply went out or the limit changed, never on a timer: the window counts down itself
/// (a send counts until `sentAtMs + windowMs`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ReplyLimits {
    /// When each reply still inside the window went out (Unix ms, the clock of the other
    /// `*AtMs` fields), oldest first. At most `replyLimitElevated` (100) entries.
    pub sent_at_ms: Vec<f64>,
    /// Replies allowed per window: 20, or 100 while the account is a moderator or the
    /// broadcaster.
    pub limit: u32,
    pub window_ms: u32,
    /// StreamCue cannot speak in this chat (no Twitch chat, the demo, or not logged in):
    /// replies are dropped.
    pub read_only: bool,
    /// Replies dropped since StreamCue started (chat read-only or gone, or too many waiting):
    /// a running total.
    pub dropped: u32,
}

/// The per-viewer cooldowns running. Announced by the queue when one starts, never on a
/// timer: a cooldown runs until its end time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Cooldowns {
    /// When each running cooldown ends (Unix ms), soonest first. At most
    /// `cooldownsListedMax` (500), the latest: when the list is full, more may be running.
    pub ends_at_ms: Vec<f64>,
    /// The cooldown a viewer gets after an accepted request.
    pub cooldown_secs: u32,
}

/// The limits strip's content (in the snapshot; then kept current by the `replyLimits` and
/// `cooldowns` events). The queue's waiting/max is in `QueueView`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct LimitsView {
    pub replies: ReplyLimits,
    pub cooldowns: Cooldowns,
}

/// The ranges the core accepts and the defaults it uses, for the window's forms and caches.
/// Exported as the constant `UI_LIMITS` of the bindings; every value is the constant the core
/// itself checks against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct UiLimits {
    /// Generator: timeout of one attempt, seconds (and its default).
    pub generator_timeout_min_secs: u32,
    pub generator_timeout_max_secs: u32,
    pub generator_timeout_default_secs: u32,
    /// OBS WebSocket port.
    pub obs_port_min: u16,
    pub obs_port_max: u16,
    /// Longest note on a moment, characters.
    pub moment_note_max_chars: u32,
    /// Moments: the rolling window and the emote window, seconds.
    pub moment_window_min_secs: u32,
    pub moment_window_max_secs: u32,
    pub moment_merge_gap_max_secs: u32,
    /// Baseline rule: lowest sigmas, ratio and floor (msg/s), shortest half-life, longest warm-up.
    pub baseline_sigmas_min: f64,
    pub baseline_ratio_min: f64,
    pub baseline_floor_min: f64,
    pub baseline_half_life_min_secs: u32,
    pub baseline_warmup_max_secs: u32,
    /// Most keywords (and, separately, text emotes), and the longest one, characters.
    pub moment_words_max: u32,
    pub moment_word_max_chars: u32,
    /// Viewer spike: the largest ratio (0 = off, else ≥ 1) and increase.
    pub viewer_spike_ratio_max: f64,
    pub viewer_spike_min_increase_max: u32,
    /// The fixed rule's rate when the streamer switches to it (it must be > 0), msg/s.
    pub default_fixed_per_second: f64,
    /// The moment settings a new install starts with (e.g. the baseline rule's values).
    pub default_moment_settings: MomentSettings,
    /// Recorder: most seconds kept before (and after) a moment.
    pub recorder_padding_max_secs: u32,
    /// Seconds of live velocity the snapshot carries (one point per second).
    pub velocity_window_secs: u32,
    /// Finished requests the queue's view carries, and the most the window should keep.
    pub queue_finished_sent: u32,
    pub queue_finished_kept: u32,
    /// Clips the recorder's view carries, and the most the window should keep.
    pub clips_sent: u32,
    pub clips_kept: u32,
    /// Twitch's outgoing chat limit: per window, normal and as moderator/broadcaster.
    pub reply_limit: u32,
    pub reply_limit_elevated: u32,
    pub reply_window_ms: u32,
    /// Most cooldowns listed in `Cooldowns.endsAtMs`.
    pub cooldowns_listed_max: u32,
    /// Settings → Co-host.
    pub cohost: CohostLimits,
}

/// The co-host's settings ranges (`cohost::settings` checks against the same constants).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct CohostLimits {
    pub temperature_max: f64,
    pub max_tokens_max: u32,
    pub timeout_max_secs: u32,
    pub persona_max_chars: u32,
    /// Most names, ask commands, keywords, ignored logins or filters; the longest word and
    /// filter pattern, characters.
    pub list_max: u32,
    pub word_max_chars: u32,
    pub pattern_max_chars: u32,
    pub quiet_minutes_max: u32,
    pub cooldown_max_secs: u32,
    pub per_minute_max: u32,
    pub context_messages_max: u32,
    pub context_minutes_max: u32,
    pub draft_expiry_min_secs: u32,
    pub draft_expiry_max_secs: u32,
    pub reserve_for_queue_max: u32,
    pub max_chars_min: u32,
    pub max_chars_max: u32,
}

impl CohostLimits {
    fn current() -> Self {
        use crate::cohost::settings::*;
        Self {
            temperature_max: TEMPERATURE_MAX,
            max_tokens_max: MAX_TOKENS_MAX,
            timeout_max_secs: TIMEOUT_MAX_SECONDS,
            persona_max_chars: PERSONA_MAX_CHARS as u32,
            list_max: LIST_MAX as u32,
            word_max_chars: WORD_MAX_CHARS as u32,
            pattern_max_chars: PATTERN_MAX_CHARS as u32,
            quiet_minutes_max: QUIET_MINUTES_MAX,
            cooldown_max_secs: COOLDOWN_MAX_SECONDS,
            per_minute_max: PER_MINUTE_MAX,
            context_messages_max: CONTEXT_MESSAGES_MAX,
            context_minutes_max: CONTEXT_MINUTES_MAX,
            draft_expiry_min_secs: DRAFT_EXPIRY_MIN_SECONDS,
            draft_expiry_max_secs: DRAFT_EXPIRY_MAX_SECONDS,
            reserve_for_queue_max: RESERVE_FOR_QUEUE_MAX,
            max_chars_min: MAX_CHARS_MIN,
            max_chars_max: crate::chat::outgoing::MAX_MESSAGE_CHARS as u32,
        }
    }
}

/// Finished requests the window keeps (more than the view carries: events add to them).
pub const QUEUE_FINISHED_KEPT: u32 = 30;
/// Clips the window keeps (more than the view carries: events add to them).
pub const CLIPS_KEPT: u32 = 200;

impl UiLimits {
    pub fn current() -> Self {
        use crate::chat::outgoing::{TWITCH_LIMIT, TWITCH_LIMIT_ELEVATED, TWITCH_WINDOW};
        use crate::moments::*;
        Self {
            generator_timeout_min_secs: crate::generator::TIMEOUT_MIN_S,
            generator_timeout_max_secs: crate::generator::TIMEOUT_MAX_S,
            generator_timeout_default_secs: crate::generator::DEFAULT_TIMEOUT_S,
            obs_port_min: crate::obs::PORT_MIN,
            obs_port_max: crate::obs::PORT_MAX,
            moment_note_max_chars: NOTE_MAX_CHARS as u32,
            moment_window_min_secs: WINDOW_SECONDS_MIN,
            moment_window_max_secs: WINDOW_SECONDS_MAX,
            moment_merge_gap_max_secs: MERGE_GAP_MAX_SECONDS,
            baseline_sigmas_min: BASELINE_SIGMAS_MIN,
            baseline_ratio_min: BASELINE_RATIO_MIN,
            baseline_floor_min: BASELINE_FLOOR_MIN,
            baseline_half_life_min_secs: BASELINE_HALF_LIFE_MIN_SECONDS,
            baseline_warmup_max_secs: BASELINE_WARMUP_MAX_SECONDS,
            moment_words_max: WORDS_MAX as u32,
            moment_word_max_chars: WORD_MAX_CHARS as u32,
            viewer_spike_ratio_max: VIEWER_SPIKE_RATIO_MAX,
            viewer_spike_min_increase_max: VIEWER_SPIKE_MIN_INCREASE_MAX,
            default_fixed_per_second: super::DEFAULT_FIXED_PER_SECOND,
            default_moment_settings: MomentSettings::default(),
            recorder_padding_max_secs: crate::recorder::PADDING_MAX_SECONDS,
            velocity_window_secs: crate::chat::LIVE_WINDOW_SECS as u32,
            queue_finished_sent: crate::queue::RECENT_FINISHED,
            queue_finished_kept: QUEUE_FINISHED_KEPT,
            clips_sent: crate::recorder::CLIPS_SHOWN,
            clips_kept: CLIPS_KEPT,
            reply_limit: TWITCH_LIMIT as u32,
            reply_limit_elevated: TWITCH_LIMIT_ELEVATED as u32,
            reply_window_ms: TWITCH_WINDOW.as_millis() as u32,
            cooldowns_listed_max: crate::queue::MAX_LISTED_COOLDOWNS as u32,
            cohost: CohostLimits::current(),
        }
    }
}

// What the window keeps is at least what the core sends.
const _: () = assert!(QUEUE_FINISHED_KEPT >= crate::queue::RECENT_FINISHED);
const _: () = assert!(CLIPS_KEPT >= crate::recorder::CLIPS_SHOWN);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ErrorCode, RecorderSettings, VelocityRule};

    fn refused<T: std::fmt::Debug>(r: Result<T, crate::api::ApiError>) -> bool {
        matches!(r, Err(e) if e.code == ErrorCode::InvalidSettings)
    }

    /// Every exported limit is the one the validation applies: the edge is accepted, one past
    /// it is refused.
    #[test]
    fn exported_limits_are_the_ones_validation_uses() {
        let l = UiLimits::current();

        use crate::generator::check_timeout;
        assert!(check_timeout(l.generator_timeout_min_secs).is_ok());
        assert!(check_timeout(l.generator_timeout_max_secs).is_ok());
        assert!(check_timeout(l.generator_timeout_default_secs).is_ok());
        assert!(check_timeout(l.generator_timeout_min_secs - 1).is_err());
        assert!(check_timeout(l.generator_timeout_max_secs + 1).is_err());
        assert_eq!(
            (l.generator_timeout_min_secs, l.generator_timeout_max_secs),
            (1, 900)
        );

        use crate::obs::check_port;
        assert!(check_port(l.obs_port_min).is_ok() && check_port(l.obs_port_max).is_ok());
        assert!(check_port(l.obs_port_min - 1).is_err());
        assert_eq!((l.obs_port_min, l.obs_port_max), (1, 65535));

        use crate::moments::check_note;
        let note = |n: u32| "é".repeat(n as usize);
        assert!(check_note(&note(l.moment_note_max_chars)).is_ok());
        assert!(refused(check_note(&note(l.moment_note_max_chars + 1))));

        let ok = |f: &dyn Fn(&mut MomentSettings)| {
            let mut s = l.default_moment_settings.clone();
            f(&mut s);
            crate::moments::validate_settings(s)
        };
        assert!(ok(&|_| {}).is_ok(), "the exported defaults are valid");
        assert_eq!(l.default_moment_settings, MomentSettings::default());
        for (edge, past) in [
            (l.moment_window_min_secs, l.moment_window_min_secs - 1),
            (l.moment_window_max_secs, l.moment_window_max_secs + 1),
        ] {
            assert!(ok(&|s| s.window_seconds = edge).is_ok());
            assert!(refused(ok(&|s| s.window_seconds = past)));
            assert!(ok(&|s| s.emote_window_seconds = edge).is_ok());
            assert!(refused(ok(&|s| s.emote_window_seconds = past)));
        }
        assert!(ok(&|s| s.merge_gap_seconds = l.moment_merge_gap_max_secs).is_ok());
        assert!(refused(ok(
            &|s| s.merge_gap_seconds = l.moment_merge_gap_max_secs + 1
        )));
        let baseline = |sigmas, ratio, floor, half_life, warmup| {
            ok(&move |s| {
                s.velocity = VelocityRule::Baseline {
                    sigmas,
                    ratio,
                    min_per_second: floor,
                    half_life_seconds: half_life,
                    warmup_seconds: warmup,
                }
            })
        };
        let (sig, ratio, floor) = (
            l.baseline_sigmas_min,
            l.baseline_ratio_min,
            l.baseline_floor_min,
        );
        let (half, warm) = (l.baseline_half_life_min_secs, l.baseline_warmup_max_secs);
        assert!(baseline(sig, ratio, floor, half, warm).is_ok());
        assert!(refused(baseline(sig - 0.001, ratio, floor, half, warm)));
        assert!(refused(baseline(sig, ratio - 0.001, floor, half, warm)));
        assert!(refused(baseline(sig, ratio, floor - 0.001, half, warm)));
        assert!(refused(baseline(sig, ratio, floor, half - 1, warm)));
        assert!(refused(baseline(sig, ratio, floor, half, warm + 1)));
        let fixed = |per_second| ok(&move |s| s.velocity = VelocityRule::Fixed { per_second });
        assert!(fixed(l.default_fixed_per_second).is_ok());
        assert_eq!(l.default_fixed_per_second, 5.0);
        let words = |n: u32, len: u32| {
            let list: Vec<String> = (0..n)
                .map(|i| format!("{i:0>width$}", width = len as usize))
                .collect();
            (
                ok(&|s| s.keywords = list.clone()),
                ok(&|s| s.text_emotes = list.clone()),
            )
        };
        let (k, e) = words(l.moment_words_max, l.moment_word_max_chars);
        assert!(k.is_ok() && e.is_ok());
        let (k, e) = words(l.moment_words_max + 1, 4);
        assert!(refused(k) && refused(e));
        let (k, e) = words(1, l.moment_word_max_chars + 1);
        assert!(refused(k) && refused(e));
        let spike = |ratio, min_increase| {
            ok(&move |s| {
                s.viewer_spike = crate::api::ViewerSpikeRule {
                    ratio,
                    min_increase,
                }
            })
        };
        let (r, n) = (l.viewer_spike_ratio_max, l.viewer_spike_min_increase_max);
        assert!(spike(0.0, 0).is_ok() && spike(1.0, n).is_ok() && spike(r, 0).is_ok());
        assert!(refused(spike(0.5, 0)) && refused(spike(r + 0.1, 0)));
        assert!(refused(spike(f64::NAN, 0)) && refused(spike(2.0, n + 1)));

        let padding = |pre, post| {
            crate::recorder::check_settings(&RecorderSettings {
                pre_seconds: pre,
                post_seconds: post,
                ..RecorderSettings::default()
            })
        };
        let max = l.recorder_padding_max_secs;
        assert!(padding(max, max).is_ok());
        assert!(refused(padding(max + 1, 0)) && refused(padding(0, max + 1)));
        assert_eq!(max, 600);

        assert_eq!(l.velocity_window_secs, 600);
        assert_eq!(
            (l.reply_limit, l.reply_limit_elevated, l.reply_window_ms),
            (20, 100, 30_000)
        );
        assert_eq!(
            (l.queue_finished_kept, l.clips_kept, l.cooldowns_listed_max),
            (30, 200, 500)
        );
    }

    #[test]
    fn the_cohost_limits_are_the_ones_its_settings_check_uses() {
        use crate::api::CohostSettings;
        let c = UiLimits::current().cohost;
        let check = |f: &dyn Fn(&mut CohostSettings)| {
            let mut s = CohostSettings::default();
            f(&mut s);
            crate::cohost::settings::check(&s)
        };
        assert!(check(&|_| {}).is_ok(), "the defaults are valid");
        // Each edge is accepted and one past it refused.
        type Edit = fn(&mut CohostSettings, u32);
        let edges: [(Edit, u32, u32); 12] = [
            (
                |s, v| s.max_tokens = v,
                c.max_tokens_max,
                c.max_tokens_max + 1,
            ),
            (
                |s, v| s.timeout_seconds = v,
                c.timeout_max_secs,
                c.timeout_max_secs + 1,
            ),
            (
                |s, v| s.quiet_minutes = v,
                c.quiet_minutes_max,
                c.quiet_minutes_max + 1,
            ),
            (
                |s, v| s.cooldown_seconds = v,
                c.cooldown_max_secs,
                c.cooldown_max_secs + 1,
            ),
            (
                |s, v| s.per_minute = v,
                c.per_minute_max,
                c.per_minute_max + 1,
            ),
            (
                |s, v| s.context_messages = v,
                c.context_messages_max,
                c.context_messages_max + 1,
            ),
            (
                |s, v| s.context_minutes = v,
                c.context_minutes_max,
                c.context_minutes_max + 1,
            ),
            (
                |s, v| s.draft_expiry_seconds = v,
                c.draft_expiry_min_secs,
                c.draft_expiry_min_secs - 1,
            ),
            (
                |s, v| s.draft_expiry_seconds = v,
                c.draft_expiry_max_secs,
                c.draft_expiry_max_secs + 1,
            ),
            (
                |s, v| s.reserve_for_queue = v,
                c.reserve_for_queue_max,
                c.reserve_for_queue_max + 1,
            ),
            (|s, v| s.max_chars = v, c.max_chars_min, c.max_chars_min - 1),
            (|s, v| s.max_chars = v, c.max_chars_max, c.max_chars_max + 1),
        ];
        for (i, (edit, edge, past)) in edges.into_iter().enumerate() {
            assert!(check(&|s| edit(s, edge)).is_ok(), "edge {i}");
            assert!(refused(check(&|s| edit(s, past))), "past {i}");
        }
        assert!(check(&|s| s.temperature = c.temperature_max).is_ok());
        assert!(refused(
            check(&|s| s.temperature = c.temperature_max + 0.01)
        ));
        let word = |n: u32| "w".repeat(n as usize);
        assert!(check(&|s| s.keywords = vec![word(c.word_max_chars)]).is_ok());
        assert!(refused(check(
            &|s| s.keywords = vec![word(c.word_max_chars + 1)]
        )));
        assert!(check(&|s| s.persona = word(c.persona_max_chars)).is_ok());
        assert!(refused(check(
            &|s| s.persona = word(c.persona_max_chars + 1)
        )));
        let many = |n: u32| (0..n).map(|i| format!("w{i}")).collect::<Vec<_>>();
        assert!(check(&|s| s.ignore = many(c.list_max)).is_ok());
        assert!(refused(check(&|s| s.ignore = many(c.list_max + 1))));
    }

    #[test]
    fn the_outgoing_window_allows_what_the_limits_say() {
        use crate::chat::outgoing::SlidingWindow;
        let l = UiLimits::current();
        let t0 = tokio::time::Instant::now();
        for (elevated, limit) in [(false, l.reply_limit), (true, l.reply_limit_elevated)] {
            let mut w = SlidingWindow::for_twitch(elevated);
            let sent = (0..limit + 10)
                .filter(|_| w.try_acquire(t0).is_ok())
                .count();
            assert_eq!(sent, limit as usize);
            assert_eq!(w.window().as_millis(), u128::from(l.reply_window_ms));
        }
    }
}
