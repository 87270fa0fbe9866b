/*
 * tests/unit/store/test_store_chat.c
 * Conversations of the chat agent in the store (store_chat.c, migration 0006) on both backends
 * (SQLite always; PostgreSQL when GW_TEST_PG_URL is set, scripts/test.d/10-postgres.sh):
 * create (duplicate id refused), list per owner newest first with the pending flag, get with
 * messages and pending state, save only over the expected version (a concurrent save is
 * GW_ECONFLICT, a missing one GW_ENOTFOUND), title kept unless given, size and key limits,
 * another owner sees nothing and can delete nothing, delete, count; and that conversation
 * writes do not move the registry version (no replica reloads for a chat message); the
 * retention purge.
 */
#include "store_testenv.h"

#include "core/json.h"
#include "store/store.h"
#include "store/store_chat.h"
#include "store/store_impl.h"

#define OWNER_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define OWNER_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct gw_store *open_migrated(struct tenv *e)
{
    struct gw_store *st = NULL;
    struct gw_error err = {0};
    if (gw_store_open(e->url, NULL, &st, &err) != GW_OK ||
        gw_store_migrate(st, NULL, &err) != GW_OK)
        fail_msg("open %s: %s", e->backend, err.msg);
    return st;
}

static void test_chat_conversations(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    long long rv0 = 0, rv1 = 0;
    assert_int_equal(gw_store_registry_version(st, &rv0, &err), GW_OK);

    json_t *c = NULL;
    assert_int_equal(gw_store_chat_create(st, OWNER_A, "c1", "First", &c, &err), GW_OK);
    assert_string_equal(gw_json_str(c, "id"), "c1");
    assert_int_equal(json_integer_value(json_object_get(c, "version")), 1);
    json_decref(c);
    assert_int_equal(gw_store_chat_create(st, OWNER_A, "c1", "Again", &c, &err), GW_ECONFLICT);
    assert_int_equal(gw_store_chat_create(st, OWNER_A, "c2", "Second", &c, &err), GW_OK);
    json_decref(c);
    assert_int_equal(gw_store_chat_create(st, OWNER_B, "c3", "Theirs", &c, &err), GW_OK);
    json_decref(c);
    /* bad keys */
    assert_int_equal(gw_store_chat_create(st, OWNER_A, "a/b", "x", &c, &err), GW_EINVAL);
    assert_int_equal(gw_store_chat_create(st, "", "c9", "x", &c, &err), GW_EINVAL);
    char title[300];
    memset(title, 't', sizeof(title) - 1);
    title[sizeof(title) - 1] = '\0';
    assert_int_equal(gw_store_chat_create(st, OWNER_A, "c9", title, &c, &err), GW_EINVAL);

    /* save over the expected version only */
    long long v = 0;
    const char *msgs = "[{\"role\":\"user\",\"content\":\"hello \\u00e9\"}]";
    const char *pend = "{\"step\":1,\"calls\":[{\"id\":\"k\",\"state\":\"waiting\"}]}";
    assert_int_equal(gw_store_chat_save(st, OWNER_A, "c1", 1, msgs, pend, "Renamed", &v, &err),
                     GW_OK);
    assert_int_equal(v, 2);
    assert_int_equal(gw_store_chat_save(st, OWNER_A, "c1", 1, "[]", NULL, NULL, &v, &err),
                     GW_ECONFLICT);
    assert_int_equal(gw_store_chat_save(st, OWNER_B, "c1", 2, "[]", NULL, NULL, &v, &err),
                     GW_ENOTFOUND);
    assert_int_equal(gw_store_chat_save(st, OWNER_A, "nope", 1, "[]", NULL, NULL, &v, &err),
                     GW_ENOTFOUND);
    char *big = gw_xmalloc(GW_STORE_CHAT_DATA_MAX + 16);
    memset(big, ' ', GW_STORE_CHAT_DATA_MAX + 8);
    big[0] = '[';
    big[GW_STORE_CHAT_DATA_MAX + 6] = ']';
    big[GW_STORE_CHAT_DATA_MAX + 7] = '\0';
    assert_int_equal(gw_store_chat_save(st, OWNER_A, "c1", 2, big, NULL, NULL, &v, &err),
                     GW_EINVAL);
    gw_free(big);

    json_t *got = NULL;
    assert_int_equal(gw_store_chat_get(st, OWNER_A, "c1", &got, &err), GW_OK);
    assert_string_equal(gw_json_str(got, "title"), "Renamed");
    assert_int_equal(json_integer_value(json_object_get(got, "version")), 2);
    assert_string_equal(gw_json_str(json_array_get(json_object_get(got, "messages"), 0),
                                    "content"),
                        "hello \xc3\xa9");
    assert_string_equal(gw_json_str(json_array_get(json_object_get(json_object_get(got,
                                                                                   "pending"),
                                                                   "calls"),
                                                   0),
                                    "id"),
                        "k");
    json_decref(got);
    assert_int_equal(gw_store_chat_get(st, OWNER_B, "c1", &got, &err), GW_ENOTFOUND);
    assert_int_equal(gw_store_chat_get(st, OWNER_A, "../c1", &got, &err), GW_ENOTFOUND);

    /* the pending state is cleared by a save without one; the title stays */
    assert_int_equal(gw_store_chat_save(st, OWNER_A, "c1", 2, msgs, NULL, NULL, &v, &err), GW_OK);
    assert_int_equal(gw_store_chat_get(st, OWNER_A, "c1", &got, &err), GW_OK);
    assert_true(json_is_null(json_object_get(got, "pending")));
    assert_string_equal(gw_json_str(got, "title"), "Renamed");
    json_decref(got);

    /* list: the owner's only, newest first (by updated_at, millisecond resolution), with the
     * pending flag */
    usleep(5000);
    assert_int_equal(gw_store_chat_save(st, OWNER_A, "c2", 1, "[]", pend, NULL, &v, &err), GW_OK);
    json_t *list = NULL;
    assert_int_equal(gw_store_chat_list(st, OWNER_A, 10, &list, &err), GW_OK);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(gw_json_str(json_array_get(list, 0), "id"), "c2");
    assert_true(json_is_true(json_object_get(json_array_get(list, 0), "awaiting_confirmation")));
    assert_true(json_is_false(json_object_get(json_array_get(list, 1), "awaiting_confirmation")));
    assert_null(json_object_get(json_array_get(list, 0), "messages"));
    json_decref(list);
    long long n = 0;
    assert_int_equal(gw_store_chat_count(st, OWNER_A, &n, &err), GW_OK);
    assert_int_equal(n, 2);

    /* delete: not another owner's */
    assert_int_equal(gw_store_chat_delete(st, OWNER_B, "c1", &err), GW_ENOTFOUND);
    assert_int_equal(gw_store_chat_delete(st, OWNER_A, "c1", &err), GW_OK);
    assert_int_equal(gw_store_chat_delete(st, OWNER_A, "c1", &err), GW_ENOTFOUND);
    assert_int_equal(gw_store_chat_count(st, OWNER_A, &n, &err), GW_OK);
    assert_int_equal(n, 1);

    assert_int_equal(gw_store_registry_version(st, &rv1, &err), GW_OK);
    assert_int_equal(rv1, rv0); /* conversations are not registry data */
    gw_store_close(st);
}

