/*
 * src/admin/admin_api.c
 * The admin API's request machinery: attach/free, the endpoint table, request validation on
 * the HTTP loop, and the job that runs an endpoint's blocking work on the pool.
 *
 * Threading: admin_handle and job_done run on the admin server's loop thread; job_run and
 * the endpoint work functions on a pool thread. A job is owned by exactly one side at a time
 * (the pool's queue hands it over, the loop's mailbox hands it back), so it needs no lock.
 * Each pool thread keeps one store handle in a pthread key (opened on first use, closed by the
 * key destructor when the thread exits in gw_admin_free, and reopened after an I/O failure).
 * Invariants: every request is answered exactly once (reply from job_done, or at once when it
 * is refused before submission); nothing on the loop blocks (JSON bodies are parsed and replies
 * serialised on the pool thread).
 */
#include "admin/admin_internal.h"

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/json_heap.h"
#include "core/log.h"
#include "core/str.h"
#include "metrics/metrics_series.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_QUEUE 64
/* After a job that handled this much (a large spec: its parse trees and tool set take ~10x the
 * document), freed heap is handed back to the system: otherwise an idle gateway keeps the peak
 * of its largest import (measured: 13 MB GitHub spec preview, RSS 13 -> 99 MB). */
#define TRIM_AFTER_BYTES (4u << 20)

/* Query parameters an endpoint accepts. */
enum {
    Q_LIMIT = 1 << 0,
    Q_AFTER = 1 << 1,  /* a name cursor */
    Q_CURSOR = 1 << 2, /* an offset cursor ("after" holding a number) */
    Q_STATUS = 1 << 3,
    Q_BUNDLE = 1 << 4,
    Q_SPEC = 1 << 5,
    Q_DETACH = 1 << 6,
    Q_REMOVE = 1 << 7,
    Q_CONTENT = 1 << 8,
    Q_SPEC_ID = 1 << 9,
    Q_UPSTREAM = 1 << 10,
    Q_FILE_NAME = 1 << 11,
    Q_ACTIVATE = 1 << 12,
    Q_DRY_RUN = 1 << 13,
    Q_INCLUDE_CONTENT = 1 << 14,
    Q_PRINCIPAL = 1 << 15, /* role, user, client, tenant ("view as") */
    Q_ASTATUS = 1 << 16,   /* status of approvals */
    Q_AUDIT = 1 << 17,     /* the audit endpoints' parameters (admin_audit.c) */
    Q_NAMING = 1 << 18,    /* onConflict=prefix|fail, renameExisting=bool (imports) */
    Q_WINDOW = 1 << 19,    /* window and step of /metrics/summary */
    F_IF_MATCH = 1 << 20, /* reads If-Match */
    F_WRITE = 1 << 21,    /* a write: reads X-Change-Reason */
    F_BULK = 1 << 22      /* an import: the work runs in a bulk JSON heap (core/json_heap.h) */
};

/* One row of the endpoint table: a route and method, the parameters it reads (validated on the
 * loop before any work is queued, so a bad request never costs a pool slot) and its work. */
struct endpoint {
    enum admin_route route;
    enum gw_http_method method;
    unsigned flags;
    admin_work_fn work;
};

/* Every endpoint of the API (docs/admin-api.md). A route matched with a method not listed here
 * is a 405 whose Allow header is computed from this table. */
