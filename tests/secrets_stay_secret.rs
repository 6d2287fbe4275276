//! A Twitch token and the generator's Modal key and secret must never reach a log, the
//! database or the config file, even with every log level and IRC protocol debugging on.

use std::path::Path;

use streamcue::api::{ChatTarget, GeneratorBackend, GeneratorSettingsUpdate};
use streamcue_testkit::fake_gen::FakeGen;
use streamcue_testkit::fake_irc::{privmsg_line, FakeIrc};
use streamcue_testkit::{is_connected, secs, Harness, HarnessOptions};

const TOKEN: &str = "s3cr3tT0kenValue42xyz";
const MODAL_KEY: &str = "wk-m0dalKeyValue77";
const MODAL_SECRET: &str = "ws-m0dalSecretValue99";

/// Every file below `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(path.display().to_string());
                }
            }
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_used_but_never_written_anywhere() {
    // The most verbose logging there is, into a real log folder, before anything else logs.
    std::env::set_var("RUST_LOG", "trace");
    let logs = tempfile::tempdir().unwrap();
    let log_guard = streamcue::logging::init(logs.path(), true, 7);

    let fake = FakeIrc::start().await.unwrap();
    let mut h = Harness::start(HarnessOptions {
        twitch_irc_addr: Some(fake.addr_string()),
        config_toml: Some(b"[chat]\ntwitch_login = \"StreamCueBot\"\n".to_vec()),
        twitch_token: Some(format!("oauth:{TOKEN}")),
        ..Default::default()
    })
    .await;
    h.engine()
        .connect_chat(ChatTarget::Twitch {
            channel: "secretchan".into(),
        })
        .await
        .unwrap();
    h.events
        .wait_state(secs(10.0), 1, "Connected", is_connected)
        .await;
    for i in 0..5 {
        fake.broadcast(
            "secretchan",
            &privmsg_line("secretchan", &format!("v{i}"), "hello"),
        );
    }
    h.wait_counters(secs(10.0), "5 messages", |c| c.messages == 5)
        .await;

    // The generator's credentials: saved from "the window", used on a real request.
    let gen = FakeGen::start().await;
    gen.require_auth(MODAL_KEY, MODAL_SECRET);
    let handle = h.engine().handle();
    handle
        .generator()
        .update_settings(GeneratorSettingsUpdate {
            backend: GeneratorBackend::Remote,
            base_url: gen.base_url(),
            timeout_seconds: 5,
            modal_key: Some(MODAL_KEY.into()),
            modal_secret: Some(MODAL_SECRET.into()),
        })
        .await
        .unwrap();
    handle.queue().set_auto_approve(true).await.unwrap();
    fake.broadcast(
        "secretchan",
        &privmsg_line("secretchan", "viewer", "!anime a secret cat"),
    );
    h.events
        .wait(secs(10.0), "the clip is ready", |log| {
            log.all().iter().any(|s| {
                matches!(&s.event, streamcue::api::CoreEvent::QueueItem { item }
                    if item.state == streamcue::api::RequestState::Ready)
            })
        })
        .await;
    let posted = gen.requests_to("/generate");
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].header("modal-secret"), Some(MODAL_SECRET), "used");

    // The login really used the token (with the prefix stripped), so the test means something.
    let logins = fake.logins();
    assert!(
        logins
            .iter()
            .any(|l| l.nick == "streamcuebot" && l.token.as_deref() == Some(TOKEN) && l.accepted),
        "the server never saw the token: {logins:?}"
    );
    h.shutdown_within(secs(5.0)).await;
    drop(log_guard); // flushes the file writer

    let log_text: String = std::fs::read_dir(logs.path())
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(
        log_text.contains("PASS ***"),
        "protocol debugging logged the (redacted) login"
    );
    assert!(
        log_text.contains("PRIVMSG #secretchan"),
        "protocol debugging logged the chat lines"
    );
    assert_eq!(
        files_containing(logs.path(), TOKEN.as_bytes()),
        Vec::<String>::new(),
        "token in logs"
    );
    assert_eq!(
        files_containing(h.dir.path(), TOKEN.as_bytes()),
        Vec::<String>::new(),
        "token in data"
    );
    for secret in [MODAL_KEY, MODAL_SECRET] {
        let mut hits = files_containing(logs.path(), secret.as_bytes());
        hits.extend(files_containing(h.dir.path(), secret.as_bytes()));
        assert_eq!(hits, Vec::<String>::new(), "a Modal credential was written");
    }
}
