//! "Log in with Twitch" end to end against a fake identity service on 127.0.0.1 (real HTTP,
//! no mocking inside the process): the device flow (pending, approved, denied, expired,
//! slow_down, cancelled), token checks at start and on a timer, paste-a-token, logout,
//! refresh, and that no token ever reaches a log line, a state or an error message.

use std::io::Write;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use streamcue::secrets::{MemoryStore, Secret, SecretError, SecretKey, SecretStore};
use streamcue::twitch_auth::{
    validate, AccountOptions, AccountState, AuthError, AuthErrorCode, TwitchAccount, TwitchId,
    CHAT_SCOPES, SLOW_DOWN_STEP,
};
use streamcue_testkit::fake_oauth::{FakeOauth, FakeUser, TokenReply, DEVICE_GRANT};
use streamcue_testkit::{now_ms, secs, within};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

// ---- every log line of this test binary, at TRACE, to look for tokens in ----

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_ansi(false)
            .with_writer(|| Capture)
            .try_init();
    });
}

fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

/// Fails (without printing the secret) if any of `secrets` is in the logs or in `texts`.
fn assert_no_secret(secrets: &[&str], texts: &[String]) {
    let logs = logs();
    assert!(
        logs.contains("streamcue::twitch_auth"),
        "the log capture should have seen the account's own lines"
    );
    for (i, secret) in secrets.iter().enumerate() {
        assert!(!logs.contains(secret), "secret #{i} reached the logs");
        for (j, text) in texts.iter().enumerate() {
            assert!(!text.contains(secret), "secret #{i} reached text #{j}");
        }
    }
}

// ---- a running account ----

struct Running {
    account: TwitchAccount,
    task: JoinHandle<()>,
    cancel: CancellationToken,
    /// Every state seen on the watch channel, in order.
    seen: Arc<Mutex<Vec<AccountState>>>,
}

impl Running {
    async fn start(secrets: Arc<dyn SecretStore>, options: AccountOptions) -> Running {
        capture_logs();
        let cancel = CancellationToken::new();
        let (account, task) = TwitchAccount::start(secrets, options, cancel.clone()).unwrap();
        let seen = Arc::new(Mutex::new(vec![account.state()]));
        let mut rx = account.watch();
        let seen2 = seen.clone();
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let s = rx.borrow_and_update().clone();
                seen2.lock().unwrap().push(s);
            }
        });
        Running {
            account,
            task,
            cancel,
            seen,
        }
    }

    /// Waits until the state satisfies `pred`; panics after `limit`.
    async fn wait(
        &self,
        limit: Duration,
        what: &str,
        pred: impl Fn(&AccountState) -> bool,
    ) -> AccountState {
        let mut rx = self.account.watch();
        let found = tokio::time::timeout(limit, async {
            loop {
                let s = rx.borrow_and_update().clone();
                if pred(&s) {
                    return s;
                }
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
        .await;
        match found {
            Ok(s) => s,
            Err(_) => panic!(
                "timed out after {limit:?} waiting for {what}; states seen: {:#?}",
                self.seen()
            ),
        }
    }

    fn seen(&self) -> Vec<AccountState> {
        self.seen.lock().unwrap().clone()
    }

    /// Cancels the actor and checks it stops promptly.
    async fn stop(self) {
        self.cancel.cancel();
        within(secs(3.0), "the account actor stops", self.task)
            .await
            .unwrap();
    }
}

fn options(fake: &FakeOauth) -> AccountOptions {
    AccountOptions {
        base_url: fake.base_url(),
        request_timeout: secs(5.0),
        retry_every: secs(1.0),
        ..AccountOptions::default()
    }
}

fn store_with(token: Option<&str>) -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::default());
    if let Some(t) = token {
        store
            .set(SecretKey::TwitchToken, &Secret::new(t.to_string()))
            .unwrap();
    }
    store
}

fn stored(store: &MemoryStore) -> Option<String> {
    store
        .get(SecretKey::TwitchToken)
        .unwrap()
        .map(|s| s.expose().to_string())
}

