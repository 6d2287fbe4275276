//! Watch-along from Twitch chat, over the fake IRC server and a fake controller: a moderator's
//! `!watch` starts a session and hears back, a viewer's is refused (or, with "viewers may ask",
//! waits for the streamer's Play or Deny), hostile links are refused with ERR_INVALID_URL before
//! anything reaches the controller, `!watching` and `!stop`.

use std::time::Duration;

use streamcue::api::{CoreEvent, WatchExecutor, WatchSettings, WatchView};
use streamcue::watch::WatchStatus;
use streamcue_testkit::fake_controller::FakeController;
use streamcue_testkit::fake_irc::Privmsg;
use streamcue_testkit::gen_rig::{GenRig, CH, FAST};
use streamcue_testkit::secs;

fn latest(rig: &GenRig) -> Option<WatchView> {
    rig.h
        .events
        .pick(|e| match e {
            CoreEvent::Watch { view } => Some(*view.clone()),
            _ => None,
        })
        .pop()
}

fn says(rig: &GenRig, msg: Privmsg) {
    assert_eq!(rig.irc.broadcast(CH, &msg.line()), 1);
}

async fn said_containing(rig: &GenRig, text: &str) -> String {
    rig.said_within(secs(10.0), text).await;
    rig.said()
        .into_iter()
        .rev()
        .find(|l| l.contains(text))
        .expect("said")
}