static const struct endpoint endpoints[] = {
    {AR_AUDIT_LIST, GW_HTTP_GET, Q_AUDIT, gw_admin__w_audit},
    {AR_AUDIT, GW_HTTP_GET, Q_AUDIT, gw_admin__w_audit},
    {AR_AUDIT, GW_HTTP_POST, Q_AUDIT, gw_admin__w_audit},
    {AR_AUDIT_PROOF, GW_HTTP_GET, Q_AUDIT, gw_admin__w_audit},
    {AR_HEALTH, GW_HTTP_GET, 0, gw_admin__w_health},
    {AR_TOOLS, GW_HTTP_GET, Q_LIMIT | Q_AFTER | Q_STATUS | Q_BUNDLE | Q_SPEC,
     gw_admin__w_tools_list},
    {AR_TOOL, GW_HTTP_GET, 0, gw_admin__w_tool_get},
    {AR_TOOL, GW_HTTP_PATCH, F_IF_MATCH | F_WRITE, gw_admin__w_tool_patch},
    {AR_TOOL, GW_HTTP_DELETE, F_WRITE, gw_admin__w_tool_delete},
    {AR_TOOL_ACTION, GW_HTTP_POST, F_WRITE, gw_admin__w_tool_action},
    {AR_TOOL_HISTORY, GW_HTTP_GET, Q_LIMIT | Q_CURSOR, gw_admin__w_tool_history},
    {AR_TOOL_RENAME, GW_HTTP_POST, F_WRITE, gw_admin__w_tool_rename},
    {AR_BUNDLES, GW_HTTP_GET, Q_LIMIT | Q_AFTER, gw_admin__w_bundles_list},
    {AR_BUNDLES, GW_HTTP_POST, F_WRITE, gw_admin__w_bundle_create},
    {AR_BUNDLE, GW_HTTP_GET, 0, gw_admin__w_bundle_get},
    {AR_BUNDLE, GW_HTTP_PATCH, F_WRITE, gw_admin__w_bundle_patch},
    {AR_BUNDLE, GW_HTTP_DELETE, Q_DETACH | F_WRITE, gw_admin__w_bundle_delete},
    {AR_SPECS, GW_HTTP_GET, Q_LIMIT | Q_AFTER, gw_admin__w_specs_list},
    {AR_SPEC, GW_HTTP_GET, Q_CONTENT, gw_admin__w_spec_get},
    {AR_SPEC, GW_HTTP_DELETE, Q_REMOVE | F_WRITE, gw_admin__w_spec_delete},
    {AR_SPEC_REIMPORT, GW_HTTP_POST,
     Q_ACTIVATE | Q_BUNDLE | Q_UPSTREAM | Q_FILE_NAME | Q_DRY_RUN | Q_NAMING | F_WRITE | F_BULK,
     gw_admin__w_spec_reimport},
    {AR_IMPORT_PREVIEW, GW_HTTP_POST,
     Q_SPEC_ID | Q_BUNDLE | Q_UPSTREAM | Q_FILE_NAME | Q_INCLUDE_CONTENT | Q_NAMING | F_BULK,
     gw_admin__w_import_preview},
    {AR_IMPORTS, GW_HTTP_POST, F_WRITE | F_BULK, gw_admin__w_import_apply},
    {AR_GOVERNANCE, GW_HTTP_GET, 0, gw_admin__w_governance},
    {AR_EXPOSURE_RULES, GW_HTTP_GET, 0, gw_admin__w_rules_list},
    {AR_EXPOSURE_RULES, GW_HTTP_POST, F_WRITE, gw_admin__w_rule_put},
    {AR_EXPOSURE_RULE, GW_HTTP_PUT, F_WRITE, gw_admin__w_rule_put},
    {AR_EXPOSURE_RULE, GW_HTTP_PATCH, F_WRITE, gw_admin__w_rule_patch},
    {AR_EXPOSURE_RULE, GW_HTTP_DELETE, F_WRITE, gw_admin__w_rule_delete},
    {AR_EXPOSURE_PREVIEW, GW_HTTP_GET, Q_PRINCIPAL, gw_admin__w_preview},
    {AR_EXPOSURE_PREVIEW, GW_HTTP_POST, 0, gw_admin__w_preview},
    {AR_POLICIES, GW_HTTP_GET, 0, gw_admin__w_rules_list},
    {AR_POLICIES, GW_HTTP_POST, F_WRITE, gw_admin__w_rule_put},
    {AR_POLICY, GW_HTTP_PUT, F_WRITE, gw_admin__w_rule_put},
    {AR_POLICY, GW_HTTP_PATCH, F_WRITE, gw_admin__w_rule_patch},
    {AR_POLICY, GW_HTTP_DELETE, F_WRITE, gw_admin__w_rule_delete},
    {AR_POLICY_TEST, GW_HTTP_POST, 0, gw_admin__w_policy_test},
    {AR_ROLES, GW_HTTP_GET, 0, gw_admin__w_rules_list},
    {AR_ROLE, GW_HTTP_PUT, F_WRITE, gw_admin__w_rule_put},
    {AR_ROLE, GW_HTTP_DELETE, F_WRITE, gw_admin__w_rule_delete},
    {AR_APPROVALS, GW_HTTP_GET, Q_LIMIT | Q_ASTATUS, gw_admin__w_approvals_list},
    {AR_APPROVAL, GW_HTTP_GET, 0, gw_admin__w_approval_get},
    {AR_APPROVAL_ACTION, GW_HTTP_POST, F_WRITE, gw_admin__w_approval_decide},
    {AR_KEYS, GW_HTTP_GET, 0, gw_admin__w_keys_list},
    {AR_KEYS, GW_HTTP_POST, F_WRITE, gw_admin__w_key_create},
    {AR_KEY, GW_HTTP_GET, 0, gw_admin__w_key_get},
    {AR_KEY, GW_HTTP_DELETE, F_WRITE, gw_admin__w_key_revoke},
    {AR_LIMITS, GW_HTTP_GET, 0, gw_admin__w_limits_list},
    {AR_LIMITS, GW_HTTP_POST, F_WRITE, gw_admin__w_limit_create},
    {AR_LIMIT, GW_HTTP_GET, 0, gw_admin__w_limit_get},
    {AR_LIMIT, GW_HTTP_PUT, F_WRITE, gw_admin__w_limit_replace},
    {AR_LIMIT, GW_HTTP_PATCH, F_WRITE, gw_admin__w_limit_patch},
    {AR_LIMIT, GW_HTTP_DELETE, F_WRITE, gw_admin__w_limit_delete},
    {AR_METRICS_SUMMARY, GW_HTTP_GET, Q_WINDOW, gw_admin__w_metrics_summary},
    /* answered on the loop, without a job */
    {AR_WHOAMI, GW_HTTP_GET, 0, NULL},
    {AR_AUTH_CONFIG, GW_HTTP_GET, 0, NULL},
    {AR_SETTINGS, GW_HTTP_GET, 0, gw_admin__w_settings},
};

