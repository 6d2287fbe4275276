//! A fake OpenAI-compatible LLM server over real HTTP on 127.0.0.1, served by hyper through
//! [`crate::serve::serve_http`] (one request per connection, `Connection: close`).
//!
//! Routes:
//! - `POST /v1/chat/completions`: JSON `{model, messages, …}`; answers a plain
//!   `chat.completion`, or an SSE stream of `chat.completion.chunk`s when the body says
//!   `"stream": true` (a `: keep-alive` comment first, the text in small deltas, a last chunk
//!   with `finish_reason: "stop"`, a usage-only chunk when `stream_options.include_usage` is
//!   true, then `data: [DONE]`). The stream is sent in frames of [`SSE_FRAME_BYTES`] bytes, so
//!   events and line ends are split across chunks.
//! - `GET /v1/models`: `{"object":"list","data":[{"id":…}]}` from [`FakeLlm::set_models`].
//!
//! A model not in the list is a 404 with an OpenAI-style `model_not_found` body, as real
//! servers answer; the default list is [`MODEL`]. With [`FakeLlm::require_key`], both routes
//! want `Authorization: Bearer <key>` (401 otherwise).
//!
//! Scriptable: [`Fault`]s pushed with [`FakeLlm::push_faults`] (one per completions call, in
//! order) and a default fault for when that list is empty; the answer text (fixed, or a
//! function of the last user message) and the `usage` sent. Calls rejected before their fault
//! is used (400 for a bad body, 401 for a wrong key) do not use one up. Every well-formed
//! request is recorded with its headers (the `Authorization` header included: tests may compare
//! it, never print it) and counted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};

pub use crate::http::Recorded;
use crate::http::{answer, json as json_answer, with_header, Body, BoxError};
use crate::serve::{serve_http, Loopback};

/// The model the fake has by default.
pub const MODEL: &str = "fake-model";
/// The answer text by default.
pub const DEFAULT_ANSWER: &str = "Hello chat! This is the fake co-host speaking.";
/// How many bytes of answer [`Fault::Huge`] sends (generated on the fly, never held).
pub const HUGE_BYTES: u64 = 64 << 20;
/// The size of each body frame of an SSE answer.
pub const SSE_FRAME_BYTES: usize = 23;

/// Request bodies are small JSON documents; anything larger is refused with 413.
const MAX_BODY: usize = 8 * 1024 * 1024;
/// A broken body makes hyper drop the connection at once, unsent bytes included: wait this
/// long first so what was sent before the cut arrives.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(200);

/// What `Retry-After` a 429 carries.
#[derive(Debug, Clone, PartialEq)]
pub enum RetryAfter {
    /// No header.
    Absent,
    /// `Retry-After: <secs>`.
    Secs(u64),
    /// `Retry-After: <IMF-fixdate>` of this time (to the second, rounded down).
    Date(SystemTime),
}

/// What one completions call does.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Waits this long, then answers normally.
    Slow(Duration),
    /// Never answers (the connection stays open until the client leaves).
    Hang,
    /// This status with `{"error":{"message":"fake failure <status>","type":"server_error"}}`.
    Status(u16),
    /// 429 `rate_limit_exceeded`, with this `Retry-After`.
    TooMany { retry_after: RetryAfter },
    /// 401 `invalid_api_key`, whatever key was sent.
    Unauthorized,
    /// 404 `model_not_found` naming the requested model, even a known one.
    UnknownModel,
    /// 200 with JSON cut short (plain), or a `data:` event that is not JSON then `[DONE]`.
    MalformedJson,
    /// 200 with `choices: []` (plain), or chunks with `choices: []` then `[DONE]`.
    EmptyChoices,
    /// 200 with `content: ""` (plain), or a stream whose deltas carry no text.
    EmptyContent,
    /// An SSE stream (whatever `stream` said) that sends half of the answer's deltas, no
    /// `finish_reason` and no `[DONE]`, then breaks the connection.
    SseCutHalfway,
    /// An answer of [`HUGE_BYTES`] of text, generated as it is sent (chunked, no
    /// `Content-Length`): one plain JSON document, or SSE deltas of 16 KiB. Bytes sent are
    /// counted ([`FakeLlm::huge_bytes_sent`]).
    Huge,
}

