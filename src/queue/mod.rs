//! The generation queue: `!anime` requests from chat, cooldowns, a bounded queue the streamer
//! approves, and the replies viewers get.

mod actor;
pub mod command;
pub mod policy;
pub mod replies;

pub use actor::{
    inbound_channel, GenerationQueue, Inbound, QueueOptions, QueueSetup, MAX_LISTED_COOLDOWNS,
    RECENT_FINISHED,
};
pub use replies::{ChatReplies, ReplyOutcome, ReplySink};
