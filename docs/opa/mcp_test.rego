# docs/opa/mcp_test.rego: unit tests of docs/opa/mcp.rego. Run: opa test docs/opa/ -v
# The same cases decide the OPA stand-in's scripted policy in the gateway's tests
# (tests/support/opa-standin.mjs; the first test of tests/integration/56-opa.test.mjs).
package msil.mcp_test

import rego.v1

import data.msil.mcp

now := 1767225600 # 2026-01-01T00:00:00Z

dealer := {"subject": "dealer@msil.example", "roles": ["dealer"], "claims": {"dealer_ids": ["MSIL-PUNE-001"]}}

care := {"subject": "cc@msil.example", "roles": ["customer-care"], "claims": {}}

analyst := {"subject": "an@msil.example", "roles": ["analyst"], "claims": {}}

call(who, name, arguments) := {
	"principal": who,
	"tool": {"name": name, "bundle": "service-booking", "risk": "read", "tags": []},
	"arguments": arguments,
	"context": {"now": now, "peer": "127.0.0.1", "transport": "http", "method": "tools/call"},
}

booking(dealer_id, date) := {
	"customer_id": "CUST001234", "registration_number": "MH12AB1234",
	"dealer_id": dealer_id, "date": date, "time": "10:00",
}

confirm := {
	"allow": true, "confirm": true, "rule": "confirm-bookings",
	"reason": "a booking changes the customer's appointments",
}

decide(inp) := d if {
	d := mcp.decision with input as inp
}

test_dealer_own_dealer_allowed if {
	inp := call(dealer, "get_available_slots", {"dealer_id": "MSIL-PUNE-001", "date": "2026-01-05"})
	decide(inp) == {"allow": true}
}

test_dealer_other_dealer_refused if {
	inp := call(dealer, "get_dealer", {"dealer_id": "MSIL-MUM-001"})
	decide(inp) == {
		"allow": false, "rule": "dealer-own-dealers",
		"reason": "dealer agents act only for their own dealers, and MSIL-MUM-001 is not one of yours",
		"hint": "use one of the dealer ids in your identity (claim dealer_ids)",
	}
}

test_dealer_without_claim_refused if {
	inp := call({"roles": ["dealer"], "claims": {}}, "get_dealer", {"dealer_id": "MSIL-PUNE-001"})
	decide(inp).rule == "dealer-own-dealers"
}

test_dealer_other_tools_allowed if {
	inp := call(dealer, "resolve_vehicle", {"registration_number": "MH12AB1234"})
	decide(inp) == {"allow": true}
}

test_customer_care_any_dealer if {
	inp := call(care, "get_dealer", {"dealer_id": "MSIL-MUM-001"})
	decide(inp) == {"allow": true}
}

test_booking_within_60_days_needs_confirmation if {
	decide(call(care, "create_booking", booking("MSIL-PUNE-001", "2026-03-02"))) == confirm
	decide(call(dealer, "create_booking", booking("MSIL-PUNE-001", "2026-01-10"))) == confirm
	decide(call(care, "create_booking", booking("MSIL-PUNE-001", "2026-03-02T00:00:00Z"))) == confirm
}

test_booking_beyond_60_days_refused if {
	d := decide(call(care, "create_booking", booking("MSIL-PUNE-001", "2026-03-03")))
	d.allow == false
	d.rule == "booking-horizon"
	d.reason == "bookings can be made at most 60 days ahead (2026-03-03 is later)"
	d.hint == "offer the customer a date within the next 60 days"
	decide(call(care, "create_booking", booking("MSIL-PUNE-001", "2026-03-02T00:00:01Z"))).rule == "booking-horizon"
}

test_unreadable_date_refused if {
	decide(call(care, "create_booking", booking("MSIL-PUNE-001", "next tuesday"))).reason == "bookings can be made at most 60 days ahead (the date next tuesday cannot be read)"
	decide(call(care, "create_booking", booking("MSIL-PUNE-001", "2026-02-30"))).rule == "booking-horizon"
	decide(call(care, "create_booking", {"dealer_id": "MSIL-PUNE-001"})).rule == "booking-horizon"
}

test_first_refusal_reported if {
	d := decide(call(dealer, "create_booking", booking("MSIL-MUM-001", "2027-01-01")))
	d.rule == "dealer-own-dealers"
}

test_cancellation_needs_confirmation if {
	decide(call(care, "cancel_booking", {"booking_id": "BK1"})) == confirm
}

test_horizon_only_for_booking_roles if {
	# an analyst never reaches create_booking (exposure and risk stop it first); the policy
	# itself only asks for the confirmation
	decide(call(analyst, "create_booking", booking("MSIL-PUNE-001", "2027-01-01"))) == confirm
}

test_boolean_form if {
	mcp.allow with input as call(dealer, "get_dealer", {"dealer_id": "MSIL-PUNE-001"})
	not mcp.allow with input as call(dealer, "get_dealer", {"dealer_id": "MSIL-MUM-001"})
	mcp.allow with input as call(care, "create_booking", booking("MSIL-PUNE-001", "2026-01-10"))
}
