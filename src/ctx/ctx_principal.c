/*
 * src/ctx/ctx_principal.c
 * Principals: one allocation per principal holding every string (copied), the role and scope
 * tables and a deep copy of the claims; an atomic reference count shares it across threads.
 */
#include "ctx/ctx_principal.h"

#include "core/alloc.h"
#include "core/digest.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

static bool too_long(const char *s)
{
    return s && strnlen(s, GW_PRINCIPAL_STR_MAX + 1) > GW_PRINCIPAL_STR_MAX;
}

/* Bytes one string needs in the block ("" for NULL). */
static size_t sz(const char *s)
{
    return (s ? strlen(s) : 0) + 1;
}

static const char *put(char **cur, const char *s)
{
    size_t n = sz(s);
    char *out = *cur;
    memcpy(out, s ? s : "", n - 1);
    out[n - 1] = '\0';
    *cur += n;
    return out;
}

static void make_binding(struct gw_principal *p)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned char method = (unsigned char)p->method;
    EVP_DigestInit_ex(m, gw_sha256_md(), NULL);
    EVP_DigestUpdate(m, &method, 1);
    const char *parts[] = {p->issuer, p->subject, p->client_id, p->key_id};
    for (size_t i = 0; i < 4; i++)
        EVP_DigestUpdate(m, parts[i], strlen(parts[i]) + 1); /* NUL separates the fields */
    EVP_DigestFinal_ex(m, md, &mdlen);
    EVP_MD_CTX_free(m);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        p->binding[2 * i] = hex[md[i] >> 4];
        p->binding[2 * i + 1] = hex[md[i] & 15];
    }
    p->binding[32] = '\0';
}

struct gw_principal *gw_principal_new(const struct gw_principal_init *in)
{
    const char *strs[] = {in->subject, in->issuer, in->client_id, in->tenant, in->key_id,
                          in->name};
    if (in->nroles > GW_PRINCIPAL_MAX_ROLES || in->nscopes > GW_PRINCIPAL_MAX_SCOPES)
        return NULL;
    size_t bytes = 0;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (too_long(strs[i]))
            return NULL;
        bytes += sz(strs[i]);
    }
    for (size_t i = 0; i < in->nroles; i++) {
        if (too_long(in->roles[i]))
            return NULL;
        bytes += sz(in->roles[i]);
    }
    for (size_t i = 0; i < in->nscopes; i++) {
        if (too_long(in->scopes[i]))
            return NULL;
        bytes += sz(in->scopes[i]);
    }
    size_t tables = (in->nroles + in->nscopes + 2) * sizeof(char *);
    struct gw_principal *p = gw_xcalloc(1, sizeof(*p) + tables + bytes);
    const char **roles = (const char **)(p + 1);
    const char **scopes = roles + in->nroles + 1;
    char *cur = (char *)(scopes + in->nscopes + 1);
    p->method = in->method;
    p->subject = put(&cur, in->subject);
    p->issuer = put(&cur, in->issuer);
    p->client_id = put(&cur, in->client_id);
    p->tenant = put(&cur, in->tenant);
    p->key_id = put(&cur, in->key_id);
    p->name = put(&cur, in->name);
    for (size_t i = 0; i < in->nroles; i++)
        roles[i] = put(&cur, in->roles[i]);
    for (size_t i = 0; i < in->nscopes; i++)
        scopes[i] = put(&cur, in->scopes[i]);
    p->roles = roles;
    p->nroles = in->nroles;
    p->scopes = scopes;
    p->nscopes = in->nscopes;
    p->claims = in->claims ? json_deep_copy(in->claims) : json_object();
    if (!p->claims)
        p->claims = json_object();
    p->expires_at = in->expires_at;
    p->auth_time = in->auth_time;
    make_binding(p);
    atomic_init(&p->_refs, 1);
    atomic_init(&p->_json, NULL);
    return p;
}

static struct gw_principal *anon;
static pthread_once_t anon_once = PTHREAD_ONCE_INIT;

static void make_anonymous(void)
{
    struct gw_principal_init in = {.method = GW_AUTH_ANONYMOUS, .subject = "anonymous"};
    anon = gw_principal_new(&in); /* its own reference is never dropped */
}

struct gw_principal *gw_principal_anonymous(void)
{
    pthread_once(&anon_once, make_anonymous);
    return gw_principal_ref(anon);
}

const struct gw_principal *gw_principal_nobody(void)
{
    pthread_once(&anon_once, make_anonymous);
    return anon;
}

struct gw_principal *gw_principal_ref(struct gw_principal *p)
{
    if (p)
        atomic_fetch_add(&p->_refs, 1);
    return p;
}

void gw_principal_unref(struct gw_principal *p)
{
    if (!p || atomic_fetch_sub(&p->_refs, 1) != 1)
        return;
    json_decref((json_t *)p->claims);
    json_decref(atomic_load(&p->_json));
    gw_free(p);
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

bool gw_principal_has_role(const struct gw_principal *p, const char *role)
{
    return p && in_list(p->roles, p->nroles, role);
}

bool gw_principal_has_scope(const struct gw_principal *p, const char *scope)
{
    return p && in_list(p->scopes, p->nscopes, scope);
}

const char *gw_auth_method_name(enum gw_auth_method m)
{
    switch (m) {
    case GW_AUTH_OIDC: return "oidc";
    case GW_AUTH_API_KEY: return "api_key";
    case GW_AUTH_LOCAL: return "local";
    case GW_AUTH_DEV: return "dev";
    case GW_AUTH_ANONYMOUS: break;
    }
    return "none";
}

static json_t *str_array(const char *const *list, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(list[i]));
    return a;
}

json_t *gw_principal_json(const struct gw_principal *p)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "subject", p->subject, "issuer",
                          p->issuer, "client_id", p->client_id, "tenant", p->tenant, "method",
                          gw_auth_method_name(p->method), "roles", str_array(p->roles, p->nroles),
                          "scopes", str_array(p->scopes, p->nscopes));
    if (p->key_id[0])
        json_object_set_new(o, "key_id", json_string(p->key_id));
    if (p->name[0])
        json_object_set_new(o, "name", json_string(p->name));
    if (p->expires_at)
        json_object_set_new(o, "expires_at", json_integer(p->expires_at));
    if (p->auth_time)
        json_object_set_new(o, "auth_time", json_integer(p->auth_time));
    return o;
}

const json_t *gw_principal_json_with_claims(const struct gw_principal *p)
{
    /* the memo is the one mutable member of a principal: set once, by whichever thread gets
     * there first (a loser frees its copy); the cast removes const for that member only */
    _Atomic(json_t *) *memo = &((struct gw_principal *)p)->_json;
    json_t *j = atomic_load_explicit(memo, memory_order_acquire);
    if (j)
        return j;
    json_t *made = gw_principal_json(p);
    json_object_set(made, "claims", (json_t *)p->claims);
    json_t *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(memo, &expected, made, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        json_decref(made);
        return expected;
    }
    return made;
}