fn logged_in_as(login: &str) -> impl Fn(&AccountState) -> bool + '_ {
    move |s| matches!(s, AccountState::LoggedIn { login: l, .. } if l == login)
}

fn is_logged_out(s: &AccountState) -> bool {
    matches!(s, AccountState::LoggedOut { .. })
}

fn is_failed(s: &AccountState) -> bool {
    matches!(s, AccountState::Failed { .. })
}

/// A secret store with no backend, like a Linux box without Secret Service.
struct NoKeyring;

impl SecretStore for NoKeyring {
    fn available(&self) -> bool {
        false
    }
    fn get(&self, _: SecretKey) -> Result<Option<Secret>, SecretError> {
        Err(SecretError::Unavailable("no keyring in this test".into()))
    }
    fn set(&self, _: SecretKey, _: &Secret) -> Result<(), SecretError> {
        Err(SecretError::Unavailable("no keyring in this test".into()))
    }
    fn delete(&self, _: SecretKey) -> Result<(), SecretError> {
        Err(SecretError::Unavailable("no keyring in this test".into()))
    }
}

/// The gaps between consecutive instants.
fn gaps(times: &[Instant]) -> Vec<Duration> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

// ---- the device flow through the account actor ----

#[tokio::test]
async fn pending_then_approved_stores_the_token_and_reports_the_login() {
    const TOKEN: &str = "accTok3nPendingApprovedQ7x";
    const REFRESH: &str = "refTok3nPendingApprovedW2y";
    let fake = FakeOauth::start().await;
    fake.approve_after(2, TOKEN, Some(REFRESH), "StreamerBob");
    let store = store_with(None);
    let acc = Running::start(store.clone(), options(&fake)).await;
    acc.wait(secs(5.0), "logged out at start", |s| {
        *s == AccountState::LoggedOut { message: None }
    })
    .await;

    let t0 = Instant::now();
    let prompt = within(
        secs(5.0),
        "start_login",
        acc.account.start_login(&fake.client_id()),
    )
    .await
    .expect("a login code");
    assert_eq!(prompt.user_code, fake.user_code());
    assert!(prompt
        .verification_uri
        .starts_with("https://www.twitch.tv/activate"));
    let expected_expiry = now_ms() as f64 + 1800.0 * 1000.0;
    assert!((prompt.expires_at_ms - expected_expiry).abs() < 5000.0);
    assert_eq!(
        acc.account.state(),
        AccountState::WaitingForUser {
            user_code: prompt.user_code.clone(),
            verification_uri: prompt.verification_uri.clone(),
            expires_at_ms: prompt.expires_at_ms,
        },
        "the waiting state is announced before start_login returns"
    );

    let state = acc
        .wait(secs(10.0), "logged in", logged_in_as("streamerbob"))
        .await;
    assert_eq!(
        state,
        AccountState::LoggedIn {
            login: "streamerbob".into(),
            warning: None
        }
    );
    assert_eq!(stored(&store).as_deref(), Some(TOKEN), "the token is saved");
    let creds = acc
        .account
        .credentials()
        .await
        .unwrap()
        .expect("credentials");
    assert_eq!(creds.login, "streamerbob");
    assert_eq!(creds.token.expose(), TOKEN);

    // What was asked, and how.
    let device = fake.requests_to("/oauth2/device");
    assert_eq!(device.len(), 1);
    assert_eq!(device[0].method, "POST");
    assert_eq!(device[0].field("client_id"), Some("test-client-id"));
    assert_eq!(device[0].field("scopes"), Some(CHAT_SCOPES));
    assert_eq!(CHAT_SCOPES, "chat:read chat:edit");
    let polls = fake.polls();
    assert_eq!(polls.len(), 3, "two pending answers, then the approval");
    for p in &polls {
        assert_eq!(p.field("client_id"), Some("test-client-id"));
        assert_eq!(p.field("scopes"), Some(CHAT_SCOPES));
        assert_eq!(p.field("grant_type"), Some(DEVICE_GRANT));
        assert!(p.field("device_code") == Some(fake.device_code().as_str()));
    }
    // Polls are spaced by the interval (1 s), the first one too.
    let mut times = vec![device[0].at];
    times.extend(fake.poll_times());
    for gap in gaps(&times) {
        assert!(gap >= secs(0.95), "polled too soon: {gap:?}");
        assert!(gap < secs(2.5), "polled too late: {gap:?}");
    }
    assert!(t0.elapsed() >= secs(2.9));
    let validates = fake.requests_to("/oauth2/validate");
    assert_eq!(validates.len(), 1, "the new token is checked once");
    assert_eq!(validates[0].method, "GET");
    assert!(validates[0].header("authorization") == Some(format!("OAuth {TOKEN}").as_str()));

    // Nothing secret anywhere it could be seen.
    let texts = vec![
        format!("{:?}", acc.seen()),
        serde_json::to_string(&acc.seen()).unwrap(),
        format!("{prompt:?}"),
        format!("{creds:?}"),
    ];
    assert_no_secret(&[TOKEN, REFRESH, &fake.device_code()], &texts);
    acc.stop().await;
}

