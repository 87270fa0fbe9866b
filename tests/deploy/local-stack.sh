#!/usr/bin/env bash
# tests/deploy/local-stack.sh — brings the local production-like stack up (deploy/local/up.sh)
# on free loopback ports in a temp state folder, checks it, and takes it down (down.sh):
#   * nginx in front of three replicas: the booking journey through nginx (requests spread
#     over the replicas: sessions are signed, nothing is sticky), each replica served MCP;
#   * the deploy/ci checks a real deployment gets: smoke, security, API contract (SDK client);
#   * API keys made by up.sh: MCP with the client key, the admin API with the operator key;
#   * admin API through nginx; one replica killed: traffic keeps flowing;
#   * PostgreSQL stopped: every replica stays ready and serving (readiness is per replica);
#   * down.sh stops exactly the recorded processes; nothing listens afterwards.
# Run by scripts/test.d/79-deploy-local-stack.sh. Env: BUILD_DIR, REPO, NODE. ~25 s.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
NODE=${NODE:-node}
. "$REPO/tests/deploy/lib.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/gw-local.XXXXXX"); chmod 0755 "$T"
export LOCAL_STATE_DIR=$T/state LOCAL_BUILD_DIR=$BUILD_DIR
trap '"$REPO/deploy/local/down.sh" >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
read -r -a P <<<"$(free_ports 10)"
export LOCAL_NGINX_PORT=${P[0]} LOCAL_GW_PORTS="${P[1]} ${P[2]} ${P[3]}" LOCAL_ADMIN_PORTS="${P[4]} ${P[5]} ${P[6]}"
export LOCAL_MOCK_PORT=${P[7]} LOCAL_PG_PORT=${P[8]} LOCAL_REDIS_PORT=${P[9]}
t0=$SECONDS
if "$REPO/deploy/local/up.sh" 2>"$T/up.log"; then ok "up.sh: PostgreSQL, Redis, mock APIM, 3 gateways, nginx in $((SECONDS - t0)) s"
else not_ok "up.sh" "$(tail -5 "$T/up.log")"; summary; exit 1; fi
. "$LOCAL_STATE_DIR/env"
MCP_TOKEN=$(awk '$1=="client"{print $2}' "$LOCAL_STATE_DIR/credentials"); OPS=$(awk '$1=="operator"{print $2}' "$LOCAL_STATE_DIR/credentials")
export MCP_TOKEN SMOKE_TOKEN=$MCP_TOKEN CONTRACT_TOKEN=$MCP_TOKEN SECURITY_EXPECT_AUTH=1
expect_eq "up.sh made the API keys" "$(printf '%s %s' "$MCP_TOKEN" "$OPS" | grep -o 'mcpgw_' | wc -l)" 2
expect_eq "every listener is on loopback" "$(ss -Hltnp 2>/dev/null | awk -v ports=" ${P[*]} " '{split($4,a,":"); p=a[length(a)]; if (index(ports, " " p " ")) print $4}' | grep -vc '^127\.0\.0\.1:' || true)" 0
wait_code "$LOCAL_URL/ready" 200 10 && ok "nginx /ready" || not_ok "nginx /ready"
if python3 "$REPO/tests/deploy/journey.py" "$LOCAL_URL" "$LOCAL_MOCK_URL" >"$T/journey.out" 2>&1; then ok "booking journey through nginx ($(tail -1 "$T/journey.out"))"
else not_ok "booking journey through nginx" "$(grep -v '^ok' "$T/journey.out" | head -5)"; fi
# nginx's access log names the replica of each request (upstream=127.0.0.1:PORT)
served=$(grep '"POST /mcp' "$LOCAL_STATE_DIR/logs/nginx-access.log" | sed -n 's/.*upstream=\([0-9.:]*\).*/\1/p' | sort -u | wc -l)
expect_eq "the journey's requests were spread over all three replicas (no sticky sessions)" "$served" 3
for s in smoke security-smoke; do
  if "$REPO/deploy/ci/$s.sh" "$LOCAL_URL" >"$T/$s.out" 2>&1; then ok "deploy/ci/$s.sh through nginx ($(tail -1 "$T/$s.out"))"
  else not_ok "deploy/ci/$s.sh through nginx" "$(grep 'not ok' "$T/$s.out" | head -5)"; fi
done
if "$NODE" "$REPO/deploy/ci/contract.mjs" "$LOCAL_URL" >"$T/contract.out" 2>&1; then ok "deploy/ci/contract.mjs through nginx ($(tail -1 "$T/contract.out"))"
else not_ok "deploy/ci/contract.mjs" "$(grep -v '^ok' "$T/contract.out" | head -5)"; fi
expect_eq "admin API through nginx with the operator key" "$(http_code -H "Authorization: Bearer $OPS" "$LOCAL_URL/admin/api/tools")" 200
expect_eq "admin API refuses the client key (no admin role)" "$(http_code -H "Authorization: Bearer $MCP_TOKEN" "$LOCAL_URL/admin/api/tools")" 403
# one replica dies
gw1=$(awk '$2=="gateway-1"{print $1}' "$LOCAL_STATE_DIR/pids")
kill -KILL "$gw1"
fails=0; for _ in $(seq 1 12); do [ "$(tool_count "$LOCAL_URL")" = 9 ] || fails=$((fails + 1)); done
expect_eq "replica 1 killed: 12 sessions + tools/list through nginx all succeed" "$fails" 0
# PostgreSQL stops
PGBIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")
RUN=(); [ "$(id -u)" -eq 0 ] && RUN=(runuser -u "${PG_TEST_USER:-postgres}" --)
"${RUN[@]}" "$PGBIN/pg_ctl" -D "$LOCAL_STATE_DIR/pg" -m fast -w stop >/dev/null
sleep 3
ready=0; for u in $LOCAL_GW_URLS; do [ "$(http_code "$u/ready")" = 200 ] && ready=$((ready + 1)); done
expect_eq "PostgreSQL stopped: the 2 surviving replicas stay ready" "$ready" 2
expect_eq "PostgreSQL stopped: tools still served through nginx" "$(tool_count "$LOCAL_URL")" 9
# down
cp "$LOCAL_STATE_DIR/pids" "$T/pids"
"$REPO/deploy/local/down.sh" >"$T/down.log" 2>&1 && ok "down.sh" || not_ok "down.sh" "$(tail -3 "$T/down.log")"
left=0; while read -r pid _; do if kill -0 "$pid" 2>/dev/null; then left=$((left + 1)); fi; done <"$T/pids"
expect_eq "no recorded process left running" "$left" 0
listening=$(ss -Hltn 2>/dev/null | awk -v ports=" ${P[*]} " '{split($4,a,":"); if (index(ports, " " a[length(a)] " ")) print $4}' | wc -l)
expect_eq "nothing listens on the stack's ports" "$listening" 0
summary
