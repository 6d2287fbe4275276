//! Tests of `config`: the lenient reading (every problem reported, everything valid kept).
use super::*;

#[test]
fn default_file_parses_to_the_defaults() {
    assert_eq!(Config::parse(DEFAULT_FILE).unwrap(), Config::default());
}

#[test]
fn missing_file_is_created_and_broken_file_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/config.toml");
    let (config, problem) = Config::load_or_create(&path);
    assert_eq!((config, problem), (Config::default(), None));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), DEFAULT_FILE);

    let broken = "[chat]\ndefault_channel = \"x\"\n\n[logging]\nprotocol_debug = maybe\n";
    std::fs::write(&path, broken).unwrap();
    let (config, problem) = Config::load_or_create(&path);
    assert_eq!(config, Config::default());
    let message = problem.unwrap().message;
    assert!(message.contains("line 5"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        broken,
        "the user's file is untouched"
    );
}

#[test]
fn parse_is_strict_and_names_the_first_problem() {
    let err = Config::parse("[chat]\ndefualt_channel = \"x\"\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "line 2: [chat] defualt_channel: unknown setting — did you mean default_channel?"
    );
    let err = Config::parse("[logging]\nkeep_days = \"seven\"\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "line 2: [logging] keep_days: expected a whole number, found \"seven\""
    );
    let ok = Config::parse("[chat]\ndefault_channel = \"shroud\"\n").unwrap();
    assert_eq!(ok.chat.default_channel, "shroud");
    assert_eq!(ok.logging, LoggingConfig::default());
}

/// The config `edit` makes from the defaults.
fn config_with(edit: impl FnOnce(&mut Config)) -> Config {
    let mut c = Config::default();
    edit(&mut c);
    c
}

fn lenient(bytes: &[u8]) -> (Config, Vec<String>) {
    let parsed = Config::parse_lenient(bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.unlisted, 0);
    let problems = parsed.problems.iter().map(|p| p.to_string()).collect();
    (parsed.config, problems)
}

