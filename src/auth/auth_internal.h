/*
 * src/auth/auth_internal.h
 * Shared between the files of src/auth only: the authenticator object and its parts.
 *
 *   auth.c          the authenticator (modes, transports, Bearer parsing, challenges), the
 *                   RFC 9728 metadata route, public configuration, statistics
 *   auth_settings.c the settings table and the configuration built from it
 *   auth_jwt.c      key sets and token verification (pure; auth_jwt.h)
 *   auth_claims.c   claims -> principal mapping
 *   auth_cache.c    the verified-token cache
 *   auth_keys.c     the background thread: provider discovery and key sets, waiters, API key
 *                   reloads and last-used writes
 *   auth_apikey.c   API keys: generation, the in-memory table, verification
 */
#ifndef GW_AUTH_INTERNAL_H
#define GW_AUTH_INTERNAL_H

#include "auth/auth.h"
#include "auth/auth_jwt.h"

#include <pthread.h>
#include <stdatomic.h>

#define AUTH_LIST_MAX 16 /* entries of a configured list (audiences, claim paths, scopes) */

struct auth_list {
    char *items[AUTH_LIST_MAX];
    size_t n;
};

struct auth_config {
    enum gw_auth_mode mode;
    char public_url[512];
    char resource[600];     /* public_url + "/mcp" */
    char metadata_url[700]; /* public_url + "/.well-known/oauth-protected-resource/mcp" */
    char issuer[512];       /* "" = no OIDC provider */
    char jwks_uri[1024];    /* configured; "" = from discovery */
    struct auth_list audiences;
    unsigned algs;
    int64_t skew_s;
    size_t max_token_bytes;
    struct auth_list roles_claims, client_claims, tenant_claims;
    struct auth_list scopes;          /* advertised and asked for in challenges */
    struct auth_list required_scopes; /* every token must carry these */
    int jwks_refresh_s, jwks_min_refetch_s, fetch_timeout_ms;
    bool allow_http;
    size_t cache_entries;
    char admin_role[128];
    bool admin_dev;
    char admin_client_id[256];
    char resource_name[128];
};

/* Reads the settings into cfg (lists are heap strings: auth_config_fini). GW_OK or
 * GW_EINVAL with err. */
int gw_auth__config(const struct gw_settings *s, const char *public_url, struct auth_config *cfg,
                    struct gw_error *err);
void gw_auth__config_fini(struct auth_config *cfg);
/* Splits "a, b c" at commas and/or spaces into `l` (copies). GW_ELIMIT past AUTH_LIST_MAX. */
int gw_auth__list(const char *text, struct auth_list *l, struct gw_error *err);
void gw_auth__list_fini(struct auth_list *l);

/* ---- claims (auth_claims.c) ---- */

/* Builds the principal of verified `claims`: subject (sub), client (first of client_claims),
 * tenant (first of tenant_claims), roles (union of the values at roles_claims paths, dotted,
 * e.g. realm_access.roles; arrays of strings or space/comma separated strings), scopes
 * ("scope" string or "scp"), name, auth_time, exp. NULL with `why` when the claims cannot be
 * represented (too many roles, over-long values): the token is refused, never truncated. */
struct gw_principal *gw_auth__principal_from_claims(const struct auth_config *cfg,
                                                   const json_t *claims, char why[200]);

/* ---- verified-token cache (auth_cache.c) ---- */

struct auth_cache;
struct auth_cache *gw_auth__cache_new(size_t entries);
void gw_auth__cache_free(struct auth_cache *c);
/* A cached principal for the token digest, valid at `now` under key-set `generation`: a new
 * reference, or NULL. Thread-safe. */
struct gw_principal *gw_auth__cache_get(struct auth_cache *c, const unsigned char digest[32],
                                        int64_t now, unsigned generation);
/* Remembers `p` (a reference is taken) until `expires_at`. Thread-safe. */
void gw_auth__cache_put(struct auth_cache *c, const unsigned char digest[32],
                        struct gw_principal *p, int64_t expires_at, unsigned generation);

/* ---- API keys (auth_apikey.c) ---- */

struct apikey_table;
/* Builds a table from store rows (gw_store_apikey_list with hashes). Bad rows are skipped
 * with a log line. Never NULL. */
struct apikey_table *gw_auth__apikeys_build(const json_t *rows);
void gw_auth__apikeys_unref(struct apikey_table *t);
struct apikey_table *gw_auth__apikeys_ref(struct apikey_table *t);
size_t gw_auth__apikeys_count(const struct apikey_table *t);
/* Checks a presented key: GW_OK with *out (new principal reference) and the key's use time
 * recorded, or GW_EDENIED with `why`. Constant-time hash comparison. */
int gw_auth__apikey_check(struct apikey_table *t, const char *key, int64_t now,
                          struct gw_principal **out, char why[200]);
/* Writes last-used times that changed since the previous call (store handle of the calling
 * thread). */
void gw_auth__apikeys_flush(struct apikey_table *t, struct gw_store *st);

/* ---- the authenticator ---- */

struct auth_waiter;

struct gw_auth {
    struct auth_config cfg;
    char *store_url;
    struct auth_cache *cache;
    struct gw_principal *stdio_principal;
    struct gw_principal *dev_principal;

    pthread_mutex_t lock; /* guards everything below up to the thread fields */
    struct gw_jwks *keys;
    unsigned generation;   /* bumped when a new key set arrives */
    int64_t keys_at;       /* when the current key set arrived */
    int64_t last_fetch;    /* when the last fetch started */
    bool fetching, want_fetch, want_reload;
    uint64_t reload_asked, reload_done; /* reload requests, and the last one served */
    struct auth_waiter *waiters;
    size_t nwaiters;
    char discovered_jwks_uri[1024];
    struct apikey_table *apikeys;

    pthread_cond_t cond;
    pthread_cond_t reloaded; /* broadcast after each API-key reload (gw_auth_reload_wait) */
    pthread_t thread;
    bool thread_started, stop;
    struct gw_store *store; /* the thread's handle (opened lazily) */

    atomic_ullong accepted, refused, cache_hits, cache_misses, jwks_fetches, jwks_failures,
        jwks_waits, apikey_accepted, apikey_refused;
};

/* Starts / stops the background thread (auth_keys.c). */
int gw_auth__thread_start(struct gw_auth *a, struct gw_error *err);
void gw_auth__thread_stop(struct gw_auth *a);
/* The current key set (a reference; NULL when none yet) and its generation. */
struct gw_jwks *gw_auth__keys(struct gw_auth *a, unsigned *generation);
/* Asks for the key set to be (re)fetched and for `c` to be resumed on its loop when that is
 * done: resume(c, arg) then runs there. GW_AGAIN when queued (or joined to the fetch under
 * way), GW_ELIMIT when too many wait or the last fetch started less than jwks_min_refetch_s ago
 * (`refetch` true: an unknown key id; false: no keys at all). */
typedef void (*auth_resume_fn)(struct gw_auth *a, struct gw_ctx *c, void *arg);
/* `arg` is heap memory (gw_xmalloc); it is freed with the waiter if the request is dropped at
 * shutdown (its loop gone), when fn never runs. */
int gw_auth__wait_for_keys(struct gw_auth *a, struct gw_ctx *c, bool refetch, auth_resume_fn fn,
                           void *arg);
/* Loads the API key table from the store now (blocking; start-up and the thread). */
int gw_auth__load_apikeys(struct gw_auth *a, struct gw_store *st, struct gw_error *err);

/* Seconds since the epoch (real clock; unit tests call the pure verify functions with their
 * own time instead). */
int64_t gw_auth__now(void);

#endif
