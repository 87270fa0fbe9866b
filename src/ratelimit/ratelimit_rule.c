/*
 * src/ratelimit/ratelimit_rule.c
 * Rule parsing and validation, canonical JSON, descriptions, rule sets (see ratelimit_rule.h).
 * Every input here may come from an operator's file, the admin API or the database: each
 * member is type-checked and bounded, unknown members are errors, messages name the member.
 */
#include "ratelimit/ratelimit_rule.h"

#include "core/alloc.h"
#include "core/str.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define STR_MAX 128
#define LIMIT_MAX 1000000000ull
#define PERIOD_MAX_MS (31ull * 86400 * 1000)
#define SPAN_MAX_US 1000000000000000ll /* burst x interval: <= ~31 years, exact in Lua */

static const char *const per_names[] = {"ip", "user", "client", "tool", "role", "risk", "tenant"};
static const char *const risk_names[] = {"read", "write", "privileged"};

/* ---------- small parsers ---------- */

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GW_RL_ID_MAX || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static bool printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* Number and unit of a period: "30s", "1m", "2 hours", "day". */
static int unit_ms(const char *u, uint64_t *out)
{
    static const struct {
        const char *name;
        uint64_t ms;
    } units[] = {{"s", 1000},         {"sec", 1000},       {"secs", 1000},
                 {"second", 1000},    {"seconds", 1000},   {"m", 60000},
                 {"min", 60000},      {"mins", 60000},     {"minute", 60000},
                 {"minutes", 60000},  {"h", 3600000},      {"hr", 3600000},
                 {"hour", 3600000},   {"hours", 3600000},  {"d", 86400000},
                 {"day", 86400000},   {"days", 86400000}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(u, units[i].name) == 0) {
            *out = units[i].ms;
            return GW_OK;
        }
    }
    return GW_EINVAL;
}

int gw_rl_period_parse(const char *s, uint64_t *out_ms, struct gw_error *err)
{
    char buf[32];
    if (!s || strlen(s) >= sizeof(buf) || !*s)
        return GW_ERROR_SET(err, GW_EINVAL, "a period is like 30s, 1m, 1h, 1d or seconds");
    snprintf(buf, sizeof(buf), "%s", s);
    size_t i = 0;
    while (buf[i] >= '0' && buf[i] <= '9')
        i++;
    unsigned long long count = 1;
    if (i > 0) {
        char num[24];
        if (i >= sizeof(num) || i > 12)
            return GW_ERROR_SET(err, GW_EINVAL, "period '%s' is too long", s);
        memcpy(num, buf, i);
        num[i] = '\0';
        if (gw_str_to_u64(gw_str_c(num), &count) != GW_OK || count == 0)
            return GW_ERROR_SET(err, GW_EINVAL, "period '%s' must be positive", s);
    }
    const char *u = buf + i;
    while (*u == ' ')
        u++;
    uint64_t unit = 1000;
    if (*u && unit_ms(u, &unit) != GW_OK)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "period '%s': unknown unit (s, m, h, d, second, minute, hour, day)",
                            s);
    if (i == 0 && !*u)
        return GW_ERROR_SET(err, GW_EINVAL, "empty period");
    if (count > PERIOD_MAX_MS / unit)
        return GW_ERROR_SET(err, GW_EINVAL, "period '%s' is longer than 31 days", s);
    *out_ms = count * unit;
    return GW_OK;
}

int gw_rl_rate_parse(const char *s, uint64_t *out_limit, uint64_t *out_period_ms,
                     struct gw_error *err)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || slash == s || strlen(s) > 40)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "a rate is like 60/min, 10/hour, 1000/1m or 5/30s (got '%.40s')",
                            s ? s : "");
    char num[24];
    size_t n = (size_t)(slash - s);
    if (n >= sizeof(num))
        return GW_ERROR_SET(err, GW_EINVAL, "rate '%s': the count is too long", s);
    memcpy(num, s, n);
    num[n] = '\0';
    unsigned long long limit = 0;
    if (gw_str_to_u64(gw_str_trim(gw_str_c(num)), &limit) != GW_OK || limit == 0 ||
        limit > LIMIT_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "rate '%s': the count must be 1 to %llu", s,
                            LIMIT_MAX);
    const char *p = slash + 1;
    while (*p == ' ')
        p++;
    if (gw_rl_period_parse(p, out_period_ms, err) != GW_OK)
        return GW_EINVAL;
    *out_limit = limit;
    return GW_OK;
}

