//! StreamCue's desktop shell: builds the window and wires it to the core. No logic here.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod ipc;
mod state;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use streamcue::api::CoreEvent;
use streamcue::engine::EngineOptions;
use streamcue::paths::AppPaths;
use streamcue::secrets::KeyringStore;
use streamcue::{logging, Engine, EngineHandle};
use tauri::{Manager, RunEvent};
use tauri_specta::Event;
use tokio::sync::broadcast::error::RecvError;

use state::{EngineLifetime, EngineSlot};

/// WebKitGTK's accelerated compositing repaints the whole window through GL; with software GL
/// (llvmpipe: Xvfb, VMs, many laptops without a working driver) that cost 16 % of a core with
/// nothing moving, against under 3 % without it (scripts/bench-ui.sh). StreamCue's page has no
/// 3-D or video, so it paints without compositing unless the user set the variable themselves.
/// Called first in `main`, before any thread exists.
fn prefer_plain_painting() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

/// Most events sent to the window in one batch.
const MAX_BATCH: usize = 512;

fn main() {
    prefer_plain_painting();
    let data_dir = parse_data_dir(std::env::args().skip(1));
    let paths = match AppPaths::resolve(data_dir.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("StreamCue: {e}");
            std::process::exit(2);
        }
    };
    let (config, _) = streamcue::config::Config::load_or_create(&paths.config_file);
    let _log = logging::init(
        &paths.log_dir,
        config.logging.protocol_debug,
        config.logging.keep_days,
    );
    tracing::info!(data = %paths.data_dir.display(), "StreamCue starting");

    let secrets = Arc::new(KeyringStore::probe());
    let options = EngineOptions::for_app(paths, secrets);
    let (slot, engine) = match tauri::async_runtime::block_on(Engine::start(options)) {
        Ok(engine) => (EngineSlot(Ok(engine.handle())), Some(engine)),
        Err(e) => {
            tracing::error!(error = %e, "engine failed to start");
            (EngineSlot(Err(e.to_string())), None)
        }
    };
    let forward_from = slot.0.as_ref().ok().cloned();

    let specta = ipc::builder();
    let app = tauri::Builder::default()
        .invoke_handler(specta.invoke_handler())
        .manage(slot)
        .manage(EngineLifetime(Mutex::new(engine)))
        .setup(move |app| {
            specta.mount_events(app);
            tauri::async_runtime::spawn(exit_on_signal(app.handle().clone()));
            if let Some(handle) = forward_from {
                tauri::async_runtime::spawn(forward_events(app.handle().clone(), handle));
            }
            Ok(())
        })
        .build(tauri::generate_context!("../tauri.conf.json"))
        .expect("could not build the StreamCue window");

    app.run(|app, event| {
        if let RunEvent::Exit = event {
            let engine = app
                .state::<EngineLifetime>()
                .0
                .lock()
                .ok()
                .and_then(|mut e| e.take());
            if let Some(engine) = engine {
                tauri::async_runtime::block_on(engine.shutdown());
            }
        }
    });
}

/// Forwards core events to the window, batching whatever queued up meanwhile.
async fn forward_events(app: tauri::AppHandle, engine: EngineHandle) {
    let mut rx = engine.events().subscribe();
    loop {
        let first = match rx.recv().await {
            Ok(ev) => ev,
            Err(RecvError::Lagged(_)) => CoreEvent::Resync,
            Err(RecvError::Closed) => return,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(ev) => batch.push(ev),
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {
                    batch.push(CoreEvent::Resync)
                }
                Err(_) => break,
            }
        }
        if let Err(e) = ipc::CoreEvents(batch).emit(&app) {
            tracing::warn!(error = %e, "could not send events to the window");
        }
    }
}

/// SIGTERM / SIGINT (Ctrl-C, a session logout, a test driver) close the app the same way the
/// window's close button does, so the engine shuts down in order and nothing is lost.
async fn exit_on_signal(app: tauri::AppHandle) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: closing"),
            _ = int.recv() => tracing::info!("SIGINT: closing"),
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
    }
    app.exit(0);
}

/// `--data-dir DIR` or `--data-dir=DIR`.
fn parse_data_dir(mut args: impl Iterator<Item = String>) -> Option<PathBuf> {
    while let Some(arg) = args.next() {
        if arg == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
        if let Some(v) = arg.strip_prefix("--data-dir=") {
            return Some(PathBuf::from(v));
        }
    }
    None
}
