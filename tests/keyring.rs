//! The real OS keyring: GNOME Keyring's Secret Service on a private D-Bus bus (testkit
//! `SecretService`). A pasted Twitch token is saved there (found by `secret-tool`, in no file
//! in the clear) and logs in again after a restart; a keyring that never answers (the daemon
//! stopped, as one waiting on its unlock prompt) is said in words, costs at most one timeout,
//! and never holds up Quit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use streamcue::secrets::{KeyringStore, Secret, SecretError, SecretStore, KEYRING_TIMEOUT};
use streamcue::twitch_auth::{AccountOptions, AccountState, TwitchAccount};
use streamcue_testkit::fake_oauth::{FakeOauth, FakeUser};
use streamcue_testkit::secret_service::SecretService;
use streamcue_testkit::{secs, Harness, HarnessOptions};
use tokio_util::sync::CancellationToken;

const ALICE: &str = "kEyr1ngT0kenAlice55";

/// The Secret Service for this test process (each nextest test is a process of its own).
fn secret_service(test: &str) -> Option<SecretService> {
    match SecretService::start() {
        Ok(s) => {
            std::env::set_var("DBUS_SESSION_BUS_ADDRESS", s.address());
            Some(s)
        }
        Err(why) if std::env::var_os("CI").is_some() => panic!("{test}: {why}"),
        Err(why) => {
            println!("SKIP {test}: {why}");
            None
        }
    }
}

async fn wait_state(account: &TwitchAccount, what: &str, pred: impl Fn(&AccountState) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !pred(&account.state()) {
        assert!(
            Instant::now() < deadline,
            "{what}: still {:?}",
            account.state()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn logged_in_as(login: &str) -> impl Fn(&AccountState) -> bool + '_ {
    move |s| matches!(s, AccountState::LoggedIn { login: l, .. } if l == login)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_login_is_kept_in_the_real_keyring_and_survives_a_restart() {
    let Some(ss) = secret_service("keyring round trip") else {
        return;
    };
    let fake = FakeOauth::start().await;
    fake.add_token(ALICE, FakeUser::new("alice"));
    let options = || AccountOptions {
        base_url: fake.base_url(),
        request_timeout: secs(5.0),
        retry_every: secs(1.0),
        ..AccountOptions::default()
    };

    let store = Arc::new(KeyringStore::probe());
    assert!(store.available(), "{:?}", store.unavailable_because());
    let cancel = CancellationToken::new();
    let (account, task) = TwitchAccount::start(store, options(), cancel.clone()).unwrap();
    let login = account
        .paste_token(Secret::new(format!("oauth:{ALICE}")))
        .await
        .unwrap();
    assert_eq!(login, "alice");
    cancel.cancel();
    task.await.unwrap();

    // In the Secret Service, under StreamCue's name; not in the clear in any keyring file.
    assert_eq!(
        ss.lookup(&["service", "streamcue", "username", "twitch-token"])
            .as_deref(),
        Some(ALICE)
    );
    for entry in std::fs::read_dir(ss.keyring_dir()).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        assert!(
            !bytes.windows(ALICE.len()).any(|w| w == ALICE.as_bytes()),
            "{} holds the token in the clear",
            entry.path().display()
        );
    }

    // A restart: a new store and account find the login by themselves.
    let store = Arc::new(KeyringStore::probe());
    let cancel = CancellationToken::new();
    let (account, task) = TwitchAccount::start(store, options(), cancel.clone()).unwrap();
    wait_state(
        &account,
        "logged in again after the restart",
        logged_in_as("alice"),
    )
    .await;
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyring_that_never_answers_is_said_in_words_and_never_holds_up_quit() {
    let Some(ss) = secret_service("keyring never answers") else {
        return;
    };
    // Found at start, then stuck (its unlock prompt left open).
    let store = Arc::new(KeyringStore::probe());
    assert!(store.available(), "{:?}", store.unavailable_because());
    ss.freeze();
    let started = Instant::now();
    let got = store.get(streamcue::secrets::SecretKey::TwitchToken);
    assert!(matches!(got, Err(SecretError::NotAnswering)), "{got:?}");
    assert!(started.elapsed() < KEYRING_TIMEOUT + Duration::from_secs(2));
    assert!(got.unwrap_err().to_string().contains("unlock your keyring"));
    // While that call is out, the next ones fail at once instead of piling up.
    let started = Instant::now();
    assert!(matches!(
        store.set(
            streamcue::secrets::SecretKey::ObsPassword,
            &Secret::new("x")
        ),
        Err(SecretError::NotAnswering)
    ));
    assert!(started.elapsed() < Duration::from_millis(100));

    // The whole engine on that keyring: it starts, and Quit finishes in bounded time.
    let mut h = Harness::start(HarnessOptions {
        secrets: Some(store),
        ..Default::default()
    })
    .await;
    let took = h.shutdown_within(secs(15.0)).await;
    assert!(took < Duration::from_secs(10), "Quit took {took:?}");

    // A keyring that does not answer at start is named as such.
    let started = Instant::now();
    let probed = KeyringStore::probe();
    assert!(!probed.available());
    assert!(started.elapsed() < KEYRING_TIMEOUT + Duration::from_secs(2));
    assert!(matches!(
        probed.unavailable_because(),
        Some(SecretError::NotAnswering)
    ));
    let h = Harness::start(HarnessOptions {
        secrets: Some(Arc::new(probed)),
        ..Default::default()
    })
    .await;
    let notices = h.snapshot().await.notices;
    assert!(
        notices
            .iter()
            .any(|n| n.message.starts_with("The OS keyring does not answer")),
        "{notices:?}"
    );
    ss.thaw();
}