#[test]
fn each_bad_setting_is_skipped_and_reported_and_the_rest_kept() {
    type Case = (&'static str, &'static [u8], Config, &'static [&'static str]);
    let cases: Vec<Case> = vec![
        (
            "an unknown key next to the client id",
            b"[chat]\ndefault_channel = \"shroud\"\ntwitch_client_id = \"abc123\"\n\
              twitch_clientid = \"oops\"\n",
            config_with(|c| {
                c.chat.default_channel = "shroud".into();
                c.chat.twitch_client_id = "abc123".into();
            }),
            &["[chat] twitch_clientid (line 4): unknown setting — did you mean twitch_client_id?"],
        ),
        (
            "a wrong type in one section",
            b"[chat]\ntwitch_client_id = \"abc\"\n\n[queue]\ncooldown_seconds = \"ten\"\n\
              max_waiting = 5\n\n[logging]\nkeep_days = 3\n",
            config_with(|c| {
                c.chat.twitch_client_id = "abc".into();
                c.queue.max_waiting = 5;
                c.logging.keep_days = 3;
            }),
            &[r#"[queue] cooldown_seconds (line 5): expected a whole number, found "ten""#],
        ),
        (
            "an unknown section",
            b"[chatt]\ntwitch_client_id = \"x\"\n[kick]\ncluster = \"eu1\"\n",
            config_with(|c| c.kick.cluster = "eu1".into()),
            &["[chatt] (line 1): unknown section — did you mean [chat]?"],
        ),
        (
            "several problems, in the order of the file",
            b"twitch_client_id = \"top\"\n[generator]\nmax_attempts = -1\nffmpeg = 7\n\
              retry_backoff_ms = 250\n[queue]\nrequest_commands = [\"anime\", 3]\n\
              blocked_words = [\"a\", \"b\"]\n[logging]\nkeep_days = 5000000000\n\
              protocol_debug = \"yes\"\n[overlay]\nx = 1\n",
            config_with(|c| {
                c.generator.retry_backoff_ms = 250;
                c.queue.blocked_words = vec!["a".into(), "b".into()];
            }),
            &[
                "twitch_client_id (line 1): unknown setting outside any section — it \
                 belongs under [chat]",
                "[generator] max_attempts (line 3): expected a whole number of 0 or more, \
                 found -1",
                "[generator] ffmpeg (line 4): expected text in quotes, found 7",
                r#"[queue] request_commands (line 7): expected a list of texts in quotes, like ["a", "b"], found ["anime", 3]"#,
                "[logging] keep_days (line 10): expected a whole number from 0 to \
                 4294967295, found 5000000000",
                r#"[logging] protocol_debug (line 11): expected true or false, found "yes""#,
                "[overlay] (line 12): unknown section",
            ],
        ),
        (
            "dotted keys, sub-tables, inline tables, arrays of tables",
            b"chat.twitch_client_id = \"dotted\"\n[queue.limits]\nmax = 3\n[kick]\n\
              app_key = { value = \"k\" }\ncluster = \"eu1\"\n[[logging]]\nkeep_days = 1\n\
              [generator]\nmax_clip_mb = 10.0\n",
            config_with(|c| {
                c.chat.twitch_client_id = "dotted".into();
                c.kick.cluster = "eu1".into();
            }),
            &[
                "[queue] limits (line 2): unknown setting",
                r#"[kick] app_key (line 5): expected text in quotes, found { value = "k" }"#,
                "logging (line 7): expected the section [logging], found a list of tables \
                 ([[logging]])",
                "[generator] max_clip_mb (line 10): expected a whole number, found 10.0",
            ],
        ),
        (
            "a section name used as a setting, a stray key with a typo, odd key names",
            b"chat = \"x\"\nkeep_dys = 3\n[queue]\n\"cool down\" = 1\n\"\" = 2\n\
              Max_Waiting = 4\n",
            Config::default(),
            &[
                r#"chat (line 1): expected the section [chat], found "x""#,
                "keep_dys (line 2): unknown setting outside any section — did you mean \
                 keep_days under [logging]?",
                r#"[queue] "cool down" (line 4): unknown setting"#,
                r#"[queue] "" (line 5): unknown setting"#,
                "[queue] Max_Waiting (line 6): unknown setting — did you mean max_waiting?",
            ],
        ),
        (
            "bytes that are not UTF-8, in a comment and in a value (Latin-1 from an old editor)",
            b"# R\xe9glages\r\n[chat]\r\ntwitch_client_id = \"abc\"\r\n\
              default_channel = \"caf\xe9\"\r\ntwitch_login = \"me\"\r\n",
            config_with(|c| {
                c.chat.twitch_client_id = "abc".into();
                c.chat.twitch_login = "me".into();
            }),
            &[
                "line 1: bytes that are not UTF-8 text (ignored); save the file as UTF-8",
                "[chat] default_channel (line 4): the value has bytes that are not UTF-8 \
                 text; save the file as UTF-8",
            ],
        ),
        (
            "UTF-8 with a BOM, CRLF and non-ASCII text",
            "\u{feff}# Réglages ✨\r\n[chat]\r\ndefault_channel = \"café\u{FFFD}\"\r\n\
             [queue]\r\nblocked_words = [\"mot\", \"\"\"\nlong\"\"\"]\r\n"
                .as_bytes(),
            config_with(|c| {
                c.chat.default_channel = "café\u{FFFD}".into();
                c.queue.blocked_words = vec!["mot".into(), "long".into()];
            }),
            &[],
        ),
        ("an empty file", b"", Config::default(), &[]),
        (
            "only comments and blank lines",
            b"\n# nothing here\n\n   \t\n",
            Config::default(),
            &[],
        ),
        (
            "empty sections",
            b"[chat]\n[queue]\n",
            Config::default(),
            &[],
        ),
        (
            "the default file",
            DEFAULT_FILE.as_bytes(),
            Config::default(),
            &[],
        ),
    ];
    for (name, text, want_config, want_problems) in cases {
        let (config, problems) = lenient(text);
        assert_eq!(config, want_config, "{name}");
        assert_eq!(problems, want_problems, "{name}");
    }
}

