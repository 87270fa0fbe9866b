/*
 * tools/mock-apim/mockapim_req.c
 * Request accessors and response builders shared by the handlers (see mockapim_req.h).
 */
#include "mockapim_req.h"

#include "core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Messages may quote request text: keep them printable ASCII so that building the JSON body
 * (which must be valid UTF-8) can never fail. */
static void ascii_only(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x7f || (unsigned char)*s < 0x20)
            *s = '?';
}

const char *gw_mockapim_req_header(const struct gw_mockapim_req *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *gw_mockapim_req_query(const struct gw_mockapim_req *req, const char *name)
{
    return req->query ? json_string_value(json_object_get(req->query, name)) : NULL;
}

const char *gw_mockapim_req_str(const struct gw_mockapim_req *req, const char *name)
{
    return req->json ? json_string_value(json_object_get(req->json, name)) : NULL;
}

void gw_mockapim_resp_init(struct gw_mockapim_resp *resp)
{
    memset(resp, 0, sizeof(*resp));
}

void gw_mockapim_resp_fini(struct gw_mockapim_resp *resp)
{
    if (!resp)
        return;
    json_decref(resp->json);
    resp->json = NULL;
    gw_free_null(&resp->raw);
    resp->raw_len = 0;
}

void gw_mockapim_resp_json(struct gw_mockapim_resp *resp, int status, json_t *body)
{
    json_decref(resp->json);
    gw_free_null(&resp->raw);
    resp->status = status;
    resp->json = body;
    snprintf(resp->content_type, sizeof(resp->content_type), "application/json");
}

void gw_mockapim_resp_header(struct gw_mockapim_resp *resp, const char *name, const char *value)
{
    if (resp->nheaders >= GW_MOCKAPIM_MAX_RESP_HEADERS)
        return;
    snprintf(resp->headers[resp->nheaders].name, sizeof(resp->headers[0].name), "%s", name);
    snprintf(resp->headers[resp->nheaders].value, sizeof(resp->headers[0].value), "%s", value);
    resp->nheaders++;
}

const char *gw_mockapim_resp_get_header(const struct gw_mockapim_resp *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

json_t *gw_mockapim_resp_error(struct gw_mockapim_resp *resp, int status, const char *code,
                               const char *hint, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ascii_only(msg);
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", msg);
    if (hint)
        json_object_set_new(e, "hint", json_string(hint));
    gw_mockapim_resp_json(resp, status, json_pack("{s:o}", "error", e));
    return e;
}

void gw_mockapim_resp_dms_ok(struct gw_mockapim_resp *resp, json_t *data)
{
    gw_mockapim_resp_json(resp, 200, json_pack("{s:o, s:b, s:n}", "data", data, "error", 0,
                                               "errors"));
}

void gw_mockapim_resp_dms_fail(struct gw_mockapim_resp *resp, int status, const char *code,
                               const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ascii_only(msg);
    gw_mockapim_resp_json(resp, status,
                          json_pack("{s:n, s:b, s:[{s:s, s:s}]}", "data", "error", 1, "errors",
                                    "errorCode", code, "errorMessage", msg));
}
