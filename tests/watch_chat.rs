//! Watch-along from Twitch chat, over the fake IRC server and a fake controller: a moderator's
//! `!watch` starts a session and hears back, a viewer's is refused, hostile links are refused
//! with ERR_INVALID_URL before anything reaches the controller, `!watching` and `!stop`.

use std::time::Duration;

use streamcue::api::{CoreEvent, WatchSettings, WatchView};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_commands_start_refuse_report_and_stop() {
    let fake = FakeController::start().await;
    let rig = GenRig::start(None, FAST, 30).await;
    // The local server listens (GenRig starts it); wait until the actor knows its address.
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
    rig.handle()
        .watch()
        .save_settings(WatchSettings {
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
