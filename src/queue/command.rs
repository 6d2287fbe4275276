//! Chat commands (`!anime`, `!status`, `!queue`) and prompt normalisation.
//!
//! The parser is total: any chat line yields `Some(command)` or `None`, never a panic.
//! A normalised prompt never contains control or invisible format characters, never has
//! leading/trailing or repeated white space, and is never longer than the configured cap.

use regex::Regex;

/// What a viewer asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatCommand {
    /// `!anime <prompt>`: the raw text after the command (not yet normalised).
    Anime(String),
    /// `!status`
    Status,
    /// `!queue` / `!position`
    Queue,
    /// `!watch <link>`: the raw text after the command.
    Watch(String),
    /// `!stop` (the watch-along)
    WatchStop,
    /// `!watching`
    Watching,
}

/// Command prefix and names, from the config.
#[derive(Debug, Clone)]
pub struct CommandNames {
    pub prefix: String,
    pub anime: Vec<String>,
    pub status: Vec<String>,
    pub queue: Vec<String>,
    pub watch: Vec<String>,
    pub watch_stop: Vec<String>,
    pub watching: Vec<String>,
}

impl Default for CommandNames {
    fn default() -> Self {
        Self {
            prefix: "!".into(),
            anime: vec!["anime".into()],
            status: vec!["status".into()],
            queue: vec!["queue".into(), "position".into()],
            watch: vec!["watch".into()],
            watch_stop: vec!["stop".into()],
            watching: vec!["watching".into()],
        }
    }
}

impl CommandNames {
    /// Parses one chat line. Case-insensitive names; `!anime` must be followed by white space
    /// or the end of the line (`!animepls` is not a command).
    pub fn parse(&self, line: &str) -> Option<ChatCommand> {
        let line = line.trim_start_matches(|c: char| c.is_whitespace() || is_invisible(c));
        let rest = strip_prefix_ci(line, &self.prefix)?;
        let name_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (name, args) = rest.split_at(name_end);
        let is = |names: &[String]| names.iter().any(|n| n.eq_ignore_ascii_case(name));
        if is(&self.anime) {
            Some(ChatCommand::Anime(args.to_string()))
        } else if is(&self.status) {
            Some(ChatCommand::Status)
        } else if is(&self.queue) {
            Some(ChatCommand::Queue)
        } else if is(&self.watch) {
            Some(ChatCommand::Watch(args.trim().to_string()))
        } else if is(&self.watch_stop) {
            Some(ChatCommand::WatchStop)
        } else if is(&self.watching) {
            Some(ChatCommand::Watching)
        } else {
            None
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        return Some(s);
    }
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Zero-width and other invisible format characters that would let two prompts look the same
/// or hide words from the blocklist.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}')
}

/// Why a prompt was refused. `Display` is what the viewer is told (after their @name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptRefusal {
    #[error("usage: !anime <what to draw>, e.g. !anime \"a cat surfing a wave\"")]
    Empty,
    #[error("that prompt is too long ({len} characters, the limit is {max}); please shorten it")]
    TooLong { len: usize, max: usize },
    #[error("sorry, that prompt can't be used here")]
    Blocked,
}

/// The prompt rules: length cap and blocklist.
#[derive(Debug, Clone)]
pub struct PromptRules {
    pub max_chars: usize,
    blocked: Vec<Regex>,
}

/// A blocklist entry that is not a valid regular expression (the text names it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptRulesError {
    #[error("blocked word {word:?}: {detail}")]
    Word { word: String, detail: String },
    #[error("blocked pattern {pattern:?}: {detail}")]
    Pattern { pattern: String, detail: String },
}

impl PromptRules {
    /// `words` match whole words, case-insensitively; `patterns` are regular expressions
    /// (case-insensitive). An invalid pattern is an error naming it.
    pub fn new(
        max_chars: usize,
        words: &[String],
        patterns: &[String],
    ) -> Result<Self, PromptRulesError> {
        let mut blocked = Vec::new();
        for w in words.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
            let re = format!(
                r"(?i)(^|[^\p{{L}}\p{{N}}_]){}($|[^\p{{L}}\p{{N}}_])",
                regex::escape(w)
            );
            blocked.push(Regex::new(&re).map_err(|e| PromptRulesError::Word {
                word: w.to_string(),
                detail: e.to_string(),
            })?);
        }
        for p in patterns.iter().filter(|p| !p.trim().is_empty()) {
            let re = Regex::new(&format!("(?i){p}")).map_err(|e| PromptRulesError::Pattern {
                pattern: p.clone(),
                detail: e.to_string(),
            })?;
            blocked.push(re);
        }
        Ok(Self {
            max_chars: max_chars.max(1),
            blocked,
        })
    }

    /// Turns the raw text after `!anime` into a clean prompt, or says why not.
    pub fn normalise(&self, raw: &str) -> Result<String, PromptRefusal> {
        let cleaned: String = raw
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .filter(|c| !is_invisible(*c))
            .collect();
        let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
        let prompt = strip_quotes(&collapsed).trim().to_string();
        if prompt.is_empty() {
            return Err(PromptRefusal::Empty);
        }
        let len = prompt.chars().count();
        if len > self.max_chars {
            return Err(PromptRefusal::TooLong {
                len,
                max: self.max_chars,
            });
        }
        if self.blocked.iter().any(|re| re.is_match(&prompt)) {
            return Err(PromptRefusal::Blocked);
        }
        Ok(prompt)
    }
}

