#!/usr/bin/env bash
# StreamCue kill matrix: builds examples/kill_matrix in release and runs it once. Each scenario
# SIGKILLs a process CYCLES times on one data folder (kept across its cycles), restarts it, and
# counts what was lost, duplicated or left half-written (see examples/kill_matrix/main.rs):
#   render    StreamCue during an offline render      download  StreamCue during a slow download
#   cut       StreamCue during a clip cut             irc       the fake Twitch IRC server
#   obs       a real OBS during the Result scene (skipped, with the reason, without one)
# Prints machine facts, the run's full report, then a summary table; exit 1 when a target is
# missed (0 lost, 0 duplicated, 0 partial files, integrity ok every time, 0 orphans).
#
#   bash scripts/kill-matrix.sh                       # 20 cycles of every scenario (~6 min)
#   CYCLES=3 ONLY=render,irc bash scripts/kill-matrix.sh
#   bash scripts/kill-matrix.sh --only cut            # arguments go to the binary as they are
# The children's console log (stderr) goes to target/bench-logs/kill-matrix.log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

CYCLES="${CYCLES:-20}"
ONLY="${ONLY:-render,download,cut,irc,obs}"
BIN="${CARGO_TARGET_DIR:-target}/release/examples/kill_matrix"
LOGS="target/bench-logs"
LOG="$LOGS/kill-matrix.log"
mkdir -p "$LOGS"

for tool in ffmpeg ffprobe; do
  command -v "$tool" >/dev/null || { echo "kill-matrix: $tool is required (scripts/setup.sh)" >&2; exit 1; }
done

echo "=== build: cargo build --release --example kill_matrix"
cargo build --release --example kill_matrix

cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo
echo "machine: nproc=$(nproc), CPU \"${cpu_model}\", $(uname -sr), $(free -m | awk '/^Mem:/{print $2}') MB RAM"
echo "disk:    $(df -h "${TMPDIR:-/tmp}" | awk 'NR==2{print $4 " free on " $6}') (data folders are temp dirs there)"
echo "rustc:   $(rustc --version)"
echo "ffmpeg:  $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"
echo "git:     $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
read -r l1 l5 l15 _ </proc/loadavg
echo "load:    ${l1} ${l5} ${l15} (1/5/15 min)"
if awk -v l="$l1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  echo "WARNING: the machine is busy (load ${l1} on $(nproc) CPUs): timings (reconnects, how long a"
  echo "         render takes) are inflated; the counts (lost, duplicated, ...) are not affected."
fi

args=(--cycles "$CYCLES" --only "$ONLY")
if [ "$#" -gt 0 ]; then args=(--cycles "$CYCLES" "$@"); fi
echo
echo "=== run: ${BIN} ${args[*]}"
status=0
out="$("$BIN" "${args[@]}" 2>"$LOG")" || status=1
printf '%s\n' "$out"
plain="$(sed 's/\x1b\[[0-9;]*m//g' "$LOG")"
echo "log: $(wc -l <"$LOG") lines on stderr ($LOG), $(grep -c ' WARN ' <<<"$plain" || true) WARN, $(grep -c ' ERROR ' <<<"$plain" || true) ERROR"
{ grep -E ' ERROR ' <<<"$plain" | sed 's/^[^ ]* *//' | sort | uniq -c | sort -rn || true; } | head -4 | sed 's/^/    /' || true

echo
echo "=== summary (${CYCLES} SIGKILLs per scenario, one data folder each; targets: lost, dup, partial, stale, missing and orphans 0, integrity n/n)"
printf '%s\n' "$out" | grep '^RESULT ' | awk '
function val(key,   i, kv) {
  for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) return kv[2] }
  return "-"
}
BEGIN {
  printf "%-9s %6s %8s %4s %4s %7s %5s %7s %9s %7s %8s %17s %5s %s\n", "scenario", "cycles", "accepted", "lost", "dup", "partial", "stale", "missing", "integrity", "orphans", "mid-kill", "reconnect p50/max", "secs", "verified"
}
val("skipped") == "1" { printf "%-9s skipped %s\n", val("scenario"), substr($0, index($0, "reason=")); next }
{
  printf "%-9s %6s %8s %4s %4s %7s %5s %7s %9s %7s %8s %17s %5s %s\n", val("scenario"), val("cycles"), val("accepted"), val("lost"), val("duplicated"), val("partial"), val("stale_temp"), val("missing_files"), val("integrity_ok"), val("orphans"), val("kills_mid_write"), (val("reconnect_p50_ms") == "NaN" ? "-" : val("reconnect_p50_ms") "/" val("reconnect_max_ms") " ms"), val("secs"), (val("ok") == "1" ? "yes" : "NO")
}'
echo "(accepted: requests (or clips) StreamCue announced, so committed; partial: files under a final name not"
echo " readable whole; stale: temporary files the next start did not remove; missing: rows whose file is"
echo " missing or broken; mid-kill: kills while a temporary file was being written; reconnect: from the"
echo " kill to Connected again, the restart of the killed server included)"
if [ "$status" -ne 0 ]; then
  echo "a target was MISSED or a scenario could not be driven (see its report above)"
fi
exit "$status"
