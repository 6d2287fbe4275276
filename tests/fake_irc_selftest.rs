//! Checks of the fake Twitch IRC server itself (`streamcue_testkit::fake_irc`), with a raw
//! socket client and twitch-irc's own parser.

use std::time::Duration;

use streamcue_testkit::fake_irc::{emotes_tag, sample_privmsg, FakeIrc, Privmsg, EMOTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use twitch_irc::message::{IRCMessage, ServerMessage};

const T: Duration = Duration::from_secs(5);

fn parse(line: &str) -> ServerMessage {
    let irc = IRCMessage::parse(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    ServerMessage::try_from(irc).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn sample_lines_are_privmsgs_twitch_irc_understands() {
    let (mut with_emotes, mut non_ascii, mut actions, mut mods, mut subs) = (0, 0, 0, 0, 0);
    for n in 0..2000 {
        let line = sample_privmsg("#Some_Channel", n);
        let ServerMessage::Privmsg(m) = parse(&line) else {
            panic!("not a PRIVMSG: {line}")
        };
        assert_eq!(m.channel_login, "some_channel");
        assert!(
            !m.message_text.is_empty() && !m.sender.name.is_empty() && !m.message_id.is_empty()
        );
        for e in &m.emotes {
            assert!(
                EMOTES
                    .iter()
                    .any(|(code, id)| *code == e.code && *id == e.id),
                "{e:?} in {line}"
            );
        }
        with_emotes += usize::from(!m.emotes.is_empty());
        non_ascii += usize::from(!m.message_text.is_ascii() || !m.sender.name.is_ascii());
        actions += usize::from(m.is_action);
        mods += usize::from(m.badges.iter().any(|b| b.name == "moderator"));
        subs += usize::from(m.badges.iter().any(|b| b.name == "subscriber"));
    }
    for (what, count) in [
        ("emotes", with_emotes),
        ("non-ASCII", non_ascii),
        ("/me", actions),
        ("moderators", mods),
        ("subscribers", subs),
    ] {
        assert!(count >= 20, "only {count} lines with {what}");
    }
}

#[test]
fn builder_escapes_tags_and_places_emotes() {
    assert_eq!(
        emotes_tag("Kappa hi Kappa <3 PogChamp"),
        "25:0-4,9-13/555555584:15-16/305954156:18-25"
    );
    assert_eq!(
        emotes_tag("ünï Kappa"),
        "25:4-8",
        "indices count characters, not bytes"
    );
    assert_eq!(emotes_tag("noKappa Kappa2"), "");
    let line = Privmsg::new("chan", "Zoe", "hé Kappa")
        .display_name("Zoë; the \\ one")
        .subscriber(14)
        .moderator()
        .line();
    let ServerMessage::Privmsg(m) = parse(&line) else {
        panic!("{line}")
    };
    assert_eq!(m.sender.name, "Zoë; the \\ one");
    assert_eq!(m.sender.login, "zoe");
    assert_eq!(m.emotes.len(), 1);
    assert_eq!(m.emotes[0].code, "Kappa");
    assert!(m.badges.iter().any(|b| b.name == "moderator"));
    assert_eq!(m.badge_info[0].version, "14");
}

/// Reads from `s` until `pred` holds on everything read so far (or EOF / timeout).
async fn read_until(s: &mut TcpStream, buf: &mut String, pred: impl Fn(&str) -> bool) -> bool {
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(T, async {
        while !pred(buf) {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => buf.push_str(&String::from_utf8_lossy(&chunk[..n])),
            }
        }
        true
    })
    .await
    .unwrap_or(false)
}

async fn at_eof(s: &mut TcpStream) -> bool {
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(T, async {
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await
    .unwrap_or(false)
}

#[tokio::test]
async fn speaks_the_protocol_to_a_raw_client_whatever_the_packets() {
    let fake = FakeIrc::start().await.unwrap();
    let mut s = TcpStream::connect(fake.addr()).await.unwrap();
    // Several lines in one packet, one line across packets, junk in between.
    s.write_all(b"CAP REQ :twitch.tv/tags twitch.tv/commands\r\nNICK justinfan4242\r\nJO")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    s.write_all(
        b"IN #Abc,#b\xc3\xa9d,bad\r\n\xff\xfe\xfd\r\n\r\n\n   \r\n:only.prefix\r\n@\r\nWHAT\r\n",
    )
    .await
    .unwrap();
    s.write_all(&[b'x'; 10_000]).await.unwrap();
    s.write_all(b"\nPING :tmi.twitch.tv\n").await.unwrap();
    let mut got = String::new();
    assert!(
        read_until(&mut s, &mut got, |b| b.contains("PONG")
            && b.contains("ROOMSTATE"))
        .await,
        "{got}"
    );
    for expected in [
        ":tmi.twitch.tv CAP * ACK :twitch.tv/tags twitch.tv/commands\r\n",
        ":tmi.twitch.tv 001 justinfan4242 :Welcome, GLHF!\r\n",
        ":tmi.twitch.tv 376 justinfan4242 :>\r\n",
        ":justinfan4242!justinfan4242@justinfan4242.tmi.twitch.tv JOIN #abc\r\n",
        ":justinfan4242.tmi.twitch.tv 353 justinfan4242 = #abc :justinfan4242\r\n",
        ":justinfan4242.tmi.twitch.tv 366 justinfan4242 #abc :End of /NAMES list\r\n",
        " :tmi.twitch.tv ROOMSTATE #abc\r\n",
        ":tmi.twitch.tv 421 justinfan4242 WHAT :Unknown command\r\n",
        ":tmi.twitch.tv PONG tmi.twitch.tv :tmi.twitch.tv\r\n",
    ] {
        assert!(got.contains(expected), "missing {expected:?} in {got}");
    }
    assert_eq!(
        fake.all_joins().len(),
        1,
        "invalid channel names are not joined"
    );
    assert_eq!(fake.joins("#ABC"), 1);
    for line in got.lines() {
        parse(line); // everything the server says, twitch-irc can read
    }

    // Chat goes to joined connections only.
    let line = sample_privmsg("abc", 7);
    assert_eq!(fake.broadcast("abc", &line), 1);
    assert_eq!(fake.broadcast("other", &line), 0);
    got.clear();
    assert!(read_until(&mut s, &mut got, |b| b.ends_with("\r\n")).await);
    assert_eq!(got, format!("{line}\r\n"));

    // RECONNECT, then a drop: the client sees the line, then EOF.
    assert_eq!(fake.send_reconnect(), 1);
    assert_eq!(fake.drop_all(), 1);
    got.clear();
    assert!(read_until(&mut s, &mut got, |b| b.contains("RECONNECT")).await);
    assert!(at_eof(&mut s).await);
    assert!(fake.wait_open(0, T).await);

    // A client that never ends its line is cut off.
    let mut s = TcpStream::connect(fake.addr()).await.unwrap();
    let _ = s.write_all(&vec![b'A'; 70 * 1024]).await;
    assert!(
        at_eof(&mut s).await,
        "over-long input closes the connection"
    );
    assert!(fake.wait_open(0, T).await);
    assert_eq!(fake.connections_total(), 2);
}

#[tokio::test]
async fn refuses_bad_logins_like_twitch_and_refuses_connections_on_demand() {
    let fake = FakeIrc::start().await.unwrap();
    fake.reject_token("oauth:nope");
    for (login, notice) in [
        (
            &b"PASS oauth:nope\r\nNICK someone\r\nJOIN #x\r\n"[..],
            "Login authentication failed",
        ),
        (
            &b"NICK someone\r\nJOIN #x\r\n"[..],
            "Improperly formatted auth",
        ),
    ] {
        let mut s = TcpStream::connect(fake.addr()).await.unwrap();
        s.write_all(login).await.unwrap();
        let mut got = String::new();
        assert!(
            read_until(&mut s, &mut got, |b| b.contains("NOTICE")).await,
            "{got}"
        );
        assert_eq!(got, format!(":tmi.twitch.tv NOTICE * :{notice}\r\n"));
        assert!(at_eof(&mut s).await);
    }
    assert_eq!(fake.joins("x"), 0);
    let logins = fake.logins();
    assert_eq!(logins.len(), 2);
    assert!(logins.iter().all(|l| !l.accepted && l.nick == "someone"));
    assert_eq!(logins[0].token.as_deref(), Some("nope"));

    // A good token is welcome.
    let mut s = TcpStream::connect(fake.addr()).await.unwrap();
    s.write_all(b"PASS oauth:fine\r\nNICK Someone\r\nJOIN #x\r\n")
        .await
        .unwrap();
    let mut got = String::new();
    assert!(
        read_until(&mut s, &mut got, |b| b.contains(" JOIN #x\r\n")).await,
        "{got}"
    );
    assert!(fake.logins()[2].accepted);

    fake.set_refuse(true);
    let mut s2 = TcpStream::connect(fake.addr()).await.unwrap();
    assert!(at_eof(&mut s2).await);
    assert!(fake.wait_until(T, |f| f.refused() == 1).await);
    assert_eq!(
        fake.connections_open(),
        1,
        "the connection made before stays"
    );
    assert_eq!(fake.connections_total(), 4);
    drop(fake);
    assert!(
        at_eof(&mut s).await,
        "dropping the server closes its connections"
    );
}
