//! StreamCue's desktop shell: builds the window and wires it to the core. No logic here.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod desktop;
mod ipc;
mod state;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use streamcue::api::CoreEvent;
use streamcue::desktop::DesktopSettings;
use streamcue::engine::EngineOptions;
use streamcue::paths::AppPaths;
use streamcue::secrets::KeyringStore;
use streamcue::{logging, Engine, EngineHandle};
use tauri::{Manager, RunEvent, WindowEvent};
use tauri_plugin_window_state::StateFlags;
use tauri_specta::Event;
use tokio::sync::broadcast::error::RecvError;

use desktop::Desktop;
use state::{EngineLifetime, EngineSlot, StartAgain};

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
    // `streamcue clip …` is the command-line clip tool: no window, no database.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let Some(status) = streamcue::cli::run_if_asked(&args) {
        std::process::exit(status);
    }
    prefer_plain_painting();
    let data_dir = parse_data_dir(std::env::args().skip(1));
    let paths = match AppPaths::resolve(data_dir.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("StreamCue: {e}");
            std::process::exit(2);
        }
    };
    // Private before anything is written into them (the log folder first of all).
    let not_private = paths.make_private();
    let (config, _) = streamcue::config::Config::load_or_create(&paths.config_file);
    let _log = logging::init(
        &paths.log_dir,
        config.logging.protocol_debug,
        config.logging.keep_days,
    );
    for problem in not_private {
        tracing::warn!(%problem, "StreamCue's folders could not be made private");
    }
    // One StreamCue per data folder: a second launch raises this window and exits (status 0)
    // before it opens anything, the database included.
    let single_instance = tauri_plugin_single_instance::Builder::new()
        .dbus_id(format!("app.streamcue.desktop.i{}", paths.instance_id()))
        .callback(|app, _argv, _cwd| {
            tracing::info!("StreamCue was started again: showing this window");
            desktop::show_window(app);
        })
        .build();
    // Size, place and maximised state come back; visibility does not (a window hidden in the
    // tray at Quit opens normally next time).
    let window_state = tauri_plugin_window_state::Builder::new()
        .with_filename(
            paths
                .data_dir
                .join("window-state.json")
                .display()
                .to_string(),
        )
        .with_state_flags(StateFlags::all() - StateFlags::VISIBLE)
        .build();

    let specta = ipc::builder();
    let app = tauri::Builder::default()
        .plugin(single_instance)
        .plugin(window_state)
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(specta.invoke_handler())
        .setup(move |app| {
            specta.mount_events(app);
            tracing::info!(data = %paths.data_dir.display(), "StreamCue starting");
            let again = StartAgain {
                paths,
                secrets: Arc::new(KeyringStore::probe()),
                // The local server's overlay page comes from the UI files embedded here.
                ui_assets: Arc::new(EmbeddedUi(app.handle().clone())),
            };
            let (slot, engine) = match tauri::async_runtime::block_on(start_engine(&again)) {
                Ok(engine) => (EngineSlot::new(Ok(engine.handle())), Some(engine)),
                Err(e) => (EngineSlot::new(Err(e)), None),
            };
            app.manage(again);
            let forward_from = slot.get().ok();
            let settings = match &forward_from {
                Some(engine) => {
                    tauri::async_runtime::block_on(engine.desktop().settings()).unwrap_or_default()
                }
                None => DesktopSettings::default(),
            };
            app.manage(Desktop::new(settings));
            app.manage(slot);
            app.manage(EngineLifetime(Mutex::new(engine)));
            // The window is made here, after the engine's state is managed (tauri.conf.json
            // has `"create": false`), so its first command always finds the engine.
            let window = app
                .config()
                .app
                .windows
                .iter()
                .find(|w| w.label == desktop::MAIN)
                .cloned()
                .expect("tauri.conf.json has the main window");
            tauri::WebviewWindowBuilder::from_config(app.handle(), &window)?.build()?;
            desktop::build_tray(app.handle());
            tauri::async_runtime::spawn(exit_on_signal(app.handle().clone()));
            if let Some(handle) = forward_from {
                tauri::async_runtime::spawn(forward_events(app.handle().clone(), handle));
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.label() != desktop::MAIN {
                    return;
                }
                let engine = window.state::<EngineSlot>().get().ok();
                if window.state::<Desktop>().on_close_requested(window, engine) {
                    api.prevent_close();
                }
            }
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

/// Starts the engine with the app's options; a failure is logged and kept as the error the
/// window's fatal screen explains (by its code).
pub(crate) async fn start_engine(again: &StartAgain) -> Result<Engine, streamcue::api::ApiError> {
    let mut options = EngineOptions::for_app(again.paths.clone(), again.secrets.clone());
    options.ui_assets = Some(again.ui_assets.clone());
    Engine::start(options).await.map_err(|e| {
        tracing::error!(error = %e, "engine failed to start");
        streamcue::api::ApiError::from(&e)
    })
}

/// The UI files Tauri embeds, for the local server's overlay page.
struct EmbeddedUi(tauri::AppHandle);

impl streamcue::server::UiAssets for EmbeddedUi {
    fn get(&self, path: &str) -> Option<streamcue::server::assets::Asset> {
        let asset = self.0.asset_resolver().get(path.to_string())?;
        Some(streamcue::server::assets::Asset {
            mime: streamcue::server::assets::mime_for(path).to_string(),
            bytes: asset.bytes,
        })
    }
}

/// Forwards core events to the window, batching whatever queued up meanwhile.
pub(crate) async fn forward_events(app: tauri::AppHandle, engine: EngineHandle) {
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
        app.state::<Desktop>().on_events(&app, &batch);
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
