/*
 * src/admin/admin_audit.c
 * The audit side of the admin API: recording every write made through the API (before its
 * reply), and the read-only audit endpoints, all of whose work runs on the pool (file reads).
 * The admin console's contract (ui/admin/src/pages/Audit.tsx):
 *   GET  /admin/api/audit?from=&to=&subject=&tool=&decision=&limit=&before=   a page of records,
 *        newest first (next = before= of the following page); order=asc or after= oldest first
 *   GET  /admin/api/audit/{id}          one record (id = its sequence number)
 *   GET  /admin/api/audit/{id}/proof    its inclusion proof in the latest signed checkpoint
 *   GET  /admin/api/audit/chain         head, latest checkpoint, last verification
 *   GET  /admin/api/audit/logs?limit=   every replica's log in the database copy
 *   POST /admin/api/audit/verify?wait=[&log=]  verify now (this replica's log, or another's
 *                                       from the database copy), or join the verification
 *                                       running: its full report, or 202 with its progress
 *                                       after `wait` s (10); 409 while another log's runs
 *   GET  /admin/api/audit/export?format=jsonl|csv&<the list's filters>
 * and the raw forms the CLI mirrors:
 *   GET /admin/api/audit/verify      the verification report of this replica's log
 *   GET /admin/api/audit/search      records matching tool, subject, requestId, traceId,
 *                                    outcome, kind, method, since, until, fromSeq, limit
 *   GET /admin/api/audit/proof       ?seq=N[&size=S] inclusion, ?first=M[&second=N] consistency
 *   GET /admin/api/audit/checkpoint  the latest signed checkpoint
 *   GET /admin/api/audit/keys        the verifier keys
 * They are rows of the admin endpoint table (AR_AUDIT), so authentication and the admin role
 * apply as to every admin request.
 */
#include "admin/admin_internal.h"

#include "audit/audit.h"
#include "audit/audit_read.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "ctx/ctx.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define AUDIT_SEARCH_MAX 1000
#define AUDIT_VERIFY_WAIT_DEFAULT 10 /* seconds a verify request waits before answering 202 */
#define AUDIT_VERIFY_WAIT_MAX 60
/* a proof of another replica's record reads its log from the database up to the checkpoint
 * (32 bytes of memory per record, ~1-2 s per million records): larger logs are proven by the
 * replica that writes them or from an export */
#define AUDIT_PROOF_DB_MAX 2000000

