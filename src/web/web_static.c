/*
 * src/web/web_static.c
 * The in-memory asset table and the route that serves it (see web.h for the design).
 *
 * Loading (gw_web_open, start-up thread, blocking): a depth-first walk of the directory with
 * openat/fstatat relative to open directory descriptors and O_NOFOLLOW, so a symlink (to a
 * file or a directory) is never followed, whatever it points at; dot-files are skipped; every
 * count and size is bounded. The table is sorted by name and never changes afterwards.
 * Serving (web_handle, any loop thread): resolve the path (web_path.c), look it up (binary
 * search), fall back to index.html for client-side routes, answer 304 or the bytes.
 */
#include "web/web.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "net/net_http.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSP_MAX 2048
#define CONNECT_SRC_MAX 1024

struct asset {
    char *name; /* relative to the directory, '/'-separated */
    const char *type;
    char *body;
    size_t len;
    char etag[48];
    char *gz; /* precompressed variant (<name>.gz), or NULL */
    size_t gz_len;
    char gz_etag[52];
    bool immutable; /* content-hashed (under assets/): cache for a year */
};

struct gw_web {
    char *prefix;   /* "/admin/" */
    char *root;     /* "/admin" (redirected to the prefix) */
    char csp[CSP_MAX];
    struct asset *a;
    size_t n, cap;
    size_t bytes;
    const struct asset *index;
};

/* ---- loading ----------------------------------------------------------------------------- */

static void etag_of(const char *body, size_t len, const char *suffix, char *out, size_t size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(body, len, md, &mdlen, EVP_sha256(), NULL);
    char hex[41];
    for (unsigned int i = 0; i < 20 && i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(out, size, "\"%s%s\"", hex, suffix);
}

/* Reads the regular file `name` in directory `dfd` (no symlink followed). */
static int read_file(int dfd, const char *name, const char *rel, char **out, size_t *out_len,
                     struct gw_error *err)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        char eb[128];
        return GW_ERROR_SET(err, GW_EIO, "cannot open %s: %s", rel,
                            gw_strerror(errno, eb, sizeof(eb)));
    }
    struct stat st;
    int rc = GW_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = GW_ERROR_SET(err, GW_EIO, "%s is not a regular file", rel);
        goto out;
    }
    if ((unsigned long long)st.st_size > GW_WEB_FILE_MAX) {
        rc = GW_ERROR_SET(err, GW_ELIMIT, "%s is larger than %u bytes", rel, GW_WEB_FILE_MAX);
        goto out;
    }
    size_t len = (size_t)st.st_size;
    char *buf = gw_xmalloc(len + 1);
    size_t got = 0;
    while (got < len) {
        ssize_t k = read(fd, buf + got, len - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            gw_free(buf);
            rc = GW_ERROR_SET(err, GW_EIO, "cannot read %s", rel);
            goto out;
        }
        got += (size_t)k;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
out:
    close(fd);
    return rc;
}

static int add_file(struct gw_web *w, const char *rel, char *body, size_t len,
                    struct gw_error *err)
{
    if (w->n >= GW_WEB_FILES_MAX) {
        gw_free(body);
        return GW_ERROR_SET(err, GW_ELIMIT, "more than %d files", GW_WEB_FILES_MAX);
    }
    if (w->bytes + len > GW_WEB_TOTAL_MAX) {
        gw_free(body);
        return GW_ERROR_SET(err, GW_ELIMIT, "the files are larger than %u bytes together",
                            GW_WEB_TOTAL_MAX);
    }
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->a = gw_xrealloc(w->a, w->cap * sizeof(*w->a));
    }
    struct asset *a = &w->a[w->n++];
    memset(a, 0, sizeof(*a));
    a->name = gw_xstrdup(rel);
    a->type = gw_web_content_type(rel);
    a->body = body;
    a->len = len;
    a->immutable = strncmp(rel, "assets/", 7) == 0;
    etag_of(body, len, "", a->etag, sizeof(a->etag));
    w->bytes += len;
    return GW_OK;
}

