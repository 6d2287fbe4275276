//! The typed IPC surface: commands and events, exported as TypeScript to `ui/src/bindings.ts`.
//!
//! Commands are one-line forwards to the core. Errors are `ApiError` (stable codes).

use serde::{Deserialize, Serialize};
use specta::Type;
use streamcue::api::{
    ApiError, AppSnapshot, ChatSlot, ChatState, ChatTarget, Clip, CohostModels, CohostSettings,
    CohostStatus, ConnectionCheck, CoreEvent, ErrorCode, GeneratorSettingsUpdate, GeneratorStatus,
    Moment, MomentSettings, ObsSettingsUpdate, ObsSetupReport, ObsView, PathsInfo, QueueAction,
    QueueItem, QueueView, RecorderSettings, RecorderState, ServerSettings, ServerView,
    SessionHistory, SessionSummary, UiLimits, WatchRefusal, WatchSettings, WatchSource,
    WatchStartOutcome, WatchView,
};
use streamcue::chat::ChannelName;
use streamcue::desktop::DesktopSettings;
use streamcue::folders::FolderKind;
use streamcue::secrets::Secret;
use streamcue::twitch_auth::LoginPrompt;
use tauri::State;
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;
use tauri_specta::{collect_commands, collect_events, Event};

use crate::state::EngineSlot;

/// Changes from the core, batched: everything that queued up since the last emit.
#[derive(Debug, Clone, Serialize, Deserialize, Type, Event)]
pub struct CoreEvents(pub Vec<CoreEvent>);

/// Everything the UI needs to draw itself from scratch.
#[tauri::command]
#[specta::specta]
pub async fn app_snapshot(engine: State<'_, EngineSlot>) -> Result<AppSnapshot, ApiError> {
    engine.get()?.snapshot().await
}

/// Connects to a chat (demo or Twitch channel).
#[tauri::command]
#[specta::specta]
pub async fn chat_connect(
    engine: State<'_, EngineSlot>,
    target: ChatTarget,
) -> Result<ChatState, ApiError> {
    engine.get()?.connect_chat(target).await
}

/// Closes one chat slot's connection and ends its session (the other slots stay).
#[tauri::command]
#[specta::specta]
pub async fn chat_disconnect(
    engine: State<'_, EngineSlot>,
    slot: ChatSlot,
) -> Result<ChatState, ApiError> {
    engine.get()?.disconnect_chat(slot).await
}

/// The queue panel's content.
#[tauri::command]
#[specta::specta]
pub async fn queue_view(engine: State<'_, EngineSlot>) -> Result<QueueView, ApiError> {
    engine.get()?.queue().view().await
}

/// Approve, skip, retry or move one request.
#[tauri::command]
#[specta::specta]
pub async fn queue_act(
    engine: State<'_, EngineSlot>,
    id: i32,
    action: QueueAction,
) -> Result<QueueItem, ApiError> {
    engine.get()?.queue().act(id, action).await
}

/// Skips every waiting request; returns how many.
#[tauri::command]
#[specta::specta]
pub async fn queue_clear(engine: State<'_, EngineSlot>) -> Result<u32, ApiError> {
    engine.get()?.queue().clear().await
}

/// Turns auto-approve on or off (off by default).
#[tauri::command]
#[specta::specta]
pub async fn queue_set_auto_approve(
    engine: State<'_, EngineSlot>,
    on: bool,
) -> Result<bool, ApiError> {
    engine.get()?.queue().set_auto_approve(on).await
}

/// Starts "Log in with Twitch": returns the code to enter at the activation link.
#[tauri::command]
#[specta::specta]
pub async fn account_login(engine: State<'_, EngineSlot>) -> Result<LoginPrompt, ApiError> {
    engine.get()?.start_login().await
}

/// Stops waiting for the streamer to approve the login.
#[tauri::command]
#[specta::specta]
pub async fn account_cancel_login(engine: State<'_, EngineSlot>) -> Result<(), ApiError> {
    engine.get()?.cancel_login().await
}

/// Logs out: forgets (and revokes) the token.
#[tauri::command]
#[specta::specta]
pub async fn account_logout(engine: State<'_, EngineSlot>) -> Result<(), ApiError> {
    engine.get()?.logout().await
}

