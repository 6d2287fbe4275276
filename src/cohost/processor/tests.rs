//! Table tests for each step and property tests for the whole pipeline.

use proptest::prelude::*;

use super::*;

fn rules() -> ProcessorRules {
    ProcessorRules {
        bot_name: "CueBot".into(),
        ..ProcessorRules::default()
    }
}

fn filters(list: &[(&str, bool, Option<&str>)]) -> CompiledFilters {
    let rules: Vec<FilterRule> = list
        .iter()
        .map(|(pattern, regex, replace)| FilterRule {
            pattern: pattern.to_string(),
            regex: *regex,
            action: match replace {
                None => FilterAction::Drop,
                Some(r) => FilterAction::Replace(r.to_string()),
            },
        })
        .collect();
    compile_filters(&rules).expect("test filters compile")
}

fn run(raw: &str) -> Result<String, Rejected> {
    process(raw, "", &[], &rules())
}

#[test]
fn defaults_are_the_documented_ones() {
    let r = ProcessorRules::default();
    assert_eq!(r.max_chars, 400);
    assert_eq!(r.truncation, Truncation::Sentence);
    assert!(r.strip_markdown && r.dedup && r.echo_check);
    assert!(r.filters.is_empty());
    assert_eq!(MAX_CHARS, 500);
}

#[test]
fn markdown_is_stripped_to_its_words() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "plain text stays",
            "Hello chat, 2 + 2 = 4!",
            "Hello chat, 2 + 2 = 4!",
        ),
        ("bold", "This is **huge** news", "This is huge news"),
        ("bold with underscores", "__really__ good", "really good"),
        ("italic star", "an *amazing* play", "an amazing play"),
        ("italic underscore", "an _amazing_ play", "an amazing play"),
        ("bold italic", "***wow***", "wow"),
        ("strike", "it is ~~bad~~ fine", "it is bad fine"),
        (
            "product stays",
            "2*3 is 6 and 2*3*4 is 24",
            "2*3 is 6 and 2*3*4 is 24",
        ),
        ("spaced stars stay", "a * b * c", "a * b * c"),
        (
            "snake_case stays",
            "call snake_case_name now",
            "call snake_case_name now",
        ),
        (
            "inline code kept",
            "run `cargo build` first",
            "run cargo build first",
        ),
        (
            "code keeps its stars",
            "type `**kwargs` here",
            "type **kwargs here",
        ),
        (
            "bold around code",
            "use **`!ask`** to ask",
            "use !ask to ask",
        ),
        ("double backticks", "``a ` b`` ok", "a ` b ok"),
        ("unclosed backtick", "a ` b", "a ` b"),
        ("escaped star", r"a \*literal\* star", "a *literal* star"),
        ("heading", "## Big news", "Big news"),
        ("heading with closing hashes", "# Title ##", "Title"),
        ("C sharp heading", "# C#", "C#"),
        ("hashtag stays", "#GG everyone", "#GG everyone"),
        (
            "quote",
            "> a wise man said\n>> twice",
            "a wise man said\ntwice",
        ),
        (
            "unordered list",
            "Top picks:\n- Hades\n* Celeste\n+ Tunic",
            "Top picks:\nHades,\nCeleste,\nTunic",
        ),
        ("ordered list", "1. install\n2) run", "install,\nrun"),
        ("items already punctuated", "- one.\n- two", "one.\ntwo"),
        ("task list", "- [ ] todo\n- [x] done", "todo,\ndone"),
        ("negative number stays", "-5 degrees", "-5 degrees"),
        (
            "rule and setext underline",
            "Title\n===\ntext\n---\n***",
            "Title\ntext",
        ),
        (
            "fence keeps code",
            "Try:\n```rust\nlet x = *y;\n```\ndone",
            "Try:\nlet x = *y;\ndone",
        ),
        ("tilde fence", "~~~\n**not bold**\n~~~", "**not bold**"),
        ("unclosed fence keeps the rest", "```\ncode", "code"),
        (
            "link keeps text",
            "see [the docs](https://x.io/a_(b)) now",
            "see the docs now",
        ),
        (
            "empty link keeps url",
            "[](https://x.io) here",
            "https://x.io here",
        ),
        (
            "reference link",
            "read [this][1]\n[1]: https://x.io",
            "read this",
        ),
        ("image keeps alt", "![a cat](cat.png) meow", "a cat meow"),
        ("autolink", "go to <https://x.io>", "go to https://x.io"),
        (
            "brackets stay",
            "[citation needed] and a < b > c",
            "[citation needed] and a < b > c",
        ),
        ("bold link", "[**click**](u)", "click"),
        (
            "table",
            "| Game | Score |\n|---|:---:|\n| Hades | 9 |\n| Tunic | 8 |",
            "Game, Score;\nHades, 9;\nTunic, 8",
        ),
        (
            "table without edge pipes",
            "a | b\n--|--\n1 | 2",
            "a, b;\n1, 2",
        ),
        ("escaped pipe in a cell", "| a \\| b | c |", "a | b, c"),
    ];
    for (what, input, want) in cases {
        assert_eq!(strip_markdown(input), *want, "{what}: {input:?}");
    }
}

