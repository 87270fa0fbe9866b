/*
 * src/policy/policy_logic.h
 * JSON Logic conditions of policy rules (https://jsonlogic.com). INTERIM: a minimal evaluator
 * (var, in, ==, !=, !, and, or, <, <=, >, >=, missing) until the full module lands.
 */
#ifndef GW_POLICY_LOGIC_H
#define GW_POLICY_LOGIC_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>

struct gw_logic;

int gw_logic_compile(const json_t *rule, struct gw_logic **out, struct gw_error *err);
int gw_logic_eval(const struct gw_logic *l, const json_t *data, json_t **out,
                  struct gw_error *err);
bool gw_logic_truthy(const json_t *v);
void gw_logic_free(struct gw_logic *l);

#endif