/* Conversations not written to since the cut-off are deleted, whoever owns them; the others
 * stay (GW_CHAT_RETENTION_DAYS). */
static void test_chat_purge(void **state)
{
    struct tenv *e = tenv_get(state);
    struct gw_store *st = open_migrated(e);
    struct gw_error err = {0};
    const char *ids[] = {"old-a", "old-b", "new-a"};
    const char *owners[] = {OWNER_A, OWNER_B, OWNER_A};
    for (int i = 0; i < 3; i++) {
        json_t *c = NULL;
        assert_int_equal(gw_store_chat_create(st, owners[i], ids[i], "t", &c, &err), GW_OK);
        json_decref(c);
    }
    assert_int_equal(gw_store__exec(st, "UPDATE chat_conversations SET updated_at = "
                                        "'2020-01-01T00:00:00Z' WHERE id LIKE 'old-%'",
                                    NULL, 0, NULL, NULL, NULL, &err),
                     GW_OK);
    long long n = -1;
    assert_int_equal(gw_store_chat_purge(st, "2025-01-01T00:00:00Z", &n, &err), GW_OK);
    assert_int_equal(n, 2);
    json_t *c = NULL;
    assert_int_equal(gw_store_chat_get(st, OWNER_A, "old-a", &c, &err), GW_ENOTFOUND);
    assert_int_equal(gw_store_chat_get(st, OWNER_B, "old-b", &c, &err), GW_ENOTFOUND);
    assert_int_equal(gw_store_chat_get(st, OWNER_A, "new-a", &c, &err), GW_OK);
    json_decref(c);
    assert_int_equal(gw_store_chat_purge(st, "2025-01-01T00:00:00Z", &n, &err), GW_OK);
    assert_int_equal(n, 0);
    gw_store_close(st);
}

#define CHAT_TESTS(X) X(test_chat_conversations) X(test_chat_purge)

TENV_MAIN("store_chat", CHAT_TESTS)
