//! Checks of the fake generation endpoint itself (`streamcue_testkit::fake_gen`), with reqwest
//! over plain HTTP and a raw socket.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use streamcue_testkit::fake_gen::{
    format_amz_date, format_rfc3339, parse_amz_date, parse_rfc3339, query_param, synthetic_chunks,
    unix_now, FakeGen, Fault, HealthMode, UrlStyle, FIXTURE_CLIP,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn client() -> Client {
    Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn generate(fake: &FakeGen, c: &Client) -> reqwest::Response {
    c.post(format!("{}/generate", fake.base_url()))
        .json(&json!({ "prompt": "a cat surfing a wave", "request_id": "streamcue-42" }))
        .send()
        .await
        .expect("generate request")
}

async fn generate_json(fake: &FakeGen, c: &Client) -> Value {
    let resp = generate(fake, c).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.expect("generate JSON")
}

fn output_url(v: &Value) -> String {
    v["output_url"].as_str().expect("output_url").to_string()
}

fn content_type(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The expiry the URL's own parameters claim (Unix seconds).
fn url_expiry(url: &str) -> i64 {
    if let Some(date) = query_param(url, "X-Amz-Date") {
        let expires: i64 = query_param(url, "X-Amz-Expires").unwrap().parse().unwrap();
        parse_amz_date(&date).expect("X-Amz-Date parses") + expires
    } else {
        query_param(url, "Expires").unwrap().parse().unwrap()
    }
}

async fn expect_403(c: &Client, url: &str, code: &str, message: &str) {
    let resp = c.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{url}");
    assert_eq!(content_type(&resp), "application/xml");
    let text = resp.text().await.unwrap();
    assert!(text.contains(&format!("<Code>{code}</Code>")), "{text}");
    assert!(text.contains(message), "{text}");
}

/// Sends raw bytes (then half-closes), returns the whole raw answer as text.
async fn raw(fake: &FakeGen, bytes: &[u8]) -> String {
    String::from_utf8_lossy(&raw_bytes(fake, bytes).await).into_owned()
}

/// Sends raw bytes (then half-closes), returns the whole raw answer.
async fn raw_bytes(fake: &FakeGen, bytes: &[u8]) -> Vec<u8> {
    let addr = fake.base_url().trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    s.shutdown().await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .expect("answer in time")
        .unwrap();
    out
}

#[test]
fn date_helpers() {
    assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_rfc3339(1_795_741_323), "2026-11-27T01:02:03Z");
    assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(format_rfc3339(-86_400), "1969-12-31T00:00:00Z");
    assert_eq!(format_amz_date(1_795_741_323), "20261127T010203Z");
    assert_eq!(parse_amz_date("20261127T010203Z"), Some(1_795_741_323));
    assert_eq!(parse_rfc3339("2026-11-27T01:02:03Z"), Some(1_795_741_323));
    assert_eq!(
        parse_rfc3339("2026-11-27T02:02:03.250+01:00"),
        Some(1_795_741_323)
    );
    assert_eq!(parse_rfc3339("2026-02-30T00:00:00Z"), None);
    assert_eq!(parse_amz_date("2026-11-27T01:02:03Z"), None);
    for t in (-1_000_000_000i64..4_000_000_000).step_by(7_777_777) {
        assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t));
        assert_eq!(parse_amz_date(&format_amz_date(t)), Some(t));
    }
}

#[test]
fn fixture_is_a_small_mp4() {
    assert!(FIXTURE_CLIP.len() < 20_000, "{}", FIXTURE_CLIP.len());
    assert_eq!(&FIXTURE_CLIP[4..8], b"ftyp");
}

