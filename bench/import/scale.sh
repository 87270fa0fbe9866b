#!/usr/bin/env bash
# bench/import/scale.sh [SIZES...]  (default: 1000 10000 20000)
# The catalogue scale points of issue 15, for bench/run.sh and by hand: for each size, a
# Graph-like spec of that many operations (gen-large-spec.mjs) is imported into a fresh SQLite
# registry with `mcpgw import --activate`: wall time, CPU time and peak RSS (GNU time) of the
# run with the median wall time of IMPORT_RUNS (default 3), each into a fresh registry, since on
# this machine one run can be 1.5x another. Then a gateway serves it: resident memory with the
# registry loaded minus an empty gateway's, per tool, and tools/list latency for the first page
# and a page in the middle (median of 20, over loopback with curl, stateless 2026-07-28
# requests, GW_PAGE_SIZE=100, no authentication: the catalogue's cost, not the credential
# check's).
# Prints one line per size and writes $OUT (default build/scale.json). Needs a Release build
# (BUILD=build/release) and node. Not a test: no pass/fail. Takes about a minute for 20k.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$REPO/build/release}
GW=$BUILD/mcpgw
OUT=${OUT:-$REPO/build/scale.json}
NODE=${NODE:-node}
[ -x "$GW" ] || { echo "missing $GW (cmake --preset release && cmake --build --preset release)" >&2; exit 1; }
[ $# -gt 0 ] || set -- 1000 10000 20000
WORK=$(mktemp -d)
PIDS=()
cleanup() {  # the gateways stopped and waited for before their folder goes (a gateway still
             # writing made rm fail, and with it the script)
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK" || true
}
trap cleanup EXIT

# starts a gateway on DATA; prints "PID PORT" once it listens
serve() {
  local data=$1 pf=$WORK/port.$RANDOM
  GW_DATA_DIR=$data "$GW" serve --listen 127.0.0.1:0 --port-file "$pf" --workers 1 \
    --set GW_PAGE_SIZE=100 --set GW_LOG_LEVEL=warn --set GW_AUTH_MODE=off >"$WORK/serve.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 600); do [ -s "$pf" ] && break; sleep 0.05; done
  [ -s "$pf" ] || { cat "$WORK/serve.log" >&2; echo "gateway did not start" >&2; exit 1; }
  echo "$pid $(cat "$pf")"
}
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
# median wall time (ms) of 20 tools/list requests with the given cursor
list_ms() {
  local port=$1 cursor=$2 body
  if [ -n "$cursor" ]; then body="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"cursor\":\"$cursor\",$META}}"
  else body="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{$META}}"; fi
  for _ in $(seq 1 20); do
    curl -s -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' \
      -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
      -H 'Mcp-Method: tools/list' -d "$body" "http://127.0.0.1:$port/mcp"
  done | sort -n | awk '{a[NR]=$1} END{printf "%.2f", a[int((NR+1)/2)]*1000}'
}
# the cursor after `pages` pages
cursor_after() {
  local port=$1 pages=$2 cur="" body
  for _ in $(seq 1 "$pages"); do
    if [ -n "$cur" ]; then body="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"cursor\":\"$cur\",$META}}"
    else body="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{$META}}"; fi
    cur=$(curl -s -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
      -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/list' -d "$body" \
      "http://127.0.0.1:$port/mcp" | grep -o '"nextCursor":"[^"]*"' | cut -d'"' -f4)
  done
  echo "$cur"
}

mkdir -p "$WORK/empty"
read -r EPID _ < <(serve "$WORK/empty")
sleep 0.5
EMPTY_KB=$(rss_kb "$EPID")
kill "$EPID"; wait "$EPID" 2>/dev/null || true
printf '%-8s %9s %8s %9s %10s %10s %10s %11s %11s\n' tools import_s cpu_s peak_mb rss_mb \
  kb_per_tool db_mb list_first list_middle
echo '{"empty_rss_kb":'"$EMPTY_KB"',"points":[' >"$OUT"
first=1
for n in "$@"; do
  spec=$WORK/spec-$n.json data=$WORK/data-$n
  "$NODE" "$REPO/bench/import/gen-large-spec.mjs" "$spec" "$n" 2>/dev/null
  : >"$WORK/times"
  for _ in $(seq 1 "${IMPORT_RUNS:-3}"); do
    rm -rf "$data" && mkdir -p "$data"
    GW_DATA_DIR=$data /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$GW" import --activate \
      "$spec" >/dev/null 2>"$WORK/import.err" || { cat "$WORK/import.err" >&2; exit 1; }
    cat "$WORK/time" >>"$WORK/times"
  done
  read -r wall user sys peak < <(sort -n "$WORK/times" |
    awk '{l[NR] = $0} END {print l[int((NR + 1) / 2)]}')
  cpu=$(echo "$user $sys" | awk '{printf "%.2f", $1 + $2}')
  db=$(du -m "$data/gateway.db" | cut -f1)
  read -r pid port < <(serve "$data")
  sleep 0.5
  kb=$(rss_kb "$pid")
  first_ms=$(list_ms "$port" "")
  mid=$(cursor_after "$port" $((n / 200)))
  mid_ms=$(list_ms "$port" "$mid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  per=$(echo "$kb $EMPTY_KB $n" | awk '{printf "%.1f", ($1 - $2) / $3}')
  printf '%-8s %9s %8s %9.0f %10.1f %10s %10s %11s %11s\n' "$n" "$wall" "$cpu" \
    "$(echo "$peak" | awk '{print $1/1024}')" "$(echo "$kb" | awk '{print $1/1024}')" "$per" "$db" \
    "$first_ms" "$mid_ms"
  [ $first = 1 ] || echo ',' >>"$OUT"
  first=0
  printf '{"tools":%s,"import_s":%s,"import_cpu_s":%s,"import_peak_kb":%s,"rss_kb":%s,"kb_per_tool":%s,"db_mb":%s,"list_first_ms":%s,"list_middle_ms":%s}' \
    "$n" "$wall" "$cpu" "$peak" "$kb" "$per" "$db" "$first_ms" "$mid_ms" >>"$OUT"
done
echo ']}' >>"$OUT"
echo "empty gateway: $((EMPTY_KB / 1024)) MB resident; results in $OUT"
