//! The app's tray menu, clicked the way a desktop's tray host clicks it: over D-Bus.
//!
//! On Linux the tray icon is an AppIndicator (libayatana-appindicator), whose menu is exported on
//! the session bus as `com.canonical.dbusmenu` at `/org/ayatana/NotificationItem/<id>/Menu`. A
//! panel (GNOME Shell's AppIndicator extension, KDE, waybar) reads its layout with `GetLayout`
//! and sends `Event(id, "clicked", …)` when the user picks an item; this helper does the same
//! with `gdbus`, on the private session bus the window tests start. So "Quit from the tray" in a
//! test goes through the real menu, the real menu-event handler and the app's real exit path.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// One exported tray menu.
pub struct TrayMenu {
    bus_address: String,
    dest: String,
    path: String,
}

/// One item of the menu: its dbusmenu id and label (`_` mnemonics removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayItem {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
}

impl TrayMenu {
    /// Finds the tray menu that process `pid` exports on the bus at `bus_address`, waiting up
    /// to `limit` for it to appear.
    pub fn find(bus_address: &str, pid: u32, limit: Duration) -> Result<TrayMenu, String> {
        let deadline = Instant::now() + limit;
        loop {
            match Self::try_find(bus_address, pid) {
                Ok(menu) => return Ok(menu),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("no tray menu of pid {pid} on the bus: {e}"))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    fn try_find(bus_address: &str, pid: u32) -> Result<TrayMenu, String> {
        let ask_bus = |method: &str, arg: Option<&str>| {
            let method = format!("org.freedesktop.DBus.{method}");
            let mut args = vec![
                "call",
                "--dest",
                "org.freedesktop.DBus",
                "--object-path",
                "/org/freedesktop/DBus",
                "--method",
                &method,
            ];
            args.extend(arg);
            gdbus(bus_address, &args)
        };
        let names = ask_bus("ListNames", None)?;
        for name in quoted(&names).into_iter().filter(|n| n.starts_with(':')) {
            let owner = ask_bus("GetConnectionUnixProcessID", Some(&name));
            if !owner.is_ok_and(|o| o.contains(&format!("uint32 {pid},"))) {
                continue;
            }
            let tree = gdbus(
                bus_address,
                &[
                    "introspect",
                    "--dest",
                    &name,
                    "--object-path",
                    "/org/ayatana/NotificationItem",
                    "--recurse",
                    "--only-properties",
                ],
            )
            .unwrap_or_default();
            if let Some(path) = tree.lines().find_map(|l| {
                let l = l.trim();
                l.strip_prefix("node ")
                    .and_then(|rest| rest.strip_suffix(" {"))
                    .filter(|p| p.ends_with("/Menu"))
            }) {
                return Ok(TrayMenu {
                    bus_address: bus_address.to_string(),
                    dest: name,
                    path: path.to_string(),
                });
            }
        }
        Err("the app exports no /org/ayatana/NotificationItem/…/Menu".into())
    }

    /// The menu's items, top level, in order.
    pub fn items(&self) -> Result<Vec<TrayItem>, String> {
        let layout = self.call("com.canonical.dbusmenu.GetLayout", &["0", "1", "[]"])?;
        Ok(parse_layout(&layout))
    }

    /// Clicks the item labelled `label` (as a tray host does when the user picks it).
    pub fn click(&self, label: &str) -> Result<(), String> {
        let items = self.items()?;
        let item = items
            .iter()
            .find(|i| i.label == label)
            .ok_or_else(|| format!("no item {label:?} in the tray menu: {items:?}"))?;
        self.call(
            "com.canonical.dbusmenu.Event",
            &[&item.id.to_string(), "'clicked'", "<int32 0>", "uint32 0"],
        )?;
        Ok(())
    }

    fn call(&self, method: &str, args: &[&str]) -> Result<String, String> {
        let mut all = vec![
            "call",
            "--dest",
            &self.dest,
            "--object-path",
            &self.path,
            "--method",
            method,
        ];
        all.extend_from_slice(args);
        gdbus(&self.bus_address, &all)
    }
}

/// Runs `gdbus ARGS` on the session bus at `bus_address`; its stdout, or why it failed.
fn gdbus(bus_address: &str, args: &[&str]) -> Result<String, String> {
    if !Path::new("/usr/bin/gdbus").exists() {
        return Err("gdbus is missing (package libglib2.0-bin)".into());
    }
    let out = Command::new("gdbus")
        .env("DBUS_SESSION_BUS_ADDRESS", bus_address)
        .arg(args[0])
        .arg("--session")
        .args(&args[1..])
        .output()
        .map_err(|e| format!("gdbus: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// The single-quoted strings of a GVariant text (`(['a', ':1.2'],)` → `a`, `:1.2`).
fn quoted(text: &str) -> Vec<String> {
    text.split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The top-level items of a `GetLayout` answer in GVariant text:
/// `(uint32 5, (0, {...}, [<(1, {'label': <'Idle'>, 'enabled': <false>}, @av [])>, ...]))`.
fn parse_layout(text: &str) -> Vec<TrayItem> {
    let mut items = Vec::new();
    for chunk in text.split("<(").skip(1) {
        let Some((id, rest)) = chunk.split_once(", {") else {
            continue;
        };
        let Ok(id) = id.trim().parse::<i32>() else {
            continue;
        };
        let props = rest.split('}').next().unwrap_or("");
        let label = props
            .split_once("'label': <'")
            .and_then(|(_, r)| r.split_once("'>"))
            .map(|(l, _)| l.replace('_', ""))
            .unwrap_or_default();
        let enabled = !props.contains("'enabled': <false>");
        items.push(TrayItem { id, label, enabled });
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_answer_gives_its_items() {
        let text = "(uint32 4, (0, {'children-display': <'submenu'>}, [<(1, {'label': <'Idle'>, 'enabled': <false>}, @av [])>, <(2, {'type': <'separator'>}, @av [])>, <(3, {'label': <'Hide window'>}, @av [])>, <(4, {'label': <'Quit StreamCue'>}, @av [])>]))\n";
        let items = parse_layout(text);
        assert_eq!(items.len(), 4);
        assert_eq!(
            items[0],
            TrayItem {
                id: 1,
                label: "Idle".into(),
                enabled: false
            }
        );
        assert_eq!(items[3].label, "Quit StreamCue");
        assert!(items[3].enabled);
        assert_eq!(
            quoted("(['org.freedesktop.DBus', ':1.0', ':1.7'],)\n"),
            vec!["org.freedesktop.DBus", ":1.0", ":1.7"]
        );
    }
}
