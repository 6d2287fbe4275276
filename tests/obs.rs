//! OBS against a real OBS Studio 30.2.3 (Debian 13's, from the cached debootstrap root, under
//! its own Xvfb; see `streamcue_testkit::real_obs`). The engine's `ObsClient` connects with the
//! password from the secret store; the test checks OBS's own state with a separate obws client.
//! Requests come from the fake Twitch IRC server and clips from the fake generation endpoint or
//! the offline renderer, so the whole pipeline runs for real.

use std::time::Duration;

use obws::requests::inputs::InputId;
use streamcue::api::{
    ChatTarget, CoreEvent, GeneratorBackend, GeneratorSettingsUpdate, ObsConnection, ObsFailure,
    ObsNames, ObsSettingsUpdate, ObsState, QueueAction, QueueItem, RequestState,
};
use streamcue_testkit::fake_gen::{FakeGen, Fault};
use streamcue_testkit::fake_irc::{message_id, FakeIrc, Privmsg};
use streamcue_testkit::real_obs::{obs_or_skip, obs_tempdir, prepare_or_skip, RealObs};
use streamcue_testkit::{is_connected, secs, Harness, HarnessOptions};

const CH: &str = "obschan";

struct Rig {
    h: Harness,
    irc: FakeIrc,
    sent: u64,
}

impl Rig {
    /// An engine whose data (and clips) live under /tmp, where OBS can read them.
    async fn start(generator_toml: &str) -> Rig {
        let irc = FakeIrc::start().await.expect("fake IRC");
        let config = format!(
            "[chat]\ntwitch_login = \"obsbot\"\n\n[queue]\ncooldown_seconds = 0\n\n[generator]\nretry_backoff_ms = 50\nprobe_every_seconds = 0\n{generator_toml}\n"
        );
        let h = Harness::start(HarnessOptions {
            twitch_irc_addr: Some(irc.addr_string()),
            config_toml: Some(config.into_bytes()),
            // Logged in, so the viewer's replies (e.g. "your clip is on screen") go out.
            twitch_token: Some("obs_test_token".into()),
            dir: Some(obs_tempdir()),
            ..Default::default()
        })
        .await;
        let rig = Rig { h, irc, sent: 0 };
        rig.h
            .engine()
            .handle()
            .queue()
            .set_auto_approve(true)
            .await
            .unwrap();
        rig
    }

    async fn chat(&self) {
        self.h
            .engine()
            .connect_chat(ChatTarget::Twitch { channel: CH.into() })
            .await
            .unwrap();
        self.h
            .events
            .wait_state(secs(5.0), 1, "Connected", is_connected)
            .await;
        assert!(self.irc.wait_joins(CH, 1, secs(5.0)).await);
    }

    async fn point_at(&self, obs: &RealObs, password: &str) {
        self.h
            .engine()
            .handle()
            .obs()
            .update_settings(ObsSettingsUpdate {
                enabled: true,
                host: "127.0.0.1".into(),
                port: obs.port(),
                password: Some(password.into()),
                names: ObsNames::default(),
            })
            .await
            .expect("OBS settings");
    }

    async fn remote(&self, gen: &FakeGen) {
        self.h
            .engine()
            .handle()
            .generator()
            .update_settings(GeneratorSettingsUpdate {
                backend: GeneratorBackend::Remote,
                base_url: gen.base_url(),
                timeout_seconds: 10,
                modal_key: None,
                modal_secret: None,
            })
            .await
            .unwrap();
    }

    fn obs_states(&self) -> Vec<ObsState> {
        self.h
            .events
            .all()
            .into_iter()
            .filter_map(|s| match s.event {
                CoreEvent::Obs { state } => Some(state),
                _ => None,
            })
            .collect()
    }

    /// Waits until the latest announced OBS state satisfies `pred`; returns it.
    async fn wait_obs(
        &self,
        limit: Duration,
        what: &str,
        pred: impl Fn(&ObsState) -> bool,
    ) -> ObsState {
        self.h
            .events
            .wait(limit, what, |_| self.obs_states().last().is_some_and(&pred))
            .await;
        self.obs_states().last().cloned().unwrap()
    }

