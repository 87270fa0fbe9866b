#!/usr/bin/env bash
# bench/import/run.sh [SPEC...]
# Builds the importer in Release mode (build/openapi-release) and runs bench_import on the
# given specs, by default GitHub's 13 MB spec, DigitalOcean's multi-file spec and the MSIL ones.
# Prints best/median import time, operations, tools, warnings, JSON size and peak RSS.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$REPO/build/openapi-release}
# the test data (scripts/test-data.sh puts it in build/test-data/openapi; DigitalOcean only
# when a shared/ folder has it: missing specs are left out)
CORPUS=${GW_OPENAPI_CORPUS:-$REPO/build/test-data/openapi}
SRC=${GW_CMAKE_SOURCE:-$REPO}
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target gw_openapi >/dev/null
read -r -a LIBS <<<"$(pkg-config --libs jansson yajl yaml-0.1 libcurl libpcre2-8)"
cc -std=c11 -O2 -D_GNU_SOURCE -I "$REPO/src" "$REPO/bench/import/bench_import.c" \
  "$BUILD/src/openapi/libgw_openapi.a" "$BUILD/src/ssrf/libgw_ssrf.a" \
  "$BUILD/src/schema/libgw_schema.a" "$BUILD/src/core/libgw_core.a" "${LIBS[@]}" -lm \
  -o "$BUILD/bench_import"
if [ $# -eq 0 ]; then
  for f in "$CORPUS/github/api.github.com.json" \
    "$CORPUS/digitalocean/specification/DigitalOcean-public.v2.yaml" \
    "$CORPUS/msil/dms-preprod-swagger.json" "$CORPUS/msil/customer-service-api.yaml"; do
    if [ -f "$f" ]; then set -- "$@" "$f"; else echo "bench/import: $f missing (scripts/test-data.sh): left out" >&2; fi
  done
fi
exec "$BUILD/bench_import" "$@"
