/*
 * src/openapi/openapi_diff.c
 * Re-import diff: which tools of a spec were added, changed (and in which fields) or removed
 * between two imports.
 *
 * Identity of a tool is its operation, not its name: first METHOD + path with parameter names
 * ignored ("/users/{id}" == "/users/{userId}"), then, for the tools still unmatched, the
 * operationId (an operation that moved to a new path). So a name that changed because of a
 * collision suffix or an x-mcp rename shows as "changed" with "name" among the fields.
 * Pure function of its inputs; the registry decides what to do with the answer (keep governance
 * settings, deprecate removed tools).
 */
#include "openapi/openapi_internal.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>

/* "GET /users/{}/repos" from source.method and source.path. */
static char *identity(const json_t *tool)
{
    const json_t *src = json_object_get(tool, "source");
    const char *m = json_string_value(json_object_get(src, "method"));
    const char *p = json_string_value(json_object_get(src, "path"));
    if (!m || !p) { /* tools not made by the importer: fall back to the binding */
        const json_t *b = json_object_get(tool, "binding");
        m = json_string_value(json_object_get(b, "method"));
        p = json_string_value(json_object_get(b, "path"));
    }
    if (!m || !p)
        return NULL;
    struct gw_buf b;
    gw_buf_init(&b, 16384);
    for (const char *q = m; *q; q++)
        gw_buf_addc(&b, (*q >= 'a' && *q <= 'z') ? (char)(*q - 32) : *q);
    gw_buf_addc(&b, ' ');
    for (const char *q = p; *q; q++) {
        if (*q == '{') {
            const char *e = strchr(q, '}');
            if (e) {
                gw_buf_adds(&b, "{}");
                q = e;
                continue;
            }
        }
        gw_buf_addc(&b, *q);
    }
    return gw_buf_take(&b, NULL);
}

/* source.operationId of a tool, or NULL. */
static const char *opid(const json_t *tool)
{
    return json_string_value(json_object_get(json_object_get(tool, "source"), "operationId"));
}

/* The identity of a tool for the added/removed lists. New object. */
static json_t *who(const json_t *tool)
{
    const json_t *src = json_object_get(tool, "source");
    json_t *o = json_object();
    json_object_set(o, "name", json_object_get(tool, "name"));
    json_object_set(o, "method", json_object_get(src, "method"));
    json_object_set(o, "path", json_object_get(src, "path"));
    json_object_set(o, "operationId", json_object_get(src, "operationId"));
    /* json_object_set with NULL does nothing: absent members stay absent */
    return o;
}

/* Top-level members owned by the store, not by the spec: never reported as changed. */
static bool ignored_top(const char *k)
{
    return !strcmp(k, "version") || !strcmp(k, "status");
}

/* source members that change with every spec version or import: not a change of the tool. */
static bool ignored_source(const char *k)
{
    return !strcmp(k, "specVersion") || !strcmp(k, "specId");
}

/* Appends "prefix.key" for each member of a and b that differs. */
static void diff_members(const json_t *a, const json_t *b, const char *prefix, bool source,
                         json_t *fields)
{
    const char *k;
    json_t *v;
    char name[160];
    json_object_foreach((json_t *)b, k, v)
    {
        if (source && ignored_source(k))
            continue;
        if (!json_equal(v, json_object_get(a, k))) {
            snprintf(name, sizeof(name), "%s.%s", prefix, k);
            json_array_append_new(fields, json_string(name));
        }
    }
    json_object_foreach((json_t *)a, k, v)
    {
        if (source && ignored_source(k))
            continue;
        if (!json_object_get(b, k)) {
            snprintf(name, sizeof(name), "%s.%s", prefix, k);
            json_array_append_new(fields, json_string(name));
        }
    }
}

/* Names of the members that differ between an old and a new definition of the same tool;
 * binding and source are compared member by member. New array. */
