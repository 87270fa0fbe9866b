/*
 * src/admin/admin.h
 * The admin REST API of the registry: tools, bundles, specs and the OpenAPI import flow
 * (preview -> approve, re-import), served under /admin/api/ on an HTTP server of its own.
 *
 * Shape: the app creates a second gw_server (gw_admin_net_options: GW_ADMIN_LISTEN, one worker,
 * GW_ADMIN_MAX_BODY_BYTES) and attaches this module to it with gw_admin_attach. Every request
 * is validated on the HTTP loop (path, query, headers: cheap), then its store and import work
 * runs on a pool of GW_ADMIN_THREADS threads (gw_pool), each with its own lazily opened store
 * handle; the reply is sent from the loop. Nothing blocking ever runs on the loop.
 * Security: every request is authenticated (the gateway's authenticator: OIDC token or API key,
 * or no credential in loopback dev mode) and needs the admin role; GET /auth/config is public,
 * GET /whoami needs any principal. Refusals: 401 {"error":{"code":"unauthenticated"}} with
 * WWW-Authenticate, 403 {"error":{"code":"forbidden"}} naming the role needed. The listener is
 * also bound to loopback (gw_admin_net_options refuses another address, gw_admin_attach a
 * non-loopback server, and non-loopback peers get 403) unless GW_ADMIN_ALLOW_REMOTE.
 * Stateless: the import preview returns everything the approve step needs, so any replica can
 * serve any step. Endpoints and examples: docs/admin-api.md.
 */
#ifndef GW_ADMIN_ADMIN_H
#define GW_ADMIN_ADMIN_H

#include "core/err.h"
#include "core/settings.h"
#include "ctx/ctx.h"
#include "net/net_server.h"
#include "ssrf/ssrf.h"
#include "store/store.h"

struct gw_gov;
struct gw_registry;

#include <stdbool.h>
#include <stddef.h>

struct gw_admin;
struct gw_audit;

/* Called on an admin pool thread after every committed registry write made through the API
 * (tools, bundles, specs, imports), e.g. to reload the registry at once instead of waiting for
 * the watcher. It may block (it runs off the HTTP loop) but delays that request's reply. */
typedef void (*gw_admin_write_fn)(void *arg);
/* Returns a new JSON value (or NULL); called on an admin pool thread: thread-safe, quick. */
typedef json_t *(*gw_admin_json_fn)(void *arg);
/* The dashboard's summary of the last `window` seconds in intervals of `step` seconds (both
 * accepted by gw_metrics_series_check); a new reference, or NULL with err set. Called on an
 * admin pool thread: thread-safe, quick (no I/O). */
typedef json_t *(*gw_admin_summary_fn)(void *arg, unsigned window, unsigned step,
                                       struct gw_error *err);