#[test]
fn whitespace_collapses_to_one_line() {
    let cases: &[(&str, &str)] = &[
        ("one\ntwo", "one two"),
        ("  lead and trail  ", "lead and trail"),
        ("a\r\n\r\n\tb", "a b"),
        ("a\u{2028}b\u{2029}c\u{85}d", "a b c d"),
        ("many     spaces", "many spaces"),
        ("\n\n\n", ""),
        ("", ""),
    ];
    for (input, want) in cases {
        assert_eq!(collapse_newlines(input), *want, "{input:?}");
    }
}

#[test]
fn invisible_characters_go_but_emoji_sequences_stay() {
    let cases: &[(&str, &str, &str)] = &[
        ("zero-width space", "\u{200B}/ban x", "/ban x"),
        ("byte order mark", "\u{FEFF}hi", "hi"),
        (
            "inside a word",
            "b\u{200B}a\u{2060}d w\u{00AD}ord",
            "bad word",
        ),
        ("bidi override", "\u{202E}olleh\u{202C}", "olleh"),
        (
            "hangul filler and braille blank",
            "\u{3164}\u{2800}hi",
            "hi",
        ),
        (
            "family emoji",
            "👨\u{200D}👩\u{200D}👧",
            "👨\u{200D}👩\u{200D}👧",
        ),
        ("joiner between ascii letters", "a\u{200D}b", "ab"),
        ("persian non-joiner", "می\u{200C}خواهم", "می\u{200C}خواهم"),
        ("leading joiner", "\u{200D}👍", "👍"),
        (
            "scotland flag",
            "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
            "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
        ),
        ("stray tags", "a\u{E0061}\u{E0062}b", "ab"),
        (
            "heart keeps its variation selector",
            "❤\u{FE0F}",
            "❤\u{FE0F}",
        ),
    ];
    for (what, input, want) in cases {
        assert_eq!(strip_invisible(input), *want, "{what}");
    }
}

#[test]
fn speaker_labels_and_wrapping_quotes_go() {
    let cases: &[(&str, &str)] = &[
        ("CueBot: hello there", "hello there"),
        ("@cuebot: hello", "hello"),
        ("Assistant: hi", "hi"),
        ("AI : hi", "hi"),
        ("CueBot: \"hi there\"", "hi there"),
        ("\"CueBot: hi there\"", "hi there"),
        ("“Smart quotes”", "Smart quotes"),
        ("'It's fine'", "It's fine"),
        ("\"a\" and \"b\"", "\"a\" and \"b\""),
        ("'a' or 'b'", "'a' or 'b'"),
        (
            "Note: the stream starts at 8",
            "Note: the stream starts at 8",
        ),
        ("https://x.io is the site", "https://x.io is the site"),
        ("\"\"", ""),
        ("CueBot:", ""),
    ];
    for (input, want) in cases {
        assert_eq!(strip_speaker_label(input, "CueBot"), *want, "{input:?}");
    }
    assert_eq!(strip_speaker_label(": hi", ""), ": hi", "no name, no label");
}

