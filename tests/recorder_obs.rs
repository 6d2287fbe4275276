//! The recorder in OBS mode against a real OBS 30.2.3: start/stop OBS's recording from
//! StreamCue, the file OBS reports, moment offsets from OBS's record timecode, and a clip cut
//! around a moment with ffmpeg (stream copy), both on request and automatically at the end.

use std::time::Duration;

use streamcue::api::{
    ChatTarget, CoreEvent, MomentSettings, ObsConnection, ObsNames, ObsSettingsUpdate,
    RecorderPhase, RecorderSettings, RecorderState,
};
use streamcue_testkit::fake_irc::{FakeIrc, Privmsg};
use streamcue_testkit::real_obs::{obs_or_skip, obs_tempdir};
use streamcue_testkit::{is_connected, secs, Harness, HarnessOptions};

const CH: &str = "recchan";

fn recorder_states(h: &Harness) -> Vec<RecorderState> {
    h.events
        .all()
        .into_iter()
        .filter_map(|s| match s.event {
            CoreEvent::Recorder { state } => Some(state),
            _ => None,
        })
        .collect()
}

fn ffprobe(path: &str) -> String {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name:format=duration",
            "-of",
            "default=nw=1",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn duration_of(probe: &str) -> f64 {
    probe
        .lines()
        .find_map(|l| l.strip_prefix("duration="))
        .and_then(|d| d.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obs_recording_is_followed_and_a_moment_is_cut_from_it() {
    let Some(obs) = obs_or_skip("obs_recording_is_followed_and_a_moment_is_cut_from_it").await
    else {
        return;
    };
    let irc = FakeIrc::start().await.unwrap();
    let h = Harness::start(HarnessOptions {
        twitch_irc_addr: Some(irc.addr_string()),
        generation_paused: true,
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
        .unwrap();
    h.events
        .wait(secs(15.0), "OBS connected", |log| {
            log.all().iter().any(|s| matches!(&s.event, CoreEvent::Obs { state } if matches!(state.connection, ObsConnection::Connected { .. })))
        })
        .await;
    handle
        .recorder()
        .set_settings(RecorderSettings {
            pre_seconds: 2,
            post_seconds: 1,
            auto_cut: true,
            ..RecorderSettings::default()
        })
        .await
        .unwrap();
    handle
        .moments()
        .set_settings(MomentSettings {
            window_seconds: 3,
            merge_gap_seconds: 1,
            ..MomentSettings::default()
        })
        .await
        .unwrap();
    handle
        .connect_chat(ChatTarget::Twitch { channel: CH.into() })
        .await
        .unwrap();
    h.events
        .wait_state(secs(5.0), 1, "chat", is_connected)
        .await;

    // Start OBS's recording from StreamCue.
    handle.recorder().start().await.expect("recording starts");
    h.events
        .wait(secs(10.0), "recording", |_| {
            recorder_states(&h)
                .last()
                .is_some_and(|s| s.phase == RecorderPhase::Recording)
        })
        .await;
    let started_at = recorder_states(&h).last().unwrap().started_at_ms.unwrap();
    let client = obs.client().await;
    assert!(
        client.recording().status().await.unwrap().active,
        "OBS records"
    );

    // Three seconds in, chat bursts: a moment.
    tokio::time::sleep(secs(3.0)).await;
    let lines: Vec<String> = (0..8)
        .map(|i| Privmsg::new(CH, &format!("v{i}"), "CLIP THAT").line())
        .collect();
    irc.broadcast_lines(CH, &lines);
    h.events
        .wait(secs(10.0), "a closed moment", |_| {
            h.events
                .moments()
                .last()
                .is_some_and(|m| m.ended_at_ms.is_some())
        })
        .await;
    let moment = h.events.moments().last().cloned().unwrap();
    let offset_s = (moment.started_at_ms - started_at) / 1000.0;
    assert!(
        (2.0..6.0).contains(&offset_s),
        "the moment is {offset_s} s into the recording"
    );
    tokio::time::sleep(secs(2.0)).await;

    // Stop: OBS names the file; auto-cut cuts the moment's clip.
    handle.recorder().stop().await.expect("recording stops");
    h.events
        .wait(secs(20.0), "the clip", |log| {
            log.all()
                .iter()
                .any(|s| matches!(s.event, CoreEvent::Clip { .. }))
        })
        .await;
    let state = recorder_states(&h).last().cloned().unwrap();
    let recording = state.path.clone().expect("OBS reported the file");
    assert!(std::path::Path::new(&recording).exists(), "{recording}");
    let clip = h
        .events
        .all()
        .into_iter()
        .find_map(|s| match s.event {
            CoreEvent::Clip { clip } => Some(clip),
            _ => None,
        })
        .unwrap();
    assert_eq!(clip.moment_id, moment.id);
    let probe = ffprobe(&clip.path);
    assert!(probe.contains("codec_name=h264"), "{probe}");
    let d = duration_of(&probe);
    let wanted = (clip.end_ms - clip.start_ms) / 1000.0;
    assert!(
        (d - wanted).abs() < 0.6,
        "clip {d} s vs {wanted} s ({clip:?})"
    );
    assert!(
        clip.start_ms <= (offset_s * 1000.0 - 2000.0).max(0.0) + 1.0,
        "{clip:?} offset {offset_s}"
    );

    // Cutting again on request gives another clip of the same moment.
    let again = handle
        .recorder()
        .cut(moment.id)
        .await
        .expect("cut on request");
    assert!(duration_of(&ffprobe(&again.path)) > 0.5);
    let view = handle.recorder().view().await.unwrap();
    assert!(!view.clips.is_empty());
    tokio::time::sleep(Duration::from_millis(10)).await;
}
