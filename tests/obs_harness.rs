//! Self-tests of the real-OBS harness (`streamcue_testkit::real_obs`): OBS 30.2 from the Debian 13
//! root, headless, reached with obws exactly as the app will reach it.
//!
//! They skip (printing `SKIPPED <test>: <reason>`) where the harness cannot run, except in CI.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use obws::common::MediaAction;
use obws::requests::inputs::{Create, InputId};
use obws::responses::media_inputs::MediaState;
use streamcue_testkit::real_obs::{
    self, describe, obs_or_skip, obs_tempdir, prepare_or_skip, DEFAULT_SCENE,
};

/// Fails the test if `fut` does not finish within `limit`.
async fn within<T>(limit: Duration, what: &str, fut: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

const CALL: Duration = Duration::from_secs(10);

fn artifacts() -> PathBuf {
    std::env::var_os("STREAMCUE_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts"))
}

fn process_exists(pid: u32) -> bool {
    // A reaped process is gone from /proc; a zombie would still be listed, so check its state.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[tokio::test]
async fn starts_obs_30_2_with_one_empty_scene() {
    let Some(obs) = obs_or_skip("starts_obs_30_2_with_one_empty_scene").await else {
        return;
    };
    eprintln!(
        "OBS ready after {:?} on port {}, display {}",
        obs.ready_after().unwrap(),
        obs.port(),
        obs.display()
    );
    assert_eq!(comm(obs.pid()), "obs", "pid() is OBS itself");
    assert_eq!(comm(obs.xvfb_pid()), "Xvfb");

    let client = obs.client().await;
    let version = within(CALL, "GetVersion", client.general().version())
        .await
        .expect("GetVersion");
    eprintln!(
        "OBS {} / obs-websocket {} / rpc {} on {}",
        version.obs_studio_version,
        version.obs_web_socket_version,
        version.rpc_version,
        version.platform_description
    );
    let (studio, ws) = (&version.obs_studio_version, &version.obs_web_socket_version);
    assert_eq!((studio.major, studio.minor), (30, 2), "OBS {studio}");
    assert_eq!((ws.major, ws.minor), (5, 5), "obs-websocket {ws}");

    let scenes = within(CALL, "GetSceneList", client.scenes().list())
        .await
        .expect("GetSceneList");
    let names: Vec<&str> = scenes.scenes.iter().map(|s| s.id.name.as_str()).collect();
    assert_eq!(names, [DEFAULT_SCENE], "exactly the one scene");
    let current = scenes.current_program_scene.expect("a current scene");
    assert_eq!(current.name, DEFAULT_SCENE);
    let items = within(
        CALL,
        "GetSceneItemList",
        client.scene_items().list(DEFAULT_SCENE.into()),
    )
    .await
    .expect("GetSceneItemList");
    assert!(items.is_empty(), "the scene is empty: {items:?}");
    let inputs = within(CALL, "GetInputList", client.inputs().list(None))
        .await
        .expect("GetInputList");
    assert!(
        inputs.is_empty(),
        "no inputs (no audio capture): {inputs:?}"
    );

    // The video pipeline renders (software GL) even with the preview off.
    let fps = within(Duration::from_secs(10), "OBS rendering frames", async {
        loop {
            let stats = within(CALL, "GetStats", client.general().stats())
                .await
                .expect("GetStats");
            if stats.active_fps > 0.0 {
                return stats.active_fps;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    eprintln!("rendering at {fps:.1} fps");
}

#[tokio::test]
async fn wrong_password_is_refused() {
    let Some(obs) = obs_or_skip("wrong_password_is_refused").await else {
        return;
    };
    let wrong = format!("{}x", obs.password());
    let result = within(
        CALL,
        "connect with a wrong password",
        obws::Client::connect("127.0.0.1", obs.port(), Some(wrong.as_str())),
    )
    .await;
    let err = match result {
        Ok(_) => panic!("a wrong password was accepted"),
        Err(e) => e,
    };
    eprintln!("wrong password: {}", describe(&err));
    // obs-websocket closes the socket with 4009 (AuthenticationFailed) during the handshake.
    match &err {
        obws::error::Error::Handshake(obws::client::HandshakeError::ConnectionClosed(Some(
            details,
        ))) => assert_eq!(u16::from(details.code), 4009, "{details:?}"),
        other => panic!("unexpected error kind for a wrong password: {other:?}"),
    }

    let none = within(
        CALL,
        "connect without a password",
        obws::Client::connect("127.0.0.1", obs.port(), None::<&str>),
    )
    .await;
    match none {
        Ok(_) => panic!("no password was accepted"),
        Err(e) => eprintln!("no password: {}", describe(&e)),
    }

    // The right one still works after the failures.
    let client = obs.client().await;
    within(CALL, "GetVersion", client.general().version())
        .await
        .expect("GetVersion");
}

#[tokio::test]
async fn killed_obs_drops_clients_and_restarts() {
    let Some(mut obs) = obs_or_skip("killed_obs_drops_clients_and_restarts").await else {
        return;
    };
    let client = obs.client().await;
    within(CALL, "GetVersion", client.general().version())
        .await
        .expect("GetVersion");
    let mut events = client.events().expect("events while connected");
    let old_pid = obs.pid();

    obs.kill();
    assert!(
        !process_exists(old_pid),
        "OBS {old_pid} is gone after kill()"
    );
    assert!(process_exists(obs.xvfb_pid()), "Xvfb survives kill()");

    // The client notices: the event stream yields ServerStopped and ends, and no new stream
    // can be had.
    let killed = Instant::now();
    let seen = within(Duration::from_secs(10), "the event stream ending", async {
        let mut seen = Vec::new();
        while let Some(event) = events.next().await {
            seen.push(format!("{event:?}"));
        }
        seen
    })
    .await;
    eprintln!(
        "event stream ended {:?} after the kill; its last events: {:?}",
        killed.elapsed(),
        &seen[seen.len().saturating_sub(3)..]
    );
    assert_eq!(seen.last().map(String::as_str), Some("ServerStopped"));
    assert!(
        matches!(client.events(), Err(obws::error::Error::Disconnected)),
        "no new event stream after the kill"
    );
    // A request now errors, or hangs (obws may never answer it): either way it must not succeed.
    match tokio::time::timeout(Duration::from_secs(3), client.general().version()).await {
        Ok(Ok(_)) => panic!("a request to a killed OBS succeeded"),
        Ok(Err(e)) => eprintln!("request after kill: {}", describe(&e)),
        Err(_) => eprintln!("request after kill: no answer within 3 s (hangs)"),
    }

    let restart = Instant::now();
    obs.restart().await.expect("restart");
    assert_ne!(obs.pid(), old_pid);
    assert_eq!(comm(obs.pid()), "obs");
    let fresh = within(
        Duration::from_secs(5),
        "connecting after restart",
        obs.client(),
    )
    .await;
    let version = within(CALL, "GetVersion", fresh.general().version())
        .await
        .expect("GetVersion after restart");
    eprintln!(
        "restarted: ready after {:?}, connected + GetVersion {:?} after restart() began (OBS {})",
        obs.ready_after().unwrap(),
        restart.elapsed(),
        version.obs_studio_version
    );
    assert!(restart.elapsed() < Duration::from_secs(30));
    // The old client stays dead: obws does not reconnect.
    assert!(client.events().is_err());
    let scenes = within(CALL, "GetSceneList", fresh.scenes().list())
        .await
        .expect("GetSceneList after restart");
    assert!(scenes.scenes.iter().any(|s| s.id.name == DEFAULT_SCENE));
}

#[tokio::test]
async fn obs_started_after_the_client_is_reachable() {
    let Some(mut obs) = prepare_or_skip("obs_started_after_the_client_is_reachable") else {
        return;
    };
    assert_eq!(obs.pid(), 0, "not launched yet");
    let before = obs.try_client(Duration::from_secs(2)).await;
    assert!(before.is_err(), "nothing listens before launch");
    eprintln!("before launch: {}", before.err().unwrap());

    obs.launch().await.expect("launch");
    let client = obs.client().await;
    within(CALL, "GetVersion", client.general().version())
        .await
        .expect("GetVersion");
    eprintln!(
        "launched later: ready after {:?}",
        obs.ready_after().unwrap()
    );
}

#[tokio::test]
async fn media_source_plays_a_host_file_from_tmp() {
    let Some(obs) = obs_or_skip("media_source_plays_a_host_file_from_tmp").await else {
        return;
    };
    // A host-side clip under /tmp, as the app's generated clips are.
    let media = obs_tempdir();
    let clip = media.path().join("clips").join("request-1.mp4");
    std::fs::create_dir_all(clip.parent().unwrap()).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/clip.mp4"),
        &clip,
    )
    .unwrap();
    assert!(real_obs::visible_to_obs(&clip));

    let client = obs.client().await;
    within(CALL, "CreateScene", client.scenes().create("Clips"))
        .await
        .expect("CreateScene");
    let settings = serde_json::json!({
        "is_local_file": true,
        "local_file": clip.to_str().unwrap(),
        "looping": true,
        "restart_on_activate": true,
        "close_when_inactive": false,
    });
    within(
        CALL,
        "CreateInput ffmpeg_source",
        client.inputs().create(Create {
            scene: "Clips".into(),
            input: "Clip",
            kind: "ffmpeg_source",
            settings: Some(settings),
            enabled: Some(true),
        }),
    )
    .await
    .expect("CreateInput");
    within(
        CALL,
        "SetCurrentProgramScene",
        client.scenes().set_current_program_scene("Clips"),
    )
    .await
    .expect("SetCurrentProgramScene");

    let input = InputId::Name("Clip");
    let started = Instant::now();
    let status = within(Duration::from_secs(15), "the clip playing", async {
        loop {
            let status = within(
                CALL,
                "GetMediaInputStatus",
                client.media_inputs().status(input),
            )
            .await
            .expect("GetMediaInputStatus");
            match status.state {
                MediaState::Playing | MediaState::Ended => return status,
                MediaState::Error => panic!("OBS could not play {}", clip.display()),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    eprintln!(
        "media {:?} after {:?}: cursor {:?} of {:?}",
        status.state,
        started.elapsed(),
        status.cursor,
        status.duration
    );
    let duration = status.duration.expect("a known duration");
    assert!(
        (Duration::from_millis(900)..Duration::from_millis(1100)).contains(&duration),
        "the fixture is 1 s long, OBS says {duration:?}"
    );
    // Restart works too (how the app re-triggers a clip).
    within(
        CALL,
        "TriggerMediaInputAction restart",
        client
            .media_inputs()
            .trigger_action(input, MediaAction::Restart),
    )
    .await
    .expect("restart the clip");

    let shot = artifacts().join("obs-harness.png");
    obs.screenshot(&shot).expect("screenshot");
    let size = std::fs::metadata(&shot).unwrap().len();
    assert!(size > 1000, "screenshot {} is {size} bytes", shot.display());
    eprintln!("screenshot: {}", shot.display());
}

#[tokio::test]
async fn drop_leaves_no_process() {
    let Some(obs) = obs_or_skip("drop_leaves_no_process").await else {
        return;
    };
    let (obs_pid, xvfb_pid, dir) = (obs.pid(), obs.xvfb_pid(), obs.dir().to_owned());
    assert!(process_exists(obs_pid) && process_exists(xvfb_pid));
    drop(obs);
    assert!(!process_exists(obs_pid), "OBS {obs_pid} outlived drop");
    assert!(!process_exists(xvfb_pid), "Xvfb {xvfb_pid} outlived drop");
    assert!(!dir.exists(), "config dir {} removed", dir.display());
}
