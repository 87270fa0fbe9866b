/*
 * tests/unit/store/store_testenv.h
 * Runs the same test bodies on both store backends (header-only; included by the store and
 * registry tests).
 *
 * Each test gets a fresh, empty database: SQLite a file in a new temporary folder; PostgreSQL a
 * new schema in the database of GW_TEST_PG_URL (the URL passed to the code sets search_path to
 * it, so migrations and queries land there), dropped afterwards. When GW_TEST_PG_URL is unset
 * the PostgreSQL tests are SKIPPED (cmocka skip, reported as such, never passed silently):
 * scripts/test.d/10-postgres.sh starts a server and sets it.
 *
 *   #define MY_TESTS(X) X(test_a) X(test_b)
 *   TENV_MAIN("store", MY_TESTS)
 */
#ifndef GW_TESTS_STORE_TESTENV_H
#define GW_TESTS_STORE_TESTENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"

struct tenv {
    const char *backend; /* "sqlite" | "postgres" */
    char url[2048];
    char dir[512];       /* SQLite temporary folder */
    char schema[64];     /* PostgreSQL schema */
};

static int tenv_counter;

static int tenv_setup_sqlite(void **state)
{
    struct tenv *e = gw_xcalloc(1, sizeof(*e));
    e->backend = "sqlite";
    const char *tmp = getenv("TMPDIR");
    snprintf(e->dir, sizeof(e->dir), "%s/gw-store-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(e->dir)) {
        gw_free(e);
        return -1;
    }
    snprintf(e->url, sizeof(e->url), "sqlite://%s/gateway.db", e->dir);
    *state = e;
    return 0;
}

static void tenv_quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static PGconn *tenv_pg_admin(void)
{
    const char *base = getenv("GW_TEST_PG_URL");
    PGconn *c = PQconnectdb(base);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect to GW_TEST_PG_URL: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, tenv_quiet, NULL);
    return c;
}

static int tenv_pg_run(const char *sql)
{
    PGconn *c = tenv_pg_admin();
    if (!c)
        return -1;
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

static int tenv_setup_pg(void **state)
{
    struct tenv *e = gw_xcalloc(1, sizeof(*e));
    e->backend = "postgres";
    *state = e;
    const char *base = getenv("GW_TEST_PG_URL");
    if (!base || !*base)
        return 0; /* the test skips itself */
    snprintf(e->schema, sizeof(e->schema), "gwt_%d_%d", (int)getpid(), ++tenv_counter);
    char sql[160];
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", e->schema);
    if (tenv_pg_run(sql) != 0)
        return -1;
    snprintf(e->url, sizeof(e->url), "%s%soptions=-csearch_path%%3D%s", base,
             strchr(base, '?') ? "&" : "?", e->schema);
    return 0;
}

static int tenv_teardown(void **state)
{
    struct tenv *e = *state;
    if (!e)
        return 0;
    if (e->dir[0]) {
        /* a flat folder: the database file, its -wal and -shm */
        DIR *d = opendir(e->dir);
        for (struct dirent *de = d ? readdir(d) : NULL; de; de = readdir(d)) {
            char p[1100];
            if (de->d_name[0] == '.')
                continue;
            snprintf(p, sizeof(p), "%s/%s", e->dir, de->d_name);
            unlink(p);
        }
        if (d)
            closedir(d);
        rmdir(e->dir);
    }
    if (e->schema[0]) {
        char sql[160];
        snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", e->schema);
        tenv_pg_run(sql);
    }
    gw_free(e);
    return 0;
}

/* First statement of every test body: the environment, or a skip. */
static struct tenv *tenv_get(void **state)
{
    struct tenv *e = *state;
    if (!e->url[0]) {
        skip();
    }
    return e;
}

#define TENV_SQLITE(fn) cmocka_unit_test_setup_teardown(fn, tenv_setup_sqlite, tenv_teardown),
#define TENV_PG(fn) cmocka_unit_test_setup_teardown(fn, tenv_setup_pg, tenv_teardown),

#define TENV_MAIN(name, LIST)                                                                  \
    int main(void)                                                                             \
    {                                                                                          \
        const struct CMUnitTest sqlite_tests[] = {LIST(TENV_SQLITE)};                          \
        const struct CMUnitTest pg_tests[] = {LIST(TENV_PG)};                                  \
        gw_log_configure(GW_LOG_WARN, true, 2);                                                \
        int failed = cmocka_run_group_tests_name(name "/sqlite", sqlite_tests, NULL, NULL);    \
        const char *pg = getenv("GW_TEST_PG_URL");                                             \
        if (!pg || !*pg)                                                                       \
            printf("GW_TEST_PG_URL is unset: SKIPPING the PostgreSQL half of %s (run "         \
                   "scripts/test.d/10-postgres.sh)\n",                                         \
                   name);                                                                      \
        failed += cmocka_run_group_tests_name(name "/postgres", pg_tests, NULL, NULL);         \
        return failed ? 1 : 0;                                                                 \
    }

#endif
