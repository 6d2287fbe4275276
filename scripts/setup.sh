#!/usr/bin/env bash
# Installs what StreamCue needs to build, run and test, idempotently (Debian 12, as root or
# with sudo). Sourced by scripts/run.sh and scripts/test.sh; safe to run on its own.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Debian packages: the WebKitGTK stack for Tauri, Xvfb + WebKitWebDriver for the window tests,
# ImageMagick for screenshots, ffmpeg/ffprobe for clips, keyutils/dbus for keyrings, the
# AppIndicator library the tray icon loads at run time; desktop-file-validate for
# scripts/package.sh, debootstrap for the install test's Debian root.
# libglib2.0-bin (gdbus) lets the window tests click the tray menu over D-Bus; dunst is the
# real notification server they check desktop notifications against; prometheus brings promtool,
# which checks the local server's /metrics; chromium + chromium-driver open the OBS overlay page
# headless, as OBS's own browser source would; gnome-keyring + libsecret-tools (secret-tool) are
# the real Secret Service the keyring tests save to (on a private bus of their own).
APT_PACKAGES=(
  build-essential pkg-config curl file ca-certificates
  libwebkit2gtk-4.1-dev libdbus-1-dev
  xvfb xauth webkit2gtk-driver imagemagick
  ffmpeg streamlink keyutils dbus-x11 fonts-dejavu-core fonts-noto-color-emoji
  libayatana-appindicator3-1 desktop-file-utils debootstrap libglib2.0-bin dunst prometheus
  chromium chromium-driver gnome-keyring libsecret-tools
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js >= 20.19 builds the web UI (Vite 8).
if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a==20&&b>=19)?0:1)'; then
  echo "setup: Node.js >= 20.19 is required to build the UI (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "       Install it (e.g. from NodeSource or nvm) and run this again." >&2
  exit 1
fi

# Rust toolchain (rustup) is expected on the machine; cargo tools are installed on demand.
if ! command -v cargo >/dev/null; then
  echo "setup: Rust (cargo) is required: https://rustup.rs" >&2
  exit 1
fi
export PATH="$HOME/.cargo/bin:$PATH"

# UI dependencies, exactly as locked.
if [ ! -d "$ROOT/ui/node_modules" ] || [ "$ROOT/ui/package-lock.json" -nt "$ROOT/ui/node_modules/.package-lock.json" ]; then
  echo "setup: installing UI packages"
  (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
fi

# The Tauri CLI for scripts/package.sh: npm's prebuilt binary (seconds, against minutes for
# `cargo install tauri-cli`), exactly as locked in packaging/package-lock.json.
if [ ! -d "$ROOT/packaging/node_modules" ] || [ "$ROOT/packaging/package-lock.json" -nt "$ROOT/packaging/node_modules/.package-lock.json" ]; then
  echo "setup: installing the Tauri CLI (packaging/)"
  (cd "$ROOT/packaging" && npm ci --no-audit --no-fund --loglevel=error)
fi
