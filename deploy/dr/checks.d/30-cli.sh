#!/usr/bin/env bash
# The operators' view through the CLI: tools (status, risk, bundle), bundles and specs.
set -euo pipefail
"$MCPGW" tools list 2>/dev/null
"$MCPGW" bundles list 2>/dev/null
"$MCPGW" specs list 2>/dev/null
