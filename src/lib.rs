//! StreamCue core: everything the app does, with no Tauri in it.
//!
//! The shell (`src-tauri/`) only wires this library to a window. Tests and benchmarks drive
//! it directly. See `ARCHITECTURE.md` for the map.

pub mod actor;
pub mod api;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod cohost;
pub mod config;
pub mod db;
pub mod desktop;
pub mod engine;
pub mod events;
pub mod folders;
pub mod generator;
pub mod logging;
pub mod moments;
pub mod obs;
pub mod paths;
pub mod queue;
pub mod recorder;
pub mod secrets;
pub mod server;
pub mod storage;
pub mod tools;
pub mod twitch_auth;
pub mod watch;

pub use engine::{Engine, EngineHandle, EngineOptions};

/// mimalloc instead of the system allocator, for every binary that links the core (the app, its
/// tests, the benchmarks). Parsing a chat line makes about twenty small strings (IRC tags); with
/// glibc's malloc, allocation was over a quarter of the chat thread's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
