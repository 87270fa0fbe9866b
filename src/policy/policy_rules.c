/*
 * src/policy/policy_rules.c
 * Rule sets: building (validation of every field, compiled conditions) and the exposure and
 * authorization decisions (see policy_rules.h for the model and the decision order).
 * Invariants: a built rule set never changes; every string a decision returns is copied into
 * the caller's result; a condition is evaluated only for rules whose selectors matched.
 */
#include "policy/policy_rules.h"

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "policy/policy_logic.h"

#include <openssl/sha.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define SEL_MAX 256
#define TEXT_MAX 512

enum effect { EFFECT_ALLOW, EFFECT_DENY, EFFECT_CONFIRM };
static const char *const effect_names[] = {"allow", "deny", "confirm"};

struct sel {
    const char **v; /* borrowed from the document */
    size_t n;       /* 0 = any */
};

struct rule {
    const char *id;
    enum effect effect;
    bool dry_run;
    struct sel roles, clients, subjects, tenants;
    struct sel tools, bundles, tags;
    unsigned risk_mask; /* bit (risk+1); 0 = any */
    struct gw_logic *when;
    const char *reason, *hint;
};

struct role {
    const char *name;
    int max_risk;
};

struct gw_ruleset {
    atomic_int refs;
    json_t *doc; /* owns every borrowed string */
    char version[48];
    struct role *roles;
    size_t nroles;
    struct rule *exposure, *policies;
    size_t nexposure, npolicies;
    bool any_allow_policy;
    /* elevation */
    int64_t el_max_age;
    struct sel el_scopes, el_groups, el_acr, el_amr;
};

int gw_risk_parse(const char *s)
{
    if (!s)
        return -2;
    if (!strcmp(s, "read"))
        return GW_RISK_READ;
    if (!strcmp(s, "write"))
        return GW_RISK_WRITE;
    if (!strcmp(s, "privileged"))
        return GW_RISK_PRIVILEGED;
    if (!strcmp(s, "none"))
        return GW_RISK_NONE;
    return -2;
}

const char *gw_risk_name(int risk)
{
    switch (risk) {
    case GW_RISK_READ: return "read";
    case GW_RISK_WRITE: return "write";
    case GW_RISK_PRIVILEGED: return "privileged";
    default: return "none";
    }
}

/* ---------------------------------------------------------------- building */

static int sel_parse(const json_t *rule, const char *where, const char *field, struct sel *out,
                     struct gw_error *err)
{
    json_t *v = json_object_get(rule, field);
    out->v = NULL;
    out->n = 0;
    if (!v)
        return GW_OK;
    if (json_is_string(v)) {
        out->v = gw_xcalloc(1, sizeof(char *));
        out->v[0] = json_string_value(v);
        out->n = 1;
        return GW_OK;
    }
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > SEL_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "%s: \"%s\" must be a string or a list of 1-%d strings",
                            where, field, SEL_MAX);
    out->v = gw_xcalloc(json_array_size(v), sizeof(char *));
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 256)
            return GW_ERROR_SET(err, GW_EINVAL, "%s: \"%s\"[%zu] must be a non-empty string",
                                where, field, i);
        out->v[out->n++] = json_string_value(e);
    }
    return GW_OK;
}

static void sel_free(struct sel *s)
{
    gw_free(s->v);
    s->v = NULL;
    s->n = 0;
}

static bool sel_has(const struct sel *s, const char *x)
{
    for (size_t i = 0; x && i < s->n; i++)
        if (!strcmp(s->v[i], x))
            return true;
    return false;
}

static int text(const json_t *o, const char *where, const char *field, const char **out,
                struct gw_error *err)
{
    json_t *v = json_object_get(o, field);
    *out = NULL;
    if (!v)
        return GW_OK;
    if (!json_is_string(v) || json_string_length(v) > TEXT_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "%s: \"%s\" must be a string of at most %d characters",
                            where, field, TEXT_MAX);
    *out = json_string_value(v);
    return GW_OK;
}

