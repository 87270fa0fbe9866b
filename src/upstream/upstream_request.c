/*
 * src/upstream/upstream_request.c
 * Request building from binding + arguments (see the header for the invariants).
 *
 * Serialisation follows OpenAPI 3.x "style"/"explode":
 *   path   simple (default) | label | matrix
 *   query  form (default, explode default true) | spaceDelimited | pipeDelimited | deepObject
 *   header simple;  cookie form
 * Delimiters that are not RFC 3986 unreserved are sent percent-encoded (" " = %20, "|" = %7C,
 * "[" "]" = %5B %5D), the comma of non-exploded lists is sent literally. Scalars are the JSON
 * text of numbers/booleans and the raw text of strings; null arguments count as absent.
 * Limits: URL 8 KiB (configurable), headers 64 / 16 KiB, body 4 MiB (configurable), list items
 * 1000, deepObject nesting 8.
 */
#include "upstream/upstream_request.h"

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_URL 8192u
#define DEFAULT_MAX_BODY (4u * 1024u * 1024u)
#define MAX_HEADERS 64u
#define MAX_HEADER_BYTES 16384u
#define MAX_ITEMS 1000u
#define MAX_DEEP 8
#define MAX_PARTS 256u

/* Framing and hop-by-hop headers: never settable by arguments. */
static const char *const reserved_headers[] = {
    "host", "content-length", "transfer-encoding", "connection", "keep-alive",
    "proxy-connection", "te", "trailer", "upgrade", "expect", "content-type",
    "content-encoding", "http2-settings"};

/* Headers that carry credentials or identity: settable only with allowCredentialHeader. */
static const char *const credential_headers[] = {
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
    "apikey", "ocp-apim-subscription-key", "x-auth-token", "x-access-token", "x-csrf-token",
    "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip",
    "x-user-id", "x-user-context", "x-client-id"};

/* Case-insensitive membership in a list of header names. */
static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(name, list[i]) == 0)
            return true;
    return false;
}

bool gw_upstream_header_is_reserved(const char *name)
{
    return in_list(name, reserved_headers, sizeof(reserved_headers) / sizeof(*reserved_headers));
}

bool gw_upstream_header_is_credential(const char *name)
{
    return in_list(name, credential_headers,
                   sizeof(credential_headers) / sizeof(*credential_headers));
}

/* RFC 3986 unreserved characters: the only ones never percent-encoded. */
static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 9110 token character. */
static bool is_tchar(unsigned char c)
{
    return is_unreserved(c) || (c && strchr("!#$%&'*+^`|", c) != NULL);
}

int gw_upstream_pct_encode(struct gw_buf *out, const char *s, size_t n, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (is_unreserved(c) || (keep && c && strchr(keep, c))) {
            rc = gw_buf_addc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = gw_buf_add(out, e, 3);
        }
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

/* ---- scalars ---- */

/* The text of a scalar argument: raw string, JSON number/boolean. Points into v or tmp. */
static int scalar_text(const json_t *v, char *tmp, size_t tmpn, const char **out, size_t *outn)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        /* a big number (core/json.h) travels as its exact literal */
        *out = gw_json_bignum_text(v, outn);
        if (*out)
            return GW_OK;
        *out = json_string_value(v);
        *outn = json_string_length(v);
        return GW_OK;
    case JSON_INTEGER:
        snprintf(tmp, tmpn, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(tmp, tmpn, "%.17g", json_real_value(v));
        /* prefer the shortest text that reads back to the same double */
        for (int prec = 1; prec < 17; prec++) {
            char t[64];
            snprintf(t, sizeof(t), "%.*g", prec, json_real_value(v));
            if (strtod(t, NULL) == json_real_value(v)) {
                gw_strlcpy(tmp, tmpn, t);
                break;
            }
        }
        break;
    case JSON_TRUE:
        snprintf(tmp, tmpn, "true");
        break;
    case JSON_FALSE:
        snprintf(tmp, tmpn, "false");
        break;
    default:
        return GW_EINVAL;
    }
    *out = tmp;
    *outn = strlen(tmp);
    return GW_OK;
}

/* True when s contains a control character (tab allowed on request for header values). */
static bool has_ctl(const char *s, size_t n, bool allow_tab)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f)
            return true;
    }
    return false;
}

/* Value of a hex digit, -1 if c is not one. */
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

/* Percent-decodes s repeatedly (up to 3 rounds, as double-decoding servers would) and reports
 * whether any round yields ".", ".." or contains CR, LF or NUL. */
static bool decodes_to_danger(const char *s, size_t n)
{
    char *a = gw_xstrndup(s, n);
    size_t len = n;
    bool danger = false;
    for (int round = 0; round < 3 && !danger; round++) {
        size_t j = 0;
        bool changed = false;
        for (size_t i = 0; i < len; i++) {
            int h, l;
            if (a[i] == '%' && i + 2 < len && (h = hexval(a[i + 1])) >= 0 &&
                (l = hexval(a[i + 2])) >= 0) {
                a[j++] = (char)(h * 16 + l);
                i += 2;
                changed = true;
            } else {
                a[j++] = a[i];
            }
        }
        len = j;
        if ((len == 1 && a[0] == '.') || (len == 2 && a[0] == '.' && a[1] == '.'))
            danger = true;
        for (size_t i = 0; i < len && !danger; i++)
            if (a[i] == '\r' || a[i] == '\n' || a[i] == '\0')
                danger = true;
        if (!changed)
            break;
    }
    gw_free(a);
    return danger;
}

