//! A fake of the generation endpoint (see `docs/generation-endpoint.md`) over real TCP on
//! 127.0.0.1: hand-written HTTP/1.1 on tokio, one request per connection, `Connection: close`.
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
//! concern the download are attached to the URL issued by that call. Every request is recorded
//! with the time it arrived. Recorded requests hold credentials: tests may compare them but
//! must never print them.
//!
//! Stands alone (only crates, no other support module), so it can be included by path.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The real clip served by default: a 1 s, 160x90 H.264 MP4 (`ftyp` at offset 4).
pub const FIXTURE_CLIP: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/clip.mp4"
));

/// Chunk size of healthy downloads (and of [`synthetic_chunks`]).
pub const CHUNK: usize = 64 * 1024;

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

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// When the whole request (head and body) had arrived.
    pub at: Instant,
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The path without the query.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }
}

/// The bytes of a clip, without holding synthetic ones in memory.
#[derive(Debug, Clone)]
enum Clip {
    Bytes(Arc<Vec<u8>>),
    /// The fixture's `ftyp` box, then pseudo-random filler, `len` bytes in all.
    Synthetic(u64),
}

impl Clip {
    fn len(&self) -> u64 {
        match self {
            Clip::Bytes(b) => b.len() as u64,
            Clip::Synthetic(len) => *len,
        }
    }

    fn chunk(&self, offset: u64, n: usize) -> Vec<u8> {
        match self {
            Clip::Bytes(b) => {
                let start = (offset as usize).min(b.len());
                let end = start.saturating_add(n).min(b.len());
                b[start..end].to_vec()
            }
            Clip::Synthetic(len) => synthetic_chunk(*len, offset, n),
        }
    }
}

/// The fixture's leading `ftyp` box (what synthetic clips start with).
fn fixture_header() -> &'static [u8] {
    let declared = FIXTURE_CLIP
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .unwrap_or(0);
    let n = if (8..=4096).contains(&declared) {
        declared
    } else {
        32
    };
    &FIXTURE_CLIP[..n.min(FIXTURE_CLIP.len())]
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Bytes `offset..offset+n` (clamped to `len`) of the synthetic clip of `len` bytes. The
/// content depends only on the position, so any chunking yields the same bytes.
pub fn synthetic_chunk(len: u64, offset: u64, n: usize) -> Vec<u8> {
    let end = offset.saturating_add(n as u64).min(len);
    if offset >= end {
        return Vec::new();
    }
    let mut out = Vec::with_capacity((end - offset) as usize);
    let mut pos = offset;
    while pos < end {
        let word = splitmix64(0x5EED ^ (pos / 8)).to_le_bytes();
        let from = (pos % 8) as usize;
        let take = ((8 - from) as u64).min(end - pos) as usize;
        out.extend_from_slice(&word[from..from + take]);
        pos += take as u64;
    }
    let header = fixture_header();
    if (offset as usize) < header.len() {
        let start = offset as usize;
        let stop = header.len().min(end as usize);
        out[..stop - start].copy_from_slice(&header[start..stop]);
    }
    out
}

