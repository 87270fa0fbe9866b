/*
 * src/auth/auth.c
 * The authenticator (see auth.h): decides, per request context, who is calling.
 *
 *   transport stdio           -> the configured local principal
 *   admin, no credential      -> the dev administrator if GW_ADMIN_DEV_MODE and both ends are
 *                                loopback, else 401 (the admin API always requires a credential)
 *   mode off (data plane)     -> anonymous (credentials are not looked at)
 *   no credential             -> anonymous (optional) or 401 with a challenge (required)
 *   "Bearer mcpgw_..."        -> API key table
 *   "Bearer <JWT>"            -> verified-token cache, else key set + verification (waiting for
 *                                keys on the background thread when needed) -> claims mapping ->
 *                                required scopes (403 insufficient_scope) -> cache
 *   anything else             -> 401 invalid_request
 * A refusal fills the context's auth failure with the status, the RFC 6750 error, a precise
 * description and the complete WWW-Authenticate challenge (RFC 9728 resource_metadata, scope).
 * Never blocks; never logs a credential.
 */
#include "auth/auth_internal.h"

#include "core/alloc.h"
#include "core/digest.h"
#include "core/log.h"
#include "net/net_http.h"
#include "net/net_server.h"
#include "store/store.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- challenges */

/* Copies a description into a quoted-string value: no quotes, backslashes or controls. */
static void quoted(char *out, size_t size, const char *s)
{
    size_t n = 0;
    for (; s && *s && n + 1 < size; s++)
        out[n++] = (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20) ? '\'' : *s;
    out[n] = '\0';
}

static void scopes_text(const struct auth_list *l, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < l->n; i++)
        n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", i ? " " : "",
                              l->items[i]);
}

/* Fills f: status, error (may be ""), description, and the challenge. */
static void fail(struct gw_auth *a, struct gw_ctx *c, int status, const char *error,
                 const char *description)
{
    struct gw_auth_failure f;
    memset(&f, 0, sizeof(f));
    f.status = status;
    snprintf(f.error, sizeof(f.error), "%s", error);
    snprintf(f.description, sizeof(f.description), "%s", description);
    if (status == 401 || status == 403) {
        char scope[512], desc[260];
        const struct auth_list *sl =
            status == 403 && a->cfg.required_scopes.n ? &a->cfg.required_scopes : &a->cfg.scopes;
        scopes_text(sl, scope, sizeof(scope));
        quoted(desc, sizeof(desc), description);
        size_t n = (size_t)snprintf(f.challenge, sizeof(f.challenge), "Bearer realm=\"mcp\"");
        if (error[0])
            n += (size_t)snprintf(f.challenge + n, sizeof(f.challenge) - n,
                                  ", error=\"%s\", error_description=\"%s\"", error, desc);
        n += (size_t)snprintf(f.challenge + n, sizeof(f.challenge) - n,
                              ", resource_metadata=\"%s\"", a->cfg.metadata_url);
        if (scope[0])
            snprintf(f.challenge + n, sizeof(f.challenge) - n, ", scope=\"%s\"", scope);
    }
    gw_ctx_set_auth_failure(c, &f);
    atomic_fetch_add(&a->refused, 1);
}

static void accept_principal(struct gw_auth *a, struct gw_ctx *c, struct gw_principal *p)
{
    gw_ctx_set_principal(c, p);
    atomic_fetch_add(&a->accepted, 1);
}

void gw_auth_step_up(void *auth, const char *scope, const char *description, char *out,
                     size_t size)
{
    struct gw_auth *a = auth;
    char desc[260];
    quoted(desc, sizeof(desc), description);
    snprintf(out, size,
             "Bearer realm=\"mcp\", error=\"insufficient_scope\", error_description=\"%s\", "
             "scope=\"%s\", resource_metadata=\"%s\"",
             desc, scope, a->cfg.metadata_url);
}

/* ---------------------------------------------------------------- tokens */

