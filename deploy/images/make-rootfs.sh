#!/bin/sh
# deploy/images/make-rootfs.sh — the runtime file system of one image, assembled in the build
# stage (Containerfile `rootfs` stage; deploy/images/build.sh runs it in its mmdebstrap builder):
#
#   make-rootfs.sh OUT NAME VERSION BINARY...
#
# OUT/ receives: the binaries in /usr/local/bin; every shared library they load (their ldd
# closure, the dynamic loader included, plus libgcc_s which glibc loads for thread unwinding),
# in Debian's merged-/usr layout; the CA bundle; /etc/passwd and /etc/group with the runtime
# user app (uid/gid 1000); /etc/nsswitch.conf; /tmp (1777) and /app/.cache (owned by 1000,
# the only places the process may write, as volumes); and an SPDX 2.3 SBOM at
# /usr/share/sbom/NAME.spdx.json listing the Debian package (name, version, licence file) of
# every file taken from the system, and NAME itself. Nothing else: no shell, no package
# manager, no compiler. Every file is owned by root and read-only for the runtime user.
# Needs: POSIX sh, ldd, dpkg-query, coreutils, strip (binutils). Runs as root.
set -eu
OUT=$1 NAME=$2 VERSION=$3; shift 3
[ $# -gt 0 ] || { echo "usage: make-rootfs.sh OUT NAME VERSION BINARY..." >&2; exit 2; }
umask 022
rm -rf "$OUT"; mkdir -p "$OUT"
cd "$OUT"
mkdir -p usr/local/bin usr/lib/x86_64-linux-gnu usr/lib64 usr/bin etc/ssl/certs usr/share/sbom app tmp
mkdir -m 0555 proc sys dev  # mount points the container runtime fills
ln -s usr/lib lib; ln -s usr/lib64 lib64; ln -s usr/bin bin
chmod 1777 tmp
mkdir -m 0750 app/.cache
chown 1000:1000 app/.cache

files=""
add() {  # copy a system file (dereferenced) to the same path in OUT; remember it for the SBOM
  src=$1
  real=$(readlink -f "$src")
  dst=$(printf '%s' "$src" | sed 's|^/lib/|/usr/lib/|; s|^/lib64/|/usr/lib64/|')
  [ -e "$OUT$dst" ] && return 0
  mkdir -p "$OUT$(dirname "$dst")"
  cp -L "$real" "$OUT$dst"
  chmod 0644 "$OUT$dst"
  files="$files $real"
}
for b in "$@"; do
  install -m 0755 "$b" usr/local/bin/
  # a binary of a Debian package (stunnel4 of the redis-tls image) is listed in the SBOM too
  case $b in /usr/*) dpkg-query -S "$b" >/dev/null 2>&1 && files="$files $b" ;; esac
  strip --strip-unneeded "usr/local/bin/$(basename "$b")"
  for lib in $(ldd "$b" | awk '/=> \//{print $3} /^[[:space:]]*\/[^ ]*ld-linux/{print $1}'); do
    add "$lib"
  done
done
# glibc dlopens libgcc_s for pthread_exit/cancel unwinding
add /lib/x86_64-linux-gnu/libgcc_s.so.1
for f in usr/lib/x86_64-linux-gnu/* usr/lib64/*; do chmod 0755 "$f"; done
add /etc/ssl/certs/ca-certificates.crt

cat >etc/passwd <<'P'
root:x:0:0:root:/nonexistent:/nonexistent
app:x:1000:1000:MSIL MCP platform:/app:/nonexistent
nobody:x:65534:65534:nobody:/nonexistent:/nonexistent
P
cat >etc/group <<'P'
root:x:0:
app:x:1000:
nogroup:x:65534:
P
cat >etc/nsswitch.conf <<'P'
passwd: files
group: files
hosts: files dns
P
printf '127.0.0.1 localhost\n::1 localhost\n' >etc/hosts

# SBOM: the Debian packages that own the copied files, then the product itself
pkgs=$( (for f in $files; do
  dpkg-query -S "$f" 2>/dev/null || dpkg-query -S "$(printf '%s' "$f" | sed 's|^/usr/lib/|/lib/|')" 2>/dev/null || true
done | sed 's/:[^:]*: .*//; s/: .*//' | tr ',' '\n' | sed 's/^ *//'
  echo ca-certificates  # ca-certificates.crt is generated from it, owned by no package
) | sort -u)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
{
  printf '{\n  "spdxVersion": "SPDX-2.3",\n  "dataLicense": "CC0-1.0",\n  "SPDXID": "SPDXRef-DOCUMENT",\n'
  printf '  "name": "%s-%s",\n  "documentNamespace": "https://msil.example/spdx/%s-%s-%s",\n' "$NAME" "$VERSION" "$NAME" "$VERSION" "$(date -u +%s)"
  printf '  "creationInfo": {"created": "%s", "creators": ["Tool: deploy/images/make-rootfs.sh"]},\n' "$now"
  printf '  "packages": [\n'
  printf '    {"SPDXID": "SPDXRef-Package-%s", "name": "%s", "versionInfo": "%s", "supplier": "Organization: MSIL", "downloadLocation": "NOASSERTION", "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION", "copyrightText": "NOASSERTION", "primaryPackagePurpose": "APPLICATION"}' "$NAME" "$NAME" "$VERSION"
  for p in $pkgs; do
    pn=${p%%:*}
    v=$(dpkg-query -W -f='${Version}' "$p")
    a=$(dpkg-query -W -f='${Architecture}' "$p")
    id=$(printf '%s' "$pn" | tr -c 'A-Za-z0-9.\n-' '-')
    printf ',\n    {"SPDXID": "SPDXRef-Package-deb-%s", "name": "%s", "versionInfo": "%s", "supplier": "Organization: Debian", "downloadLocation": "https://deb.debian.org/debian/pool/main/", "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION", "copyrightText": "NOASSERTION", "comment": "licence: /usr/share/doc/%s/copyright of the build stage", "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:deb/debian/%s@%s?arch=%s&distro=debian-12"}]}' \
      "$id" "$pn" "$v" "$pn" "$pn" "$v" "$a"
  done
  printf '\n  ],\n  "relationships": [\n    {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Package-%s"}' "$NAME"
  for p in $pkgs; do
    id=$(printf '%s' "${p%%:*}" | tr -c 'A-Za-z0-9.\n-' '-')
    printf ',\n    {"spdxElementId": "SPDXRef-Package-%s", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-Package-deb-%s"}' "$NAME" "$id"
  done
  printf '\n  ]\n}\n'
} >"usr/share/sbom/$NAME.spdx.json"
chown -R 0:0 "$OUT"
chown 1000:1000 app/.cache
echo "make-rootfs: $NAME $VERSION: $(find . -type f | wc -l) files, $(du -sk . | cut -f1) KiB, $(echo "$pkgs" | wc -w) Debian packages"
