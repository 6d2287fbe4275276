//! The built web UI files the local server serves for the overlay page (`ui/dist`).
//!
//! The core does not embed them: the desktop shell hands over the files Tauri already embeds
//! (its asset resolver), and tests and development use [`DirAssets`] on `ui/dist`. Only the
//! overlay page and the hashed `assets/` files are ever asked for.

use std::path::{Component, Path, PathBuf};

/// One file: its bytes and MIME type.
#[derive(Debug, Clone)]
pub struct Asset {
    pub bytes: Vec<u8>,
    pub mime: String,
}

/// Where the UI's built files come from.
pub trait UiAssets: Send + Sync + 'static {
    /// `path` is relative to the build's root (`overlay.html`, `assets/overlay-1a2b.js`).
    fn get(&self, path: &str) -> Option<Asset>;
}

/// Files from a directory on disk (`ui/dist`), for tests and development.
#[derive(Debug, Clone)]
pub struct DirAssets {
    root: PathBuf,
}

impl DirAssets {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl UiAssets for DirAssets {
    fn get(&self, path: &str) -> Option<Asset> {
        let relative = Path::new(path);
        // Plain names only: no `..`, no root, no prefix (nothing outside the directory).
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            return None;
        }
        let bytes = std::fs::read(self.root.join(relative)).ok()?;
        Some(Asset {
            bytes,
            mime: mime_for(path).to_string(),
        })
    }
}

/// The MIME type the overlay's files need (by extension).
pub fn mime_for(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_inside_the_directory() {
        let dir = std::env::temp_dir().join(format!("streamcue-assets-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("assets/a.js"), "x").unwrap();
        let assets = DirAssets::new(&dir);
        let a = assets.get("assets/a.js").unwrap();
        assert_eq!(
            (a.bytes.as_slice(), a.mime.as_str()),
            (&b"x"[..], "text/javascript; charset=utf-8")
        );
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "assets/../../x",
            "",
            "assets/missing.js",
        ] {
            assert!(assets.get(bad).is_none(), "{bad}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
