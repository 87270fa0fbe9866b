/*
 * src/store/store_import.c
 * gw_store_apply_import: one spec plus its generated tool set, applied in one transaction
 * with the diff computed here (rules in store_import.h).
 *
 * Steps: (1) validate and normalise everything before touching the database (spec fields,
 * every tool, unique names and operations within the set); (2) open the write transaction
 * (which serialises importers) and load the spec's existing tools; (3) match new to existing
 * by "METHOD path", then operationId, then name, through small hash indexes (imports of
 * thousands of operations stay linear); (4) write: deprecations first, then updates, then
 * additions, each with a history row; (5) upsert the spec row with its tool count; (6) commit,
 * or roll back for a dry run. Any failure rolls everything back.
 * Not here: parsing specs or generating tools (src/openapi/ does that).
 */
#include "store/store_import.h"
#include "store/store_alias.h"
#include "store/store_impl.h"
#include "store/store_tool.h"

#include "core/alloc.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* info.version strings are short; cap what we store. */
#define SPEC_VERSION_MAX 256
#define HASH_MAX 160

static const char *const governance[] = {"risk",          "requiresElevation",
                                         "requiresConfirmation", "rateLimitTier",
                                         "status",        "bundle",
                                         "tags",          NULL};

/* ---- a string → index multimap over an array of keys ---------------------------------- */

struct sidx {
    size_t cap;         /* power of two */
    int *head;          /* cap buckets, -1 = empty */
    int *next;          /* per item, -1 = end of chain */
    const char **keys;  /* borrowed: keys[i] of item i (NULL = not indexed) */
};

/* FNV-1a over a NUL-terminated string. */
static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Indexes keys[0..n) (NULL or empty keys are left out). */
static void sidx_init(struct sidx *x, const char **keys, size_t n)
{
    x->cap = 16;
    while (x->cap < 2 * n)
        x->cap <<= 1;
    x->head = gw_xmalloc(x->cap * sizeof(int));
    x->next = gw_xmalloc((n ? n : 1) * sizeof(int));
    x->keys = keys;
    for (size_t i = 0; i < x->cap; i++)
        x->head[i] = -1;
    /* insert in reverse so that a chain lists items in array order */
    for (size_t i = n; i-- > 0;) {
        x->next[i] = -1;
        if (!keys[i] || !*keys[i])
            continue;
        size_t b = hash_str(keys[i]) & (x->cap - 1);
        x->next[i] = x->head[b];
        x->head[b] = (int)i;
    }
}

static void sidx_fini(struct sidx *x)
{
    gw_free(x->head);
    gw_free(x->next);
}

/* First item with `key` whose used[] flag is false (used may be NULL); -1 when none. */
static int sidx_find(const struct sidx *x, const char *key, const bool *used)
{
    if (!key || !*key)
        return -1;
    for (int i = x->head[hash_str(key) & (x->cap - 1)]; i >= 0; i = x->next[i])
        if (strcmp(x->keys[i], key) == 0 && (!used || !used[i]))
            return i;
    return -1;
}

/* ---- the tool sets ---------------------------------------------------------------------- */

struct old_tool {
    long long id;
    long long version;
    json_t *def;
};

/* State of one apply_import call; all arrays are parallel to the new set (n) or the old (m). */
struct import {
    struct gw_store *st;
    const char *spec_id;
    const char *spec_version;
    const char *add_status;
    const char *add_bundle;
    const struct gw_store_actor *who;
    char now[32];
    /* new set */
    size_t n;
    json_t **nw;        /* normalised new definitions */
    const char **n_name, **n_op, **n_opid;
    int *match;         /* index into old, -1 */
    char **final;       /* the name each new tool is stored under (naming policy) */
    /* existing tools of the spec */
    size_t m, m_cap;
    struct old_tool *old;
    const char **o_name, **o_op, **o_opid;
    bool *o_used;
    /* naming */
    const struct gw_store_import_opts *opts;
    json_t *taken;      /* final names of this import -> true */
    json_t *in_use;     /* names of the registry (gw_store__names_in_use) */
    /* diff */
    json_t *added, *changed, *removed, *renamed, *kept, *conflicts;
    long long unchanged;
    pthread_t releaser; /* frees nw while the commit runs (release_new) */
    bool releasing;
};

/* Heap copy of a definition's operation identity, NULL when it has none. */
static char *op_key_dup(const json_t *def)
{
    char buf[GW_STORE_TEXT_MAX + 24];
    gw_store__op_key(def, buf, sizeof(buf));
    return buf[0] ? gw_xstrdup(buf) : NULL;
}

