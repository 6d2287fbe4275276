//! Reading `config.toml` setting by setting.
//!
//! The file is parsed as TOML into a plain table first; only when that fails (broken syntax, a
//! key set twice) is the whole file refused. Then every known section and key is taken into the
//! typed config on its own: a key that is unknown, of the wrong type or out of range is skipped
//! (its default stays) and reported with its place and line, and everything else is kept.
//!
//! Lines come from a second, best-effort parse that records where each key is written (toml's
//! spans); when that cannot say, the line is left out rather than guessed.
//!
//! The file should be UTF-8. Bytes that are not are replaced (U+FFFD) so that the rest of the
//! file can still be read: a setting whose value contains such bytes is skipped, and every line
//! with them is reported.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use toml::{Spanned, Value};

use super::{
    ChatConfig, Config, ConfigSyntaxError, GeneratorConfig, KickConfig, LoggingConfig,
    ParsedConfig, QueueConfig, SettingProblem, WatchConfig,
};

/// Problems listed at most (a file full of mistakes gives a readable notice, not megabytes).
pub(super) const MAX_PROBLEMS: usize = 30;
/// Longest rendering of a key or a value in a message, in characters.
const MAX_SHOWN_CHARS: usize = 60;
/// Keys longer than this get no "did you mean" (and the edit distance stays cheap).
const MAX_SUGGESTED_KEY_CHARS: usize = 64;

// ---- The schema: which sections and keys exist, and how each value is checked. ----

/// A value type a setting may have, read from its TOML value.
trait Setting: Sized {
    /// The value, or what was expected and what was found.
    fn from_toml(value: &Value) -> Result<Self, String>;
}

fn expected(what: &str, found: &Value) -> String {
    format!("expected {what}, found {}", describe(found))
}

impl Setting for String {
    fn from_toml(value: &Value) -> Result<Self, String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            other => Err(expected("text in quotes", other)),
        }
    }
}

impl Setting for bool {
    fn from_toml(value: &Value) -> Result<Self, String> {
        match value {
            Value::Boolean(b) => Ok(*b),
            other => Err(expected("true or false", other)),
        }
    }
}

impl Setting for Vec<String> {
    fn from_toml(value: &Value) -> Result<Self, String> {
        let wanted = r#"a list of texts in quotes, like ["a", "b"]"#;
        match value {
            Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(expected(wanted, value)),
                })
                .collect(),
            other => Err(expected(wanted, other)),
        }
    }
}

/// Whole numbers: the type's range is the check (TOML integers are i64).
macro_rules! whole_numbers {
    ($($t:ty),*) => {$(
        impl Setting for $t {
            fn from_toml(value: &Value) -> Result<Self, String> {
                match value {
                    Value::Integer(i) => <$t>::try_from(*i).map_err(|_| {
                        match i64::try_from(<$t>::MAX) {
                            Ok(max) if *i > max => {
                                format!("expected a whole number from 0 to {max}, found {i}")
                            }
                            _ => format!("expected a whole number of 0 or more, found {i}"),
                        }
                    }),
                    other => Err(expected("a whole number", other)),
                }
            }
        }
    )*};
}
whole_numbers!(u32, u64, usize);

/// A section of the config: its keys, and setting one of them from the file.
trait Section {
    const KEYS: &'static [&'static str];
    /// `None`: no such key. `Some(Err)`: the value is not usable (the field is unchanged).
    fn set(&mut self, key: &str, value: &Value) -> Option<Result<(), String>>;
}

/// Implements [`Section`] for a struct from the list of its fields. The list must name every
/// field (a destructuring pattern checks it at compile time), so a new field cannot be
/// forgotten here.
macro_rules! section {
    ($ty:ident { $($field:ident),+ $(,)? }) => {
        impl Section for $ty {
            const KEYS: &'static [&'static str] = &[$(stringify!($field)),+];
            fn set(&mut self, key: &str, value: &Value) -> Option<Result<(), String>> {
                match key {
                    $(stringify!($field) => Some(
                        Setting::from_toml(value).map(|v| self.$field = v)
                    ),)+
                    _ => None,
                }
            }
        }
        const _: fn(&$ty) = |s| {
            let $ty { $($field: _),+ } = s;
        };
    };
}

