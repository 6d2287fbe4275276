//! The server side of the IRC conversation: parsing a client line and answering it.

use std::fmt::Write as _;
use std::time::Instant;

use super::{normalise_channel, room_id, Login, Shared, State, SERVER};

pub(super) enum Flow {
    Continue,
    Close,
}

/// One client line: `(COMMAND in upper case, params)`; tags and prefix are skipped.
pub fn parse_client_line(line: &str) -> Option<(String, Vec<String>)> {
    let mut rest = line.trim_start_matches(' ');
    if rest.starts_with('@') {
        rest = rest.split_once(' ')?.1.trim_start_matches(' ');
    }
    if rest.starts_with(':') {
        rest = rest.split_once(' ')?.1.trim_start_matches(' ');
    }
    let (command, mut params_src) = match rest.split_once(' ') {
        Some((c, p)) => (c, p),
        None => (rest, ""),
    };
    if command.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    loop {
        params_src = params_src.trim_start_matches(' ');
        if params_src.is_empty() {
            break;
        }
        if let Some(trailing) = params_src.strip_prefix(':') {
            params.push(trailing.to_string());
            break;
        }
        match params_src.split_once(' ') {
            Some((p, r)) => {
                params.push(p.to_string());
                params_src = r;
            }
            None => {
                params.push(params_src.to_string());
                break;
            }
        }
    }
    Some((command.to_ascii_uppercase(), params))
}

pub(super) fn handle_line(shared: &Shared, id: u64, line: &str, out: &mut String) -> Flow {
    let mut st = shared.lock();
    st.received.push((id, line.to_string()));
    st.received_at.push(Instant::now());
    let Some((command, params)) = parse_client_line(line) else {
        return Flow::Continue;
    };
    let param = |i: usize| params.get(i).map(String::as_str).unwrap_or("");
    let State {
        conns,
        rejected_tokens,
        silent_tokens,
        joins,
        logins,
        ..
    } = &mut *st;
    let Some(conn) = conns.get_mut(&id) else {
        return Flow::Close;
    };
    let nick_shown = conn.nick.clone().unwrap_or_else(|| "*".into());
    match command.as_str() {
        "CAP" => match param(0).to_ascii_uppercase().as_str() {
            "REQ" => {
                let caps = param(1);
                if caps.split(' ').any(|c| c == "twitch.tv/tags") {
                    conn.tags = true;
                }
                let _ = write!(out, ":{SERVER} CAP * ACK :{caps}\r\n");
            }
            "LS" => {
                let _ = write!(
                    out,
                    ":{SERVER} CAP * LS :twitch.tv/tags twitch.tv/commands twitch.tv/membership\r\n"
                );
            }
            _ => {}
        },
        "PASS" => conn.pass = Some(param(0).to_string()),
        "NICK" => {
            if conn.registered {
                return Flow::Continue;
            }
            let nick = param(0).trim().to_ascii_lowercase();
            let token = conn
                .pass
                .as_deref()
                .map(|p| p.strip_prefix("oauth:").unwrap_or(p).to_string());
            let refusal = match &token {
                Some(t) if t.is_empty() || rejected_tokens.contains(t) => {
                    Some("Login authentication failed")
                }
                Some(_) => None,
                None if nick.starts_with("justinfan") => None,
                None => Some("Improperly formatted auth"),
            };
            let dropped_silently = token.as_ref().is_some_and(|t| silent_tokens.contains(t));
            logins.push(Login {
                conn: id,
                nick: nick.clone(),
                token,
                accepted: refusal.is_none(),
            });
            if dropped_silently {
                return Flow::Close;
            }
            if let Some(text) = refusal {
                let _ = write!(out, ":{SERVER} NOTICE * :{text}\r\n");
                return Flow::Close;
            }
            conn.nick = Some(nick.clone());
            conn.registered = true;
            for (code, text) in [
                ("001", "Welcome, GLHF!"),
                ("002", "Your host is tmi.twitch.tv"),
                ("003", "This server is rather new"),
                ("004", "-"),
                ("375", "-"),
                ("372", "You are in a maze of twisty passages, all alike."),
                ("376", ">"),
            ] {
                let _ = write!(out, ":{SERVER} {code} {nick} :{text}\r\n");
            }
        }
        "USER" | "PONG" | "PRIVMSG" => {}
        "PING" => {
            let _ = write!(out, ":{SERVER} PONG {SERVER} :{}\r\n", param(0));
        }
        "JOIN" => {
            let Some(nick) = conn.nick.clone().filter(|_| conn.registered) else {
                let _ = write!(
                    out,
                    ":{SERVER} 451 {nick_shown} JOIN :You have not registered\r\n"
                );
                return Flow::Continue;
            };
            for target in param(0).split(',') {
                let channel = normalise_channel(target);
                if !target.starts_with('#') || !is_valid_login(&channel) {
                    continue;
                }
                conn.channels.insert(channel.clone());
                joins.push((id, channel.clone()));
                let _ = write!(out, ":{nick}!{nick}@{nick}.{SERVER} JOIN #{channel}\r\n");
                let _ = write!(out, ":{nick}.{SERVER} 353 {nick} = #{channel} :{nick}\r\n");
                let _ = write!(
                    out,
                    ":{nick}.{SERVER} 366 {nick} #{channel} :End of /NAMES list\r\n"
                );
                if conn.tags {
                    let _ = write!(
                        out,
                        "@emote-only=0;followers-only=-1;r9k=0;room-id={};slow=0;subs-only=0 :{SERVER} ROOMSTATE #{channel}\r\n",
                        room_id(&channel)
                    );
                }
            }
        }
        "PART" => {
            let nick = conn.nick.clone().unwrap_or_default();
            for target in param(0).split(',') {
                let channel = normalise_channel(target);
                if conn.channels.remove(&channel) {
                    let _ = write!(out, ":{nick}!{nick}@{nick}.{SERVER} PART #{channel}\r\n");
                }
            }
        }
        "QUIT" => return Flow::Close,
        other => {
            let _ = write!(
                out,
                ":{SERVER} 421 {nick_shown} {other} :Unknown command\r\n"
            );
        }
    }
    Flow::Continue
}

fn is_valid_login(s: &str) -> bool {
    (1..=25).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}
