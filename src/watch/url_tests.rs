//! The seed's examples, the wrapping chat and Discord add, and hostile links.

use super::*;
use proptest::prelude::*;

fn ok(text: &str) -> (String, UrlSite) {
    match extract_url(text) {
        Ok(w) => (w.url, w.site),
        Err(e) => panic!("{text:?} refused: {e}"),
    }
}

#[test]
fn the_seeds_examples() {
    use UrlSite::*;
    let table = [
        (
            "https://youtube.com/watch?v=abc",
            "https://youtube.com/watch?v=abc",
            Youtube,
        ),
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            Youtube,
        ),
        ("https://youtu.be/abc", "https://youtu.be/abc", Youtube),
        (
            "https://twitch.tv/streamer",
            "https://twitch.tv/streamer",
            Twitch,
        ),
        (
            "https://vimeo.com/123456",
            "https://vimeo.com/123456",
            Vimeo,
        ),
        (
            "https://example.com/page",
            "https://example.com/page",
            Other,
        ),
        // Written without the scheme, as the seed's test list does.
        (
            "youtube.com/watch?v=abc",
            "https://youtube.com/watch?v=abc",
            Youtube,
        ),
        ("youtu.be/abc", "https://youtu.be/abc", Youtube),
        ("twitch.tv/streamer", "https://twitch.tv/streamer", Twitch),
        ("vimeo.com/123456", "https://vimeo.com/123456", Vimeo),
    ];
    for (text, url, site) in table {
        assert_eq!(ok(text), (url.to_string(), site), "{text}");
    }
    assert_eq!(
        extract_url("no link here, just chat"),
        Err(UrlRefusal::NoLink)
    );
    assert_eq!(extract_url(""), Err(UrlRefusal::NoLink));
}

#[test]
fn the_first_pattern_wins_as_in_the_seed() {
    // A general link first and a YouTube link after: the seed tries YouTube first.
    assert_eq!(
        ok("see https://example.com/a and https://youtu.be/xyz").1,
        UrlSite::Youtube
    );
    // Only the matched part is kept (the seed returns the match).
    assert_eq!(
        ok("https://www.youtube.com/watch?v=abc&t=30s").0,
        "https://www.youtube.com/watch?v=abc"
    );
}

#[test]
fn hosts_sites_and_wrapping() {
    let table = [
        (
            "https://m.youtube.com/watch?v=a_b-c",
            "https://m.youtube.com/watch?v=a_b-c",
        ),
        (
            "HTTPS://WWW.YOUTUBE.COM/watch?v=abc",
            "https://www.youtube.com/watch?v=abc",
        ),
        (
            "https://m.twitch.tv/somebody",
            "https://m.twitch.tv/somebody",
        ),
        (
            "https://www.twitch.tv/videos/123456789",
            "https://www.twitch.tv/videos/123456789",
        ),
        (
            "https://www.twitch.tv/somebody/clip/FunnyClip-abc_12",
            "https://www.twitch.tv/somebody/clip/FunnyClip-abc_12",
        ),
        (
            "https://clips.twitch.tv/FunnyClip-abc",
            "https://clips.twitch.tv/FunnyClip-abc",
        ),
        ("watch this: <https://youtu.be/abc>", "https://youtu.be/abc"),
        ("[my video](https://youtu.be/abc)", "https://youtu.be/abc"),
        ("[page](https://example.com/a)", "https://example.com/a"),
        ("(https://example.com/a)", "https://example.com/a"),
        ("https://example.com/a.", "https://example.com/a"),
        ("look https://example.com/a!!", "https://example.com/a"),
        ("\"https://example.com/a\"", "https://example.com/a"),
        ("**https://example.com/a**", "https://example.com/a"),
        // Balanced parentheses belong to the link (Wikipedia style).
        (
            "https://en.wikipedia.org/wiki/Film_(disambiguation)",
            "https://en.wikipedia.org/wiki/Film_(disambiguation)",
        ),
        (
            "https://cdn.example.com/v.mp4?x=1",
            "https://cdn.example.com/v.mp4?x=1",
        ),
        (
            "http://example.com:8080/live.m3u8",
            "http://example.com:8080/live.m3u8",
        ),
    ];
    for (text, url) in table {
        assert_eq!(ok(text).0, url, "{text}");
    }
    // A site's name inside another word or URL is not that site.
    assert_eq!(ok("https://a.example/?u=youtu.be/x").1, UrlSite::Other);
    assert_eq!(
        extract_url("notyoutube.com/watch?v=abc"),
        Err(UrlRefusal::NoLink)
    );
}