section!(ChatConfig {
    default_channel,
    twitch_login,
    twitch_client_id,
});
section!(QueueConfig {
    command_prefix,
    request_commands,
    status_commands,
    position_commands,
    watch_commands,
    watch_stop_commands,
    watching_commands,
    cooldown_seconds,
    exempt_moderators,
    max_waiting,
    max_prompt_chars,
    blocked_words,
    blocked_patterns,
});
section!(GeneratorConfig {
    max_attempts,
    retry_backoff_ms,
    overall_timeout_seconds,
    max_clip_mb,
    failures_to_degrade,
    max_wait_seconds,
    healthy_to_recover,
    probe_every_seconds,
    pause_intake_when_degraded,
    offline_clip_seconds,
    ffmpeg,
    reply_on_screen,
    reply_failed,
});
section!(WatchConfig {
    streamlink,
    resolve_timeout_seconds,
});
section!(KickConfig { app_key, cluster });
section!(LoggingConfig {
    protocol_debug,
    keep_days,
});

/// The sections of [`Config`] (every field, checked at compile time like [`section!`]).
macro_rules! sections {
    ($($field:ident: $ty:ident),+ $(,)?) => {
        /// Every section and its keys, in the order of the default file.
        pub(super) const SCHEMA: &[(&str, &[&str])] =
            &[$((stringify!($field), <$ty as Section>::KEYS)),+];

        /// `None`: no such section.
        fn section_mut<'a>(config: &'a mut Config, name: &str) -> Option<&'a mut dyn DynSection> {
            match name {
                $(stringify!($field) => Some(&mut config.$field),)+
                _ => None,
            }
        }

        const _: fn(&Config) = |c| {
            let Config { $($field: _),+ } = c;
        };
    };
}

sections!(
    chat: ChatConfig,
    queue: QueueConfig,
    generator: GeneratorConfig,
    watch: WatchConfig,
    kick: KickConfig,
    logging: LoggingConfig,
);

/// [`Section`] without its constant, to be used through `dyn`.
trait DynSection {
    fn set(&mut self, key: &str, value: &Value) -> Option<Result<(), String>>;
}

impl<T: Section> DynSection for T {
    fn set(&mut self, key: &str, value: &Value) -> Option<Result<(), String>> {
        Section::set(self, key, value)
    }
}

fn keys_of(section: &str) -> Option<&'static [&'static str]> {
    SCHEMA.iter().find(|(s, _)| *s == section).map(|(_, k)| *k)
}

// ---- Parsing. ----

/// What went wrong with one part of the file, before it is put in words.
enum Kind {
    /// A key a known section does not have.
    UnknownKey { section: String, key: String },
    /// A table at the top level that is not a section.
    UnknownSection { name: String },
    /// A plain key outside every section.
    StrayKey { key: String },
    /// A section's name used for something that is not a table.
    NotASection { name: String, found: String },
    /// A known key whose value is not usable.
    Invalid {
        section: String,
        key: String,
        why: String,
    },
    /// A known key whose value had bytes that are not UTF-8.
    NotUtf8Value { section: String, key: String },
    /// A line with bytes that are not UTF-8 (in a comment, say) not reported otherwise.
    NotUtf8Line,
}

struct Finding {
    /// Byte offset in the text where it is written, when known.
    at: Option<usize>,
    kind: Kind,
}

