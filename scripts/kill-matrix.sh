#!/usr/bin/env bash
# StreamCue kill matrix: builds examples/kill_matrix in release and runs it. StreamCue is
# SIGKILLed during renders, remote downloads and clip cuts (CYCLES times each, one data folder
# per scenario), and the fake IRC server drops everyone CYCLES times; it prints requests
# accepted / lost / duplicated, files under final names that do not play, temporary files
# left, integrity_check results, orphaned ffmpeg processes and reconnect times.
#
#   bash scripts/kill-matrix.sh              # 20 cycles of each
#   CYCLES=5 bash scripts/kill-matrix.sh
#   bash scripts/kill-matrix.sh --only cut   # one scenario
# Everything listens on 127.0.0.1 and stops by itself. Exit 1 when a target is missed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export CYCLES="${CYCLES:-20}"

echo "=== build: cargo build --release --example kill_matrix"
cargo build --release --example kill_matrix

cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo
echo "machine: nproc=$(nproc), CPU \"${cpu_model}\", $(uname -sr), $(free -m | awk '/^Mem:/{print $2}') MB RAM"
echo "git:     $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
echo "cycles:  ${CYCLES} per scenario"
echo
exec target/release/examples/kill_matrix --cycles "$CYCLES" "$@"
