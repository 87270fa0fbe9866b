/*
 * src/store/store_approval.c
 * Approval rows (see store_approval.h). Invariants: a status only moves pending -> approved |
 * denied -> (approved only) used; each move is one UPDATE guarded by the expected status, so
 * two replicas cannot both spend or both decide the same approval.
 */
#include "store/store_approval.h"
#include "store/store_impl.h"

#include "core/alloc.h"
#include "core/json.h"

#include <string.h>

#define COLS                                                                                   \
    "id, status, subject, client_id, tool, risk, arguments, reason, created_at, expires_at, "  \
    "decided_at, decided_by, comment, used_at"

static json_t *opt(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int row_cb(void *ctx, const struct store_row *row)
{
    if (row->n < 14)
        return GW_ERR;
#define S(i) (row->v[i] ? row->v[i] : "")
    json_t *args = gw_store__parse(S(6), strlen(S(6)), NULL);
    json_array_append_new(
        ctx, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "id", S(0),
                       "status", S(1), "subject", S(2), "client_id", S(3), "tool", S(4), "risk",
                       S(5), "arguments", args ? args : json_object(), "reason", S(7),
                       "created_at", S(8), "expires_at", S(9), "decided_at", opt(row->v[10]),
                       "decided_by", opt(row->v[11]), "comment", opt(row->v[12]), "used_at",
                       opt(row->v[13])));
#undef S
    return GW_OK;
}

static int one(struct gw_store *st, const char *sql, const struct store_param *p, int np,
               json_t **out, struct gw_error *err)
{
    json_t *arr = json_array();
    int rc = gw_store__exec(st, sql, p, np, row_cb, arr, NULL, err);
    *out = NULL;
    if (rc == GW_OK && json_array_size(arr) == 0)
        rc = GW_ENOTFOUND;
    if (rc == GW_OK)
        *out = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return rc;
}

