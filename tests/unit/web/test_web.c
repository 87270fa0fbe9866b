/*
 * tests/unit/web/test_web.c
 * The static-file server of the admin console (src/web): the path rules (every traversal
 * spelling refused: "..", encoded dots, backslashes, hidden files, "//", control bytes, NUL),
 * content types, Accept-Encoding and If-None-Match parsing; then a real in-process HTTP server
 * serving a temp directory that also holds a symlink to a file outside it, a symlinked
 * directory and a dot-file, driven over raw sockets (so request targets reach the server as
 * written, unnormalised): files with their headers (CSP, ETag, cache policy), 304, gzip
 * variant, the index.html fallback for client routes, 404 for missing build files, 405, the
 * redirect of the bare prefix, and that no request ever returns the outside file's bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/err.h"
#include "net/net_http.h"
#include "net/net_server.h"
#include "web/web.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define OUTSIDE_MARK "TOP-SECRET-OUTSIDE-THE-ASSET-DIR"

/* ---- pure rules ---------------------------------------------------------------------------- */

static int resolve(const char *path, char *out)
{
    struct gw_error err = {0};
    return gw_web_resolve(path, "/admin/", out, GW_WEB_PATH_MAX + 1, &err);
}

static void test_resolve_ok(void **state)
{
    (void)state;
    char out[GW_WEB_PATH_MAX + 1];
    assert_int_equal(resolve("/admin/", out), GW_OK);
    assert_string_equal(out, "");
    assert_int_equal(resolve("/admin/index.html", out), GW_OK);
    assert_string_equal(out, "index.html");
    assert_int_equal(resolve("/admin/assets/index-B1a_x-9.js", out), GW_OK);
    assert_string_equal(out, "assets/index-B1a_x-9.js");
    assert_int_equal(resolve("/admin/tools/get_pin", out), GW_OK);
    assert_string_equal(out, "tools/get_pin");
    assert_int_equal(resolve("/admin/tools/", out), GW_OK); /* one trailing slash */
    assert_string_equal(out, "tools");
    assert_int_equal(resolve("/admin/products/msil.dms~v2", out), GW_OK);
    assert_int_equal(resolve("/other/x", out), GW_ENOTFOUND);
    assert_int_equal(resolve("/admin", out), GW_ENOTFOUND);
}

static void test_resolve_refuses_traversal(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "/admin/..",
        "/admin/../",
        "/admin/../etc/passwd",
        "/admin/assets/../../etc/passwd",
        "/admin/./index.html",
        "/admin/assets/./x.js",
        "/admin/.",
        "/admin/.env",
        "/admin/.git/config",
        "/admin/assets/.hidden",
        "/admin//etc/passwd",
        "/admin/assets//x.js",
        "/admin/tools//",
        "/admin/..%2f..%2fetc%2fpasswd",  /* a '%' left after one decoding */
        "/admin/%2e%2e/etc/passwd",
        "/admin/..\\..\\etc\\passwd",
        "/admin/assets\\..\\x",
        "/admin/a\x01b",
        "/admin/a b",
        "/admin/caf\xc3\xa9",
        "/admin/a;b",
        "/admin/a:b",
        "/admin/a?b",
        "/admin/a/b/c/d/e/f/g/h/i", /* deeper than GW_WEB_DEPTH_MAX */
    };
    char out[GW_WEB_PATH_MAX + 1];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = resolve(bad[i], out);
        if (rc != GW_EINVAL)
            fail_msg("%s resolved (rc %d, '%s') instead of being refused", bad[i], rc, out);
        assert_string_equal(out, "");
    }
    /* too long */
    char longp[GW_WEB_PATH_MAX + 32];
    memcpy(longp, "/admin/", 7);
    memset(longp + 7, 'a', GW_WEB_PATH_MAX + 1);
    longp[7 + GW_WEB_PATH_MAX + 1] = '\0';
    assert_int_equal(resolve(longp, out), GW_EINVAL);
    /* a small output buffer is refused, not overrun */
    struct gw_error err = {0};
    char tiny[4];
    assert_int_equal(gw_web_resolve("/admin/index.html", "/admin/", tiny, sizeof(tiny), &err),
                     GW_EINVAL);
}

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(gw_web_content_type("index.html"), "text/html; charset=utf-8");
    assert_string_equal(gw_web_content_type("assets/a.JS"), "text/javascript; charset=utf-8");
    assert_string_equal(gw_web_content_type("assets/a.css"), "text/css; charset=utf-8");
    assert_string_equal(gw_web_content_type("f/inter.woff2"), "font/woff2");
    assert_string_equal(gw_web_content_type("logo.svg"), "image/svg+xml");
    assert_string_equal(gw_web_content_type("x.bin"), "application/octet-stream");
    assert_string_equal(gw_web_content_type("dir.js/noext"), "application/octet-stream");
    assert_string_equal(gw_web_content_type("README"), "application/octet-stream");
}

