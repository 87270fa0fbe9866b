/*
 * tools/mock-apim/mockapim_app.c
 * Route table, gate and admin endpoints of the mock (see mockapim_app.h).
 *
 * The route table is the single list of what the mock serves; tests/unit/mockapim checks it
 * against openapi/service-booking.yaml (every /api/v1 operation in both, same methods).
 * Patterns are literal segments and {name} placeholders (one segment, <= 127 bytes).
 * DMS paths are served at the swagger's basePath (/dms/v1/...) and, as an alias, without it.
 */
#include "mockapim_app.h"

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "mockapim_auth.h"
#include "mockapim_booking.h"
#include "mockapim_date.h"
#include "mockapim_db.h"
#include "mockapim_dms.h"
#include "mockapim_faults.h"
#include "mockapim_stats.h"
#include "mockapim_yaml.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define JSON_MAX_DEPTH 32

/* The app: its configuration (strings owned), the stores it routes to, and the clock. */
struct gw_mockapim_app {
    struct gw_mockapim_config cfg;
    char *strs[6]; /* owned copies of cfg strings */
    struct gw_mockapim_auth_config auth;
    struct gw_mockapim_db *db;
    struct gw_mockapim_faults *faults;
    struct gw_mockapim_stats *stats;
    long long fixed_now;
    bool today_pinned;
    long today_pin;
};

/* Admin handlers see the whole app (faults, stats, database), not just the handler env. */
typedef int (*admin_fn)(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                        struct gw_mockapim_resp *resp);

/* One row of the route table: either an API handler (fn) or an admin handler (afn). */
struct route {
    const char *method, *pattern, *operation;
    unsigned flags;
    gw_mockapim_handler_fn fn;
    admin_fn afn;
};

/* ---- admin handlers ---- */

static int a_health(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                    struct gw_mockapim_resp *resp)
{
    (void)req;
    struct gw_error err = {0};
    int rc = gw_mockapim_db_ping(app->db, &err);
    char today[16];
    long now = gw_mockapim_date_ist_days(gw_mockapim_app_now(app));
    gw_mockapim_date_iso(app->today_pinned ? app->today_pin : now, today, sizeof(today));
    gw_mockapim_resp_json(resp, rc == GW_OK ? 200 : 503,
                          json_pack("{s:s, s:s, s:s, s:s, s:s}", "status",
                                    rc == GW_OK ? "ok" : "degraded", "service", "mock-apim",
                                    "version", GW_VERSION, "database", rc == GW_OK ? "ok" : "error",
                                    "today", today));
    return GW_OK;
}

/* GET /__mock/stats and DELETE /__mock/stats (zero the counters, answer them). */
static int a_stats_get(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                       struct gw_mockapim_resp *resp)
{
    (void)req;
    gw_mockapim_resp_json(resp, 200, gw_mockapim_stats_json(app->stats));
    return GW_OK;
}

static int a_stats_delete(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                          struct gw_mockapim_resp *resp)
{
    (void)req;
    gw_mockapim_stats_reset(app->stats);
    gw_mockapim_resp_json(resp, 200, gw_mockapim_stats_json(app->stats));
    return GW_OK;
}

/* GET /__mock/faults: the rules with their fired/remaining counts. */
static int a_faults_get(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                        struct gw_mockapim_resp *resp)
{
    (void)req;
    gw_mockapim_resp_json(resp, 200,
                          json_pack("{s:o}", "faults", gw_mockapim_faults_json(app->faults)));
    return GW_OK;
}

/* POST /__mock/faults: one rule object or an array of them (all or nothing on error:
 * rules before the bad one stay added, and the 400 names the problem). */
