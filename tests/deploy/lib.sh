#!/usr/bin/env bash
# tests/deploy/lib.sh — helpers shared by the deployment checks (sourced, not run): TAP-style
# results, starting `mcpgw serve` / the mock APIM on free loopback ports, MCP calls with curl.
# The sourcing script sets T (its temp folder) and may append to PIDS; `deploy_cleanup` stops
# what was started. Needs bash, curl, python3 (JSON).

pass=0; fail=0; PIDS=()
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $1"; [ -n "${2:-}" ] && echo "#   $2"; return 0; }
expect_eq() { if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "got '$2', expected '$3'"; fi; }
summary() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; }
deploy_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

# wait_port FILE PID LOG: waits (10 s) for a --port-file, prints the port.
wait_port() {
  for _ in $(seq 1 400); do
    [ -s "$1" ] && { cat "$1"; return 0; }
    kill -0 "$2" 2>/dev/null || { echo "process died:" >&2; tail -20 "$3" >&2; return 1; }
    sleep 0.025
  done
  echo "no port in $1 after 10 s" >&2; return 1
}

# free_ports N: N distinct loopback ports that are free now, drawn below the kernel's ephemeral
# range (ip_local_port_range): a port picked by binding to 0 is an ephemeral one, and the outgoing
# connections of whatever else runs meanwhile (parallel suites, the gateways' own database
# connections) can take it before the server meant for it binds. Also above 10080, the highest
# of the ports fetch() and browsers refuse. Nothing reserves the ports.
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
try:
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    lo = 32768
first = 11000  # above fetch's blocked ports (the highest is 10080)
lo = max(lo, first + 1000)
picked = []
for port in random.sample(range(first, lo), min(4000, lo - first)):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    picked.append(port)
    if len(picked) == n:
        break
if len(picked) < n:
    sys.exit("free_ports: not enough free ports below the ephemeral range")
print(" ".join(map(str, picked)))
PY
}
free_port() { free_ports 1; }

# http_code [curl options...] URL: the status code of a GET (000 when nothing answers).
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }

# wait_code URL CODE SECONDS: polls until URL answers CODE; returns 1 on timeout.
wait_code() {
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do
    [ "$(http_code "$1")" = "$2" ] && return 0
    sleep 0.2
  done
  return 1
}

# MCP requests carry Authorization: Bearer $MCP_TOKEN when it is set.
auth_hdr() { [ -n "${MCP_TOKEN:-}" ] && printf 'Authorization: Bearer %s' "$MCP_TOKEN" || printf 'X-No-Auth: 1'; }

# mcp_session BASE: initializes an MCP session (2025-11-25) and prints its id.
mcp_session() {
  curl -s -D - -o /dev/null --max-time 10 -X POST "$1/mcp" -H 'Content-Type: application/json' -H "$(auth_hdr)" \
    -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"deploy-test","version":"1"}}}' |
    tr -d '\r' | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}'
}

# mcp_call BASE SESSION METHOD PARAMS_JSON: prints the JSON-RPC response body.
mcp_call() {
  curl -s --max-time 30 -X POST "$1/mcp" -H 'Content-Type: application/json' -H "$(auth_hdr)" \
    -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $2" \
    -H 'MCP-Protocol-Version: 2025-11-25' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"$3\",\"params\":$4}" |
    sed -n 's/^data: //p; /^{/p' | head -1
}

# tool_count BASE: number of tools in tools/list (first page), or "error".
tool_count() {
  local sid; sid=$(mcp_session "$1")
  [ -n "$sid" ] || { echo error; return; }
  mcp_call "$1" "$sid" tools/list '{}' |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["result"]["tools"]))' 2>/dev/null || echo error
}

# jq-like field access with python3: json_get 'expr' < doc  (expr uses d for the document)
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