#[test]
fn keyword_filters_match_whole_words_in_any_case() {
    let f = filters(&[
        ("darn", false, None),
        ("ass", false, Some("***")),
        ("f*ck", false, Some("[removed]")),
        ("bad   word", false, Some("oops")),
    ]);
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("what a DARN shame", Err("darn")),
        ("darn!", Err("darn")),
        ("darnit is fine", Ok("darnit is fine")),
        ("my class passed", Ok("my class passed")),
        ("you ass, ASS", Ok("you ***, ***")),
        ("f*ck that", Ok("[removed] that")),
        ("a bad word and a bad\tWORD", Ok("a oops and a oops")),
        ("a badword", Ok("a badword")),
    ];
    for (input, want) in cases {
        let got = apply_filters(input, &f);
        let want = want
            .map(str::to_string)
            .map_err(|rule| Rejected::Filtered { rule: rule.into() });
        assert_eq!(got, want, "{input:?}");
    }
}

#[test]
fn regex_filters_drop_or_replace() {
    let f = filters(&[
        (r"https?://\S+", true, Some("[link]")),
        (r"system prompt", true, None),
        (r"(\d)(\d)", true, Some("$2$1")),
        (r"x*", true, Some("!")),
    ]);
    assert_eq!(
        apply_filters("see HTTPS://evil.example/x now", &f),
        Ok("see [link] now".into())
    );
    assert_eq!(
        apply_filters("My System Prompt says", &f),
        Err(Rejected::Filtered {
            rule: "system prompt".into()
        })
    );
    assert_eq!(
        apply_filters("42 apples", &f),
        Ok("$2$1 apples".into()),
        "replacements are literal"
    );
    assert_eq!(
        apply_filters("abc", &f),
        Ok("abc".into()),
        "empty matches are ignored"
    );
    assert_eq!(apply_filters("axxb", &f), Ok("a!b".into()));
}

