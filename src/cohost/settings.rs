//! The co-host's settings: where they are saved, what is refused, and the rules each part of
//! the co-host is given (triggers, processor, model endpoint) made from them.

use std::time::Duration;

use crate::api::{ApiError, CohostSettings, CohostTruncation, ErrorCode};
use crate::db::Setting;

use super::llm::LlmEndpoint;
use super::processor::{compile_filters, FilterAction, FilterRule, ProcessorRules, Truncation};
use super::triggers::TriggerRules;

/// Saved in the database (the API key is in the keyring).
pub const SETTINGS: Setting<CohostSettings> = Setting::new("cohost.settings");

/// The longest persona, characters.
pub const PERSONA_MAX_CHARS: usize = 4000;
/// At most this many names, commands, keywords, ignored logins or filters, each at most
/// [`WORD_MAX_CHARS`] (a filter pattern [`PATTERN_MAX_CHARS`]).
pub const LIST_MAX: usize = 50;
pub const WORD_MAX_CHARS: usize = 40;
pub const PATTERN_MAX_CHARS: usize = 200;
/// Context window bounds.
pub const CONTEXT_MESSAGES_MAX: u32 = 200;
pub const CONTEXT_MINUTES_MAX: u32 = 120;
/// The model call: temperature, max tokens, timeout (seconds) at most.
pub const TEMPERATURE_MAX: f64 = 2.0;
pub const MAX_TOKENS_MAX: u32 = 4096;
pub const TIMEOUT_MAX_SECONDS: u32 = 300;
/// Triggers: the quiet-chat prompt (minutes), the per-channel cooldown (seconds), answers a
/// minute at most.
pub const QUIET_MINUTES_MAX: u32 = 240;
pub const COOLDOWN_MAX_SECONDS: u32 = 3600;
pub const PER_MINUTE_MAX: u32 = 60;
/// Drafts expire after this many seconds, at least and at most.
pub const DRAFT_EXPIRY_MIN_SECONDS: u32 = 10;
pub const DRAFT_EXPIRY_MAX_SECONDS: u32 = 3600;
/// Of Twitch's 20 sends per 30 s, at most this many are kept for the queue's replies.
pub const RESERVE_FOR_QUEUE_MAX: u32 = 15;
/// The shortest answer length limit (the longest is the chat's own 500).
pub const MAX_CHARS_MIN: u32 = 20;

