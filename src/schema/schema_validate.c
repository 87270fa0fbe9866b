/*
 * src/schema/schema_validate.c
 * The evaluator: applies a compiled schema (schema_int.h) to a jansson value.
 *
 * Design:
 *   - v_node() applies one subschema; keyword order is fixed (references, type, enum/const,
 *     per-type keywords, combinators, then unevaluated*), so annotations are complete before
 *     unevaluatedProperties/Items read them.
 *   - Annotations ("which properties/items were evaluated") are only tracked when a node has an
 *     unevaluated* keyword: it owns a bit set sized to the instance, passes it to in-place
 *     applicators (allOf, $ref, then/else, dependentSchemas...) and gives speculative ones
 *     (anyOf, oneOf, if, contains) a fresh set merged only on success. No tracking otherwise.
 *   - Three modes: REPORT (collect errors, keep going), QUIET (first failure ends, no message:
 *     used inside anyOf/oneOf/not/if/contains), CAPTURE (like QUIET but the first message is
 *     written to a buffer: the "why" of each failed alternative).
 *   - Budgets: every node application costs a step, so do regex matches and uniqueItems
 *     comparisons; depth counts nested applications; PCRE2 has its own match limit. Any of them
 *     running out stops everything with GW_ELIMIT.
 * Allocation: none on the valid path except PCRE2 match data, which comes from a buffer inside
 * the context; large annotation sets and uniqueItems hashing use the heap, freed before return.
 * Thread-safety: reads only the compiled schema; all state lives in struct vctx on the stack.
 */
#include "schema/schema_int.h"

#include "core/alloc.h"
#include "core/json.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_KWS                                                                             \
    (GW_SCHEMA__K_MULTIPLE | GW_SCHEMA__K_MAXIMUM | GW_SCHEMA__K_MINIMUM | GW_SCHEMA__K_XMAX | \
     GW_SCHEMA__K_XMIN | GW_SCHEMA__K_FORMAT)
#define STR_KWS                                                                          \
    (GW_SCHEMA__K_MAXLEN | GW_SCHEMA__K_MINLEN | GW_SCHEMA__K_PATTERN | GW_SCHEMA__K_FORMAT | \
     GW_SCHEMA__K_CONTENT)
#define ARR_KWS                                                                         \
    (GW_SCHEMA__K_MAXITEMS | GW_SCHEMA__K_MINITEMS | GW_SCHEMA__K_UNIQUE |               \
     GW_SCHEMA__K_CONTAINS | GW_SCHEMA__K_PREFIX | GW_SCHEMA__K_ITEMS)
#define OBJ_KWS                                                                              \
    (GW_SCHEMA__K_MAXPROPS | GW_SCHEMA__K_MINPROPS | GW_SCHEMA__K_REQUIRED |                  \
     GW_SCHEMA__K_DEPREQ | GW_SCHEMA__K_PROPS | GW_SCHEMA__K_PATPROPS | GW_SCHEMA__K_ADDLPROPS | \
     GW_SCHEMA__K_PROPNAMES | GW_SCHEMA__K_DEPSCH)
#define UNEVAL_KWS (GW_SCHEMA__K_UNEVALPROPS | GW_SCHEMA__K_UNEVALITEMS)

#define JSON_DEPTH_MAX 512 /* nesting followed by equality and hashing of instance values */
#define MSG_MAX 640

enum { M_REPORT, M_QUIET, M_CAPTURE };
enum { S_RUN = 0, S_LIMIT, S_FULL, S_NOMEM };

/* One step of the instance location, on the C stack: a property name or an array index. */
struct ipath {
    const struct ipath *up;
    const char *key; /* NULL: index */
    size_t klen;
    size_t idx;
};

/* One entry of the dynamic scope: the resources entered along the evaluation path. */
struct scope {
    const struct scope *up;
    const struct gw_schema__resource *res;
};

/* Evaluated properties (by iteration position) or items (by index) of one instance. */
struct evset {
    size_t n;
    uint64_t *w;
    uint64_t inl[2];
    bool all;
};

/* The state of one validation; lives on the caller's stack. `mode`/`cap*` are saved and
 * restored around speculative sub-evaluations; `stop` is sticky: once set, every function
 * returns false at once and gw_schema_validate maps it to a return code. `mem` backs PCRE2's
 * match data so that matching does not allocate. */
struct vctx {
    const struct gw_schema *s;
    struct gw_schema_report *rep;
    long steps;
    int depth;
    int mode;
    int stop;
    char *cap; /* CAPTURE: destination of the first message */
    size_t capsz;
    bool captured;
    const struct ipath *cap_base;
    pcre2_general_context *gctx;
    pcre2_match_data *md;
    size_t memoff;
    _Alignas(max_align_t) unsigned char mem[1024];
};

/* Applies node `n` to `inst` at location `ip` within dynamic scope `sc`. `ev` (may be NULL)
 * receives the properties/items `n` evaluates on this same instance. True when valid. */
static bool v_node(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                   const struct ipath *ip, const struct scope *sc, struct evset *ev);

/* ---- budgets ---- */

/* Stops the validation because a budget ran out; the first reason is kept in the report. */
static void limit(struct vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void limit(struct vctx *c, const char *fmt, ...)
{
    if (c->stop == S_LIMIT)
        return;
    c->stop = S_LIMIT;
    if (!c->rep)
        return;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_schema__report_set_limit(c->rep, msg);
}

/* Spends `k` steps of the work budget; false (and stopped) when it is exhausted. */
static bool tick(struct vctx *c, long k)
{
    c->steps -= k;
    if (c->steps >= 0)
        return true;
    limit(c, "the value needs more than %ld validation steps (work budget)", c->s->max_steps);
    return false;
}

/* Stops the validation on a failed allocation (only large annotation sets, uniqueItems
 * hashing, content decoding and PCRE2 fallbacks allocate). */
static void nomem(struct vctx *c)
{
    if (!c->stop)
        c->stop = S_NOMEM;
}

/* ---- annotation sets ---- */

/* A set for n properties/items: inline up to 128, heap beyond (freed by ev_fini). */
static bool ev_init(struct vctx *c, struct evset *e, size_t n)
{
    e->n = n;
    e->all = false;
    e->inl[0] = e->inl[1] = 0;
    if (n <= 128) {
        e->w = e->inl;
        return true;
    }
    e->w = gw_trycalloc((n + 63) / 64, sizeof(uint64_t));
    if (!e->w) {
        e->w = e->inl;
        e->n = 0;
        nomem(c);
        return false;
    }
    return true;
}

/* Releases a set's heap words, if any. */
static void ev_fini(struct evset *e)
{
    if (e->w != e->inl)
        gw_free(e->w);
}

/* Marks item/property i evaluated; a NULL set means nobody tracks. */
static inline void ev_mark(struct evset *e, size_t i)
{
    if (e && i < e->n)
        e->w[i >> 6] |= 1ull << (i & 63);
}

/* Whether item/property i was evaluated (`all` covers every index). */
static inline bool ev_has(const struct evset *e, size_t i)
{
    return e->all || (i < e->n && (e->w[i >> 6] >> (i & 63)) & 1);
}

/* Adds src's annotations to dst (NULL dst: nobody tracks). Both describe the same instance. */
static void ev_merge(struct evset *dst, const struct evset *src)
{
    if (!dst)
        return;
    if (src->all) {
        dst->all = true;
        return;
    }
    size_t words = (dst->n < src->n ? dst->n : src->n);
    words = (words + 63) / 64;
    for (size_t i = 0; i < words; i++)
        dst->w[i] |= src->w[i];
}

/* Properties of an object or items of an array: the size of its annotation set. */
static size_t inst_size(const json_t *v)
{
    return json_is_object(v) ? json_object_size(v) : json_is_array(v) ? json_array_size(v) : 0;
}

/* A fresh set for a speculative branch when the caller tracks, else NULL. */
static struct evset *ev_branch(struct vctx *c, struct evset *track, struct evset *tmp,
                               const json_t *inst)
{
    if (!track)
        return NULL;
    if (!ev_init(c, tmp, inst_size(inst)))
        return NULL;
    return tmp;
}

/* ---- messages ---- */

/* Appends at most `max` bytes of `s` to out (cut on a UTF-8 boundary), with control
 * characters shown as '?'; adds "..." when cut. */
static void put_text(char *out, size_t outsz, size_t *o, const char *s, size_t n, size_t max)
{
    size_t lim = n;
    bool cut = false;
    if (lim > max) {
        lim = max;
        while (lim > 0 && ((unsigned char)s[lim] & 0xC0) == 0x80)
            lim--;
        cut = true;
    }
    for (size_t i = 0; i < lim && *o + 1 < outsz; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[(*o)++] = ch < 0x20 ? '?' : (char)ch;
    }
    for (int k = 0; cut && k < 3 && *o + 1 < outsz; k++)
        out[(*o)++] = '.';
    out[*o] = '\0';
}

/* 'text' for a string value (truncated). */
static void quoted(const char *s, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    if (outsz < 8) {
        out[0] = '\0';
        return;
    }
    out[o++] = '\'';
    put_text(out, outsz - 1, &o, s, n, 60);
    out[o++] = '\'';
    out[o] = '\0';
}

/* Shortest of %.15g / %.17g that reads back as the same double: "0.1", not
 * "0.10000000000000001". */
static void fmt_double(double d, char *out, size_t n)
{
    snprintf(out, n, "%.15g", d);
    if (strtod(out, NULL) != d)
        snprintf(out, n, "%.17g", d);
}

/* A schema number (integer or double) for messages. */
static void fmt_num(const struct gw_schema__num *x, char *out, size_t n)
{
    if (x->is_int)
        snprintf(out, n, "%lld", (long long)x->i);
    else
        fmt_double(x->d, out, n);
}

/* An instance number for messages. */
static void fmt_jnum(const json_t *v, char *out, size_t n)
{
    size_t bl;
    const char *big = gw_json_bignum_text(v, &bl);
    if (big)
        snprintf(out, n, "%.*s", (int)(bl < 60 ? bl : 60), big);
    else if (json_is_integer(v))
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    else
        fmt_double(json_real_value(v), out, n);
}

/* "integer 5", "string 'abc'", "an object"... */
static void describe(const json_t *v, char *out, size_t n)
{
    char tmp[100];
    switch (json_typeof(v)) {
    case JSON_OBJECT: snprintf(out, n, "an object"); break;
    case JSON_ARRAY: snprintf(out, n, "an array"); break;
    case JSON_STRING:
        if (gw_json_is_bignum(v)) {
            fmt_jnum(v, tmp, sizeof(tmp));
            snprintf(out, n, "%s %s", gw_json_bignum_is_integer(v) ? "integer" : "number", tmp);
            break;
        }
        quoted(json_string_value(v), json_string_length(v), tmp, sizeof(tmp));
        snprintf(out, n, "string %s", tmp);
        break;
    case JSON_INTEGER:
        fmt_jnum(v, tmp, sizeof(tmp));
        snprintf(out, n, "integer %s", tmp);
        break;
    case JSON_REAL:
        fmt_jnum(v, tmp, sizeof(tmp));
        snprintf(out, n, "number %s", tmp);
        break;
    case JSON_TRUE: snprintf(out, n, "boolean true"); break;
    case JSON_FALSE: snprintf(out, n, "boolean false"); break;
    default: snprintf(out, n, "null"); break;
    }
}

/* Lower-cased ASCII letters and digits of s (other bytes dropped), at most cap bytes. */
static size_t fold(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < cap; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z')
            out[o++] = (char)(ch - 'A' + 'a');
        else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (unsigned char)ch >= 0x80)
            out[o++] = ch;
    }
    return o;
}