#[test]
fn hostile_links_are_refused_with_the_reason() {
    use UrlRefusal::*;
    let private = |h: &str| PrivateHost(h.to_string());
    let table: Vec<(&str, UrlRefusal)> = vec![
        ("javascript:alert(1)", Scheme("javascript".into())),
        (
            "!watch JavaScript:alert(document.cookie)",
            Scheme("javascript".into()),
        ),
        ("file:///etc/passwd", Scheme("file".into())),
        ("data:text/html,<script>x</script>", Scheme("data".into())),
        ("https://user:pass@example.com/v", Credentials),
        ("https://user@example.com/v", Credentials),
        ("http://127.0.0.1/x", private("127.0.0.1")),
        ("http://127.1/x", private("127.0.0.1")),
        ("http://2130706433/x", private("127.0.0.1")),
        ("http://0x7f000001/x", private("127.0.0.1")),
        ("http://0177.0.0.1/x", private("127.0.0.1")),
        ("http://localhost:8080/x", private("localhost")),
        ("http://LOCALHOST./x", private("localhost.")),
        ("http://app.localhost/x", private("app.localhost")),
        ("http://printer.local/x", private("printer.local")),
        ("http://intranet/x", private("intranet")),
        ("http://10.0.0.5/x", private("10.0.0.5")),
        ("http://172.16.3.4/x", private("172.16.3.4")),
        ("http://192.168.1.1/x", private("192.168.1.1")),
        (
            "http://169.254.169.254/latest/meta-data",
            private("169.254.169.254"),
        ),
        ("http://100.64.0.1/x", private("100.64.0.1")),
        ("http://0.0.0.0/x", private("0.0.0.0")),
        ("http://[::1]/x", private("[::1]")),
        ("http://[::ffff:127.0.0.1]/x", private("[::ffff:7f00:1]")),
        ("http://[fd00::1]/x", private("[fd00::1]")),
        ("http://[fe80::1]/x", private("[fe80::1]")),
        ("http://[::]/x", private("[::]")),
        (
            "http://metadata.google.internal/x",
            private("metadata.google.internal"),
        ),
        ("http://router.home.arpa/x", private("router.home.arpa")),
    ];
    for (text, why) in table {
        assert_eq!(extract_url(text), Err(why), "{text}");
    }
    let long = format!("https://example.com/{}", "a".repeat(URL_MAX_CHARS));
    assert_eq!(extract_url(&long), Err(TooLong));
    assert_eq!(extract_url("http://exa mple.com"), Err(private("exa")));
    // Public addresses are fine.
    assert_eq!(ok("http://93.184.215.14/v.mp4").1, UrlSite::Other);
    assert_eq!(ok("http://[2606:4700::1111]/v.mp4").1, UrlSite::Other);
}

#[test]
fn refusals_read_as_sentences() {
    let e = extract_url("http://127.0.0.1/x").unwrap_err();
    assert_eq!(
        e.to_string(),
        "the link points at a private or local address (127.0.0.1)"
    );
    assert_eq!(
        extract_url("javascript:x").unwrap_err().to_string(),
        "only http and https links can be watched, not javascript: links"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever a viewer writes: no panic, and what comes out is http(s), has no credentials
    /// and a host that is not local.
    #[test]
    fn any_text_gives_a_safe_link_or_a_refusal(text in any_text()) {
        if let Ok(w) = extract_url(&text) {
            let u = Url::parse(&w.url).expect("a WatchUrl parses");
            prop_assert!(matches!(u.scheme(), "http" | "https"), "{w:?}");
            prop_assert!(u.username().is_empty() && u.password().is_none(), "{w:?}");
            let host = u.host_str().unwrap_or_default().to_string();
            prop_assert!(!host.is_empty(), "{w:?}");
            prop_assert!(!host.eq_ignore_ascii_case("localhost"), "{w:?}");
            if let Ok(ip) = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
                prop_assert!(!ip.is_loopback() && !ip.is_unspecified(), "{w:?}");
                if let std::net::IpAddr::V4(v4) = ip {
                    prop_assert!(!v4.is_private() && !v4.is_link_local(), "{w:?}");
                }
            }
            prop_assert!(w.url.chars().count() <= URL_MAX_CHARS + 16, "{w:?}");
        }
    }
}

fn any_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("https://".to_string()),
        Just("http://".to_string()),
        Just("youtu.be/".to_string()),
        Just("youtube.com/watch?v=".to_string()),
        Just("twitch.tv/".to_string()),
        Just("127.0.0.1".to_string()),
        Just("localhost".to_string()),
        Just("[::1]".to_string()),
        Just("user:pw@".to_string()),
        Just("javascript:".to_string()),
        Just("<".to_string()),
        Just(">".to_string()),
        Just(")".to_string()),
        Just("example.com".to_string()),
        "[a-z0-9./:@?=&%-]{0,12}",
        "\\PC{0,6}",
        Just(" ".to_string()),
    ];
    proptest::collection::vec(piece, 0..10).prop_map(|v| v.concat())
}
