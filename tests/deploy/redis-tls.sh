#!/usr/bin/env bash
# tests/deploy/redis-tls.sh STUNNEL_CONF — the gateway pod's Redis path run for real: the
# redis-tls sidecar's stunnel.conf exactly as the redis-auth ExternalSecret renders it (taken
# from the rendered production overlay by scripts/test.d/72-deploy-k8s.sh), Debian's stunnel4
# with it (the package the redis-tls image ships), a TLS-only redis-server with an AUTH password
# playing ElastiCache, and a gateway configured as in the pod (REDIS_URL to the sidecar on
# loopback, GW_REDIS_PASSWORD, shared limits, a per-address limit, trusted proxies).
# Only what names this machine is adapted: the endpoint ({{ .endpoint }} -> localhost), the two
# ports (free ones) and CAfile (a CA made here instead of the system bundle that holds Amazon's).
# Checks:
#   * the per-address limit is counted in Redis through the tunnel (3 pass, the 4th is 429; another
#     client behind the same trusted proxy is not affected; the counter is in Redis);
#   * an impostor is refused: a certificate for another host name, or from an unknown CA — no
#     Redis command gets through, and a gateway that fails closed answers 503;
#   * the exec probe (healthcheck tcp://) sees the listener, and nothing listens beyond loopback;
#   * the cost of the tunnel: redis-benchmark through stunnel vs direct TLS (printed).
# Needs: stunnel4, redis-server 7 (Debian's, built with TLS), redis-cli, redis-benchmark,
# openssl, curl, python3. BUILD_DIR: the build with mcpgw and tools/healthcheck. ~5 s.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=$(cd "${BUILD_DIR:-$REPO/build/ci}" && pwd)
CONF=${1:?usage: redis-tls.sh STUNNEL_CONF}
. "$REPO/tests/deploy/lib.sh"
for c in stunnel4 redis-server redis-cli redis-benchmark openssl; do
  command -v "$c" >/dev/null || { echo "redis-tls: $c missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/gw-redis-tls.XXXXXX"); chmod 0755 "$T"
trap 'deploy_cleanup; rm -rf "$T"' EXIT
HC=$BUILD_DIR/tools/healthcheck/healthcheck
# stunnel runs as the pod's uid 1000 when this runs as root (the sidecar is never root)
AS=(); [ "$(id -u)" -eq 0 ] && AS=(setpriv --reuid=1000 --regid=1000 --clear-groups)

# ---- the file under test ----
if grep -q '^accept = 127.0.0.1:6379$' "$CONF" && grep -q '^connect = {{ .endpoint }}:6379$' "$CONF" &&
  grep -q '^CAfile = /etc/ssl/certs/ca-certificates.crt$' "$CONF"; then
  ok "stunnel.conf as rendered: accept 127.0.0.1:6379, connect {{ .endpoint }}:6379, the system CA bundle"
else not_ok "stunnel.conf has the expected accept/connect/CAfile lines" "$(grep -E '^(accept|connect|CAfile)' "$CONF" | tr '\n' ' ')"; fi
# adapt: LOCAL REMOTE CAFILE OUT
adapt() {
  sed -e "s|^accept = 127.0.0.1:6379$|accept = 127.0.0.1:$1|" -e "s|{{ .endpoint }}:6379|localhost:$2|" \
      -e 's|{{ .endpoint }}|localhost|g' -e "s|^CAfile = .*|CAfile = $3|" "$CONF" >"$4"
  chmod 0644 "$4"
}

# ---- certificates: a CA, "ElastiCache" (localhost), an impostor name, an impostor CA ----
cd "$T"
mkcert() {  # NAME SAN CA_PREFIX
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$2" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days 1 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
for ca in ca rogue-ca; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=$ca" \
    -keyout "$ca.key" -out "$ca.crt" 2>/dev/null
done
mkcert good localhost ca; mkcert wrongname other.example ca; mkcert rogue localhost rogue-ca
chmod 0644 ./*.crt ./*.key
TOKEN=$(openssl rand -hex 24)

# The starters run in this shell (not in $(...)): their pids go to PIDS and their ports to PORT.
redis() {  # NAME CERT CA: a TLS-only redis-server requiring TOKEN; sets PORT to its TLS port
  local p; p=$(free_port)
  redis-server --port 0 --tls-port "$p" --tls-cert-file "$T/$2.crt" --tls-key-file "$T/$2.key" \
    --tls-ca-cert-file "$T/$3.crt" --tls-auth-clients no --requirepass "$TOKEN" --save '' --appendonly no \
    --dir "$T" --logfile "$T/redis-$1.log" --bind 127.0.0.1 </dev/null >/dev/null 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 100); do redis-cli --tls --cacert "$T/$3.crt" -p "$p" -a "$TOKEN" --no-auth-warning ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
  PORT=$p
}
tunnel() {  # NAME REMOTE_PORT: stunnel with the adapted file; sets PORT to its local port
  local l; l=$(free_port)
  adapt "$l" "$2" "$T/ca.crt" "$T/stunnel-$1.conf"
  "${AS[@]}" stunnel4 "$T/stunnel-$1.conf" </dev/null >"$T/stunnel-$1.out" 2>"$T/stunnel-$1.log" &
  PIDS+=("$!")
  for _ in $(seq 100); do "$HC" "tcp://127.0.0.1:$l" 2>/dev/null && break; sleep 0.05; done
  PORT=$l
}
redis good good ca; GP=$PORT; redis wrongname wrongname ca; WP=$PORT; redis rogue rogue rogue-ca; RP=$PORT
tunnel good "$GP"; TG=$PORT; tunnel wrongname "$WP"; TW=$PORT; tunnel rogue "$RP"; TR=$PORT
pings() {  # PORT CA: PING commands a server has processed, asked directly with TLS
  redis-cli --tls --cacert "$T/$2.crt" -p "$1" -a "$TOKEN" --no-auth-warning info commandstats | tr -d '\r' |
    sed -n 's/^cmdstat_ping:calls=\([0-9]*\).*/\1/p' | grep . || echo 0
}
rcli() { redis-cli -p "$1" -a "$TOKEN" --no-auth-warning "${@:2}" 2>&1 | head -1; }

