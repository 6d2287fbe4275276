#!/usr/bin/env bash
# Builds and runs StreamCue. The demo chat works with no account: pick "Demo", click Connect.
# Extra arguments go to the app (e.g. --data-dir DIR).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

(cd ui && npm run build --silent)
cargo build --release -p streamcue-app

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  # A machine with no desktop: run on a virtual display and save screenshots to look at.
  export DISPLAY=:57
  if ! [ -e /tmp/.X11-unix/X57 ]; then
    Xvfb :57 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
    sleep 1
  fi
  mkdir -p artifacts
  echo "No display found: StreamCue runs on virtual display :57; a screenshot is saved to artifacts/run.png every 10 s."
  ( while sleep 10; do import -display :57 -window root artifacts/run.png 2>/dev/null || true; done ) &
  SHOOTER=$!
  trap 'kill $SHOOTER 2>/dev/null || true' EXIT
fi
exec_status=0
target/release/streamcue "$@" || exec_status=$?
exit $exec_status
