/*
 * tests/unit/store/test_store.c
 * The store on both backends (SQLite always; PostgreSQL when GW_TEST_PG_URL is set, see
 * store_testenv.h): URL handling, migrations (fresh, re-run, edited), tool CRUD with defaults
 * and history, pagination, bundles, imports (add/change/remove, governance kept, rename,
 * revive, conflicts, dry run), specs, restart durability, the servable scan, change
 * listeners, concurrent writers, a 1,000-tool import, and expired approvals deleted.
 */
#include "store_testenv.h"

#include "store/store.h"
#include "store/store_bundle.h"
#include "store/store_impl.h"
#include "store/store_alias.h"
#include "store/store_approval.h"
#include "store/store_import.h"
#include "store/store_spec.h"
#include "store/store_tool.h"

#include <pthread.h>
#include <sqlite3.h>
#include <time.h>

static const struct gw_store_actor alice = {"alice", "testing"};

static struct gw_store *open_store(const struct tenv *e)
{
    struct gw_store *st = NULL;
    struct gw_error err = {0};
    int rc = gw_store_open(e->url, NULL, &st, &err);
    if (rc != GW_OK)
        fail_msg("open %s: %s", e->backend, err.msg);
    return st;
}

static struct gw_store *open_migrated(const struct tenv *e)
{
    struct gw_store *st = open_store(e);
    struct gw_error err = {0};
    int v = 0;
    if (gw_store_migrate(st, &v, &err) != GW_OK)
        fail_msg("migrate: %s", err.msg);
    return st;
}

static json_t *mk_tool(const char *name, const char *method, const char *path, const char *opid,
                       const char *desc)
{
    json_t *t = json_pack("{s:s, s:s, s:{s:s, s:{s:{s:s}}}, s:{s:s, s:s}}", "name", name,
                          "description", desc, "inputSchema", "type", "object", "properties",
                          "id", "type", "string", "binding", "method", method, "path", path);
    json_t *src = json_pack("{s:s, s:s}", "method", method, "path", path);
    if (opid)
        json_object_set_new(src, "operationId", json_string(opid));
    json_object_set_new(t, "source", src);
    return t;
}

static long long reg_version(struct gw_store *st)
{
    long long v = -1;
    assert_int_equal(gw_store_registry_version(st, &v, NULL), GW_OK);
    return v;
}

static json_t *get_tool(struct gw_store *st, const char *name)
{
    json_t *d = NULL;
    struct gw_error err = {0};
    if (gw_store_tool_get(st, name, &d, &err) != GW_OK)
        fail_msg("get %s: %s", name, err.msg);
    return d;
}

/* Applies a change (stolen) to a tool and checks it succeeded. */
static void update_ok(struct gw_store *st, const char *name, json_t *changes)
{
    struct gw_error err = {0};
    if (gw_store_tool_update(st, name, changes, 0, &alice, NULL, &err) != GW_OK)
        fail_msg("update %s: %s", name, err.msg);
    json_decref(changes);
}

static void assert_str(const json_t *o, const char *key, const char *want)
{
    const char *got = gw_json_str(o, key);
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s: want \"%s\", got \"%s\"", key, want, got ? got : "(null)");
}

/* ---- URL handling (backend-independent, runs in both halves) -------------------------- */