struct admin_audit_q {
    char tool[128], subject[256], request_id[132], trace_id[40], outcome[16], kind[16],
        method[64], since[40], until[40], decision[16], format[8], order[8], scope[8];
    unsigned long long after, before;
    bool has_after, has_before;
    /* the view of every replica's log: its cursor (in after= or before=) and the log= of a
     * record or proof */
    struct gw_audit_pos pos;
    bool has_pos;
    char log[GW_AUDIT_LOG_ID_MAX + 1];
    unsigned long long from_seq, seq, size, first, second;
    bool has_seq, has_first;
    size_t limit;
    unsigned wait; /* /audit/verify: seconds to wait for the outcome */
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

size_t gw_admin__load_verifiers(struct gw_audit *a, struct gw_note_verifier **vs, size_t max)
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

static int other_log(const struct admin_job *j, const char **log, const char **url,
                     struct gw_error *err);

/* One verification at a time, on its own thread (admin_verify.c): 200 with the report when it
 * ends within ?wait= seconds, else 202 with its progress (GET /audit/chain follows it for this
 * replica's log, GET /audit/logs for another's, named by ?log=). */
static void w_verify(struct admin_job *j)
{
    json_t *r = NULL;
    struct gw_error err = {0};
    const char *log, *url;
    if (other_log(j, &log, &url, &err) != GW_OK) {
        gw_admin__fail(j, 404, "not_found", "%s", err.msg);
        return;
    }
    if (gw_admin__verify_run(j->adm->verify, j->adm->audit, log, url, j->aq->wait, &r, &err) !=
        GW_OK) {
        if (err.code == GW_ECONFLICT)
            gw_admin__fail(j, 409, "conflict", "%s", err.msg);
        else if (err.code == GW_ENOTFOUND)
            gw_admin__fail(j, 404, "not_found", "%s", err.msg);
        else
            gw_admin__fail(j, 503, "unavailable", "%s", err.msg);
        return;
    }
    bool running = gw_json_str(r, "state") != NULL;
    if (running)
        json_object_set_new(r, "next",
                            json_string(log ? "GET /admin/api/audit/logs shows its progress and "
                                              "then its outcome; or repeat this request to "
                                              "wait again"
                                            : "GET /admin/api/audit/chain shows its progress "
                                              "and then its outcome; or repeat this request to "
                                              "wait again"));
    gw_admin__ok(j, running ? 202 : 200, r);
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

/* after= / before=: a sequence number of this replica's log, or a position in the view of
 * every log ("<ts>~<log>~<seq>", the `next` of such a page). */
static bool q_cursor(struct gw_http_req *r, const char *name, struct admin_audit_q *q,
                     unsigned long long *out, bool *has, struct gw_error *err)
{
    const char *v = gw_http_query_param(r, name);
    *has = v != NULL;
    if (!v || !strchr(v, '~'))
        return q_num(r, name, out, has, err);
    if (!gw_audit_pos_parse(v, &q->pos)) {
        GW_ERROR_SET(err, GW_EINVAL, "query parameter %s: not a cursor of this list", name);
        return false;
    }
    q->has_pos = true;
    return true;
}

int gw_admin__audit_params(struct gw_http_req *r, struct admin_job *j, struct gw_error *err)
{
    const char *leaf = j->m.route == AR_AUDIT ? j->m.name : "";
    struct admin_audit_q *q = gw_xcalloc(1, sizeof(*q));
    j->aq = q;
    unsigned long long limit = 100, wait = AUDIT_VERIFY_WAIT_DEFAULT;
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
              q_num(r, "second", &q->second, NULL, err) &&
              q_text(r, "decision", q->decision, sizeof(q->decision), err) &&
              q_text(r, "format", q->format, sizeof(q->format), err) &&
              q_cursor(r, "after", q, &q->after, &q->has_after, err) &&
              q_cursor(r, "before", q, &q->before, &q->has_before, err) &&
              q_text(r, "log", q->log, sizeof(q->log), err) &&
              q_text(r, "scope", q->scope, sizeof(q->scope), err) &&
              q_text(r, "order", q->order, sizeof(q->order), err) &&
              q_num(r, "wait", &wait, NULL, err);
    /* the console's names for the time window */
    if (ok && !q->since[0])
        ok = q_text(r, "from", q->since, sizeof(q->since), err);
    if (ok && !q->until[0])
        ok = q_text(r, "to", q->until, sizeof(q->until), err);
    if (!ok)
        return GW_EINVAL;
    if (wait > AUDIT_VERIFY_WAIT_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "query parameter wait must be 0..%d (seconds)",
                            AUDIT_VERIFY_WAIT_MAX);
    q->wait = (unsigned)wait;
    if (limit < 1 || limit > AUDIT_SEARCH_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "query parameter limit must be 1..%d",
                            AUDIT_SEARCH_MAX);
    if (q->order[0] && strcmp(q->order, "asc") && strcmp(q->order, "desc"))
        return GW_ERROR_SET(err, GW_EINVAL, "query parameter order must be asc or desc");
    if (q->has_after && q->has_before)
        return GW_ERROR_SET(err, GW_EINVAL, "use after= (oldest first) or before= (newest "
                                            "first), not both");
    if (q->scope[0] && strcmp(q->scope, "all") && strcmp(q->scope, "replica"))
        return GW_ERROR_SET(err, GW_EINVAL, "query parameter scope must be all or replica");
    if (q->log[0] && !gw_audit_log_id_valid(q->log))
        return GW_ERROR_SET(err, GW_EINVAL, "query parameter log must be a log id (1-64 of "
                                            "A-Z a-z 0-9 . _ -)");
    if (q->format[0] && strcmp(q->format, "jsonl") && strcmp(q->format, "csv"))
        return GW_ERROR_SET(err, GW_EINVAL, "query parameter format must be jsonl or csv");
    if (!strcmp(leaf, "proof") && !q->has_seq && !q->has_first)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "proof needs seq=N (inclusion) or first=M (consistency)");
    q->limit = (size_t)limit;
    return GW_OK;
}

/* ---- the console's contract ---------------------------------------------------------------- */

static void hash_b64(const gw_hash h, char out[48])
{
    gw_note_b64(h, GW_HASH_LEN, out);
}

static void iso_of(time_t t, char *out, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* An AuditRecord of the console from a record line; `log` names its log in the view of every
 * replica's log (NULL: this replica's, the id is the sequence number alone). */
static json_t *ui_record(const char *log, uint64_t seq, const char *line, size_t len,
                         const json_t *ev)
{
    char id[GW_AUDIT_LOG_ID_MAX + 24], hb[48];
    if (log)
        snprintf(id, sizeof(id), "%s:%llu", log, (unsigned long long)seq);
    else
        snprintf(id, sizeof(id), "%llu", (unsigned long long)seq);
    gw_hash leaf;
    gw_merkle_leaf_hash(line, len, leaf);
    hash_b64(leaf, hb);
    const json_t *p = json_object_get(ev, "principal");
    const char *sub = json_string_value(json_object_get(p, "subject"));
    const char *actor = json_string_value(json_object_get(ev, "actor"));
    const char *ts = json_string_value(json_object_get(ev, "ts"));
    json_t *o = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s}", "id", id, "seq", (json_int_t)seq, "time",
                          ts ? ts : "", "subject",
                          sub && *sub ? sub : actor && *actor ? actor : "anonymous", "decision",
                          gw_audit_decision(ev), "hash", hb);
    if (log)
        json_object_set_new(o, "log", json_string(log));
