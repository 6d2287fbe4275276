//! When the co-host speaks: pure decisions over the time the caller passes in (tokio's
//! `Instant`, so tests run on paused time) and a seeded random number generator.
//!
//! A chat line fires the co-host when it is addressed to it (its name as a whole word or an
//! `@mention`), starts with one of the ask commands (`!ask <question>`), or contains a keyword
//! (then only with the configured chance). A channel that has been quiet for `quiet_after`
//! gets one prompt per quiet stretch. Whatever fires must then pass the channel's cooldown and
//! the global rate (seed 001's rate manager: both are counted when the co-host is *asked*, so a
//! slow model cannot be asked twice for one stretch).
//!
//! Invariants (tests below): ignored logins (other bots, the co-host's own account) never fire;
//! a channel fires at most once per `channel_cooldown`; all channels together fire at most
//! `global_per_minute` times in any 60 s; a quiet prompt fires at most once between two chat
//! lines; the same seed gives the same decisions.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

/// The global rate's window.
pub const GLOBAL_WINDOW: Duration = Duration::from_secs(60);

/// The rules, as the actor builds them from the settings (names and lists lowercased).
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerRules {
    /// Names the co-host answers to (its account's login, and any names set in Settings).
    pub names: Vec<String>,
    /// Commands that ask it a question, e.g. `!ask`.
    pub ask_commands: Vec<String>,
    pub keywords: Vec<String>,
    /// The chance (0–1) that a keyword line is answered. Mentions and commands always are.
    pub keyword_chance: f64,
    /// Prompt the co-host when a channel had no chat for this long (`None`: never).
    pub quiet_after: Option<Duration>,
    pub channel_cooldown: Duration,
    pub global_per_minute: u32,
    /// Logins whose lines never fire (other bots, its own account).
    pub ignore: Vec<String>,
}

impl Default for TriggerRules {
    fn default() -> Self {
        Self {
            names: Vec::new(),
            ask_commands: vec!["!ask".into()],
            keywords: Vec::new(),
            keyword_chance: 1.0,
            quiet_after: None,
            channel_cooldown: Duration::from_secs(20),
            global_per_minute: 6,
            ignore: Vec::new(),
        }
    }
}

/// Why a line fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FiredBy {
    Mention,
    Command,
    Keyword,
    Quiet,
}

impl FiredBy {
    pub fn as_str(self) -> &'static str {
        match self {
            FiredBy::Mention => "mention",
            FiredBy::Command => "command",
            FiredBy::Keyword => "keyword",
            FiredBy::Quiet => "quiet",
        }
    }
}

/// A trigger that fired: what to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub by: FiredBy,
    /// The question as the viewer asked it (the command word removed); empty for a quiet prompt.
    pub question: String,
}

/// Why a line that was addressed to the co-host did not fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// The channel answered less than its cooldown ago.
    Cooldown { remaining: Duration },
    /// All channels together used up the global rate.
    GlobalRate,
    /// A keyword line lost the draw.
    Chance,
}

/// What one line (or one quiet check) comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not for the co-host (or from an ignored login).
    Pass,
    Fire(Fired),
    Held(Held),
}

#[derive(Debug, Clone, Default)]
struct ChannelState {
    last_fired: Option<Instant>,
    last_line: Option<Instant>,
    /// A quiet prompt fired since the last line.
    quiet_fired: bool,
}

/// The triggers of every channel, keyed by the caller's channel key (the chat slot).
#[derive(Debug)]
pub struct Triggers<K> {
    channels: HashMap<K, ChannelState>,
    global: VecDeque<Instant>,
    rng: fastrand::Rng,
}