#[test]
fn a_file_that_is_not_toml_gives_the_parsers_line() {
    let cases: [(&str, &[u8], Option<usize>, &str); 6] = [
        (
            "a key set twice",
            b"[chat]\ntwitch_client_id = \"a\"\ntwitch_client_id = \"b\"\n",
            Some(3),
            "duplicate key",
        ),
        (
            "a section twice",
            b"[chat]\n\n[queue]\n[chat]\n",
            Some(4),
            "duplicate key",
        ),
        (
            "a bare word",
            b"[chat]\ndefault_channel = \"x\"\n\n[logging]\nprotocol_debug = maybe\n",
            Some(5),
            "",
        ),
        (
            "an unterminated string",
            b"[kick]\ncluster = \"us2\n",
            Some(2),
            "",
        ),
        ("a broken header", b"[chat\nx = 1\n", Some(1), ""),
        (
            "bytes that are not UTF-8 outside a string",
            b"a\xff = 1\n",
            Some(1),
            "",
        ),
    ];
    for (name, text, line, words) in cases {
        let err = Config::parse_lenient(text).unwrap_err();
        assert_eq!(err.line, line, "{name}: {err}");
        assert!(err.message.contains(words), "{name}: {err}");
        assert!(!err.message.is_empty(), "{name}");
    }
    // Nesting deeper than the parser allows is an error, not a stack overflow.
    let deep = format!("a = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert!(Config::parse_lenient(deep.as_bytes()).is_err());
}

#[test]
fn the_notice_names_the_file_then_one_problem_per_line_and_the_file_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = b"[chat]\ntwitch_clientid = \"abc\"\ntwitch_client_id = \"abc\"\n\
                 [queue]\ncooldown_seconds = \"ten\"\n";
    std::fs::write(&path, text).unwrap();
    let (config, problem) = Config::load_or_create(&path);
    assert_eq!(config.chat.twitch_client_id, "abc");
    assert_eq!(
        problem.unwrap().message,
        format!(
            "{} has 2 problems; StreamCue uses the defaults for them, applies every other \
             setting and left the file as it is:\n\
             [chat] twitch_clientid (line 2): unknown setting — did you mean \
             twitch_client_id?\n\
             [queue] cooldown_seconds (line 5): expected a whole number, found \"ten\"",
            path.display()
        )
    );
    assert_eq!(std::fs::read(&path).unwrap(), text, "the file is untouched");

    std::fs::write(&path, b"[chat]\ntwitch_login = 5\n").unwrap();
    let message = Config::load_or_create(&path).1.unwrap().message;
    assert!(message.contains(" has a problem; StreamCue uses the defaults for it,"));
    assert!(message.ends_with("\n[chat] twitch_login (line 2): expected text in quotes, found 5"));

    std::fs::write(&path, b"\xff\xfe\x00").unwrap();
    let (config, problem) = Config::load_or_create(&path);
    assert_eq!(config, Config::default());
    let message = problem.unwrap().message;
    assert!(message.contains("is not valid (line 1: "), "{message}");
    assert!(
        message.contains("bytes that are not UTF-8 text, first on line 1"),
        "{message}"
    );

    std::fs::write(&path, DEFAULT_FILE).unwrap();
    assert_eq!(Config::load_or_create(&path), (Config::default(), None));

    // A directory where the file should be: cannot be read, defaults.
    let (config, problem) = Config::load_or_create(dir.path());
    assert_eq!(config, Config::default());
    assert!(problem.unwrap().message.starts_with("Could not read"));
}

#[test]
fn a_file_full_of_mistakes_lists_the_first_ones() {
    let mut text = String::from("[chat]\ntwitch_client_id = \"keep\"\n");
    for i in 0..1000 {
        text.push_str(&format!("unknown_{i} = {i}\n"));
    }
    let parsed = Config::parse_lenient(text.as_bytes()).unwrap();
    assert_eq!(parsed.config.chat.twitch_client_id, "keep");
    assert_eq!(parsed.problems.len(), lenient::MAX_PROBLEMS);
    assert_eq!(parsed.unlisted, 1000 - lenient::MAX_PROBLEMS);
    assert_eq!(parsed.problems[0].line, Some(3));
    assert_eq!(parsed.problems[0].place, "[chat] unknown_0");
    let message = parsed.message(Path::new("c.toml")).unwrap();
    assert!(
        message.starts_with("c.toml has 1000 problems;"),
        "{message}"
    );
    assert!(message.ends_with("\n… and 970 more"), "{message}");
    assert_eq!(message.lines().count(), 1 + lenient::MAX_PROBLEMS + 1);
}

