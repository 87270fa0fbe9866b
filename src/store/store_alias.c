/*
 * src/store/store_alias.c
 * Renames and the tool_aliases table (migration 0007): name availability across tools and live
 * aliases, alias rows with their expiry, the aliases the registry snapshot serves, and the
 * rename operation (rules in store_alias.h).
 * Invariants: an alias never names an existing tool (a tool taking a name first removes an
 * expired alias of it; a live alias of another tool makes the name unavailable); timestamps are
 * the store's ISO-8601 UTC text, so "live" is a text comparison with now.
 */
#include "store/store_alias.h"
#include "store/store_impl.h"
#include "store/store_tool.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void gw_store__time_after_days(int days, char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t t = ts.tv_sec + (time_t)days * 86400;
    gmtime_r(&t, &tm);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

/* Row callback: first column as an integer. */
static int id_row(void *ctx, const struct store_row *row)
{
    *(long long *)ctx = row->n > 0 && row->v[0] ? gw_store__int(row->v[0]) : 0;
    return GW_OK;
}

/* Row callback: first column as text into a char[GW_STORE_NAME_MAX + 1]. */
static int text_row(void *ctx, const struct store_row *row)
{
    snprintf(ctx, GW_STORE_NAME_MAX + 1, "%s", row->n > 0 && row->v[0] ? row->v[0] : "");
    return GW_OK;
}

int gw_store__name_free(struct gw_store *st, const char *name, long long except_id,
                        const char *now, bool *out_free, char *owner, struct gw_error *err)
{
    long long id = 0;
    struct store_param p[] = {SP_TEXT(name), SP_TEXT(now)};
    *out_free = false;
    if (owner)
        owner[0] = '\0';
    int rc = gw_store__exec(st, "SELECT id FROM tools WHERE name = $1", p, 1, id_row, &id, NULL,
                            err);
    if (rc != GW_OK)
        return rc;
    if (id && id != except_id) {
        if (owner)
            snprintf(owner, GW_STORE_NAME_MAX + 1, "%s", name);
        return GW_OK;
    }
    id = 0;
    rc = gw_store__exec(st,
                        "SELECT tool_id FROM tool_aliases WHERE name = $1 AND expires_at > $2",
                        p, 2, id_row, &id, NULL, err);
    if (rc != GW_OK)
        return rc;
    if (id && id != except_id) {
        if (owner) {
            struct store_param q[] = {SP_INT(id)};
            rc = gw_store__exec(st, "SELECT name FROM tools WHERE id = $1", q, 1, text_row, owner,
                                NULL, err);
        }
        return rc;
    }
    *out_free = true;
    return GW_OK;
}

/* Row callback of gw_store__names_in_use: (name, owner). */
static int name_row(void *ctx, const struct store_row *row)
{
    if (row->n >= 2 && row->v[0] && row->v[1])
        json_object_set_new(ctx, row->v[0], json_integer(gw_store__int(row->v[1])));
    return GW_OK;
}

int gw_store__names_in_use(struct gw_store *st, const char *now, json_t **out,
                           struct gw_error *err)
{
    json_t *m = json_object();
    struct store_param p[] = {SP_TEXT(now)};
    int rc = gw_store__exec(st,
                            "SELECT name, CASE WHEN expires_at > $1 THEN -tool_id ELSE 0 END "
                            "FROM tool_aliases",
                            p, 1, name_row, m, NULL, err);
    if (rc == GW_OK)
        rc = gw_store__exec(st, "SELECT name, id FROM tools", NULL, 0, name_row, m, NULL, err);
    if (rc != GW_OK) {
        json_decref(m);
        return rc;
    }
    *out = m;
    return GW_OK;
}

int gw_store__alias_take(struct gw_store *st, const char *name, struct gw_error *err)
{
    struct store_param p[] = {SP_TEXT(name)};
    return gw_store__exec(st, "DELETE FROM tool_aliases WHERE name = $1", p, 1, NULL, NULL, NULL,
                          err);
}

int gw_store__alias_add(struct gw_store *st, const char *alias, long long tool_id, int days,
                        const char *now, char *out_until, size_t until_size,
                        struct gw_error *err)
{
    char until[48];
    if (days <= 0)
        days = GW_STORE_ALIAS_DAYS_DEFAULT;
    if (days > GW_STORE_ALIAS_DAYS_MAX)
        days = GW_STORE_ALIAS_DAYS_MAX;
    gw_store__time_after_days(days, until, sizeof(until));
    if (out_until)
        snprintf(out_until, until_size, "%s", until);
    struct store_param p[] = {SP_TEXT(alias), SP_INT(tool_id), SP_TEXT(until), SP_TEXT(now)};
    return gw_store__exec(st,
                          "INSERT INTO tool_aliases (name, tool_id, expires_at, created_at) "
                          "VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET tool_id = "
                          "excluded.tool_id, expires_at = excluded.expires_at, created_at = "
                          "excluded.created_at",
                          p, 4, NULL, NULL, NULL, err);
}