#define COPY_STR(from, to)                                                          \
    do {                                                                            \
        const char *v_ = json_string_value(json_object_get(ev, from));             \
        if (v_ && *v_)                                                              \
            json_object_set_new(o, to, json_string(v_));                            \
    } while (0)
    const char *cid = json_string_value(json_object_get(p, "client_id"));
    if (cid && *cid)
        json_object_set_new(o, "clientId", json_string(cid));
    COPY_STR("tool", "tool");
    COPY_STR("method", "method");
    COPY_STR("outcome", "outcome");
    COPY_STR("request_id", "requestId");
    COPY_STR("action", "action");
    COPY_STR("kind", "kind");
#undef COPY_STR
    json_t *lat = json_object_get(ev, "latency_us");
    if (json_is_integer(lat))
        json_object_set_new(o, "latencyMs", json_real((double)json_integer_value(lat) / 1000.0));
    json_t *args = json_object_get(ev, "args");
    if (args)
        json_object_set(o, "arguments", args);
    json_t *reasons = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(ev, "decisions"), i, x)
    {
        const char *r = json_string_value(json_object_get(x, "reason"));
        if (r && *r)
            json_array_append_new(reasons, json_string(r));
    }
    const char *em = json_string_value(json_object_get(json_object_get(ev, "error"), "message"));
    bool seen = false; /* a refusal's message is usually its decision's reason: listed once */
    json_array_foreach(reasons, i, x)
        seen = seen || !strcmp(json_string_value(x), em ? em : "");
    if (em && *em && !seen)
        json_array_append_new(reasons, json_string(em));
    json_object_set_new(o, "reasons", reasons);
    json_object_set(o, "event", (json_t *)ev);
    return o;
}

struct page {
    json_t *items;
    size_t limit;
    uint64_t last;              /* this replica's view: the last item's seq */
    struct gw_audit_pos lastpos; /* the view of every log: the last item's position */
    bool more;
    struct gw_buf *raw; /* export: the output */
    size_t raw_max;     /* export: refused (not cut short) beyond this many bytes */
    bool csv, all;      /* all: every replica's log (the log is a column) */
    bool too_large;     /* export: the next record would pass raw_max */
};

static void csv_field(struct gw_buf *b, const char *s, bool last)
{
    gw_buf_addc(b, '"');
    for (; s && *s; s++) {
        if (*s == '"')
            gw_buf_addc(b, '"');
        gw_buf_addc(b, *s == '\n' || *s == '\r' ? ' ' : *s);
    }
    gw_buf_adds(b, last ? "\"\n" : "\",");
}