#[tokio::test]
async fn denied_login_fails_with_a_clear_message() {
    let fake = FakeOauth::start().await;
    fake.script_polls([TokenReply::Pending], TokenReply::Denied);
    let store = store_with(None);
    let acc = Running::start(store.clone(), options(&fake)).await;
    acc.account.start_login(&fake.client_id()).await.unwrap();
    let state = acc.wait(secs(10.0), "failed", is_failed).await;
    assert_eq!(
        state,
        AccountState::Failed {
            message: AuthError::Denied.to_string()
        }
    );
    assert!(AuthError::Denied.to_string().contains("declined"));
    assert_eq!(stored(&store), None);
    assert!(acc.account.credentials().await.unwrap().is_none());
    let polls = fake.polls().len();
    assert_eq!(polls, 2);
    tokio::time::sleep(secs(1.2)).await;
    assert_eq!(fake.polls().len(), polls, "no polling after a denial");
    // Dismissing the failure goes back to logged out.
    acc.account.cancel_login().await.unwrap();
    assert_eq!(
        acc.account.state(),
        AccountState::LoggedOut { message: None }
    );
    assert_no_secret(&[&fake.device_code()], &[format!("{:?}", acc.seen())]);
    acc.stop().await;
}

#[tokio::test]
async fn expired_token_answer_fails_as_expired() {
    let fake = FakeOauth::start().await;
    fake.script_polls([TokenReply::Pending], TokenReply::ExpiredToken);
    let acc = Running::start(store_with(None), options(&fake)).await;
    acc.account.start_login(&fake.client_id()).await.unwrap();
    let state = acc.wait(secs(10.0), "failed", is_failed).await;
    assert_eq!(
        state,
        AccountState::Failed {
            message: AuthError::Expired.to_string()
        }
    );
    assert_eq!(fake.polls().len(), 2);
    acc.stop().await;
}

#[tokio::test]
async fn a_code_past_expires_in_expires_even_if_twitch_keeps_saying_pending() {
    let fake = FakeOauth::start().await;
    fake.set_device(1, 2);
    let acc = Running::start(store_with(None), options(&fake)).await;
    let t0 = Instant::now();
    acc.account.start_login(&fake.client_id()).await.unwrap();
    let state = acc.wait(secs(10.0), "failed", is_failed).await;
    let took = t0.elapsed();
    assert_eq!(
        state,
        AccountState::Failed {
            message: AuthError::Expired.to_string()
        }
    );
    assert!(took >= secs(1.9) && took < secs(4.0), "took {took:?}");
    assert!(fake.polls().len() <= 2, "{} polls", fake.polls().len());
    acc.stop().await;
}

