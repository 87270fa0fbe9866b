#!/usr/bin/env bash
# deploy/local/down.sh [--purge] — stops what deploy/local/up.sh started, by the process ids it
# recorded in $LOCAL_STATE_DIR/pids (default ./data/local), nothing else: nginx, the gateways
# and the mock APIM get SIGTERM (graceful drain) then, after 10 s, SIGKILL; Redis SIGTERM;
# PostgreSQL a fast shutdown. --purge also deletes the state (database, bookings, logs, keys).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
S=${LOCAL_STATE_DIR:-$REPO/data/local}
[ -s "$S/pids" ] || { echo "[local] nothing recorded in $S/pids"; [ "${1:-}" = --purge ] && rm -rf "$S"; exit 0; }
PGBIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -1)")
RUN=(); [ "$(id -u)" -eq 0 ] && RUN=(runuser -u "${PG_TEST_USER:-postgres}" --)
# reverse order: the entry point first, the database last
tac "$S/pids" | while read -r pid name; do
  kill -0 "$pid" 2>/dev/null || continue
  if [ "$name" = postgresql ]; then
    "${RUN[@]}" "$PGBIN/pg_ctl" -D "$S/pg" -m fast -w stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  echo "[local] stopped $name ($pid)"
done
: >"$S/pids"
[ "${1:-}" = --purge ] && rm -rf "$S" && echo "[local] state deleted"
exit 0
