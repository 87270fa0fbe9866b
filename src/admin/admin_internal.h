/*
 * src/admin/admin_internal.h
 * Shared between the files of src/admin only: the admin object, the route matcher, the job
 * that carries one request from the HTTP loop to a pool thread and back, and the endpoint
 * work functions.
 *
 * Life of a request (admin_api.c): the route handler runs on the admin server's loop, matches
 * the path (gw_admin__route), checks the peer, the method and the query/header parameters
 * (struct admin_query), fills a struct admin_job and submits it to the pool. The job's work
 * function runs on a pool thread with that thread's store handle, leaves its reply in the job
 * (gw_admin__ok / gw_admin__fail*), which is serialised there too; the loop then sends it and
 * frees the job. Work functions never touch the request object (it belongs to the loop thread):
 * everything they need was copied or borrowed into the job before submission.
 */
#ifndef GW_ADMIN_INTERNAL_H
#define GW_ADMIN_INTERNAL_H

#include "admin/admin.h"

#include "ctx/ctx.h"
#include "net/net_http.h"
#include "net/net_pool.h"
#include "openapi/openapi.h"
#include "store/store.h"
#include "store/store_thread.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define ADMIN_PREFIX "/admin/api/"
#define ADMIN_JSON_DEPTH 512          /* nesting accepted in JSON bodies (tool schemas nest) */
#define ADMIN_REPLY_MAX (512u << 20)  /* largest serialised reply (previews of huge specs) */
#define ADMIN_URL_MAX 4096            /* spec URLs */
#define ADMIN_REASON_MAX 1024         /* X-Change-Reason */
#define ADMIN_FILE_NAME_MAX 255       /* ?fileName= of an upload */
#define ADMIN_PAGE_DEFAULT 100
#define ADMIN_HISTORY_MAX GW_STORE_PAGE_MAX /* history rows reachable through paging */

struct gw_admin {
    struct gw_store_per_thread stores;  /* one database handle per pool thread */
    struct gw_openapi_options oo;       /* base importer options (limits, refs) */
    struct gw_ssrf_policy *own_ssrf;    /* built from the settings, or NULL */
    const struct gw_ssrf_policy *ssrf;  /* the policy in use (own_ssrf or the config's) */
    bool allow_remote;
    size_t max_body;
    size_t export_max; /* largest audit export (GW_ADMIN_EXPORT_MAX_BYTES) */
    struct gw_pool *pool;
    gw_admin_write_fn on_write;
    void *on_write_arg;
    struct gw_authn authn;     /* ops NULL: no authentication (loopback clients only) */
    struct gw_gov *gov;        /* governance (preview, tester, validation); may be NULL */
    struct gw_registry *registry; /* the served snapshot (preview, tester); may be NULL */
    char admin_role[128];
    json_t *auth_config;       /* GET /auth/config (NULL: {"mode":"off"}) */
    char *settings; /* the effective configuration (gw_settings_json) serialised, or NULL */
    struct gw_audit *audit; /* borrowed; NULL = no audit trail */
    struct admin_verify *verify; /* the log's verification, one at a time (admin_verify.c) */
    gw_admin_json_fn limits_status; /* the running limiter's rules and counters, or NULL */
    void *limits_arg;
    gw_admin_summary_fn metrics_summary; /* the dashboard's traffic summary, or NULL */
    void *metrics_arg;
};

/* ---- routes (admin_route.c) ---- */