#[tokio::test]
async fn healthy_flow_amz() {
    let fake = FakeGen::start().await;
    let c = client();
    let v = generate_json(&fake, &c).await;
    let url = output_url(&v);
    assert!(
        url.starts_with(&format!("{}/files/", fake.base_url())),
        "{url}"
    );
    assert_eq!(
        query_param(&url, "X-Amz-Algorithm").as_deref(),
        Some("AWS4-HMAC-SHA256")
    );
    assert_eq!(query_param(&url, "X-Amz-Expires").as_deref(), Some("300"));
    let sig = query_param(&url, "X-Amz-Signature").unwrap();
    assert!(sig.len() == 64 && sig.bytes().all(|b| b.is_ascii_hexdigit()));
    let expiry = url_expiry(&url);
    assert!((expiry - (unix_now() + 300)).abs() <= 2);
    let expires_at = parse_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires_at, expiry);

    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(content_type(&resp), "video/mp4");
    assert_eq!(resp.content_length(), Some(FIXTURE_CLIP.len() as u64));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), FIXTURE_CLIP);

    assert_eq!(fake.generate_calls(), 1);
    assert_eq!(fake.download_calls(), 1);
    assert_eq!(fake.result_polls(), 0);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/generate");
    assert_eq!(reqs[0].header("Content-Type"), Some("application/json"));
    assert_eq!(reqs[0].json().unwrap()["request_id"], "streamcue-42");
    assert_eq!(reqs[1].method, "GET");
    assert!(url.ends_with(&reqs[1].path));
    assert!(reqs[0].at <= reqs[1].at);
}

#[tokio::test]
async fn healthy_flow_expires_style() {
    let fake = FakeGen::start().await;
    fake.set_url_style(UrlStyle::Expires);
    fake.set_url_ttl(Duration::from_secs(600));
    let c = client();
    let v = generate_json(&fake, &c).await;
    assert!(v.get("expires_at").is_none(), "{v}");
    let url = output_url(&v);
    assert!(query_param(&url, "Signature").is_some());
    assert!(query_param(&url, "X-Amz-Date").is_none());
    assert!((url_expiry(&url) - (unix_now() + 600)).abs() <= 2);
    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), FIXTURE_CLIP);
}

#[tokio::test]
async fn generate_faults_in_order_then_default_then_healthy() {
    let fake = FakeGen::start().await;
    let c = client();
    fake.push_faults([
        Fault::Status(500),
        Fault::Status(503),
        Fault::TooMany {
            retry_after_secs: 7,
        },
        Fault::Unauthorized,
        Fault::MalformedJson,
        Fault::WrongShape,
    ]);

    for code in [500u16, 503] {
        let resp = generate(&fake, &c).await;
        assert_eq!(resp.status().as_u16(), code);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v, json!({ "error": format!("fake failure {code}") }));
    }

    let resp = generate(&fake, &c).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()[RETRY_AFTER], "7");

    let resp = generate(&fake, &c).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({ "error": "invalid Modal-Key" })
    );

    let resp = generate(&fake, &c).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    let v = generate_json(&fake, &c).await;
    assert!(v.get("output_url").is_none(), "{v}");
    assert!(v["url"].is_string(), "{v}");

    assert_eq!(fake.pending_faults(), 0);
    fake.set_default_fault(Some(Fault::Status(502)));
    for _ in 0..2 {
        assert_eq!(generate(&fake, &c).await.status().as_u16(), 502);
    }
    // Pushed faults come before the default.
    fake.push_faults([Fault::Status(504)]);
    assert_eq!(generate(&fake, &c).await.status().as_u16(), 504);
    assert_eq!(generate(&fake, &c).await.status().as_u16(), 502);
    fake.set_default_fault(None);
    generate_json(&fake, &c).await;
    assert_eq!(fake.generate_calls(), 11);
}

