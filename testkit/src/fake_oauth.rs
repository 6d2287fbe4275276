//! A fake of Twitch's identity service (`id.twitch.tv`) over real HTTP on 127.0.0.1 (hyper,
//! one request per connection) for `/oauth2/device`, `/oauth2/token` (device-code and refresh
//! grants), `/oauth2/validate` and `/oauth2/revoke`. Errors use Twitch's shape,
//! `{"status":400,"message":"…"}`.
//!
//! Scriptable: what each token poll answers, which tokens are valid (and what validate says
//! about them), which refresh tokens work, and a delay before every answer. Every request is
//! recorded (with the time it had arrived) and answered — its effect on the state included —
//! before the delay, so a client that gives up still counts. Recorded requests hold tokens:
//! tests may compare them but must never print them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::{Request, Response};

pub use crate::http::Recorded;
use crate::http::{answer as reply, Body};
use crate::serve::{serve_http, Loopback};

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What one device-code token poll answers.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenReply {
    /// 400 `authorization_pending`.
    Pending,
    /// 400 `slow_down`.
    SlowDown,
    /// 400 `access_denied`.
    Denied,
    /// 400 `expired_token`.
    ExpiredToken,
    /// 200 with this token (add it with [`FakeOauth::add_token`] for validate to accept it).
    Approve {
        access: String,
        refresh: Option<String>,
    },
    /// Any status and `message`.
    Error { status: u16, message: String },
}

/// What validate says about a valid token.
#[derive(Debug, Clone)]
pub struct FakeUser {
    pub login: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    pub expires_in: u64,
}

impl FakeUser {
    pub fn new(login: &str) -> Self {
        Self {
            login: login.to_string(),
            user_id: "141981764".to_string(),
            scopes: vec!["chat:read".into(), "chat:edit".into()],
            expires_in: 14_000,
        }
    }
}

struct State {
    client_id: String,
    device_code: String,
    user_code: String,
    interval: u64,
    expires_in: u64,
    device_reply: Option<(u16, String)>,
    polls: VecDeque<TokenReply>,
    then: TokenReply,
    tokens: HashMap<String, FakeUser>,
    refresh: HashMap<String, (String, Option<String>)>,
    /// Answer every request this late (to test timeouts and cancellation).
    delay: Duration,
    requests: Vec<Recorded>,
}

/// The running fake. Stops when dropped.
pub struct FakeOauth {
    server: Loopback,
    state: Arc<Mutex<State>>,
}

impl FakeOauth {
    /// Starts on an ephemeral 127.0.0.1 port. Defaults: client id `test-client-id`, device
    /// code interval 1 s, expiry 1800 s, every poll `Pending`, no valid tokens.
    pub async fn start() -> FakeOauth {
        let state = Arc::new(Mutex::new(State {
            client_id: "test-client-id".into(),
            device_code: "dev-code-9f8e7d6c5b4a".into(),
            user_code: "WDJBMJHT".into(),
            interval: 1,
            expires_in: 1800,
            device_reply: None,
            polls: VecDeque::new(),
            then: TokenReply::Pending,
            tokens: HashMap::new(),
            refresh: HashMap::new(),
            delay: Duration::ZERO,
            requests: Vec::new(),
        }));
        let st = state.clone();
        let server = serve_http(move |req| serve(st.clone(), req))
            .await
            .expect("bind fake oauth");
        FakeOauth { server, state }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    pub fn client_id(&self) -> String {
        self.state.lock().unwrap().client_id.clone()
    }

    pub fn device_code(&self) -> String {
        self.state.lock().unwrap().device_code.clone()
    }

    pub fn user_code(&self) -> String {
        self.state.lock().unwrap().user_code.clone()
    }

    /// What `/oauth2/device` says about polling.
    pub fn set_device(&self, interval: u64, expires_in: u64) {
        let mut s = self.state.lock().unwrap();
        s.interval = interval;
        s.expires_in = expires_in;
    }

    /// Makes `/oauth2/device` fail with this status and message.
    pub fn fail_device(&self, status: u16, message: &str) {
        self.state.lock().unwrap().device_reply = Some((status, message.to_string()));
    }

    /// The answers to the next polls, in order; `then` for every poll after them.
    pub fn script_polls(&self, replies: impl IntoIterator<Item = TokenReply>, then: TokenReply) {
        let mut s = self.state.lock().unwrap();
        s.polls = replies.into_iter().collect();
        s.then = then;
    }

    /// `Pending` `n` times, then approve with `access` (and `refresh`), which validate
    /// accepts as `login`.
    pub fn approve_after(&self, n: usize, access: &str, refresh: Option<&str>, login: &str) {
        self.script_polls(
            std::iter::repeat_n(TokenReply::Pending, n),
            TokenReply::Approve {
                access: access.into(),
                refresh: refresh.map(str::to_string),
            },
        );
        self.add_token(access, FakeUser::new(login));
    }

    /// Validate accepts `token` and describes it as `user`.
    pub fn add_token(&self, token: &str, user: FakeUser) {
        self.state
            .lock()
            .unwrap()
            .tokens
            .insert(token.to_string(), user);
    }

    /// Validate answers 401 for `token` from now on.
    pub fn revoke_token(&self, token: &str) {
        self.state.lock().unwrap().tokens.remove(token);
    }

    pub fn token_is_valid(&self, token: &str) -> bool {
        self.state.lock().unwrap().tokens.contains_key(token)
    }

    /// A refresh with `refresh` (once: Twitch's are single-use) yields `access` (valid as
    /// `user`) and `next_refresh`.
    pub fn add_refresh(
        &self,
        refresh: &str,
        access: &str,
        next_refresh: Option<&str>,
        user: FakeUser,
    ) {
        let mut s = self.state.lock().unwrap();
        s.refresh.insert(
            refresh.to_string(),
            (access.to_string(), next_refresh.map(str::to_string)),
        );
        s.tokens.insert(access.to_string(), user);
    }

    /// Every answer is sent this late.
    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.route() == path)
            .collect()
    }

    /// Device-code token polls (not refreshes), in order.
    pub fn polls(&self) -> Vec<Recorded> {
        self.requests_to("/oauth2/token")
            .into_iter()
            .filter(|r| r.field("grant_type") == Some(DEVICE_GRANT))
            .collect()
    }

    /// When each device-code token poll arrived.
    pub fn poll_times(&self) -> Vec<Instant> {
        self.polls().iter().map(|r| r.at).collect()
    }

    /// Refresh-grant token requests, in order.
    pub fn refreshes(&self) -> Vec<Recorded> {
        self.requests_to("/oauth2/token")
            .into_iter()
            .filter(|r| r.field("grant_type") == Some("refresh_token"))
            .collect()
    }
}