/// Refuses settings that cannot work, saying which and why.
pub fn check(s: &CohostSettings) -> Result<(), ApiError> {
    let bad = |what: String| Err(ApiError::new(ErrorCode::InvalidSettings, what));
    if s.backend == crate::api::CohostBackend::OpenAiCompatible {
        let url = s.base_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return bad(format!(
                "The server address {url:?} must start with http:// or https:// (e.g. http://127.0.0.1:11434)."
            ));
        }
        if s.model.trim().is_empty() {
            return bad("Choose a model (Test connection lists the server's models).".into());
        }
    }
    if !(0.0..=TEMPERATURE_MAX).contains(&s.temperature) {
        return bad(format!(
            "The temperature must be between 0 and {TEMPERATURE_MAX}."
        ));
    }
    if !(1..=MAX_TOKENS_MAX).contains(&s.max_tokens) {
        return bad(format!(
            "Max tokens must be between 1 and {MAX_TOKENS_MAX}."
        ));
    }
    if !(1..=TIMEOUT_MAX_SECONDS).contains(&s.timeout_seconds) {
        return bad(format!(
            "The timeout must be between 1 and {TIMEOUT_MAX_SECONDS} seconds."
        ));
    }
    if s.persona.chars().count() > PERSONA_MAX_CHARS {
        return bad(format!(
            "The persona is longer than {PERSONA_MAX_CHARS} characters."
        ));
    }
    for (what, list) in [
        ("names", &s.names),
        ("ask commands", &s.ask_commands),
        ("keywords", &s.keywords),
        ("ignored logins", &s.ignore),
    ] {
        if list.len() > LIST_MAX {
            return bad(format!("At most {LIST_MAX} {what}."));
        }
        if let Some(w) = list.iter().find(|w| {
            w.trim().is_empty()
                || w.chars().count() > WORD_MAX_CHARS
                || w.contains(char::is_whitespace)
        }) {
            return bad(format!(
                "{w:?} cannot be one of the {what}: one word of 1–{WORD_MAX_CHARS} characters, no spaces."
            ));
        }
    }
    if !(0.0..=1.0).contains(&s.keyword_chance) {
        return bad("The keyword chance must be between 0 and 1.".into());
    }
    if s.quiet_minutes > QUIET_MINUTES_MAX {
        return bad(format!(
            "The quiet-chat prompt can be at most {QUIET_MINUTES_MAX} minutes."
        ));
    }
    if s.cooldown_seconds > COOLDOWN_MAX_SECONDS || !(1..=PER_MINUTE_MAX).contains(&s.per_minute) {
        return bad(format!(
            "The cooldown is at most {COOLDOWN_MAX_SECONDS} s and the rate 1–{PER_MINUTE_MAX} answers a minute."
        ));
    }
    if s.context_messages > CONTEXT_MESSAGES_MAX
        || !(1..=CONTEXT_MINUTES_MAX).contains(&s.context_minutes)
    {
        return bad(format!(
            "The context is at most {CONTEXT_MESSAGES_MAX} messages and 1–{CONTEXT_MINUTES_MAX} minutes."
        ));
    }
    if !(DRAFT_EXPIRY_MIN_SECONDS..=DRAFT_EXPIRY_MAX_SECONDS).contains(&s.draft_expiry_seconds) {
        return bad(format!(
            "Drafts expire after {DRAFT_EXPIRY_MIN_SECONDS}–{DRAFT_EXPIRY_MAX_SECONDS} seconds."
        ));
    }
    if s.reserve_for_queue > RESERVE_FOR_QUEUE_MAX {
        return bad(format!(
            "Keep at most {RESERVE_FOR_QUEUE_MAX} of the 20 sends for the queue's replies."
        ));
    }
    if !(MAX_CHARS_MIN..=crate::chat::outgoing::MAX_MESSAGE_CHARS as u32).contains(&s.max_chars) {
        return bad(format!(
            "Answers can be {MAX_CHARS_MIN}–{} characters long.",
            crate::chat::outgoing::MAX_MESSAGE_CHARS
        ));
    }
    if s.filters.len() > LIST_MAX {
        return bad(format!("At most {LIST_MAX} filters."));
    }
    if let Some(f) = s
        .filters
        .iter()
        .find(|f| f.pattern.chars().count() > PATTERN_MAX_CHARS)
    {
        return bad(format!(
            "The filter {:?} is longer than {PATTERN_MAX_CHARS} characters.",
            f.pattern
        ));
    }
    processor_rules(s, "").map(|_| ())
}

/// The triggers' rules; `own_name` (the logged-in account) is always a name and never answered.
pub fn trigger_rules(s: &CohostSettings, own_name: &str) -> TriggerRules {
    let lower = |v: &[String]| {
        v.iter()
            .map(|w| w.trim().to_lowercase())
            .collect::<Vec<_>>()
    };
    let mut names = lower(&s.names);
    if !own_name.is_empty() {
        names.push(own_name.to_lowercase());
    }
    TriggerRules {
        names,
        ask_commands: lower(&s.ask_commands),
        keywords: lower(&s.keywords),
        keyword_chance: s.keyword_chance,
        quiet_after: (s.quiet_minutes > 0)
            .then(|| Duration::from_secs(60 * u64::from(s.quiet_minutes))),
        channel_cooldown: Duration::from_secs(s.cooldown_seconds.into()),
        global_per_minute: s.per_minute,
        ignore: lower(&s.ignore),
    }
}