pub(super) fn parse(bytes: &[u8]) -> Result<ParsedConfig, ConfigSyntaxError> {
    let decoded = Decoded::new(bytes);
    let text = decoded.text.as_str();
    let lines = LineIndex::new(text);
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let mut message = e.message().trim_end().to_string();
        if let Some(&at) = decoded.replaced.first() {
            message.push_str(&format!(
                " (the file has bytes that are not UTF-8 text, first on line {}; save it as \
                 UTF-8)",
                lines.line_of(at)
            ));
        }
        ConfigSyntaxError {
            line: e.span().map(|s| lines.line_of(s.start)),
            message,
        }
    })?;
    let places = Places::find(text);
    let has_replacements = !decoded.replaced.is_empty();

    let mut config = Config::default();
    let mut findings = Vec::new();
    for (name, value) in &table {
        let section_at = places.section(name);
        let Some(section) = section_mut(&mut config, name) else {
            let kind = match value {
                Value::Table(_) => Kind::UnknownSection { name: name.clone() },
                _ => Kind::StrayKey { key: name.clone() },
            };
            findings.push(Finding {
                at: section_at,
                kind,
            });
            continue;
        };
        let Value::Table(entries) = value else {
            let found = match value {
                Value::Array(items) if items.iter().all(Value::is_table) && !items.is_empty() => {
                    format!("a list of tables ([[{name}]])")
                }
                other => describe(other),
            };
            findings.push(Finding {
                at: section_at,
                kind: Kind::NotASection {
                    name: name.clone(),
                    found,
                },
            });
            continue;
        };
        for (key, value) in entries {
            let at = places.key(name, key).or(section_at);
            let (section_name, key_name) = (name.clone(), key.clone());
            let kind = if has_replacements && contains_replacement(value) {
                // Checked before the type, so that the value is never applied.
                if keys_of(name).is_some_and(|keys| keys.contains(&key.as_str())) {
                    Kind::NotUtf8Value {
                        section: section_name,
                        key: key_name,
                    }
                } else {
                    Kind::UnknownKey {
                        section: section_name,
                        key: key_name,
                    }
                }
            } else {
                match section.set(key, value) {
                    Some(Ok(())) => continue,
                    Some(Err(why)) => Kind::Invalid {
                        section: section_name,
                        key: key_name,
                        why,
                    },
                    None => Kind::UnknownKey {
                        section: section_name,
                        key: key_name,
                    },
                }
            };
            findings.push(Finding { at, kind });
        }
    }

    // Every line with bytes that are not UTF-8, unless a finding already names that line.
    let mut reported_lines: Vec<usize> = findings
        .iter()
        .filter_map(|f| f.at.map(|at| lines.line_of(at)))
        .collect();
    reported_lines.sort_unstable();
    let mut last_line = None;
    for &at in &decoded.replaced {
        let line = lines.line_of(at);
        if last_line != Some(line) && reported_lines.binary_search(&line).is_err() {
            findings.push(Finding {
                at: Some(at),
                kind: Kind::NotUtf8Line,
            });
        }
        last_line = Some(line);
    }

    // In the order of the file; what has no place last (in table order).
    findings.sort_by_key(|f| (f.at.is_none(), f.at));
    let unlisted = findings.len().saturating_sub(MAX_PROBLEMS);
    findings.truncate(MAX_PROBLEMS);
    let problems = findings
        .into_iter()
        .map(|f| describe_finding(f, &lines))
        .collect();
    Ok(ParsedConfig {
        config,
        problems,
        unlisted,
    })
}

