//! Co-host memory benchmark (not a test): what the co-host's context windows hold when it
//! follows 500 channels with 200 messages each (the most a window keeps:
//! `settings::CONTEXT_MESSAGES_MAX`).
//!
//! ```text
//! cohost_memory [--channels 500] [--messages 200]             both cases, each in a fresh process
//! cohost_memory --case typical|worst [--channels N] [--messages M]    one case in this process
//! ```
//! `scripts/bench.sh` runs it after the chat benchmark.
//!
//! Two figures per case, both printed:
//! - `heap`: the windows' own count of the bytes they hold (`ContextWindow::heap_bytes`: the
//!   line slots plus each name and text), exact;
//! - `RSS`: the process's resident memory after filling minus before (`/proc/self/status`
//!   VmRSS), which includes the allocator's overhead (mimalloc, the app's allocator).
//!
//! Cases: typical chat (the lengths of the demo chat's lines, 1–60 characters, some non-ASCII)
//! and the worst case (every line at `LINE_MAX_CHARS`, 4-byte characters), each filled with
//! 2× the messages so every window has wrapped and dropped its oldest lines.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use streamcue::cohost::context::{ContextWindow, LINE_MAX_CHARS};

const DEMO_CHAT: &str = include_str!("../assets/demo-chat.tsv");

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

struct Figures {
    heap_bytes: usize,
    rss_bytes: u64,
    lines: usize,
    push_ns: f64,
}

fn fill(channels: usize, messages: usize, texts: &[String]) -> Figures {
    let before = rss_kib();
    let mut windows: HashMap<String, ContextWindow> = HashMap::with_capacity(channels);
    let t0 = Instant::now();
    let start = tokio::time::Instant::now();
    let mut pushes = 0usize;
    for round in 0..2 * messages {
        for c in 0..channels {
            let w = windows
                .entry(format!("channel{c:04}"))
                .or_insert_with(|| ContextWindow::new(messages, Duration::from_secs(3600)));
            let text = &texts[(round * 31 + c * 7) % texts.len()];
            w.push(start, &format!("viewer{}", (round + c) % 97), text);
            pushes += 1;
        }
    }
    let push_ns = t0.elapsed().as_nanos() as f64 / pushes as f64;
    let after = rss_kib();
    let figures = Figures {
        heap_bytes: windows.values().map(ContextWindow::heap_bytes).sum(),
        rss_bytes: after.saturating_sub(before) * 1024,
        lines: windows.values().map(ContextWindow::len).sum(),
        push_ns,
    };
    drop(windows);
    figures
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut channels = 500usize;
    let mut messages = 200usize;
    let mut case: Option<String> = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next();
        match (flag.as_str(), value.and_then(|v| v.parse().ok())) {
            ("--channels", Some(v)) => channels = v,
            ("--messages", Some(v)) => messages = v,
            ("--case", _) if value.is_some() => case = value.cloned(),
            _ => {
                eprintln!(
                    "usage: cohost_memory [--case typical|worst] [--channels N] [--messages M]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let Some(case) = case else {
        // Each case in a fresh process, so memory the allocator kept from one case cannot hide
        // the next one's growth.
        println!("== StreamCue co-host memory: {channels} channels × {messages} messages ==");
        let mut ok = true;
        for case in ["typical", "worst"] {
            let status = std::process::Command::new(std::env::current_exe().expect("current_exe"))
                .args(["--case", case])
                .args(["--channels", &channels.to_string()])
                .args(["--messages", &messages.to_string()])
                .status();
            ok &= status.is_ok_and(|s| s.success());
        }
        return if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    };
    let typical: Vec<String> = DEMO_CHAT
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').nth(2).map(str::to_owned))
        .collect();
    let worst = vec!["😀".repeat(LINE_MAX_CHARS + 50)];
    let avg_typical =
        typical.iter().map(String::len).sum::<usize>() as f64 / typical.len().max(1) as f64;

    let mut ok = true;
    for (name, texts, note) in [
        (
            "typical",
            &typical,
            format!("demo chat lines, avg {avg_typical:.0} B"),
        ),
        (
            "worst",
            &worst,
            format!("{LINE_MAX_CHARS} four-byte characters per line"),
        ),
    ]
    .into_iter()
    .filter(|(name, ..)| *name == case)
    {
        let f = fill(channels, messages, texts);
        let expected = channels * messages;
        ok &= f.lines == expected;
        println!(
            "{name:8} ({note}): {} lines held, heap {:.1} MB ({:.0} B/line), RSS +{:.1} MB, {:.0} ns per line taken in",
            f.lines,
            mib(f.heap_bytes as f64),
            f.heap_bytes as f64 / f.lines.max(1) as f64,
            mib(f.rss_bytes as f64),
            f.push_ns
        );
        println!(
            "RESULT case={name} channels={channels} messages={messages} lines={} heap_mb={:.1} rss_mb={:.1} push_ns={:.0} ok={}",
            f.lines,
            mib(f.heap_bytes as f64),
            mib(f.rss_bytes as f64),
            f.push_ns,
            u8::from(f.lines == expected)
        );
    }
    if !["typical", "worst"].contains(&case.as_str()) {
        eprintln!("--case typical|worst, not {case}");
        return ExitCode::from(2);
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        println!("FAILED: a window did not hold exactly its {messages} messages");
        ExitCode::FAILURE
    }
}
