//! The watch-along error codes (seed 004, E4-T1): one table gives each code its wire name, its
//! HTTP status, what the requester is told and the step that gets them going again. The chat
//! and Discord replies, the webhook's answers and the window all read this table; the UI gets
//! the codes through the bindings and switches on them, never on message text.

use serde::{Deserialize, Serialize};

/// Every way a watch-along can fail (the seed's twelve, plus the webhook's invalid body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
pub enum WatchErrorCode {
    #[serde(rename = "ERR_BUSY")]
    Busy,
    #[serde(rename = "ERR_INVALID_URL")]
    InvalidUrl,
    #[serde(rename = "ERR_SANDBOX_FAILED")]
    SandboxFailed,
    #[serde(rename = "ERR_LOGIN_FAILED")]
    LoginFailed,
    #[serde(rename = "ERR_2FA_REQUIRED")]
    TwoFactorRequired,
    #[serde(rename = "ERR_CAPTCHA")]
    Captcha,
    #[serde(rename = "ERR_CHANNEL_NOT_FOUND")]
    ChannelNotFound,
    #[serde(rename = "ERR_SHARE_FAILED")]
    ShareFailed,
    #[serde(rename = "ERR_TIMEOUT")]
    Timeout,
    #[serde(rename = "ERR_BUDGET_EXCEEDED")]
    BudgetExceeded,
    #[serde(rename = "ERR_MAX_ITERATIONS")]
    MaxIterations,
    #[serde(rename = "ERR_UNKNOWN")]
    Unknown,
    /// A webhook or API body that does not follow the contract (seed E4-T3).
    #[serde(rename = "ERR_INVALID_REQUEST")]
    InvalidRequest,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    pub wire: &'static str,
    pub http_status: u16,
    /// What went wrong, in words. `{target}` is replaced by where the session plays (used by
    /// `ERR_BUSY`).
    pub message: &'static str,
    /// What to do next.
    pub recovery: &'static str,
}

impl WatchErrorCode {
    pub const ALL: [WatchErrorCode; 13] = [
        WatchErrorCode::Busy,
        WatchErrorCode::InvalidUrl,
        WatchErrorCode::SandboxFailed,
        WatchErrorCode::LoginFailed,
        WatchErrorCode::TwoFactorRequired,
        WatchErrorCode::Captcha,
        WatchErrorCode::ChannelNotFound,
        WatchErrorCode::ShareFailed,
        WatchErrorCode::Timeout,
        WatchErrorCode::BudgetExceeded,
        WatchErrorCode::MaxIterations,
        WatchErrorCode::Unknown,
        WatchErrorCode::InvalidRequest,
    ];