/* Row callback of the live aliases by tool: {"tool name": [{"name","until"}]}. */
static int by_tool_row(void *ctx, const struct store_row *row)
{
    json_t *map = ctx;
    if (row->n < 3 || !row->v[0] || !row->v[1] || !row->v[2])
        return GW_OK;
    json_t *list = json_object_get(map, row->v[0]);
    if (!list) {
        list = json_array();
        json_object_set_new(map, row->v[0], list);
    }
    json_array_append_new(list, json_pack("{s:s,s:s}", "name", row->v[1], "until", row->v[2]));
    return GW_OK;
}

int gw_store__aliases_by_tool(struct gw_store *st, json_t **out, struct gw_error *err)
{
    char now[32];
    gw_store__now(now, sizeof(now));
    json_t *map = json_object();
    struct store_param p[] = {SP_TEXT(now)};
    int rc = gw_store__exec(st,
                            "SELECT t.name, a.name, a.expires_at FROM tool_aliases a JOIN tools "
                            "t ON t.id = a.tool_id WHERE a.expires_at > $1 ORDER BY a.name",
                            p, 1, by_tool_row, map, NULL, err);
    if (rc != GW_OK) {
        json_decref(map);
        return rc;
    }
    *out = map;
    return GW_OK;
}

/* Row callback of gw_store_alias_list. */
static int list_row(void *ctx, const struct store_row *row)
{
    if (row->n >= 3 && row->v[0] && row->v[1] && row->v[2])
        json_array_append_new(ctx, json_pack("{s:s,s:s,s:s}", "name", row->v[0], "tool",
                                             row->v[1], "until", row->v[2]));
    return GW_OK;
}

int gw_store_alias_list(struct gw_store *st, json_t **out, struct gw_error *err)
{
    char now[32];
    gw_store__now(now, sizeof(now));
    json_t *items = json_array();
    struct store_param p[] = {SP_TEXT(now)};
    int rc = gw_store__exec(st,
                            "SELECT a.name, t.name, a.expires_at FROM tool_aliases a JOIN tools "
                            "t ON t.id = a.tool_id WHERE a.expires_at > $1 ORDER BY a.name",
                            p, 1, list_row, items, NULL, err);
    if (rc != GW_OK) {
        json_decref(items);
        return rc;
    }
    *out = items;
    return GW_OK;
}

int gw_store__rename_save(struct gw_store *st, const struct gw_store_tool_rec *rec,
                          const char *to, int alias_days, const char *action,
                          const struct gw_store_actor *who, const char *now, json_t *def,
                          char *out_until, size_t until_size, struct gw_error *err)
{
    const char *from = gw_json_str(rec->def, "name");
    int rc = gw_store__alias_take(st, to, err);
    if (rc == GW_OK)
        rc = gw_store__tool_save(st, rec->id, def, rec->version + 1, action, rec->def, who, now,
                                 NULL, err);
    if (rc == GW_OK && from && strcmp(from, to) != 0)
        rc = gw_store__alias_add(st, from, rec->id, alias_days, now, out_until, until_size, err);
    return rc;
}

int gw_store_tool_rename(struct gw_store *st, const char *from, const char *to, int alias_days,
                         const struct gw_store_actor *who, json_t **out_def,
                         struct gw_error *err)
{
    struct gw_store_tool_rec rec = {0};
    json_t *d = NULL;
    char now[32], owner[GW_STORE_NAME_MAX + 1];
    bool free_name = false;
    if (out_def)
        *out_def = NULL;
    if (!from || !to || !gw_store__valid_name(to, false) || strlen(to) > GW_STORE_NAME_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "a tool name is 1-64 characters of [A-Za-z0-9_-]");
    if (alias_days < 0 || alias_days > GW_STORE_ALIAS_DAYS_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "alias days must be 1-%d", GW_STORE_ALIAS_DAYS_MAX);
    gw_store__now(now, sizeof(now));
    int rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        return rc;
    rc = gw_store__tool_load(st, from, &rec, err);
    if (rc == GW_OK && strcmp(from, to) == 0)
        rc = GW_ERROR_SET(err, GW_EINVAL, "the tool is already named %s", to);
    if (rc == GW_OK)
        rc = gw_store__name_free(st, to, rec.id, now, &free_name, owner, err);
    if (rc == GW_OK && !free_name)
        rc = GW_ERROR_SET(err, GW_ECONFLICT, "%s is %s", to,
                          strcmp(owner, to) == 0 ? "the name of another tool"
                                                 : "still an alias of another tool");
    if (rc == GW_OK) {
        d = json_copy(rec.def);
        json_object_set_new(d, "name", json_string(to));
        rc = gw_store__rename_save(st, &rec, to, alias_days, "rename", who, now, d, NULL, 0, err);
    }
    if (rc == GW_OK)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
    if (rc == GW_OK && out_def)
        rc = gw_store_tool_get(st, to, out_def, err);
    json_decref(d);
    gw_store__tool_rec_fini(&rec);
    return rc;
}