/* The export's CSV row of a record (the console's fields of it). */
static void csv_row(struct gw_buf *b, const json_t *r, const char *log, uint64_t seq)
{
    char n[24];
    snprintf(n, sizeof(n), "%llu", (unsigned long long)seq);
    if (log)
        csv_field(b, log, false);
    csv_field(b, n, false);
    static const char *const cols[] = {"time",    "subject",   "clientId", "tool", "method",
                                       "decision", "outcome", "requestId"};
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
        csv_field(b, gw_json_str(r, cols[i]), false);
    csv_field(b, gw_json_str(r, "hash"), true);
}

/* Appends one export row, or says the export is too large (never a cut-short export). */
static bool export_add(struct page *pg, const char *row, size_t n, bool newline)
{
    if (gw_buf_len(pg->raw) + n + (newline ? 1 : 0) > pg->raw_max) {
        pg->too_large = true;
        return false;
    }
    gw_buf_add(pg->raw, row, n);
    if (newline)
        gw_buf_addc(pg->raw, '\n');
    return true;
}

/* Adds a matching record to the page or the export; false once the page is full. `log` is
 * NULL in this replica's view. */
static bool page_add(struct page *pg, const char *log, uint64_t seq, const char *line,
                     size_t len, const json_t *ev)
{
    if (pg->raw && !pg->csv)
        return export_add(pg, line, len, true);
    if (!pg->raw && json_array_size(pg->items) >= pg->limit) {
        pg->more = true;
        return false;
    }
    json_t *r = ui_record(log, seq, line, len, ev);
    if (pg->raw) {
        struct gw_buf row;
        gw_buf_init(&row, pg->raw_max);
        csv_row(&row, r, pg->all ? log : NULL, seq);
        bool ok = export_add(pg, gw_buf_ptr(&row), gw_buf_len(&row), false);
        gw_buf_fini(&row);
        json_decref(r);
        return ok;
    }
    json_array_append_new(pg->items, r);
    pg->last = seq;
    if (log) {
        snprintf(pg->lastpos.ts, sizeof(pg->lastpos.ts), "%s", gw_json_str(ev, "ts"));
        snprintf(pg->lastpos.log_id, sizeof(pg->lastpos.log_id), "%s", log);
        pg->lastpos.seq = seq;
    }
    return true;
}

static bool page_line(void *ud, uint64_t seq, const char *line, size_t len, const json_t *ev)
{
    return page_add(ud, NULL, seq, line, len, ev);
}

static bool page_line_pg(void *ud, const char *log, uint64_t seq, const char *line, size_t len,
                         const json_t *ev)
{
    return page_add(ud, log, seq, line, len, ev);
}

/* The list's decision filter (allow, deny, ...), applied by the search. */
static bool decision_is(void *ud, const json_t *ev)
{
    return strcmp(gw_audit_decision(ev), ud) == 0;
}

static void query_from(const struct admin_audit_q *a, struct gw_audit_query *q, struct gw_audit *au)
{
    memset(q, 0, sizeof(*q));
#define OPT(f) (a->f[0] ? a->f : NULL)
    q->tool = OPT(tool);
    q->subject = OPT(subject);
    q->request_id = OPT(request_id);
    q->trace_id = OPT(trace_id);
    q->outcome = OPT(outcome);
    q->kind = OPT(kind);
    q->method = OPT(method);
    q->since = OPT(since);
    q->until = OPT(until);
#undef OPT
    q->from_seq = a->has_after ? a->after + 1 : a->from_seq;
    q->pii = gw_audit__pii(au);
}

/* Whether the list reads every replica's log (the PostgreSQL copy) rather than this replica's:
 * when the copy is configured, unless scope=replica or a cursor of this replica's log says so. */
static bool view_all(const struct admin_job *j)
{
    const struct admin_audit_q *a = j->aq;
    if (!gw_audit_database_url(j->adm->audit) || !strcmp(a->scope, "replica"))
        return false;
    return a->has_pos || !(a->has_after || a->has_before);
}

