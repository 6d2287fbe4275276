//! A fake of the generation endpoint (see `docs/generation-endpoint.md`) over real HTTP on
//! 127.0.0.1, served by hyper, one request per connection (`Connection: close`).
//!
//! It speaks the whole contract: `POST /generate` (JSON `{prompt, request_id}` in,
//! `{output_url, expires_at?}` out), `303` redirect chains (`/__redirect/…`), jobs
//! (`{"call_id"}` + `GET /result/<id>`), `GET /health`, optional Modal proxy auth
//! (`Modal-Key` / `Modal-Secret`), and the download of the clip from a signed URL
//! (`GET /files/<n>.mp4?…`) whose signature and expiry are checked against the real clock, with
//! S3-style XML errors.
//!
//! Scriptable with [`Fault`]s: a list pushed with [`FakeGen::push_faults`] (one per
//! `/generate` call, in order) and a default fault for when that list is empty. Faults that
//! concern the download are attached to the URL issued by that call. Every well-formed request
//! is recorded with the time it had all arrived. Recorded requests hold credentials: tests may
//! compare them but must never print them.
//!
//! Every fault is plain hyper: a slow answer is a handler that sleeps, a slow download a body
//! stream that pauses between chunks, a download cut halfway a body stream that fails after
//! half the bytes (hyper then drops the connection, its head having promised them all). What
//! is not HTTP at all (garbage, a bad `Content-Length`, half a request line) gets hyper's own
//! `400` and is not recorded.

mod clip;
mod dates;
mod routes;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Request, Response};

pub use crate::http::Recorded;
pub use crate::url::{query_param, query_params, url_decode};
pub use clip::{synthetic_chunk, synthetic_chunks, CHUNK, FIXTURE_CLIP};
pub use dates::{
    civil_from_days, days_from_civil, format_amz_date, format_rfc3339, parse_amz_date,
    parse_rfc3339, unix_now,
};

use crate::http::{json, Body};
use crate::serve::{serve_http, Loopback};
use clip::Clip;
use routes::{issue, plan, Plan};

/// Request bodies are small JSON documents; anything larger is refused with 413.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// What `/generate` does on one call (or, for download faults, what the download of the URL
/// issued by that call does).
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// /generate waits this long before answering normally (longer than the client's timeout = a timeout).
    Slow(Duration),
    /// /generate answers this status with `{"error":"fake failure <status>"}`.
    Status(u16),
    /// 429 with `Retry-After: <secs>`.
    TooMany { retry_after_secs: u64 },
    /// 200 with a body that is not valid JSON (`{"output_url": ` truncated).
    MalformedJson,
    /// 200 with valid JSON that lacks output_url (`{"url":"..."}`).
    WrongShape,
    /// 401 `{"error":"invalid Modal-Key"}`.
    Unauthorized,
    /// The issued URL has already expired when issued (its own params say so: X-Amz-Date in
    /// the past so that date+expires < now; or Expires in the past); the download also
    /// answers 403.
    ExpiredUrl,
    /// The issued URL's parameters claim it is valid, but the download answers 403
    /// (AccessDenied "Request has expired" XML, as S3 does) — i.e. it expired between issue
    /// and download.
    ExpiresBeforeDownload,
    /// The download sends Content-Length N but only N/2 bytes, then closes the connection.
    TruncatedBody,
    /// The download answers 200 with Content-Type text/html and an HTML error page.
    WrongContentType,
    /// The download answers video/mp4 but the bytes are not an MP4 (no `ftyp` at offset 4).
    NotMp4,
    /// /generate answers 303 with a relative Location `/__redirect/<token>?hop=1`; GET on that
    /// answers 303 again until `hops` redirects in all, then 200 with the JSON.
    /// `hops: u32::MAX` = never ends; `hops: 0` = a plain healthy answer.
    Redirects { hops: u32 },
    /// /generate answers 202 `{"call_id":"fc-<n>"}`; GET /result/fc-<n> answers 202
    /// (`Retry-After` per [`FakeGen::set_job_retry_after`], `0` by default) `pending` times,
    /// then 200 with the JSON (the same JSON on every later poll).
    Job { pending: u32 },
    /// The download answers 200 but sends the body slowly: one chunk every 100 ms, chunks of
    /// 16 KiB, or of 1/8 of the body when that is smaller (so even the small fixture takes
    /// about 0.7 s) — for progress / cancellation tests.
    SlowBody,
}

