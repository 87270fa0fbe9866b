/*
 * src/core/json.c
 * Limits, big numbers and the one JSON writer of the platform (see json.h).
 *
 * Parsing, under a size and depth check, in two readers that build the same jansson values:
 *   - the fast reader: yajl's lexer and parser (a table-driven push parser, about half the cost of
 *     jansson's per-character stream on a tools/call request) calling back into jansson's own
 *     checked constructors (json_stringn and json_object_setn_new validate UTF-8 as jansson's
 *     parser does). It takes the documents on which the two libraries cannot differ: none with
 *     a `\u` escape (yajl replaces a lone surrogate where jansson refuses it), with a \v or \f
 *     byte (yajl's whitespace, not JSON's), with a NUL byte, or with a number jansson cannot
 *     hold; on anything else — and on any error — it gives up and
 *   - jansson's json_loadb, the reference, decides: its tree or its error message. A document
 *     that jansson refuses only because of a number it cannot hold (json_error_numeric_overflow)
 *     is scanned once, every such literal is rewritten into a string holding NUL + the literal
 *     (the marker), and the result is parsed again with NULs allowed; documents that already
 *     contain an escaped NUL are not rewritten (their first error stands), so a marker can
 *     never be forged by input.
 * fuzz_core_json holds the two readers to the same answer (same tree, same member order, or
 * both refusing) on every input.
 * Writing: a recursive writer over jansson values into a bounded gw_buf (depth capped at
 * WRITE_DEPTH_MAX), with runs of plain string bytes copied at once, and
 * reals as plain decimals when they have at most 15 digits (else the shortest %.15g..%.17g).
 */
#include "core/json.h"

#include "core/alloc.h"
#include "core/json_heap.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

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

/* ---- the fast reader: yajl's parser building jansson values ---------------------------- */

#define READ_DEPTH_MAX 2048 /* jansson's own parser limit (JSON_PARSER_MAX_DEPTH) */
#define READ_KEY_INLINE 128

struct reader {
    yajl_handle h;
    size_t end; /* where the root container closed, in bytes of the document */
    json_t *root;
    json_t **stack; /* open containers, innermost last */
    json_t *stack_inline[32];
    size_t depth, cap;
    char *key; /* the pending member name (copied: yajl reuses its decode buffer) */
    size_t key_len, key_cap;
    char key_inline[READ_KEY_INLINE];
};

static bool json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether the fast reader may take the document (see the file comment). */
static bool fast_readable(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && json_space(buf[i]))
        i++;
    /* a container at the top: where it closes is known (see gw_json_read_fast) */
    if (i == len || (buf[i] != '{' && buf[i] != '['))
        return false;
    if (memchr(buf, '\v', len) || memchr(buf, '\f', len) || memchr(buf, '\0', len))
        return false;
    for (const char *p = buf, *end = buf + len; (p = memchr(p, '\\', (size_t)(end - p)));) {
        if (p + 1 < end && p[1] == 'u')
            return false;
        p += 2; /* the escaped byte is never the start of another escape */
        if (p >= end)
            break;
    }
    return true;
}

/* Attaches a new value to the open container (or makes it the root). Steals `v`. */
static bool reader_put(struct reader *r, json_t *v)
{
    if (!v)
        return false;
    if (r->depth == 0) {
        if (r->root) { /* a second top-level value: yajl refuses it first, but never two roots */
            json_decref(v);
            return false;
        }
        r->root = v;
        return true;
    }
    json_t *top = r->stack[r->depth - 1];
    if (json_is_array(top))
        return json_array_append_new(top, v) == 0;
    /* an object: json_object_setn_new checks the name's UTF-8 like jansson's parser does and
     * replaces an earlier member of the same name in place (jansson's duplicate rule) */
    return json_object_setn_new(top, r->key, r->key_len, v) == 0;
}

static bool reader_open(struct reader *r, json_t *v)
{
    if (!v || r->depth >= READ_DEPTH_MAX) {
        json_decref(v);
        return false;
    }
    if (r->depth == r->cap) {
        size_t cap = r->cap * 2;
        json_t **s = gw_trymalloc(cap * sizeof *s);
        if (!s) {
            json_decref(v);
            return false;
        }
        memcpy(s, r->stack, r->depth * sizeof *s);
        if (r->stack != r->stack_inline)
            gw_free(r->stack);
        r->stack = s;
        r->cap = cap;
    }
    json_incref(v); /* one reference for the parent, one while open (dropped on close) */
    if (!reader_put(r, v)) {
        json_decref(v);
        return false;
    }
    r->stack[r->depth++] = v;
    return true;
}

static int on_null(void *ctx)
{
    return reader_put(ctx, json_null());
}

static int on_boolean(void *ctx, int b)
{
    return reader_put(ctx, json_boolean(b));
}

static int on_number(void *ctx, const char *s, size_t n)
{
    bool is_int;
    /* the literal as RFC 8259 spells it, and one jansson holds (else jansson decides: a big
     * number becomes its marker there) */
    if (number_literal(s, n, &is_int) != n || n > BIGNUM_MAX)
        return 0;
    char tmp[BIGNUM_MAX + 1];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (is_int)
        return fits(s, n, true) &&
               reader_put(ctx, json_integer((json_int_t)strtoll(tmp, NULL, 10)));
    double d = strtod(tmp, NULL); /* converted once: fits() would convert it a second time */
    return isfinite(d) && reader_put(ctx, json_real(d));
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    return reader_put(ctx, json_stringn((const char *)s, n)); /* NULL on bad UTF-8 */
}