/* True when the built path (n bytes, starting with '/') has a segment that is, or decodes to,
 * "." or ".." once its matrix parameters (";...") are cut off: "/..;x/" is treated as ".." by
 * some servers (Tomcat), and literal template text can produce it next to a placeholder. */
static bool path_has_dot_segment(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t start = ++i; /* skip '/' */
        while (i < n && p[i] != '/')
            i++;
        size_t len = 0;
        while (start + len < i && p[start + len] != ';')
            len++;
        const char *seg = p + start;
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return true;
        if (len >= 3 && memchr(seg, '%', len) && decodes_to_danger(seg, len))
            return true;
    }
    return false;
}

/* ---- path ---- */

/* Characters a path value with allowReserved (RFC 6570 reserved expansion, OpenAPI "{+name}"
 * as Google's APIs write it) keeps literally: the pchar delimiters and "/", never ? # [ ] %. */
#define PATH_RESERVED_KEEP "/:@!$&'()*+,;="

/* Whether a reserved-expansion value has a "." or ".." segment (it would walk the path); a
 * segment's path parameters (";x", which Tomcat strips) do not hide one. */
static bool has_dot_segment(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '/')
            continue;
        const char *semi = memchr(s + start, ';', i - start);
        size_t len = semi ? (size_t)(semi - (s + start)) : i - start;
        if ((len == 1 && s[start] == '.') || (len == 2 && s[start] == '.' && s[start + 1] == '.'))
            return true;
        start = i + 1;
    }
    return false;
}

static int path_scalar(struct gw_buf *out, const json_t *v, const char *arg, bool reserved,
                       struct gw_error *err)
{
    char tmp[64];
    const char *s;
    size_t n;
    if (scalar_text(v, tmp, sizeof(tmp), &s, &n) != GW_OK)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "argument '%s': nested arrays/objects cannot be sent in the path", arg);
    if (n == 0)
        return GW_ERROR_SET(err, GW_EINVAL, "argument '%s': a path parameter cannot be empty",
                            arg);
    if (memchr(s, '\r', n) || memchr(s, '\n', n) || memchr(s, '\0', n))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "argument '%s': CR, LF and NUL are not allowed in path parameters",
                            arg);
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') ||
        decodes_to_danger(s, n) || (reserved && has_dot_segment(s, n)))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "argument '%s': '.' and '..' (also percent-encoded) are not allowed "
                            "as path parameters or their segments",
                            arg);
    int rc = gw_upstream_pct_encode(out, s, n, reserved ? PATH_RESERVED_KEEP : NULL);
    return rc == GW_OK ? rc : GW_ERROR_SET(err, rc, "URL too long");
}

/* A path parameter in its style: simple "a,b", label ".a.b" / ".a,b", matrix ";n=a;n=b" /
 * ";n=a,b"; objects as "k,v" or "k=v" pairs. */
static int path_value(struct gw_buf *out, const char *style, bool explode, bool reserved,
                      const char *pname, const json_t *v, const char *arg, struct gw_error *err)
{
    bool label = strcmp(style, "label") == 0, matrix = strcmp(style, "matrix") == 0;
    char lead = label ? '.' : matrix ? ';' : 0;
    char sep = explode ? (label ? '.' : matrix ? ';' : ',') : ',';
    int rc = GW_OK;
    if (json_is_array(v)) {
        size_t i;
        json_t *it;
        if (json_array_size(v) > MAX_ITEMS)
            return GW_ERROR_SET(err, GW_ELIMIT, "argument '%s': too many items", arg);
        if (json_array_size(v) == 0)
            return GW_ERROR_SET(err, GW_EINVAL, "argument '%s': a path list cannot be empty", arg);
        json_array_foreach(v, i, it) {
            if (i == 0 && lead)
                rc = gw_buf_addc(out, lead);
            else if (i > 0)
                rc = gw_buf_addc(out, sep);
            if (rc == GW_OK && matrix && (explode || i == 0))
                rc = gw_buf_printf(out, "%s=", pname);
            if (rc == GW_OK)
                rc = path_scalar(out, it, arg, reserved, err);
            if (rc != GW_OK)
                return rc;
        }
        return GW_OK;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *it;
        bool first = true;
        if (json_object_size(v) == 0)
            return GW_ERROR_SET(err, GW_EINVAL, "argument '%s': a path object cannot be empty",
                                arg);
        if (lead)
            rc = gw_buf_addc(out, lead);
        if (rc == GW_OK && matrix && !explode)
            rc = gw_buf_printf(out, "%s=", pname);
        json_object_foreach((json_t *)v, k, it) {
            json_t *key = json_string(k);
            if (rc == GW_OK && !first)
                rc = gw_buf_addc(out, sep);
            if (rc == GW_OK)
                rc = path_scalar(out, key, arg, reserved, err);
            if (rc == GW_OK)
                rc = gw_buf_addc(out, explode ? '=' : ',');
            if (rc == GW_OK)
                rc = path_scalar(out, it, arg, reserved, err);
            json_decref(key);
            if (rc != GW_OK)
                return rc;
            first = false;
        }
        return GW_OK;
    }
    if (lead)
        rc = gw_buf_addc(out, lead);
    if (rc == GW_OK && matrix)
        rc = gw_buf_printf(out, "%s=", pname);
    if (rc == GW_OK)
        rc = path_scalar(out, v, arg, reserved, err);
    return rc;
}