/* Frees everything prepare_new/load_and_match allocated (safe on partial state). */
static void import_fini(struct import *im)
{
    if (im->releasing)
        pthread_join(im->releaser, NULL);
    for (size_t i = 0; i < im->n; i++) {
        json_decref(im->nw ? im->nw[i] : NULL);
        gw_free(im->n_op ? (char *)im->n_op[i] : NULL);
        gw_free(im->final ? im->final[i] : NULL);
    }
    gw_free(im->final);
    json_decref(im->taken);
    json_decref(im->in_use);
    json_decref(im->kept);
    json_decref(im->conflicts);
    for (size_t i = 0; i < im->m; i++) {
        json_decref(im->old[i].def);
        gw_free((char *)im->o_op[i]);
    }
    gw_free(im->nw);
    gw_free(im->n_name);
    gw_free(im->n_op);
    gw_free(im->n_opid);
    gw_free(im->match);
    gw_free(im->old);
    gw_free(im->o_name);
    gw_free(im->o_op);
    gw_free(im->o_opid);
    gw_free(im->o_used);
    json_decref(im->added);
    json_decref(im->changed);
    json_decref(im->removed);
    json_decref(im->renamed);
}

/* The spec-owned part of a definition: without governance and store-managed fields and
 * without source.specVersion. New reference. */
static json_t *projection(const json_t *def)
{
    json_t *p = json_copy((json_t *)def);
    for (const char *const *k = governance; *k; k++)
        json_object_del(p, *k);
    json_object_del(p, "version");
    json_t *src = json_object_get(p, "source");
    if (json_is_object(src)) {
        json_t *s2 = json_copy(src);
        json_object_del(s2, "specVersion");
        json_object_set_new(p, "source", s2);
    }
    return p;
}

/* Whether two definitions agree on everything the spec owns. */
static bool spec_owned_equal(const json_t *a, const json_t *b)
{
    json_t *pa = projection(a), *pb = projection(b);
    bool eq = json_equal(pa, pb);
    json_decref(pa);
    json_decref(pb);
    return eq;
}

/* "Service Booking API" → "service-booking-api". */
static void slugify(const char *title, char *out, size_t size)
{
    size_t o = 0;
    bool dash = false;
    for (const char *p = title; *p && o + 1 < size && o < GW_STORE_NAME_MAX; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
        if (ok) {
            out[o++] = c;
            dash = false;
        } else if (o > 0 && !dash) {
            out[o++] = '-';
            dash = true;
        }
    }
    while (o > 0 && out[o - 1] == '-')
        o--;
    out[o] = '\0';
}

/* "sha256:<hex>" of the spec document, the default contentHash. */
static void sha256_hex(const char *data, size_t len, char *out, size_t size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    out[0] = '\0';
    if (size < 72 || !EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
        return;
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < mdlen && i < 32; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[7 + 2 * i + 1] = hex[md[i] & 15];
    }
    out[7 + 64] = '\0';
}

/* Step 1: normalise the new set (source.specId/specVersion stamped) and check uniqueness. */
static int prepare_new(struct import *im, const json_t *tools, struct gw_error *err)
{
    im->n = json_array_size(tools);
    im->nw = gw_xcalloc(im->n ? im->n : 1, sizeof(json_t *));
    im->n_name = gw_xcalloc(im->n ? im->n : 1, sizeof(char *));
    im->n_op = gw_xcalloc(im->n ? im->n : 1, sizeof(char *));
    im->n_opid = gw_xcalloc(im->n ? im->n : 1, sizeof(char *));
    im->match = gw_xcalloc(im->n ? im->n : 1, sizeof(int));
    im->final = gw_xcalloc(im->n ? im->n : 1, sizeof(char *));
    for (size_t i = 0; i < im->n; i++) {
        const json_t *t = json_array_get(tools, i);
        if (!json_is_object(t))
            return GW_ERROR_SET(err, GW_EINVAL, "tool #%zu is not an object", i);
        json_t *copy = json_copy((json_t *)t);
        json_t *src = json_object_get(copy, "source");
        src = json_is_object(src) ? json_copy(src) : json_object();
        json_object_set_new(src, "specId", json_string(im->spec_id));
        if (im->spec_version && *im->spec_version)
            json_object_set_new(src, "specVersion", json_string(im->spec_version));
        else
            json_object_del(src, "specVersion");
        json_object_set_new(copy, "source", src);
        int rc = gw_store_tool_normalize(copy, &im->nw[i], err);
        json_decref(copy);
        if (rc != GW_OK) {
            char detail[GW_ERROR_MSG_MAX];
            snprintf(detail, sizeof(detail), "%s", err ? err->msg : "");
            return GW_ERROR_SET(err, rc, "tool #%zu: %s", i, detail);
        }
        im->n_name[i] = gw_json_str(im->nw[i], "name");
        im->n_op[i] = op_key_dup(im->nw[i]);
        im->n_opid[i] = gw_json_str(json_object_get(im->nw[i], "source"), "operationId");
        im->match[i] = -1;
    }
    struct sidx by_name, by_op;
    sidx_init(&by_name, im->n_name, im->n);
    sidx_init(&by_op, im->n_op, im->n);
    int rc = GW_OK;
    for (size_t i = 0; i < im->n && rc == GW_OK; i++) {
        int j = sidx_find(&by_name, im->n_name[i], NULL);
        if (j >= 0 && (size_t)j != i)
            rc = GW_ERROR_SET(err, GW_EINVAL, "two tools of the import are named %s",
                              im->n_name[i]);
        j = sidx_find(&by_op, im->n_op[i], NULL);
        if (rc == GW_OK && j >= 0 && (size_t)j != i)
            rc = GW_ERROR_SET(err, GW_EINVAL, "two tools of the import are the operation %s",
                              im->n_op[i]);
    }
    sidx_fini(&by_name);
    sidx_fini(&by_op);
    return rc;
}

