//! The response processor: what is done to a model's answer before the streamer (a draft) or
//! chat (auto mode) sees it. Every step is a pure function; [`process`] runs them in order.
//!
//! The model can be talked to by any viewer, so its answer is hostile input: it may try to run
//! a chat command (`/ban streamer`, `.timeout x`), hide one behind invisible characters
//! (`\u{200B}/ban x`), inject a line break, or simply be long, formatted for a web page, a
//! repeat of the question or of its own last reply.
//!
//! # Steps, in order
//!
//! 0. Only the first [`INPUT_MAX_CHARS`] characters are read (a longer answer gets ` …`): at
//!    most 500 are ever sent, and the rest could only cost time. Then [`strip_invisible`]
//!    removes format characters (Unicode `Cf`: zero-width spaces, byte-order marks, bidi
//!    overrides, …) and blank fillers, keeping only the joiners inside emoji and scripts that
//!    need them. First, so that nothing after it (filters above all) can be dodged with an
//!    invisible character inside a word.
//! 1. [`strip_markdown`] (if on): chat shows markdown as literal `**` and `#`. Before the
//!    newline collapse because markdown is line-based (headings, lists, fences, tables).
//! 2. [`collapse_newlines`]: chat is one line; every run of whitespace becomes one space.
//!    Then [`strip_speaker_label`] removes a `CueBot:` / `Assistant:` prefix and quotes around
//!    the whole answer (after the collapse, so a label on its own line is found too).
//! 3. [`apply_filters`]: the streamer's keyword and regex rules, drop or replace, on the whole
//!    cleaned answer (so a dropped word is found wherever it is, and a replacement's length
//!    counts before the cut). The replaced text gets steps 0 and 2 again.
//! 4. [`truncate`] to `max_chars` (at most 500): by sentence (the default) or hard.
//! 5. [`is_echo`] and 6. [`is_duplicate`] judge the text as it would be sent (a long answer
//!    that, cut, only repeats the question is still an echo).
//! 7. [`sanitise_outgoing`], the same guard `ChatReplies` applies, last, so nothing can undo
//!    it; then [`disarm_start`] strips any invisible character, `/` or `.` it left in front.
//!
//! # Invariants (property-tested)
//!
//! For any input, [`process`] does not panic, and an `Ok` answer is not empty (it has a
//! visible character other than `…`), has no control characters (so no line break), does not
//! start with whitespace, an invisible character, `/` or `.`, has at most
//! `min(max_chars, 500)` characters, and is unchanged by [`sanitise_outgoing`]. [`truncate`]
//! never exceeds its limit; [`collapse_newlines`] never leaves a `'\n'`.
//!
//! What this cannot do: know that an answer is *wrong*, or that it repeats the persona. The
//! prompt asks the model not to (see `context`), a filter can catch a phrase the streamer
//! never wants said, and approval mode (the default) puts a person before chat.

use std::collections::HashSet;

use regex::{Captures, Regex, RegexBuilder};

use crate::chat::invisible::{disarm_start, is_invisible, strip_invisible, ZWJ};
use crate::chat::outgoing::{sanitise_outgoing, MAX_MESSAGE_CHARS};

mod markdown;
pub use markdown::strip_markdown;

/// The default longest answer, characters.
pub const DEFAULT_MAX_CHARS: usize = 400;
/// The longest answer whatever the settings say (Twitch's limit on one message).
pub const MAX_CHARS: usize = MAX_MESSAGE_CHARS;
/// How much of a model's answer is read at all.
pub const INPUT_MAX_CHARS: usize = 4_000;
/// The compiled size limit of one regex filter (`RegexBuilder::size_limit`, and its DFA's).
pub const FILTER_REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// How an answer longer than the limit is cut.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Truncation {
    /// Cut anywhere and add `…`.
    Hard,
    /// Cut at the last sentence end that fits, if it keeps at least half the limit; else at
    /// the last word that fits (at least half the limit) and add `…`; else hard.
    #[default]
    Sentence,
}

/// What to do with an answer that matches a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterAction {
    /// Refuse the whole answer.
    Drop,
    /// Replace each match by this text (literally: `$1` is not expanded).
    Replace(String),
}

