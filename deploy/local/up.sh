#!/usr/bin/env bash
# deploy/local/up.sh — the production topology on one machine, one command, loopback only:
#
#   nginx :9000 (the ALB's role: one entry point, /mcp /sse /messages -> gateways, /admin/ ->
#     their admin listeners, no sticky sessions)
#     -> 3 gateway replicas (mcpgw serve, :9001-9003, admin :9011-9013; shared session key,
#        GW_DB_MIGRATE_ON_START=false: a migration step runs first, as the Kubernetes Job does)
#        -> PostgreSQL 15 (:9030, password auth over TCP, database "registry")
#        -> Redis 7 (:9040, password; shared state of issue 11 once it lands)
#        -> mock APIM (:9020), the service-booking spec imported and active
# Every request needs a credential (GW_AUTH_MODE=required): up.sh makes two API keys, kept in
# $LOCAL_STATE_DIR/credentials ("client": MCP; "operator": admin API and console).
#
# All from Debian packages and this repository's build (release preset, like scripts/run.sh).
# State, logs and PIDs in $LOCAL_STATE_DIR (default ./data/local); stop with deploy/local/down.sh
# (PostgreSQL data and bookings are kept; down.sh --purge deletes them).
# Ports: LOCAL_PORT_BASE (default 9000) or each of LOCAL_NGINX_PORT, LOCAL_GW_PORTS ("a b c"),
# LOCAL_ADMIN_PORTS, LOCAL_MOCK_PORT, LOCAL_PG_PORT, LOCAL_REDIS_PORT. LOCAL_BUILD_DIR: use an
# existing build instead of building the release preset. Returns when everything is ready.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
S=${LOCAL_STATE_DIR:-$REPO/data/local}
B=${LOCAL_PORT_BASE:-9000}
NGINX_PORT=${LOCAL_NGINX_PORT:-$B}
read -r -a GW_PORTS <<<"${LOCAL_GW_PORTS:-$((B + 1)) $((B + 2)) $((B + 3))}"
read -r -a ADMIN_PORTS <<<"${LOCAL_ADMIN_PORTS:-$((B + 11)) $((B + 12)) $((B + 13))}"
MOCK_PORT=${LOCAL_MOCK_PORT:-$((B + 20))}
PG_PORT=${LOCAL_PG_PORT:-$((B + 30))}
REDIS_PORT=${LOCAL_REDIS_PORT:-$((B + 40))}
say() { printf '[local] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

if [ -s "$S/pids" ]; then
  while read -r p _; do kill -0 "$p" 2>/dev/null && die "already running (deploy/local/down.sh first)"; done <"$S/pids"
fi
for c in nginx redis-server curl openssl; do command -v "$c" >/dev/null || die "$c missing: run scripts/setup.sh"; done
PGBIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -1)")
[ -x "$PGBIN/pg_ctl" ] || die "PostgreSQL server missing: run scripts/setup.sh"

if [ -n "${LOCAL_BUILD_DIR:-}" ]; then BIN=$LOCAL_BUILD_DIR
else
  say "building (release)"
  (cd "$REPO" && cmake --preset release -G "Unix Makefiles" >/dev/null && cmake --build --preset release -j"${JOBS:-2}" >/dev/null)
  BIN=$REPO/build/release
fi
[ -x "$BIN/mcpgw" ] && [ -x "$BIN/tools/mock-apim/mock-apim" ] || die "no mcpgw/mock-apim in $BIN"

mkdir -p "$S"/{logs,nginx,redis,mock}; chmod 0755 "$S"
: >"$S/pids"
track() { echo "$1 $2" >>"$S/pids"; }   # PID NAME (down.sh stops exactly these)
secret() { [ -s "$S/$1" ] || (umask 077; openssl rand -hex 24 >"$S/$1"); cat "$S/$1"; }
PG_PASSWORD=$(secret pg-password); REDIS_PASSWORD=$(secret redis-password); SESSION_SECRET=$(secret session-secret)
RUN=(); PGUSER_OS=""
if [ "$(id -u)" -eq 0 ]; then PGUSER_OS=${PG_TEST_USER:-postgres}; RUN=(runuser -u "$PGUSER_OS" --); fi

