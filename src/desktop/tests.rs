use super::*;
use crate::api::{
    ChatPlatform, DegradedInfo, GeneratorBackend, GeneratorCounters, GeneratorSettings,
    GeneratorStatus, Moment, MomentTrigger, QueueItem, RecorderMode, RecorderState, TriggerKind,
};

fn connected(slot: ChatSlot, channel: &str) -> CoreEvent {
    CoreEvent::ChatState {
        slot,
        state: ChatState::Connected {
            platform: ChatPlatform::Twitch,
            channel: channel.into(),
            session_id: 1,
        },
    }
}

fn disconnected(slot: ChatSlot) -> CoreEvent {
    CoreEvent::ChatState {
        slot,
        state: ChatState::Disconnected,
    }
}

fn recorder(phase: RecorderPhase) -> CoreEvent {
    CoreEvent::Recorder {
        state: RecorderState {
            phase,
            mode: RecorderMode::Streamlink,
            path: None,
            bytes: 0.0,
            bytes_per_min: 0.0,
            started_at_ms: None,
            message: None,
        },
    }
}

fn generator(current: Option<i32>, degraded: Option<&str>) -> CoreEvent {
    CoreEvent::Generator {
        status: GeneratorStatus {
            settings: GeneratorSettings {
                backend: GeneratorBackend::Offline,
                base_url: String::new(),
                timeout_seconds: 30,
                credentials_saved: false,
            },
            degraded: degraded.map(|reason| DegradedInfo {
                reason: reason.into(),
                since_ms: 0,
                intake_paused: false,
            }),
            current,
            paused: false,
            counters: GeneratorCounters::default(),
            clips_dir: String::new(),
        },
    }
}

fn item(id: i32, state: RequestState) -> CoreEvent {
    CoreEvent::QueueItem {
        item: QueueItem {
            id,
            user_login: "vic".into(),
            display_name: "Vic".into(),
            prompt: "a cat".into(),
            state,
            reason: None,
            position: 1,
            created_at_ms: 0.0,
            updated_at_ms: 0.0,
            file_path: None,
            attempts: 0,
            generation_ms: None,
        },
    }
}

fn moment(id: i32) -> CoreEvent {
    CoreEvent::Moment {
        moment: Moment {
            id,
            session_id: 1,
            started_at_ms: 0.0,
            ended_at_ms: None,
            offset_ms: 0.0,
            triggers: vec![MomentTrigger {
                kind: TriggerKind::Keyword,
                label: "CLIP ×5".into(),
                name: Some("CLIP".into()),
                value: 5.0,
                threshold: 3.0,
                baseline: None,
            }],
            strength: 1.5,
            note: String::new(),
        },
    }
}

fn account(state: AccountState) -> CoreEvent {
    CoreEvent::Account { state }
}

#[test]
fn idle_until_chat_a_recording_or_a_generation_runs() {
    let mut a = Activity::default();
    assert_eq!(a.busy(), None);
    assert_eq!(a.status_line(), "Chat disconnected");

    a.apply(&connected(ChatSlot::Main, "alice"));
    a.apply(&recorder(RecorderPhase::Recording));
    a.apply(&item(7, RequestState::Generating));
    assert_eq!(
        a.busy().as_deref(),
        Some("chat is connected, a recording is running, a clip is being generated")
    );
    assert_eq!(
        a.status_line(),
        "Twitch #alice connected · recording · generating #7"
    );

    a.apply(&item(7, RequestState::Ready));
    a.apply(&recorder(RecorderPhase::Idle));
    a.apply(&disconnected(ChatSlot::Main));
    assert_eq!(a.busy(), None);
}

#[test]
fn each_chat_slot_counts_on_its_own() {
    let mut a = Activity::default();
    a.apply(&connected(ChatSlot::Main, "alice"));
    a.apply(&connected(ChatSlot::Kick, "bob"));
    a.apply(&disconnected(ChatSlot::Main));
    assert_eq!(a.busy().as_deref(), Some("chat is connected"));
    a.apply(&disconnected(ChatSlot::Kick));
    assert_eq!(a.busy(), None);
}