/// The local server listens (GenRig starts it); waits until the watch-along actor knows its
/// address (the controller's webhooks go there).
async fn server_address_known(rig: &GenRig) {
    rig.h
        .events
        .wait(secs(10.0), "the local server's address", |log| {
            !log.pick(|e| match e {
                CoreEvent::LocalServer { server } if server.url.is_some() => Some(()),
                _ => None,
            })
            .is_empty()
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_commands_start_refuse_report_and_stop() {
    let fake = FakeController::start().await;
    let rig = GenRig::start(None, FAST, 30).await;
    server_address_known(&rig).await;
    rig.handle()
        .watch()
        .save_settings(WatchSettings {
            executor: WatchExecutor::Controller,
            controller_url: fake.base_url(),
            channel_name: "Movie Night".into(),
            ..WatchSettings::default()
        })
        .await
        .expect("settings");

    // A viewer may not start one.
    says(
        &rig,
        Privmsg::new(CH, "randomviewer", "!watch https://youtu.be/abc"),
    );
    let line = said_containing(&rig, "@randomviewer").await;
    assert!(line.contains("only the streamer and moderators"), "{line}");

    // Hostile links from a moderator: refused with the reason, the controller never called.
    for (n, link) in [
        "javascript:alert(1)",
        "http://127.0.0.1:8080/admin",
        "http://[::1]/x",
    ]
    .iter()
    .enumerate()
    {
        let who = format!("mod{n}");
        says(
            &rig,
            Privmsg::new(CH, &who, &format!("!watch {link}")).moderator(),
        );
        let line = said_containing(&rig, &format!("@{who}")).await;
        assert!(line.contains("can't be watched"), "{line}");
    }
    assert!(fake.calls("/stream").is_empty());

    // A moderator's link: started, answered with the seed's wording, then "now playing".
    says(
        &rig,
        Privmsg::new(
            CH,
            "modamy",
            "!watch check this out https://www.twitch.tv/videos/123456789",
        )
        .moderator(),
    );
    let line = said_containing(&rig, "@modamy got it!").await;
    assert!(
        line.contains("https://www.twitch.tv/videos/123456789"),
        "{line}"
    );
    assert!(
        line.contains("Movie Night") && line.contains("30–60 seconds"),
        "{line}"
    );
    said_containing(&rig, "@modamy now playing").await;
    rig.h
        .events
        .wait(secs(5.0), "streaming", |_| {
            latest(&rig).is_some_and(|v| {
                v.current
                    .is_some_and(|c| c.status == WatchStatus::Streaming)
            })
        })
        .await;
    let current = latest(&rig).unwrap().current.expect("a session");
    assert_eq!(current.status, WatchStatus::Streaming);
    assert_eq!(current.requester, "modamy");

    // Anyone may ask what plays.
    says(&rig, Privmsg::new(CH, "curious", "!watching"));
    let line = said_containing(&rig, "Now playing:").await;
    assert!(line.contains("asked by modamy"), "{line}");

    // A viewer cannot stop it; a moderator can.
    says(&rig, Privmsg::new(CH, "randomviewer", "!stop"));
    said_containing(&rig, "only the streamer and moderators can start or stop").await;
    says(&rig, Privmsg::new(CH, "modbob", "!stop").moderator());
    said_containing(&rig, "@modbob stopped the watch-along").await;
    said_containing(&rig, "The watch-along ended").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while fake.calls("/stop/").is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.calls("/stop/").len(), 1);
    says(&rig, Privmsg::new(CH, "curious", "!watching"));
    said_containing(&rig, "Nothing is playing right now.").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_links_wait_for_play_or_deny_when_viewers_may_ask() {
    let fake = FakeController::start().await;
    let rig = GenRig::start(None, FAST, 30).await;
    server_address_known(&rig).await;
    let watch = rig.handle().watch().clone();
    watch
        .save_settings(WatchSettings {
            executor: WatchExecutor::Controller,
            controller_url: fake.base_url(),
            channel_name: "Movie Night".into(),
            viewer_requests: true,
            ..WatchSettings::default()
        })
        .await
        .expect("settings");
    let asks = |rig: &GenRig| latest(rig).map(|v| v.asks).unwrap_or_default();
    let wait_asks = |n: usize| {
        let rig = &rig;
        async move {
            rig.h
                .events
                .wait(secs(5.0), &format!("{n} waiting links"), |_| {
                    asks(rig).len() == n
                })
                .await
        }
    };

    says(
        &rig,
        Privmsg::new(CH, "viewer1", "!watch https://youtu.be/abc"),
    );
    said_containing(&rig, "@viewer1 thanks! Your link waits").await;
    wait_asks(1).await;
    // One waiting link per viewer; a bad link is refused at once and never waits.
    says(
        &rig,
        Privmsg::new(CH, "viewer1", "!watch https://youtu.be/def"),
    );
    let line = said_containing(&rig, "@viewer1 your link").await;
    assert!(
        line.contains("https://youtu.be/abc is still waiting"),
        "{line}"
    );
    says(
        &rig,
        Privmsg::new(CH, "viewer2", "!watch http://10.0.0.1/x.mp4"),
    );
    let line = said_containing(&rig, "@viewer2").await;
    assert!(line.contains("can't be watched"), "{line}");
    says(
        &rig,
        Privmsg::new(CH, "viewer3", "!watch https://vimeo.com/123"),
    );
    said_containing(&rig, "@viewer3 thanks!").await;
    wait_asks(2).await;
    let waiting = asks(&rig);
    assert_eq!(
        waiting
            .iter()
            .map(|a| (a.viewer.as_str(), a.url.as_str()))
            .collect::<Vec<_>>(),
        [
            ("viewer1", "https://youtu.be/abc"),
            ("viewer3", "https://vimeo.com/123")
        ]
    );
    assert!(
        fake.calls("/stream").is_empty(),
        "nothing starts on its own"
    );

    // Deny: the viewer is told; the link is gone from the card.
    assert_eq!(
        watch.decide_ask(waiting[1].id.into(), false).await.unwrap(),
        None
    );
    said_containing(&rig, "@viewer3 the streamer passed on your link").await;
    wait_asks(1).await;
    // Play: a session for the viewer, answered as a moderator's would be, then "now playing".
    assert_eq!(
        watch.decide_ask(waiting[0].id.into(), true).await.unwrap(),
        None
    );
    let line = said_containing(&rig, "@viewer1 got it!").await;
    assert!(
        line.contains("https://youtu.be/abc on Movie Night"),
        "{line}"
    );
    said_containing(&rig, "@viewer1 now playing").await;
    wait_asks(0).await;
    let current = latest(&rig).unwrap().current.expect("a session");
    assert_eq!(current.requester, "viewer1");
    assert_eq!(fake.calls("/stream").len(), 1);
    // Decided once.
    let again = watch.decide_ask(waiting[0].id.into(), true).await.unwrap();
    assert!(again.is_some_and(|r| r.message.contains("no longer waiting")));

    // While it plays, Play on another viewer's link is refused (ERR_BUSY) and the link waits.
    says(
        &rig,
        Privmsg::new(CH, "viewer4", "!watch https://youtu.be/xyz"),
    );
    said_containing(&rig, "@viewer4 thanks!").await;
    wait_asks(1).await;
    let busy = watch
        .decide_ask(asks(&rig)[0].id.into(), true)
        .await
        .unwrap()
        .expect("refused");
    assert_eq!(busy.code, streamcue::watch::WatchErrorCode::Busy);
    assert_eq!(asks(&rig).len(), 1);
    assert_eq!(fake.calls("/stream").len(), 1);

    // SQLite holds every decision.
    let mut rig = rig;
    rig.h.shutdown_within(secs(10.0)).await;
    let db = rig.h.reopen_db().await;
    let states: Vec<String> = sqlx::query_scalar("SELECT state FROM watch_asks ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(states, ["played", "denied", "waiting"]);
}
