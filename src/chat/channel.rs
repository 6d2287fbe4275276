//! Twitch channel names: what the streamer types, normalised to what IRC expects.
//!
//! Invariant: a `ChannelName` is 1..=25 chars of `[a-z0-9_]`, so it can never carry
//! spaces, CR/LF or other bytes that would change the meaning of an IRC line.

use std::fmt;

/// A validated, lower-case Twitch login name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChannelName(String);

/// Why a typed channel name was refused. The `Display` text is shown to the streamer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelNameError {
    #[error("Type a channel name.")]
    Empty,
    #[error("Channel names are at most 25 characters (this one has {0}).")]
    TooLong(usize),
    #[error("Channel names use only letters, digits and _ (found {0:?}).")]
    InvalidCharacter(char),
    #[error("That link is not a Twitch channel.")]
    NotAChannelLink,
}

const MAX_LEN: usize = 25;

impl ChannelName {
    /// Accepts `name`, `#name`, `@name`, `twitch.tv/name`, `https://www.twitch.tv/name/...`,
    /// surrounding white space and any letter case.
    pub fn parse(input: &str) -> Result<Self, ChannelNameError> {
        let mut s = input.trim();
        if let Some(rest) = strip_url(s)? {
            s = rest;
        }
        let s = s.trim_start_matches(['#', '@']).trim();
        if s.is_empty() {
            return Err(ChannelNameError::Empty);
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
        {
            return Err(ChannelNameError::InvalidCharacter(bad));
        }
        if s.len() > MAX_LEN {
            return Err(ChannelNameError::TooLong(s.len()));
        }
        Ok(Self(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// If `s` looks like a link, returns the first path segment of a twitch.tv link.
fn strip_url(s: &str) -> Result<Option<&str>, ChannelNameError> {
    let lower = s.to_ascii_lowercase();
    let without_scheme = if let Some(i) = lower.find("://") {
        &s[i + 3..]
    } else {
        s
    };
    let host_end = without_scheme.find('/').unwrap_or(without_scheme.len());
    let host = without_scheme[..host_end].to_ascii_lowercase();
    let is_twitch = matches!(host.as_str(), "twitch.tv" | "www.twitch.tv" | "m.twitch.tv");
    if !is_twitch {
        if lower.contains("://") || (host.contains('.') && host_end < without_scheme.len()) {
            return Err(ChannelNameError::NotAChannelLink);
        }
        return Ok(None);
    }
    let path = without_scheme[host_end..].trim_start_matches('/');
    let segment = path.split(['/', '?', '#']).next().unwrap_or("");
    Ok(Some(segment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_forms_streamers_type() {
        for input in [
            "shroud",
            "  Shroud ",
            "#shroud",
            "@SHROUD",
            "twitch.tv/shroud",
            "https://www.twitch.tv/shroud",
            "https://m.twitch.tv/shroud/videos?filter=all",
            "http://twitch.tv/Shroud/",
        ] {
            assert_eq!(
                ChannelName::parse(input).unwrap().as_str(),
                "shroud",
                "input {input:?}"
            );
        }
        assert_eq!(ChannelName::parse("a_b_9").unwrap().as_str(), "a_b_9");
    }

    #[test]
    fn refuses_what_twitch_would_not_accept() {
        assert_eq!(ChannelName::parse("   "), Err(ChannelNameError::Empty));
        assert_eq!(ChannelName::parse("#"), Err(ChannelNameError::Empty));
        assert_eq!(
            ChannelName::parse("twitch.tv/"),
            Err(ChannelNameError::Empty)
        );
        assert_eq!(
            ChannelName::parse("bad name"),
            Err(ChannelNameError::InvalidCharacter(' '))
        );
        assert_eq!(
            ChannelName::parse("x\r\nJOIN #evil"),
            Err(ChannelNameError::InvalidCharacter('\r'))
        );
        assert_eq!(
            ChannelName::parse("café"),
            Err(ChannelNameError::InvalidCharacter('é'))
        );
        assert_eq!(
            ChannelName::parse(&"a".repeat(26)),
            Err(ChannelNameError::TooLong(26))
        );
        assert_eq!(
            ChannelName::parse("https://youtube.com/watch"),
            Err(ChannelNameError::NotAChannelLink)
        );
    }

    proptest::proptest! {
        #[test]
        fn parsed_names_are_always_safe(input in "\\PC{0,40}") {
            if let Ok(name) = ChannelName::parse(&input) {
                proptest::prop_assert!(!name.as_str().is_empty() && name.as_str().len() <= 25);
                proptest::prop_assert!(name.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
            }
        }
    }
}
