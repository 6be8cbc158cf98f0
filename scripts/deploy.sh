#!/usr/bin/env bash
# One blue/green release of ninecloud behind Nginx.
#
#   scripts/deploy.sh [--runtime compose|process] [options]
#
# 1. finds the active colour (blue or green; none before the first release);
# 2. builds and starts the idle colour;
# 3. waits until the idle colour itself answers /ready (directly, never through Nginx), with
#    a deadline; a colour that exits or is not ready in time is stopped again (rollback);
# 4. writes Nginx's upstream for the new colour, checks it with `nginx -t` and reloads Nginx
#    gracefully (`nginx -s reload`, never a restart); a configuration Nginx rejects is put back
#    as it was (rollback);
# 5. tells the old colour to drain (SIGTERM: /ready turns 503, in-flight requests finish,
#    sockets are closed so their clients reconnect through Nginx to the new colour) and stops
#    it once drained.
# A rollback leaves the old colour serving, stops the new one and exits non-zero. A lock keeps
# two deploys from running at once.
#
# Runtimes (the same steps for both):
#   compose   the colours are the blue and green services of docker-compose.blue-green.yml
#             (the default where `docker compose` works)
#   process   the colours are local processes on loopback (the default elsewhere)
#
# Options (each also as an environment variable):
#   --runtime R            DEPLOY_RUNTIME
#   --state-dir DIR        DEPLOY_STATE_DIR     (.deploy)  active colour, lock, Nginx config, logs
#   --env-file FILE        DEPLOY_ENV_FILE      (.env if present) KEY=VALUE lines for the colours
#   --nginx-dir DIR        DEPLOY_NGINX_DIR     (nginx)   the release's Nginx configuration
#   --ready-timeout SECS   DEPLOY_READY_TIMEOUT (60)      deadline for the new colour's /ready
#   --drain-timeout SECS   DEPLOY_DRAIN_TIMEOUT (35)      SIGTERM to SIGKILL for the old colour
#   --settle SECS          DEPLOY_SETTLE        (2)       after the reload, before the drain
# Process runtime only:
#   NINECLOUD_BIN    the server binary (default: `cargo build --release`, then target/release)
#   BLUE_PORT, GREEN_PORT (3101, 3201)  first port of each colour; instance i listens on +i
#   INSTANCES (1)    processes per colour (Nginx keeps a client on one of them)
#   NGINX_LISTEN (127.0.0.1:8080)  NGINX_BIN (nginx)
# Compose runtime only:
#   COMPOSE_FILE (docker-compose.blue-green.yml), NGINX_LISTEN (80)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

RUNTIME=${DEPLOY_RUNTIME:-}
STATE=${DEPLOY_STATE_DIR:-$ROOT/.deploy}
ENV_FILE=${DEPLOY_ENV_FILE:-}
NGINX_SRC=${DEPLOY_NGINX_DIR:-$ROOT/nginx}
READY_TIMEOUT=${DEPLOY_READY_TIMEOUT:-60}
DRAIN_TIMEOUT=${DEPLOY_DRAIN_TIMEOUT:-35}
SETTLE=${DEPLOY_SETTLE:-2}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case $1 in
    --runtime) RUNTIME=$2; shift 2 ;;
    --state-dir) STATE=$2; shift 2 ;;
    --env-file) ENV_FILE=$2; shift 2 ;;
    --nginx-dir) NGINX_SRC=$2; shift 2 ;;
    --ready-timeout) READY_TIMEOUT=$2; shift 2 ;;
    --drain-timeout) DRAIN_TIMEOUT=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'deploy.sh: unknown option %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done

STARTED=$(date +%s)
step() { printf '[deploy %3ss] %s\n' "$(($(date +%s) - STARTED))" "$*"; }
die() { printf '[deploy] FAILED: %s\n' "$*" >&2; exit 1; }

if [ -z "$RUNTIME" ]; then
  if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
    RUNTIME=compose
  else
    RUNTIME=process
  fi
fi
case $RUNTIME in compose | process) ;; *) die "--runtime must be compose or process, not $RUNTIME" ;; esac
if [ -z "$ENV_FILE" ] && [ -f "$ROOT/.env" ]; then ENV_FILE=$ROOT/.env; fi
if [ -n "$ENV_FILE" ]; then
  [ -f "$ENV_FILE" ] || die "env file $ENV_FILE does not exist"
  ENV_FILE=$(cd "$(dirname "$ENV_FILE")" && pwd)/$(basename "$ENV_FILE")
fi
[ -f "$NGINX_SRC/nginx.conf" ] || die "no nginx.conf in $NGINX_SRC"
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
NGX=$STATE/nginx

# --- one deploy at a time -----------------------------------------------------------------
exec 9>"$STATE/lock"
if ! flock -n 9; then
  die "another deploy is running (lock $STATE/lock)"
fi

other() { if [ "$1" = blue ]; then echo green; else echo blue; fi; }