/// The synthetic clip of `len` bytes in chunks of [`CHUNK`], generated on the fly (what
/// [`FakeGen::set_synthetic_clip`] serves).
pub fn synthetic_chunks(len: u64) -> impl Iterator<Item = Vec<u8>> {
    let mut offset = 0u64;
    std::iter::from_fn(move || {
        let chunk = synthetic_chunk(len, offset, CHUNK);
        if chunk.is_empty() {
            return None;
        }
        offset += chunk.len() as u64;
        Some(chunk)
    })
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
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGen {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGen {
    /// Starts on an ephemeral 127.0.0.1 port. Defaults: healthy, the fixture clip, Amz-style
    /// URLs valid 300 s, no auth, `/health` answers 200, jobs say `Retry-After: 0`.
    pub async fn start() -> FakeGen {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake generation endpoint");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            base: format!("http://{addr}"),
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
        let task = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every connection.
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                while conns.try_join_next().is_some() {}
                let st = st.clone();
                conns.spawn(async move {
                    let _ = serve(stream, st).await;
                });
            }
        });
        FakeGen { addr, state, task }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
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

// ---------------------------------------------------------------------------------------------
// Time helpers (no chrono).

/// Seconds since the Unix epoch, by the real clock.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch, by the real clock.
fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn split_unix(t: i64) -> (i64, u32, u32, u32, u32, u32) {
    let (y, mo, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400) as u32;
    (y, mo, d, s / 3600, s / 60 % 60, s % 60)
}

fn join_unix(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if civil_from_days(days) != (y, mo, d) {
        return None; // e.g. February 30
    }
    Some(days * 86_400 + (h * 3600 + mi * 60 + s) as i64)
}

/// `2026-11-27T01:12:03Z`
pub fn format_rfc3339(t: i64) -> String {
    let (y, mo, d, h, mi, s) = split_unix(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses RFC 3339 (`Z` or `±HH:MM`, optional fraction, which is dropped) to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 20 || !s.is_ascii() {
        return None;
    }
    let (date, rest) = (&s[..10], &s[10..]);
    if !matches!(rest.as_bytes()[0], b'T' | b't' | b' ') {
        return None;
    }
    let rest = &rest[1..];
    let dp: Vec<&str> = date.split('-').collect();
    if dp.len() != 3 || dp[0].len() != 4 || dp[1].len() != 2 || dp[2].len() != 2 {
        return None;
    }
    let time = rest.get(..8)?;
    let tp: Vec<&str> = time.split(':').collect();
    if tp.len() != 3 || tp.iter().any(|p| p.len() != 2) {
        return None;
    }
    let mut tail = &rest[8..];
    if let Some(frac) = tail.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        tail = &frac[n..];
    }
    let offset = match tail {
        "Z" | "z" => 0,
        _ if tail.len() == 6 && (tail.starts_with('+') || tail.starts_with('-')) => {
            let (oh, om) = (digits(&tail[1..3])?, digits(&tail[4..6])?);
            if &tail[3..4] != ":" || oh > 23 || om > 59 {
                return None;
            }
            let secs = (oh * 3600 + om * 60) as i64;
            if tail.starts_with('-') {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let t = join_unix(
        digits(dp[0])? as i64,
        digits(dp[1])?,
        digits(dp[2])?,
        digits(tp[0])?,
        digits(tp[1])?,
        digits(tp[2])?,
    )?;
    Some(t - offset)
}

/// `20261127T010203Z` (the `X-Amz-Date` format).
pub fn format_amz_date(t: i64) -> String {
    let (y, mo, d, h, mi, s) = split_unix(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Parses `YYYYMMDDTHHMMSSZ` to Unix seconds.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !s.is_ascii() {
        return None;
    }
    join_unix(
        digits(&s[0..4])? as i64,
        digits(&s[4..6])?,
        digits(&s[6..8])?,
        digits(&s[9..11])?,
        digits(&s[11..13])?,
        digits(&s[13..15])?,
    )
}

// ---------------------------------------------------------------------------------------------
// URLs.

/// Percent-decodes (and `+` → space).
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query parameters of a URL or path, decoded, in order.
pub fn query_params(url: &str) -> Vec<(String, String)> {
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    let query = query.split('#').next().unwrap_or_default();
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}

/// One query parameter of a URL or path, decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    query_params(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn sign(key: u64, path: &str, date: &str, expires: &str) -> String {
    let mut out = String::with_capacity(64);
    for round in 0u8..4 {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        round.hash(&mut h);
        path.hash(&mut h);
        date.hash(&mut h);
        expires.hash(&mut h);
        let _ = write!(out, "{:016x}", h.finish());
    }
    out
}

/// Issues a URL for a new file carrying `fault` (a download fault), and the JSON answer.
fn issue(s: &mut State, fault: Option<Fault>) -> serde_json::Value {
    let id = s.next_id;
    s.next_id += 1;
    let fault = fault.filter(Fault::is_download);
    let path = format!("/files/{id}.mp4");
    let now = unix_now();
    let ttl = s.ttl.as_secs() as i64;
    let expired = fault == Some(Fault::ExpiredUrl);
    let (query, end) = match s.style {
        UrlStyle::Amz => {
            let date_t = if expired { now - ttl - 60 } else { now };
            let date = format_amz_date(date_t);
            let sig = sign(s.key, &path, &date, &ttl.to_string());
            let day = &date[..8];
            (
                format!(
                    "X-Amz-Algorithm=AWS4-HMAC-SHA256\
                     &X-Amz-Credential=FAKEACCESSKEY%2F{day}%2Fus-east-1%2Fs3%2Faws4_request\
                     &X-Amz-Date={date}&X-Amz-Expires={ttl}&X-Amz-SignedHeaders=host\
                     &X-Amz-Signature={sig}"
                ),
                date_t + ttl,
            )
        }
        UrlStyle::Expires => {
            let end = if expired { now - 60 } else { now + ttl };
            let sig = sign(s.key, &path, "", &end.to_string());
            (format!("Expires={end}&Signature={sig}"), end)
        }
    };
    s.files.insert(
        id,
        FileEntry {
            clip: s.clip.clone(),
            fault,
        },
    );
    let url = format!("{}{path}?{query}", s.base);
    match s.style {
        UrlStyle::Amz => {
            serde_json::json!({ "output_url": url, "expires_at": format_rfc3339(end) })
        }
        UrlStyle::Expires => serde_json::json!({ "output_url": url }),
    }
}

// ---------------------------------------------------------------------------------------------
// Answers.

enum Body {
    Bytes(Vec<u8>),
    Clip(Clip),
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::Clip(c) => c.len(),
        }
    }

    fn chunk(&self, offset: u64, n: usize) -> Vec<u8> {
        match self {
            Body::Bytes(b) => {
                let start = (offset as usize).min(b.len());
                b[start..start.saturating_add(n).min(b.len())].to_vec()
            }
            Body::Clip(c) => c.chunk(offset, n),
        }
    }
}

#[derive(PartialEq)]
enum Delivery {
    Whole,
    /// Only the first half of the body, then close.
    Truncated,
    /// Small chunks every 100 ms.
    Slow,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
    delivery: Delivery,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Body::Bytes(body),
            delivery: Delivery::Whole,
        }
    }

    fn json(status: u16, value: serde_json::Value) -> Reply {
        Reply::new(status, "application/json", value.to_string().into_bytes())
    }

    fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, serde_json::json!({ "error": message }))
    }

    fn s3_error(status: u16, code: &str, message: &str) -> Reply {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
             <Message>{message}</Message><RequestId>{:016X}</RequestId></Error>",
            fastrand::u64(..)
        );
        Reply::new(status, "application/xml", xml.into_bytes())
    }

    fn redirect(location: String) -> Reply {
        Reply {
            status: 303,
            headers: vec![("Location".into(), location)],
            body: Body::Bytes(Vec::new()),
            delivery: Delivery::Whole,
        }
    }

    fn with_header(mut self, name: &str, value: String) -> Reply {
        self.headers.push((name.into(), value));
        self
    }
}

