//! The AI co-host (seed 001): answers viewers who mention it or use `!ask` (and optionally fills
//! quiet stretches) through any OpenAI-compatible `POST {base}/v1/chat/completions` endpoint, or
//! the offline demo responder. Answers become drafts the streamer approves (the default) or go
//! straight to chat (auto mode), always through `ChatReplies`.
//!
//! - `llm`: the HTTP client (timeouts, retries, SSE or plain answers, typed errors).
//! - `processor`: what is done to an answer before anyone sees it (pure steps).
//! - `triggers`: when the co-host speaks (pure decisions over synthetic time).
//! - `context`: each channel's recent chat (memory only) and the prompt built from it.
//! - `demo`: the offline responder; `settings`: checks and the rules made from the settings;
//!   `actor`: the `Cohost` actor (drafts, delivery, counters).

mod actor;
pub mod context;
pub mod demo;
pub mod llm;
pub mod processor;
pub mod settings;
pub mod triggers;

pub use actor::{Cohost, CohostFeed, CohostSetup, FeedInlet, HeardLine, DRAFTS_MAX, FEED_CAPACITY};
