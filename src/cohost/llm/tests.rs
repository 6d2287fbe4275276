use super::*;
use crate::secrets::Secret;

fn client(stream: bool) -> LlmClient {
    let mut e = LlmEndpoint::new("http://127.0.0.1:11434/v1/", "llama3");
    e.stream = stream;
    e.api_key = Some(Secret::new("sk-very-secret"));
    LlmClient::new(e).unwrap()
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![ChatTurn::system("be brief"), ChatTurn::user("hi?")],
        temperature: 0.7,
        max_tokens: 120,
    }
}

#[test]
fn the_routes_come_from_the_root() {
    let c = client(false);
    assert_eq!(c.root(), "http://127.0.0.1:11434");
    assert_eq!(
        c.inner.completions.as_str(),
        "http://127.0.0.1:11434/v1/chat/completions"
    );
    assert_eq!(c.inner.models.as_str(), "http://127.0.0.1:11434/v1/models");
    assert!(matches!(
        LlmClient::new(LlmEndpoint::new("ollama:11434", "m")),
        Err(LlmError::BadUrl { .. })
    ));
}

#[test]
fn the_body_is_openai_shaped() {
    let plain = client(false).body(&request());
    assert_eq!(
        plain,
        serde_json::json!({
            "model": "llama3",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi?"}
            ],
            "temperature": 0.7,
            "max_tokens": 120,
            "stream": false,
        })
    );
    let streamed = client(true).body(&request());
    assert_eq!(streamed["stream"], true);
    assert_eq!(streamed["stream_options"]["include_usage"], true);
    assert_eq!(decimal(0.2), 0.2);
    assert_eq!(decimal(f32::NAN), 1.0);
}

#[test]
fn debug_output_never_shows_the_key() {
    let c = client(false);
    let shown = format!("{c:?} {:?}", c.endpoint());
    assert!(!shown.contains("sk-very-secret"), "{shown}");
    assert!(shown.contains("***"));
}

#[test]
fn model_lists_are_read() {
    assert_eq!(
        parse_models(br#"{"object":"list","data":[{"id":"llama3"},{"id":"qwen2.5:7b"},{"x":1}]}"#),
        Ok(vec!["llama3".to_string(), "qwen2.5:7b".to_string()])
    );
    assert!(matches!(
        parse_models(br#"{"models":[]}"#),
        Err(LlmError::Malformed { .. })
    ));
    assert!(matches!(
        parse_models(b"<html>"),
        Err(LlmError::Malformed { .. })
    ));
}

#[test]
fn loopback_hosts_are_recognised() {
    for (u, is) in [
        ("http://127.0.0.1:1/", true),
        ("http://[::1]:1/", true),
        ("http://LOCALHOST:1/", true),
        ("http://10.0.0.2:1/", false),
        ("https://api.openai.com/", false),
    ] {
        assert_eq!(is_loopback(&Url::parse(u).unwrap()), is, "{u}");
    }
}