/* Whether two names are probably the same word misspelt: equal ignoring case and '_', '-',
 * '.', ' ' ("dealer_id" / "dealerId"), or within a small edit distance (none below 4
 * characters, 1 below 6, else 2). Used only to word error messages ("did you mean ..."). */
static bool near(const char *a, size_t an, const char *b, size_t bn)
{
    char fa[64], fb[64];
    if (an > 60 || bn > 60)
        return false;
    size_t la = fold(a, an, fa, sizeof(fa)), lb = fold(b, bn, fb, sizeof(fb));
    if (la == 0 || lb == 0)
        return false;
    if (la == lb && memcmp(fa, fb, la) == 0)
        return true;
    size_t longest = la > lb ? la : lb;
    size_t maxd = longest >= 6 ? 2 : longest >= 4 ? 1 : 0;
    if (maxd == 0)
        return false;
    if ((la > lb ? la - lb : lb - la) > maxd)
        return false;
    /* Levenshtein distance, two rows */
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        size_t best = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (fa[i - 1] != fb[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (cur[j] < best)
                best = cur[j];
        }
        if (best > maxd)
            return false;
        memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
    }
    return prev[lb] <= maxd;
}

/* Writes the JSON Pointer of `ip` into b; `stop` (may be NULL) is an ancestor to start from. */
static int ipath_str(const struct ipath *ip, const struct ipath *stop, struct gw_buf *b)
{
    if (!ip || ip == stop)
        return GW_OK;
    int rc = ipath_str(ip->up, stop, b);
    if (rc == GW_OK)
        rc = gw_buf_addc(b, '/');
    if (rc == GW_OK && ip->key)
        rc = gw_schema__ptr_escape(b, ip->key, ip->klen);
    else if (rc == GW_OK)
        rc = gw_buf_printf(b, "%zu", ip->idx);
    return rc;
}

/* Records a failure of keyword `kw` of node `n` at `ip` (kw NULL: the node itself). The only
 * place errors are recorded. QUIET: nothing. CAPTURE: the first message goes to the capture
 * buffer, prefixed with its location relative to the captured alternative. REPORT: a report
 * entry (instance pointer, keyword, absolute schema location, message); a full report stops
 * the validation (S_FULL): the caller only sees max_errors anyway. */
static void fail(struct vctx *c, const struct gw_schema__node *n, const struct ipath *ip,
                 const char *kw, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void fail(struct vctx *c, const struct gw_schema__node *n, const struct ipath *ip,
                 const char *kw, const char *fmt, ...)
{
    if (c->mode == M_QUIET || c->stop)
        return;
    char msg[MSG_MAX];
    va_list ap;
    if (c->mode == M_CAPTURE) {
        if (c->captured)
            return;
        c->captured = true;
        size_t o = 0;
        if (ip != c->cap_base) {
            struct gw_buf b;
            gw_buf_init(&b, 200);
            ipath_str(ip, c->cap_base, &b);
            o = (size_t)snprintf(c->cap, c->capsz, "at %s: ", gw_buf_ptr(&b));
            gw_buf_fini(&b);
            if (o >= c->capsz)
                o = c->capsz - 1;
        }
        va_start(ap, fmt);
        vsnprintf(c->cap + o, c->capsz - o, fmt, ap);
        va_end(ap);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct gw_buf ib, sb;
    gw_buf_init(&ib, 4096);
    gw_buf_init(&sb, 4096);
    ipath_str(ip, NULL, &ib);
    gw_schema__node_path(n, &sb);
    if (kw) {
        gw_buf_addc(&sb, '/');
        gw_buf_adds(&sb, kw);
    }
    if (!gw_schema__report_add(c->rep, gw_buf_ptr(&ib), kw ? kw : "false", gw_buf_ptr(&sb),
                               msg))
        c->stop = S_FULL;
    gw_buf_fini(&ib);
    gw_buf_fini(&sb);
}

/* ---- JSON equality and hashing (numbers by value: 1 == 1.0) ---- */

/* Numbers compare by value: 1 == 1.0. Mixed int/real comparisons go through long double,
 * which holds every 64-bit integer exactly on the platforms we build for. */
static bool num_eq(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);
    long double x = json_is_integer(a) ? (long double)json_integer_value(a)
                                       : (long double)json_real_value(a);
    long double y = json_is_integer(b) ? (long double)json_integer_value(b)
                                       : (long double)json_real_value(b);
    return x == y;
}

/* JSON equality for enum, const and uniqueItems: numbers by value, objects regardless of key
 * order. Recursion is bounded by JSON_DEPTH_MAX (beyond it: stop with a limit). */
static bool jeq(struct vctx *c, const json_t *a, const json_t *b, int depth)
{
    if (a == b)
        return true;
    if (json_is_number(a) && json_is_number(b))
        return num_eq(a, b);
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (depth > JSON_DEPTH_MAX) {
        limit(c, "the value is nested deeper than %d levels", JSON_DEPTH_MAX);
        return false;
    }
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY: {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!jeq(c, json_array_get(a, i), json_array_get(b, i), depth + 1))
                return false;
        return true;
    }
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        size_t kl;
        json_t *v;
        json_object_keylen_foreach((json_t *)(uintptr_t)a, k, kl, v)
        {
            json_t *w = json_object_getn(b, k, kl);
            if (!w || !jeq(c, v, w, depth + 1))
                return false;
        }
        return true;
    }
    default: return true; /* true, false, null: same type */
    }
}

