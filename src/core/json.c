/*
 * src/core/json.c
 * Limits, big numbers and the one JSON writer of the platform (see json.h).
 *
 * Parsing: jansson under a size and depth check. A document that jansson refuses only because
 * of a number it cannot hold (json_error_numeric_overflow) is scanned once, every such literal
 * is rewritten into a string holding NUL + the literal (the marker), and the result is parsed
 * again with NULs allowed; documents that already contain an escaped NUL are not rewritten
 * (their first error stands), so a marker can never be forged by input.
 * Writing: a recursive writer over jansson values into a bounded gw_buf (depth capped at
 * WRITE_DEPTH_MAX), with runs of plain string bytes copied at once.
 */
#include "core/json.h"

#include "core/alloc.h"
#include "core/json_heap.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITE_DEPTH_MAX 2048
#define BIGNUM_MAX 1024

void gw_json_init(void)
{
    json_set_alloc_funcs(gw_json_heap__malloc, gw_json_heap__free);
}

int gw_json_depth(const char *buf, size_t len, int max_depth)
{
    int depth = 0, maxd = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > maxd) {
                maxd = depth;
                if (max_depth > 0 && maxd > max_depth)
                    return maxd;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return maxd;
}

/* ---- big numbers ---------------------------------------------------------------------- */

/* Length of the JSON number literal at s[0..n) (RFC 8259 grammar), 0 when there is none. */
static size_t number_literal(const char *s, size_t n, bool *is_int)
{
    size_t i = 0;
    *is_int = true;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return 0;
    if (s[i] == '0') {
        i++;
    } else {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && s[i] == '.') {
        *is_int = false;
        i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *is_int = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return i;
}

/* Whether jansson can hold the literal: an integer within json_int_t, a finite real. */
static bool fits(const char *s, size_t n, bool is_int)
{
    char tmp[BIGNUM_MAX + 1];
    if (n > BIGNUM_MAX)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (is_int) {
        /* at most 19 digits always fit except beyond 9223372036854775807 */
        size_t digits = n - (s[0] == '-');
        if (digits < 19)
            return true;
        if (digits > 19)
            return false;
        const char *d = s + (s[0] == '-');
        const char *lim = s[0] == '-' ? "9223372036854775808" : "9223372036854775807";
        return memcmp(d, lim, 19) <= 0;
    }
    return isfinite(strtod(tmp, NULL));
}

bool gw_json_is_bignum(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 1 && json_string_value(v)[0] == '\0';
}

const char *gw_json_bignum_text(const json_t *v, size_t *len)
{
    if (!gw_json_is_bignum(v))
        return NULL;
    *len = json_string_length(v) - 1;
    return json_string_value(v) + 1;
}

bool gw_json_bignum_is_integer(const json_t *v)
{
    size_t n;
    const char *s = gw_json_bignum_text(v, &n);
    return s && !memchr(s, '.', n) && !memchr(s, 'e', n) && !memchr(s, 'E', n);
}

json_t *gw_json_bignum(const char *lit, size_t n)
{
    bool is_int;
    if (n == 0 || n > BIGNUM_MAX || number_literal(lit, n, &is_int) != n)
        return NULL;
    char tmp[BIGNUM_MAX + 1];
    tmp[0] = '\0';
    memcpy(tmp + 1, lit, n);
    return json_stringn_nocheck(tmp, n + 1);
}

bool gw_json_is_number(const json_t *v)
{
    return json_is_number(v) || gw_json_is_bignum(v);
}

double gw_json_number(const json_t *v)
{
    if (json_is_number(v))
        return json_number_value(v);
    size_t n;
    const char *s = gw_json_bignum_text(v, &n);
    if (!s || n > BIGNUM_MAX)
        return 0;
    char tmp[BIGNUM_MAX + 1];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return strtod(tmp, NULL);
}

/* The document with every number jansson cannot hold turned into a marker string literal
 * ("\u0000<literal>"), or NULL when there is none or the document already has an escaped NUL
 * (then the original error stands). New heap buffer of *out_len bytes. */
static char *rewrite_bignums(const char *buf, size_t len, size_t *out_len)
{
    struct gw_buf b;
    gw_buf_init(&b, len * 2 + 64);
    size_t copied = 0, found = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '"') {
            for (i++; i < len && buf[i] != '"'; i++) {
                if (buf[i] == '\\') {
                    if (i + 5 < len && buf[i + 1] == 'u' && !memcmp(buf + i + 2, "0000", 4))
                        goto refuse;
                    i++;
                }
            }
            continue;
        }
        if (c != '-' && (c < '0' || c > '9'))
            continue;
        bool is_int;
        size_t n = number_literal(buf + i, len - i, &is_int);
        if (n == 0)
            continue; /* jansson reports it */
        if (!fits(buf + i, n, is_int)) {
            if (n > BIGNUM_MAX)
                goto refuse;
            if (gw_buf_add(&b, buf + copied, i - copied) != GW_OK ||
                gw_buf_adds(&b, "\"\\u0000") != GW_OK || gw_buf_add(&b, buf + i, n) != GW_OK ||
                gw_buf_addc(&b, '"') != GW_OK)
                goto refuse;
            copied = i + n;
            found++;
        }
        i += n - 1;
    }
    if (!found || gw_buf_add(&b, buf + copied, len - copied) != GW_OK)
        goto refuse;
    return gw_buf_take(&b, out_len);
