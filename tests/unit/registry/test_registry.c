/*
 * tests/unit/registry/test_registry.c
 * Snapshots and the registry, on both store backends (see tests/unit/store/store_testenv.h):
 * snapshot build/lookup/MCP JSON, pagination with filters and cursor tampering, reloads and
 * change listeners, snapshot swaps under concurrent readers, change propagation between two
 * registries (LISTEN/NOTIFY on PostgreSQL, the in-process bus on SQLite), the polling
 * fallback, listener reconnection (PostgreSQL) and hot-path costs.
 */
#include "../store/store_testenv.h"
#include "core/json.h"

#include "registry/registry.h"
#include "store/store_bundle.h"
#include "store/store_impl.h"
#include "schema/schema_headers.h"
#include "store/store_tool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static json_t *mk_def(const char *name, long long version)
{
    return json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:b}, s:s, s:s, s:I, s:{s:s, s:s}}", "name",
                     name, "title", "T", "description", "D", "inputSchema", "type", "object",
                     "annotations", "readOnlyHint", 1, "risk", "read", "status", "active",
                     "version", (json_int_t)version, "binding", "method", "GET", "path", "/x");
}

static json_t *mk_defs(int n, const char *prefix)
{
    json_t *a = json_array();
    for (int i = n - 1; i >= 0; i--) { /* reverse order: the snapshot sorts */
        char name[32];
        snprintf(name, sizeof(name), "%s%04d", prefix, i);
        json_array_append_new(a, mk_def(name, 1));
    }
    return a;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct gw_store *open_migrated(const struct tenv *e)
{
    struct gw_store *st = NULL;
    struct gw_error err = {0};
    if (gw_store_open(e->url, NULL, &st, &err) != GW_OK ||
        gw_store_migrate(st, NULL, &err) != GW_OK)
        fail_msg("store: %s", err.msg);
    return st;
}

static void create_tool(struct gw_store *st, const char *name, const char *status,
                        const char *bundle)
{
    struct gw_error err = {0};
    json_t *t = json_pack("{s:s, s:s, s:{s:s}, s:s}", "name", name, "description", "d",
                          "inputSchema", "type", "object", "status", status);
    if (bundle)
        json_object_set_new(t, "bundle", json_string(bundle));
    if (gw_store_tool_create(st, t, NULL, NULL, &err) != GW_OK)
        fail_msg("create %s: %s", name, err.msg);
    json_decref(t);
}

/* ---- change recorder: a listener plus a bounded wait --------------------------------------- */

struct recorder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    struct gw_registry_change last;
};

static void recorder_init(struct recorder *r)
{
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->calls = 0;
}

