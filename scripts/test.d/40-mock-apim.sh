#!/usr/bin/env bash
# scripts/test.d/40-mock-apim.sh: the mock APIM over HTTP (journey, persistence, auth, faults,
# DMS shapes). The checks live in tests/mock-apim/http_test.sh; this step only runs them.
# Env: BUILD_DIR (cmake build dir with tools/mock-apim/mock-apim), REPO.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
export REPO BUILD_DIR=${BUILD_DIR:-$REPO/build/debug}
exec bash "$REPO/tests/mock-apim/http_test.sh"