/* ---- reply helpers (pool thread) ---------------------------------------------------------- */

/* The reply setters overwrite each other: the last call decides (a work function may set a
 * result and then fail on a later step). */
void gw_admin__ok(struct admin_job *j, int status, json_t *result)
{
    json_decref(j->result);
    j->status = status;
    j->result = result ? result : json_object();
}

static void vfail(struct admin_job *j, int status, const char *code, const char *fmt,
                  va_list ap) __attribute__((format(printf, 4, 0)));

static void vfail(struct admin_job *j, int status, const char *code, const char *fmt,
                  va_list ap)
{
    char msg[GW_ERROR_MSG_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    json_t *m = json_string(msg);
    if (!m) {
        /* messages may quote client bytes (a parser's "near '...'"), or be cut inside a UTF-8
         * sequence: keep them ASCII rather than lose the reply */
        for (char *p = msg; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        m = json_string(msg);
    }
    json_decref(j->result);
    j->status = status;
    j->result = json_pack("{s:{s:s,s:o}}", "error", "code", code, "message", m);
    j->etag[0] = '\0';
    j->location[0] = '\0';
}

void gw_admin__fail(struct admin_job *j, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(j, status, code, fmt, ap);
    va_end(ap);
}

/* GW_EIO is the database's failure here (fetch failures are mapped by admin_import.c itself),
 * so it also marks the thread's handle for reopening. */
void gw_admin__fail_err(struct admin_job *j, const struct gw_error *err)
{
    int status = 500;
    const char *code = "internal";
    switch (err->code) {
    case GW_EINVAL: status = 400, code = "invalid"; break;
    case GW_ENOTFOUND: status = 404, code = "not_found"; break;
    case GW_ECONFLICT: status = 409, code = "conflict"; break;
    case GW_ELIMIT: status = 413, code = "too_large"; break;
    case GW_EDENIED: status = 403, code = "forbidden"; break;
    case GW_EUPSTREAM: status = 502, code = "bad_gateway"; break;
    case GW_ETIMEOUT: status = 504, code = "timeout"; break;
    case GW_EIO:
        status = 503, code = "unavailable";
        j->drop_store = true;
        break;
    default: break;
    }
    gw_admin__fail(j, status, code, "%s", err->msg[0] ? err->msg : gw_rc_name(err->code));
}

json_t *gw_admin__body_json(struct admin_job *j, bool want_object, const char *what)
{
    if (j->body_len == 0) {
        gw_admin__fail(j, 400, "invalid", "empty body: expected %s", what);
        return NULL;
    }
    struct gw_json_limits lim = {j->adm->max_body, ADMIN_JSON_DEPTH};
    struct gw_error err = {0};
    json_t *v = gw_json_parse(j->body, j->body_len, &lim, &err);
    if (!v) {
        if (err.code == GW_ELIMIT)
            gw_admin__fail(j, 413, "too_large", "body: %s", err.msg);
        else
            gw_admin__fail(j, 400, "invalid", "body is not valid JSON (%s): expected %s",
                           err.msg, what);
        return NULL;
    }
    if (want_object && !json_is_object(v)) {
        json_decref(v);
        gw_admin__fail(j, 400, "invalid", "body must be %s", what);
        return NULL;
    }
    return v;
}

void gw_admin__set_etag(struct admin_job *j, const json_t *def)
{
    json_t *v = json_object_get(def, "version");
    if (json_is_integer(v))
        snprintf(j->etag, sizeof(j->etag), "\"%lld\"", (long long)json_integer_value(v));
}

/* ---- the job: pool side ------------------------------------------------------------------- */

/* Serialises j->result into j->out (falls back to a 500 when it cannot). */
static void serialise(struct admin_job *j)
{
    if (j->out && !j->result)
        return; /* a raw reply (an export) was produced by the work itself */
    struct gw_buf b;
    gw_buf_init(&b, ADMIN_REPLY_MAX);
    if (!j->result || gw_json_dump(j->result, &b) != GW_OK) {
        gw_buf_reset(&b);
        j->status = 500;
        j->etag[0] = '\0';
        j->location[0] = '\0';
        gw_buf_adds(&b, "{\"error\":{\"code\":\"internal\",\"message\":\"the reply is too large "
                        "to send (or memory ran out)\"}}");
    }
    j->out = gw_buf_take(&b, &j->out_len);
    json_decref(j->result);
    j->result = NULL;
}

/* Frees the job (not the request: that is the reply's business). Accepts NULL. */
static void job_free(struct admin_job *j)
{
    if (!j)
        return;
    json_decref(j->result);
    gw_free(j->out);
    gw_free(j->aq);
    gw_ctx_unref(j->ctx);
    gw_free(j);
}

static void job_done(void *arg);

/* Pool side of a job: store handle, work, write hook, serialisation, hand-back to the loop.
 * The request object is not touched here. */
static void job_run(void *arg)
{
    struct admin_job *j = arg;
    struct gw_admin *adm = j->adm;
    struct gw_error err = {0};
    struct gw_store *st = gw_store_per_thread_get(&adm->stores, &err);
    struct gw_json_heap *heap = NULL;
    if (!st) {
        gw_admin__fail(j, 503, "unavailable", "database: %s", err.msg);
    } else {
        /* an import's values live in a bulk heap until its reply is serialised; the audit
         * event and the write hook allocate from malloc (what they keep outlives the job) */
        heap = j->bulk ? gw_json_heap_new(0) : NULL;
        gw_json_heap_enter(heap);
        j->work(j, st);
        gw_json_heap_enter(NULL);
        if (j->drop_store) {
            /* a broken connection (PostgreSQL restart, network): reopen on the next job */
            gw_store_per_thread_drop(&adm->stores);
        }
    }
    if (j->wrote && j->status < 300 && adm->on_write)
        adm->on_write(adm->on_write_arg);
    if (j->write && adm->audit)
        gw_admin__audit_write(j); /* durable before the reply leaves */
    serialise(j); /* the last use of the work's values */
    gw_json_heap_release(heap);
    if (j->body_len >= TRIM_AFTER_BYTES || j->out_len >= TRIM_AFTER_BYTES)
        malloc_trim(0); /* glibc: returns free memory of every arena */
    if (gw_loop_post(j->loop, job_done, j) != GW_OK) {
        /* the server stopped past its grace period: nobody can take the reply any more (the
         * request itself is released with its server) */
        GW_LOG(GW_LOG_WARN, "admin", "reply dropped: the admin server has stopped");
        job_free(j);
    }
}

/* ---- the job: loop side ------------------------------------------------------------------- */

/* Loop side, last step: headers, the serialised reply, and the job is gone. */
static void job_done(void *arg)
{
    struct admin_job *j = arg;
    struct gw_http_req *r = j->r;
    gw_http_add_header(r, "Cache-Control", "no-store");
    if (j->etag[0])
        gw_http_add_header(r, "ETag", j->etag);
    if (j->location[0])
        gw_http_add_header(r, "Location", j->location);
    gw_http_reply(r, j->status, j->ctype[0] ? j->ctype : "application/json", j->out, j->out_len);
    job_free(j);
}

/* Refusals before any job exists (route, peer, parameters, a full queue). */
static void reply_error(struct gw_http_req *r, int status, const char *code, const char *msg)
{
    gw_http_add_header(r, "Cache-Control", "no-store");
    gw_http_reply_error(r, status, code, msg);
}

/* Parses a boolean query parameter. */
static int q_bool(struct gw_http_req *r, const char *name, bool *out, struct gw_error *err)
{
    const char *v = gw_http_query_param(r, name);
    *out = false;
    if (!v)
        return GW_OK;
    if (!strcmp(v, "true") || !strcmp(v, "1"))
        *out = true;
    else if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0)
        return GW_ERROR_SET(err, GW_EINVAL, "query parameter %s must be true or false", name);
    return GW_OK;
}

/* Reads an optional name-like query parameter. */
static int q_name(struct gw_http_req *r, const char *name, const char **out,
                  struct gw_error *err)
{
    const char *v = gw_http_query_param(r, name);
    *out = NULL;
    if (!v)
        return GW_OK;
    if (!gw_admin__valid_name(v))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "query parameter %s must be 1-%d characters of A-Z a-z 0-9 _ . -",
                            name, GW_STORE_NAME_MAX);
    *out = v;
    return GW_OK;
}

