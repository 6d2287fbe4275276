#!/usr/bin/env bash
# Regenerates the icon set in icons/ from icons/icon.png (512×512 RGBA, kept as it is: it is the
# source and the window's icon) with the Tauri CLI's `tauri icon`: 32, 64, 128, 128@2x and 256 px
# PNGs for the Linux packages, icon.ico and icon.icns. Run it after changing icons/icon.png and
# commit the results. (tauri icon also makes Android, iOS and Windows Store images; StreamCue
# ships none of those, so they are not kept.)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TAURI="$ROOT/packaging/node_modules/.bin/tauri"
[ -x "$TAURI" ] || { echo "icons: run scripts/setup.sh first (the Tauri CLI)" >&2; exit 1; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
run() { "$TAURI" "$@" >>"$OUT/log" 2>&1 || { cat "$OUT/log" >&2; exit 1; }; }
run icon "$ROOT/icons/icon.png" -o "$OUT/default"
run icon "$ROOT/icons/icon.png" -o "$OUT/extra" -p 256
for f in 32x32.png 64x64.png 128x128.png 128x128@2x.png icon.ico icon.icns; do
  cp "$OUT/default/$f" "$ROOT/icons/$f"
done
cp "$OUT/extra/256x256.png" "$ROOT/icons/256x256.png"
ls -l "$ROOT/icons"