impl Fault {
    /// Whether this fault is about the download (attached to the issued URL).
    fn is_download(&self) -> bool {
        matches!(
            self,
            Fault::ExpiredUrl
                | Fault::ExpiresBeforeDownload
                | Fault::TruncatedBody
                | Fault::WrongContentType
                | Fault::NotMp4
                | Fault::SlowBody
        )
    }
}

/// How issued URLs are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlStyle {
    /// S3 SigV4 presigned style: `X-Amz-Algorithm`, `X-Amz-Credential`,
    /// `X-Amz-Date=YYYYMMDDTHHMMSSZ` (UTC), `X-Amz-Expires=<secs>`, `X-Amz-SignedHeaders`,
    /// `X-Amz-Signature=<hex>`; the answer carries `expires_at` (RFC 3339).
    Amz,
    /// `Expires=<unix secs>&Signature=<hex>`; the answer has no `expires_at`.
    Expires,
}

/// What `GET /health` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthMode {
    /// 200 `{"ok":true}`.
    Ok,
    /// 404 (not implemented).
    Missing,
    /// 503 `{"error":"fake unhealthy"}`.
    Failing,
}

struct FileEntry {
    clip: Clip,
    fault: Option<Fault>,
}

struct Job {
    pending: u32,
    result: Option<serde_json::Value>,
}

struct State {
    base: String,
    key: u64,
    faults: VecDeque<Fault>,
    default_fault: Option<Fault>,
    clip: Clip,
    ttl: Duration,
    style: UrlStyle,
    auth: Option<(String, String)>,
    health: HealthMode,
    job_retry_after: Option<u64>,
    next_id: u64,
    files: HashMap<u64, FileEntry>,
    redirects: HashMap<String, u32>,
    jobs: HashMap<String, Job>,
    requests: Vec<Recorded>,
    generate_calls: usize,
    download_calls: usize,
    result_polls: usize,
}

/// The running fake. Stops (with every connection it is serving) when dropped.
pub struct FakeGen {
    server: Loopback,
    state: Arc<Mutex<State>>,
}

impl FakeGen {
    /// Starts on an ephemeral 127.0.0.1 port. Defaults: healthy, the fixture clip, Amz-style
    /// URLs valid 300 s, no auth, `/health` answers 200, jobs say `Retry-After: 0`.
    pub async fn start() -> FakeGen {
        let state = Arc::new(Mutex::new(State {
            // Set below, once the port is known (no request can come before `start` returns).
            base: String::new(),
            key: fastrand::u64(..),
            faults: VecDeque::new(),
            default_fault: None,
            clip: Clip::Bytes(Arc::new(FIXTURE_CLIP.to_vec())),
            ttl: Duration::from_secs(300),
            style: UrlStyle::Amz,
            auth: None,
            health: HealthMode::Ok,
            job_retry_after: Some(0),
            next_id: 1,
            files: HashMap::new(),
            redirects: HashMap::new(),
            jobs: HashMap::new(),
            requests: Vec::new(),
            generate_calls: 0,
            download_calls: 0,
            result_polls: 0,
        }));
        let st = state.clone();
        let server = serve_http(move |req| serve(st.clone(), req))
            .await
            .expect("bind fake generation endpoint");
        state.lock().unwrap().base = format!("http://{}", server.addr());
        FakeGen { server, state }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Faults applied to the next calls of POST /generate, one per call, in order; when the
    /// list is empty, calls are healthy (or get the default fault). Calls rejected before
    /// (401 for missing auth, 400 for a bad body) do not use up a fault.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().unwrap().faults.extend(faults);
    }