/* Reads a decimal query parameter within [lo, hi]. */
static int q_size(struct gw_http_req *r, const char *name, size_t lo, size_t hi, size_t *out,
                  struct gw_error *err)
{
    const char *v = gw_http_query_param(r, name);
    if (!v)
        return GW_OK;
    unsigned long long u = 0;
    if (strlen(v) > 12 || gw_str_to_u64(gw_str_c(v), &u) != GW_OK || u < lo || u > hi)
        return GW_ERROR_SET(err, GW_EINVAL, "query parameter %s must be an integer from %zu to %zu",
                            name, lo, hi);
    *out = (size_t)u;
    return GW_OK;
}

/* A file name for the spec record: printable, no path separators, bounded. */
static bool valid_file_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ADMIN_FILE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return false;
    }
    return true;
}

/* Printable text (UTF-8 allowed), no control characters, bounded. */
static bool valid_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* Validates the query parameters and headers an endpoint reads (its flags) into the job. Only
 * the parameters an endpoint declares are read; others are ignored, as HTTP APIs usually do.
 * Strings stay in the request's arena (valid until the reply; read-only for the pool). */
static int read_params(struct gw_http_req *r, unsigned flags, struct admin_job *j,
                       struct gw_error *err)
{
    struct admin_query *q = &j->q;
    q->limit = ADMIN_PAGE_DEFAULT;
    int rc = GW_OK;
    if (flags & Q_LIMIT)
        rc = q_size(r, "limit", 1, GW_STORE_PAGE_MAX, &q->limit, err);
    if (rc == GW_OK && (flags & Q_AFTER)) {
        rc = q_name(r, "after", &q->after, err);
    }
    if (rc == GW_OK && (flags & Q_CURSOR))
        rc = q_size(r, "after", 0, ADMIN_HISTORY_MAX, &q->offset, err);
    if (rc == GW_OK && (flags & Q_STATUS)) {
        q->status = gw_http_query_param(r, "status");
        if (q->status && strcmp(q->status, "draft") && strcmp(q->status, "active") &&
            strcmp(q->status, "deprecated") && strcmp(q->status, "disabled"))
            rc = GW_ERROR_SET(err, GW_EINVAL,
                              "query parameter status must be draft, active, deprecated or "
                              "disabled");
    }
    if (rc == GW_OK && (flags & Q_ASTATUS)) {
        q->status = gw_http_query_param(r, "status");
        if (q->status && strcmp(q->status, "pending") && strcmp(q->status, "approved") &&
            strcmp(q->status, "denied") && strcmp(q->status, "used"))
            rc = GW_ERROR_SET(err, GW_EINVAL,
                              "query parameter status must be pending, approved, denied or used");
    }
    if (rc == GW_OK && (flags & Q_PRINCIPAL)) {
        q->role = gw_http_query_param(r, "role");
        q->user = gw_http_query_param(r, "user");
        q->client = gw_http_query_param(r, "client");
        q->tenant = gw_http_query_param(r, "tenant");
        const char *all[] = {q->role, q->user, q->client, q->tenant};
        for (size_t i = 0; i < 4 && rc == GW_OK; i++)
            if (all[i] && !valid_text(all[i], 1024))
                rc = GW_ERROR_SET(err, GW_EINVAL, "role, user, client and tenant are text of at "
                                                  "most 1024 characters");
    }
    if (rc == GW_OK && (flags & Q_WINDOW)) {
        size_t window = 3600, step = 0;
        rc = q_size(r, "window", 1, 100000000, &window, err);
        if (rc == GW_OK)
            rc = q_size(r, "step", 1, 100000000, &step, err);
        q->window = (unsigned)window;
        if (rc == GW_OK)
            rc = gw_metrics_series_check(window, step, &q->step, err);
    }
    if (rc == GW_OK && (flags & Q_BUNDLE))
        rc = q_name(r, "bundle", &q->bundle, err);
    if (rc == GW_OK && (flags & Q_SPEC))
        rc = q_name(r, "spec", &q->spec, err);
    if (rc == GW_OK && (flags & Q_SPEC_ID))
        rc = q_name(r, "specId", &q->spec_id, err);
    if (rc == GW_OK && (flags & Q_UPSTREAM))
        rc = q_name(r, "upstream", &q->upstream, err);
    if (rc == GW_OK && (flags & Q_DETACH))
        rc = q_bool(r, "detachTools", &q->detach_tools, err);
    if (rc == GW_OK && (flags & Q_REMOVE))
        rc = q_bool(r, "removeTools", &q->remove_tools, err);
    if (rc == GW_OK && (flags & Q_CONTENT))
        rc = q_bool(r, "content", &q->content, err);
    if (rc == GW_OK && (flags & Q_ACTIVATE))
        rc = q_bool(r, "activate", &q->activate, err);
    if (rc == GW_OK && (flags & Q_DRY_RUN))
        rc = q_bool(r, "dryRun", &q->dry_run, err);
    if (rc == GW_OK && (flags & Q_NAMING)) {
        const char *oc = gw_http_query_param(r, "onConflict");
        if (oc && strcmp(oc, "prefix") != 0 && strcmp(oc, "fail") != 0)
            rc = GW_ERROR_SET(err, GW_EINVAL, "query parameter onConflict must be prefix or fail");
        q->fail_on_conflict = oc && !strcmp(oc, "fail");
        if (rc == GW_OK)
            rc = q_bool(r, "renameExisting", &q->rename_existing, err);
    }
    if (rc == GW_OK && (flags & Q_INCLUDE_CONTENT)) {
        q->include_content = true; /* the only parameter whose default is true */
        if (gw_http_query_param(r, "includeContent"))
            rc = q_bool(r, "includeContent", &q->include_content, err);
    }
    if (rc == GW_OK && (flags & Q_FILE_NAME)) {
        q->file_name = gw_http_query_param(r, "fileName");
        if (q->file_name && !valid_file_name(q->file_name))
            rc = GW_ERROR_SET(err, GW_EINVAL,
                              "query parameter fileName must be 1-%d printable characters "
                              "without / or \\",
                              ADMIN_FILE_NAME_MAX);
    }
    if (rc == GW_OK && (flags & F_IF_MATCH)) {
        const char *im = gw_http_header(r, "If-Match");
        if (im)
            rc = gw_admin__parse_if_match(im, &j->if_version, err);
    }
    if (rc == GW_OK && (flags & F_WRITE)) {
        const char *why = gw_http_header(r, "X-Change-Reason");
        if (why && !valid_text(why, ADMIN_REASON_MAX))
            rc = GW_ERROR_SET(err, GW_EINVAL,
                              "X-Change-Reason must be at most %d printable characters",
                              ADMIN_REASON_MAX);
        j->who.why = why;
    }
    return rc;
}