    async fn request(&mut self, prompt: &str) -> i32 {
        self.sent += 1;
        let login = format!("viewer{}", self.sent);
        let line = Privmsg::new(CH, &login, &format!("!anime {prompt}"))
            .id(&message_id(self.sent))
            .line();
        self.irc.broadcast(CH, &line);
        let mut id = None;
        self.h
            .events
            .wait(secs(5.0), "request announced", |log| {
                id = log
                    .items()
                    .iter()
                    .find(|i| i.user_login == login)
                    .map(|i| i.id);
                id.is_some()
            })
            .await;
        id.unwrap()
    }

    async fn wait_item(&self, id: i32, state: RequestState, limit: Duration) -> QueueItem {
        let mut found = None;
        self.h
            .events
            .wait(limit, &format!("#{id} {state:?}"), |log| {
                found = log
                    .items()
                    .into_iter()
                    .rev()
                    .find(|i| i.id == id && i.state == state);
                found.is_some()
            })
            .await;
        found.unwrap()
    }
}

fn connected(s: &ObsState) -> bool {
    matches!(s.connection, ObsConnection::Connected { .. })
}

fn scene_is(name: &'static str) -> impl Fn(&ObsState) -> bool {
    move |s| connected(s) && s.program_scene.as_deref() == Some(name)
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

async fn input_setting(client: &obws::Client, input: &str, key: &str) -> serde_json::Value {
    let s = client
        .inputs()
        .settings::<serde_json::Value>(InputId::Name(input))
        .await
        .unwrap();
    s.settings[key].clone()
}

fn artifacts() -> std::path::PathBuf {
    std::env::var_os("STREAMCUE_ARTIFACTS")
        .map(Into::into)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_and_follows_scenes_and_recording_from_obs_events() {
    let Some(obs) = obs_or_skip("connects_and_follows_scenes_and_recording_from_obs_events").await
    else {
        return;
    };
    let rig = Rig::start("").await;
    rig.point_at(&obs, obs.password()).await;
    let state = rig.wait_obs(secs(15.0), "connected", connected).await;
    let ObsConnection::Connected {
        obs_version,
        websocket_version,
    } = &state.connection
    else {
        unreachable!()
    };
    assert!(obs_version.starts_with("30.2"), "{obs_version}");
    assert!(websocket_version.starts_with("5."), "{websocket_version}");
    assert_eq!(state.program_scene.as_deref(), Some("Live"));
    assert!(!state.recording);
    // The streamer switches scenes in OBS: the state follows OBS's events.
    let client = obs.client().await;
    client.scenes().create("Just Chatting").await.unwrap();
    client
        .scenes()
        .set_current_program_scene("Just Chatting")
        .await
        .unwrap();
    rig.wait_obs(secs(5.0), "the new scene", scene_is("Just Chatting"))
        .await;
    client.recording().start().await.unwrap();
    rig.wait_obs(secs(10.0), "recording", |s| s.recording).await;
    client.recording().stop().await.unwrap();
    rig.wait_obs(secs(10.0), "not recording", |s| !s.recording)
        .await;
    // The snapshot agrees.
    let snap = rig.h.snapshot().await;
    assert_eq!(
        snap.obs.state.program_scene.as_deref(),
        Some("Just Chatting")
    );
    assert!(!snap.obs.settings.names.generating_scene.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_reported_and_not_retried() {
    let Some(obs) = obs_or_skip("a_wrong_password_is_reported_and_not_retried").await else {
        return;
    };
    let rig = Rig::start("").await;
    rig.point_at(&obs, "not-the-password").await;
    let state = rig
        .wait_obs(secs(15.0), "failed", |s| {
            matches!(s.connection, ObsConnection::Failed { .. })
        })
        .await;
    let ObsConnection::Failed { failure, message } = &state.connection else {
        unreachable!()
    };
    assert_eq!(*failure, ObsFailure::WrongPassword);
    assert!(message.contains("refused the password"), "{message}");
    let failed_at = rig.obs_states().len();
    tokio::time::sleep(secs(3.0)).await;
    assert_eq!(
        rig.obs_states().len(),
        failed_at,
        "no retries after a wrong password"
    );
    // Fixing the password connects.
    rig.point_at(&obs, obs.password()).await;
    rig.wait_obs(secs(15.0), "connected", connected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_up_creates_what_is_missing_once_and_a_clip_runs_the_whole_sequence() {
    let Some(obs) =
        obs_or_skip("set_up_creates_what_is_missing_once_and_a_clip_runs_the_whole_sequence").await
    else {
        return;
    };
    let gen = FakeGen::start().await;
    let mut rig = Rig::start("").await;
    rig.remote(&gen).await;
    rig.point_at(&obs, obs.password()).await;
    rig.wait_obs(secs(15.0), "connected", connected).await;
    let obs_handle = rig.h.engine().handle().obs().clone();

    let report = obs_handle.set_up().await.expect("set up");
    for want in [
        "scene Generating",
        "scene Result",
        "scene Hero Shot",
        "text source Prompt Text",
        "media source Result Video",
    ] {
        assert!(
            report.created.iter().any(|c| c == want),
            "{want} not in {report:?}"
        );
    }
    let again = obs_handle.set_up().await.expect("set up again");
    assert!(again.created.is_empty(), "idempotent: {again:?}");
    assert_eq!(again.existing.len(), 7, "{again:?}");
    let client = obs.client().await;
    let scenes: Vec<String> = client
        .scenes()
        .list()
        .await
        .unwrap()
        .scenes
        .into_iter()
        .map(|s| s.id.name)
        .collect();
    for s in ["Live", "Generating", "Result", "Hero Shot"] {
        assert!(scenes.iter().any(|x| x == s), "{s} in {scenes:?}");
    }

    // A request: OBS shows the prompt while the endpoint works (it takes 2 s here) …
    gen.push_faults([Fault::Slow(Duration::from_secs(2))]);
    rig.chat().await;
    let prompt = "a cat surfing a wave";
    let id = rig.request(prompt).await;
    rig.wait_obs(secs(10.0), "Generating", scene_is("Generating"))
        .await;
    assert_eq!(program_scene(&client).await, "Generating");
    assert_eq!(input_setting(&client, "Prompt Text", "text").await, prompt);
    // … then plays the clip in Result …
    let ready = rig.wait_item(id, RequestState::Ready, secs(20.0)).await;
    let path = ready.file_path.clone().unwrap();
    rig.wait_obs(secs(10.0), "Result", scene_is("Result")).await;
    assert_eq!(
        input_setting(&client, "Result Video", "local_file").await,
        path.as_str()
    );
    let media = client
        .media_inputs()
        .status(InputId::Name("Result Video"))
        .await
        .unwrap();
    println!("media status while on Result: {media:?}");
    let shot = artifacts().join("obs-result.png");
    obs.screenshot(&shot).expect("OBS screenshot");
    // … and returns to where the streamer was when it ends; the request is now `shown`, and
    // the viewer is told once it was on screen.
    rig.wait_item(id, RequestState::Shown, secs(15.0)).await;
    // (Replies start with ". " so that chat never reads them as commands.)
    let told = format!("PRIVMSG #{CH} :. @viewer1 your clip is on screen now!");
    let ok = rig
        .irc
        .wait_until(secs(5.0), |irc| irc.received().iter().any(|l| l == &told))
        .await;
    assert!(ok, "never said {told:?}: {:#?}", rig.irc.received());
    rig.wait_obs(secs(5.0), "back to Live", scene_is("Live"))
        .await;
    assert_eq!(program_scene(&client).await, "Live");

    // Show again.
    rig.h
        .engine()
        .handle()
        .queue()
        .act(id, QueueAction::ShowAgain)
        .await
        .expect("show again");
    rig.wait_obs(secs(5.0), "Result again", scene_is("Result"))
        .await;
    rig.wait_obs(secs(15.0), "back to Live again", scene_is("Live"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obs_killed_mid_clip_loses_nothing_and_a_restart_reconnects() {
    let Some(mut obs) =
        obs_or_skip("obs_killed_mid_clip_loses_nothing_and_a_restart_reconnects").await
    else {
        return;
    };
    let mut rig = Rig::start("offline_clip_seconds = 8\n").await;
    rig.point_at(&obs, obs.password()).await;
    rig.wait_obs(secs(15.0), "connected", connected).await;
    rig.h.engine().handle().obs().set_up().await.unwrap();
    rig.chat().await;
    let id = rig.request("killed mid clip").await;
    rig.wait_item(id, RequestState::Ready, secs(60.0)).await;
    rig.wait_obs(secs(10.0), "Result", |s| {
        scene_is("Result")(s) && s.showing == Some(id)
    })
    .await;
    obs.kill();
    let state = rig
        .wait_obs(secs(10.0), "disconnected", |s| {
            matches!(s.connection, ObsConnection::Reconnecting { .. })
        })
        .await;
    assert_eq!(state.program_scene, None);
    assert_eq!(state.showing, None);
    // The clip is not lost: still `ready` (not `shown`), file on disk, retryable with Show again.
    let view = rig.h.engine().handle().queue().view().await.unwrap();
    let item = view.items.iter().find(|i| i.id == id).unwrap();
    assert_eq!(item.state, RequestState::Ready);
    assert!(std::path::Path::new(item.file_path.as_deref().unwrap()).exists());
    let refused = rig
        .h
        .engine()
        .handle()
        .queue()
        .act(id, QueueAction::ShowAgain)
        .await
        .unwrap_err();
    assert_eq!(refused.code, streamcue::api::ErrorCode::Obs);

    obs.restart().await.expect("OBS restarts");
    let state = rig.wait_obs(secs(20.0), "reconnected", connected).await;
    assert!(
        state.program_scene.is_some(),
        "the scene is shown again: {state:?}"
    );
    rig.h
        .engine()
        .handle()
        .queue()
        .act(id, QueueAction::ShowAgain)
        .await
        .expect("show again after the restart");
    rig.wait_item(id, RequestState::Shown, secs(20.0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obs_started_after_streamcue_is_connected_to() {
    let Some(mut obs) = prepare_or_skip("obs_started_after_streamcue_is_connected_to") else {
        return;
    };
    let rig = Rig::start("").await;
    rig.point_at(&obs, obs.password()).await;
    rig.wait_obs(secs(10.0), "retrying", |s| {
        matches!(s.connection, ObsConnection::Reconnecting { .. })
    })
    .await;
    obs.launch().await.expect("OBS starts");
    rig.wait_obs(secs(20.0), "connected after OBS started", connected)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn degraded_mode_switches_to_the_hero_shot_and_back() {
    let Some(obs) = obs_or_skip("degraded_mode_switches_to_the_hero_shot_and_back").await else {
        return;
    };
    let gen = FakeGen::start().await;
    gen.set_default_fault(Some(Fault::Status(500)));
    let mut rig =
        Rig::start("max_attempts = 1\nfailures_to_degrade = 1\nhealthy_to_recover = 1\n").await;
    rig.remote(&gen).await;
    rig.point_at(&obs, obs.password()).await;
    rig.wait_obs(secs(15.0), "connected", connected).await;
    rig.h.engine().handle().obs().set_up().await.unwrap();
    rig.chat().await;
    let a = rig.request("fails").await;
    rig.wait_item(a, RequestState::Failed, secs(10.0)).await;
    rig.wait_obs(secs(10.0), "Hero Shot", |s| {
        scene_is("Hero Shot")(s) && s.hero
    })
    .await;
    let client = obs.client().await;
    assert_eq!(program_scene(&client).await, "Hero Shot");
    gen.set_default_fault(None);
    let b = rig.request("works").await;
    rig.wait_item(b, RequestState::Shown, secs(20.0)).await;
    rig.wait_obs(secs(10.0), "back to Live", |s| {
        scene_is("Live")(s) && !s.hero
    })
    .await;
}