/// One filter as the streamer wrote it: a keyword or phrase (whole words, any case), or a
/// regular expression (case-insensitive unless it says `(?-i)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterRule {
    pub pattern: String,
    pub regex: bool,
    pub action: FilterAction,
}

/// Filters ready to apply, in the order they were listed.
#[derive(Debug, Clone, Default)]
pub struct CompiledFilters {
    rules: Vec<CompiledRule>,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    /// The pattern as written (what [`Rejected::Filtered`] names).
    pattern: String,
    matcher: Regex,
    action: FilterAction,
}

impl CompiledFilters {
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// A filter that cannot be used (Settings refuses it with this sentence). `number` counts
/// from 1, as the list in Settings does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("filter {number} is empty")]
    Empty { number: usize },
    #[error("filter {number} (`{pattern}`) is not a usable regular expression: {reason}")]
    BadRegex {
        number: usize,
        pattern: String,
        reason: String,
    },
}

/// Why an answer is not sent (a sentence for the streamer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("the answer was empty once cleaned up")]
    Empty,
    #[error("the answer matched the filter `{rule}`")]
    Filtered { rule: String },
    #[error("the answer only repeated the question")]
    Echo,
    #[error("the answer repeated one of the co-host's recent replies")]
    Duplicate,
}

/// What [`process`] does; see the module's documentation for each step.
#[derive(Debug, Clone)]
pub struct ProcessorRules {
    /// The longest answer, characters; at most [`MAX_CHARS`] is used whatever this says.
    pub max_chars: usize,
    pub truncation: Truncation,
    pub strip_markdown: bool,
    pub filters: CompiledFilters,
    /// Refuse an answer like one of the recent replies.
    pub dedup: bool,
    /// Refuse an answer that only repeats the question.
    pub echo_check: bool,
    /// The co-host's own name: a leading `CueBot:` is removed, and the name is not counted as
    /// a word of the question.
    pub bot_name: String,
}

impl Default for ProcessorRules {
    fn default() -> Self {
        Self {
            max_chars: DEFAULT_MAX_CHARS,
            truncation: Truncation::Sentence,
            strip_markdown: true,
            filters: CompiledFilters::default(),
            dedup: true,
            echo_check: true,
            bot_name: String::new(),
        }
    }
}

/// The whole pipeline: the model's `raw` answer to `question` (the viewer's words, without the
/// command; the bot's name in it is ignored), against the co-host's `recent` replies.
pub fn process(
    raw: &str,
    question: &str,
    recent: &[String],
    rules: &ProcessorRules,
) -> Result<String, Rejected> {
    let max_chars = rules.max_chars.min(MAX_CHARS);
    let mut text = strip_invisible(&cap_input(raw));
    if rules.strip_markdown {
        text = strip_markdown(&text);
    }
    let text = strip_speaker_label(&collapse_newlines(&text), &rules.bot_name);
    let text = apply_filters(&text, &rules.filters)?;
    let text = collapse_newlines(&strip_invisible(&text));
    let text = truncate(&text, max_chars, rules.truncation);
    if !has_content(&text) {
        return Err(Rejected::Empty);
    }
    if rules.echo_check && is_echo(&text, &without_name(question, &rules.bot_name)) {
        return Err(Rejected::Echo);
    }
    if rules.dedup && is_duplicate(&text, recent) {
        return Err(Rejected::Duplicate);
    }
    let safe = sanitise_outgoing(&text).ok_or(Rejected::Empty)?;
    let safe = disarm_start(&safe);
    if !has_content(safe) {
        return Err(Rejected::Empty);
    }
    Ok(safe.to_string())
}

/// The first [`INPUT_MAX_CHARS`] characters, with ` …` if there were more.
fn cap_input(raw: &str) -> String {
    match raw.char_indices().nth(INPUT_MAX_CHARS) {
        None => raw.to_string(),
        Some((at, _)) => format!("{} …", &raw[..at]),
    }
}

