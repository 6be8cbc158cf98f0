#!/usr/bin/env bash
# ninecloud against the Node.js socket.io server it replaces, side by side, in one run.
#
#   scripts/bench.sh            the full run (about 40 minutes); writes BENCHMARKS.md
#   scripts/bench.sh --quick    every scenario at small scale, about a minute (the test suite
#                               runs this once as a smoke test of the harness)
#
# Builds ninecloud and bench/ in release mode, installs the Node reference (bench/node) from
# npm, starts PostgreSQL and a MongoDB-wire server when missing (scenario 4), then for each
# scenario and load level starts each server fresh on loopback, drives it with bench's loadgen,
# and reads the server's CPU time and memory from /proc/<pid>. With two or more cores the
# server runs on one core and the load generator on another (taskset), so every server gets
# the same single core and the load generator never competes with it.
#
# Scenarios (each against ninecloud, Node's socket.io 4 and, where it applies, the raw
# WebSocket baseline):
#   1 idle       N connections held: RSS per connection, connect rate
#   2 fanout     one room of C clients, 10 senders, rising message rates
#   3 rooms      R rooms of C clients, one sender per room (the channel dialect)
#   4 persisted  a small room at high message rates with ninecloud's chat log in SQLite,
#                PostgreSQL and MongoDB (every message stored before it is broadcast)
#   5 busy       B busy channels on PostgreSQL, one sender and one listener each: ninecloud
#                and Node + pg, both storing every message
# ninecloud runs as shipped: scenarios 2 and 3 also store every message (SQLite, the default).
# Node's reference stores nothing, but in scenarios 4 and 5 it also runs with PG_URL set
# (node-pg: one INSERT per message before the broadcast, as the originals did).
# Scenarios 3 to 5 run every level RUNS times (2; 1 in the quick run): the report gives the
# worse run and the spread.
#
# Results go to bench/results/ (bench/results/quick/ for --quick): <scenario>.jsonl (one JSON
# line per server and level), meta.md, report.md (tables with ratios against Node, and the
# aims met or not) and latency.png. The full run also writes BENCHMARKS.md: the report, then
# bench/analysis.md (the profiles and causes of every shortfall). Nothing here asserts a timing.
#
# Settings: BENCH_OUT (results folder), BENCH_ONLY (only these scenarios, e.g. "rooms busy"),
# BENCH_BIN (a folder with ninecloud, loadgen, wsbaseline and benchreport already built),
# BENCH_PIN=0 (no CPU pinning), and the scale variables below.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/ninecloud/target}
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
COMMAND="scripts/bench.sh${1:+ $1}"
# A quick run never overwrites the full run's results (bench/results/ is committed).
DEFAULT_OUT=$ROOT/bench/results
[ $QUICK = 0 ] || DEFAULT_OUT=$ROOT/bench/results/quick
OUT=${BENCH_OUT:-$DEFAULT_OUT}
RUN=$(mktemp -d /tmp/ninecloud-bench.XXXXXX)
SERVER_PID=
PIDS=()
mkdir -p "$OUT"

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  if [ -n "${PG_DB:-}" ]; then
    for db in "$PG_DB" "${PG_DB}_node" "${PG_DB}_busy" "${PG_DB}_busy_node"; do
      psql "$TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
    done
  fi
  rm -rf "$RUN"
  [ "${PORTS_TAKEN_OWNED:-0}" = 1 ] && rm -f "$PORTS_TAKEN"
  return 0
}
trap cleanup EXIT

step "building (release) and installing the Node reference"
if [ -n "${BENCH_BIN:-}" ]; then
  BIN=$BENCH_BIN
else
  cargo build -q --release -p ninecloud -p ninecloud-bench
  BIN=$CARGO_TARGET_DIR/release
fi
command -v node >/dev/null || apt_install nodejs npm
(cd bench/node && npm ci --no-audit --no-fund --loglevel=error)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_install fonts-dejavu-core
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# Every connection is a file descriptor in the server and in loadgen: where the hard limit is
# lower than what a scenario asks for (and cannot be raised), hold as many as it allows.
FD_LIMIT=$(ulimit -n)