/* 64-bit finaliser (murmur3) to spread hash bits. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

/* A hash consistent with jeq: equal values hash equal (integral reals hash as integers;
 * objects combine their members commutatively). */
static uint64_t jhash(const json_t *v, int depth)
{
    if (depth > JSON_DEPTH_MAX)
        return 0;
    switch (json_typeof(v)) {
    case JSON_INTEGER: return mix((uint64_t)json_integer_value(v));
    case JSON_REAL: {
        double d = json_real_value(v);
        if (floor(d) == d && d >= -9.2e18 && d <= 9.2e18)
            return mix((uint64_t)(json_int_t)d);
        uint64_t bits;
        memcpy(&bits, &d, sizeof(bits));
        return mix(bits ^ 0x5bd1e995u);
    }
    case JSON_STRING:
        return mix(gw_schema__hash(json_string_value(v), json_string_length(v)) ^ 0x1000000ull);
    case JSON_ARRAY: {
        uint64_t h = 0x2000000ull;
        for (size_t i = 0; i < json_array_size(v); i++)
            h = mix(h * 31 + jhash(json_array_get(v, i), depth + 1));
        return h;
    }
    case JSON_OBJECT: {
        uint64_t h = 0x3000000ull;
        const char *k;
        size_t kl;
        json_t *e;
        json_object_keylen_foreach((json_t *)(uintptr_t)v, k, kl, e)
        {
            h += mix(gw_schema__hash(k, kl) * 31 + jhash(e, depth + 1));
        }
        return h;
    }
    case JSON_TRUE: return 0x11;
    case JSON_FALSE: return 0x22;
    default: return 0x33;
    }
}

/* ---- regular expressions ---- */

/* PCRE2 allocator for the match data: bump allocation from vctx.mem, the heap beyond it. */
static void *bump_alloc(PCRE2_SIZE n, void *ud)
{
    struct vctx *c = ud;
    size_t need = (n + 15) & ~(size_t)15;
    if (c->memoff + need <= sizeof(c->mem)) {
        void *p = c->mem + c->memoff;
        c->memoff += need;
        return p;
    }
    return gw_trymalloc(n);
}

/* Frees only what came from the heap; vctx.mem dies with the validation. */
static void bump_free(void *p, void *ud)
{
    struct vctx *c = ud;
    unsigned char *b = p;
    if (b >= c->mem && b < c->mem + sizeof(c->mem))
        return;
    gw_free(p);
}

/* 1 match, 0 no match, -1 stopped (budget or memory). */
static int re_match(struct vctx *c, const struct gw_schema__regex *re, const char *s, size_t n)
{
    if (!tick(c, 1 + (long)(n >> 8)))
        return -1;
    if (!c->md) {
        c->gctx = pcre2_general_context_create(bump_alloc, bump_free, c);
        c->md = c->gctx ? pcre2_match_data_create(1, c->gctx) : NULL;
        if (!c->md) {
            nomem(c);
            return -1;
        }
    }
    /* mctx carries the match and heap limits; JIT code obeys the match limit too */
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, 0, 0, c->md, c->s->mctx);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    /* any other negative code is a resource limit (match, depth, heap, JIT stack) */
    if (rc == PCRE2_ERROR_NOMEMORY) {
        nomem(c);
        return -1;
    }
    limit(c, "matching the pattern '%.60s' exceeded its budget", re->src);
    return -1;
}

/* ---- keyword groups ---- */

/* A finite double without fractional part (JSON Schema's "integer" includes 1.0). */
static bool is_integral(double d)
{
    return isfinite(d) && floor(d) == d;
}

/* The GW_SCHEMA__T_* bits an instance satisfies (an integer is also a number). */
static unsigned inst_type_bits(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return GW_SCHEMA__T_OBJECT;
    case JSON_ARRAY: return GW_SCHEMA__T_ARRAY;
    case JSON_STRING:
        if (gw_json_is_bignum(v)) /* a number beyond jansson's range (core/json.h) */
            return GW_SCHEMA__T_NUMBER | (gw_json_bignum_is_integer(v) ? GW_SCHEMA__T_INTEGER : 0);
        return GW_SCHEMA__T_STRING;
    case JSON_INTEGER: return GW_SCHEMA__T_NUMBER | GW_SCHEMA__T_INTEGER;
    case JSON_REAL:
        return GW_SCHEMA__T_NUMBER | (is_integral(json_real_value(v)) ? GW_SCHEMA__T_INTEGER : 0);
    case JSON_TRUE:
    case JSON_FALSE: return GW_SCHEMA__T_BOOLEAN;
    default: return GW_SCHEMA__T_NULL;
    }
}

static const char *type_names[] = {"null",   "boolean", "object", "array",
                                   "number", "string",  "integer"};

/* `type` (+ OpenAPI `nullable`). Message: "expected A, B or C, found <value>". */
static bool v_type(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                   const struct ipath *ip)
{
    unsigned t = n->types | (n->nullable ? GW_SCHEMA__T_NULL : 0);
    if (inst_type_bits(inst) & t)
        return true;
    if (c->mode == M_QUIET)
        return false;
    char want[120], found[120];
    size_t o = 0, cnt = 0, total = 0;
    for (int b = 0; b < 7; b++)
        if (t & (1u << b))
            total++;
    want[0] = '\0';
    for (int b = 0; b < 7; b++) {
        if (!(t & (1u << b)))
            continue;
        cnt++;
        const char *sep = cnt == 1 ? "" : cnt == total ? " or " : ", ";
        o += (size_t)snprintf(want + o, sizeof(want) - o, "%s%s", sep, type_names[b]);
        if (o >= sizeof(want))
            break;
    }
    describe(inst, found, sizeof(found));
    fail(c, n, ip, "type", "expected %s, found %s", total ? want : "no type at all", found);
    return false;
}

/* `enum`. The message lists the allowed values (cut at ~400 bytes) and the value found. */
static bool v_enum(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                   const struct ipath *ip)
{
    /* OpenAPI 3.0: a nullable enum admits null even when null is not listed */
    if (n->nullable && json_is_null(inst))
        return true;
    size_t cnt = json_array_size(n->enum_vals);
    if (!tick(c, 1 + (long)(cnt >> 4)))
        return false;
    for (size_t i = 0; i < cnt; i++)
        if (jeq(c, inst, json_array_get(n->enum_vals, i), 0))
            return true;
    if (c->mode == M_QUIET)
        return false;
    char list[400], found[120];
    size_t o = 0;
    list[0] = '\0';
    for (size_t i = 0; i < cnt; i++) {
        char one[120];
        gw_schema__json_brief(json_array_get(n->enum_vals, i), one, sizeof(one), 100);
        if (o + strlen(one) + 24 >= sizeof(list)) {
            snprintf(list + o, sizeof(list) - o, "%s... (%zu more)", i ? ", " : "", cnt - i);
            break;
        }
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", one);
    }
    gw_schema__json_brief(inst, found, sizeof(found), 100);
    /* a string that is a near miss of one allowed string ("Periodic" for "periodic") */
    const json_t *hint = NULL;
    for (size_t i = 0; json_is_string(inst) && i < cnt && !hint; i++) {
        const json_t *e = json_array_get(n->enum_vals, i);
        if (json_is_string(e) && near(json_string_value(inst), json_string_length(inst),
                                      json_string_value(e), json_string_length(e)))
            hint = e;
    }
    if (hint) {
        char h[120];
        gw_schema__json_brief(hint, h, sizeof(h), 100);
        fail(c, n, ip, "enum", "must be one of: %s (found %s; did you mean %s?)",
             cnt ? list : "(nothing)", found, h);
    } else {
        fail(c, n, ip, "enum", "must be one of: %s (found %s)", cnt ? list : "(nothing)", found);
    }
    return false;
}

/* `const`. */
static bool v_const(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                    const struct ipath *ip)
{
    if (jeq(c, inst, n->const_val, 0))
        return true;
    char want[200], found[120];
    if (c->mode != M_QUIET) {
        gw_schema__json_brief(n->const_val, want, sizeof(want), 160);
        gw_schema__json_brief(inst, found, sizeof(found), 100);
        fail(c, n, ip, "const", "must be exactly %s (found %s)", want, found);
    }
    return false;
}

/* Compares an instance number with a schema bound exactly: -1, 0 or 1. */
static int num_cmp(const json_t *v, const struct gw_schema__num *lim)
{
    if (json_is_integer(v) && lim->is_int) {
        json_int_t a = json_integer_value(v);
        return a < lim->i ? -1 : a > lim->i;
    }
    long double x = json_is_integer(v) ? (long double)json_integer_value(v)
                                       : (long double)gw_json_number(v);
    long double y = lim->is_int ? (long double)lim->i : (long double)lim->d;
    return x < y ? -1 : x > y;
}