#[test]
fn large_files() {
    // 10 MB of valid settings: a long blocklist and a long value.
    let words: Vec<String> = (0..500_000).map(|i| format!("w{i:07}")).collect();
    let long = "x".repeat(4_000_000);
    let text = format!(
        "[chat]\ntwitch_client_id = \"{long}\"\n[queue]\nblocked_words = {}\n",
        toml::Value::try_from(&words).unwrap()
    );
    assert!(text.len() > 10_000_000);
    let (config, problems) = lenient(text.as_bytes());
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(config.queue.blocked_words, words);
    assert_eq!(config.chat.twitch_client_id.len(), long.len());

    // 10 MB of mistakes: reported briefly, long ones cut short.
    let mut text = String::from("[chat]\ntwitch_client_id = \"keep\"\n[queue]\n");
    text.push_str(&format!("max_waiting = \"{long}\"\n"));
    let mut i = 0;
    while text.len() < 10_000_000 {
        text.push_str(&format!("k{i} = [1, 2, 3]\n"));
        i += 1;
    }
    let parsed = Config::parse_lenient(text.as_bytes()).unwrap();
    assert_eq!(parsed.config.chat.twitch_client_id, "keep");
    assert_eq!(parsed.problems.len() + parsed.unlisted, i + 1);
    let first = parsed.problems[0].to_string();
    assert!(
        first.starts_with(r#"[queue] max_waiting (line 4): expected a whole number, found "xxx"#)
    );
    assert!(first.len() < 200, "{first}");
}

#[test]
fn files_too_large_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(MAX_FILE_BYTES + 1).unwrap(); // sparse: nothing is written
    let (config, problem) = Config::load_or_create(&path);
    assert_eq!(config, Config::default());
    let message = problem.unwrap().message;
    assert!(message.contains("larger than 64 MB"), "{message}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), MAX_FILE_BYTES + 1);
}

#[test]
fn the_schema_is_every_field_of_the_config() {
    // The keys the lenient reader knows are exactly the ones serde writes.
    let defaults = toml::Table::try_from(Config::default()).unwrap();
    let schema: Vec<(String, Vec<String>)> = lenient::SCHEMA
        .iter()
        .map(|(s, keys)| (s.to_string(), keys.iter().map(|k| k.to_string()).collect()))
        .collect();
    let mut written: Vec<(String, Vec<String>)> = defaults
        .iter()
        .map(|(s, t)| (s.clone(), t.as_table().unwrap().keys().cloned().collect()))
        .collect();
    let mut schema_sorted = schema.clone();
    for list in [&mut written, &mut schema_sorted] {
        list.sort();
        for (_, keys) in list.iter_mut() {
            keys.sort();
        }
    }
    assert_eq!(schema_sorted, written);
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use toml::Value;

    /// Valid values for a key, of the type its default has.
    fn valid_value(default: &Value) -> BoxedStrategy<Value> {
        match default {
            Value::String(_) => any::<String>().prop_map(Value::String).boxed(),
            Value::Integer(_) => (0..=i64::from(u32::MAX)).prop_map(Value::Integer).boxed(),
            Value::Boolean(_) => any::<bool>().prop_map(Value::Boolean).boxed(),
            Value::Array(_) => proptest::collection::vec(any::<String>(), 0..4)
                .prop_map(|v| Value::Array(v.into_iter().map(Value::String).collect()))
                .boxed(),
            other => panic!("no strategy for {other:?}"),
        }
    }

    fn known() -> Vec<(&'static str, &'static str, Value)> {
        let defaults = toml::Table::try_from(Config::default()).unwrap();
        lenient::SCHEMA
            .iter()
            .flat_map(|(s, keys)| keys.iter().map(move |k| (*s, *k)))
            .map(|(s, k)| (s, k, defaults[s][k].clone()))
            .collect()
    }

    /// For each known key: maybe a valid value, and a rank (its place in its section).
    fn chosen() -> impl Strategy<Value = Vec<(Option<Value>, u16)>> {
        known()
            .into_iter()
            .map(|(_, _, d)| (proptest::option::of(valid_value(&d)), any::<u16>()))
            .collect::<Vec<_>>()
    }

    /// Unknown keys: (section index, or none for outside any section; name; rank).
    fn unknown() -> impl Strategy<Value = Vec<(Option<usize>, String, u16)>> {
        proptest::collection::vec(
            (
                proptest::option::weighted(0.8, 0..lenient::SCHEMA.len()),
                "[a-z][a-z0-9_-]{0,12}|\"[^\"\\\\\\p{Cc}]{0,8}\"",
                any::<u16>(),
            ),
            0..10,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn valid_values_are_kept_and_unknown_keys_reported_once(
            chosen in chosen(),
            unknown in unknown(),
            unknown_section in proptest::option::of("[a-z]{1,8}x"),
        ) {
            let known = known();
            // Unknown keys: not a known name where they are, each (place, name) once.
            // Each is kept with the name as the report shows it (bare, or quoted).
            let mut seen = std::collections::HashSet::new();
            let unknown: Vec<(Option<usize>, String, u16, String)> = unknown
                .into_iter()
                .filter_map(|(section, written, rank)| {
                    let table = toml::from_str::<toml::Table>(&format!("{written} = 1"));
                    let name = table.unwrap().keys().next().unwrap().clone();
                    let clash = match section {
                        Some(s) => lenient::SCHEMA[s].1.contains(&name.as_str()),
                        None => {
                            lenient::SCHEMA.iter().any(|(s, _)| *s == name)
                                || unknown_section.as_deref() == Some(name.as_str())
                        }
                    };
                    let bare = !name.is_empty()
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
                    let shown = if bare { name.clone() } else { format!("{name:?}") };
                    (!clash && seen.insert((section, name))).then_some((section, written, rank, shown))
                })
                .collect();

            // The file: stray keys first, then each section's entries by rank.
            let mut text = String::from("# generated\n");
            let mut expected_lines = Vec::new(); // (place, line)
            let line_now = |text: &String| text.matches('\n').count() + 1;
            for (section, written, _, shown) in &unknown {
                if section.is_none() {
                    expected_lines.push((shown.clone(), line_now(&text)));
                    text.push_str(&format!("{written} = 1\n"));
                }
            }
            for (si, (section, _)) in lenient::SCHEMA.iter().enumerate() {
                text.push_str(&format!("\n[{section}]\n"));
                let mut entries: Vec<(u16, String, Option<String>)> = Vec::new();
                for ((s, k, _), (value, rank)) in known.iter().zip(&chosen) {
                    if s == section {
                        if let Some(v) = value {
                            entries.push((*rank, format!("{k} = {v}\n"), None));
                        }
                    }
                }
                for (s, written, rank, shown) in &unknown {
                    if *s == Some(si) {
                        entries.push((
                            *rank,
                            format!("{written} = \"x\"\n"),
                            Some(format!("[{section}] {shown}")),
                        ));
                    }
                }
                entries.sort_by_key(|e| e.0);
                for (_, line, place) in entries {
                    if let Some(place) = place {
                        expected_lines.push((place, line_now(&text)));
                    }
                    text.push_str(&line);
                }
            }
            if let Some(name) = &unknown_section {
                expected_lines.push((format!("[{name}]"), line_now(&text) + 1));
                text.push_str(&format!("\n[{name}]\ntwitch_client_id = \"x\"\n"));
            }

            let parsed = Config::parse_lenient(text.as_bytes())
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            prop_assert_eq!(parsed.unlisted, 0);
            let got = toml::Table::try_from(&parsed.config).unwrap();
            for ((s, k, default), (value, _)) in known.iter().zip(&chosen) {
                let want = value.as_ref().unwrap_or(default);
                prop_assert_eq!(&got[*s][*k], want, "[{}] {}\n{}", s, k, text);
            }
            let mut places: Vec<(String, usize)> = parsed
                .problems
                .iter()
                .map(|p| (p.place.clone(), p.line.unwrap()))
                .collect();
            for p in &parsed.problems {
                prop_assert!(
                    p.message.starts_with("unknown "),
                    "{}", p
                );
            }
            places.sort();
            expected_lines.sort();
            prop_assert_eq!(places, expected_lines, "\n{}", text);
        }

        #[test]
        fn what_serde_writes_is_read_back_without_problems(chosen in chosen()) {
            let mut table = toml::Table::try_from(Config::default()).unwrap();
            for ((s, k, _), (value, _)) in known().iter().zip(&chosen) {
                if let Some(v) = value {
                    table[*s].as_table_mut().unwrap().insert(k.to_string(), v.clone());
                }
            }
            let text = toml::to_string(&table).unwrap();
            let strict: Config = toml::from_str(&text).unwrap();
            let parsed = Config::parse_lenient(text.as_bytes()).unwrap();
            prop_assert_eq!(parsed.problems, vec![]);
            prop_assert_eq!(parsed.config, strict);
        }

        #[test]
        fn any_bytes_give_a_result_and_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            let _ = Config::parse_lenient(&bytes);
        }

        #[test]
        fn a_damaged_default_file_never_panics(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ) {
            let mut bytes = DEFAULT_FILE.as_bytes().to_vec();
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            if let Ok(parsed) = Config::parse_lenient(&bytes) {
                prop_assert!(parsed.problems.len() <= lenient::MAX_PROBLEMS);
                for p in &parsed.problems {
                    prop_assert!(!p.to_string().contains('\n'), "{}", p);
                }
            }
        }
    }
}