static bool valid_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > GW_RULE_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

static int rule_parse(const json_t *o, const char *section, size_t index, struct rule *r,
                      struct gw_error *err)
{
    char where[160];
    memset(r, 0, sizeof(*r));
    bool policy = !strcmp(section, "policies");
    if (!json_is_object(o))
        return GW_ERROR_SET(err, GW_EINVAL, "%s[%zu]: a rule must be an object", section, index);
    r->id = json_string_value(json_object_get(o, "id"));
    if (!valid_id(r->id))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "%s[%zu]: \"id\" must be 1-%d characters of A-Z a-z 0-9 - _ . :",
                            section, index, GW_RULE_ID_MAX);
    snprintf(where, sizeof(where), "%s rule %s", section, r->id);
    static const char *const known[] = {"id",    "description", "effect",  "mode",   "roles",
                                        "clients", "subjects",  "tenants", "tools",  "bundles",
                                        "tags",    "risk",      "when",    "reason", "hint"};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok = ok || !strcmp(k, known[i]);
        if (!ok)
            return GW_ERROR_SET(err, GW_EINVAL, "%s: unknown field \"%.40s\"", where, k);
    }
    const char *effect = json_string_value(json_object_get(o, "effect"));
    if (effect && !strcmp(effect, "allow"))
        r->effect = EFFECT_ALLOW;
    else if (effect && !strcmp(effect, "deny"))
        r->effect = EFFECT_DENY;
    else if (policy && effect && !strcmp(effect, "confirm"))
        r->effect = EFFECT_CONFIRM;
    else
        return GW_ERROR_SET(err, GW_EINVAL, "%s: \"effect\" must be %s", where,
                            policy ? "allow, deny or confirm" : "allow or deny");
    const char *mode = json_string_value(json_object_get(o, "mode"));
    if (json_object_get(o, "mode") &&
        (!mode || (strcmp(mode, "enforce") && strcmp(mode, "dry_run"))))
        return GW_ERROR_SET(err, GW_EINVAL, "%s: \"mode\" must be enforce or dry_run", where);
    r->dry_run = mode && !strcmp(mode, "dry_run");
    int rc;
    if ((rc = sel_parse(o, where, "roles", &r->roles, err)) != GW_OK ||
        (rc = sel_parse(o, where, "clients", &r->clients, err)) != GW_OK ||
        (rc = sel_parse(o, where, "subjects", &r->subjects, err)) != GW_OK ||
        (rc = sel_parse(o, where, "tenants", &r->tenants, err)) != GW_OK ||
        (rc = sel_parse(o, where, "tools", &r->tools, err)) != GW_OK ||
        (rc = sel_parse(o, where, "bundles", &r->bundles, err)) != GW_OK ||
        (rc = sel_parse(o, where, "tags", &r->tags, err)) != GW_OK)
        return rc;
    struct sel risks;
    if ((rc = sel_parse(o, where, "risk", &risks, err)) != GW_OK)
        return rc;
    for (size_t i = 0; i < risks.n; i++) {
        int k2 = gw_risk_parse(risks.v[i]);
        if (k2 < GW_RISK_READ) {
            sel_free(&risks);
            return GW_ERROR_SET(err, GW_EINVAL, "%s: \"risk\" entries are read, write or "
                                                "privileged", where);
        }
        r->risk_mask |= 1u << k2;
    }
    sel_free(&risks);
    if ((rc = text(o, where, "reason", &r->reason, err)) != GW_OK ||
        (rc = text(o, where, "hint", &r->hint, err)) != GW_OK ||
        (rc = text(o, where, "description", &effect, err)) != GW_OK)
        return rc;
    json_t *when = json_object_get(o, "when");
    if (when) {
        if (!policy)
            return GW_ERROR_SET(err, GW_EINVAL, "%s: exposure rules take no \"when\" (visibility "
                                                "cannot depend on a call's arguments)", where);
        char at[160];
        snprintf(at, sizeof(at), "policy rule %s: when", r->id);
        struct gw_error lerr = {0};
        if (gw_logic_compile_at(when, at, &r->when, &lerr) != GW_OK) /* names the node's path */
            return GW_ERROR_SET(err, GW_EINVAL, "%s", lerr.msg);
    }
    return GW_OK;
}

