/*
 * src/ratelimit/ratelimit_rule.h
 * Rate-limit rules: the model, its JSON form (rules file, database rows, CLI and admin API all
 * use it), validation, and immutable rule sets.
 *
 * A rule:
 *   {"id": "writes-per-user",                 1-63 of [A-Za-z0-9_.-]
 *    "description": "...",                     optional, <= 256 bytes
 *    "scope": "call" | "http",                 tools/call after authentication (default), or
 *                                              every HTTP request of the MCP endpoints before
 *                                              authentication (only "per": ["ip"] or [])
 *    "rate": "60/min"  or  "limit": 60, "period": "1m" | 60 (seconds),
 *    "burst": 60,                              requests allowed at once (default: limit)
 *    "per": ["user"],                          one counter per value of these: ip, user,
 *                                              client, tool, role, risk, tenant ([] = one)
 *    "match": {"tools": [...], "risk": ["write"], "roles": [...], "clients": [...],
 *              "users": [...], "tenants": [...]},   all optional; a list matches any member
 *    "mode": "enforce" | "dry_run",            dry_run: refusals are recorded, not applied
 *    "enabled": true}
 * Unknown members are refused (a typo must not silently weaken a limit). Limits: 1..10^9
 * requests, period 1 s..31 days, burst 1..10^9, at most 64 entries per match list and 256
 * rules per set; strings <= 128 bytes.
 * Pure functions; a rule set is immutable and reference counted (any thread).
 */
#ifndef GW_RATELIMIT_RULE_H
#define GW_RATELIMIT_RULE_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_RL_ID_MAX 63
#define GW_RL_MAX_RULES 256
#define GW_RL_MAX_MATCH 64

enum gw_rl_scope { GW_RL_SCOPE_CALL = 0, GW_RL_SCOPE_HTTP = 1 };
enum gw_rl_mode { GW_RL_ENFORCE = 0, GW_RL_DRY_RUN = 1 };

enum {
    GW_RL_PER_IP = 1,
    GW_RL_PER_USER = 2,
    GW_RL_PER_CLIENT = 4,
    GW_RL_PER_TOOL = 8,
    GW_RL_PER_ROLE = 16,
    GW_RL_PER_RISK = 32,
    GW_RL_PER_TENANT = 64
};
enum { GW_RL_RISK_READ = 1, GW_RL_RISK_WRITE = 2, GW_RL_RISK_PRIVILEGED = 4 };

struct gw_rl_list {
    char **v;
    size_t n;
};

struct gw_rl_rule {
    char id[GW_RL_ID_MAX + 1];
    char description[257];
    char source[16]; /* "file", "db", "env" (where it came from; not part of the JSON) */
    enum gw_rl_scope scope;
    unsigned per;           /* GW_RL_PER_* */
    uint64_t limit, burst;
    uint64_t period_ms;
    int64_t interval_us;    /* period / limit (GCRA's emission interval) */
    enum gw_rl_mode mode;
    bool enabled;
    struct gw_rl_list tools, roles, clients, users, tenants;
    unsigned risks;         /* GW_RL_RISK_*; 0 = any */
};

/* Parses and validates one rule object. `source` is recorded (may be NULL). GW_OK with *out
 * (free with gw_rl_rule_free), or GW_EINVAL with err saying which member is wrong and why. */
int gw_rl_rule_parse(const json_t *obj, const char *source, struct gw_rl_rule **out,
                     struct gw_error *err);
void gw_rl_rule_free(struct gw_rl_rule *r);
/* The rule's canonical JSON (limit + period in seconds, every member present). New ref. */
json_t *gw_rl_rule_json(const struct gw_rl_rule *r);
/* A one-line, human (and LLM) readable summary: "60 calls per minute per user, for tools of
 * risk write". */
void gw_rl_rule_describe(const struct gw_rl_rule *r, char *out, size_t size);

/* "60/min", "60/m", "10/hour", "1000/1m", "5/30s", "100/day": GW_OK or GW_EINVAL. */
int gw_rl_rate_parse(const char *s, uint64_t *out_limit, uint64_t *out_period_ms,
                     struct gw_error *err);
/* "30s", "1m", "2h", "1d" or a number of seconds: GW_OK or GW_EINVAL. */
int gw_rl_period_parse(const char *s, uint64_t *out_ms, struct gw_error *err);
/* "1 minute", "30 seconds", "2 hours" (for messages). */
void gw_rl_period_text(uint64_t period_ms, char *out, size_t size);

/* ---- rule sets ---- */

struct gw_rl_ruleset;

struct gw_rl_ruleset *gw_rl_ruleset_new(void);
/* Adds `r` (ownership taken, also on failure). GW_ECONFLICT (an id already present) or
 * GW_ELIMIT (more than GW_RL_MAX_RULES). */
int gw_rl_ruleset_add(struct gw_rl_ruleset *rs, struct gw_rl_rule *r, struct gw_error *err);
/* Parses a rules document: {"rules": [rule, ...]} or a bare array. Every rule is checked; the
 * first error is reported with the rule's index and id. */
int gw_rl_ruleset_parse(const json_t *doc, const char *source, struct gw_rl_ruleset **out,
                        struct gw_error *err);
size_t gw_rl_ruleset_count(const struct gw_rl_ruleset *rs);
const struct gw_rl_rule *gw_rl_ruleset_at(const struct gw_rl_ruleset *rs, size_t i);
const struct gw_rl_rule *gw_rl_ruleset_find(const struct gw_rl_ruleset *rs, const char *id);
/* {"rules": [...]} of every rule (with "source"). New reference. */
json_t *gw_rl_ruleset_json(const struct gw_rl_ruleset *rs);
struct gw_rl_ruleset *gw_rl_ruleset_ref(struct gw_rl_ruleset *rs);
void gw_rl_ruleset_unref(struct gw_rl_ruleset *rs); /* accepts NULL */

#endif