/* The page from every replica's log; GW_OK, or the database's error (err). */
static int list_all(struct admin_job *j, struct gw_audit_query *q, struct page *pg,
                    bool newest_first, struct gw_error *err)
{
    const struct admin_audit_q *a = j->aq;
    struct gw_audit_pg_query pq = {.q = q,
                                   .decision = a->decision[0] ? a->decision : NULL,
                                   .log_id = a->log[0] ? a->log : NULL,
                                   .newest_first = newest_first,
                                   .cursor = a->has_pos ? &a->pos : NULL};
    pg->all = true;
    long n = gw_audit_search_pg(gw_audit_database_url(j->adm->audit), &pq, page_line_pg, pg,
                                err);
    return n < 0 ? (int)n : GW_OK;
}

static void w_list(struct admin_job *j, bool export)
{
    const struct admin_audit_q *a = j->aq;
    struct gw_audit_query q;
    query_from(a, &q, j->adm->audit);
    q.limit = export ? (size_t)-1 : a->limit + 1; /* one more: is there a next page */
    if (a->decision[0]) {
        q.accept = decision_is;
        q.accept_ud = (void *)a->decision;
    }
    /* newest first unless asked otherwise (or paged with after=): read from the newest segment
     * back, as far as the page needs */
    q.newest_first = !export && strcmp(a->order, "asc") != 0 && !a->has_after;
    q.has_before = a->has_before && !a->has_pos;
    q.before = a->before;
    struct gw_buf raw;
    gw_buf_init(&raw, j->adm->export_max); /* export_add checks before it adds */
    struct page pg = {.items = json_array(),
                      .limit = export ? (size_t)-1 : a->limit,
                      .raw = export ? &raw : NULL,
                      .raw_max = j->adm->export_max,
                      .csv = export && !strcmp(a->format, "csv")};
    bool all = view_all(j);
    if (pg.csv)
        gw_buf_adds(&raw, all ? "log,seq,time,subject,client_id,tool,method,decision,outcome,"
                                "request_id,hash\n"
                              : "seq,time,subject,client_id,tool,method,decision,outcome,"
                                "request_id,hash\n");
    struct gw_error err = {0};
    char warning[GW_ERROR_MSG_MAX + 64] = "";
    long n = 0;
    if (all && list_all(j, &q, &pg, q.newest_first, &err) != GW_OK) {
        if (export || a->has_pos) { /* no silent half export; a cursor only the database knows */
            json_decref(pg.items);
            gw_buf_fini(&raw);
            gw_admin__fail(j, 503, "unavailable", "%s", err.msg);
            return;
        }
        /* the list still shows what this replica holds, and says so */
        snprintf(warning, sizeof(warning), "%s: showing this replica's log only", err.msg);
        GW_LOG(GW_LOG_WARN, "admin", "audit list from the database failed: %s", err.msg);
        json_array_clear(pg.items);
        pg = (struct page){.items = pg.items, .limit = a->limit};
        all = false;
        gw_error_clear(&err);
    }
    if (!all)
        n = gw_audit_search_dir(gw_audit_log_dir(j->adm->audit), &q, page_line, &pg, &err);
    if (n < 0) {
        json_decref(pg.items);
        gw_buf_fini(&raw);
        gw_admin__fail_err(j, &err);
        return;
    }
    if (export && pg.too_large) {
        json_decref(pg.items);
        gw_buf_fini(&raw);
        gw_admin__fail(j, 422, "too_large",
                       "the export would pass %zu bytes (GW_ADMIN_EXPORT_MAX_BYTES): narrow it "
                       "with from=/to= or other filters, or take it with `mcpgw audit export` "
                       "or `mcpgw audit search --db`",
                       j->adm->export_max);
        return;
    }
    if (export) {
        json_decref(pg.items);
        json_decref(j->result);
        j->result = NULL;
        j->status = 200;
        j->out = gw_buf_take(&raw, &j->out_len);
        snprintf(j->ctype, sizeof(j->ctype), "%s",
                 pg.csv ? "text/csv; charset=utf-8" : "application/x-ndjson");
        return;
    }
    gw_buf_fini(&raw);
    char next[GW_AUDIT_LOG_ID_MAX + 80];
    if (all)
        gw_audit_pos_format(&pg.lastpos, next, sizeof(next));
    else
        snprintf(next, sizeof(next), "%llu", (unsigned long long)pg.last);
    json_t *out = json_pack("{s:o,s:o,s:s,s:s}", "items", pg.items, "next",
                            pg.more ? json_string(next) : json_null(), "scope",
                            all ? "all" : "replica", "log", gw_audit_log_id(j->adm->audit));
    if (warning[0])
        json_object_set_new(out, "warning", json_string(warning));
    gw_admin__ok(j, 200, out);
}

