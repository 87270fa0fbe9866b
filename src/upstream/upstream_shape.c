/*
 * src/upstream/upstream_shape.c
 * Shaping: include projection through a path trie (so sibling paths merge instead of
 * overwriting each other, the prior implementation's bug), exclusion by path or "**.key",
 * null dropping and array caps, each one recursive walk.
 */
#include "upstream/upstream_shape.h"

#include "core/alloc.h"

#include <string.h>

#define MAX_PATHS 128
#define MAX_PATH_LEN 256
#define MAX_SEGMENTS 32

static int parse_paths(const json_t *arr, char ***out, size_t *n, const char *field,
                       struct gw_error *err)
{
    if (!arr)
        return GW_OK;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_PATHS)
        return GW_ERROR_SET(err, GW_EINVAL, "response.%s must be an array of at most %d paths",
                            field, MAX_PATHS);
    size_t i;
    json_t *p;
    *out = gw_xcalloc(json_array_size(arr) + 1, sizeof(char *));
    json_array_foreach(arr, i, p) {
        const char *s = json_string_value(p);
        if (!s || !*s || strlen(s) > MAX_PATH_LEN || s[0] == '.' || s[strlen(s) - 1] == '.' ||
            strstr(s, ".."))
            return GW_ERROR_SET(err, GW_EINVAL, "response.%s[%zu] is not a dot path", field, i);
        (*out)[(*n)++] = gw_xstrdup(s);
    }
    return GW_OK;
}

int gw_upstream_shape_parse(const json_t *response, struct gw_shape_spec *out,
                            struct gw_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!response || json_is_null(response))
        return GW_OK;
    if (!json_is_object(response))
        return GW_ERROR_SET(err, GW_EINVAL, "tool field 'response' must be an object");
    int rc = parse_paths(json_object_get(response, "include"), &out->include, &out->ninclude,
                         "include", err);
    if (rc == GW_OK)
        rc = parse_paths(json_object_get(response, "exclude"), &out->exclude, &out->nexclude,
                         "exclude", err);
    json_t *m = json_object_get(response, "maxArrayItems");
    if (rc == GW_OK && m) {
        if (!json_is_integer(m) || json_integer_value(m) < 1 || json_integer_value(m) > 100000)
            rc = GW_ERROR_SET(err, GW_EINVAL, "response.maxArrayItems must be in [1, 100000]");
        else
            out->max_array_items = (size_t)json_integer_value(m);
    }
    json_t *t = json_object_get(response, "maxTextChars");
    if (rc == GW_OK && t) {
        if (!json_is_integer(t) || json_integer_value(t) < 64 ||
            json_integer_value(t) > 16777216)
            rc = GW_ERROR_SET(err, GW_EINVAL, "response.maxTextChars must be in [64, 16777216]");
        else
            out->max_text_chars = (size_t)json_integer_value(t);
    }
    out->drop_nulls = json_is_true(json_object_get(response, "dropNulls"));
    if (rc != GW_OK)
        gw_upstream_shape_fini(out);
    return rc;
}

void gw_upstream_shape_fini(struct gw_shape_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ninclude; i++)
        gw_free(s->include[i]);
    gw_free(s->include);
    for (size_t i = 0; i < s->nexclude; i++)
        gw_free(s->exclude[i]);
    gw_free(s->exclude);
    memset(s, 0, sizeof(*s));
}

bool gw_upstream_shape_active(const struct gw_shape_spec *s)
{
    return s && (s->ninclude || s->nexclude || s->max_array_items || s->drop_nulls);
}

/* ---- include: a trie of path segments ---- */

struct trie {
    char *seg;
    bool leaf;
    struct trie *kids;
    size_t nkids;
};

static struct trie *trie_child(struct trie *t, const char *seg, size_t n)
{
    for (size_t i = 0; i < t->nkids; i++)
        if (strlen(t->kids[i].seg) == n && memcmp(t->kids[i].seg, seg, n) == 0)
            return &t->kids[i];
    t->kids = gw_xrealloc(t->kids, (t->nkids + 1) * sizeof(*t->kids));
    struct trie *k = &t->kids[t->nkids++];
    memset(k, 0, sizeof(*k));
    k->seg = gw_xstrndup(seg, n);
    return k;
}