/// What to do with one request.
enum Plan {
    Reply(Reply),
    /// Wait, then answer /generate healthily (the URL is issued after the wait).
    SlowHealthy(Duration),
}

fn auth_ok(s: &State, req: &Recorded) -> bool {
    match &s.auth {
        None => true,
        Some((key, secret)) => {
            req.header("modal-key") == Some(key.as_str())
                && req.header("modal-secret") == Some(secret.as_str())
        }
    }
}

fn unauthorized() -> Reply {
    Reply::error(401, "missing or wrong Modal-Key/Modal-Secret")
}

fn not_found() -> Reply {
    Reply::error(404, "not found")
}

fn method_not_allowed(allow: &str) -> Reply {
    Reply::error(405, "method not allowed").with_header("Allow", allow.into())
}

fn answer(state: &Mutex<State>, req: &Recorded) -> Plan {
    let mut s = state.lock().unwrap();
    let route = req.route().to_string();
    let method = req.method.as_str();
    if route == "/generate" {
        if method != "POST" {
            return Plan::Reply(method_not_allowed("POST"));
        }
        s.generate_calls += 1;
        return generate(&mut s, req);
    }
    if route == "/health" {
        if method != "GET" && method != "HEAD" {
            return Plan::Reply(method_not_allowed("GET"));
        }
        if !auth_ok(&s, req) {
            return Plan::Reply(unauthorized());
        }
        return Plan::Reply(match s.health {
            HealthMode::Ok => Reply::json(200, serde_json::json!({ "ok": true })),
            HealthMode::Missing => not_found(),
            HealthMode::Failing => Reply::error(503, "fake unhealthy"),
        });
    }
    if let Some(call_id) = route.strip_prefix("/result/") {
        if method != "GET" {
            return Plan::Reply(method_not_allowed("GET"));
        }
        s.result_polls += 1;
        if !auth_ok(&s, req) {
            return Plan::Reply(unauthorized());
        }
        let retry_after = s.job_retry_after;
        let Some(job) = s.jobs.get_mut(call_id) else {
            return Plan::Reply(Reply::error(404, "unknown call_id"));
        };
        if job.pending > 0 {
            job.pending -= 1;
            let mut reply = Reply::json(
                202,
                serde_json::json!({ "call_id": call_id, "status": "pending" }),
            );
            if let Some(secs) = retry_after {
                reply = reply.with_header("Retry-After", secs.to_string());
            }
            return Plan::Reply(reply);
        }
        if let Some(done) = &job.result {
            return Plan::Reply(Reply::json(200, done.clone()));
        }
        let done = issue(&mut s, None);
        if let Some(job) = s.jobs.get_mut(call_id) {
            job.result = Some(done.clone());
        }
        return Plan::Reply(Reply::json(200, done));
    }
    if let Some(token) = route.strip_prefix("/__redirect/") {
        if method != "GET" {
            return Plan::Reply(method_not_allowed("GET"));
        }
        let Some(&hops) = s.redirects.get(token) else {
            return Plan::Reply(not_found());
        };
        let Some(hop) = query_param(&req.path, "hop").and_then(|h| h.parse::<u64>().ok()) else {
            return Plan::Reply(Reply::error(400, "missing or bad hop"));
        };
        if hop >= hops as u64 {
            return Plan::Reply(Reply::json(200, issue(&mut s, None)));
        }
        return Plan::Reply(Reply::redirect(format!(
            "/__redirect/{token}?hop={}",
            hop + 1
        )));
    }
    if let Some(name) = route.strip_prefix("/files/") {
        if method != "GET" && method != "HEAD" {
            return Plan::Reply(method_not_allowed("GET"));
        }
        if method == "GET" {
            s.download_calls += 1;
        }
        return Plan::Reply(download(&s, name, &req.path));
    }
    Plan::Reply(not_found())
}

