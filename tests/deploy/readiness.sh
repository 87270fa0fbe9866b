#!/usr/bin/env bash
# tests/deploy/readiness.sh — what /ready says when PostgreSQL goes away (run inside
# scripts/pg/pg-test-server.sh by scripts/test.d/71-readiness.sh; GW_TEST_PG_URL is set).
#   A: a gateway with a loaded snapshot stays ready and serves its tools while PostgreSQL is
#      stopped, and picks up a change made after PostgreSQL is back;
#   B: a gateway started while PostgreSQL is down (GW_DB_MIGRATE_ON_START=false) is alive but
#      answers /ready 503 until its first snapshot loads, then 200 by itself.
set -euo pipefail
: "${GW_TEST_PG_URL:?run me through scripts/pg/pg-test-server.sh}"
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=$BUILD_DIR/mcpgw
. "$REPO/tests/deploy/lib.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/gw-ready.XXXXXX")
trap 'deploy_cleanup; rm -rf "$T"' EXIT

# The server pg-test-server started: its folder is the socket directory of the URL.
PGDIR=${GW_TEST_PG_URL#*host=}; PGDIR=${PGDIR%%&*}
PGBIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")
RUN=(); [ "$(id -u)" -eq 0 ] && RUN=(runuser -u "${PG_TEST_USER:-postgres}" --)
pg_stop() { "${RUN[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null; }
pg_start() {
  "${RUN[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
}

export DATABASE_URL=$GW_TEST_PG_URL GW_DATA_DIR=$T GW_LOG_FORMAT=text GW_LOG_LEVEL=warn
export GW_REGISTRY_POLL_SECONDS=1 GW_DB_CONNECT_TIMEOUT_SECONDS=2 GW_ACCESS_LOG=false
"$BIN" import "$REPO/tools/mock-apim/openapi/service-booking.yaml" --spec-id service-booking \
  --bundle service-booking --upstream service-booking --activate >"$T/import.log" 2>&1 ||
  { cat "$T/import.log"; exit 1; }
# every MCP request needs a credential (GW_AUTH_MODE=required, the default): an API key
MCP_TOKEN=$("$BIN" keys create --name ready-test --subject svc-ready --role customer-care --json 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
export MCP_TOKEN

declare -A BASE
start_gw() { # NAME [env...]: starts a gateway, sets its base URL in BASE[NAME]
  local name=$1; shift
  env "$@" "$BIN" serve --listen 127.0.0.1:0 --port-file "$T/$name.port" 2>"$T/$name.log" &
  PIDS+=("$!")
  local port; port=$(wait_port "$T/$name.port" "$!" "$T/$name.log")
  BASE[$name]=http://127.0.0.1:$port
}

# ---- A: ready gateway, PostgreSQL stops ----
start_gw a
wait_code "${BASE[a]}/ready" 200 10 && ok "A: ready with PostgreSQL up" || not_ok "A: ready with PostgreSQL up"
expect_eq "A: serves the 9 service-booking tools" "$(tool_count "${BASE[a]}")" 9
pg_stop
ok "PostgreSQL stopped"
# give the watcher time to notice (poll 1 s, connect timeout 2 s) and check /ready throughout
codes=""
for _ in $(seq 1 20); do codes+="$(http_code "${BASE[a]}/ready") "; sleep 0.25; done
if [ -z "$(echo $codes | tr ' ' '\n' | grep -vx 200)" ]; then ok "A: /ready stays 200 while PostgreSQL is down (20 probes over 5 s)"
else not_ok "A: /ready stays 200 while PostgreSQL is down" "$codes"; fi
if grep -q "listener lost\|reload failed" "$T/a.log"; then ok "A: noticed the outage (logged; metrics and alerts report it)"
else not_ok "A: noticed the outage" "$(tail -5 "$T/a.log")"; fi
expect_eq "A: still serves its 9 tools from the snapshot" "$(tool_count "${BASE[a]}")" 9
expect_eq "A: /health 200" "$(http_code "${BASE[a]}/health")" 200

# ---- B: a new replica starts during the outage ----
start_gw b GW_DB_MIGRATE_ON_START=false
expect_eq "B: alive (/health 200) while PostgreSQL is down" "$(http_code "${BASE[b]}/health")" 200
expect_eq "B: not ready (/ready 503): no snapshot ever loaded" "$(http_code "${BASE[b]}/ready")" 503
body=$(curl -s --max-time 5 "${BASE[b]}/ready")
case "$body" in *"no registry snapshot loaded"*) ok "B: /ready says why" ;; *) not_ok "B: /ready says why" "$body" ;; esac
expect_eq "B: serves nothing yet (no snapshot, API keys not loaded: refused)" "$(tool_count "${BASE[b]}")" error
sleep 1
expect_eq "B: still not ready 1 s later" "$(http_code "${BASE[b]}/ready")" 503
if kill -0 "${PIDS[1]}" 2>/dev/null; then ok "B: keeps running (no crash loop)"; else not_ok "B: keeps running"; fi

# ---- PostgreSQL is back ----
pg_start
ok "PostgreSQL started again"
t0=$SECONDS
if wait_code "${BASE[b]}/ready" 200 45; then ok "B: ready by itself $((SECONDS - t0)) s after PostgreSQL came back"
else not_ok "B: becomes ready after PostgreSQL came back" "$(curl -s "${BASE[b]}/ready")"; fi
expect_eq "B: serves the 9 tools to the API key made before the outage (keys loaded late)" "$(tool_count "${BASE[b]}")" 9
expect_eq "A: ready" "$(http_code "${BASE[a]}/ready")" 200
# a change made now reaches A (its watcher reconnected)
"$BIN" tools disable get_booking >"$T/deact.log" 2>&1 || { cat "$T/deact.log"; not_ok "tools disable"; }
n=""; for _ in $(seq 1 100); do n=$(tool_count "${BASE[a]}"); [ "$n" = 8 ] && break; sleep 0.3; done
expect_eq "A: sees a change made after the outage" "$n" 8

for f in "$T"/a.log "$T"/b.log; do
  if grep -q "ERROR: AddressSanitizer\|runtime error:" "$f"; then not_ok "sanitizer report in $f" "$(grep -m3 'runtime error\|AddressSanitizer' "$f")"; fi
done
summary