static void trie_free(struct trie *t)
{
    for (size_t i = 0; i < t->nkids; i++)
        trie_free(&t->kids[i]);
    gw_free(t->kids);
    gw_free(t->seg);
}

static json_t *project(const json_t *v, const struct trie *t)
{
    if (t->leaf)
        return json_incref((json_t *)v);
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it) {
            json_t *p = project(it, t);
            if (p)
                json_array_append_new(out, p);
        }
        return out;
    }
    if (!json_is_object(v))
        return NULL;
    json_t *out = json_object();
    for (size_t i = 0; i < t->nkids; i++) {
        json_t *m = json_object_get(v, t->kids[i].seg);
        if (!m)
            continue;
        json_t *p = project(m, &t->kids[i]);
        if (p)
            json_object_set_new(out, t->kids[i].seg, p);
    }
    return out;
}

/* ---- exclude ---- */

static void drop_path(json_t *v, const char *path)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it) {
            drop_path(it, path);
        }
        return;
    }
    if (!json_is_object(v))
        return;
    const char *dot = strchr(path, '.');
    if (!dot) {
        json_object_del(v, path);
        return;
    }
    char seg[MAX_PATH_LEN + 1];
    size_t n = (size_t)(dot - path);
    memcpy(seg, path, n);
    seg[n] = '\0';
    json_t *m = json_object_get(v, seg);
    if (m)
        drop_path(m, dot + 1);
}

static void drop_key_anywhere(json_t *v, const char *key, int depth)
{
    if (depth > 256)
        return;
    if (json_is_array(v)) {
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it) {
            drop_key_anywhere(it, key, depth + 1);
        }
    } else if (json_is_object(v)) {
        json_object_del(v, key);
        const char *k;
        json_t *it;
        json_object_foreach(v, k, it) {
            drop_key_anywhere(it, key, depth + 1);
        }
    }
}

/* ---- nulls and caps ---- */

static void walk_caps(json_t *v, const struct gw_shape_spec *s, struct gw_shape_stats *st,
                      int depth)
{
    if (depth > 256)
        return;
    if (json_is_array(v)) {
        if (s->max_array_items && json_array_size(v) > s->max_array_items) {
            st->arrays_truncated++;
            st->items_dropped += json_array_size(v) - s->max_array_items;
            while (json_array_size(v) > s->max_array_items)
                json_array_remove(v, json_array_size(v) - 1);
        }
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it) {
            walk_caps(it, s, st, depth + 1);
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *it;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, it) {
            if (s->drop_nulls && json_is_null(it))
                json_object_del(v, k);
            else
                walk_caps(it, s, st, depth + 1);
        }
    }
}

json_t *gw_upstream_shape_apply(json_t *doc, const struct gw_shape_spec *s,
                                struct gw_shape_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (!doc || !gw_upstream_shape_active(s))
        return doc;
    if (s->ninclude) {
        struct trie root;
        memset(&root, 0, sizeof(root));
        for (size_t i = 0; i < s->ninclude; i++) {
            struct trie *t = &root;
            const char *p = s->include[i];
            int segs = 0;
            while (*p && segs++ < MAX_SEGMENTS) {
                size_t n = strcspn(p, ".");
                t = trie_child(t, p, n);
                p += n;
                if (*p == '.')
                    p++;
            }
            t->leaf = true;
        }
        json_t *projected = project(doc, &root);
        trie_free(&root);
        json_decref(doc);
        doc = projected ? projected : json_object();
    }
    /* shaping mutates: make sure we own the document */
    if (doc->refcount > 1) {
        json_t *copy = json_deep_copy(doc);
        json_decref(doc);
        doc = copy;
    }
    for (size_t i = 0; i < s->nexclude; i++) {
        if (strncmp(s->exclude[i], "**.", 3) == 0)
            drop_key_anywhere(doc, s->exclude[i] + 3, 0);
        else
            drop_path(doc, s->exclude[i]);
    }
    if (s->drop_nulls || s->max_array_items)
        walk_caps(doc, s, st, 0);
    return doc;
}
