//! The generation queue: `!anime` requests from chat, cooldowns, a bounded queue the streamer
//! approves, and the replies viewers get.

pub mod command;