static int a_faults_post(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                         struct gw_mockapim_resp *resp)
{
    struct gw_error err = {0};
    json_t *ids = json_array();
    int id = 0, rc = GW_OK;
    if (json_is_array(req->json)) {
        size_t i;
        json_t *v;
        json_array_foreach(req->json, i, v)
        {
            if ((rc = gw_mockapim_faults_add_json(app->faults, v, &id, &err)) != GW_OK)
                break;
            if (id)
                json_array_append_new(ids, json_integer(id));
        }
    } else {
        rc = gw_mockapim_faults_add_json(app->faults, req->json, &id, &err);
        if (rc == GW_OK && id)
            json_array_append_new(ids, json_integer(id));
    }
    if (rc != GW_OK) {
        json_decref(ids);
        gw_mockapim_resp_error(resp, 400, "INVALID_FAULT", NULL, "%s", err.msg);
        return GW_OK;
    }
    json_t *body = json_pack("{s:o, s:o}", "ids", ids, "faults",
                             gw_mockapim_faults_json(app->faults));
    if (json_array_size(ids) == 1)
        json_object_set(body, "id", json_array_get(ids, 0));
    gw_mockapim_resp_json(resp, json_array_size(ids) ? 201 : 200, body);
    return GW_OK;
}

/* DELETE /__mock/faults: remove every rule. */
static int a_faults_delete(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                           struct gw_mockapim_resp *resp)
{
    (void)req;
    gw_mockapim_faults_clear(app->faults);
    return a_faults_get(app, req, resp);
}

/* DELETE /__mock/faults/{id}: remove one rule, 404 when there is no such id. */
static int a_fault_delete(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                          struct gw_mockapim_resp *resp)
{
    unsigned long long id = 0;
    if (gw_str_to_u64(gw_str_c(req->params[0]), &id) != GW_OK || id > 1000000000ULL ||
        gw_mockapim_faults_remove(app->faults, (int)id) != GW_OK) {
        gw_mockapim_resp_error(resp, 404, "NOT_FOUND", NULL, "no fault rule '%s'",
                               req->params[0]);
        return GW_OK;
    }
    return a_faults_get(app, req, resp);
}

/* GET /__mock/bookings: the same dump as `mock-apim bookings`. */
static int a_bookings(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                      struct gw_mockapim_resp *resp)
{
    (void)req;
    struct gw_error err = {0};
    json_t *dump = NULL;
    if (gw_mockapim_db_dump(app->db, &dump, &err) != GW_OK) {
        gw_mockapim_resp_error(resp, 500, "INTERNAL_ERROR", NULL, "database failure");
        return GW_OK;
    }
    gw_mockapim_resp_json(resp, 200, dump);
    return GW_OK;
}

/* POST /__mock/reset: back to the demo data; faults and counters are cleared too. */
static int a_reset(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                   struct gw_mockapim_resp *resp)
{
    struct gw_error err = {0};
    if (gw_mockapim_db_reset(app->db, &err) != GW_OK) {
        gw_mockapim_resp_error(resp, 500, "INTERNAL_ERROR", NULL, "database failure");
        return GW_OK;
    }
    gw_mockapim_faults_clear(app->faults);
    gw_mockapim_stats_reset(app->stats);
    return a_bookings(app, req, resp);
}

/* POST /oauth2/token: see mockapim_auth.h. */
static int a_token(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                   struct gw_mockapim_resp *resp)
{
    return gw_mockapim_auth_token(app->db, &app->auth, req, gw_mockapim_app_now(app), resp);
}

/* GET /openapi/service-booking.yaml: the document embedded at build time. */
static int a_spec_yaml(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                       struct gw_mockapim_resp *resp)
{
    (void)app;
    (void)req;
    resp->status = 200;
    resp->raw = gw_xstrndup((const char *)gw_mockapim_spec_yaml, gw_mockapim_spec_yaml_len);
    resp->raw_len = gw_mockapim_spec_yaml_len;
    snprintf(resp->content_type, sizeof(resp->content_type), "application/yaml");
    return GW_OK;
}

/* GET /openapi/service-booking.json: the same converted by libyaml (for importers that
 * only read JSON). */