# One core for the server, another for the load generator.
SERVER_ON=()
LOADGEN_ON=()
PINNING="none (BENCH_PIN=0 or a single core): server and load generator share the cores"
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  SERVER_ON=(taskset -c 1)
  LOADGEN_ON=(taskset -c 0)
  PINNING="server on CPU 1, load generator on CPU 0 (taskset)"
fi

step "scenario 4's chat logs: PostgreSQL and a MongoDB-wire server"
ensure_postgres
PG_DB="ncbench_$RANDOM$RANDOM"
PG_BASE=${TEST_POSTGRES_URL%/postgres}
ensure_secantus
MONGO_PORT=$(free_port)
secantusd-py --host 127.0.0.1 --port "$MONGO_PORT" --storage-path :memory: >"$RUN/mongo.log" 2>&1 &
PIDS+=($!)
wait_port "$MONGO_PORT" SecantusDB "$RUN/mongo.log"
for db in "$PG_DB" "${PG_DB}_node" "${PG_DB}_busy" "${PG_DB}_busy_node"; do
  psql "$TEST_POSTGRES_URL" -qc "CREATE DATABASE $db" >/dev/null
done

# --- servers ----------------------------------------------------------------------------------
start_server() { # kind, port, extra environment for ninecloud...
  local kind=$1 port=$2
  shift 2
  case $kind in
    ninecloud)
      mkdir -p "$RUN/nc-$port"
      # As shipped, but for the per-user chat and sign-in rate limits (a benchmark is one
      # user sending fast) and the per-address and total connection caps (every load client
      # comes from 127.0.0.1). ninecloud::mail at info: the sign-up code is in the log.
      env PORT="$port" HOST=127.0.0.1 DATA_DIR="$RUN/nc-$port" RUST_LOG=warn,ninecloud::mail=info \
        METRICS_ADDR=127.0.0.1:0 \
        CHAT_RATE_LIMIT_PER_MINUTE=0 AUTH_RATE_LIMIT_PER_MINUTE=0 SOCKET_MAX_PER_IP=0 \
        SOCKET_MAX_CONNECTIONS=0 HTTP_MAX_CONNECTIONS=0 HTTP_MAX_CONNECTIONS_PER_IP=0 "$@" \
        "${SERVER_ON[@]}" "$BIN/ninecloud" >"$RUN/server.log" 2>&1 &
      ;;
    node) env "$@" "${SERVER_ON[@]}" node bench/node/server.mjs "$port" >"$RUN/server.log" 2>&1 & ;;
    baseline) "${SERVER_ON[@]}" "$BIN/wsbaseline" "127.0.0.1:$port" >"$RUN/server.log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 1 150); do
    if [ "$kind" = ninecloud ]; then
      PORT=$port "$BIN/ninecloud" healthcheck >/dev/null 2>&1 && return 0
    else
      (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
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
# The NINE Cloud dialect, but raw WebSocket frames for the baseline.
nine_or_raw() { if [ "$1" = baseline ]; then echo raw; else echo nine; fi; }

# loadgen against the running server; adds the server's CPU and memory to its JSON line:
# server_cpu_s from the moment loadgen starts sending (it creates the phase file half a second
# before) to its end, server_cpu_total_s with connecting and joining too.
measure() { # scenario, kind, level, store, loadgen args...
  local scenario=$1 kind=$2 level=$3 store=$4
  shift 4
  local cpu0 cpus='' rss0 cpu1 peak=0 r
  rm -f "$RUN/phase"
  cpu0=$(cpu_seconds)
  rss0=$(rss_kib)
  "${LOADGEN_ON[@]}" "$BIN/loadgen" --addr "127.0.0.1:$PORT" --compact \
    --phase-file "$RUN/phase" "$@" >"$RUN/report.json" &
  local lg=$!
  # The peak resident memory while the load runs (connections held, queues full).
  while kill -0 "$lg" 2>/dev/null; do
    if [ -z "$cpus" ] && [ -f "$RUN/phase" ]; then cpus=$(cpu_seconds); fi
    r=$(rss_kib)
    [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.1
  done
  wait "$lg" || die "loadgen failed against $kind ($scenario, $level)"
  cpu1=$(cpu_seconds)
  [ -n "$cpus" ] || cpus=$cpu0
  python3 - "$RUN/report.json" "$scenario" "$kind" "$level" "$store" "$cpu0" "$cpus" "$cpu1" \
    "$rss0" "$peak" "${RUN_NO:-1}" \
    <<'PY' | tee -a "$OUT/$scenario.jsonl"
import json, sys
r = json.load(open(sys.argv[1]))
scenario, kind, level, store = sys.argv[2:6]
cpu0, cpus, cpu1, rss0, peak = map(float, sys.argv[6:11])
r.update(scenario=scenario, server=kind, level=level, store=store or None, run=int(sys.argv[11]),
         server_cpu_s=round(cpu1 - cpus, 3), server_cpu_total_s=round(cpu1 - cpu0, 3),
         server_rss_kib_before=rss0, server_rss_kib_peak=max(peak, rss0))
print(json.dumps(r))
PY
}

# The channel ids a channel-dialect run joins, in $channels: N channels made over REST by one
# account on a fresh ninecloud (its token exported as LOADGEN_TOKEN), or Node's ids 1..N.
# `channels_for KIND N`
channels_for() {
  if [ "$1" = ninecloud ]; then
    read -r LOADGEN_TOKEN channels < <(python3 bench/channels_setup.py \
      "http://127.0.0.1:$PORT" "$RUN/server.log" "$2")
    export LOADGEN_TOKEN
  else
    channels=$(seq -s, 1 "$2")
  fi
}

# After a level that no run sustained (the benchmark report's rule: every client connected,
# every message acknowledged and delivered exactly once, p99 ≤ 500 ms), the server is past its
# knee: higher levels are skipped for it. `held SCENARIO SERVER STORE LEVEL`
held() {
  python3 - "$OUT/$1.jsonl" "$2" "$3" "$4" <<'PY'
import json, sys
path, server, store, level = sys.argv[1:5]
runs = [r for r in map(json.loads, open(path)) if r["server"] == server
        and (r.get("store") or "") == store and r["level"] == level]
ok = any(r["connected"] == r["clients"] and r["sent"] > 0 and r["acked"] == r["sent"]
         and r["missing"] == 0 and r["duplicates"] == 0 and r["latency_ms_p99"] <= 500
         for r in runs)
sys.exit(0 if ok else 1)
PY
}

if [ $QUICK = 1 ]; then
  IDLE_CLIENTS=500
  FAN_CLIENTS=100; FAN_RATES="100 400"
  ROOMS=5; ROOM_CLIENTS=10; ROOM_RATES="100 400"
  PERSIST_CLIENTS=10; PERSIST_RATES="200"; MONGO_RATES="200"
  BUSY_CHANNELS=5; BUSY_RATES="200"
  SECONDS_PER_LEVEL=2; DRAIN=1; RUNS=1
else
  IDLE_CLIENTS=${IDLE_CLIENTS:-20000}
  FAN_CLIENTS=${FAN_CLIENTS:-500}; FAN_RATES=${FAN_RATES:-"25 50 100 200 400 800 1600"}
  ROOMS=${ROOMS:-100}; ROOM_CLIENTS=${ROOM_CLIENTS:-20}
  # Scenarios 3 to 5 go up until each server saturates (see `held`).
  ROOM_RATES=${ROOM_RATES:-"500 1000 2000 4000 8000 16000 32000"}
  PERSIST_CLIENTS=${PERSIST_CLIENTS:-10}
  PERSIST_RATES=${PERSIST_RATES:-"500 1000 2000 4000 8000 16000 24000 32000 48000"}
  # SecantusDB (Python) saturates early: its levels only show that the MongoDB path works.
  MONGO_RATES=${MONGO_RATES:-"500 1000 2000"}
  BUSY_CHANNELS=${BUSY_CHANNELS:-100}; BUSY_RATES=${BUSY_RATES:-"1000 2500 5000 10000 20000 30000 40000"}
  SECONDS_PER_LEVEL=${SECONDS_PER_LEVEL:-10}; DRAIN=${DRAIN:-3}; RUNS=${RUNS:-2}
fi
if [ "$FD_LIMIT" != unlimited ] && [ "$IDLE_CLIENTS" -gt $((FD_LIMIT - 100)) ]; then
  echo "open files are limited to $FD_LIMIT per process here: $((FD_LIMIT - 100)) idle clients, not $IDLE_CLIENTS"
  IDLE_CLIENTS=$((FD_LIMIT - 100))
fi
rm -f "$OUT"/{idle,fanout,rooms,persisted,busy}.jsonl "$OUT"/report.md "$OUT"/latency.png
# BENCH_ONLY="rooms busy" runs only the named scenarios (to look into one; no report then).
want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }

if want idle; then
  step "scenario 1, idle: $IDLE_CLIENTS connections held"
  for kind in ninecloud node baseline; do
    PORT=$(free_port)
    start_server "$kind" "$PORT"
    measure idle "$kind" "$IDLE_CLIENTS" "" --protocol "$(nine_or_raw "$kind")" --clients "$IDLE_CLIENTS" \
      --connect-rate 2000 --senders 0 --no-login --duration 3 --drain 0 >/dev/null
    stop_server
  done
fi

if want fanout; then
  step "scenario 2, fan-out: one room of $FAN_CLIENTS clients, 10 senders, $FAN_RATES msg/s"
  for kind in ninecloud node baseline; do
    for rate in $FAN_RATES; do
      [ -n "${PAST_KNEE:-}" ] && continue
      PORT=$(free_port)
      start_server "$kind" "$PORT"
      measure fanout "$kind" "$rate" "" --protocol "$(nine_or_raw "$kind")" --clients "$FAN_CLIENTS" --senders 10 \
        --rate "$rate" --duration "$SECONDS_PER_LEVEL" --drain "$DRAIN" >/dev/null
      stop_server
      held fanout "$kind" "" "$rate" || PAST_KNEE=$rate
    done
    unset PAST_KNEE
  done
fi

if want rooms; then
  step "scenario 3, many rooms: $ROOMS rooms of $ROOM_CLIENTS clients, one sender each, $ROOM_RATES msg/s"
  for kind in ninecloud node; do
    for rate in $ROOM_RATES; do for RUN_NO in $(seq 1 "$RUNS"); do
      [ -n "${PAST_KNEE:-}" ] && continue
      PORT=$(free_port)
      start_server "$kind" "$PORT"
      channels_for "$kind" "$ROOMS"
      measure rooms "$kind" "$rate" "" --protocol channels --channels "$channels" \
        --clients $((ROOMS * ROOM_CLIENTS)) --senders "$ROOMS" --rate "$rate" \
        --duration "$SECONDS_PER_LEVEL" --drain "$DRAIN" >/dev/null
      stop_server
    done
    [ -z "${PAST_KNEE:-}" ] && ! held rooms "$kind" "" "$rate" && PAST_KNEE=$rate
    done
    unset PAST_KNEE
  done
  unset LOADGEN_TOKEN
fi

if want persisted; then
  step "scenario 4, persisted chat: $PERSIST_CLIENTS clients, 10 senders, $PERSIST_RATES msg/s"
  for store in sqlite postgres mongodb node node-pg; do
    rates=$PERSIST_RATES
    [ "$store" = mongodb ] && rates=$MONGO_RATES
    kind=ninecloud tag=$store
    case $store in node) kind=node tag= ;; node-pg) kind=node tag=postgres ;; esac
    for rate in $rates; do for RUN_NO in $(seq 1 "$RUNS"); do
      [ -n "${PAST_KNEE:-}" ] && continue
      [ "$store" = mongodb ] && [ "$RUN_NO" -gt 1 ] && continue
      PORT=$(free_port)
      case $store in
        sqlite) start_server ninecloud "$PORT" ;;
        postgres) start_server ninecloud "$PORT" DATABASE_URL="$PG_BASE/$PG_DB" ;;
        mongodb) start_server ninecloud "$PORT" \
          MONGO_DB="mongodb://127.0.0.1:$MONGO_PORT/bench$rate?retryWrites=false" ;;
        node) start_server node "$PORT" ;;
        node-pg) start_server node "$PORT" PG_URL="$PG_BASE/${PG_DB}_node" ;;
      esac
      measure persisted "$kind" "$rate" "$tag" --protocol nine --clients "$PERSIST_CLIENTS" \
        --senders 10 --rate "$rate" --duration "$SECONDS_PER_LEVEL" --drain "$DRAIN" >/dev/null
      stop_server
    done
    [ -z "${PAST_KNEE:-}" ] && ! held persisted "$kind" "$tag" "$rate" && PAST_KNEE=$rate
    done
    unset PAST_KNEE
  done