/// The processor's rules (a filter that does not compile is refused here).
pub fn processor_rules(s: &CohostSettings, own_name: &str) -> Result<ProcessorRules, ApiError> {
    let rules: Vec<FilterRule> = s
        .filters
        .iter()
        .map(|f| FilterRule {
            pattern: f.pattern.clone(),
            regex: f.regex,
            action: match &f.replace_with {
                None => FilterAction::Drop,
                Some(r) => FilterAction::Replace(r.clone()),
            },
        })
        .collect();
    let filters = compile_filters(&rules)
        .map_err(|e| ApiError::new(ErrorCode::InvalidSettings, e.to_string()))?;
    Ok(ProcessorRules {
        max_chars: s.max_chars as usize,
        truncation: match s.truncation {
            CohostTruncation::Sentence => Truncation::Sentence,
            CohostTruncation::Hard => Truncation::Hard,
        },
        strip_markdown: s.strip_markdown,
        filters,
        dedup: true,
        echo_check: true,
        bot_name: own_name.to_string(),
    })
}

/// The model endpoint (the key comes from the keyring).
pub fn endpoint(s: &CohostSettings, api_key: Option<crate::secrets::Secret>) -> LlmEndpoint {
    LlmEndpoint {
        base_url: s.base_url.trim().to_string(),
        model: s.model.trim().to_string(),
        api_key,
        timeout: Duration::from_secs(s.timeout_seconds.into()),
        stream: s.stream,
        ..LlmEndpoint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{CohostBackend, CohostFilter};

    #[test]
    fn the_defaults_pass_and_each_bad_value_is_refused_with_a_reason() {
        let ok = CohostSettings::default();
        assert!(check(&ok).is_ok());
        let remote = CohostSettings {
            backend: CohostBackend::OpenAiCompatible,
            ..ok.clone()
        };
        assert!(check(&remote).is_ok());
        let cases: Vec<(CohostSettings, &str)> = vec![
            (
                CohostSettings {
                    base_url: "ftp://x".into(),
                    ..remote.clone()
                },
                "http://",
            ),
            (
                CohostSettings {
                    model: " ".into(),
                    ..remote.clone()
                },
                "model",
            ),
            (
                CohostSettings {
                    temperature: 3.0,
                    ..ok.clone()
                },
                "temperature",
            ),
            (
                CohostSettings {
                    names: vec!["two words".into()],
                    ..ok.clone()
                },
                "names",
            ),
            (
                CohostSettings {
                    keyword_chance: 1.5,
                    ..ok.clone()
                },
                "chance",
            ),
            (
                CohostSettings {
                    max_chars: 501,
                    ..ok.clone()
                },
                "500",
            ),
            (
                CohostSettings {
                    reserve_for_queue: 20,
                    ..ok.clone()
                },
                "queue",
            ),
            (
                CohostSettings {
                    filters: vec![CohostFilter {
                        pattern: "(unclosed".into(),
                        regex: true,
                        replace_with: None,
                    }],
                    ..ok.clone()
                },
                "(unclosed",
            ),
        ];
        for (s, word) in cases {
            let e = check(&s).expect_err(word);
            assert_eq!(e.code, ErrorCode::InvalidSettings);
            assert!(e.message.contains(word), "{word}: {}", e.message);
        }
    }

    #[test]
    fn the_own_name_is_a_name_and_lists_are_lowercased() {
        let s = CohostSettings {
            names: vec!["CueBot".into()],
            keywords: vec!["LORE".into()],
            quiet_minutes: 5,
            ..CohostSettings::default()
        };
        let r = trigger_rules(&s, "MyAccount");
        assert_eq!(r.names, ["cuebot", "myaccount"]);
        assert_eq!(r.keywords, ["lore"]);
        assert_eq!(r.quiet_after, Some(Duration::from_secs(300)));
        assert_eq!(
            trigger_rules(&CohostSettings::default(), "").quiet_after,
            None
        );
    }
}