fn describe_finding(finding: Finding, lines: &LineIndex) -> SettingProblem {
    let line = finding.at.map(|at| lines.line_of(at));
    let in_section =
        |section: &str, key: &str| format!("[{}] {}", show_key(section), show_key(key));
    let (place, message) = match finding.kind {
        Kind::UnknownKey { section, key } => {
            let hint = keys_of(&section)
                .and_then(|keys| nearest(&key, keys.iter().copied()))
                .map(|k| format!(" — did you mean {k}?"))
                .unwrap_or_default();
            (in_section(&section, &key), format!("unknown setting{hint}"))
        }
        Kind::UnknownSection { name } => {
            let hint = nearest(&name, SCHEMA.iter().map(|(s, _)| *s))
                .map(|s| format!(" — did you mean [{s}]?"))
                .unwrap_or_default();
            (
                format!("[{}]", show_key(&name)),
                format!("unknown section{hint}"),
            )
        }
        Kind::StrayKey { key } => {
            let home = SCHEMA
                .iter()
                .find(|(_, keys)| keys.contains(&key.as_str()))
                .map(|(s, _)| format!(" — it belongs under [{s}]"));
            let hint = home.or_else(|| {
                let all = SCHEMA.iter().flat_map(|(_, keys)| keys.iter().copied());
                nearest(&key, all).map(|k| {
                    let (s, _) = SCHEMA.iter().find(|(_, keys)| keys.contains(&k)).unwrap();
                    format!(" — did you mean {k} under [{s}]?")
                })
            });
            (
                show_key(&key),
                format!(
                    "unknown setting outside any section{}",
                    hint.unwrap_or_default()
                ),
            )
        }
        Kind::NotASection { name, found } => (
            show_key(&name),
            format!("expected the section [{name}], found {found}"),
        ),
        Kind::Invalid { section, key, why } => (in_section(&section, &key), why),
        Kind::NotUtf8Value { section, key } => (
            in_section(&section, &key),
            "the value has bytes that are not UTF-8 text; save the file as UTF-8".into(),
        ),
        Kind::NotUtf8Line => (
            String::new(),
            "bytes that are not UTF-8 text (ignored); save the file as UTF-8".into(),
        ),
    };
    SettingProblem {
        place,
        line,
        message,
    }
}

// ---- Text: decoding and line numbers. ----

/// The file as text: bytes that are not UTF-8 become U+FFFD; a leading BOM is dropped.
struct Decoded {
    text: String,
    /// Byte offsets in `text` of the U+FFFD put in place of bytes that were not UTF-8.
    replaced: Vec<usize>,
}

impl Decoded {
    fn new(bytes: &[u8]) -> Self {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut text = String::with_capacity(bytes.len());
        let mut replaced = Vec::new();
        for chunk in bytes.utf8_chunks() {
            text.push_str(chunk.valid());
            if !chunk.invalid().is_empty() {
                replaced.push(text.len());
                text.push(char::REPLACEMENT_CHARACTER);
            }
        }
        Self { text, replaced }
    }
}

fn contains_replacement(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains(char::REPLACEMENT_CHARACTER),
        Value::Array(items) => items.iter().any(contains_replacement),
        Value::Table(t) => t
            .iter()
            .any(|(k, v)| k.contains(char::REPLACEMENT_CHARACTER) || contains_replacement(v)),
        _ => false,
    }
}

/// Line numbers (from 1) of byte offsets.
struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let newlines = text
            .bytes()
            .enumerate()
            .filter_map(|(i, b)| (b == b'\n').then_some(i))
            .collect();
        Self { newlines }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&nl| nl < offset) + 1
    }
}

/// Where sections and keys are written: byte offsets of their names.
#[derive(Default)]
struct Places {
    sections: HashMap<String, (usize, HashMap<String, usize>)>,
}

impl Places {
    /// Best effort: anything toml cannot give a place for is simply not there.
    fn find(text: &str) -> Self {
        toml::from_str::<Places>(text).unwrap_or_default()
    }

    fn section(&self, name: &str) -> Option<usize> {
        self.sections.get(name).map(|(at, _)| *at)
    }

    fn key(&self, section: &str, key: &str) -> Option<usize> {
        self.sections.get(section)?.1.get(key).copied()
    }
}

impl<'de> de::Deserialize<'de> for Places {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Top;
        impl<'de> Visitor<'de> for Top {
            type Value = Places;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Places, A::Error> {
                let mut places = Places::default();
                while let Some(name) = map.next_key::<Spanned<String>>()? {
                    let KeyPlaces(keys) = map.next_value()?;
                    let at = name.span().start;
                    places.sections.insert(name.into_inner(), (at, keys));
                }
                Ok(places)
            }
        }
        d.deserialize_map(Top)
    }
}

/// The places of a section's keys (nothing for a value that is not a table).
struct KeyPlaces(HashMap<String, usize>);