static void test_urls(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = NULL;
    struct gw_error err = {0};
    assert_int_equal(gw_store_open("", NULL, &st, &err), GW_EINVAL);
    assert_int_equal(gw_store_open(NULL, NULL, &st, &err), GW_EINVAL);
    assert_int_equal(gw_store_open("mysql://x/y", NULL, &st, &err), GW_EINVAL);
    assert_int_equal(gw_store_open("sqlite://:memory:", NULL, &st, &err), GW_EINVAL);
    assert_int_equal(gw_store_open("sqlite://", NULL, &st, &err), GW_EINVAL);
    assert_null(st);
    char buf[256];
    assert_int_equal(gw_store_default_url("/var/lib/gw", buf, sizeof(buf)), GW_OK);
    assert_string_equal(buf, "sqlite:///var/lib/gw/gateway.db");
    assert_int_equal(gw_store_default_url(NULL, buf, sizeof(buf)), GW_OK);
    assert_string_equal(buf, "sqlite://./data/gateway.db");
    assert_int_equal(gw_store_default_url("/x", buf, 8), GW_ELIMIT);
    gw_store_url_redact("postgres://gw:s3cret@db:5432/gw?sslmode=require", buf, sizeof(buf));
    assert_string_equal(buf, "postgres://gw:***@db:5432/gw?sslmode=require");
    gw_store_url_redact("postgresql:///gw?host=/tmp&password=hunter2&user=x", buf, sizeof(buf));
    assert_string_equal(buf, "postgresql:///gw?host=/tmp&password=***&user=x");
    gw_store_url_redact("sqlite:///a/b.db", buf, sizeof(buf));
    assert_string_equal(buf, "sqlite:///a/b.db");
    /* a bad password never reaches the message */
    if (strcmp(e->backend, "postgres") == 0) {
        assert_int_equal(gw_store_open("postgresql://nobody:topsecret@127.0.0.1:1/none", NULL,
                                       &st, &err),
                         GW_EIO);
        assert_null(strstr(err.msg, "topsecret"));
    } else {
        /* plain paths and sqlite: forms open SQLite; the parent folder is created */
        char path[700];
        snprintf(path, sizeof(path), "%s/sub/plain.db", e->dir);
        assert_int_equal(gw_store_open(path, NULL, &st, &err), GW_OK);
        assert_string_equal(gw_store_backend_name(st), "sqlite");
        gw_store_close(st);
        snprintf(path, sizeof(path), "%s/sub/plain.db-wal", e->dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/sub/plain.db-shm", e->dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/sub/plain.db", e->dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/sub", e->dir);
        rmdir(path);
    }
}

/* ---- migrations ------------------------------------------------------------------------- */

static void count_migration(void *ctx, int version, const char *name, const char *applied_at)
{
    int *n = ctx;
    assert_true(version > 0);
    assert_non_null(name);
    if (applied_at)
        (*n)++;
}

/* Embedded migrations (versions need not be contiguous: a number may be left to another). */
static void count_embedded(void *ctx, int version, const char *name, const char *applied_at)
{
    (void)version;
    (void)name;
    (void)applied_at;
    (*(int *)ctx)++;
}

static void test_migrations(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_store(e);
    struct gw_error err = {0};
    int v = -1, applied = 0;
    assert_string_equal(gw_store_backend_name(st), e->backend);
    assert_int_equal(gw_store_schema_version(st, &v, &err), GW_OK);
    assert_int_equal(v, 0);
    assert_int_equal(gw_store_migration_status(st, count_migration, &applied, &err), GW_OK);
    assert_int_equal(applied, 0);
    int latest = gw_store_latest_version(st);
    assert_true(latest >= 1);
    /* fresh */
    assert_int_equal(gw_store_migrate(st, &v, &err), GW_OK);
    assert_int_equal(v, latest);
    assert_int_equal(reg_version(st), 0);
    /* re-run: nothing to do, same version */
    assert_int_equal(gw_store_migrate(st, &v, &err), GW_OK);
    assert_int_equal(v, latest);
    applied = 0;
    assert_int_equal(gw_store_migration_status(st, count_migration, &applied, &err), GW_OK);
    int embedded = 0;
    assert_int_equal(gw_store_migration_status(st, count_embedded, &embedded, &err), GW_OK);
    assert_int_equal(applied, embedded);
    /* a second handle (another replica starting) also finds nothing to do */
    struct gw_store *st2 = open_store(e);
    assert_int_equal(gw_store_migrate(st2, &v, &err), GW_OK);
    assert_int_equal(v, latest);
    gw_store_close(st2);
    /* an applied migration whose text changed is refused */
    assert_int_equal(gw_store__exec(st, "UPDATE schema_migrations SET checksum = 'edited'", NULL,
                                    0, NULL, NULL, NULL, &err),
                     GW_OK);
    assert_int_equal(gw_store_migrate(st, &v, &err), GW_ECONFLICT);
    assert_non_null(strstr(err.msg, "changed after it was applied"));
    gw_store_close(st);
}

/* ---- tools ------------------------------------------------------------------------------- */

static void test_tool_crud(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    json_t *out = NULL;

    json_t *t = mk_tool("delete_booking", "DELETE", "/bookings/{id}", "deleteBooking", "Deletes");
    assert_int_equal(gw_store_tool_create(st, t, &alice, &out, &err), GW_OK);
    /* defaults from the method, store-managed fields */
    assert_str(out, "risk", "privileged");
    assert_true(json_is_true(json_object_get(out, "requiresElevation")));
    assert_true(json_is_true(json_object_get(out, "requiresConfirmation")));
    assert_str(out, "rateLimitTier", "standard");
    assert_str(out, "status", "draft");
    assert_str(out, "updatedBy", "alice");
    assert_true(json_is_null(json_object_get(out, "bundle")));
    assert_int_equal(json_array_size(json_object_get(out, "tags")), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "version")), 1);
    assert_non_null(gw_json_str(out, "createdAt"));
    json_decref(out);
    assert_int_equal(reg_version(st), 1);

    json_t *g = get_tool(st, "delete_booking");
    assert_str(g, "description", "Deletes");
    assert_int_equal(strlen(gw_json_str(g, "updatedAt")), 24); /* 2025-01-31T09:15:00.123Z */
    assert_int_equal(gw_json_str(g, "updatedAt")[23], 'Z');
    json_decref(g);

    /* duplicates and invalid definitions */
    assert_int_equal(gw_store_tool_create(st, t, &alice, NULL, &err), GW_ECONFLICT);
    json_decref(t);
    t = mk_tool("bad name!", "GET", "/x", NULL, "d");
    assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_EINVAL);
    json_decref(t);
    t = mk_tool("no_schema", "GET", "/x", NULL, "d");
    json_object_del(t, "inputSchema");
    assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_EINVAL);
    json_object_set_new(t, "inputSchema", json_pack("{s:s}", "type", "array"));
    assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_EINVAL);
    json_decref(t);
    t = mk_tool("bad_risk", "GET", "/x", NULL, "d");
    json_object_set_new(t, "risk", json_string("extreme"));
    assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_EINVAL);
    json_object_set_new(t, "risk", json_string("read"));
    json_object_set_new(t, "bundle", json_string("no spaces allowed"));
    assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_EINVAL);
    json_object_set_new(t, "bundle", json_string("ok"));
    json_object_set_new(t, "tags", json_pack("[i]", 3));
    assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_EINVAL);
    json_decref(t);
    assert_int_equal(gw_store_tool_create(st, json_null(), NULL, NULL, &err), GW_EINVAL);
    assert_int_equal(reg_version(st), 1); /* failed writes do not move the counter */

    /* update governance fields */
    json_t *ch = json_pack("{s:s, s:b, s:[s]}", "risk", "write", "requiresElevation", 0, "tags",
                           "ops");
    assert_int_equal(gw_store_tool_update(st, "delete_booking", ch, 1, &alice, &out, &err),
                     GW_OK);
    assert_str(out, "risk", "write");
    assert_int_equal(json_integer_value(json_object_get(out, "version")), 2);
    json_decref(out);
    /* the same change again is a no-op: no version, no history, no counter move */
    long long rv = reg_version(st);
    assert_int_equal(gw_store_tool_update(st, "delete_booking", ch, 0, &alice, &out, &err),
                     GW_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "version")), 2);
    json_decref(out);
    assert_int_equal(reg_version(st), rv);
    /* stale if_version */
    assert_int_equal(gw_store_tool_update(st, "delete_booking", ch, 1, &alice, NULL, &err),
                     GW_ECONFLICT);
    json_decref(ch);
    /* names are immutable; store-managed keys are ignored; null removes optional fields */
    ch = json_pack("{s:s}", "name", "other");
    assert_int_equal(gw_store_tool_update(st, "delete_booking", ch, 0, NULL, NULL, &err),
                     GW_EINVAL);
    json_decref(ch);
    ch = json_pack("{s:i, s:s, s:n, s:s}", "version", 99, "createdAt", "x", "description",
                   "bundle", "admin-tools");
    assert_int_equal(gw_store_tool_update(st, "delete_booking", ch, 0, NULL, &out, &err), GW_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "version")), 3);
    assert_null(json_object_get(out, "description"));
    assert_str(out, "bundle", "admin-tools"); /* bundle created on the fly */
    json_decref(out);
    json_decref(ch);
    json_t *b = NULL;
    assert_int_equal(gw_store_bundle_get(st, "admin-tools", &b, &err), GW_OK);
    assert_int_equal(json_integer_value(json_object_get(b, "toolCount")), 1);
    json_decref(b);
    /* invalid result of an update */
    ch = json_pack("{s:s}", "status", "gone");
    assert_int_equal(gw_store_tool_update(st, "delete_booking", ch, 0, NULL, NULL, &err),
                     GW_EINVAL);
    json_decref(ch);

    assert_int_equal(gw_store_tool_set_status(st, "delete_booking", "disabled", &alice, &err),
                     GW_OK);
    assert_int_equal(gw_store_tool_set_status(st, "delete_booking", "bogus", &alice, &err),
                     GW_EINVAL);
    assert_int_equal(gw_store_tool_set_status(st, "missing", "active", &alice, &err),
                     GW_ENOTFOUND);
    g = get_tool(st, "delete_booking");
    assert_str(g, "status", "disabled");
    assert_int_equal(json_integer_value(json_object_get(g, "version")), 4);
    json_decref(g);

    assert_int_equal(gw_store_tool_delete(st, "delete_booking", &alice, &err), GW_OK);
    assert_int_equal(gw_store_tool_get(st, "delete_booking", &out, &err), GW_ENOTFOUND);
    assert_int_equal(gw_store_tool_delete(st, "delete_booking", &alice, &err), GW_ENOTFOUND);

    /* history: newest first, each with the full previous definition */
    json_t *h = NULL;
    assert_int_equal(gw_store_tool_history(st, "delete_booking", 0, &h, &err), GW_OK);
    assert_int_equal(json_array_size(h), 5);
    const char *actions[] = {"delete", "status", "update", "update", "create"};
    const long long versions[] = {0, 4, 3, 2, 1};
    for (size_t i = 0; i < 5; i++) {
        json_t *row = json_array_get(h, i);
        assert_str(row, "action", actions[i]);
        assert_int_equal(json_integer_value(json_object_get(row, "version")), versions[i]);
        json_t *prev = json_object_get(row, "previous");
        if (i == 4) {
            assert_true(json_is_null(prev));
            assert_str(row, "actor", "alice");
            assert_str(row, "reason", "testing");
        } else {
            assert_int_equal(json_integer_value(json_object_get(prev, "version")),
                             versions[i + 1] ? versions[i + 1] : 4);
            assert_str(prev, "name", "delete_booking");
        }
    }
    /* the definition before the first update still had the default risk */
    assert_str(json_object_get(json_array_get(h, 3), "previous"), "risk", "privileged");
    json_decref(h);
    assert_int_equal(gw_store_tool_history(st, "never_existed", 0, &h, &err), GW_OK);
    assert_int_equal(json_array_size(h), 0);
    json_decref(h);
    gw_store_close(st);
}