#[test]
fn a_bad_filter_is_refused_with_its_number_and_reason() {
    let rule = |pattern: &str, regex: bool| FilterRule {
        pattern: pattern.into(),
        regex,
        action: FilterAction::Drop,
    };
    let err = compile_filters(&[rule("fine", false), rule("(unclosed", true)]).unwrap_err();
    assert_eq!(
        err,
        FilterError::BadRegex {
            number: 2,
            pattern: "(unclosed".into(),
            reason: "unclosed group".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "filter 2 (`(unclosed`) is not a usable regular expression: unclosed group"
    );
    let huge = compile_filters(&[rule(r"(\w{50}){50}", true)]).unwrap_err();
    assert!(
        huge.to_string().starts_with(
            "filter 1 (`(\\w{50}){50}`) is not a usable regular expression: it is too complex"
        ),
        "{huge}"
    );
    assert_eq!(
        compile_filters(&[rule("  ", false)]).unwrap_err(),
        FilterError::Empty { number: 1 }
    );
    assert_eq!(
        compile_filters(&[rule("", true)]).unwrap_err().to_string(),
        "filter 1 is empty"
    );
    assert_eq!(compile_filters(&[]).unwrap().len(), 0);
}

#[test]
fn truncation_cuts_within_the_limit() {
    use Truncation::{Hard, Sentence};
    let family = "👨\u{200D}👩\u{200D}👧";
    let cases: &[(&str, &str, usize, Truncation, &str)] = &[
        ("fits", "short", 5, Hard, "short"),
        ("hard", "abcdefghij", 5, Hard, "abcd…"),
        (
            "hard drops a trailing space",
            "abc defghij",
            5,
            Hard,
            "abc…",
        ),
        ("zero", "abc", 0, Hard, ""),
        ("one", "abc", 1, Sentence, "…"),
        ("chars not bytes", "ééééééé", 4, Hard, "ééé…"),
        (
            "combining accent stays whole",
            "cafe\u{301} noir",
            5,
            Hard,
            "caf…",
        ),
        ("skin tone stays whole", "ab👍🏽cd", 4, Hard, "ab…"),
        ("flag is not split", "🇩🇪🇫🇷🇮🇹", 4, Hard, "🇩🇪…"),
        (
            "zwj family is not split",
            "hi 👨\u{200D}👩\u{200D}👧 yo",
            7,
            Hard,
            "hi…",
        ),
        (
            "sentence",
            "First one. Second one! Third one goes on",
            25,
            Sentence,
            "First one. Second one!",
        ),
        (
            "sentence with a closing quote",
            "He said \"go.\" Then more words here",
            16,
            Sentence,
            "He said \"go.\"",
        ),
        (
            "decimal is no sentence end",
            "Pi is 3.14159 and more",
            16,
            Sentence,
            "Pi is 3.14159…",
        ),
        (
            "too early a sentence: a word",
            "Hi. This sentence is much longer than that",
            30,
            Sentence,
            "Hi. This sentence is much…",
        ),
        (
            "word drops a trailing comma",
            "one, two, three, four",
            12,
            Sentence,
            "one, two…",
        ),
        ("no space: hard", "abcdefghijklmnop", 6, Sentence, "abcde…"),
        (
            "ellipsis ends a sentence",
            "Well… maybe later today",
            9,
            Sentence,
            "Well…",
        ),
        (
            "no second ellipsis",
            "Well… maybe later today",
            12,
            Sentence,
            "Well… maybe…",
        ),
        (
            "word after an ellipsis",
            "Hmm… well… maybe later",
            12,
            Sentence,
            "Hmm… well…",
        ),
    ];
    for (what, input, max, mode, want) in cases {
        let got = truncate(input, *max, *mode);
        assert_eq!(got, *want, "{what}");
        assert!(got.chars().count() <= *max, "{what}");
    }
    assert_eq!(truncate(family, 3, Hard), "…", "a family is one picture");
}

#[test]
fn echoes_are_recognised() {
    let cases: &[(&str, &str, &str, bool)] = &[
        ("same", "What is Rust?", "what is rust", true),
        ("same, shouted", "WHAT... IS RUST!!!", "what is rust?", true),
        ("reordered", "Rust is what", "what is rust", true),
        (
            "repeats most",
            "this game, good or bad",
            "is this game good or bad?",
            true,
        ),
        (
            "repeats too little",
            "is this game good",
            "is this game good or bad?",
            false,
        ),
        (
            "an answer",
            "Rust is a programming language.",
            "what is rust?",
            false,
        ),
        ("yes", "Yes", "is it yes or no?", false),
        (
            "one new word in a short answer",
            "what is rust lol",
            "what is rust",
            false,
        ),
        ("empty question", "hello", "", false),
        ("no words", "🙂", "🙂", true),
        ("punctuation only", "?!", "?!", false),
    ];
    for (what, answer, question, want) in cases {
        assert_eq!(is_echo(answer, question), *want, "{what}");
    }
}

#[test]
fn duplicates_and_near_duplicates_are_recognised() {
    let recent: Vec<String> = [
        "Welcome in, Bob! Grab a snack and enjoy the stream.",
        "The stream starts at 8 pm.",
        "Hades is a roguelike by Supergiant Games and it is really good fun",
        "🎉",
    ]
    .map(String::from)
    .to_vec();
    let cases: &[(&str, &str, bool)] = &[
        (
            "same words",
            "welcome in bob grab a snack and enjoy the stream",
            true,
        ),
        ("another time", "The stream starts at 9 pm.", false),
        (
            "one word changed in a long one",
            "Hades is a roguelike by Supergiant Games and it is really great fun",
            true,
        ),
        ("new", "Celeste is about climbing a mountain.", false),
        ("same emoji", "🎉", true),
        ("other emoji", "😂", false),
        ("short and different", "hi Bob", false),
    ];
    for (what, answer, want) in cases {
        assert_eq!(is_duplicate(answer, &recent), *want, "{what}");
    }
    assert!(!is_duplicate("anything", &[]));
}

#[test]
fn commands_in_answers_are_made_harmless() {
    let cases: &[(&str, &str)] = &[
        ("/ban streamer", "ban streamer"),
        (".timeout x 600", "timeout x 600"),
        ("CueBot: /ban streamer", "ban streamer"),
        ("\"/ban streamer\"", "ban streamer"),
        ("`/ban streamer`", "ban streamer"),
        ("```\n/ban streamer\n```", "ban streamer"),
        ("- /ban streamer", "ban streamer"),
        ("> .me dances", "me dances"),
        ("\n\n  /./ban x", "ban x"),
        ("\u{200B}/ban x", "ban x"),
        ("\u{FEFF}.timeout x", "timeout x"),
        ("\u{200E}\u{2060}/ban x", "ban x"),
        ("\u{3164}/ban x", "ban x"),
        ("Sure!\n/ban streamer", "Sure! /ban streamer"),
        ("ok\r\nPRIVMSG #x :owned", "ok PRIVMSG #x :owned"),
        ("bye\u{0}\u{7}now", "bye now"),
    ];
    for (raw, want) in cases {
        assert_eq!(run(raw).as_deref(), Ok(*want), "{raw:?}");
    }
    let bad = filters(&[("x", false, Some("\u{200B}/ban "))]);
    let r = ProcessorRules {
        filters: bad,
        ..rules()
    };
    assert_eq!(
        process("x streamer", "", &[], &r).as_deref(),
        Ok("ban streamer"),
        "a replacement cannot bring a command back"
    );
}

#[test]
fn nothing_left_is_empty() {
    for raw in [
        "",
        "   \n\t",
        "/",
        "./ .",
        "```\n```",
        "\u{200B}\u{FEFF}",
        "CueBot:",
        "…",
        "---",
    ] {
        assert_eq!(run(raw), Err(Rejected::Empty), "{raw:?}");
    }
    let tiny = ProcessorRules {
        max_chars: 1,
        ..rules()
    };
    assert_eq!(process("hello", "", &[], &tiny), Err(Rejected::Empty));
}

#[test]
fn a_markdown_answer_becomes_one_chat_line() {
    let raw = "## My top 3\n\n1. **Hades** – great combat\n2. *Celeste*\n3. `Tunic`\n\nEnjoy!";
    assert_eq!(
        run(raw).as_deref(),
        Ok("My top 3 Hades – great combat, Celeste, Tunic Enjoy!")
    );
    let code = "Try this:\n```python\nprint('hi')\n```\nThat prints hi.";
    assert_eq!(
        run(code).as_deref(),
        Ok("Try this: print('hi') That prints hi.")
    );
    let plain = ProcessorRules {
        strip_markdown: false,
        ..rules()
    };
    assert_eq!(
        process("**bold**\nline", "", &[], &plain).as_deref(),
        Ok("**bold** line")
    );
}

#[test]
fn a_long_paragraph_is_cut_on_a_sentence() {
    let raw = "Hades is a roguelike from Supergiant Games. You play Zagreus, the son of Hades, \
               escaping the underworld. Every run is different, with boons from the gods of \
               Olympus. The story moves on each time you die, which is clever. The music by \
               Darren Korb is fantastic. The art by Jen Zee is gorgeous too. It won many awards \
               in 2020, including game of the year from several outlets. There is also a sequel \
               in early access that adds a new heroine and many more weapons to master.";
    let r = ProcessorRules {
        max_chars: 200,
        ..rules()
    };
    let out = process(raw, "", &[], &r).unwrap();
    assert_eq!(
        out,
        "Hades is a roguelike from Supergiant Games. You play Zagreus, the son of Hades, \
         escaping the underworld. Every run is different, with boons from the gods of Olympus."
    );
    assert!(out.chars().count() <= 200);
    let hard = ProcessorRules {
        truncation: Truncation::Hard,
        ..r
    };
    let out = process(raw, "", &[], &hard).unwrap();
    assert!((195..=200).contains(&out.chars().count()), "{out}");
    assert!(out.ends_with('…'));
}

#[test]
fn an_emoji_heavy_answer_at_the_limit() {
    let unit = "🎉👨\u{200D}👩\u{200D}👧🇩🇪👍🏽 ";
    let raw = unit.repeat(60);
    for max in [20, 21, 22, 23, 24, 25, 400, 500] {
        let r = ProcessorRules {
            max_chars: max,
            truncation: Truncation::Hard,
            ..rules()
        };
        let out = process(&raw, "", &[], &r).unwrap();
        assert!(out.chars().count() <= max, "{max}: {out}");
        assert!(out.ends_with('…'), "{max}");
        let body = out.trim_end_matches('…').trim_end();
        assert!(raw.starts_with(body), "{max}: a prefix of whole pictures");
        assert!(
            !body.ends_with('\u{200D}') && !body.ends_with('🇩'),
            "{max}: {body:?}"
        );
    }
    let exact = "🎉".repeat(400);
    assert_eq!(
        run(&exact).as_deref(),
        Ok(exact.as_str()),
        "400 fit exactly"
    );
}

#[test]
fn echoes_and_duplicates_are_refused_through_the_pipeline() {
    let r = rules();
    assert_eq!(
        process("CueBot: What is Rust?", "@CueBot what is rust?", &[], &r),
        Err(Rejected::Echo)
    );
    assert_eq!(
        process("Rust is a language.", "@CueBot what is rust?", &[], &r).as_deref(),
        Ok("Rust is a language.")
    );
    let recent = vec!["Welcome in, Bob! Grab a snack and enjoy the stream.".to_string()];
    assert_eq!(
        process(
            "**Welcome in Bob!** Grab a snack and enjoy the stream",
            "",
            &recent,
            &r
        ),
        Err(Rejected::Duplicate)
    );
    let lenient = ProcessorRules {
        dedup: false,
        echo_check: false,
        ..rules()
    };
    assert!(process("what is rust", "what is rust", &recent, &lenient).is_ok());
    assert!(process(&recent[0], "", &recent, &lenient).is_ok());
}

#[test]
fn filters_run_inside_the_pipeline() {
    let r = ProcessorRules {
        filters: filters(&[("darn", false, None), ("heck", false, Some("h*ck"))]),
        ..rules()
    };
    assert_eq!(
        process("**d\u{200B}arn** it", "", &[], &r),
        Err(Rejected::Filtered {
            rule: "darn".into()
        }),
        "markup and invisible characters do not hide a word"
    );
    assert_eq!(
        process("what the heck", "", &[], &r).as_deref(),
        Ok("what the h*ck")
    );
}

#[test]
fn rejections_read_as_sentences() {
    assert_eq!(
        Rejected::Empty.to_string(),
        "the answer was empty once cleaned up"
    );
    assert_eq!(
        Rejected::Filtered {
            rule: "darn".into()
        }
        .to_string(),
        "the answer matched the filter `darn`"
    );
    assert_eq!(
        Rejected::Echo.to_string(),
        "the answer only repeated the question"
    );
    assert_eq!(
        Rejected::Duplicate.to_string(),
        "the answer repeated one of the co-host's recent replies"
    );
}

#[test]
fn a_huge_answer_is_read_only_in_part() {
    let raw = "word ".repeat(100_000);
    let out = run(&raw).unwrap();
    assert!(out.chars().count() <= 400 && out.ends_with('…'));
    let markup = format!("{}visible", "\n".repeat(50_000));
    assert_eq!(
        run(&markup),
        Err(Rejected::Empty),
        "the text after the cap is not read"
    );
}

#[test]
fn pathological_markup_is_read_in_bounded_time() {
    let cases = [
        "[".repeat(5_000),
        "[a](".repeat(2_000),
        "![".repeat(3_000),
        "*a".repeat(3_000),
        "**a_".repeat(2_000),
        (1..90).map(|n| "`".repeat(n) + "x").collect::<String>(),
        "<https://".repeat(1_000),
        "- a\n".to_string() + &"\n".repeat(5_000) + "- b",
        "|".repeat(5_000),
        "\\".repeat(5_000),
    ];
    let started = std::time::Instant::now();
    for raw in &cases {
        let _ = run(raw);
    }
    // Generous for a debug build on a busy machine; quadratic work would take minutes.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Hostile text: anything, or what tends to break things (markup, commands, invisibles,
/// controls, emoji pieces).
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,600}",
        proptest::collection::vec(
            prop_oneof![
                Just("/"),
                Just("."),
                Just(" "),
                Just("\n"),
                Just("\r"),
                Just("\t"),
                Just("\u{0}"),
                Just("\u{7}"),
                Just("\u{200B}"),
                Just("\u{FEFF}"),
                Just("\u{200D}"),
                Just("\u{202E}"),
                Just("\u{3164}"),
                Just("\u{2800}"),
                Just("\u{301}"),
                Just("🏽"),
                Just("🇩"),
                Just("👨"),
                Just("…"),
                Just("*"),
                Just("**"),
                Just("_"),
                Just("`"),
                Just("```"),
                Just("~~"),
                Just("#"),
                Just("> "),
                Just("- "),
                Just("1. "),
                Just("|"),
                Just("["),
                Just("]"),
                Just("("),
                Just(")"),
                Just("!"),
                Just("<"),
                Just(">"),
                Just("\\"),
                Just(":"),
                Just("\""),
                Just("'"),
                Just("CueBot:"),
                Just("/ban "),
                Just(".timeout "),
                Just("word"),
                Just("darn"),
                Just("é"),
                Just("?"),
            ],
            0..120,
        )
        .prop_map(|parts| parts.concat()),
    ]
}

