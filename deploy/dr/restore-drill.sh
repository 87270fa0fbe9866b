#!/usr/bin/env bash
# deploy/dr/restore-drill.sh — the registry restore drill (seed §7.2 "monthly RDS restore
# test"), on real PostgreSQL servers started here (Debian's binaries, unix sockets in temp
# folders, nothing shared with other tests):
#
#   A. logical backup (what the registry-backup CronJob does), disaster, restore:
#      1. server "primary": the gateway's schema, the service-booking and DMS specs imported,
#         operator edits (tool settings, a disabled tool, a bundle), API keys (one revoked),
#         exposure and policy rules, rate-limit rules (enforced, dry-run, disabled), a mock
#         APIM, a gateway that requires a credential and copies its audit trail into
#         PostgreSQL (GW_AUDIT_DATABASE_URL=same, as in Kubernetes; its signing key as a file);
#      2. every check of deploy/dr/checks.d captures what is there (the extension point;
#         50-rules.sh and 60-audit.sh cover the rules and the audit trail);
#      3. deploy/dr/backup.sh (pg_dump, manifest with sha256) to a backup folder;
#      4. disaster: the gateway stops, the primary server is killed and its data directory
#         deleted, and so is the gateway's local audit log (the pod's volume): the copy in
#         PostgreSQL is what is left of the trail; a gateway cannot start on it any more;
#      5. a fresh server, deploy/dr/restore.sh into it (checksum, one transaction);
#      6. a gateway started on the restored database with GW_DB_MIGRATE_ON_START=false (as in
#         Kubernetes: the restored schema must be complete); every check captured again and
#         compared with step 2: the same tools, bundles, specs, history, API keys (the key made
#         before the disaster authenticates the restored gateway's calls), a real tool call,
#         the same rules and decisions, the audit trail verified with the published key.
#   B. point-in-time recovery (the RDS PITR of the runbook, with PostgreSQL's own mechanism):
#      base backup + WAL archive of a server, a good change, the restore point, a bad change
#      (every tool deleted), recovery of a new server to the restore point: the good change is
#      there, the bad one is not.
#
# Usage: deploy/dr/restore-drill.sh [--build-dir DIR]   (default build/release, else build/ci)
# Prints TAP-style lines, timings (the drill's own RTO) and "N passed, M failed". ~20 s.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=""
[ "${1:-}" = "--build-dir" ] && BUILD=$2
[ -n "$BUILD" ] || for d in "$REPO/build/release" "$REPO/build/ci"; do [ -x "$d/mcpgw" ] && { BUILD=$d; break; }; done
MCPGW=$BUILD/mcpgw; MOCK=$BUILD/tools/mock-apim/mock-apim
[ -x "$MCPGW" ] && [ -x "$MOCK" ] || { echo "restore-drill: build mcpgw and mock-apim first (cmake --build --preset release)" >&2; exit 2; }
PGBIN=${PG_BIN:-$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -1)")}
[ -x "$PGBIN/pg_ctl" ] || { echo "restore-drill: PostgreSQL server binaries missing (apt-get install postgresql-15)" >&2; exit 2; }
export PATH=$PGBIN:$PATH  # pg_dump/pg_restore of the same major version as the servers

. "$REPO/tests/deploy/lib.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/gw-drill.XXXXXX"); chmod 0755 "$W"
RUN=()
if [ "$(id -u)" -eq 0 ]; then RUN=(runuser -u "${PG_TEST_USER:-postgres}" --); chown "${PG_TEST_USER:-postgres}" "$W"; fi
SERVERS=()
cleanup() {
  deploy_cleanup
  for s in "${SERVERS[@]}"; do [ -d "$s/data" ] && "${RUN[@]}" "$PGBIN/pg_ctl" -D "$s/data" -m immediate -w stop >/dev/null 2>&1; done
  [ -n "${DRILL_KEEP:-}" ] && { echo "# kept $W"; return; }
  rm -rf "$W"
}
trap cleanup EXIT

