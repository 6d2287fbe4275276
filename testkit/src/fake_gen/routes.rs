//! What the fake answers: the routes of the contract, the faults applied to `/generate`, and
//! the signed URLs it issues and checks.
//!
//! Invariants: a call rejected before its fault is used (401, 400) does not use one up; a URL's
//! signature covers its path, date and expiry, so any edit to them is `SignatureDoesNotMatch`;
//! expiry is checked against the real clock at download time.

use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use hyper::Response;

use super::clip::{self, Delivery};
use super::dates::{format_amz_date, format_rfc3339, parse_amz_date, unix_now};
use super::{Fault, HealthMode};
use super::{FileEntry, Job, State, UrlStyle};
use crate::http::{self, answer, empty, error_json, streamed, with_header, Body, Recorded};
use crate::ids::now_ms;
use crate::url::query_param;

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
pub(super) fn issue(s: &mut State, fault: Option<Fault>) -> serde_json::Value {
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

/// What to do with one request.
pub(super) enum Plan {
    Reply(Response<Body>),
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

fn json(status: u16, value: serde_json::Value) -> Response<Body> {
    http::json(status, &value)
}

fn s3_error(status: u16, code: &str, message: &str) -> Response<Body> {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>{message}</Message><RequestId>{:016X}</RequestId></Error>",
        fastrand::u64(..)
    );
    answer(status, "application/xml", xml)
}

fn redirect(location: String) -> Response<Body> {
    with_header(empty(303), "Location", &location)
}

fn unauthorized() -> Response<Body> {
    error_json(401, "missing or wrong Modal-Key/Modal-Secret")
}

fn not_found() -> Response<Body> {
    error_json(404, "not found")
}

fn method_not_allowed(allow: &str) -> Response<Body> {
    with_header(error_json(405, "method not allowed"), "Allow", allow)
}

pub(super) fn plan(state: &Mutex<State>, req: &Recorded) -> Plan {
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
            HealthMode::Ok => json(200, serde_json::json!({ "ok": true })),
            HealthMode::Missing => not_found(),
            HealthMode::Failing => error_json(503, "fake unhealthy"),
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
            return Plan::Reply(error_json(404, "unknown call_id"));
        };
        if job.pending > 0 {
            job.pending -= 1;
            let mut reply = json(
                202,
                serde_json::json!({ "call_id": call_id, "status": "pending" }),
            );
            if let Some(secs) = retry_after {
                reply = with_header(reply, "Retry-After", &secs.to_string());
            }
            return Plan::Reply(reply);
        }
        if let Some(done) = &job.result {
            return Plan::Reply(json(200, done.clone()));
        }
        let done = issue(&mut s, None);
        if let Some(job) = s.jobs.get_mut(call_id) {
            job.result = Some(done.clone());
        }
        return Plan::Reply(json(200, done));
    }
    if let Some(token) = route.strip_prefix("/__redirect/") {
        if method != "GET" {
            return Plan::Reply(method_not_allowed("GET"));
        }
        let Some(&hops) = s.redirects.get(token) else {
            return Plan::Reply(not_found());
        };
        let Some(hop) = query_param(&req.path, "hop").and_then(|h| h.parse::<u64>().ok()) else {
            return Plan::Reply(error_json(400, "missing or bad hop"));
        };
        if hop >= hops as u64 {
            return Plan::Reply(json(200, issue(&mut s, None)));
        }
        return Plan::Reply(redirect(format!("/__redirect/{token}?hop={}", hop + 1)));
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
        Err(e) => return Plan::Reply(error_json(400, &format!("body is not JSON: {e}"))),
    };
    for field in ["prompt", "request_id"] {
        if !value.get(field).is_some_and(serde_json::Value::is_string) {
            return Plan::Reply(error_json(
                400,
                &format!("body must be {{\"prompt\": string, \"request_id\": string}}; bad or missing `{field}`"),
            ));
        }
    }
    let fault = s.faults.pop_front().or_else(|| s.default_fault.clone());
    let reply = match fault {
        None => json(200, issue(s, None)),
        Some(Fault::Slow(d)) => return Plan::SlowHealthy(d),
        Some(Fault::Status(code)) => error_json(code, &format!("fake failure {code}")),
        Some(Fault::TooMany { retry_after_secs }) => {
            let reply = error_json(429, "fake failure 429: too many requests");
            with_header(reply, "Retry-After", &retry_after_secs.to_string())
        }
        Some(Fault::MalformedJson) => {
            answer(200, "application/json", b"{\"output_url\": ".to_vec())
        }
        Some(Fault::WrongShape) => {
            let good = issue(s, None);
            json(200, serde_json::json!({ "url": good["output_url"] }))
        }
        Some(Fault::Unauthorized) => error_json(401, "invalid Modal-Key"),
        Some(Fault::Redirects { hops: 0 }) => json(200, issue(s, None)),
        Some(Fault::Redirects { hops }) => {
            let token = format!("r{}-{:08x}", s.next_id, fastrand::u32(..));
            s.next_id += 1;
            s.redirects.insert(token.clone(), hops);
            redirect(format!("/__redirect/{token}?hop=1"))
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
            json(202, serde_json::json!({ "call_id": call_id }))
        }
        Some(download_fault) => json(200, issue(s, Some(download_fault))),
    };
    Plan::Reply(reply)
}

const NOT_MP4: &[u8] = b"this is not an mp4 file, just some text pretending to be one.\n";

const HTML_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\
<body><h1>502 Bad Gateway</h1><p>The CDN could not reach the origin.</p></body></html>\n";

fn download(s: &State, name: &str, path: &str) -> Response<Body> {
    let route = path.split('?').next().unwrap_or_default();
    let now = now_ms();
    let (sig_given, sig_wanted, end) = if let Some(sig) = query_param(path, "X-Amz-Signature") {
        let (Some(date), Some(expires)) = (
            query_param(path, "X-Amz-Date"),
            query_param(path, "X-Amz-Expires"),
        ) else {
            return s3_error(403, "AccessDenied", "Missing X-Amz-Date or X-Amz-Expires");
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
        return s3_error(403, "AccessDenied", "Access Denied");
    };
    if sig_given != sig_wanted {
        return s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method.",
        );
    }
    let Some(end) = end else {
        return s3_error(403, "AccessDenied", "Invalid date or expiry");
    };
    if now > end * 1000 {
        return s3_error(403, "AccessDenied", "Request has expired");
    }
    let file = name
        .strip_suffix(".mp4")
        .and_then(|n| n.parse::<u64>().ok())
        .and_then(|id| s.files.get(&id));
    let Some(file) = file else {
        return s3_error(404, "NoSuchKey", "The specified key does not exist.");
    };
    let clip = |delivery| {
        let len = file.clip.len();
        streamed(
            200,
            "video/mp4",
            len,
            clip::body(file.clip.clone(), delivery),
        )
    };
    match &file.fault {
        Some(Fault::ExpiredUrl | Fault::ExpiresBeforeDownload) => {
            s3_error(403, "AccessDenied", "Request has expired")
        }
        Some(Fault::TruncatedBody) => clip(Delivery::Truncated),
        Some(Fault::SlowBody) => clip(Delivery::Slow),
        Some(Fault::WrongContentType) => answer(200, "text/html; charset=utf-8", HTML_PAGE),
        Some(Fault::NotMp4) => answer(200, "video/mp4", NOT_MP4.repeat(64)),
        _ => clip(Delivery::Whole),
    }
}
