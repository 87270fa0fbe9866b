#!/usr/bin/env bash
# scripts/test.d/79-deploy-local-stack.sh — deploy/local/up.sh and down.sh: the production
# topology on this machine (nginx, 3 gateways, PostgreSQL, Redis, mock APIM, loopback only),
# checked by tests/deploy/local-stack.sh. ~25 s. Env: BUILD_DIR, REPO, NODE.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
export REPO BUILD_DIR NODE
exec timeout 180 bash "$REPO/tests/deploy/local-stack.sh"
