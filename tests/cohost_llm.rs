//! The co-host's LLM client (`streamcue::cohost::llm`) against the fake OpenAI-compatible
//! server (`streamcue_testkit::fake_llm`) over real sockets on 127.0.0.1: for each fault, the
//! final result (the text, or which error and its sentence) and the HTTP attempts made.
//! Timeouts and backoffs are short so the file runs in a few seconds.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use streamcue::cohost::llm::{
    ChatRequest, ChatTurn, Completion, Failure, LlmClient, LlmEndpoint, LlmError, TokenUsage,
    MAX_BODY_BYTES,
};
use streamcue::secrets::Secret;
use streamcue_testkit::fake_llm::{
    FakeLlm, Fault, RetryAfter, Usage, DEFAULT_ANSWER, HUGE_BYTES, MODEL,
};

const KEY: &str = "sk-test-5b1f0c2e9d";

fn endpoint(fake: &FakeLlm, stream: bool) -> LlmEndpoint {
    LlmEndpoint {
        timeout: Duration::from_secs(5),
        backoff_base: Duration::from_millis(20),
        stream,
        ..LlmEndpoint::new(fake.base_url(), MODEL)
    }
}

fn client(fake: &FakeLlm, stream: bool) -> LlmClient {
    LlmClient::new(endpoint(fake, stream)).expect("a client")
}

fn request(question: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatTurn::system("You are the co-host of a friendly stream. Be brief."),
            ChatTurn::user("earlier question"),
            ChatTurn::assistant("earlier answer"),
            ChatTurn::user(question),
        ],
        temperature: 0.7,
        max_tokens: 150,
    }
}

async fn ask(c: &LlmClient) -> Result<Completion, Failure> {
    c.complete(&request("what game is this?")).await
}

async fn fails(c: &LlmClient) -> Failure {
    match ask(c).await {
        Ok(done) => panic!("expected a failure, got {:?}", done.text),
        Err(f) => f,
    }
}