/* `multipleOf`: exact for integers; for reals the quotient must be within a few ulps of an
 * integer (0.0075 / 0.0001 is 74.99999999999999 in binary), and quotients too large for a
 * double use fmod, which is exact. */
static bool multiple_of(const json_t *v, const struct gw_schema__num *m)
{
    if (json_is_integer(v) && m->is_int)
        return json_integer_value(v) % m->i == 0;
    double x = gw_json_number(v);
    double d = m->is_int ? (double)m->i : m->d;
    double q = x / d;
    if (!isfinite(q))
        return fmod(x, d) == 0.0;
    double r = nearbyint(q);
    return fabs(q - r) <= fabs(q) * 8 * DBL_EPSILON;
}

/* Numeric keywords and numeric formats (int32, int64, float, double). */
static bool v_number(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                     const struct ipath *ip)
{
    bool ok = true, quick = c->mode != M_REPORT;
    uint64_t has = n->has;
    char a[64], b[64];
    /* the value is formatted once: every numeric message quotes it */
    fmt_jnum(inst, a, sizeof(a));
    if ((has & GW_SCHEMA__K_MINIMUM) && num_cmp(inst, &n->minimum) < 0) {
        fmt_num(&n->minimum, b, sizeof(b));
        fail(c, n, ip, "minimum", "value %s is less than the minimum of %s", a, b);
        ok = false;
        if (quick)
            return false;
    }
    if ((has & GW_SCHEMA__K_XMIN) && num_cmp(inst, &n->xmin) <= 0) {
        fmt_num(&n->xmin, b, sizeof(b));
        fail(c, n, ip, n->dialect == GW_SCHEMA_OPENAPI_30 ? "minimum" : "exclusiveMinimum",
             "value %s must be greater than %s", a, b);
        ok = false;
        if (quick)
            return false;
    }
    if ((has & GW_SCHEMA__K_MAXIMUM) && num_cmp(inst, &n->maximum) > 0) {
        fmt_num(&n->maximum, b, sizeof(b));
        fail(c, n, ip, "maximum", "value %s is greater than the maximum of %s", a, b);
        ok = false;
        if (quick)
            return false;
    }
    if ((has & GW_SCHEMA__K_XMAX) && num_cmp(inst, &n->xmax) >= 0) {
        fmt_num(&n->xmax, b, sizeof(b));
        fail(c, n, ip, n->dialect == GW_SCHEMA_OPENAPI_30 ? "maximum" : "exclusiveMaximum",
             "value %s must be less than %s", a, b);
        ok = false;
        if (quick)
            return false;
    }
    if ((has & GW_SCHEMA__K_MULTIPLE) && !multiple_of(inst, &n->multiple_of)) {
        fmt_num(&n->multiple_of, b, sizeof(b));
        fail(c, n, ip, "multipleOf", "value %s is not a multiple of %s", a, b);
        ok = false;
        if (quick)
            return false;
    }
    if ((has & GW_SCHEMA__K_FORMAT) && gw_schema__format_is_numeric(n->format) &&
        !gw_schema__format_check_number(n->format, inst)) {
        fail(c, n, ip, "format", "value %s is out of range for format '%s'", a, n->format_name);
        ok = false;
    }
    return ok;
}

/* Code points of valid UTF-8 (jansson guarantees validity): count non-continuation bytes. */
static size_t utf8_len(const char *s, size_t n)
{
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++)
        cnt += ((unsigned char)s[i] & 0xC0) != 0x80;
    return cnt;
}

/* draft-07 contentEncoding (base64) / contentMediaType (application/json) assertions. */
static bool v_content(struct vctx *c, const struct gw_schema__node *n, const char *s, size_t len,
                      const struct ipath *ip)
{
    const char *doc = s;
    size_t doclen = len;
    unsigned char *dec = NULL;
    bool ok = true;
    if (!tick(c, 1 + (long)(len >> 8)))
        return false;
    /* decode first: contentMediaType then applies to the decoded bytes */
    if (n->content_b64) {
        dec = gw_trymalloc(len / 4 * 3 + 1);
        if (!dec) {
            nomem(c);
            return false;
        }
        if (!gw_schema__base64_decode(s, len, dec, &doclen)) {
            fail(c, n, ip, "contentEncoding", "value is not valid base64 (contentEncoding)");
            ok = false;
        }
        doc = (const char *)dec;
    }
    if (ok && n->content_json) {
        json_t *j = json_loadb(doc, doclen, JSON_DECODE_ANY, NULL);
        if (!j) {
            fail(c, n, ip, "contentMediaType",
                 "value is not a valid JSON document (contentMediaType application/json)");
            ok = false;
        }
        json_decref(j);
    }
    gw_free(dec);
    return ok;
}

/* String keywords: lengths in code points, pattern, format, draft-07 content. */
static bool v_string(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                     const struct ipath *ip)
{
    bool ok = true, quick = c->mode != M_REPORT;
    uint64_t has = n->has;
    const char *s = json_string_value(inst);
    size_t len = json_string_length(inst);
    char q[100];
    if (has & (GW_SCHEMA__K_MINLEN | GW_SCHEMA__K_MAXLEN)) {
        /* a code point count lies in [bytes/4, bytes]: count only when a limit can fail */
        size_t cp = len;
        if (((has & GW_SCHEMA__K_MAXLEN) && len > n->max_len) ||
            ((has & GW_SCHEMA__K_MINLEN) && (len + 3) / 4 < n->min_len))
            cp = utf8_len(s, len);
        if ((has & GW_SCHEMA__K_MINLEN) && cp < n->min_len) {
            fail(c, n, ip, "minLength",
                 "string is too short (%zu character%s); the minimum length is %zu", cp,
                 cp == 1 ? "" : "s", n->min_len);
            ok = false;
            if (quick)
                return false;
        }
        if ((has & GW_SCHEMA__K_MAXLEN) && cp > n->max_len) {
            fail(c, n, ip, "maxLength",
                 "string is too long (%zu characters); the maximum length is %zu", cp,
                 n->max_len);
            ok = false;
            if (quick)
                return false;
        }
    }
    /* pattern: unanchored search, as ECMA-262 RegExp.test */
    if (has & GW_SCHEMA__K_PATTERN) {
        int m = re_match(c, &n->pattern, s, len);
        if (m < 0)
            return false;
        if (m == 0) {
            if (c->mode != M_QUIET) {
                char p[100];
                quoted(s, len, q, sizeof(q));
                quoted(n->pattern.src, strlen(n->pattern.src), p, sizeof(p));
                fail(c, n, ip, "pattern", "value %s does not match pattern %s", q, p);
            }
            ok = false;
            if (quick)
                return false;
        }
    }
    /* format: only compiled in (K_FORMAT) when asserted and known */
    if ((has & GW_SCHEMA__K_FORMAT) && !gw_schema__format_is_numeric(n->format) &&
        !gw_schema__format_check_string(n->format, s, len)) {
        if (c->mode != M_QUIET) {
            quoted(s, len, q, sizeof(q));
            fail(c, n, ip, "format", "value %s is not a valid %s", q, n->format_name);
        }
        ok = false;
        if (quick)
            return false;
    }
    if ((has & GW_SCHEMA__K_CONTENT) && !v_content(c, n, s, len, ip))
        ok = false;
    return ok;
}

/* ---- arrays ---- */

/* (hash, index) pairs sorted to find equal items of large arrays in O(n log n). */
struct hidx {
    uint64_t h;
    size_t i;
};

static int hidx_cmp(const void *a, const void *b)
{
    const struct hidx *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Finds two equal items; true with *a < *b set, false when all are unique (or on stop). */
static bool find_duplicate(struct vctx *c, const json_t *arr, size_t *a, size_t *b)
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return false;
    /* up to 32 items pairwise comparison is cheaper than hashing */
    if (n <= 32) {
        if (!tick(c, (long)(n * n / 16 + 1)))
            return false;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (jeq(c, json_array_get(arr, i), json_array_get(arr, j), 0)) {
                    *a = i;
                    *b = j;
                    return true;
                }
        return false;
    }
    if (!tick(c, (long)(n / 4 + 1)))
        return false;
    struct hidx *h = gw_trymalloc(n * sizeof(*h));
    if (!h) {
        nomem(c);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        h[i].h = jhash(json_array_get(arr, i), 0);
        h[i].i = i;
    }
    /* equal items hash equal, so after sorting they sit in one run of equal hashes; runs of
     * unequal items with colliding hashes are rare and still compared exactly */
    qsort(h, n, sizeof(*h), hidx_cmp);
    bool found = false;
    for (size_t i = 0; i + 1 < n && !found && !c->stop; i++) {
        for (size_t j = i + 1; j < n && h[j].h == h[i].h; j++) {
            if (!tick(c, 1))
                break;
            if (jeq(c, json_array_get(arr, h[i].i), json_array_get(arr, h[j].i), 0)) {
                *a = h[i].i < h[j].i ? h[i].i : h[j].i;
                *b = h[i].i < h[j].i ? h[j].i : h[i].i;
                found = true;
                break;
            }
        }
    }
    gw_free(h);
    return found;
}