struct jwt_job {
    gw_authn_done_fn done;
    void *arg;
    bool refetched;
};

static int verify_jwt(struct gw_auth *a, struct gw_ctx *c, const char *token,
                      struct jwt_job *job);

/* Back on the request's loop after the background thread fetched (or failed to fetch). */
static void keys_arrived(struct gw_auth *a, struct gw_ctx *c, void *arg)
{
    struct jwt_job *job = arg;
    const char *token = gw_ctx_credential(c) + 7; /* "Bearer " was checked before waiting */
    while (*token == ' ')
        token++;
    if (verify_jwt(a, c, token, job) == GW_AGAIN)
        return; /* cannot happen: a second wait is never started (refetched is set) */
    gw_authn_done_fn done = job->done;
    void *darg = job->arg;
    gw_free(job);
    done(c, darg);
}

static bool has_required_scopes(const struct gw_auth *a, const struct gw_principal *p)
{
    for (size_t i = 0; i < a->cfg.required_scopes.n; i++)
        if (!gw_principal_has_scope(p, a->cfg.required_scopes.items[i]))
            return false;
    return true;
}

/* GW_OK (decided) or GW_AGAIN (job queued: keys_arrived continues). */
static int verify_jwt(struct gw_auth *a, struct gw_ctx *c, const char *token,
                      struct jwt_job *job)
{
    size_t len = strlen(token);
    int64_t now = gw_auth__now();
    unsigned char digest[32];
    gw_sha256(token, len, digest);
    unsigned gen = 0;
    struct gw_jwks *keys = gw_auth__keys(a, &gen);
    struct gw_principal *p = gw_auth__cache_get(a->cache, digest, now, gen);
    if (p) {
        atomic_fetch_add(&a->cache_hits, 1);
        gw_jwks_unref(keys);
        accept_principal(a, c, p);
        return GW_OK;
    }
    atomic_fetch_add(&a->cache_misses, 1);
    if (!keys) {
        if (!job->refetched) {
            job->refetched = true;
            if (gw_auth__wait_for_keys(a, c, false, keys_arrived, job) == GW_AGAIN)
                return GW_AGAIN;
        }
        fail(a, c, 503, "temporarily_unavailable",
             "the identity provider's signing keys are not available; try again shortly");
        return GW_OK;
    }
    const char *auds[AUTH_LIST_MAX];
    for (size_t i = 0; i < a->cfg.audiences.n; i++)
        auds[i] = a->cfg.audiences.items[i];
    struct gw_jwt_expect x = {a->cfg.issuer,  auds,     a->cfg.audiences.n, a->cfg.algs, now,
                              a->cfg.skew_s, a->cfg.max_token_bytes};
    json_t *claims = NULL;
    struct gw_jwt_failure why;
    int rc = gw_jwt_verify(token, len, keys, &x, &claims, NULL, &why);
    gw_jwks_unref(keys);
    if (rc != GW_OK) {
        if (why.unknown_kid && !job->refetched) {
            job->refetched = true;
            if (gw_auth__wait_for_keys(a, c, true, keys_arrived, job) == GW_AGAIN)
                return GW_AGAIN;
        }
        fail(a, c, 401, "invalid_token", why.reason);
        return GW_OK;
    }
    char reason[200];
    p = gw_auth__principal_from_claims(&a->cfg, claims, reason);
    json_decref(claims);
    if (!p) {
        fail(a, c, 401, "invalid_token", reason);
        return GW_OK;
    }
    if (!has_required_scopes(a, p)) {
        gw_principal_unref(p);
        fail(a, c, 403, "insufficient_scope",
             "the token lacks a scope this gateway requires; request the scopes named in the "
             "challenge");
        return GW_OK;
    }
    gw_auth__cache_put(a->cache, digest, p, p->expires_at, gen);
    accept_principal(a, c, p);
    return GW_OK;
}