/* Adds every regular file below directory `dfd` (relative name prefix `rel`). Takes dfd. */
static int walk(struct gw_web *w, int dfd, const char *rel, int depth, struct gw_error *err)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return GW_ERROR_SET(err, GW_EIO, "cannot list %s", *rel ? rel : ".");
    }
    int rc = GW_OK;
    struct dirent *de;
    while (rc == GW_OK && (de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (nm[0] == '.')
            continue; /* ".", "..", hidden files (.git, .env ...) */
        char path[GW_WEB_PATH_MAX + 1];
        int pn = snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", nm);
        if (pn < 0 || (size_t)pn >= sizeof(path)) {
            rc = GW_ERROR_SET(err, GW_ELIMIT, "a path below the directory is too long");
            break;
        }
        struct stat st;
        if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* vanished */
        if (S_ISLNK(st.st_mode)) {
            GW_LOG(GW_LOG_WARN, "web", "not serving %s: symbolic links are never followed", path);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (depth + 1 >= GW_WEB_DEPTH_MAX) {
                rc = GW_ERROR_SET(err, GW_ELIMIT, "%s is deeper than %d levels", path,
                                  GW_WEB_DEPTH_MAX);
                break;
            }
            int sub = openat(dirfd(d), nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                rc = GW_ERROR_SET(err, GW_EIO, "cannot open directory %s", path);
                break;
            }
            rc = walk(w, sub, path, depth + 1, err);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue; /* sockets, fifos, devices */
        char *body = NULL;
        size_t len = 0;
        rc = read_file(dirfd(d), nm, path, &body, &len, err);
        if (rc == GW_OK)
            rc = add_file(w, path, body, len, err);
    }
    closedir(d);
    return rc;
}

static int cmp_asset(const void *x, const void *y)
{
    return strcmp(((const struct asset *)x)->name, ((const struct asset *)y)->name);
}

static const struct asset *find(const struct gw_web *w, const char *name)
{
    struct asset key = {.name = (char *)name};
    if (!w->n) /* an empty directory has no array (bsearch must not get NULL: UBSan) */
        return NULL;
    return bsearch(&key, w->a, w->n, sizeof(*w->a), cmp_asset);
}

/* Moves each "<x>.gz" whose "<x>" exists into x's variant; the table stays sorted. Two
 * passes: lookups run on the intact table, entries are dropped only afterwards. */
static void attach_variants(struct gw_web *w)
{
    bool *drop = gw_xcalloc(w->n ? w->n : 1, sizeof(*drop));
    for (size_t i = 0; i < w->n; i++) {
        struct asset *a = &w->a[i];
        size_t ln = strlen(a->name);
        if (ln <= 3 || strcmp(a->name + ln - 3, ".gz") != 0)
            continue;
        char *key = gw_xstrndup(a->name, ln - 3);
        struct asset *base = (struct asset *)find(w, key);
        gw_free(key);
        if (!base || base == a || base->gz)
            continue;
        base->gz = a->body;
        base->gz_len = a->len;
        etag_of(base->body, base->len, "-gz", base->gz_etag, sizeof(base->gz_etag));
        a->body = NULL;
        drop[i] = true;
    }
    size_t keep = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (drop[i])
            gw_free(w->a[i].name);
        else
            w->a[keep++] = w->a[i];
    }
    w->n = keep;
    gw_free(drop);
}

/* connect-src sources: host sources and schemes only, nothing that ends the directive. */
static bool valid_sources(const char *s)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == ' ' || c == ':' || c == '/' || c == '.' || c == '-' || c == '*' ||
                  c == '_' || c == '[' || c == ']';
        if (!ok)
            return false;
    }
    return true;
}

int gw_web_open(const struct gw_web_options *o, struct gw_web **out, struct gw_error *err)
{
    *out = NULL;
    size_t pl = o->prefix ? strlen(o->prefix) : 0;
    if (!o->dir || !*o->dir)
        return GW_ERROR_SET(err, GW_EINVAL, "no asset directory");
    if (pl < 2 || o->prefix[0] != '/' || o->prefix[pl - 1] != '/')
        return GW_ERROR_SET(err, GW_EINVAL, "the URL prefix must start and end with '/'");
    const char *cs = o->connect_src ? o->connect_src : "";
    if (strlen(cs) > CONNECT_SRC_MAX || !valid_sources(cs))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "GW_ADMIN_UI_CONNECT_SRC must be space-separated origins (e.g. "
                            "https://login.example.com), at most %d characters",
                            CONNECT_SRC_MAX);
    int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        char eb[128];
        return GW_ERROR_SET(err, GW_EIO, "cannot open the asset directory %s: %s", o->dir,
                            gw_strerror(errno, eb, sizeof(eb)));
    }
    struct gw_web *w = gw_xcalloc(1, sizeof(*w));
    w->prefix = gw_xstrdup(o->prefix);
    w->root = gw_xstrndup(o->prefix, pl - 1);
    int rc = walk(w, dfd, "", 0, err);
    if (rc == GW_OK) {
        if (w->n) /* an empty directory has no array (qsort must not get NULL) */
            qsort(w->a, w->n, sizeof(*w->a), cmp_asset);
        attach_variants(w);
        w->index = find(w, "index.html");
        if (!w->index)
            rc = GW_ERROR_SET(err, GW_EINVAL,
                              "%s has no index.html (build the console: npm run build in "
                              "ui/admin)",
                              o->dir);
    }
    if (rc == GW_OK) {
        /* no inline script or style anywhere: the build emits files only */
        snprintf(w->csp, sizeof(w->csp),
                 "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                 "font-src 'self'; connect-src 'self'%s%s; manifest-src 'self'; "
                 "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
                 *cs ? " " : "", cs);
        *out = w;
        return GW_OK;
    }
    gw_web_free(w);
    return rc;
}