static void rule_fini(struct rule *r)
{
    sel_free(&r->roles);
    sel_free(&r->clients);
    sel_free(&r->subjects);
    sel_free(&r->tenants);
    sel_free(&r->tools);
    sel_free(&r->bundles);
    sel_free(&r->tags);
    gw_logic_free(r->when);
}

static int rules_parse(const json_t *doc, const char *section, struct rule **out, size_t *n,
                       size_t *total, struct gw_error *err)
{
    json_t *arr = json_object_get(doc, section);
    *out = NULL;
    *n = 0;
    if (!arr)
        return GW_OK;
    if (!json_is_array(arr))
        return GW_ERROR_SET(err, GW_EINVAL, "\"%s\" must be a list of rules", section);
    if (*total + json_array_size(arr) > GW_RULES_MAX)
        return GW_ERROR_SET(err, GW_ELIMIT, "more than %d rules", GW_RULES_MAX);
    *out = gw_xcalloc(json_array_size(arr) + 1, sizeof(struct rule));
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        int rc = rule_parse(o, section, i, &(*out)[*n], err);
        if (rc != GW_OK) {
            rule_fini(&(*out)[*n]);
            return rc;
        }
        (*n)++;
    }
    *total += *n;
    return GW_OK;
}

static int roles_parse(struct gw_ruleset *rs, struct gw_error *err)
{
    json_t *roles = json_object_get(rs->doc, "roles");
    if (!roles)
        return GW_OK;
    if (!json_is_object(roles) || json_object_size(roles) > 1000)
        return GW_ERROR_SET(err, GW_EINVAL, "\"roles\" must be an object {role: {max_risk}}");
    rs->roles = gw_xcalloc(json_object_size(roles) + 1, sizeof(struct role));
    const char *name;
    json_t *r;
    json_object_foreach(roles, name, r)
    {
        const char *mr = json_string_value(json_object_get(r, "max_risk"));
        int risk = gw_risk_parse(mr);
        if (!json_is_object(r) || risk < GW_RISK_NONE || !*name || strlen(name) > 128)
            return GW_ERROR_SET(err, GW_EINVAL,
                                "role %.60s: \"max_risk\" must be read, write, privileged or none",
                                name);
        const char *k;
        json_t *v;
        json_object_foreach(r, k, v)
        {
            if (strcmp(k, "max_risk") != 0 && strcmp(k, "description") != 0)
                return GW_ERROR_SET(err, GW_EINVAL, "role %.60s: unknown field \"%.40s\"", name, k);
        }
        rs->roles[rs->nroles++] = (struct role){name, risk};
    }
    return GW_OK;
}

static int elevation_parse(struct gw_ruleset *rs, struct gw_error *err)
{
    json_t *el = json_object_get(rs->doc, "elevation");
    rs->el_max_age = 900;
    if (!el)
        return GW_OK;
    if (!json_is_object(el))
        return GW_ERROR_SET(err, GW_EINVAL, "\"elevation\" must be an object");
    json_t *age = json_object_get(el, "max_age_seconds");
    if (age && (!json_is_integer(age) || json_integer_value(age) < 0 ||
                json_integer_value(age) > 86400))
        return GW_ERROR_SET(err, GW_EINVAL, "elevation.max_age_seconds must be 0-86400");
    if (age)
        rs->el_max_age = json_integer_value(age);
    int rc;
    if ((rc = sel_parse(el, "elevation", "scopes", &rs->el_scopes, err)) != GW_OK ||
        (rc = sel_parse(el, "elevation", "groups", &rs->el_groups, err)) != GW_OK ||
        (rc = sel_parse(el, "elevation", "acr", &rs->el_acr, err)) != GW_OK ||
        (rc = sel_parse(el, "elevation", "amr", &rs->el_amr, err)) != GW_OK)
        return rc;
    return GW_OK;
}

