#!/usr/bin/env bash
# StreamCue soak (reliability issue, seed 002): tests/soak.rs for 10 minutes, built in release.
# The engine stays connected to the fake Twitch IRC server through steady chat (50 msg/s, with
# `!anime` requests) and a server PING every 5 s; the test asserts zero reconnects, a PONG for
# every PING, every message counted and flat memory, and prints its figures (`soak:` lines).
# CI runs the same test for 2 minutes (the default STREAMCUE_SOAK_SECS=120).
#
#   bash scripts/soak.sh                        # 600 s
#   STREAMCUE_SOAK_SECS=120 bash scripts/soak.sh
#
# The terminal shows the machine, the revision and the test's figures; the test's whole output
# (the engine's log included) goes to target/soak-logs/. Exits with the test's status.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

SECS="${STREAMCUE_SOAK_SECS:-600}"
LOGS="target/soak-logs"
mkdir -p "$LOGS"

echo "=== build: cargo test --release -p streamcue --test soak --no-run"
cargo test --release --locked -p streamcue --test soak --no-run

cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: nproc=$(nproc), CPU \"${cpu_model}\", $(uname -sr), $(free -m | awk '/^Mem:/{print $2}') MB RAM"
echo "rustc:   $(rustc --version)"
echo "git:     $(git rev-parse --short HEAD 2>/dev/null || echo '?')$([ -z "$(git status --porcelain 2>/dev/null)" ] || echo ' (+ uncommitted changes)')"
read -r l1 l5 l15 _ </proc/loadavg
echo "load:    ${l1} ${l5} ${l15} (1/5/15 min)"
if awk -v l="$l1" 'BEGIN { exit !(l > 0.5) }'; then
  echo "WARNING: the machine is busy (load ${l1} on $(nproc) CPUs): the soak's checks do not depend on"
  echo "         timing, but its send loop may run late (see 'ticks over one tick late'). Busiest processes now:"
  { ps -eo pid,pcpu,etime,comm --sort=-pcpu || true; } | head -4 | sed 's/^/         /' || true
fi

LOG="$LOGS/soak-$(date +%Y%m%d-%H%M%S)-${SECS}s.log"
echo
echo "=== run: STREAMCUE_SOAK_SECS=${SECS} cargo test --release -p streamcue --test soak -- --nocapture"
echo "    (about $((SECS / 60)) min $((SECS % 60)) s; whole output in ${LOG})"
set +e
STREAMCUE_SOAK_SECS="$SECS" cargo test --release --locked -p streamcue --test soak -- --nocapture 2>&1 \
  | tee "$LOG" | grep --line-buffered '^soak:'
status=${PIPESTATUS[0]}
set -e

echo
plain="$(sed 's/\x1b\[[0-9;]*m//g' "$LOG")"
echo "log: $(wc -l <"$LOG") lines, $(grep -c ' WARN ' <<<"$plain" || true) WARN, $(grep -c ' ERROR ' <<<"$plain" || true) ERROR (${LOG})"
read -r l1 l5 l15 _ </proc/loadavg
echo "load at the end: ${l1} ${l5} ${l15} (1/5/15 min)"
grep -E '^test result:' <<<"$plain" || true
if [ "$status" -ne 0 ]; then
  echo "SOAK FAILED (exit ${status}):"
  { grep -A 12 'panicked at' <<<"$plain" || tail -n 20 <<<"$plain"; } | sed 's/^/    /'
fi
exit "$status"