fn generate(s: &mut State, req: &Recorded) -> Plan {
    if !auth_ok(s, req) {
        return Plan::Reply(unauthorized());
    }
    let value: serde_json::Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => return Plan::Reply(Reply::error(400, &format!("body is not JSON: {e}"))),
    };
    for field in ["prompt", "request_id"] {
        if !value.get(field).is_some_and(serde_json::Value::is_string) {
            return Plan::Reply(Reply::error(
                400,
                &format!("body must be {{\"prompt\": string, \"request_id\": string}}; bad or missing `{field}`"),
            ));
        }
    }
    let fault = s.faults.pop_front().or_else(|| s.default_fault.clone());
    let reply = match fault {
        None => Reply::json(200, issue(s, None)),
        Some(Fault::Slow(d)) => return Plan::SlowHealthy(d),
        Some(Fault::Status(code)) => Reply::error(code, &format!("fake failure {code}")),
        Some(Fault::TooMany { retry_after_secs }) => {
            Reply::error(429, "fake failure 429: too many requests")
                .with_header("Retry-After", retry_after_secs.to_string())
        }
        Some(Fault::MalformedJson) => {
            Reply::new(200, "application/json", b"{\"output_url\": ".to_vec())
        }
        Some(Fault::WrongShape) => {
            let good = issue(s, None);
            Reply::json(200, serde_json::json!({ "url": good["output_url"] }))
        }
        Some(Fault::Unauthorized) => Reply::error(401, "invalid Modal-Key"),
        Some(Fault::Redirects { hops: 0 }) => Reply::json(200, issue(s, None)),
        Some(Fault::Redirects { hops }) => {
            let token = format!("r{}-{:08x}", s.next_id, fastrand::u32(..));
            s.next_id += 1;
            s.redirects.insert(token.clone(), hops);
            Reply::redirect(format!("/__redirect/{token}?hop=1"))
        }
        Some(Fault::Job { pending }) => {
            let call_id = format!("fc-{}", s.next_id);
            s.next_id += 1;
            s.jobs.insert(
                call_id.clone(),
                Job {
                    pending,
                    result: None,
                },
            );
            Reply::json(202, serde_json::json!({ "call_id": call_id }))
        }
        Some(download_fault) => Reply::json(200, issue(s, Some(download_fault))),
    };
    Plan::Reply(reply)
}