/* Row callback: appends one existing tool of the spec. */
static int old_row(void *ctx, const struct store_row *row)
{
    struct import *im = ctx;
    if (row->n < 3 || !row->v[2])
        return GW_ERR;
    json_t *d = gw_store__parse(row->v[2], row->len[2], NULL);
    if (!d)
        return GW_ERR;
    if (im->m == im->m_cap) {
        im->m_cap = im->m_cap ? im->m_cap * 2 : 64;
        im->old = gw_xrealloc(im->old, im->m_cap * sizeof(*im->old));
    }
    im->old[im->m].id = gw_store__int(row->v[0]);
    im->old[im->m].version = gw_store__int(row->v[1]);
    im->old[im->m].def = d;
    im->m++;
    return GW_OK;
}

/* Step 2–3: load the spec's tools and match them. */
static int load_and_match(struct import *im, struct gw_error *err)
{
    struct store_param p[] = {SP_TEXT(im->spec_id)};
    int rc = gw_store__exec(im->st,
                            "SELECT id, version, definition FROM tools WHERE spec_id = $1 "
                            "ORDER BY id",
                            p, 1, old_row, im, NULL, err);
    if (rc == GW_ERR)
        return GW_ERROR_SET(err, GW_ERR, "unreadable stored tool of spec %s", im->spec_id);
    if (rc != GW_OK)
        return rc;
    size_t m = im->m ? im->m : 1;
    im->o_name = gw_xcalloc(m, sizeof(char *));
    im->o_op = gw_xcalloc(m, sizeof(char *));
    im->o_opid = gw_xcalloc(m, sizeof(char *));
    im->o_used = gw_xcalloc(m, sizeof(bool));
    for (size_t j = 0; j < im->m; j++) {
        im->o_name[j] = gw_json_str(im->old[j].def, "name");
        im->o_op[j] = op_key_dup(im->old[j].def);
        im->o_opid[j] = gw_json_str(json_object_get(im->old[j].def, "source"), "operationId");
    }
    struct sidx by_op, by_opid, by_name;
    sidx_init(&by_op, im->o_op, im->m);
    sidx_init(&by_opid, im->o_opid, im->m);
    sidx_init(&by_name, im->o_name, im->m);
    /* one pass per rule, so that an exact operation match is never stolen by a weaker rule */
    for (int pass = 0; pass < 3; pass++) {
        const struct sidx *x = pass == 0 ? &by_op : pass == 1 ? &by_opid : &by_name;
        for (size_t i = 0; i < im->n; i++) {
            if (im->match[i] >= 0)
                continue;
            const char *key = pass == 0 ? im->n_op[i] : pass == 1 ? im->n_opid[i] : im->n_name[i];
            int j = sidx_find(x, key, im->o_used);
            if (j >= 0) {
                im->match[i] = j;
                im->o_used[j] = true;
            }
        }
    }
    sidx_fini(&by_op);
    sidx_fini(&by_opid);
    sidx_fini(&by_name);
    return GW_OK;
}


/* ---- naming policy (store_import.h "Names") ---------------------------------------------- */

/* "Service Booking" / "service-booking" -> "service_booking" for name prefixes. */
static void snake(const char *in, char *out, size_t size)
{
    size_t o = 0;
    bool us = false;
    for (const char *p = in; p && *p && o + 1 < size; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[o++] = c;
            us = false;
        } else if (o > 0 && !us) {
            out[o++] = '_';
            us = true;
        }
    }
    while (o > 0 && out[o - 1] == '_')
        o--;
    out[o] = '\0';
}

/* prefix + "_" + name (+ suffix), at most 64 characters: cut names get a hash so they stay
 * distinct. */
