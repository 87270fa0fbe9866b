#!/usr/bin/env bash
# deploy/ci/smoke.sh BASE_URL — smoke test of a deployed gateway (cd.yml after every rollout;
# tests/deploy/local-stack.sh runs it against the local stack behind nginx):
# /health and /ready answer 200, an MCP session initializes, tools/list returns tools, and a
# read-only tool call answers (when the service-booking tools are there). Bounded: every
# request has a 10 s limit. Optional SMOKE_TOKEN: sent as Authorization: Bearer (once the
# gateway authenticates callers). Exit 0 when all pass.
set -euo pipefail
BASE=${1:?usage: smoke.sh BASE_URL}
BASE=${BASE%/}
auth=(); [ -n "${SMOKE_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $SMOKE_TOKEN")
fail=0; n=0
check() { n=$((n + 1)); if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (got '$2', expected '$3')"; fail=$((fail + 1)); fi; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" || true; }
mcp() {  # METHOD PARAMS [SESSION]
  local hdr=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-11-25')
  [ -n "${3:-}" ] && hdr+=(-H "Mcp-Session-Id: $3")
  curl -s --max-time 10 -D "$tmp/headers" "${auth[@]}" "${hdr[@]}" -X POST "$BASE/mcp" \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" | sed -n 's/^data: //p; /^{/p' | head -1
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check "/health" "$(code "$BASE/health")" 200
check "/ready" "$(code "$BASE/ready")" 200
init=$(mcp initialize '{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"smoke","version":"1"}}')
sid=$(tr -d '\r' <"$tmp/headers" | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
check "initialize returns a session" "$([ -n "$sid" ] && echo yes || echo no)" yes
check "serverInfo present" "$(printf '%s' "$init" | python3 -c 'import json,sys; print("name" in json.load(sys.stdin)["result"]["serverInfo"])' 2>/dev/null)" True
tools=$(mcp tools/list '{}' "$sid")
count=$(printf '%s' "$tools" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["result"]["tools"]))' 2>/dev/null || echo 0)
check "tools/list returns tools" "$([ "$count" -gt 0 ] && echo yes || echo no)" yes
if printf '%s' "$tools" | grep -q '"resolve_vehicle"'; then
  res=$(mcp tools/call '{"name":"resolve_vehicle","arguments":{"registration_number":"MH12AB1234"}}' "$sid")
  check "tools/call resolve_vehicle answers without error" \
    "$(printf '%s' "$res" | python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; print(not r.get("isError", False))' 2>/dev/null)" True
fi
echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
