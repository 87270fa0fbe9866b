/*
 * tools/mock-apim/mockapim_req.h
 * The transport-neutral request and response of the mock, and the helpers handlers use.
 *
 * The HTTP layer (mockapim_http.c) turns an evhttp request into a struct gw_mockapim_req and
 * the app (mockapim_app.c) routes it; unit tests build the same struct by hand, so every API
 * rule is testable without sockets. A request borrows all its strings from its creator; a
 * response owns its JSON body (json, a jansson reference) or raw body (raw, gw_free'd).
 * Response envelopes: the service-booking API answers {"error":{"code","message",...}} on
 * failure; the DMS API always answers the swagger's {"data","error","errors"} envelope.
 */
#ifndef GW_MOCKAPIM_REQ_H
#define GW_MOCKAPIM_REQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_mockapim_db;

struct gw_mockapim_header {
    const char *name, *value;
};

#define GW_MOCKAPIM_MAX_PARAMS 4
#define GW_MOCKAPIM_PARAM_MAX 128

struct gw_mockapim_req {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* percent-decoded, without the query */
    json_t *query;      /* object name -> string (first occurrence wins); may be NULL */
    const struct gw_mockapim_header *headers;
    size_t nheaders;
    const char *body; /* raw body, not NUL-terminated; may be NULL */
    size_t body_len;
    /* Filled by the router: */
    json_t *json; /* parsed JSON body of routes that take one (borrowed) */
    char params[GW_MOCKAPIM_MAX_PARAMS][GW_MOCKAPIM_PARAM_MAX]; /* {placeholders}, in order */
    size_t nparams;
};

#define GW_MOCKAPIM_MAX_RESP_HEADERS 8

struct gw_mockapim_resp {
    int status;
    json_t *json; /* owned */
    char *raw;    /* owned, alternative to json */
    size_t raw_len;
    char content_type[64];
    struct {
        char name[48];
        char value[256];
    } headers[GW_MOCKAPIM_MAX_RESP_HEADERS];
    size_t nheaders;
};

/* What a handler may use besides the request: the database and the clock. */
struct gw_mockapim_env {
    struct gw_mockapim_db *db;
    long long now;  /* Unix seconds */
    long today;     /* IST day number (see mockapim_date.h), possibly pinned by --today */
    int minute_now; /* IST minute of the day */
};

typedef int (*gw_mockapim_handler_fn)(const struct gw_mockapim_env *env,
                                      const struct gw_mockapim_req *req,
                                      struct gw_mockapim_resp *resp);

/* Case-insensitive header lookup; NULL when absent. */
const char *gw_mockapim_req_header(const struct gw_mockapim_req *req, const char *name);
/* Query parameter as a string; NULL when absent. Empty values are returned as "". */
const char *gw_mockapim_req_query(const struct gw_mockapim_req *req, const char *name);
/* String member of the JSON body; NULL when absent or not a string. */
const char *gw_mockapim_req_str(const struct gw_mockapim_req *req, const char *name);

/* Resets a response to empty (status 0). */
void gw_mockapim_resp_init(struct gw_mockapim_resp *resp);
/* Releases the body; the struct can be reused after gw_mockapim_resp_init. Accepts NULL. */
void gw_mockapim_resp_fini(struct gw_mockapim_resp *resp);
/* Sets status and JSON body (takes the reference `body`; any previous body is released). */
void gw_mockapim_resp_json(struct gw_mockapim_resp *resp, int status, json_t *body);
/* Adds a response header (dropped silently past GW_MOCKAPIM_MAX_RESP_HEADERS). */
void gw_mockapim_resp_header(struct gw_mockapim_resp *resp, const char *name, const char *value);
/* Value of a response header set earlier, or NULL. */
const char *gw_mockapim_resp_get_header(const struct gw_mockapim_resp *resp, const char *name);

/* Service-booking error: {"error":{"code":code,"message":msg}} plus `hint` when non-NULL.
 * Returns the error object so callers can add details (borrowed). */
json_t *gw_mockapim_resp_error(struct gw_mockapim_resp *resp, int status, const char *code,
                               const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* DMS envelope: success {"data":data,"error":false,"errors":null} (takes `data`), and failure
 * {"data":null,"error":true,"errors":[{"errorCode","errorMessage"}]} with the given status. */
void gw_mockapim_resp_dms_ok(struct gw_mockapim_resp *resp, json_t *data);
void gw_mockapim_resp_dms_fail(struct gw_mockapim_resp *resp, int status, const char *code,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
