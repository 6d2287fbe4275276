//! The streamlink recorder against a real `streamlink` (Debian 12: 5.2.1) recording a local
//! live HLS source (ffmpeg + a tiny HTTP server on 127.0.0.1). Needs `streamlink`, `ffmpeg`
//! and `ffprobe` (scripts/setup.sh installs them). Every wait is bounded; the whole file runs
//! in about 30 s under nextest (tests in parallel; about 40 s one after another).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use streamcue::chat::Backoff;
use streamcue::recorder::streamlink::{
    recording_stem, run, RecorderEvent, StreamlinkOptions, INSTALL_HINT,
};
use streamcue_testkit::hls_source::HlsSource;
use streamcue_testkit::media::probe;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const STALL_AFTER: Duration = Duration::from_secs(3);
const STOP_GRACE: Duration = Duration::from_secs(10);

fn require_tools() {
    for tool in ["streamlink", "ffprobe"] {
        let ok = std::process::Command::new(tool)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok();
        let ok = ok
            || std::process::Command::new(tool)
                .arg("-version")
                .output()
                .is_ok();
        assert!(
            ok,
            "`{tool}` is required for these tests: run scripts/setup.sh (sudo apt install streamlink ffmpeg)"
        );
    }
}

fn options(source: &HlsSource, out_dir: &Path) -> StreamlinkOptions {
    StreamlinkOptions {
        url: format!("hls://{}", source.url()),
        quality: "best".into(),
        out_dir: out_dir.to_path_buf(),
        file_stem: recording_stem("test/chan", "s1", 1_714_591_800),
        stall_after: STALL_AFTER,
        restart_backoff: Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(1),
        },
        max_restarts: 0,
        stop_grace: STOP_GRACE,
        retry_streams: Duration::from_secs(1),
        retry_max: 2,
        // streamlink's read timeout is 60 s by default: give up on a dead stream sooner here.
        extra_args: vec!["--stream-timeout".into(), "4".into()],
        ..Default::default()
    }
}

/// The recorder under test and everything it has said.
struct Recording {
    rx: mpsc::Receiver<RecorderEvent>,
    seen: Vec<(Duration, RecorderEvent)>,
    t0: Instant,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl Recording {
    fn start(options: StreamlinkOptions) -> Recording {
        let (tx, rx) = mpsc::channel(256);
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(options, tx, cancel.clone()));
        Recording {
            rx,
            seen: Vec::new(),
            t0: Instant::now(),
            cancel,
            task,
        }
    }

    /// The next event matching `want` within `within`; panics with the history otherwise.
    async fn expect(
        &mut self,
        within: Duration,
        what: &str,
        want: impl Fn(&RecorderEvent) -> bool,
    ) -> RecorderEvent {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(event)) => {
                    let at = self.t0.elapsed();
                    if !matches!(event, RecorderEvent::Progress { .. }) {
                        eprintln!("[{:>6.2}s] {event:?}", at.as_secs_f64());
                    }
                    self.seen.push((at, event.clone()));
                    if want(&event) {
                        return event;
                    }
                }
                Ok(None) => panic!("recorder ended before {what}; saw {:#?}", self.history()),
                Err(_) => panic!("no {what} within {within:?}; saw {:#?}", self.history()),
            }
        }
    }

    /// Waits until the file has been seen growing `times` times in a row of Progress events.
    async fn expect_growth(&mut self, times: usize, within: Duration) -> u64 {
        let deadline = Instant::now() + within;
        let mut sizes: Vec<u64> = Vec::new();
        while sizes.len() <= times {
            let left = deadline.saturating_duration_since(Instant::now());
            let RecorderEvent::Progress { bytes, .. } = self
                .expect(left, "growing Progress", |e| {
                    matches!(e, RecorderEvent::Progress { .. })
                })
                .await
            else {
                unreachable!()
            };
            if let Some(&prev) = sizes.last() {
                assert!(bytes >= prev, "the file shrank: {prev} -> {bytes}");
                if bytes == prev {
                    continue;
                }
            }
            sizes.push(bytes);
        }
        *sizes.last().unwrap()
    }

    fn history(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter(|(_, e)| !matches!(e, RecorderEvent::Progress { .. }))
            .map(|(t, e)| format!("{:.2}s {e:?}", t.as_secs_f64()))
            .collect()
    }

    fn saw(&self, want: impl Fn(&RecorderEvent) -> bool) -> bool {
        self.seen.iter().any(|(_, e)| want(e))
    }

    async fn finished(self) {
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the recorder task ends after its last event")
            .expect("the recorder task does not panic");
    }
}