const NOT_MP4: &[u8] = b"this is not an mp4 file, just some text pretending to be one.\n";

const HTML_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\
<body><h1>502 Bad Gateway</h1><p>The CDN could not reach the origin.</p></body></html>\n";

fn download(s: &State, name: &str, path: &str) -> Reply {
    let route = path.split('?').next().unwrap_or_default();
    let now_ms = unix_now_ms();
    let (sig_given, sig_wanted, end) = if let Some(sig) = query_param(path, "X-Amz-Signature") {
        let (Some(date), Some(expires)) = (
            query_param(path, "X-Amz-Date"),
            query_param(path, "X-Amz-Expires"),
        ) else {
            return Reply::s3_error(403, "AccessDenied", "Missing X-Amz-Date or X-Amz-Expires");
        };
        let wanted = sign(s.key, route, &date, &expires);
        let end = parse_amz_date(&date)
            .zip(expires.parse::<i64>().ok())
            .map(|(d, e)| d + e);
        (sig, wanted, end)
    } else if let Some(sig) = query_param(path, "Signature") {
        let expires = query_param(path, "Expires").unwrap_or_default();
        let wanted = sign(s.key, route, "", &expires);
        (sig, wanted, expires.parse::<i64>().ok())
    } else {
        return Reply::s3_error(403, "AccessDenied", "Access Denied");
    };
    if sig_given != sig_wanted {
        return Reply::s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method.",
        );
    }
    let Some(end) = end else {
        return Reply::s3_error(403, "AccessDenied", "Invalid date or expiry");
    };
    if now_ms > end * 1000 {
        return Reply::s3_error(403, "AccessDenied", "Request has expired");
    }
    let file = name
        .strip_suffix(".mp4")
        .and_then(|n| n.parse::<u64>().ok())
        .and_then(|id| s.files.get(&id));
    let Some(file) = file else {
        return Reply::s3_error(404, "NoSuchKey", "The specified key does not exist.");
    };
    let clip = |delivery| Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "video/mp4".into())],
        body: Body::Clip(file.clip.clone()),
        delivery,
    };
    match &file.fault {
        Some(Fault::ExpiredUrl | Fault::ExpiresBeforeDownload) => {
            Reply::s3_error(403, "AccessDenied", "Request has expired")
        }
        Some(Fault::TruncatedBody) => clip(Delivery::Truncated),
        Some(Fault::SlowBody) => clip(Delivery::Slow),
        Some(Fault::WrongContentType) => Reply::new(
            200,
            "text/html; charset=utf-8",
            HTML_PAGE.as_bytes().to_vec(),
        ),
        Some(Fault::NotMp4) => Reply::new(200, "video/mp4", NOT_MP4.repeat(64)),
        _ => clip(Delivery::Whole),
    }
}

// ---------------------------------------------------------------------------------------------
// The wire.

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 8 * 1024 * 1024;
const READ_LIMIT: Duration = Duration::from_secs(30);

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    }
}