# ---- PostgreSQL ----
if [ ! -s "$S/pg/PG_VERSION" ]; then
  mkdir -p "$S/pg"; [ -n "$PGUSER_OS" ] && chown "$PGUSER_OS" "$S/pg"; chmod 0700 "$S/pg"
  printf '%s\n' "$PG_PASSWORD" >"$S/pg-pwfile"; [ -n "$PGUSER_OS" ] && chown "$PGUSER_OS" "$S/pg-pwfile"
  "${RUN[@]}" "$PGBIN/initdb" -D "$S/pg" -U postgres --pwfile="$S/pg-pwfile" -A scram-sha-256 -E UTF8 \
    --locale=C.UTF-8 >"$S/logs/initdb.log" 2>&1 || die "initdb failed: $S/logs/initdb.log"
  rm -f "$S/pg-pwfile"
fi
mkdir -p "$S/pgsock"; [ -n "$PGUSER_OS" ] && chown "$PGUSER_OS" "$S/pgsock"
touch "$S/logs/postgresql.log"; [ -n "$PGUSER_OS" ] && chown "$PGUSER_OS" "$S/logs/postgresql.log"
"${RUN[@]}" "$PGBIN/pg_ctl" -D "$S/pg" -l "$S/logs/postgresql.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $S/pgsock" start >/dev/null || die "PostgreSQL did not start: $S/logs/postgresql.log"
track "$(head -1 "$S/pg/postmaster.pid")" postgresql
export PGPASSWORD=$PG_PASSWORD
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -XAtq -c "SELECT 1 FROM pg_database WHERE datname='registry'" | grep -q 1 ||
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -XAtq -c "CREATE DATABASE registry" >/dev/null
unset PGPASSWORD
DATABASE_URL="postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/registry"
say "PostgreSQL on 127.0.0.1:$PG_PORT"

# ---- Redis ----
cat >"$S/redis/redis.conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
requirepass $REDIS_PASSWORD
dir $S/redis
appendonly yes
save 3600 1
daemonize no
logfile $S/logs/redis.log
EOF
chmod 0600 "$S/redis/redis.conf"
setsid redis-server "$S/redis/redis.conf" </dev/null >/dev/null 2>&1 &
track $! redis
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
say "Redis on 127.0.0.1:$REDIS_PORT"

# ---- mock APIM ----
export MOCK_APIM_API_KEY=mock-apim-dev-key MOCK_APIM_CLIENT_ID=mock-gateway MOCK_APIM_CLIENT_SECRET=mock-gateway-secret
setsid "$BIN/tools/mock-apim/mock-apim" serve --listen "127.0.0.1:$MOCK_PORT" --db "$S/mock/mock-apim.db" \
  </dev/null >/dev/null 2>"$S/logs/mock-apim.log" &
track $! mock-apim
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$MOCK_PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
say "mock APIM on 127.0.0.1:$MOCK_PORT"

# ---- migrations + the service-booking tools (once), then three replicas ----
sed "s|http://127.0.0.1:8080|http://127.0.0.1:$MOCK_PORT|g" "$REPO/deploy/embedded/upstreams.json" >"$S/upstreams.json"
export DATABASE_URL GW_DATA_DIR=$S GW_UPSTREAMS_FILE=$S/upstreams.json GW_UPSTREAM_ENV=mock
export GW_SESSION_SECRET=$SESSION_SECRET GW_DB_MIGRATE_ON_START=false GW_LOG_FORMAT=json
export GW_REDIS_URL="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0"   # placeholder name (issue 11)
export GW_WORKERS=${GW_WORKERS:-1}
[ -f "$REPO/ui/admin/dist/index.html" ] && export GW_ADMIN_UI_DIR=$REPO/ui/admin/dist   # the console at /admin/
"$BIN/mcpgw" db migrate >"$S/logs/migrate.log" 2>&1 || die "migration failed: $S/logs/migrate.log"
"$BIN/mcpgw" import "$REPO/tools/mock-apim/openapi/service-booking.yaml" --spec-id service-booking \
  --bundle service-booking --upstream service-booking --activate >"$S/logs/import.log" 2>&1 || die "import failed: $S/logs/import.log"
# two API keys, made once and kept (only their hashes are in the database): an operator (admin
# role: the admin API and console) and a client (customer-care: MCP)
if [ ! -s "$S/credentials" ] || ! grep -q '^client ' "$S/credentials"; then
  mk() { "$BIN/mcpgw" keys create --name "$1" --subject "$2" "${@:3}" --json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])'; }
  (umask 077; { echo "operator $(mk local-operator ops@msil.example --role operator --role admin)"
                echo "client $(mk local-client cc.agent@msil.example --role customer-care)"; } >"$S/credentials")
