#!/usr/bin/env bash
# API keys (issue 8): the same keys, states (a revoked one stays revoked) and roles after the
# restore, and what authentication decides: the client key is accepted, no credential or a
# made-up key is refused.
set -euo pipefail
"$MCPGW" keys list 2>/dev/null | awk '{print $1, $2, $3, $4, $5}'
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$GW_URL/mcp" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' "$@" \
  -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"drill","version":"1"}}}'; }
echo "client key: $(code -H "Authorization: Bearer $MCP_TOKEN")"
echo "no credential: $(code)"
echo "made-up key: $(code -H 'Authorization: Bearer mcpgw_000000000000_notakey')"
