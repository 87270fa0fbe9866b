/*
 * src/store/store_chat.c
 * The chat_conversations table (see store_chat.h). Plain statements, no registry version bump:
 * a conversation is one person's data, not configuration every replica must reload.
 */
#include "store/store_chat.h"

#include "core/alloc.h"
#include "store/store_impl.h"

#include <string.h>

static bool valid_id(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int check_keys(const char *owner, const char *id, struct gw_error *err)
{
    if (!valid_id(owner, GW_STORE_CHAT_OWNER_MAX))
        return GW_ERROR_SET(err, GW_EINVAL, "invalid conversation owner");
    if (!valid_id(id, GW_STORE_CHAT_ID_MAX))
        return GW_ERROR_SET(err, GW_EINVAL, "invalid conversation id");
    return GW_OK;
}

/* Row: id, title, created_at, updated_at, version[, messages, pending | has_pending] */
struct rows {
    json_t *out;
    bool full;
    struct gw_error *err;
};

static int row_cb(void *ctx, const struct store_row *r)
{
    struct rows *rs = ctx;
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I}", "id", r->v[0] ? r->v[0] : "", "title",
                          r->v[1] ? r->v[1] : "", "created_at", r->v[2] ? r->v[2] : "",
                          "updated_at", r->v[3] ? r->v[3] : "", "version",
                          (json_int_t)gw_store__int(r->v[4]));
    if (!o)
        return GW_ERROR_SET(rs->err, GW_EIO, "unreadable conversation row");
    if (rs->full) {
        json_t *m = gw_store__parse(r->v[5] ? r->v[5] : "[]", r->v[5] ? r->len[5] : 2, rs->err);
        json_t *p = r->v[6] ? gw_store__parse(r->v[6], r->len[6], rs->err) : json_null();
        if (!json_is_array(m) || !p) {
            json_decref(m);
            json_decref(p);
            json_decref(o);
            return GW_ERROR_SET(rs->err, GW_EIO, "a stored conversation is not readable JSON");
        }
        json_object_set_new(o, "messages", m);
        json_object_set_new(o, "pending", p);
    } else {
        json_object_set_new(o, "awaiting_confirmation", json_boolean(r->v[5] != NULL));
    }
    json_array_append_new(rs->out, o);
    return GW_OK;
}

int gw_store_chat_create(struct gw_store *st, const char *owner, const char *id,
                         const char *title, json_t **out, struct gw_error *err)
{
    *out = NULL;
    int rc = check_keys(owner, id, err);
    if (rc != GW_OK)
        return rc;
    if (!title || strlen(title) > GW_STORE_CHAT_TITLE_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "the title is longer than %d bytes",
                            GW_STORE_CHAT_TITLE_MAX);
    char now[32];
    gw_store__now(now, sizeof(now));
    struct store_param p[] = {SP_TEXT(id), SP_TEXT(owner), SP_TEXT(title), SP_TEXT(now)};
    long long n = 0;
    rc = gw_store__exec(st,
                        "INSERT INTO chat_conversations (id, owner, title, created_at, "
                        "updated_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO NOTHING",
                        p, 4, NULL, NULL, &n, err);
    if (rc != GW_OK)
        return rc;
    if (n == 0)
        return GW_ERROR_SET(err, GW_ECONFLICT, "a conversation with this id exists");
    *out = json_pack("{s:s,s:s,s:s,s:s,s:i}", "id", id, "title", title, "created_at", now,
                     "updated_at", now, "version", 1);
    return GW_OK;
}

int gw_store_chat_list(struct gw_store *st, const char *owner, int limit, json_t **out,
                       struct gw_error *err)
{
    *out = NULL;
    if (!valid_id(owner, GW_STORE_CHAT_OWNER_MAX))
        return GW_ERROR_SET(err, GW_EINVAL, "invalid conversation owner");
    if (limit <= 0 || limit > GW_STORE_PAGE_MAX)
        limit = GW_STORE_PAGE_MAX;
    struct rows rs = {json_array(), false, err};
    struct store_param p[] = {SP_TEXT(owner), SP_INT(limit)};
    int rc = gw_store__exec(st,
                            "SELECT id, title, created_at, updated_at, version, "
                            "CASE WHEN pending IS NULL THEN NULL ELSE '1' END "
                            "FROM chat_conversations WHERE owner = $1 "
                            "ORDER BY updated_at DESC, id LIMIT $2",
                            p, 2, row_cb, &rs, NULL, err);
    if (rc != GW_OK) {
        json_decref(rs.out);
        return rc;
    }
    *out = rs.out;
    return GW_OK;
}