/// A request that could not be read: what to answer (if the peer is still there).
struct Bad(u16, &'static str);

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let req = match tokio::time::timeout(READ_LIMIT, read_request(&mut stream)).await {
        Err(_) => Err(Bad(408, "request not received in time")),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(None)) => return Ok(()),
        Ok(Ok(Some(r))) => r,
    };
    let req = match req {
        Ok(r) => r,
        Err(Bad(status, message)) => {
            return send(&mut stream, Reply::error(status, message), false).await;
        }
    };
    let head_only = req.method == "HEAD";
    state.lock().unwrap().requests.push(req.clone());
    let reply = match answer(&state, &req) {
        Plan::Reply(r) => r,
        Plan::SlowHealthy(d) => {
            tokio::time::sleep(d).await;
            let mut s = state.lock().unwrap();
            Reply::json(200, issue(&mut s, None))
        }
    };
    send(&mut stream, reply, head_only).await
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Reads one request. `Ok(None)`: the peer left without sending anything.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Result<Recorded, Bad>>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n", 0) {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Ok(Some(Err(Bad(431, "request head too large"))));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(if buf.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                Some(Err(Bad(400, "incomplete request head")))
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_end]) else {
        return Ok(Some(Err(Bad(400, "request head is not UTF-8"))));
    };
    // Tolerate blank lines before the request line (RFC 9112 §2.2).
    let head = head.trim_start_matches("\r\n");
    let mut lines = head.split("\r\n");
    let parts: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Ok(Some(Err(Bad(400, "malformed request line"))));
    };
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !(version == "HTTP/1.1" || version == "HTTP/1.0")
    {
        return Ok(Some(Err(Bad(400, "malformed request line"))));
    }
    let target = if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        rest.find('/').map(|i| &rest[i..]).unwrap_or("/")
    } else {
        target
    };
    if !target.starts_with('/') {
        return Ok(Some(Err(Bad(400, "malformed request target"))));
    }
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Ok(Some(Err(Bad(400, "malformed header line"))));
        };
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Ok(Some(Err(Bad(400, "malformed header name"))));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let chunked =
        header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = match header("content-length") {
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n <= MAX_BODY => n,
            Ok(_) => return Ok(Some(Err(Bad(413, "body too large")))),
            Err(_) => return Ok(Some(Err(Bad(400, "bad Content-Length")))),
        },
        None => 0,
    };
    let mut rest = buf[head_end + 4..].to_vec();
    let expects_continue = header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    if expects_continue && (chunked || rest.len() < length) {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    let body = if chunked {
        match read_chunked(stream, rest).await? {
            Ok(b) => b,
            Err(bad) => return Ok(Some(Err(bad))),
        }
    } else {
        while rest.len() < length {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(Some(Err(Bad(400, "body shorter than Content-Length"))));
            }
            rest.extend_from_slice(&chunk[..n]);
        }
        rest.truncate(length);
        rest
    };
    Ok(Some(Ok(Recorded {
        at: Instant::now(),
        method: method.to_string(),
        path: target.to_string(),
        headers,
        body,
    })))
}

async fn read_chunked(
    stream: &mut TcpStream,
    mut buf: Vec<u8>,
) -> std::io::Result<Result<Vec<u8>, Bad>> {
    let mut chunk = [0u8; 8192];
    let mut body = Vec::new();
    let mut pos = 0;
    macro_rules! fill_until {
        ($cond:expr) => {
            while !$cond(&buf) {
                if buf.len() > MAX_BODY + MAX_HEAD {
                    return Ok(Err(Bad(413, "body too large")));
                }
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(Err(Bad(400, "incomplete chunked body")));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        };
    }
    loop {
        fill_until!(|b: &Vec<u8>| find(b, b"\r\n", pos).is_some());
        let line_end = find(&buf, b"\r\n", pos).unwrap_or(pos);
        let line = String::from_utf8_lossy(&buf[pos..line_end]).into_owned();
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            return Ok(Err(Bad(400, "bad chunk size")));
        };
        pos = line_end + 2;
        if size == 0 {
            // Trailers (ignored) up to the empty line.
            loop {
                fill_until!(|b: &Vec<u8>| find(b, b"\r\n", pos).is_some());
                let end = find(&buf, b"\r\n", pos).unwrap_or(pos);
                let empty = end == pos;
                pos = end + 2;
                if empty {
                    return Ok(Ok(body));
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Ok(Err(Bad(413, "body too large")));
        }
        fill_until!(|b: &Vec<u8>| b.len() >= pos + size + 2);
        body.extend_from_slice(&buf[pos..pos + size]);
        if &buf[pos + size..pos + size + 2] != b"\r\n" {
            return Ok(Err(Bad(400, "bad chunk terminator")));
        }
        pos += size + 2;
    }
}

async fn send(stream: &mut TcpStream, reply: Reply, head_only: bool) -> std::io::Result<()> {
    let total = reply.body.len();
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let _ = write!(head, "Content-Length: {total}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        let (limit, step, pause) = match reply.delivery {
            Delivery::Whole => (total, CHUNK as u64, None),
            Delivery::Truncated => (total / 2, CHUNK as u64, None),
            Delivery::Slow => (
                total,
                total.div_ceil(8).clamp(1, 16 * 1024),
                Some(Duration::from_millis(100)),
            ),
        };
        let mut offset = 0u64;
        while offset < limit {
            let n = step.min(limit - offset) as usize;
            let bytes = reply.body.chunk(offset, n);
            if bytes.is_empty() {
                break;
            }
            stream.write_all(&bytes).await?;
            offset += bytes.len() as u64;
            if let Some(pause) = pause {
                if offset < limit {
                    stream.flush().await?;
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
    stream.flush().await?;
    stream.shutdown().await
}
