#!/usr/bin/env bash
# scripts/test.d/72-deploy-k8s.sh — renders every Kustomize overlay of deploy/k8s with kubectl's
# built-in kustomize and checks every object (tests/deploy/node/k8s-check.mjs): Kubernetes
# schemas (strict: unknown fields fail), the hardening policy (sidecars included), references,
# settings names and types (against this build's `mcpgw config docs`), network policies,
# metrics/traces/Redis/trusted proxies/audit keys and per-environment rules. The checker first
# proves it rejects broken objects (--self-test) and broken environments (--mutations of the
# rendered production set). Then what the manifests carry is run for real: every environment's
# settings through `mcpgw config check`, its rate-limit rules file through `mcpgw limits check`,
# and the Redis TLS sidecar's configuration with Debian's stunnel between a gateway and a
# TLS-only redis-server (tests/deploy/redis-tls.sh).
# ~15 s. Env: BUILD_DIR, REPO, NODE (from scripts/test.sh).
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
NODE=${NODE:-node}
command -v kubectl >/dev/null || { echo "kubectl (with kustomize) is required: apt-get install kubectl" >&2; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# NAME<TAB>TYPE<TAB>DEFAULT of every setting
"$BUILD_DIR/mcpgw" config docs | perl -ne 'print "$1\t$2\t$3\n" if /^\| `(\w+)` \| (.*?) \| `([^`]*)` \|/' >"$T/settings.tsv"
[ -s "$T/settings.tsv" ] || { echo "no settings from mcpgw config docs" >&2; exit 1; }
args=()
for o in "$REPO"/deploy/k8s/overlays/*/; do
  env=$(basename "$o")
  timeout 60 kubectl kustomize "$o" >"$T/$env.yaml" || { echo "kustomize failed for $env" >&2; exit 1; }
  echo "rendered $env: $(grep -c '^kind:' "$T/$env.yaml") objects"
  args+=("$env=$T/$env.yaml")
done
"$NODE" "$REPO/tests/deploy/node/k8s-check.mjs" --self-test
"$NODE" "$REPO/tests/deploy/node/k8s-check.mjs" --settings "$T/settings.tsv" --mutations "prod=$T/prod.yaml"
mkdir -p "$T/files"
"$NODE" "$REPO/tests/deploy/node/k8s-check.mjs" --settings "$T/settings.tsv" --extract "$T/files" "${args[@]}"
rc=0
for env in "${args[@]%%=*}"; do
  # every value of the environment's mcp-config as the gateway reads it (types, ranges, enums)
  mapfile -t vars <"$T/files/$env.config.env"
  if out=$(env -i PATH=/usr/bin:/bin "${vars[@]}" "$BUILD_DIR/mcpgw" config check 2>&1); then
    echo "ok - $env: mcpgw config check accepts the ${#vars[@]} settings of mcp-config"
  else echo "not ok - $env: mcpgw config check: $out"; rc=1; fi
  if out=$(GW_DATA_DIR="$T" "$BUILD_DIR/mcpgw" limits check "$T/files/$env.ratelimits.json" 2>&1); then
    echo "ok - $env: the rate-limit rules file is valid ($(echo "$out" | head -1 | sed 's/^[^:]*: //'))"
  else echo "not ok - $env: mcpgw limits check: $out"; rc=1; fi
done
timeout 120 bash "$REPO/tests/deploy/redis-tls.sh" "$T/files/prod.stunnel.conf" || rc=1
exit $rc
