#!/usr/bin/env bash
# StreamCue local-server benchmark: builds examples/sse_bench in release and runs it RUNS times,
# each run a fresh StreamCue process (engine + local server on a free 127.0.0.1 port + demo
# chat) whose CPU is measured idle with 0 and then N event-stream clients (the clients are a
# separate child process of each run). Prints every run's full report, then a summary table.
#
#   bash scripts/bench-sse.sh                 # 3 runs, N=200 clients, 20 s windows
#   RUNS=1 N=100 SECS=10 bash scripts/bench-sse.sh
# Each run's log (the app's console log, stderr) goes to target/bench-logs/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

RUNS="${RUNS:-3}"
N="${N:-200}"
SECS="${SECS:-20}"
BIN="target/release/examples/sse_bench"
LOGS="target/bench-logs"
mkdir -p "$LOGS"

echo "=== build: cargo build --release --example sse_bench"
cargo build --release --example sse_bench

cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo
echo "machine: nproc=$(nproc), CPU \"${cpu_model}\", $(uname -sr), $(free -m | awk '/^Mem:/{print $2}') MB RAM"
echo "rustc:   $(rustc --version)"
echo "git:     $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
read -r l1 l5 l15 _ </proc/loadavg
echo "load:    ${l1} ${l5} ${l15} (1/5/15 min)"
if awk -v l="$l1" 'BEGIN { exit !(l > 0.5) }'; then
  echo "WARNING: the machine is busy (load ${l1} on $(nproc) CPUs): the idle CPU figures are inflated"
  echo "         by contention and /health latencies are not comparable. Busiest processes now:"
  { ps -eo pid,pcpu,etime,comm --sort=-pcpu || true; } | head -4 | sed 's/^/         /' || true
fi

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
status=0

for i in $(seq 1 "$RUNS"); do
  label="sse#$i"
  log="$LOGS/sse-$i.log"
  echo
  echo "=== ${label}: ${BIN} --n ${N} --secs ${SECS}"
  if out="$("$BIN" --n "$N" --secs "$SECS" 2>"$log")"; then :; else status=1; fi
  printf '%s\n' "$out"
  plain="$(sed 's/\x1b\[[0-9;]*m//g' "$log")"
  echo "log: $(wc -l <"$log") lines on stderr ($log), $(grep -c ' WARN ' <<<"$plain" || true) WARN, $(grep -c ' ERROR ' <<<"$plain" || true) ERROR"
  { grep -E ' (WARN|ERROR) ' <<<"$plain" | sed 's/^[^ ]* *//' | sort | uniq -c | sort -rn || true; } | head -4 | sed 's/^/    /' || true
  printf '%s\n' "$out" | grep '^RESULT ' | sed "s/^RESULT /RESULT run=${label} /" >>"$results" || {
    echo "RESULT run=${label} ok=0" >>"$results"; status=1; }
done

echo
echo "=== summary (each row one fresh StreamCue process; CPU = getrusage user+sys of that process only, % of one core)"
echo "command: ${BIN} --n ${N} --secs ${SECS}"
awk '
function val(key,   i, kv) {
  for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) return kv[2] }
  return "-"
}
BEGIN {
  printf "%-7s %7s %8s %8s %8s %13s %14s %13s %8s %s\n", "run", "clients", "CPU% 0", "CPU% N", "diff pp", "events/client", "health p50/p95", "health max ms", "peak MB", "verified"
}
{
  printf "%-7s %7s %8s %8s %8s %13s %14s %13s %8s %s\n", val("run"), val("clients"), val("cpu0_pct"), val("cpun_pct"), val("diff_pp"), val("ev_min") "-" val("ev_max"), val("health_p50_ms") "/" val("health_p95_ms"), val("health_max_ms"), val("peak_rss_mb"), (val("ok") == "1" ? "yes" : "NO")
}' "$results"
echo "(CPU% 0 / N: the idle window with 0 / N event-stream clients connected; diff pp: percentage points"
echo " of one core; events/client: min-max data: lines a client received; health: 50 sequential GET /health"
echo " from the clients process, new connection each, with the N streams open)"
if [ "$status" -ne 0 ]; then
  echo "some run FAILED verification or did not finish (see its report above)"
fi
exit "$status"