static void test_accept_gzip(void **state)
{
    (void)state;
    assert_true(gw_web_accepts_gzip("gzip, deflate, br"));
    assert_true(gw_web_accepts_gzip("br;q=1.0, gzip;q=0.8"));
    assert_true(gw_web_accepts_gzip("*"));
    assert_false(gw_web_accepts_gzip(NULL));
    assert_false(gw_web_accepts_gzip(""));
    assert_false(gw_web_accepts_gzip("br, deflate"));
    assert_false(gw_web_accepts_gzip("gzip;q=0"));
    assert_false(gw_web_accepts_gzip("gzip; q=0.000"));
    assert_false(gw_web_accepts_gzip("gzipx"));
}

static void test_etag_matches(void **state)
{
    (void)state;
    assert_true(gw_web_etag_matches("\"abc\"", "\"abc\""));
    assert_true(gw_web_etag_matches("\"x\", W/\"abc\"", "\"abc\""));
    assert_true(gw_web_etag_matches("*", "\"abc\""));
    assert_false(gw_web_etag_matches("\"abd\"", "\"abc\""));
    assert_false(gw_web_etag_matches(NULL, "\"abc\""));
    assert_false(gw_web_etag_matches("abc", "\"abc\""));
}

/* ---- a served directory ------------------------------------------------------------------- */

struct fx {
    char dir[256];     /* the asset directory */
    char outside[256]; /* a directory beside it with a secret file */
    struct gw_server *srv;
    struct gw_web *web;
    int port;
};

static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void api_route(struct gw_http_req *r, void *arg)
{
    (void)arg;
    gw_http_reply(r, 200, "application/json", "{\"api\":true}", 12);
}

static int fx_setup(void **state)
{
    struct fx *f = gw_xcalloc(1, sizeof(*f));
    char base[] = "/tmp/gw-web-test-XXXXXX";
    assert_non_null(mkdtemp(base));
    snprintf(f->dir, sizeof(f->dir), "%s/dist", base);
    snprintf(f->outside, sizeof(f->outside), "%s/outside", base);
    mkdir(f->dir, 0700);
    mkdir(f->outside, 0700);
    char p[512], q[512];
    snprintf(p, sizeof(p), "%s/assets", f->dir);
    mkdir(p, 0700);
    put(f->dir, "index.html", "<!doctype html><title>console</title>");
    put(f->dir, "favicon.svg", "<svg/>");
    put(f->dir, "assets/app-1234.js", "console.log('app')");
    /* a fake precompressed variant: its bytes are only compared, never decompressed */
    put(f->dir, "assets/app-1234.js.gz", "GZIPPED-APP");
    put(f->dir, "index.html.gz", "GZIPPED-INDEX");
    put(f->dir, "favicon.svg.gz", "GZIPPED-ICON");
    put(f->dir, "assets/orphan.css.gz", "NO-BASE"); /* no base file: served as itself */
    put(f->dir, ".env", "SECRET=" OUTSIDE_MARK);
    put(f->outside, "passwd", OUTSIDE_MARK);
    /* symlinks to a file and to a directory outside the asset directory */
    snprintf(p, sizeof(p), "%s/passwd", f->outside);
    snprintf(q, sizeof(q), "%s/assets/link.js", f->dir);
    assert_int_equal(symlink(p, q), 0);
    snprintf(q, sizeof(q), "%s/escape", f->dir);
    assert_int_equal(symlink(f->outside, q), 0);

    struct gw_web_options o = {f->dir, "/admin/", "https://login.example.com"};
    struct gw_error err = {0};
    if (gw_web_open(&o, &f->web, &err) != GW_OK)
        fail_msg("open: %s", err.msg);
    size_t bytes = 0;
    /* index, favicon, app (each with its gz variant), the orphan .gz */
    assert_int_equal(gw_web_count(f->web, &bytes), 4);
    struct gw_net_options no = {"127.0.0.1:0", 1, 1u << 20, 16u << 10, 64, 30, 1, false};
    if (gw_server_new(&no, &f->srv, &err) != GW_OK)
        fail_msg("server: %s", err.msg);
    gw_server_route(f->srv, "/admin/api/*", api_route, NULL);
    gw_web_attach(f->web, f->srv);
    if (gw_server_start(f->srv, &err) != GW_OK)
        fail_msg("start: %s", err.msg);
    f->port = gw_server_port(f->srv);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    gw_server_shutdown(f->srv);
    gw_server_wait(f->srv);
    gw_server_free(f->srv);
    gw_web_free(f->web);
    char cmd[600];
    char base[256];
    snprintf(base, sizeof(base), "%s", f->dir);
    *strrchr(base, '/') = '\0';
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "# could not remove %s\n", base);
    gw_free(f);
    return 0;
}