#[tokio::test]
async fn a_plain_answer_comes_back_with_its_usage_from_an_openai_shaped_request() {
    let fake = FakeLlm::start().await;
    let done = ask(&client(&fake, false)).await.unwrap();
    assert_eq!(done.text, DEFAULT_ANSWER);
    assert_eq!(done.attempts, 1);
    assert_eq!(done.finish_reason.as_deref(), Some("stop"));
    // Usage::Counted: words of every message / of the answer.
    let prompt = 10 + 2 + 2 + 4;
    let completion = DEFAULT_ANSWER.split_whitespace().count() as u32;
    assert_eq!(
        done.usage,
        Some(TokenUsage {
            prompt,
            completion,
            total: prompt + completion
        })
    );
    let sent = fake.completion_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(
        sent[0].json().unwrap(),
        json!({
            "model": MODEL,
            "messages": [
                {"role": "system", "content": "You are the co-host of a friendly stream. Be brief."},
                {"role": "user", "content": "earlier question"},
                {"role": "assistant", "content": "earlier answer"},
                {"role": "user", "content": "what game is this?"},
            ],
            "temperature": 0.7,
            "max_tokens": 150,
            "stream": false,
        })
    );
    assert!(sent[0]
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
}

#[tokio::test]
async fn a_streamed_answer_is_put_together_with_the_usage_of_its_last_chunk() {
    let fake = FakeLlm::start().await;
    fake.set_answer("Ça va? This answer comes in many small deltas, split across frames.");
    fake.set_usage(Usage::Fixed {
        prompt: 42,
        completion: 17,
    });
    let done = ask(&client(&fake, true)).await.unwrap();
    assert_eq!(
        done.text,
        "Ça va? This answer comes in many small deltas, split across frames."
    );
    assert_eq!(
        done.usage,
        Some(TokenUsage {
            prompt: 42,
            completion: 17,
            total: 59
        })
    );
    assert_eq!(done.attempts, 1);
    let body = fake.completion_requests()[0].json().unwrap();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn a_streamed_answer_with_crlf_line_ends_reads_the_same() {
    let fake = FakeLlm::start().await;
    fake.set_crlf(true);
    fake.set_answer("lines end with CR LF here");
    let done = ask(&client(&fake, true)).await.unwrap();
    assert_eq!(done.text, "lines end with CR LF here");
    assert!(done.usage.is_some());
}

#[tokio::test]
async fn without_usage_the_answer_still_comes_plain_and_streamed() {
    let fake = FakeLlm::start().await;
    fake.set_usage(Usage::Absent);
    for stream in [false, true] {
        let done = ask(&client(&fake, stream)).await.unwrap();
        assert_eq!(done.text, DEFAULT_ANSWER, "stream {stream}");
        assert_eq!(done.usage, None, "stream {stream}");
    }
}

#[tokio::test]
async fn the_answer_can_depend_on_the_last_user_message() {
    let fake = FakeLlm::start().await;
    fake.set_answer_with(|q| format!("You asked: {q}"));
    for stream in [false, true] {
        let done = client(&fake, stream)
            .complete(&request("is the boss hard?"))
            .await
            .unwrap();
        assert_eq!(done.text, "You asked: is the boss hard?");
    }
}

#[tokio::test]
async fn without_a_key_no_authorization_header_is_sent() {
    let fake = FakeLlm::start().await;
    let c = client(&fake, false);
    ask(&c).await.unwrap();
    c.models().await.unwrap();
    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    for r in &sent {
        assert!(r.header("authorization").is_none(), "{}", r.path);
    }
}

#[tokio::test]
async fn a_key_is_sent_as_a_bearer_token_and_a_wrong_one_is_401_once() {
    let fake = FakeLlm::start().await;
    fake.require_key(KEY);
    let mut e = endpoint(&fake, false);
    e.api_key = Some(Secret::new(KEY));
    let c = LlmClient::new(e.clone()).unwrap();
    assert_eq!(ask(&c).await.unwrap().text, DEFAULT_ANSWER);
    assert_eq!(c.models().await.unwrap(), [MODEL]);
    for r in fake.requests() {
        assert!(
            r.header("authorization") == Some(format!("Bearer {KEY}").as_str()),
            "{} lacks the bearer token",
            r.path
        );
    }

    e.api_key = Some(Secret::new("sk-wrong"));
    let wrong = LlmClient::new(e).unwrap();
    let before = fake.completion_calls();
    let f = fails(&wrong).await;
    assert_eq!(f.error, LlmError::Unauthorized { status: 401 });
    assert_eq!(f.to_string(), "401: check the API key");
    assert_eq!(f.attempts, 1);
    assert_eq!(fake.completion_calls() - before, 1);
    assert_eq!(
        wrong.models().await,
        Err(LlmError::Unauthorized { status: 401 })
    );
}

#[tokio::test]
async fn the_key_never_shows_in_errors_or_debug_output() {
    let fake = FakeLlm::start().await;
    let mut e = endpoint(&fake, false);
    e.api_key = Some(Secret::new(KEY));
    e.retries = 0;
    let c = LlmClient::new(e.clone()).unwrap();
    let mut shown = format!("{c:?} {e:?}");
    for fault in [
        Fault::Unauthorized,
        Fault::Status(400),
        Fault::Status(500),
        Fault::MalformedJson,
    ] {
        fake.push_faults([fault]);
        let f = fails(&c).await;
        shown.push_str(&format!("{f} {f:?}"));
    }
    assert!(!shown.contains(KEY), "the key leaked");
    assert!(shown.contains("***"));
}

#[tokio::test]
async fn a_5xx_twice_then_an_answer_takes_three_attempts() {
    let fake = FakeLlm::start().await;
    fake.push_faults([Fault::Status(500), Fault::Status(502)]);
    let done = ask(&client(&fake, false)).await.unwrap();
    assert_eq!(done.text, DEFAULT_ANSWER);
    assert_eq!(done.attempts, 3);
    assert_eq!(fake.completion_calls(), 3);
}

#[tokio::test]
async fn a_5xx_on_every_attempt_ends_as_a_server_error_after_the_retries() {
    let fake = FakeLlm::start().await;
    fake.set_default_fault(Some(Fault::Status(503)));
    let f = fails(&client(&fake, true)).await;
    assert_eq!(f.error, LlmError::Server { status: 503 });
    assert!(f.to_string().contains("(503)"), "{f}");
    assert_eq!(f.attempts, 3);
    assert_eq!(fake.completion_calls(), 3);
}

#[tokio::test]
async fn an_unknown_model_is_named_and_not_retried() {
    let fake = FakeLlm::start().await;
    let mut e = endpoint(&fake, false);
    e.model = "llama3".into();
    let f = fails(&LlmClient::new(e).unwrap()).await;
    assert_eq!(
        f.error,
        LlmError::ModelNotFound {
            model: "llama3".into()
        }
    );
    assert_eq!(
        f.to_string(),
        "the model `llama3` is not loaded on the server (pick one with Test connection)"
    );
    assert_eq!(f.attempts, 1);
    assert_eq!(fake.completion_calls(), 1);

    // The same for a listed model the server says it has not got.
    fake.push_faults([Fault::UnknownModel]);
    let f = fails(&client(&fake, true)).await;
    assert_eq!(
        f.error,
        LlmError::ModelNotFound {
            model: MODEL.into()
        }
    );
    assert_eq!(f.attempts, 1);
    assert_eq!(fake.completion_calls(), 2);
}

#[tokio::test]
async fn another_4xx_is_refused_once_with_the_servers_message() {
    let fake = FakeLlm::start().await;
    fake.set_default_fault(Some(Fault::Status(400)));
    let f = fails(&client(&fake, false)).await;
    assert_eq!(
        f.error,
        LlmError::Refused {
            status: 400,
            message: "fake failure 400".into()
        }
    );
    assert!(f.to_string().contains("400: fake failure 400"), "{f}");
    assert_eq!(f.attempts, 1);
    assert_eq!(fake.completion_calls(), 1);
}

#[tokio::test]
async fn a_429_with_retry_after_seconds_is_waited_for_then_answered() {
    let fake = FakeLlm::start().await;
    fake.push_faults([Fault::TooMany {
        retry_after: RetryAfter::Secs(1),
    }]);
    let started = Instant::now();
    let done = ask(&client(&fake, false)).await.unwrap();
    assert_eq!(done.text, DEFAULT_ANSWER);
    assert_eq!(done.attempts, 2);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(done.latency >= Duration::from_secs(1));
    let sent = fake.completion_requests();
    assert_eq!(sent.len(), 2);
    let gap = sent[1].at - sent[0].at;
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
}

#[tokio::test]
async fn a_429_with_an_http_date_is_waited_for_until_then() {
    let fake = FakeLlm::start().await;
    let at = SystemTime::now() + Duration::from_secs(2);
    fake.push_faults([Fault::TooMany {
        retry_after: RetryAfter::Date(at),
    }]);
    let done = ask(&client(&fake, true)).await.unwrap();
    assert_eq!(done.attempts, 2);
    let sent = fake.completion_requests();
    // The date is to the second: the wait is between 1 and 2 s.
    let gap = sent[1].at - sent[0].at;
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
    assert!(gap < Duration::from_millis(2500), "retried after {gap:?}");
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_gives_up_at_once_naming_the_wait() {
    let fake = FakeLlm::start().await;
    fake.set_default_fault(Some(Fault::TooMany {
        retry_after: RetryAfter::Secs(120),
    }));
    let started = Instant::now();
    let f = fails(&client(&fake, false)).await;
    assert_eq!(
        f.error,
        LlmError::RateLimited {
            retry_after_s: Some(120)
        }
    );
    assert!(f.to_string().contains("wait 120 s"), "{f}");
    assert_eq!(f.attempts, 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_429_without_retry_after_backs_off_and_ends_rate_limited() {
    let fake = FakeLlm::start().await;
    fake.set_default_fault(Some(Fault::TooMany {
        retry_after: RetryAfter::Absent,
    }));
    let f = fails(&client(&fake, false)).await;
    assert_eq!(
        f.error,
        LlmError::RateLimited {
            retry_after_s: None
        }
    );
    assert_eq!(f.attempts, 3);
    assert_eq!(fake.completion_calls(), 3);
    let sent = fake.completion_requests();
    // Backoff with jitter: 20 ms × [0.5, 1], then 40 ms × [0.5, 1].
    assert!(sent[1].at - sent[0].at >= Duration::from_millis(10));
    assert!(sent[2].at - sent[1].at >= Duration::from_millis(20));
}

#[tokio::test]
async fn a_hanging_server_times_out_on_every_attempt() {
    let fake = FakeLlm::start().await;
    fake.set_default_fault(Some(Fault::Hang));
    let mut e = endpoint(&fake, false);
    e.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let f = fails(&LlmClient::new(e).unwrap()).await;
    let took = started.elapsed();
    assert_eq!(f.error, LlmError::Timeout { after_s: 1 });
    assert!(
        f.to_string()
            .starts_with("the server did not answer within 1 s"),
        "{f}"
    );
    assert_eq!(f.attempts, 3);
    assert_eq!(fake.completion_calls(), 3);
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn a_slow_first_attempt_times_out_and_the_retry_answers() {
    let fake = FakeLlm::start().await;
    fake.push_faults([Fault::Slow(Duration::from_secs(2))]);
    let mut e = endpoint(&fake, true);
    e.timeout = Duration::from_millis(300);
    let done = LlmClient::new(e)
        .unwrap()
        .complete(&request("hi"))
        .await
        .unwrap();
    assert_eq!(done.text, DEFAULT_ANSWER);
    assert_eq!(done.attempts, 2);
    assert!(done.latency >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_slow_answer_within_the_timeout_is_taken_and_its_latency_measured() {
    let fake = FakeLlm::start().await;
    fake.push_faults([Fault::Slow(Duration::from_millis(250))]);
    let done = ask(&client(&fake, false)).await.unwrap();
    assert_eq!(done.attempts, 1);
    assert!(
        done.latency >= Duration::from_millis(250),
        "{:?}",
        done.latency
    );
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_named() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let e = LlmEndpoint {
        backoff_base: Duration::from_millis(20),
        ..LlmEndpoint::new(format!("{base}/v1"), MODEL)
    };
    let c = LlmClient::new(e).unwrap();
    let f = fails(&c).await;
    let LlmError::Unreachable { detail } = &f.error else {
        panic!("expected Unreachable, got {:?}", f.error);
    };
    assert!(detail.starts_with(&base), "{detail}");
    assert!(f.to_string().starts_with(&format!("cannot reach {base}")));
    assert!(f.to_string().ends_with("is the server running?"));
    assert_eq!(f.attempts, 3);
    assert!(matches!(
        c.models().await,
        Err(LlmError::Unreachable { .. })
    ));
}

#[tokio::test]
async fn malformed_json_is_refused_once() {
    let fake = FakeLlm::start().await;
    fake.set_default_fault(Some(Fault::MalformedJson));
    for (stream, calls) in [(false, 1), (true, 2)] {
        let f = fails(&client(&fake, stream)).await;
        assert!(
            matches!(f.error, LlmError::Malformed { .. }),
            "stream {stream}: {:?}",
            f.error
        );
        assert!(f.to_string().contains("OpenAI-compatible"), "{f}");
        assert_eq!(f.attempts, 1);
        assert_eq!(fake.completion_calls(), calls);
    }
}

#[tokio::test]
async fn empty_choices_or_empty_content_is_an_empty_answer() {
    let fake = FakeLlm::start().await;
    for fault in [Fault::EmptyChoices, Fault::EmptyContent] {
        for stream in [false, true] {
            fake.push_faults([fault.clone()]);
            let f = fails(&client(&fake, stream)).await;
            assert_eq!(f.error, LlmError::EmptyAnswer, "{fault:?}, stream {stream}");
            assert_eq!(f.attempts, 1);
        }
    }
    assert_eq!(fake.completion_calls(), 4);
}

#[tokio::test]
async fn an_sse_stream_cut_halfway_is_an_error_never_half_an_answer() {
    let fake = FakeLlm::start().await;
    fake.set_answer("This long answer is cut off in the middle, so no viewer sees half of it.");
    for stream in [true, false] {
        fake.push_faults([Fault::SseCutHalfway]);
        let f = fails(&client(&fake, stream)).await;
        assert_eq!(f.error, LlmError::StreamCut, "stream {stream}");
        assert!(f.to_string().contains("nothing was used"), "{f}");
        assert_eq!(f.attempts, 1);
    }
    // The fake did send part of the text before the cut.
    assert_eq!(fake.completion_calls(), 2);
}

#[tokio::test]
async fn a_huge_answer_is_refused_without_reading_it_all() {
    let fake = FakeLlm::start().await;
    for stream in [false, true] {
        fake.push_faults([Fault::Huge]);
        let before = fake.huge_bytes_sent();
        let started = Instant::now();
        let f = fails(&client(&fake, stream)).await;
        assert_eq!(f.error, LlmError::TooLarge, "stream {stream}");
        assert_eq!(f.attempts, 1);
        assert!(f.to_string().contains("max tokens"), "{f}");
        assert!(started.elapsed() < Duration::from_secs(3));
        // Let the fake notice the client has gone, then see how much it could send.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let sent = fake.huge_bytes_sent() - before;
        assert!(sent >= MAX_BODY_BYTES as u64 / 16, "only {sent} bytes sent");
        assert!(
            sent < HUGE_BYTES / 2,
            "stream {stream}: {sent} of {HUGE_BYTES} bytes were sent: the client kept reading"
        );
    }
}

#[tokio::test]
async fn test_connection_lists_the_models() {
    let fake = FakeLlm::start().await;
    fake.set_models(&["llama3:8b", "qwen2.5:7b", "mistral"]);
    let c = client(&fake, false);
    assert_eq!(
        c.models().await.unwrap(),
        ["llama3:8b", "qwen2.5:7b", "mistral"]
    );
    let sent = fake.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].method.as_str(), sent[0].path.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(fake.models_calls(), 1);
}

#[tokio::test]
async fn every_form_of_the_base_url_reaches_the_same_routes() {
    let fake = FakeLlm::start().await;
    for base in [
        fake.base_url(),
        format!("{}/", fake.base_url()),
        format!("{}/v1", fake.base_url()),
        format!(" {}/v1/ ", fake.base_url()),
    ] {
        let e = LlmEndpoint {
            backoff_base: Duration::from_millis(20),
            ..LlmEndpoint::new(base.clone(), MODEL)
        };
        let c = LlmClient::new(e).unwrap();
        assert_eq!(c.root(), fake.base_url());
        assert_eq!(ask(&c).await.unwrap().text, DEFAULT_ANSWER, "{base}");
    }
    assert!(fake
        .completion_requests()
        .iter()
        .all(|r| r.path == "/v1/chat/completions"));
    assert_eq!(fake.completion_calls(), 4);
}

#[tokio::test]
async fn a_base_url_that_is_not_http_is_refused_before_any_request() {
    for bad in ["ftp://127.0.0.1:11434", "127.0.0.1:11434", "ollama", ""] {
        let err = LlmClient::new(LlmEndpoint::new(bad, MODEL)).unwrap_err();
        assert!(matches!(err, LlmError::BadUrl { .. }), "{bad}: {err:?}");
        assert!(err.to_string().contains("http://127.0.0.1:11434"), "{err}");
    }
}

#[tokio::test]
async fn dropping_a_call_midway_is_fine_and_the_client_goes_on() {
    let fake = FakeLlm::start().await;
    fake.push_faults([Fault::Hang]);
    let c = client(&fake, true);
    let cancel = tokio_util::sync::CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        stop.cancel();
    });
    let started = Instant::now();
    tokio::select! {
        result = ask(&c) => panic!("a hanging call ended: {result:?}"),
        () = cancel.cancelled() => {}
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(fake.completion_calls(), 1);
    // The next call (a clone shares the pool) answers at once.
    let done = c.clone().complete(&request("still there?")).await.unwrap();
    assert_eq!(done.attempts, 1);
    assert_eq!(fake.completion_calls(), 2);
}
