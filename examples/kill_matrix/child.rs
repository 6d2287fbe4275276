//! The processes the kill matrix kills: StreamCue's engine on a data folder (as the app runs
//! it: chat on the driver's fake IRC server, auto-approve, a generator), and a clip cut.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use streamcue::api::{ChatTarget, GeneratorBackend, GeneratorSettingsUpdate};
use streamcue::paths::AppPaths;
use streamcue::secrets::{MemoryStore, Secret, SecretKey, SecretStore};
use streamcue::{Engine, EngineOptions};

pub const CHANNEL: &str = "killchan";
pub const BOT: &str = "killbot";

/// `--engine <dir> <irc addr> <offline | generator URL>`: prints `READY` once chat is joined;
/// a line `QUIT` on stdin (or stdin closing) shuts the engine down cleanly.
pub fn engine(dir: &Path, irc: &str, generator: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let paths = AppPaths::under(dir);
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        std::fs::write(
            &paths.config_file,
            format!(
                "[chat]\ntwitch_login = \"{BOT}\"\n\n[queue]\ncooldown_seconds = 0\nmax_waiting = 500\n\n[generator]\nretry_backoff_ms = 50\nprobe_every_seconds = 0\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        let secrets = Arc::new(MemoryStore::default());
        secrets
            .set(SecretKey::TwitchToken, &Secret::new("kill_matrix_token"))
            .map_err(|e| e.to_string())?;
        let engine = Engine::start(EngineOptions {
            paths,
            secrets,
            twitch_irc_addr: Some(irc.to_string()),
            backoff: streamcue::chat::Backoff {
                base: Duration::from_millis(100),
                cap: Duration::from_secs(2),
            },
            local_server: streamcue::server::PortChoice::Fixed(None),
            ui_assets: None,
        })
        .await
        .map_err(|e| format!("Engine::start: {e}"))?;
        let handle = engine.handle();
        if generator != "offline" {
            handle
                .generator()
                .update_settings(GeneratorSettingsUpdate {
                    backend: GeneratorBackend::Remote,
                    base_url: generator.into(),
                    timeout_seconds: 60,
                    modal_key: None,
                    modal_secret: None,
                })
                .await
                .map_err(|e| format!("generator settings: {e:?}"))?;
        }
        handle
            .queue()
            .set_auto_approve(true)
            .await
            .map_err(|e| format!("auto-approve: {e:?}"))?;
        handle
            .connect_chat(ChatTarget::Twitch {
                channel: CHANNEL.into(),
            })
            .await
            .map_err(|e| format!("connect: {e:?}"))?;
        println!("READY");
        let _ = std::io::stdout().flush();
        // Wait for QUIT (or the end of stdin) on a blocking thread.
        let _ = tokio::task::spawn_blocking(|| {
            let stdin = std::io::stdin();
            for line in stdin.lock().lines() {
                match line {
                    Ok(l) if l.trim() == "QUIT" => return,
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        })
        .await;
        engine.shutdown().await;
        println!("STOPPED");
        Ok(())
    })
}

/// `--cut <recording> <out dir> <stem>`: the app's clip cutter, 40 s from 5 s in.
pub fn cut(recording: &Path, out_dir: &Path, stem: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let req = streamcue::recorder::cut::CutRequest::new(
            recording,
            Duration::from_secs(5),
            Duration::from_secs(45),
            out_dir,
            stem,
        );
        println!("CUTTING");
        let _ = std::io::stdout().flush();
        streamcue::recorder::cut::cut_clip(&req)
            .await
            .map(|c| println!("DONE {}", c.path.display()))
            .map_err(|e| e.to_string())
    })
}
