#!/usr/bin/env bash
# scripts/test.d/60-slow-upstream.sh — the bounded slow-upstream load test (tests/load/), short
# form (5 s per phase, ~23 s): the fast tool keeps its p50/p99 while 32 slow calls are pending.
# Receives BUILD_DIR and REPO from scripts/test.sh.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
DURATION=${DURATION:-5} exec "$REPO/tests/load/slow-upstream.sh"