void gw_rl_period_text(uint64_t ms, char *out, size_t size)
{
    static const struct {
        uint64_t ms;
        const char *one, *many;
    } u[] = {{86400000, "day", "days"}, {3600000, "hour", "hours"}, {60000, "minute", "minutes"},
             {1000, "second", "seconds"}};
    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
        if (ms >= u[i].ms && ms % u[i].ms == 0) {
            uint64_t k = ms / u[i].ms;
            if (k == 1)
                snprintf(out, size, "%s", u[i].one);
            else
                snprintf(out, size, "%llu %s", (unsigned long long)k, u[i].many);
            return;
        }
    }
    snprintf(out, size, "%llu ms", (unsigned long long)ms);
}

/* ---------- rules ---------- */

static void list_free(struct gw_rl_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        gw_free(l->v[i]);
    gw_free(l->v);
    l->v = NULL;
    l->n = 0;
}

void gw_rl_rule_free(struct gw_rl_rule *r)
{
    if (!r)
        return;
    list_free(&r->tools);
    list_free(&r->roles);
    list_free(&r->clients);
    list_free(&r->users);
    list_free(&r->tenants);
    gw_free(r);
}

static int parse_list(const json_t *v, const char *what, struct gw_rl_list *out,
                      struct gw_error *err)
{
    if (!json_is_array(v))
        return GW_ERROR_SET(err, GW_EINVAL, "match.%s must be an array of strings", what);
    size_t n = json_array_size(v);
    if (n > GW_RL_MAX_MATCH)
        return GW_ERROR_SET(err, GW_EINVAL, "match.%s has more than %d entries", what,
                            GW_RL_MAX_MATCH);
    out->v = n ? gw_xcalloc(n, sizeof(char *)) : NULL;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (!s || !*s || !printable(s, STR_MAX))
            return GW_ERROR_SET(err, GW_EINVAL,
                                "match.%s[%zu] must be a non-empty string of at most %d "
                                "printable bytes",
                                what, i, STR_MAX);
        for (size_t j = 0; j < out->n; j++)
            if (strcmp(out->v[j], s) == 0)
                return GW_ERROR_SET(err, GW_EINVAL, "match.%s lists '%s' twice", what, s);
        out->v[out->n++] = gw_xstrdup(s);
    }
    return GW_OK;
}