int gw_store_approval_request(struct gw_store *st, const json_t *a, const char *now,
                              json_t **out, struct gw_error *err)
{
    const char *f[] = {"id", "binding", "subject", "tool", "args_digest", "expires_at"};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (!gw_json_str(a, f[i]) || strlen(gw_json_str(a, f[i])) > 512)
            return GW_ERROR_SET(err, GW_EINVAL, "approval: \"%s\" is required", f[i]);
    char *args = gw_json_dumps(json_object_get(a, "arguments"));
    if (!args || strlen(args) > GW_APPROVAL_ARGS_MAX) {
        gw_free(args);
        return GW_ERROR_SET(err, GW_EINVAL, "approval: the arguments are too large to review");
    }
    struct store_param k[] = {SP_TEXT(gw_json_str(a, "binding")), SP_TEXT(gw_json_str(a, "tool")),
                              SP_TEXT(gw_json_str(a, "args_digest")), SP_TEXT(now)};
    int rc = one(st,
                 "SELECT " COLS " FROM approvals WHERE binding = $1 AND tool = $2 AND "
                 "args_digest = $3 AND status = 'pending' AND expires_at > $4 "
                 "ORDER BY created_at DESC LIMIT 1",
                 k, 4, out, err);
    if (rc != GW_ENOTFOUND) {
        gw_free(args);
        return rc; /* the same call already waits (or an error) */
    }
    long long pending = 0;
    struct store_param b[] = {SP_TEXT(gw_json_str(a, "binding")), SP_TEXT(now)};
    rc = gw_store__query_int(st,
                             "SELECT count(*) FROM approvals WHERE binding = $1 AND status = "
                             "'pending' AND expires_at > $2",
                             b, 2, &pending, err);
    if (rc == GW_OK && pending >= GW_APPROVAL_PENDING_MAX)
        rc = GW_ERROR_SET(err, GW_ELIMIT, "%d approvals of yours are already waiting",
                          GW_APPROVAL_PENDING_MAX);
    if (rc == GW_OK) {
        const char *client = gw_json_str(a, "client_id"), *risk = gw_json_str(a, "risk"),
                   *reason = gw_json_str(a, "reason");
        struct store_param p[] = {SP_TEXT(gw_json_str(a, "id")), SP_TEXT(gw_json_str(a, "binding")),
                                  SP_TEXT(gw_json_str(a, "subject")), SP_TEXT(client ? client : ""),
                                  SP_TEXT(gw_json_str(a, "tool")), SP_TEXT(risk ? risk : ""),
                                  SP_TEXT(gw_json_str(a, "args_digest")), SP_TEXT(args),
                                  SP_TEXT(reason ? reason : ""), SP_TEXT(now),
                                  SP_TEXT(gw_json_str(a, "expires_at"))};
        rc = gw_store__exec(st,
                            "INSERT INTO approvals (id, status, binding, subject, client_id, tool, "
                            "risk, args_digest, arguments, reason, created_at, expires_at) VALUES "
                            "($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                            p, 11, NULL, NULL, NULL, err);
        if (rc == GW_OK)
            rc = gw_store_approval_get(st, gw_json_str(a, "id"), out, err);
    }
    gw_free(args);
    return rc;
}

int gw_store_approval_list(struct gw_store *st, const char *status, size_t limit, json_t **out,
                           struct gw_error *err)
{
    json_t *arr = json_array();
    struct store_param p[] = {SP_TEXT(status ? status : ""), SP_INT((long long)limit)};
    int rc = gw_store__exec(st,
                            "SELECT " COLS " FROM approvals WHERE ($1 = '' OR status = $1) "
                            "ORDER BY created_at DESC, id LIMIT $2",
                            p, 2, row_cb, arr, NULL, err);
    *out = rc == GW_OK ? arr : NULL;
    if (rc != GW_OK)
        json_decref(arr);
    return rc;
}

int gw_store_approval_get(struct gw_store *st, const char *id, json_t **out,
                          struct gw_error *err)
{
    struct store_param p[] = {SP_TEXT(id ? id : "")};
    int rc = one(st, "SELECT " COLS " FROM approvals WHERE id = $1", p, 1, out, err);
    if (rc == GW_ENOTFOUND)
        GW_ERROR_SET(err, GW_ENOTFOUND, "no approval %s", id ? id : "");
    return rc;
}

int gw_store_approval_decide(struct gw_store *st, const char *id, bool approve, const char *who,
                             const char *comment, const char *now, struct gw_error *err)
{
    long long changed = 0;
    struct store_param p[] = {SP_TEXT(id ? id : ""), SP_TEXT(approve ? "approved" : "denied"),
                              SP_TEXT(now), SP_TEXT(who ? who : ""),
                              comment ? SP_TEXT(comment) : SP_NULL};
    int rc = gw_store__exec(st,
                            "UPDATE approvals SET status = $2, decided_at = $3, decided_by = $4, "
                            "comment = $5 WHERE id = $1 AND status = 'pending' AND expires_at > $3",
                            p, 5, NULL, NULL, &changed, err);
    if (rc != GW_OK || changed == 1)
        return rc;
    json_t *a = NULL;
    if (gw_store_approval_get(st, id, &a, err) != GW_OK)
        return err->code;
    rc = GW_ERROR_SET(err, GW_ECONFLICT, "approval %s is %s", id,
                      strcmp(gw_json_str(a, "status"), "pending") ? gw_json_str(a, "status")
                                                                  : "expired");
    json_decref(a);
    return rc;
}

int gw_store_approval_use(struct gw_store *st, const char *id, const char *binding,
                          const char *tool, const char *digest, const char *now,
                          struct gw_error *err)
{
    long long changed = 0;
    struct store_param p[] = {SP_TEXT(id ? id : ""), SP_TEXT(binding), SP_TEXT(tool),
                              SP_TEXT(digest), SP_TEXT(now)};
    int rc = gw_store__exec(st,
                            "UPDATE approvals SET status = 'used', used_at = $5 WHERE id = $1 AND "
                            "status = 'approved' AND binding = $2 AND tool = $3 AND args_digest = "
                            "$4 AND expires_at > $5",
                            p, 5, NULL, NULL, &changed, err);
    if (rc != GW_OK || changed == 1)
        return rc;
    /* say precisely why */
    json_t *a = NULL;
    if (gw_store_approval_get(st, id, &a, err) != GW_OK)
        return GW_ERROR_SET(err, GW_EDENIED, "approval %s does not exist", id ? id : "");
    const char *status = gw_json_str(a, "status");
    const char *exp = gw_json_str(a, "expires_at");
    if (!strcmp(status, "pending"))
        rc = GW_ERROR_SET(err, GW_EDENIED, "approval %s is still waiting for a decision", id);
    else if (!strcmp(status, "denied"))
        rc = GW_ERROR_SET(err, GW_EDENIED, "approval %s was denied", id);
    else if (!strcmp(status, "used"))
        rc = GW_ERROR_SET(err, GW_EDENIED, "approval %s was already used", id);
    else if (exp && strcmp(exp, now) <= 0)
        rc = GW_ERROR_SET(err, GW_EDENIED, "approval %s has expired", id);
    else
        rc = GW_ERROR_SET(err, GW_EDENIED, "approval %s was given for another call or principal",
                          id);
    json_decref(a);
    return rc;
}

int gw_store_approval_purge(struct gw_store *st, const char *before, long long *removed,
                            struct gw_error *err)
{
    long long n = 0;
    struct store_param p[] = {SP_TEXT(before ? before : "")};
    int rc = gw_store__exec(st, "DELETE FROM approvals WHERE expires_at < $1", p, 1, NULL, NULL,
                            &n, err);
    if (removed)
        *removed = rc == GW_OK ? n : 0;
    return rc;
}
