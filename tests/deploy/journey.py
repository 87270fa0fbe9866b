#!/usr/bin/env python3
"""tests/deploy/journey.py GATEWAY_URL MOCK_URL — the service-booking journey over MCP
(Streamable HTTP, 2025-11-25) against a running gateway and mock APIM: customer -> vehicle
MH12AB1234 -> dealers near Hinjewadi, Pune -> slots on the next workday -> booking -> status.
Used by the image check (binaries run from the image's root file system) and the local stack
check (three replicas behind nginx: the calls may land on different replicas). Prints TAP-style
lines and "N passed, M failed"; exit 0 when the booking is confirmed. MCP_TOKEN: a credential
(API key) sent as Authorization: Bearer. Standard library only."""
import datetime
import json
import os
import sys
import urllib.request

GW, MOCK = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok {passed + failed} - {what}")
    else:
        failed += 1
        print(f"not ok {passed + failed} - {what}")
    return ok


def post(body, session=None):
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2025-11-25"}
    if session:
        headers["Mcp-Session-Id"] = session
    if os.environ.get("MCP_TOKEN"):
        headers["Authorization"] = "Bearer " + os.environ["MCP_TOKEN"]
    req = urllib.request.Request(GW + "/mcp", json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
        sid = r.headers.get("Mcp-Session-Id")
    for line in text.splitlines():  # JSON, or SSE whose last data line is the response
        if line.startswith("data: "):
            text = line[6:]
    return json.loads(text), sid


def call(session, name, args, n=[10]):
    n[0] += 1
    res, _ = post({"jsonrpc": "2.0", "id": n[0], "method": "tools/call",
                   "params": {"name": name, "arguments": args}}, session)
    r = res.get("result", {})
    ok = check("result" in res and not r.get("isError"), f"tools/call {name}")
    if not ok:
        print("#", json.dumps(res)[:500])
        return {}
    return r.get("structuredContent") or json.loads(r["content"][0]["text"])


init, sid = post({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                             "clientInfo": {"name": "journey", "version": "1"}}})
check(bool(sid) and "result" in init, "initialize")
tools, _ = post({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}, sid)
names = {t["name"] for t in tools["result"]["tools"]}
check({"resolve_customer", "resolve_vehicle", "find_nearby_dealers", "get_available_slots",
       "create_booking", "get_booking"} <= names, f"tools/list has the journey's tools ({len(names)} tools)")
with urllib.request.urlopen(MOCK + "/health", timeout=10) as r:
    today = json.loads(r.read())["today"]
day = datetime.date.fromisoformat(today) + datetime.timedelta(days=1)
if day.weekday() == 6:
    day += datetime.timedelta(days=1)
day = day.isoformat()
customer = call(sid, "resolve_customer", {"mobile": "+91 98765-43210"})
check(customer.get("customer_id") == "CUST001234", "customer CUST001234")
vehicle = call(sid, "resolve_vehicle", {"registration_number": "MH12AB1234"})
check(vehicle.get("registration_number") == "MH12AB1234", "vehicle MH12AB1234")
dealers = call(sid, "find_nearby_dealers", {"location": "Hinjewadi, Pune"}).get("dealers", [])
check(bool(dealers) and dealers[0]["dealer_id"] == "MSIL-PUNE-001", "nearest dealer MSIL-PUNE-001")
slots = call(sid, "get_available_slots", {"dealer_id": "MSIL-PUNE-001", "date": day}).get("slots", [])
free = [s for s in slots if s.get("available") and s.get("available_capacity", 0) > 0]
check(bool(free), f"a free slot on {day}")
booking = call(sid, "create_booking", {"customer_id": "CUST001234", "registration_number": "MH12AB1234",
                                       "dealer_id": "MSIL-PUNE-001", "date": day,
                                       "time": free[0]["time"] if free else "10:00",
                                       "service_type": "regular", "notes": "deploy check"})
check(booking.get("status") == "CONFIRMED", f"booking {booking.get('booking_id')} confirmed")
status = call(sid, "get_booking", {"booking_id": booking.get("booking_id", "none")})
check(status.get("status") == "CONFIRMED", "booking status read back")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
