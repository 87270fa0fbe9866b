#!/usr/bin/env bash
# docs/configuration.md is generated from the settings tables: fail when it is stale
# (regenerate with `build/ci/mcpgw config docs > docs/configuration.md`).
set -euo pipefail
if ! diff -u "$REPO/docs/configuration.md" <(env -i PATH="$PATH" "$BUILD_DIR/mcpgw" config docs); then
  echo "docs/configuration.md is out of date: run '$BUILD_DIR/mcpgw config docs > docs/configuration.md'"
  exit 1
fi
echo "docs/configuration.md matches the settings tables"