/* ---- query ---- */

#define ALLOW_RESERVED_KEEP ":/?[]@!$'()*,;"

struct query {
    struct gw_buf *q;
    const char *keep; /* allowReserved characters, or NULL */
};

/* Separator before the next query pair ('&' unless the query is empty). */
static int q_sep(struct query *qs)
{
    return gw_buf_len(qs->q) ? gw_buf_addc(qs->q, '&') : GW_OK;
}

/* The encoded text of one scalar query value. */
static int q_text(struct query *qs, const json_t *v, const char *arg, struct gw_error *err)
{
    char tmp[64];
    const char *s;
    size_t n;
    if (scalar_text(v, tmp, sizeof(tmp), &s, &n) != GW_OK)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "argument '%s': nested arrays/objects need style deepObject", arg);
    return gw_upstream_pct_encode(qs->q, s, n, qs->keep);
}

/* Appends name=value (both encoded). */
static int q_pair(struct query *qs, const char *name, const json_t *v, const char *arg,
                  struct gw_error *err)
{
    int rc = q_sep(qs);
    if (rc == GW_OK)
        rc = gw_upstream_pct_encode(qs->q, name, strlen(name), NULL);
    if (rc == GW_OK)
        rc = gw_buf_addc(qs->q, '=');
    if (rc == GW_OK)
        rc = q_text(qs, v, arg, err);
    return rc;
}

/* deepObject: name[k1][k2]=v (brackets percent-encoded), arrays repeat the key. `prefix` is
 * the already-encoded key so far. */
static int q_deep(struct query *qs, const char *prefix, size_t plen, const json_t *v, int depth,
                  const char *arg, struct gw_error *err)
{
    if (depth > MAX_DEEP)
        return GW_ERROR_SET(err, GW_ELIMIT, "argument '%s': nested deeper than %d", arg, MAX_DEEP);
    int rc = GW_OK;
    if (json_is_object(v)) {
        const char *k;
        json_t *it;
        json_object_foreach((json_t *)v, k, it) {
            struct gw_buf child;
            gw_buf_init(&child, DEFAULT_MAX_URL);
            rc = gw_buf_add(&child, prefix, plen);
            if (rc == GW_OK)
                rc = gw_buf_adds(&child, "%5B");
            if (rc == GW_OK)
                rc = gw_upstream_pct_encode(&child, k, strlen(k), NULL);
            if (rc == GW_OK)
                rc = gw_buf_adds(&child, "%5D");
            if (rc == GW_OK)
                rc = q_deep(qs, gw_buf_ptr(&child), gw_buf_len(&child), it, depth + 1, arg, err);
            gw_buf_fini(&child);
            if (rc != GW_OK)
                return rc;
        }
        return GW_OK;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *it;
        if (json_array_size(v) > MAX_ITEMS)
            return GW_ERROR_SET(err, GW_ELIMIT, "argument '%s': too many items", arg);
        json_array_foreach(v, i, it) {
            if (json_is_null(it))
                continue;
            rc = q_deep(qs, prefix, plen, it, depth + 1, arg, err);
            if (rc != GW_OK)
                return rc;
        }
        return GW_OK;
    }
    if (json_is_null(v))
        return GW_OK;
    rc = q_sep(qs);
    if (rc == GW_OK)
        rc = gw_buf_add(qs->q, prefix, plen);
    if (rc == GW_OK)
        rc = gw_buf_addc(qs->q, '=');
    if (rc == GW_OK)
        rc = q_text(qs, v, arg, err);
    return rc;
}

/* A query parameter in its style and explode mode (see the table in docs/upstream.md). */
static int query_value(struct query *qs, const char *style, bool explode, const char *name,
                       const json_t *v, const char *arg, struct gw_error *err)
{
    int rc = GW_OK;
    if (strcmp(style, "deepObject") == 0 && json_is_object(v)) {
        struct gw_buf prefix;
        gw_buf_init(&prefix, DEFAULT_MAX_URL);
        rc = gw_upstream_pct_encode(&prefix, name, strlen(name), NULL);
        if (rc == GW_OK)
            rc = q_deep(qs, gw_buf_ptr(&prefix), gw_buf_len(&prefix), v, 0, arg, err);
        gw_buf_fini(&prefix);
        return rc;
    }
    const char *delim = strcmp(style, "spaceDelimited") == 0   ? "%20"
                        : strcmp(style, "pipeDelimited") == 0 ? "%7C"
                        : strcmp(style, "tabDelimited") == 0  ? "%09"
                                                               : ",";
    if (json_is_array(v)) {
        size_t i;
        json_t *it;
        if (json_array_size(v) > MAX_ITEMS)
            return GW_ERROR_SET(err, GW_ELIMIT, "argument '%s': too many items", arg);
        if (explode) {
            json_array_foreach(v, i, it) {
                if (!json_is_null(it) && (rc = q_pair(qs, name, it, arg, err)) != GW_OK)
                    return rc;
            }
            return GW_OK;
        }
        rc = q_sep(qs);
        if (rc == GW_OK)
            rc = gw_upstream_pct_encode(qs->q, name, strlen(name), NULL);
        if (rc == GW_OK)
            rc = gw_buf_addc(qs->q, '=');
        json_array_foreach(v, i, it) {
            if (rc == GW_OK && i > 0)
                rc = gw_buf_adds(qs->q, delim);
            if (rc == GW_OK)
                rc = q_text(qs, it, arg, err);
        }
        return rc;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *it;
        if (explode) {
            json_object_foreach((json_t *)v, k, it) {
                if (!json_is_null(it) && (rc = q_pair(qs, k, it, arg, err)) != GW_OK)
                    return rc;
            }
            return GW_OK;
        }
        rc = q_sep(qs);
        if (rc == GW_OK)
            rc = gw_upstream_pct_encode(qs->q, name, strlen(name), NULL);
        if (rc == GW_OK)
            rc = gw_buf_addc(qs->q, '=');
        bool first = true;
        json_object_foreach((json_t *)v, k, it) {
            if (rc == GW_OK && !first)
                rc = gw_buf_adds(qs->q, delim);
            if (rc == GW_OK)
                rc = gw_upstream_pct_encode(qs->q, k, strlen(k), qs->keep);
            if (rc == GW_OK)
                rc = gw_buf_adds(qs->q, delim);
            if (rc == GW_OK)
                rc = q_text(qs, it, arg, err);
            first = false;
        }
        return rc;
    }
    return q_pair(qs, name, v, arg, err);
}

