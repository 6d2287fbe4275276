//! The health rules, one event at a time, as a table.

use super::*;
use crate::api::{ChatPlatform, ObsConnection};

fn chat(state: ChatState) -> CoreEvent {
    CoreEvent::ChatState {
        slot: ChatSlot::Main,
        state,
    }
}

fn obs(connection: ObsConnection) -> CoreEvent {
    CoreEvent::Obs {
        state: crate::api::ObsState {
            connection,
            program_scene: None,
            recording: false,
            showing: None,
            hero: false,
        },
    }
}

#[test]
fn each_component_state_gives_its_status_and_reason() {
    let connected = chat(ChatState::Connected {
        platform: ChatPlatform::Twitch,
        channel: "#streamer".into(),
        session_id: 1,
    });
    let reconnecting = chat(ChatState::Reconnecting {
        platform: ChatPlatform::Twitch,
        channel: "#streamer".into(),
        attempt: 2,
        retry_at_ms: 0.0,
        reason: "connection reset".into(),
    });
    let obs_retrying = obs(ObsConnection::Reconnecting {
        attempt: 1,
        retry_at_ms: 0.0,
        reason: "OBS is not running".into(),
    });
    let obs_up = obs(ObsConnection::Connected {
        obs_version: "30.2.3".into(),
        websocket_version: "5.5".into(),
    });
    let recording = |bytes_per_min: f64, phase: RecorderPhase| CoreEvent::Recorder {
        state: crate::api::RecorderState {
            phase,
            mode: crate::api::RecorderMode::Streamlink,
            path: Some("/rec/a.ts".into()),
            bytes: 50e6,
            bytes_per_min,
            started_at_ms: Some(0.0),
            message: Some("for 30 s".into()),
        },
    };
    // (name, events, database, status, the reason that must show)
    type Case = (
        &'static str,
        Vec<CoreEvent>,
        Result<(), String>,
        Status,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        ("idle", vec![], Ok(()), Status::Healthy, "not connected"),
        (
            "chat up",
            vec![connected.clone()],
            Ok(()),
            Status::Healthy,
            "connected to #streamer",
        ),
        (
            "chat reconnecting",
            vec![connected.clone(), reconnecting],
            Ok(()),
            Status::Degraded,
            "reconnecting to #streamer: connection reset",
        ),
        (
            "OBS away",
            vec![obs_retrying],
            Ok(()),
            Status::Degraded,
            "OBS is not running",
        ),
        (
            "OBS up",
            vec![obs_up],
            Ok(()),
            Status::Healthy,
            "connected to OBS 30.2.3",
        ),
        (
            "recording",
            vec![recording(12e6, RecorderPhase::Recording)],
            Ok(()),
            Status::Healthy,
            "recording",
        ),
        (
            "recording just started (no rate yet)",
            vec![recording(0.0, RecorderPhase::Recording)],
            Ok(()),
            Status::Healthy,
            "recording",
        ),
        (
            "recording below the growth floor",
            vec![recording(0.4e6, RecorderPhase::Recording)],
            Ok(()),
            Status::Degraded,
            "the recording grows only 0.40 MB/min",
        ),
        (
            "recording stalled",
            vec![recording(0.0, RecorderPhase::Stalled)],
            Ok(()),
            Status::Degraded,
            "the recording stopped growing for 30 s",
        ),
        (
            "recording failed",
            vec![recording(0.0, RecorderPhase::Failed)],
            Ok(()),
            Status::Degraded,
            "recording failed",
        ),
        (
            "database full",
            vec![connected],
            Err("the disk is full".into()),
            Status::Unhealthy,
            "cannot write: the disk is full",
        ),
    ];
    for (name, events, db, want, reason) in cases {
        let mut h = HealthInputs::default();
        for e in &events {
            h.apply(e);
        }
        let r = h.report(db, "1.2.3", 5);
        assert_eq!(r.status, want, "{name}: {r:?}");
        assert_eq!(
            r.http_status(),
            if want == Status::Unhealthy { 503 } else { 200 }
        );
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains(reason), "{name}: {text}");
    }
}

#[test]
fn the_report_has_the_documented_shape() {
    let r = HealthInputs::default().report(Ok(()), "0.1.0", 42);
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["status"], "healthy");
    assert_eq!(v["version"], "0.1.0");
    assert_eq!(v["uptime_s"], 42);
    for c in ["chat", "kick", "obs", "generator", "recorder", "database"] {
        assert!(v["components"][c]["state"].is_string(), "{c}: {v}");
        assert!(v["components"][c]["reason"].is_string(), "{c}: {v}");
    }
}