#[tokio::test]
async fn slow_down_adds_five_seconds_to_the_interval() {
    const TOKEN: &str = "accTok3nSlowDownE4r5";
    let fake = FakeOauth::start().await;
    fake.script_polls(
        [TokenReply::SlowDown],
        TokenReply::Approve {
            access: TOKEN.into(),
            refresh: None,
        },
    );
    fake.add_token(TOKEN, FakeUser::new("slowpoke"));
    let store = store_with(None);
    let acc = Running::start(store.clone(), options(&fake)).await;
    acc.account.start_login(&fake.client_id()).await.unwrap();
    acc.wait(secs(15.0), "logged in", logged_in_as("slowpoke"))
        .await;
    let times = fake.poll_times();
    assert_eq!(times.len(), 2);
    let gap = times[1] - times[0];
    let expected = secs(1.0) + SLOW_DOWN_STEP;
    assert_eq!(SLOW_DOWN_STEP, secs(5.0), "RFC 8628 §3.5");
    assert!(
        gap >= expected - secs(0.05) && gap < expected + secs(1.5),
        "gap after slow_down: {gap:?}"
    );
    assert_eq!(stored(&store).as_deref(), Some(TOKEN));
    acc.stop().await;
}

#[tokio::test]
async fn an_approved_token_that_twitch_then_rejects_is_not_kept() {
    const TOKEN: &str = "accTok3nNeverValidT6y7";
    let fake = FakeOauth::start().await;
    // Approved, but validate does not know it (401).
    fake.script_polls(
        [],
        TokenReply::Approve {
            access: TOKEN.into(),
            refresh: None,
        },
    );
    let store = store_with(None);
    let acc = Running::start(store.clone(), options(&fake)).await;
    acc.account.start_login(&fake.client_id()).await.unwrap();
    let state = acc.wait(secs(10.0), "failed", is_failed).await;
    assert_eq!(
        state,
        AccountState::Failed {
            message: AuthError::InvalidToken.to_string()
        }
    );
    assert_eq!(stored(&store), None);
    assert!(acc.account.credentials().await.unwrap().is_none());
    assert_no_secret(&[TOKEN], &[format!("{:?}", acc.seen())]);
    acc.stop().await;
}

#[tokio::test]
async fn cancel_during_polling_stops_the_polls_and_a_new_login_works() {
    let fake = FakeOauth::start().await;
    let acc = Running::start(store_with(None), options(&fake)).await;
    acc.account.start_login(&fake.client_id()).await.unwrap();
    within(secs(5.0), "a first poll", async {
        while fake.polls().is_empty() {
            tokio::time::sleep(secs(0.02)).await;
        }
    })
    .await;
    acc.account.cancel_login().await.unwrap();
    assert_eq!(
        acc.account.state(),
        AccountState::LoggedOut { message: None }
    );
    let polls = fake.polls().len();
    tokio::time::sleep(secs(1.5)).await;
    assert_eq!(fake.polls().len(), polls, "no polls after cancel");
    assert_eq!(
        acc.account.state(),
        AccountState::LoggedOut { message: None }
    );

    // Again, and this time the app shuts down mid-poll (answers delayed 3 s).
    acc.account.start_login(&fake.client_id()).await.unwrap();
    assert_eq!(fake.requests_to("/oauth2/device").len(), 2);
    fake.set_delay(secs(3.0));
    let before = fake.polls().len();
    within(secs(5.0), "a poll in flight", async {
        while fake.polls().len() == before {
            tokio::time::sleep(secs(0.02)).await;
        }
    })
    .await;
    let t0 = Instant::now();
    let account = acc.account.clone();
    acc.stop().await;
    assert!(t0.elapsed() < secs(1.0), "stop took {:?}", t0.elapsed());
    assert_eq!(
        account.start_login("test-client-id").await.unwrap_err(),
        AuthError::Stopped
    );
}

#[tokio::test]
async fn a_second_start_login_replaces_the_first() {
    let fake = FakeOauth::start().await;
    let acc = Running::start(store_with(None), options(&fake)).await;
    // Slow answers: the first start_login is still waiting for its code when replaced.
    fake.set_delay(secs(1.0));
    let a = acc.account.clone();
    let id = fake.client_id();
    let first = tokio::spawn(async move { a.start_login(&id).await });
    tokio::time::sleep(secs(0.2)).await;
    let second = acc.account.start_login(&fake.client_id()).await;
    assert!(second.is_ok());
    assert_eq!(first.await.unwrap().unwrap_err(), AuthError::Cancelled);
    assert!(matches!(
        acc.account.state(),
        AccountState::WaitingForUser { .. }
    ));
    acc.stop().await;
}