static void recorder_fini(struct recorder *r)
{
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

static void on_change(void *ctx, const struct gw_registry_change *chg)
{
    struct recorder *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->calls++;
    r->last = *chg;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static bool has_tool(struct gw_registry *reg, const char *name)
{
    struct gw_snapshot *s = gw_registry_acquire(reg);
    bool found = gw_snapshot_find(s, name, strlen(name)) != NULL;
    gw_snapshot_release(s);
    return found;
}

/* Waits until `reg` serves (want) or stops serving (!want) `name`; returns the seconds it took
 * or fails the test after timeout_s. Woken by the recorder, re-checks every 50 ms. */
static double wait_for_tool(struct gw_registry *reg, struct recorder *r, const char *name,
                            bool want, double timeout_s)
{
    double t0 = now_s();
    while (has_tool(reg, name) != want) {
        if (now_s() - t0 > timeout_s)
            fail_msg("registry did not %s %s within %.0f s", want ? "get" : "drop", name,
                     timeout_s);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&r->mu);
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        pthread_mutex_unlock(&r->mu);
    }
    return now_s() - t0;
}

/* ---- snapshots ------------------------------------------------------------------------------ */

static void test_snapshot_basics(void **state)
{
    (void)tenv_get(state);
    struct gw_error err = {0};
    struct gw_snapshot *s = NULL;
    json_t *defs = json_array();
    json_array_append_new(defs, mk_def("zeta", 3));
    json_array_append_new(defs, mk_def("Alpha", 1));
    json_t *beta = mk_def("beta", 2);
    json_object_set_new(beta, "outputSchema", json_pack("{s:s}", "type", "object"));
    json_object_set_new(beta, "bundle", json_string("b1"));
    json_object_del(beta, "title");
    json_array_append_new(defs, beta);
    assert_int_equal(gw_snapshot_new(defs, 7, 42, &s, &err), GW_OK);
    assert_int_equal(gw_snapshot_count(s), 3);
    assert_int_equal(gw_snapshot_version(s), 7);
    assert_int_equal(gw_snapshot_store_version(s), 42);
    assert_string_equal(gw_snapshot_tool_at(s, 0)->name, "Alpha"); /* byte order */
    assert_string_equal(gw_snapshot_tool_at(s, 1)->name, "beta");
    assert_string_equal(gw_snapshot_tool_at(s, 2)->name, "zeta");
    assert_null(gw_snapshot_tool_at(s, 3));
    const struct gw_tool_entry *t = gw_snapshot_find(s, "beta", 4);
    assert_non_null(t);
    assert_string_equal(t->bundle, "b1");
    assert_string_equal(t->risk, "read");
    assert_int_equal(t->version, 2);
    /* no document is kept: the definition is parsed on first use, equal to what was added,
     * and the same copy is returned afterwards */
    const json_t *full = gw_tool_def(t);
    assert_non_null(full);
    assert_true(json_equal((json_t *)(uintptr_t)full, json_array_get(defs, 2)));
    assert_ptr_equal(gw_tool_def(t), full);
    assert_true(gw_snapshot_memory(s) > 0);
    /* MCP-facing JSON: only MCP fields, fixed order, no governance or binding */
    assert_string_equal(t->mcp_json,
                        "{\"name\":\"beta\",\"description\":\"D\",\"inputSchema\":{\"type\":"
                        "\"object\"},\"outputSchema\":{\"type\":\"object\"},\"annotations\":{"
                        "\"readOnlyHint\":true}}");
    assert_int_equal(t->mcp_json_len, strlen(t->mcp_json));
    assert_non_null(strstr(gw_snapshot_find(s, "zeta", 4)->mcp_json, "\"title\":\"T\""));
    /* lookups with slices: exact names only */
    assert_non_null(gw_snapshot_find(s, "zetaXYZ", 4));
    assert_null(gw_snapshot_find(s, "zet", 3));
    assert_null(gw_snapshot_find(s, "ZETA", 4));
    assert_null(gw_snapshot_find(s, "", 0));
    assert_null(gw_snapshot_find(s, NULL, 4));
    assert_null(gw_snapshot_find(s, "gamma", 5));
    /* the fingerprint follows names and versions */
    struct gw_snapshot *s2 = NULL;
    assert_int_equal(gw_snapshot_new(defs, 8, 43, &s2, &err), GW_OK);
    assert_true(gw_snapshot_fingerprint(s) == gw_snapshot_fingerprint(s2));
    gw_snapshot_release(s2);
    json_object_set_new(json_array_get(defs, 0), "version", json_integer(4));
    assert_int_equal(gw_snapshot_new(defs, 9, 44, &s2, &err), GW_OK);
    assert_true(gw_snapshot_fingerprint(s) != gw_snapshot_fingerprint(s2));
    gw_snapshot_release(s2);
    /* a tool's x-mcp-header declarations are kept with its entry (copied: the definition they
     * were found in is not kept); invalid ones mark it without declarations (its calls fail
     * saying why); a tool without any has neither */
    {
        json_t *d2 = json_array();
        json_t *h = mk_def("hdr", 1);
        json_object_set_new(h, "inputSchema",
                            json_pack("{s:s,s:{s:{s:s,s:s},s:{s:s,s:{s:{s:s,s:s}}}}}", "type",
                                      "object", "properties", "region", "type", "string",
                                      "x-mcp-header", "Region", "opts", "type", "object",
                                      "properties", "dry", "type", "boolean", "x-mcp-header",
                                      "Dry"));
        json_array_append_new(d2, h);
        json_t *bad = mk_def("bad", 1);
        json_object_set_new(bad, "inputSchema",
                            json_pack("{s:s,s:{s:{s:s,s:s}}}", "type", "object", "properties",
                                      "n", "type", "array", "x-mcp-header", "N"));
        json_array_append_new(d2, bad);
        json_array_append_new(d2, mk_def("plain", 1));
        struct gw_snapshot *s3 = NULL;
        assert_int_equal(gw_snapshot_new(d2, 1, 0, &s3, &err), GW_OK);
        json_decref(d2); /* the declarations must not borrow from it */
        const struct gw_tool_entry *th = gw_snapshot_find(s3, "hdr", 3);
        assert_true(th->param_headers);
        assert_int_equal(th->nparam_decls, 2);
        assert_string_equal(th->param_decls[0].name, "Region");
        assert_int_equal(th->param_decls[0].depth, 1);
        assert_string_equal(th->param_decls[0].path[0], "region");
        assert_string_equal(th->param_decls[1].name, "Dry");
        assert_int_equal(th->param_decls[1].depth, 2);
        assert_string_equal(th->param_decls[1].path[1], "dry");
        assert_int_equal(th->param_decls[1].type, GW_SCHEMA_HEADER_BOOLEAN);
        const struct gw_tool_entry *tb = gw_snapshot_find(s3, "bad", 3);
        assert_true(tb->param_headers);
        assert_null(tb->param_decls);
        const struct gw_tool_entry *tp = gw_snapshot_find(s3, "plain", 5);
        assert_false(tp->param_headers);
        assert_null(tp->param_decls);
        gw_snapshot_release(s3);
    }
    /* references: the snapshot lives until the last release */
    struct gw_snapshot *r = gw_snapshot_ref(s);
    gw_snapshot_release(s);
    assert_string_equal(gw_snapshot_tool_at(r, 0)->name, "Alpha");
    gw_snapshot_release(r);
    gw_snapshot_release(NULL);
    /* invalid sets */
    json_array_append_new(defs, mk_def("beta", 1));
    assert_int_equal(gw_snapshot_new(defs, 1, 0, &s2, &err), GW_EINVAL);
    assert_null(s2);
    json_array_remove(defs, 3);
    json_array_append_new(defs, mk_def("bad name", 1));
    assert_int_equal(gw_snapshot_new(defs, 1, 0, &s2, &err), GW_EINVAL);
    json_array_remove(defs, 3);
    json_t *noschema = mk_def("noschema", 1);
    json_object_del(noschema, "inputSchema");
    json_array_append_new(defs, noschema);
    assert_int_equal(gw_snapshot_new(defs, 1, 0, &s2, &err), GW_EINVAL);
    assert_int_equal(gw_snapshot_new(json_null(), 1, 0, &s2, &err), GW_EINVAL);
    json_decref(defs);
    /* empty */
    defs = json_array();
    assert_int_equal(gw_snapshot_new(defs, 1, 0, &s2, &err), GW_OK);
    assert_int_equal(gw_snapshot_count(s2), 0);
    assert_null(gw_snapshot_find(s2, "x", 1));
    gw_snapshot_release(s2);
    json_decref(defs);
}

static bool even_only(void *ctx, const struct gw_tool_entry *t)
{
    (void)ctx;
    return (t->name[t->name_len - 1] - '0') % 2 == 0;
}

static bool below(void *ctx, const struct gw_tool_entry *t)
{
    return strcmp(t->name, ctx) < 0;
}

/* Pages through everything; returns the number of tools seen, checking order. */
static size_t page_all(const struct gw_snapshot *s, size_t page, gw_tool_filter_fn f, void *ctx,
                       size_t *out_pages)
{
    const struct gw_tool_entry *out[1000];
    char cursor[GW_CURSOR_MAX] = "", next[GW_CURSOR_MAX];
    char last[80] = "";
    size_t seen = 0, pages = 0, n = 0;
    do {
        struct gw_error err = {0};
        assert_int_equal(gw_snapshot_paginate(s, cursor, strlen(cursor), page, f, ctx, out, &n,
                                              next, &err),
                         GW_OK);
        for (size_t i = 0; i < n; i++) {
            assert_true(strcmp(last, out[i]->name) < 0);
            snprintf(last, sizeof(last), "%s", out[i]->name);
            if (f)
                assert_true(f(ctx, out[i]));
        }
        seen += n;
        pages++;
        assert_true(strlen(next) < GW_CURSOR_MAX);
        memcpy(cursor, next, sizeof(next));
    } while (cursor[0] && pages < 5000);
    *out_pages = pages;
    return seen;
}

static void test_paginate(void **state)
{
    (void)tenv_get(state);
    struct gw_error err = {0};
    struct gw_snapshot *s = NULL;
    json_t *defs = mk_defs(1000, "tool_");
    assert_int_equal(gw_snapshot_new(defs, 1, 0, &s, &err), GW_OK);
    size_t pages = 0;
    assert_int_equal(page_all(s, 100, NULL, NULL, &pages), 1000);
    assert_int_equal(pages, 10); /* exact multiple: no trailing empty page */
    assert_int_equal(page_all(s, 333, NULL, NULL, &pages), 1000);
    assert_int_equal(pages, 4);
    assert_int_equal(page_all(s, 100, even_only, NULL, &pages), 500);
    assert_int_equal(pages, 5);
    assert_int_equal(page_all(s, 1000, NULL, NULL, &pages), 1000);
    assert_int_equal(pages, 1);
    /* a filter that rejects everything after the page: no next cursor (look-ahead) */
    const struct gw_tool_entry *out[10];
    char next[GW_CURSOR_MAX];
    size_t n = 0;
    char limit[] = "tool_0010";
    assert_int_equal(gw_snapshot_paginate(s, NULL, 0, 10, below, limit, out, &n, next, &err),
                     GW_OK);
    assert_int_equal(n, 10);
    assert_string_equal(next, "");
    assert_int_equal(gw_snapshot_paginate(s, "", 0, 3, NULL, NULL, out, &n, next, &err), GW_OK);
    assert_string_equal(out[0]->name, "tool_0000");
    char good[GW_CURSOR_MAX];
    memcpy(good, next, sizeof(good));

    /* tampering: every single-character change of a valid cursor is rejected or lands on a
     * valid position (never a crash, never an out-of-range page) */
    size_t len = strlen(good), rejected = 0;
    const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.";
    for (size_t i = 0; i < len; i++) {
        for (size_t a = 0; a < sizeof(alphabet) - 1; a++) {
            char bad[GW_CURSOR_MAX];
            memcpy(bad, good, sizeof(bad));
            if (bad[i] == alphabet[a])
                continue;
            bad[i] = alphabet[a];
            int rc = gw_snapshot_paginate(s, bad, len, 3, NULL, NULL, out, &n, next, &err);
            if (rc == GW_EINVAL)
                rejected++;
            else
                assert_true(n <= 3);
        }
    }
    printf("# %zu of %zu one-character cursor edits rejected\n", rejected,
           len * (sizeof(alphabet) - 2));
    assert_true(rejected * 100 >= len * (sizeof(alphabet) - 2) * 99); /* >= 99 % */
    const char *invalid[] = {"!!!!", "AAAA", "tool_0003", "dG9vbF8wMDAz", "AQ", "A", "====",
                             "AXRvb2xfMDAwMk4=", "AXRvb2xfMDAwMk5"};
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        assert_int_equal(gw_snapshot_paginate(s, invalid[i], strlen(invalid[i]), 3, NULL, NULL,
                                              out, &n, next, &err),
                         GW_EINVAL);
    char longc[300];
    memset(longc, 'A', sizeof(longc));
    assert_int_equal(gw_snapshot_paginate(s, longc, sizeof(longc), 3, NULL, NULL, out, &n, next,
                                          &err),
                     GW_EINVAL);
    assert_int_equal(gw_snapshot_paginate(s, NULL, 0, 0, NULL, NULL, out, &n, next, &err),
                     GW_EINVAL);
    assert_int_equal(gw_snapshot_paginate(s, NULL, 0, GW_PAGE_MAX + 1, NULL, NULL, out, &n,
                                          next, &err),
                     GW_EINVAL);

    /* cursors do not depend on the snapshot: continue in a different one */
    json_array_append_new(defs, mk_def("tool_0001a", 1)); /* before the cursor: skipped */
    json_array_append_new(defs, mk_def("tool_0002a", 1)); /* after it: included */
    json_array_remove(defs, json_array_size(defs) - 7);   /* tool_0004 removed */
    struct gw_snapshot *s2 = NULL;
    assert_int_equal(gw_snapshot_new(defs, 2, 0, &s2, &err), GW_OK);
    assert_int_equal(gw_snapshot_paginate(s2, good, strlen(good), 3, NULL, NULL, out, &n, next,
                                          &err),
                     GW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(out[0]->name, "tool_0002a");
    assert_string_equal(out[1]->name, "tool_0003");
    assert_string_equal(out[2]->name, "tool_0005");
    gw_snapshot_release(s2);
    gw_snapshot_release(s);
    json_decref(defs);
}

/* ---- the registry ---------------------------------------------------------------------------- */

static void test_reload_and_listeners(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    create_tool(st, "alpha", "active", "prod");
    create_tool(st, "beta", "draft", NULL);
    create_tool(st, "gamma", "active", NULL);
    struct gw_registry *reg = NULL;
    struct gw_registry_config cfg = {.store_url = e->url};
    assert_int_equal(gw_registry_new(&cfg, &reg, &err), GW_OK);
    struct recorder rec;
    recorder_init(&rec);
    int id = gw_registry_on_change(reg, on_change, &rec);
    assert_true(id > 0);

    struct gw_snapshot *s = gw_registry_acquire(reg);
    assert_int_equal(gw_snapshot_count(s), 2); /* the draft is not served */
    uint64_t v1 = gw_snapshot_version(s);
    bool swapped = true;
    assert_int_equal(gw_registry_reload(reg, false, &swapped, &err), GW_OK);
    assert_false(swapped); /* store unchanged */
    assert_int_equal(rec.calls, 0);

    assert_int_equal(gw_store_tool_set_status(st, "beta", "active", NULL, &err), GW_OK);
    assert_int_equal(gw_registry_reload(reg, false, &swapped, &err), GW_OK);
    assert_true(swapped);
    assert_int_equal(rec.calls, 1);
    assert_int_equal(rec.last.old_version, v1);
    assert_true(rec.last.new_version > v1);
    assert_true(rec.last.list_changed);
    assert_int_equal(rec.last.tool_count, 3);
    /* the old snapshot is still intact for its holder */
    assert_int_equal(gw_snapshot_count(s), 2);
    assert_null(gw_snapshot_find(s, "beta", 4));
    gw_snapshot_release(s);
    assert_true(has_tool(reg, "beta"));

    /* a change that does not alter the tool list: swapped, list_changed false */
    json_t *ch = json_pack("{s:s}", "title", "Production");
    assert_int_equal(gw_store_bundle_update(st, "prod", ch, NULL, NULL, &err), GW_OK);
    json_decref(ch);
    assert_int_equal(gw_registry_reload(reg, false, &swapped, &err), GW_OK);
    assert_true(swapped);
    assert_int_equal(rec.calls, 2);
    assert_false(rec.last.list_changed);
    /* disabling the bundle takes its tools out */
    ch = json_pack("{s:s}", "status", "disabled");
    assert_int_equal(gw_store_bundle_update(st, "prod", ch, NULL, NULL, &err), GW_OK);
    json_decref(ch);
    assert_int_equal(gw_registry_reload(reg, false, &swapped, &err), GW_OK);
    assert_true(rec.last.list_changed);
    assert_false(has_tool(reg, "alpha"));
    /* forced reload always swaps; versions keep increasing */
    uint64_t before = rec.last.new_version;
    assert_int_equal(gw_registry_reload(reg, true, &swapped, &err), GW_OK);
    assert_true(swapped);
    assert_true(rec.last.new_version > before);
    assert_false(rec.last.list_changed);

    gw_registry_off_change(reg, id);
    assert_int_equal(gw_store_tool_set_status(st, "gamma", "disabled", NULL, &err), GW_OK);
    assert_int_equal(gw_registry_reload(reg, false, &swapped, &err), GW_OK);
    assert_int_equal(rec.calls, 4); /* unregistered: not called */
    struct gw_registry_stats stats;
    gw_registry_stats(reg, &stats);
    assert_int_equal(stats.reloads, 6); /* initial + 5 */
    gw_registry_free(reg);
    recorder_fini(&rec);

    /* registries without a store */
    struct gw_registry_config none = {0};
    assert_int_equal(gw_registry_new(&none, &reg, &err), GW_OK);
    s = gw_registry_acquire(reg);
    assert_int_equal(gw_snapshot_count(s), 0);
    gw_snapshot_release(s);
    assert_int_equal(gw_registry_reload(reg, false, NULL, &err), GW_EINVAL);
    json_t *defs = mk_defs(5, "x");
    assert_int_equal(gw_registry_publish(reg, defs, &err), GW_OK);
    json_decref(defs);
    assert_true(has_tool(reg, "x0004"));
    gw_registry_free(reg);
    none.watch = true;
    assert_int_equal(gw_registry_new(&none, &reg, &err), GW_EINVAL);
    /* an unreachable store fails creation cleanly */
    struct gw_registry_config bad = {.store_url = "sqlite:///nonexistent-dir/x/y/z.db"};
    assert_int_not_equal(gw_registry_new(&bad, &reg, &err), GW_OK);
    gw_store_close(st);
}

/* Readers hammer the registry while the main thread swaps snapshots in: every snapshot a
 * reader holds must stay internally consistent until it releases it (ASan catches any
 * use-after-free; the checks catch torn snapshots). */
struct reader {
    struct gw_registry *reg;
    atomic_bool *stop;
    unsigned long long reads;
    int errors;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    const struct gw_tool_entry *page[50];
    char next[GW_CURSOR_MAX];
    while (!atomic_load(r->stop)) {
        struct gw_snapshot *s = gw_registry_acquire(r->reg);
        size_t n = gw_snapshot_count(s);
        /* snapshot k holds tools "s<k>_0000" … in which every name carries the same k */
        for (size_t i = 0; i < n; i += 7) {
            const struct gw_tool_entry *t = gw_snapshot_tool_at(s, i);
            if (gw_snapshot_find(s, t->name, t->name_len) != t ||
                strncmp(t->name, gw_snapshot_tool_at(s, 0)->name, 5) != 0 ||
                t->mcp_json[t->mcp_json_len - 1] != '}')
                r->errors++;
        }
        size_t got = 0;
        if (gw_snapshot_paginate(s, NULL, 0, 50, NULL, NULL, page, &got, next, NULL) != GW_OK ||
            got != (n < 50 ? n : 50))
            r->errors++;
        gw_snapshot_release(s);
        r->reads++;
    }
    return NULL;
}

static void test_concurrent_readers(void **state)
{
    (void)tenv_get(state);
    struct gw_error err = {0};
    struct gw_registry *reg = NULL;
    struct gw_registry_config none = {0};
    assert_int_equal(gw_registry_new(&none, &reg, &err), GW_OK);
    atomic_bool stop = false;
    struct reader r[2] = {{reg, &stop, 0, 0}, {reg, &stop, 0, 0}};
    pthread_t th[2];
    json_t *first = mk_defs(100, "s0000_");
    assert_int_equal(gw_registry_publish(reg, first, &err), GW_OK);
    json_decref(first);
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, reader_main, &r[i]);
    double t0 = now_s();
    int swaps = 0;
    for (; swaps < 300 || now_s() - t0 < 0.5; swaps++) {
        char prefix[16];
        snprintf(prefix, sizeof(prefix), "s%04d_", swaps % 10000);
        json_t *defs = mk_defs(20 + swaps % 200, prefix);
        assert_int_equal(gw_registry_publish(reg, defs, &err), GW_OK);
        json_decref(defs);
        if (now_s() - t0 > 20)
            break;
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    printf("# %d swaps under %llu + %llu concurrent snapshot reads\n", swaps, r[0].reads,
           r[1].reads);
    assert_int_equal(r[0].errors + r[1].errors, 0);
    assert_true(r[0].reads > 0 && r[1].reads > 0);
    gw_registry_free(reg);
}

/* The same with reloads from the store while readers run and another handle writes. */
static void test_concurrent_store_reload(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    create_tool(st, "s0000_seed", "active", NULL);
    struct gw_registry *reg = NULL;
    struct gw_registry_config cfg = {.store_url = e->url};
    assert_int_equal(gw_registry_new(&cfg, &reg, &err), GW_OK);
    atomic_bool stop = false;
    struct reader r[2] = {{reg, &stop, 0, 0}, {reg, &stop, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, reader_main, &r[i]);
    for (int i = 0; i < 30; i++) {
        char name[32];
        snprintf(name, sizeof(name), "s0000_%02d", i);
        create_tool(st, name, "active", NULL);
        bool swapped = false;
        assert_int_equal(gw_registry_reload(reg, false, &swapped, &err), GW_OK);
        assert_true(swapped);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(r[0].errors + r[1].errors, 0);
    struct gw_snapshot *s = gw_registry_acquire(reg);
    assert_int_equal(gw_snapshot_count(s), 31);
    gw_snapshot_release(s);
    gw_registry_free(reg);
    gw_store_close(st);
}

/* Two registries (two replicas) watching one database; a write through a third handle must
 * reach both without polling: LISTEN/NOTIFY on PostgreSQL, the in-process bus on SQLite. */
static void test_two_registries_notified(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    struct gw_registry_config cfg = {.store_url = e->url, .poll_ms = 0, .watch = true};
    struct gw_registry *a = NULL, *b = NULL;
    assert_int_equal(gw_registry_new(&cfg, &a, &err), GW_OK);
    assert_int_equal(gw_registry_new(&cfg, &b, &err), GW_OK);
    struct recorder ra, rb;
    recorder_init(&ra);
    recorder_init(&rb);
    gw_registry_on_change(a, on_change, &ra);
    gw_registry_on_change(b, on_change, &rb);
    /* the watchers must be listening before the write, or a NOTIFY could be missed (it would
     * still be caught by the reload check after connecting, but that is not what we test) */
    for (int i = 0; i < 200; i++) {
        struct gw_registry_stats sa, sb;
        gw_registry_stats(a, &sa);
        gw_registry_stats(b, &sb);
        if (sa.listening && sb.listening)
            break;
        usleep(10000);
    }
    create_tool(st, "hello", "active", NULL);
    double ta = wait_for_tool(a, &ra, "hello", true, 10);
    double tb = wait_for_tool(b, &rb, "hello", true, 10);
    printf("# %s: change reached registry A in %.1f ms, B in %.1f ms\n", e->backend, ta * 1e3,
           tb * 1e3);
    assert_int_equal(gw_store_tool_delete(st, "hello", NULL, &err), GW_OK);
    wait_for_tool(a, &ra, "hello", false, 10);
    wait_for_tool(b, &rb, "hello", false, 10);
    struct gw_registry_stats sa;
    gw_registry_stats(a, &sa);
    assert_true(sa.notifications >= 2);
    gw_registry_free(a);
    gw_registry_free(b);
    recorder_fini(&ra);
    recorder_fini(&rb);
    gw_store_close(st);
}

/* A write that sends no notification (another process on the SQLite file, a NOTIFY lost while
 * disconnected) is picked up by the registry-version poll. */
static void test_poll_fallback(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    create_tool(st, "quiet", "draft", NULL);
    struct gw_registry_config cfg = {.store_url = e->url, .poll_ms = 100, .watch = true};
    struct gw_registry *reg = NULL;
    assert_int_equal(gw_registry_new(&cfg, &reg, &err), GW_OK);
    struct recorder rec;
    recorder_init(&rec);
    gw_registry_on_change(reg, on_change, &rec);
    assert_false(has_tool(reg, "quiet"));
    /* let the watcher finish its start-up check, so that only a poll can see what follows */
    struct gw_registry_stats stats;
    for (int i = 0; i < 1000; i++) {
        gw_registry_stats(reg, &stats);
        if (stats.checks > 0)
            break;
        usleep(5000);
    }
    assert_true(stats.checks > 0);
    /* raw autocommit statements: no NOTIFY, no bus post */
    assert_int_equal(gw_store__exec(st, "UPDATE tools SET status = 'active' WHERE name = 'quiet'",
                                    NULL, 0, NULL, NULL, NULL, &err),
                     GW_OK);
    assert_int_equal(gw_store__exec(st, "UPDATE registry_state SET version = version + 1", NULL,
                                    0, NULL, NULL, NULL, &err),
                     GW_OK);
    double t = wait_for_tool(reg, &rec, "quiet", true, 10);
    gw_registry_stats(reg, &stats);
    assert_int_equal(stats.notifications, 0); /* found by polling, not by a notification */
    printf("# %s: polled change served after %.0f ms (poll 100 ms)\n", e->backend, t * 1e3);
    gw_registry_free(reg);
    recorder_fini(&rec);
    gw_store_close(st);
}

/* PostgreSQL: kill the watcher's LISTEN connection; it reconnects and keeps receiving. */
static void test_listener_reconnect(void **state)
{
    struct tenv *e = tenv_get(state);
    if (strcmp(e->backend, "postgres") != 0)
        skip(); /* SQLite has no listener connection to lose */
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    struct gw_registry_config cfg = {.store_url = e->url, .poll_ms = 0, .watch = true};
    struct gw_registry *reg = NULL;
    assert_int_equal(gw_registry_new(&cfg, &reg, &err), GW_OK);
    struct recorder rec;
    recorder_init(&rec);
    gw_registry_on_change(reg, on_change, &rec);
    struct gw_registry_stats stats;
    for (int i = 0; i < 500; i++) {
        gw_registry_stats(reg, &stats);
        if (stats.listening)
            break;
        usleep(10000);
    }
    assert_true(stats.listening);
    long long killed = 0;
    assert_int_equal(gw_store__query_int(st,
                                         "SELECT count(pg_terminate_backend(pid)) FROM "
                                         "pg_stat_activity WHERE query LIKE 'LISTEN%' AND "
                                         "pid <> pg_backend_pid()",
                                         NULL, 0, &killed, &err),
                     GW_OK);
    assert_true(killed >= 1);
    /* a change made while it is down is caught by the check after reconnecting, one made
     * after by NOTIFY */
    create_tool(st, "during_outage", "active", NULL);
    double t = wait_for_tool(reg, &rec, "during_outage", true, 15);
    for (int i = 0; i < 500; i++) {
        gw_registry_stats(reg, &stats);
        if (stats.listening)
            break;
        usleep(10000);
    }
    create_tool(st, "after_outage", "active", NULL);
    wait_for_tool(reg, &rec, "after_outage", true, 15);
    printf("# listener killed; change served again after %.0f ms\n", t * 1e3);
    gw_registry_free(reg);
    recorder_fini(&rec);
    gw_store_close(st);
}

/* Readiness facts: a loaded registry stays loaded (and keeps serving its snapshot) when the
 * store fails afterwards; only store_ok reports the failure. */
static void test_store_failure_keeps_snapshot(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    create_tool(st, "kept", "active", NULL);
    struct gw_registry_config cfg = {.store_url = e->url};
    struct gw_registry *reg = NULL;
    assert_int_equal(gw_registry_new(&cfg, &reg, &err), GW_OK);
    struct gw_registry_stats stats;
    gw_registry_stats(reg, &stats);
    assert_true(stats.loaded);
    assert_true(stats.store_ok);
    assert_true(stats.last_ok_unix > 0);
    /* the store breaks (here: its version table is gone) */
    assert_int_equal(gw_store__exec(st, "DROP TABLE registry_state", NULL, 0, NULL, NULL, NULL,
                                    &err),
                     GW_OK);
    assert_int_not_equal(gw_registry_reload(reg, false, NULL, &err), GW_OK);
    gw_registry_stats(reg, &stats);
    assert_true(stats.loaded);    /* still servable: ready */
    assert_false(stats.store_ok); /* for metrics and alerts */
    assert_true(stats.reload_errors >= 1);
    assert_true(has_tool(reg, "kept"));
    gw_registry_free(reg);
    gw_store_close(st);
}

/* A lazy registry starts while its database cannot serve it (here: not migrated yet, as before
 * the migration Job ran; a stopped PostgreSQL is covered by scripts/test.d/71-readiness.sh):
 * not loaded, empty snapshot; it loads its first snapshot by itself once the database answers.
 * A strict registry refuses to start. */
static void test_lazy_start(void **state)
{
    struct tenv *e = tenv_get(state);
    if (strcmp(e->backend, "sqlite") != 0)
        skip(); /* PostgreSQL: scripts/test.d/71-readiness.sh stops a real server */
    char dir[600], url[700];
    snprintf(dir, sizeof(dir), "%s/late", e->dir);
    snprintf(url, sizeof(url), "sqlite://%s/gateway.db", dir); /* created, never migrated */
    struct gw_error err = {0};
    struct gw_registry *reg = NULL;
    struct gw_registry_config strict = {.store_url = url, .poll_ms = 50, .watch = true};
    assert_int_not_equal(gw_registry_new(&strict, &reg, &err), GW_OK);
    assert_null(reg);
    struct gw_registry_config lazy = strict;
    lazy.lazy = true;
    assert_int_equal(gw_registry_new(&lazy, &reg, &err), GW_OK);
    struct gw_registry_stats stats;
    gw_registry_stats(reg, &stats);
    assert_false(stats.loaded);
    assert_false(stats.store_ok);
    assert_int_equal(stats.last_ok_unix, 0);
    struct gw_snapshot *snap = gw_registry_acquire(reg);
    assert_int_equal(gw_snapshot_count(snap), 0);
    gw_snapshot_release(snap);
    usleep(200 * 1000); /* the watcher keeps failing meanwhile and stays unloaded */
    gw_registry_stats(reg, &stats);
    assert_false(stats.loaded);
    /* the database becomes usable */
    struct tenv late = *e;
    snprintf(late.url, sizeof(late.url), "%s", url);
    struct gw_store *st = open_migrated(&late);
    create_tool(st, "late_tool", "active", NULL);
    struct recorder rec;
    recorder_init(&rec);
    gw_registry_on_change(reg, on_change, &rec);
    double t = wait_for_tool(reg, &rec, "late_tool", true, 10);
    gw_registry_stats(reg, &stats);
    assert_true(stats.loaded); /* set by the swap itself */
    /* store_ok is set when the reload returns, just after the swap the reader saw */
    for (int i = 0; i < 200 && !stats.store_ok; i++) {
        usleep(5000);
        gw_registry_stats(reg, &stats);
    }
    assert_true(stats.store_ok);
    printf("# lazy registry loaded %.0f ms after its database appeared\n", t * 1e3);
    gw_registry_free(reg);
    recorder_fini(&rec);
    gw_store_close(st);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char f[800];
        snprintf(f, sizeof(f), "%s/gateway.db%s", dir, suffixes[i]);
        unlink(f);
    }
    rmdir(dir);
}

/* Hot-path costs with 1,000 tools (printed; loose bounds only catch gross regressions). */
static void test_hot_path_cost(void **state)
{
    (void)tenv_get(state);
    struct gw_error err = {0};
    struct gw_registry *reg = NULL;
    struct gw_registry_config none = {0};
    assert_int_equal(gw_registry_new(&none, &reg, &err), GW_OK);
    json_t *defs = mk_defs(1000, "tool_");
    assert_int_equal(gw_registry_publish(reg, defs, &err), GW_OK);
    json_decref(defs);
    const int N = 200000;
    double t0 = now_s();
    for (int i = 0; i < N; i++)
        gw_snapshot_release(gw_registry_acquire(reg));
    double t1 = now_s();
    struct gw_snapshot *s = gw_registry_acquire(reg);
    char name[16];
    size_t hits = 0;
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "tool_%04d", i % 1000);
        hits += gw_snapshot_find(s, name, 9) != NULL;
    }
    double t2 = now_s();
    assert_int_equal(hits, (size_t)N);
    const struct gw_tool_entry *page[1000];
    char next[GW_CURSOR_MAX];
    size_t n = 0, bytes = 0;
    const int P = 2000;
    for (int i = 0; i < P; i++) {
        assert_int_equal(gw_snapshot_paginate(s, NULL, 0, 1000, NULL, NULL, page, &n, next, &err),
                         GW_OK);
        for (size_t k = 0; k < n; k++)
            bytes += page[k]->mcp_json_len;
    }
    double t3 = now_s();
    assert_int_equal(n, 1000);
    gw_snapshot_release(s);
    double acq = (t1 - t0) / N * 1e9, find = (t2 - t1) / N * 1e9, pg = (t3 - t2) / P * 1e6;
    printf("# acquire+release %.0f ns, find %.0f ns (incl. snprintf), 1000-tool page %.1f us "
           "(%zu bytes of JSON each)\n",
           acq, find, pg, bytes / P);
    assert_true(acq < 5000);
    assert_true(pg < 5000);
    gw_registry_free(reg);
}


/* Extensions: built with every snapshot, see every tool with its definition, get the finished
 * snapshot, and their data lives and dies with it; registering one rebuilds the current
 * snapshot. Aliases: an old name resolves (gw_snapshot_resolve) until it expires, never
 * shadows a real name, and plain lookups and listing ignore it. */
struct ext_counts {
    int begins, tools, ends, frees;
    char last[72];
};

static void *ext_begin(void *ctx, size_t n)
{
    (void)n;
    ((struct ext_counts *)ctx)->begins++;
    return gw_xcalloc(1, sizeof(size_t));
}

static void ext_tool(void *ctx, void *st, const struct gw_tool_entry *e, const json_t *def)
{
    struct ext_counts *c = ctx;
    c->tools++;
    assert_string_equal(e->name, gw_json_str(def, "name"));
    snprintf(c->last, sizeof(c->last), "%s", e->name);
    (*(size_t *)st)++;
}

static void *ext_end(void *ctx, void *st, const struct gw_snapshot *s)
{
    struct ext_counts *c = ctx;
    c->ends++;
    assert_int_equal(*(size_t *)st, gw_snapshot_count(s));
    assert_non_null(gw_snapshot_find(s, c->last, strlen(c->last)));
    return st;
}

static void ext_free(void *ctx, void *data)
{
    ((struct ext_counts *)ctx)->frees++;
    gw_free(data);
}

static void test_extensions_and_aliases(void **state)
{
    (void)tenv_get(state);
    struct gw_error err = {0};
    struct gw_registry_config cfg = {0};
    struct gw_registry *reg = NULL;
    assert_int_equal(gw_registry_new(&cfg, &reg, &err), GW_OK);
    json_t *defs = mk_defs(10, "t");
    assert_int_equal(gw_registry_publish(reg, defs, &err), GW_OK);
    struct ext_counts c = {0};
    struct gw_snapshot_ext ext = {ext_begin, ext_tool, ext_end, ext_free, &c};
    assert_int_equal(gw_registry_add_ext(reg, &ext), 0);
    /* the current snapshot was rebuilt with the extension */
    struct gw_snapshot *s = gw_registry_acquire(reg);
    assert_non_null(gw_snapshot_ext(s, 0));
    assert_int_equal(*(size_t *)gw_snapshot_ext(s, 0), 10);
    assert_int_equal(c.tools, 10);
    gw_snapshot_release(s);
    /* a failed build frees the extension's state */
    json_t *bad = mk_defs(3, "b");
    json_array_append_new(bad, mk_def("b0001", 1));
    assert_int_equal(gw_registry_publish(reg, bad, &err), GW_EINVAL);
    json_decref(bad);
    assert_int_equal(c.begins, c.ends + 1);
    assert_int_equal(c.frees, 1);
    /* aliases */
    json_t *renamed = mk_def("new_name", 2);
    json_object_set_new(renamed, "aliases",
                        json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s}]", "name", "old_name",
                                  "until", "2999-01-01T00:00:00.000Z", "name", "expired_name",
                                  "until", "2001-01-01T00:00:00.000Z", "name", "t0003", "until",
                                  "2999-01-01T00:00:00.000Z", "name", "forever"));
    json_array_append_new(defs, renamed);
    assert_int_equal(gw_registry_publish(reg, defs, &err), GW_OK);
    s = gw_registry_acquire(reg);
    bool alias = false;
    const struct gw_tool_entry *t = gw_snapshot_resolve(s, "old_name", 8, &alias);
    assert_non_null(t);
    assert_true(alias);
    assert_string_equal(t->name, "new_name");
    assert_non_null(gw_snapshot_resolve(s, "forever", 7, &alias));
    assert_null(gw_snapshot_find(s, "old_name", 8));                /* not a name */
    assert_null(gw_snapshot_resolve(s, "expired_name", 12, &alias)); /* expired */
    t = gw_snapshot_resolve(s, "t0003", 5, &alias);                  /* a real name wins */
    assert_false(alias);
    assert_string_equal(t->name, "t0003");
    assert_int_equal(gw_snapshot_count(s), 11); /* aliases are not listed */
    /* the stored definition does not carry the aliases (store-managed) */
    assert_null(json_object_get(gw_tool_def(gw_snapshot_find(s, "new_name", 8)), "aliases"));
    gw_snapshot_release(s);
    json_decref(defs);
    int frees = c.frees;
    gw_registry_free(reg);
    assert_int_equal(c.frees, frees + 1); /* the last snapshot's data */
}