static int a_spec_json(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                       struct gw_mockapim_resp *resp)
{
    (void)app;
    (void)req;
    struct gw_error err = {0};
    json_t *doc = NULL;
    if (gw_mockapim_yaml_to_json((const char *)gw_mockapim_spec_yaml, gw_mockapim_spec_yaml_len,
                                 &doc, &err) != GW_OK) {
        gw_mockapim_resp_error(resp, 500, "INTERNAL_ERROR", NULL, "embedded spec: %s", err.msg);
        return GW_OK;
    }
    gw_mockapim_resp_json(resp, 200, doc);
    return GW_OK;
}

static int a_root(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                  struct gw_mockapim_resp *resp);

/* ---- the route table ---- */

#define K GW_MOCKAPIM_ROUTE_KEY
#define T GW_MOCKAPIM_ROUTE_TOKEN
#define B GW_MOCKAPIM_ROUTE_BARE
#define J GW_MOCKAPIM_ROUTE_JSON
#define JO GW_MOCKAPIM_ROUTE_JSON_OPT
#define D GW_MOCKAPIM_ROUTE_DMS
#define A GW_MOCKAPIM_ROUTE_ADMIN
#define I GW_MOCKAPIM_ROUTE_INTERNAL
#define DMS "/dms/v1/api/common/msil/dms"