// ---- errors before the code is shown ----

#[tokio::test]
async fn an_empty_client_id_asks_the_streamer_to_register_an_app() {
    let fake = FakeOauth::start().await;
    let acc = Running::start(store_with(None), options(&fake)).await;
    acc.wait(secs(5.0), "logged out", is_logged_out).await;
    let e = acc.account.start_login("  ").await.unwrap_err();
    assert_eq!(e, AuthError::MissingClientId);
    assert_eq!(e.code(), AuthErrorCode::MissingClientId);
    let text = e.to_string();
    assert!(
        text.contains("client ID") && text.contains("register"),
        "{text}"
    );
    assert_eq!(text.matches(". ").count(), 0, "one sentence: {text}");
    assert!(fake.requests().is_empty(), "nothing was sent to Twitch");
    assert_eq!(
        acc.account.state(),
        AccountState::LoggedOut { message: None }
    );
    acc.stop().await;
}

#[tokio::test]
async fn twitch_refusing_the_client_id_is_reported() {
    let fake = FakeOauth::start().await;
    let acc = Running::start(store_with(None), options(&fake)).await;
    acc.wait(secs(5.0), "logged out", is_logged_out).await;
    let e = acc.account.start_login("not-my-app").await.unwrap_err();
    assert_eq!(
        e,
        AuthError::Rejected {
            status: 400,
            message: "invalid client".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "Twitch refused the request (HTTP 400: invalid client)."
    );
    assert_eq!(
        acc.account.state(),
        AccountState::LoggedOut { message: None }
    );
    acc.stop().await;
}

#[tokio::test]
async fn unreachable_twitch_is_a_network_error_and_a_saved_token_is_kept() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let opts = AccountOptions {
        base_url: format!("http://127.0.0.1:{port}"),
        request_timeout: secs(2.0),
        retry_every: secs(60.0),
        ..AccountOptions::default()
    };
    const TOKEN: &str = "accTok3nOfflineU8i9";
    let store = store_with(Some(TOKEN));
    let acc = Running::start(store.clone(), opts).await;
    let state = acc.wait(secs(5.0), "failed check", is_failed).await;
    let AccountState::Failed { message } = &state else {
        unreachable!()
    };
    assert!(message.contains("could not be checked"), "{message}");
    assert!(message.contains("Could not reach Twitch"), "{message}");
    assert!(message.contains("60 seconds"), "{message}");
    assert_eq!(stored(&store).as_deref(), Some(TOKEN), "kept for the retry");
    assert!(
        acc.account.credentials().await.unwrap().is_none(),
        "not used before Twitch confirms it"
    );

    let e = acc.account.start_login("some-client").await.unwrap_err();
    assert_eq!(e.code(), AuthErrorCode::Network);
    assert!(e.to_string().starts_with("Could not reach Twitch ("), "{e}");
    assert_eq!(acc.account.state(), state, "back to the state before");
    assert_no_secret(&[TOKEN], &[format!("{:?}", acc.seen()), e.to_string()]);
    acc.stop().await;
}

// ---- tokens that are already there ----

#[tokio::test]
async fn a_saved_token_is_checked_at_start() {
    const TOKEN: &str = "accTok3nSavedO1p2";
    let fake = FakeOauth::start().await;
    fake.add_token(TOKEN, FakeUser::new("savedstreamer"));
    // Saved with the prefix, as older versions or a paste may have done.
    let store = store_with(Some(&format!("oauth:{TOKEN}")));
    let acc = Running::start(store.clone(), options(&fake)).await;
    acc.wait(secs(5.0), "logged in", logged_in_as("savedstreamer"))
        .await;
    let v = fake.requests_to("/oauth2/validate");
    assert_eq!(v.len(), 1);
    assert!(v[0].header("authorization") == Some(format!("OAuth {TOKEN}").as_str()));
    assert!(fake.requests_to("/oauth2/device").is_empty());
    let creds = acc.account.credentials().await.unwrap().unwrap();
    assert_eq!(creds.token.expose(), TOKEN);
    assert_no_secret(&[TOKEN], &[format!("{:?}", acc.seen())]);
    acc.stop().await;
}