static void test_tool_list(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    char name[32];
    /* 25 tools; names chosen so byte order differs from case-insensitive order */
    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof(name), "%s_%02d", i % 2 ? "a" : "B", i);
        json_t *t = mk_tool(name, "GET", "/x", NULL, "d");
        json_object_set_new(t, "status", json_string(i % 5 == 0 ? "disabled" : "active"));
        json_object_set_new(t, "bundle", json_string(i < 10 ? "first" : "second"));
        assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_OK);
        json_decref(t);
    }
    struct gw_store_tool_query q = {.limit = 10};
    json_t *items = NULL;
    char next[GW_STORE_NAME_MAX + 1];
    long long total = 0;
    char prev[GW_STORE_NAME_MAX + 1] = "";
    int pages = 0, seen = 0;
    do {
        assert_int_equal(gw_store_tool_list(st, &q, &items, next, &total, &err), GW_OK);
        assert_int_equal(total, 25);
        for (size_t i = 0; i < json_array_size(items); i++) {
            const char *n = gw_json_str(json_array_get(items, i), "name");
            assert_true(strcmp(prev, n) < 0); /* strictly increasing byte order */
            snprintf(prev, sizeof(prev), "%s", n);
            seen++;
        }
        pages++;
        assert_int_equal(json_array_size(items), pages < 3 ? 10 : 5);
        json_decref(items);
        q.after = next;
    } while (next[0] && pages < 10);
    assert_int_equal(pages, 3);
    assert_int_equal(seen, 25);
    /* "B_…" sorts before "a_…" in byte order on both backends */
    q = (struct gw_store_tool_query){.limit = 1};
    assert_int_equal(gw_store_tool_list(st, &q, &items, next, NULL, &err), GW_OK);
    assert_str(json_array_get(items, 0), "name", "B_00");
    assert_string_equal(next, "B_00");
    json_decref(items);
    /* filters */
    q = (struct gw_store_tool_query){.status = "disabled", .limit = 100};
    assert_int_equal(gw_store_tool_list(st, &q, &items, next, &total, &err), GW_OK);
    assert_int_equal(json_array_size(items), 5);
    assert_int_equal(total, 5);
    assert_string_equal(next, "");
    json_decref(items);
    q = (struct gw_store_tool_query){.status = "active", .bundle = "first"};
    assert_int_equal(gw_store_tool_list(st, &q, &items, NULL, &total, &err), GW_OK);
    assert_int_equal(total, 8);
    json_decref(items);
    q = (struct gw_store_tool_query){.status = "nope"};
    assert_int_equal(gw_store_tool_list(st, &q, &items, NULL, NULL, &err), GW_EINVAL);
    q = (struct gw_store_tool_query){.after = "x'; DROP TABLE tools; --"};
    assert_int_equal(gw_store_tool_list(st, &q, &items, NULL, NULL, &err), GW_EINVAL);
    q = (struct gw_store_tool_query){.limit = GW_STORE_PAGE_MAX + 1};
    assert_int_equal(gw_store_tool_list(st, &q, &items, NULL, NULL, &err), GW_EINVAL);
    gw_store_close(st);
}

/* ---- bundles ----------------------------------------------------------------------------- */

static void test_bundles(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    json_t *b = json_pack("{s:s, s:s, s:s}", "name", "service-booking", "title",
                          "Service Booking", "description", "Book services");
    json_t *out = NULL;
    assert_int_equal(gw_store_bundle_create(st, b, &alice, &out, &err), GW_OK);
    assert_str(out, "title", "Service Booking");
    assert_str(out, "status", "active");
    assert_int_equal(json_integer_value(json_object_get(out, "toolCount")), 0);
    json_decref(out);
    assert_int_equal(gw_store_bundle_create(st, b, &alice, NULL, &err), GW_ECONFLICT);
    json_decref(b);
    b = json_pack("{s:s}", "name", "bad name");
    assert_int_equal(gw_store_bundle_create(st, b, &alice, NULL, &err), GW_EINVAL);
    json_decref(b);
    b = json_pack("{s:s, s:s}", "name", "x", "owner", "me");
    assert_int_equal(gw_store_bundle_create(st, b, &alice, NULL, &err), GW_EINVAL);
    json_decref(b);

    json_t *t = mk_tool("book", "POST", "/book", NULL, "d");
    json_object_set_new(t, "bundle", json_string("service-booking"));
    assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_OK);
    json_decref(t);

    json_t *ch = json_pack("{s:s, s:s}", "status", "disabled", "name", "service-booking");
    assert_int_equal(gw_store_bundle_update(st, "service-booking", ch, &alice, &out, &err), GW_OK);
    assert_str(out, "status", "disabled");
    assert_str(out, "title", "Service Booking"); /* untouched */
    assert_int_equal(json_integer_value(json_object_get(out, "toolCount")), 1);
    json_decref(out);
    json_decref(ch);
    ch = json_pack("{s:s}", "status", "archived");
    assert_int_equal(gw_store_bundle_update(st, "service-booking", ch, &alice, NULL, &err),
                     GW_EINVAL);
    json_decref(ch);
    ch = json_pack("{s:s}", "name", "renamed");
    assert_int_equal(gw_store_bundle_update(st, "service-booking", ch, &alice, NULL, &err),
                     GW_EINVAL);
    json_decref(ch);
    ch = json_pack("{s:s}", "title", "T");
    assert_int_equal(gw_store_bundle_update(st, "missing", ch, &alice, NULL, &err), GW_ENOTFOUND);
    json_decref(ch);

    json_t *list = NULL;
    assert_int_equal(gw_store_bundle_list(st, &list, &err), GW_OK);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);

    /* delete refuses while tools belong to it, detaches on request */
    assert_int_equal(gw_store_bundle_delete(st, "service-booking", false, &alice, &err),
                     GW_ECONFLICT);
    assert_int_equal(gw_store_bundle_delete(st, "service-booking", true, &alice, &err), GW_OK);
    assert_int_equal(gw_store_bundle_get(st, "service-booking", &out, &err), GW_ENOTFOUND);
    assert_int_equal(gw_store_bundle_delete(st, "service-booking", true, &alice, &err),
                     GW_ENOTFOUND);
    json_t *g = get_tool(st, "book");
    assert_true(json_is_null(json_object_get(g, "bundle")));
    assert_int_equal(json_integer_value(json_object_get(g, "version")), 2);
    json_decref(g);
    gw_store_close(st);
}

/* ---- imports ----------------------------------------------------------------------------- */

static json_t *spec_v(const char *version)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "title", "Service Booking API", "version", version,
                     "sourceUrl", "https://apim.example/specs/booking.yaml", "content",
                     "openapi: 3.0.0\n");
}

static json_t *find_name(const json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
            return v;
    }
    return NULL;
}

static void assert_diff(const json_t *diff, const char *key, size_t n, const char *const *names)
{
    const json_t *arr = json_object_get(diff, key);
    if (json_array_size(arr) != n) {
        char *s = json_dumps(diff, JSON_COMPACT);
        fail_msg("diff.%s: want %zu names, got %s", key, n, s);
    }
    for (size_t i = 0; i < n; i++)
        if (!find_name(arr, names[i]))
            fail_msg("diff.%s lacks %s", key, names[i]);
}

