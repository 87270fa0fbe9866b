/*
 * src/admin/admin_audit.c
 * The audit side of the admin API: recording every write made through the API (before its
 * reply), and the read-only audit endpoints, all of whose work runs on the pool (file reads):
 *   GET /admin/api/audit/verify      the verification report of this replica's log
 *   GET /admin/api/audit/search      records matching tool, subject, requestId, traceId,
 *                                    outcome, kind, method, since, until, fromSeq, limit
 *   GET /admin/api/audit/proof       ?seq=N[&size=S] inclusion, ?first=M[&second=N] consistency
 *   GET /admin/api/audit/checkpoint  the latest signed checkpoint (text/plain JSON-wrapped)
 *   GET /admin/api/audit/keys        the verifier keys
 * They are rows of the admin endpoint table (AR_AUDIT), so authentication and the admin role
 * apply as to every admin request.
 */
#include "admin/admin_internal.h"

#include "audit/audit.h"
#include "audit/audit_read.h"
#include "core/alloc.h"
#include "core/str.h"
#include "ctx/ctx.h"

#include <stdio.h>
#include <string.h>

#define AUDIT_SEARCH_MAX 1000

struct admin_audit_q {
    char tool[128], subject[256], request_id[132], trace_id[40], outcome[16], kind[16],
        method[64], since[40], until[40];
    unsigned long long from_seq, seq, size, first, second;
    bool has_seq, has_first;
    size_t limit;
};

/* ---- recording writes ---------------------------------------------------------------------- */

static const char *action_of(const struct admin_job *j)
{
    bool del = strcmp(j->method, "DELETE") == 0, patch = strcmp(j->method, "PATCH") == 0;
    switch (j->m.route) {
    case AR_TOOL: return del ? "tool.delete" : patch ? "tool.update" : "tool.write";
    case AR_TOOL_ACTION: return "tool.status";
    case AR_BUNDLES: return "bundle.create";
    case AR_BUNDLE: return del ? "bundle.delete" : "bundle.update";
    case AR_SPEC: return "spec.delete";
    case AR_SPEC_REIMPORT: return "spec.reimport";
    case AR_IMPORTS: return "import.apply";
    default: return "admin.write";
    }
}

void gw_admin__audit_write(struct admin_job *j)
{
    json_t *details = json_object();
    if (j->m.status)
        json_object_set_new(details, "status", json_string(j->m.status));
    if (j->if_version)
        json_object_set_new(details, "if_match", json_integer(j->if_version));
    if (j->q.dry_run)
        json_object_set_new(details, "dry_run", json_true());
    struct gw_audit_admin_event e = {.request_id = j->rid,
                                     .trace_id = j->trace,
                                     .peer = j->peer,
                                     .principal = j->ctx ? gw_ctx_principal(j->ctx) : NULL,
                                     .actor = j->who.who,
                                     .method = j->method,
                                     .path = j->path,
                                     .action = action_of(j),
                                     .target = j->m.name,
                                     .status = j->status,
                                     .reason = j->who.why,
                                     .body = j->body,
                                     .body_len = j->body_len,
                                     .details = details};
    struct gw_error err = {0};
    if (gw_audit_admin_event(j->adm->audit, &e, &err) != GW_OK && j->status < 300)
        gw_admin__fail(j, 503, "audit_unavailable",
                       "the change was applied but could not be recorded in the audit trail: "
                       "%s",
                       err.msg);
    json_decref(details);
}

/* ---- the endpoints ------------------------------------------------------------------------- */

static size_t load_verifiers(struct gw_audit *a, struct gw_note_verifier **vs, size_t max)
{
    size_t n = 0;
    const char *p = gw_audit_verifier_keys(a);
    while (*p && n < max) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        char line[GW_NOTE_VKEY_MAX];
        if (l && l < sizeof(line)) {
            memcpy(line, p, l);
            line[l] = '\0';
            if (gw_note_verifier_new(line, &vs[n], NULL) == GW_OK)
                n++;
        }
        p += l + (e ? 1 : 0);
    }
    return n;
}

static void w_verify(struct admin_job *j, struct gw_store *st)
{
    (void)st;
    struct gw_note_verifier *vs[16];
    size_t n = load_verifiers(j->adm->audit, vs, 16);
    json_t *r = gw_audit_verify_dir(gw_audit_log_dir(j->adm->audit), vs, n);
    for (size_t i = 0; i < n; i++)
        gw_note_verifier_free(vs[i]);
    gw_admin__ok(j, 200, r);
}

static bool collect(void *ud, uint64_t seq, const char *line, size_t len, const json_t *event)
{
    (void)line;
    (void)len;
    json_t *arr = ud;
    json_array_append_new(arr, json_pack("{s:I,s:O}", "seq", (json_int_t)seq, "event", event));
    return true;
}