#[tokio::test]
async fn an_invalid_saved_token_is_deleted_with_a_message() {
    const TOKEN: &str = "accTok3nStaleA3s4";
    let fake = FakeOauth::start().await;
    let store = store_with(Some(TOKEN));
    let acc = Running::start(store.clone(), options(&fake)).await;
    let state = acc.wait(secs(5.0), "logged out", is_logged_out).await;
    let AccountState::LoggedOut {
        message: Some(message),
    } = &state
    else {
        panic!("expected a message, got {state:?}");
    };
    assert!(message.contains("no longer valid"), "{message}");
    assert!(message.contains("log in again"), "{message}");
    assert_eq!(stored(&store), None, "the invalid token is deleted");
    assert!(acc.account.credentials().await.unwrap().is_none());
    assert_no_secret(&[TOKEN], &[format!("{:?}", acc.seen())]);
    acc.stop().await;
}

#[tokio::test]
async fn periodic_revalidation_notices_a_revoked_token() {
    const TOKEN: &str = "accTok3nRevokedD5f6";
    let fake = FakeOauth::start().await;
    fake.add_token(TOKEN, FakeUser::new("revokee"));
    let store = store_with(Some(TOKEN));
    let acc = Running::start(
        store.clone(),
        AccountOptions {
            revalidate_every: secs(0.3),
            ..options(&fake)
        },
    )
    .await;
    acc.wait(secs(5.0), "logged in", logged_in_as("revokee"))
        .await;
    within(secs(5.0), "three checks", async {
        while fake.requests_to("/oauth2/validate").len() < 3 {
            tokio::time::sleep(secs(0.02)).await;
        }
    })
    .await;
    let times: Vec<Instant> = fake
        .requests_to("/oauth2/validate")
        .iter()
        .map(|r| r.at)
        .collect();
    for gap in gaps(&times) {
        assert!(gap >= secs(0.28), "checked too often: {gap:?}");
    }
    assert!(matches!(acc.account.state(), AccountState::LoggedIn { .. }));

    fake.revoke_token(TOKEN);
    let state = acc.wait(secs(5.0), "logged out", is_logged_out).await;
    let AccountState::LoggedOut {
        message: Some(message),
    } = &state
    else {
        panic!("expected a message, got {state:?}");
    };
    assert!(message.contains("Twitch ended this login"), "{message}");
    assert_eq!(stored(&store), None);
    let checks = fake.requests_to("/oauth2/validate").len();
    tokio::time::sleep(secs(0.8)).await;
    assert_eq!(
        fake.requests_to("/oauth2/validate").len(),
        checks,
        "nothing left to check"
    );
    acc.stop().await;
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_in_the_session() {
    const TOKEN: &str = "accTok3nFirstG7h8";
    const REFRESH: &str = "refTok3nFirstJ9k0";
    const TOKEN2: &str = "accTok3nSecondL1z2";
    const REFRESH2: &str = "refTok3nSecondX3c4";
    let fake = FakeOauth::start().await;
    fake.script_polls(
        [],
        TokenReply::Approve {
            access: TOKEN.into(),
            refresh: Some(REFRESH.into()),
        },
    );
    // Expires in a minute: sooner than the next check plus the margin.
    fake.add_token(
        TOKEN,
        FakeUser {
            expires_in: 60,
            ..FakeUser::new("longstream")
        },
    );
    fake.add_refresh(REFRESH, TOKEN2, Some(REFRESH2), FakeUser::new("longstream"));
    let store = store_with(None);
    let acc = Running::start(
        store.clone(),
        AccountOptions {
            revalidate_every: secs(0.3),
            ..options(&fake)
        },
    )
    .await;
    acc.account.start_login(&fake.client_id()).await.unwrap();
    acc.wait(secs(10.0), "logged in", logged_in_as("longstream"))
        .await;
    within(secs(5.0), "the refreshed token is saved", async {
        while stored(&store).as_deref() != Some(TOKEN2) {
            tokio::time::sleep(secs(0.02)).await;
        }
    })
    .await;
    let refreshes = fake.refreshes();
    assert_eq!(refreshes.len(), 1);
    assert!(refreshes[0].field("refresh_token") == Some(REFRESH));
    assert_eq!(refreshes[0].field("client_id"), Some("test-client-id"));
    let creds = acc.account.credentials().await.unwrap().unwrap();
    assert_eq!(creds.token.expose(), TOKEN2);
    assert!(matches!(acc.account.state(), AccountState::LoggedIn { .. }));
    assert_no_secret(
        &[TOKEN, REFRESH, TOKEN2, REFRESH2],
        &[format!("{:?}", acc.seen())],
    );
    acc.stop().await;
}

// ---- paste, logout, no keyring ----

#[tokio::test]
async fn a_pasted_token_works_with_or_without_the_oauth_prefix() {
    const ALICE: &str = "accTok3nAliceV5b6";
    const BOB: &str = "accTok3nBobN7m8";
    const WRONG: &str = "accTok3nWrongQ9w0";
    let fake = FakeOauth::start().await;
    fake.add_token(ALICE, FakeUser::new("alice"));
    fake.add_token(BOB, FakeUser::new("bob"));
    let store = store_with(None);
    let acc = Running::start(store.clone(), options(&fake)).await;
    acc.wait(secs(5.0), "logged out", is_logged_out).await;

    let login = acc
        .account
        .paste_token(Secret::new(format!("  oauth:{ALICE}\n")))
        .await
        .unwrap();
    assert_eq!(login, "alice");
    assert!(logged_in_as("alice")(&acc.account.state()));
    assert_eq!(
        stored(&store).as_deref(),
        Some(ALICE),
        "saved without the prefix"
    );

    let login = acc.account.paste_token(Secret::new(BOB)).await.unwrap();
    assert_eq!(login, "bob");
    assert_eq!(stored(&store).as_deref(), Some(BOB));
    let auth: Vec<String> = fake
        .requests_to("/oauth2/validate")
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_string))
        .collect();
    assert!(auth == vec![format!("OAuth {ALICE}"), format!("OAuth {BOB}")]);

    // A wrong one is refused and changes nothing.
    let e = acc
        .account
        .paste_token(Secret::new(format!("oauth:{WRONG}")))
        .await
        .unwrap_err();
    assert_eq!(e, AuthError::InvalidToken);
    let e2 = acc
        .account
        .paste_token(Secret::new("oauth:"))
        .await
        .unwrap_err();
    assert_eq!(e2, AuthError::InvalidToken);
    assert!(logged_in_as("bob")(&acc.account.state()));
    assert_eq!(stored(&store).as_deref(), Some(BOB));
    assert_no_secret(
        &[ALICE, BOB, WRONG],
        &[e.to_string(), format!("{e:?}"), format!("{:?}", acc.seen())],
    );
    acc.stop().await;
}