static int parse_match(const json_t *m, struct gw_rl_rule *r, struct gw_error *err)
{
    if (!json_is_object(m))
        return GW_ERROR_SET(err, GW_EINVAL, "match must be an object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) {
        int rc;
        if (strcmp(k, "tools") == 0) {
            rc = parse_list(v, k, &r->tools, err);
        } else if (strcmp(k, "roles") == 0) {
            rc = parse_list(v, k, &r->roles, err);
        } else if (strcmp(k, "clients") == 0) {
            rc = parse_list(v, k, &r->clients, err);
        } else if (strcmp(k, "users") == 0) {
            rc = parse_list(v, k, &r->users, err);
        } else if (strcmp(k, "tenants") == 0) {
            rc = parse_list(v, k, &r->tenants, err);
        } else if (strcmp(k, "risk") == 0) {
            struct gw_rl_list l = {0};
            rc = parse_list(v, k, &l, err);
            for (size_t i = 0; rc == GW_OK && i < l.n; i++) {
                unsigned bit = 0;
                for (unsigned j = 0; j < 3; j++)
                    if (strcmp(l.v[i], risk_names[j]) == 0)
                        bit = 1u << j;
                if (!bit)
                    rc = GW_ERROR_SET(err, GW_EINVAL,
                                      "match.risk: '%s' is not read, write or privileged",
                                      l.v[i]);
                r->risks |= bit;
            }
            list_free(&l);
        } else {
            rc = GW_ERROR_SET(err, GW_EINVAL,
                              "match: unknown member '%.64s' (tools, risk, roles, clients, "
                              "users, tenants)",
                              k);
        }
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

static int parse_count(const json_t *v, const char *what, uint64_t *out, struct gw_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        (unsigned long long)json_integer_value(v) > LIMIT_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "%s must be an integer from 1 to %llu", what,
                            LIMIT_MAX);
    *out = (uint64_t)json_integer_value(v);
    return GW_OK;
}

int gw_rl_rule_parse(const json_t *obj, const char *source, struct gw_rl_rule **out,
                     struct gw_error *err)
{
    *out = NULL;
    if (!json_is_object(obj))
        return GW_ERROR_SET(err, GW_EINVAL, "a rule must be a JSON object");
    struct gw_rl_rule *r = gw_xcalloc(1, sizeof(*r));
    snprintf(r->source, sizeof(r->source), "%s", source ? source : "");
    r->enabled = true;
    int rc = GW_OK;
    bool have_rate = false, have_limit = false, have_period = false, have_burst = false;
    const json_t *match = NULL, *per = NULL;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (strcmp(k, "id") == 0) {
            const char *s = json_string_value(v);
            if (!s || !valid_id(s)) {
                rc = GW_ERROR_SET(err, GW_EINVAL,
                                  "id must be 1-%d characters of A-Z a-z 0-9 _ . - (not "
                                  "starting with . or -)",
                                  GW_RL_ID_MAX);
                break;
            }
            snprintf(r->id, sizeof(r->id), "%s", s);
        } else if (strcmp(k, "description") == 0) {
            const char *s = json_string_value(v);
            if (!s || !printable(s, 256)) {
                rc = GW_ERROR_SET(err, GW_EINVAL,
                                  "description must be a string of at most 256 printable bytes");
                break;
            }
            snprintf(r->description, sizeof(r->description), "%s", s);
        } else if (strcmp(k, "scope") == 0) {
            const char *s = json_string_value(v);
            if (s && strcmp(s, "call") == 0) {
                r->scope = GW_RL_SCOPE_CALL;
            } else if (s && strcmp(s, "http") == 0) {
                r->scope = GW_RL_SCOPE_HTTP;
            } else {
                rc = GW_ERROR_SET(err, GW_EINVAL, "scope must be \"call\" or \"http\"");
                break;
            }
        } else if (strcmp(k, "rate") == 0) {
            const char *s = json_string_value(v);
            if (!s) {
                rc = GW_ERROR_SET(err, GW_EINVAL, "rate must be a string like \"60/min\"");
                break;
            }
            if ((rc = gw_rl_rate_parse(s, &r->limit, &r->period_ms, err)) != GW_OK)
                break;
            have_rate = true;
        } else if (strcmp(k, "limit") == 0) {
            if ((rc = parse_count(v, "limit", &r->limit, err)) != GW_OK)
                break;
            have_limit = true;
        } else if (strcmp(k, "period") == 0) {
            if (json_is_integer(v)) {
                json_int_t sec = json_integer_value(v);
                if (sec < 1 || (uint64_t)sec > PERIOD_MAX_MS / 1000) {
                    rc = GW_ERROR_SET(err, GW_EINVAL, "period must be 1 s to 31 days");
                    break;
                }
                r->period_ms = (uint64_t)sec * 1000;
            } else if (json_is_string(v)) {
                if ((rc = gw_rl_period_parse(json_string_value(v), &r->period_ms, err)) != GW_OK)
                    break;
            } else {
                rc = GW_ERROR_SET(err, GW_EINVAL,
                                  "period must be seconds or a duration like \"1m\"");
                break;
            }
            have_period = true;
        } else if (strcmp(k, "burst") == 0) {
            if ((rc = parse_count(v, "burst", &r->burst, err)) != GW_OK)
                break;
            have_burst = true;
        } else if (strcmp(k, "per") == 0) {
            per = v;
        } else if (strcmp(k, "match") == 0) {
            match = v;
        } else if (strcmp(k, "mode") == 0) {
            const char *s = json_string_value(v);
            if (s && strcmp(s, "enforce") == 0) {
                r->mode = GW_RL_ENFORCE;
            } else if (s && strcmp(s, "dry_run") == 0) {
                r->mode = GW_RL_DRY_RUN;
            } else {
                rc = GW_ERROR_SET(err, GW_EINVAL, "mode must be \"enforce\" or \"dry_run\"");
                break;
            }
        } else if (strcmp(k, "enabled") == 0) {
            if (!json_is_boolean(v)) {
                rc = GW_ERROR_SET(err, GW_EINVAL, "enabled must be true or false");
                break;
            }
            r->enabled = json_is_true(v);
        } else if (strcmp(k, "source") == 0) {
            /* written by gw_rl_ruleset_json; informational, ignored on input */
        } else {
            rc = GW_ERROR_SET(err, GW_EINVAL,
                              "unknown member '%.64s' (id, description, scope, rate, limit, "
                              "period, burst, per, match, mode, enabled)",
                              k);
            break;
        }
    }
    if (rc == GW_OK && !r->id[0])
        rc = GW_ERROR_SET(err, GW_EINVAL, "a rule needs an id");
    if (rc == GW_OK && have_rate && (have_limit || have_period))
        rc = GW_ERROR_SET(err, GW_EINVAL,
                          "rule %s: give either rate or limit + period, not both", r->id);
    if (rc == GW_OK && !have_rate && !(have_limit && have_period))
        rc = GW_ERROR_SET(err, GW_EINVAL,
                          "rule %s: a rate is needed (\"rate\": \"60/min\", or \"limit\" and "
                          "\"period\")",
                          r->id);
    if (rc == GW_OK && per) {
        if (!json_is_array(per) || json_array_size(per) > 7) {
            rc = GW_ERROR_SET(err, GW_EINVAL,
                              "rule %s: per must be an array of ip, user, client, tool, role, "
                              "risk, tenant",
                              r->id);
        } else {
            for (size_t i = 0; rc == GW_OK && i < json_array_size(per); i++) {
                const char *s = json_string_value(json_array_get(per, i));
                unsigned bit = 0;
                for (unsigned j = 0; s && j < 7; j++)
                    if (strcmp(s, per_names[j]) == 0)
                        bit = 1u << j;
                if (!bit)
                    rc = GW_ERROR_SET(err, GW_EINVAL,
                                      "rule %s: per[%zu] is not one of ip, user, client, tool, "
                                      "role, risk, tenant",
                                      r->id, i);
                else if (r->per & bit)
                    rc = GW_ERROR_SET(err, GW_EINVAL, "rule %s: per lists '%s' twice", r->id, s);
                r->per |= bit;
            }
        }
    }
    if (rc == GW_OK && match)
        rc = parse_match(match, r, err);
    if (rc == GW_OK && r->scope == GW_RL_SCOPE_HTTP) {
        bool matched = r->tools.n || r->roles.n || r->clients.n || r->users.n || r->tenants.n ||
                       r->risks;
        if ((r->per & ~(unsigned)GW_RL_PER_IP) || matched)
            rc = GW_ERROR_SET(err, GW_EINVAL,
                              "rule %s: an http-scope rule acts before authentication: only "
                              "\"per\": [\"ip\"] (or none) and no match",
                              r->id);
    }
    if (rc == GW_OK) {
        if (!have_burst)
            r->burst = r->limit;
        uint64_t period_us = r->period_ms * 1000;
        if (r->limit > period_us) {
            rc = GW_ERROR_SET(err, GW_EINVAL,
                              "rule %s: more than one request per microsecond is not a limit",
                              r->id);
        } else {
            r->interval_us = (int64_t)(period_us / r->limit);
            if ((double)r->interval_us * (double)r->burst > (double)SPAN_MAX_US)
                rc = GW_ERROR_SET(err, GW_EINVAL,
                                  "rule %s: burst x (period / limit) exceeds 31 years", r->id);
        }
    }
    if (rc != GW_OK) {
        gw_rl_rule_free(r);
        return rc;
    }
    *out = r;
    return GW_OK;
}