fn any_rules() -> impl Strategy<Value = ProcessorRules> {
    (
        0usize..=600,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(max_chars, hard, markdown, dedup, echo, with_filters)| ProcessorRules {
                max_chars,
                truncation: if hard {
                    Truncation::Hard
                } else {
                    Truncation::Sentence
                },
                strip_markdown: markdown,
                filters: if with_filters {
                    filters(&[
                        ("darn", false, None),
                        ("word", false, Some("\u{200B}/ban\n.")),
                        (r"\d+", true, Some("#")),
                    ])
                } else {
                    CompiledFilters::default()
                },
                dedup,
                echo_check: echo,
                bot_name: "CueBot".into(),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn whatever_the_model_says_the_result_is_safe(
        raw in hostile(),
        question in hostile(),
        recent in proptest::collection::vec(hostile(), 0..3),
        rules in any_rules(),
    ) {
        if let Ok(out) = process(&raw, &question, &recent, &rules) {
            prop_assert!(has_content(&out), "{out:?}");
            prop_assert!(!out.chars().any(char::is_control), "{out:?}");
            let first = out.chars().next().unwrap();
            prop_assert!(
                !(first == '/' || first == '.' || first.is_whitespace() || is_invisible(first)),
                "{out:?}"
            );
            prop_assert!(out.chars().count() <= rules.max_chars.min(MAX_CHARS), "{out:?}");
            prop_assert_eq!(sanitise_outgoing(&out), Some(out.clone()));
        }
    }

    #[test]
    fn truncate_never_exceeds_its_limit(text in hostile(), max in 0usize..80, hard in any::<bool>()) {
        let mode = if hard { Truncation::Hard } else { Truncation::Sentence };
        let out = truncate(&text, max, mode);
        prop_assert!(out.chars().count() <= max);
        if text.chars().count() <= max {
            prop_assert_eq!(&out, &text);
        } else {
            let kept = out.strip_suffix('…').unwrap_or(&out);
            prop_assert!(text.starts_with(kept), "{out:?} from {text:?}");
        }
    }

    #[test]
    fn collapse_leaves_one_line(text in hostile()) {
        let out = collapse_newlines(&text);
        prop_assert!(!out.contains('\n') && !out.contains('\r'));
        prop_assert!(!out.contains("  ") && out.trim() == out);
        prop_assert_eq!(
            out.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>()
        );
    }

    #[test]
    fn markdown_stripping_never_panics_and_keeps_plain_words(
        text in hostile(),
        plain in "[a-zA-Z0-9,!?]{1,12}( [a-zA-Z0-9,!?]{1,12}){0,10}",
    ) {
        let _ = strip_markdown(&text);
        prop_assert_eq!(strip_markdown(&plain), plain);
    }

    #[test]
    fn a_replaced_keyword_is_gone(text in hostile()) {
        let f = filters(&[("darn", false, Some("d-rn"))]);
        let out = apply_filters(&text, &f).unwrap();
        let again = filters(&[("darn", false, None)]);
        prop_assert!(apply_filters(&out, &again).is_ok(), "{out:?}");
    }

    #[test]
    fn a_question_echoes_itself_and_an_answer_repeats_itself(text in hostile()) {
        let has_words = !words(&text).is_empty();
        prop_assert_eq!(is_echo(&text, &text), has_words);
        prop_assert!(!is_echo(&text, ""));
        prop_assert!(is_duplicate(&text, std::slice::from_ref(&text)));
        prop_assert!(!is_duplicate(&text, &[]));
    }
}