/// Removes the quotes a viewer put around the prompt: `"x"`, `“x”`, `'x'` → `x`; also
/// `"x" 🌱` → `x 🌱` (quoted part first, then more) and an unmatched leading `"`.
fn strip_quotes(s: &str) -> std::borrow::Cow<'_, str> {
    for (open, close) in [('"', '"'), ('“', '”'), ('„', '“'), ('«', '»'), ('\'', '\'')] {
        let Some(rest) = s.strip_prefix(open) else {
            continue;
        };
        if let Some(end) = rest.find(close) {
            let (inside, after) = (&rest[..end], &rest[end + close.len_utf8()..]);
            if after.is_empty() {
                return inside.into();
            }
            if open != '\'' {
                return format!("{}{}", inside.trim_end(), after).into();
            }
        }
        if open != '\'' {
            return rest.into();
        }
    }
    s.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> PromptRules {
        PromptRules::new(
            200,
            &["badword".into(), "nsfw".into()],
            &[r"k[i1]ll\s+all".into()],
        )
        .unwrap()
    }

    #[test]
    fn parses_commands_whatever_the_case_and_spacing() {
        let n = CommandNames::default();
        let cases: &[(&str, Option<ChatCommand>)] = &[
            (
                "!anime \"a cat surfing a wave\"",
                Some(ChatCommand::Anime(" \"a cat surfing a wave\"".into())),
            ),
            ("!ANIME cat", Some(ChatCommand::Anime(" cat".into()))),
            ("  !anime", Some(ChatCommand::Anime(String::new()))),
            ("\u{200B}!anime x", Some(ChatCommand::Anime(" x".into()))),
            ("!animepls cat", None),
            ("!status", Some(ChatCommand::Status)),
            ("!Status please", Some(ChatCommand::Status)),
            ("!queue", Some(ChatCommand::Queue)),
            ("!position", Some(ChatCommand::Queue)),
            (
                "!watch  https://youtu.be/abc ",
                Some(ChatCommand::Watch("https://youtu.be/abc".into())),
            ),
            ("!WATCH", Some(ChatCommand::Watch(String::new()))),
            ("!watchit now", None),
            ("!stop", Some(ChatCommand::WatchStop)),
            ("!watching", Some(ChatCommand::Watching)),
            ("anime cat", None),
            ("!", None),
            ("", None),
            ("hello !anime cat", None),
            ("!é", None),
        ];
        for (line, want) in cases {
            assert_eq!(&n.parse(line), want, "line {line:?}");
        }
        let custom = CommandNames {
            prefix: "?".into(),
            anime: vec!["gen".into()],
            ..Default::default()
        };
        assert_eq!(
            custom.parse("?gen x"),
            Some(ChatCommand::Anime(" x".into()))
        );
        assert_eq!(custom.parse("!anime x"), None);
    }

    #[test]
    fn normalises_prompts() {
        let r = rules();
        let ok: &[(&str, &str)] = &[
            (" \"a cat surfing a wave\"", "a cat surfing a wave"),
            ("   a   cat\t\tsurfing  ", "a cat surfing"),
            ("“curly quotes”", "curly quotes"),
            ("“tiny robot gardening” 🌱", "tiny robot gardening 🌱"),
            ("\"a cat\" surfing", "a cat surfing"),
            ("it's a cat's hat", "it's a cat's hat"),
            ("\"unclosed quote", "unclosed quote"),
            ("ünïcödé 猫 🐱 surfing", "ünïcödé 猫 🐱 surfing"),
            ("a\u{200B}cat\u{FEFF}", "acat"),
            (
                "line one\r\nPRIVMSG #x :injected",
                "line one PRIVMSG #x :injected",
            ),
            ("bell\u{7}and\u{1b}[31mescape", "bell and [31mescape"),
            ("not a badwordy thing", "not a badwordy thing"),
        ];
        for (raw, want) in ok {
            assert_eq!(r.normalise(raw).as_deref(), Ok(*want), "raw {raw:?}");
        }
        assert_eq!(r.normalise(""), Err(PromptRefusal::Empty));
        assert_eq!(r.normalise("  \"\"  "), Err(PromptRefusal::Empty));
        assert_eq!(r.normalise("\u{200B}\u{200B}"), Err(PromptRefusal::Empty));
        assert_eq!(r.normalise("a BADWORD here"), Err(PromptRefusal::Blocked));
        assert_eq!(
            r.normalise("b\u{200B}adword"),
            Err(PromptRefusal::Blocked),
            "zero-width cannot hide a word"
        );
        assert_eq!(r.normalise("NSFW!"), Err(PromptRefusal::Blocked));
        assert_eq!(
            r.normalise("please k1ll   all"),
            Err(PromptRefusal::Blocked)
        );
        let long = "x".repeat(10 * 1024);
        assert_eq!(
            r.normalise(&long),
            Err(PromptRefusal::TooLong {
                len: 10 * 1024,
                max: 200
            })
        );
        assert_eq!(
            r.normalise(&"é".repeat(200)).map(|p| p.chars().count()),
            Ok(200)
        );
    }

    #[test]
    fn a_bad_pattern_is_reported() {
        let err = PromptRules::new(200, &[], &["(unclosed".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("(unclosed"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn parsing_and_normalising_are_total_and_clean(line in "\\PC{0,300}|[!a-z \"\u{200B}\r\n\t]{0,40}") {
            let n = CommandNames::default();
            let _ = n.parse(&line);
            let r = rules();
            if let Ok(p) = r.normalise(&line) {
                proptest::prop_assert!(!p.is_empty() && p.chars().count() <= 200);
                proptest::prop_assert!(!p.chars().any(|c| c.is_control() || is_invisible(c)), "{:?}", p);
                proptest::prop_assert_eq!(p.trim(), p.as_str());
                proptest::prop_assert!(!p.contains("  "));
            }
        }
    }
}
