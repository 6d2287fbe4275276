//! What the viewer hears back when their clip goes on screen, and when it could not be made
//! (seed 000 §6.3). The wording is the streamer's (`[generator] reply_on_screen` and
//! `reply_failed` in config.toml, `{name}`, `{prompt}` and `{reason}` filled in; "" switches a
//! reply off). The replies go out through `ChatReplies`, so they share the outgoing limit and
//! the sanitiser with every other reply.

/// The two templates ("" = off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completions {
    pub on_screen: String,
    pub failed: String,
}

pub const DEFAULT_ON_SCREEN: &str = "@{name} your clip is on screen now!";
pub const DEFAULT_FAILED: &str = "@{name} sorry, I couldn't make that one: {reason}";

/// The longest reason quoted in chat, characters (the log has the whole of it).
const REASON_MAX_CHARS: usize = 120;
/// The longest prompt quoted in chat, characters.
const PROMPT_MAX_CHARS: usize = 60;

impl Default for Completions {
    fn default() -> Self {
        Self {
            on_screen: DEFAULT_ON_SCREEN.into(),
            failed: DEFAULT_FAILED.into(),
        }
    }
}

impl Completions {
    /// The reply for a clip on screen, or `None` when switched off.
    pub fn on_screen(&self, name: &str, prompt: &str) -> Option<String> {
        fill(&self.on_screen, name, prompt, "")
    }

    /// The reply for a request that failed, or `None` when switched off.
    pub fn failed(&self, name: &str, prompt: &str, reason: &str) -> Option<String> {
        fill(&self.failed, name, prompt, reason)
    }
}

/// Fills the template in one pass (text a viewer typed is never read as a placeholder).
fn fill(template: &str, name: &str, prompt: &str, reason: &str) -> Option<String> {
    if template.trim().is_empty() {
        return None;
    }
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let (value, len) = if after.starts_with("{name}") {
            (name.to_string(), "{name}".len())
        } else if after.starts_with("{prompt}") {
            (shorten(prompt, PROMPT_MAX_CHARS), "{prompt}".len())
        } else if after.starts_with("{reason}") {
            (
                shorten(reason.trim().trim_end_matches('.'), REASON_MAX_CHARS),
                "{reason}".len(),
            )
        } else {
            ("{".to_string(), 1)
        };
        out.push_str(&value);
        rest = &after[len..];
    }
    out.push_str(rest);
    Some(out)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_default_wording() {
        let c = Completions::default();
        assert_eq!(
            c.on_screen("Ana", "a fox").as_deref(),
            Some("@Ana your clip is on screen now!")
        );
        assert_eq!(
            c.failed("Ana", "a fox", "the endpoint did not answer within 30 s.")
                .as_deref(),
            Some("@Ana sorry, I couldn't make that one: the endpoint did not answer within 30 s")
        );
    }

    #[test]
    fn switched_off_unknown_braces_and_long_text() {
        let off = Completions {
            on_screen: String::new(),
            failed: "  ".into(),
        };
        assert_eq!(off.on_screen("a", "b"), None);
        assert_eq!(off.failed("a", "b", "c"), None);
        let c = Completions {
            on_screen: "{name}: \"{prompt}\" is up {not a placeholder} {".into(),
            failed: "{reason}".into(),
        };
        assert_eq!(
            c.on_screen("Bo", "x").as_deref(),
            Some("Bo: \"x\" is up {not a placeholder} {")
        );
        let long = "y".repeat(500);
        let said = c.failed("Bo", "x", &long).unwrap();
        assert_eq!(said.chars().count(), REASON_MAX_CHARS);
        assert!(said.ends_with('…'));
    }

    proptest! {
        /// What viewers typed is put in as is: a `{name}` inside a prompt stays text.
        #[test]
        fn viewer_text_is_never_a_placeholder(name in "[a-zA-Z0-9_{}]{1,25}", prompt in ".{0,40}") {
            let c = Completions { on_screen: "{prompt}|{name}".into(), failed: String::new() };
            let said = c.on_screen(&name, &prompt).unwrap();
            prop_assert_eq!(said, format!("{}|{}", shorten(&prompt, PROMPT_MAX_CHARS), name));
        }
    }
}