struct gw_admin_config {
    const char *store_url;                     /* required; copied */
    const struct gw_store_options *store_opts; /* may be NULL; copied */
    /* GW_OPENAPI_* (importer limits) and GW_SSRF_* (fetch policy) come from here; NULL means
     * the built-in defaults. Borrowed for the duration of gw_admin_attach only. */
    const struct gw_settings *settings;
    /* A fetch policy to use instead of the one built from `settings` (borrowed; must outlive
     * the admin). For tests and embedders; NULL normally. */
    const struct gw_ssrf_policy *ssrf;
    int threads;       /* pool threads for blocking work; <= 0 means 2 */
    bool allow_remote; /* false: loopback server and loopback peers only */
    size_t max_body_bytes; /* JSON bodies above this are refused (the server's own limit
                            * usually hits first); 0 = GW_STORE_SPEC_MAX */
    size_t export_max_bytes; /* largest audit export built; 0 = 64 MiB */
    gw_admin_write_fn on_write; /* may be NULL */
    void *on_write_arg;
    /* The running rate limiter's effective rules and counters ({"rules": [...], "stats":
     * {...}}) for /admin/api/limits; NULL when there is none. */
    gw_admin_json_fn limits_status;
    void *limits_arg;
    /* This replica's traffic for the console's dashboard (GET /admin/api/metrics/summary);
     * NULL: that endpoint answers 404. */
    gw_admin_summary_fn metrics_summary;
    void *metrics_arg;
    /* Authentication: every request except GET /auth/config is authenticated by `authn` and
     * needs `admin_role` (GET /whoami needs only a principal). authn.ops NULL: none (then only
     * loopback clients, as before authentication existed). `auth_config` (borrowed, copied)
     * is served at GET /auth/config for sign-in pages. */
    struct gw_authn authn;
    const char *admin_role;
    const json_t *auth_config;
    /* Governance and the registry (borrowed; may be NULL: the governance endpoints then answer
     * 503): rule validation, "view as" preview and the policy tester. */
    struct gw_gov *gov;
    struct gw_registry *registry;
    /* The audit trail (borrowed; NULL = none): every write through the API is recorded (and
     * durable) before its reply, and /admin/api/audit/... serves verify, search, proofs. */
    struct gw_audit *audit;
    /* The Host/Origin check of the admin listener (a web page must not drive the API):
     * comma-separated extra origins and Host names (GW_ADMIN_ALLOWED_ORIGINS / _HOSTS); NULL:
     * same origin and loopback names only. Copied. */
    const char *allowed_origins;
    const char *allowed_hosts;
};

/* The GW_ADMIN_* settings (registered by the app). */
extern const struct gw_setting_def gw_admin_settings[];

/* Fills `cfg` from the settings: threads (GW_ADMIN_THREADS), allow_remote
 * (GW_ADMIN_ALLOW_REMOTE), max_body_bytes (GW_ADMIN_MAX_BODY_BYTES), allowed_origins/_hosts
 * (GW_ADMIN_ALLOWED_ORIGINS/_HOSTS) and settings = s. The store
 * URL and options are left for the caller (the app knows how DATABASE_URL is resolved); the
 * other fields are zeroed. Requires gw_admin_settings registered. */
void gw_admin_config_from_settings(struct gw_admin_config *cfg, const struct gw_settings *s);

/* Fills `opts` for the admin HTTP server: the GW_* server settings of net_settings.c, then
 * listen = GW_ADMIN_LISTEN, one worker, max_body_bytes = GW_ADMIN_MAX_BODY_BYTES. Requires
 * gw_net_settings and gw_admin_settings registered. `opts->listen` points into `s`.
 * Returns GW_OK, GW_DECLINED when GW_ADMIN_LISTEN is empty (the admin API is disabled: create
 * no server), or GW_EINVAL when the address is not a numeric loopback address (127.0.0.0/8,
 * [::1]) and GW_ADMIN_ALLOW_REMOTE is false (err explains). Does not block. */
int gw_admin_net_options(const struct gw_settings *s, struct gw_net_options *opts,
                         struct gw_error *err);

/* Registers the /admin/api/ routes on `http` (before gw_server_start) and creates the worker
 * pool, and turns on the server's Host/Origin check (gw_server_check_origin with
 * cfg->allowed_origins/_hosts). `cfg` is borrowed (strings copied). Refuses (GW_EINVAL) a server
 * that does not listen on loopback unless cfg->allow_remote; GW_EINVAL for a missing store URL or a
 * bad SSRF allowlist in the settings. On success *out must be freed with gw_admin_free.
 * Does not open the store (pool threads open their handles on first use) and does not migrate
 * (the app migrates at start-up). Does not block. */
int gw_admin_attach(struct gw_server *http, const struct gw_admin_config *cfg,
                    struct gw_admin **out, struct gw_error *err);

/* Finishes the queued work, joins the pool threads (closing their store handles) and frees.
 * Call it AFTER the admin server's workers have stopped (gw_server_shutdown + gw_server_wait)
 * and BEFORE gw_server_free (results of late jobs are posted to the server's loops, which must
 * still exist, closed). Accepts NULL. Blocks while queued jobs finish. */
void gw_admin_free(struct gw_admin *adm);

#endif