/* The record `seq` (NULL with err when absent). */
struct one {
    uint64_t seq;
    const char *log; /* the log the request named (NULL: none) */
    json_t *rec;
};

static bool one_line(void *ud, uint64_t seq, const char *line, size_t len, const json_t *ev)
{
    struct one *o = ud;
    if (seq != o->seq)
        return true;
    o->rec = ui_record(o->log, seq, line, len, ev);
    return false;
}

static bool one_line_pg(void *ud, const char *log, uint64_t seq, const char *line, size_t len,
                        const json_t *ev)
{
    struct one *o = ud;
    if (seq == o->seq && !o->rec)
        o->rec = ui_record(log, seq, line, len, ev);
    return false;
}

static bool parse_id(const char *s, uint64_t *out)
{
    unsigned long long v = 0;
    if (!*s || strlen(s) > 19 || gw_str_to_u64(gw_str_c(s), &v) != GW_OK)
        return false;
    *out = v;
    return true;
}

/* The log a record or proof request names with log= when it is not this replica's (*log
 * NULL: this replica's), and the database copy that holds it (*url); GW_ENOTFOUND (err) when
 * it names another log and the copy is off. */
static int other_log(const struct admin_job *j, const char **log, const char **url,
                     struct gw_error *err)
{
    *log = j->aq->log;
    *url = gw_audit_database_url(j->adm->audit);
    if (!(*log)[0] || !strcmp(*log, gw_audit_log_id(j->adm->audit)))
        *log = NULL;
    if (*log && !*url)
        return GW_ERROR_SET(err, GW_ENOTFOUND, "no audit log %s here: the audit database copy "
                                               "is off (GW_AUDIT_DATABASE_URL)", *log);
    return GW_OK;
}

static void w_record(struct admin_job *j)
{
    struct one o = {0, j->aq->log[0] ? j->aq->log : NULL, NULL};
    if (!parse_id(j->m.name, &o.seq)) {
        gw_admin__fail(j, 404, "not_found", "no such admin endpoint");
        return;
    }
    struct gw_error err = {0};
    const char *log, *url;
    if (other_log(j, &log, &url, &err) != GW_OK) {
        gw_admin__fail(j, 404, "not_found", "%s", err.msg);
        return;
    }
    if (log) {
        gw_audit_record_pg(url, log, o.seq, one_line_pg, &o, &err);
    } else {
        struct gw_audit_query q = {0};
        q.from_seq = o.seq;
        q.limit = 1;
        gw_audit_search_dir(gw_audit_log_dir(j->adm->audit), &q, one_line, &o, &err);
    }
    if (!o.rec) {
        if (err.code == GW_EIO)
            gw_admin__fail(j, 503, "unavailable", "%s", err.msg);
        else
            gw_admin__fail(j, 404, "not_found", "no audit record %s%s%s", log ? log : "",
                           log ? ":" : "", j->m.name);
        return;
    }
    gw_admin__ok(j, 200, o.rec);
}

/* Which side each proof hash is on, replaying RFC 9162 2.1.3.2. */
static json_t *proof_path(uint64_t index, uint64_t size, const json_t *proof)
{
    json_t *path = json_array();
    uint64_t fn = index, sn = size - 1;
    size_t i;
    json_t *h;
    json_array_foreach(proof, i, h)
    {
        bool left = (fn & 1) || fn == sn;
        json_array_append_new(path,
                              json_pack("{s:s,s:O}", "side", left ? "left" : "right", "hash", h));
        if (left)
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        fn >>= 1;
        sn >>= 1;
    }
    return path;
}