/// The fallback: use a token the streamer pasted. Returns the account's login name.
#[tauri::command]
#[specta::specta]
pub async fn account_paste_token(
    engine: State<'_, EngineSlot>,
    token: String,
) -> Result<String, ApiError> {
    engine.get()?.paste_token(Secret::new(token)).await
}

/// Normalises what the streamer typed into a channel name, or says what is wrong with it.
#[tauri::command]
#[specta::specta]
pub fn validate_channel(input: String) -> Result<String, ApiError> {
    ChannelName::parse(&input)
        .map(|c| c.to_string())
        .map_err(|e| ApiError::new(ErrorCode::InvalidChannel, e.to_string()))
}

/// Saves the generator settings (credentials go to the OS keyring).
#[tauri::command]
#[specta::specta]
pub async fn generator_update_settings(
    engine: State<'_, EngineSlot>,
    update: GeneratorSettingsUpdate,
) -> Result<GeneratorStatus, ApiError> {
    engine.get()?.generator().update_settings(update).await
}

/// **Test connection**: the endpoint's health (remote) or ffmpeg (offline).
#[tauri::command]
#[specta::specta]
pub async fn generator_test_connection(
    engine: State<'_, EngineSlot>,
) -> Result<ConnectionCheck, ApiError> {
    engine.get()?.generator().test_connection().await
}

/// Pauses or resumes generation.
#[tauri::command]
#[specta::specta]
pub async fn generator_set_paused(
    engine: State<'_, EngineSlot>,
    paused: bool,
) -> Result<GeneratorStatus, ApiError> {
    engine.get()?.generator().set_paused(paused).await
}

/// Saves the OBS settings (the password goes to the OS keyring) and reconnects.
#[tauri::command]
#[specta::specta]
pub async fn obs_update_settings(
    engine: State<'_, EngineSlot>,
    update: ObsSettingsUpdate,
) -> Result<ObsView, ApiError> {
    engine.get()?.obs().update_settings(update).await
}

/// **Set up OBS**: creates the scenes and sources StreamCue needs, if missing.
#[tauri::command]
#[specta::specta]
pub async fn obs_set_up(engine: State<'_, EngineSlot>) -> Result<ObsSetupReport, ApiError> {
    engine.get()?.obs().set_up().await
}

/// Saves the moment-detection settings (they apply from the next second).
#[tauri::command]
#[specta::specta]
pub async fn moments_set_settings(
    engine: State<'_, EngineSlot>,
    settings: MomentSettings,
) -> Result<MomentSettings, ApiError> {
    engine.get()?.moments().set_settings(settings).await
}

/// Sets a moment's note.
#[tauri::command]
#[specta::specta]
pub async fn moments_set_note(
    engine: State<'_, EngineSlot>,
    id: i32,
    note: String,
) -> Result<Moment, ApiError> {
    engine.get()?.moments().set_note(id, note).await
}

/// The latest chat sessions, newest first (the history picker).
#[tauri::command]
#[specta::specta]
pub async fn moments_sessions(
    engine: State<'_, EngineSlot>,
) -> Result<Vec<SessionSummary>, ApiError> {
    engine.get()?.moments().sessions().await
}

/// One session's velocity graph and moments, from the database.
#[tauri::command]
#[specta::specta]
pub async fn moments_history(
    engine: State<'_, EngineSlot>,
    session_id: i32,
) -> Result<SessionHistory, ApiError> {
    engine.get()?.moments().history(session_id).await
}

/// Saves the recorder settings (mode, streamlink URL and quality, clip margins, auto-cut).
#[tauri::command]
#[specta::specta]
pub async fn recorder_set_settings(
    engine: State<'_, EngineSlot>,
    settings: RecorderSettings,
) -> Result<RecorderSettings, ApiError> {
    engine.get()?.recorder().set_settings(settings).await
}

/// Starts recording (OBS: starts OBS's recording; Streamlink: waits for the stream).
#[tauri::command]
#[specta::specta]
pub async fn recorder_start(engine: State<'_, EngineSlot>) -> Result<RecorderState, ApiError> {
    engine.get()?.recorder().start().await
}

