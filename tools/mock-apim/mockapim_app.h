/*
 * tools/mock-apim/mockapim_app.h
 * The mock APIM as a request -> response function: configuration, the route table, the
 * authentication gate, body parsing, and the admin endpoints (/health, /__mock/..., /oauth2/token,
 * /openapi/...). No sockets here (mockapim_http.c owns them), so unit tests call
 * gw_mockapim_app_handle directly and can pin the clock.
 *
 * Gate order for an API route: route found (404/405/501) -> API key (401) -> bearer token on
 * writes and on DMS routes the swagger marks with Authorization (401) -> JSON body (400/415)
 * -> handler. OPTIONS on any path answers the CORS pre-flight (204) without credentials, as
 * the swagger's OPTIONS integrations do. Fault injection is the HTTP layer's, before this.
 * Single-threaded: an app belongs to the event-loop thread (or a test).
 */
#ifndef GW_MOCKAPIM_APP_H
#define GW_MOCKAPIM_APP_H

#include "core/err.h"
#include "mockapim_req.h"

#include <stdbool.h>
#include <stddef.h>

struct gw_mockapim_faults;
struct gw_mockapim_stats;

/* Documented development defaults (docs/mock-apim.md); override with flags or environment. */
#define GW_MOCKAPIM_DEFAULT_API_KEY "mock-apim-dev-key"
#define GW_MOCKAPIM_DEFAULT_CLIENT_ID "mock-gateway"
#define GW_MOCKAPIM_DEFAULT_CLIENT_SECRET "mock-gateway-secret"

struct gw_mockapim_config {
    const char *listen;  /* "127.0.0.1:8080" */
    const char *db_path; /* "./data/mock-apim.db" */
    const char *api_key, *client_id, *client_secret;
    int token_ttl;          /* seconds, >= 1 */
    bool faults_admin;      /* /__mock/faults and /__mock/reset enabled */
    bool reset;             /* wipe run-time data at start */
    bool access_log;        /* one JSON line per request on stderr */
    long max_body;          /* request body limit, bytes */
    const char *today;      /* "" or YYYY-MM-DD: pin the mock's "today" (IST) */
    unsigned long long seed; /* fault probability draws */
};

struct gw_mockapim_app;

/* Route flags (public so tests can check the table against the OpenAPI document). */
#define GW_MOCKAPIM_ROUTE_KEY 1u      /* needs the API key */
#define GW_MOCKAPIM_ROUTE_TOKEN 2u    /* needs a bearer token */
#define GW_MOCKAPIM_ROUTE_BARE 4u     /* the bare token (no "Bearer ") is accepted too */
#define GW_MOCKAPIM_ROUTE_JSON 8u     /* a JSON object body is required */
#define GW_MOCKAPIM_ROUTE_JSON_OPT 16u /* a JSON object body is optional */
#define GW_MOCKAPIM_ROUTE_DMS 32u     /* DMS envelope and headers */
#define GW_MOCKAPIM_ROUTE_ADMIN 64u   /* served only with faults admin on */
#define GW_MOCKAPIM_ROUTE_INTERNAL 128u /* mock infrastructure, not an APIM API */

struct gw_mockapim_route_info {
    const char *method, *pattern, *operation;
    unsigned flags;
};

/* Creates the app: copies cfg (borrowed only during the call), opens the database (creating
 * or resetting it). GW_OK with *out; GW_EIO / GW_EINVAL with err. Blocks on disk. */
int gw_mockapim_app_new(const struct gw_mockapim_config *cfg, struct gw_mockapim_app **out,
                        struct gw_error *err);
/* Closes the database and frees everything. Accepts NULL. */
void gw_mockapim_app_free(struct gw_mockapim_app *app);

/* Routes one request and fills resp (caller inits and finis it). req->json, params and nparams
 * are overwritten by the router. Always GW_OK: every outcome is an HTTP response. Blocks on
 * the database (local SQLite). */
int gw_mockapim_app_handle(struct gw_mockapim_app *app, struct gw_mockapim_req *req,
                           struct gw_mockapim_resp *resp);

/* Pins the clock at Unix time `now` (0 = real time again). For tests. */
void gw_mockapim_app_set_now(struct gw_mockapim_app *app, long long now);
/* The clock in use (Unix seconds). */
long long gw_mockapim_app_now(const struct gw_mockapim_app *app);

/* Borrowed parts, for the HTTP layer and tests. */
struct gw_mockapim_faults *gw_mockapim_app_faults(struct gw_mockapim_app *app);
struct gw_mockapim_stats *gw_mockapim_app_stats(struct gw_mockapim_app *app);
const struct gw_mockapim_config *gw_mockapim_app_config(const struct gw_mockapim_app *app);

/* Route table access: fills *out for route i; false past the end. */
bool gw_mockapim_app_route(size_t i, struct gw_mockapim_route_info *out);

#endif