static int check_apikey(struct gw_auth *a, struct gw_ctx *c, const char *key)
{
    pthread_mutex_lock(&a->lock);
    struct apikey_table *t = gw_auth__apikeys_ref(a->apikeys);
    pthread_mutex_unlock(&a->lock);
    struct gw_principal *p = NULL;
    char why[200];
    int rc = gw_auth__apikey_check(t, key, gw_auth__now(), &p, why);
    gw_auth__apikeys_unref(t);
    if (rc != GW_OK) {
        atomic_fetch_add(&a->apikey_refused, 1);
        fail(a, c, 401, "invalid_token", why);
        return GW_OK;
    }
    atomic_fetch_add(&a->apikey_accepted, 1);
    accept_principal(a, c, p);
    return GW_OK;
}

static bool loopback_peer(const char *peer)
{
    return strncmp(peer, "127.", 4) == 0 || strncmp(peer, "[::1]", 5) == 0 ||
           strncmp(peer, "::1", 3) == 0 || strncmp(peer, "::ffff:127.", 11) == 0 ||
           strncmp(peer, "[::ffff:127.", 12) == 0;
}

static int authenticate(void *self, struct gw_ctx *c, gw_authn_done_fn done, void *arg)
{
    struct gw_auth *a = self;
    enum gw_transport t = gw_ctx_transport(c);
    if (t == GW_TRANSPORT_STDIO) {
        accept_principal(a, c, gw_principal_ref(a->stdio_principal));
        return GW_OK;
    }
    const char *cred = gw_ctx_credential(c);
    enum gw_auth_mode mode = t == GW_TRANSPORT_ADMIN ? GW_AUTHMODE_REQUIRED : a->cfg.mode;
    if (t == GW_TRANSPORT_ADMIN && !cred && a->dev_principal && loopback_peer(gw_ctx_peer(c))) {
        accept_principal(a, c, gw_principal_ref(a->dev_principal));
        return GW_OK;
    }
    if (mode == GW_AUTHMODE_OFF) {
        accept_principal(a, c, gw_principal_anonymous());
        return GW_OK;
    }
    if (!cred || !*cred) {
        if (mode == GW_AUTHMODE_OPTIONAL) {
            accept_principal(a, c, gw_principal_anonymous());
            return GW_OK;
        }
        fail(a, c, 401, "", "authentication required: send an access token or API key as "
                            "'Authorization: Bearer <token>'");
        return GW_OK;
    }
    if (strncasecmp(cred, "Bearer ", 7) != 0) {
        fail(a, c, 401, "invalid_request",
             "unsupported authorization scheme: use 'Authorization: Bearer <token>'");
        return GW_OK;
    }
    const char *token = cred + 7;
    while (*token == ' ')
        token++;
    if (!*token || strchr(token, ' ')) {
        fail(a, c, 401, "invalid_request", "malformed Authorization header");
        return GW_OK;
    }
    if (strlen(token) > a->cfg.max_token_bytes) {
        fail(a, c, 401, "invalid_token", "the token is too long");
        return GW_OK;
    }
    if (strncmp(token, GW_APIKEY_PREFIX, sizeof(GW_APIKEY_PREFIX) - 1) == 0)
        return check_apikey(a, c, token);
    if (!a->cfg.issuer[0]) {
        fail(a, c, 401, "invalid_token",
             "this gateway accepts API keys only (no identity provider is configured)");
        return GW_OK;
    }
    struct jwt_job *job = gw_xcalloc(1, sizeof(*job));
    job->done = done;
    job->arg = arg;
    int rc = verify_jwt(a, c, token, job);
    if (rc != GW_AGAIN)
        gw_free(job);
    return rc;
}

static const struct gw_authn_ops authn_ops = {.authenticate = authenticate};

struct gw_authn gw_auth_authn(struct gw_auth *a)
{
    return (struct gw_authn){&authn_ops, a};
}

/* ---------------------------------------------------------------- metadata (RFC 9728) */

static json_t *str_list(const struct auth_list *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(arr, json_string(l->items[i]));
    return arr;
}