/* ---- headers and cookies ---- */

static bool valid_token(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return false;
    return true;
}

int gw_upstream_req_add_header(struct gw_upstream_req *r, const char *name, const char *value,
                               struct gw_error *err)
{
    if (!valid_token(name))
        return GW_ERROR_SET(err, GW_EINVAL, "invalid header name");
    size_t vl = strlen(value);
    if (has_ctl(value, vl, true))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "header '%s': control characters (CR, LF, NUL) are not allowed", name);
    size_t nl = strlen(name);
    if (r->nheaders >= MAX_HEADERS || r->header_bytes + nl + vl + 2 > MAX_HEADER_BYTES)
        return GW_ERROR_SET(err, GW_ELIMIT, "too many or too large request headers");
    if (r->nheaders == r->_cap) {
        r->_cap = r->_cap ? r->_cap * 2 : 8;
        r->headers = gw_xrealloc(r->headers, r->_cap * sizeof(char *));
    }
    char *line = gw_xmalloc(nl + vl + 3);
    memcpy(line, name, nl);
    memcpy(line + nl, ": ", 2);
    memcpy(line + nl + 2, value, vl + 1);
    r->headers[r->nheaders++] = line;
    r->header_bytes += nl + vl + 2;
    return GW_OK;
}

int gw_upstream_req_add_query(struct gw_upstream_req *r, const char *name, const char *value,
                              struct gw_error *err)
{
    struct gw_buf u;
    gw_buf_init(&u, DEFAULT_MAX_URL * 2);
    int rc = gw_buf_adds(&u, r->url ? r->url : "");
    if (rc == GW_OK)
        rc = gw_buf_addc(&u, r->url && strchr(r->url, '?') ? '&' : '?');
    if (rc == GW_OK)
        rc = gw_upstream_pct_encode(&u, name, strlen(name), NULL);
    if (rc == GW_OK)
        rc = gw_buf_addc(&u, '=');
    if (rc == GW_OK)
        rc = gw_upstream_pct_encode(&u, value, strlen(value), NULL);
    if (rc != GW_OK) {
        gw_buf_fini(&u);
        return GW_ERROR_SET(err, rc, "URL too long");
    }
    gw_free(r->url);
    r->url = gw_buf_take(&u, NULL);
    return GW_OK;
}

#define COOKIE_KEEP "!#$&'()*+/:<=>?@[]^`{|}"

int gw_upstream_req_add_cookie(struct gw_upstream_req *r, const char *name, const char *value,
                               struct gw_error *err)
{
    if (!valid_token(name))
        return GW_ERROR_SET(err, GW_EINVAL, "invalid cookie name");
    int rc = GW_OK;
    if (gw_buf_len(&r->cookie))
        rc = gw_buf_adds(&r->cookie, "; ");
    if (rc == GW_OK)
        rc = gw_buf_printf(&r->cookie, "%s=", name);
    if (rc == GW_OK)
        rc = gw_upstream_pct_encode(&r->cookie, value, strlen(value), COOKIE_KEEP);
    return rc == GW_OK ? rc : GW_ERROR_SET(err, rc, "cookies too large");
}

int gw_upstream_req_finish(struct gw_upstream_req *r, struct gw_error *err)
{
    if (!gw_buf_len(&r->cookie))
        return GW_OK;
    int rc = gw_upstream_req_add_header(r, "Cookie", gw_buf_ptr(&r->cookie), err);
    gw_buf_reset(&r->cookie);
    return rc;
}

