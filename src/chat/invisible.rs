//! Characters that show as nothing: what lets two texts look the same, hides a word from a
//! filter, or slips a chat command (`\u{200B}/ban x`) past a check of the first character.
//! Used on what StreamCue says ([`super::outgoing::sanitise_outgoing`], the co-host's answers).

const ZWNJ: char = '\u{200C}';
/// The zero-width joiner, kept inside emoji sequences and scripts that need it.
pub const ZWJ: char = '\u{200D}';
const BLACK_FLAG: char = '\u{1F3F4}';

/// Unicode general category `Cf` (format characters), Unicode 16.
pub fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

/// A format character, or one that shows as nothing (the combining grapheme joiner, Hangul
/// fillers, Khmer inherent vowels, the braille blank used for "empty" messages).
pub fn is_invisible(c: char) -> bool {
    is_format(c)
        || matches!(
            c as u32,
            0x034F | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x2800 | 0x3164 | 0xFFA0
        )
}

fn is_tag(c: char) -> bool {
    ('\u{E0020}'..='\u{E007F}').contains(&c)
}

/// Removes invisible characters (see [`is_format`]), except a zero-width joiner or non-joiner
/// between two non-ASCII characters (emoji sequences like 👨‍👩‍👧, Indic and Persian text) and
/// the tag characters of a subdivision flag (🏴 followed by tags).
pub fn strip_invisible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut prev: Option<char> = None;
    while let Some(c) = chars.next() {
        let keep = if !is_invisible(c) {
            true
        } else if c == ZWJ || c == ZWNJ {
            let joins = |x: Option<char>| {
                x.is_some_and(|x| !x.is_ascii() && !x.is_whitespace() && !is_invisible(x))
            };
            joins(prev) && joins(chars.peek().copied())
        } else if is_tag(c) {
            prev.is_some_and(|p| p == BLACK_FLAG || is_tag(p))
        } else {
            false
        };
        if keep {
            out.push(c);
            prev = Some(c);
        }
    }
    out
}

/// The text without anything in front that could make chat read it as a command: whitespace,
/// control and invisible characters, `/` and `.`.
pub fn disarm_start(text: &str) -> &str {
    text.trim_start_matches(|c: char| {
        c.is_whitespace() || c.is_control() || is_invisible(c) || c == '/' || c == '.'
    })
}