/* Array keywords. prefixItems (or draft-07 tuple items) mark their indices evaluated, items
 * (or additionalItems) marks all, contains marks the items it matched (evaluated quietly: a
 * non-matching item is not an error). */
static bool v_array(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                    const struct ipath *ip, const struct scope *sc, struct evset *track)
{
    bool ok = true, quick = c->mode != M_REPORT;
    uint64_t has = n->has;
    size_t size = json_array_size(inst);
    if ((has & GW_SCHEMA__K_MINITEMS) && size < n->min_items) {
        fail(c, n, ip, "minItems", "array has %zu item%s; at least %zu %s required", size,
             size == 1 ? "" : "s", n->min_items, n->min_items == 1 ? "is" : "are");
        ok = false;
        if (quick)
            return false;
    }
    if ((has & GW_SCHEMA__K_MAXITEMS) && size > n->max_items) {
        fail(c, n, ip, "maxItems", "array has %zu items; at most %zu %s allowed", size,
             n->max_items, n->max_items == 1 ? "is" : "are");
        ok = false;
        if (quick)
            return false;
    }
    if (has & GW_SCHEMA__K_UNIQUE) {
        size_t a, b;
        if (find_duplicate(c, inst, &a, &b)) {
            fail(c, n, ip, "uniqueItems",
                 "items at index %zu and %zu are equal; array items must be unique", a, b);
            ok = false;
            if (quick)
                return false;
        }
        if (c->stop)
            return false;
    }
    /* tuple part: prefixItems (2020-12) or the array form of items (draft-07, 2019-09); a
     * shorter array simply has fewer positions to check */
    size_t start = 0;
    if (has & GW_SCHEMA__K_PREFIX) {
        size_t m = size < n->nprefix ? size : n->nprefix;
        for (size_t i = 0; i < m; i++) {
            struct ipath cip = {ip, NULL, 0, i};
            if (!v_node(c, n->prefix[i], json_array_get(inst, i), &cip, sc, NULL)) {
                ok = false;
                if (quick || c->stop)
                    return false;
            }
            ev_mark(track, i);
        }
        start = n->nprefix;
    }
    /* rest part: items (2020-12) or additionalItems after a tuple; `false` gets one error for
     * the whole array rather than one per extra item */
    if ((has & GW_SCHEMA__K_ITEMS) && size > start) {
        if (n->items->kind == GW_SCHEMA__N_FALSE) {
            if (start == 0)
                fail(c, n->items, ip, NULL, "array must be empty (found %zu item%s)", size,
                     size == 1 ? "" : "s");
            else
                fail(c, n->items, ip, NULL,
                     "array has %zu items; at most %zu %s allowed (the item at index %zu and "
                     "later ones are not)",
                     size, start, start == 1 ? "is" : "are", start);
            ok = false;
            if (quick)
                return false;
        } else {
            for (size_t i = start; i < size; i++) {
                struct ipath cip = {ip, NULL, 0, i};
                if (!v_node(c, n->items, json_array_get(inst, i), &cip, sc, NULL)) {
                    ok = false;
                    if (quick || c->stop)
                        return false;
                }
            }
        }
        if (track)
            track->all = true;
    }
    /* contains with minContains (default 1) and maxContains (default unbounded); without
     * annotation tracking and without a maximum, counting can stop at the minimum */
    if (has & GW_SCHEMA__K_CONTAINS) {
        size_t matches = 0;
        int saved = c->mode;
        c->mode = M_QUIET;
        for (size_t i = 0; i < size; i++) {
            struct ipath cip = {ip, NULL, 0, i};
            if (v_node(c, n->contains, json_array_get(inst, i), &cip, sc, NULL)) {
                matches++;
                ev_mark(track, i);
                if (!track && matches >= n->min_contains && n->max_contains == SIZE_MAX)
                    break;
            }
            if (c->stop)
                break;
        }
        c->mode = saved;
        if (c->stop)
            return false;
        if (matches < n->min_contains) {
            fail(c, n, ip, n->min_contains == 1 && !json_object_get(n->json, "minContains")
                                  ? "contains"
                                  : "minContains",
                 "array must contain at least %zu item%s matching the 'contains' schema (found "
                 "%zu)",
                 n->min_contains, n->min_contains == 1 ? "" : "s", matches);
            ok = false;
            if (quick)
                return false;
        }
        if (matches > n->max_contains) {
            fail(c, n, ip, "maxContains",
                 "array contains %zu items matching the 'contains' schema; at most %zu %s "
                 "allowed",
                 matches, n->max_contains, n->max_contains == 1 ? "is" : "are");
            ok = false;
        }
    }
    return ok;
}

/* ---- objects ---- */

/* `properties` lookup: hash, then linear probing in the compiled index. */
static const struct gw_schema__prop *prop_find(const struct gw_schema__propmap *pm,
                                               const char *k, size_t kl)
{
    uint32_t h = gw_schema__hash(k, kl);
    for (uint32_t s = h & pm->mask;; s = (s + 1) & pm->mask) {
        uint32_t idx = pm->slots[s];
        if (!idx)
            return NULL;
        const struct gw_schema__prop *p = &pm->list[idx - 1];
        if (p->hash == h && p->name.n == kl && memcmp(p->name.s, k, kl) == 0)
            return p;
    }
}

/* A declared property name close to `k`, for "did you mean" hints; NULL if none. */
static const struct gw_schema__name *near_declared(const struct gw_schema__node *n,
                                                   const char *k, size_t kl)
{
    for (uint32_t i = 0; i < n->props.n; i++) {
        const struct gw_schema__name *nm = &n->props.list[i].name;
        if (near(k, kl, nm->s, nm->n))
            return nm;
    }
    return NULL;
}

/* An undeclared member of `inst` whose name is close to the missing required `r`. */
static bool near_member(const struct gw_schema__node *n, json_t *inst,
                        const struct gw_schema__name *r, const char **out, size_t *outlen)
{
    const char *k;
    size_t kl;
    json_t *v;
    json_object_keylen_foreach(inst, k, kl, v)
    {
        if ((n->has & GW_SCHEMA__K_PROPS) && prop_find(&n->props, k, kl))
            continue;
        if (near(k, kl, r->s, r->n)) {
            *out = k;
            *outlen = kl;
            return true;
        }
    }
    return false;
}

/* "a, b, c" of the declared property names, for "additional property" messages. */
static void allowed_list(const struct gw_schema__node *n, char *out, size_t outsz)
{
    size_t o = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < n->props.n; i++) {
        const struct gw_schema__name *nm = &n->props.list[i].name;
        if (o + nm->n + 20 >= outsz) {
            snprintf(out + o, outsz - o, ", ... (%u more)", n->props.n - i);
            return;
        }
        if (i)
            o += (size_t)snprintf(out + o, outsz - o, ", ");
        put_text(out, outsz, &o, nm->s, nm->n, 64);
    }
}