fn json_error(status: u16, message: &str) -> (u16, String) {
    (
        status,
        serde_json::json!({ "status": status, "message": message }).to_string(),
    )
}

fn answer(state: &Mutex<State>, req: &Recorded) -> (u16, String) {
    let mut s = state.lock().unwrap();
    let client_ok = req.field("client_id") == Some(s.client_id.as_str());
    match (req.method.as_str(), req.route()) {
        ("POST", "/oauth2/device") => {
            if let Some((status, message)) = &s.device_reply {
                return json_error(*status, message);
            }
            if !client_ok {
                return json_error(400, "invalid client");
            }
            (
                200,
                serde_json::json!({
                    "device_code": s.device_code,
                    "expires_in": s.expires_in,
                    "interval": s.interval,
                    "user_code": s.user_code,
                    "verification_uri": format!(
                        "https://www.twitch.tv/activate?public=true&device-code={}",
                        s.user_code
                    ),
                })
                .to_string(),
            )
        }
        ("POST", "/oauth2/token") if req.field("grant_type") == Some(DEVICE_GRANT) => {
            if !client_ok {
                return json_error(400, "invalid client");
            }
            if req.field("device_code") != Some(s.device_code.as_str()) {
                return json_error(400, "invalid device code");
            }
            let reply = s.polls.pop_front().unwrap_or_else(|| s.then.clone());
            match reply {
                TokenReply::Pending => json_error(400, "authorization_pending"),
                TokenReply::SlowDown => json_error(400, "slow_down"),
                TokenReply::Denied => json_error(400, "access_denied"),
                TokenReply::ExpiredToken => json_error(400, "expired_token"),
                TokenReply::Error { status, message } => json_error(status, &message),
                TokenReply::Approve { access, refresh } => (
                    200,
                    serde_json::json!({
                        "access_token": access,
                        "expires_in": 14_124,
                        "refresh_token": refresh,
                        "scope": ["chat:read", "chat:edit"],
                        "token_type": "bearer",
                    })
                    .to_string(),
                ),
            }
        }
        ("POST", "/oauth2/token") if req.field("grant_type") == Some("refresh_token") => {
            if !client_ok {
                return json_error(400, "invalid client");
            }
            let given = req.field("refresh_token").unwrap_or_default().to_string();
            match s.refresh.remove(&given) {
                Some((access, next)) => (
                    200,
                    serde_json::json!({
                        "access_token": access,
                        "expires_in": 14_124,
                        "refresh_token": next,
                        "scope": ["chat:read", "chat:edit"],
                        "token_type": "bearer",
                    })
                    .to_string(),
                ),
                None => json_error(400, "Invalid refresh token"),
            }
        }
        ("POST", "/oauth2/token") => json_error(400, "unsupported grant type"),
        ("GET", "/oauth2/validate") => {
            let token = req
                .header("authorization")
                .and_then(|v| v.strip_prefix("OAuth "))
                .unwrap_or_default();
            match s.tokens.get(token) {
                Some(user) => (
                    200,
                    serde_json::json!({
                        "client_id": s.client_id,
                        "login": user.login,
                        "scopes": user.scopes,
                        "user_id": user.user_id,
                        "expires_in": user.expires_in,
                    })
                    .to_string(),
                ),
                None => json_error(401, "invalid access token"),
            }
        }
        ("POST", "/oauth2/revoke") => {
            if !client_ok {
                return json_error(400, "Invalid client id");
            }
            let token = req.field("token").unwrap_or_default().to_string();
            s.tokens.remove(&token);
            (200, String::new())
        }
        _ => json_error(404, "Not Found"),
    }
}

/// Bodies are forms of a few fields; anything longer is not Twitch's client.
const MAX_BODY: usize = 64 * 1024;

async fn serve(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Response<Body> {
    let recorded = match Recorded::read(req, MAX_BODY).await {
        Ok(r) => r,
        Err(refusal) => return refusal,
    };
    state.lock().unwrap().requests.push(recorded.clone());
    let (status, body) = answer(&state, &recorded);
    let delay = state.lock().unwrap().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    reply(status, "application/json", body)
}