static void free_set(struct gw_ruleset *rs)
{
    for (size_t i = 0; i < rs->nexposure; i++)
        rule_fini(&rs->exposure[i]);
    for (size_t i = 0; i < rs->npolicies; i++)
        rule_fini(&rs->policies[i]);
    gw_free(rs->exposure);
    gw_free(rs->policies);
    gw_free(rs->roles);
    sel_free(&rs->el_scopes);
    sel_free(&rs->el_groups);
    sel_free(&rs->el_acr);
    sel_free(&rs->el_amr);
    json_decref(rs->doc);
    gw_free(rs);
}

int gw_ruleset_build(const json_t *doc, struct gw_ruleset **out, struct gw_error *err)
{
    *out = NULL;
    if (!json_is_object(doc))
        return GW_ERROR_SET(err, GW_EINVAL, "a rule set must be a JSON object");
    static const char *const top[] = {"version", "roles", "elevation", "exposure", "policies",
                                      "description"};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)doc, k, v)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
            ok = ok || !strcmp(k, top[i]);
        if (!ok)
            return GW_ERROR_SET(err, GW_EINVAL,
                                "unknown section \"%.40s\" (version, roles, elevation, exposure, "
                                "policies)",
                                k);
    }
    struct gw_ruleset *rs = gw_xcalloc(1, sizeof(*rs));
    atomic_init(&rs->refs, 1);
    rs->doc = json_deep_copy(doc);
    size_t total = 0;
    int rc = roles_parse(rs, err);
    if (rc == GW_OK)
        rc = elevation_parse(rs, err);
    if (rc == GW_OK)
        rc = rules_parse(rs->doc, "exposure", &rs->exposure, &rs->nexposure, &total, err);
    if (rc == GW_OK)
        rc = rules_parse(rs->doc, "policies", &rs->policies, &rs->npolicies, &total, err);
    /* ids are unique across both sections: a decision names its rule by id alone */
    for (size_t i = 0; rc == GW_OK && i < rs->nexposure + rs->npolicies; i++) {
        const char *a = i < rs->nexposure ? rs->exposure[i].id : rs->policies[i - rs->nexposure].id;
        for (size_t j = i + 1; rc == GW_OK && j < rs->nexposure + rs->npolicies; j++) {
            const char *b =
                j < rs->nexposure ? rs->exposure[j].id : rs->policies[j - rs->nexposure].id;
            if (!strcmp(a, b))
                rc = GW_ERROR_SET(err, GW_EINVAL, "rule id %s is used twice", a);
        }
    }
    if (rc != GW_OK) {
        free_set(rs);
        return rc;
    }
    for (size_t i = 0; i < rs->npolicies; i++)
        if (rs->policies[i].effect == EFFECT_ALLOW && !rs->policies[i].dry_run)
            rs->any_allow_policy = true;
    char *canon = json_dumps(rs->doc, JSON_COMPACT | JSON_SORT_KEYS);
    unsigned char md[32];
    SHA256((const unsigned char *)(canon ? canon : ""), canon ? strlen(canon) : 0, md);
    gw_free(canon);
    const char *given = json_string_value(json_object_get(rs->doc, "version"));
    snprintf(rs->version, sizeof(rs->version), "%.32s%s%02x%02x%02x%02x", given ? given : "",
             given ? "+" : "", md[0], md[1], md[2], md[3]);
    *out = rs;
    return GW_OK;
}

struct gw_ruleset *gw_ruleset_ref(struct gw_ruleset *rs)
{
    if (rs)
        atomic_fetch_add(&rs->refs, 1);
    return rs;
}

void gw_ruleset_unref(struct gw_ruleset *rs)
{
    if (rs && atomic_fetch_sub(&rs->refs, 1) == 1)
        free_set(rs);
}