/* Applies propertyNames to one key. */
static bool v_propname(struct vctx *c, const struct gw_schema__node *n, const char *k,
                       size_t kl, const struct ipath *ip, const struct scope *sc)
{
    const struct gw_schema__node *pn = n->prop_names;
    char q[100];
    if (pn->kind == GW_SCHEMA__N_FALSE) {
        quoted(k, kl, q, sizeof(q));
        fail(c, pn, ip, NULL, "property %s is not allowed (no property names are allowed)", q);
        return false;
    }
    json_t *name = json_stringn_nocheck(k, kl);
    if (!name) {
        nomem(c);
        return false;
    }
    /* quiet first (the common, valid case costs no message); on failure, in REPORT mode, run
     * again capturing the reason */
    int saved = c->mode;
    c->mode = M_QUIET;
    bool ok = v_node(c, pn, name, ip, sc, NULL);
    c->mode = saved;
    if (!ok && !c->stop && saved != M_QUIET) {
        char why[300];
        char *scap = c->cap;
        size_t scapsz = c->capsz;
        bool scaptured = c->captured;
        const struct ipath *sbase = c->cap_base;
        if (saved == M_REPORT) {
            why[0] = '\0';
            c->mode = M_CAPTURE;
            c->cap = why;
            c->capsz = sizeof(why);
            c->captured = false;
            c->cap_base = ip;
            v_node(c, pn, name, ip, sc, NULL);
            c->mode = saved;
            c->cap = scap;
            c->capsz = scapsz;
            c->captured = scaptured;
            c->cap_base = sbase;
        } else {
            snprintf(why, sizeof(why), "it does not satisfy propertyNames");
        }
        quoted(k, kl, q, sizeof(q));
        fail(c, n, ip, "propertyNames", "property name %s is invalid: %s", q,
             why[0] ? why : "it does not satisfy propertyNames");
    }
    json_decref(name);
    return ok;
}

/* Object keywords. One pass over the instance's members applies properties,
 * patternProperties, additionalProperties and propertyNames together and records, by member
 * position, which members were evaluated (positions are stable: the instance is read-only). */
static bool v_object(struct vctx *c, const struct gw_schema__node *n, const json_t *cinst,
                     const struct ipath *ip, const struct scope *sc, struct evset *track)
{
    json_t *inst = (json_t *)(uintptr_t)cinst; /* iteration needs a non-const pointer; read-only */
    bool ok = true, quick = c->mode != M_REPORT;
    uint64_t has = n->has;
    size_t size = json_object_size(inst);
    char q[100];
    if ((has & GW_SCHEMA__K_MINPROPS) && size < n->min_props) {
        fail(c, n, ip, "minProperties", "object has %zu propert%s; at least %zu %s required",
             size, size == 1 ? "y" : "ies", n->min_props, n->min_props == 1 ? "is" : "are");
        ok = false;
        if (quick)
            return false;
    }
    if ((has & GW_SCHEMA__K_MAXPROPS) && size > n->max_props) {
        fail(c, n, ip, "maxProperties", "object has %zu properties; at most %zu %s allowed",
             size, n->max_props, n->max_props == 1 ? "is" : "are");
        ok = false;
        if (quick)
            return false;
    }
    /* required: one hash lookup per name; every missing name is its own error */
    if (has & GW_SCHEMA__K_REQUIRED) {
        for (size_t i = 0; i < n->nrequired; i++) {
            const struct gw_schema__name *r = &n->required[i];
            if (json_object_getn(inst, r->s, r->n))
                continue;
            if (c->mode != M_QUIET) {
                const char *mk;
                size_t mkl;
                quoted(r->s, r->n, q, sizeof(q));
                if (near_member(n, inst, r, &mk, &mkl)) {
                    char q2[100];
                    quoted(mk, mkl, q2, sizeof(q2));
                    fail(c, n, ip, "required",
                         "missing required property %s (the value has %s: a misspelling?)", q,
                         q2);
                } else {
                    fail(c, n, ip, "required", "missing required property %s", q);
                }
            }
            ok = false;
            if (quick || c->stop)
                return false;
        }
    }
    /* dependentRequired (and draft-07 array dependencies): names required by a present key */
    if (has & GW_SCHEMA__K_DEPREQ) {
        for (size_t d = 0; d < n->ndepreq; d++) {
            const struct gw_schema__depreq *dr = &n->depreq[d];
            if (!json_object_getn(inst, dr->key.s, dr->key.n))
                continue;
            for (size_t i = 0; i < dr->nreq; i++) {
                if (json_object_getn(inst, dr->req[i].s, dr->req[i].n))
                    continue;
                if (c->mode != M_QUIET) {
                    char q2[100];
                    quoted(dr->req[i].s, dr->req[i].n, q, sizeof(q));
                    quoted(dr->key.s, dr->key.n, q2, sizeof(q2));
                    fail(c, n, ip,
                         json_object_get(n->json, "dependentRequired") ? "dependentRequired"
                                                                       : "dependencies",
                         "property %s is required when %s is present", q, q2);
                }
                ok = false;
                if (quick || c->stop)
                    return false;
            }
        }
    }
    if (has & (GW_SCHEMA__K_PROPS | GW_SCHEMA__K_PATPROPS | GW_SCHEMA__K_ADDLPROPS |
               GW_SCHEMA__K_PROPNAMES)) {
        const char *k;
        size_t kl, i = 0;
        json_t *v;
        json_object_keylen_foreach(inst, k, kl, v)
        {
            /* `matched`: covered by properties or patternProperties, so additionalProperties
             * does not apply (it applies to the members no other keyword named) */
            struct ipath cip = {ip, k, kl, 0};
            bool matched = false;
            if (has & GW_SCHEMA__K_PROPS) {
                const struct gw_schema__prop *p = prop_find(&n->props, k, kl);
                if (p) {
                    matched = true;
                    ev_mark(track, i);
                    if (p->node->kind == GW_SCHEMA__N_FALSE) {
                        quoted(k, kl, q, sizeof(q));
                        fail(c, p->node, &cip, NULL, "property %s is not allowed", q);
                        ok = false;
                    } else if (!v_node(c, p->node, v, &cip, sc, NULL)) {
                        ok = false;
                    }
                }
            }
            /* every matching pattern applies (unlike properties, several may) */
            for (size_t pi = 0; (has & GW_SCHEMA__K_PATPROPS) && pi < n->npatprops; pi++) {
                const struct gw_schema__patprop *pp = &n->patprops[pi];
                int m = re_match(c, &pp->re, k, kl);
                if (m < 0)
                    return false;
                if (m == 0)
                    continue;
                matched = true;
                ev_mark(track, i);
                if (!v_node(c, pp->node, v, &cip, sc, NULL))
                    ok = false;
                if (!ok && (quick || c->stop))
                    break;
            }
            if (!matched && (has & GW_SCHEMA__K_ADDLPROPS)) {
                ev_mark(track, i);
                if (n->addl_props->kind == GW_SCHEMA__N_FALSE) {
                    if (c->mode != M_QUIET) {
                        char allowed[300];
                        quoted(k, kl, q, sizeof(q));
                        allowed_list(n, allowed, sizeof(allowed));
                        const struct gw_schema__name *hint = near_declared(n, k, kl);
                        char q2[100];
                        if (hint)
                            quoted(hint->s, hint->n, q2, sizeof(q2));
                        if (hint)
                            fail(c, n, &cip, "additionalProperties",
                                 "additional property %s is not allowed (did you mean %s?)", q,
                                 q2);
                        else if (n->props.n)
                            fail(c, n, &cip, "additionalProperties",
                                 "additional property %s is not allowed (allowed: %s)", q,
                                 allowed);
                        else
                            fail(c, n, &cip, "additionalProperties",
                                 "additional property %s is not allowed", q);
                    }
                    ok = false;
                } else if (!v_node(c, n->addl_props, v, &cip, sc, NULL)) {
                    ok = false;
                }
            }
            if ((has & GW_SCHEMA__K_PROPNAMES) && !v_propname(c, n, k, kl, ip, sc))
                ok = false;
            i++;
            if (!ok && (quick || c->stop))
                return false;
        }
    }
    /* dependentSchemas apply to the object itself, in place: they share its annotations */
    if (has & GW_SCHEMA__K_DEPSCH) {
        for (size_t d = 0; d < n->ndepsch; d++) {
            const struct gw_schema__depsch *ds = &n->depsch[d];
            if (!json_object_getn(inst, ds->key.s, ds->key.n))
                continue;
            if (!v_node(c, ds->node, inst, ip, sc, track)) {
                ok = false;
                if (quick || c->stop)
                    return false;
            }
        }
    }
    return ok;
}

/* unevaluatedProperties: members no annotation marked, after every other keyword ran. */
static bool v_uneval_props(struct vctx *c, const struct gw_schema__node *n, const json_t *cinst,
                           const struct ipath *ip, const struct scope *sc, struct evset *track)
{
    json_t *inst = (json_t *)(uintptr_t)cinst;
    bool ok = true, quick = c->mode != M_REPORT;
    const char *k;
    size_t kl, i = 0;
    json_t *v;
    json_object_keylen_foreach(inst, k, kl, v)
    {
        if (!ev_has(track, i)) {
            struct ipath cip = {ip, k, kl, 0};
            if (n->uneval_props->kind == GW_SCHEMA__N_FALSE) {
                char q[100];
                quoted(k, kl, q, sizeof(q));
                fail(c, n, &cip, "unevaluatedProperties",
                     "property %s is not allowed here (it is not defined by the schema)", q);
                ok = false;
            } else if (!v_node(c, n->uneval_props, v, &cip, sc, NULL)) {
                ok = false;
            }
            if (!ok && (quick || c->stop))
                return false;
        }
        i++;
    }
    track->all = true;
    return ok;
}