/* The methods a route answers, for 405's Allow header. */
static void allow_header(enum admin_route route, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    static const char *const names[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        if (endpoints[i].route != route || (int)endpoints[i].method > (int)GW_HTTP_PATCH)
            continue;
        int w = snprintf(out + n, size - n, "%s%s", n ? ", " : "",
                         names[endpoints[i].method]);
        if (w < 0 || (size_t)w >= size - n)
            break;
        n += (size_t)w;
    }
}

/* The authenticated part of a request (loop thread). Order: role (403) -> method (405) ->
 * parameters (400) -> queue (503) -> the job answers later. */
static void admin_dispatch(struct gw_admin *adm, struct gw_http_req *r, struct gw_ctx *ctx,
                           const struct admin_match *m, const struct endpoint *ep)
{
    const struct gw_principal *who = gw_ctx_principal(ctx);
    if (m->route == AR_WHOAMI) {
        json_t *me = gw_principal_json(who);
        json_object_set_new(me, "admin", json_boolean(!adm->authn.ops ||
                                                      gw_principal_has_role(who, adm->admin_role)));
        gw_http_add_header(r, "Cache-Control", "no-store");
        gw_http_reply_json(r, 200, me);
        json_decref(me);
        return;
    }
    if (adm->authn.ops && m->route != AR_HEALTH && !gw_principal_has_role(who, adm->admin_role)) {
        char msg[400];
        snprintf(msg, sizeof(msg),
                 "the admin API requires the role '%s'; %s '%s' does not have it (ask an "
                 "administrator to grant it, or sign in with an account that has it)",
                 adm->admin_role, gw_auth_method_name(who->method), who->subject);
        GW_LOG(GW_LOG_INFO, "admin", "refused %s %s for %s: no admin role",
               gw_http_method_name(r), gw_http_path(r), who->subject);
        reply_error(r, 403, "forbidden", msg);
        return;
    }
    struct gw_error err = {0};
    struct admin_job *j = gw_xcalloc(1, sizeof(*j));
    j->adm = adm;
    j->r = r;
    j->loop = gw_worker_loop(gw_http_worker(r));
    j->work = ep->work;
    j->m = *m;
    j->ctx = gw_ctx_ref(ctx);
    if (who->method == GW_AUTH_ANONYMOUS)
        snprintf(j->actor, sizeof(j->actor), "anonymous");
    else
        snprintf(j->actor, sizeof(j->actor), "%s:%s", gw_auth_method_name(who->method),
                 who->subject);
    j->who.who = j->actor;
    j->status = 500;
    int prc = read_params(r, ep->flags, j, &err);
    if (prc == GW_OK && (ep->flags & Q_AUDIT))
        prc = gw_admin__audit_params(r, j, &err);
    if (prc != GW_OK) {
        job_free(j);
        reply_error(r, 400, "invalid", err.msg);
        return;
    }
    /* what the audit record of a write says about the request */
    j->write = (ep->flags & F_WRITE) != 0;
    j->bulk = (ep->flags & F_BULK) != 0;
    snprintf(j->peer, sizeof(j->peer), "%s", gw_http_peer(r));
    snprintf(j->rid, sizeof(j->rid), "%s", gw_http_request_id(r));
    snprintf(j->trace, sizeof(j->trace), "%s", gw_http_trace_id(r));
    snprintf(j->method, sizeof(j->method), "%s", gw_http_method_name(r));
    snprintf(j->path, sizeof(j->path), "%s", gw_http_path(r));
    /* evbuffer_pullup makes the body contiguous: done here, on the loop thread that owns the
     * buffer; the pool thread then only reads it, and the loop does not touch it meanwhile */
    j->body = gw_http_body(r, &j->body_len);
    /* no `done` for the pool: job_run posts the reply itself, so that it can free the job when
     * the loop is gone (the pool would drop it silently) */
    if (gw_pool_submit(adm->pool, job_run, NULL, j, j->loop) != GW_OK) {
        job_free(j);
        gw_http_add_header(r, "Retry-After", "1");
        reply_error(r, 503, "busy", "the admin API is busy: retry shortly");
    }
}

