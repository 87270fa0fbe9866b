/*
 * tests/unit/mockapim/mockapim_test.h
 * Helpers shared by the mock APIM unit tests: a request builder that drives
 * gw_mockapim_app_handle without sockets, a throw-away database path, and JSON accessors.
 * Header-only (static functions) because every test file is its own executable.
 */
#ifndef GW_TEST_MOCKAPIM_TEST_H
#define GW_TEST_MOCKAPIM_TEST_H

#include "core/alloc.h"
#include "core/str.h"
#include "mockapim_app.h"
#include "mockapim_req.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_KEY "mock-apim-dev-key"

struct t_call {
    struct gw_mockapim_req req;
    struct gw_mockapim_resp resp;
    struct gw_mockapim_header hdr[8];
    char path[512];
};

/* A fresh database file under the build tree (or /tmp), removed first. */
static inline void t_db_path(char *out, size_t cap, const char *name)
{
    const char *bin = getenv("GW_BINARY_DIR");
    snprintf(out, cap, "%s/mockapim-test-%s-%d.db", bin ? bin : "/tmp", name, (int)getpid());
    char side[600];
    unlink(out);
    snprintf(side, sizeof(side), "%s-wal", out);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", out);
    unlink(side);
}

static inline void t_db_remove(const char *path)
{
    char side[600];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

static inline struct gw_mockapim_app *t_app(const char *db, const char *today, int ttl)
{
    struct gw_mockapim_config cfg = {
        .listen = "127.0.0.1:0", .db_path = db, .token_ttl = ttl, .faults_admin = true,
        .max_body = 1 << 20, .today = today, .seed = 42,
    };
    struct gw_mockapim_app *app = NULL;
    struct gw_error err = {0};
    if (gw_mockapim_app_new(&cfg, &app, &err) != GW_OK) {
        fprintf(stderr, "app: %s\n", err.msg);
        abort();
    }
    return app;
}

/* Runs one request. `url` may carry a query ("?a=b&c=d", no percent-encoding needed for the
 * test values: split on & and =). Headers: NULL-terminated name, value pairs. */
static inline void t_run(struct gw_mockapim_app *app, struct t_call *c, const char *method,
                         const char *url, const char *body, ...)
{
    va_list ap;
    memset(c, 0, sizeof(*c));
    gw_mockapim_resp_init(&c->resp);
    snprintf(c->path, sizeof(c->path), "%s", url);
    char *q = strchr(c->path, '?');
    c->req.query = json_object();
    if (q) {
        *q++ = '\0';
        for (char *kv = q, *amp; kv; kv = amp) {
            amp = strchr(kv, '&');
            if (amp)
                *amp++ = '\0';
            char *eq = strchr(kv, '=');
            if (eq)
                *eq++ = '\0';
            for (char *p = eq; p && *p; p++)
                if (*p == '+')
                    *p = ' ';
            json_object_set_new(c->req.query, kv, json_string(eq ? eq : ""));
        }
    }
    c->req.method = method;
    c->req.path = c->path;
    va_start(ap, body);
    size_t n = 0;
    for (const char *name = va_arg(ap, const char *); name && n < 8;
         name = va_arg(ap, const char *)) {
        c->hdr[n].name = name;
        c->hdr[n++].value = va_arg(ap, const char *);
    }
    va_end(ap);
    c->req.headers = c->hdr;
    c->req.nheaders = n;
    c->req.body = body;
    c->req.body_len = body ? strlen(body) : 0;
    gw_mockapim_app_handle(app, &c->req, &c->resp);
}

static inline void t_done(struct t_call *c)
{
    gw_mockapim_resp_fini(&c->resp);
    json_decref(c->req.query);
    c->req.query = NULL;
}

/* Dotted path lookup into the response JSON: "error.code", "slots.3.available". */
static inline json_t *t_get(const json_t *root, const char *dotted)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", dotted);
    const json_t *cur = root;
    for (char *part = buf, *dot; part && cur; part = dot) {
        dot = strchr(part, '.');
        if (dot)
            *dot++ = '\0';
        unsigned long long idx = 0;
        if (json_is_array(cur) && gw_str_to_u64(gw_str_c(part), &idx) == GW_OK)
            cur = json_array_get(cur, (size_t)idx);
        else
            cur = json_object_get(cur, part);
    }
    return (json_t *)cur;
}

static inline const char *t_str(const struct t_call *c, const char *dotted)
{
    const char *s = json_string_value(t_get(c->resp.json, dotted));
    return s ? s : "(absent)";
}

static inline long long t_int(const struct t_call *c, const char *dotted)
{
    return json_integer_value(t_get(c->resp.json, dotted));
}

#endif
