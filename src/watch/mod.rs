//! Watch-along sessions (seed 004): a link someone sends becomes a shared viewing, played in
//! OBS or handed to a screen-share controller.
//!
//! `url` finds and checks the link, `codes` is the seed's error-code table, `session` the state
//! machine; `db::watch` keeps the sessions (one active, compare-and-set transitions, crash
//! recovery). The `WatchAlong` actor (`actor`) runs them on one of two executors: OBS (built
//! in; `resolve` turns the link into what OBS plays, the OBS actor's `watch` module plays it)
//! or an external controller (`contract`, `controller`, and the webhook in `server`).

pub mod codes;
pub mod contract;
pub mod controller;
pub mod resolve;
pub mod session;
pub mod url;

mod actor;
pub use actor::{
    check_settings, session_view, WatchAlong, WatchAsk, WatchChat, WatchSetup, WebhookAnswer,
    WebhookRefusal, SETTINGS,
};

pub use codes::WatchErrorCode;
pub use session::{step, Step, StepRefusal, WatchEvent, WatchStatus};
pub use url::{extract_url, UrlRefusal, UrlSite, WatchUrl};

/// A new session id: a random (version 4) UUID from the OS's random source.
pub fn new_session_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source works");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_ids_are_v4_uuids_and_differ() {
        let a = super::new_session_id();
        let b = super::new_session_id();
        assert_ne!(a, b);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'), "{a}");
        assert!("89ab".contains(&parts[3][..1]), "{a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "{a}");
    }
}