/// Something visible besides `…`.
fn has_content(text: &str) -> bool {
    text.chars()
        .any(|c| !(c.is_whitespace() || c.is_control() || c == '…' || is_invisible(c)))
}

/// The question without the co-host's name (`@CueBot what is this` → `what is this`).
fn without_name(question: &str, bot_name: &str) -> String {
    let name = words(bot_name).join(" ");
    if name.is_empty() {
        return question.to_string();
    }
    let mut rest = words(question).join(" ");
    for _ in 0..8 {
        let padded = format!(" {rest} ");
        let Some(at) = padded.find(&format!(" {name} ")) else {
            break;
        };
        rest = format!("{}{}", &padded[..at], &padded[at + name.len() + 1..])
            .trim()
            .to_string();
    }
    rest
}

// ---------------------------------------------------------------------------------------------
// Step 2: one line

/// Every run of whitespace (newlines, tabs, Unicode spaces) becomes one space; trimmed.
pub fn collapse_newlines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Labels a model puts before its answer (besides the bot's own name).
const SPEAKER_LABELS: [&str; 5] = ["assistant", "ai", "bot", "co-host", "cohost"];

/// Quote pairs an answer may be wrapped in.
const QUOTES: [(char, char); 9] = [
    ('"', '"'),
    ('\'', '\''),
    ('“', '”'),
    ('„', '“'),
    ('‘', '’'),
    ('«', '»'),
    ('»', '«'),
    ('「', '」'),
    ('『', '』'),
];

/// Removes a leading speaker label (`CueBot:`, `@CueBot:`, `Assistant:`, any case) and quotes
/// around the whole answer (only when no such quote is inside it), as often as they nest.
/// Expects one line (after [`collapse_newlines`]).
pub fn strip_speaker_label(text: &str, bot_name: &str) -> String {
    let name = bot_name.trim().trim_start_matches('@').to_lowercase();
    let mut text = text.trim().to_string();
    for _ in 0..8 {
        let before = text.len();
        if let Some(colon) = text.find(':').filter(|at| *at <= 64) {
            let label = text[..colon]
                .trim()
                .trim_start_matches('@')
                .trim()
                .to_lowercase();
            if !label.is_empty() && (label == name || SPEAKER_LABELS.contains(&label.as_str())) {
                text = text[colon + 1..].trim().to_string();
            }
        }
        if let Some(inner) = unquote(&text) {
            text = inner.trim().to_string();
        }
        if text.len() == before {
            break;
        }
    }
    text
}

fn unquote(text: &str) -> Option<&str> {
    QUOTES.iter().find_map(|&(open, close)| {
        let inner = text.strip_prefix(open)?.strip_suffix(close)?;
        let clean = if open == '\'' {
            // Apostrophes inside words are fine; a quote next to a space is not.
            !inner.contains("' ") && !inner.contains(" '")
        } else {
            !inner.contains(open) && !inner.contains(close)
        };
        clean.then_some(inner)
    })
}

// ---------------------------------------------------------------------------------------------
// Step 3: filters

/// Compiles the streamer's filters. A keyword (or phrase; its spaces match any whitespace) is
/// matched as whole words, any case; a regex is case-insensitive and must compile within
/// [`FILTER_REGEX_SIZE_LIMIT`]. An empty pattern is refused (it would match everything).
pub fn compile_filters(rules: &[FilterRule]) -> Result<CompiledFilters, FilterError> {
    let mut compiled = Vec::with_capacity(rules.len());
    for (index, rule) in rules.iter().enumerate() {
        let number = index + 1;
        let source = if rule.regex {
            if rule.pattern.trim().is_empty() {
                return Err(FilterError::Empty { number });
            }
            rule.pattern.clone()
        } else {
            let words: Vec<String> = rule.pattern.split_whitespace().map(regex::escape).collect();
            if words.is_empty() {
                return Err(FilterError::Empty { number });
            }
            format!(r"\b{{start-half}}{}\b{{end-half}}", words.join(r"\s+"))
        };
        let matcher = RegexBuilder::new(&source)
            .case_insensitive(true)
            .size_limit(FILTER_REGEX_SIZE_LIMIT)
            .dfa_size_limit(FILTER_REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| FilterError::BadRegex {
                number,
                pattern: rule.pattern.clone(),
                reason: regex_reason(&e),
            })?;
        compiled.push(CompiledRule {
            pattern: rule.pattern.trim().to_string(),
            matcher,
            action: rule.action.clone(),
        });
    }
    Ok(CompiledFilters { rules: compiled })
}

/// One line from the regex crate's error (its syntax errors draw the pattern with a caret).
fn regex_reason(e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(limit) => format!(
            "it is too complex (it compiles to more than the {} KiB allowed)",
            limit / 1024
        ),
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find_map(|l| l.trim().strip_prefix("error:"))
            .map(|l| l.trim().to_string())
            .unwrap_or_else(|| text.trim().to_string()),
        other => other.to_string(),
    }
}

