//! StreamCue's test kit: what the integration tests, the window tests and the benchmarks share.
//!
//! - [`harness`] (re-exported at the root): an engine running in a temp data folder with every
//!   `CoreEvent` recorded, and small helpers (`within`, `secs`, ...).
//! - Fakes of the services the app talks to, each over real sockets on 127.0.0.1:
//!   [`fake_irc`] (Twitch chat), [`fake_pusher`] (Kick chat and channel API), [`fake_gen`]
//!   (the generation endpoint and its signed downloads), [`fake_llm`] (an OpenAI-compatible
//!   LLM server, for the co-host), [`fake_oauth`] (Twitch's identity
//!   service), [`hls_source`] (a live HLS stream made by ffmpeg, for streamlink).
//! - [`real_obs`]: a real OBS Studio under its own Xvfb (skips where it cannot run).
//! - [`window`]: the real app window driven through tauri-driver (the window tests).
//!
//! Invariants every fake keeps:
//! - it listens on 127.0.0.1 only, on an ephemeral port, through the one accept loop in
//!   [`serve`] (the HTTP fakes are served by hyper through [`serve::serve_http`]). The one
//!   exception is not a fake: obs-websocket binds every interface whatever it is told, so
//!   [`real_obs`] finds its port on all of them;
//! - dropping it stops its listener and every connection it is serving;
//! - it records what clients sent; recordings may hold credentials, which tests may compare
//!   but never print.
//!
//! A dev-dependency only (`publish = false`): nothing here is part of the app.

pub mod fake_controller;
pub mod fake_gen;
pub mod fake_irc;
pub mod fake_llm;
pub mod fake_oauth;
pub mod fake_pusher;
pub mod gen_rig;
pub mod harness;
pub mod hls_source;
pub mod http;
pub mod ids;
pub mod media;
pub mod real_obs;
pub mod secret_service;
pub mod serve;
pub mod tmpfs;
pub mod tray;
pub mod url;
mod watched;
pub mod window;

pub use harness::{
    init_tracing, is_connected, is_reconnecting, now_ms, secs, short_backoff, within, write_config,
    EventLog, Harness, HarnessOptions, Seen, SnapshotSlots,
};