impl<'de> de::Deserialize<'de> for KeyPlaces {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = KeyPlaces;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyPlaces, A::Error> {
                let mut keys = HashMap::new();
                // A map whose keys have no place (a date-time is one to serde) gives none.
                while let Ok(Some(key)) = map.next_key::<Spanned<String>>() {
                    map.next_value::<IgnoredAny>()?;
                    let at = key.span().start;
                    keys.insert(key.into_inner(), at);
                }
                Ok(KeyPlaces(keys))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyPlaces, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(KeyPlaces(HashMap::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<KeyPlaces, E> {
                Ok(KeyPlaces(HashMap::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<KeyPlaces, E> {
                Ok(KeyPlaces(HashMap::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<KeyPlaces, E> {
                Ok(KeyPlaces(HashMap::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<KeyPlaces, E> {
                Ok(KeyPlaces(HashMap::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<KeyPlaces, E> {
                Ok(KeyPlaces(HashMap::new()))
            }
        }
        d.deserialize_any(Keys)
    }
}

// ---- Words: keys, values and suggestions. ----

/// A key as written in TOML: bare when it can be, quoted otherwise; long ones cut short.
fn show_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let mut out = Shown::default();
    if bare {
        out.push(key);
    } else {
        out.push(&format!("{key:?}"));
    }
    out.text
}

/// A value for a message, in TOML's notation, cut short when long.
fn describe(value: &Value) -> String {
    let mut out = Shown::default();
    write_value(&mut out, value);
    out.text
}

/// Text limited to [`MAX_SHOWN_CHARS`], ending in "…" when cut.
#[derive(Default)]
struct Shown {
    text: String,
    chars: usize,
    cut: bool,
}

impl Shown {
    fn push(&mut self, s: &str) {
        if self.cut {
            return;
        }
        for c in s.chars() {
            if self.chars == MAX_SHOWN_CHARS {
                self.text.push('…');
                self.cut = true;
                return;
            }
            self.text.push(c);
            self.chars += 1;
        }
    }

    fn full(&self) -> bool {
        self.cut
    }
}

fn write_value(out: &mut Shown, value: &Value) {
    match value {
        Value::String(s) => {
            // Quoting a long string costs only what is shown.
            let head: String = s.chars().take(MAX_SHOWN_CHARS + 1).collect();
            let quoted = format!("{head:?}");
            if head.len() < s.len() {
                // Longer than can be shown: the closing quote would be cut off anyway.
                out.push(&quoted[..quoted.len() - 1]);
            } else {
                out.push(&quoted);
            }
        }
        Value::Integer(i) => out.push(&i.to_string()),
        Value::Float(f) => out.push(&float(*f)),
        Value::Boolean(b) => out.push(&b.to_string()),
        Value::Datetime(d) => out.push(&d.to_string()),
        Value::Array(items) => {
            out.push("[");
            for (i, item) in items.iter().enumerate() {
                if out.full() {
                    return;
                }
                if i > 0 {
                    out.push(", ");
                }
                write_value(out, item);
            }
            out.push("]");
        }
        Value::Table(t) if t.is_empty() => out.push("{}"),
        Value::Table(t) => {
            out.push("{ ");
            for (i, (k, v)) in t.iter().enumerate() {
                if out.full() {
                    return;
                }
                if i > 0 {
                    out.push(", ");
                }
                out.push(&show_key(k));
                out.push(" = ");
                write_value(out, v);
            }
            out.push(" }");
        }
    }
}

/// A float as TOML writes it (`10.0`, `inf`, `nan`).
fn float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        let mut s = String::new();
        let _ = write!(s, "{f:?}");
        s
    }
}

/// The candidate nearest to `word` when it is close enough to be a likely typo.
pub(super) fn nearest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let norm = |s: &str| -> Vec<char> {
        s.chars()
            .map(|c| {
                if c == '-' {
                    '_'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    };
    let word = norm(word);
    if word.is_empty() || word.len() > MAX_SUGGESTED_KEY_CHARS {
        return None;
    }
    let limit = match word.len() {
        0..=3 => 1,
        4..=7 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let c = norm(candidate);
        if c.len().abs_diff(word.len()) > limit {
            continue;
        }
        let d = levenshtein(&word, &c);
        if d <= limit && d < c.len() && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Edit distance (insertions, deletions, substitutions).
pub(super) fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests;