const char *gw_ruleset_version(const struct gw_ruleset *rs)
{
    return rs->version;
}

bool gw_ruleset_empty(const struct gw_ruleset *rs)
{
    return !rs || (rs->nexposure == 0 && rs->npolicies == 0 && rs->nroles == 0);
}

size_t gw_ruleset_count(const struct gw_ruleset *rs, const char *section)
{
    if (!strcmp(section, "exposure"))
        return rs->nexposure;
    if (!strcmp(section, "policies"))
        return rs->npolicies;
    return rs->nroles;
}

const json_t *gw_ruleset_doc(const struct gw_ruleset *rs)
{
    return rs->doc;
}

void gw_rule_tool_from_def(const json_t *def, struct gw_rule_tool *t)
{
    memset(t, 0, sizeof(*t));
    t->name = json_string_value(json_object_get(def, "name"));
    t->bundle = json_string_value(json_object_get(def, "bundle"));
    int r = gw_risk_parse(json_string_value(json_object_get(def, "risk")));
    t->risk = r >= GW_RISK_READ ? r : GW_RISK_WRITE;
    t->tags = json_object_get(def, "tags");
    t->requires_confirmation = json_is_true(json_object_get(def, "requiresConfirmation"));
    json_t *el = json_object_get(def, "requiresElevation");
    t->requires_elevation = el ? json_is_true(el) : t->risk == GW_RISK_PRIVILEGED;
}

/* ---------------------------------------------------------------- matching */

static bool principal_matches(const struct rule *r, const struct gw_principal *p)
{
    if (r->roles.n) {
        bool any = false;
        for (size_t i = 0; i < r->roles.n && !any; i++)
            any = gw_principal_has_role(p, r->roles.v[i]);
        if (!any)
            return false;
    }
    return (!r->clients.n || sel_has(&r->clients, p->client_id)) &&
           (!r->subjects.n || sel_has(&r->subjects, p->subject)) &&
           (!r->tenants.n || sel_has(&r->tenants, p->tenant));
}

static bool tool_matches(const struct rule *r, const struct gw_rule_tool *t)
{
    if (r->tools.n && !sel_has(&r->tools, t->name))
        return false;
    if (r->bundles.n && !sel_has(&r->bundles, t->bundle))
        return false;
    if (r->risk_mask && !(r->risk_mask & (1u << t->risk)))
        return false;
    if (r->tags.n) {
        bool any = false;
        size_t i;
        json_t *tag;
        json_array_foreach((json_t *)t->tags, i, tag)
        {
            any = any || sel_has(&r->tags, json_string_value(tag));
        }
        for (i = 0; !t->tags && i < t->ntags; i++)
            any = any || sel_has(&r->tags, t->tag_list[i]);
        if (!any)
            return false;
    }
    return true;
}

static void hit(struct gw_rule_hit *h, const struct rule *r, const char *section)
{
    gw_strlcpy(h->id, sizeof(h->id), r ? r->id : "");
    h->section = section;
    h->effect = r ? effect_names[r->effect] : "deny";
    h->dry_run = r && r->dry_run;
}

void gw_ruleset_exposure(const struct gw_ruleset *rs, const struct gw_principal *p,
                         const struct gw_rule_tool *t, struct gw_exposure_result *out)
{
    memset(out, 0, sizeof(*out));
    if (!rs || rs->nexposure == 0) {
        out->visible = true;
        return;
    }
    const struct rule *allow = NULL;
    for (size_t i = 0; i < rs->nexposure; i++) {
        const struct rule *r = &rs->exposure[i];
        if (!principal_matches(r, p) || !tool_matches(r, t))
            continue;
        if (r->dry_run) {
            if (r->effect == EFFECT_DENY && !out->dry_run_denial.id[0])
                hit(&out->dry_run_denial, r, "exposure");
            continue;
        }
        if (r->effect == EFFECT_DENY) {
            hit(&out->decided, r, "exposure");
            out->visible = false;
            return;
        }
        if (!allow)
            allow = r;
    }
    out->visible = allow != NULL;
    hit(&out->decided, allow, "exposure");
    if (!allow)
        out->decided.id[0] = '\0'; /* the default: no rule exposes it */
}

