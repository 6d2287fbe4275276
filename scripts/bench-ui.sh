#!/usr/bin/env bash
# StreamCue whole-app benchmark: CPU and memory (PSS) of the real release app, window included
# (streamcue + WebKitWebProcess + the other WebKit children), in four states held HOLD_SECS each:
# idle, demo chat, Twitch chat at 50 msg/s with 10 requests waiting, then 500 msg/s.
# Builds the UI and the release app, starts a private Xvfb (1280x720x24), then runs
# src-tauri/examples/bench_ui.rs, which starts tauri-driver, a fake Twitch IRC server
# (127.0.0.1 only) and drives the window. Prints each state, then a markdown table.
#
#   bash scripts/bench-ui.sh                     # 60 s per state
#   HOLD_SECS=30 bash scripts/bench-ui.sh
#   LONG_MINUTES=30 bash scripts/bench-ui.sh     # then 500 msg/s for 30 min: PSS at 5 min vs end
#   UI_REF=HEAD bash scripts/bench-ui.sh         # embed the UI as committed at a git ref instead
#                                                # of the working tree (before/after comparisons);
#                                                # exported and built under target/bench-ui/
# The app's and tauri-driver's output goes to target/bench-logs/bench-ui-app.log.
# Ctrl-C stops everything it started (app, tauri-driver, WebKitWebDriver, Xvfb, fake server).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export PATH="$HOME/.cargo/bin:$PATH"
export HOLD_SECS="${HOLD_SECS:-60}" LONG_MINUTES="${LONG_MINUTES:-0}"

for tool in tauri-driver WebKitWebDriver Xvfb npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench-ui: $tool is not on PATH (bash scripts/setup.sh;" \
      "cargo install tauri-driver --locked --version 2.1.0)" >&2
    exit 1
  fi
done
LOGS="$ROOT/target/bench-logs"
mkdir -p "$LOGS"

unset TAURI_CONFIG
if [ -n "${UI_REF:-}" ]; then
  ref="$(git rev-parse --short "${UI_REF}^{commit}")"
  REF_DIR="$ROOT/target/bench-ui/ui-$ref"
  echo "=== UI from git ${UI_REF} (${ref}), exported to ${REF_DIR}"
  rm -rf "$REF_DIR"
  mkdir -p "$REF_DIR"
  git archive "$ref" ui | tar -x -C "$REF_DIR"
  cp -a "$ROOT/ui/node_modules" "$REF_DIR/ui/node_modules"
  (cd "$REF_DIR/ui" && npm run build --silent)
  # tauri-build and generate_context! merge this JSON into tauri.conf.json.
  export TAURI_CONFIG="{\"build\":{\"frontendDist\":\"$REF_DIR/ui/dist\"}}"
  ui_desc="git ${UI_REF} (${ref})"
else
  echo "=== UI: (cd ui && npm run build)"
  (cd ui && npm run build --silent)
  ui_desc="working tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- ui 2>/dev/null || echo ' + uncommitted ui/ changes'))"
fi

echo "=== build: cargo build --release -p streamcue-app (+ --example bench_ui)"
cargo build --release -p streamcue-app
cargo build --release -p streamcue-app --example bench_ui
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
APP="$TARGET_DIR/release/streamcue"
BIN="$TARGET_DIR/release/examples/bench_ui"

XVFB_PID="" BENCH_PID=""
cleanup() {
  if [ -n "$BENCH_PID" ]; then
    kill -TERM "$BENCH_PID" 2>/dev/null || true
    wait "$BENCH_PID" 2>/dev/null || true
  fi
  if [ -n "$XVFB_PID" ]; then kill "$XVFB_PID" 2>/dev/null || true; fi
  rm -f "$ROOT/target/bench-ui-xvfb.$$"
}
trap cleanup EXIT
# A private X display, in its own session so Ctrl-C reaches it only through cleanup (after
# the app has stopped).
exec 3>"$ROOT/target/bench-ui-xvfb.$$"
setsid Xvfb -displayfd 3 -screen 0 1280x720x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
exec 3>&-
for _ in $(seq 100); do [ -s "$ROOT/target/bench-ui-xvfb.$$" ] && break; sleep 0.1; done
[ -s "$ROOT/target/bench-ui-xvfb.$$" ] || { echo "bench-ui: Xvfb did not start" >&2; exit 1; }
export DISPLAY=":$(cat "$ROOT/target/bench-ui-xvfb.$$")"

echo
echo "=== run: HOLD_SECS=${HOLD_SECS} LONG_MINUTES=${LONG_MINUTES} ${BIN} --app ${APP}"
echo "UI: ${ui_desc}; display ${DISPLAY} (Xvfb 1280x720x24); rustc: $(rustc --version)"
read -r l1 _ </proc/loadavg
if awk -v l="$l1" 'BEGIN { exit !(l > 0.5) }'; then
  echo "WARNING: the machine is busy (load ${l1} on $(nproc) CPUs): CPU figures are inflated by contention."
fi
"$BIN" --app "$APP" --log "$LOGS/bench-ui-app.log" &
BENCH_PID=$!
trap 'kill -TERM "$BENCH_PID" 2>/dev/null || true' INT TERM HUP
status=0
while kill -0 "$BENCH_PID" 2>/dev/null; do
  if wait "$BENCH_PID"; then status=0; else status=$?; fi
done
BENCH_PID=""
exit "$status"
