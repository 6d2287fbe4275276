//! Finds keywords and emotes in one chat message. Keywords are whole words or phrases,
//! case-insensitive (`clip` matches "CLIP!" and "clip that", not "eclipse"); each keyword and
//! each emote counts once per message, so one viewer repeating a word cannot make a moment alone.

use std::collections::{HashMap, HashSet};

use crate::api::MomentSettings;

pub struct Matcher {
    /// (the keyword as configured, lower-case; its words).
    keywords: Vec<(String, Vec<String>)>,
    text_emotes: HashSet<String>,
}

impl Matcher {
    pub fn new(settings: &MomentSettings) -> Self {
        let keywords = settings
            .keywords
            .iter()
            .filter_map(|k| {
                let words = words(&k.to_lowercase());
                (!words.is_empty()).then(|| (words.join(" "), words))
            })
            .collect();
        Self {
            keywords,
            text_emotes: settings
                .text_emotes
                .iter()
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty())
                .collect(),
        }
    }

    /// Adds this message's keywords and emotes (each once) to the counts; returns whether it
    /// had any keyword.
    pub fn scan(
        &self,
        text: &str,
        platform_emotes: &[String],
        keywords: &mut HashMap<String, u32>,
        emotes: &mut HashMap<String, u32>,
    ) -> bool {
        let mut any = false;
        if !self.keywords.is_empty() {
            let tokens = words(&text.to_lowercase());
            for (name, kw) in &self.keywords {
                if tokens.windows(kw.len()).any(|w| w == kw.as_slice()) {
                    *keywords.entry(name.clone()).or_default() += 1;
                    any = true;
                }
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for e in platform_emotes {
            if !seen.contains(&e.as_str()) {
                seen.push(e);
            }
        }
        for token in text.split_whitespace() {
            if self.text_emotes.contains(token) && !seen.contains(&token) {
                seen.push(token);
            }
        }
        for e in seen {
            *emotes.entry(e.to_string()).or_default() += 1;
        }
        any
    }
}

/// Lower-cased words: runs of letters, digits and apostrophes.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(
        m: &Matcher,
        text: &str,
        platform: &[&str],
    ) -> (HashMap<String, u32>, HashMap<String, u32>) {
        let (mut k, mut e) = (HashMap::new(), HashMap::new());
        let platform: Vec<String> = platform.iter().map(|s| s.to_string()).collect();
        m.scan(text, &platform, &mut k, &mut e);
        (k, e)
    }

    #[test]
    fn keywords_are_whole_words_case_insensitive_once_per_message() {
        let m = Matcher::new(&MomentSettings::default());
        let (k, _) = scan(&m, "CLIP IT! clip clip CLIP that", &[]);
        assert_eq!(k.get("clip"), Some(&1));
        assert_eq!(k.get("clip that"), Some(&1));
        let (k, _) = scan(&m, "the eclipse, clipboard and clipping", &[]);
        assert!(k.is_empty(), "{k:?}");
        let (k, _) = scan(&m, "no... way?? NO WAY", &[]);
        assert_eq!(k.get("no way"), Some(&1));
        let (k, _) = scan(&m, "", &[]);
        assert!(k.is_empty());
    }

    #[test]
    fn emotes_come_from_the_platform_and_from_text_once_per_message() {
        let m = Matcher::new(&MomentSettings::default());
        let (_, e) = scan(&m, "KEKW KEKW kekw LUL", &["Kappa", "Kappa"]);
        assert_eq!(e.get("KEKW"), Some(&1), "case-sensitive, once");
        assert_eq!(e.get("kekw"), None);
        assert_eq!(e.get("LUL"), Some(&1));
        assert_eq!(e.get("Kappa"), Some(&1));
    }
}