size_t gw_web_count(const struct gw_web *w, size_t *out_bytes)
{
    if (out_bytes)
        *out_bytes = w ? w->bytes : 0;
    return w ? w->n : 0;
}

void gw_web_free(struct gw_web *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++) {
        gw_free(w->a[i].name);
        gw_free(w->a[i].body);
        gw_free(w->a[i].gz);
    }
    gw_free(w->a);
    gw_free(w->prefix);
    gw_free(w->root);
    gw_free(w);
}

/* ---- serving ----------------------------------------------------------------------------- */

static void security_headers(struct gw_http_req *r, const struct gw_web *w)
{
    gw_http_add_header(r, "Content-Security-Policy", w->csp);
    gw_http_add_header(r, "X-Content-Type-Options", "nosniff");
    gw_http_add_header(r, "Referrer-Policy", "no-referrer");
    gw_http_add_header(r, "X-Frame-Options", "DENY");
    gw_http_add_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    gw_http_add_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

static void refuse(struct gw_http_req *r, const struct gw_web *w, int status, const char *code,
                   const char *msg)
{
    security_headers(r, w);
    gw_http_add_header(r, "Cache-Control", "no-store");
    gw_http_reply_error(r, status, code, msg);
}

/* A name that is a file of the build rather than a client-side route: missing ones are 404
 * (a stale chunk must not get index.html back). */
static bool looks_like_file(const char *name)
{
    if (strncmp(name, "assets/", 7) == 0)
        return true;
    return strcmp(gw_web_content_type(name), "application/octet-stream") != 0;
}

static void web_handle(struct gw_http_req *r, void *arg)
{
    const struct gw_web *w = arg;
    enum gw_http_method m = gw_http_method(r);
    if (m != GW_HTTP_GET && m != GW_HTTP_HEAD) {
        gw_http_add_header(r, "Allow", "GET, HEAD");
        refuse(r, w, 405, "method_not_allowed", "the console's files answer GET and HEAD only");
        return;
    }
    char name[GW_WEB_PATH_MAX + 1];
    struct gw_error err = {0};
    int rc = gw_web_resolve(gw_http_path(r), w->prefix, name, sizeof(name), &err);
    if (rc != GW_OK) {
        refuse(r, w, rc == GW_ENOTFOUND ? 404 : 400, rc == GW_ENOTFOUND ? "not_found" : "invalid",
               rc == GW_ENOTFOUND ? "no such file" : err.msg);
        return;
    }
    const struct asset *a = *name ? find(w, name) : w->index;
    if (!a) {
        if (looks_like_file(name)) {
            refuse(r, w, 404, "not_found", "no such file");
            return;
        }
        a = w->index; /* a client-side route: the app routes itself */
    }
    bool gz = a->gz && gw_web_accepts_gzip(gw_http_header(r, "Accept-Encoding"));
    const char *etag = gz ? a->gz_etag : a->etag;
    security_headers(r, w);
    gw_http_add_header(r, "ETag", etag);
    gw_http_add_header(r, "Cache-Control",
                       a->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (a->gz)
        gw_http_add_header(r, "Vary", "Accept-Encoding");
    if (gw_web_etag_matches(gw_http_header(r, "If-None-Match"), etag)) {
        gw_http_reply(r, 304, NULL, NULL, 0);
        return;
    }
    if (gz)
        gw_http_add_header(r, "Content-Encoding", "gzip");
    if (m == GW_HTTP_HEAD) { /* headers only (the HTTP layer sends what it is given) */
        gw_http_reply(r, 200, a->type, NULL, 0);
        return;
    }
    gw_http_reply(r, 200, a->type, gz ? a->gz : a->body, gz ? a->gz_len : a->len);
}

static void web_redirect(struct gw_http_req *r, void *arg)
{
    const struct gw_web *w = arg;
    security_headers(r, w);
    gw_http_add_header(r, "Location", w->prefix);
    gw_http_reply(r, 308, "text/plain; charset=utf-8", "", 0);
}

void gw_web_attach(struct gw_web *w, struct gw_server *srv)
{
    char pat[GW_WEB_PATH_MAX + 2];
    snprintf(pat, sizeof(pat), "%s*", w->prefix);
    gw_server_route(srv, w->root, web_redirect, w);
    gw_server_route(srv, pat, web_handle, w);
}
