#!/usr/bin/env bash
# deploy/ci/canary.sh ENV REGISTRY REVISION — canary release of the gateway (seed §4 stage 6:
# "deploy to green, health checks, switch ALB traffic 10 % -> 50 % -> 100 %, monitor 15 min,
# roll back if the error rate > 1 %"):
#   1. migrations (backward compatible: expand now, contract in a later release);
#   2. mcp-server-canary (new images) beside mcp-server, its own Service;
#   3. ALB weighted forward (Ingress action annotation) stable/canary 90/10, 50/50, 0/100,
#      each step watched on the canary target group's CloudWatch metrics through slo.sh;
#   4. any breach: weights back to 100/0, canary deleted, exit 1 (stable never changed);
#   5. success: the stable Deployment takes the new images (rolling, readiness-gated), the
#      Ingress is re-applied to its plain routes, the canary is deleted.
# Needs kubectl (cluster credentials), aws (CloudWatch read), python3 with PyYAML.
set -euo pipefail
ENV=${1:?env}; REG=${2:?registry}; REV=${3:?revision}
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/../.." && pwd)
NS=$(case $ENV in prod|production) echo mcp-production ;; *) echo "mcp-$ENV" ;; esac)
DIR=$(case $ENV in production) echo prod ;; *) echo "$ENV" ;; esac)
STEPS=${CANARY_STEPS:-"10:300 50:300 100:900"}   # weight:seconds watched
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp -r "$REPO/deploy/k8s" "$work/k8s"
cat >>"$work/k8s/overlays/$DIR/kustomization.yaml" <<EOI
images:
  - {name: mcpgw, newName: $REG/msil/mcpgw, newTag: "$REV"}
  - {name: mock-apim, newName: $REG/msil/mock-apim, newTag: "$REV"}
  - {name: redis-tls, newName: $REG/msil/redis-tls, newTag: "$REV"}
  - {name: mcp-backup, newName: $REG/msil/mcp-backup, newTag: "$REV"}
EOI
kubectl kustomize "$work/k8s/overlays/$DIR" >"$work/all.yaml"

# 1. migrations
kubectl -n "$NS" delete job mcp-server-migrate --ignore-not-found --wait=true
kubectl apply --server-side -f "$work/all.yaml" -l app.kubernetes.io/name=mcp-server-migrate
kubectl -n "$NS" wait --for=condition=complete --timeout=600s job/mcp-server-migrate

