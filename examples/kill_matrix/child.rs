//! The processes the driver kills, as this binary re-executed with a mode flag:
//!
//! - `--engine <dir> <irc addr> <offline | paused | generator URL> [<obs port> <obs password>]`: StreamCue's
//!   engine on the data folder `dir` as the app runs it (chat on the fake IRC server as a
//!   logged-in bot, auto-approve on, the app's default reconnect backoff). At start it presses
//!   Retry on every `interrupted` request, as a streamer would after a crash. Its stdout is a
//!   line protocol (its log goes to stderr and to `dir/logs`): `RETRIED n`, `READY`, then one
//!   line per event (`CHAT`, `ITEM`, `PROGRESS`, `OBS`, `CLIP`) and per answer (`CUT_OK`,
//!   `CUT_ERR`, `SHOWN_AGAIN`, `SETUP`); stdin takes `CUT <moment>`, `SHOW <id>`, `OBS_SETUP`,
//!   `QUIT` (a clean shutdown, then `STOPPED`).
//! - `--irc <port>`: the fake Twitch IRC server on 127.0.0.1:`port`. Prints `READY`; stdin
//!   takes `SAY <login> <text>` (sent to the channel once StreamCue has joined; answered
//!   `SAID n`); every "got it!" StreamCue says is printed as `GOT <login>`.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use streamcue::api::{
    ChatSlot, ChatState, ChatTarget, CoreEvent, GeneratorBackend, GeneratorSettingsUpdate,
    ObsConnection, ObsNames, ObsSettingsUpdate, QueueAction, RequestState,
};
use streamcue::paths::AppPaths;
use streamcue::secrets::{MemoryStore, Secret, SecretKey, SecretStore};
use streamcue::{Engine, EngineOptions};
use streamcue_testkit::fake_irc::{parse_client_line, FakeIrc, Privmsg};
use tokio::sync::mpsc;

pub const CHANNEL: &str = "killchan";
pub const BOT: &str = "killbot";
/// Length of an offline render (the core's default is 4 s; 1280x720 is fixed).
pub const CLIP_SECONDS: u32 = 3;

/// The protocol goes to the original stdout; fd 1 becomes stderr for the engine's console log.
static PROTO: std::sync::OnceLock<std::sync::Mutex<std::fs::File>> = std::sync::OnceLock::new();

fn say(line: String) {
    match PROTO.get() {
        Some(f) => {
            let mut f = f.lock().unwrap_or_else(|p| p.into_inner());
            let _ = writeln!(f, "{line}").and_then(|_| f.flush());
        }
        None => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}").and_then(|_| out.flush());
        }
    }
}

fn split_protocol_from_log() {
    use std::os::fd::FromRawFd;
    let _ = std::io::stdout().flush();
    // SAFETY: plain fd juggling on fds this process owns; `proto` is a fresh dup of fd 1.
    unsafe {
        let proto = libc::dup(1);
        if proto < 0 || libc::dup2(2, 1) < 0 {
            return;
        }
        let _ = PROTO.set(std::sync::Mutex::new(std::fs::File::from_raw_fd(proto)));
    }
}

/// Lines of stdin, read on a thread of their own.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if tx.send(line.trim().to_string()).is_err() {
                break;
            }
        }
    });
    rx
}

fn word<T: std::fmt::Debug>(v: &T) -> String {
    let s = format!("{v:?}");
    s.split([' ', '{', '('])
        .next()
        .unwrap_or("?")
        .to_lowercase()
}

