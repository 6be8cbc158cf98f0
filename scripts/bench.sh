#!/usr/bin/env bash
# ninecloud against the Node.js socket.io server it replaces, side by side, in one run.
#
#   scripts/bench.sh            the full run (tens of minutes)
#   scripts/bench.sh --quick    every scenario at small scale (the test suite runs this once)
#
# Builds ninecloud and bench/ in release mode, installs the Node reference (bench/node) from
# npm, then for each scenario starts each server fresh on loopback, drives it with
# bench's loadgen, and reads the server's CPU time and memory from /proc/<pid>.
# Results: bench/results/<scenario>.jsonl (one JSON line per server and load level).
# Nothing here asserts a timing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/ninecloud/target}
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
OUT=${BENCH_OUT:-$ROOT/bench/results}
RUN=$(mktemp -d /tmp/ninecloud-bench.XXXXXX)
SERVER_PID=
mkdir -p "$OUT"

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

step "building (release) and installing the Node reference"
if [ -n "${BENCH_BIN:-}" ]; then
  BIN=$BENCH_BIN # a folder with ninecloud, loadgen and wsbaseline already built
else
  cargo build -q --release -p ninecloud -p ninecloud-bench
  BIN=$CARGO_TARGET_DIR/release
fi
(cd bench/node && npm ci --no-audit --no-fund --loglevel=error)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# --- servers ----------------------------------------------------------------------------------
start_server() { # kind, port
  local kind=$1 port=$2
  case $kind in
    ninecloud)
      mkdir -p "$RUN/nc-$port"
      # shellcheck disable=SC2086 # NC_ENV: extra settings, split on purpose
      env PORT="$port" HOST=127.0.0.1 DATA_DIR="$RUN/nc-$port" RUST_LOG=warn \
        CHAT_RATE_LIMIT_PER_MINUTE=0 SOCKET_BUFFER_SIZE=65536 ${NC_ENV:-} \
        "$BIN/ninecloud" >"$RUN/server.log" 2>&1 &
      ;;
    node) node bench/node/server.mjs "$port" >"$RUN/server.log" 2>&1 & ;;
    baseline) "$BIN/wsbaseline" "127.0.0.1:$port" >"$RUN/server.log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$RUN/server.log" >&2
  die "$kind did not start"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# CPU seconds (user + system) and resident memory (KiB) of the server, from /proc.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$SERVER_PID/stat"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }

# loadgen against the running server; adds the server's CPU and memory to its JSON line.
measure() { # scenario, kind, level, loadgen args...
  local scenario=$1 kind=$2 level=$3
  shift 3
  local proto=()
  [ "$kind" = baseline ] && proto=(--protocol raw)
  local cpu0 rss0 report cpu1 rss1 peak=0 r
  cpu0=$(cpu_seconds)
  rss0=$(rss_kib)
  "$BIN/loadgen" --addr "127.0.0.1:$PORT" "${proto[@]}" --compact "$@" >"$RUN/report.json" &
  local lg=$!
  # The peak resident memory while the load runs (connections held, queues full).
  while kill -0 "$lg" 2>/dev/null; do
    r=$(rss_kib)
    [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.2
  done
  wait "$lg" || die "loadgen failed against $kind"
  report=$(cat "$RUN/report.json")
  cpu1=$(cpu_seconds)
  rss1=$peak
  python3 - "$report" "$scenario" "$kind" "$level" "$cpu0" "$cpu1" "$rss0" "$rss1" <<'PY' | tee -a "$OUT/$scenario.jsonl"
import json, sys
r = json.loads(sys.argv[1])
scenario, kind, level = sys.argv[2], sys.argv[3], sys.argv[4]
cpu0, cpu1, rss0, rss1 = map(float, sys.argv[5:9])
r.update(scenario=scenario, server=kind, level=level, server_cpu_s=round(cpu1 - cpu0, 3),
         server_rss_kib_before=rss0, server_rss_kib_peak=rss1)
print(json.dumps(r))
PY
}

if [ $QUICK = 1 ]; then
  IDLE_CLIENTS=500; FAN_CLIENTS=100; FAN_RATES="100 400"; FAN_SECONDS=3
else
  IDLE_CLIENTS=${IDLE_CLIENTS:-20000}; FAN_CLIENTS=${FAN_CLIENTS:-500}
  FAN_RATES=${FAN_RATES:-"100 200 400 800 1600"}; FAN_SECONDS=${FAN_SECONDS:-15}
fi
rm -f "$OUT"/idle.jsonl "$OUT"/fanout.jsonl

step "scenario 1, idle: $IDLE_CLIENTS connections held"
for kind in ninecloud node baseline; do
  PORT=$(free_port)
  start_server "$kind" "$PORT"
  measure idle "$kind" "$IDLE_CLIENTS" --clients "$IDLE_CLIENTS" --connect-rate 2000 \
    --senders 0 --no-login --duration 3 --drain 0 >/dev/null
  stop_server
done

step "scenario 2, fan-out: one room of $FAN_CLIENTS clients, 10 senders, rates $FAN_RATES/s"
for kind in ninecloud node baseline; do
  for rate in $FAN_RATES; do
    PORT=$(free_port)
    start_server "$kind" "$PORT"
    measure fanout "$kind" "$rate" --clients "$FAN_CLIENTS" --senders 10 --rate "$rate" \
      --duration "$FAN_SECONDS" --drain 3 >/dev/null
    stop_server
  done
done

step "results in $OUT"
ls -1 "$OUT"
