# Shared by scripts/test.sh and scripts/bench.sh: output helpers, package installs, and the
# services the tests and benchmarks need, installed and started when missing (a fresh
# machine may have none of them). Source it; it defines functions and runs nothing.

step() { printf '\n==> %s\n' "$*"; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || die "need $* but apt-get is not available; install it by hand"
  if [ "$APT_UPDATED" = 0 ]; then
    apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# A port for a server this script starts a little later. Not one the OS hands out for bind(0):
# that range (32768-60999) is also where every outgoing connection's local port comes from, so a
# port found free there can be taken by a client socket before the server binds it. A random
# free one in 20000-29999 instead, never the same twice in one run (PORTS_TAKEN, a file).
# `free_port 0 1 1000 1001` gives a port P such that P, P+1, P+1000 and P+1001 are all free and
# kept for the caller (deploy.sh's colours listen on P+i and their metrics on P+1000+i).
if [ -z "${PORTS_TAKEN:-}" ]; then
  PORTS_TAKEN=$(mktemp "${RUN_DIR:-${TMPDIR:-/tmp}}/ninecloud-ports.XXXXXX")
  PORTS_TAKEN_OWNED=1 # the sourcing script removes it (test.sh: with its RUN_DIR)
fi
export PORTS_TAKEN
free_port() {
  python3 - "$PORTS_TAKEN" "$@" <<'PY'
import random, socket, sys
taken_file, offsets = sys.argv[1], [int(o) for o in sys.argv[2:]] or [0]
def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()
with open(taken_file, "a+") as f:
    f.seek(0)
    taken = set(f.read().split())
    for _ in range(1000):
        base = random.randrange(20000, 30000 - max(offsets))
        ports = [base + o for o in offsets]
        if any(str(p) in taken for p in ports) or not all(free(p) for p in ports):
            continue
        f.write("".join(f"{p}\n" for p in ports))
        print(base)
        break
    else:
        sys.exit("no free port in 20000-29999")
PY
}

wait_port() { # port, name, log
  for _ in $(seq 1 150); do
    if (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  cat "$3" >&2 || true
  die "$2 did not start listening on 127.0.0.1:$1"
}

# The MongoDB-wire server the tests and benchmarks use (DESIGN.md: SecantusDB, from PyPI).
ensure_secantus() {
  command -v secantusd-py >/dev/null || python3 -m pip install -q SecantusDB \
    || python3 -m pip install -q --break-system-packages SecantusDB
}

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null; then
    echo "installing PostgreSQL"
    apt_install postgresql
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    local ver
    ver=$(ls /etc/postgresql | sort -V | tail -n1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
    pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not start"
  fi
  # A password role of our own works whatever pg_hba.conf says for TCP (trust or scram).
  as_root su postgres -s /bin/sh -c "psql -q -v ON_ERROR_STOP=1 -c \"DO \\\$\\\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'nctest') THEN
        CREATE ROLE nctest LOGIN SUPERUSER PASSWORD 'nctest';
      END IF; END \\\$\\\$;\"" >/dev/null
  export TEST_POSTGRES_URL="postgres://nctest:nctest@127.0.0.1:5432/postgres"
}

ensure_mariadb() {
  if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
    echo "installing MariaDB"
    apt_install mariadb-server
  fi
  if ! mariadb-admin ping --silent >/dev/null 2>&1; then
    as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    for _ in $(seq 1 100); do mariadb-admin ping --silent >/dev/null 2>&1 && break; sleep 0.2; done
    mariadb-admin ping --silent >/dev/null 2>&1 || die "MariaDB did not start"
  fi
  # root may use socket authentication only; the tests log in over TCP as a user of their own.
  as_root mariadb -uroot -e "
    CREATE USER IF NOT EXISTS 'nctest'@'localhost' IDENTIFIED BY 'nctest';
    CREATE USER IF NOT EXISTS 'nctest'@'127.0.0.1' IDENTIFIED BY 'nctest';
    CREATE USER IF NOT EXISTS 'nctest'@'%' IDENTIFIED BY 'nctest';
    GRANT ALL PRIVILEGES ON *.* TO 'nctest'@'localhost';
    GRANT ALL PRIVILEGES ON *.* TO 'nctest'@'127.0.0.1';
    GRANT ALL PRIVILEGES ON *.* TO 'nctest'@'%';
    FLUSH PRIVILEGES;"
  export TEST_MYSQL_URL="mysql://nctest:nctest@127.0.0.1:3306/mysql"
}

ensure_redis() {
  command -v redis-server >/dev/null || { echo "installing Redis"; apt_install redis-server; }
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/ninecloud-test-redis.log
    for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  export TEST_REDIS_URL="redis://127.0.0.1:6379"
}
