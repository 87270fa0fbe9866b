#!/usr/bin/env bash
# scripts/test.d/65-hostile-http.sh — the hostile-client suite (tests/hostile/hostile_http.c)
# against the build's mcpgw: 20,000 idle sockets plus a slowloris client while new clients must
# be served within 100 ms with flat CPU and log, slow heads/bodies cut at their deadlines, the
# per-address cap. Loopback only, bounded (~20 s). Receives BUILD_DIR and REPO from
# scripts/test.sh. The driver raises its own descriptor limit to the hard limit; 20,000 idle
# sockets are spread over four child processes, so a hard limit of 6,000 is enough.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$REPO/build/ci}
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt 6000 ]; then
  echo "descriptor hard limit $hard < 6000: cannot open 20,000 idle sockets in 4 processes"
  exit 1
fi
exec "$BUILD_DIR/hostile_http" "$BUILD_DIR/mcpgw"