static void route_metadata(struct gw_http_req *r, void *arg)
{
    struct gw_auth *a = arg;
    if (gw_http_method(r) != GW_HTTP_GET && gw_http_method(r) != GW_HTTP_HEAD) {
        gw_http_add_header(r, "Allow", "GET, HEAD");
        gw_http_reply_error(r, 405, "method_not_allowed", "use GET");
        return;
    }
    const char *path = gw_http_path(r);
    if (strcmp(path, "/.well-known/oauth-protected-resource") != 0 &&
        strcmp(path, "/.well-known/oauth-protected-resource/mcp") != 0) {
        gw_http_reply_error(r, 404, "not_found", "no metadata for this resource");
        return;
    }
    json_t *doc = json_pack("{s:s,s:[s],s:o,s:s}", "resource", a->cfg.resource,
                            "bearer_methods_supported", "header", "scopes_supported",
                            str_list(&a->cfg.scopes), "resource_name", a->cfg.resource_name);
    if (a->cfg.issuer[0])
        json_object_set_new(doc, "authorization_servers", json_pack("[s]", a->cfg.issuer));
    gw_http_add_header(r, "Cache-Control", "public, max-age=300");
    gw_http_add_header(r, "Access-Control-Allow-Origin", "*");
    gw_http_reply_json(r, 200, doc);
    json_decref(doc);
}

void gw_auth_routes(struct gw_auth *a, struct gw_server *http)
{
    gw_server_route(http, "/.well-known/oauth-protected-resource", route_metadata, a);
    gw_server_route(http, "/.well-known/oauth-protected-resource/*", route_metadata, a);
}

/* ---------------------------------------------------------------- lifecycle */

static struct gw_principal *configured_principal(enum gw_auth_method m, const char *subject,
                                                 const char *roles_text, struct gw_error *err)
{
    struct auth_list roles = {0};
    if (gw_auth__list(roles_text, &roles, err) != GW_OK)
        return NULL;
    struct gw_principal_init in = {.method = m,
                                   .subject = subject,
                                   .roles = (const char *const *)roles.items,
                                   .nroles = roles.n};
    struct gw_principal *p = gw_principal_new(&in);
    gw_auth__list_fini(&roles);
    if (!p)
        GW_ERROR_SET(err, GW_EINVAL, "the configured principal '%.60s' is too long", subject);
    return p;
}

static int auth_new(const struct gw_settings *s, const char *public_url, const char *store_url,
                    bool lazy, struct gw_auth **out, struct gw_error *err)
{
    *out = NULL;
    struct gw_auth *a = gw_xcalloc(1, sizeof(*a));
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    pthread_cond_init(&a->reloaded, NULL);
    int rc = gw_auth__config(s, public_url, &a->cfg, err);
    if (rc != GW_OK) {
        gw_auth_free(a);
        return rc;
    }
    a->cache = gw_auth__cache_new(a->cfg.cache_entries);
    a->store_url = store_url ? gw_xstrdup(store_url) : NULL;
    a->stdio_principal = configured_principal(GW_AUTH_LOCAL, gw_settings_str(s, "GW_STDIO_SUBJECT"),
                                              gw_settings_str(s, "GW_STDIO_ROLES"), err);
    if (!a->stdio_principal) {
        gw_auth_free(a);
        return GW_EINVAL;
    }
    if (a->cfg.admin_dev) {
        a->dev_principal = configured_principal(GW_AUTH_DEV, "dev-admin", a->cfg.admin_role, err);
        if (!a->dev_principal) {
            gw_auth_free(a);
            return GW_EINVAL;
        }
    }
    if (a->store_url) {
        struct gw_store *st = NULL;
        rc = gw_store_open(a->store_url, NULL, &st, err);
        if (rc == GW_OK)
            rc = gw_auth__load_apikeys(a, st, err);
        gw_store_close(st);
        if (rc == GW_EIO && lazy) {
            /* database unreachable (a replica starting during an outage, when start-up does
             * not migrate): fail closed, every API key refused, until a reload succeeds; the
             * app asks for one when the registry loads its first snapshot */
            GW_LOG(GW_LOG_WARN, "auth", "API keys not loaded yet, refused until the database "
                                        "answers: %s", err->msg);
            a->want_reload = true;
            rc = GW_OK;
        }
        if (rc != GW_OK) {
            gw_auth_free(a);
            return rc;
        }
    }
    rc = gw_auth__thread_start(a, err);
    if (rc != GW_OK) {
        gw_auth_free(a);
        return rc;
    }
    *out = a;
    return GW_OK;
}

