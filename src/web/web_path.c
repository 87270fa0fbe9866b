/*
 * src/web/web_path.c
 * The pure rules of the static-file server: how a URL path maps to an asset name (and which
 * spellings are refused), content types, and the Accept-Encoding / If-None-Match checks.
 * No I/O, no allocation; unit-tested directly (tests/unit/web/test_web.c), including the
 * traversal spellings that must be refused.
 */
#include "web/web.h"

#include "core/str.h"

#include <string.h>
#include <strings.h>

/* Characters allowed in a segment: what Vite emits and client-side routes use. */
static bool seg_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-' || c == '~';
}

int gw_web_resolve(const char *path, const char *prefix, char *out, size_t size,
                   struct gw_error *err)
{
    if (size)
        out[0] = '\0';
    size_t plen = strlen(prefix);
    if (!path || strncmp(path, prefix, plen) != 0)
        return GW_ENOTFOUND;
    const char *p = path + plen;
    size_t n = strlen(p);
    if (n > GW_WEB_PATH_MAX || n >= size)
        return GW_ERROR_SET(err, GW_EINVAL, "path longer than %d characters", GW_WEB_PATH_MAX);
    int depth = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != '/') {
            unsigned char c = (unsigned char)p[j];
            if (c == '\\' || c == '%' || c < 0x20 || c >= 0x7f)
                return GW_ERROR_SET(err, GW_EINVAL, "path has a forbidden character (0x%02x)",
                                    c);
            if (!seg_char(c))
                return GW_ERROR_SET(err, GW_EINVAL,
                                    "path has a character outside A-Z a-z 0-9 . _ ~ -");
            j++;
        }
        if (j == i)
            return GW_ERROR_SET(err, GW_EINVAL, "path has an empty segment");
        if (p[i] == '.')
            return GW_ERROR_SET(err, GW_EINVAL,
                                "path has a segment starting with '.' (\".\", \"..\" or a "
                                "hidden file)");
        if (++depth > GW_WEB_DEPTH_MAX)
            return GW_ERROR_SET(err, GW_EINVAL, "path deeper than %d segments", GW_WEB_DEPTH_MAX);
        i = j + 1; /* past the '/'; a trailing slash ends the loop ("tools/": a client route) */
    }
    memcpy(out, p, n + 1);
    if (n && out[n - 1] == '/')
        out[n - 1] = '\0';
    return GW_OK;
}

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain; charset=utf-8"},
};

const char *gw_web_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* Walks a comma-separated header list; calls back with each trimmed element. */
static bool each_elem(const char *v, bool (*fn)(struct gw_str e, const void *arg),
                      const void *arg)
{
    if (!v)
        return false;
    const char *p = v;
    while (*p) {
        const char *q = strchr(p, ',');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (fn(gw_str_trim((struct gw_str){p, n}), arg))
            return true;
        if (!q)
            break;
        p = q + 1;
    }
    return false;
}

/* "gzip;q=0.5" -> accepted unless q is zero. */
static bool gzip_elem(struct gw_str e, const void *arg)
{
    (void)arg;
    size_t k = 0;
    while (k < e.n && e.p[k] != ';')
        k++;
    struct gw_str coding = gw_str_trim((struct gw_str){e.p, k});
    if (!gw_str_eq_c(coding, "gzip") && !gw_str_eq_c(coding, "*") &&
        !gw_str_eq_c(coding, "GZIP") && !gw_str_eq_c(coding, "x-gzip"))
        return false;
    /* parameters: look for q=0, q=0.0, q=0.00 ... */
    while (k < e.n) {
        size_t s = k + 1;
        size_t t = s;
        while (t < e.n && e.p[t] != ';')
            t++;
        struct gw_str prm = gw_str_trim((struct gw_str){e.p + s, t - s});
        if (prm.n >= 2 && (prm.p[0] == 'q' || prm.p[0] == 'Q') && prm.p[1] == '=') {
            bool zero = prm.n > 2;
            for (size_t x = 2; x < prm.n; x++)
                if (prm.p[x] != '0' && prm.p[x] != '.')
                    zero = false;
            if (zero)
                return false;
        }
        k = t;
    }
    return true;
}

bool gw_web_accepts_gzip(const char *accept_encoding)
{
    return each_elem(accept_encoding, gzip_elem, NULL);
}

static bool etag_elem(struct gw_str e, const void *arg)
{
    const char *etag = arg;
    if (gw_str_eq_c(e, "*"))
        return true;
    if (e.n >= 2 && e.p[0] == 'W' && e.p[1] == '/') {
        e.p += 2;
        e.n -= 2;
    }
    return gw_str_eq_c(e, etag);
}

bool gw_web_etag_matches(const char *if_none_match, const char *etag)
{
    return each_elem(if_none_match, etag_elem, etag);
}