/* ---------------------------------------------------------------- authorization */

json_t *gw_rules_principal_json(const struct gw_principal *p)
{
    json_t *o = gw_principal_json(p);
    json_object_set(o, "claims", (json_t *)p->claims);
    return o;
}

static const json_t *path_get(const json_t *data, const char *path)
{
    char seg[128];
    const json_t *cur = data;
    while (cur && *path) {
        size_t n = strcspn(path, ".");
        if (n == 0 || n >= sizeof(seg))
            return NULL;
        memcpy(seg, path, n);
        seg[n] = '\0';
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)strtoul(seg, NULL, 10))
                                 : json_object_get(cur, seg);
        path += n;
        if (*path == '.')
            path++;
    }
    return cur;
}

/* Expands {dotted.path} placeholders of `tpl` from `data` into out (values shortened). */
static void expand(const char *tpl, const json_t *data, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = tpl; p && *p && n + 1 < size;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (close && close - p > 1 && close - p < 100 && data) {
            char path[100];
            memcpy(path, p + 1, (size_t)(close - p - 1));
            path[close - p - 1] = '\0';
            const json_t *v = path_get(data, path);
            char val[80];
            if (json_is_string(v))
                snprintf(val, sizeof(val), "%.70s", json_string_value(v));
            else if (v && !json_is_object(v) && !json_is_array(v)) {
                char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                snprintf(val, sizeof(val), "%.70s", t ? t : "?");
                gw_free(t);
            } else
                snprintf(val, sizeof(val), "(none)");
            n += (size_t)snprintf(out + n, size - n, "%s", val);
            p = close + 1;
            continue;
        }
        out[n++] = *p++;
        out[n] = '\0';
    }
    if (n >= size)
        out[size - 1] = '\0';
}

static int max_risk_of(const struct gw_ruleset *rs, const struct gw_principal *p,
                       const char **best_role)
{
    int best = GW_RISK_NONE;
    *best_role = NULL;
    for (size_t i = 0; i < rs->nroles; i++) {
        if (gw_principal_has_role(p, rs->roles[i].name) && rs->roles[i].max_risk > best) {
            best = rs->roles[i].max_risk;
            *best_role = rs->roles[i].name;
        }
    }
    return best;
}

static bool in_claim(const json_t *claims, const char *claim, const struct sel *s)
{
    const json_t *v = json_object_get(claims, claim);
    if (json_is_string(v))
        return sel_has(s, json_string_value(v));
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)v, i, e)
    {
        if (json_is_string(e) && sel_has(s, json_string_value(e)))
            return true;
    }
    return false;
}

static bool elevated(const struct gw_ruleset *rs, const struct gw_principal *p, int64_t now)
{
    if (p->auth_time && rs->el_max_age && now - p->auth_time <= rs->el_max_age &&
        now >= p->auth_time - 60)
        return true;
    for (size_t i = 0; i < rs->el_scopes.n; i++)
        if (gw_principal_has_scope(p, rs->el_scopes.v[i]))
            return true;
    for (size_t i = 0; i < rs->el_groups.n; i++)
        if (gw_principal_has_role(p, rs->el_groups.v[i]))
            return true;
    return (rs->el_acr.n && in_claim(p->claims, "acr", &rs->el_acr)) ||
           (rs->el_amr.n && in_claim(p->claims, "amr", &rs->el_amr));
}

static void add_hit(struct gw_authz_result *out, const struct rule *r, const char *section)
{
    if (out->nhits < GW_RULE_HITS_MAX)
        hit(&out->hits[out->nhits++], r, section);
}

/* The documents conditions see are built member by member: json_pack parses its format string
 * on every call, and these are built on every call a condition applies to. */