enum admin_route {
    AR_NONE = 0,
    AR_HEALTH,         /* /health */
    AR_TOOLS,          /* /tools */
    AR_TOOL,           /* /tools/{name} */
    AR_TOOL_ACTION,    /* /tools/{name}/activate|disable|deprecate|draft */
    AR_TOOL_HISTORY,   /* /tools/{name}/history */
    AR_BUNDLES,        /* /bundles */
    AR_BUNDLE,         /* /bundles/{name} */
    AR_SPECS,          /* /specs */
    AR_SPEC,           /* /specs/{id} */
    AR_SPEC_REIMPORT,  /* /specs/{id}/reimport */
    AR_IMPORTS,        /* /imports */
    AR_IMPORT_PREVIEW, /* /imports/preview */
    AR_WHOAMI,         /* /whoami (any authenticated principal) */
    AR_AUTH_CONFIG,    /* /auth/config (no credential needed: what a sign-in page needs) */
    AR_KEYS,           /* /keys */
    AR_KEY,            /* /keys/{id} */
    AR_SETTINGS,       /* /settings */
    AR_GOVERNANCE,     /* /governance */
    AR_EXPOSURE_RULES, /* /exposure/rules */
    AR_EXPOSURE_RULE,  /* /exposure/rules/{id} */
    AR_EXPOSURE_PREVIEW, /* /exposure/preview */
    AR_POLICIES,       /* /policies */
    AR_POLICY,         /* /policies/{id} */
    AR_POLICY_TEST,    /* /policies/test */
    AR_ROLES,          /* /roles */
    AR_ROLE,           /* /roles/{name} */
    AR_APPROVALS,      /* /approvals */
    AR_APPROVAL,       /* /approvals/{id} */
    AR_APPROVAL_ACTION, /* /approvals/{id}/approve|deny (m->status: "approve" or "deny") */
    AR_AUDIT_LIST,     /* /audit (admin_audit.c) */
    AR_AUDIT,          /* /audit/{id|chain|logs|verify|export|search|proof|checkpoint|keys} */
    AR_AUDIT_PROOF,    /* /audit/{id}/proof */
    AR_LIMITS,         /* /limits */
    AR_LIMIT,          /* /limits/{id} */
    AR_METRICS_SUMMARY, /* /metrics/summary (admin_metrics.c) */
    AR_TOOL_RENAME     /* /tools/{name}/rename (naming policy: the old name stays an alias) */
};

struct admin_match {
    enum admin_route route;
    char name[GW_STORE_NAME_MAX + 1]; /* the {name} or {id} segment, validated */
    const char *status;               /* AR_TOOL_ACTION: the status it sets (static string) */
};

/* Matches a decoded request path below /admin/api/ (one trailing slash tolerated). Returns
 * GW_OK with *m filled, GW_ENOTFOUND (no such endpoint) or GW_EINVAL (a {name}/{id} segment is
 * not 1..64 characters of [A-Za-z0-9_.-]; err says which). Pure. */
int gw_admin__route(const char *path, struct admin_match *m, struct gw_error *err);

/* 1..GW_STORE_NAME_MAX bytes of [A-Za-z0-9_.-], and not "." or "..". Pure. */
bool gw_admin__valid_name(const char *s);

/* Whether a peer address (as gw_http_peer prints it) is loopback: 127.0.0.0/8, ::1, or either
 * embedded in IPv6 (::ffff:127.0.0.1). "-" (unknown) is not. Pure. */
bool gw_admin__peer_is_loopback(const char *peer);

/* Parses an If-Match value: a tool version as `3`, `"3"` or `W/"3"`, or `*` (no check: 0).
 * GW_OK with *out_version, or GW_EINVAL. Pure. */
int gw_admin__parse_if_match(const char *v, long long *out_version, struct gw_error *err);

/* ---- jobs (admin_api.c) ---- */

/* The query parameters of a request, validated on the loop thread (strings borrowed from the
 * request's arena, valid until the reply). */
struct admin_query {
    const char *status, *bundle, *spec, *after, *upstream, *spec_id, *file_name;
    const char *role, *user, *client, *tenant; /* exposure preview ("view as") */
    unsigned window, step; /* /metrics/summary, checked by gw_metrics_series_check */
    size_t limit;  /* 1..GW_STORE_PAGE_MAX */
    size_t offset; /* history cursor */
    bool detach_tools, remove_tools, content, activate, dry_run, include_content;
    /* naming policy of imports (store_import.h): onConflict=fail, renameExisting=true */
    bool fail_on_conflict, rename_existing;
};

struct admin_job;
/* Runs on a pool thread with that thread's store handle; leaves the reply in the job. */
typedef void (*admin_work_fn)(struct admin_job *j, struct gw_store *st);