static int on_key(void *ctx, const unsigned char *s, size_t n)
{
    struct reader *r = ctx;
    if (n + 1 > r->key_cap) {
        char *k = gw_trymalloc(n + 1);
        if (!k)
            return 0;
        if (r->key != r->key_inline)
            gw_free(r->key);
        r->key = k;
        r->key_cap = n + 1;
    }
    memcpy(r->key, s, n);
    r->key[n] = '\0';
    r->key_len = n;
    return 1;
}

static int on_open_object(void *ctx)
{
    return reader_open(ctx, json_object());
}

static int on_open_array(void *ctx)
{
    return reader_open(ctx, json_array());
}

static int on_close(void *ctx)
{
    struct reader *r = ctx;
    assert(r->depth > 0); /* yajl balances its brackets */
    json_decref(r->stack[--r->depth]);
    if (r->depth == 0)
        r->end = yajl_get_bytes_consumed(r->h);
    return 1;
}

static const yajl_callbacks reader_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    /* the literal's text: integers, reals and numbers jansson cannot hold told apart here */
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_open_object,
    .yajl_map_key = on_key,
    .yajl_end_map = on_close,
    .yajl_start_array = on_open_array,
    .yajl_end_array = on_close,
};

static void *yajl_malloc_cb(void *ctx, size_t n)
{
    (void)ctx;
    return gw_trymalloc(n);
}

static void *yajl_realloc_cb(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return gw_tryrealloc(p, n);
}

static void yajl_free_cb(void *ctx, void *p)
{
    (void)ctx;
    gw_free(p);
}

json_t *gw_json_read_fast(const char *buf, size_t len, bool *taken)
{
    *taken = len > 0 && fast_readable(buf, len);
    if (!*taken)
        return NULL;
    struct reader r = {.cap = sizeof r.stack_inline / sizeof r.stack_inline[0],
                       .key_cap = READ_KEY_INLINE};
    r.stack = r.stack_inline;
    r.key = r.key_inline;
    yajl_alloc_funcs af = {yajl_malloc_cb, yajl_realloc_cb, yajl_free_cb, NULL};
    yajl_handle h = yajl_alloc(&reader_callbacks, &af, &r);
    r.h = h;
    bool ok = false;
    if (h) {
        /* jansson validates the UTF-8 of every string and name (json_stringn,
         * json_object_setn_new); yajl's own check would only repeat it */
        yajl_config(h, yajl_dont_validate_strings, 1);
        ok = yajl_parse(h, (const unsigned char *)buf, len) == yajl_status_ok &&
             yajl_complete_parse(h) == yajl_status_ok && r.root && r.depth == 0 && r.end > 0;
        yajl_free(h);
    }
    /* yajl takes an unfinished token after the value (`[] "x`) for input still to come and
     * lets it pass at the end: only whitespace may follow the root */
    for (size_t i = r.end; ok && i < len; i++)
        ok = json_space(buf[i]);
    while (r.depth > 0) /* an error inside containers: drop the open references */
        json_decref(r.stack[--r.depth]);
    if (r.stack != r.stack_inline)
        gw_free(r.stack);
    if (r.key != r.key_inline)
        gw_free(r.key);
    if (!ok) {
        json_decref(r.root);
        return NULL;
    }
    return r.root;
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
    bool taken;
    json_t *v = gw_json_read_fast(buf, len, &taken);
    if (v)
        return v;
    json_error_t je;
    v = json_loadb(buf, len, JSON_DECODE_ANY, &je);
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

/* 10^k for k = 0..18 (exact as doubles up to 10^22). */
static const double pow10_f[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

/* Why the result is exact: m and 10^k are exact doubles, so m / 10^k is the double nearest the
 * decimal m·10^-k, which is what a correct strtod reads from its text: the text round-trips.
 * The k tried first that round-trips gives the fewest digits (a shorter round-trip text would
 * have a smaller k and be found first, its m the integer nearest d·10^k), and with at most 15
 * significant digits it is also what %.15g prints (d lies within half an ulp of m·10^-k, far
 * inside half a unit of the 15th digit). */
size_t gw_json_format_decimal(double d, char *out, size_t size)
{
    double a = fabs(d);
    if (!(a >= 1e-4 && a < 1e15) || size < 24)
        return 0;
    for (size_t k = 0; k < sizeof(pow10_f) / sizeof(pow10_f[0]); k++) {
        double m = nearbyint(a * pow10_f[k]);
        if (m >= 1e15)
            return 0; /* more than 15 significant digits: the general path */
        if (m / pow10_f[k] != a)
            continue;
        uint64_t u = (uint64_t)m;
        char tmp[24];
        size_t t = 0, n = 0;
        do { /* the digits of m, least significant first, at least k + 1 of them */
            tmp[t++] = (char)('0' + u % 10);
            u /= 10;
        } while (u || t <= k);
        if (d < 0)
            out[n++] = '-';
        while (t > k)
            out[n++] = tmp[--t];
        if (k) {
            out[n++] = '.';
            while (t)
                out[n++] = tmp[--t];
        }
        out[n] = '\0';
        return n;
    }
    return 0;
}

size_t gw_json_format_real(double d, bool real_marker, char *out, size_t size)
{
    int n = (int)gw_json_format_decimal(d, out, size);
    if (n > 0) {
        if (real_marker && !memchr(out, '.', (size_t)n)) {
            out[n++] = '.';
            out[n++] = '0';
            out[n] = '\0';
        }
        return (size_t)n;
    }
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
        /* a run of plain bytes is copied at once (a word-at-a-time scan measured no better:
         * the strings written per call are short) */
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
    (void)gw_buf_space(&b, 256); /* most texts at once, instead of doubling from 64 */
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
