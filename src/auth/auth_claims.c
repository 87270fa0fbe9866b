/*
 * src/auth/auth_claims.c
 * Verified claims -> principal. Role claims are read at configurable dotted paths (Keycloak's
 * realm_access.roles, Entra's roles/groups, plain "roles"); each value may be an array of
 * strings or one string of space/comma separated names. Scopes come from "scope" (RFC 8693
 * space-separated) or "scp" (array or string). Anything that does not fit the principal's
 * bounds refuses the token: silently dropping a role could drop one a deny rule looks for.
 */
#include "auth/auth_internal.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>

#define PATH_MAX_DEPTH 8

struct names {
    const char *v[GW_PRINCIPAL_MAX_ROLES + 1];
    char *own[GW_PRINCIPAL_MAX_ROLES + 1]; /* split copies, freed after use */
    size_t n, nown;
    bool overflow, bad;
};

static const json_t *at_path(const json_t *root, const char *path)
{
    char seg[128];
    const json_t *cur = root;
    const char *p = path;
    for (int depth = 0; cur && *p && depth < PATH_MAX_DEPTH; depth++) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n >= sizeof(seg))
            return NULL;
        memcpy(seg, p, n);
        seg[n] = '\0';
        cur = json_object_get(cur, seg);
        p += n;
        if (*p == '.')
            p++;
    }
    return *p ? NULL : cur;
}

static void add(struct names *ns, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (n > GW_PRINCIPAL_STR_MAX) {
        ns->bad = true;
        return;
    }
    for (size_t i = 0; i < ns->n; i++)
        if (strlen(ns->v[i]) == n && memcmp(ns->v[i], s, n) == 0)
            return; /* already there */
    if (ns->n >= GW_PRINCIPAL_MAX_ROLES) {
        ns->overflow = true;
        return;
    }
    char *copy = gw_xstrndup(s, n);
    ns->own[ns->nown++] = copy;
    ns->v[ns->n++] = copy;
}

/* Adds every name in a string ("a b,c") or array of strings. */
static void add_value(struct names *ns, const json_t *v)
{
    if (json_is_string(v)) {
        const char *p = json_string_value(v);
        while (*p) {
            p += strspn(p, " ,");
            size_t n = strcspn(p, " ,");
            add(ns, p, n);
            p += n;
        }
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)v, i, e)
    {
        if (json_is_string(e))
            add(ns, json_string_value(e), json_string_length(e));
    }
}

static void names_fini(struct names *ns)
{
    for (size_t i = 0; i < ns->nown; i++)
        gw_free(ns->own[i]);
}

static const char *first_string(const json_t *claims, const struct auth_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *s = json_string_value(at_path(claims, l->items[i]));
        if (s && *s)
            return s;
    }
    return "";
}

static int64_t int_claim(const json_t *claims, const char *name)
{
    json_t *v = json_object_get(claims, name);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v) && json_real_value(v) > 0 && json_real_value(v) < 1e15)
        return (int64_t)json_real_value(v);
    return 0;
}

struct gw_principal *gw_auth__principal_from_claims(const struct auth_config *cfg,
                                                   const json_t *claims, char why[200])
{
    struct names roles = {0}, scopes = {0};
    for (size_t i = 0; i < cfg->roles_claims.n; i++)
        add_value(&roles, at_path(claims, cfg->roles_claims.items[i]));
    add_value(&scopes, json_object_get(claims, "scope"));
    add_value(&scopes, json_object_get(claims, "scp"));
    struct gw_principal *p = NULL;
    if (roles.overflow || scopes.overflow) {
        snprintf(why, 200, "the token carries more than %d roles or scopes",
                 GW_PRINCIPAL_MAX_ROLES);
    } else if (roles.bad || scopes.bad) {
        snprintf(why, 200, "the token carries a role or scope longer than %d characters",
                 GW_PRINCIPAL_STR_MAX);
    } else {
        const char *name = json_string_value(json_object_get(claims, "name"));
        if (!name)
            name = json_string_value(json_object_get(claims, "preferred_username"));
        struct gw_principal_init in = {
            .method = GW_AUTH_OIDC,
            .subject = json_string_value(json_object_get(claims, "sub")),
            .issuer = json_string_value(json_object_get(claims, "iss")),
            .client_id = first_string(claims, &cfg->client_claims),
            .tenant = first_string(claims, &cfg->tenant_claims),
            .name = name,
            .roles = roles.v,
            .nroles = roles.n,
            .scopes = scopes.v,
            .nscopes = scopes.n,
            .claims = claims,
            .expires_at = int_claim(claims, "exp"),
            .auth_time = int_claim(claims, "auth_time")};
        p = gw_principal_new(&in);
        if (!p)
            snprintf(why, 200, "the token's subject, client or tenant is longer than %d "
                               "characters",
                     GW_PRINCIPAL_STR_MAX);
    }
    names_fini(&roles);
    names_fini(&scopes);
    return p;
}
