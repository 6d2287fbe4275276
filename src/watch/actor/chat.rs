//! Watch-along from Twitch chat: `!watch <link>` and `!stop` for the broadcaster and
//! moderators, `!watching` for everyone, with the seed's wording adapted. A viewer who asked
//! hears back when the video plays, fails or ends. Every answer goes through `ChatReplies`
//! (sanitised, within Twitch's limit).

use super::{Actor, WatchSource, WatchStartOutcome};
use crate::clock::now_ms;
use crate::db::WatchSessionRow;
use crate::watch::WatchStatus;

/// What a chat line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchAsk {
    /// `!watch` and the text after it.
    Start(String),
    Stop,
    Watching,
}

/// A watch-along chat command and who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchChat {
    pub channel: String,
    pub login: String,
    pub display: String,
    /// A moderator or the broadcaster.
    pub elevated: bool,
    pub ask: WatchAsk,
}

impl Actor {
    pub(super) async fn on_chat(&mut self, chat: WatchChat) {
        let name = &chat.display;
        let text = match &chat.ask {
            WatchAsk::Start(link) if !chat.elevated && self.settings.viewer_requests => {
                let link = link.clone();
                self.viewer_asks(&chat, &link).await
            }
            WatchAsk::Start(_) | WatchAsk::Stop if !chat.elevated => {
                format!("@{name} only the streamer and moderators can start or stop a watch-along.")
            }
            WatchAsk::Start(link) => {
                let link = link.clone();
                match self
                    .start(&link, chat.login.clone(), WatchSource::Twitch)
                    .await
                {
                    Ok(WatchStartOutcome::Started { session }) => {
                        self.chat_requester =
                            Some((session.id.clone(), chat.channel.clone(), name.clone()));
                        got_it(name, &session.url, &session.target)
                    }
                    Ok(WatchStartOutcome::Refused { refusal }) => {
                        format!("@{name} {}", refusal.message)
                    }
                    Err(e) => format!("@{name} sorry, that did not work: {}", e.message),
                }
            }
            WatchAsk::Stop => match self.stop().await {
                Ok(None) => format!("@{name} stopped the watch-along."),
                Ok(Some(refusal)) => format!("@{name} {}", refusal.message),
                Err(e) => format!("@{name} sorry, that did not work: {}", e.message),
            },
            WatchAsk::Watching => match self.setup.db.watch().active().await {
                Ok(Some(row)) => format!(
                    "Now {}: {} (asked by {}, {}).",
                    if row.status == WatchStatus::Streaming {
                        "playing"
                    } else {
                        "starting"
                    },
                    row.url,
                    row.requester,
                    elapsed(now_ms() - row.created_ms)
                ),
                Ok(None) => "Nothing is playing right now.".into(),
                Err(_) => "Sorry, I could not look that up right now.".into(),
            },
        };
        self.setup.replies.say(&chat.channel, text);
    }

    /// Tells the chat viewer who asked for `row` what became of it.
    pub(super) fn tell_chat_requester(&mut self, row: &WatchSessionRow) {
        let Some((id, channel, name)) = &self.chat_requester else {
            return;
        };
        if *id != row.id {
            return;
        }
        let text = match row.status {
            WatchStatus::Streaming => format!("@{name} now playing! Enjoy the watch-along."),
            WatchStatus::Ended => "The watch-along ended. Thanks for watching!".to_string(),
            WatchStatus::Failed => format!(
                "@{name} sorry, the watch-along failed: {}",
                row.error_message.as_deref().unwrap_or("no reason given")
            ),
            _ => return,
        };
        self.setup.replies.say(channel, text);
        if !row.status.is_active() {
            self.chat_requester = None;
        }
    }
}

/// The seed's acknowledgement, adapted.
pub(super) fn got_it(name: &str, url: &str, target: &str) -> String {
    format!("@{name} got it! Putting {url} on {target}. This usually takes 30–60 seconds.")
}

fn elapsed(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}
