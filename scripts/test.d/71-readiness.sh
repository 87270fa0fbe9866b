#!/usr/bin/env bash
# scripts/test.d/71-readiness.sh — readiness against a real PostgreSQL that is stopped and
# started mid-run (tests/deploy/readiness.sh holds the checks; this step gives it a server).
#   * a gateway serving from its registry snapshot stays ready (/ready 200) and keeps serving
#     tools/list while PostgreSQL is down: a database blip must not empty the load balancer;
#   * a gateway started while PostgreSQL is down (GW_DB_MIGRATE_ON_START=false, as in
#     Kubernetes) is alive (/health 200) but not ready (/ready 503) until its first snapshot
#     loads, and becomes ready by itself when the database is back.
# Env: BUILD_DIR, REPO (from scripts/test.sh).
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${BUILD_DIR:?BUILD_DIR must name the cmake build directory}"
export REPO BUILD_DIR
exec timeout 240 "$REPO/scripts/pg/pg-test-server.sh" -- bash "$REPO/tests/deploy/readiness.sh"