/// The `usage` the fake reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// Words counted: prompt = words of every message, completion = words of the answer.
    Counted,
    Fixed {
        prompt: u32,
        completion: u32,
    },
    /// No `usage` at all.
    Absent,
}

type AnswerFn = Arc<dyn Fn(&str) -> String + Send + Sync>;

struct State {
    faults: VecDeque<Fault>,
    default_fault: Option<Fault>,
    answer: AnswerFn,
    usage: Usage,
    models: Vec<String>,
    key: Option<String>,
    crlf: bool,
    requests: Vec<Recorded>,
    completion_calls: usize,
    models_calls: usize,
    next_id: u64,
}

/// The running fake. Stops (with every connection it is serving) when dropped.
pub struct FakeLlm {
    server: Loopback,
    state: Arc<Mutex<State>>,
    huge_sent: Arc<AtomicU64>,
}

impl FakeLlm {
    /// Starts on an ephemeral 127.0.0.1 port. Defaults: healthy, model [`MODEL`], answer
    /// [`DEFAULT_ANSWER`], [`Usage::Counted`], no key required, LF line ends.
    pub async fn start() -> FakeLlm {
        let state = Arc::new(Mutex::new(State {
            faults: VecDeque::new(),
            default_fault: None,
            answer: Arc::new(|_: &str| DEFAULT_ANSWER.to_string()),
            usage: Usage::Counted,
            models: vec![MODEL.to_string()],
            key: None,
            crlf: false,
            requests: Vec::new(),
            completion_calls: 0,
            models_calls: 0,
            next_id: 1,
        }));
        let huge_sent = Arc::new(AtomicU64::new(0));
        let (st, sent) = (state.clone(), huge_sent.clone());
        let server = serve_http(move |req| serve(st.clone(), sent.clone(), req))
            .await
            .expect("bind fake LLM server");
        FakeLlm {
            server,
            state,
            huge_sent,
        }
    }

    /// `http://127.0.0.1:PORT` (the root: the routes are under `/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Faults for the next completions calls, one per call, in order.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().unwrap().faults.extend(faults);
    }

    /// The fault of every completions call while the pushed list is empty (None = healthy).
    pub fn set_default_fault(&self, fault: Option<Fault>) {
        self.state.lock().unwrap().default_fault = fault;
    }

    /// Faults pushed and not yet used.
    pub fn pending_faults(&self) -> usize {
        self.state.lock().unwrap().faults.len()
    }

    /// Answer this text.
    pub fn set_answer(&self, text: &str) {
        let text = text.to_string();
        self.state.lock().unwrap().answer = Arc::new(move |_: &str| text.clone());
    }

    /// Answer `f(last user message)` (`""` when there is none).
    pub fn set_answer_with(&self, f: impl Fn(&str) -> String + Send + Sync + 'static) {
        self.state.lock().unwrap().answer = Arc::new(f);
    }

    /// The `usage` sent (default [`Usage::Counted`]).
    pub fn set_usage(&self, usage: Usage) {
        self.state.lock().unwrap().usage = usage;
    }

    /// The models `/v1/models` lists and completions accept.
    pub fn set_models(&self, models: &[&str]) {
        self.state.lock().unwrap().models = models.iter().map(|m| m.to_string()).collect();
    }

    /// Require `Authorization: Bearer <key>` on both routes.
    pub fn require_key(&self, key: &str) {
        self.state.lock().unwrap().key = Some(key.to_string());
    }

    /// End SSE lines with CRLF instead of LF.
    pub fn set_crlf(&self, crlf: bool) {
        self.state.lock().unwrap().crlf = crlf;
    }

    /// Every well-formed request, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Recorded `POST /v1/chat/completions` requests.
    pub fn completion_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.route() == "/v1/chat/completions")
            .collect()
    }

    /// Completions calls (attempts), rejected ones included.
    pub fn completion_calls(&self) -> usize {
        self.state.lock().unwrap().completion_calls
    }

    /// `GET /v1/models` calls.
    pub fn models_calls(&self) -> usize {
        self.state.lock().unwrap().models_calls
    }

    /// Bytes of [`Fault::Huge`] answers handed to hyper so far (all answers together).
    pub fn huge_bytes_sent(&self) -> u64 {
        self.huge_sent.load(Ordering::Relaxed)
    }
}

fn openai_error(status: u16, message: &str, kind: &str, code: Option<&str>) -> Response<Body> {
    json_answer(
        status,
        &json!({ "error": { "message": message, "type": kind, "param": null, "code": code } }),
    )
}