struct reply {
    int status;
    char head[4096];
    char body[8192];
};

/* Sends `raw` (a whole request, as written) and reads the reply until the server closes. */
static struct reply send_raw(const struct fx *f, const char *raw)
{
    struct reply r = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)f->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    size_t len = strlen(raw);
    assert_int_equal(write(fd, raw, len), (ssize_t)len);
    char buf[16384];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof(buf) - 1 && (k = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)k;
    close(fd);
    buf[got] = '\0';
    sscanf(buf, "HTTP/1.%*d %d", &r.status); /* checksrc: allow (test code) */
    char *sep = strstr(buf, "\r\n\r\n");
    if (sep) {
        snprintf(r.head, sizeof(r.head), "%.*s", (int)(sep - buf), buf);
        snprintf(r.body, sizeof(r.body), "%s", sep + 4);
    }
    return r;
}

static struct reply get(const struct fx *f, const char *target, const char *extra)
{
    char raw[4096];
    snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n",
             target, extra ? extra : "");
    return send_raw(f, raw);
}

/* The value of header `name` in r->head ("" when absent). */
static const char *hdr(const struct reply *r, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    size_t n = strlen(name);
    for (const char *p = r->head; (p = strstr(p, "\r\n")) != NULL;) {
        p += 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            size_t vn = strcspn(v, "\r\n");
            snprintf(out, size, "%.*s", (int)vn, v);
            break;
        }
    }
    return out;
}