/* Joins the items of an array/object argument for a header or cookie ("simple"/"form"). */
static int join_value(struct gw_buf *out, bool explode, const json_t *v, const char *arg,
                      struct gw_error *err)
{
    char tmp[64];
    const char *s;
    size_t n;
    int rc = GW_OK;
    if (json_is_array(v)) {
        size_t i;
        json_t *it;
        if (json_array_size(v) > MAX_ITEMS)
            return GW_ERROR_SET(err, GW_ELIMIT, "argument '%s': too many items", arg);
        json_array_foreach(v, i, it) {
            if (scalar_text(it, tmp, sizeof(tmp), &s, &n) != GW_OK)
                return GW_ERROR_SET(err, GW_EINVAL, "argument '%s': nested values not allowed",
                                    arg);
            if (i > 0)
                rc = gw_buf_addc(out, ',');
            if (rc == GW_OK)
                rc = gw_buf_add(out, s, n);
            if (rc != GW_OK)
                return GW_ERROR_SET(err, rc, "argument '%s': value too large", arg);
        }
        return GW_OK;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *it;
        bool first = true;
        json_object_foreach((json_t *)v, k, it) {
            if (scalar_text(it, tmp, sizeof(tmp), &s, &n) != GW_OK)
                return GW_ERROR_SET(err, GW_EINVAL, "argument '%s': nested values not allowed",
                                    arg);
            rc = gw_buf_printf(out, "%s%s%c", first ? "" : ",", k, explode ? '=' : ',');
            if (rc == GW_OK)
                rc = gw_buf_add(out, s, n);
            if (rc != GW_OK)
                return GW_ERROR_SET(err, rc, "argument '%s': value too large", arg);
            first = false;
        }
        return GW_OK;
    }
    if (scalar_text(v, tmp, sizeof(tmp), &s, &n) != GW_OK)
        return GW_ERROR_SET(err, GW_EINVAL, "argument '%s': unsupported value", arg);
    rc = gw_buf_add(out, s, n);
    return rc == GW_OK ? rc : GW_ERROR_SET(err, rc, "argument '%s': value too large", arg);
}

/* A header argument: refused for framing/hop-by-hop names always, for credential/identity
 * names unless the binding entry allows it, and for values with control characters. */
static int add_arg_header(struct gw_upstream_req *r, const json_t *entry, const char *name,
                          const json_t *v, const char *arg, const struct gw_upstream_build_opts *o,
                          struct gw_error *err)
{
    if (!valid_token(name))
        return GW_ERROR_SET(err, GW_EINVAL, "argument '%s': invalid header name", arg);
    if (gw_upstream_header_is_reserved(name))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "argument '%s' maps to header '%s', which tools may not set", arg,
                            name);
    bool allowed = json_is_true(json_object_get(entry, "allowCredentialHeader"));
    bool protected_name = gw_upstream_header_is_credential(name) ||
                          in_list(name, o->protected_headers, o->nprotected);
    if (protected_name && !allowed)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "argument '%s' maps to credential header '%s', which tools may not "
                            "set",
                            arg, name);
    struct gw_buf b;
    gw_buf_init(&b, MAX_HEADER_BYTES);
    int rc = join_value(&b, json_is_true(json_object_get(entry, "explode")), v, arg, err);
    if (rc == GW_OK && has_ctl(gw_buf_ptr(&b), gw_buf_len(&b), true))
        rc = GW_ERROR_SET(err, GW_EINVAL,
                          "argument '%s': CR, LF, NUL and control characters are not allowed in "
                          "header values",
                          arg);
    if (rc == GW_OK)
        rc = gw_upstream_req_add_header(r, name, gw_buf_ptr(&b), err);
    gw_buf_fini(&b);
    return rc;
}

/* A cookie argument (form style), encoded by gw_upstream_req_add_cookie. */
static int add_arg_cookie(struct gw_upstream_req *r, const json_t *entry, const char *name,
                          const json_t *v, const char *arg, struct gw_error *err)
{
    struct gw_buf b;
    gw_buf_init(&b, MAX_HEADER_BYTES);
    int rc = join_value(&b, json_is_true(json_object_get(entry, "explode")), v, arg, err);
    if (rc == GW_OK && memchr(gw_buf_ptr(&b), '\0', gw_buf_len(&b)))
        rc = GW_ERROR_SET(err, GW_EINVAL, "argument '%s': NUL not allowed", arg);
    if (rc == GW_OK)
        rc = gw_upstream_req_add_cookie(r, name, gw_buf_ptr(&b), err);
    gw_buf_fini(&b);
    return rc;
}

/* ---- bodies ---- */

enum body_kind { BODY_JSON, BODY_FORM, BODY_MULTIPART, BODY_TEXT, BODY_RAW };

