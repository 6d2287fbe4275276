//! Tracing set-up: human-readable lines on the console, JSON lines in a daily-rotated file.
//!
//! Invariant: twitch-irc's own TRACE output (which includes the raw `PASS` line) is always
//! filtered out, whatever `RUST_LOG` says; protocol debugging goes through
//! `streamcue::irc_wire`, which redacts `PASS`.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Keeps the file writer alive; drop it last (it flushes).
pub struct LogGuard {
    _file: Option<WorkerGuard>,
}

/// The filter StreamCue runs with: `RUST_LOG` (default `info`), with twitch-irc capped at
/// `debug` and wire logging switched on only when asked for.
pub fn filter(protocol_debug: bool) -> EnvFilter {
    let base = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let wire = if protocol_debug { "trace" } else { "off" };
    let mut filter = EnvFilter::builder().parse_lossy(base);
    for directive in [
        "twitch_irc=info".to_string(),
        format!("streamcue::irc_wire={wire}"),
    ] {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
pub fn init(log_dir: &Path, protocol_debug: bool, keep_days: u32) -> LogGuard {
    let file = std::fs::create_dir_all(log_dir).ok().and_then(|_| {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("streamcue")
            .filename_suffix("jsonl")
            .max_log_files(keep_days.max(1) as usize)
            .build(log_dir)
            .ok()
    });
    let (file_layer, guard) = match file {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = fmt::layer()
                .json()
                .with_current_span(false)
                .with_writer(writer)
                .with_filter(filter(protocol_debug));
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let console = fmt::layer()
        .with_target(true)
        .with_filter(filter(protocol_debug));
    let _ = tracing_subscriber::registry()
        .with(console)
        .with(file_layer)
        .try_init();
    LogGuard { _file: guard }
}

/// Lets a repeated log line through at most once per second, saying how many were held back
/// (a flood of identical warnings must not become a flood of log lines).
pub struct Throttle {
    last_ms: std::sync::atomic::AtomicI64,
    held: std::sync::atomic::AtomicU64,
}

impl Throttle {
    pub const fn new() -> Self {
        Self {
            last_ms: std::sync::atomic::AtomicI64::new(i64::MIN / 2),
            held: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// `Some(held back since the last one)` when this occurrence may be logged.
    pub fn allow(&self) -> Option<u64> {
        use std::sync::atomic::Ordering::Relaxed;
        let now = crate::clock::now_ms();
        let last = self.last_ms.load(Relaxed);
        if now - last >= 1000
            && self
                .last_ms
                .compare_exchange(last, now, Relaxed, Relaxed)
                .is_ok()
        {
            Some(self.held.swap(0, Relaxed))
        } else {
            self.held.fetch_add(1, Relaxed);
            None
        }
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new()
    }
}

/// Longest UI error message and stack kept in the log, characters.
const UI_MESSAGE_MAX: usize = 2_000;
const UI_STACK_MAX: usize = 8_000;

/// Writes an error thrown in the window to the log (target `ui`), with its stack. Both are cut
/// to a bounded length and stripped of control characters other than line breaks, so a page
/// cannot flood or forge log lines; at most one a second is kept (with the count held back).
pub fn ui_error(message: &str, stack: Option<&str>) {
    static THROTTLE: Throttle = Throttle::new();
    let Some(held) = THROTTLE.allow() else {
        return;
    };
    let clean = |s: &str, max: usize| -> String {
        s.chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .take(max)
            .collect()
    };
    let message = clean(message, UI_MESSAGE_MAX);
    let stack = stack.map(|s| clean(s, UI_STACK_MAX)).unwrap_or_default();
    tracing::error!(target: "ui", held_back = held, stack = %stack, "{message}");
}