/* A request waiting for its authentication. */
struct admin_wait {
    struct gw_admin *adm;
    struct gw_http_req *r;
    struct admin_match m;
    const struct endpoint *ep;
};

static void admin_authenticated(struct gw_ctx *ctx, void *arg)
{
    struct admin_wait *w = arg;
    const struct gw_auth_failure *f = gw_ctx_auth_failure(ctx);
    if (f) {
        GW_LOG(GW_LOG_INFO, "admin", "refused %s %s from %s: %s", gw_http_method_name(w->r),
               gw_http_path(w->r), gw_http_peer(w->r), f->description);
        if (f->challenge[0])
            gw_http_add_header(w->r, "WWW-Authenticate", f->challenge);
        const char *code;
        int st = gw_auth_failure_http(f, &code);
        reply_error(w->r, st, code, f->description);
    } else {
        admin_dispatch(w->adm, w->r, ctx, &w->m, w->ep);
    }
    gw_ctx_unref(ctx);
}

/* The route handler of /admin/api/ (loop thread). Order: peer (403) -> path (404/400) ->
 * method (405) -> public endpoints -> authentication (401) -> admin_dispatch. */
static void admin_handle(struct gw_http_req *r, void *arg)
{
    struct gw_admin *adm = arg;
    if (!adm->allow_remote && !gw_admin__peer_is_loopback(gw_http_peer(r))) {
        reply_error(r, 403, "forbidden",
                    "the admin API accepts loopback clients only (GW_ADMIN_ALLOW_REMOTE)");
        return;
    }
    struct gw_error err = {0};
    struct admin_match m;
    int rc = gw_admin__route(gw_http_path(r), &m, &err);
    if (rc == GW_ENOTFOUND) {
        reply_error(r, 404, "not_found", "no such admin endpoint");
        return;
    }
    if (rc != GW_OK) {
        reply_error(r, 400, "invalid", err.msg);
        return;
    }
    const struct endpoint *ep = NULL;
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]) && !ep; i++)
        if (endpoints[i].route == m.route && endpoints[i].method == gw_http_method(r))
            ep = &endpoints[i];
    if (!ep) {
        char allow[64];
        allow_header(m.route, allow, sizeof(allow));
        gw_http_add_header(r, "Allow", allow);
        reply_error(r, 405, "method_not_allowed", "method not allowed on this endpoint");
        return;
    }
    if (m.route == AR_HEALTH && adm->authn.ops) {
        /* probes carry no credentials: the health answer is public (it says nothing secret) */
        struct gw_ctx_init hi = {.transport = GW_TRANSPORT_ADMIN,
                                 .loop = gw_worker_loop(gw_http_worker(r)),
                                 .peer = gw_http_peer(r),
                                 .request_id = gw_http_request_id(r)};
        struct gw_ctx *hc = gw_ctx_new(&hi);
        gw_ctx_set_principal(hc, gw_principal_anonymous());
        admin_dispatch(adm, r, hc, &m, ep);
        gw_ctx_unref(hc);
        return;
    }
    if (m.route == AR_AUTH_CONFIG) {
        gw_http_add_header(r, "Cache-Control", "no-store");
        json_t *off = json_pack("{s:s,s:n,s:b}", "mode", "off", "oidc", "api_keys", 0);
        gw_http_reply_json(r, 200, adm->auth_config ? adm->auth_config : off);
        json_decref(off);
        return;
    }
    struct gw_ctx_init ci = {.transport = GW_TRANSPORT_ADMIN,
                             .loop = gw_worker_loop(gw_http_worker(r)),
                             .peer = gw_http_peer(r),
                             .request_id = gw_http_request_id(r),
                             .trace_id = gw_http_trace_id(r),
                             .credential = gw_http_header(r, "Authorization")};
    struct gw_ctx *ctx = gw_ctx_new(&ci);
    gw_ctx_set_method(ctx, gw_http_method_name(r));
    if (!adm->authn.ops) {
        gw_ctx_set_principal(ctx, gw_principal_anonymous());
        admin_dispatch(adm, r, ctx, &m, ep);
        gw_ctx_unref(ctx);
        return;
    }
    struct admin_wait *w = gw_arena_alloc(gw_http_arena(r), sizeof(*w));
    if (!w) {
        gw_ctx_unref(ctx);
        reply_error(r, 503, "unavailable", "out of memory");
        return;
    }
    w->adm = adm;
    w->r = r;
    w->m = m;
    w->ep = ep;
    gw_ctx_ref(ctx); /* admin_authenticated drops it */
    if (adm->authn.ops->authenticate(adm->authn.self, ctx, admin_authenticated, w) != GW_AGAIN)
        admin_authenticated(ctx, w);
    gw_ctx_unref(ctx);
}

