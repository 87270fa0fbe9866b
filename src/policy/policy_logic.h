/*
 * src/policy/policy_logic.h
 * JSON Logic (https://jsonlogic.com) conditions for policy rules: compile once at load time,
 * evaluate on every call against {"principal":…, "tool":…, "args":…, "context":…}.
 *
 * Semantics follow json-logic-js 2.0.5 (the reference implementation), including JavaScript's
 * coercions for ==, <, +, … ; the differences that remain are listed in docs/policy-logic.md and
 * at the top of policy_logic.c. One gateway operator is added: {"time": s} turns a date
 * "YYYY-MM-DD" or an RFC 3339 date-time into Unix seconds (null when unparseable). There is no
 * "now" operator: the current time is data (context.now), so evaluation is deterministic.
 *
 * Limits: a rule has at most GW_LOGIC_MAX_NODES JSON values and nests at most
 * GW_LOGIC_MAX_DEPTH operations/arrays deep (checked by compile); one evaluation does at most
 * GW_LOGIC_MAX_STEPS units of work (one per operation, per array element visited and per 64
 * bytes of string touched) and builds no string longer than GW_LOGIC_MAX_STRING bytes.
 * A compiled rule is immutable: any number of threads may evaluate it at once.
 */
#ifndef GW_POLICY_LOGIC_H
#define GW_POLICY_LOGIC_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>

#define GW_LOGIC_MAX_NODES 2000
#define GW_LOGIC_MAX_DEPTH 32
#define GW_LOGIC_MAX_STEPS 100000UL
#define GW_LOGIC_MAX_STRING 65536

struct gw_logic;

/* Validates `rule` (borrowed; the compiled form keeps its own copy) and compiles it into
 * *out. Refuses unknown operators, wrong argument counts and over-limit rules with err naming
 * the offending node's path, e.g. "condition.and[1]: unknown operator 'inn'" (GW_EINVAL for
 * shape errors, GW_ELIMIT for limits). GW_ENOMEM on allocation failure. Never blocks. */
int gw_logic_compile(const json_t *rule, struct gw_logic **out, struct gw_error *err);

/* As gw_logic_compile, with `where` as the first path segment of error messages instead of
 * "condition" (e.g. "rules[3].when"). */
int gw_logic_compile_at(const json_t *rule, const char *where, struct gw_logic **out,
                        struct gw_error *err);

/* Evaluates `l` against `data` (borrowed; NULL means JSON null) and stores the result, a new
 * reference, in *out. GW_OK; GW_ELIMIT when the step budget or the string limit is exceeded;
 * GW_EINVAL for a runtime error that json-logic-js would throw (missing_some without a key
 * list); GW_ENOMEM. On failure *out is left NULL. Thread-safe; never blocks. */
int gw_logic_eval(const struct gw_logic *l, const json_t *data, json_t **out,
                  struct gw_error *err);

/* As gw_logic_eval with a budget of `max_steps` instead of GW_LOGIC_MAX_STEPS. */
int gw_logic_eval_budget(const struct gw_logic *l, const json_t *data, unsigned long max_steps,
                         json_t **out, struct gw_error *err);

/* Evaluates and reduces the result to JSON Logic truthiness (see gw_logic_truthy) in *out. */
int gw_logic_test(const struct gw_logic *l, const json_t *data, bool *out, struct gw_error *err);

/* JSON Logic truthiness: null, false, 0, "" and [] are falsy; everything else (including "0"
 * and {}) is truthy. NULL is falsy. */
bool gw_logic_truthy(const json_t *v);

/* Frees a compiled rule. Accepts NULL. */
void gw_logic_free(struct gw_logic *l);

#endif
