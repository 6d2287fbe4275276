//! The demo chat: a recorded-style script shipped with the app, replayed at real-time pace.
//!
//! Lets a streamer (and every test of the window) see StreamCue work with no account and no
//! network. The script (`assets/demo-chat.tsv`) has one line per message:
//! `delay_ms<TAB>user<TAB>text<TAB>emotes`, where `delay_ms` is the wait since the previous
//! line and `emotes` is a space-separated list of emote names in the text. It loops forever.

use std::time::Duration;

use tokio::time::Instant;

use super::{ChatMessage, SourceEvent};

const SCRIPT: &str = include_str!("../../assets/demo-chat.tsv");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptLine {
    pub delay: Duration,
    pub user: String,
    pub text: String,
    pub emotes: Vec<String>,
}

/// Parses a demo script; malformed lines are skipped (and counted in the error list).
pub fn parse_script(text: &str) -> (Vec<ScriptLine>, Vec<usize>) {
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let mut parts = raw.splitn(4, '\t');
        let (Some(delay), Some(user), Some(text)) = (parts.next(), parts.next(), parts.next())
        else {
            bad.push(i + 1);
            continue;
        };
        let Ok(delay) = delay.trim().parse::<u64>() else {
            bad.push(i + 1);
            continue;
        };
        let emotes = parts
            .next()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        lines.push(ScriptLine {
            delay: Duration::from_millis(delay.min(60_000)),
            user: user.to_owned(),
            text: text.to_owned(),
            emotes,
        });
    }
    (lines, bad)
}

pub struct DemoSession {
    lines: Vec<ScriptLine>,
    index: usize,
    next_at: Instant,
    joined: bool,
}

impl DemoSession {
    pub fn start() -> Self {
        Self::with_script(SCRIPT)
    }

    pub fn with_script(script: &str) -> Self {
        let (lines, bad) = parse_script(script);
        if !bad.is_empty() {
            tracing::warn!(?bad, "demo script lines skipped");
        }
        let first_delay = lines.first().map_or(Duration::ZERO, |l| l.delay);
        Self {
            lines,
            index: 0,
            next_at: Instant::now() + first_delay,
            joined: false,
        }
    }

    /// The next message, at its scripted time. Cancel-safe (state changes after the wait).
    pub async fn next(&mut self) -> SourceEvent {
        if !self.joined {
            self.joined = true;
            return SourceEvent::Joined;
        }
        if self.lines.is_empty() {
            return std::future::pending().await;
        }
        tokio::time::sleep_until(self.next_at).await;
        let line = &self.lines[self.index];
        let message = ChatMessage {
            user_login: line.user.to_ascii_lowercase(),
            display_name: line.user.clone(),
            message_id: None,
            text: line.text.clone(),
            emotes: line.emotes.clone(),
            is_moderator: false,
            is_broadcaster: false,
            bits: 0,
        };
        self.index = (self.index + 1) % self.lines.len();
        // Never let the schedule fall behind by more than a second (e.g. after a stall).
        let due = self.next_at + self.lines[self.index].delay;
        self.next_at = due.max(Instant::now() - Duration::from_secs(1));
        SourceEvent::Message(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_script_is_valid_and_has_bursts() {
        let (lines, bad) = parse_script(SCRIPT);
        assert!(bad.is_empty(), "bad lines {bad:?}");
        assert!(lines.len() > 500, "only {} lines", lines.len());
        let total_ms: u128 = lines.iter().map(|l| l.delay.as_millis()).sum();
        assert!(total_ms > 120_000, "script is only {total_ms} ms long");
        // Bursts: some 5-second windows are at least 4x the script's average rate.
        let mut t = 0u128;
        let stamps: Vec<u128> = lines
            .iter()
            .map(|l| {
                t += l.delay.as_millis();
                t
            })
            .collect();
        let avg_per_5s = lines.len() as f64 / (total_ms as f64 / 5000.0);
        let peak = stamps
            .iter()
            .map(|&s| stamps.iter().filter(|&&x| x >= s && x < s + 5000).count())
            .max()
            .unwrap();
        assert!(
            peak as f64 >= 4.0 * avg_per_5s,
            "peak {peak} vs average {avg_per_5s:.1}"
        );
        // Questions for the demo co-host, spread over the script.
        let asks = lines.iter().filter(|l| l.text.starts_with("!ask ")).count();
        assert!(asks >= 6, "only {asks} !ask lines");
    }

    #[test]
    fn malformed_script_lines_are_skipped() {
        let (lines, bad) =
            parse_script("100\ta\thi\n# comment\nnope\tb\nx\ty\tz\n\n50\tc\tKappa hi\tKappa\n");
        assert_eq!(bad, vec![3, 4]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].emotes, vec!["Kappa"]);
    }

    #[tokio::test(start_paused = true)]
    async fn replays_at_scripted_pace_and_loops() {
        let mut demo = DemoSession::with_script("1000\ta\tone\n500\tb\ttwo\n");
        assert_eq!(demo.next().await, SourceEvent::Joined);
        let t0 = Instant::now();
        let mut texts = Vec::new();
        for _ in 0..3 {
            match demo.next().await {
                SourceEvent::Message(m) => texts.push((m.text, (Instant::now() - t0).as_millis())),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            texts,
            vec![
                ("one".into(), 1000),
                ("two".into(), 1500),
                ("one".into(), 2500)
            ]
        );
    }
}
