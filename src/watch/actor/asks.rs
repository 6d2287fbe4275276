//! Viewers' `!watch <link>` when Settings → Watch-along → "Viewers may ask" is on: the link is
//! checked at once (a bad one is refused in chat with its reason), kept in SQLite
//! (`db::watch_asks`: one waiting link per viewer, a bounded list), shown in the card, and the
//! streamer plays or denies it there. The viewer hears each step in chat.
//!
//! Invariants: the link is written before the viewer is told it waits; Play starts a session
//! first and marks the link played only once the session exists (a refused start — busy, OBS
//! away — leaves it waiting and says why); a link is decided once (compare-and-set).

use super::{chat, Actor, WatchRefusal, WatchSource, WatchStartOutcome};
use crate::api::{ApiError, WatchAskView};
use crate::clock::now_ms;
use crate::db::{AskAdded, WatchAskRow, WATCH_ASKS_MAX};
use crate::watch::codes::WatchErrorCode;
use crate::watch::WatchChat;

pub(super) fn ask_view(r: WatchAskRow) -> WatchAskView {
    WatchAskView {
        id: i32::try_from(r.id).unwrap_or(i32::MAX),
        viewer: r.display,
        url: r.url,
        created_ms: r.created_ms as f64,
    }
}

impl Actor {
    /// A viewer's `!watch`: what to answer in chat.
    pub(super) async fn viewer_asks(&mut self, chat: &WatchChat, text: &str) -> String {
        let name = &chat.display;
        let url = match crate::watch::url::extract_url(text) {
            Ok(u) => u,
            Err(why) => {
                let info = WatchErrorCode::InvalidUrl.info();
                return format!("@{name} {} ({why}). {}", info.message, info.recovery);
            }
        };
        let added = self
            .setup
            .db
            .watch_asks()
            .add(&chat.login, name, &chat.channel, &url.url, now_ms())
            .await;
        match added {
            Ok(AskAdded::Added(_)) => {
                self.refresh_view().await;
                format!("@{name} thanks! Your link waits for the streamer's OK.")
            }
            Ok(AskAdded::AlreadyWaiting(r)) => {
                format!("@{name} your link {} is still waiting for the streamer.", r.url)
            }
            Ok(AskAdded::Full) => format!(
                "@{name} {WATCH_ASKS_MAX} links are already waiting for the streamer; try again later."
            ),
            Err(e) => {
                tracing::error!(error = %e, "watch-along: a viewer's link could not be saved");
                format!("@{name} sorry, I could not keep your link; try again in a moment.")
            }
        }
    }

    /// Play or Deny from the card.
    pub(super) async fn decide_ask(
        &mut self,
        id: i64,
        play: bool,
    ) -> Result<Option<WatchRefusal>, ApiError> {
        let asks = self.setup.db.watch_asks();
        let Some(ask) = asks.get(id).await?.filter(|a| a.state == "waiting") else {
            self.refresh_view().await;
            return Ok(Some(WatchRefusal {
                code: WatchErrorCode::Unknown,
                message: "That link is no longer waiting.".into(),
            }));
        };
        if !play {
            if asks.decide(id, false, now_ms()).await?.is_some() {
                self.setup.replies.say(
                    &ask.channel,
                    format!(
                        "@{} the streamer passed on your link this time.",
                        ask.display
                    ),
                );
            }
            self.refresh_view().await;
            return Ok(None);
        }
        match self
            .start(&ask.url, ask.login.clone(), WatchSource::Twitch)
            .await?
        {
            WatchStartOutcome::Refused { refusal } => Ok(Some(refusal)),
            WatchStartOutcome::Started { session } => {
                if let Err(e) = self.setup.db.watch_asks().decide(id, true, now_ms()).await {
                    tracing::error!(error = %e, ask = id, "watch-along: a played link could not be marked played");
                }
                self.chat_requester =
                    Some((session.id.clone(), ask.channel.clone(), ask.display.clone()));
                self.setup.replies.say(
                    &ask.channel,
                    chat::got_it(&ask.display, &session.url, &session.target),
                );
                self.refresh_view().await;
                Ok(None)
            }
        }
    }
}