fn unauthorized() -> Response<Body> {
    openai_error(
        401,
        "Incorrect API key provided.",
        "invalid_request_error",
        Some("invalid_api_key"),
    )
}

fn unknown_model(model: &str) -> Response<Body> {
    openai_error(
        404,
        &format!("The model `{model}` does not exist or you do not have access to it."),
        "invalid_request_error",
        Some("model_not_found"),
    )
}

fn key_ok(s: &State, req: &Recorded) -> bool {
    match &s.key {
        None => true,
        Some(key) => req.header("authorization") == Some(format!("Bearer {key}").as_str()),
    }
}

/// One request: read whole, recorded, answered.
async fn serve(
    state: Arc<Mutex<State>>,
    huge_sent: Arc<AtomicU64>,
    req: Request<Incoming>,
) -> Response<Body> {
    let req = match Recorded::read(req, MAX_BODY).await {
        Ok(r) => r,
        Err(refusal) => return refusal,
    };
    let plan = {
        let mut s = state.lock().unwrap();
        s.requests.push(req.clone());
        plan(&mut s, &req)
    };
    match plan {
        Plan::Reply(r) => r,
        Plan::Hang => std::future::pending().await,
        Plan::Answer { delay, call, fault } => {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            completion(&call, fault, huge_sent)
        }
    }
}

/// What a completions call asked for, and what the fake will say.
struct Call {
    id: u64,
    model: String,
    stream: bool,
    include_usage: bool,
    text: String,
    usage: Option<(u32, u32)>,
    crlf: bool,
}

enum Plan {
    Reply(Response<Body>),
    Hang,
    Answer {
        delay: Option<Duration>,
        call: Call,
        fault: Option<Fault>,
    },
}

fn words(s: &str) -> u32 {
    s.split_whitespace().count() as u32
}