static void w_search(struct admin_job *j, struct gw_store *st)
{
    (void)st;
    const struct admin_audit_q *a = j->aq;
    struct gw_audit_query q = {0};
#define OPT(f) (a->f[0] ? a->f : NULL)
    q.tool = OPT(tool);
    q.subject = OPT(subject);
    q.request_id = OPT(request_id);
    q.trace_id = OPT(trace_id);
    q.outcome = OPT(outcome);
    q.kind = OPT(kind);
    q.method = OPT(method);
    q.since = OPT(since);
    q.until = OPT(until);
#undef OPT
    q.from_seq = a->from_seq;
    q.limit = a->limit;
    q.pii = gw_audit__pii(j->adm->audit);
    json_t *arr = json_array();
    struct gw_error err = {0};
    long n = gw_audit_search_dir(gw_audit_log_dir(j->adm->audit), &q, collect, arr, &err);
    if (n < 0) {
        json_decref(arr);
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__ok(j, 200, json_pack("{s:s,s:o}", "origin", gw_audit_origin(j->adm->audit),
                                   "records", arr));
}

static void w_proof(struct admin_job *j, struct gw_store *st)
{
    (void)st;
    const struct admin_audit_q *a = j->aq;
    struct gw_error err = {0};
    json_t *p = a->has_first ? gw_audit_consistency_dir(gw_audit_log_dir(j->adm->audit),
                                                        a->first, a->second, &err)
                             : gw_audit_inclusion_dir(gw_audit_log_dir(j->adm->audit), a->seq,
                                                      a->size, &err);
    if (!p)
        gw_admin__fail_err(j, &err);
    else
        gw_admin__ok(j, 200, p);
}

static void w_checkpoint(struct admin_job *j, struct gw_store *st)
{
    (void)st;
    struct gw_error err = {0};
    char *cp = gw_audit_latest_checkpoint(gw_audit_log_dir(j->adm->audit), &err);
    if (!cp) {
        gw_admin__fail_err(j, &err);
        return;
    }
    gw_admin__ok(j, 200, json_pack("{s:s,s:s}", "origin", gw_audit_origin(j->adm->audit),
                                   "checkpoint", cp));
    gw_free(cp);
}

static void w_keys(struct admin_job *j, struct gw_store *st)
{
    (void)st;
    json_t *arr = json_array();
    const char *p = gw_audit_verifier_keys(j->adm->audit);
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l)
            json_array_append_new(arr, json_stringn(p, l));
        p += l + (e ? 1 : 0);
    }
    gw_admin__ok(j, 200, json_pack("{s:o,s:s}", "keys", arr, "well_known", GW_AUDIT_KEYS_PATH));
}

/* Copies query parameter `name` into out (bounded, printable) or fails. */
static bool q_text(struct gw_http_req *r, const char *name, char *out, size_t size,
                   struct gw_error *err)
{
    const char *v = gw_http_query_param(r, name);
    out[0] = '\0';
    if (!v)
        return true;
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20) {
            GW_ERROR_SET(err, GW_EINVAL, "query parameter %s: control characters", name);
            return false;
        }
    if (n >= size) {
        GW_ERROR_SET(err, GW_EINVAL, "query parameter %s: at most %zu characters", name,
                     size - 1);
        return false;
    }
    memcpy(out, v, n + 1);
    return true;
}

static bool q_num(struct gw_http_req *r, const char *name, unsigned long long *out, bool *has,
                  struct gw_error *err)
{
    const char *v = gw_http_query_param(r, name);
    if (has)
        *has = v != NULL;
    if (!v)
        return true;
    if (strlen(v) > 19 || gw_str_to_u64(gw_str_c(v), out) != GW_OK) {
        GW_ERROR_SET(err, GW_EINVAL, "query parameter %s must be a non-negative integer", name);
        return false;
    }
    return true;
}

int gw_admin__audit_params(struct gw_http_req *r, struct admin_job *j, struct gw_error *err)
{
    const char *leaf = j->m.name;
    if (strcmp(leaf, "verify") && strcmp(leaf, "search") && strcmp(leaf, "proof") &&
        strcmp(leaf, "checkpoint") && strcmp(leaf, "keys"))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "audit endpoints: verify, search, proof, checkpoint, keys");
    struct admin_audit_q *q = gw_xcalloc(1, sizeof(*q));
    j->aq = q;
    unsigned long long limit = 100;
    bool ok = q_text(r, "tool", q->tool, sizeof(q->tool), err) &&
              q_text(r, "subject", q->subject, sizeof(q->subject), err) &&
              q_text(r, "requestId", q->request_id, sizeof(q->request_id), err) &&
              q_text(r, "traceId", q->trace_id, sizeof(q->trace_id), err) &&
              q_text(r, "outcome", q->outcome, sizeof(q->outcome), err) &&
              q_text(r, "kind", q->kind, sizeof(q->kind), err) &&
              q_text(r, "method", q->method, sizeof(q->method), err) &&
              q_text(r, "since", q->since, sizeof(q->since), err) &&
              q_text(r, "until", q->until, sizeof(q->until), err) &&
              q_num(r, "fromSeq", &q->from_seq, NULL, err) &&
              q_num(r, "limit", &limit, NULL, err) &&
              q_num(r, "seq", &q->seq, &q->has_seq, err) &&
              q_num(r, "size", &q->size, NULL, err) &&
              q_num(r, "first", &q->first, &q->has_first, err) &&
              q_num(r, "second", &q->second, NULL, err);
    if (!ok)
        return GW_EINVAL;
    if (limit < 1 || limit > AUDIT_SEARCH_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "query parameter limit must be 1..%d",
                            AUDIT_SEARCH_MAX);
    if (!strcmp(leaf, "proof") && !q->has_seq && !q->has_first)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "proof needs seq=N (inclusion) or first=M (consistency)");
    q->limit = (size_t)limit;
    return GW_OK;
}

void gw_admin__w_audit(struct admin_job *j, struct gw_store *st)
{
    if (!j->adm->audit) {
        gw_admin__fail(j, 404, "not_found", "the audit trail is off (GW_AUDIT_ENABLED)");
        return;
    }
    const char *leaf = j->m.name;
    if (!strcmp(leaf, "verify"))
        w_verify(j, st);
    else if (!strcmp(leaf, "search"))
        w_search(j, st);
    else if (!strcmp(leaf, "proof"))
        w_proof(j, st);
    else if (!strcmp(leaf, "checkpoint"))
        w_checkpoint(j, st);
    else
        w_keys(j, st);
}
