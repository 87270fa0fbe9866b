#!/usr/bin/env bash
# What the gateway serves from the database: every page of tools/list (full definitions), and
# one real tool call through it to the (mock) APIM — authenticated with the API key made before
# the disaster (MCP_TOKEN): keys survive the restore.
set -euo pipefail
python3 - "$GW_URL" <<'PY'
import json, os, sys, urllib.request
gw = sys.argv[1]
def post(body, sid=None):
    h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
         "MCP-Protocol-Version": "2025-11-25"}
    if sid: h["Mcp-Session-Id"] = sid
    if os.environ.get("MCP_TOKEN"): h["Authorization"] = "Bearer " + os.environ["MCP_TOKEN"]
    r = urllib.request.urlopen(urllib.request.Request(gw + "/mcp", json.dumps(body).encode(), h), timeout=30)
    text = r.read().decode()
    for line in text.splitlines():
        if line.startswith("data: "): text = line[6:]
    return json.loads(text), r.headers.get("Mcp-Session-Id")
_, sid = post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "drill", "version": "1"}}})
tools, cursor = [], None
for _ in range(1000):
    res, _ = post({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"cursor": cursor} if cursor else {}}, sid)
    tools += res["result"]["tools"]
    cursor = res["result"].get("nextCursor")
    if not cursor: break
print(f"{len(tools)} tools served")
for t in sorted(tools, key=lambda t: t["name"]):
    print(json.dumps(t, sort_keys=True))
res, _ = post({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
    "name": "resolve_vehicle", "arguments": {"registration_number": "MH12AB1234"}}}, sid)
r = res["result"]
print("resolve_vehicle:", "error" if r.get("isError") else json.dumps(r["structuredContent"], sort_keys=True))
PY
