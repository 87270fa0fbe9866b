/*
 * src/schema/schema_uri.c
 * URI reference resolution (RFC 3986 section 5.2) and JSON Pointer (RFC 6901) for `$id`/`$ref`.
 *
 * Written here rather than taken from libcurl's URL API because schema identifiers are often
 * not URLs (urn:uuid:..., tag:, relative names with no base at all) and must not be normalised
 * beyond what RFC 3986 prescribes (dot-segment removal); an empty base is allowed and then a
 * relative reference resolves to itself. All results are arena strings owned by the caller's
 * compiled schema. Pure functions, no I/O, thread-safe.
 */
#include "schema/schema_int.h"

#include <string.h>

/* The five components of a URI reference (RFC 3986 section 3), as slices of the input;
 * has_* distinguish "absent" from "empty" (e.g. "http://x?" has an empty query). */
struct uri {
    const char *scheme, *auth, *path, *query, *frag;
    size_t nscheme, nauth, npath, nquery, nfrag;
    bool has_scheme, has_auth, has_query, has_frag;
};

/* ASCII letter (scheme names are ASCII). */
static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 3986 appendix B split (the regular expression written out): never fails. */
static void parse(const char *s, struct uri *u)
{
    memset(u, 0, sizeof(*u));
    const char *p = s;
    /* scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
    if (is_alpha(*p)) {
        const char *q = p + 1;
        while (is_alpha(*q) || (*q >= '0' && *q <= '9') || *q == '+' || *q == '-' || *q == '.')
            q++;
        if (*q == ':') {
            u->has_scheme = true;
            u->scheme = p;
            u->nscheme = (size_t)(q - p);
            p = q + 1;
        }
    }
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        u->has_auth = true;
        u->auth = p;
        while (*p && *p != '/' && *p != '?' && *p != '#')
            p++;
        u->nauth = (size_t)(p - u->auth);
    }
    u->path = p;
    while (*p && *p != '?' && *p != '#')
        p++;
    u->npath = (size_t)(p - u->path);
    if (*p == '?') {
        u->has_query = true;
        u->query = ++p;
        while (*p && *p != '#')
            p++;
        u->nquery = (size_t)(p - u->query);
    }
    if (*p == '#') {
        u->has_frag = true;
        u->frag = ++p;
        u->nfrag = strlen(p);
    }
}

/* RFC 3986 5.2.4, in place over a NUL-terminated path: the output never overtakes the input
 * because every step writes at most what it consumed. `in` is rewritten by "replace the prefix
 * with '/'" steps, which is why p may step back by one onto a byte it turns into '/'. */
static void remove_dots(char *buf)
{
    char *p = buf;   /* input cursor */
    size_t o = 0;    /* output length, output lives at buf[0..o) */
    while (*p) {
        if (strncmp(p, "../", 3) == 0) {
            p += 3;
        } else if (strncmp(p, "./", 2) == 0) {
            p += 2;
        } else if (strncmp(p, "/./", 3) == 0) {
            p += 2;
        } else if (strcmp(p, "/.") == 0) {
            p += 1;
            *p = '/';
        } else if (strncmp(p, "/../", 4) == 0 || strcmp(p, "/..") == 0) {
            if (p[3] == '\0') {
                p += 2;
                *p = '/';
            } else {
                p += 3;
            }
            while (o > 0 && buf[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
            break;
        } else {
            do {
                buf[o++] = *p++;
            } while (*p && *p != '/');
        }
    }
    buf[o] = '\0';
}

/* RFC 3986 section 5.2.2 "Transform References", strict form: a reference with a scheme is
 * taken as it is; one with an authority keeps only its own path/query; an empty path keeps
 * the base's path (and query unless the reference has one); an absolute path replaces the
 * base's; a relative path is merged with the base's directory (5.2.3). Dot segments are then
 * removed from hierarchical paths. The fragment always comes from the reference. Both output
 * buffers are sized from the two inputs: a result never exceeds their combined length. */
char *gw_schema__uri_resolve(struct gw_arena *a, const char *base, const char *ref)
{
    struct uri b, r;
    parse(base ? base : "", &b);
    parse(ref ? ref : "", &r);
    size_t cap = strlen(base ? base : "") + strlen(ref ? ref : "") + 8;
    char *path = gw_arena_alloc(a, cap);
    char *out = gw_arena_alloc(a, cap + 8);
    if (!path || !out)
        return NULL;
    const struct uri *auth_from, *query_from;
    const struct uri *scheme_from = r.has_scheme ? &r : &b;
    path[0] = '\0';
    if (r.has_scheme) {
        auth_from = &r;
        query_from = &r;
        memcpy(path, r.path, r.npath);
        path[r.npath] = '\0';
    } else if (r.has_auth) {
        auth_from = &r;
        query_from = &r;
        memcpy(path, r.path, r.npath);
        path[r.npath] = '\0';
    } else {
        auth_from = &b;
        if (r.npath == 0) {
            memcpy(path, b.path, b.npath);
            path[b.npath] = '\0';
            query_from = r.has_query ? &r : &b;
        } else {
            query_from = &r;
            if (r.path[0] == '/') {
                memcpy(path, r.path, r.npath);
                path[r.npath] = '\0';
            } else {
                size_t n = 0;
                if (b.has_auth && b.npath == 0) {
                    path[n++] = '/';
                } else {
                    const char *slash = NULL;
                    for (size_t i = 0; i < b.npath; i++)
                        if (b.path[i] == '/')
                            slash = b.path + i;
                    if (slash) {
                        n = (size_t)(slash - b.path) + 1;
                        memcpy(path, b.path, n);
                    } else if (b.has_scheme && !b.has_auth && b.npath > 0) {
                        /* non-hierarchical base (urn:...): keep nothing of its path */
                        n = 0;
                    }
                }
                memcpy(path + n, r.path, r.npath);
                path[n + r.npath] = '\0';
            }
        }
    }
    /* dot segments only mean something in hierarchical paths */
    /* "urn:a/../b" is opaque: only paths under an authority or starting with '/' are
     * hierarchical */
    if (path[0] == '/' || auth_from->has_auth)
        remove_dots(path);
    /* recompose (5.3): scheme ":" "//" authority path "?" query "#" fragment */
    size_t o = 0;
    if (scheme_from->has_scheme) {
        memcpy(out + o, scheme_from->scheme, scheme_from->nscheme);
        o += scheme_from->nscheme;
        out[o++] = ':';
    }
    if (auth_from->has_auth) {
        out[o++] = '/';
        out[o++] = '/';
        memcpy(out + o, auth_from->auth, auth_from->nauth);
        o += auth_from->nauth;
    }
    size_t np = strlen(path);
    memcpy(out + o, path, np);
    o += np;
    if (query_from->has_query) {
        out[o++] = '?';
        memcpy(out + o, query_from->query, query_from->nquery);
        o += query_from->nquery;
    }
    if (r.has_frag) {
        out[o++] = '#';
        memcpy(out + o, r.frag, r.nfrag);
        o += r.nfrag;
    }
    out[o] = '\0';
    return out;
}

/* Hex digit value or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The fragment is percent-decoded here because both of its uses want the decoded text:
 * anchor names, and JSON Pointers ("#/$defs/a%25b" names the key "a%b"). */
char *gw_schema__uri_split(struct gw_arena *a, const char *uri, char **frag)
{
    const char *hash = strchr(uri, '#');
    size_t n = hash ? (size_t)(hash - uri) : strlen(uri);
    char *u = gw_arena_strndup(a, uri, n);
    if (!u)
        return NULL;
    *frag = NULL;
    if (!hash)
        return u;
    const char *f = hash + 1;
    size_t fl = strlen(f);
    char *d = gw_arena_alloc(a, fl + 1);
    if (!d)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < fl; i++) {
        if (f[i] == '%' && i + 2 < fl && hexval(f[i + 1]) >= 0 && hexval(f[i + 2]) >= 0) {
            d[o++] = (char)(hexval(f[i + 1]) * 16 + hexval(f[i + 2]));
            i += 2;
        } else {
            d[o++] = f[i];
        }
    }
    d[o] = '\0';
    *frag = d;
    return u;
}

/* Tokens are unescaped into a bounded buffer (a token longer than 1 KiB cannot name a key we
 * would accept anyway); array tokens must be canonical decimal indexes ("01" is not 1). */
json_t *gw_schema__json_pointer(json_t *root, const char *ptr)
{
    if (!ptr || !*ptr)
        return root;
    if (*ptr != '/')
        return NULL;
    json_t *cur = root;
    const char *p = ptr;
    char tok[1024];
    while (*p == '/' && cur) {
        p++;
        size_t n = 0;
        while (*p && *p != '/') {
            char c = *p++;
            if (c == '~') {
                if (*p == '0')
                    c = '~';
                else if (*p == '1')
                    c = '/';
                else
                    return NULL;
                p++;
            }
            if (n + 1 >= sizeof(tok))
                return NULL;
            tok[n++] = c;
        }
        tok[n] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_getn(cur, tok, n);
        } else if (json_is_array(cur)) {
            if (n == 0 || (n > 1 && tok[0] == '0'))
                return NULL;
            size_t idx = 0;
            for (size_t i = 0; i < n; i++) {
                if (tok[i] < '0' || tok[i] > '9' || idx > (SIZE_MAX - 9) / 10)
                    return NULL;
                idx = idx * 10 + (size_t)(tok[i] - '0');
            }
            cur = json_array_get(cur, idx);
        } else {
            return NULL;
        }
    }
    return cur;
}

/* Copies runs of ordinary bytes in one call and escapes '~' then '/' (RFC 6901 order). */
int gw_schema__ptr_escape(struct gw_buf *out, const char *s, size_t n)
{
    int rc = GW_OK;
    size_t start = 0;
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        if (s[i] != '~' && s[i] != '/')
            continue;
        rc = gw_buf_add(out, s + start, i - start);
        if (rc == GW_OK)
            rc = gw_buf_adds(out, s[i] == '~' ? "~0" : "~1");
        start = i + 1;
    }
    if (rc == GW_OK)
        rc = gw_buf_add(out, s + start, n - start);
    return rc;
}