static void test_import_lifecycle(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    json_t *diff = NULL;

    /* v1: three operations */
    json_t *spec = spec_v("1.0.0");
    json_t *tools =
        json_pack("[o, o, o]", mk_tool("get_slots", "GET", "/slots", "getSlots", "Slots"),
                  mk_tool("create_booking", "POST", "/bookings", "createBooking", "Book"),
                  mk_tool("cancel_booking", "DELETE", "/bookings/{id}", "cancelBooking", "Cancel"));
    struct gw_store_import_opts opts = {.status = "active", .bundle = "service-booking"};
    assert_int_equal(gw_store_apply_import(st, spec, tools, &opts, &alice, &diff, &err), GW_OK);
    const char *v1_added[] = {"get_slots", "create_booking", "cancel_booking"};
    assert_diff(diff, "added", 3, v1_added);
    assert_diff(diff, "changed", 0, NULL);
    assert_diff(diff, "removed", 0, NULL);
    assert_str(diff, "specId", "service-booking-api");
    json_decref(diff);
    json_decref(tools);
    json_decref(spec);
    json_t *g = get_tool(st, "create_booking");
    assert_str(g, "status", "active");
    assert_str(g, "bundle", "service-booking");
    assert_str(json_object_get(g, "source"), "specId", "service-booking-api");
    assert_str(json_object_get(g, "source"), "specVersion", "1.0.0");
    json_decref(g);

    /* the operator governs create_booking */
    json_t *ch = json_pack("{s:s, s:s, s:b, s:[s], s:s}", "risk", "privileged", "rateLimitTier",
                           "strict", "requiresConfirmation", 1, "tags", "money", "bundle",
                           "payments");
    assert_int_equal(gw_store_tool_update(st, "create_booking", ch, 0, &alice, NULL, &err), GW_OK);
    json_decref(ch);
    assert_int_equal(gw_store_tool_set_status(st, "get_slots", "disabled", &alice, &err), GW_OK);

    /* v2: get_slots unchanged (only the spec version moved), create_booking schema changed,
     * cancel_booking removed, get_booking added */
    spec = spec_v("2.0.0");
    json_t *cb = mk_tool("create_booking", "POST", "/bookings", "createBooking", "Book a slot");
    json_object_set_new(json_object_get(json_object_get(cb, "inputSchema"), "properties"), "slot",
                        json_pack("{s:s}", "type", "string"));
    json_object_set_new(cb, "risk", json_string("write")); /* the spec's value loses */
    tools = json_pack("[o, o, o]", mk_tool("get_slots", "GET", "/slots", "getSlots", "Slots"), cb,
                      mk_tool("get_booking", "GET", "/bookings/{id}", "getBooking", "Get"));
    long long rv = reg_version(st);
    assert_int_equal(gw_store_apply_import(st, spec, tools, &opts, &alice, &diff, &err), GW_OK);
    assert_int_equal(reg_version(st), rv + 1); /* one transaction, one version */
    const char *v2_added[] = {"get_booking"}, *v2_changed[] = {"create_booking"},
               *v2_removed[] = {"cancel_booking"};
    assert_diff(diff, "added", 1, v2_added);
    assert_diff(diff, "changed", 1, v2_changed);
    assert_diff(diff, "removed", 1, v2_removed);
    assert_int_equal(json_integer_value(json_object_get(diff, "unchanged")), 1);
    json_decref(diff);

    g = get_tool(st, "create_booking");
    assert_str(g, "description", "Book a slot");          /* spec-owned: updated */
    assert_non_null(json_object_get(json_object_get(json_object_get(g, "inputSchema"),
                                                    "properties"),
                                    "slot"));
    assert_str(g, "risk", "privileged");                   /* governance: kept */
    assert_str(g, "rateLimitTier", "strict");
    assert_str(g, "bundle", "payments");
    assert_true(json_is_true(json_object_get(g, "requiresConfirmation")));
    assert_non_null(find_name(json_object_get(g, "tags"), "money"));
    assert_str(g, "status", "active");
    assert_str(json_object_get(g, "source"), "specVersion", "2.0.0");
    assert_int_equal(json_integer_value(json_object_get(g, "version")), 3);
    json_decref(g);
    g = get_tool(st, "get_slots"); /* untouched, operator's status kept */
    assert_str(g, "status", "disabled");
    assert_int_equal(json_integer_value(json_object_get(g, "version")), 2);
    assert_str(json_object_get(g, "source"), "specVersion", "1.0.0");
    json_decref(g);
    g = get_tool(st, "cancel_booking"); /* never deleted: deprecated */
    assert_str(g, "status", "deprecated");
    json_decref(g);

    json_t *h = NULL;
    assert_int_equal(gw_store_tool_history(st, "create_booking", 0, &h, &err), GW_OK);
    assert_int_equal(json_array_size(h), 3); /* import, update, import(create) */
    assert_str(json_array_get(h, 0), "action", "import");
    assert_str(json_array_get(h, 0), "actor", "alice");
    assert_str(json_object_get(json_array_get(h, 0), "previous"), "description", "Book");
    assert_true(json_is_null(json_object_get(json_array_get(h, 2), "previous")));
    json_decref(h);
    assert_int_equal(gw_store_tool_history(st, "cancel_booking", 0, &h, &err), GW_OK);
    assert_str(json_array_get(h, 0), "action", "deprecate");
    json_decref(h);

    json_t *sp = NULL;
    assert_int_equal(gw_store_spec_get(st, "service-booking-api", true, &sp, &err), GW_OK);
    assert_str(sp, "version", "2.0.0");
    assert_str(sp, "content", "openapi: 3.0.0\n");
    assert_int_equal(strncmp(gw_json_str(sp, "contentHash"), "sha256:", 7), 0);
    assert_int_equal(json_integer_value(json_object_get(sp, "toolCount")), 3);
    json_decref(sp);

    /* the same import again: nothing changes */
    assert_int_equal(gw_store_apply_import(st, spec, tools, &opts, &alice, &diff, &err), GW_OK);
    assert_diff(diff, "added", 0, NULL);
    assert_diff(diff, "changed", 0, NULL);
    assert_diff(diff, "removed", 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(diff, "unchanged")), 3);
    json_decref(diff);
    json_decref(tools);
    json_decref(spec);

    /* v3: cancel_booking returns (revived with the import status, reported as added) */
    spec = spec_v("3.0.0");
    tools = json_pack("[o]", mk_tool("cancel_booking", "DELETE", "/bookings/{id}", "cancelBooking",
                                     "Cancel"));
    opts.status = "draft";
    assert_int_equal(gw_store_apply_import(st, spec, tools, &opts, &alice, &diff, &err), GW_OK);
    const char *v3_added[] = {"cancel_booking"},
               *v3_removed[] = {"get_slots", "create_booking", "get_booking"};
    assert_diff(diff, "added", 1, v3_added);
    assert_diff(diff, "removed", 3, v3_removed);
    json_decref(diff);
    g = get_tool(st, "cancel_booking");
    assert_str(g, "status", "draft");
    json_decref(g);
    json_decref(tools);
    json_decref(spec);
    gw_store_close(st);
}