static json_t *tool_json(const struct gw_rule_tool *t)
{
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "name", json_string(t->name ? t->name : ""));
    json_object_set_new_nocheck(o, "risk", json_string(gw_risk_name(t->risk)));
    json_object_set_new_nocheck(o, "bundle", t->bundle ? json_string(t->bundle) : json_null());
    json_t *tags = t->tags ? json_incref((json_t *)t->tags) : json_array();
    for (size_t i = 0; !t->tags && i < t->ntags; i++)
        json_array_append_new(tags, json_string(t->tag_list[i]));
    json_object_set_new_nocheck(o, "tags", tags);
    return o;
}

static json_t *condition_data(const struct gw_principal *p, const struct gw_rule_tool *t,
                              const json_t *args, const json_t *context)
{
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "principal",
                                json_incref((json_t *)gw_principal_json_with_claims(p)));
    json_object_set_new_nocheck(o, "tool", tool_json(t));
    json_object_set_new_nocheck(o, "args", json_incref((json_t *)args));
    json_object_set_new_nocheck(o, "context",
                                context ? json_incref((json_t *)context) : json_object());
    return o;
}

void gw_ruleset_authorize(const struct gw_ruleset *rs, const struct gw_principal *p,
                          const struct gw_rule_tool *t, const json_t *args,
                          const json_t *context, struct gw_authz_result *out)
{
    gw_ruleset_authorize_ex(rs, p, t, args, context, 0, out);
}

