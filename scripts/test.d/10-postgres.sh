#!/usr/bin/env bash
# scripts/test.d/10-postgres.sh — runs the store and registry unit tests against a real
# PostgreSQL server (the same test bodies ctest runs on SQLite; their PostgreSQL half is
# skipped when GW_TEST_PG_URL is unset and runs here, where it is set).
# Env: BUILD_DIR (cmake build dir with the test binaries), REPO (repository root).
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${BUILD_DIR:?BUILD_DIR must name the cmake build directory}"

exec "$REPO/scripts/pg/pg-test-server.sh" -- \
  ctest --test-dir "$BUILD_DIR" -R 'unit\.test_(store|registry|admin)' --output-on-failure