fn event_line(event: &CoreEvent) -> Option<String> {
    Some(match event {
        CoreEvent::ChatState {
            slot: ChatSlot::Main,
            state,
        } => format!("CHAT {}", word(state)),
        CoreEvent::QueueItem { item } => {
            format!("ITEM {} {} {}", item.id, item.user_login, word(&item.state))
        }
        CoreEvent::GenerationProgress { progress: p } => {
            format!("PROGRESS {} {} {}", p.id, word(&p.phase), p.bytes)
        }
        CoreEvent::Obs { state } => format!(
            "OBS {} {} {}",
            word(&state.connection),
            state
                .program_scene
                .as_deref()
                .unwrap_or("-")
                .replace(' ', "_"),
            state.showing.map_or("-".to_string(), |s| s.to_string())
        ),
        CoreEvent::Clip { clip } => format!("CLIP {} {}", clip.moment_id, clip.id),
        _ => return None,
    })
}

pub fn engine(args: &[String]) -> Result<(), String> {
    let (dir, irc, generator) = match args {
        [d, i, g, ..] => (Path::new(d), i.clone(), g.clone()),
        _ => return Err("usage: --engine <dir> <irc addr> <generator> [obs port pw]".into()),
    };
    let obs = match &args[3..] {
        [port, pw] => Some((port.parse::<u16>().map_err(|e| e.to_string())?, pw.clone())),
        _ => None,
    };
    split_protocol_from_log();
    let paths = AppPaths::under(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let config = format!(
        "[chat]\ntwitch_login = \"{BOT}\"\n\n[queue]\ncooldown_seconds = 0\nmax_waiting = 500\n\n\
         [generator]\n{}offline_clip_seconds = {CLIP_SECONDS}\n",
        streamcue_testkit::gen_rig::FAST
    );
    std::fs::write(&paths.config_file, config).map_err(|e| e.to_string())?;
    let _log = streamcue::logging::init(&paths.log_dir, false, 1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(run_engine(paths, irc, generator, obs))
}

async fn run_engine(
    paths: AppPaths,
    irc: String,
    generator: String,
    obs: Option<(u16, String)>,
) -> Result<(), String> {
    let secrets = Arc::new(MemoryStore::default());
    secrets
        .set(SecretKey::TwitchToken, &Secret::new("kill_matrix_token"))
        .map_err(|e| e.to_string())?;
    let engine = Engine::start(EngineOptions {
        paths,
        secrets,
        twitch_irc_addr: Some(irc),
        backoff: streamcue::chat::Backoff::default(),
        local_server: streamcue::server::PortChoice::Fixed(None),
        ui_assets: None,
    })
    .await
    .map_err(|e| format!("Engine::start: {e}"))?;
    let h = engine.handle();
    let mut bus = h.events().subscribe();
    if generator == "paused" {
        let paused = h.generator().set_paused(true).await;
        paused.map_err(|e| format!("pause: {e:?}"))?;
    }
    let backend = if generator == "offline" || generator == "paused" {
        GeneratorBackend::Offline
    } else {
        GeneratorBackend::Remote
    };
    let base_url = if backend == GeneratorBackend::Offline {
        String::new()
    } else {
        generator
    };
    let update = GeneratorSettingsUpdate {
        backend,
        base_url,
        timeout_seconds: 60,
        modal_key: None,
        modal_secret: None,
    };
    let gen = h.generator().update_settings(update).await;
    gen.map_err(|e| format!("generator settings: {e:?}"))?;
    if let Some((port, password)) = obs {
        let update = ObsSettingsUpdate {
            enabled: true,
            host: "127.0.0.1".into(),
            port,
            password: Some(password),
            names: ObsNames::default(),
        };
        let set = h.obs().update_settings(update).await;
        set.map_err(|e| format!("OBS settings: {e:?}"))?;
    }
    let queue = h.queue().clone();
    queue
        .set_auto_approve(true)
        .await
        .map_err(|e| format!("auto-approve: {e:?}"))?;
    // What a streamer does after a crash: Retry on what the restart marked interrupted.
    let view = queue.view().await.map_err(|e| format!("queue: {e:?}"))?;
    let mut retried = 0;
    for item in view
        .items
        .iter()
        .filter(|i| i.state == RequestState::Interrupted)
    {
        if queue.act(item.id, QueueAction::Retry).await.is_ok() {
            retried += 1;
        }
    }
    say(format!("RETRIED {retried}"));
    let target = ChatTarget::Twitch {
        channel: CHANNEL.into(),
    };
    h.connect_chat(target)
        .await
        .map_err(|e| format!("connect: {e:?}"))?;
    let connected = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Ok(snap) = h.snapshot().await {
                let state = snap.chat(ChatSlot::Main).map(|c| &c.state);
                if matches!(state, Some(ChatState::Connected { .. })) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    connected
        .await
        .map_err(|_| "chat not connected within 20 s".to_string())?;
    say("READY".into());

    let mut input = stdin_lines();
    loop {
        tokio::select! {
            event = bus.recv() => match event {
                Ok(e) => if let Some(line) = event_line(&e) { say(line) },
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => say(format!("LAGGED {n}")),
                Err(_) => break,
            },
            line = input.recv() => {
                let Some(line) = line else { break };
                let mut parts = line.split_whitespace();
                match (parts.next(), parts.next().and_then(|v| v.parse::<i32>().ok())) {
                    (Some("QUIT"), _) => break,
                    (Some("CUT"), Some(moment)) => {
                        let recorder = h.recorder().clone();
                        tokio::spawn(async move {
                            match recorder.cut(moment).await {
                                Ok(c) => say(format!("CUT_OK {moment} {}", c.id)),
                                Err(e) => say(format!("CUT_ERR {moment} {:?}", e.code)),
                            }
                        });
                    }
                    (Some("SHOW"), Some(id)) => {
                        let shown = queue.act(id, QueueAction::ShowAgain).await;
                        say(format!("SHOWN_AGAIN {id} {}", u8::from(shown.is_ok())));
                    }
                    (Some("OBS_SETUP"), _) => {
                        let report = h.obs().set_up().await;
                        let created = report.as_ref().map_or(0, |r| r.created.len());
                        say(format!("SETUP {} {created}", u8::from(report.is_ok())));
                    }
                    _ => say(format!("UNKNOWN {line}")),
                }
            }
        }
    }
    engine.shutdown().await;
    say("STOPPED".into());
    Ok(())
}

/// Whether `s` is an OBS connection state word (as [`event_line`] writes it) for "connected".
pub fn obs_connected(word: &str) -> bool {
    word == word_of_connected()
}

fn word_of_connected() -> String {
    word(&ObsConnection::Connected {
        obs_version: String::new(),
        websocket_version: String::new(),
    })
}

pub fn irc(args: &[String]) -> Result<(), String> {
    let port: u16 = args
        .first()
        .and_then(|p| p.parse().ok())
        .ok_or("usage: --irc <port>")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let irc = FakeIrc::start_on_port(port)
            .await
            .map_err(|e| format!("bind 127.0.0.1:{port}: {e}"))?;
        say("READY".into());
        let mut input = stdin_lines();
        let mut seen = 0;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            tokio::select! {
                line = input.recv() => {
                    let Some(line) = line else { break };
                    let mut parts = line.splitn(3, ' ');
                    if let (Some("SAY"), Some(login), Some(text)) = (parts.next(), parts.next(), parts.next()) {
                        irc.wait_joins(CHANNEL, 1, Duration::from_secs(5)).await;
                        let sent = irc.broadcast(CHANNEL, &Privmsg::new(CHANNEL, login, text).line());
                        say(format!("SAID {sent}"));
                    }
                }
                _ = tick.tick() => {
                    let got = irc.received();
                    for line in got.iter().skip(seen) {
                        let Some((cmd, params)) = parse_client_line(line) else { continue };
                        let text = params.get(1).map(|t| t.trim_start_matches(". ")).unwrap_or("");
                        if cmd == "PRIVMSG" && text.contains(" got it!") {
                            let login = text.trim_start_matches('@').split(' ').next().unwrap_or("");
                            say(format!("GOT {login}"));
                        }
                    }
                    seen = got.len();
                }
            }
        }
        Ok(())
    })
}