static void test_serves_files(void **state)
{
    struct fx *f = *state;
    char v[1024];
    struct reply r = get(f, "/admin/", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "<!doctype html><title>console</title>");
    assert_string_equal(hdr(&r, "Content-Type", v, sizeof(v)), "text/html; charset=utf-8");
    assert_string_equal(hdr(&r, "Cache-Control", v, sizeof(v)), "no-cache");
    assert_string_equal(hdr(&r, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
    assert_string_equal(hdr(&r, "X-Frame-Options", v, sizeof(v)), "DENY");
    hdr(&r, "Content-Security-Policy", v, sizeof(v));
    assert_non_null(strstr(v, "default-src 'none'"));
    assert_non_null(strstr(v, "script-src 'self';"));
    assert_non_null(strstr(v, "connect-src 'self' https://login.example.com;"));
    assert_non_null(strstr(v, "frame-ancestors 'none'"));
    assert_null(strstr(v, "unsafe-inline"));
    char etag[128];
    hdr(&r, "ETag", etag, sizeof(etag));
    assert_int_equal(strlen(etag), 42); /* quoted 40 hex digits */

    /* 304 with the ETag */
    char cond[200];
    snprintf(cond, sizeof(cond), "If-None-Match: %s\r\n", etag);
    r = get(f, "/admin/index.html", cond);
    assert_int_equal(r.status, 304);
    assert_string_equal(r.body, "");

    r = get(f, "/admin/assets/app-1234.js", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "console.log('app')");
    assert_string_equal(hdr(&r, "Content-Type", v, sizeof(v)), "text/javascript; charset=utf-8");
    assert_string_equal(hdr(&r, "Cache-Control", v, sizeof(v)),
                        "public, max-age=31536000, immutable");
    assert_string_equal(hdr(&r, "Vary", v, sizeof(v)), "Accept-Encoding");
    assert_string_equal(hdr(&r, "Content-Encoding", v, sizeof(v)), "");

    r = get(f, "/admin/assets/app-1234.js", "Accept-Encoding: br, gzip\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "GZIPPED-APP");
    assert_string_equal(hdr(&r, "Content-Encoding", v, sizeof(v)), "gzip");
    r = get(f, "/admin/assets/app-1234.js", "Accept-Encoding: gzip;q=0\r\n");
    assert_string_equal(r.body, "console.log('app')");
    /* the .gz file is a variant, not a file of its own */
    r = get(f, "/admin/assets/app-1234.js.gz", NULL);
    assert_int_equal(r.status, 404);

    r = get(f, "/admin/", "Accept-Encoding: gzip\r\n");
    assert_string_equal(r.body, "GZIPPED-INDEX");
    r = get(f, "/admin/assets/orphan.css.gz", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "NO-BASE");
    r = get(f, "/admin/favicon.svg", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Content-Type", v, sizeof(v)), "image/svg+xml");
}

static void test_client_routes_and_misses(void **state)
{
    struct fx *f = *state;
    char v[256];
    /* client-side routes get the app */
    static const char *const routes[] = {"/admin/tools", "/admin/tools/get_pin",
                                         "/admin/products/msil.dms", "/admin/audit/",
                                         "/admin/tools?status=active"};
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        struct reply r = get(f, routes[i], NULL);
        if (r.status != 200 || !strstr(r.body, "<title>console</title>"))
            fail_msg("%s: %d %s", routes[i], r.status, r.body);
    }
    /* missing build files are 404, not the app */
    struct reply r = get(f, "/admin/assets/gone-999.js", NULL);
    assert_int_equal(r.status, 404);
    r = get(f, "/admin/missing.css", NULL);
    assert_int_equal(r.status, 404);
    /* the API route registered first still wins */
    r = get(f, "/admin/api/tools", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"api\":true}");
    /* the bare prefix redirects */
    r = get(f, "/admin", NULL);
    assert_int_equal(r.status, 308);
    assert_string_equal(hdr(&r, "Location", v, sizeof(v)), "/admin/");
    /* methods */
    r = send_raw(f, "POST /admin/index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    "Content-Length: 0\r\n\r\n");
    assert_int_equal(r.status, 405);
    assert_string_equal(hdr(&r, "Allow", v, sizeof(v)), "GET, HEAD");
    r = send_raw(f, "HEAD /admin/index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "");
}

static void test_traversal_over_http(void **state)
{
    struct fx *f = *state;
    static const char *const targets[] = {
        "/admin/../outside/passwd",
        "/admin/..%2foutside%2fpasswd",
        "/admin/%2e%2e/outside/passwd",
        "/admin/%2E%2E%2Foutside%2Fpasswd",
        "/admin/assets/../../outside/passwd",
        "/admin/..\\outside\\passwd",
        "/admin/.env",
        "/admin/%2eenv",
        "/admin/assets/link.js",   /* symlink to the outside file */
        "/admin/escape/passwd",    /* symlinked directory */
        "/admin//outside/passwd",
        "/admin/%00/../outside/passwd", /* the decoded path ends at the NUL: "/admin/" */
        "/admin/index.html%00.js",
    };
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        struct reply r = get(f, targets[i], NULL);
        if (strstr(r.body, OUTSIDE_MARK) || strstr(r.head, OUTSIDE_MARK))
            fail_msg("%s returned the outside file", targets[i]);
        if (r.status == 200 && !strstr(r.body, "<title>console</title>"))
            fail_msg("%s: 200 with %s", targets[i], r.body);
        /* traversal spellings are refused outright; the symlinks are simply not in the table
         * (then a route-looking name gets the app, a file-looking one 404) */
        if ((strstr(targets[i], "..") || strstr(targets[i], "%2e") ||
             strstr(targets[i], "//") || strstr(targets[i], ".env")) &&
            !strstr(targets[i], "%00"))
            if (r.status != 400 && r.status != 404)
                fail_msg("%s: status %d, expected a refusal", targets[i], r.status);
    }
    struct reply r = get(f, "/admin/assets/link.js", NULL);
    assert_int_equal(r.status, 404);
}

static void test_open_refusals(void **state)
{
    (void)state;
    struct gw_web *w = NULL;
    struct gw_error err = {0};
    struct gw_web_options o = {"/nonexistent-gw-web-dir", "/admin/", NULL};
    assert_int_equal(gw_web_open(&o, &w, &err), GW_EIO);
    assert_null(w);
    char base[] = "/tmp/gw-web-empty-XXXXXX";
    assert_non_null(mkdtemp(base));
    o.dir = base;
    assert_int_equal(gw_web_open(&o, &w, &err), GW_EINVAL); /* no index.html */
    assert_non_null(strstr(err.msg, "index.html"));
    put(base, "index.html", "x");
    o.connect_src = "https://ok.example.com; script-src *";
    assert_int_equal(gw_web_open(&o, &w, &err), GW_EINVAL); /* would inject a directive */
    o.connect_src = "'unsafe-eval'";
    assert_int_equal(gw_web_open(&o, &w, &err), GW_EINVAL);
    o.connect_src = NULL;
    o.prefix = "/admin";
    assert_int_equal(gw_web_open(&o, &w, &err), GW_EINVAL);
    o.prefix = "/admin/";
    assert_int_equal(gw_web_open(&o, &w, &err), GW_OK);
    gw_web_free(w);
    char p[300];
    snprintf(p, sizeof(p), "%s/index.html", base);
    unlink(p);
    rmdir(base);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_resolve_ok),
        cmocka_unit_test(test_resolve_refuses_traversal),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_accept_gzip),
        cmocka_unit_test(test_etag_matches),
        cmocka_unit_test(test_open_refusals),
    };
    const struct CMUnitTest served[] = {
        cmocka_unit_test(test_serves_files),
        cmocka_unit_test(test_client_routes_and_misses),
        cmocka_unit_test(test_traversal_over_http),
    };
    int rc = cmocka_run_group_tests_name("web rules", pure, NULL, NULL);
    rc += cmocka_run_group_tests_name("web served", served, fx_setup, fx_teardown);
    return rc;
}