/* unevaluatedItems: items no annotation marked. */
static bool v_uneval_items(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                           const struct ipath *ip, const struct scope *sc, struct evset *track)
{
    bool ok = true, quick = c->mode != M_REPORT;
    size_t size = json_array_size(inst);
    for (size_t i = 0; i < size; i++) {
        if (ev_has(track, i))
            continue;
        struct ipath cip = {ip, NULL, 0, i};
        if (n->uneval_items->kind == GW_SCHEMA__N_FALSE) {
            fail(c, n, &cip, "unevaluatedItems",
                 "item at index %zu is not allowed here (no schema defines it)", i);
            ok = false;
        } else if (!v_node(c, n->uneval_items, json_array_get(inst, i), &cip, sc, NULL)) {
            ok = false;
        }
        if (!ok && (quick || c->stop))
            return false;
    }
    track->all = true;
    return ok;
}

/* ---- combinators ---- */

/* Instance types a subschema can accept at first sight (type, const, enum, through $ref and
 * allOf), to find the one alternative of an anyOf/oneOf that was meant. */
static unsigned type_hint(const struct gw_schema__node *n, int depth)
{
    if (n->kind == GW_SCHEMA__N_TRUE)
        return GW_SCHEMA__T_ANY;
    if (n->kind == GW_SCHEMA__N_FALSE || depth > 8)
        return n->kind == GW_SCHEMA__N_FALSE ? 0 : GW_SCHEMA__T_ANY;
    /* intersect what each keyword allows; unknown constraints allow everything */
    unsigned t = GW_SCHEMA__T_ANY;
    if (n->has & GW_SCHEMA__K_TYPE) {
        t = n->types | (n->nullable ? GW_SCHEMA__T_NULL : 0);
        if (t & GW_SCHEMA__T_NUMBER)
            t |= GW_SCHEMA__T_INTEGER;
    }
    if (n->has & GW_SCHEMA__K_CONST)
        t &= inst_type_bits(n->const_val);
    if (n->has & GW_SCHEMA__K_ENUM) {
        unsigned e = 0;
        for (size_t i = 0; i < json_array_size(n->enum_vals); i++)
            e |= inst_type_bits(json_array_get(n->enum_vals, i));
        t &= e;
    }
    if (n->has & GW_SCHEMA__K_REF)
        t &= type_hint(n->ref, depth + 1);
    for (size_t i = 0; (n->has & GW_SCHEMA__K_ALLOF) && i < n->nall; i++)
        t &= type_hint(n->all_of[i], depth + 1);
    return t;
}

/* Runs `b` in CAPTURE mode and writes the first reason it fails into out. */
static void capture(struct vctx *c, const struct gw_schema__node *b, const json_t *inst,
                    const struct ipath *ip, const struct scope *sc, char *out, size_t outsz)
{
    int smode = c->mode;
    char *scap = c->cap;
    size_t scapsz = c->capsz;
    bool scaptured = c->captured;
    const struct ipath *sbase = c->cap_base;
    out[0] = '\0';
    c->mode = M_CAPTURE;
    c->cap = out;
    c->capsz = outsz;
    c->captured = false;
    c->cap_base = ip;
    v_node(c, b, inst, ip, sc, NULL);
    c->mode = smode;
    c->cap = scap;
    c->capsz = scapsz;
    c->captured = scaptured;
    c->cap_base = sbase;
    if (!out[0])
        snprintf(out, outsz, "does not match");
}

/* Reports that no alternative of anyOf/oneOf matched. */
static void no_alternative(struct vctx *c, const struct gw_schema__node *n, const char *kw,
                           struct gw_schema__node *const *alts, size_t nalt, const json_t *inst,
                           const struct ipath *ip, const struct scope *sc)
{
    if (c->mode == M_QUIET || c->stop)
        return;
    if (c->mode == M_CAPTURE) {
        fail(c, n, ip, kw, "value does not match any of the %zu alternatives (%s)", nalt, kw);
        return;
    }
    /* one alternative fits the value's type (typically anyOf [X, null]): its own errors are the
     * useful ones, so it runs again in REPORT mode instead of a summary */
    unsigned it = inst_type_bits(inst);
    size_t fit = SIZE_MAX, nfit = 0;
    for (size_t i = 0; i < nalt; i++) {
        if (type_hint(alts[i], 0) & it) {
            fit = i;
            nfit++;
        }
    }
    if (nfit == 1) {
        v_node(c, alts[fit], inst, ip, sc, NULL);
        return;
    }
    /* otherwise one message that says, per alternative (at most 6), why it did not match */
    char msg[MSG_MAX - 40];
    size_t o = (size_t)snprintf(msg, sizeof(msg),
                                "value does not match any of the %zu alternatives (%s)", nalt,
                                kw);
    for (size_t i = 0; i < nalt && i < 6 && o + 16 < sizeof(msg); i++) {
        char why[200];
        capture(c, alts[i], inst, ip, sc, why, sizeof(why));
        if (c->stop)
            return;
        o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s option %zu: %s", i ? ";" : ":",
                              i + 1, why);
    }
    if (o >= sizeof(msg))
        memcpy(msg + sizeof(msg) - 4, "...", 4);
    else if (nalt > 6)
        snprintf(msg + o, sizeof(msg) - o, "; ... (%zu more)", nalt - 6);
    fail(c, n, ip, kw, "%s", msg);
}

/* anyOf: alternatives run quietly; the first success ends the search unless annotations are
 * tracked (then every successful alternative contributes its annotations). */
static bool v_anyof(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                    const struct ipath *ip, const struct scope *sc, struct evset *track)
{
    int saved = c->mode;
    bool any = false;
    c->mode = M_QUIET;
    for (size_t i = 0; i < n->nany; i++) {
        struct evset tmp;
        struct evset *b = ev_branch(c, track, &tmp, inst);
        if (c->stop)
            break;
        if (v_node(c, n->any_of[i], inst, ip, sc, b)) {
            any = true;
            ev_merge(track, b);
        }
        if (b)
            ev_fini(b);
        if (c->stop || (any && !track))
            break;
    }
    c->mode = saved;
    if (c->stop)
        return false;
    if (!any)
        no_alternative(c, n, "anyOf", n->any_of, n->nany, inst, ip, sc);
    return any;
}

/* oneOf: stops at the second success. With tracking, the annotations of the single
 * successful alternative are kept in `keep` until the outcome is known. */
static bool v_oneof(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                    const struct ipath *ip, const struct scope *sc, struct evset *track)
{
    int saved = c->mode;
    size_t count = 0, first = 0, second = 0;
    struct evset keep;
    bool have_keep = false;
    c->mode = M_QUIET;
    /* two successes settle the outcome; later alternatives need not run */
    for (size_t i = 0; i < n->none && count < 2; i++) {
        struct evset tmp;
        struct evset *b = ev_branch(c, track, &tmp, inst);
        if (c->stop)
            break;
        if (v_node(c, n->one_of[i], inst, ip, sc, b)) {
            if (count == 0)
                first = i;
            else
                second = i;
            count++;
            if (b && count == 1) {
                /* move the set: an inline set must point at its new home */
                keep = *b;
                if (b->w == b->inl)
                    keep.w = keep.inl;
                have_keep = true;
                b = NULL; /* ownership moved to keep */
            }
        }
        if (b)
            ev_fini(b);
        if (c->stop)
            break;
    }
    c->mode = saved;
    if (have_keep) {
        if (count == 1 && !c->stop)
            ev_merge(track, &keep);
        ev_fini(&keep);
    }
    if (c->stop)
        return false;
    if (count == 0) {
        no_alternative(c, n, "oneOf", n->one_of, n->none, inst, ip, sc);
        return false;
    }
    if (count > 1) {
        fail(c, n, ip, "oneOf",
             "value matches more than one alternative (options %zu and %zu) but must match "
             "exactly one (oneOf)",
             first + 1, second + 1);
        return false;
    }
    return true;
}