fi
for i in 0 1 2; do
  GW_ADMIN_LISTEN="127.0.0.1:${ADMIN_PORTS[$i]}" setsid "$BIN/mcpgw" serve --listen "127.0.0.1:${GW_PORTS[$i]}" \
    </dev/null >/dev/null 2>"$S/logs/gateway-$((i + 1)).log" &
  track $! "gateway-$((i + 1))"
done
# each replica gets 60 s to become ready (its first registry snapshot loaded); one that exits
# is reported at once, with the end of its log (a port taken, a bad setting)
gw_pid() { awk -v n="gateway-$1" '$2==n{print $1}' "$S/pids"; }
for i in 0 1 2; do
  log=$S/logs/gateway-$((i + 1)).log; pid=$(gw_pid $((i + 1)))
  for _ in $(seq 600); do
    curl -sf --max-time 2 "http://127.0.0.1:${GW_PORTS[$i]}/ready" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || die "gateway $((i + 1)) exited: $log: $(tail -3 "$log" | tr '\n' ' ')"
    sleep 0.1
  done
  curl -sf --max-time 2 "http://127.0.0.1:${GW_PORTS[$i]}/ready" >/dev/null ||
    die "gateway $((i + 1)) not ready after 60 s: $log: $(tail -3 "$log" | tr '\n' ' ')"
done
say "gateways on 127.0.0.1:${GW_PORTS[*]} (admin ${ADMIN_PORTS[*]})"

# ---- nginx in front ----
mkdir -p "$S/nginx/tmp"
cat >"$S/nginx/nginx.conf" <<EOF
# generated by deploy/local/up.sh: the load balancer of the local stack
worker_processes 1;
pid $S/nginx/nginx.pid;
error_log $S/logs/nginx-error.log warn;
daemon off;
$( [ "$(id -u)" -eq 0 ] && echo "user www-data www-data;" )
events { worker_connections 1024; }
http {
  log_format lb '\$remote_addr "\$request" \$status upstream=\$upstream_addr \$request_time';
  access_log $S/logs/nginx-access.log lb;
  client_body_temp_path $S/nginx/tmp/body; proxy_temp_path $S/nginx/tmp/proxy;
  fastcgi_temp_path $S/nginx/tmp/fastcgi; uwsgi_temp_path $S/nginx/tmp/uwsgi; scgi_temp_path $S/nginx/tmp/scgi;
  server_tokens off;
  client_max_body_size 1m;          # = GW_MAX_BODY_BYTES: refused at the edge (413)
  upstream mcp { $(for p in "${GW_PORTS[@]}"; do printf 'server 127.0.0.1:%s max_fails=1 fail_timeout=5s; ' "$p"; done) keepalive 32; }
  upstream admin { $(for p in "${ADMIN_PORTS[@]}"; do printf 'server 127.0.0.1:%s max_fails=1 fail_timeout=5s; ' "$p"; done) keepalive 8; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_next_upstream error timeout http_502 http_503;
    location /admin/ { proxy_pass http://admin; }
    location / {
      proxy_pass http://mcp;
      proxy_buffering off;            # SSE streams
      proxy_read_timeout 3600s;
    }
  }
}
EOF
[ "$(id -u)" -eq 0 ] && chown -R www-data "$S/nginx/tmp"
nginx -t -c "$S/nginx/nginx.conf" -p "$S/nginx" >"$S/logs/nginx-test.log" 2>&1 || die "nginx config: $S/logs/nginx-test.log"
setsid nginx -c "$S/nginx/nginx.conf" -p "$S/nginx" </dev/null >/dev/null 2>>"$S/logs/nginx-error.log" &
track $! nginx
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$NGINX_PORT/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$NGINX_PORT/ready" >/dev/null || die "nginx not answering: $S/logs/nginx-error.log"
cat >"$S/env" <<EOF
LOCAL_URL=http://127.0.0.1:$NGINX_PORT
LOCAL_MOCK_URL=http://127.0.0.1:$MOCK_PORT
LOCAL_GW_URLS="$(for p in "${GW_PORTS[@]}"; do printf 'http://127.0.0.1:%s ' "$p"; done)"
LOCAL_PG_PORT=$PG_PORT
LOCAL_REDIS_PORT=$REDIS_PORT
EOF
say "ready: MCP at http://127.0.0.1:$NGINX_PORT/mcp, admin API at http://127.0.0.1:$NGINX_PORT/admin/api/"
say "API keys (Authorization: Bearer ...) in $S/credentials: 'client' for MCP, 'operator' for the admin API"
say "logs: $S/logs; stop: deploy/local/down.sh"
