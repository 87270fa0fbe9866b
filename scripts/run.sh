#!/usr/bin/env bash
# scripts/run.sh — builds (release) and runs the platform on this machine: the gateway on
# http://127.0.0.1:8000 (MCP at /mcp), with its embedded defaults. Installs what it needs first.
# Extra arguments are passed to `mcpgw serve` (try --help).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
"$REPO/scripts/setup.sh"
cmake --preset release -G "Unix Makefiles" >/dev/null
cmake --build --preset release -j"${JOBS:-2}" >/dev/null
BIN="$REPO/build/release"
mkdir -p "${GW_DATA_DIR:-$REPO/data}"
echo "MSIL MCP Platform: gateway on http://${GW_LISTEN:-127.0.0.1:8000} (MCP endpoint /mcp). Ctrl-C stops."
exec "$BIN/mcpgw" serve "$@"