# ---- the tunnel carries Redis, verified ----
expect_eq "through the sidecar: AUTH + PING to the TLS-only Redis" "$(rcli "$TG" ping)" PONG
expect_eq "the probe (healthcheck tcp://127.0.0.1:PORT) sees the sidecar" "$("$HC" "tcp://127.0.0.1:$TG" 2>&1 && echo up)" up
expect_eq "the sidecar listens on loopback only" "$(ss -Hltn "sport = :$TG" | awk '{print $4}' | tr '\n' ' ')" "127.0.0.1:$TG "
expect_eq "plain Redis to the TLS port gets nothing" "$(timeout 5 redis-cli -p "$GP" -a "$TOKEN" --no-auth-warning ping 2>&1 | grep -c PONG || true)" 0
w0=$(pings "$WP" ca); r0=$(pings "$RP" rogue-ca)
for bad in wrongname:"$TW" rogue:"$TR"; do
  what=${bad%%:*}; port=${bad#*:}
  r=$(timeout 10 redis-cli -p "$port" -a "$TOKEN" --no-auth-warning ping 2>&1 | head -1 || true)
  if [ "$r" != PONG ] && grep -qi 'verif\|certificate' "$T/stunnel-$what.log"; then
    ok "refused: $( [ "$what" = rogue ] && echo 'a certificate from an unknown CA' || echo 'a certificate for another host name') ($(grep -im1 'verif\|certificate' "$T/stunnel-$what.log" | sed 's/^.*\] //' | cut -c1-90))"
  else not_ok "the sidecar refuses the $what server" "reply '$r'; $(tail -3 "$T/stunnel-$what.log")"; fi
done
expect_eq "the impostors saw no command through the sidecar (the PINGs above never reached them)" \
  "$(( $(pings "$WP" ca) - w0 ))+$(( $(pings "$RP" rogue-ca) - r0 ))" "0+0"

# ---- a gateway configured as in the pod ----
gw() {  # NAME TUNNEL_PORT ON_FAILURE: sets URL
  mkdir -p "$T/$1"
  env GW_DATA_DIR="$T/$1" GW_LOG_FORMAT=text GW_ACCESS_LOG=false REDIS_URL="redis://127.0.0.1:$2/0" GW_REDIS_PASSWORD="$TOKEN" \
    GW_RATELIMIT_BACKEND=redis GW_RATELIMIT_ON_REDIS_FAILURE="$3" GW_RATELIMIT_HTTP_PER_IP=3/min \
    GW_TRUSTED_PROXIES=127.0.0.1/32 GW_MAX_CONNECTIONS_PER_IP=0 GW_REDIS_PREFIX="t$RANDOM:" \
    "$BUILD_DIR/mcpgw" serve --listen 127.0.0.1:0 --port-file "$T/$1.port" </dev/null >/dev/null 2>"$T/$1.log" &
  PIDS+=("$!")
  URL="http://127.0.0.1:$(wait_port "$T/$1.port" "$!" "$T/$1.log")"
}
post() {  # URL CLIENT: status of an unauthenticated initialize from CLIENT (X-Forwarded-For)
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$1/mcp" -H "X-Forwarded-For: $2" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
}
gw shared "$TG" closed; G=$URL
wait_code "$G/ready" 200 20 || true
codes=$(for _ in 1 2 3 4; do post "$G" 203.0.113.7; echo -n ' '; done)
expect_eq "per-address limit through the sidecar (3/min): three pass to authentication, the fourth is refused" "$codes" "401 401 401 429 "
expect_eq "another client behind the same trusted proxy is counted apart" "$(post "$G" 198.51.100.9)" 401
n=$(redis-cli --tls --cacert "$T/ca.crt" -p "$GP" -a "$TOKEN" --no-auth-warning --scan --pattern '*rl:*' | wc -l)
if [ "$n" -ge 2 ]; then ok "the counters are in Redis ($n keys), reached only through the tunnel"; else not_ok "counters in Redis" "$n keys"; fi
gw impostor "$TR" closed; F=$URL
wait_code "$F/ready" 200 20 || true
expect_eq "a gateway whose sidecar meets an impostor fails closed (503)" "$(post "$F" 203.0.113.7)" 503

# ---- what the tunnel costs (printed, not asserted: the machine is shared) ----
bench() {  # PORT [TLS options]: "PING_MBULK n/s, SET n/s"
  redis-benchmark -p "$1" -a "$TOKEN" "${@:2}" -n 20000 -c 4 -t ping,set --csv 2>/dev/null |
    awk -F, '{gsub(/"/, "")} $1 == "PING_MBULK" || $1 == "SET" {printf "%s%s %.0f/s", sep, $1, $2; sep=", "}'
}
echo "# redis-benchmark, 4 clients: through the sidecar: $(bench "$TG"); direct TLS: $(bench "$GP" --tls --cacert "$T/ca.crt")"
summary