/* Whether the checkpoint text is signed by one of this log's verifier keys (shared by the
 * replicas) and heads the tree of `size` records with `root`. */
static bool signed_head(struct admin_job *j, const char *text, uint64_t size,
                        const gw_hash root)
{
    struct gw_note_verifier *vs[16];
    size_t n = gw_admin__load_verifiers(j->adm->audit, vs, 16);
    struct gw_checkpoint c;
    bool ok = text && gw_note_open_checkpoint(text, strlen(text), vs, n, &c, NULL) == GW_OK &&
              c.size == size && memcmp(c.root, root, GW_HASH_LEN) == 0;
    for (size_t i = 0; i < n; i++)
        gw_note_verifier_free(vs[i]);
    return ok;
}

static void w_ui_proof(struct admin_job *j)
{
    uint64_t seq;
    if (!parse_id(j->m.name, &seq)) {
        gw_admin__fail(j, 404, "not_found", "no audit record %s", j->m.name);
        return;
    }
    struct gw_error err = {0};
    const char *log, *url;
    json_t *p = NULL;
    int rc = other_log(j, &log, &url, &err);
    if (rc == GW_OK && log) /* another replica's log: computed from its rows in the database */
        p = gw_audit_inclusion_pg(url, log, seq, AUDIT_PROOF_DB_MAX, &err);
    else if (rc == GW_OK)
        p = gw_audit_inclusion_dir(gw_audit_log_dir(j->adm->audit), seq, 0, &err);
    if (!p) {
        if (err.code == GW_ELIMIT)
            gw_admin__fail(j, 409, "conflict", "%s", err.msg);
        else
            gw_admin__fail_err(j, &err);
        return;
    }
    uint64_t size = (uint64_t)json_integer_value(json_object_get(p, "size"));
    gw_hash leaf, root, proof[GW_MERKLE_MAX_PROOF];
    const json_t *pa = json_object_get(p, "proof");
    int np = 0;
    bool ok = gw_note_unb64(gw_json_str(p, "leaf_hash"), 44, leaf, 32) == 32 &&
              gw_note_unb64(gw_json_str(p, "root"), 44, root, 32) == 32;
    size_t i;
    json_t *h;
    json_array_foreach(pa, i, h)
    {
        if (np < GW_MERKLE_MAX_PROOF &&
            gw_note_unb64(json_string_value(h), 44, proof[np], 32) == 32)
            np++;
    }
    ok = ok && gw_merkle_verify_inclusion(leaf, seq, size, (const gw_hash *)proof, np, root);
    /* a proof from the database is only as good as the checkpoint it ends in: its signature
     * must verify and its head must be the root the rows give */
    if (log)
        ok = ok && signed_head(j, gw_json_str(p, "checkpoint"), size, root);
    json_t *out = json_pack("{s:s,s:I,s:s,s:o,s:{s:I,s:s},s:b}", "id", j->m.name, "seq",
                            (json_int_t)seq, "leafHash", gw_json_str(p, "leaf_hash"), "path",
                            proof_path(seq, size, pa), "checkpoint", "seq", (json_int_t)size,
                            "hash", gw_json_str(p, "root"), "valid", ok);
    if (j->aq->log[0])
        json_object_set_new(out, "log", json_string(j->aq->log));
    json_object_set(out, "rfc9162", p);
    json_decref(p);
    gw_admin__ok(j, 200, out);
}

