#!/usr/bin/env bash
# Runs every StreamCue check: formatting, lints, UI type-check + build, unit and integration
# tests, the end-to-end tests in the real window (WebKitGTK under Xvfb, driven through
# tauri-driver + WebKitWebDriver) and the install test (the .deb in a clean Debian 12 root).
# Installs what it needs first (scripts/setup.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if ! command -v tauri-driver >/dev/null; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --locked --version 2.1.0
fi
if ! command -v cargo-nextest >/dev/null; then
  echo "setup: installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

step() { echo; echo "=== $* ($(date +%T))"; }

# OBS Studio 30.2 (Debian 13) in a cached root outside the repo, for the real-OBS tests
# (tests/obs.rs, tests/obs_harness.rs, the OBS window test). Only the tests need it: the app
# talks to the streamer's own OBS. Not fatal outside CI (those tests then skip and say why).
step "OBS root for the real-OBS tests"
if ! bash "$ROOT/scripts/obs-root.sh"; then
  if [ -n "${CI:-}" ]; then
    echo "setup: building the OBS root failed" >&2
    exit 1
  fi
  echo "setup: warning: no OBS root; the real-OBS tests will be skipped" >&2
fi

# A clean Debian 12 root in a cache outside the repo, for the install test
# (src-tauri/tests/install.rs installs the .deb into a throwaway overlay of it). Not fatal
# outside CI (the test then skips and says why).
step "Debian 12 root for the install test"
if ! bash "$ROOT/scripts/deb-root.sh"; then
  if [ -n "${CI:-}" ]; then
    echo "setup: building the Debian 12 root failed" >&2
    exit 1
  fi
  echo "setup: warning: no Debian 12 root; the install test will be skipped" >&2
fi

step "UI: type-check and build"
(cd ui && npm run build --silent)

step "UI: unit tests (Vitest: the reducer, the form helper, pure helpers)"
(cd ui && NO_COLOR=1 npx vitest run --reporter=default)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "build the app (for the window tests)"
cargo build --workspace --all-targets --locked

# A private X display for the window tests.
XVFB_PID=""
cleanup() { [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true; }
trap cleanup EXIT
if [ -z "${STREAMCUE_TEST_DISPLAY:-}" ]; then
  exec 3>/tmp/streamcue-xvfb-display.$$
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 50); do [ -s /tmp/streamcue-xvfb-display.$$ ] && break; sleep 0.1; done
  export STREAMCUE_TEST_DISPLAY=":$(cat /tmp/streamcue-xvfb-display.$$)"
  rm -f /tmp/streamcue-xvfb-display.$$
fi
export DISPLAY="$STREAMCUE_TEST_DISPLAY"
mkdir -p artifacts
export STREAMCUE_ARTIFACTS="$ROOT/artifacts"

step "tests (unit, integration, window, install)"
cargo nextest run --workspace --locked --no-fail-fast --failure-output final