int gw_auth_new(const struct gw_settings *s, const char *public_url, const char *store_url,
                struct gw_auth **out, struct gw_error *err)
{
    return auth_new(s, public_url, store_url, false, out, err);
}

int gw_auth_new_lazy(const struct gw_settings *s, const char *public_url, const char *store_url,
                     struct gw_auth **out, struct gw_error *err)
{
    return auth_new(s, public_url, store_url, true, out, err);
}

void gw_auth_free(struct gw_auth *a)
{
    if (!a)
        return;
    gw_auth__thread_stop(a);
    gw_jwks_unref(a->keys);
    gw_auth__apikeys_unref(a->apikeys);
    gw_auth__cache_free(a->cache);
    gw_principal_unref(a->stdio_principal);
    gw_principal_unref(a->dev_principal);
    gw_auth__config_fini(&a->cfg);
    gw_free(a->store_url);
    pthread_cond_destroy(&a->cond);
    pthread_cond_destroy(&a->reloaded);
    pthread_mutex_destroy(&a->lock);
    gw_free(a);
}

enum gw_auth_mode gw_auth_mode(const struct gw_auth *a)
{
    return a->cfg.mode;
}

const char *gw_auth_admin_role(const struct gw_auth *a)
{
    return a->cfg.admin_role;
}

json_t *gw_auth_public_config(const struct gw_auth *a)
{
    static const char *const modes[] = {"required", "optional", "off"};
    json_t *oidc = json_null();
    if (a->cfg.issuer[0])
        oidc = json_pack("{s:s,s:s,s:o,s:s}", "issuer", a->cfg.issuer, "client_id",
                         a->cfg.admin_client_id, "scopes", str_list(&a->cfg.scopes), "resource",
                         a->cfg.resource);
    /* "mode" is the admin API's (what a console's sign-in page must do): a credential is
     * required unless loopback dev mode makes it optional; "mcp_mode" is the data plane's */
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:b}", "mode",
                     a->cfg.admin_dev ? "optional" : "required", "mcp_mode",
                     modes[a->cfg.mode], "resource", a->cfg.resource, "resource_metadata",
                     a->cfg.metadata_url, "oidc", oidc, "api_keys", 1, "dev_mode",
                     a->cfg.admin_dev);
}

void gw_auth_stats(const struct gw_auth *a, struct gw_auth_stats *out)
{
    struct gw_auth *m = (struct gw_auth *)a;
    memset(out, 0, sizeof(*out));
    out->accepted = atomic_load(&m->accepted);
    out->refused = atomic_load(&m->refused);
    out->cache_hits = atomic_load(&m->cache_hits);
    out->cache_misses = atomic_load(&m->cache_misses);
    out->jwks_fetches = atomic_load(&m->jwks_fetches);
    out->jwks_failures = atomic_load(&m->jwks_failures);
    out->jwks_waits = atomic_load(&m->jwks_waits);
    out->apikey_accepted = atomic_load(&m->apikey_accepted);
    out->apikey_refused = atomic_load(&m->apikey_refused);
    pthread_mutex_lock(&m->lock);
    out->jwks_age_s = m->keys ? gw_auth__now() - m->keys_at : -1;
    out->apikeys = gw_auth__apikeys_count(m->apikeys);
    pthread_mutex_unlock(&m->lock);
}