static void test_import_matching(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    json_t *diff = NULL;
    json_t *spec = json_pack("{s:s, s:s, s:s}", "id", "dms", "title", "DMS", "version", "1");
    json_t *tools =
        json_pack("[o, o]", mk_tool("list_dealers", "GET", "/v1/dealers", "listDealers", "L"),
                  mk_tool("old_name", "POST", "/v1/appointments", "book", "B"));
    assert_int_equal(gw_store_apply_import(st, spec, tools, NULL, NULL, NULL, &err), GW_OK);
    json_decref(tools);
    json_decref(spec);
    json_t *g = get_tool(st, "old_name");
    assert_str(g, "status", "draft"); /* default import status */
    json_decref(g);
    update_ok(st, "list_dealers", json_pack("{s:s}", "rateLimitTier", "permissive"));
    /* v2: list_dealers moved to /v2/dealers (same operationId); the appointment operation was
     * renamed by x-mcp (same method and path): names are stable across re-imports, so it keeps
     * its stored name and the diff says so */
    spec = json_pack("{s:s, s:s, s:s}", "id", "dms", "title", "DMS", "version", "2");
    tools = json_pack("[o, o]", mk_tool("list_dealers", "GET", "/v2/dealers", "listDealers", "L"),
                      mk_tool("book_appointment", "POST", "/v1/appointments", "book", "B"));
    assert_int_equal(gw_store_apply_import(st, spec, tools, NULL, NULL, &diff, &err), GW_OK);
    const char *changed1[] = {"list_dealers"};
    assert_diff(diff, "changed", 1, changed1);
    assert_int_equal(json_array_size(json_object_get(diff, "renamed")), 0);
    json_t *kept = json_object_get(diff, "nameKept");
    assert_int_equal(json_array_size(kept), 1);
    assert_str(json_array_get(kept, 0), "name", "old_name");
    assert_str(json_array_get(kept, 0), "computed", "book_appointment");
    json_decref(diff);
    g = get_tool(st, "old_name");
    json_decref(g);
    /* the same, asking for the spec's names (rename_existing): renamed, the old name kept as
     * an alias for the deprecation period */
    struct gw_store_import_opts ren_opts = {.rename_existing = true, .alias_days = 30};
    assert_int_equal(gw_store_apply_import(st, spec, tools, &ren_opts, NULL, &diff, &err), GW_OK);
    const char *changed[] = {"book_appointment"};
    assert_diff(diff, "changed", 1, changed);
    assert_diff(diff, "added", 0, NULL);
    assert_diff(diff, "removed", 0, NULL);
    json_t *ren = json_object_get(diff, "renamed");
    assert_int_equal(json_array_size(ren), 1);
    assert_str(json_array_get(ren, 0), "from", "old_name");
    assert_str(json_array_get(ren, 0), "to", "book_appointment");
    assert_true(strlen(gw_json_str(json_array_get(ren, 0), "aliasUntil")) >= 20);
    json_decref(diff);
    json_t *aliases = NULL;
    assert_int_equal(gw_store_alias_list(st, &aliases, &err), GW_OK);
    assert_int_equal(json_array_size(aliases), 1);
    assert_str(json_array_get(aliases, 0), "name", "old_name");
    assert_str(json_array_get(aliases, 0), "tool", "book_appointment");
    json_decref(aliases);
    json_decref(tools);
    json_decref(spec);
    g = get_tool(st, "list_dealers");
    assert_str(g, "rateLimitTier", "permissive");
    assert_str(json_object_get(g, "binding"), "path", "/v2/dealers");
    json_decref(g);
    /* v3: a path parameter renamed is the same operation (even with a new operationId); a new
     * operation the spec marks deprecated arrives deprecated; TRACE and long tags are fine */
    spec = json_pack("{s:s, s:s, s:s}", "id", "dms", "title", "DMS", "version", "3");
    json_t *dealer = mk_tool("get_dealer", "GET", "/v2/dealers/{dealerId}", "getDealer", "G");
    json_t *dep = mk_tool("legacy_trace", "TRACE", "/v1/legacy", "legacy", "old");
    json_object_set_new(dep, "status", json_string("deprecated"));
    char tag[200];
    memset(tag, 't', sizeof(tag) - 1);
    tag[sizeof(tag) - 1] = '\0';
    json_object_set_new(dep, "tags", json_pack("[s, s]", tag, ""));
    tools = json_pack("[o, o, o, o]",
                      mk_tool("list_dealers", "GET", "/v2/dealers", "listDealers", "L"),
                      mk_tool("book_appointment", "POST", "/v1/appointments", "book", "B"), dealer,
                      dep);
    struct gw_store_import_opts active = {.status = "active"};
    assert_int_equal(gw_store_apply_import(st, spec, tools, &active, NULL, NULL, &err), GW_OK);
    json_decref(tools);
    json_decref(spec);
    g = get_tool(st, "legacy_trace");
    assert_str(g, "status", "deprecated");
    json_decref(g);
    spec = json_pack("{s:s, s:s, s:s}", "id", "dms", "title", "DMS", "version", "4");
    tools = json_pack("[o, o, o]",
                      mk_tool("list_dealers", "GET", "/v2/dealers", "listDealers", "L"),
                      mk_tool("book_appointment", "POST", "/v1/appointments", "book", "B"),
                      mk_tool("get_dealer", "GET", "/v2/dealers/{id}", "fetchDealer", "G"));
    assert_int_equal(gw_store_apply_import(st, spec, tools, &active, NULL, &diff, &err), GW_OK);
    const char *changed4[] = {"get_dealer"};
    assert_diff(diff, "changed", 1, changed4);
    assert_diff(diff, "added", 0, NULL);
    assert_diff(diff, "removed", 0, NULL); /* legacy_trace was deprecated already */
    json_decref(diff);
    json_decref(tools);
    json_decref(spec);
    assert_int_equal(gw_store_tool_get(st, "old_name", &g, &err), GW_ENOTFOUND);
    json_t *h = NULL; /* the history follows the renamed tool */
    assert_int_equal(gw_store_tool_history(st, "book_appointment", 0, &h, &err), GW_OK);
    assert_int_equal(json_array_size(h), 2);
    assert_str(json_object_get(json_array_get(h, 0), "previous"), "name", "old_name");
    json_decref(h);
    gw_store_close(st);
}

static void test_import_rejects(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    json_t *diff = NULL;
    json_t *manual = mk_tool("get_status", "GET", "/status", NULL, "hand-made");
    assert_int_equal(gw_store_tool_create(st, manual, NULL, NULL, &err), GW_OK);
    json_decref(manual);
    long long rv = reg_version(st);

    json_t *spec = json_pack("{s:s, s:s}", "id", "s1", "title", "S1");
    /* a name owned by a hand-made tool: with fail_on_conflict a conflict, nothing written */
    json_t *tools = json_pack("[o, o]", mk_tool("new_one", "GET", "/a", NULL, "a"),
                              mk_tool("get_status", "GET", "/s", NULL, "s"));
    struct gw_store_import_opts strict = {.fail_on_conflict = true};
    assert_int_equal(gw_store_apply_import(st, spec, tools, &strict, NULL, &diff, &err),
                     GW_ECONFLICT);
    assert_null(diff);
    assert_non_null(strstr(err.msg, "get_status"));
    assert_int_equal(reg_version(st), rv);
    json_t *g = NULL;
    assert_int_equal(gw_store_tool_get(st, "new_one", &g, &err), GW_ENOTFOUND);
    assert_int_equal(gw_store_spec_get(st, "s1", false, &g, &err), GW_ENOTFOUND);
    /* by default (dry run here) the new tool gets the spec's prefix, reported as a conflict */
    struct gw_store_import_opts dry_opts = {.dry_run = true};
    assert_int_equal(gw_store_apply_import(st, spec, tools, &dry_opts, NULL, &diff, &err), GW_OK);
    const char *added_p[] = {"new_one", "s1_get_status"};
    assert_diff(diff, "added", 2, added_p);
    json_t *cf = json_object_get(diff, "conflicts");
    assert_int_equal(json_array_size(cf), 1);
    assert_str(json_array_get(cf, 0), "name", "s1_get_status");
    assert_str(json_array_get(cf, 0), "wanted", "get_status");
    json_decref(diff);
    json_decref(tools);
    assert_int_equal(reg_version(st), rv);
    /* duplicate names / operations inside the set, an invalid tool */
    tools = json_pack("[o, o]", mk_tool("dup", "GET", "/a", NULL, "a"),
                      mk_tool("dup", "GET", "/b", NULL, "b"));
    assert_int_equal(gw_store_apply_import(st, spec, tools, NULL, NULL, NULL, &err), GW_EINVAL);
    json_decref(tools);
    tools = json_pack("[o, o]", mk_tool("one", "GET", "/a", NULL, "a"),
                      mk_tool("two", "get", "/a", NULL, "b"));
    assert_int_equal(gw_store_apply_import(st, spec, tools, NULL, NULL, NULL, &err), GW_EINVAL);
    json_decref(tools);
    tools = json_pack("[o, s]", mk_tool("one", "GET", "/a", NULL, "a"), "not a tool");
    assert_int_equal(gw_store_apply_import(st, spec, tools, NULL, NULL, NULL, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "#1"));
    json_decref(tools);
    tools = json_pack("[]");
    struct gw_store_import_opts bad = {.status = "deprecated"};
    assert_int_equal(gw_store_apply_import(st, spec, tools, &bad, NULL, NULL, &err), GW_EINVAL);
    json_t *nospec = json_pack("{s:s}", "title", "!!!");
    assert_int_equal(gw_store_apply_import(st, nospec, tools, NULL, NULL, NULL, &err), GW_EINVAL);
    json_decref(nospec);
    json_decref(tools);
    assert_int_equal(reg_version(st), rv);

    /* a dry run reports the diff and writes nothing */
    tools = json_pack("[o]", mk_tool("new_one", "GET", "/a", NULL, "a"));
    struct gw_store_import_opts dry = {.dry_run = true};
    assert_int_equal(gw_store_apply_import(st, spec, tools, &dry, NULL, &diff, &err), GW_OK);
    const char *added[] = {"new_one"};
    assert_diff(diff, "added", 1, added);
    assert_true(json_is_true(json_object_get(diff, "dryRun")));
    json_decref(diff);
    json_decref(tools);
    json_decref(spec);
    assert_int_equal(gw_store_tool_get(st, "new_one", &g, &err), GW_ENOTFOUND);
    assert_int_equal(reg_version(st), rv);
    gw_store_close(st);
}