/* not: the subschema runs quietly and contributes no annotations. */
static bool v_not(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                  const struct ipath *ip, const struct scope *sc)
{
    int saved = c->mode;
    c->mode = M_QUIET;
    bool r = v_node(c, n->not_, inst, ip, sc, NULL);
    c->mode = saved;
    if (c->stop)
        return false;
    if (!r)
        return true;
    if (c->mode != M_QUIET) {
        char s[200];
        gw_schema__json_brief(n->not_->json, s, sizeof(s), 160);
        fail(c, n, ip, "not", "value must not match the schema %s", s);
    }
    return false;
}

/* if/then/else: `if` runs quietly (its annotations count when it succeeds), then the chosen
 * branch runs in the current mode so its errors are reported as they are. */
static bool v_if(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                 const struct ipath *ip, const struct scope *sc, struct evset *track)
{
    int saved = c->mode;
    struct evset tmp;
    struct evset *b = ev_branch(c, track, &tmp, inst);
    if (c->stop)
        return false;
    c->mode = M_QUIET;
    bool cond = v_node(c, n->if_, inst, ip, sc, b);
    c->mode = saved;
    if (b) {
        if (cond)
            ev_merge(track, b);
        ev_fini(b);
    }
    if (c->stop)
        return false;
    const struct gw_schema__node *next = cond ? n->then_ : n->else_;
    return next ? v_node(c, next, inst, ip, sc, track) : true;
}

/* $dynamicRef: when dynamic, the outermost resource of the dynamic scope that declares the
 * anchor wins; otherwise (or when none does) the statically resolved target. */
static const struct gw_schema__node *dyn_target(const struct gw_schema__node *n,
                                                const struct scope *sc)
{
    if (!n->dyn_name)
        return n->dynref;
    const struct gw_schema__node *found = NULL;
    for (const struct scope *s = sc; s; s = s->up) {
        const struct gw_schema__resource *r = s->res;
        for (size_t i = 0; r && i < r->ndyn; i++) {
            if (strcmp(r->dyn[i].name, n->dyn_name) == 0) {
                found = r->dyn[i].node; /* keep going: the outermost one wins */
                break;
            }
        }
    }
    return found ? found : n->dynref;
}

/* ---- one subschema ---- */

/* The keywords of one object node, in dependency order (see the file comment). In REPORT
 * mode every keyword runs so that all errors are collected; otherwise the first failure
 * returns. A node with unevaluated* owns a fresh annotation set for this instance and passes
 * it down; its annotations reach the caller's set only if the node succeeds. */
static bool v_keywords(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                       const struct ipath *ip, const struct scope *sc, struct evset *ev)
{
    uint64_t has = n->has;
    bool ok = true, quick = c->mode != M_REPORT;
    /* OpenAPI 3.0 `nullable: true` admits null outright, also next to allOf/oneOf/$ref-like
     * wrappers (a common generator pattern), not only next to `type` */
    if (n->nullable && json_is_null(inst))
        return true;
    struct evset local;
    struct evset *track = ev;
    bool own = (has & UNEVAL_KWS) && (json_is_object(inst) || json_is_array(inst));
    if (own) {
        if (!ev_init(c, &local, inst_size(inst)))
            return false;
        track = &local;
    }
#define CHECK(expr)                    \
    do {                               \
        if (!(expr)) {                 \
            ok = false;                \
            if (quick || c->stop)      \
                goto out;              \
        } else if (c->stop) {          \
            ok = false;                \
            goto out;                  \
        }                              \
    } while (0)

    /* in-place applicators share this node's annotation set: if they fail, so does the node */
    if (has & GW_SCHEMA__K_REF)
        CHECK(v_node(c, n->ref, inst, ip, sc, track));
    if (has & GW_SCHEMA__K_DYNREF)
        CHECK(v_node(c, dyn_target(n, sc), inst, ip, sc, track));
    if (has & GW_SCHEMA__K_TYPE)
        CHECK(v_type(c, n, inst, ip));
    if (has & GW_SCHEMA__K_ENUM)
        CHECK(v_enum(c, n, inst, ip));
    if (has & GW_SCHEMA__K_CONST)
        CHECK(v_const(c, n, inst, ip));
    /* per-type keywords: only the group of the instance's type can apply */
    switch (json_typeof(inst)) {
    case JSON_INTEGER:
    case JSON_REAL:
        if (has & NUM_KWS)
            CHECK(v_number(c, n, inst, ip));
        break;
    case JSON_STRING:
        if (gw_json_is_bignum(inst)) {
            if (has & NUM_KWS)
                CHECK(v_number(c, n, inst, ip));
        } else if (has & STR_KWS)
            CHECK(v_string(c, n, inst, ip));
        break;
    case JSON_ARRAY:
        if (has & ARR_KWS)
            CHECK(v_array(c, n, inst, ip, sc, track));
        break;
    case JSON_OBJECT:
        if (has & OBJ_KWS)
            CHECK(v_object(c, n, inst, ip, sc, track));
        break;
    default: break;
    }
    for (size_t i = 0; (has & GW_SCHEMA__K_ALLOF) && i < n->nall; i++)
        CHECK(v_node(c, n->all_of[i], inst, ip, sc, track));
    if (has & GW_SCHEMA__K_ANYOF)
        CHECK(v_anyof(c, n, inst, ip, sc, track));
    if (has & GW_SCHEMA__K_ONEOF)
        CHECK(v_oneof(c, n, inst, ip, sc, track));
    if (has & GW_SCHEMA__K_NOT)
        CHECK(v_not(c, n, inst, ip, sc));
    if (has & GW_SCHEMA__K_IF)
        CHECK(v_if(c, n, inst, ip, sc, track));
    /* last: every other keyword of this node has contributed its annotations by now */
    if ((has & GW_SCHEMA__K_UNEVALITEMS) && json_is_array(inst))
        CHECK(v_uneval_items(c, n, inst, ip, sc, track));
    if ((has & GW_SCHEMA__K_UNEVALPROPS) && json_is_object(inst))
        CHECK(v_uneval_props(c, n, inst, ip, sc, track));
#undef CHECK
out:
    if (own) {
        if (ok && ev)
            ev_merge(ev, &local);
        ev_fini(&local);
    }
    return ok;
}

static bool v_node(struct vctx *c, const struct gw_schema__node *n, const json_t *inst,
                   const struct ipath *ip, const struct scope *sc, struct evset *ev)
{
    if (c->stop)
        return false;
    if (n->kind == GW_SCHEMA__N_TRUE)
        return true;
    if (n->kind == GW_SCHEMA__N_FALSE) {
        fail(c, n, ip, NULL, "no value is allowed here (the schema is 'false')");
        return false;
    }
    if (!tick(c, 1))
        return false;
    if (c->depth >= c->s->max_depth) {
        limit(c, "schema evaluation nested deeper than %d levels (depth limit)",
              c->s->max_depth);
        return false;
    }
    /* entering another schema resource extends the dynamic scope (for $dynamicRef) */
    struct scope frame;
    if (!sc || sc->res != n->res) {
        frame.up = sc;
        frame.res = n->res;
        sc = &frame;
    }
    c->depth++;
    bool ok = v_keywords(c, n, inst, ip, sc, ev);
    c->depth--;
    return ok && c->stop != S_LIMIT && c->stop != S_NOMEM;
}

/* Public entry: see schema.h. Initialises only the fields of vctx that are read before being
 * written (the 1 KiB PCRE2 buffer is left uninitialised on purpose). */
int gw_schema_validate(const struct gw_schema *s, const json_t *instance,
                       struct gw_schema_report *rep)
{
    if (rep) {
        gw_schema_report_reset(rep);
        rep->_max = s ? s->max_errors : 16;
    }
    if (!instance || !s) {
        if (rep)
            gw_schema__report_add(rep, "", "type", "#", s ? "no value given" : "no schema given");
        return GW_EINVAL;
    }
    struct vctx c;
    c.s = s;
    c.rep = rep;
    c.steps = s->max_steps;
    c.depth = 0;
    c.mode = rep ? M_REPORT : M_QUIET;
    c.stop = S_RUN;
    c.cap = NULL;
    c.capsz = 0;
    c.captured = false;
    c.cap_base = NULL;
    c.gctx = NULL;
    c.md = NULL;
    c.memoff = 0;
    bool ok = v_node(&c, s->root, instance, NULL, NULL, NULL);
    /* both accept NULL; their memory came from c.mem or the heap via bump_free */
    pcre2_match_data_free(c.md);
    pcre2_general_context_free(c.gctx);
    /* S_FULL (error cap reached) is an ordinary invalid verdict */
    if (c.stop == S_LIMIT)
        return GW_ELIMIT;
    if (c.stop == S_NOMEM)
        return GW_ENOMEM;
    return ok ? GW_OK : GW_EINVAL;
}