refuse:
    gw_buf_fini(&b);
    return NULL;
}

json_t *gw_json_parse(const char *buf, size_t len, const struct gw_json_limits *lim,
                      struct gw_error *err)
{
    if (lim && lim->max_bytes && len > lim->max_bytes) {
        GW_ERROR_SET(err, GW_ELIMIT, "JSON text of %zu bytes exceeds the limit of %zu", len,
                     lim->max_bytes);
        return NULL;
    }
    if (lim && lim->max_depth > 0) {
        int d = gw_json_depth(buf, len, lim->max_depth);
        if (d > lim->max_depth) {
            GW_ERROR_SET(err, GW_ELIMIT, "JSON nesting deeper than the limit of %d",
                         lim->max_depth);
            return NULL;
        }
    }
    json_error_t je;
    json_t *v = json_loadb(buf, len, JSON_DECODE_ANY, &je);
    if (!v && json_error_code(&je) == json_error_numeric_overflow) {
        size_t n2 = 0;
        char *b2 = rewrite_bignums(buf, len, &n2);
        if (b2) {
            json_error_t je2;
            v = json_loadb(b2, n2, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je2);
            if (!v)
                je = je2;
            gw_free(b2);
        }
    }
    if (!v) {
        GW_ERROR_SET(err, GW_EINVAL, "invalid JSON at line %d column %d: %s", je.line, je.column,
                     je.text);
        return NULL;
    }
    return v;
}

/* ---- the writer ----------------------------------------------------------------------- */

size_t gw_json_format_real(double d, bool real_marker, char *out, size_t size)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, size, "%.*g", prec, d);
        if (n < 0 || (size_t)n >= size) {
            out[0] = '\0';
            return 0;
        }
        if (strtod(out, NULL) == d)
            break;
    }
    /* a locale with a decimal comma would break the JSON: normalise (we never set one) */
    for (int i = 0; i < n; i++)
        if (out[i] == ',')
            out[i] = '.';
    if (real_marker && !strpbrk(out, ".eEn") && (size_t)n + 2 < size) {
        out[n++] = '.';
        out[n++] = '0';
        out[n] = '\0';
    }
    return (size_t)n;
}

struct writer {
    struct gw_buf *out;
    unsigned flags;
};

static int write_value(struct writer *w, const json_t *v, int depth);

/* Bytes that need an escape in a JSON string: 0 = none, else the letter after the backslash
 * ('u' for \u00XX). */
static const char escape_of[256] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['"'] = '"',
    ['\\'] = '\\', [0] = 'u', [1] = 'u', [2] = 'u', [3] = 'u', [4] = 'u', [5] = 'u', [6] = 'u',
    [7] = 'u', [11] = 'u', [14] = 'u', [15] = 'u', [16] = 'u', [17] = 'u', [18] = 'u',
    [19] = 'u', [20] = 'u', [21] = 'u', [22] = 'u', [23] = 'u', [24] = 'u', [25] = 'u',
    [26] = 'u', [27] = 'u', [28] = 'u', [29] = 'u', [30] = 'u', [31] = 'u'};