/* tools/list of a 20,000-tool catalogue costs what it costs for 1,000: a page looks at the page
 * and one look-ahead tool, wherever the cursor is (the filter is called that many times), and
 * the snapshot's memory grows with the tools' text, not more. */
static size_t filter_calls;

static bool count_filter(void *ctx, const struct gw_tool_entry *t)
{
    (void)ctx;
    (void)t;
    filter_calls++;
    return true;
}

static void test_large_catalogue_pages(void **state)
{
    (void)tenv_get(state);
    struct gw_error err = {0};
    size_t sizes[2] = {1000, 20000}, mem[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        json_t *defs = mk_defs((int)sizes[k], "tool_");
        struct gw_snapshot *s = NULL;
        assert_int_equal(gw_snapshot_new(defs, 1, 0, &s, &err), GW_OK);
        json_decref(defs);
        mem[k] = gw_snapshot_memory(s);
        const struct gw_tool_entry *page[100];
        size_t n = 0;
        char next[GW_CURSOR_MAX] = "", cur[GW_CURSOR_MAX] = "";
        /* walk to the middle of the catalogue */
        for (size_t p = 0; p < sizes[k] / 200; p++) {
            assert_int_equal(gw_snapshot_paginate(s, cur, strlen(cur), 100, NULL, NULL, page, &n,
                                                  next, &err),
                             GW_OK);
            snprintf(cur, sizeof(cur), "%s", next);
        }
        filter_calls = 0;
        assert_int_equal(gw_snapshot_paginate(s, cur, strlen(cur), 100, count_filter, NULL, page,
                                              &n, next, &err),
                         GW_OK);
        assert_int_equal(n, 100);
        assert_true(filter_calls <= 101);
        gw_snapshot_release(s);
    }
    /* memory per tool does not grow with the catalogue */
    double per1 = (double)mem[0] / 1000.0, per20 = (double)mem[1] / 20000.0;
    printf("# snapshot bytes per tool: %.0f with 1,000 tools, %.0f with 20,000\n", per1, per20);
    assert_true(per20 <= per1 * 1.2);
}

#define REGISTRY_TESTS(X)                                                                      \
    X(test_snapshot_basics)                                                                    \
    X(test_paginate)                                                                           \
    X(test_reload_and_listeners)                                                               \
    X(test_concurrent_readers)                                                                 \
    X(test_concurrent_store_reload)                                                            \
    X(test_two_registries_notified)                                                            \
    X(test_poll_fallback)                                                                      \
    X(test_listener_reconnect)                                                                 \
    X(test_store_failure_keeps_snapshot)                                                       \
    X(test_lazy_start)                                                                         \
    X(test_hot_path_cost)                                                                      \
    X(test_extensions_and_aliases)                                                             \
    X(test_large_catalogue_pages)

TENV_MAIN("registry", REGISTRY_TESTS)