fi

if want busy; then
  step "scenario 5, busy channels on PostgreSQL: $BUSY_CHANNELS channels, one sender and one listener each, $BUSY_RATES msg/s"
  for kind in ninecloud node; do
    for rate in $BUSY_RATES; do for RUN_NO in $(seq 1 "$RUNS"); do
      [ -n "${PAST_KNEE:-}" ] && continue
      PORT=$(free_port)
      if [ "$kind" = ninecloud ]; then
        start_server ninecloud "$PORT" DATABASE_URL="$PG_BASE/${PG_DB}_busy"
      else
        start_server node "$PORT" PG_URL="$PG_BASE/${PG_DB}_busy_node"
      fi
      channels_for "$kind" "$BUSY_CHANNELS"
      measure busy "$kind" "$rate" postgres --protocol channels --channels "$channels" \
        --clients $((BUSY_CHANNELS * 2)) --senders "$BUSY_CHANNELS" --rate "$rate" \
        --duration "$SECONDS_PER_LEVEL" --drain "$DRAIN" >/dev/null
      stop_server
    done
    [ -z "${PAST_KNEE:-}" ] && ! held busy "$kind" postgres "$rate" && PAST_KNEE=$rate
    done
    unset PAST_KNEE
  done
  unset LOADGEN_TOKEN