static json_t *list_json(const struct gw_rl_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_string(l->v[i]));
    return a;
}

json_t *gw_rl_rule_json(const struct gw_rl_rule *r)
{
    json_t *per = json_array();
    for (unsigned j = 0; j < 7; j++)
        if (r->per & (1u << j))
            json_array_append_new(per, json_string(per_names[j]));
    json_t *match = json_object();
    if (r->tools.n)
        json_object_set_new(match, "tools", list_json(&r->tools));
    if (r->risks) {
        json_t *a = json_array();
        for (unsigned j = 0; j < 3; j++)
            if (r->risks & (1u << j))
                json_array_append_new(a, json_string(risk_names[j]));
        json_object_set_new(match, "risk", a);
    }
    if (r->roles.n)
        json_object_set_new(match, "roles", list_json(&r->roles));
    if (r->clients.n)
        json_object_set_new(match, "clients", list_json(&r->clients));
    if (r->users.n)
        json_object_set_new(match, "users", list_json(&r->users));
    if (r->tenants.n)
        json_object_set_new(match, "tenants", list_json(&r->tenants));
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:o,s:s,s:b}", "id", r->id,
                          "description", r->description, "scope",
                          r->scope == GW_RL_SCOPE_HTTP ? "http" : "call", "limit",
                          (json_int_t)r->limit, "period", (json_int_t)(r->period_ms / 1000),
                          "burst", (json_int_t)r->burst, "per", per, "match", match, "mode",
                          r->mode == GW_RL_DRY_RUN ? "dry_run" : "enforce", "enabled",
                          r->enabled);
    if (r->period_ms % 1000) { /* sub-second periods cannot be parsed; keep exact anyway */
        char p[32];
        snprintf(p, sizeof(p), "%llus", (unsigned long long)(r->period_ms / 1000));
        json_object_set_new(o, "period", json_string(p));
    }
    return o;
}