/* Classifies a media type (parameters after ";" ignored). */
static enum body_kind body_kind(const char *ct)
{
    size_t n = strcspn(ct, ";");
    if ((n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
        (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0))
        return BODY_JSON;
    if (n == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
        return BODY_FORM;
    if (n == 19 && strncasecmp(ct, "multipart/form-data", 19) == 0)
        return BODY_MULTIPART;
    if (n >= 5 && strncasecmp(ct, "text/", 5) == 0)
        return BODY_TEXT;
    return BODY_RAW;
}

/* type/subtype made of token characters, optional parameters, no control characters: the
 * value becomes a header, so CR/LF here would be header injection from a binding. */
static bool valid_content_type(const char *ct)
{
    const char *slash = strchr(ct, '/');
    if (!slash || slash == ct)
        return false;
    for (const char *p = ct; *p && *p != ';'; p++)
        if (p != slash && !is_tchar((unsigned char)*p))
            return false;
    return !has_ctl(ct, strlen(ct), false);
}

/* The text of a value for a form field or multipart part: strings raw, the rest as JSON. */
static int value_text(const json_t *v, struct gw_buf *out, bool *is_json)
{
    char tmp[64];
    const char *s;
    size_t n;
    *is_json = false;
    if (json_is_string(v) || json_is_number(v) || json_is_boolean(v)) {
        scalar_text(v, tmp, sizeof(tmp), &s, &n);
        return gw_buf_add(out, s, n);
    }
    *is_json = true;
    return gw_json_dump(v, out);
}

/* application/x-www-form-urlencoded from an object: arrays repeat the key, nulls are absent. */
static int form_body(const json_t *obj, struct gw_buf *out, struct gw_error *err)
{
    const char *k;
    json_t *v;
    int rc = GW_OK;
    struct gw_buf tmp;
    gw_buf_init(&tmp, DEFAULT_MAX_BODY);
    json_object_foreach((json_t *)obj, k, v) {
        if (json_is_null(v))
            continue;
        size_t n = json_is_array(v) ? json_array_size(v) : 1;
        if (n > MAX_ITEMS) {
            rc = GW_ERROR_SET(err, GW_ELIMIT, "form field '%s': too many items", k);
            break;
        }
        for (size_t i = 0; i < n && rc == GW_OK; i++) {
            const json_t *item = json_is_array(v) ? json_array_get(v, i) : v;
            bool js;
            gw_buf_reset(&tmp);
            rc = value_text(item, &tmp, &js);
            if (rc == GW_OK && gw_buf_len(out))
                rc = gw_buf_addc(out, '&');
            if (rc == GW_OK)
                rc = gw_upstream_pct_encode(out, k, strlen(k), NULL);
            if (rc == GW_OK)
                rc = gw_buf_addc(out, '=');
            if (rc == GW_OK)
                rc = gw_upstream_pct_encode(out, gw_buf_ptr(&tmp), gw_buf_len(&tmp), NULL);
        }
        if (rc != GW_OK)
            break;
    }
    gw_buf_fini(&tmp);
    if (rc != GW_OK && err && err->code == GW_OK)
        GW_ERROR_SET(err, rc, "request body too large");
    return rc;
}

/* One multipart part (data copied; JSON values get an application/json part type). */
static int add_part(struct gw_upstream_req *r, const char *name, const json_t *v,
                    struct gw_error *err)
{
    if (r->nparts >= MAX_PARTS)
        return GW_ERROR_SET(err, GW_ELIMIT, "too many multipart parts");
    struct gw_buf b;
    gw_buf_init(&b, DEFAULT_MAX_BODY);
    bool js;
    int rc = value_text(v, &b, &js);
    if (rc != GW_OK) {
        gw_buf_fini(&b);
        return GW_ERROR_SET(err, rc, "multipart field '%s' too large", name);
    }
    if (!r->parts)
        r->parts = gw_xcalloc(MAX_PARTS, sizeof(*r->parts));
    struct gw_httpc_part *p = &r->parts[r->nparts++];
    p->name = gw_xstrdup(name);
    p->data = gw_buf_take(&b, &p->len);
    p->content_type = js ? "application/json" : NULL;
    return GW_OK;
}

/* multipart/form-data from an object: one part per property, arrays repeat the part. */
static int multipart_body(struct gw_upstream_req *r, const json_t *obj, struct gw_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (json_is_null(v))
            continue;
        if (json_is_array(v)) {
            size_t i;
            json_t *it;
            json_array_foreach(v, i, it) {
                int rc = add_part(r, k, it, err);
                if (rc != GW_OK)
                    return rc;
            }
            continue;
        }
        int rc = add_part(r, k, v, err);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

/* The request body from body properties (props) or the whole-body argument, serialised by
 * the binding's content type, plus its Content-Type header (multipart: set by curl with the
 * boundary). */
static int build_body(struct gw_upstream_req *r, const json_t *binding, const json_t *props,
                      const json_t *whole, bool whole_bound, size_t max_body,
                      struct gw_error *err)
{
    const json_t *bdesc = json_object_get(binding, "body");
    const char *ct = gw_json_str(bdesc, "contentType");
    bool required = json_is_true(json_object_get(bdesc, "required"));
    if (!ct)
        ct = "application/json";
    if (!valid_content_type(ct))
        return GW_ERROR_SET(err, GW_EINVAL, "binding: invalid body content type");
    enum body_kind kind = body_kind(ct);
    const json_t *value = whole ? whole : props;
    if (!value) {
        if (!required)
            return GW_OK;
        if (whole_bound || kind != BODY_JSON)
            return GW_ERROR_SET(err, GW_EINVAL, "the request body is required");
        /* an object body whose properties are all optional and absent: send {} */
    }
    struct gw_buf b;
    gw_buf_init(&b, max_body);
    int rc = GW_OK;
    switch (kind) {
    case BODY_JSON:
        rc = value ? gw_json_dump(value, &b) : gw_buf_adds(&b, "{}");
        break;
    case BODY_FORM:
        if (!json_is_object(value)) {
            gw_buf_fini(&b);
            return GW_ERROR_SET(err, GW_EINVAL, "a form body must be an object");
        }
        rc = form_body(value, &b, err);
        break;
    case BODY_MULTIPART:
        gw_buf_fini(&b);
        if (!json_is_object(value))
            return GW_ERROR_SET(err, GW_EINVAL, "a multipart body must be an object");
        return multipart_body(r, value, err);
    case BODY_TEXT:
    case BODY_RAW:
        if (json_is_string(value) && !gw_json_is_bignum(value))
            rc = gw_buf_add(&b, json_string_value(value), json_string_length(value));
        else
            rc = gw_json_dump(value, &b);
        break;
    }
    if (rc != GW_OK) {
        gw_buf_fini(&b);
        return err && err->code != GW_OK ? rc
                                         : GW_ERROR_SET(err, rc, "request body too large");
    }
    r->body = gw_buf_take(&b, &r->body_len);
    return gw_upstream_req_add_header(r, "Content-Type", ct, err);
}

/* ---- assembly ---- */

static bool method_valid(const char *m, bool *idempotent)
{
    static const char *const all[] = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST", "PATCH"};
    for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
        if (strcmp(m, all[i]) == 0) {
            *idempotent = i < 5;
            return true;
        }
    return false;
}

/* The binding entry of a path placeholder, by wire name. */
static const json_t *find_path_entry(const json_t *bargs, const char *name, size_t n)
{
    size_t i;
    json_t *e;
    json_array_foreach(bargs, i, e) {
        const char *in = gw_json_str(e, "in");
        const char *wire = gw_json_str(e, "name");
        if (!wire)
            wire = gw_json_str(e, "arg");
        if (in && strcmp(in, "path") == 0 && wire && strlen(wire) == n &&
            memcmp(wire, name, n) == 0)
            return e;
    }
    return NULL;
}

/* Characters allowed literally in a path template (RFC 3986 pchar and "/"). */
static bool template_char_ok(unsigned char c)
{
    return is_unreserved(c) || (c && strchr("/:@!$&'()*+,;=%", c) != NULL);
}

/* Expands the path template: literal parts are checked (no dot segments, no "?" or "#"),
 * placeholders are replaced by their encoded values. */
static int build_path(struct gw_buf *url, const char *tmpl, const json_t *bargs,
                      const json_t *args, struct gw_error *err)
{
    if (tmpl[0] != '/')
        return GW_ERROR_SET(err, GW_EINVAL, "binding: path must start with '/'");
    const char *p = tmpl;
    while (*p) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close || close == p + 1)
                return GW_ERROR_SET(err, GW_EINVAL, "binding: malformed path template");
            const json_t *e = find_path_entry(bargs, p + 1, (size_t)(close - p - 1));
            const char *arg = e ? gw_json_str(e, "arg") : NULL;
            const json_t *v = arg ? json_object_get(args, arg) : NULL;
            if (!v || json_is_null(v))
                return GW_ERROR_SET(err, GW_EINVAL, "missing value for path parameter '%.*s'",
                                    (int)(close - p - 1), p + 1);
            const char *style = gw_json_str(e, "style");
            const char *wire = gw_json_str(e, "name");
            int rc = path_value(url, style ? style : "simple",
                                json_is_true(json_object_get(e, "explode")),
                                json_is_true(json_object_get(e, "allowReserved")),
                                wire ? wire : arg, v, arg, err);
            if (rc != GW_OK)
                return rc;
            p = close + 1;
            continue;
        }
        if (!template_char_ok((unsigned char)*p))
            return GW_ERROR_SET(err, GW_EINVAL, "binding: invalid character in path template");
        if (*p == '.' && p[-1] == '/' &&
            (p[1] == '/' || !p[1] || (p[1] == '.' && (p[2] == '/' || !p[2]))))
            return GW_ERROR_SET(err, GW_EINVAL, "binding: dot segment in path template");
        int rc = gw_buf_addc(url, *p);
        if (rc != GW_OK)
            return GW_ERROR_SET(err, rc, "URL too long");
        p++;
    }
    return GW_OK;
}