static void compose(const char *prefix, const char *name, const char *suffix, char *out,
                    size_t size)
{
    char full[256];
    snprintf(full, sizeof(full), "%s%s%s%s", prefix, prefix[0] ? "_" : "", name, suffix);
    if (strlen(full) <= GW_STORE_NAME_MAX) {
        snprintf(out, size, "%s", full);
        return;
    }
    uint32_t h = 2166136261u;
    for (const char *p = full; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    size_t keep = GW_STORE_NAME_MAX - 7 - strlen(suffix);
    snprintf(out, size, "%.*s_%06x%s", (int)keep, full, (unsigned)(h & 0xffffff), suffix);
}

/* Whether `name` can be the final name of new tool i (or of matched tool i with id except):
 * not final for another tool of this import, not held by a tool or live alias elsewhere
 * (im->in_use, read once per import), and not the stored name of one of this spec's tools
 * (which keep their names). `owner` receives the name itself when a tool has it, else the
 * name of the tool whose alias it is. */
static int available(struct import *im, const char *name, long long except, bool *out,
                     char *owner, struct gw_error *err)
{
    *out = false;
    if (json_object_get(im->taken, name)) {
        if (owner)
            snprintf(owner, GW_STORE_NAME_MAX + 1, "%s", name);
        return GW_OK;
    }
    json_t *o = json_object_get(im->in_use, name);
    long long id = json_integer_value(o);
    if (!o || id == 0 || id == except || -id == except) {
        *out = true;
        return GW_OK;
    }
    if (id > 0) {
        if (owner)
            snprintf(owner, GW_STORE_NAME_MAX + 1, "%s", name);
        return GW_OK;
    }
    /* a live alias of another tool: name that tool */
    if (owner)
        return gw_store__name_free(im->st, name, except, im->now, out, owner, err);
    return GW_OK;
}

/* The explicit rename of a tool, by the name the importer computed or its stored name. */
static const char *explicit_rename(struct import *im, const char *computed, const char *stored)
{
    const json_t *r = im->opts->renames;
    const char *to = computed ? gw_json_str(r, computed) : NULL;
    if (!to && stored)
        to = gw_json_str(r, stored);
    return to;
}

/* Step 3b: final names. Matched tools first (they keep their names unless renamed on
 * purpose), then new ones (a taken name gets the conflict prefix, or fails). */
static int assign_names(struct import *im, struct gw_error *err)
{
    const struct gw_store_import_opts *o = im->opts;
    char owner[GW_STORE_NAME_MAX + 1];
    bool ok = false;
    int rc = gw_store__names_in_use(im->st, im->now, &im->in_use, err);
    if (rc != GW_OK)
        return rc;
    for (size_t i = 0; i < im->n && rc == GW_OK; i++) {
        if (im->match[i] < 0)
            continue;
        const char *stored = im->o_name[im->match[i]];
        const char *to = explicit_rename(im, im->n_name[i], stored);
        const char *name = to ? to : o->rename_existing ? im->n_name[i] : stored;
        if (!gw_store__valid_name(name, false) || strlen(name) > GW_STORE_NAME_MAX)
            return GW_ERROR_SET(err, GW_EINVAL, "rename of %s: invalid name %.80s", stored, name);
        if (strcmp(name, stored) != 0) {
            rc = available(im, name, im->old[im->match[i]].id, &ok, owner, err);
            if (rc == GW_OK && !ok)
                return GW_ERROR_SET(err, GW_ECONFLICT,
                                    "cannot rename %s to %s: the name is %s", stored, name,
                                    strcmp(owner, name) == 0 ? "taken"
                                                             : "still an alias of another tool");
        } else if (strcmp(im->n_name[i], stored) != 0) {
            json_array_append_new(im->kept, json_pack("{s:s,s:s}", "name", stored, "computed",
                                                      im->n_name[i]));
        }
        im->final[i] = gw_xstrdup(name);
        json_object_set_new(im->taken, name, json_true());
    }
    /* the names of this spec's tools that are not matched (deprecated, kept) are taken too:
     * gw_store__name_free finds them in the tools table */
    for (size_t i = 0; i < im->n && rc == GW_OK; i++) {
        if (im->match[i] >= 0)
            continue;
        const char *to = explicit_rename(im, im->n_name[i], NULL);
        const char *wanted = to ? to : im->n_name[i];
        if (!gw_store__valid_name(wanted, false) || strlen(wanted) > GW_STORE_NAME_MAX)
            return GW_ERROR_SET(err, GW_EINVAL, "rename of %s: invalid name %.80s",
                                im->n_name[i], wanted);
        rc = available(im, wanted, 0, &ok, owner, err);
        if (rc != GW_OK)
            break;
        char name[GW_STORE_NAME_MAX + 1];
        snprintf(name, sizeof(name), "%s", wanted);
        if (!ok) {
            if (to || o->fail_on_conflict) {
                const char *spec = "";
                (void)spec;
                return GW_ERROR_SET(err, GW_ECONFLICT,
                                    "tool name %s is already used by %s%s", wanted,
                                    strcmp(owner, wanted) == 0 ? "another tool"
                                                               : "an alias of tool ",
                                    strcmp(owner, wanted) == 0 ? "" : owner);
            }
            char prefix[GW_STORE_NAME_MAX + 1];
            const char *bundle = gw_json_str(im->nw[i], "bundle");
            snake(o->conflict_prefix ? o->conflict_prefix
                  : bundle           ? bundle
                  : im->add_bundle   ? im->add_bundle
                                     : im->spec_id,
                  prefix, sizeof(prefix));
            char taken_by[GW_STORE_NAME_MAX + 1];
            snprintf(taken_by, sizeof(taken_by), "%s", owner);
            for (unsigned k = 1; k < 1000 && rc == GW_OK; k++) {
                char suffix[16] = "";
                if (k > 1)
                    snprintf(suffix, sizeof(suffix), "_%u", k);
                compose(prefix, wanted, suffix, name, sizeof(name));
                rc = available(im, name, 0, &ok, NULL, err);
                if (ok)
                    break;
            }
            if (rc == GW_OK && !ok)
                rc = GW_ERROR_SET(err, GW_ECONFLICT, "no free name for %s", wanted);
            if (rc != GW_OK)
                break;
            json_array_append_new(im->conflicts, json_pack("{s:s,s:s,s:s}", "name", name,
                                                           "wanted", wanted, "takenBy",
                                                           taken_by));
        }
        im->final[i] = gw_xstrdup(name);
        json_object_set_new(im->taken, name, json_true());
    }
    return rc;
}

/* Step 4a: tools of the spec with no counterpart become deprecated. */
static int deprecate_removed(struct import *im, struct gw_error *err)
{
    for (size_t j = 0; j < im->m; j++) {
        const json_t *od = im->old[j].def;
        if (im->o_used[j] || strcmp(gw_json_str(od, "status"), "deprecated") == 0)
            continue;
        json_t *d = json_copy((json_t *)od);
        json_object_set_new(d, "status", json_string("deprecated"));
        int rc = gw_store__tool_save(im->st, im->old[j].id, d, im->old[j].version + 1,
                                     "deprecate", od, im->who, im->now, NULL, err);
        json_decref(d);
        if (rc != GW_OK)
            return rc;
        json_array_append_new(im->removed, json_string(im->o_name[j]));
    }
    return GW_OK;
}

/* Step 4b: matched tools — update in place keeping governance (and the final name, with the
 * old one kept as an alias when it changed), or leave alone. */
static int update_matched(struct import *im, struct gw_error *err)
{
    for (size_t i = 0; i < im->n; i++) {
        if (im->match[i] < 0)
            continue;
        const struct old_tool *o = &im->old[im->match[i]];
        const char *old_name = gw_json_str(o->def, "name");
        const char *name = im->final[i];
        bool rename = strcmp(old_name, name) != 0;
        json_object_set_new(im->nw[i], "name", json_string(name));
        bool was_deprecated = strcmp(gw_json_str(o->def, "status"), "deprecated") == 0;
        /* an operation the new spec still marks deprecated stays deprecated (no revival) */
        const char *nst = gw_json_str(im->nw[i], "status");
        bool still_deprecated = was_deprecated && nst && strcmp(nst, "deprecated") == 0;
        if (still_deprecated)
            was_deprecated = false; /* treated like any other matched tool below */
        if (!was_deprecated && !rename && spec_owned_equal(im->nw[i], o->def)) {
            im->unchanged++;
            continue;
        }
        json_t *d = json_copy(im->nw[i]);
        for (const char *const *k = governance; *k; k++) {
            json_t *v = json_object_get(o->def, *k);
            if (v)
                json_object_set(d, *k, v);
        }
        if (was_deprecated)
            json_object_set_new(d, "status", json_string(im->add_status));
        int rc;
        char until[48] = "";
        if (rename) {
            struct gw_store_tool_rec rec = {o->id, o->version, o->def};
            rc = gw_store__rename_save(im->st, &rec, name, im->opts->alias_days, "import", im->who,
                                       im->now, d, until, sizeof(until), err);
        } else {
            rc = gw_store__tool_save(im->st, o->id, d, o->version + 1, "import", o->def, im->who,
                                     im->now, NULL, err);
        }
        json_decref(d);
        if (rc != GW_OK)
            return rc;
        json_array_append_new(was_deprecated ? im->added : im->changed, json_string(name));
        if (rename)
            json_array_append_new(im->renamed, json_pack("{s:s, s:s, s:s}", "from", old_name,
                                                         "to", name, "aliasUntil", until));
    }
    return GW_OK;
}

/* Which spec (if any) owns a tool name: for the conflict message. */
struct owner {
    char spec[GW_STORE_NAME_MAX + 1];
    bool got;
};

/* Row callback of the owner query. */
static int owner_row(void *ctx, const struct store_row *row)
{
    struct owner *ow = ctx;
    ow->got = true;
    snprintf(ow->spec, sizeof(ow->spec), "%s", row->n > 0 && row->v[0] ? row->v[0] : "");
    return GW_OK;
}

/* The serialisation of the new tools, pipelined with their inserts: a helper thread
 * serialises ahead in order while this thread inserts; an item is claimed by one of them
 * (state UNCLAIMED -> CLAIMED, compare-and-swap) and published (-> READY, release order), so
 * when the helper falls behind, the writer serialises items itself instead of waiting.
 * The definitions are complete (name, status, bundle, version 1) and nobody modifies them
 * meanwhile; jansson values are only read (reference counts are atomic in jansson), so no
 * lock is needed. */
enum { PD_UNCLAIMED, PD_CLAIMED, PD_READY };

struct predump {
    struct import *im;
    char **text;        /* per tool: its serialised definition; NULL when READY: too large */
    atomic_int *state;  /* per tool: PD_* */
    atomic_bool stop;   /* the writer failed: the helper stops */
};

/* Serialises tool i if it is still unclaimed; true when this caller did it. */
static bool predump_take(struct predump *pd, size_t i)
{
    int expect = PD_UNCLAIMED;
    if (!atomic_compare_exchange_strong(&pd->state[i], &expect, PD_CLAIMED))
        return false;
    struct gw_buf b;
    gw_buf_init(&b, GW_STORE_DEF_MAX);
    if (gw_json_dump(pd->im->nw[i], &b) == GW_OK)
        pd->text[i] = gw_buf_take(&b, NULL);
    gw_buf_fini(&b);
    atomic_store_explicit(&pd->state[i], PD_READY, memory_order_release);
    return true;
}

static void *predump_run(void *arg)
{
    struct predump *pd = arg;
    for (size_t i = 0; i < pd->im->n && !atomic_load(&pd->stop); i++)
        if (pd->im->match[i] < 0)
            (void)predump_take(pd, i);
    return NULL;
}

/* The serialised definition of tool i (owned by the caller), or NULL: serialise in the
 * writer (too large, which gw_store__tool_save_text reports). While the helper is still
 * serialising tool i, the writer serialises one further ahead instead of waiting, so the two
 * threads share the serialisation whichever of writing and serialising is the slower. */
static char *predump_get(struct predump *pd, size_t i)
{
    size_t ahead = i + 1;
    (void)predump_take(pd, i);
    while (atomic_load_explicit(&pd->state[i], memory_order_acquire) != PD_READY) {
        while (ahead < pd->im->n &&
               (pd->im->match[ahead] >= 0 ||
                atomic_load_explicit(&pd->state[ahead], memory_order_relaxed) != PD_UNCLAIMED))
            ahead++;
        if (ahead >= pd->im->n || !predump_take(pd, ahead))
            sched_yield();
    }
    char *t = pd->text[i];
    pd->text[i] = NULL;
    return t;
}

/* Step 4c: unmatched new tools are added; a name owned elsewhere is a conflict (found by the
 * unique index, then explained). Large imports serialise their definitions on a second
 * thread while this one writes (struct predump). */
static int add_new(struct import *im, struct gw_error *err)
{
    size_t nnew = 0;
    for (size_t i = 0; i < im->n; i++) {
        if (im->match[i] >= 0)
            continue;
        json_t *d = im->nw[i];
        json_object_set_new(d, "name", json_string(im->final[i]));
        /* an operation the spec marks deprecated arrives deprecated; the rest take the
         * import status */
        if (strcmp(gw_json_str(d, "status"), "deprecated") != 0)
            json_object_set_new(d, "status", json_string(im->add_status));
        if (json_is_null(json_object_get(d, "bundle")) && im->add_bundle)
            json_object_set_new(d, "bundle", json_string(im->add_bundle));
        json_object_set_new(d, "version", json_integer(1));
        nnew++;
    }
    struct predump pd = {.im = im};
    pthread_t th;
    bool threaded = false;
    if (nnew >= 512) {
        pd.text = gw_xcalloc(im->n, sizeof(char *));
        pd.state = gw_xcalloc(im->n, sizeof(atomic_int));
        for (size_t i = 0; i < im->n; i++)
            atomic_init(&pd.state[i], PD_UNCLAIMED);
        atomic_init(&pd.stop, false);
        threaded = pthread_create(&th, NULL, predump_run, &pd) == 0;
    }
    int rc = GW_OK;
    for (size_t i = 0; i < im->n && rc == GW_OK; i++) {
        if (im->match[i] >= 0)
            continue;
        json_t *d = im->nw[i];
        char *text = threaded ? predump_get(&pd, i) : NULL;
        if (json_object_get(im->in_use, im->final[i])) /* an expired alias: its row goes */
            rc = gw_store__alias_take(im->st, im->final[i], err);
        if (rc == GW_OK)
            rc = gw_store__tool_save_text(im->st, 0, d, text, 1, "import", NULL, im->who,
                                          im->now, NULL, err);
        gw_free(text);
        if (rc == GW_ECONFLICT) {
            struct owner ow = {{0}, false};
            struct store_param p[] = {SP_TEXT(im->n_name[i])};
            /* the failed INSERT aborted the PostgreSQL transaction: ask outside it */
            gw_store__rollback(im->st);
            gw_store__exec(im->st, "SELECT spec_id FROM tools WHERE name = $1", p, 1, owner_row,
                           &ow, NULL, NULL);
            rc = GW_ERROR_SET(err, GW_ECONFLICT, "tool name %s is already used by %s%s%s",
                                im->n_name[i],
                                ow.spec[0] ? "a tool of spec " : "a tool not from a spec", ow.spec,
                                ow.spec[0] && strcmp(ow.spec, im->spec_id) == 0
                                    ? " (another operation of this spec)"
                                    : "");
            break;
        }
        if (rc == GW_OK)
            json_array_append_new(im->added, json_string(im->final[i]));
    }
    if (threaded) {
        atomic_store(&pd.stop, true);
        pthread_join(th, NULL);
    }
    for (size_t i = 0; pd.text && i < im->n; i++) /* what the helper made past a failure */
        gw_free(pd.text[i]);
    gw_free(pd.text);
    gw_free(pd.state);
    return rc;
}

/* Step 5: the spec row, with the number of its tools that are not deprecated. */
static int upsert_spec(struct import *im, const char *title, const char *source_url,
                       const char *file_name, const char *hash, const char *content,
                       struct gw_error *err)
{
    struct store_param p[] = {SP_TEXT(im->spec_id), SP_TEXT(title),
                              SP_TEXT(im->spec_version ? im->spec_version : ""),
                              SP_TEXT(source_url), SP_TEXT(file_name), SP_TEXT(hash),
                              SP_TEXT(content), SP_TEXT(im->now),
                              SP_TEXT(gw_store__who(im->who))};
    int rc = gw_store__exec(im->st,
                            "INSERT INTO specs (id, title, version, source_url, file_name, "
                            "content_hash, content, imported_at, imported_by, tool_count) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0) "
                            "ON CONFLICT (id) DO UPDATE SET title = excluded.title, version = "
                            "excluded.version, source_url = excluded.source_url, file_name = "
                            "excluded.file_name, content_hash = excluded.content_hash, content = "
                            "excluded.content, imported_at = excluded.imported_at, imported_by = "
                            "excluded.imported_by",
                            p, 9, NULL, NULL, NULL, err);
    if (rc != GW_OK)
        return rc;
    return gw_store__exec(im->st,
                          "UPDATE specs SET tool_count = (SELECT count(*) FROM tools WHERE "
                          "spec_id = $1 AND status <> 'deprecated') WHERE id = $1",
                          p, 1, NULL, NULL, NULL, err);
}

/* Frees the working copies of the new tools. */
static void *release_new_run(void *arg)
{
    struct import *im = arg;
    for (size_t i = 0; i < im->n; i++) {
        json_decref(im->nw[i]);
        im->nw[i] = NULL;
    }
    return NULL;
}

/* After the writes nothing reads the new tools' working copies (n_name and n_opid borrow
 * from them: they are cleared): a large import frees them on a thread that import_fini joins,
 * so that the commit, which writes the log and copies it into the database, runs meanwhile. */
static void release_new(struct import *im)
{
    memset(im->n_name, 0, im->n * sizeof(*im->n_name));
    memset(im->n_opid, 0, im->n * sizeof(*im->n_opid));
    if (im->n >= 512 && pthread_create(&im->releaser, NULL, release_new_run, im) == 0)
        im->releasing = true;
    else
        release_new_run(im);
}

int gw_store_apply_import(struct gw_store *st, const json_t *spec, const json_t *tools,
                          const struct gw_store_import_opts *opts,
                          const struct gw_store_actor *who, json_t **out_diff,
                          struct gw_error *err)
{
    struct import im;
    struct gw_store_import_opts none = {0};
    const char *title = NULL, *id = NULL, *source_url = NULL, *file_name = NULL;
    const char *content = NULL, *hash = NULL;
    char slug[GW_STORE_NAME_MAX + 1], hash_buf[80];
    int rc;
    memset(&im, 0, sizeof(im));
    if (out_diff)
        *out_diff = NULL;
    if (!opts)
        opts = &none;
    im.st = st;
    im.who = who;
    im.add_status = opts->status ? opts->status : "draft";
    im.add_bundle = opts->bundle;
    im.added = json_array();
    im.changed = json_array();
    im.removed = json_array();
    im.renamed = json_array();
    im.kept = json_array();
    im.conflicts = json_array();
    im.taken = json_object();
    im.opts = opts;
    if (strcmp(im.add_status, "draft") != 0 && strcmp(im.add_status, "active") != 0) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "import status must be draft or active");
        goto out;
    }
    if (im.add_bundle && !gw_store__valid_name(im.add_bundle, true)) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "invalid default bundle name");
        goto out;
    }
    if (!json_is_object(spec) || !json_is_array(tools)) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "import needs a spec object and an array of tools");
        goto out;
    }
    size_t max_tools = opts->max_tools ? opts->max_tools : GW_STORE_IMPORT_MAX;
    if (json_array_size(tools) > max_tools) {
        rc = GW_ERROR_SET(err, GW_ELIMIT,
                          "import of %zu tools exceeds the limit of %zu (GW_OPENAPI_MAX_TOOLS)",
                          json_array_size(tools), max_tools);
        goto out;
    }
    if (json_string_length(json_object_get(spec, "content")) > GW_STORE_SPEC_MAX) {
        rc = GW_ERROR_SET(err, GW_ELIMIT, "spec document larger than %u bytes",
                          GW_STORE_SPEC_MAX);
        goto out;
    }
    rc = gw_store__opt_str(spec, "title", GW_STORE_TEXT_MAX, &title, err);
    if (rc == GW_OK)
        rc = gw_store__opt_str(spec, "id", GW_STORE_NAME_MAX, &id, err);
    if (rc == GW_OK)
        rc = gw_store__opt_str(spec, "version", SPEC_VERSION_MAX, &im.spec_version, err);
    if (rc == GW_OK)
        rc = gw_store__opt_str(spec, "sourceUrl", GW_STORE_TEXT_MAX, &source_url, err);
    if (rc == GW_OK)
        rc = gw_store__opt_str(spec, "fileName", GW_STORE_TEXT_MAX, &file_name, err);
    if (rc == GW_OK)
        rc = gw_store__opt_str(spec, "contentHash", HASH_MAX, &hash, err);
    if (rc == GW_OK)
        rc = gw_store__opt_str(spec, "content", GW_STORE_SPEC_MAX, &content, err);
    if (rc != GW_OK)
        goto out;
    if (!id) {
        slugify(title ? title : "", slug, sizeof(slug));
        id = slug;
    }
    if (!gw_store__valid_name(id, true)) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "spec needs an id (or a title to derive one) of "
                                          "[A-Za-z0-9_.-]");
        goto out;
    }
    if (!title)
        title = id;
    if (!hash && content) {
        sha256_hex(content, json_string_length(json_object_get(spec, "content")), hash_buf,
                   sizeof(hash_buf));
        hash = hash_buf;
    }
    im.spec_id = id;
    gw_store__now(im.now, sizeof(im.now));
    rc = prepare_new(&im, tools, err);
    if (opts->tools_read)
        opts->tools_read(opts->tools_read_ud);
    if (rc != GW_OK)
        goto out;
    rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        goto out;
    rc = load_and_match(&im, err);
    if (rc == GW_OK)
        rc = assign_names(&im, err);
    if (rc == GW_OK)
        rc = deprecate_removed(&im, err);
    if (rc == GW_OK)
        rc = update_matched(&im, err);
    if (rc == GW_OK)
        rc = add_new(&im, err);
    if (rc == GW_OK)
        rc = upsert_spec(&im, title, source_url, file_name, hash, content, err);
    release_new(&im); /* the working copies, while the commit writes */
    if (rc == GW_OK && !opts->dry_run)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
    if (rc != GW_OK)
        goto out;
    if (out_diff)
        *out_diff = json_pack("{s:s, s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:I, s:b}", "specId",
                              im.spec_id, "specVersion", im.spec_version ? im.spec_version : "",
                              "added", im.added, "changed", im.changed, "removed", im.removed,
                              "renamed", im.renamed, "nameKept", im.kept, "conflicts",
                              im.conflicts, "unchanged", (json_int_t)im.unchanged, "dryRun",
                              opts->dry_run);
out:
    import_fini(&im);
    return rc;
}
