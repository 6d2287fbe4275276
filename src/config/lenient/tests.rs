//! Tests of the lenient reader.
use super::*;

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

#[test]
fn edit_distance() {
    let cases = [
        ("", "", 0),
        ("abc", "", 3),
        ("kitten", "sitting", 3),
        ("twitch_clientid", "twitch_client_id", 1),
        ("flaw", "lawn", 2),
        ("été", "ete", 2),
    ];
    for (a, b, d) in cases {
        assert_eq!(levenshtein(&chars(a), &chars(b)), d, "{a} / {b}");
        assert_eq!(levenshtein(&chars(b), &chars(a)), d, "{b} / {a}");
    }
}

#[test]
fn suggestions_only_for_likely_typos() {
    let keys = ChatConfig::KEYS;
    let cases = [
        ("twitch_clientid", Some("twitch_client_id")),
        ("Twitch-Client-ID", Some("twitch_client_id")),
        ("defualt_channel", Some("default_channel")),
        ("twitch_logn", Some("twitch_login")),
        ("channel", None),
        ("colour", None),
        ("x", None),
        ("", None),
    ];
    for (word, want) in cases {
        assert_eq!(nearest(word, keys.iter().copied()), want, "{word}");
    }
    let long = "twitch_client_id".repeat(1000);
    assert_eq!(nearest(&long, keys.iter().copied()), None);
}

#[test]
fn values_are_shown_in_toml_notation_and_cut_short() {
    let cases: [(Value, &str); 8] = [
        (Value::String("ten".into()), r#""ten""#),
        (Value::String("a\"b\nc".into()), r#""a\"b\nc""#),
        (Value::Integer(-3), "-3"),
        (Value::Float(10.0), "10.0"),
        (Value::Float(f64::NEG_INFINITY), "-inf"),
        (Value::Boolean(true), "true"),
        (
            Value::Array(vec![Value::Integer(1), Value::String("x".into())]),
            r#"[1, "x"]"#,
        ),
        (
            toml::from_str::<Value>("a = { b = 1 }").unwrap()["a"].clone(),
            "{ b = 1 }",
        ),
    ];
    for (value, want) in cases {
        assert_eq!(describe(&value), want);
    }
    let long = describe(&Value::String("y".repeat(10_000_000)));
    assert!(long.starts_with("\"yyy") && long.ends_with('…'), "{long}");
    assert_eq!(long.chars().count(), MAX_SHOWN_CHARS + 1);
    let many = describe(&Value::Array(vec![Value::Integer(7); 1_000_000]));
    assert!(many.ends_with('…') && many.chars().count() == MAX_SHOWN_CHARS + 1);
    assert_eq!(show_key("odd key"), r#""odd key""#);
    assert_eq!(show_key(""), r#""""#);
}

#[test]
fn lines_of_offsets() {
    let index = LineIndex::new("a\nb\r\n\nc");
    let lines: Vec<usize> = (0..8).map(|o| index.line_of(o)).collect();
    assert_eq!(lines, [1, 1, 2, 2, 2, 3, 4, 4]);
}

#[test]
fn non_utf8_bytes_are_replaced_and_located() {
    let d = Decoded::new(b"\xEF\xBB\xBFa\xff\xfeb\nc\xe9");
    // Each byte that cannot start or continue a character is one replacement.
    assert_eq!(d.text, "a\u{FFFD}\u{FFFD}b\nc\u{FFFD}");
    assert_eq!(d.replaced, [1, 4, 10]);
}

#[test]
fn places_of_sections_and_keys() {
    let text = "top = 1\nd0 = 1979-05-27\n[chat]\n'quoted key' = 2\n\n[queue.inner]\nx = 1\n\
                [when]\nat = 1979-05-27T07:32:00Z\nd = 1979-05-27\n[[list]]\ny = 1\n\
                [kick]\ncluster = { a = 1 }\n[logging]\nkeep_days.deep = 5\n";
    let places = Places::find(text);
    let lines = LineIndex::new(text);
    let line = |at: Option<usize>| at.map(|at| lines.line_of(at));
    assert_eq!(line(places.section("top")), Some(1));
    assert_eq!(line(places.section("d0")), Some(2));
    assert_eq!(line(places.section("chat")), Some(3));
    assert_eq!(line(places.key("chat", "quoted key")), Some(4));
    assert_eq!(line(places.section("queue")), Some(6));
    assert_eq!(line(places.key("queue", "inner")), Some(6));
    assert_eq!(line(places.key("when", "at")), Some(9));
    assert_eq!(line(places.key("when", "d")), Some(10));
    assert_eq!(line(places.section("list")), Some(11));
    assert_eq!(line(places.key("kick", "cluster")), Some(14));
    assert_eq!(line(places.key("logging", "keep_days")), Some(16));
}
