//! The desktop around the window: tray icon and menu, close-to-tray, desktop notifications,
//! and raising the window for a second launch. Decisions come from `streamcue::desktop`
//! (`Activity`, `Notifier`, `DesktopSettings`); this module only carries them out.

use std::sync::Mutex;

use streamcue::api::CoreEvent;
use streamcue::desktop::{Activity, DesktopSettings, Notifier};
use streamcue::EngineHandle;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, WebviewWindow, Wry};
use tauri_plugin_notification::NotificationExt;

/// The main window's label (tauri.conf.json).
pub const MAIN: &str = "main";

/// What the shell follows of the core to act on the desktop.
pub struct Desktop {
    activity: Mutex<Activity>,
    notifier: Mutex<Notifier>,
    settings: Mutex<DesktopSettings>,
    /// The tray's status line and show/hide item (`None`: no tray on this desktop).
    tray: Mutex<Option<TrayItems>>,
}

struct TrayItems {
    status: MenuItem<Wry>,
    /// The status line the menu shows now (it is set only when it changes: chat sends an
    /// event every second, and each set is a call into the desktop's menu).
    status_text: String,
    toggle: MenuItem<Wry>,
}

impl Desktop {
    pub fn new(settings: DesktopSettings) -> Self {
        Self {
            activity: Mutex::default(),
            notifier: Mutex::default(),
            settings: Mutex::new(settings),
            tray: Mutex::new(None),
        }
    }

    fn settings(&self) -> DesktopSettings {
        *self.settings.lock().expect("desktop settings")
    }

    fn has_tray(&self) -> bool {
        self.tray.lock().is_ok_and(|t| t.is_some())
    }

    /// Follows a batch of core events: the tray's status line, and the notifications they
    /// call for.
    pub fn on_events(&self, app: &AppHandle, events: &[CoreEvent]) {
        let visible = main_window(app).is_some_and(|w| w.is_visible().unwrap_or(false));
        let mut notices = Vec::new();
        {
            let mut activity = self.activity.lock().expect("activity");
            let mut notifier = self.notifier.lock().expect("notifier");
            let mut settings = self.settings.lock().expect("desktop settings");
            for event in events {
                if let CoreEvent::DesktopSettings { settings: s } = event {
                    *settings = *s;
                }
                activity.apply(event);
                notices.extend(notifier.notice_for(event, &settings, visible));
            }
            if let Ok(Some(tray)) = self.tray.lock().as_deref_mut() {
                let line = activity.status_line();
                if line != tray.status_text {
                    let _ = tray.status.set_text(&line);
                    tray.status_text = line;
                }
            }
        }
        for notice in notices {
            notify(app, &notice.title, &notice.body);
        }
    }

    /// The window's close button: hides to the tray while something runs (and close to tray
    /// is on and a tray exists), otherwise lets the window close and StreamCue quit.
    /// Returns whether the close was turned into a hide.
    pub fn on_close_requested(&self, window: &tauri::Window, engine: Option<EngineHandle>) -> bool {
        let busy = self.activity.lock().ok().and_then(|a| a.busy());
        let Some(busy) = busy.filter(|_| self.settings().close_to_tray && self.has_tray()) else {
            return false;
        };
        let _ = window.hide();
        self.set_toggle_text(false);
        tracing::info!(%busy, "window hidden to the tray");
        let app = window.app_handle().clone();
        if let Some(engine) = engine {
            tauri::async_runtime::spawn(async move {
                if let Ok(true) = engine.desktop().take_tray_notice().await {
                    notify(
                        &app,
                        "StreamCue is still running",
                        &format!("{busy}: StreamCue keeps going in the tray. Quit from the tray icon's menu."),
                    );
                }
            });
        }
        true
    }

    fn set_toggle_text(&self, visible: bool) {
        if let Ok(Some(tray)) = self.tray.lock().as_deref() {
            let _ = tray.toggle.set_text(if visible {
                "Hide window"
            } else {
                "Show window"
            });
        }
    }
}

/// Builds the tray icon: the status line, Show/Hide and Quit. On a desktop without a tray
/// (no AppIndicator library) there is none, and closing the window quits as before.
pub fn build_tray(app: &AppHandle) {
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| try_build_tray(app)));
    match built {
        Ok(Ok(items)) => {
            if let Some(desktop) = app.try_state::<Desktop>() {
                *desktop.tray.lock().expect("tray") = Some(items);
            }
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "no tray icon: closing the window quits"),
        Err(_) => tracing::warn!(
            "no tray icon (the AppIndicator library is missing): closing the window quits"
        ),
    }
}

fn try_build_tray(app: &AppHandle) -> tauri::Result<TrayItems> {
    let status_text = Activity::default().status_line();
    let status = MenuItem::with_id(app, "status", &status_text, false, None::<&str>)?;
    let toggle = MenuItem::with_id(app, "toggle", "Hide window", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit StreamCue", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&status, &separator, &toggle, &quit])?;
    let mut tray = TrayIconBuilder::with_id("streamcue")
        .tooltip("StreamCue")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "toggle" => toggle_window(app),
            "quit" => {
                tracing::info!("Quit from the tray");
                app.exit(0);
            }
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(TrayItems {
        status,
        status_text,
        toggle,
    })
}

fn main_window(app: &AppHandle) -> Option<WebviewWindow> {
    app.get_webview_window(MAIN)
}

fn toggle_window(app: &AppHandle) {
    let Some(window) = main_window(app) else {
        return;
    };
    if window.is_visible().unwrap_or(false) {
        let _ = window.hide();
        if let Some(d) = app.try_state::<Desktop>() {
            d.set_toggle_text(false);
        }
    } else {
        show_window(app);
    }
}

/// Shows, restores and focuses the main window (the tray's Show, a second launch).
pub fn show_window(app: &AppHandle) {
    if let Some(window) = main_window(app) {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
    if let Some(d) = app.try_state::<Desktop>() {
        d.set_toggle_text(true);
    }
}

fn notify(app: &AppHandle, title: &str, body: &str) {
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::debug!(error = %e, "desktop notification not shown");
    }
}
