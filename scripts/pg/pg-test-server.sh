#!/usr/bin/env bash
# scripts/pg/pg-test-server.sh — a throwaway PostgreSQL server for tests.
#
#   scripts/pg/pg-test-server.sh [-- COMMAND [ARGS...]]
#
# Creates a cluster with Debian's PostgreSQL binaries (/usr/lib/postgresql/<15|16>/bin, or
# $PG_BIN) in a fresh temporary folder, listening only on a unix socket inside that folder
# (no TCP port, so nothing can collide with another server on the machine), creates the
# database "gwtest", and exports GW_TEST_PG_URL (a libpq URL) to COMMAND, whose exit status
# it returns. Without a COMMAND it prints the URL and serves until interrupted. The server is
# stopped and the folder removed on every exit path (trap).
# initdb refuses to run as root: as root the cluster is owned by the unprivileged "postgres"
# user (from the postgresql-common package) or $PG_TEST_USER.
set -euo pipefail

find_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
  for v in 16 15 17; do
    if [[ -x /usr/lib/postgresql/$v/bin/initdb ]]; then echo "/usr/lib/postgresql/$v/bin"; return; fi
  done
  echo "pg-test-server: no PostgreSQL server binaries (apt-get install postgresql-15)" >&2
  exit 2
}
BIN=$(find_bin)

if [[ $# -gt 0 && "$1" == "--" ]]; then shift; fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/gw-pg.XXXXXX")
chmod 0755 "$DIR"
RUN=()
if [[ $(id -u) -eq 0 ]]; then
  user=${PG_TEST_USER:-postgres}
  id "$user" >/dev/null 2>&1 || { echo "pg-test-server: running as root needs user $user" >&2; exit 2; }
  chown "$user" "$DIR"
  RUN=(runuser -u "$user" --)
fi
DATA=$DIR/data
LOG=$DIR/server.log
started=0

cleanup() {
  local rc=$?
  if [[ $started -eq 1 ]]; then
    "${RUN[@]}" "$BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${RUN[@]}" "$BIN/initdb" -D "$DATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync \
  >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }

# Test cluster: unix socket only, no durability cost, enough connections for parallel tests.
"${RUN[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
  -o "-c listen_addresses='' -k $DIR -c fsync=off -c synchronous_commit=off \
      -c full_page_writes=off -c max_connections=100" start >/dev/null \
  || { cat "$LOG" >&2; exit 1; }
started=1

"${RUN[@]}" "$BIN/psql" -h "$DIR" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
  -c "CREATE DATABASE gwtest" >/dev/null

export GW_TEST_PG_URL="postgresql:///gwtest?host=$DIR&user=postgres"
if [[ $# -gt 0 ]]; then
  "$@"
else
  echo "GW_TEST_PG_URL=$GW_TEST_PG_URL"
  echo "pg-test-server: serving until interrupted (log: $LOG)" >&2
  while true; do sleep 3600; done
fi