static json_t *changed_fields(const json_t *a, const json_t *b)
{
    json_t *fields = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)b, k, v)
    {
        if (ignored_top(k))
            continue;
        json_t *old = json_object_get(a, k);
        if ((!strcmp(k, "binding") || !strcmp(k, "source")) && json_is_object(v) &&
            json_is_object(old)) {
            diff_members(old, v, k, !strcmp(k, "source"), fields);
        } else if (!json_equal(v, old)) {
            json_array_append_new(fields, json_string(k));
        }
    }
    json_object_foreach((json_t *)a, k, v)
    {
        if (!ignored_top(k) && !json_object_get(b, k))
            json_array_append_new(fields, json_string(k));
    }
    return fields;
}

json_t *gw_openapi_diff(const json_t *previous_tools, const json_t *new_tools)
{
    size_t np = json_is_array(previous_tools) ? json_array_size(previous_tools) : 0;
    size_t nn = json_is_array(new_tools) ? json_array_size(new_tools) : 0;
    long *match_of_new = gw_xcalloc(nn + 1, sizeof(long));
    bool *prev_used = gw_xcalloc(np + 1, sizeof(bool));
    json_t *by_id = json_object(), *by_opid = json_object();
    for (size_t i = 0; i < np; i++) {
        const json_t *t = json_array_get(previous_tools, i);
        char *id = identity(t);
        if (id && !json_object_get(by_id, id))
            json_object_set_new(by_id, id, json_integer((json_int_t)i));
        gw_free(id);
        const char *o = opid(t);
        if (o && !json_object_get(by_opid, o))
            json_object_set_new(by_opid, o, json_integer((json_int_t)i));
    }
    /* pass 1: by method + path; pass 2: by operationId */
    for (size_t j = 0; j < nn; j++) {
        match_of_new[j] = -1;
        char *id = identity(json_array_get(new_tools, j));
        json_t *hit = id ? json_object_get(by_id, id) : NULL;
        gw_free(id);
        if (hit && !prev_used[json_integer_value(hit)]) {
            match_of_new[j] = (long)json_integer_value(hit);
            prev_used[match_of_new[j]] = true;
        }
    }
    for (size_t j = 0; j < nn; j++) {
        if (match_of_new[j] >= 0)
            continue;
        const char *o = opid(json_array_get(new_tools, j));
        json_t *hit = o ? json_object_get(by_opid, o) : NULL;
        if (hit && !prev_used[json_integer_value(hit)]) {
            match_of_new[j] = (long)json_integer_value(hit);
            prev_used[match_of_new[j]] = true;
        }
    }
    json_t *added = json_array(), *removed = json_array(), *changed = json_array();
    json_int_t unchanged = 0;
    for (size_t j = 0; j < nn; j++) {
        const json_t *t = json_array_get(new_tools, j);
        if (match_of_new[j] < 0) {
            json_array_append_new(added, who(t));
            continue;
        }
        const json_t *old = json_array_get(previous_tools, (size_t)match_of_new[j]);
        json_t *fields = changed_fields(old, t);
        if (json_array_size(fields) == 0) {
            unchanged++;
            json_decref(fields);
            continue;
        }
        json_t *c = json_object();
        json_object_set(c, "name", json_object_get(t, "name"));
        json_object_set(c, "previousName", json_object_get(old, "name"));
        json_object_set_new(c, "fields", fields);
        json_array_append_new(changed, c);
    }
    for (size_t i = 0; i < np; i++)
        if (!prev_used[i])
            json_array_append_new(removed, who(json_array_get(previous_tools, i)));
    json_decref(by_id);
    json_decref(by_opid);
    gw_free(match_of_new);
    gw_free(prev_used);
    json_t *res = json_object();
    json_object_set_new(res, "added", added);
    json_object_set_new(res, "removed", removed);
    json_object_set_new(res, "changed", changed);
    json_object_set_new(res, "unchanged", json_integer(unchanged));
    return res;
}