struct admin_job {
    struct gw_admin *adm;
    struct gw_http_req *r; /* touched on the loop thread only */
    struct gw_loop *loop;
    admin_work_fn work;
    struct admin_match m;
    struct admin_query q;
    const char *body; /* borrowed from the request, valid until the reply */
    size_t body_len;
    struct gw_ctx *ctx;         /* the request's context: the authenticated principal */
    char actor[300];            /* who.who: "<method>:<subject>" */
    long long if_version;       /* If-Match (0 = none) */
    struct gw_store_actor who;  /* who.why borrowed from the request */
    /* the reply, produced on the pool thread */
    int status;
    json_t *result;
    char *out;
    size_t out_len;
    char etag[32];
    char location[128];
    bool wrote;      /* a registry write committed: run on_write */
    bool drop_store; /* the store failed with GW_EIO: reopen it for the next job */
    /* for the audit record of a write (copied on the loop thread) */
    bool write;
    bool bulk; /* runs in a bulk JSON heap (F_BULK) */
    char peer[64], rid[132], trace[40], method[8], path[256];
    struct admin_audit_q *aq; /* /admin/api/audit/... parameters (admin_audit.c), or NULL */
    char ctype[64];           /* content type of a raw reply (out set by the work); "" = JSON */
};

/* ---- the audit side (admin_audit.c) ---- */
/* Reads the query parameters of GET /audit/... into j->aq (loop thread). GW_OK or GW_EINVAL. */
int gw_admin__audit_params(struct gw_http_req *r, struct admin_job *j, struct gw_error *err);
/* The work of GET /audit/{verify|search|proof|checkpoint|keys} (pool thread). */
void gw_admin__w_audit(struct admin_job *j, struct gw_store *st);
/* Opens the audit's verifier keys into vs (at most max); returns how many. */
struct gw_note_verifier;
size_t gw_admin__load_verifiers(struct gw_audit *a, struct gw_note_verifier **vs, size_t max);
/* Records a write's outcome in the audit trail (pool thread, after the work; blocks until
 * durable). */
void gw_admin__audit_write(struct admin_job *j);

/* ---- the audit log's verification (admin_verify.c) ---- */
struct admin_verify;
/* `a`: this replica's audit trail (NULL: off), whose folder keeps the last verification
 * summary across restarts, whose key seals the summaries written and whose verifier keys open
 * those read back (audit_verification.h). */
struct admin_verify *gw_admin__verify_new(struct gw_audit *a);
/* Wakes every waiting request (they answer at once) and makes a running verification stop at
 * its next progress call; then _free joins its thread. NULL is fine for both. */
void gw_admin__verify_stop(struct admin_verify *v);
void gw_admin__verify_free(struct admin_verify *v);
/* Starts a verification of an audit log (or joins the one running for it) and waits up to
 * wait_s seconds: *out is then its full report (its "log" names the log), or
 * {"state":"running","run","startedAt","pass","recordsRead"[,"log"]} if it goes on (requests
 * that joined one run see the same "run" number; with wait_s 0 always the progress).
 * `log` NULL: this replica's log, from its folder; else that log, read from the database copy
 * at `db_url` (the database copy, NULL when off: the outcome is also stored there). GW_OK;
 * GW_ECONFLICT while another log's verification runs; GW_ENOTFOUND (no
 * such log) or GW_EIO when the database could not give the log; GW_ERR when the admin API is
 * closing. On a pool thread. */
int gw_admin__verify_run(struct admin_verify *v, struct gw_audit *a, const char *log,
                         const char *db_url, unsigned wait_s, json_t **out,
                         struct gw_error *err);
/* The last verification's summary of a log (NULL: this replica's; {"status":"unknown"} before
 * the first), with "running" (the progress) while one of it runs. */
json_t *gw_admin__verify_summary(struct admin_verify *v, const char *log);
/* The same, but the summary `stored` in the database for that log (by any replica; NULL: none)
 * when it is newer than the one this replica kept. */
json_t *gw_admin__verify_summary_or(struct admin_verify *v, const char *log,
                                    const json_t *stored);