static void test_specs(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    for (int s = 0; s < 2; s++) {
        json_t *spec = json_pack("{s:s, s:s, s:s, s:s}", "id", s ? "b-spec" : "a-spec", "title",
                                 s ? "B" : "A", "version", "1", "fileName", "x.json");
        json_t *tools = json_array();
        for (int i = 0; i < 3; i++) {
            char name[16], path[16];
            snprintf(name, sizeof(name), "%c_t%d", s ? 'b' : 'a', i);
            snprintf(path, sizeof(path), "/p%d", i);
            json_array_append_new(tools, mk_tool(name, "GET", path, NULL, "d"));
        }
        struct gw_store_import_opts o = {.status = "active"};
        assert_int_equal(gw_store_apply_import(st, spec, tools, &o, NULL, NULL, &err), GW_OK);
        json_decref(spec);
        json_decref(tools);
    }
    json_t *list = NULL;
    assert_int_equal(gw_store_spec_list(st, &list, &err), GW_OK);
    assert_int_equal(json_array_size(list), 2);
    assert_str(json_array_get(list, 0), "id", "a-spec");
    assert_str(json_array_get(list, 0), "fileName", "x.json");
    assert_null(json_object_get(json_array_get(list, 0), "content"));
    assert_true(json_is_null(json_object_get(json_array_get(list, 0), "contentHash")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "toolCount")), 3);
    json_decref(list);

    assert_int_equal(gw_store_spec_delete(st, "a-spec", GW_STORE_SPEC_DEPRECATE_TOOLS, &alice,
                                          &err),
                     GW_OK);
    json_t *g = get_tool(st, "a_t1");
    assert_str(g, "status", "deprecated");
    json_decref(g);
    assert_int_equal(gw_store_spec_delete(st, "b-spec", GW_STORE_SPEC_REMOVE_TOOLS, &alice, &err),
                     GW_OK);
    assert_int_equal(gw_store_tool_get(st, "b_t1", &g, &err), GW_ENOTFOUND);
    json_t *h = NULL;
    assert_int_equal(gw_store_tool_history(st, "b_t1", 0, &h, &err), GW_OK);
    assert_str(json_array_get(h, 0), "action", "delete");
    assert_str(json_object_get(json_array_get(h, 0), "previous"), "name", "b_t1");
    json_decref(h);
    assert_int_equal(gw_store_spec_delete(st, "b-spec", GW_STORE_SPEC_REMOVE_TOOLS, &alice, &err),
                     GW_ENOTFOUND);
    assert_int_equal(gw_store_spec_list(st, &list, &err), GW_OK);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    gw_store_close(st);
}

/* ---- durability, scan ---------------------------------------------------------------------- */

static void test_restart_durability(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    json_t *spec = json_pack("{s:s, s:s, s:s}", "id", "dur", "title", "Dur", "version", "7");
    json_t *tools = json_pack("[o, o]", mk_tool("t_one", "GET", "/1", NULL, "one"),
                              mk_tool("t_two", "POST", "/2", NULL, "two"));
    struct gw_store_import_opts o = {.status = "active", .bundle = "dur-bundle"};
    assert_int_equal(gw_store_apply_import(st, spec, tools, &o, &alice, NULL, &err), GW_OK);
    json_decref(spec);
    json_decref(tools);
    update_ok(st, "t_two", json_pack("{s:s}", "risk", "privileged"));
    long long rv = reg_version(st);
    gw_store_close(st);

    st = open_migrated(e); /* a restart: open + migrate again */
    assert_int_equal(reg_version(st), rv);
    json_t *g = get_tool(st, "t_two");
    assert_str(g, "risk", "privileged");
    assert_str(g, "bundle", "dur-bundle");
    assert_str(g, "status", "active");
    assert_int_equal(json_integer_value(json_object_get(g, "version")), 2);
    json_decref(g);
    json_t *h = NULL;
    assert_int_equal(gw_store_tool_history(st, "t_two", 0, &h, &err), GW_OK);
    assert_int_equal(json_array_size(h), 2);
    json_decref(h);
    json_t *sp = NULL;
    assert_int_equal(gw_store_spec_get(st, "dur", false, &sp, &err), GW_OK);
    assert_str(sp, "version", "7");
    json_decref(sp);
    json_t *b = NULL;
    assert_int_equal(gw_store_bundle_get(st, "dur-bundle", &b, &err), GW_OK);
    assert_int_equal(json_integer_value(json_object_get(b, "toolCount")), 2);
    json_decref(b);
    gw_store_close(st);
}

static int collect(void *ctx, json_t *def)
{
    json_array_append(ctx, def);
    return GW_OK;
}

static void test_scan_servable(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    const char *names[] = {"zeta", "Alpha", "beta", "gamma", "delta"};
    const char *status[] = {"active", "active", "draft", "active", "active"};
    const char *bundle[] = {NULL, "on", "on", "off", NULL};
    for (int i = 0; i < 5; i++) {
        json_t *t = mk_tool(names[i], "GET", "/x", NULL, "d");
        json_object_set_new(t, "status", json_string(status[i]));
        if (bundle[i])
            json_object_set_new(t, "bundle", json_string(bundle[i]));
        assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_OK);
        json_decref(t);
    }
    json_t *off = json_pack("{s:s}", "status", "disabled");
    assert_int_equal(gw_store_bundle_update(st, "off", off, NULL, NULL, &err), GW_OK);
    json_decref(off);
    json_t *arr = json_array();
    long long v = 0;
    assert_int_equal(gw_store_tool_scan_servable(st, collect, arr, &v, &err), GW_OK);
    assert_int_equal(v, reg_version(st));
    assert_int_equal(json_array_size(arr), 3); /* not the draft, not the disabled bundle's */
    assert_str(json_array_get(arr, 0), "name", "Alpha");
    assert_str(json_array_get(arr, 1), "name", "delta");
    assert_str(json_array_get(arr, 2), "name", "zeta");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "version")), 1);
    json_decref(arr);
    gw_store_close(st);
}

/* ---- listener ------------------------------------------------------------------------------ */

static void test_listener(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    struct gw_store_listener *l = NULL;
    assert_int_equal(gw_store_listener_open(e->url, NULL, &l, &err), GW_OK);
    assert_int_equal(gw_store_listener_wait(l, 50, &err), GW_ETIMEOUT);
    /* a write through another handle wakes it */
    json_t *t = mk_tool("ping", "GET", "/ping", NULL, "d");
    assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_OK);
    json_decref(t);
    assert_int_equal(gw_store_listener_wait(l, 10000, &err), GW_OK);
    assert_int_equal(gw_store_listener_wait(l, 50, &err), GW_ETIMEOUT);
    /* a failed (rolled back) write does not */
    t = mk_tool("ping", "GET", "/ping", NULL, "d");
    assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_ECONFLICT);
    json_decref(t);
    assert_int_equal(gw_store_listener_wait(l, 100, &err), GW_ETIMEOUT);
    /* PostgreSQL: another schema's change in the same database is not ours */
    if (strcmp(e->backend, "postgres") == 0) {
        assert_int_equal(gw_store__exec(st, "SELECT pg_notify('gw_registry', 'elsewhere:7')", NULL,
                                        0, NULL, NULL, NULL, &err),
                         GW_OK);
        assert_int_equal(gw_store_listener_wait(l, 200, &err), GW_ETIMEOUT);
    }
    /* wake from the outside */
    gw_store_listener_wake(l);
    assert_int_equal(gw_store_listener_wait(l, 10000, &err), GW_OK);
    gw_store_listener_close(l);
    gw_store_listener_close(NULL);
    gw_store_close(st);
}

/* ---- concurrency and volume ---------------------------------------------------------------- */