void gw_rl_rule_describe(const struct gw_rl_rule *r, char *out, size_t size)
{
    char period[32], per[96] = "", match[200] = "";
    gw_rl_period_text(r->period_ms, period, sizeof(period));
    size_t n = 0;
    for (unsigned j = 0; j < 7; j++) {
        if (!(r->per & (1u << j)))
            continue;
        int w = snprintf(per + n, sizeof(per) - n, "%s%s", n ? " and " : " per ", per_names[j]);
        if (w > 0 && (size_t)w < sizeof(per) - n)
            n += (size_t)w;
    }
    n = 0;
    if (r->tools.n == 1) {
        int w = snprintf(match, sizeof(match), " of tool %s", r->tools.v[0]);
        n = w > 0 ? (size_t)w : 0;
    } else if (r->tools.n > 1) {
        int w = snprintf(match, sizeof(match), " of %zu listed tools", r->tools.n);
        n = w > 0 ? (size_t)w : 0;
    }
    if (r->risks && n < sizeof(match)) {
        char risks[40] = "";
        size_t m = 0;
        for (unsigned j = 0; j < 3; j++)
            if (r->risks & (1u << j)) {
                int w = snprintf(risks + m, sizeof(risks) - m, "%s%s", m ? "/" : "",
                                 risk_names[j]);
                if (w > 0 && (size_t)w < sizeof(risks) - m)
                    m += (size_t)w;
            }
        int w = snprintf(match + n, sizeof(match) - n, " for %s tools", risks);
        if (w > 0 && (size_t)w < sizeof(match) - n)
            n += (size_t)w;
    }
    if (r->roles.n && n < sizeof(match))
        snprintf(match + n, sizeof(match) - n, " for role%s %s%s", r->roles.n > 1 ? "s" : "",
                 r->roles.v[0], r->roles.n > 1 ? ", ..." : "");
    const char *what = r->scope == GW_RL_SCOPE_HTTP ? "requests" : "calls";
    if (r->burst != r->limit)
        snprintf(out, size, "%llu %s per %s%s%s (bursts of %llu)",
                 (unsigned long long)r->limit, what, period, per, match,
                 (unsigned long long)r->burst);
    else
        snprintf(out, size, "%llu %s per %s%s%s", (unsigned long long)r->limit, what, period,
                 per, match);
}

/* ---------- rule sets ---------- */

struct gw_rl_ruleset {
    atomic_int refs;
    struct gw_rl_rule *rules[GW_RL_MAX_RULES];
    size_t n;
};