/// Applies the filters in their order: a `Drop` rule that matches refuses the answer, a
/// `Replace` rule replaces every match (empty matches are ignored). The text grows at most to
/// [`INPUT_MAX_CHARS`] between rules.
pub fn apply_filters(text: &str, filters: &CompiledFilters) -> Result<String, Rejected> {
    let mut text = text.to_string();
    for rule in &filters.rules {
        match &rule.action {
            FilterAction::Drop => {
                if rule.matcher.find_iter(&text).any(|m| !m.is_empty()) {
                    return Err(Rejected::Filtered {
                        rule: rule.pattern.clone(),
                    });
                }
            }
            FilterAction::Replace(with) => {
                let replaced = rule.matcher.replace_all(&text, |caps: &Captures| {
                    if caps[0].is_empty() {
                        String::new()
                    } else {
                        with.clone()
                    }
                });
                text = replaced.into_owned();
                if let Some((at, _)) = text.char_indices().nth(INPUT_MAX_CHARS) {
                    text.truncate(at);
                }
            }
        }
    }
    Ok(text)
}

// ---------------------------------------------------------------------------------------------
// Step 4: length

/// A character that belongs to the one before it (combining marks, joiners, variation
/// selectors, skin tones, tags): a cut must not fall just before it.
fn extends(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A | 0x064B..=0x065F
        | 0x0900..=0x0903 | 0x093A..=0x094F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x200C | 0x200D
        | 0x20D0..=0x20FF | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0x1F3FB..=0x1F3FF
        | 0xE0020..=0xE007F | 0xE0100..=0xE01EF)
}

fn is_regional(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

/// Moves a cut before `chars[cut]` back so it does not split what shows as one character.
fn safe_cut(chars: &[char], mut cut: usize) -> usize {
    while cut > 0 && cut < chars.len() {
        let splits_pair = is_regional(chars[cut])
            && is_regional(chars[cut - 1])
            && chars[..cut]
                .iter()
                .rev()
                .take_while(|c| is_regional(**c))
                .count()
                % 2
                == 1;
        if extends(chars[cut]) || chars[cut - 1] == ZWJ || splits_pair {
            cut -= 1;
        } else {
            break;
        }
    }
    cut
}

/// Cuts `text` to at most `max_chars` characters (not bytes; never inside a character, nor
/// before a combining mark, joiner, skin tone or the second half of a flag). A text that fits
/// is returned as it is. `Hard` keeps `max_chars - 1` characters and adds `…`. `Sentence`
/// ends at the last `.`, `!`, `?` or `…` (closing quotes and brackets may follow) that is
/// followed by a space or the end, if that keeps at least half the limit; else at the last
/// space (at least half the limit) with `…`; else hard.
pub fn truncate(text: &str, max_chars: usize, mode: Truncation) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max_chars {
        return text.to_string();
    }
    if max_chars == 0 {
        return String::new();
    }
    let half = max_chars.div_ceil(2);
    let with_ellipsis = |kept: &[char]| -> String {
        let mut s: String = kept.iter().collect();
        let keep = s
            .trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—".contains(c))
            .len();
        s.truncate(keep);
        if !s.ends_with('…') {
            s.push('…');
        }
        s
    };
    if mode == Truncation::Sentence {
        if let Some(end) = last_sentence_end(&chars, max_chars).filter(|end| *end >= half) {
            return chars[..end].iter().collect();
        }
        // Room for the `…`.
        let limit = max_chars - 1;
        let space = (1..=limit)
            .rev()
            .find(|&j| chars[j].is_whitespace() && !chars[j - 1].is_whitespace());
        if let Some(space) = space.map(|s| safe_cut(&chars, s)).filter(|s| *s >= half) {
            return with_ellipsis(&chars[..space]);
        }
    }
    with_ellipsis(&chars[..safe_cut(&chars, max_chars - 1)])
}