fn plan(s: &mut State, req: &Recorded) -> Plan {
    let (route, method) = (req.route(), req.method.as_str());
    if route == "/v1/models" {
        if method != "GET" {
            return Plan::Reply(openai_error(
                405,
                "method not allowed",
                "invalid_request_error",
                None,
            ));
        }
        s.models_calls += 1;
        if !key_ok(s, req) {
            return Plan::Reply(unauthorized());
        }
        let data: Vec<Value> = s
            .models
            .iter()
            .map(|m| json!({ "id": m, "object": "model", "created": 1_700_000_000, "owned_by": "fake" }))
            .collect();
        return Plan::Reply(json_answer(200, &json!({ "object": "list", "data": data })));
    }
    if route != "/v1/chat/completions" {
        return Plan::Reply(answer(
            404,
            "text/plain; charset=utf-8",
            "404 page not found",
        ));
    }
    if method != "POST" {
        return Plan::Reply(openai_error(
            405,
            "method not allowed",
            "invalid_request_error",
            None,
        ));
    }
    s.completion_calls += 1;
    let Some(body) = req.json() else {
        return Plan::Reply(openai_error(
            400,
            "the body is not JSON",
            "invalid_request_error",
            None,
        ));
    };
    let (Some(model), Some(messages)) = (
        body.get("model").and_then(Value::as_str),
        body.get("messages").and_then(Value::as_array),
    ) else {
        return Plan::Reply(openai_error(
            400,
            "`model` (a string) and `messages` (an array) are required",
            "invalid_request_error",
            None,
        ));
    };
    if !key_ok(s, req) {
        return Plan::Reply(unauthorized());
    }
    let fault = s.faults.pop_front().or_else(|| s.default_fault.clone());
    match &fault {
        Some(Fault::Hang) => return Plan::Hang,
        Some(Fault::Status(code)) => {
            return Plan::Reply(openai_error(
                *code,
                &format!("fake failure {code}"),
                "server_error",
                None,
            ))
        }
        Some(Fault::TooMany { retry_after }) => {
            let reply = openai_error(
                429,
                "Rate limit reached for requests",
                "requests",
                Some("rate_limit_exceeded"),
            );
            return Plan::Reply(match retry_after {
                RetryAfter::Absent => reply,
                RetryAfter::Secs(n) => with_header(reply, "Retry-After", &n.to_string()),
                RetryAfter::Date(at) => with_header(reply, "Retry-After", &http_date(*at)),
            });
        }
        Some(Fault::Unauthorized) => return Plan::Reply(unauthorized()),
        Some(Fault::UnknownModel) => return Plan::Reply(unknown_model(model)),
        _ => {}
    }
    if !s.models.iter().any(|m| m == model) {
        return Plan::Reply(unknown_model(model));
    }
    let content = |m: &Value| {
        m.get("content")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(content)
        .unwrap_or_default();
    let text = (s.answer)(&last_user);
    let usage = match s.usage {
        Usage::Counted => Some((
            messages.iter().map(|m| words(&content(m))).sum(),
            words(&text),
        )),
        Usage::Fixed { prompt, completion } => Some((prompt, completion)),
        Usage::Absent => None,
    };
    let id = s.next_id;
    s.next_id += 1;
    let call = Call {
        id,
        model: model.to_string(),
        stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
        include_usage: body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        text,
        usage,
        crlf: s.crlf,
    };
    let delay = match fault {
        Some(Fault::Slow(d)) => Some(d),
        _ => None,
    };
    Plan::Answer { delay, call, fault }
}

fn usage_json(usage: Option<(u32, u32)>) -> Value {
    match usage {
        Some((p, c)) => {
            json!({ "prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c })
        }
        None => Value::Null,
    }
}

/// A completion answer (healthy, or one of the body faults).
fn completion(call: &Call, fault: Option<Fault>, huge_sent: Arc<AtomicU64>) -> Response<Body> {
    match fault {
        Some(Fault::Huge) => return huge(call, huge_sent),
        Some(Fault::SseCutHalfway) => return sse(call, &cut_events(call), true),
        _ => {}
    }
    if call.stream {
        return sse(call, &stream_events(call, fault.as_ref()), false);
    }
    let text = match fault {
        Some(Fault::MalformedJson) => {
            let whole = plain_json(call, Some(&call.text)).to_string();
            let cut = whole.len() / 2;
            return answer(200, "application/json", whole.as_bytes()[..cut].to_vec());
        }
        Some(Fault::EmptyChoices) => {
            let mut v = plain_json(call, None);
            v["choices"] = json!([]);
            return json_answer(200, &v);
        }
        Some(Fault::EmptyContent) => "",
        _ => call.text.as_str(),
    };
    json_answer(200, &plain_json(call, Some(text)))
}

fn plain_json(call: &Call, text: Option<&str>) -> Value {
    let mut v = json!({
        "id": format!("chatcmpl-fake-{}", call.id),
        "object": "chat.completion",
        "created": unix_now(),
        "model": call.model,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": text.unwrap_or_default() },
            "finish_reason": "stop",
        }],
    });
    if call.usage.is_some() {
        v["usage"] = usage_json(call.usage);
    }
    v
}

fn chunk(call: &Call, delta: Value, finish: Option<&str>) -> String {
    json!({
        "id": format!("chatcmpl-fake-{}", call.id),
        "object": "chat.completion.chunk",
        "created": unix_now(),
        "model": call.model,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    })
    .to_string()
}

/// The answer's text in deltas of about 6 characters (split on character boundaries).
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(6).map(|c| c.iter().collect()).collect()
}