/// Stops recording (streamlink finalises its file).
#[tauri::command]
#[specta::specta]
pub async fn recorder_stop(engine: State<'_, EngineSlot>) -> Result<RecorderState, ApiError> {
    engine.get()?.recorder().stop().await
}

/// Saves the co-host's settings (checked first; they apply to the next line).
#[tauri::command]
#[specta::specta]
pub async fn cohost_set_settings(
    engine: State<'_, EngineSlot>,
    settings: CohostSettings,
) -> Result<CohostStatus, ApiError> {
    engine.get()?.cohost().save_settings(settings).await
}

/// Saves the co-host's API key in the OS keyring (`null` removes it).
#[tauri::command]
#[specta::specta]
pub async fn cohost_set_api_key(
    engine: State<'_, EngineSlot>,
    key: Option<String>,
) -> Result<CohostStatus, ApiError> {
    let key = key
        .filter(|k| !k.trim().is_empty())
        .map(|k| Secret::new(k.trim()));
    engine.get()?.cohost().set_api_key(key).await
}

/// **Test connection**: the server's models with these (unsaved) settings.
#[tauri::command]
#[specta::specta]
pub async fn cohost_test_connection(
    engine: State<'_, EngineSlot>,
    settings: CohostSettings,
) -> Result<CohostModels, ApiError> {
    engine.get()?.cohost().test_connection(settings).await
}

/// Sends a draft to chat, as edited when `text` is given.
#[tauri::command]
#[specta::specta]
pub async fn cohost_send_draft(
    engine: State<'_, EngineSlot>,
    id: i32,
    text: Option<String>,
) -> Result<CohostStatus, ApiError> {
    engine.get()?.cohost().send_draft(id, text).await
}

/// Discards a draft.
#[tauri::command]
#[specta::specta]
pub async fn cohost_discard_draft(
    engine: State<'_, EngineSlot>,
    id: i32,
) -> Result<CohostStatus, ApiError> {
    engine.get()?.cohost().discard_draft(id).await
}

/// **Start** a watch-along for the first link in `text` (refusals carry the seed's code).
#[tauri::command]
#[specta::specta]
pub async fn watch_start(
    engine: State<'_, EngineSlot>,
    text: String,
) -> Result<WatchStartOutcome, ApiError> {
    engine
        .get()?
        .watch()
        .start(text, "streamer".into(), WatchSource::Window)
        .await
}

/// **Stop** the watch-along that plays (`null`: stopped; else why not).
#[tauri::command]
#[specta::specta]
pub async fn watch_stop(engine: State<'_, EngineSlot>) -> Result<Option<WatchRefusal>, ApiError> {
    engine.get()?.watch().stop().await
}

/// Plays (`play`) or denies a viewer's waiting watch-along link (from the card).
#[tauri::command]
#[specta::specta]
pub async fn watch_decide_ask(
    engine: State<'_, EngineSlot>,
    id: i32,
    play: bool,
) -> Result<Option<WatchRefusal>, ApiError> {
    engine.get()?.watch().decide_ask(id.into(), play).await
}

/// Saves Settings → Watch-along (checked first).
#[tauri::command]
#[specta::specta]
pub async fn watch_set_settings(
    engine: State<'_, EngineSlot>,
    settings: WatchSettings,
) -> Result<WatchView, ApiError> {
    engine.get()?.watch().save_settings(settings).await
}

/// Asks the controller's `/health` again (the answer arrives as a `watch` event).
#[tauri::command]
#[specta::specta]
pub async fn watch_check_controller(engine: State<'_, EngineSlot>) -> Result<WatchView, ApiError> {
    engine.get()?.watch().check_controller().await
}

/// **Cut clip** around a moment (stream copy, widened to a keyframe).
#[tauri::command]
#[specta::specta]
pub async fn clip_cut(engine: State<'_, EngineSlot>, moment_id: i32) -> Result<Clip, ApiError> {
    engine.get()?.recorder().cut(moment_id).await
}