# --- process runtime ------------------------------------------------------------------------
INSTANCES=${INSTANCES:-1}
port_of() { # colour, instance
  local base
  if [ "$1" = blue ]; then base=${BLUE_PORT:-3101}; else base=${GREEN_PORT:-3201}; fi
  echo $((base + $2))
}

process_pids() { # colour: the pids of its running instances
  local f pid
  for f in "$STATE/$1"-*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
  done
}

process_running() { [ -n "$(process_pids "$1")" ]; }

process_prepare() {
  if [ -z "${NINECLOUD_BIN:-}" ]; then
    step "building the release binary (cargo build --release)"
    cargo build --release --locked --bin ninecloud
    NINECLOUD_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/ninecloud
  fi
  [ -x "$NINECLOUD_BIN" ] || die "server binary $NINECLOUD_BIN is missing or not executable"
  NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
  [ -x "$NGINX_BIN" ] || die "nginx is not installed (apt-get install nginx)"
  NGINX_LISTEN=${NGINX_LISTEN:-127.0.0.1:8080}
}

process_start() { # colour
  local colour=$1 i port
  process_stop "$colour" 5 # leftovers of an earlier, failed release
  mkdir -p "$STATE/data"
  for ((i = 0; i < INSTANCES; i++)); do
    port=$(port_of "$colour" "$i")
    # The previous release's log of this slot is kept as .log.1.
    if [ -f "$STATE/$colour-$i.log" ]; then mv "$STATE/$colour-$i.log" "$STATE/$colour-$i.log.1"; fi
    (
      set -a
      # Defaults that keep both colours on the same stores; the env file overrides them.
      export DATA_DIR=$STATE/data HOST=127.0.0.1
      # shellcheck disable=SC1090 # the operator's env file
      if [ -n "$ENV_FILE" ]; then . "$ENV_FILE"; fi
      # Each instance's own metrics port (Prometheus scrapes 127.0.0.1:<port + 1000>).
      export PORT=$port INSTANCE_NAME=$colour-$i METRICS_ADDR=127.0.0.1:$((port + 1000))
      set +a
      exec setsid "$NINECLOUD_BIN" serve </dev/null >>"$STATE/$colour-$i.log" 2>&1 9>&-
    ) &
    echo $! >"$STATE/$colour-$i.pid"
    step "started $colour instance $i (pid $!, 127.0.0.1:$port, log $STATE/$colour-$i.log)"
  done
}

process_ready() { # colour: 0 when every instance answers /ready itself, 2 when one has exited
  local colour=$1 i port
  for ((i = 0; i < INSTANCES; i++)); do
    kill -0 "$(cat "$STATE/$colour-$i.pid")" 2>/dev/null || return 2
    port=$(port_of "$colour" "$i")
    curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$port/ready" 2>/dev/null || return 1
  done
}