struct gw_rl_ruleset *gw_rl_ruleset_new(void)
{
    struct gw_rl_ruleset *rs = gw_xcalloc(1, sizeof(*rs));
    atomic_init(&rs->refs, 1);
    return rs;
}

int gw_rl_ruleset_add(struct gw_rl_ruleset *rs, struct gw_rl_rule *r, struct gw_error *err)
{
    if (gw_rl_ruleset_find(rs, r->id)) {
        GW_ERROR_SET(err, GW_ECONFLICT, "two rules have the id '%s' (%s and %s)", r->id,
                     gw_rl_ruleset_find(rs, r->id)->source, r->source);
        gw_rl_rule_free(r);
        return GW_ECONFLICT;
    }
    if (rs->n >= GW_RL_MAX_RULES) {
        gw_rl_rule_free(r);
        return GW_ERROR_SET(err, GW_ELIMIT, "more than %d rate-limit rules", GW_RL_MAX_RULES);
    }
    rs->rules[rs->n++] = r;
    return GW_OK;
}

int gw_rl_ruleset_parse(const json_t *doc, const char *source, struct gw_rl_ruleset **out,
                        struct gw_error *err)
{
    *out = NULL;
    const json_t *arr = doc;
    if (json_is_object(doc)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)doc, k, v) {
            if (strcmp(k, "rules") != 0 && strcmp(k, "description") != 0)
                return GW_ERROR_SET(err, GW_EINVAL,
                                    "rules document: unknown member '%.64s' (rules, "
                                    "description)",
                                    k);
        }
        arr = json_object_get(doc, "rules");
    }
    if (!json_is_array(arr))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "a rules document is {\"rules\": [ ... ]} or an array of rules");
    if (json_array_size(arr) > GW_RL_MAX_RULES)
        return GW_ERROR_SET(err, GW_ELIMIT, "more than %d rate-limit rules", GW_RL_MAX_RULES);
    struct gw_rl_ruleset *rs = gw_rl_ruleset_new();
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct gw_rl_rule *r = NULL;
        struct gw_error e = {0};
        int rc = gw_rl_rule_parse(json_array_get(arr, i), source, &r, &e);
        if (rc == GW_OK)
            rc = gw_rl_ruleset_add(rs, r, &e);
        if (rc != GW_OK) {
            const char *id = json_string_value(json_object_get(json_array_get(arr, i), "id"));
            GW_ERROR_SET(err, rc, "rule %zu (%.64s): %s", i + 1, id ? id : "no id", e.msg);
            gw_rl_ruleset_unref(rs);
            return rc;
        }
    }
    *out = rs;
    return GW_OK;
}

size_t gw_rl_ruleset_count(const struct gw_rl_ruleset *rs)
{
    return rs ? rs->n : 0;
}

const struct gw_rl_rule *gw_rl_ruleset_at(const struct gw_rl_ruleset *rs, size_t i)
{
    return rs && i < rs->n ? rs->rules[i] : NULL;
}

const struct gw_rl_rule *gw_rl_ruleset_find(const struct gw_rl_ruleset *rs, const char *id)
{
    for (size_t i = 0; rs && i < rs->n; i++)
        if (strcmp(rs->rules[i]->id, id) == 0)
            return rs->rules[i];
    return NULL;
}

json_t *gw_rl_ruleset_json(const struct gw_rl_ruleset *rs)
{
    json_t *a = json_array();
    for (size_t i = 0; rs && i < rs->n; i++) {
        json_t *o = gw_rl_rule_json(rs->rules[i]);
        json_object_set_new(o, "source", json_string(rs->rules[i]->source));
        json_array_append_new(a, o);
    }
    return json_pack("{s:o}", "rules", a);
}

struct gw_rl_ruleset *gw_rl_ruleset_ref(struct gw_rl_ruleset *rs)
{
    if (rs)
        atomic_fetch_add(&rs->refs, 1);
    return rs;
}

void gw_rl_ruleset_unref(struct gw_rl_ruleset *rs)
{
    if (!rs || atomic_fetch_sub(&rs->refs, 1) != 1)
        return;
    for (size_t i = 0; i < rs->n; i++)
        gw_rl_rule_free(rs->rules[i]);
    gw_free(rs);
}