/* Sets the reply to `status` with `result` (reference stolen; NULL = {}). */
void gw_admin__ok(struct admin_job *j, int status, json_t *result);
/* Sets an error reply {"error":{"code","message"}}. */
void gw_admin__fail(struct admin_job *j, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets the error reply that `err` maps to (400 invalid, 404 not_found, 409 conflict, 413
 * too_large, 403 forbidden, 502/504 upstream, 503 unavailable for GW_EIO, else 500). */
void gw_admin__fail_err(struct admin_job *j, const struct gw_error *err);
/* Parses the body as JSON under the admin limits. Returns a new reference, or NULL with the
 * error reply set (400 empty/syntax, 413 too large/deep). `what` names the expected value in
 * messages ("a JSON object of changes"). Requires an object when want_object. */
json_t *gw_admin__body_json(struct admin_job *j, bool want_object, const char *what);
/* ETag of a tool definition ("\"<version>\"") into j->etag. */
void gw_admin__set_etag(struct admin_job *j, const json_t *def);

/* ---- endpoint work (admin_tools.c, admin_import.c) ---- */

void gw_admin__w_health(struct admin_job *j, struct gw_store *st);
void gw_admin__w_tools_list(struct admin_job *j, struct gw_store *st);
void gw_admin__w_tool_get(struct admin_job *j, struct gw_store *st);
void gw_admin__w_tool_patch(struct admin_job *j, struct gw_store *st);
void gw_admin__w_tool_delete(struct admin_job *j, struct gw_store *st);
void gw_admin__w_tool_action(struct admin_job *j, struct gw_store *st);
void gw_admin__w_tool_rename(struct admin_job *j, struct gw_store *st);
struct gw_store_import_opts;
/* The naming policy of an import: settings and the request's query parameters. */
void gw_admin__naming(struct admin_job *j, struct gw_store_import_opts *io);
void gw_admin__w_tool_history(struct admin_job *j, struct gw_store *st);
void gw_admin__w_bundles_list(struct admin_job *j, struct gw_store *st);
void gw_admin__w_bundle_create(struct admin_job *j, struct gw_store *st);
void gw_admin__w_bundle_get(struct admin_job *j, struct gw_store *st);
void gw_admin__w_bundle_patch(struct admin_job *j, struct gw_store *st);
void gw_admin__w_bundle_delete(struct admin_job *j, struct gw_store *st);
void gw_admin__w_specs_list(struct admin_job *j, struct gw_store *st);
void gw_admin__w_spec_get(struct admin_job *j, struct gw_store *st);
void gw_admin__w_spec_delete(struct admin_job *j, struct gw_store *st);
void gw_admin__w_import_preview(struct admin_job *j, struct gw_store *st);
void gw_admin__w_import_apply(struct admin_job *j, struct gw_store *st);
void gw_admin__w_spec_reimport(struct admin_job *j, struct gw_store *st);
/* admin_governance.c */
void gw_admin__w_governance(struct admin_job *j, struct gw_store *st);
void gw_admin__w_rules_list(struct admin_job *j, struct gw_store *st);
void gw_admin__w_rule_put(struct admin_job *j, struct gw_store *st);
void gw_admin__w_rule_patch(struct admin_job *j, struct gw_store *st);
void gw_admin__w_rule_delete(struct admin_job *j, struct gw_store *st);
void gw_admin__w_preview(struct admin_job *j, struct gw_store *st);
void gw_admin__w_policy_test(struct admin_job *j, struct gw_store *st);
void gw_admin__w_approvals_list(struct admin_job *j, struct gw_store *st);
void gw_admin__w_approval_get(struct admin_job *j, struct gw_store *st);
void gw_admin__w_approval_decide(struct admin_job *j, struct gw_store *st);
void gw_admin__w_limits_list(struct admin_job *j, struct gw_store *st);
void gw_admin__w_limit_create(struct admin_job *j, struct gw_store *st);
void gw_admin__w_limit_get(struct admin_job *j, struct gw_store *st);
void gw_admin__w_limit_replace(struct admin_job *j, struct gw_store *st);
void gw_admin__w_limit_patch(struct admin_job *j, struct gw_store *st);
void gw_admin__w_limit_delete(struct admin_job *j, struct gw_store *st);
/* admin_metrics.c */
void gw_admin__w_metrics_summary(struct admin_job *j, struct gw_store *st);
/* admin_keys.c */
void gw_admin__w_keys_list(struct admin_job *j, struct gw_store *st);
void gw_admin__w_key_create(struct admin_job *j, struct gw_store *st);
void gw_admin__w_key_get(struct admin_job *j, struct gw_store *st);
void gw_admin__w_key_revoke(struct admin_job *j, struct gw_store *st);
void gw_admin__w_settings(struct admin_job *j, struct gw_store *st);

#endif
