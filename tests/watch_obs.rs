//! Watch-along on the OBS executor, against a real OBS Studio 30.2 (the testkit's, from the
//! cached Debian 13 root): the link goes through `streamlink --stream-url` (a stand-in script,
//! since YouTube cannot be reached from here: it records its arguments and prints the URL of a
//! live HLS stream that ffmpeg serves on 127.0.0.1), OBS's Watch-along source plays it, and
//! OBS's own state is checked with a separate obws client. Skipped (with the reason) where a
//! real OBS cannot run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use obws::requests::inputs::InputId;
use streamcue::api::{
    CoreEvent, ObsConnection, ObsNames, ObsSettingsUpdate, ObsState, WatchExecutor, WatchSettings,
    WatchSource, WatchStartOutcome, WatchView,
};
use streamcue::watch::{WatchErrorCode, WatchStatus};
use streamcue_testkit::hls_source::HlsSource;
use streamcue_testkit::real_obs::{obs_or_skip, obs_tempdir, RealObs};
use streamcue_testkit::{secs, Harness, HarnessOptions};

const LINK: &str = "https://www.youtube.com/watch?v=dQw4w9WgXcQ";

/// The stand-in streamlink: logs its arguments, prints the URL in `url.txt` (nothing and exit
/// 1 when there is none, as streamlink does for a link with no stream).
struct FakeStreamlink {
    dir: tempfile::TempDir,
}

