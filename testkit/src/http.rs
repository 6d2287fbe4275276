//! What the HTTP fakes share: the request as recorded ([`Recorded`]) and the answers they build
//! ([`answer`], [`json`], [`streamed`]), for hyper (see [`crate::serve::serve_http`]).
//!
//! Invariants: every answer carries `Connection: close` (one request per connection), and an
//! explicit `Content-Type`; a [`Recorded`] holds the whole request (head and body) and the time
//! it had all arrived. Recorded requests may hold credentials: compare them, never print them.

use std::sync::OnceLock;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};

/// The error type of answer bodies (a body that fails makes hyper drop the connection).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every answer: whole bytes, or a stream (slow, cut short, generated on the fly).
pub type Body = BoxBody<Bytes, BoxError>;

/// One request as a fake saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// When the whole request (head and body) had arrived.
    pub at: Instant,
    pub method: String,
    /// Path and query, as sent (the path only, for a request in absolute form).
    pub path: String,
    /// Header names lower-cased, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body decoded as an urlencoded form, on first use.
    form: OnceLock<Vec<(String, String)>>,
}

impl Recorded {
    /// Reads the whole request, its body up to `limit` bytes. `Err` is the answer to send
    /// instead: 413 for a longer body, 400 for a body that could not be read (e.g. bad
    /// chunked encoding, or the client left mid-body).
    pub async fn read(req: Request<Incoming>, limit: usize) -> Result<Recorded, Response<Body>> {
        let (head, body) = req.into_parts();
        let body = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes().to_vec(),
            Err(e) if e.is::<LengthLimitError>() => {
                return Err(error_json(413, "body too large"));
            }
            Err(_) => return Err(error_json(400, "incomplete body")),
        };
        Ok(Recorded {
            at: Instant::now(),
            method: head.method.as_str().to_string(),
            path: head
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            headers: head
                .headers
                .iter()
                .map(|(k, v)| {
                    let value = String::from_utf8_lossy(v.as_bytes()).trim().to_string();
                    (k.as_str().to_string(), value)
                })
                .collect(),
            body,
            form: OnceLock::new(),
        })
    }

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

    /// The body as an urlencoded form, decoded, in order.
    pub fn form(&self) -> &[(String, String)] {
        self.form
            .get_or_init(|| crate::url::parse_form(&String::from_utf8_lossy(&self.body)))
    }

    /// One field of the urlencoded form body.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An answer with `status` (any code from 100 to 999), `Content-Type` and the whole `body`.
pub fn answer(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let body = Full::new(body.into())
        .map_err(|never| match never {})
        .boxed();
    with_header(base(status, body), CONTENT_TYPE.as_str(), content_type)
}

/// `status` with `value` as its JSON body.
pub fn json(status: u16, value: &serde_json::Value) -> Response<Body> {
    answer(status, "application/json", value.to_string())
}

/// `status` with `{"error": message}`.
pub fn error_json(status: u16, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message }))
}

/// An answer whose `Content-Length` says `len` whatever `body` really sends (a body that ends
/// early or fails is a connection cut mid-body).
pub fn streamed(status: u16, content_type: &str, len: u64, body: Body) -> Response<Body> {
    let resp = with_header(base(status, body), CONTENT_TYPE.as_str(), content_type);
    with_header(resp, CONTENT_LENGTH.as_str(), &len.to_string())
}

/// `status` with no body (e.g. a redirect: add `Location` with [`with_header`]).
pub fn empty(status: u16) -> Response<Body> {
    base(
        status,
        Full::new(Bytes::new())
            .map_err(|never| match never {})
            .boxed(),
    )
}

/// Adds a header (panics on a name or value HTTP does not allow: a bug in the fake).
pub fn with_header(mut resp: Response<Body>, name: &str, value: &str) -> Response<Body> {
    let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
    let value = HeaderValue::from_str(value).expect("a valid header value");
    resp.headers_mut().append(name, value);
    resp
}

fn base(status: u16, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}