void gw_ruleset_authorize_ex(const struct gw_ruleset *rs, const struct gw_principal *p,
                             const struct gw_rule_tool *t, const json_t *args,
                             const json_t *context, unsigned flags, struct gw_authz_result *out)
{
    memset(out, 0, sizeof(*out));
    out->verdict = GW_AUTHZ_ALLOW;
    if (!rs)
        goto confirm_flag;
    json_t *nowv = json_object_get(context, "now");
    int64_t now = json_is_integer(nowv) ? json_integer_value(nowv) : 0;

    /* 1. risk */
    if (rs->nroles) {
        const char *role = NULL;
        int max = max_risk_of(rs, p, &role);
        if (t->risk > max) {
            out->verdict = GW_AUTHZ_DENY;
            out->stage = GW_AUTHZ_STAGE_RISK;
            snprintf(out->rule_id, sizeof(out->rule_id), "roles");
            if (role)
                snprintf(out->reason, sizeof(out->reason),
                         "%s is a %s tool; your highest role '%s' may execute %s tools only",
                         t->name, gw_risk_name(t->risk), role, gw_risk_name(max));
            else
                snprintf(out->reason, sizeof(out->reason),
                         "%s is a %s tool and none of your roles may execute tools", t->name,
                         gw_risk_name(t->risk));
            snprintf(out->hint, sizeof(out->hint),
                     "a role whose max_risk is %s or higher (ask an administrator)",
                     gw_risk_name(t->risk));
            struct gw_rule_hit *h = out->nhits < GW_RULE_HITS_MAX ? &out->hits[out->nhits++] : NULL;
            if (h) {
                snprintf(h->id, sizeof(h->id), "roles");
                h->section = "roles";
                h->effect = "deny";
            }
            return;
        }
    }
    /* 2. elevation */
    if (t->requires_elevation && !elevated(rs, p, now)) {
        out->verdict = GW_AUTHZ_DENY;
        out->stage = GW_AUTHZ_STAGE_ELEVATION;
        snprintf(out->rule_id, sizeof(out->rule_id), "elevation");
        snprintf(out->reason, sizeof(out->reason),
                 "%s is a privileged tool: it needs an elevated session", t->name);
        if (rs->el_scopes.n)
            gw_strlcpy(out->step_up_scope, sizeof(out->step_up_scope), rs->el_scopes.v[0]);
        snprintf(out->hint, sizeof(out->hint),
                 "authenticate again (within %lld s)%s%s%s", (long long)rs->el_max_age,
                 rs->el_scopes.n ? ", or obtain the scope " : "",
                 rs->el_scopes.n ? rs->el_scopes.v[0] : "",
                 rs->el_groups.n ? ", or activate an elevation group" : "");
        struct gw_rule_hit *h = out->nhits < GW_RULE_HITS_MAX ? &out->hits[out->nhits++] : NULL;
        if (h) {
            snprintf(h->id, sizeof(h->id), "elevation");
            h->section = "elevation";
            h->effect = "deny";
        }
        return;
    }
    /* 3. policies (skipped when OPA decides them: GW_POLICY_ENGINE=opa) */
    if (flags & GW_AUTHZ_NO_POLICIES)
        goto confirm_flag;
    json_t *data = NULL;
    const struct rule *allow = NULL, *confirm = NULL;
    for (size_t i = 0; i < rs->npolicies; i++) {
        const struct rule *r = &rs->policies[i];
        if (!principal_matches(r, p) || !tool_matches(r, t))
            continue;
        bool matched = true, failed = false;
        if (r->when && !args) {
            out->conditional = true;
            add_hit(out, r, "policies");
            continue;
        }
        if (r->when) {
            if (!data) /* args is set here (conditions without arguments continued above) */
                data = condition_data(p, t, args, context);
            json_t *res = NULL;
            struct gw_error lerr = {0};
            if (gw_logic_eval(r->when, data, &res, &lerr) != GW_OK) {
                failed = true;
                matched = r->effect == EFFECT_DENY; /* fail closed */
            } else {
                matched = gw_logic_truthy(res);
            }
            json_decref(res);
        }
        if (!matched)
            continue;
        add_hit(out, r, "policies");
        if (r->dry_run)
            continue;
        if (r->effect == EFFECT_DENY) {
            out->verdict = GW_AUTHZ_DENY;
            out->stage = GW_AUTHZ_STAGE_POLICY;
            gw_strlcpy(out->rule_id, sizeof(out->rule_id), r->id);
            if (r->reason)
                expand(r->reason, data, out->reason, sizeof(out->reason));
            else
                snprintf(out->reason, sizeof(out->reason), "denied by policy %s", r->id);
            if (failed)
                snprintf(out->reason + strlen(out->reason),
                         sizeof(out->reason) - strlen(out->reason),
                         " (its condition could not be evaluated)");
            if (r->hint)
                expand(r->hint, data, out->hint, sizeof(out->hint));
            json_decref(data);
            return;
        }
        if (r->effect == EFFECT_ALLOW && !allow)
            allow = r;
        if (r->effect == EFFECT_CONFIRM && !confirm)
            confirm = r;
    }
    if (rs->any_allow_policy && !allow) {
        out->verdict = GW_AUTHZ_DENY;
        out->stage = GW_AUTHZ_STAGE_POLICY;
        snprintf(out->rule_id, sizeof(out->rule_id), "default-deny");
        snprintf(out->reason, sizeof(out->reason),
                 "no policy allows %s for you with these arguments", t->name);
        snprintf(out->hint, sizeof(out->hint),
                 "check the arguments against your permissions, or ask an administrator for a "
                 "policy that allows this call");
        json_decref(data);
        return;
    }
    if (allow)
        gw_strlcpy(out->rule_id, sizeof(out->rule_id), allow->id);
    if (confirm) {
        out->verdict = GW_AUTHZ_CONFIRM;
        gw_strlcpy(out->rule_id, sizeof(out->rule_id), confirm->id);
        if (confirm->reason)
            expand(confirm->reason, data, out->reason, sizeof(out->reason));
    }
    json_decref(data);
confirm_flag:
    if (out->verdict == GW_AUTHZ_ALLOW && t->requires_confirmation) {
        out->verdict = GW_AUTHZ_CONFIRM;
        out->confirm_from_tool = true;
    }
    if (out->verdict == GW_AUTHZ_CONFIRM && !out->reason[0])
        snprintf(out->reason, sizeof(out->reason), "%s changes data: the user must confirm it",
                 t->name);
}