struct writer {
    const struct tenv *e;
    int id;
    int failures;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct gw_store *st = NULL;
    struct gw_error err = {0};
    if (gw_store_open(w->e->url, NULL, &st, &err) != GW_OK) {
        w->failures = 100;
        return NULL;
    }
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof(name), "w%d_tool_%02d", w->id, i);
        json_t *t = mk_tool(name, "GET", "/x", NULL, "d");
        json_object_set_new(t, "bundle", json_string("shared"));
        if (gw_store_tool_create(st, t, NULL, NULL, &err) != GW_OK) {
            fprintf(stderr, "writer %d: %s\n", w->id, err.msg);
            w->failures++;
        }
        json_decref(t);
    }
    gw_store_close(st);
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    struct writer w[2] = {{e, 0, 0}, {e, 1, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, writer_main, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(w[0].failures + w[1].failures, 0);
    json_t *items = NULL;
    long long total = 0;
    struct gw_store_tool_query q = {.bundle = "shared"};
    assert_int_equal(gw_store_tool_list(st, &q, &items, NULL, &total, &err), GW_OK);
    assert_int_equal(total, 40);
    json_decref(items);
    assert_int_equal(reg_version(st), 40); /* every write counted exactly once */
    gw_store_close(st);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_import_thousand(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    json_t *tools = json_array();
    for (int i = 0; i < 1000; i++) {
        char name[32], path[32];
        snprintf(name, sizeof(name), "op_%04d", i);
        snprintf(path, sizeof(path), "/resource/%d/{id}", i);
        json_array_append_new(tools, mk_tool(name, i % 3 ? "GET" : "POST", path, name,
                                             "A fairly ordinary operation description."));
    }
    json_t *spec = json_pack("{s:s, s:s, s:s}", "id", "big", "title", "Big", "version", "1");
    json_t *diff = NULL;
    double t0 = now_s();
    assert_int_equal(gw_store_apply_import(st, spec, tools, NULL, NULL, &diff, &err), GW_OK);
    double t1 = now_s();
    assert_int_equal(json_array_size(json_object_get(diff, "added")), 1000);
    json_decref(diff);
    /* what was serialised on the helper thread (or by the writer) is each tool's own */
    for (int i = 0; i < 1000; i += 111) {
        char name[32];
        snprintf(name, sizeof(name), "op_%04d", i);
        json_t *def = NULL;
        assert_int_equal(gw_store_tool_get(st, name, &def, &err), GW_OK);
        assert_string_equal(gw_json_str(def, "name"), name);
        assert_string_equal(gw_json_str(json_object_get(def, "source"), "operationId"), name);
        json_decref(def);
    }
    /* re-import with 10 changed descriptions */
    for (int i = 0; i < 10; i++)
        json_object_set_new(json_array_get(tools, (size_t)i * 97), "description",
                            json_string("changed"));
    double t2 = now_s();
    assert_int_equal(gw_store_apply_import(st, spec, tools, NULL, NULL, &diff, &err), GW_OK);
    double t3 = now_s();
    assert_int_equal(json_array_size(json_object_get(diff, "changed")), 10);
    assert_int_equal(json_integer_value(json_object_get(diff, "unchanged")), 990);
    json_decref(diff);
    printf("# %s: import of 1000 tools %.0f ms, re-import with 10 changes %.0f ms\n", e->backend,
           (t1 - t0) * 1e3, (t3 - t2) * 1e3);
    json_decref(tools);
    json_decref(spec);
    gw_store_close(st);
}

/* SQLite's idle memory: reading 1,000 tools of ~2 KB (the registry's load, sorted by name in a
 * temporary B-tree) leaves SQLite holding ~3 MB of page cache unless the connection gives it
 * back once the transaction is over (store_sqlite.c keeps at most 256 KiB per connection). */
static void test_idle_cache(void **state)
{
    struct tenv *e = tenv_get(state);
    if (strcmp(e->backend, "sqlite") != 0)
        skip(); /* PostgreSQL's memory is its server's */
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    char desc[2048];
    memset(desc, 'd', sizeof(desc) - 1);
    desc[sizeof(desc) - 1] = '\0';
    json_t *tools = json_array();
    for (int i = 0; i < 1000; i++) {
        char name[32], path[32];
        snprintf(name, sizeof(name), "op_%04d", 999 - i); /* stored out of name order */
        snprintf(path, sizeof(path), "/resource/%d", i);
        json_array_append_new(tools, mk_tool(name, "GET", path, name, desc));
    }
    json_t *spec = json_pack("{s:s, s:s, s:s}", "id", "big", "title", "Big", "version", "1");
    json_t *diff = NULL;
    struct gw_store_import_opts io = {.status = "active"};
    assert_int_equal(gw_store_apply_import(st, spec, tools, &io, NULL, &diff, &err), GW_OK);
    json_decref(diff);
    json_decref(spec);
    json_decref(tools);
    json_t *arr = json_array();
    long long v = 0;
    assert_int_equal(gw_store_tool_scan_servable(st, collect, arr, &v, &err), GW_OK);
    assert_int_equal(json_array_size(arr), 1000);
    assert_str(json_array_get(arr, 0), "name", "op_0000");
    json_decref(arr);
    sqlite3_int64 used = sqlite3_memory_used();
    printf("# sqlite memory after the scan: %lld bytes\n", (long long)used);
    assert_true(used < 1536 * 1024);
    gw_store_close(st);
}

/* A large set with bad tools: the error names the first bad one in order, nothing is
 * written. */
static void test_import_rejects_large(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    static const int bad[][2] = {{400, 450}, {100, 400}};
    for (int c = 0; c < 2; c++) {
        json_t *tools = json_array();
        for (int i = 0; i < 600; i++) {
            char name[32], path[32];
            snprintf(name, sizeof(name), "%s_%04d", i == bad[c][0] || i == bad[c][1] ? "bad name"
                                                                                     : "ok",
                     i);
            snprintf(path, sizeof(path), "/large/%d", i);
            json_array_append_new(tools, mk_tool(name, "GET", path, name, "Read one."));
        }
        json_t *spec = json_pack("{s:s, s:s}", "id", "large", "title", "Large");
        struct gw_error err = {0};
        json_t *diff = NULL;
        assert_int_equal(gw_store_apply_import(st, spec, tools, NULL, NULL, &diff, &err),
                         GW_EINVAL);
        char want[32];
        snprintf(want, sizeof(want), "tool #%d:", bad[c][0]);
        assert_non_null(strstr(err.msg, want));
        json_t *def = NULL;
        assert_int_equal(gw_store_tool_get(st, "ok_0001", &def, &err), GW_ENOTFOUND);
        json_decref(tools);
        json_decref(spec);
    }
    gw_store_close(st);
}

/* The store's tools_read hook: called once, after which the store never reads the caller's
 * tools again (the hook empties the array: a later read would find nothing, or under ASan a
 * freed value). */
static void empty_tools(void *ud)
{
    json_t *tools = ud;
    assert_true(json_array_size(tools) > 0); /* called once */
    json_array_clear(tools);
}

static void test_import_tools_read_hook(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    json_t *tools = json_array();
    for (int i = 0; i < 600; i++) {
        char name[32], path[32];
        snprintf(name, sizeof(name), "hook_%04d", i);
        snprintf(path, sizeof(path), "/hook/%d", i);
        json_array_append_new(tools, mk_tool(name, "GET", path, name, "Read one hook."));
    }
    json_t *spec = json_pack("{s:s, s:s}", "id", "hooked", "title", "Hooked");
    struct gw_store_import_opts io = {.tools_read = empty_tools, .tools_read_ud = tools};
    json_t *diff = NULL;
    assert_int_equal(gw_store_apply_import(st, spec, tools, &io, NULL, &diff, &err), GW_OK);
    assert_int_equal(json_array_size(tools), 0);
    assert_int_equal(json_array_size(json_object_get(diff, "added")), 600);
    json_t *def = NULL;
    assert_int_equal(gw_store_tool_get(st, "hook_0599", &def, &err), GW_OK);
    assert_string_equal(gw_json_str(json_object_get(def, "source"), "specId"), "hooked");
    json_decref(def);
    json_decref(diff);
    json_decref(tools);
    json_decref(spec);
    gw_store_close(st);
}

/* The naming policy across specs: renames keep the old name as an alias (it reaches the tool
 * in the servable scan, it cannot be taken by another tool, renaming back takes it back),
 * explicit renames at import, per-spec prefixes on conflicts, and refusal when a rename target
 * is taken. */
static int alias_scan_cb(void *ctx, json_t *def)
{
    if (json_object_get(def, "aliases"))
        json_object_set(ctx, gw_json_str(def, "name"), json_object_get(def, "aliases"));
    return GW_OK;
}

static void test_renames_and_aliases(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    json_t *diff = NULL, *g = NULL;
    struct gw_store_import_opts act = {.status = "active"};
    json_t *spec_a = json_pack("{s:s, s:s}", "id", "crm", "title", "CRM");
    json_t *tools =
        json_pack("[o, o]", mk_tool("get_customer", "GET", "/customers/{id}", "getC", "c"),
                  mk_tool("list_orders", "GET", "/orders", "listO", "o"));
    assert_int_equal(gw_store_apply_import(st, spec_a, tools, &act, NULL, NULL, &err), GW_OK);
    json_decref(tools);
    /* rename by hand: the old name stays an alias */
    assert_int_equal(
        gw_store_tool_rename(st, "get_customer", "crm_get_customer", 7, NULL, &g, &err), GW_OK);
    assert_str(g, "name", "crm_get_customer");
    json_decref(g);
    assert_int_equal(gw_store_tool_get(st, "get_customer", &g, &err), GW_ENOTFOUND);
    json_t *h = NULL;
    assert_int_equal(gw_store_tool_history(st, "crm_get_customer", 0, &h, &err), GW_OK);
    assert_str(json_array_get(h, 0), "action", "rename");
    json_decref(h);
    /* the servable scan hands the alias to the snapshot */
    json_t *seen = json_object();
    long long v = 0;
    assert_int_equal(gw_store_tool_scan_servable(st, alias_scan_cb, seen, &v, &err), GW_OK);
    json_t *al = json_object_get(seen, "crm_get_customer");
    assert_int_equal(json_array_size(al), 1);
    assert_str(json_array_get(al, 0), "name", "get_customer");
    json_decref(seen);
    /* another spec wanting the aliased name gets a prefix (the alias is still live) */
    json_t *spec_b = json_pack("{s:s, s:s}", "id", "erp", "title", "ERP");
    tools = json_pack("[o, o]", mk_tool("get_customer", "GET", "/erp/customers/{id}", "c", "c"),
                      mk_tool("list_orders", "GET", "/erp/orders", "o", "o"));
    assert_int_equal(gw_store_apply_import(st, spec_b, tools, &act, NULL, &diff, &err), GW_OK);
    const char *added_b[] = {"erp_get_customer", "erp_list_orders"};
    assert_diff(diff, "added", 2, added_b);
    json_t *cf = json_object_get(diff, "conflicts");
    assert_int_equal(json_array_size(cf), 2);
    assert_str(json_array_get(cf, 0), "takenBy", "crm_get_customer"); /* an alias of it */
    json_decref(diff);
    /* a re-import of the same spec: the names stay (stable), nothing conflicts again */
    assert_int_equal(gw_store_apply_import(st, spec_b, tools, &act, NULL, &diff, &err), GW_OK);
    assert_int_equal(json_integer_value(json_object_get(diff, "unchanged")), 2);
    assert_int_equal(json_array_size(json_object_get(diff, "conflicts")), 0);
    json_decref(diff);
    json_decref(tools);
    /* renaming onto a live alias of another tool or onto a tool is refused */
    assert_int_equal(gw_store_tool_rename(st, "erp_list_orders", "get_customer", 0, NULL, NULL,
                                          &err), GW_ECONFLICT);
    assert_int_equal(gw_store_tool_rename(st, "erp_list_orders", "list_orders", 0, NULL, NULL,
                                          &err), GW_ECONFLICT);
    assert_int_equal(gw_store_tool_rename(st, "erp_list_orders", "bad name", 0, NULL, NULL, &err),
                     GW_EINVAL);
    assert_int_equal(gw_store_tool_rename(st, "nope", "x", 0, NULL, NULL, &err), GW_ENOTFOUND);
    /* renaming back takes the alias back */
    assert_int_equal(gw_store_tool_rename(st, "crm_get_customer", "get_customer", 0, NULL, NULL,
                                          &err), GW_OK);
    json_t *aliases = NULL;
    assert_int_equal(gw_store_alias_list(st, &aliases, &err), GW_OK);
    assert_int_equal(json_array_size(aliases), 1);
    assert_str(json_array_get(aliases, 0), "name", "crm_get_customer");
    json_decref(aliases);
    /* an explicit rename at import (by the computed name); a rename onto a taken name fails
     * the import and writes nothing */
    tools = json_pack("[o, o]", mk_tool("get_customer", "GET", "/customers/{id}", "getC", "c"),
                      mk_tool("list_orders", "GET", "/orders", "listO", "o"));
    json_t *ren = json_pack("{s:s}", "list_orders", "crm_list_orders");
    struct gw_store_import_opts ro = {.status = "active", .renames = ren};
    assert_int_equal(gw_store_apply_import(st, spec_a, tools, &ro, NULL, &diff, &err), GW_OK);
    assert_str(json_array_get(json_object_get(diff, "renamed"), 0), "to", "crm_list_orders");
    json_decref(diff);
    json_decref(ren);
    ren = json_pack("{s:s}", "get_customer", "erp_get_customer");
    ro.renames = ren;
    long long rv = reg_version(st);
    assert_int_equal(gw_store_apply_import(st, spec_a, tools, &ro, NULL, &diff, &err),
                     GW_ECONFLICT);
    assert_non_null(strstr(err.msg, "erp_get_customer"));
    assert_int_equal(reg_version(st), rv);
    json_decref(ren);
    json_decref(tools);
    /* deleting a tool drops its aliases */
    assert_int_equal(gw_store_tool_delete(st, "crm_list_orders", NULL, &err), GW_OK);
    assert_int_equal(gw_store_alias_list(st, &aliases, &err), GW_OK);
    assert_int_equal(json_array_size(aliases), 1); /* crm_get_customer (of get_customer) */
    json_decref(aliases);
    json_decref(spec_a);
    json_decref(spec_b);
    gw_store_close(st);
}

/* Approvals that expired before the cut-off are deleted, the others stay. */
static void test_approval_purge(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    const char *expiries[] = {"2020-01-01T00:00:00Z", "2026-11-01T00:00:00Z",
                              "2031-01-01T00:00:00Z"};
    for (int i = 0; i < 3; i++) {
        char id[16], digest[65];
        snprintf(id, sizeof(id), "apr-%d", i);
        snprintf(digest, sizeof(digest), "%064d", i);
        json_t *a = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s}}", "id", id, "binding", "b1",
                              "subject", "alice", "tool", "create_booking", "args_digest", digest,
                              "expires_at", expiries[i], "arguments", "phone", "9876543210");
        json_t *out = NULL;
        assert_int_equal(gw_store_approval_request(st, a, "2019-12-31T00:00:00Z", &out, &err),
                         GW_OK);
        json_decref(out);
        json_decref(a);
    }
    long long removed = -1;
    assert_int_equal(gw_store_approval_purge(st, "2026-11-07T00:00:00Z", &removed, &err), GW_OK);
    assert_int_equal(removed, 2); /* expired in 2020 and on 2026-11-01 */
    json_t *left = NULL;
    assert_int_equal(gw_store_approval_list(st, NULL, 10, &left, &err), GW_OK);
    assert_int_equal(json_array_size(left), 1);
    assert_str(json_array_get(left, 0), "id", "apr-2");
    json_decref(left);
    assert_int_equal(gw_store_approval_purge(st, "2026-11-07T00:00:00Z", &removed, &err), GW_OK);
    assert_int_equal(removed, 0);
    gw_store_close(st);
}

#define STORE_TESTS(X)                                                                         \
    X(test_urls)                                                                               \
    X(test_migrations)                                                                         \
    X(test_tool_crud)                                                                          \
    X(test_tool_list)                                                                          \
    X(test_bundles)                                                                            \
    X(test_import_lifecycle)                                                                   \
    X(test_import_matching)                                                                    \
    X(test_import_rejects)                                                                     \
    X(test_specs)                                                                              \
    X(test_restart_durability)                                                                 \
    X(test_scan_servable)                                                                      \
    X(test_listener)                                                                           \
    X(test_concurrent_writers)                                                                 \
    X(test_import_thousand)                                                                    \
    X(test_idle_cache)                                                                         \
    X(test_import_tools_read_hook)                                                             \
    X(test_import_rejects_large)                                                               \
    X(test_renames_and_aliases)                                                                \
    X(test_approval_purge)

TENV_MAIN("store", STORE_TESTS)