fn started_path(event: &RecorderEvent) -> PathBuf {
    match event {
        RecorderEvent::Started { path } => path.clone(),
        other => panic!("not Started: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_growing_file_and_stops_cleanly_with_sigint() {
    require_tools();
    let source = HlsSource::start().await;
    let out = tempfile::tempdir().unwrap();
    let mut rec = Recording::start(options(&source, out.path()));

    let started = rec
        .expect(Duration::from_secs(15), "Started", |e| {
            matches!(e, RecorderEvent::Started { .. })
        })
        .await;
    let path = started_path(&started);
    assert_eq!(path, out.path().join("test_chan_s1_20240501-193000.ts"));
    let bytes = rec.expect_growth(3, Duration::from_secs(12)).await;
    assert!(bytes > 0);
    assert!(
        rec.saw(
            |e| matches!(e, RecorderEvent::Progress { bytes_per_min, .. } if *bytes_per_min > 0)
        ),
        "Progress reports a rate"
    );

    let stop = Instant::now();
    rec.cancel.cancel();
    let exited = rec
        .expect(STOP_GRACE + Duration::from_secs(8), "Exited", |e| {
            matches!(e, RecorderEvent::Exited { .. })
        })
        .await;
    // 130: streamlink caught SIGINT (KeyboardInterrupt), closed the file and exited by itself.
    assert!(
        matches!(
            exited,
            RecorderEvent::Exited {
                code: Some(130),
                ..
            }
        ),
        "{exited:?}"
    );
    let stopped = rec
        .expect(Duration::from_secs(5), "Stopped", |e| {
            matches!(e, RecorderEvent::Stopped { .. })
        })
        .await;
    let stop_took = stop.elapsed();
    assert!(
        stop_took < STOP_GRACE,
        "stopped by SIGINT, not the kill: {stop_took:?}"
    );
    let RecorderEvent::Stopped {
        path: final_path,
        bytes,
    } = stopped
    else {
        unreachable!()
    };
    assert_eq!(final_path, path);
    assert_eq!(bytes, std::fs::metadata(&path).unwrap().len());
    assert!(!rec.saw(|e| matches!(e, RecorderEvent::Stalled { .. })));
    rec.finished().await;

    let (video, duration) = probe(&path);
    assert!(video, "ffprobe finds a video stream in {}", path.display());
    assert!(duration > 0.0, "duration {duration}");
    eprintln!("recorded {bytes} bytes, {duration:.2} s, stop took {stop_took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_then_exit_restart_and_resume_into_a_new_part() {
    require_tools();
    let source = HlsSource::start().await;
    let out = tempfile::tempdir().unwrap();
    let mut rec = Recording::start(StreamlinkOptions {
        max_restarts: 3,
        // After a restart, ask for the stream every second for up to 15 s.
        retry_max: 15,
        ..options(&source, out.path())
    });

    let part1 = started_path(
        &rec.expect(Duration::from_secs(15), "Started", |e| {
            matches!(e, RecorderEvent::Started { .. })
        })
        .await,
    );
    rec.expect_growth(2, Duration::from_secs(10)).await;

    // The stream goes away: every request is a 404 now.
    source.stop_serving();
    let gone = Instant::now();
    // Two things follow, in either order (streamlink's 4 s read timeout races the 3 s stall
    // check): `Stalled`, and streamlink exiting, which the recorder answers with a restart.
    let mut stalled_after = None;
    let mut exited_after = None;
    let mut restarting = None;
    while stalled_after.is_none() || restarting.is_none() {
        let event = rec
            .expect(
                Duration::from_secs(25),
                "Stalled, Exited and Restarting",
                |e| {
                    matches!(
                        e,
                        RecorderEvent::Stalled { .. }
                            | RecorderEvent::Exited { .. }
                            | RecorderEvent::Restarting { .. }
                    )
                },
            )
            .await;
        match event {
            RecorderEvent::Stalled { .. } => stalled_after = Some(gone.elapsed()),
            RecorderEvent::Exited { code, .. } => {
                assert!(exited_after.is_none(), "one exit: {:#?}", rec.history());
                assert_ne!(code, Some(0), "streamlink gave up on the stream");
                exited_after = Some(gone.elapsed());
            }
            other => {
                assert!(exited_after.is_some(), "Restarting follows Exited");
                restarting = Some(other);
            }
        }
    }
    let (stalled_after, exited_after) = (stalled_after.unwrap(), exited_after.unwrap());
    assert!(
        stalled_after <= STALL_AFTER + Duration::from_secs(4),
        "Stalled {stalled_after:?} after the 404s"
    );
    assert!(
        matches!(restarting, Some(RecorderEvent::Restarting { attempt: 1, in_s }) if in_s <= 1.0),
        "{restarting:?}"
    );
    let part1_bytes = std::fs::metadata(&part1).unwrap().len();
    assert!(part1_bytes > 0);

    // The stream is back: the restarted streamlink writes a new file.
    source.resume_serving();
    let back = Instant::now();
    let part2 = started_path(
        &rec.expect(Duration::from_secs(20), "Started (part 2)", |e| {
            matches!(e, RecorderEvent::Started { .. })
        })
        .await,
    );
    assert_eq!(
        part2,
        out.path().join("test_chan_s1_20240501-193000-part2.ts")
    );
    rec.expect(Duration::from_secs(5), "Resumed", |e| {
        matches!(e, RecorderEvent::Resumed)
    })
    .await;
    let resumed_after = back.elapsed();
    rec.expect_growth(2, Duration::from_secs(10)).await;

    rec.cancel.cancel();
    let stopped = rec
        .expect(STOP_GRACE + Duration::from_secs(8), "Stopped", |e| {
            matches!(e, RecorderEvent::Stopped { .. })
        })
        .await;
    let RecorderEvent::Stopped { path, bytes } = stopped else {
        unreachable!()
    };
    assert_eq!(path, part2);
    assert!(bytes > 0);
    // Resumed once, for the new part: not for the buffered bytes streamlink flushed on exit.
    let resumed: Vec<_> = rec
        .seen
        .iter()
        .filter(|(_, e)| matches!(e, RecorderEvent::Resumed))
        .collect();
    assert_eq!(resumed.len(), 1, "{:#?}", rec.history());
    rec.finished().await;

    // Part 1 was never touched again; both files play.
    assert_eq!(std::fs::metadata(&part1).unwrap().len(), part1_bytes);
    for p in [&part1, &part2] {
        let (video, duration) = probe(p);
        assert!(
            video && duration > 0.0,
            "{}: {video} {duration}",
            p.display()
        );
    }
    eprintln!(
        "stalled {stalled_after:?} after the 404s, streamlink exited after {exited_after:?}, \
         resumed {resumed_after:?} after serving again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_end_uses_up_restarts_then_stops_with_the_recording() {
    require_tools();
    let mut source = HlsSource::start().await;
    let out = tempfile::tempdir().unwrap();
    let mut rec = Recording::start(StreamlinkOptions {
        max_restarts: 1,
        // Restart in 1-2 s, leaving time to take the stream offline first.
        restart_backoff: Backoff {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(2),
        },
        retry_max: 1,
        ..options(&source, out.path())
    });
    let part1 = started_path(
        &rec.expect(Duration::from_secs(15), "Started", |e| {
            matches!(e, RecorderEvent::Started { .. })
        })
        .await,
    );
    rec.expect_growth(2, Duration::from_secs(10)).await;

    // The streamer ends the stream: the playlist gets #EXT-X-ENDLIST and streamlink exits 0.
    source.stop_ffmpeg().await;
    let exited = rec
        .expect(Duration::from_secs(15), "Exited", |e| {
            matches!(e, RecorderEvent::Exited { .. })
        })
        .await;
    source.stop_serving(); // and the channel is offline now
    assert!(
        matches!(&exited, RecorderEvent::Exited { code: Some(0), stderr_tail } if stderr_tail.contains("Stream ended")),
        "{exited:?}"
    );
    rec.expect(Duration::from_secs(2), "Restarting", |e| {
        matches!(e, RecorderEvent::Restarting { attempt: 1, .. })
    })
    .await;
    // The restart finds no stream and gives up; the recording so far is the result.
    let again = rec
        .expect(Duration::from_secs(15), "second Exited", |e| {
            matches!(e, RecorderEvent::Exited { .. })
        })
        .await;
    assert!(
        matches!(&again, RecorderEvent::Exited { code: Some(1), .. }),
        "{again:?}"
    );
    let stopped = rec
        .expect(Duration::from_secs(5), "Stopped", |e| {
            matches!(
                e,
                RecorderEvent::Stopped { .. } | RecorderEvent::Failed { .. }
            )
        })
        .await;
    let RecorderEvent::Stopped { path, bytes } = stopped else {
        panic!("expected Stopped, got {stopped:?}")
    };
    assert_eq!(path, part1);
    assert_eq!(bytes, std::fs::metadata(&part1).unwrap().len());
    assert!(!rec.saw(|e| matches!(e, RecorderEvent::Restarting { attempt: 2, .. })));
    rec.finished().await;
    assert!(!out
        .path()
        .join("test_chan_s1_20240501-193000-part2.ts")
        .exists());
    let (video, duration) = probe(&part1);
    assert!(video && duration > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_quality_fails_at_once_without_restarting() {
    require_tools();
    let source = HlsSource::start().await;
    let out = tempfile::tempdir().unwrap();
    let mut rec = Recording::start(StreamlinkOptions {
        quality: "1080p60".into(),
        max_restarts: 3,
        ..options(&source, out.path())
    });
    let failed = rec
        .expect(Duration::from_secs(15), "Failed", |e| {
            matches!(
                e,
                RecorderEvent::Failed { .. } | RecorderEvent::Stopped { .. }
            )
        })
        .await;
    let RecorderEvent::Failed { message } = failed else {
        panic!("expected Failed, got {failed:?}")
    };
    assert!(
        message.contains("'1080p60' could not be found"),
        "{message}"
    );
    assert!(!rec.saw(|e| matches!(e, RecorderEvent::Restarting { .. })));
    rec.finished().await;
}

#[tokio::test]
async fn missing_streamlink_fails_with_the_install_hint() {
    let out = tempfile::tempdir().unwrap();
    let mut rec = Recording::start(StreamlinkOptions {
        program: "/nonexistent/streamlink".into(),
        url: "twitch.tv/shroud".into(),
        out_dir: out.path().to_path_buf(),
        ..Default::default()
    });
    let first = rec.expect(Duration::from_secs(5), "Failed", |_| true).await;
    assert_eq!(
        first,
        RecorderEvent::Failed {
            message: INSTALL_HINT.to_string()
        }
    );
    assert!(INSTALL_HINT.contains("sudo apt install streamlink"));
    assert!(INSTALL_HINT.contains("pip install streamlink"));
    rec.finished().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_stream_is_waited_for_until_it_goes_live_and_again_after_it_ends() {
    require_tools();
    let mut source = HlsSource::start().await;
    source.stop_serving(); // the channel is offline
    let out = tempfile::tempdir().unwrap();
    let mut rec = Recording::start(StreamlinkOptions {
        wait_for_live: Some(Duration::from_secs(1)),
        max_restarts: 0,
        ..options(&source, out.path())
    });
    // It checks again and again, and says so: no failure, no file, no stall.
    for n in 1..=3u32 {
        let waiting = rec
            .expect(
                Duration::from_secs(20),
                "Waiting",
                |e| matches!(e, RecorderEvent::Waiting { checks, .. } if *checks == n),
            )
            .await;
        let RecorderEvent::Waiting {
            next_in_s, reason, ..
        } = waiting
        else {
            unreachable!()
        };
        assert_eq!(next_in_s, 1.0);
        assert!(!reason.is_empty(), "the reason is streamlink's own word");
    }
    assert!(!rec.saw(|e| matches!(
        e,
        RecorderEvent::Failed { .. }
            | RecorderEvent::Started { .. }
            | RecorderEvent::Stalled { .. }
    )));
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "no file while offline"
    );

    // The channel goes live: the next check records.
    source.resume_serving();
    let part1 = started_path(
        &rec.expect(Duration::from_secs(20), "Started", |e| {
            matches!(e, RecorderEvent::Started { .. })
        })
        .await,
    );
    rec.expect_growth(2, Duration::from_secs(10)).await;

    // The stream ends and the channel is offline again: waiting again, not stopped.
    source.stop_ffmpeg().await;
    rec.expect(Duration::from_secs(15), "Exited", |e| {
        matches!(e, RecorderEvent::Exited { .. })
    })
    .await;
    source.stop_serving();
    // (`checks` counts since it last recorded.)
    rec.expect(Duration::from_secs(20), "Waiting again", |e| {
        matches!(e, RecorderEvent::Waiting { checks: 1, .. })
    })
    .await;
    assert!(!rec.saw(|e| matches!(
        e,
        RecorderEvent::Stopped { .. } | RecorderEvent::Failed { .. }
    )));

    // Stop while waiting: the recording made is the result.
    rec.cancel.cancel();
    let stopped = rec
        .expect(Duration::from_secs(15), "Stopped", |e| {
            matches!(
                e,
                RecorderEvent::Stopped { .. } | RecorderEvent::Failed { .. }
            )
        })
        .await;
    let RecorderEvent::Stopped { path, bytes } = stopped else {
        panic!("expected Stopped, got {stopped:?}")
    };
    assert_eq!(path, part1);
    assert_eq!(bytes, std::fs::metadata(&part1).unwrap().len());
    rec.finished().await;
    let (video, duration) = probe(&part1);
    assert!(video && duration > 0.0);
}