# 2. the canary Deployment and Service, derived from the rendered stable ones
python3 - "$work/all.yaml" "$work/canary.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
out = []
for d in docs:
    if d["kind"] == "Deployment" and d["metadata"]["name"] == "mcp-server":
        d["metadata"]["name"] = "mcp-server-canary"
        d["spec"]["replicas"] = 2
        for k in ("selector",):
            d["spec"][k]["matchLabels"]["app.kubernetes.io/name"] = "mcp-server-canary"
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = "mcp-server-canary"
        for c in d["spec"]["template"]["spec"].get("topologySpreadConstraints", []):
            c["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] = "mcp-server-canary"
        out.append(d)
    if d["kind"] == "Service" and d["metadata"]["name"] == "mcp-server-svc":
        d["metadata"]["name"] = "mcp-server-canary-svc"
        d["spec"]["selector"]["app.kubernetes.io/name"] = "mcp-server-canary"
        out.append(d)
yaml.safe_dump_all(out, open(sys.argv[2], "w"))
PY
kubectl apply --server-side -f "$work/canary.yaml"
kubectl -n "$NS" rollout status deployment/mcp-server-canary --timeout=600s

weights() {  # STABLE CANARY: route the MCP paths through the weighted forward action
  local action
  action=$(printf '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"mcp-server-svc","servicePort":"8000","weight":%d},{"serviceName":"mcp-server-canary-svc","servicePort":"8000","weight":%d}],"targetGroupStickinessConfig":{"enabled":false}}}' "$1" "$2")
  kubectl -n "$NS" annotate --overwrite ingress/mcp-server "alb.ingress.kubernetes.io/actions.mcp-weighted=$action"
  for i in 0 1 2; do
    kubectl -n "$NS" patch ingress/mcp-server --type=json -p \
      "[{\"op\":\"replace\",\"path\":\"/spec/rules/0/http/paths/$i/backend/service\",\"value\":{\"name\":\"mcp-weighted\",\"port\":{\"name\":\"use-annotation\"}}}]"
  done
}
rollback() {
  echo "SLO breached: rolling back ($1)" >&2
  kubectl -n "$NS" annotate ingress/mcp-server alb.ingress.kubernetes.io/actions.mcp-weighted- >/dev/null 2>&1 || true
  kubectl apply --server-side --force-conflicts -f <(python3 -c 'import sys,yaml; print(yaml.safe_dump_all([d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"]=="Ingress"]))' "$work/all.yaml")
  kubectl -n "$NS" delete -f "$work/canary.yaml" --ignore-not-found
  exit 1
}
metrics() {  # SECONDS: "requests errors p99" of the canary target group over the last SECONDS
  local tg lb start end
  tg=$(kubectl -n "$NS" get targetgroupbinding -o json | python3 -c 'import json,sys
for b in json.load(sys.stdin)["items"]:
    if b["spec"]["serviceRef"]["name"] == "mcp-server-canary-svc": print(b["spec"]["targetGroupARN"].split(":")[-1])')
  lb=$(aws elbv2 describe-target-groups --target-group-arns "$(kubectl -n "$NS" get targetgroupbinding -o json | python3 -c 'import json,sys
for b in json.load(sys.stdin)["items"]:
    if b["spec"]["serviceRef"]["name"] == "mcp-server-canary-svc": print(b["spec"]["targetGroupARN"])')" \
    --query 'TargetGroups[0].LoadBalancerArns[0]' --output text | sed 's|.*:loadbalancer/||')
  end=$(date -u +%Y-%m-%dT%H:%M:%SZ); start=$(date -u -d "-$1 seconds" +%Y-%m-%dT%H:%M:%SZ)
  q() { aws cloudwatch get-metric-statistics --namespace AWS/ApplicationELB --metric-name "$1" \
        --dimensions "Name=TargetGroup,Value=$tg" "Name=LoadBalancer,Value=$lb" \
        --start-time "$start" --end-time "$end" --period "$2" "${@:3}" --output json; }
  local req err p99
  req=$(q RequestCount "$2" --statistics Sum | python3 -c 'import json,sys; print(int(sum(p["Sum"] for p in json.load(sys.stdin)["Datapoints"])))')
  err=$(q HTTPCode_Target_5XX_Count "$2" --statistics Sum | python3 -c 'import json,sys; print(int(sum(p["Sum"] for p in json.load(sys.stdin)["Datapoints"])))')
  p99=$(q TargetResponseTime "$2" --extended-statistics p99 | python3 -c 'import json,sys; d=json.load(sys.stdin)["Datapoints"]; print(max([p["ExtendedStatistics"]["p99"] for p in d] or [0]))')
  echo "$req $err $p99"
}

# 3. traffic steps
for step in $STEPS; do
  w=${step%%:*}; secs=${step##*:}
  weights $((100 - w)) "$w"
  echo "canary at $w % for $secs s"
  waited=0
  while [ $waited -lt "$secs" ]; do
    sleep 60; waited=$((waited + 60))
    rc=0
    # shellcheck disable=SC2046
    verdict=$("$HERE/slo.sh" $(metrics 300 300)) || rc=$?
    echo "  $verdict"
    [ $rc -eq 1 ] && rollback "$verdict"
    # too little traffic to judge: watch longer, up to 30 more minutes, then judge what came
    if [ $rc -eq 2 ] && [ $waited -ge "$secs" ] && [ "$secs" -lt $((${step##*:} + 1800)) ]; then
      secs=$((secs + 60))
    fi
  done
done

# 5. promote
kubectl apply --server-side --force-conflicts -f "$work/all.yaml"
kubectl -n "$NS" annotate ingress/mcp-server alb.ingress.kubernetes.io/actions.mcp-weighted- || true
kubectl -n "$NS" rollout status deployment/mcp-server --timeout=900s || rollback "stable rollout failed"
kubectl -n "$NS" delete -f "$work/canary.yaml" --ignore-not-found
echo "released $REV to $NS"
