#!/usr/bin/env bash
# deploy/ci/slo.sh REQUESTS ERRORS_5XX P99_SECONDS — the production SLO gate of a canary step
# (seed §4 stage 6: roll back when the error rate exceeds 1 %; and p99 latency above 1 s).
# Exit 0 = within the SLO, 1 = breached (reason on stdout), 2 = not enough traffic to judge
# (fewer than SLO_MIN_REQUESTS, default 100: the step is extended, not passed).
# Thresholds: SLO_MAX_ERROR_PERCENT (default 1), SLO_MAX_P99_SECONDS (default 1.0).
set -euo pipefail
req=${1:?requests}; err=${2:?errors}; p99=${3:?p99 seconds}
awk -v req="$req" -v err="$err" -v p99="$p99" -v maxerr="${SLO_MAX_ERROR_PERCENT:-1}" \
    -v maxp99="${SLO_MAX_P99_SECONDS:-1.0}" -v minreq="${SLO_MIN_REQUESTS:-100}" 'BEGIN {
  if (req !~ /^[0-9.]+$/ || err !~ /^[0-9.]+$/ || p99 !~ /^[0-9.]+$/) { print "bad input"; exit 1 }
  if (req + 0 < minreq + 0) { printf "only %d requests (need %d)\n", req, minreq; exit 2 }
  rate = 100 * err / req
  if (rate > maxerr + 0) { printf "5xx rate %.2f%% > %s%%\n", rate, maxerr; exit 1 }
  if (p99 + 0 > maxp99 + 0) { printf "p99 %.3f s > %s s\n", p99, maxp99; exit 1 }
  printf "ok: %d requests, 5xx %.2f%%, p99 %.3f s\n", req, rate, p99; exit 0
}'