    /// A fault applied to every /generate call while the pushed list is empty (None = healthy).
    pub fn set_default_fault(&self, fault: Option<Fault>) {
        self.state.lock().unwrap().default_fault = fault;
    }

    /// The bytes served as the clip (default: [`FIXTURE_CLIP`]). Applies to URLs issued from
    /// now on.
    pub fn set_clip(&self, bytes: Vec<u8>) {
        self.state.lock().unwrap().clip = Clip::Bytes(Arc::new(bytes));
    }

    /// Serve a synthetic clip of `len` bytes instead: the fixture's `ftyp` box (so `ftyp` is at
    /// offset 4) followed by pseudo-random filler, generated on the fly in chunks of 64 KiB
    /// (never held in memory whole); see [`synthetic_chunks`]. Applies to URLs issued from now
    /// on.
    pub fn set_synthetic_clip(&self, len: u64) {
        self.state.lock().unwrap().clip = Clip::Synthetic(len);
    }

    /// How long issued URLs stay valid (default 300 s). The signed date is the issue time
    /// rounded down to the second (as S3's is), so a URL is valid for between `ttl - 1 s` and
    /// `ttl`.
    pub fn set_url_ttl(&self, ttl: Duration) {
        self.state.lock().unwrap().ttl = ttl;
    }

    /// URL style of issued URLs (default [`UrlStyle::Amz`]).
    pub fn set_url_style(&self, style: UrlStyle) {
        self.state.lock().unwrap().style = style;
    }

    /// Require these Modal-Key / Modal-Secret headers on /generate, /result and /health (401
    /// `{"error":"missing or wrong Modal-Key/Modal-Secret"}` otherwise). Downloads and
    /// redirect hops never need them.
    pub fn require_auth(&self, key: &str, secret: &str) {
        self.state.lock().unwrap().auth = Some((key.to_string(), secret.to_string()));
    }

    /// What /health answers (default [`HealthMode::Ok`]).
    pub fn set_health(&self, mode: HealthMode) {
        self.state.lock().unwrap().health = mode;
    }

    /// The `Retry-After` seconds on `202` job polls (default `Some(0)`; `None` = no header,
    /// so the client falls back to its own interval).
    pub fn set_job_retry_after(&self, secs: Option<u64>) {
        self.state.lock().unwrap().job_retry_after = secs;
    }

    /// Every well-formed request, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Recorded requests whose path (without query) is `route`.
    pub fn requests_to(&self, route: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.route() == route)
            .collect()
    }

    /// POST /generate count (including ones rejected for auth or a bad body).
    pub fn generate_calls(&self) -> usize {
        self.state.lock().unwrap().generate_calls
    }

    /// GET /files/... count (including ones answered 403/404).
    pub fn download_calls(&self) -> usize {
        self.state.lock().unwrap().download_calls
    }

    /// GET /result/... count.
    pub fn result_polls(&self) -> usize {
        self.state.lock().unwrap().result_polls
    }

    /// Faults pushed and not yet used.
    pub fn pending_faults(&self) -> usize {
        self.state.lock().unwrap().faults.len()
    }
}

/// One request: read whole, recorded, answered.
async fn serve(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Response<Body> {
    let req = match Recorded::read(req, MAX_BODY).await {
        Ok(r) => r,
        Err(refusal) => return refusal,
    };
    state.lock().unwrap().requests.push(req.clone());
    let answer = plan(&state, &req);
    match answer {
        Plan::Reply(r) => r,
        Plan::SlowHealthy(d) => {
            tokio::time::sleep(d).await;
            let mut s = state.lock().unwrap();
            json(200, &issue(&mut s, None))
        }
    }
}