/* The base URL must be http(s) and carry no query, fragment, space or control character. */
static int check_base(const char *base, struct gw_error *err)
{
    if (!base || !(strncasecmp(base, "http://", 7) == 0 || strncasecmp(base, "https://", 8) == 0))
        return GW_ERROR_SET(err, GW_EINVAL, "upstream base URL must be http:// or https://");
    if (strpbrk(base, "?# \t\r\n") || has_ctl(base, strlen(base), false))
        return GW_ERROR_SET(err, GW_EINVAL, "upstream base URL must not have a query or fragment");
    return GW_OK;
}

void gw_upstream_req_fini(struct gw_upstream_req *r)
{
    if (!r)
        return;
    gw_free(r->url);
    for (size_t i = 0; i < r->nheaders; i++)
        gw_free(r->headers[i]);
    gw_free(r->headers);
    gw_buf_fini(&r->cookie);
    gw_free(r->body);
    for (size_t i = 0; i < r->nparts; i++) {
        gw_free((char *)r->parts[i].name);
        gw_free((char *)r->parts[i].data);
    }
    gw_free(r->parts);
    memset(r, 0, sizeof(*r));
}

int gw_upstream_req_build(const json_t *binding, const json_t *args,
                          const struct gw_upstream_build_opts *o, struct gw_upstream_req *out,
                          struct gw_error *err)
{
    int rc = GW_EINVAL;
    memset(out, 0, sizeof(*out));
    gw_buf_init(&out->cookie, MAX_HEADER_BYTES);
    size_t max_url = o->max_url_bytes ? o->max_url_bytes : DEFAULT_MAX_URL;
    size_t max_body = o->max_body_bytes ? o->max_body_bytes : DEFAULT_MAX_BODY;
    struct gw_buf url, query;
    gw_buf_init(&url, max_url);
    gw_buf_init(&query, max_url);
    json_t *props = NULL;
    const json_t *whole = NULL;
    bool whole_bound = false;
    gw_error_clear(err);
    if (!json_is_object(binding)) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "tool has no binding");
        goto out;
    }
    if (args && !json_is_object(args)) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "arguments must be an object");
        goto out;
    }
    const char *method = gw_json_str(binding, "method");
    bool idem = false;
    if (!method || !method_valid(method, &idem)) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "binding: unsupported method");
        goto out;
    }
    gw_strlcpy(out->method, sizeof(out->method), method);
    out->idempotent_method = idem;
    const char *path = gw_json_str(binding, "path");
    if (!path) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "binding: no path");
        goto out;
    }
    if ((rc = check_base(o->base_url, err)) != GW_OK)
        goto out;
    size_t bl = strlen(o->base_url);
    while (bl > 0 && o->base_url[bl - 1] == '/')
        bl--;
    if ((rc = gw_buf_add(&url, o->base_url, bl)) != GW_OK) {
        rc = GW_ERROR_SET(err, rc, "URL too long");
        goto out;
    }
    const json_t *bargs = json_object_get(binding, "args");
    size_t path_start = gw_buf_len(&url);
    if ((rc = build_path(&url, path, bargs, args, err)) != GW_OK)
        goto out;
    if (path_has_dot_segment(gw_buf_ptr(&url) + path_start, gw_buf_len(&url) - path_start)) {
        rc = GW_ERROR_SET(err, GW_EINVAL,
                          "the request path would contain a '.' or '..' segment (binding or "
                          "arguments)");
        goto out;
    }

    struct query qs = {&query, NULL};
    size_t i;
    json_t *e;
    json_array_foreach(bargs, i, e) {
        const char *arg = gw_json_str(e, "arg");
        const char *in = gw_json_str(e, "in");
        const char *wire = gw_json_str(e, "name");
        if (!arg || !in)
            continue;
        if (!wire)
            wire = arg;
        if (strcmp(in, "body-whole") == 0)
            whole_bound = true;
        const json_t *v = json_object_get(args, arg);
        if (!v || json_is_null(v))
            continue;
        json_t *encoded = NULL;
        const char *pct = gw_json_str(e, "contentType");
        if (pct && strcmp(in, "body") != 0 && strcmp(in, "body-whole") != 0) {
            /* an OpenAPI `content` parameter: the value travels as one serialised string */
            struct gw_buf jb;
            gw_buf_init(&jb, max_url);
            if (json_is_string(v) && !gw_json_is_bignum(v) && body_kind(pct) != BODY_JSON)
                rc = gw_buf_add(&jb, json_string_value(v), json_string_length(v));
            else
                rc = gw_json_dump(v, &jb);
            if (rc != GW_OK) {
                gw_buf_fini(&jb);
                rc = GW_ERROR_SET(err, rc, "argument '%s' too large", arg);
                goto out;
            }
            encoded = json_stringn(gw_buf_ptr(&jb), gw_buf_len(&jb));
            gw_buf_fini(&jb);
            if (!encoded) {
                rc = GW_ERROR_SET(err, GW_EINVAL, "argument '%s' is not valid UTF-8", arg);
                goto out;
            }
            v = encoded;
        }
        const char *style = gw_json_str(e, "style");
        const json_t *ex = json_object_get(e, "explode");
        if (strcmp(in, "query") == 0) {
            if (!style)
                style = "form";
            bool explode = ex ? json_is_true(ex) : strcmp(style, "form") == 0 ||
                                                      strcmp(style, "deepObject") == 0;
            qs.keep = json_is_true(json_object_get(e, "allowReserved")) ? ALLOW_RESERVED_KEEP
                                                                          : NULL;
            rc = query_value(&qs, style, explode, wire, v, arg, err);
            if (rc != GW_OK && err && err->code == GW_OK)
                rc = GW_ERROR_SET(err, rc, "URL too long");
        } else if (strcmp(in, "header") == 0) {
            rc = add_arg_header(out, e, wire, v, arg, o, err);
        } else if (strcmp(in, "cookie") == 0) {
            rc = add_arg_cookie(out, e, wire, v, arg, err);
        } else if (strcmp(in, "body") == 0) {
            if (!props)
                props = json_object();
            rc = json_object_set(props, wire, (json_t *)v) == 0 ? GW_OK
                                                                 : GW_ERROR_SET(err, GW_ENOMEM,
                                                                                "out of memory");
        } else if (strcmp(in, "body-whole") == 0) {
            whole = v;
        }
        json_decref(encoded);
        if (rc != GW_OK)
            goto out;
    }
    if (whole && props) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "binding: both body-whole and body properties");
        goto out;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
        (rc = build_body(out, binding, props, whole, whole_bound, max_body, err)) != GW_OK)
        goto out;
    if (gw_buf_len(&query)) {
        rc = gw_buf_addc(&url, '?');
        if (rc == GW_OK)
            rc = gw_buf_add(&url, gw_buf_ptr(&query), gw_buf_len(&query));
        if (rc != GW_OK) {
            rc = GW_ERROR_SET(err, rc, "URL too long");
            goto out;
        }
    }
    out->url = gw_buf_take(&url, NULL);
    rc = GW_OK;
out:
    json_decref(props);
    gw_buf_fini(&url);
    gw_buf_fini(&query);
    if (rc != GW_OK)
        gw_upstream_req_fini(out);
    return rc;
}
