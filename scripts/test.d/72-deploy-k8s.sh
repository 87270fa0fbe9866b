#!/usr/bin/env bash
# scripts/test.d/72-deploy-k8s.sh — renders every Kustomize overlay of deploy/k8s with kubectl's
# built-in kustomize and checks every object (tests/deploy/node/k8s-check.mjs): Kubernetes
# schemas (strict: unknown fields fail), the hardening policy, references, settings names
# (against this build's `mcpgw config docs`), network policies and per-environment rules. The
# checker first proves it rejects broken objects (--self-test). ~5 s.
# Env: BUILD_DIR, REPO, NODE (from scripts/test.sh).
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
NODE=${NODE:-node}
command -v kubectl >/dev/null || { echo "kubectl (with kustomize) is required: apt-get install kubectl" >&2; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$BUILD_DIR/mcpgw" config docs | sed -n 's/^| `\([A-Za-z_0-9]*\)` .*/\1/p' >"$T/settings.txt"
[ -s "$T/settings.txt" ] || { echo "no settings from mcpgw config docs" >&2; exit 1; }
args=()
for o in "$REPO"/deploy/k8s/overlays/*/; do
  env=$(basename "$o")
  timeout 60 kubectl kustomize "$o" >"$T/$env.yaml" || { echo "kustomize failed for $env" >&2; exit 1; }
  echo "rendered $env: $(grep -c '^kind:' "$T/$env.yaml") objects"
  args+=("$env=$T/$env.yaml")
done
"$NODE" "$REPO/tests/deploy/node/k8s-check.mjs" --self-test
"$NODE" "$REPO/tests/deploy/node/k8s-check.mjs" --settings "$T/settings.txt" "${args[@]}"