static const struct route routes[] = {
    /* service-booking API (openapi/service-booking.yaml) */
    {"GET", "/api/v1/customers/resolve", "resolveCustomer", K, gw_mockapim_booking_resolve_customer, NULL},
    {"GET", "/api/v1/vehicles/resolve", "resolveVehicle", K, gw_mockapim_booking_resolve_vehicle, NULL},
    {"GET", "/api/v1/dealers/nearby", "findNearbyDealers", K, gw_mockapim_booking_nearby_dealers, NULL},
    {"GET", "/api/v1/dealers/{dealer_id}", "getDealer", K, gw_mockapim_booking_get_dealer, NULL},
    {"GET", "/api/v1/dealers/{dealer_id}/slots", "getAvailableSlots", K, gw_mockapim_booking_slots, NULL},
    {"POST", "/api/v1/bookings", "createBooking", K | T | J, gw_mockapim_booking_create, NULL},
    {"GET", "/api/v1/bookings", "listBookings", K, gw_mockapim_booking_list, NULL},
    {"GET", "/api/v1/bookings/{booking_id}", "getBooking", K, gw_mockapim_booking_get, NULL},
    {"POST", "/api/v1/bookings/{booking_id}/cancel", "cancelBooking", K | T | JO, gw_mockapim_booking_cancel, NULL},
    /* DMS appointment API (dms-preprod-swagger.json) */
    {"POST", DMS "/appointment-booking", "dms.appointment-booking", K | T | B | J | D, gw_mockapim_dms_book, NULL},
    {"POST", DMS "/appointment-booking-hyperlocal", "dms.appointment-booking-hyperlocal", K | T | B | J | D, gw_mockapim_dms_book_hyperlocal, NULL},
    {"POST", DMS "/update-appointment-booking", "dms.update-appointment-booking", K | T | B | J | D, gw_mockapim_dms_update, NULL},
    {"DELETE", DMS "/cancel-appointment-booking", "dms.cancel-appointment-booking", K | T | B | D, gw_mockapim_dms_cancel, NULL},
    {"GET", DMS "/appointment-cancel-reasons", "dms.appointment-cancel-reasons", K | T | B | D, gw_mockapim_dms_cancel_reasons, NULL},
    {"GET", DMS "/appointment-remainder", "dms.appointment-remainder", K | T | B | D, gw_mockapim_dms_reminder, NULL},
    {"GET", DMS "/service-appointments", "dms.service-appointments", K | T | B | D, gw_mockapim_dms_list, NULL},
    {"GET", DMS "/service-booking-calendar", "dms.service-booking-calendar", K | T | B | D, gw_mockapim_dms_calendar, NULL},
    {"GET", DMS "/service-details", "dms.service-details", K | T | B | D, gw_mockapim_dms_service_details, NULL},
    {"GET", DMS "/nearest-dealers", "dms.nearest-dealers", K | D, gw_mockapim_dms_nearest_dealers, NULL},
    {"GET", DMS "/service-advisor-list", "dms.service-advisor-list", K | T | B | D, gw_mockapim_dms_advisors, NULL},
    /* mock infrastructure */
    {"POST", "/oauth2/token", "oauth2.token", I, NULL, a_token},
    {"GET", "/health", "health", I, NULL, a_health},
    {"GET", "/", "root", I, NULL, a_root},
    {"GET", "/openapi/service-booking.yaml", "spec.yaml", I, NULL, a_spec_yaml},
    {"GET", "/openapi/service-booking.json", "spec.json", I, NULL, a_spec_json},
    {"GET", "/__mock/stats", "mock.stats", I, NULL, a_stats_get},
    {"DELETE", "/__mock/stats", "mock.stats.reset", I, NULL, a_stats_delete},
    {"GET", "/__mock/bookings", "mock.bookings", I, NULL, a_bookings},
    {"GET", "/__mock/faults", "mock.faults", I | A, NULL, a_faults_get},
    {"POST", "/__mock/faults", "mock.faults.add", I | A | J, NULL, a_faults_post},
    {"DELETE", "/__mock/faults", "mock.faults.clear", I | A, NULL, a_faults_delete},
    {"DELETE", "/__mock/faults/{id}", "mock.faults.remove", I | A, NULL, a_fault_delete},
    {"POST", "/__mock/reset", "mock.reset", I | A, NULL, a_reset},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* GET /: what this is and the list of routes. */
static int a_root(struct gw_mockapim_app *app, const struct gw_mockapim_req *req,
                  struct gw_mockapim_resp *resp)
{
    (void)app;
    (void)req;
    json_t *list = json_array();
    for (size_t i = 0; i < NROUTES; i++) {
        char line[160];
        snprintf(line, sizeof(line), "%s %s", routes[i].method, routes[i].pattern);
        json_array_append_new(list, json_string(line));
    }
    gw_mockapim_resp_json(resp, 200,
                          json_pack("{s:s, s:s, s:s, s:o}", "service", "mock-apim", "version",
                                    GW_VERSION, "docs", "docs/mock-apim.md", "endpoints", list));
    return GW_OK;
}

bool gw_mockapim_app_route(size_t i, struct gw_mockapim_route_info *out)
{
    if (i >= NROUTES)
        return false;
    out->method = routes[i].method;
    out->pattern = routes[i].pattern;
    out->operation = routes[i].operation;
    out->flags = routes[i].flags;
    return true;
}

/* Matches path against pattern, capturing {placeholders} into req->params. */
static bool match(const char *pattern, const char *path, struct gw_mockapim_req *req)
{
    size_t np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *slash = strchr(s, '/');
            size_t n = slash ? (size_t)(slash - s) : strlen(s);
            if (!close || n == 0 || n >= GW_MOCKAPIM_PARAM_MAX || np >= GW_MOCKAPIM_MAX_PARAMS)
                return false;
            memcpy(req->params[np], s, n);
            req->params[np++][n] = '\0';
            p = close + 1;
            s += n;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (*p || *s)
        return false;
    req->nparams = np;
    return true;
}

/* The CORS pre-flight answer headers (the origin header is added to every response). */
static void cors(struct gw_mockapim_resp *resp)
{
    gw_mockapim_resp_header(resp, "Access-Control-Allow-Methods",
                            "GET, POST, PUT, DELETE, PATCH, OPTIONS");
    gw_mockapim_resp_header(resp, "Access-Control-Allow-Headers",
                            "Content-Type, x-api-key, Ocp-Apim-Subscription-Key, Authorization, "
                            "Idempotency-Key");
}

/* The response headers the swagger declares on its 200 responses. */
static void dms_headers(struct gw_mockapim_resp *resp)
{
    gw_mockapim_resp_header(resp, "X-Frame-Options", "DENY");
    gw_mockapim_resp_header(resp, "Strict-Transport-Security", "max-age=31536000");
    gw_mockapim_resp_header(resp, "X-Content-Type-Options", "nosniff");
    gw_mockapim_resp_header(resp, "Content-Security-Policy", "default-src 'none'");
}

/* 401 in the route's error style, with an optional WWW-Authenticate challenge. */
static void unauthorized(struct gw_mockapim_resp *resp, bool dms, const char *code,
                         const char *msg, const char *www)
{
    if (dms)
        gw_mockapim_resp_dms_fail(resp, 401, code, "%s", msg);
    else
        gw_mockapim_resp_error(resp, 401, code, NULL, "%s", msg);
    if (www)
        gw_mockapim_resp_header(resp, "WWW-Authenticate", www);
}

/* Any other error in the route's style: DMS envelope or the service-booking error object. */
static void fail(struct gw_mockapim_resp *resp, bool dms, int status, const char *code,
                 const char *msg)
{
    if (dms)
        gw_mockapim_resp_dms_fail(resp, status, code, "%s", msg);
    else
        gw_mockapim_resp_error(resp, status, code, NULL, "%s", msg);
}

/* API key and bearer token checks; true when the request may proceed. */
static bool gate(struct gw_mockapim_app *app, const struct route *r,
                 const struct gw_mockapim_req *req, struct gw_mockapim_resp *resp)
{
    bool dms = (r->flags & GW_MOCKAPIM_ROUTE_DMS) != 0;
    if ((r->flags & GW_MOCKAPIM_ROUTE_KEY) && !gw_mockapim_auth_api_key_ok(&app->auth, req)) {
        unauthorized(resp, dms, "UNAUTHORIZED",
                     "missing or invalid subscription key: send the x-api-key header", NULL);
        return false;
    }
    if (!(r->flags & GW_MOCKAPIM_ROUTE_TOKEN))
        return true;
    struct gw_error err = {0};
    int rc = gw_mockapim_auth_bearer(app->db, req, gw_mockapim_app_now(app),
                                     (r->flags & GW_MOCKAPIM_ROUTE_BARE) != 0, &err);
    switch (rc) {
    case GW_OK:
        return true;
    case GW_EDENIED:
        unauthorized(resp, dms, "TOKEN_MISSING",
                     "this operation needs 'Authorization: Bearer <token>' from POST /oauth2/token",
                     "Bearer realm=\"mock-apim\"");
        return false;
    case GW_ETIMEOUT:
        unauthorized(resp, dms, "TOKEN_EXPIRED", "the access token has expired",
                     "Bearer realm=\"mock-apim\", error=\"invalid_token\", "
                     "error_description=\"token expired\"");
        return false;
    case GW_ENOTFOUND:
        unauthorized(resp, dms, "TOKEN_INVALID", "the access token is not known",
                     "Bearer realm=\"mock-apim\", error=\"invalid_token\"");
        return false;
    default:
        GW_LOG(GW_LOG_ERROR, "mock-apim", "token check failed: %s", err.msg);
        fail(resp, dms, 500, "INTERNAL_ERROR", "internal error");
        return false;
    }
}

/* Parses the JSON body for routes that take one; true when the handler may run. */
static bool parse_body(struct gw_mockapim_app *app, const struct route *r,
                       struct gw_mockapim_req *req, json_t **owned,
                       struct gw_mockapim_resp *resp)
{
    bool dms = (r->flags & GW_MOCKAPIM_ROUTE_DMS) != 0;
    bool required = (r->flags & GW_MOCKAPIM_ROUTE_JSON) != 0;
    if (!required && !(r->flags & GW_MOCKAPIM_ROUTE_JSON_OPT))
        return true;
    if (!required && req->body_len == 0)
        return true;
    const char *ct = gw_mockapim_req_header(req, "Content-Type");
    if (ct && !strcasestr(ct, "json")) {
        fail(resp, dms, 415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json");
        return false;
    }
    if (req->body_len == 0) {
        fail(resp, dms, 400, "MISSING_BODY", "a JSON object body is required");
        return false;
    }
    struct gw_error err = {0};
    struct gw_json_limits lim = {.max_bytes = (size_t)app->cfg.max_body,
                                 .max_depth = JSON_MAX_DEPTH};
    json_t *doc = gw_json_parse(req->body, req->body_len, &lim, &err);
    bool admin_list = json_is_array(doc) && strcmp(r->pattern, "/__mock/faults") == 0;
    if (!doc || (!json_is_object(doc) && !admin_list)) {
        char msg[600];
        snprintf(msg, sizeof(msg), "the body must be a JSON object%s%s", doc ? "" : ": ",
                 doc ? "" : err.msg);
        json_decref(doc);
        fail(resp, dms, err.code == GW_ELIMIT ? 413 : 400, "INVALID_JSON", msg);
        return false;
    }
    *owned = doc;
    req->json = doc;
    return true;
}

int gw_mockapim_app_handle(struct gw_mockapim_app *app, struct gw_mockapim_req *req,
                           struct gw_mockapim_resp *resp)
{
    char alias[512];
    const char *path = req->path;
    json_t *body = NULL;
    req->json = NULL;
    req->nparams = 0;
    if (strcmp(req->method, "OPTIONS") == 0) {
        resp->status = 204;
        cors(resp);
        return GW_OK;
    }
    /* The DMS swagger's paths without its basePath. */
    if ((strncmp(path, "/v1/api/", 8) == 0 || strncmp(path, "/v2/api/", 8) == 0) &&
        strlen(path) + 5 < sizeof(alias)) {
        snprintf(alias, sizeof(alias), "/dms%s", path);
        path = alias;
    }
    const struct route *r = NULL;
    char allow[96] = "";
    for (size_t i = 0; i < NROUTES && !r; i++) {
        if (!match(routes[i].pattern, path, req))
            continue;
        if ((routes[i].flags & GW_MOCKAPIM_ROUTE_ADMIN) && !app->cfg.faults_admin)
            continue;
        if (strcmp(routes[i].method, req->method) == 0) {
            r = &routes[i];
        } else {
            size_t al = strlen(allow);
            snprintf(allow + al, sizeof(allow) - al, "%s%s", al ? ", " : "", routes[i].method);
        }
    }
    if (!r) {
        bool dms = strncmp(path, "/dms/", 5) == 0;
        if (allow[0]) {
            fail(resp, dms, 405, "METHOD_NOT_ALLOWED", "this path does not accept this method");
            gw_mockapim_resp_header(resp, "Allow", allow);
        } else if (strncmp(path, DMS "/", strlen(DMS) + 1) == 0 ||
                   strncmp(path, "/dms/v2/api/common/msil/dms/", 28) == 0) {
            struct gw_mockapim_env env = {0};
            gw_mockapim_dms_not_implemented(&env, req, resp);
        } else {
            fail(resp, dms, 404, "NOT_FOUND", "no such endpoint; GET / lists them");
        }
        return GW_OK;
    }
    if (!gate(app, r, req, resp) || !parse_body(app, r, req, &body, resp))
        goto out;
    if (r->afn) {
        r->afn(app, req, resp);
    } else {
        struct gw_mockapim_env env;
        env.db = app->db;
        env.now = gw_mockapim_app_now(app);
        env.today = app->today_pinned ? app->today_pin : gw_mockapim_date_ist_days(env.now);
        env.minute_now = gw_mockapim_date_ist_minute(env.now);
        r->fn(&env, req, resp);
    }
out:
    if (r->flags & GW_MOCKAPIM_ROUTE_DMS)
        dms_headers(resp);
    req->json = NULL;
    json_decref(body);
    return GW_OK;
}

/* Owned copy of s, or of def when s is NULL or empty. */
static char *dup_or(const char *s, const char *def)
{
    return gw_xstrdup(s && *s ? s : def);
}

int gw_mockapim_app_new(const struct gw_mockapim_config *cfg, struct gw_mockapim_app **out,
                        struct gw_error *err)
{
    struct gw_mockapim_app *app = gw_xcalloc(1, sizeof(*app));
    int rc = GW_EINVAL;
    *out = NULL;
    app->cfg = *cfg;
    app->cfg.listen = app->strs[0] = dup_or(cfg->listen, "127.0.0.1:8080");
    app->cfg.db_path = app->strs[1] = dup_or(cfg->db_path, "./data/mock-apim.db");
    app->cfg.api_key = app->strs[2] = dup_or(cfg->api_key, GW_MOCKAPIM_DEFAULT_API_KEY);
    app->cfg.client_id = app->strs[3] = dup_or(cfg->client_id, GW_MOCKAPIM_DEFAULT_CLIENT_ID);
    app->cfg.client_secret = app->strs[4] =
        dup_or(cfg->client_secret, GW_MOCKAPIM_DEFAULT_CLIENT_SECRET);
    app->cfg.today = app->strs[5] = dup_or(cfg->today, "");
    if (app->cfg.token_ttl < 1)
        app->cfg.token_ttl = 300;
    if (app->cfg.max_body < 1024)
        app->cfg.max_body = 1024 * 1024;
    app->auth.api_key = app->cfg.api_key;
    app->auth.client_id = app->cfg.client_id;
    app->auth.client_secret = app->cfg.client_secret;
    app->auth.token_ttl = app->cfg.token_ttl;
    if (app->cfg.today[0]) {
        if (gw_mockapim_date_parse_iso(app->cfg.today, &app->today_pin) != GW_OK) {
            rc = GW_ERROR_SET(err, GW_EINVAL, "--today '%s': expected YYYY-MM-DD",
                              app->cfg.today);
            goto out;
        }
        app->today_pinned = true;
    }
    app->faults = gw_mockapim_faults_new(cfg->seed);
    app->stats = gw_mockapim_stats_new();
    rc = gw_mockapim_db_open(app->cfg.db_path, cfg->reset ? GW_MOCKAPIM_DB_RESET : 0, &app->db,
                             err);
out:
    if (rc != GW_OK) {
        gw_mockapim_app_free(app);
        return rc;
    }
    *out = app;
    return GW_OK;
}

void gw_mockapim_app_free(struct gw_mockapim_app *app)
{
    if (!app)
        return;
    gw_mockapim_db_close(app->db);
    gw_mockapim_faults_free(app->faults);
    gw_mockapim_stats_free(app->stats);
    for (size_t i = 0; i < sizeof(app->strs) / sizeof(app->strs[0]); i++)
        gw_free(app->strs[i]);
    gw_free(app);
}

void gw_mockapim_app_set_now(struct gw_mockapim_app *app, long long now)
{
    app->fixed_now = now;
}

long long gw_mockapim_app_now(const struct gw_mockapim_app *app)
{
    return app->fixed_now ? app->fixed_now : (long long)time(NULL);
}

struct gw_mockapim_faults *gw_mockapim_app_faults(struct gw_mockapim_app *app)
{
    return app->faults;
}

struct gw_mockapim_stats *gw_mockapim_app_stats(struct gw_mockapim_app *app)
{
    return app->stats;
}

const struct gw_mockapim_config *gw_mockapim_app_config(const struct gw_mockapim_app *app)
{
    return &app->cfg;
}