#[tokio::test]
async fn a_pasted_token_without_chat_edit_logs_in_with_a_warning() {
    const TOKEN: &str = "accTok3nReadOnlyR1t2";
    let fake = FakeOauth::start().await;
    fake.add_token(
        TOKEN,
        FakeUser {
            scopes: vec!["chat:read".into()],
            ..FakeUser::new("reader")
        },
    );
    let acc = Running::start(store_with(None), options(&fake)).await;
    acc.account.paste_token(Secret::new(TOKEN)).await.unwrap();
    let AccountState::LoggedIn {
        warning: Some(w), ..
    } = acc.account.state()
    else {
        panic!("expected a warning: {:?}", acc.account.state());
    };
    assert!(w.contains("chat:edit"), "{w}");
    acc.stop().await;
}

#[tokio::test]
async fn logout_deletes_the_token_and_revokes_it() {
    const TOKEN: &str = "accTok3nLogoutY3u4";
    let fake = FakeOauth::start().await;
    fake.add_token(TOKEN, FakeUser::new("leaver"));
    let store = store_with(Some(TOKEN));
    let acc = Running::start(store.clone(), options(&fake)).await;
    acc.wait(secs(5.0), "logged in", logged_in_as("leaver"))
        .await;
    acc.account.logout().await.unwrap();
    assert_eq!(
        acc.account.state(),
        AccountState::LoggedOut { message: None }
    );
    assert_eq!(stored(&store), None);
    assert!(acc.account.credentials().await.unwrap().is_none());
    within(secs(5.0), "the revoke", async {
        while fake.requests_to("/oauth2/revoke").is_empty() {
            tokio::time::sleep(secs(0.02)).await;
        }
    })
    .await;
    let revoke = &fake.requests_to("/oauth2/revoke")[0];
    assert_eq!(revoke.method, "POST");
    assert_eq!(revoke.field("client_id"), Some("test-client-id"));
    assert!(revoke.field("token") == Some(TOKEN));
    assert!(!fake.token_is_valid(TOKEN));
    // Logging out twice is fine.
    acc.account.logout().await.unwrap();
    assert_no_secret(&[TOKEN], &[format!("{:?}", acc.seen())]);
    acc.stop().await;
}