static void w_chain(struct admin_job *j)
{
    struct gw_audit *au = j->adm->audit;
    json_t *o = json_object();
    uint64_t size = 0;
    gw_hash last;
    if (gw_audit_head(au, &size, last)) {
        char hb[48];
        hash_b64(last, hb);
        json_object_set_new(o, "head", json_pack("{s:I,s:s}", "seq", (json_int_t)(size - 1),
                                                 "hash", hb));
    } else {
        json_object_set_new(o, "head", json_null());
    }
    struct gw_error err = {0};
    char *text = gw_audit_latest_checkpoint(gw_audit_log_dir(au), &err);
    json_t *cp = json_null();
    if (text) {
        struct gw_note_verifier *vs[16];
        size_t n = gw_admin__load_verifiers(au, vs, 16);
        struct gw_checkpoint c;
        if (gw_note_open_checkpoint(text, strlen(text), vs, n, &c, &err) == GW_OK) {
            char hb[48], when[40], path[4200];
            hash_b64(c.root, hb);
            struct stat st;
            snprintf(path, sizeof(path), "%s/checkpoint", gw_audit_log_dir(au));
            iso_of(stat(path, &st) == 0 ? st.st_mtime : time(NULL), when, sizeof(when));
            const char *sig = strstr(text, "\n\n");
            char sigline[300] = "";
            if (sig)
                snprintf(sigline, sizeof(sigline), "%.*s", (int)strcspn(sig + 2, "\n"), sig + 2);
            cp = json_pack("{s:I,s:s,s:s,s:s,s:s}", "seq", (json_int_t)c.size, "hash", hb,
                           "time", when, "signature", sigline, "origin", c.origin);
        }
        for (size_t i = 0; i < n; i++)
            gw_note_verifier_free(vs[i]);
        gw_free(text);
    }
    json_object_set_new(o, "checkpoint", cp);
    json_object_set_new(o, "verification", gw_admin__verify_summary(j->adm->verify, NULL));
    json_object_set_new(o, "origin", json_string(gw_audit_origin(au)));
    gw_admin__ok(j, 200, o);
}

/* GET /audit/logs: every replica's log in the database copy (records, latest checkpoint), the
 * most recently checkpointed first; this replica's is marked. */
static void w_logs(struct admin_job *j)
{
    const char *url = gw_audit_database_url(j->adm->audit);
    if (!url) {
        gw_admin__fail(j, 404, "not_found", "the audit database copy is off "
                                            "(GW_AUDIT_DATABASE_URL): /audit/chain describes "
                                            "this replica's log");
        return;
    }
    struct gw_error err = {0};
    json_t *logs = gw_audit_logs_pg(url, (unsigned)j->aq->limit, &err);
    if (!logs) {
        gw_admin__fail(j, 503, "unavailable", "%s", err.msg);
        return;
    }
    const char *own = gw_audit_log_id(j->adm->audit);
    size_t i;
    json_t *l;
    json_array_foreach(logs, i, l) {
        bool mine = !strcmp(gw_json_str(l, "log"), own);
        json_object_set_new(l, "this", json_boolean(mine));
        json_object_set_new(l, "verification",
                            gw_admin__verify_summary_or(j->adm->verify,
                                                        mine ? NULL : gw_json_str(l, "log"),
                                                        json_object_get(l, "storedVerification")));
        json_object_del(l, "storedVerification");
    }
    gw_admin__ok(j, 200, json_pack("{s:o,s:s}", "logs", logs, "log", own));
}

void gw_admin__w_audit(struct admin_job *j, struct gw_store *st)
{
    if (!j->adm->audit) {
        gw_admin__fail(j, 404, "not_found", "the audit trail is off (GW_AUDIT_ENABLED)");
        return;
    }
    if (j->m.route == AR_AUDIT_LIST) {
        w_list(j, false);
        return;
    }
    if (j->m.route == AR_AUDIT_PROOF) {
        w_ui_proof(j);
        return;
    }
    const char *leaf = j->m.name;
    bool post = j->method[0] == 'P';
    if (post && strcmp(leaf, "verify") != 0) {
        gw_admin__fail(j, 405, "method_not_allowed", "only POST /audit/verify");
        return;
    }
    if (!strcmp(leaf, "verify"))
        w_verify(j);
    else if (!strcmp(leaf, "logs"))
        w_logs(j);
    else if (!strcmp(leaf, "chain"))
        w_chain(j);
    else if (!strcmp(leaf, "export"))
        w_list(j, true);
    else if (!strcmp(leaf, "search"))
        w_search(j, st);
    else if (!strcmp(leaf, "proof"))
        w_proof(j, st);
    else if (!strcmp(leaf, "checkpoint"))
        w_checkpoint(j, st);
    else if (!strcmp(leaf, "keys"))
        w_keys(j, st);
    else
        w_record(j);
}
