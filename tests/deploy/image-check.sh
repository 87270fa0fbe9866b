#!/usr/bin/env bash
# tests/deploy/image-check.sh — checks the images built by deploy/images/build.sh (run by
# scripts/test.d/76-deploy-images.sh). `podman run` does not work on these machines (cgroups in
# hybrid mode), so the images are checked as file systems and run with chroot:
#   * file system: no shell, package manager, compiler or interpreter; every file root-owned
#     and not writable by the runtime user except /tmp (1777) and /app/.cache (uid 1000); no
#     setuid/setgid; /etc/passwd has user 1000; the CA bundle; the SBOM lists the product and
#     the Debian package of every library shipped;
#   * library closure: every NEEDED entry of every ELF file resolves inside the image, and each
#     binary starts (--help/--version) under chroot as uid 1000 with nothing from the host;
#   * image config (buildah): user 1000:1000, entrypoint, HEALTHCHECK, OCI labels, volumes;
#   * end to end: mock APIM and gateway started from the image's root file system, mounted
#     READ-ONLY in a private mount namespace (writable /tmp and /app/.cache only, like the
#     Kubernetes pod), run as uid 1000: import the service-booking spec, an API key, serve, the
#     whole booking journey over MCP with that key (tests/deploy/journey.py), HEALTHCHECK, /ready;
#     the admin console and the chat page are in the gateway image, served at /admin/ and /chat/;
#   * redis-tls (the gateway pod's sidecar): Debian's stunnel from its read-only image as uid
#     1000 carries Redis to a TLS-only redis-server (certificate and host name verified), and
#     the image's healthcheck sees its listener (tcp://).
# Env: GW_IMAGE_CACHE (default build/images). Needs root, unshare, chroot, readelf, python3.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${GW_IMAGE_CACHE:-$REPO/build/images}
. "$REPO/tests/deploy/lib.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/gw-image.XXXXXX")
INNER=""
stop_inner() {  # the servers the namespace's shell started (their ids in $T/inner.pids), then it
  if [ -s "$T/inner.pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null || true; done <"$T/inner.pids"
    # not our children: wait until they are gone (graceful drain) before their folders go
    for _ in $(seq 100); do
      alive=0; while read -r p; do if kill -0 "$p" 2>/dev/null; then alive=1; fi; done <"$T/inner.pids"
      [ $alive -eq 0 ] && break; sleep 0.1
    done
  fi
  if [ -n "$INNER" ]; then kill "$INNER" 2>/dev/null || true; wait "$INNER" 2>/dev/null || true; fi
}
trap 'if [ -n "${KEEP:-}" ]; then cp -r "$T" /tmp/gw-image-kept; fi; deploy_cleanup; stop_inner; rm -rf "$T"' EXIT

for img in gateway mock-apim redis-tls; do
  R=$OUT/rootfs/$img
  [ -d "$R" ] || { not_ok "$img: root file system $R missing"; continue; }
  # ---- file system ----
  bad=""
  for f in bin/sh bin/bash usr/bin/sh usr/bin/apt usr/bin/apt-get usr/bin/dpkg usr/bin/gcc usr/bin/cc \
           usr/bin/ld usr/bin/make usr/bin/perl usr/bin/python3 usr/bin/curl usr/bin/wget usr/sbin/useradd; do
    [ -e "$R/$f" ] && bad="$bad $f"
  done
  expect_eq "$img: no shell, package manager, compiler or interpreter" "${bad:-none}" none
  expect_eq "$img: only /app/.cache is owned by the runtime user" \
    "$(cd "$R" && find . -uid 1000 | sort | tr '\n' ' ')" "./app/.cache "
  expect_eq "$img: nothing else is writable by others or the group" \
    "$(cd "$R" && find . -path ./tmp -prune -o \( -perm -o+w -o -perm -g+w \) ! -type l -print | tr '\n' ' ')" ""
  expect_eq "$img: /tmp is 1777" "$(stat -c %a "$R/tmp")" 1777
  expect_eq "$img: /app/.cache is 750 1000:1000" "$(stat -c '%a %u:%g' "$R/app/.cache")" "750 1000:1000"
  expect_eq "$img: no setuid/setgid files" "$(find "$R" -perm /6000 -type f | wc -l)" 0
  expect_eq "$img: user 1000 in /etc/passwd" "$(awk -F: '$3==1000{print $1}' "$R/etc/passwd")" app
  [ -s "$R/etc/ssl/certs/ca-certificates.crt" ] && ok "$img: CA bundle" || not_ok "$img: CA bundle"
  # ---- library closure ----
  missing=""
  while IFS= read -r elf; do
    for lib in $(readelf -d "$elf" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
      [ -e "$R/usr/lib/x86_64-linux-gnu/$lib" ] || [ -e "$R/usr/lib64/$lib" ] || missing="$missing ${elf#"$R"}:$lib"
    done
  done < <(find "$R" -type f -exec sh -c 'head -c4 "$1" | grep -q "ELF" && echo "$1"' _ {} \;)
  expect_eq "$img: every NEEDED library of every ELF file is in the image" "${missing:-none}" none
  nelf=$(find "$R" -type f -exec sh -c 'head -c4 "$1" | grep -q "ELF" && echo "$1"' _ {} \; | wc -l)
  ok "$img: $nelf ELF files, $(du -sk "$R" | cut -f1) KiB in all"
  # ---- SBOM ----
  sbom=$(ls "$R"/usr/share/sbom/*.spdx.json)
  if python3 - "$sbom" "$R" "$img" <<'PY'; then ok "$img: SBOM (SPDX 2.3) lists the product and the owner package of every library"; else not_ok "$img: SBOM"; fi
import json, os, sys
doc = json.load(open(sys.argv[1]))
assert doc["spdxVersion"] == "SPDX-2.3", "version"
names = {p["name"] for p in doc["packages"]}
assert names & {"mcpgw", "mock-apim", "redis-tls"}, "product missing"
musts = ("libc6", "libssl3", "stunnel4", "ca-certificates") if sys.argv[3] == "redis-tls" else \
        ("libc6", "libssl3", "libjansson4", "ca-certificates")
for must in musts:
    assert must in names, must
libs = os.listdir(os.path.join(sys.argv[2], "usr/lib/x86_64-linux-gnu"))
assert len(doc["packages"]) >= (5 if sys.argv[3] == "redis-tls" else 10) and len(libs) <= 3 * len(doc["packages"]), "too few packages for the libraries"
for p in doc["packages"][1:]:
    assert p["externalRefs"][0]["referenceLocator"].startswith("pkg:deb/debian/"), p["name"]
PY
  # ---- image config ----
  cfg=$OUT/$img.config.json
  if [ -s "$cfg" ]; then
    if python3 - "$cfg" <<'PY'; then ok "$img: image config (user 1000, entrypoint, HEALTHCHECK, labels, volumes)"; else not_ok "$img: image config"; fi
import json, sys
c = json.load(open(sys.argv[1]))
d = c["Docker"]["config"]
assert d["User"] == "1000:1000", d["User"]
assert d["Entrypoint"][0].startswith("/usr/local/bin/"), d["Entrypoint"]
assert d["Healthcheck"]["Test"][:2] == ["CMD-SHELL", "/usr/local/bin/healthcheck http://127.0.0.1:8000/health"] or \
       d["Healthcheck"]["Test"][0] in ("CMD", "CMD-SHELL"), d["Healthcheck"]
assert "healthcheck" in " ".join(d["Healthcheck"]["Test"])
for k in ("org.opencontainers.image.title", "org.opencontainers.image.version",
          "org.opencontainers.image.revision", "io.msil.sbom"):
    assert k in d["Labels"], k
assert set(d["Volumes"]) == {"/tmp", "/app/.cache"}, d["Volumes"]
assert not any(e.split("=")[0] in ("DATABASE_URL", "GW_SESSION_SECRET") for e in d.get("Env", []))
PY
    [ -s "$OUT/$img.oci.tar" ] && ok "$img: image archive $(du -h "$OUT/$img.oci.tar" | cut -f1)" || not_ok "$img: image archive"
  else
    echo "# $img: no image config (buildah not installed): file system checks only"
  fi
done

# ---- each binary starts under chroot as uid 1000, with only the image's libraries ----
GR=$OUT/rootfs/gateway; MR=$OUT/rootfs/mock-apim
expect_eq "mcpgw starts in its image (uid 1000)" \
  "$(chroot --userspec=1000:1000 "$GR" /usr/local/bin/mcpgw --help 2>&1 | grep -c '^  serve ')" 1
expect_eq "mock-apim starts in its image (uid 1000)" \
  "$(chroot --userspec=1000:1000 "$MR" /usr/local/bin/mock-apim --version 2>&1 | cut -d' ' -f1)" "mock-apim"
# stunnel needs /dev/null, which a container runtime provides in /dev (the image has an empty
# /dev): a private mount namespace gives it one the same way
RR=$OUT/rootfs/redis-tls
devnull='mount -t tmpfs -o size=64k,mode=0755 none "$0/dev" && touch "$0/dev/null" && mount --bind /dev/null "$0/dev/null"'
expect_eq "stunnel starts in the redis-tls image (uid 1000)" \
  "$(unshare --mount --propagation private sh -c "$devnull"' && exec chroot --userspec=1000:1000 "$0" /usr/local/bin/stunnel4 -version' "$RR" 2>&1 |
    grep -o '^stunnel [0-9]' | head -1)" "stunnel 5"

# ---- end to end, read-only root file systems ----
mkdir -p "$T/gw-tmp" "$T/gw-cache" "$T/mock-tmp" "$T/mock-cache"
chmod 1777 "$T/gw-tmp" "$T/mock-tmp"; chown 1000:1000 "$T/gw-cache" "$T/mock-cache"; chmod 750 "$T/gw-cache" "$T/mock-cache"
cp "$REPO/tools/mock-apim/openapi/service-booking.yaml" "$T/gw-tmp/service-booking.yaml"
# redis-tls: a TLS-only redis-server on the host's loopback (AUTH required) with a certificate
# for "localhost" from a CA made here; the sidecar's configuration in its /tmp (the pod mounts
# it from the redis-auth Secret at /etc/stunnel)
mkdir -p "$T/rt-tmp" "$T/rt-cache"; chmod 1777 "$T/rt-tmp"; chown 1000:1000 "$T/rt-cache"; chmod 750 "$T/rt-cache"
RT_OK=0
if command -v redis-server >/dev/null; then
  (cd "$T" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=ca \
      -keyout ca.key -out ca.crt 2>/dev/null &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -keyout r.key -out r.csr 2>/dev/null &&
    printf 'subjectAltName=DNS:localhost\n' >r.ext &&
    openssl x509 -req -in r.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile r.ext -out r.crt 2>/dev/null)
  cp "$T/ca.crt" "$T/rt-tmp/ca.crt"; chmod 0644 "$T/rt-tmp/ca.crt"
  RTOKEN=$(openssl rand -hex 16); read -r RPORT LPORT <<<"$(free_ports 2)"
  redis-server --port 0 --tls-port "$RPORT" --tls-cert-file "$T/r.crt" --tls-key-file "$T/r.key" --tls-ca-cert-file "$T/ca.crt" \
    --tls-auth-clients no --requirepass "$RTOKEN" --save '' --appendonly no --dir "$T" --bind 127.0.0.1 \
    </dev/null >"$T/redis.log" 2>&1 &
  PIDS+=("$!")
  printf '%s\n' 'foreground = yes' 'pid =' 'debug = warning' '[redis]' 'client = yes' "accept = 127.0.0.1:$LPORT" \
    "connect = localhost:$RPORT" 'sni = localhost' 'checkHost = localhost' 'verifyChain = yes' 'CAfile = /tmp/ca.crt' \
    'sslVersionMin = TLSv1.2' >"$T/rt-tmp/stunnel.conf"
  chmod 0644 "$T/rt-tmp/stunnel.conf"
  RT_OK=1
else echo "# redis-server missing: the redis-tls image is checked as a file system only"; fi
cat >"$T/inner.sh" <<EOF
set -eu
ro() { mount --bind "\$1" "\$1"; mount -o remount,bind,ro "\$1"; mount --bind "\$2" "\$1/tmp"; mount --bind "\$3" "\$1/app/.cache"; mount -t proc proc "\$1/proc"; }
ro "$MR" "$T/mock-tmp" "$T/mock-cache"
ro "$GR" "$T/gw-tmp" "$T/gw-cache"
ro "$RR" "$T/rt-tmp" "$T/rt-cache"
sh -c '$devnull' "$RR"
# run ROOT [NAME=VALUE...] COMMAND...: the image has no env(1): the host's env sets a clean
# environment, then chroot runs the command as uid 1000
run() {
  local r=\$1 vars=(); shift
  while [ "\${1#*=}" != "\$1" ] && [ "\${1#/}" = "\$1" ]; do vars+=("\$1"); shift; done
  env -i PATH=/usr/local/bin HOME=/app TMPDIR=/tmp GW_DATA_DIR=/app/.cache "\${vars[@]}" $(command -v chroot) --userspec=1000:1000 "\$r" "\$@"
}
# runbg ROOT ...: run in the background as a process whose id is the server's (recorded)
runbg() { ( run_exec "\$@" ) & echo \$! >>"$T/inner.pids"; }
run_exec() {
  local r=\$1 vars=(); shift
  while [ "\${1#*=}" != "\$1" ] && [ "\${1#/}" = "\$1" ]; do vars+=("\$1"); shift; done
  exec env -i PATH=/usr/local/bin HOME=/app TMPDIR=/tmp GW_DATA_DIR=/app/.cache "\${vars[@]}" $(command -v chroot) --userspec=1000:1000 "\$r" "\$@"
}
# proof the root is read-only for the process
# (as root inside the chroot, so that only the read-only mount can refuse the write)
if env -i GW_DATA_DIR=/usr/local "\$(command -v chroot)" "$GR" /usr/local/bin/mcpgw db migrate >"$T/gw-tmp/ro.log" 2>&1; then
  echo rw >"$T/gw-tmp/ro.result"
elif grep -qi "read-only\|readonly\|unable to open" "$T/gw-tmp/ro.log"; then echo ro >"$T/gw-tmp/ro.result"
else echo "failed otherwise: \$(head -c 200 "$T/gw-tmp/ro.log")" >"$T/gw-tmp/ro.result"; fi
[ $RT_OK = 1 ] && runbg "$RR" /usr/local/bin/stunnel4 /tmp/stunnel.conf 2>"$T/stunnel.log"
runbg "$MR" MOCK_APIM_API_KEY=k-123 MOCK_APIM_CLIENT_ID=gw MOCK_APIM_CLIENT_SECRET=s-456 \
  /usr/local/bin/mock-apim serve --listen 127.0.0.1:0 --port-file /tmp/port --db /app/.cache/mock.db 2>"$T/mock.log"
for _ in \$(seq 200); do [ -s "$T/mock-tmp/port" ] && break; sleep 0.05; done
port=\$(cat "$T/mock-tmp/port")
sed "s|http://127.0.0.1:8080|http://127.0.0.1:\$port|g" "$REPO/deploy/embedded/upstreams.json" >"$T/gw-tmp/upstreams.json"
run "$GR" /usr/local/bin/mcpgw import /tmp/service-booking.yaml --spec-id service-booking --bundle service-booking \
  --upstream service-booking --activate >"$T/import.log" 2>&1
run "$GR" /usr/local/bin/mcpgw keys create --name image-check --subject svc-image --role customer-care --json \
  >"$T/gw-tmp/key.json" 2>>"$T/import.log"
runbg "$GR" GW_UPSTREAMS_FILE=/tmp/upstreams.json GW_UPSTREAM_ENV=mock MOCK_APIM_API_KEY=k-123 MOCK_APIM_CLIENT_ID=gw \
  MOCK_APIM_CLIENT_SECRET=s-456 GW_LOG_FORMAT=text GW_ADMIN_LISTEN=127.0.0.1:0 GW_ADMIN_UI_DIR=/usr/share/mcpgw/admin-ui \
  GW_CHAT_UI_DIR=/usr/share/mcpgw/chat-ui /usr/local/bin/mcpgw serve --listen 127.0.0.1:0 --port-file /tmp/port --admin-port-file /tmp/admin.port 2>"$T/gw.log"
echo started >"$T/started"
wait
EOF
unshare --mount --propagation private bash "$T/inner.sh" &
INNER=$!
gwport=""; for _ in $(seq 1 400); do [ -s "$T/gw-tmp/port" ] && { gwport=$(cat "$T/gw-tmp/port"); break; }; sleep 0.05; done
if [ -z "$gwport" ]; then
  not_ok "gateway started from the read-only image" "$(tail -5 "$T/gw.log" "$T/import.log" "$T/mock.log" 2>/dev/null)"
else
  ok "mock APIM and gateway started from the read-only image root file systems as uid 1000"
  expect_eq "the image's root file system is read-only for the process" "$(cat "$T/gw-tmp/ro.result")" ro
  GWB=http://127.0.0.1:$gwport; MOCKB=http://127.0.0.1:$(cat "$T/mock-tmp/port")
  wait_code "$GWB/ready" 200 10 && ok "gateway /ready" || not_ok "gateway /ready"
  MCP_TOKEN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$T/gw-tmp/key.json" 2>/dev/null || true)
  export MCP_TOKEN
  expect_eq "an API key made with the image's CLI" "$(printf '%s' "$MCP_TOKEN" | cut -c1-6)" mcpgw_
  if python3 "$REPO/tests/deploy/journey.py" "$GWB" "$MOCKB" >"$T/journey.out" 2>&1; then
    ok "service-booking journey through the image binaries ($(tail -1 "$T/journey.out"))"
  else
    not_ok "service-booking journey through the image binaries" "$(grep -v '^ok' "$T/journey.out" | head -5)"
  fi
  expect_eq "HEALTHCHECK command (from the image) says healthy" \
    "$(chroot --userspec=1000:1000 "$GR" /usr/local/bin/healthcheck "$GWB/health" && echo healthy)" healthy
  expect_eq "HEALTHCHECK command fails when nothing listens" \
    "$(chroot --userspec=1000:1000 "$GR" /usr/local/bin/healthcheck http://127.0.0.1:1/health 2>/dev/null || echo unhealthy)" unhealthy
  if [ -f "$GR/usr/share/mcpgw/admin-ui/index.html" ]; then
    expect_eq "the admin console from the image at /admin/ (200, HTML)" \
      "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' --max-time 5 "http://127.0.0.1:$(cat "$T/gw-tmp/admin.port")/admin/" | cut -d';' -f1)" "200 text/html"
  else
    not_ok "the gateway image carries the admin console (ui/admin/dist)"
  fi
  if [ -f "$GR/usr/share/mcpgw/chat-ui/index.html" ]; then
    expect_eq "the chat page from the image at /chat/ (200, HTML)" \
      "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' --max-time 5 "$GWB/chat/" | cut -d';' -f1)" "200 text/html"
  else
    not_ok "the gateway image carries the chat page (ui/chat/dist)"
  fi
  expect_eq "state written only to the volumes (gateway.db in /app/.cache)" "$([ -f "$T/gw-cache/gateway.db" ] && echo 1)" 1
fi
if [ "$RT_OK" = 1 ]; then
  for _ in $(seq 100); do "$(command -v redis-cli)" -p "$LPORT" -a "$RTOKEN" --no-auth-warning ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
  expect_eq "redis-tls: Redis through the image's stunnel (read-only root, uid 1000) to a TLS-only server, verified" \
    "$(redis-cli -p "$LPORT" -a "$RTOKEN" --no-auth-warning ping 2>&1 | head -1)" PONG
  expect_eq "redis-tls: the image's healthcheck sees the listener (the probe)" \
    "$(chroot --userspec=1000:1000 "$RR" /usr/local/bin/healthcheck "tcp://127.0.0.1:$LPORT" && echo up)" up
  expect_eq "redis-tls: the process runs as uid 1000" \
    "$(while read -r p; do ps -o uid=,comm= -p "$p"; done <"$T/inner.pids" | awk '$2 == "stunnel4" {print $1}')" 1000
fi
summary