fi

# --- report -----------------------------------------------------------------------------------
if [ -n "${BENCH_ONLY:-}" ]; then
  step "results in $OUT (only $BENCH_ONLY: no report)"
  ls -1 "$OUT"
  exit 0
fi
step "report"
{
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') with \`$COMMAND\`$([ $QUICK = 1 ] && echo ' (quick: small scale, not a result)')."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| machine | $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r) |"
  echo "| pinning | $PINNING |"
  echo "| open files | $FD_LIMIT per process (RLIMIT_NOFILE; each connection holds one in the server and one in loadgen) |"
  echo "| ninecloud | $(git rev-parse --short HEAD 2>/dev/null || echo unknown), release build, $(rustc --version 2>/dev/null | cut -d' ' -f1-2); defaults but \`CHAT_RATE_LIMIT_PER_MINUTE=0 AUTH_RATE_LIMIT_PER_MINUTE=0\`; SQLite chat log unless named |"
  echo "| reference | Node.js $(node --version), socket.io $(node -p "require('./bench/node/node_modules/socket.io/package.json').version"), default settings, no store; node-pg: the same with pg $(node -p "require('./bench/node/node_modules/pg/package.json').version"), one INSERT per message before the broadcast |"
  echo "| baseline | wsbaseline: tokio + tungstenite broadcast, no Socket.IO framing, no acknowledgements |"
  echo "| load | loadgen, Engine.IO 4 / Socket.IO 5 over WebSocket; $SECONDS_PER_LEVEL s of sending per level and $DRAIN s to drain; a fresh server for every level |"
  echo "| PostgreSQL | $(psql "$TEST_POSTGRES_URL" -tAc 'SHOW server_version' 2>/dev/null), on this machine, \`synchronous_commit\` $(psql "$TEST_POSTGRES_URL" -tAc 'SHOW synchronous_commit' 2>/dev/null) |"
  echo "| repeats | scenarios 3–5: every level $RUNS times, each on a fresh server; tables show the worse run and the spread |"
  echo "| MongoDB | SecantusDB (a MongoDB-wire server in Python), \`retryWrites=false\` |"
} >"$OUT/meta.md"
if [ $QUICK = 0 ] && [ -z "${BENCH_OUT:-}" ]; then
  # The measured report, then the profiles and causes behind each shortfall (bench/analysis.md,
  # written by hand from the profiles; after editing it, rerun
  # `benchreport bench/results BENCHMARKS.md bench/analysis.md`).
  "$BIN/benchreport" "$OUT" "$ROOT/BENCHMARKS.md" "$ROOT/bench/analysis.md"
else
  "$BIN/benchreport" "$OUT" >/dev/null
fi
step "results in $OUT"
ls -1 "$OUT"