int gw_store_chat_count(struct gw_store *st, const char *owner, long long *out,
                        struct gw_error *err)
{
    struct store_param p[] = {SP_TEXT(owner)};
    return gw_store__query_int(st, "SELECT COUNT(*) FROM chat_conversations WHERE owner = $1", p,
                               1, out, err);
}

int gw_store_chat_get(struct gw_store *st, const char *owner, const char *id, json_t **out,
                      struct gw_error *err)
{
    *out = NULL;
    int rc = check_keys(owner, id, err);
    if (rc != GW_OK)
        return rc == GW_EINVAL ? GW_ERROR_SET(err, GW_ENOTFOUND, "no such conversation") : rc;
    struct rows rs = {json_array(), true, err};
    struct store_param p[] = {SP_TEXT(id), SP_TEXT(owner)};
    rc = gw_store__exec(st,
                        "SELECT id, title, created_at, updated_at, version, messages, pending "
                        "FROM chat_conversations WHERE id = $1 AND owner = $2",
                        p, 2, row_cb, &rs, NULL, err);
    if (rc == GW_OK && json_array_size(rs.out) == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "no such conversation");
    if (rc == GW_OK)
        *out = json_incref(json_array_get(rs.out, 0));
    json_decref(rs.out);
    return rc;
}

int gw_store_chat_save(struct gw_store *st, const char *owner, const char *id,
                       long long expect_version, const char *messages, const char *pending,
                       const char *title, long long *out_version, struct gw_error *err)
{
    int rc = check_keys(owner, id, err);
    if (rc != GW_OK)
        return rc;
    if (!messages || strlen(messages) + (pending ? strlen(pending) : 0) > GW_STORE_CHAT_DATA_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "the conversation is larger than %u bytes",
                            GW_STORE_CHAT_DATA_MAX);
    if (title && strlen(title) > GW_STORE_CHAT_TITLE_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "the title is too long");
    char now[32];
    gw_store__now(now, sizeof(now));
    struct store_param p[] = {SP_TEXT(id),       SP_TEXT(owner),
                              SP_INT(expect_version), SP_TEXT(messages),
                              pending ? SP_TEXT(pending) : SP_NULL, SP_TEXT(now),
                              title ? SP_TEXT(title) : SP_NULL};
    long long n = 0;
    rc = gw_store__exec(st,
                        "UPDATE chat_conversations SET messages = $4, pending = $5, "
                        "updated_at = $6, title = COALESCE($7, title), version = version + 1 "
                        "WHERE id = $1 AND owner = $2 AND version = $3",
                        p, 7, NULL, NULL, &n, err);
    if (rc != GW_OK)
        return rc;
    if (n == 0) {
        json_t *cur = NULL;
        struct gw_error e2 = {0};
        int g = gw_store_chat_get(st, owner, id, &cur, &e2);
        json_decref(cur);
        if (g == GW_ENOTFOUND)
            return GW_ERROR_SET(err, GW_ENOTFOUND, "no such conversation");
        return GW_ERROR_SET(err, GW_ECONFLICT, "the conversation was changed meanwhile");
    }
    if (out_version)
        *out_version = expect_version + 1;
    return GW_OK;
}

int gw_store_chat_delete(struct gw_store *st, const char *owner, const char *id,
                         struct gw_error *err)
{
    int rc = check_keys(owner, id, err);
    if (rc != GW_OK)
        return rc == GW_EINVAL ? GW_ERROR_SET(err, GW_ENOTFOUND, "no such conversation") : rc;
    struct store_param p[] = {SP_TEXT(id), SP_TEXT(owner)};
    long long n = 0;
    rc = gw_store__exec(st, "DELETE FROM chat_conversations WHERE id = $1 AND owner = $2", p, 2,
                        NULL, NULL, &n, err);
    if (rc == GW_OK && n == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "no such conversation");
    return rc;
}

int gw_store_chat_purge(struct gw_store *st, const char *before, long long *removed,
                        struct gw_error *err)
{
    long long n = 0;
    struct store_param p[] = {SP_TEXT(before ? before : "")};
    int rc = gw_store__exec(st, "DELETE FROM chat_conversations WHERE updated_at < $1", p, 1,
                            NULL, NULL, &n, err);
    if (removed)
        *removed = rc == GW_OK ? n : 0;
    return rc;
}
