#!/usr/bin/env bash
# Exposure and policy rules (issue 9) and rate-limit rules (issue 11) stored in the database:
# the effective rule set and its version, the rate-limit rules with their modes (enforced,
# dry-run, disabled), the decisions of a few known (caller, tool) pairs as the CLI computes
# them, what a role sees, and the same rules enforced by the serving gateway for the client
# key (a hidden tool is unknown, a booking beyond the horizon is refused by its policy).
set -euo pipefail
gov() { "$MCPGW" governance "$@" 2>/dev/null; }
echo "== rules"
gov show | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True, indent=1))'
echo "== rate-limit rules"
"$MCPGW" limits list 2>/dev/null
"$MCPGW" limits list --json 2>/dev/null | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True, indent=1))'
echo "== decisions"
decide() {  # ROLE TOOL [ARGS]: "role tool -> decision (rule, stage)"
  gov test --role "$1" --tool "$2" ${3:+--args "$3"} |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(sys.argv[1], sys.argv[2], "->", d["decision"], d.get("rule") or "-", d.get("stage") or "-")' "$1" "$2"
}
decide customer-care resolve_vehicle
decide customer-care get_dealer
decide customer-care cancel_booking
decide customer-care create_booking '{"date":"2099-01-01"}'
decide analyst create_booking
decide analyst get_dealer
decide dealer get_booking
echo "== analyst sees"
gov preview --role analyst | python3 -c 'import json,sys; print(" ".join(sorted(t["name"] for t in json.load(sys.stdin)["tools"])))'
echo "== the serving gateway, client key (customer-care)"
python3 - "$GW_URL" <<'PY'
import json, os, sys, urllib.request
gw = sys.argv[1]
def post(body, sid=None):
    h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
         "MCP-Protocol-Version": "2025-11-25", "Authorization": "Bearer " + os.environ["MCP_TOKEN"]}
    if sid: h["Mcp-Session-Id"] = sid
    r = urllib.request.urlopen(urllib.request.Request(gw + "/mcp", json.dumps(body).encode(), h), timeout=30)
    text = r.read().decode()
    for line in text.splitlines():
        if line.startswith("data: "): text = line[6:]
    return json.loads(text), r.headers.get("Mcp-Session-Id")
_, sid = post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "drill-rules", "version": "1"}}})
def call(name, args):
    res, _ = post({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": name, "arguments": args}}, sid)
    if "error" in res: return "error %s" % res["error"]["code"]
    r = res["result"]
    return "isError" if r.get("isError") else "result"
print("tools/call get_dealer (hidden):", call("get_dealer", {"dealer_id": "D1"}))
print("tools/call create_booking in 2099:", call("create_booking", {"registration_number": "MH12AB1234",
      "dealer_id": "MSIL-PUNE-001", "date": "2099-01-01", "slot": "10:00", "service_type": "periodic"}))
PY