/// The length of the longest prefix of at most `limit` characters that ends a sentence.
fn last_sentence_end(chars: &[char], limit: usize) -> Option<usize> {
    let closing = |c: char| "\"'”’»)]".contains(c);
    let mut best = None;
    for i in 0..limit.min(chars.len()) {
        if !matches!(chars[i], '.' | '!' | '?' | '…') {
            continue;
        }
        let mut end = i + 1;
        while end < limit && end < chars.len() && closing(chars[end]) {
            end += 1;
        }
        if end <= limit && chars.get(end).is_none_or(|c| c.is_whitespace()) {
            best = Some(end);
        }
    }
    best
}

// ---------------------------------------------------------------------------------------------
// Steps 5 and 6: echo and duplicate

/// Punctuation that separates words (ASCII, general punctuation, CJK, full-width).
fn separates(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || is_invisible(c)
        || c.is_ascii_punctuation()
        || matches!(c as u32,
            0x00A1 | 0x00AB | 0x00B7 | 0x00BB | 0x00BF | 0x2010..=0x2027 | 0x2030..=0x205E
            | 0x3001..=0x3003 | 0x3008..=0x3011 | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20)
}

/// Normalised words: lower-case, split at whitespace and punctuation (emoji stay words).
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(separates)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The answer only repeats the question. Both are normalised (lower-case, no punctuation, one
/// space); an echo is an equal text, or an answer whose words are nearly all the question's:
/// at least 90 % of its words are in the question, it adds fewer than 3 new words, and it
/// repeats at least 3/4 of the question's distinct words (so "Yes" to "is it yes or no?" is
/// an answer). An empty question (or an answer with no words) is never an echo.
pub fn is_echo(answer: &str, question: &str) -> bool {
    let (a, q) = (words(answer), words(question));
    if a.is_empty() || q.is_empty() {
        return false;
    }
    if a == q {
        return true;
    }
    let asked: HashSet<&str> = q.iter().map(String::as_str).collect();
    let said: HashSet<&str> = a.iter().map(String::as_str).collect();
    let shared = a.iter().filter(|w| asked.contains(w.as_str())).count();
    let new = said.difference(&asked).count();
    let covered = said.intersection(&asked).count();
    shared * 10 >= a.len() * 9 && new < 3 && covered * 4 >= asked.len() * 3
}

/// The answer is one of the `recent` replies again: equal once normalised, or, for answers of
/// at least 4 words, with word sets at least 80 % alike (Jaccard). 0.9 would let only very long
/// answers differ by a word; at 0.8 a ten-word reply with one word changed is a repeat, while
/// "starts at 8 pm" / "starts at 9 pm" (six words) is not. Answers without words (only emoji
/// or punctuation) compare as written.
pub fn is_duplicate(answer: &str, recent: &[String]) -> bool {
    let a = words(answer);
    let said: HashSet<&str> = a.iter().map(String::as_str).collect();
    let plain = |t: &str| collapse_newlines(t).to_lowercase();
    recent.iter().any(|r| {
        let b = words(r);
        if a.is_empty() || b.is_empty() {
            return a.is_empty() && b.is_empty() && plain(answer) == plain(r);
        }
        if a == b {
            return true;
        }
        if a.len() < 4 || b.len() < 4 {
            return false;
        }
        let other: HashSet<&str> = b.iter().map(String::as_str).collect();
        let common = said.intersection(&other).count();
        let all = said.union(&other).count();
        common * 5 >= all * 4
    })
}

#[cfg(test)]
mod tests;