/* ---- attach / free ------------------------------------------------------------------------ */

/* Copies what it needs from cfg; the importer options are fixed here once (limits from the
 * settings, file references always off) and copied into each job's import. */
int gw_admin_attach(struct gw_server *http, const struct gw_admin_config *cfg,
                    struct gw_admin **out, struct gw_error *err)
{
    *out = NULL;
    if (!cfg->store_url || !*cfg->store_url)
        return GW_ERROR_SET(err, GW_EINVAL, "admin API: no database URL");
    if (!cfg->allow_remote && !gw_server_is_loopback(http))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "admin API: refusing to serve on %s, which is not a loopback "
                            "address (no authentication yet; set GW_ADMIN_ALLOW_REMOTE=true "
                            "only behind another protection)",
                            gw_server_address(http));
    /* a web page must not be able to drive the admin API (CSRF, DNS rebinding) */
    gw_server_check_origin(http, cfg->allowed_origins, cfg->allowed_hosts);
    struct gw_admin *adm = gw_xcalloc(1, sizeof(*adm));
    gw_openapi_options_init(&adm->oo);
    if (cfg->settings)
        gw_openapi_options_from_settings(&adm->oo, cfg->settings);
    /* uploaded documents must never reach files of this host */
    adm->oo.allow_file_refs = false;
    adm->oo.progress = NULL;
    adm->ssrf = cfg->ssrf;
    if (!adm->ssrf) {
        if (cfg->settings) {
            int rc = gw_ssrf_policy_from_settings(cfg->settings, &adm->own_ssrf, err);
            if (rc != GW_OK) {
                gw_free(adm);
                return rc;
            }
        } else {
            adm->own_ssrf = gw_ssrf_policy_new();
        }
        adm->ssrf = adm->own_ssrf;
    }
    adm->oo.ssrf = adm->ssrf;
    adm->allow_remote = cfg->allow_remote;
    adm->max_body = cfg->max_body_bytes ? cfg->max_body_bytes : GW_STORE_SPEC_MAX;
    adm->export_max = cfg->export_max_bytes ? cfg->export_max_bytes : (64u << 20);
    adm->on_write = cfg->on_write;
    adm->on_write_arg = cfg->on_write_arg;
    adm->audit = cfg->audit;
    adm->verify = gw_admin__verify_new(cfg->audit);
    adm->limits_status = cfg->limits_status;
    adm->limits_arg = cfg->limits_arg;
    adm->metrics_summary = cfg->metrics_summary;
    adm->metrics_arg = cfg->metrics_arg;
    adm->authn = cfg->authn;
    adm->gov = cfg->gov;
    adm->registry = cfg->registry;
    snprintf(adm->admin_role, sizeof(adm->admin_role), "%s",
             cfg->admin_role ? cfg->admin_role : "admin");
    adm->auth_config = cfg->auth_config ? json_deep_copy(cfg->auth_config) : NULL;
    if (cfg->settings) {
        /* immutable after load; kept as text so pool threads never share a JSON value */
        json_t *sv = gw_settings_json(cfg->settings);
        adm->settings = gw_json_dumps(sv);
        json_decref(sv);
    }
    gw_store_per_thread_init(&adm->stores, cfg->store_url, cfg->store_opts);
    adm->pool = gw_pool_new(cfg->threads > 0 ? cfg->threads : 2, POOL_QUEUE);
    gw_server_route(http, "/admin/api/*", admin_handle, adm);
    *out = adm;
    return GW_OK;
}

void gw_admin_free(struct gw_admin *adm)
{
    if (!adm)
        return;
    gw_admin__verify_stop(adm->verify); /* a request waiting for it lets its pool thread go */
    gw_pool_free(adm->pool); /* pool threads exit: their store handles close (key destructor) */
    gw_admin__verify_free(adm->verify);
    gw_store_per_thread_fini(&adm->stores);
    gw_ssrf_policy_free(adm->own_ssrf);
    json_decref(adm->auth_config);
    gw_free(adm->settings);
    gw_free(adm);
}
