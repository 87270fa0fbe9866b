# Starter authorization policy for the OPA sidecar (Layer A, "may execute"). The input document
# is defined by the authorization issue (issue 9); until then this mirrors the built-in rules:
# read tools for any authenticated caller, write tools for the operator role, privileged tools
# only with an elevated session, destructive ones only when confirmed.
package mcp.authz

import rego.v1

default allow := false

allow if {
	input.tool.risk == "read"
	input.principal.subject != ""
}

allow if {
	input.tool.risk == "write"
	"operator" in input.principal.roles
}

allow if {
	input.tool.risk == "privileged"
	"operator" in input.principal.roles
	input.elevated == true
	not needs_confirmation
}

needs_confirmation if {
	input.tool.requiresConfirmation == true
	input.confirmed != true
}