/// The data of each event of a streamed answer (`[DONE]` included).
fn stream_events(call: &Call, fault: Option<&Fault>) -> Vec<String> {
    let mut events = vec![chunk(
        call,
        json!({ "role": "assistant", "content": "" }),
        None,
    )];
    match fault {
        Some(Fault::MalformedJson) => {
            events.push(r#"{"choices":[{"index":0,"delta":{"content":"Hel"#.to_string());
        }
        Some(Fault::EmptyChoices) => {
            events.clear();
            let empty = json!({ "id": format!("chatcmpl-fake-{}", call.id), "object": "chat.completion.chunk", "choices": [] });
            events.push(empty.to_string());
            events.push(empty.to_string());
        }
        Some(Fault::EmptyContent) => {
            events.push(chunk(call, json!({}), Some("stop")));
        }
        _ => {
            for p in pieces(&call.text) {
                events.push(chunk(call, json!({ "content": p }), None));
            }
            events.push(chunk(call, json!({}), Some("stop")));
        }
    }
    if call.include_usage && call.usage.is_some() {
        events.push(
            json!({
                "id": format!("chatcmpl-fake-{}", call.id),
                "object": "chat.completion.chunk",
                "model": call.model,
                "choices": [],
                "usage": usage_json(call.usage),
            })
            .to_string(),
        );
    }
    events.push("[DONE]".to_string());
    events
}

/// Half the deltas of the answer: no finish, no `[DONE]`.
fn cut_events(call: &Call) -> Vec<String> {
    let all = pieces(&call.text);
    let mut events = vec![chunk(
        call,
        json!({ "role": "assistant", "content": "" }),
        None,
    )];
    for p in &all[..all.len() / 2] {
        events.push(chunk(call, json!({ "content": p }), None));
    }
    events
}

/// `events` as an SSE body (a keep-alive comment first) in [`SSE_FRAME_BYTES`] frames; with
/// `cut`, the body then fails (hyper drops the connection mid-stream).
fn sse(call: &Call, events: &[String], cut: bool) -> Response<Body> {
    let nl = if call.crlf { "\r\n" } else { "\n" };
    let mut text = format!(": keep-alive{nl}{nl}");
    for e in events {
        text.push_str(&format!("data: {e}{nl}{nl}"));
    }
    let frames: Vec<Bytes> = text
        .as_bytes()
        .chunks(SSE_FRAME_BYTES)
        .map(Bytes::copy_from_slice)
        .collect();
    let stream = futures_util::stream::unfold(
        (frames.into_iter(), false),
        move |(mut it, failed)| async move {
            if failed {
                return None;
            }
            match it.next() {
                Some(frame) => {
                    tokio::task::yield_now().await;
                    Some((Ok(Frame::data(frame)), (it, false)))
                }
                None if cut => {
                    tokio::time::sleep(FLUSH_BEFORE_CUT).await;
                    let e: BoxError = "the fake cuts this stream halfway".into();
                    Some((Err(e), (it, true)))
                }
                None => None,
            }
        },
    );
    Response::builder()
        .status(200)
        .header("Connection", "close")
        .header("Content-Type", "text/event-stream")
        .header("Cache-Control", "no-cache")
        .body(StreamBody::new(stream).boxed())
        .expect("a valid SSE answer")
}

/// [`HUGE_BYTES`] of text, generated as hyper asks for it.
fn huge(call: &Call, sent: Arc<AtomicU64>) -> Response<Body> {
    const PIECE: usize = 16 * 1024;
    let filler = "ha ".repeat(PIECE / 3 + 1)[..PIECE].to_string();
    let (head, per_piece, tail, content_type) = if call.stream {
        let nl = if call.crlf { "\r\n" } else { "\n" };
        let event = format!(
            "data: {}{nl}{nl}",
            chunk(call, json!({ "content": filler }), None)
        );
        let done = format!(
            "data: {}{nl}{nl}data: [DONE]{nl}{nl}",
            chunk(call, json!({}), Some("stop"))
        );
        (
            format!(": keep-alive{nl}{nl}"),
            event,
            done,
            "text/event-stream",
        )
    } else {
        let whole = plain_json(call, Some("@@"));
        let whole = whole.to_string();
        let at = whole.find("@@").expect("placeholder");
        (
            whole[..at].to_string(),
            filler,
            whole[at + 2..].to_string(),
            "application/json",
        )
    };
    let pieces = HUGE_BYTES / PIECE as u64;
    let head = Bytes::from(head);
    let per_piece = Bytes::from(per_piece);
    let tail = Bytes::from(tail);
    // State: how many frames sent (0 = the head, 1..=pieces = text, pieces+1 = the tail).
    let stream = futures_util::stream::unfold(0u64, move |n| {
        let (head, per_piece, tail, sent) =
            (head.clone(), per_piece.clone(), tail.clone(), sent.clone());
        async move {
            let frame = match n {
                0 => head,
                n if n <= pieces => per_piece,
                n if n == pieces + 1 => tail,
                _ => return None,
            };
            sent.fetch_add(frame.len() as u64, Ordering::Relaxed);
            Some((Ok::<_, BoxError>(Frame::data(frame)), n + 1))
        }
    });
    Response::builder()
        .status(200)
        .header("Connection", "close")
        .header("Content-Type", content_type)
        .body(StreamBody::new(stream).boxed())
        .expect("a valid answer")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110's IMF-fixdate), to the second, rounded down.
pub fn http_date(at: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = crate::fake_gen::civil_from_days(days);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_imf_fixdates() {
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_secs(784_111_777)),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }
}