#[tokio::test]
async fn without_a_keyring_the_login_lasts_for_the_session_and_says_so() {
    const TOKEN: &str = "accTok3nNoKeyringI5o6";
    let fake = FakeOauth::start().await;
    fake.approve_after(0, TOKEN, None, "nokeys");
    let acc = Running::start(Arc::new(NoKeyring), options(&fake)).await;
    acc.wait(secs(5.0), "logged out", is_logged_out).await;
    acc.account.start_login(&fake.client_id()).await.unwrap();
    let state = acc
        .wait(secs(10.0), "logged in", logged_in_as("nokeys"))
        .await;
    let AccountState::LoggedIn {
        warning: Some(w), ..
    } = &state
    else {
        panic!("expected a warning: {state:?}");
    };
    assert!(w.contains("cannot be saved"), "{w}");
    let creds = acc.account.credentials().await.unwrap().unwrap();
    assert_eq!(creds.token.expose(), TOKEN, "usable for this session");
    acc.account.logout().await.unwrap();
    assert_eq!(
        acc.account.state(),
        AccountState::LoggedOut { message: None }
    );
    assert_no_secret(&[TOKEN], &[format!("{:?}", acc.seen())]);
    acc.stop().await;
}

// ---- the building blocks directly ----

#[tokio::test]
async fn validate_reports_the_account_or_invalid_token() {
    capture_logs();
    const TOKEN: &str = "accTok3nDirectP7a8";
    let fake = FakeOauth::start().await;
    fake.add_token(TOKEN, FakeUser::new("Direct"));
    let info = validate(&fake.base_url(), &Secret::new(TOKEN))
        .await
        .unwrap();
    assert_eq!(info.login, "direct");
    assert_eq!(info.user_id, "141981764");
    assert_eq!(info.client_id, "test-client-id");
    assert_eq!(info.scopes, vec!["chat:read", "chat:edit"]);
    assert_eq!(info.expires_in, 14_000);
    let e = validate(&fake.base_url(), &Secret::new("nope"))
        .await
        .unwrap_err();
    assert_eq!(e, AuthError::InvalidToken);
    assert_eq!(e.code(), AuthErrorCode::InvalidToken);
}

#[tokio::test]
async fn requests_time_out_and_can_be_cancelled() {
    capture_logs();
    let fake = FakeOauth::start().await;
    fake.set_delay(secs(5.0));
    let id = TwitchId::new(&fake.base_url())
        .unwrap()
        .with_timeout(secs(0.5));
    let flow = id.device_flow(&fake.client_id()).unwrap();

    let t0 = Instant::now();
    let e = flow
        .request_code(&CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.code(), AuthErrorCode::Network, "{e}");
    assert!(e.to_string().contains("no answer within"), "{e}");
    assert!(t0.elapsed() < secs(2.0), "{:?}", t0.elapsed());

    let slow = TwitchId::new(&fake.base_url()).unwrap();
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(secs(0.2)).await;
        c.cancel();
    });
    let t0 = Instant::now();
    let e = slow.validate(&Secret::new("x"), &cancel).await.unwrap_err();
    assert_eq!(e, AuthError::Cancelled);
    assert!(t0.elapsed() < secs(1.0), "{:?}", t0.elapsed());
}