impl<K: std::hash::Hash + Eq + Clone> Triggers<K> {
    pub fn new(seed: u64) -> Self {
        Self {
            channels: HashMap::new(),
            global: VecDeque::new(),
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// A chat line from `login` in `channel` at `now`.
    pub fn on_line(
        &mut self,
        channel: &K,
        login: &str,
        text: &str,
        now: Instant,
        rules: &TriggerRules,
    ) -> Decision {
        let state = self.channels.entry(channel.clone()).or_default();
        state.last_line = Some(now);
        state.quiet_fired = false;
        if rules.ignore.iter().any(|i| i.eq_ignore_ascii_case(login))
            || rules.names.iter().any(|n| n.eq_ignore_ascii_case(login))
        {
            return Decision::Pass;
        }
        let Some(fired) = addressed(text, rules) else {
            return Decision::Pass;
        };
        if fired.by == FiredBy::Keyword && self.rng.f64() >= rules.keyword_chance {
            return Decision::Held(Held::Chance);
        }
        self.admit(channel, fired, now, rules)
    }

    /// A quiet check for `channel` at `now` (the actor calls it on its clock).
    pub fn on_quiet_check(&mut self, channel: &K, now: Instant, rules: &TriggerRules) -> Decision {
        let Some(quiet_after) = rules.quiet_after else {
            return Decision::Pass;
        };
        let Some(state) = self.channels.get(channel) else {
            return Decision::Pass;
        };
        let Some(last_line) = state.last_line else {
            return Decision::Pass;
        };
        if state.quiet_fired || now.saturating_duration_since(last_line) < quiet_after {
            return Decision::Pass;
        }
        let fired = Fired {
            by: FiredBy::Quiet,
            question: String::new(),
        };
        let decision = self.admit(channel, fired, now, rules);
        if let Some(state) = self.channels.get_mut(channel) {
            // One attempt per quiet stretch, whether it fired or was held.
            state.quiet_fired = true;
        }
        decision
    }

    /// When the next quiet check can fire for any channel (`None`: no quiet prompts due).
    pub fn next_quiet_check(&self, rules: &TriggerRules) -> Option<Instant> {
        let quiet_after = rules.quiet_after?;
        self.channels
            .values()
            .filter(|s| !s.quiet_fired)
            .filter_map(|s| s.last_line.map(|t| t + quiet_after))
            .min()
    }

    /// Forgets a channel (it was left).
    pub fn forget(&mut self, channel: &K) {
        self.channels.remove(channel);
    }

    fn admit(&mut self, channel: &K, fired: Fired, now: Instant, rules: &TriggerRules) -> Decision {
        while self
            .global
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= GLOBAL_WINDOW)
        {
            self.global.pop_front();
        }
        let state = self.channels.entry(channel.clone()).or_default();
        if let Some(last) = state.last_fired {
            let since = now.saturating_duration_since(last);
            if since < rules.channel_cooldown {
                return Decision::Held(Held::Cooldown {
                    remaining: rules.channel_cooldown - since,
                });
            }
        }
        if self.global.len() >= rules.global_per_minute as usize {
            return Decision::Held(Held::GlobalRate);
        }
        state.last_fired = Some(now);
        self.global.push_back(now);
        Decision::Fire(fired)
    }
}

/// Whether `text` is addressed to the co-host, and the question it asks.
pub fn addressed(text: &str, rules: &TriggerRules) -> Option<Fired> {
    let trimmed = text.trim();
    let first = trimmed.split_whitespace().next().unwrap_or("");
    if let Some(cmd) = rules
        .ask_commands
        .iter()
        .find(|c| !c.is_empty() && first.eq_ignore_ascii_case(c))
    {
        let question = trimmed[cmd.len()..].trim().to_string();
        return Some(Fired {
            by: FiredBy::Command,
            question,
        });
    }
    let words = || {
        trimmed
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '@'))
            .filter(|w| !w.is_empty())
    };
    let is_name = |w: &str| {
        let w = w.strip_prefix('@').unwrap_or(w);
        rules
            .names
            .iter()
            .any(|n| !n.is_empty() && w.eq_ignore_ascii_case(n))
    };
    if words().any(is_name) {
        return Some(Fired {
            by: FiredBy::Mention,
            question: trimmed.to_string(),
        });
    }
    let has_keyword = words().any(|w| {
        rules
            .keywords
            .iter()
            .any(|k| !k.is_empty() && w.eq_ignore_ascii_case(k))
    });
    has_keyword.then(|| Fired {
        by: FiredBy::Keyword,
        question: trimmed.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> TriggerRules {
        TriggerRules {
            names: vec!["cuebot".into()],
            keywords: vec!["lore".into()],
            ignore: vec!["nightbot".into()],
            ..TriggerRules::default()
        }
    }

    fn fired(d: &Decision) -> Option<FiredBy> {
        match d {
            Decision::Fire(f) => Some(f.by),
            _ => None,
        }
    }

    #[test]
    fn what_is_addressed_to_the_co_host() {
        let r = rules();
        let table: &[(&str, Option<(FiredBy, &str)>)] = &[
            (
                "!ask what game is this?",
                Some((FiredBy::Command, "what game is this?")),
            ),
            ("!ASK   spaced  ", Some((FiredBy::Command, "spaced"))),
            ("!askme nothing", None),
            (
                "hey @CueBot how are you",
                Some((FiredBy::Mention, "hey @CueBot how are you")),
            ),
            (
                "cuebot, tell a joke",
                Some((FiredBy::Mention, "cuebot, tell a joke")),
            ),
            ("cuebots are cool", None),
            (
                "what's the lore here",
                Some((FiredBy::Keyword, "what's the lore here")),
            ),
            ("folklore", None),
            ("just chatting", None),
            ("", None),
        ];
        for (text, want) in table {
            let got = addressed(text, &r).map(|f| (f.by, f.question));
            let want = want.map(|(by, q)| (by, q.to_string()));
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn ignored_logins_and_its_own_name_never_fire() {
        let r = rules();
        let mut t = Triggers::new(1);
        let now = Instant::now();
        assert_eq!(
            t.on_line(&0, "NightBot", "!ask hi", now, &r),
            Decision::Pass
        );
        assert_eq!(
            t.on_line(&0, "cuebot", "@cuebot hi", now, &r),
            Decision::Pass
        );
        assert!(fired(&t.on_line(&0, "viewer", "!ask hi", now, &r)).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn the_channel_cooldown_and_the_global_rate_hold_what_fires() {
        let r = TriggerRules {
            global_per_minute: 3,
            channel_cooldown: Duration::from_secs(20),
            ..rules()
        };
        let mut t = Triggers::new(1);
        let t0 = Instant::now();
        assert!(fired(&t.on_line(&0, "a", "!ask 1", t0, &r)).is_some());
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(
            t.on_line(&0, "b", "!ask 2", at(5), &r),
            Decision::Held(Held::Cooldown {
                remaining: Duration::from_secs(15)
            })
        );
        assert!(fired(&t.on_line(&0, "b", "!ask 3", at(20), &r)).is_some());
        assert!(fired(&t.on_line(&1, "c", "!ask 4", at(21), &r)).is_some());
        // Three fired within 60 s: a fourth channel is held by the global rate…
        assert_eq!(
            t.on_line(&2, "d", "!ask 5", at(30), &r),
            Decision::Held(Held::GlobalRate)
        );
        // …until the first one leaves the window.
        assert!(fired(&t.on_line(&2, "d", "!ask 6", at(60), &r)).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn keywords_fire_with_their_chance_and_the_same_seed_decides_the_same() {
        let r = TriggerRules {
            keyword_chance: 0.3,
            channel_cooldown: Duration::ZERO,
            global_per_minute: 10_000,
            ..rules()
        };
        let run = |seed| {
            let mut t = Triggers::new(seed);
            let t0 = Instant::now();
            (0..1000u64)
                .map(|i| fired(&t.on_line(&0, "v", "lore?", t0 + Duration::from_millis(i), &r)))
                .filter(Option::is_some)
                .count()
        };
        let n = run(7);
        assert_eq!(n, run(7));
        assert!((200..400).contains(&n), "{n} of 1000 at a 30 % chance");
        let never = TriggerRules {
            keyword_chance: 0.0,
            ..r.clone()
        };
        let mut t = Triggers::new(7);
        assert_eq!(
            t.on_line(&0, "v", "lore?", Instant::now(), &never),
            Decision::Held(Held::Chance)
        );
        // Mentions do not draw.
        assert!(fired(&t.on_line(&0, "v", "cuebot lore?", Instant::now(), &never)).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_channel_is_prompted_once_per_quiet_stretch() {
        let r = TriggerRules {
            quiet_after: Some(Duration::from_secs(300)),
            ..rules()
        };
        let mut t = Triggers::new(1);
        let t0 = Instant::now();
        // No chat seen yet: nothing to prompt.
        assert_eq!(t.on_quiet_check(&0, t0, &r), Decision::Pass);
        assert_eq!(t.next_quiet_check(&r), None);
        t.on_line(&0, "v", "hello", t0, &r);
        assert_eq!(t.next_quiet_check(&r), Some(t0 + Duration::from_secs(300)));
        assert_eq!(
            t.on_quiet_check(&0, t0 + Duration::from_secs(299), &r),
            Decision::Pass
        );
        let d = t.on_quiet_check(&0, t0 + Duration::from_secs(300), &r);
        assert_eq!(fired(&d), Some(FiredBy::Quiet));
        assert_eq!(
            t.on_quiet_check(&0, t0 + Duration::from_secs(900), &r),
            Decision::Pass
        );
        assert_eq!(t.next_quiet_check(&r), None);
        // A line starts a new stretch.
        t.on_line(&0, "v", "back", t0 + Duration::from_secs(1000), &r);
        let d = t.on_quiet_check(&0, t0 + Duration::from_secs(1300), &r);
        assert_eq!(fired(&d), Some(FiredBy::Quiet));
        // Off when not configured.
        let off = rules();
        assert_eq!(
            t.on_quiet_check(&0, t0 + Duration::from_secs(9999), &off),
            Decision::Pass
        );
    }
}
