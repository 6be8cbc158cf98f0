#!/usr/bin/env bash
# Runs the HTTP integration suites (every backend, and the MongoDB chat log) and the
# socket.io-client suites N times in a row (default 10) on the services scripts/test.sh
# starts, and lists every test that failed at least once, with how often. Not part of .ci/run:
# it is the check that the suite cannot fail by chance.
#
#   scripts/flake-check.sh [N]       TEST_DBS="sqlite" scripts/flake-check.sh 3
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10}
case $N in '' | *[!0-9]* | 0) echo "usage: scripts/flake-check.sh [N > 0]" >&2; exit 2 ;; esac
FLAKE_RUNS=$N exec bash scripts/test.sh
