/*
 * src/ctx/ctx_principal.h
 * Who is calling: the authenticated identity that every governance phase reads.
 *
 * A principal is built once by an authenticator (OIDC token, API key, the stdio transport's
 * configured local identity) from a `struct gw_principal_init`, then never changes: it is
 * shared read-only by request contexts, the verified-token cache and other threads, and freed
 * when its last reference goes (atomic reference count).
 * Members are read-only after gw_principal_new; every string is non-NULL ("" when absent).
 * `binding` identifies the principal compactly and stably (method, issuer, subject, client, key
 * id): sessions are bound to it so that a session id is useless to anyone else.
 * Not here: how claims map to roles (src/auth/), what roles may do (governance).
 */
#ifndef GW_CTX_PRINCIPAL_H
#define GW_CTX_PRINCIPAL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_PRINCIPAL_MAX_ROLES 64   /* roles/groups kept per principal */
#define GW_PRINCIPAL_MAX_SCOPES 64  /* OAuth scopes kept per principal */
#define GW_PRINCIPAL_STR_MAX 256    /* longest subject/issuer/client/tenant/role accepted */

enum gw_auth_method {
    GW_AUTH_ANONYMOUS = 0, /* no credential (authentication optional or off) */
    GW_AUTH_OIDC,          /* a verified OIDC/OAuth access token (JWT) */
    GW_AUTH_API_KEY,       /* a gateway API key */
    GW_AUTH_LOCAL,         /* the stdio transport's configured local principal */
    GW_AUTH_DEV            /* loopback development mode of the admin API */
};

struct gw_principal_init {
    enum gw_auth_method method;
    const char *subject, *issuer, *client_id, *tenant, *key_id, *name;
    const char *const *roles;
    size_t nroles;
    const char *const *scopes;
    size_t nscopes;
    const json_t *claims; /* borrowed; a deep copy is kept (NULL = {}) */
    int64_t expires_at;   /* unix seconds; 0 = none */
    int64_t auth_time;    /* unix seconds of the user's authentication; 0 = unknown */
};

struct gw_principal {
    enum gw_auth_method method;
    const char *subject;   /* "sub" of a token, the subject of an API key */
    const char *issuer;    /* token issuer; "" otherwise */
    const char *client_id; /* OAuth client (azp/client_id) or the API key's client */
    const char *tenant;
    const char *key_id;    /* API key id; "" otherwise */
    const char *name;      /* display name when known; "" otherwise */
    const char *const *roles;
    size_t nroles;
    const char *const *scopes;
    size_t nscopes;
    const json_t *claims; /* the verified claims (an object) */
    int64_t expires_at;
    int64_t auth_time;
    char binding[33]; /* 32 hex chars of SHA-256(method, issuer, subject, client_id, key_id) */
    atomic_int _refs; /* private */
    _Atomic(json_t *) _json; /* private: gw_principal_json_with_claims, made on first use */
};

/* Builds a principal (one reference) from `in` (everything copied). Strings longer than
 * GW_PRINCIPAL_STR_MAX and lists longer than their maximum are refused: NULL. Never NULL on
 * valid input (aborts on OOM). Does not block. */
struct gw_principal *gw_principal_new(const struct gw_principal_init *in);
/* The shared anonymous principal (a reference; unref it like any other). */
struct gw_principal *gw_principal_anonymous(void);
/* The same object, borrowed (valid for the life of the process). */
const struct gw_principal *gw_principal_nobody(void);
struct gw_principal *gw_principal_ref(struct gw_principal *p);
/* Drops a reference; frees at zero. Accepts NULL. Any thread. */
void gw_principal_unref(struct gw_principal *p);

bool gw_principal_has_role(const struct gw_principal *p, const char *role);
bool gw_principal_has_scope(const struct gw_principal *p, const char *scope);
const char *gw_auth_method_name(enum gw_auth_method m);
/* {"subject","issuer","client_id","tenant","method","roles":[...],"scopes":[...], ...}: what a
 * principal looks like to whoami, audit and the policy tester. New reference. */
json_t *gw_principal_json(const struct gw_principal *p);
/* gw_principal_json(p) plus "claims": the principal as policy conditions see it. Made on first
 * use and kept with the principal, so that a caller's repeated calls (one principal from the
 * verified-token cache or the API key table) do not rebuild it: immutable and shared by every
 * thread, so callers must never modify it (json_incref to keep it beyond p). Any thread. */
const json_t *gw_principal_json_with_claims(const struct gw_principal *p);

#endif