#[tokio::test]
async fn bad_requests_get_4xx_and_keep_faults() {
    let fake = FakeGen::start().await;
    let c = client();
    fake.push_faults([Fault::Status(500)]);
    let base = fake.base_url();

    let resp = c
        .post(format!("{base}/generate"))
        .json(&json!({ "prompt": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: Value = resp.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("request_id"), "{v}");

    let resp = c
        .post(format!("{base}/generate"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(fake.pending_faults(), 1, "rejected calls keep the fault");

    let resp = c.get(format!("{base}/generate")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let resp = c.get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = c.get(format!("{base}/result/fc-999")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let answer = raw(&fake, b"\x01\x02garbage garbage\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    let answer = raw(
        &fake,
        b"POST /generate HTTP/1.1\r\nContent-Length: x\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    let answer = raw(&fake, b"half a request").await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");

    // A request arriving in pieces, with a chunked body.
    let addr = base.trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(addr).await.unwrap();
    let body = r#"{"prompt":"p","request_id":"r"}"#;
    let (a, b) = body.split_at(10);
    let parts = [
        "POST /gener".to_string(),
        "ate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n".to_string(),
        format!("\r\n{:x}\r\n{a}\r\n", a.len()),
        format!("{:x}\r\n{b}\r\n0\r\n\r\n", b.len()),
    ];
    for p in parts {
        s.write_all(p.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 500 "), "{out}");
    assert!(out.contains("Connection: close"), "{out}");
    assert_eq!(
        fake.requests_to("/generate").last().unwrap().body,
        body.as_bytes()
    );

    // Still serving.
    generate_json(&fake, &c).await;
}

#[tokio::test]
async fn auth_and_health() {
    let fake = FakeGen::start().await;
    let c = client();
    let base = fake.base_url();
    let health = |key: Option<(&str, &str)>| {
        let mut rb = c.get(format!("{base}/health"));
        if let Some((k, s)) = key {
            rb = rb.header("Modal-Key", k).header("Modal-Secret", s);
        }
        rb.send()
    };
    let resp = health(None).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({ "ok": true }));
    fake.set_health(HealthMode::Missing);
    assert_eq!(health(None).await.unwrap().status(), StatusCode::NOT_FOUND);
    fake.set_health(HealthMode::Failing);
    assert_eq!(
        health(None).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    fake.set_health(HealthMode::Ok);

    fake.require_auth("wk-test", "ws-test");
    let resp = health(None).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({ "error": "missing or wrong Modal-Key/Modal-Secret" })
    );
    assert_eq!(
        health(Some(("wk-test", "wrong"))).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        health(Some(("wk-test", "ws-test"))).await.unwrap().status(),
        StatusCode::OK
    );

    fake.push_faults([Fault::Job { pending: 0 }]);
    assert_eq!(generate(&fake, &c).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(fake.pending_faults(), 1);
    let send = |path: &str, body: Option<Value>| {
        let rb = match body {
            Some(b) => c.post(format!("{base}{path}")).json(&b),
            None => c.get(format!("{base}{path}")),
        };
        rb.header("Modal-Key", "wk-test")
            .header("Modal-Secret", "ws-test")
            .send()
    };
    let resp = send(
        "/generate",
        Some(json!({ "prompt": "p", "request_id": "r" })),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let call_id = resp.json::<Value>().await.unwrap()["call_id"]
        .as_str()
        .unwrap()
        .to_string();
    let poll = format!("{base}/result/{call_id}");
    assert_eq!(
        c.get(&poll).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let resp = send(&format!("/result/{call_id}"), None).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let url = output_url(&resp.json().await.unwrap());
    // Downloads need no credentials.
    assert_eq!(c.get(&url).send().await.unwrap().status(), StatusCode::OK);
    let recorded = fake.requests_to("/generate").last().unwrap().clone();
    assert_eq!(recorded.header("modal-key"), Some("wk-test"));
}

#[tokio::test]
async fn expired_urls() {
    let c = client();
    for style in [UrlStyle::Amz, UrlStyle::Expires] {
        let fake = FakeGen::start().await;
        fake.set_url_style(style);
        fake.push_faults([Fault::ExpiredUrl, Fault::ExpiresBeforeDownload]);

        let v = generate_json(&fake, &c).await;
        let url = output_url(&v);
        assert!(url_expiry(&url) < unix_now(), "{style:?}: {url}");
        if style == UrlStyle::Amz {
            let at = parse_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();
            assert!(at < unix_now());
        }
        expect_403(&c, &url, "AccessDenied", "Request has expired").await;

        let v = generate_json(&fake, &c).await;
        let url = output_url(&v);
        assert!(url_expiry(&url) > unix_now() + 200, "{style:?}: {url}");
        if style == UrlStyle::Amz {
            let at = parse_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();
            assert!(at > unix_now() + 200);
        }
        expect_403(&c, &url, "AccessDenied", "Request has expired").await;
        assert_eq!(fake.download_calls(), 2);
    }
}

#[tokio::test]
async fn tampered_and_really_expired_urls() {
    let c = client();
    let fake = FakeGen::start().await;
    let url = output_url(&generate_json(&fake, &c).await);
    let sig = query_param(&url, "X-Amz-Signature").unwrap();
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    let bad_sig = url.replace(&sig, &format!("{flipped}{}", &sig[1..]));
    expect_403(&c, &bad_sig, "SignatureDoesNotMatch", "does not match").await;
    let longer = url.replace("X-Amz-Expires=300", "X-Amz-Expires=99999");
    expect_403(&c, &longer, "SignatureDoesNotMatch", "does not match").await;
    let other_file = url.replace("/files/1.mp4", "/files/2.mp4");
    expect_403(&c, &other_file, "SignatureDoesNotMatch", "does not match").await;
    let unsigned = url.split('?').next().unwrap().to_string();
    expect_403(&c, &unsigned, "AccessDenied", "Access Denied").await;
    assert_eq!(c.get(&url).send().await.unwrap().status(), StatusCode::OK);

    fake.set_url_ttl(Duration::from_secs(1));
    let short = output_url(&generate_json(&fake, &c).await);
    fake.set_url_style(UrlStyle::Expires);
    let short2 = output_url(&generate_json(&fake, &c).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    expect_403(&c, &short, "AccessDenied", "Request has expired").await;
    expect_403(&c, &short2, "AccessDenied", "Request has expired").await;
}

#[tokio::test]
async fn download_faults() {
    let c = client();
    let fake = FakeGen::start().await;
    fake.push_faults([
        Fault::TruncatedBody,
        Fault::WrongContentType,
        Fault::NotMp4,
        Fault::SlowBody,
    ]);

    let url = output_url(&generate_json(&fake, &c).await);
    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.content_length(), Some(FIXTURE_CLIP.len() as u64));
    assert!(resp.bytes().await.is_err(), "a short body is an error");
    // The same seen raw: Content-Length N, N/2 bytes, then EOF.
    let path = url.trim_start_matches(&fake.base_url()).to_string();
    let answer = raw_bytes(
        &fake,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    )
    .await;
    let head_len = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..head_len]);
    assert!(head.contains(&format!("Content-Length: {}", FIXTURE_CLIP.len())));
    assert_eq!(answer.len() - head_len - 4, FIXTURE_CLIP.len() / 2);

    let url = output_url(&generate_json(&fake, &c).await);
    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(content_type(&resp).starts_with("text/html"));
    assert!(resp.text().await.unwrap().contains("<html>"));

    let url = output_url(&generate_json(&fake, &c).await);
    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(content_type(&resp), "video/mp4");
    let bytes = resp.bytes().await.unwrap();
    assert!(bytes.len() > 8 && &bytes[4..8] != b"ftyp");

    let url = output_url(&generate_json(&fake, &c).await);
    let t0 = Instant::now();
    let mut resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut got = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        got.extend_from_slice(&chunk);
        chunks += 1;
    }
    let took = t0.elapsed();
    assert_eq!(got, FIXTURE_CLIP);
    assert!(chunks >= 4, "{chunks}");
    assert!(took >= Duration::from_millis(600), "{took:?}");

    // A clip set later applies to URLs issued later.
    fake.set_clip(b"\0\0\0\x08ftypmine".to_vec());
    let url = output_url(&generate_json(&fake, &c).await);
    let bytes = c.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), b"\0\0\0\x08ftypmine");
    assert_eq!(fake.download_calls(), 6);
}

#[tokio::test]
async fn redirect_chains() {
    let c = client();
    let fake = FakeGen::start().await;
    fake.push_faults([
        Fault::Redirects { hops: 3 },
        Fault::Redirects { hops: u32::MAX },
    ]);

    let mut resp = generate(&fake, &c).await;
    let mut redirects = 0;
    while resp.status() == StatusCode::SEE_OTHER {
        redirects += 1;
        assert!(redirects <= 3);
        let location = resp.headers()[LOCATION].to_str().unwrap().to_string();
        assert!(location.starts_with("/__redirect/"), "{location}");
        resp = c
            .get(format!("{}{location}", fake.base_url()))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(redirects, 3);
    assert_eq!(resp.status(), StatusCode::OK);
    let url = output_url(&resp.json().await.unwrap());
    let bytes = c.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), FIXTURE_CLIP);
    assert_eq!(fake.generate_calls(), 1);

    let mut resp = generate(&fake, &c).await;
    for _ in 0..25 {
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let location = resp.headers()[LOCATION].to_str().unwrap().to_string();
        resp = c
            .get(format!("{}{location}", fake.base_url()))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    // reqwest's own redirect following gets to the JSON too.
    fake.push_faults([Fault::Redirects { hops: 2 }]);
    let following = Client::builder().no_proxy().build().unwrap();
    let v = generate_json(&fake, &following).await;
    assert!(v["output_url"].is_string());
}

#[tokio::test]
async fn jobs() {
    let c = client();
    let fake = FakeGen::start().await;
    fake.push_faults([Fault::Job { pending: 2 }]);
    let resp = generate(&fake, &c).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let call_id = resp.json::<Value>().await.unwrap()["call_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(call_id.starts_with("fc-"), "{call_id}");
    let poll = format!("{}/result/{call_id}", fake.base_url());
    for _ in 0..2 {
        let resp = c.get(&poll).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        assert_eq!(resp.headers()[RETRY_AFTER], "0");
    }
    let resp = c.get(&poll).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    // Later polls repeat the same answer.
    let again: Value = c.get(&poll).send().await.unwrap().json().await.unwrap();
    assert_eq!(v, again);
    let bytes = c
        .get(output_url(&v))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), FIXTURE_CLIP);
    assert_eq!(fake.result_polls(), 4);

    fake.set_job_retry_after(None);
    fake.push_faults([Fault::Job { pending: 1 }]);
    let v: Value = generate(&fake, &c).await.json().await.unwrap();
    let poll = format!(
        "{}/result/{}",
        fake.base_url(),
        v["call_id"].as_str().unwrap()
    );
    let resp = c.get(&poll).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert!(resp.headers().get(RETRY_AFTER).is_none());
}

#[tokio::test]
async fn slow_generate() {
    let fake = FakeGen::start().await;
    fake.push_faults([
        Fault::Slow(Duration::from_millis(400)),
        Fault::Slow(Duration::from_secs(5)),
    ]);
    let c = client();
    let t0 = Instant::now();
    let v = generate_json(&fake, &c).await;
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(v["output_url"].is_string());

    let impatient = Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = impatient
        .post(format!("{}/generate", fake.base_url()))
        .json(&json!({ "prompt": "p", "request_id": "r" }))
        .send()
        .await
        .expect_err("times out");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(fake.generate_calls(), 2);
}

#[tokio::test]
async fn synthetic_clip_streams() {
    const LEN: u64 = 50 * 1024 * 1024 + 123;
    let fake = FakeGen::start().await;
    fake.set_synthetic_clip(LEN);
    let c = client();
    let url = output_url(&generate_json(&fake, &c).await);
    let mut resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(content_type(&resp), "video/mp4");
    assert_eq!(resp.headers()[CONTENT_LENGTH], LEN.to_string().as_str());
    let mut expected = synthetic_chunks(LEN);
    let mut want = Vec::new();
    let mut total = 0u64;
    let mut first = Vec::new();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        if first.len() < 64 {
            first.extend_from_slice(&chunk[..chunk.len().min(64 - first.len())]);
        }
        // Compare with the reference generator, chunking aside.
        while want.len() < chunk.len() {
            want.extend(expected.next().expect("reference ends early"));
        }
        assert_eq!(&want[..chunk.len()], chunk.as_ref(), "at {total}");
        want.drain(..chunk.len());
        total += chunk.len() as u64;
    }
    assert_eq!(total, LEN);
    assert_eq!(&first[..32], &FIXTURE_CLIP[..32]);
    assert_eq!(&first[4..8], b"ftyp");
    assert_ne!(&first[32..64], &FIXTURE_CLIP[32..64]);
}