process_stop() { # colour, seconds before SIGKILL
  local colour=$1 wait=$2 pids pid end
  pids=$(process_pids "$colour")
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    end=$(($(date +%s) + wait))
    while [ -n "$(process_pids "$colour")" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
    pids=$(process_pids "$colour")
    if [ -n "$pids" ]; then
      step "$colour did not stop within ${wait}s; killing it"
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
    fi
  fi
  rm -f "$STATE/$colour"-*.pid
}

process_upstream() { # colour
  local i
  for ((i = 0; i < INSTANCES; i++)); do
    echo "server 127.0.0.1:$(port_of "$1" "$i") max_fails=0;"
  done
}

# (Nginx must not inherit the lock: its master outlives this script.) Called with arguments
# through "${RUNTIME}_nginx", which shellcheck cannot follow.
# shellcheck disable=SC2120
process_nginx() { "$NGINX_BIN" -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" "$@" 9>&-; }
process_nginx_running() { [ -f "$NGX/run/nginx.pid" ] && kill -0 "$(cat "$NGX/run/nginx.pid")" 2>/dev/null; }
# shellcheck disable=SC2119
process_nginx_start() { process_nginx; } # refuses to start on a configuration it rejects
process_logs() { tail -n 20 "$STATE/$1"-*.log; }

# --- compose runtime ------------------------------------------------------------------------
COMPOSE_FILE=${COMPOSE_FILE:-$ROOT/docker-compose.blue-green.yml}
compose() { DEPLOY_STATE_DIR=$STATE docker compose -f "$COMPOSE_FILE" "$@"; }

compose_running() { [ -n "$(compose ps --status running -q "$1" 2>/dev/null)" ]; }

compose_prepare() {
  if ! command -v docker >/dev/null || ! docker compose version >/dev/null 2>&1; then
    die "docker compose is not available; use --runtime process"
  fi
  INSTANCES=1
  NGINX_LISTEN=${NGINX_LISTEN:-80}
}

compose_start() {
  step "building and starting $1 (docker compose up -d --build $1)"
  compose up -d --build "$1"
}

compose_ready() { # inside the container, straight to the instance: never through Nginx
  compose_running "$1" || return 2
  compose exec -T "$1" ninecloud healthcheck >/dev/null 2>&1
}

compose_stop() { compose stop -t "$2" "$1" >/dev/null; }

compose_upstream() { echo "server $1:3000 max_fails=0;"; }

compose_nginx() { compose exec -T nginx nginx -p /etc/nginx/ninecloud/ -c /etc/nginx/ninecloud/nginx.conf "$@"; }
compose_nginx_running() { compose_running nginx; }
compose_nginx_start() { compose up -d nginx && compose_nginx -t; }
compose_logs() { compose logs --tail 20 "$1"; }

# --- the release ----------------------------------------------------------------------------
"${RUNTIME}_prepare"
running() { "${RUNTIME}_running" "$@"; }

ACTIVE=
if [ -f "$STATE/active" ]; then ACTIVE=$(cat "$STATE/active"); fi
if [ -n "$ACTIVE" ] && ! running "$ACTIVE"; then
  if running "$(other "$ACTIVE")"; then ACTIVE=$(other "$ACTIVE"); else ACTIVE=; fi
fi
if [ -z "$ACTIVE" ] && running blue; then ACTIVE=blue; fi
if [ -z "$ACTIVE" ] && running green; then ACTIVE=green; fi
if [ -n "$ACTIVE" ]; then
  NEW=$(other "$ACTIVE")
  step "runtime $RUNTIME; active colour: $ACTIVE; releasing $NEW"
else
  NEW=blue
  step "runtime $RUNTIME; no colour is running: first release, on $NEW"
fi

rollback() { # message
  step "rolling back: stopping $NEW${ACTIVE:+, $ACTIVE stays active}"
  "${RUNTIME}_stop" "$NEW" 10 || true
  die "$1"
}

not_ready() { # message
  "${RUNTIME}_logs" "$NEW" >&2 || true
  rollback "$1"
}

"${RUNTIME}_start" "$NEW"

step "waiting for $NEW itself to answer /ready (deadline ${READY_TIMEOUT}s)"
deadline=$(($(date +%s) + READY_TIMEOUT))
while :; do
  rc=0
  "${RUNTIME}_ready" "$NEW" || rc=$?
  [ $rc = 0 ] && break
  [ $rc = 2 ] && not_ready "$NEW exited before it became ready"
  [ "$(date +%s)" -ge "$deadline" ] && not_ready "$NEW was not ready within ${READY_TIMEOUT}s"
  sleep 0.5
done
step "$NEW is ready"

# The release's Nginx configuration, with the new colour's upstream; the current one is kept
# until Nginx has accepted the new one.
step "writing Nginx's upstream for $NEW and checking it (nginx -t)"
rm -rf "$NGX.previous"
if [ -d "$NGX" ]; then cp -a "$NGX" "$NGX.previous"; fi
mkdir -p "$NGX/run" "$NGX/logs" "$NGX/tmp"
cp "$NGINX_SRC"/*.conf "$NGX/"
rm -f "$NGX/upstream.conf.example"
echo "listen $NGINX_LISTEN;" >"$NGX/listen.conf"
{
  echo "# written by scripts/deploy.sh at $(date -u +%FT%TZ)"
  echo "# colour: $NEW"
  "${RUNTIME}_upstream" "$NEW"
} >"$NGX/upstream.conf.new"
mv "$NGX/upstream.conf.new" "$NGX/upstream.conf"

# Nginx refused: its previous configuration goes back in place, then the release rolls back.
nginx_failed() { # message
  if [ -d "$NGX.previous" ]; then
    find "$NGX" -maxdepth 1 -name '*.conf' -delete
    cp -a "$NGX.previous"/*.conf "$NGX/"
  fi
  rollback "$1"
}

if "${RUNTIME}_nginx_running"; then
  if ! out=$("${RUNTIME}_nginx" -t 2>&1); then
    printf '%s\n' "$out" >&2
    nginx_failed "Nginx rejected the new configuration (nginx -t)"
  fi
  step "switching Nginx to $NEW (nginx -s reload: graceful, no restart)"
  "${RUNTIME}_nginx" -s reload || nginx_failed "nginx -s reload failed"
else
  step "starting Nginx on $NGINX_LISTEN"
  "${RUNTIME}_nginx_start" || nginx_failed "Nginx did not start with the new configuration"
fi
echo "$NEW" >"$STATE/active"

if [ -n "$ACTIVE" ]; then
  # Nginx's old workers finish the requests they already sent to the old colour first.
  sleep "$SETTLE"
  step "draining $ACTIVE (SIGTERM; stopped once drained, at most ${DRAIN_TIMEOUT}s)"
  "${RUNTIME}_stop" "$ACTIVE" "$DRAIN_TIMEOUT"
  step "$ACTIVE stopped"
fi
step "done: $NEW is active"