/// Shows a clip or recording selected in its folder, or opens one of StreamCue's folders (the
/// logs, the database's), in the file manager. Only those are accepted; nothing is executed.
#[tauri::command]
#[specta::specta]
pub fn reveal_in_folder(
    app: tauri::AppHandle,
    engine: State<'_, EngineSlot>,
    path: String,
) -> Result<(), ApiError> {
    let target = engine
        .get()?
        .paths()
        .revealable(&path)
        .map_err(|e| ApiError::new(ErrorCode::FileNotFound, e.to_string()))?;
    let opener = app.opener();
    let shown = if target.is_dir() {
        opener.open_path(target.display().to_string(), None::<&str>)
    } else {
        opener.reveal_item_in_dir(&target)
    };
    shown.map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("Could not open the file manager ({e}); the path is {path}."),
        )
    })
}

/// Opens a link from the window (twitch.tv/activate, the docs) in the browser. `https://`
/// links only.
#[tauri::command]
#[specta::specta]
pub fn open_link(app: tauri::AppHandle, url: String) -> Result<(), ApiError> {
    let Some(url) = streamcue::desktop::openable_link(&url) else {
        return Err(ApiError::new(
            ErrorCode::InvalidSettings,
            "Only https:// links open in the browser.",
        ));
    };
    app.opener().open_url(url, None::<&str>).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("Could not open the browser ({e}); the link is {url}."),
        )
    })
}

/// An error thrown in the window, for the log (with its stack).
#[tauri::command]
#[specta::specta]
pub fn log_ui_error(message: String, stack: Option<String>) {
    streamcue::logging::ui_error(&message, stack.as_deref());
}

/// Close to tray and the desktop notifications.
#[tauri::command]
#[specta::specta]
pub async fn desktop_set_settings(
    engine: State<'_, EngineSlot>,
    settings: DesktopSettings,
) -> Result<DesktopSettings, ApiError> {
    engine.get()?.desktop().set_settings(settings).await
}

/// Uses a typed folder for clips or recordings (`None`: back to the default). The core checks
/// it first; the message of a refusal says what to do.
#[tauri::command]
#[specta::specta]
pub async fn folder_set(
    engine: State<'_, EngineSlot>,
    kind: FolderKind,
    path: Option<String>,
) -> Result<PathsInfo, ApiError> {
    engine.get()?.set_folder(kind, path).await
}

