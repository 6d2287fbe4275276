//! The offline demo responder: the co-host with no account and no model, so the demo chat's
//! questions produce drafts. Deterministic (the same question gets the same answer) and honest
//! about being canned: every answer starts with [`DEMO_PREFIX`].

use super::triggers::FiredBy;

/// What every demo answer starts with.
pub const DEMO_PREFIX: &str = "(demo co-host)";

/// How long the demo "thinks", so the window shows a realistic latency.
pub const DEMO_LATENCY: std::time::Duration = std::time::Duration::from_millis(350);

const TOPICS: &[(&[&str], &str)] = &[
    (
        &["game", "playing", "map", "ranked"],
        "I can't see the screen, but it looks like a fun run from here!",
    ),
    (
        &["song", "music"],
        "The music is the streamer's pick: ask them for the playlist!",
    ),
    (
        &["tip", "tips", "beginner", "beginners", "help"],
        "Best tip I know: have fun and ask chat, people here are friendly.",
    ),
    (
        &["long", "when", "time"],
        "No clock in the demo, but it has been a good stream so far.",
    ),
    (
        &["hi", "hello", "hey", "morning", "yo"],
        "Hi and welcome in, glad you're here!",
    ),
];

const FALLBACKS: &[&str] = &[
    "Good question! Connect a model in Settings → Co-host and I'll answer it properly.",
    "I'm only the canned demo: a real model would have a better answer for you.",
    "Love that question. Chat, what do you think?",
];

const QUIET: &[&str] = &[
    "Chat's quiet: what's everyone playing this week?",
    "Quick poll while it's calm: snacks or drinks right now?",
];

/// The demo's answer to `question`.
pub fn demo_answer(by: FiredBy, question: &str) -> String {
    let body = if by == FiredBy::Quiet {
        QUIET[hash(question) % QUIET.len()]
    } else {
        let lower = question.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        TOPICS
            .iter()
            .find(|(keys, _)| keys.iter().any(|k| words.contains(k)))
            .map(|(_, answer)| *answer)
            .unwrap_or_else(|| FALLBACKS[hash(&lower) % FALLBACKS.len()])
    };
    format!("{DEMO_PREFIX} {body}")
}

/// FNV-1a: stable across runs and platforms (std's hasher is seeded per process).
fn hash(text: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_canned_deterministic_and_say_so() {
        let table = [
            (
                FiredBy::Command,
                "what game is this?",
                "it looks like a fun run",
            ),
            (FiredBy::Mention, "@streamcue the music slaps", "playlist"),
            (FiredBy::Command, "any tips for beginners?", "Best tip"),
            (FiredBy::Command, "hello!", "welcome in"),
        ];
        for (by, q, want) in table {
            let a = demo_answer(by, q);
            assert!(a.starts_with(DEMO_PREFIX), "{a}");
            assert!(a.contains(want), "{q:?} → {a}");
            assert_eq!(a, demo_answer(by, q));
        }
        let other = demo_answer(FiredBy::Command, "explain quantum physics");
        assert!(FALLBACKS.iter().any(|f| other.ends_with(f)), "{other}");
        let quiet = demo_answer(FiredBy::Quiet, "");
        assert!(QUIET.iter().any(|q| quiet.ends_with(q)), "{quiet}");
    }
}