impl FakeStreamlink {
    fn new() -> FakeStreamlink {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let script = format!(
            "#!/bin/sh\necho \"$@\" >> {d}/args.log\nif [ -s {d}/url.txt ]; then cat {d}/url.txt; else echo 'error: No playable streams found on this URL' >&2; exit 1; fi\n"
        );
        let path = dir.path().join("streamlink");
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        FakeStreamlink { dir }
    }
    fn program(&self) -> PathBuf {
        self.dir.path().join("streamlink")
    }
    fn will_print(&self, url: &str) {
        std::fs::write(self.dir.path().join("url.txt"), url).unwrap();
    }
    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("args.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

async fn engine(streamlink: &Path, obs: &RealObs) -> Harness {
    let config = format!(
        "[watch]\nstreamlink = \"{}\"\nresolve_timeout_seconds = 10\n",
        streamlink.display()
    );
    let h = Harness::start(HarnessOptions {
        config_toml: Some(config.into_bytes()),
        dir: Some(obs_tempdir()),
        ..Default::default()
    })
    .await;
    let handle = h.engine().handle();
    handle
        .obs()
        .update_settings(ObsSettingsUpdate {
            enabled: true,
            host: "127.0.0.1".into(),
            port: obs.port(),
            password: Some(obs.password().into()),
            names: ObsNames::default(),
        })
        .await
        .expect("OBS settings");
    wait_obs(&h, secs(15.0), "connected", |s| {
        matches!(s.connection, ObsConnection::Connected { .. })
    })
    .await;
    let report = handle.obs().set_up().await.expect("set up OBS");
    for want in ["scene Watch-along", "media source Watch-along Video"] {
        assert!(
            report.created.iter().any(|c| c == want),
            "{want}: {report:?}"
        );
    }
    handle
        .watch()
        .save_settings(WatchSettings {
            executor: WatchExecutor::Obs,
            start_timeout_seconds: 10,
            obs_volume_percent: 40,
            ..WatchSettings::default()
        })
        .await
        .expect("watch settings");
    h
}

fn last_obs(h: &Harness) -> Option<ObsState> {
    h.events
        .pick(|e| match e {
            CoreEvent::Obs { state } => Some(state.clone()),
            _ => None,
        })
        .pop()
}

async fn wait_obs(h: &Harness, limit: Duration, what: &str, pred: impl Fn(&ObsState) -> bool) {
    h.events
        .wait(limit, what, |_| last_obs(h).is_some_and(|s| pred(&s)))
        .await;
}

fn last_watch(h: &Harness) -> Option<WatchView> {
    h.events
        .pick(|e| match e {
            CoreEvent::Watch { view } => Some(*view.clone()),
            _ => None,
        })
        .pop()
}

async fn wait_watch(
    h: &Harness,
    limit: Duration,
    what: &str,
    pred: impl Fn(&WatchView) -> bool,
) -> WatchView {
    h.events
        .wait(limit, what, |_| last_watch(h).is_some_and(|v| pred(&v)))
        .await;
    last_watch(h).unwrap()
}

fn status(v: &WatchView, id: &str) -> Option<WatchStatus> {
    v.history.iter().find(|s| s.id == id).map(|s| s.status)
}

async fn start(h: &Harness, text: &str) -> String {
    let outcome = h
        .engine()
        .handle()
        .watch()
        .start(text.into(), "streamer".into(), WatchSource::Window)
        .await
        .expect("start answered");
    match outcome {
        WatchStartOutcome::Started { session } => {
            assert_eq!(session.target, "OBS");
            session.id
        }
        other => panic!("refused: {other:?}"),
    }
}

async fn program_scene(client: &obws::Client) -> String {
    client
        .scenes()
        .current_program_scene()
        .await
        .unwrap()
        .id
        .name
}

async fn source_input(client: &obws::Client) -> serde_json::Value {
    client
        .inputs()
        .settings::<serde_json::Value>(InputId::Name("Watch-along Video"))
        .await
        .unwrap()
        .settings["input"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_plays_in_the_watch_along_scene_until_stopped_or_ended_then_obs_goes_back() {
    let test = "a_link_plays_in_the_watch_along_scene_until_stopped_or_ended_then_obs_goes_back";
    let Some(obs) = obs_or_skip(test).await else {
        return;
    };
    let mut hls = HlsSource::start().await;
    let streamlink = FakeStreamlink::new();
    streamlink.will_print(&hls.url());
    let h = engine(&streamlink.program(), &obs).await;
    let client = obs.client().await;
    assert_eq!(program_scene(&client).await, "Live");

    // 1. Started from the window, stopped by the streamer.
    let id = start(&h, &format!("tonight: {LINK} !")).await;
    wait_watch(&h, secs(20.0), "streaming", |v| {
        status(v, &id) == Some(WatchStatus::Streaming)
    })
    .await;
    assert_eq!(streamlink.calls(), [format!("--stream-url {LINK} best")]);
    assert_eq!(program_scene(&client).await, "Watch-along");
    assert_eq!(source_input(&client).await, hls.url().as_str());
    let media = client
        .media_inputs()
        .status(InputId::Name("Watch-along Video"))
        .await
        .unwrap();
    assert_eq!(
        media.state,
        obws::responses::media_inputs::MediaState::Playing
    );
    let volume = client
        .inputs()
        .volume(InputId::Name("Watch-along Video"))
        .await
        .unwrap();
    assert!((volume.mul - 0.4).abs() < 0.01, "{volume:?}");
    // A second link while it plays: ERR_BUSY, naming OBS.
    match h
        .engine()
        .handle()
        .watch()
        .start(
            "https://vimeo.com/123".into(),
            "mod".into(),
            WatchSource::Window,
        )
        .await
        .unwrap()
    {
        WatchStartOutcome::Refused { refusal } => {
            assert_eq!(refusal.code, WatchErrorCode::Busy);
            assert!(refusal.message.contains("OBS"), "{}", refusal.message);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.engine().handle().watch().stop().await.unwrap(), None);
    wait_watch(&h, secs(5.0), "ended", |v| v.current.is_none()).await;
    wait_obs(&h, secs(5.0), "back to Live", |s| {
        s.program_scene.as_deref() == Some("Live")
    })
    .await;
    assert_eq!(program_scene(&client).await, "Live");
    assert_eq!(source_input(&client).await, "");

    // 2. The stream ends by itself (ffmpeg stops; the playlist gets its end tag): ENDED, and
    // OBS goes back without anyone pressing Stop.
    let id = start(&h, LINK).await;
    wait_watch(&h, secs(20.0), "streaming again", |v| {
        status(v, &id) == Some(WatchStatus::Streaming)
    })
    .await;
    hls.stop_ffmpeg().await;
    let v = wait_watch(&h, secs(40.0), "ended by itself", |v| {
        status(v, &id) == Some(WatchStatus::Ended)
    })
    .await;
    assert!(v.current.is_none());
    wait_obs(&h, secs(5.0), "back to Live after the end", |s| {
        s.program_scene.as_deref() == Some("Live")
    })
    .await;

    // 3. A link streamlink finds nothing for: FAILED with streamlink's words; OBS untouched.
    streamlink.will_print("");
    let id = start(&h, "https://twitch.tv/somebody").await;
    let v = wait_watch(&h, secs(15.0), "failed", |v| {
        status(v, &id) == Some(WatchStatus::Failed)
    })
    .await;
    let failed = v.history.iter().find(|s| s.id == id).unwrap();
    assert_eq!(failed.error_code, Some(WatchErrorCode::ShareFailed));
    let message = failed.error_message.as_deref().unwrap();
    assert!(message.contains("No playable streams found"), "{message}");
    assert_eq!(program_scene(&client).await, "Live");

    let mut h = h;
    h.shutdown_within(secs(10.0)).await;
    let db = h.reopen_db().await;
    let rows = db.watch().recent(10).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.status).collect::<Vec<_>>(),
        [WatchStatus::Failed, WatchStatus::Ended, WatchStatus::Ended]
    );
    assert!(rows.iter().all(|r| r.executor == "obs"), "{rows:?}");
}

/// A 3 s MP4 with its index first (the test server does not do ranges), in `dir`.
fn make_mp4(dir: &Path) -> PathBuf {
    let path = dir.join("clip.mp4");
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args([
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac", "-movflags", "+faststart"])
        .arg(&path)
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mp4_plays_to_its_end_a_silent_stream_times_out_and_a_killed_obs_fails_the_session() {
    let test =
        "an_mp4_plays_to_its_end_a_silent_stream_times_out_and_a_killed_obs_fails_the_session";
    let Some(mut obs) = obs_or_skip(test).await else {
        return;
    };
    let hls = HlsSource::start().await;
    make_mp4(hls.dir());
    let mp4_url = hls.url().replace("live.m3u8", "clip.mp4");
    let streamlink = FakeStreamlink::new();
    let h = engine(&streamlink.program(), &obs).await;
    let client = obs.client().await;

    // 1. An MP4 (a VOD): STREAMING once its cursor moves, ENDED when OBS played it through.
    streamlink.will_print(&mp4_url);
    let id = start(&h, LINK).await;
    wait_watch(&h, secs(20.0), "the MP4 streaming", |v| {
        status(v, &id) == Some(WatchStatus::Streaming)
    })
    .await;
    assert_eq!(source_input(&client).await, mp4_url.as_str());
    wait_watch(&h, secs(20.0), "the MP4 ended", |v| {
        status(v, &id) == Some(WatchStatus::Ended)
    })
    .await;
    wait_obs(&h, secs(5.0), "back to Live after the MP4", |s| {
        s.program_scene.as_deref() == Some("Live")
    })
    .await;

    // 2. A peer that accepts and never answers: OBS says "playing" at cursor 0, which does not
    // count; ERR_TIMEOUT after the start timeout, and OBS is given back.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            open.push(s);
        }
    });
    streamlink.will_print(&format!("http://{addr}/live.m3u8"));
    let id = start(&h, LINK).await;
    wait_obs(&h, secs(10.0), "on the Watch-along scene", |s| {
        s.program_scene.as_deref() == Some("Watch-along")
    })
    .await;
    let v = wait_watch(&h, secs(25.0), "timed out", |v| {
        status(v, &id) == Some(WatchStatus::Failed)
    })
    .await;
    let failed = v.history.iter().find(|s| s.id == id).unwrap();
    assert_eq!(failed.error_code, Some(WatchErrorCode::Timeout));
    assert!(
        failed.error_message.as_deref().unwrap().contains("10 s"),
        "{failed:?}"
    );
    wait_obs(&h, secs(5.0), "back to Live after the timeout", |s| {
        s.program_scene.as_deref() == Some("Live")
    })
    .await;
    assert_eq!(program_scene(&client).await, "Live");
    assert_eq!(source_input(&client).await, "");

    // 3. OBS killed while a live stream plays: FAILED with the reason, not left streaming.
    streamlink.will_print(&hls.url());
    let id = start(&h, LINK).await;
    wait_watch(&h, secs(20.0), "the live stream streaming", |v| {
        status(v, &id) == Some(WatchStatus::Streaming)
    })
    .await;
    obs.kill();
    let v = wait_watch(&h, secs(20.0), "failed with OBS gone", |v| {
        status(v, &id) == Some(WatchStatus::Failed)
    })
    .await;
    let failed = v.history.iter().find(|s| s.id == id).unwrap();
    assert_eq!(failed.error_code, Some(WatchErrorCode::ShareFailed));
    let message = failed.error_message.as_deref().unwrap();
    assert!(message.contains("OBS went away"), "{message}");
    assert!(v.current.is_none());
}