/// **Choose…**: the system's folder picker, starting at the folder in use; the picked folder
/// is checked and used like a typed one. `None` when the streamer cancels.
#[tauri::command]
#[specta::specta]
pub async fn folder_choose(
    window: tauri::WebviewWindow,
    engine: State<'_, EngineSlot>,
    kind: FolderKind,
) -> Result<Option<PathsInfo>, ApiError> {
    let engine = engine.get()?;
    let paths = engine.paths();
    let current = match kind {
        FolderKind::Clips => paths.clips_dir,
        FolderKind::Recordings => paths.recordings_dir,
    };
    // The picker opens where it can: the folder in use, else the nearest folder above it.
    let start = current
        .ancestors()
        .find(|d| d.is_dir())
        .map(|d| d.to_path_buf());
    let title = match kind {
        FolderKind::Clips => "Folder for clips",
        FolderKind::Recordings => "Folder for recordings",
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut picker = window.dialog().file().set_title(title).set_parent(&window);
    if let Some(start) = start {
        picker = picker.set_directory(start);
    }
    picker.pick_folder(move |picked| {
        let _ = tx.send(picked);
    });
    let Some(picked) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    let path = picked.into_path().map_err(|e| {
        ApiError::new(
            ErrorCode::Folder,
            format!("That is not a local folder ({e}): choose a folder on this computer."),
        )
    })?;
    engine
        .set_folder(kind, Some(path.display().to_string()))
        .await
        .map(Some)
}

/// The fatal screen's **Try again** (and, for a damaged database, **Move it aside and start
/// fresh**: renamed with a timestamp, never deleted): starts the engine again if it is not
/// running. The window then loads a snapshot as at start.
#[tauri::command]
#[specta::specta]
pub async fn engine_start_again(
    app: tauri::AppHandle,
    slot: State<'_, EngineSlot>,
    again: State<'_, crate::state::StartAgain>,
    lifetime: State<'_, crate::state::EngineLifetime>,
    move_aside: bool,
) -> Result<(), ApiError> {
    if slot.get().is_ok() {
        return Ok(());
    }
    if move_aside {
        let db = &again.paths.database_file;
        streamcue::db::move_aside(db).map_err(|e| {
            ApiError::new(
                ErrorCode::DatabaseUnusable,
                streamcue::paths::disk_problem("cannot move aside", db, &e),
            )
        })?;
    }
    let engine = crate::start_engine(&again).await;
    let engine = match engine {
        Ok(engine) => engine,
        Err(e) => {
            slot.set(Err(e.clone()));
            return Err(e);
        }
    };
    let handle = engine.handle();
    if let Ok(mut kept) = lifetime.0.lock() {
        *kept = Some(engine);
    }
    if let Ok(settings) = handle.desktop().settings().await {
        use tauri::Manager;
        app.state::<crate::desktop::Desktop>()
            .on_events(&app, &[CoreEvent::DesktopSettings { settings }]);
    }
    slot.set(Ok(handle.clone()));
    tauri::async_runtime::spawn(crate::forward_events(app.clone(), handle));
    Ok(())
}

/// Settings → Local server: on/off and the port. It listens (or stops) at once.
#[tauri::command]
#[specta::specta]
pub async fn server_configure(
    engine: State<'_, EngineSlot>,
    settings: ServerSettings,
) -> Result<ServerView, ApiError> {
    engine.get()?.server().configure(settings).await
}

/// The control API's token, made on first use (shown and copied in Settings).
#[tauri::command]
#[specta::specta]
pub async fn server_token(engine: State<'_, EngineSlot>) -> Result<String, ApiError> {
    Ok(engine.get()?.server().token().await.expose().to_string())
}

/// A new control API token; the old one stops working at once.
#[tauri::command]
#[specta::specta]
pub async fn server_regenerate_token(engine: State<'_, EngineSlot>) -> Result<String, ApiError> {
    Ok(engine
        .get()?
        .server()
        .regenerate_token()
        .await
        .expose()
        .to_string())
}

pub fn builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(collect_commands![
            app_snapshot,
            chat_connect,
            chat_disconnect,
            validate_channel,
            queue_view,
            queue_act,
            queue_clear,
            queue_set_auto_approve,
            account_login,
            account_cancel_login,
            account_logout,
            account_paste_token,
            generator_update_settings,
            generator_test_connection,
            generator_set_paused,
            obs_update_settings,
            obs_set_up,
            moments_set_settings,
            moments_set_note,
            moments_sessions,
            moments_history,
            recorder_set_settings,
            recorder_start,
            recorder_stop,
            clip_cut,
            cohost_set_settings,
            cohost_set_api_key,
            cohost_test_connection,
            cohost_send_draft,
            cohost_discard_draft,
            watch_start,
            watch_stop,
            watch_decide_ask,
            watch_set_settings,
            watch_check_controller,
            reveal_in_folder,
            open_link,
            log_ui_error,
            desktop_set_settings,
            folder_set,
            folder_choose,
            engine_start_again,
            server_configure,
            server_token,
            server_regenerate_token
        ])
        .events(collect_events![CoreEvents])
        // The ranges and defaults the core checks against: `import { UI_LIMITS } from "./bindings"`.
        // (One constant only: tauri-specta writes constants in hash-map order.)
        .typ::<UiLimits>()
        // The overlay page's first state (served over HTTP, not IPC).
        .typ::<streamcue::api::OverlaySnapshot>()
        .constant("UI_LIMITS", UiLimits::current())
}

#[cfg(test)]
pub fn typescript() -> specta_typescript::Typescript {
    specta_typescript::Typescript::default()
        .header("// Generated by `cargo test -p streamcue-app bindings` (UPDATE_BINDINGS=1). Do not edit.\n/* eslint-disable */")
        .bigint(specta_typescript::BigIntExportBehavior::Number)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// Fails when `ui/src/bindings.ts` differs from what the Rust types generate.
    /// Run with `UPDATE_BINDINGS=1` to rewrite it.
    #[test]
    fn bindings_are_current() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
        let dir = tempfile_dir();
        let fresh_path = dir.join("bindings.ts");
        super::builder()
            .export(super::typescript(), &fresh_path)
            .expect("export bindings");
        let fresh = std::fs::read_to_string(&fresh_path).unwrap();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "ui/src/bindings.ts is stale: run `UPDATE_BINDINGS=1 cargo test -p streamcue-app bindings` and commit it"
        );
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("streamcue-bindings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
