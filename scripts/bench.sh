#!/usr/bin/env bash
# StreamCue chat benchmark: builds examples/chat_bench in release and runs both modes, each run
# in a fresh StreamCue process (the fake Twitch server is a separate child process of each run).
# Prints every run's full report, then a summary table.
#
#   bash scripts/bench.sh                 # 3 burst runs (N=200000) + 3 paced runs (5000/s × 40 s)
#                                         # with the app's default config, then 1 of each with
#                                         # chat commands off (diagnostic: the chat path alone)
#                                         # and 1 paced with the co-host off (what it costs)
#   RUNS=1 DIAG=0 N=50000 SECS=10 bash scripts/bench.sh
# Each run's log (the app's console log, stderr) goes to target/bench-logs/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

RUNS="${RUNS:-3}"
N="${N:-200000}"
RATE="${RATE:-5000}"
SECS="${SECS:-40}"
DIAG="${DIAG:-1}"
BIN="target/release/examples/chat_bench"
LOGS="target/bench-logs"
mkdir -p "$LOGS"

echo "=== build: cargo build --release --example chat_bench --example cohost_memory"
cargo build --release --example chat_bench --example cohost_memory

cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo
echo "machine: nproc=$(nproc), CPU \"${cpu_model}\", $(uname -sr), $(free -m | awk '/^Mem:/{print $2}') MB RAM"
echo "rustc:   $(rustc --version)"
echo "git:     $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
read -r l1 l5 l15 _ </proc/loadavg
echo "load:    ${l1} ${l5} ${l15} (1/5/15 min)"
if awk -v l="$l1" 'BEGIN { exit !(l > 0.5) }'; then
  echo "WARNING: the machine is busy (load ${l1} on $(nproc) CPUs): CPU per message is inflated by"
  echo "         contention and msgs/s is not comparable. Busiest processes now:"
  { ps -eo pid,pcpu,etime,comm --sort=-pcpu || true; } | head -4 | sed 's/^/         /' || true
fi

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
status=0

run() { # label, args...
  local label="$1"; shift
  local log="$LOGS/${label//#/-}.log"
  echo
  echo "=== ${label}: ${BIN} $*"
  local out
  if out="$("$BIN" "$@" 2>"$log")"; then :; else status=1; fi
  printf '%s\n' "$out"
  local plain; plain="$(sed 's/\x1b\[[0-9;]*m//g' "$log")"
  echo "log: $(wc -l <"$log") lines on stderr ($log), $(grep -c ' WARN ' <<<"$plain" || true) WARN, $(grep -c ' ERROR ' <<<"$plain" || true) ERROR; most frequent:"
  { sed 's/^[^ ]* *//; s/ error=.*//; s/ addr=.*//; s/ user=.*//' <<<"$plain" | sort | uniq -c | sort -rn || true; } | head -4 | sed 's/^/    /' || true

  printf '%s\n' "$out" | grep '^RESULT ' | sed "s/^RESULT /RESULT run=${label} /" >>"$results" || {
    echo "RESULT run=${label} mode=error ok=0" >>"$results"; status=1; }
}

for i in $(seq 1 "$RUNS"); do
  run "burst#$i" burst --n "$N"
done
for i in $(seq 1 "$RUNS"); do
  run "paced#$i" paced --rate "$RATE" --secs "$SECS"
done
if [ "$DIAG" = "1" ]; then
  run "burst-nocmd" burst --n "$N" --commands off
  run "paced-nocmd" paced --rate "$RATE" --secs "$SECS" --commands off
  run "paced-nocohost" paced --rate "$RATE" --secs "$SECS" --cohost off
fi

echo
echo "=== summary (each row one fresh StreamCue process; CPU = getrusage user+sys of that process only)"
echo "commands: ${BIN} burst --n ${N} [--commands off]   |   ${BIN} paced --rate ${RATE} --secs ${SECS} [--commands off | --cohost off]"
awk '
function val(key,   i, kv) {
  for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) return kv[2] }
  return "-"
}
BEGIN {
  printf "%-15s %-6s %-9s %-7s %7s %9s %8s %8s %11s %7s %8s %s\n", "run", "mode", "commands", "co-host", "N", "msgs/s", "wall s", "CPU s", "CPU µs/msg", "CPU %", "peak MB", "verified"
}
{
  printf "%-15s %-6s %-9s %-7s %7s %9s %8s %8s %11s %7s %8s %s\n", val("run"), val("mode"), val("commands"), val("cohost"), val("n"), val("msgs_per_s"), val("wall_s"), val("cpu_s"), val("cpu_us_per_msg"), val("cpu_pct"), val("peak_rss_mb"), (val("ok") == "1" ? "yes" : "NO")
}' "$results"
echo "targets: burst ≤ 25 µs CPU/msg; paced ≤ 15 % of one core and ≤ 80 MB peak RSS"
echo "(burst msgs/s: first→last message counted by the engine; CPU %: of one core over GO → last message;"
echo " commands=on: the app's default config; commands=off: diagnostic, no line is handed to the queue actor;"
echo " co-host=on: the app's default (demo responder); off: diagnostic, no line is handed to the co-host)"
echo
echo "=== co-host context memory: ${BIN%/*}/cohost_memory (500 channels × 200 messages, each case a fresh process)"
"${BIN%/*}/cohost_memory" || status=1
if [ "$status" -ne 0 ]; then
  echo "some run FAILED verification or did not finish (see its report above)"
fi
exit "$status"