# pg_new NAME [postgres -c options...]: a new server in $W/NAME (socket there), database "registry"
pg_new() {
  local s=$W/$1; shift
  "${RUN[@]}" mkdir -p "$s"
  "${RUN[@]}" "$PGBIN/initdb" -D "$s/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$W/$(basename "$s").initdb.log" 2>&1
  pg_start "$s" "$@"
  SERVERS+=("$s")
  "${RUN[@]}" "$PGBIN/psql" -h "$s" -U postgres -d postgres -XAtq -c "CREATE DATABASE registry" >/dev/null
}
pg_start() {
  local s=$1 o="-c listen_addresses='' -k $1 -c fsync=off -c full_page_writes=on"; shift
  for x in "$@"; do o="$o -c $x"; done
  "${RUN[@]}" "$PGBIN/pg_ctl" -D "$s/data" -l "$s/server.log" -w -t 60 -o "$o" start >/dev/null
}
url() { echo "postgresql:///registry?host=$W/$1&user=postgres"; }

start_mock() {
  "$MOCK" serve --listen 127.0.0.1:0 --port-file "$W/mock.port" --db "$W/mock.db" 2>"$W/mock.log" &
  PIDS+=("$!")
  MOCK_URL=http://127.0.0.1:$(wait_port "$W/mock.port" "$!" "$W/mock.log")
  sed "s|http://127.0.0.1:8080|$MOCK_URL|g" "$REPO/deploy/embedded/upstreams.json" >"$W/upstreams.json"
}
GW_PID=""
start_gw() {  # DATABASE_URL NAME [env...]
  local db=$1 name=$2; shift 2
  rm -f "$W/$name.port"
  env DATABASE_URL="$db" GW_DATA_DIR="$W" GW_UPSTREAMS_FILE="$W/upstreams.json" GW_UPSTREAM_ENV=mock \
    MOCK_APIM_API_KEY=mock-apim-dev-key MOCK_APIM_CLIENT_ID=mock-gateway MOCK_APIM_CLIENT_SECRET=mock-gateway-secret \
    GW_LOG_FORMAT=text GW_ACCESS_LOG=false "$@" \
    "$MCPGW" serve --listen 127.0.0.1:0 --port-file "$W/$name.port" 2>"$W/$name.log" &
  GW_PID=$!; PIDS+=("$GW_PID")
  GW_URL=http://127.0.0.1:$(wait_port "$W/$name.port" "$GW_PID" "$W/$name.log")
  wait_code "$GW_URL/ready" 200 20
}
capture() {  # PHASE DATABASE_URL: every check's output into $W/checks/<check>.<PHASE>
  mkdir -p "$W/checks"
  for c in "$REPO"/deploy/dr/checks.d/*.sh; do
    local n; n=$(basename "$c" .sh); mkdir -p "$W/checks/$n.dir"
    if ! PHASE=$1 DATABASE_URL=$2 GW_URL=$GW_URL MCPGW=$MCPGW CHECK_DIR=$W/checks/$n.dir \
        AUDIT_KEYS_FILE=$W/published-verifier-keys AUDIT_LOG_ID=$AUDIT_LOG_ID AUDIT_FIRST_LOG=drill-primary \
        bash "$c" >"$W/checks/$n.$1" 2>"$W/checks/$n.$1.err"; then
      not_ok "check $n ($1) ran" "$(head -3 "$W/checks/$n.$1.err")"
    fi
  done
}
cli() { DATABASE_URL=$1 GW_DATA_DIR=$W "$MCPGW" "${@:2}" >>"$W/cli.log" 2>&1; }

# ================= A. backup, disaster, restore =================
t0=$SECONDS
pg_new primary
P=$(url primary)
start_mock
cli "$P" db migrate
cli "$P" import "$REPO/tools/mock-apim/openapi/service-booking.yaml" --spec-id service-booking \
  --bundle service-booking --upstream service-booking --activate
cli "$P" import "$REPO/tests/data/openapi/msil/dms-preprod-swagger.json" --spec-id msil-dms --bundle dms --upstream dms
cli "$P" tools set cancel_booking risk='"privileged"' requiresConfirmation=true
cli "$P" tools disable list_bookings
cli "$P" bundles create operations "Operations tools"
# exposure and policy rules (issue 9) and rate-limit rules (issue 11) kept in the database
cat >"$W/roles.json" <<'J'
{"customer-care": {"max_risk": "write"}, "analyst": {"max_risk": "read"}}
J
cat >"$W/exposure.json" <<'J'
[{"id": "drill-hide-dealer-lookup", "effect": "deny", "roles": ["customer-care"], "tools": ["get_dealer"]},
 {"id": "drill-customer-care", "effect": "allow", "roles": ["customer-care"], "bundles": ["service-booking"]},
 {"id": "drill-analyst-read", "effect": "allow", "roles": ["analyst"], "risk": ["read"]}]
J
cat >"$W/policies.json" <<'J'
[{"id": "drill-booking-horizon", "effect": "deny", "tools": ["create_booking"],
  "when": {">": [{"-": [{"time": {"var": "args.date"}}, {"var": "context.now"}]}, 5184000]},
  "reason": "bookings can be made at most 60 days ahead"},
 {"id": "drill-confirm-cancel", "effect": "confirm", "tools": ["cancel_booking"],
  "reason": "a cancellation changes the customer's appointments"}]
J
cli "$P" governance put roles "$W/roles.json"
cli "$P" governance put exposure "$W/exposure.json"
cli "$P" governance put policies "$W/policies.json"
cli "$P" limits add --id drill-writes-per-user --rate 30/min --per user --risk write --description "drill: writes per user"
cli "$P" limits add --id drill-dealer-lookups --rate 100/min --per client --tool get_dealer --dry-run
cli "$P" limits add --id drill-off --rate 5/min --per ip --scope http --disabled
# the audit trail's signing key (a Secret in Kubernetes): the same for the restored gateway
openssl genpkey -algorithm ed25519 -out "$W/audit-signing.pem" 2>/dev/null
AUDIT=(GW_AUDIT_DATABASE_URL=same GW_AUDIT_SIGNING_KEY_FILE="$W/audit-signing.pem" GW_AUDIT_CHECKPOINT_SECONDS=1)
MCP_TOKEN=$(DATABASE_URL=$P GW_DATA_DIR=$W "$MCPGW" keys create --name drill-client --subject svc-drill \
  --role customer-care --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
DATABASE_URL=$P GW_DATA_DIR=$W "$MCPGW" keys create --name drill-revoked --subject svc-old --json 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' >"$W/revoked.id"
cli "$P" keys revoke "$(cat "$W/revoked.id")"
export MCP_TOKEN
ntools=$(DATABASE_URL=$P GW_DATA_DIR=$W "$MCPGW" tools list 2>/dev/null | tail -1)
ok "primary populated: $ntools, 2 specs, 3 bundles, operator edits, API keys (one revoked), rules"
AUDIT_LOG_ID=drill-primary
start_gw "$P" before "${AUDIT[@]}" GW_AUDIT_LOG_ID=$AUDIT_LOG_ID GW_AUDIT_DIR="$W/audit-primary" || { not_ok "gateway on the primary" "$(tail -5 "$W/before.log")"; summary; exit 1; }
# the verifier key is published (docs/audit.md): auditors keep it apart from the pods
cp "$W/audit-primary/verifier-keys" "$W/published-verifier-keys" 2>/dev/null ||
  not_ok "the gateway wrote its verifier key" "$(ls "$W/audit-primary" 2>&1)"
capture before "$P"
for c in "$W"/checks/*.before; do ok "captured $(basename "$c" .before): $(wc -l <"$c") lines"; done
served=$(head -1 "$W/checks/20-gateway-serves.before")

dest=$(DATABASE_URL=$P BACKUP_DEST="file://$W/backups" "$REPO/deploy/dr/backup.sh")
[ -s "${dest#file://}" ] && [ -s "${dest#file://}.json" ] && ok "backup.sh: $(basename "$dest") ($(stat -c %s "${dest#file://}") bytes) + manifest" ||
  not_ok "backup.sh wrote the dump and its manifest"

# disaster
kill "$GW_PID"; wait "$GW_PID" 2>/dev/null || true
"${RUN[@]}" "$PGBIN/pg_ctl" -D "$W/primary/data" -m immediate -w stop >/dev/null
"${RUN[@]}" rm -rf "$W/primary/data"
rm -rf "$W/audit-primary"   # the pod's audit volume goes with it
t_disaster=$SECONDS
if env DATABASE_URL="$P" GW_DATA_DIR="$W" GW_DB_CONNECT_TIMEOUT_SECONDS=2 timeout 20 "$MCPGW" db status >/dev/null 2>&1; then
  not_ok "the primary is gone"
else ok "disaster: primary server killed and its data directory deleted (the gateway cannot reach it)"; fi

# restore into a fresh server
pg_new restored
R=$(url restored)
if TARGET_DATABASE_URL=$R "$REPO/deploy/dr/restore.sh" "$dest" >"$W/restore.log" 2>&1; then ok "restore.sh into a fresh server"
else not_ok "restore.sh into a fresh server" "$(tail -3 "$W/restore.log")"; fi
if TARGET_DATABASE_URL=$R "$REPO/deploy/dr/restore.sh" "$dest" >"$W/restore2.log" 2>&1; then not_ok "restore.sh refuses to overwrite a database with registry tables"
else ok "restore.sh refuses to overwrite a database with registry tables"; fi
cp "${dest#file://}" "$W/tampered.dump"; printf 'x' >>"$W/tampered.dump"; cp "${dest#file://}.json" "$W/tampered.dump.json"
pg_new scratch
if TARGET_DATABASE_URL=$(url scratch) "$REPO/deploy/dr/restore.sh" "file://$W/tampered.dump" >"$W/restore3.log" 2>&1; then not_ok "restore.sh refuses a dump whose checksum does not match"
else ok "restore.sh refuses a dump whose checksum does not match"; fi
# a new pod: a log of its own (GW_AUDIT_LOG_ID is the pod name in Kubernetes)
AUDIT_LOG_ID=drill-restored
if start_gw "$R" after GW_DB_MIGRATE_ON_START=false "${AUDIT[@]}" GW_AUDIT_LOG_ID=$AUDIT_LOG_ID GW_AUDIT_DIR="$W/audit-restored"; then
  ok "gateway ready on the restored database ($((SECONDS - t_disaster)) s after the disaster: this drill's RTO)"
else not_ok "gateway on the restored database" "$(tail -5 "$W/after.log")"; fi
capture after "$R"
for b in "$W"/checks/*.before; do
  n=$(basename "$b" .before)
  if diff -u "$b" "$W/checks/$n.after" >"$W/checks/$n.diff"; then ok "after restore, identical: $n"
  else not_ok "after restore, identical: $n" "$(head -20 "$W/checks/$n.diff")"; fi
done
expect_eq "restored gateway serves what the primary served" "$(head -1 "$W/checks/20-gateway-serves.after")" "$served"
grep -q '^resolve_vehicle: {' "$W/checks/20-gateway-serves.after" && ok "a real tool call through the restored gateway" ||
  not_ok "a real tool call through the restored gateway" "$(grep resolve_vehicle "$W/checks/20-gateway-serves.after")"
# what the new checks compare must also be right, not only the same
expect_eq "the restored gateway enforces the rules (hidden tool unknown, booking beyond the horizon refused)" \
  "$(grep '^tools/call' "$W/checks/50-rules.after" | sed 's/^.*: //' | tr '\n' ' ')" "error -32602 error -32004 "
if grep -q '^verify ok: True | records: [1-9][0-9]* | problems: \[\]$' "$W/checks/60-audit.after"; then
  ok "the audit trail of before the disaster verifies from the restored database ($(grep -o 'records: [0-9]*' "$W/checks/60-audit.after"), local copy gone)"
else not_ok "the audit trail verifies from the restored database" "$(head -3 "$W/checks/60-audit.after")"; fi
expect_eq "the restored gateway's own audit log reaches the restored database" \
  "$(tail -1 "$W/checks/60-audit.after")" "records of the serving gateway in the database: yes"
echo "# part A took $((SECONDS - t0)) s"

# ================= B. point-in-time recovery =================
t0=$SECONDS
"${RUN[@]}" mkdir -p "$W/wal"
pg_new pitr "wal_level=replica" "archive_mode=on" "archive_command='cp %p $W/wal/%f'" "archive_timeout=1"
Q=$(url pitr)
cli "$Q" db migrate
cli "$Q" import "$REPO/tools/mock-apim/openapi/service-booking.yaml" --spec-id service-booking \
  --bundle service-booking --upstream service-booking --activate
"${RUN[@]}" "$PGBIN/pg_basebackup" -h "$W/pitr" -U postgres -D "$W/base" -X none -c fast >"$W/basebackup.log" 2>&1 &&
  ok "base backup of a server with WAL archiving" || not_ok "base backup" "$(tail -3 "$W/basebackup.log")"
cli "$Q" tools disable get_dealer   # the good change, after the base backup (from the WAL)
"${RUN[@]}" "$PGBIN/psql" -h "$W/pitr" -U postgres -d registry -XAtq -c "SELECT pg_create_restore_point('drill')" >/dev/null
"${RUN[@]}" "$PGBIN/psql" -h "$W/pitr" -U postgres -d registry -XAtq -c "SELECT pg_switch_wal()" >/dev/null
psql "$Q" -XAtq -c "DELETE FROM tool_history; DELETE FROM tools" >/dev/null   # the bad change
"${RUN[@]}" "$PGBIN/psql" -h "$W/pitr" -U postgres -d registry -XAtq -c "SELECT pg_switch_wal()" >/dev/null
sleep 1.5
expect_eq "the bad change happened (0 tools on the server)" "$(psql "$Q" -XAtq -c 'SELECT count(*) FROM tools')" 0
# recover a new server from the base backup + archive, up to the restore point
"${RUN[@]}" mkdir -p "$W/recovered"; "${RUN[@]}" cp -a "$W/base" "$W/recovered/data"
"${RUN[@]}" sh -c "printf \"restore_command = 'cp $W/wal/%%f %%p'\nrecovery_target_name = 'drill'\nrecovery_target_action = 'promote'\n\" >>'$W/recovered/data/postgresql.auto.conf'; touch '$W/recovered/data/recovery.signal'"
pg_start "$W/recovered"; SERVERS+=("$W/recovered")
Rv=$(url recovered)
for _ in $(seq 1 100); do [ "$(psql "$Rv" -XAtq -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && break; sleep 0.1; done
expect_eq "PITR: recovered to the restore point, promoted" "$(psql "$Rv" -XAtq -c 'SELECT pg_is_in_recovery()')" f
expect_eq "PITR: the tools are back (9)" "$(psql "$Rv" -XAtq -c 'SELECT count(*) FROM tools')" 9
expect_eq "PITR: the change made before the restore point is there (get_dealer disabled)" \
  "$(psql "$Rv" -XAtq -c "SELECT status FROM tools WHERE name = 'get_dealer'")" disabled
echo "# part B took $((SECONDS - t0)) s"
summary