#[test]
fn degraded_mode_notifies_on_changes_only() {
    let settings = DesktopSettings::default();
    let mut n = Notifier::default();
    // The first status is the starting point, not a change.
    assert_eq!(n.notice_for(&generator(None, None), &settings, true), None);
    let entered = n.notice_for(
        &generator(None, Some("3 failures in a row")),
        &settings,
        true,
    );
    assert_eq!(entered.unwrap().title, "Degraded mode");
    assert_eq!(
        n.notice_for(
            &generator(Some(2), Some("3 failures in a row")),
            &settings,
            true
        ),
        None,
        "still degraded: no second notice"
    );
    let left = n.notice_for(&generator(None, None), &settings, true);
    assert_eq!(left.unwrap().title, "Generation is back");

    let off = DesktopSettings {
        notify_degraded: false,
        ..settings
    };
    assert_eq!(n.notice_for(&generator(None, Some("x")), &off, true), None);
}

#[test]
fn a_ready_clip_notifies_only_while_the_window_is_hidden() {
    let settings = DesktopSettings::default();
    let mut n = Notifier::default();
    assert_eq!(
        n.notice_for(&item(3, RequestState::Ready), &settings, true),
        None
    );
    let hidden = n.notice_for(&item(3, RequestState::Ready), &settings, false);
    assert_eq!(
        hidden.unwrap().body,
        "Request #3 from Vic is ready to show."
    );
    assert_eq!(
        n.notice_for(&item(4, RequestState::Pending), &settings, false),
        None
    );
}

#[test]
fn moments_notify_once_each_and_only_when_switched_on() {
    let mut n = Notifier::default();
    let off = DesktopSettings::default();
    assert!(
        !off.notify_moments,
        "moment notifications are off by default"
    );
    assert_eq!(n.notice_for(&moment(1), &off, false), None);
    let on = DesktopSettings {
        notify_moments: true,
        ..off
    };
    let first = n.notice_for(&moment(1), &on, false).unwrap();
    assert_eq!(first.body, "A moment in chat: CLIP ×5.");
    assert_eq!(
        n.notice_for(&moment(1), &on, false),
        None,
        "the moment grew"
    );
    assert!(n.notice_for(&moment(2), &on, false).is_some());
}

#[test]
fn a_login_that_ends_by_itself_notifies() {
    let settings = DesktopSettings::default();
    let mut n = Notifier::default();
    let expired = account(AccountState::LoggedOut {
        message: Some("Twitch no longer accepts the saved login: log in again.".into()),
    });
    assert_eq!(
        n.notice_for(&expired, &settings, true),
        None,
        "never logged in"
    );
    n.notice_for(
        &account(AccountState::LoggedIn {
            login: "alice".into(),
            warning: None,
        }),
        &settings,
        true,
    );
    let notice = n.notice_for(&expired, &settings, true).unwrap();
    assert_eq!(notice.title, "Twitch login ended");
    // The streamer's own logout says nothing (no message).
    n.notice_for(
        &account(AccountState::LoggedIn {
            login: "alice".into(),
            warning: None,
        }),
        &settings,
        true,
    );
    let logout = account(AccountState::LoggedOut { message: None });
    assert_eq!(n.notice_for(&logout, &settings, true), None);
}

#[test]
fn settings_missing_fields_take_their_defaults() {
    let s: DesktopSettings = serde_json::from_str(r#"{"closeToTray": false}"#).unwrap();
    assert_eq!(
        s,
        DesktopSettings {
            close_to_tray: false,
            ..DesktopSettings::default()
        }
    );
}

#[test]
fn only_plain_https_links_open() {
    assert_eq!(
        openable_link(" https://www.twitch.tv/activate "),
        Some("https://www.twitch.tv/activate")
    );
    assert_eq!(
        openable_link("https://example.org/docs?x=1#y"),
        Some("https://example.org/docs?x=1#y")
    );
    for bad in [
        "http://www.twitch.tv/activate",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://user:pw@evil.example/",
        "https://",
        "https://a b.example/",
        "https://example.org/a\nb",
        "twitch.tv/activate",
    ] {
        assert_eq!(openable_link(bad), None, "{bad:?}");
    }
}
