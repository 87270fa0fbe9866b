# docs/opa/mcp.rego: the policies of deploy/embedded/governance.yaml in Rego, for a gateway
# whose policy stage OPA decides (GW_POLICY_ENGINE=opa or both, GW_OPA_PATH=msil/mcp/decision;
# see docs/governance.md, "OPA as the policy decision point"). The OPA sidecar of the Kubernetes
# deployment ships a copy: deploy/k8s/components/opa-sidecar/policies/mcp.rego.
#
# The gateway asks POST /v1/data/msil/mcp/decision with
#   {"input": {"principal": {subject, roles, scopes, claims, ...}, "tool": {name, bundle, risk,
#              tags}, "arguments": {...}, "context": {now (Unix seconds), peer, transport,
#              method}}}
# and reads {"allow": bool, "reason", "rule", "hint", "confirm": bool}. data.msil.mcp.allow is
# the same decision as a plain boolean (GW_OPA_PATH=msil/mcp/allow).
#
# Equivalence with the built-in rules file:
#   dealer-own-dealers  a dealer's agent acts only for the dealers in its dealer_ids claim (a
#                       list) on get_dealer, get_available_slots and create_booking;
#   booking-horizon     customer care and dealers book at most 60 days ahead; a date that cannot
#                       be read refuses (the built-in engine fails closed on a condition it cannot
#                       evaluate);
#   confirm-bookings    every booking and cancellation waits for the user's confirmation;
#   no allow policy     so everything else is allowed (the default below). Write
#                       `default decision := {"allow": false, "rule": "default-deny", ...}` and
#                       allow rules for a default-deny policy set.
# Refusals are checked in the order of the rules file; the first one is reported. Exposure,
# roles (max_risk) and elevation stay in the gateway's rules file: OPA only sees calls that
# passed them.
# Test: opa test docs/opa/ -v   (docs/opa/mcp_test.rego)
package msil.mcp

import rego.v1

dealer_tools := {"get_dealer", "get_available_slots", "create_booking"}

confirmed_tools := {"create_booking", "cancel_booking"}

horizon_seconds := 5184000 # 60 days

roles := {r | some r in input.principal.roles}

tool := input.tool.name

args := object.get(input, "arguments", {})

# How a value appears in a reason (like the built-in engine's {args.x} placeholders).
text(x) := x if is_string(x)

text(x) := json.marshal(x) if not is_string(x)

# ---- dealer-own-dealers

dealer_id := object.get(args, "dealer_id", null)

own_dealer if {
	some id in input.principal.claims.dealer_ids
	id == dealer_id
}

denials contains d if {
	"dealer" in roles
	tool in dealer_tools
	not own_dealer
	d := {
		"order": 1,
		"rule": "dealer-own-dealers",
		"reason": sprintf("dealer agents act only for their own dealers, and %s is not one of yours", [text(dealer_id)]),
		"hint": "use one of the dealer ids in your identity (claim dealer_ids)",
	}
}

# ---- booking-horizon

books if {
	count(roles & {"customer-care", "dealer"}) > 0
	tool == "create_booking"
}

booking_date := object.get(args, "date", null)

# Unix seconds of a YYYY-MM-DD date or an RFC 3339 date-time (undefined when it is neither).
booking_time := t if {
	is_string(booking_date)
	regex.match(`^\d{4}-\d{2}-\d{2}$`, booking_date)
	t := floor(time.parse_ns("2006-01-02", booking_date) / 1000000000)
}

booking_time := t if {
	is_string(booking_date)
	regex.match(`^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$`, booking_date)
	t := floor(time.parse_rfc3339_ns(booking_date) / 1000000000)
}

horizon_hint := "offer the customer a date within the next 60 days"

denials contains d if {
	books
	booking_time - input.context.now > horizon_seconds
	d := {
		"order": 2,
		"rule": "booking-horizon",
		"reason": sprintf("bookings can be made at most 60 days ahead (%s is later)", [text(booking_date)]),
		"hint": horizon_hint,
	}
}

# a date that cannot be read refuses (fail closed, as the built-in engine does)
denials contains d if {
	books
	not booking_time
	d := {
		"order": 2,
		"rule": "booking-horizon",
		"reason": sprintf("bookings can be made at most 60 days ahead (the date %s cannot be read)", [text(booking_date)]),
		"hint": horizon_hint,
	}
}

# ---- the decision

first_denial := d if {
	some d in denials
	d.order == min({x.order | some x in denials})
}

default decision := {"allow": true}

decision := {"allow": false, "rule": d.rule, "reason": d.reason, "hint": d.hint} if {
	d := first_denial
}

# confirm-bookings
decision := {
	"allow": true,
	"confirm": true,
	"rule": "confirm-bookings",
	"reason": "a booking changes the customer's appointments",
} if {
	not first_denial
	tool in confirmed_tools
}

allow := decision.allow
