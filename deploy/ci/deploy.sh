#!/usr/bin/env bash
# deploy/ci/deploy.sh ENV REGISTRY REVISION — applies an environment's overlay with the images
# of REVISION: renders deploy/k8s/overlays/ENV with the image tags set, applies the namespace,
# secrets and configuration, runs the migration Job to completion, applies the rest and waits
# for the gateway rollout. Rolls the Deployment back (kubectl rollout undo) if it does not
# become available. Needs kubectl with cluster credentials.
set -euo pipefail
ENV=${1:?env}; REG=${2:?registry}; REV=${3:?revision}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
NS=$(case $ENV in prod|production) echo mcp-production ;; *) echo "mcp-$ENV" ;; esac)
DIR=$(case $ENV in production) echo prod ;; *) echo "$ENV" ;; esac)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp -r "$REPO/deploy/k8s" "$work/k8s"
# the images of REVISION (the overlay's own images entry wins over the base's)
cat >>"$work/k8s/overlays/$DIR/kustomization.yaml" <<EOI
images:
  - {name: mcpgw, newName: $REG/msil/mcpgw, newTag: "$REV"}
  - {name: mock-apim, newName: $REG/msil/mock-apim, newTag: "$REV"}
  - {name: redis-tls, newName: $REG/msil/redis-tls, newTag: "$REV"}
  - {name: mcp-backup, newName: $REG/msil/mcp-backup, newTag: "$REV"}
EOI
kubectl kustomize "$work/k8s/overlays/$DIR" >"$work/all.yaml"
# 1. namespace, service accounts, secrets and configuration first
kubectl apply --server-side -f "$work/all.yaml" \
  -l 'app.kubernetes.io/name notin (mcp-server,mcp-server-migrate,mock-apim,mcp-registry-backup)'
kubectl -n "$NS" wait --for=condition=Ready --timeout=300s externalsecret --all
# 2. migrations, once, to completion
kubectl -n "$NS" delete job mcp-server-migrate --ignore-not-found --wait=true
kubectl apply --server-side -f "$work/all.yaml" -l app.kubernetes.io/name=mcp-server-migrate
kubectl -n "$NS" wait --for=condition=complete --timeout=600s job/mcp-server-migrate
# 3. everything else, then wait for the new pods to be ready
kubectl apply --server-side -f "$work/all.yaml"
if ! kubectl -n "$NS" rollout status deployment/mcp-server --timeout=600s; then
  echo "rollout did not complete: rolling back" >&2
  kubectl -n "$NS" rollout undo deployment/mcp-server
  kubectl -n "$NS" rollout status deployment/mcp-server --timeout=600s || true
  exit 1
fi
echo "deployed $REV to $NS"