    /// The table.
    pub const fn info(self) -> CodeInfo {
        use WatchErrorCode::*;
        let (wire, http_status, message, recovery) = match self {
            Busy => (
                "ERR_BUSY",
                409,
                "Something is already playing on {target}.",
                "Wait until it ends, or stop it first (!stop or the Watch-along card).",
            ),
            InvalidUrl => (
                "ERR_INVALID_URL",
                400,
                "That link can't be watched.",
                "Send a public http(s) link: YouTube, Twitch, Vimeo or a video file.",
            ),
            SandboxFailed => (
                "ERR_SANDBOX_FAILED",
                503,
                "The screen-share controller could not start its sandbox.",
                "Check the controller's health in the Watch-along card, then try again.",
            ),
            LoginFailed => (
                "ERR_LOGIN_FAILED",
                401,
                "The screen-share account could not log in to Discord.",
                "Check the controller's Discord login, then try again.",
            ),
            TwoFactorRequired => (
                "ERR_2FA_REQUIRED",
                401,
                "The screen-share account needs a two-factor code.",
                "Use an account without 2FA for the controller, or log it in by hand once.",
            ),
            Captcha => (
                "ERR_CAPTCHA",
                401,
                "Discord asked the screen-share account for a CAPTCHA.",
                "Log the controller's account in by hand once, then try again.",
            ),
            ChannelNotFound => (
                "ERR_CHANNEL_NOT_FOUND",
                404,
                "The voice channel could not be found or joined.",
                "Join a voice channel the controller can see, then try again.",
            ),
            ShareFailed => (
                "ERR_SHARE_FAILED",
                500,
                "The video did not start playing.",
                "Check the link plays in a browser, then try again.",
            ),
            Timeout => (
                "ERR_TIMEOUT",
                504,
                "Starting the video took too long.",
                "Try again; if it keeps happening, try another link.",
            ),
            BudgetExceeded => (
                "ERR_BUDGET_EXCEEDED",
                402,
                "The controller's spending limit is used up.",
                "Raise the controller's budget or wait for it to reset.",
            ),
            MaxIterations => (
                "ERR_MAX_ITERATIONS",
                500,
                "The controller gave up after too many steps.",
                "Try again; if it keeps happening, check the controller's logs.",
            ),
            Unknown => (
                "ERR_UNKNOWN",
                500,
                "Something unexpected went wrong.",
                "Try again; StreamCue's log has the details.",
            ),
            InvalidRequest => (
                "ERR_INVALID_REQUEST",
                400,
                "The request did not follow the watch-along contract.",
                "See docs/watch-along-controller.md for the fields and their types.",
            ),
        };
        CodeInfo {
            wire,
            http_status,
            message,
            recovery,
        }
    }

    /// The code as sent on the wire (`ERR_BUSY`…).
    pub const fn wire(self) -> &'static str {
        self.info().wire
    }

    /// A code from its wire name; anything else is `ERR_UNKNOWN` (a controller may know more).
    pub fn from_wire(s: &str) -> WatchErrorCode {
        Self::ALL
            .into_iter()
            .find(|c| c.wire().eq_ignore_ascii_case(s.trim()))
            .unwrap_or(WatchErrorCode::Unknown)
    }

    /// The message and the recovery step as one text, `{target}` filled in.
    pub fn sentence(self, target: &str) -> String {
        let info = self.info();
        format!(
            "{} {}",
            info.message.replace("{target}", target),
            info.recovery
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_status_message_and_recovery_and_round_trips() {
        let statuses: Vec<(&str, u16)> = WatchErrorCode::ALL
            .iter()
            .map(|c| (c.wire(), c.info().http_status))
            .collect();
        assert_eq!(
            statuses,
            vec![
                ("ERR_BUSY", 409),
                ("ERR_INVALID_URL", 400),
                ("ERR_SANDBOX_FAILED", 503),
                ("ERR_LOGIN_FAILED", 401),
                ("ERR_2FA_REQUIRED", 401),
                ("ERR_CAPTCHA", 401),
                ("ERR_CHANNEL_NOT_FOUND", 404),
                ("ERR_SHARE_FAILED", 500),
                ("ERR_TIMEOUT", 504),
                ("ERR_BUDGET_EXCEEDED", 402),
                ("ERR_MAX_ITERATIONS", 500),
                ("ERR_UNKNOWN", 500),
                ("ERR_INVALID_REQUEST", 400),
            ]
        );
        for c in WatchErrorCode::ALL {
            let info = c.info();
            assert!(
                info.message.ends_with('.') && info.recovery.ends_with('.'),
                "{c:?}"
            );
            assert_eq!(WatchErrorCode::from_wire(info.wire), c);
            // serde uses the same wire names as the table.
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", info.wire));
            assert_eq!(serde_json::from_str::<WatchErrorCode>(&json).unwrap(), c);
        }
        assert_eq!(
            WatchErrorCode::from_wire("ERR_SOMETHING_NEW"),
            WatchErrorCode::Unknown
        );
        assert_eq!(
            WatchErrorCode::Busy.sentence("the Watch-along scene"),
            "Something is already playing on the Watch-along scene. Wait until it ends, or stop it first (!stop or the Watch-along card)."
        );
    }
}