size_t gw_json_escape(char *out, const char *s, size_t n, bool lower_hex)
{
    const char *hex = lower_hex ? "0123456789abcdef" : "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        /* a run of plain bytes is copied at once */
        size_t run = i;
        while (run < n && !escape_of[(unsigned char)s[run]])
            run++;
        if (run > i) {
            memcpy(out + o, s + i, run - i);
            o += run - i;
            i = run;
            if (i == n)
                break;
        }
        unsigned char c = (unsigned char)s[i];
        char e = escape_of[c];
        out[o++] = '\\';
        out[o++] = e;
        if (e == 'u') {
            out[o++] = '0';
            out[o++] = '0';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    return o;
}

/* A JSON string literal of s[0..n), written in place when the worst case fits the buffer,
 * else in bounded chunks (a nearly full buffer still takes a string that fits). */
int gw_json_put_string(struct gw_buf *out, const char *s, size_t n, bool lower_hex)
{
    char *at = n < ((size_t)-1 - 2) / 6 ? gw_buf_space(out, 6 * n + 2) : NULL;
    if (at) {
        at[0] = '"';
        size_t o = 1 + gw_json_escape(at + 1, s, n, lower_hex);
        at[o++] = '"';
        gw_buf_commit(out, o);
        return GW_OK;
    }
    int rc = gw_buf_addc(out, '"');
    char tmp[6 * 64];
    for (size_t i = 0; i < n && rc == GW_OK; i += 64)
        rc = gw_buf_add(out, tmp, gw_json_escape(tmp, s + i, n - i < 64 ? n - i : 64, lower_hex));
    return rc == GW_OK ? gw_buf_addc(out, '"') : rc;
}

static int write_string(struct writer *w, const char *s, size_t n)
{
    return gw_json_put_string(w->out, s, n, false); /* jansson's spelling: upper-case hex */
}

/* Newline and indentation for pretty output. */
static int write_indent(struct writer *w, int depth)
{
    if (!(w->flags & GW_JSON_PRETTY))
        return GW_OK;
    int rc = gw_buf_addc(w->out, '\n');
    for (int i = 0; i < depth && rc == GW_OK; i++)
        rc = gw_buf_add(w->out, "  ", 2);
    return rc;
}

struct member {
    const char *key;
    size_t len;
    const json_t *val;
};

/* qsort order of members: byte order of keys. */
static int cmp_member(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, m);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* ',' (unless first), the key and ':' in one reservation, then the value. */
static int write_member(struct writer *w, const char *k, size_t kl, const json_t *val, bool first,
                        int depth)
{
    int rc = GW_OK;
    if (!(w->flags & GW_JSON_PRETTY) && kl < ((size_t)-1 - 4) / 6) {
        char *at = gw_buf_space(w->out, 6 * kl + 4);
        if (at) {
            size_t o = 0;
            if (!first)
                at[o++] = ',';
            at[o++] = '"';
            o += gw_json_escape(at + o, k, kl, false);
            at[o++] = '"';
            at[o++] = ':';
            gw_buf_commit(w->out, o);
            return write_value(w, val, depth + 1);
        }
    }
    rc = first ? GW_OK : gw_buf_addc(w->out, ',');
    if (rc == GW_OK)
        rc = write_indent(w, depth + 1);
    if (rc == GW_OK)
        rc = write_string(w, k, kl);
    if (rc == GW_OK)
        rc = (w->flags & GW_JSON_PRETTY) ? gw_buf_add(w->out, ": ", 2) : gw_buf_addc(w->out, ':');
    if (rc == GW_OK)
        rc = write_value(w, val, depth + 1);
    return rc;
}

static int write_object(struct writer *w, const json_t *v, int depth)
{
    size_t size = json_object_size(v);
    int rc = gw_buf_addc(w->out, '{');
    if (rc != GW_OK || size == 0)
        return rc == GW_OK ? gw_buf_addc(w->out, '}') : rc;
    json_t *obj = (json_t *)(uintptr_t)v;
    bool first = true;
    if (w->flags & GW_JSON_SORTED) {
        struct member *m = gw_trymalloc(size * sizeof(*m));
        if (!m)
            return GW_ENOMEM;
        size_t n = 0;
        for (void *it = json_object_iter(obj); it && n < size; it = json_object_iter_next(obj, it))
            m[n++] = (struct member){json_object_iter_key(it), json_object_iter_key_len(it),
                                     json_object_iter_value(it)};
        qsort(m, n, sizeof(*m), cmp_member);
        for (size_t i = 0; i < n && rc == GW_OK; i++, first = false)
            rc = write_member(w, m[i].key, m[i].len, m[i].val, first, depth);
        gw_free(m);
    } else {
        /* the iterator API directly: the keylen_foreach macro looks every key up again */
        for (void *it = json_object_iter(obj); it && rc == GW_OK;
             it = json_object_iter_next(obj, it)) {
            rc = write_member(w, json_object_iter_key(it), json_object_iter_key_len(it),
                              json_object_iter_value(it), first, depth);
            first = false;
        }
    }
    if (rc == GW_OK)
        rc = write_indent(w, depth);
    if (rc == GW_OK)
        rc = gw_buf_addc(w->out, '}');
    return rc;
}

static int write_value(struct writer *w, const json_t *v, int depth)
{
    char num[64];
    if (depth > WRITE_DEPTH_MAX)
        return GW_ELIMIT;
    switch (json_typeof(v)) {
    case JSON_OBJECT: return write_object(w, v, depth);
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        int rc = gw_buf_addc(w->out, '[');
        for (size_t i = 0; i < n && rc == GW_OK; i++) {
            if (i)
                rc = gw_buf_addc(w->out, ',');
            if (rc == GW_OK)
                rc = write_indent(w, depth + 1);
            if (rc == GW_OK)
                rc = write_value(w, json_array_get(v, i), depth + 1);
        }
        if (rc == GW_OK && n)
            rc = write_indent(w, depth);
        return rc == GW_OK ? gw_buf_addc(w->out, ']') : rc;
    }
    case JSON_STRING: {
        size_t n;
        const char *big = gw_json_bignum_text(v, &n);
        if (big)
            return gw_buf_add(w->out, big, n);
        return write_string(w, json_string_value(v), json_string_length(v));
    }
    case JSON_INTEGER: {
        /* digits by hand: the writer formats every integer of every schema and result */
        json_int_t x = json_integer_value(v);
        unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
        char *e = num + sizeof(num), *p = e;
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (x < 0)
            *--p = '-';
        return gw_buf_add(w->out, p, (size_t)(e - p));
    }
    case JSON_REAL: {
        size_t n = gw_json_format_real(json_real_value(v), true, num, sizeof(num));
        return gw_buf_add(w->out, num, n);
    }
    case JSON_TRUE: return gw_buf_add(w->out, "true", 4);
    case JSON_FALSE: return gw_buf_add(w->out, "false", 5);
    case JSON_NULL: return gw_buf_add(w->out, "null", 4);
    }
    return GW_EINVAL;
}

int gw_json_dump_ex(const json_t *v, struct gw_buf *out, unsigned flags)
{
    size_t before = gw_buf_len(out);
    struct writer w = {out, flags};
    int rc = v ? write_value(&w, v, 0) : GW_EINVAL;
    if (rc != GW_OK)
        gw_buf_truncate(out, before);
    return rc;
}

int gw_json_dump(const json_t *v, struct gw_buf *out)
{
    return gw_json_dump_ex(v, out, 0);
}

char *gw_json_dumps_ex(const json_t *v, unsigned flags)
{
    struct gw_buf b;
    gw_buf_init(&b, SIZE_MAX / 4);
    if (gw_json_dump_ex(v, &b, flags) != GW_OK) {
        gw_buf_fini(&b);
        return NULL;
    }
    if (gw_buf_len(&b) == 0)
        return gw_xstrdup("");
    return gw_buf_take(&b, NULL);
}

char *gw_json_dumps(const json_t *v)
{
    return gw_json_dumps_ex(v, 0);
}

const char *gw_json_str(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) && !gw_json_is_bignum(v) ? json_string_value(v) : NULL;
}

bool gw_json_is_int_or_str(const json_t *v)
{
    return json_is_integer(v) || json_is_string(v);
}
