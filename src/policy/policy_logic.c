/*
 * src/policy/policy_logic.c
 * The JSON Logic evaluator behind policy conditions (see policy_logic.h).
 *
 * Compile: one bounded recursive walk validates the rule (known operators, argument counts,
 * GW_LOGIC_MAX_NODES / GW_LOGIC_MAX_DEPTH) and flattens it into an immutable node array
 * (literal, array literal, operation) over a private copy of the rule, which holds the literals.
 * Eval: a tree walk whose recursion depth is bounded by the compiled depth; every operation,
 * every array element visited and every 64 bytes of string touched cost one step of the budget.
 * Threads: the compiled form is never written after compile; evaluations share it and touch only
 * jansson reference counts (atomic in jansson >= 2.11) and their own stack context.
 *
 * Values are JavaScript's: undefined, null, boolean, number (a double, NaN and ±Infinity
 * included), string, array, object. Strings, arrays and objects are jansson references (arrays
 * are compared by identity, as in JavaScript). Values JSON cannot hold (undefined, NaN,
 * ±Infinity, -0) are stored in arrays we build as private sentinel values; every container that
 * received one is remembered and cleaned (sentinel -> null, -0 -> 0, as JSON.stringify does)
 * once the result is final, so no sentinel ever leaves this file.
 *
 * Deliberate differences from json-logic-js 2.0.5 (also in docs/policy-logic.md):
 *  - data is never code: missing/missing_some do not evaluate keys that are objects;
 *  - only own members are visible to var (no "constructor", "toString", "__proto__" …);
 *  - a string cut inside a UTF-16 surrogate pair yields U+FFFD instead of a lone surrogate;
 *  - "0x…"/"0o…"/"0b…" strings above 2^53 may round differently when turned into numbers;
 *  - "*" without arguments and operations with the wrong argument count are refused by compile.
 */
#include "policy/policy_logic.h"

#include "core/alloc.h"
#include "core/buf.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op {
    OP_VAR, OP_MISSING, OP_MISSING_SOME, OP_IF, OP_TERNARY, OP_EQ, OP_SEQ, OP_NE, OP_SNE,
    OP_NOT, OP_NOTNOT, OP_OR, OP_AND, OP_GT, OP_GE, OP_LT, OP_LE, OP_MAX, OP_MIN, OP_ADD,
    OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_MAP, OP_FILTER, OP_REDUCE, OP_ALL, OP_NONE, OP_SOME,
    OP_MERGE, OP_IN, OP_CAT, OP_SUBSTR, OP_LOG, OP_TIME, OP__COUNT
};

#define ANY 255 /* no upper bound on the argument count */

static const struct {
    const char *name;
    unsigned char min, max;
} ops[OP__COUNT] = {
    [OP_VAR] = {"var", 0, 2},      [OP_MISSING] = {"missing", 0, ANY},
    [OP_MISSING_SOME] = {"missing_some", 2, 2},
    [OP_IF] = {"if", 0, ANY},      [OP_TERNARY] = {"?:", 0, ANY},
    [OP_EQ] = {"==", 2, 2},        [OP_SEQ] = {"===", 2, 2},
    [OP_NE] = {"!=", 2, 2},        [OP_SNE] = {"!==", 2, 2},
    [OP_NOT] = {"!", 1, 1},        [OP_NOTNOT] = {"!!", 1, 1},
    [OP_OR] = {"or", 0, ANY},      [OP_AND] = {"and", 0, ANY},
    [OP_GT] = {">", 2, 2},         [OP_GE] = {">=", 2, 2},
    [OP_LT] = {"<", 2, 3},         [OP_LE] = {"<=", 2, 3},
    [OP_MAX] = {"max", 0, ANY},    [OP_MIN] = {"min", 0, ANY},
    [OP_ADD] = {"+", 0, ANY},      [OP_SUB] = {"-", 1, 2},
    [OP_MUL] = {"*", 1, ANY},      [OP_DIV] = {"/", 2, 2},
    [OP_MOD] = {"%", 2, 2},        [OP_MAP] = {"map", 2, 2},
    [OP_FILTER] = {"filter", 2, 2}, [OP_REDUCE] = {"reduce", 2, 3},
    [OP_ALL] = {"all", 2, 2},      [OP_NONE] = {"none", 2, 2},
    [OP_SOME] = {"some", 2, 2},    [OP_MERGE] = {"merge", 0, ANY},
    [OP_IN] = {"in", 2, 2},        [OP_CAT] = {"cat", 0, ANY},
    [OP_SUBSTR] = {"substr", 2, 3}, [OP_LOG] = {"log", 1, 1},
    [OP_TIME] = {"time", 1, 1},
};

/* ---- values ---- */

enum vk { V_UNDEF, V_NULL, V_BOOL, V_NUM, V_STR, V_ARR, V_OBJ };

struct val {
    enum vk k;
    double n;  /* V_BOOL (0/1), V_NUM */
    json_t *j; /* V_STR, V_ARR, V_OBJ: an owned reference */
};

#define VAL(kind, num) ((struct val){(kind), (num), NULL})

/* ---- compiled form ---- */

enum nkind { N_LIT, N_ARR, N_OP };

struct node {
    unsigned char kind, op;
    enum vk vk;       /* N_LIT */
    double num;       /* N_LIT number/boolean */
    json_t *lit;      /* N_LIT string/object, borrowed from gw_logic.rule */
    uint32_t kids, n; /* first index in gw_logic.kids, count */
};

struct gw_logic {
    json_t *rule;
    struct node *nodes;
    uint32_t *kids;
    uint32_t nnodes, nkids, root;
};

/* ---- sentinels: undefined, NaN, +Infinity, -Infinity inside containers we build ---- */

static json_t *s_undef, *s_nan, *s_pinf, *s_ninf;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void sentinels_init(void)
{
    s_undef = json_object(); /* distinct objects, never handed out: identity is the marker */
    s_nan = json_object();
    s_pinf = json_object();
    s_ninf = json_object();
}

static bool is_neg_zero(const json_t *j)
{
    return json_is_real(j) && json_real_value(j) == 0 && signbit(json_real_value(j));
}

static bool is_special(const json_t *j)
{
    return j == s_undef || j == s_nan || j == s_pinf || j == s_ninf || is_neg_zero(j);
}

/* ---- evaluation context ---- */

struct ctx {
    const struct gw_logic *l;
    unsigned long steps, max_steps;
    struct gw_error *err;
    json_t **fix; /* containers that hold a sentinel (references) */
    size_t nfix, capfix;
};

static int charge(struct ctx *c, unsigned long n)
{
    c->steps += n;
    if (c->steps > c->max_steps)
        return GW_ERROR_SET(c->err, GW_ELIMIT, "condition exceeded its budget of %lu steps",
                            c->max_steps);
    return GW_OK;
}

static int charge_bytes(struct ctx *c, size_t n)
{
    return n >= 64 ? charge(c, (unsigned long)(n / 64)) : GW_OK;
}

static int nomem(struct ctx *c)
{
    return GW_ERROR_SET(c->err, GW_ENOMEM, "out of memory evaluating a condition");
}

static void vfree(struct val *v)
{
    json_decref(v->j);
    v->j = NULL;
}

static struct val vcopy(const struct val *v)
{
    struct val r = *v;
    json_incref(r.j);
    return r;
}

static struct val unbox(json_t *j)
{
    if (j == s_undef)
        return VAL(V_UNDEF, 0);
    if (j == s_nan)
        return VAL(V_NUM, NAN);
    if (j == s_pinf)
        return VAL(V_NUM, INFINITY);
    if (j == s_ninf)
        return VAL(V_NUM, -INFINITY);
    switch (json_typeof(j)) {
    case JSON_TRUE: return VAL(V_BOOL, 1);
    case JSON_FALSE: return VAL(V_BOOL, 0);
    case JSON_INTEGER: return VAL(V_NUM, (double)json_integer_value(j));
    case JSON_REAL: return VAL(V_NUM, json_real_value(j));
    case JSON_STRING: return (struct val){V_STR, 0, json_incref(j)};
    case JSON_ARRAY: return (struct val){V_ARR, 0, json_incref(j)};
    case JSON_OBJECT: return (struct val){V_OBJ, 0, json_incref(j)};
    default: return VAL(V_NULL, 0);
    }
}

static json_t *num_json(double x)
{
    if (x == 0)
        return json_integer(0);
    if (x == trunc(x) && fabs(x) <= 9007199254740992.0)
        return json_integer((json_int_t)x);
    return json_real(x);
}

/* Takes v (its reference moves into the result) and turns it into a JSON value to be stored in
 * `container`; a value JSON cannot hold becomes a sentinel and the container is remembered. */
static int box(struct ctx *c, json_t *container, struct val *v, json_t **out)
{
    json_t *j;
    bool special = true;
    if (v->k == V_UNDEF)
        j = json_incref(s_undef);
    else if (v->k == V_NUM && isnan(v->n))
        j = json_incref(s_nan);
    else if (v->k == V_NUM && isinf(v->n))
        j = json_incref(v->n > 0 ? s_pinf : s_ninf);
    else if (v->k == V_NUM && v->n == 0 && signbit(v->n))
        j = json_real(-0.0);
    else {
        special = false;
        switch (v->k) {
        case V_NULL: j = json_null(); break;
        case V_BOOL: j = json_boolean(v->n != 0); break;
        case V_NUM: j = num_json(v->n); break;
        default: j = v->j, v->j = NULL; break;
        }
    }
    if (!j)
        return nomem(c);
    if (special && !(c->nfix && c->fix[c->nfix - 1] == container)) {
        if (c->nfix == c->capfix) {
            size_t cap = c->capfix ? c->capfix * 2 : 8;
            json_t **p = gw_tryrealloc(c->fix, cap * sizeof *p);
            if (!p) {
                json_decref(j);
                return nomem(c);
            }
            c->fix = p, c->capfix = cap;
        }
        c->fix[c->nfix++] = json_incref(container);
    }
    *out = j;
    return GW_OK;
}

/* Appends v (consumed) to the array `a`. */
static int push(struct ctx *c, json_t *a, struct val *v)
{
    json_t *j;
    int rc = box(c, a, v, &j);
    if (rc == GW_OK && json_array_append_new(a, j) != 0)
        rc = nomem(c);
    vfree(v);
    return rc;
}

/* Appends an element taken from another array, keeping a sentinel a sentinel. */
static int push_raw(struct ctx *c, json_t *a, json_t *e)
{
    struct val v = unbox(e);
    return push(c, a, &v);
}

static json_t *to_json(struct val *v)
{
    json_t *j;
    switch (v->k) {
    case V_BOOL: return json_boolean(v->n != 0);
    case V_NUM: return isfinite(v->n) ? num_json(v->n) : json_null();
    case V_STR:
    case V_ARR:
    case V_OBJ: j = v->j, v->j = NULL; return j;
    default: return json_null();
    }
}

/* Replaces the sentinels in the remembered containers, as JSON.stringify would show them. */
static void fix_containers(struct ctx *c)
{
    for (size_t i = 0; i < c->nfix; i++) {
        json_t *con = c->fix[i];
        if (json_is_array(con)) {
            for (size_t k = 0; k < json_array_size(con); k++) {
                json_t *e = json_array_get(con, k);
                if (is_special(e))
                    json_array_set_new(con, k, is_neg_zero(e) ? json_integer(0) : json_null());
            }
        } else { /* JSON.stringify drops undefined members of objects */
            void *it = json_object_iter(con);
            while (it) {
                json_t *e = json_object_iter_value(it);
                if (e == s_undef) {
                    char *key = gw_xstrdup(json_object_iter_key(it)); /* ours: "current"… */
                    json_object_del(con, key);
                    gw_free(key);
                    it = json_object_iter(con); /* start over: deleting ends the iteration */
                    continue;
                }
                if (is_special(e))
                    json_object_iter_set_new(con, it,
                                             is_neg_zero(e) ? json_integer(0) : json_null());
                it = json_object_iter_next(con, it);
            }
        }
        json_decref(con);
    }
    gw_free_null(&c->fix);
    c->nfix = c->capfix = 0;
}

/* ---- strings: UTF-8 storage, UTF-16 semantics (lengths, indices, ordering) ---- */

static size_t u8_dec(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char b = s[0];
    size_t len = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    if (len > n || len == 1) {
        *cp = b < 0x80 ? b : 0xFFFD;
        return 1;
    }
    uint32_t v = b & (0x7F >> len);
    for (size_t i = 1; i < len; i++)
        v = (v << 6) | (s[i] & 0x3F);
    *cp = v;
    return len;
}

static size_t u16_len(const char *s, size_t n)
{
    size_t units = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        i += u8_dec((const unsigned char *)s + i, n - i, &cp);
        units += cp >= 0x10000 ? 2 : 1;
    }
    return units;
}

/* Appends UTF-16 units [a, b) of s; a unit that is half of a surrogate pair becomes U+FFFD. */
static int u16_slice(const char *s, size_t n, size_t a, size_t b, struct gw_buf *out)
{
    size_t unit = 0, i = 0;
    int rc = GW_OK;
    while (a < b && i < n && unit < b && rc == GW_OK) {
        uint32_t cp;
        size_t len = u8_dec((const unsigned char *)s + i, n - i, &cp);
        size_t w = cp >= 0x10000 ? 2 : 1;
        if (unit >= a && unit + w <= b)
            rc = gw_buf_add(out, s + i, len);
        else if (unit + w > a && unit < b)
            rc = gw_buf_add(out, "\xEF\xBF\xBD", 3);
        unit += w, i += len;
    }
    return rc;
}

static uint32_t unit_hi(uint32_t cp)
{
    return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10);
}

/* Compares by UTF-16 code units, as JavaScript orders strings. */
static int cmp16(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, k = 0;
    while (i < an && k < bn) {
        uint32_t ca, cb;
        i += u8_dec((const unsigned char *)a + i, an - i, &ca);
        k += u8_dec((const unsigned char *)b + k, bn - k, &cb);
        if (ca == cb)
            continue;
        uint32_t ua = unit_hi(ca), ub = unit_hi(cb);
        if (ua == ub) /* same high surrogate: the low ones decide */
            ua = ca & 0x3FF, ub = cb & 0x3FF;
        return ua < ub ? -1 : 1;
    }
    return (i < an) - (k < bn);
}

static const char *sp(const struct val *v)
{
    return json_string_value(v->j);
}

static size_t sn(const struct val *v)
{
    return json_string_length(v->j);
}

/* Length of the JavaScript white space or line terminator at s (0 if none). */
static size_t js_space(const unsigned char *s, size_t n)
{
    if (n >= 1 && (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0D)))
        return 1;
    if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (n < 3)
        return 0;
    uint32_t cp;
    if (u8_dec(s, n, &cp) != 3)
        return 0;
    if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
        cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF)
        return 3;
    return 0;
}

static size_t skip_space(const char *s, size_t n)
{
    size_t i = 0, w;
    while (i < n && (w = js_space((const unsigned char *)s + i, n - i)) > 0)
        i += w;
    return i;
}

static size_t trim_end(const char *s, size_t n)
{
    for (;;) {
        size_t w = 0;
        for (size_t back = 1; back <= 3 && back <= n && !w; back++)
            if (js_space((const unsigned char *)s + n - back, back) == back)
                w = back;
        if (!w)
            return n;
        n -= w;
    }
}

static size_t digits(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* Longest StrDecimalLiteral at s (sign, "Infinity", digits, fraction, exponent): its length, 0 if
 * none; *inf tells the Infinity form. */
static size_t dec_prefix(const char *s, size_t n, bool *inf)
{
    size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    *inf = false;
    if (n - i >= 8 && memcmp(s + i, "Infinity", 8) == 0) {
        *inf = true;
        return i + 8;
    }
    size_t a = digits(s, n, i), b = a;
    if (a < n && s[a] == '.')
        b = digits(s, n, a + 1);
    if (a == i && b <= a + 1)
        return 0; /* no digit at all */
    size_t e = b;
    if (e < n && (s[e] == 'e' || s[e] == 'E')) {
        size_t k = e + 1 + (e + 1 < n && (s[e + 1] == '+' || s[e + 1] == '-'));
        size_t end = digits(s, n, k);
        if (end > k)
            e = end;
    }
    return e;
}

/* JavaScript StringToNumber (Number("…")). s must be NUL-terminated after n bytes or earlier. */
static double str_num(const char *s, size_t n)
{
    size_t a = skip_space(s, n);
    n = trim_end(s, n);
    if (a >= n)
        return 0;
    s += a, n -= a;
    char r = (char)(n > 2 && s[0] == '0' ? s[1] | 0x20 : 0);
    if (r == 'x' || r == 'o' || r == 'b') {
        int radix = r == 'x' ? 16 : r == 'o' ? 8 : 2;
        double v = 0;
        for (size_t i = 2; i < n; i++) {
            int d = s[i] >= '0' && s[i] <= '9'   ? s[i] - '0'
                    : (s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f' ? (s[i] | 0x20) - 'a' + 10
                                                                    : 99;
            if (d >= radix)
                return NAN;
            v = v * radix + d;
        }
        return v;
    }
    bool inf;
    if (dec_prefix(s, n, &inf) != n)
        return NAN;
    if (inf)
        return s[0] == '-' ? -INFINITY : INFINITY;
    return strtod(s, NULL); /* the same grammar as validated: stops at the same place */
}

/* JavaScript parseFloat on a string. */
static double str_parse_float(const char *s, size_t n)
{
    size_t a = skip_space(s, n);
    bool inf;
    size_t len = dec_prefix(s + a, n - a, &inf);
    if (len == 0)
        return NAN;
    if (inf)
        return s[a] == '-' ? -INFINITY : INFINITY;
    size_t i = a + (s[a] == '+' || s[a] == '-');
    if (i + 1 < n && s[i] == '0' && (s[i + 1] | 0x20) == 'x') /* "0x…" is 0 to parseFloat */
        return s[a] == '-' ? -0.0 : 0.0;
    return strtod(s + a, NULL);
}

/* JavaScript Number::toString. out must hold 32 bytes. */
static const char *fmt_num(double x, char *out)
{
    if (isnan(x))
        return "NaN";
    if (isinf(x))
        return x > 0 ? "Infinity" : "-Infinity";
    if (x == 0)
        return "0";
    char tmp[40], dig[20];
    int p, k = 0, e;
    for (p = 1; p < 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
    const char *t = tmp + (tmp[0] == '-');
    for (; *t && *t != 'e'; t++)
        if (*t >= '0' && *t <= '9')
            dig[k++] = *t;
    int esign = t[1] == '-' ? -1 : 1; /* %e always writes "e±dd" */
    for (e = 0, t += 2; *t >= '0' && *t <= '9'; t++)
        e = e * 10 + (*t - '0');
    e *= esign;
    while (k > 1 && dig[k - 1] == '0')
        k--;
    int nexp = e + 1, o = 0;
    if (x < 0)
        out[o++] = '-';
    if (k <= nexp && nexp <= 21) {
        memcpy(out + o, dig, (size_t)k), o += k;
        for (int i = k; i < nexp; i++)
            out[o++] = '0';
    } else if (0 < nexp && nexp <= 21) {
        memcpy(out + o, dig, (size_t)nexp), o += nexp;
        out[o++] = '.';
        memcpy(out + o, dig + nexp, (size_t)(k - nexp)), o += k - nexp;
    } else if (-6 < nexp && nexp <= 0) {
        out[o++] = '0', out[o++] = '.';
        for (int i = 0; i < -nexp; i++)
            out[o++] = '0';
        memcpy(out + o, dig, (size_t)k), o += k;
    } else {
        out[o++] = dig[0];
        if (k > 1) {
            out[o++] = '.';
            memcpy(out + o, dig + 1, (size_t)(k - 1)), o += k - 1;
        }
        o += snprintf(out + o, 8, "e%c%d", nexp - 1 < 0 ? '-' : '+', abs(nexp - 1));
    }
    out[o] = '\0';
    return out;
}

/* ---- JavaScript conversions ---- */

#define MAX_VALUE_DEPTH 64

/* Appends ToString(v); in arrays null and undefined are empty, as Array.prototype.join does. */
static int to_string(struct ctx *c, const struct val *v, struct gw_buf *b, int depth)
{
    char num[32];
    int rc = GW_OK;
    switch (v->k) {
    case V_UNDEF: return gw_buf_adds(b, "undefined");
    case V_NULL: return gw_buf_adds(b, "null");
    case V_BOOL: return gw_buf_adds(b, v->n != 0 ? "true" : "false");
    case V_NUM: return gw_buf_adds(b, fmt_num(v->n, num));
    case V_STR: return gw_buf_add(b, sp(v), sn(v));
    case V_OBJ: return gw_buf_adds(b, "[object Object]");
    case V_ARR: break;
    }
    if (depth > MAX_VALUE_DEPTH)
        return GW_ERROR_SET(c->err, GW_ELIMIT, "value nests deeper than %d levels",
                            MAX_VALUE_DEPTH);
    for (size_t i = 0; i < json_array_size(v->j) && rc == GW_OK; i++) {
        struct val e = unbox(json_array_get(v->j, i));
        rc = charge(c, 1);
        if (rc == GW_OK && i > 0)
            rc = gw_buf_addc(b, ',');
        if (rc == GW_OK && e.k != V_NULL && e.k != V_UNDEF)
            rc = to_string(c, &e, b, depth + 1);
        vfree(&e);
    }
    return rc;
}

static int buf_rc(struct ctx *c, int rc)
{
    if (rc == GW_ELIMIT && (!c->err || c->err->code != GW_ELIMIT))
        return GW_ERROR_SET(c->err, GW_ELIMIT, "condition built a string longer than %d bytes",
                            GW_LOGIC_MAX_STRING);
    return rc == GW_ENOMEM ? nomem(c) : rc;
}

/* ToString(v) as a new string value. */
static int str_of(struct ctx *c, const struct val *v, struct val *out)
{
    if (v->k == V_STR) {
        *out = vcopy(v);
        return GW_OK;
    }
    struct gw_buf b;
    gw_buf_init(&b, GW_LOGIC_MAX_STRING);
    int rc = to_string(c, v, &b, 0);
    if (rc == GW_OK)
        rc = charge_bytes(c, gw_buf_len(&b));
    if (rc == GW_OK) {
        *out = (struct val){V_STR, 0, json_stringn(gw_buf_ptr(&b), gw_buf_len(&b))};
        if (!out->j)
            rc = nomem(c);
    }
    gw_buf_fini(&b);
    return buf_rc(c, rc);
}

/* ToPrimitive: arrays and objects become their strings; the rest is copied. */
static int prim(struct ctx *c, const struct val *v, struct val *out)
{
    if (v->k == V_ARR || v->k == V_OBJ)
        return str_of(c, v, out);
    *out = vcopy(v);
    return GW_OK;
}

/* ToNumber of a primitive. */
static int prim_num(struct ctx *c, const struct val *v, double *out)
{
    switch (v->k) {
    case V_UNDEF: *out = NAN; return GW_OK;
    case V_NULL: *out = 0; return GW_OK;
    case V_STR: *out = str_num(sp(v), sn(v)); return charge_bytes(c, sn(v));
    default: *out = v->n; return GW_OK;
    }
}

static int to_number(struct ctx *c, const struct val *v, double *out)
{
    struct val p;
    int rc = prim(c, v, &p);
    if (rc == GW_OK)
        rc = prim_num(c, &p, out);
    vfree(&p);
    return rc;
}

/* parseFloat(ToString(v)). */
static int parse_float(struct ctx *c, const struct val *v, double *out)
{
    if (v->k == V_NUM) {
        *out = v->n == 0 ? 0.0 : v->n; /* String(-0) is "0" */
        return GW_OK;
    }
    struct val s;
    int rc = str_of(c, v, &s);
    if (rc == GW_OK) {
        *out = str_parse_float(sp(&s), sn(&s));
        rc = charge_bytes(c, sn(&s));
    }
    vfree(&s);
    return rc;
}

static double to_integer(double d)
{
    return isnan(d) ? 0 : trunc(d);
}

/* jsonLogic.truthy */
static bool truthy(const struct val *v)
{
    switch (v->k) {
    case V_BOOL:
    case V_NUM: return v->n != 0 && !isnan(v->n);
    case V_STR: return sn(v) > 0;
    case V_ARR: return json_array_size(v->j) > 0;
    case V_OBJ: return true;
    default: return false;
    }
}

static bool strict_eq(const struct val *a, const struct val *b)
{
    if (a->k != b->k)
        return false;
    switch (a->k) {
    case V_BOOL:
    case V_NUM: return a->n == b->n;
    case V_STR: return sn(a) == sn(b) && memcmp(sp(a), sp(b), sn(a)) == 0;
    case V_ARR:
    case V_OBJ: return a->j == b->j; /* identity, as in JavaScript */
    default: return true;
    }
}

static bool nullish(const struct val *v)
{
    return v->k == V_UNDEF || v->k == V_NULL;
}

/* JavaScript's == (IsLooselyEqual). */
static int loose_eq(struct ctx *c, const struct val *a, const struct val *b, bool *res)
{
    double x;
    int rc = GW_OK;
    *res = false;
    if (a->k == b->k) {
        if (a->k == V_STR)
            rc = charge_bytes(c, sn(a));
        *res = strict_eq(a, b);
    } else if (nullish(a) || nullish(b)) {
        *res = nullish(a) && nullish(b);
    } else if (a->k == V_NUM && b->k == V_STR) {
        rc = prim_num(c, b, &x);
        *res = a->n == x;
    } else if (a->k == V_STR && b->k == V_NUM) {
        return loose_eq(c, b, a, res);
    } else if (a->k == V_BOOL || b->k == V_BOOL) {
        struct val na = a->k == V_BOOL ? VAL(V_NUM, a->n) : *a;
        struct val nb = b->k == V_BOOL ? VAL(V_NUM, b->n) : *b;
        return loose_eq(c, &na, &nb, res);
    } else if ((a->k == V_ARR || a->k == V_OBJ) != (b->k == V_ARR || b->k == V_OBJ)) {
        const struct val *o = (a->k == V_ARR || a->k == V_OBJ) ? a : b;
        const struct val *p = o == a ? b : a;
        struct val po;
        rc = prim(c, o, &po);
        if (rc == GW_OK)
            rc = loose_eq(c, p, &po, res);
        vfree(&po);
    }
    return rc;
}

/* JavaScript's a < b: *res is 1 (true), 0 (false) or -1 (undefined: a NaN was involved). */
static int less(struct ctx *c, const struct val *a, const struct val *b, int *res)
{
    struct val pa = VAL(V_UNDEF, 0), pb = VAL(V_UNDEF, 0);
    double x = 0, y = 0;
    int rc = prim(c, a, &pa);
    if (rc == GW_OK)
        rc = prim(c, b, &pb);
    if (rc == GW_OK && pa.k == V_STR && pb.k == V_STR) {
        rc = charge_bytes(c, sn(&pa) < sn(&pb) ? sn(&pa) : sn(&pb));
        *res = cmp16(sp(&pa), sn(&pa), sp(&pb), sn(&pb)) < 0;
    } else if (rc == GW_OK) {
        rc = prim_num(c, &pa, &x);
        if (rc == GW_OK)
            rc = prim_num(c, &pb, &y);
        *res = (isnan(x) || isnan(y)) ? -1 : x < y;
    }
    vfree(&pa);
    vfree(&pb);
    return rc;
}

/* ---- data access ---- */

static bool array_index(const char *s, size_t n, size_t *out)
{
    if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
        return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = (size_t)v;
    return v < 4294967295ULL;
}

/* cur[seg] for JSON data: own members of objects, array elements and length, string units and
 * length; anything else is undefined. */
static int member(struct ctx *c, const struct val *cur, const char *seg, size_t n,
                  struct val *out)
{
    size_t idx;
    *out = VAL(V_UNDEF, 0);
    if (cur->k == V_OBJ) {
        json_t *m = json_object_getn(cur->j, seg, n);
        if (m)
            *out = unbox(m);
    } else if (cur->k == V_ARR) {
        if (n == 6 && memcmp(seg, "length", 6) == 0)
            *out = VAL(V_NUM, (double)json_array_size(cur->j));
        else if (array_index(seg, n, &idx) && idx < json_array_size(cur->j))
            *out = unbox(json_array_get(cur->j, idx));
    } else if (cur->k == V_STR) {
        int rc = charge_bytes(c, sn(cur));
        size_t len = u16_len(sp(cur), sn(cur));
        if (rc != GW_OK)
            return rc;
        if (n == 6 && memcmp(seg, "length", 6) == 0) {
            *out = VAL(V_NUM, (double)len);
        } else if (array_index(seg, n, &idx) && idx < len) {
            struct gw_buf b;
            gw_buf_init(&b, 8);
            rc = u16_slice(sp(cur), sn(cur), idx, idx + 1, &b);
            *out = (struct val){V_STR, 0, json_stringn(gw_buf_ptr(&b), gw_buf_len(&b))};
            gw_buf_fini(&b);
            if (rc != GW_OK || !out->j)
                return nomem(c);
        }
    }
    return GW_OK;
}

/* {"var": [a, b]} against data. */
static int var_get(struct ctx *c, const struct val *data, const struct val *a,
                   const struct val *b, struct val *out)
{
    if (a->k == V_UNDEF || a->k == V_NULL || (a->k == V_STR && sn(a) == 0)) {
        *out = vcopy(data);
        return GW_OK;
    }
    struct val path, cur = vcopy(data);
    int rc = str_of(c, a, &path);
    if (rc != GW_OK) {
        vfree(&cur);
        return rc;
    }
    const char *s = sp(&path);
    size_t n = sn(&path), i = 0;
    bool found = true;
    for (;;) {
        const char *dot = memchr(s + i, '.', n - i);
        size_t seg = dot ? (size_t)(dot - (s + i)) : n - i;
        struct val next;
        if (!nullish(&cur))
            rc = charge(c, 1);
        if (nullish(&cur) || rc != GW_OK) {
            found = false;
            break;
        }
        rc = member(c, &cur, s + i, seg, &next);
        vfree(&cur);
        cur = next;
        if (rc != GW_OK || cur.k == V_UNDEF) {
            found = false;
            break;
        }
        if (!dot)
            break;
        i += seg + 1;
    }
    vfree(&path);
    if (found) {
        *out = cur;
    } else {
        vfree(&cur);
        *out = b->k == V_UNDEF ? VAL(V_NULL, 0) : vcopy(b);
    }
    return rc;
}

/* missing over keys given either as a JSON array or as a list of values. */
static int missing_core(struct ctx *c, const struct val *data, json_t *karr,
                        const struct val *kv, size_t nk, struct val *out)
{
    json_t *res = json_array();
    int rc = res ? GW_OK : nomem(c);
    size_t count = karr ? json_array_size(karr) : nk;
    for (size_t i = 0; i < count && rc == GW_OK; i++) {
        struct val key = karr ? unbox(json_array_get(karr, i)) : vcopy(&kv[i]);
        struct val a = VAL(V_UNDEF, 0), b = VAL(V_UNDEF, 0), got = VAL(V_UNDEF, 0);
        if (key.k == V_ARR) { /* {"var": [path, default]} */
            if (json_array_size(key.j) > 0)
                a = unbox(json_array_get(key.j, 0));
            if (json_array_size(key.j) > 1)
                b = unbox(json_array_get(key.j, 1));
        } else {
            a = vcopy(&key);
        }
        rc = charge(c, 1);
        if (rc == GW_OK)
            rc = var_get(c, data, &a, &b, &got);
        if (rc == GW_OK && (got.k == V_NULL || (got.k == V_STR && sn(&got) == 0)))
            rc = push(c, res, &key);
        vfree(&key), vfree(&a), vfree(&b), vfree(&got);
    }
    if (rc != GW_OK) {
        json_decref(res);
        return rc;
    }
    *out = (struct val){V_ARR, 0, res};
    return GW_OK;
}

/* ---- gateway operator: time ---- */

static int num2(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" -> Unix seconds; NaN if invalid. */
static double parse_time(const char *s, size_t n)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n < 10 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' ||
        !all_digits(s + 8, 2))
        return NAN;
    int y = num2(s) * 100 + num2(s + 2), mo = num2(s + 5), d = num2(s + 8);
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap))
        return NAN;
    double t = (double)days_from_civil(y, mo, d) * 86400;
    if (n == 10)
        return t;
    if (n < 20 || (s[10] != 'T' && s[10] != 't') || !all_digits(s + 11, 2) || s[13] != ':' ||
        !all_digits(s + 14, 2) || s[16] != ':' || !all_digits(s + 17, 2))
        return NAN;
    int h = num2(s + 11), mi = num2(s + 14), se = num2(s + 17);
    if (h > 23 || mi > 59 || se > 59)
        return NAN;
    size_t i = 19, fs = 0, fe = 0;
    if (s[i] == '.') {
        fs = i, fe = digits(s, n, i + 1);
        if (fe == i + 1 || fe - i - 1 > 9)
            return NAN;
        i = fe;
    }
    long long off = 0;
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
        off = 0;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && all_digits(s + i + 1, 2) &&
               s[i + 3] == ':' && all_digits(s + i + 4, 2)) {
        int oh = num2(s + i + 1), om = num2(s + i + 4);
        if (oh > 23 || om > 59)
            return NAN;
        off = (s[i] == '-' ? -1 : 1) * (oh * 3600LL + om * 60);
    } else {
        return NAN;
    }
    t += (double)(h * 3600LL + mi * 60 + se - off);
    if (fs) {
        char frac[12] = "0";
        memcpy(frac + 1, s + fs, fe - fs);
        frac[1 + fe - fs] = '\0';
        t += strtod(frac, NULL);
    }
    return t;
}

/* ---- operations ---- */

static int ev(struct ctx *c, uint32_t idx, const struct val *data, struct val *out);

static uint32_t kid(const struct ctx *c, const struct node *n, uint32_t i)
{
    return c->l->kids[n->kids + i];
}

/* The data of one reduce step: {"current": item, "accumulator": acc}; acc is consumed. */
static int reduce_scope(struct ctx *c, const struct val *item, struct val *acc,
                        struct val *out)
{
    json_t *obj = json_object(), *jc = NULL, *ja = NULL;
    struct val ic = vcopy(item);
    int rc = obj ? box(c, obj, &ic, &jc) : nomem(c);
    if (rc == GW_OK && json_object_set_new(obj, "current", jc) != 0) /* steals jc */
        rc = nomem(c);
    if (rc == GW_OK)
        rc = box(c, obj, acc, &ja);
    if (rc == GW_OK && json_object_set_new(obj, "accumulator", ja) != 0)
        rc = nomem(c);
    vfree(&ic);
    vfree(acc);
    *out = VAL(V_UNDEF, 0);
    if (rc != GW_OK) {
        json_decref(obj);
        return rc;
    }
    *out = (struct val){V_OBJ, 0, obj};
    return GW_OK;
}

/* map, filter, all, none, some, reduce: the first argument is evaluated, the second is run
 * once per element with the element (reduce: {current, accumulator}) as its data. */
static int ev_scoped(struct ctx *c, const struct node *n, const struct val *data,
                     struct val *out)
{
    struct val arr, acc = VAL(V_NULL, 0);
    int rc = ev(c, kid(c, n, 0), data, &arr);
    if (rc == GW_OK && n->op == OP_REDUCE && n->n > 2)
        rc = ev(c, kid(c, n, 2), data, &acc);
    if (rc != GW_OK) {
        vfree(&arr);
        return rc;
    }
    size_t len = arr.k == V_ARR ? json_array_size(arr.j) : 0;
    json_t *res = NULL;
    bool verdict = n->op == OP_ALL ? len > 0 : n->op == OP_NONE;
    if (n->op == OP_MAP || n->op == OP_FILTER) {
        res = json_array();
        if (!res)
            rc = nomem(c);
    }
    for (size_t i = 0; i < len && rc == GW_OK; i++) {
        json_t *raw = json_array_get(arr.j, i);
        struct val item = unbox(raw), r = VAL(V_UNDEF, 0), scope = item;
        rc = charge(c, 1);
        if (rc == GW_OK && n->op == OP_REDUCE)
            rc = reduce_scope(c, &item, &acc, &scope);
        if (rc == GW_OK)
            rc = ev(c, kid(c, n, 1), &scope, &r);
        if (rc == GW_OK) {
            switch (n->op) {
            case OP_MAP: rc = push(c, res, &r); break;
            case OP_FILTER:
                if (truthy(&r))
                    rc = push_raw(c, res, raw);
                break;
            case OP_REDUCE: acc = r, r = VAL(V_UNDEF, 0); break;
            case OP_ALL:
                if (!truthy(&r))
                    verdict = false, len = 0;
                break;
            default: /* none, some: stop at the first truthy */
                if (truthy(&r))
                    verdict = n->op == OP_SOME, len = 0;
                break;
            }
        }
        vfree(&r);
        if (n->op == OP_REDUCE)
            vfree(&scope);
        vfree(&item);
    }
    vfree(&arr);
    if (rc != GW_OK) {
        json_decref(res);
        vfree(&acc);
        return rc;
    }
    if (res)
        *out = (struct val){V_ARR, 0, res};
    else if (n->op == OP_REDUCE)
        *out = acc;
    else
        *out = VAL(V_BOOL, verdict);
    return GW_OK;
}

static int op_substr(struct ctx *c, const struct val *a, size_t na, struct val *out)
{
    struct val src, zero = VAL(V_NUM, 0), endv = na > 2 ? a[2] : VAL(V_UNDEF, 0);
    double start = 0, end = 0;
    int lt = 0, rc = str_of(c, &a[0], &src);
    if (rc == GW_OK)
        rc = to_number(c, &a[1], &start);
    if (rc == GW_OK)
        rc = less(c, &endv, &zero, &lt);
    if (rc == GW_OK && endv.k != V_UNDEF)
        rc = to_number(c, &endv, &end);
    if (rc == GW_OK)
        rc = charge_bytes(c, sn(&src));
    if (rc != GW_OK) {
        vfree(&src);
        return rc;
    }
    double size = (double)u16_len(sp(&src), sn(&src));
    start = to_integer(start);
    start = start < 0 ? fmax(size + start, 0) : fmin(start, size);
    double len = size - start;
    if (lt == 1) /* a negative end cuts from the end of the rest, as PHP does; rest.length + end
                  * is a string concatenation ("7" + "-2", never a number) unless end is one */
        len = endv.k == V_NUM ? fmin(fmax(to_integer(len + end), 0), len) : 0;
    else if (endv.k != V_UNDEF)
        len = fmin(fmax(to_integer(end), 0), len);
    struct gw_buf b;
    gw_buf_init(&b, GW_LOGIC_MAX_STRING);
    rc = buf_rc(c, u16_slice(sp(&src), sn(&src), (size_t)start, (size_t)(start + len), &b));
    if (rc == GW_OK) {
        *out = (struct val){V_STR, 0, json_stringn(gw_buf_ptr(&b), gw_buf_len(&b))};
        if (!out->j)
            rc = nomem(c);
    }
    gw_buf_fini(&b);
    vfree(&src);
    return rc;
}

static int op_in(struct ctx *c, const struct val *a, struct val *out)
{
    const struct val *hay = &a[1];
    bool found = false;
    int rc = GW_OK;
    if (hay->k == V_STR && sn(hay) > 0) {
        struct val needle;
        rc = str_of(c, &a[0], &needle);
        if (rc == GW_OK)
            rc = charge_bytes(c, sn(hay));
        if (rc == GW_OK)
            found = memmem(sp(hay), sn(hay), sp(&needle), sn(&needle)) != NULL;
        vfree(&needle);
    } else if (hay->k == V_ARR) {
        for (size_t i = 0; i < json_array_size(hay->j) && !found && rc == GW_OK; i++) {
            struct val e = unbox(json_array_get(hay->j, i));
            rc = charge(c, 1);
            found = strict_eq(&e, &a[0]);
            vfree(&e);
        }
    }
    *out = VAL(V_BOOL, found);
    return rc;
}

static int op_cat(struct ctx *c, const struct val *a, size_t na, struct val *out)
{
    struct gw_buf b;
    int rc = GW_OK;
    gw_buf_init(&b, GW_LOGIC_MAX_STRING);
    for (size_t i = 0; i < na && rc == GW_OK; i++)
        if (!nullish(&a[i]))
            rc = to_string(c, &a[i], &b, 0);
    if (rc == GW_OK)
        rc = charge_bytes(c, gw_buf_len(&b));
    if (rc == GW_OK) {
        *out = (struct val){V_STR, 0, json_stringn(gw_buf_ptr(&b), gw_buf_len(&b))};
        if (!out->j)
            rc = nomem(c);
    }
    gw_buf_fini(&b);
    return buf_rc(c, rc);
}

static int op_merge(struct ctx *c, const struct val *a, size_t na, struct val *out)
{
    json_t *res = json_array();
    int rc = res ? GW_OK : nomem(c);
    for (size_t i = 0; i < na && rc == GW_OK; i++) {
        if (a[i].k == V_ARR) {
            for (size_t k = 0; k < json_array_size(a[i].j) && rc == GW_OK; k++) {
                rc = charge(c, 1);
                if (rc == GW_OK)
                    rc = push_raw(c, res, json_array_get(a[i].j, k));
            }
        } else {
            struct val v = vcopy(&a[i]);
            rc = push(c, res, &v);
        }
    }
    if (rc != GW_OK) {
        json_decref(res);
        return rc;
    }
    *out = (struct val){V_ARR, 0, res};
    return GW_OK;
}

static int op_missing_some(struct ctx *c, const struct val *data, const struct val *a,
                           struct val *out)
{
    const struct val *opt = &a[1];
    struct val miss, first = VAL(V_UNDEF, 0);
    int rc, ge;
    if (opt->k == V_ARR) {
        if (json_array_size(opt->j) > 0)
            first = unbox(json_array_get(opt->j, 0));
        rc = missing_core(c, data, first.k == V_ARR ? first.j : opt->j, NULL, 0, &miss);
        vfree(&first);
    } else {
        rc = missing_core(c, data, NULL, opt, 1, &miss);
    }
    if (rc != GW_OK)
        return rc;
    if (nullish(opt)) {
        vfree(&miss);
        return GW_ERROR_SET(c->err, GW_EINVAL, "missing_some needs a list of keys, got %s",
                            opt->k == V_NULL ? "null" : "undefined");
    }
    struct val lv; /* options.length: of an array, a string, or an object's own "length" */
    double len = NAN;
    rc = member(c, opt, "length", 6, &lv);
    if (rc == GW_OK)
        rc = to_number(c, &lv, &len);
    vfree(&lv);
    struct val have = VAL(V_NUM, len - (double)json_array_size(miss.j));
    if (rc == GW_OK)
        rc = less(c, &have, &a[0], &ge);
    if (rc == GW_OK && ge == 0) { /* have >= need */
        vfree(&miss);
        miss = (struct val){V_ARR, 0, json_array()};
        if (!miss.j)
            rc = nomem(c);
    }
    if (rc != GW_OK) {
        vfree(&miss);
        return rc;
    }
    *out = miss;
    return GW_OK;
}

/* Operations whose arguments are all evaluated first. */
static int apply(struct ctx *c, const struct node *n, const struct val *data,
                 const struct val *a, size_t na, struct val *out)
{
    static const struct val undef = {V_UNDEF, 0, NULL};
    const struct val *a0 = na > 0 ? &a[0] : &undef, *a1 = na > 1 ? &a[1] : &undef;
    double x = 0, y = 0;
    bool eq;
    int rc = GW_OK, r1 = 0, r2 = 0;
    switch (n->op) {
    case OP_VAR: return var_get(c, data, a0, a1, out);
    case OP_MISSING:
        if (na > 0 && a[0].k == V_ARR)
            return missing_core(c, data, a[0].j, NULL, 0, out);
        return missing_core(c, data, NULL, a, na, out);
    case OP_MISSING_SOME: return op_missing_some(c, data, a, out);
    case OP_EQ:
    case OP_NE:
        rc = loose_eq(c, a0, a1, &eq);
        *out = VAL(V_BOOL, eq == (n->op == OP_EQ));
        return rc;
    case OP_SEQ:
    case OP_SNE:
        rc = (a0->k == V_STR && a1->k == V_STR) ? charge_bytes(c, sn(a0)) : GW_OK;
        *out = VAL(V_BOOL, strict_eq(a0, a1) == (n->op == OP_SEQ));
        return rc;
    case OP_NOT: *out = VAL(V_BOOL, !truthy(a0)); return GW_OK;
    case OP_NOTNOT: *out = VAL(V_BOOL, truthy(a0)); return GW_OK;
    case OP_GT:
    case OP_GE:
        rc = n->op == OP_GT ? less(c, a1, a0, &r1) : less(c, a0, a1, &r1);
        *out = VAL(V_BOOL, n->op == OP_GT ? r1 == 1 : r1 == 0);
        return rc;
    case OP_LT:
    case OP_LE: {
        bool le = n->op == OP_LE;
        rc = le ? less(c, a1, a0, &r1) : less(c, a0, a1, &r1);
        bool res = le ? r1 == 0 : r1 == 1;
        if (rc == GW_OK && res && na > 2 && a[2].k != V_UNDEF) {
            rc = le ? less(c, &a[2], a1, &r2) : less(c, a1, &a[2], &r2);
            res = le ? r2 == 0 : r2 == 1;
        }
        *out = VAL(V_BOOL, res);
        return rc;
    }
    case OP_MAX:
    case OP_MIN: {
        bool mx = n->op == OP_MAX;
        double best = mx ? -INFINITY : INFINITY;
        for (size_t i = 0; i < na && rc == GW_OK; i++) {
            rc = to_number(c, &a[i], &x);
            if (isnan(x) || isnan(best))
                best = NAN;
            else if (mx ? (x > best || (x == 0 && best == 0 && !signbit(x)))
                        : (x < best || (x == 0 && best == 0 && signbit(x))))
                best = x;
        }
        *out = VAL(V_NUM, best);
        return rc;
    }
    case OP_ADD:
        for (size_t i = 0; i < na && rc == GW_OK; i++) {
            rc = parse_float(c, &a[i], &x);
            y = (y == 0 ? 0.0 : y) + x;
        }
        *out = VAL(V_NUM, y);
        return rc;
    case OP_MUL:
        if (na == 1) { /* reduce() without an initial value returns the lone argument */
            *out = vcopy(a0);
            return GW_OK;
        }
        rc = parse_float(c, a0, &y);
        for (size_t i = 1; i < na && rc == GW_OK; i++) {
            rc = parse_float(c, &a[i], &x);
            y = (i > 1 && y == 0 ? 0.0 : y) * x; /* parseFloat(String(-0)) is 0 */
        }
        *out = VAL(V_NUM, y);
        return rc;
    case OP_SUB:
        rc = to_number(c, a0, &x);
        if (rc == GW_OK && a1->k != V_UNDEF)
            rc = to_number(c, a1, &y);
        *out = VAL(V_NUM, a1->k == V_UNDEF ? -x : x - y);
        return rc;
    case OP_DIV:
    case OP_MOD:
        rc = to_number(c, a0, &x);
        if (rc == GW_OK)
            rc = to_number(c, a1, &y);
        *out = VAL(V_NUM, n->op == OP_DIV ? x / y : fmod(x, y));
        return rc;
    case OP_MERGE: return op_merge(c, a, na, out);
    case OP_IN: return op_in(c, a, out);
    case OP_CAT: return op_cat(c, a, na, out);
    case OP_SUBSTR: return op_substr(c, a, na, out);
    case OP_LOG: *out = vcopy(a0); return GW_OK;
    case OP_TIME:
        if (a0->k == V_NUM)
            x = isfinite(a0->n) ? a0->n : NAN;
        else if (a0->k == V_STR)
            x = parse_time(sp(a0), sn(a0));
        else
            x = NAN;
        *out = isnan(x) ? VAL(V_NULL, 0) : VAL(V_NUM, x);
        return GW_OK;
    default: return GW_ERROR_SET(c->err, GW_ERR, "operator %d has no evaluator", n->op);
    }
}

static int ev_op(struct ctx *c, const struct node *n, const struct val *data, struct val *out)
{
    struct val cur = VAL(V_UNDEF, 0), t;
    uint32_t i;
    int rc = GW_OK;
    switch (n->op) {
    case OP_IF:
    case OP_TERNARY:
        for (i = 0; i + 1 < n->n; i += 2) {
            rc = ev(c, kid(c, n, i), data, &t);
            bool yes = truthy(&t);
            vfree(&t);
            if (rc != GW_OK)
                return rc;
            if (yes)
                return ev(c, kid(c, n, i + 1), data, out);
        }
        if (i + 1 == n->n)
            return ev(c, kid(c, n, i), data, out);
        *out = VAL(V_NULL, 0);
        return GW_OK;
    case OP_AND:
    case OP_OR:
        for (i = 0; i < n->n; i++) {
            vfree(&cur);
            rc = ev(c, kid(c, n, i), data, &cur);
            if (rc != GW_OK || truthy(&cur) == (n->op == OP_OR))
                break;
        }
        *out = cur;
        return rc;
    case OP_MAP:
    case OP_FILTER:
    case OP_REDUCE:
    case OP_ALL:
    case OP_NONE:
    case OP_SOME: return ev_scoped(c, n, data, out);
    default: break;
    }
    struct val stack[8], *a = stack;
    if (n->n > 8 && !(a = gw_trycalloc(n->n, sizeof *a)))
        return nomem(c);
    for (i = 0; i < n->n && rc == GW_OK; i++)
        rc = ev(c, kid(c, n, i), data, &a[i]);
    uint32_t got = i;
    if (rc == GW_OK)
        rc = apply(c, n, data, a, n->n, out);
    for (i = 0; i < got; i++)
        vfree(&a[i]);
    if (a != stack)
        gw_free(a);
    return rc;
}

static int ev(struct ctx *c, uint32_t idx, const struct val *data, struct val *out)
{
    const struct node *n = &c->l->nodes[idx];
    int rc = charge(c, 1);
    *out = VAL(V_UNDEF, 0);
    if (rc != GW_OK)
        return rc;
    if (n->kind == N_LIT) {
        *out = (struct val){n->vk, n->num, json_incref(n->lit)};
        return GW_OK;
    }
    if (n->kind == N_OP)
        return ev_op(c, n, data, out);
    json_t *arr = json_array(); /* an array literal: a new array each time, as in JavaScript */
    if (!arr)
        return nomem(c);
    for (uint32_t i = 0; i < n->n && rc == GW_OK; i++) {
        struct val v;
        rc = ev(c, kid(c, n, i), data, &v);
        if (rc == GW_OK)
            rc = push(c, arr, &v);
        vfree(&v);
    }
    if (rc != GW_OK) {
        json_decref(arr);
        return rc;
    }
    *out = (struct val){V_ARR, 0, arr};
    return GW_OK;
}

/* ---- compile ---- */

struct cc {
    struct gw_logic *l;
    struct gw_error *err;
    uint32_t capn, capk, count;
    char path[200]; /* where we are, for messages: "condition.and[1].in[0]" */
    size_t plen;
    bool cut;
};

static int cfail(struct cc *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cfail(struct cc *c, int code, const char *fmt, ...)
{
    char what[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return GW_ERROR_SET(c->err, code, "%s: %s", c->path, what);
}

/* Appends ".op[i]", ".op" (idx < 0) or "[i]" (op NULL) to the path; returns the mark to pop. */
static size_t path_push(struct cc *c, const char *op, long idx)
{
    size_t mark = c->plen;
    char seg[48];
    if (op && idx >= 0)
        snprintf(seg, sizeof seg, ".%s[%ld]", op, idx);
    else if (op)
        snprintf(seg, sizeof seg, ".%s", op);
    else
        snprintf(seg, sizeof seg, "[%ld]", idx);
    size_t n = strlen(seg);
    if (!c->cut && c->plen + n < sizeof c->path) {
        memcpy(c->path + c->plen, seg, n + 1);
        c->plen += n;
    } else if (!c->cut && c->plen + 4 <= sizeof c->path) {
        memcpy(c->path + c->plen, "...", 4);
        c->plen += 3;
        c->cut = true;
    }
    return mark;
}

static void path_pop(struct cc *c, size_t mark)
{
    if (mark < c->plen)
        c->cut = false;
    c->plen = mark;
    c->path[mark] = '\0';
}

static int new_node(struct cc *c, uint32_t *out)
{
    struct gw_logic *l = c->l;
    if (l->nnodes == c->capn) {
        uint32_t cap = c->capn ? c->capn * 2 : 16;
        struct node *p = gw_tryrealloc(l->nodes, cap * sizeof *p);
        if (!p)
            return GW_ERROR_SET(c->err, GW_ENOMEM, "out of memory compiling a condition");
        l->nodes = p, c->capn = cap;
    }
    memset(&l->nodes[l->nnodes], 0, sizeof l->nodes[0]);
    *out = l->nnodes++;
    return GW_OK;
}

static int reserve_kids(struct cc *c, uint32_t n, uint32_t *first)
{
    struct gw_logic *l = c->l;
    if (l->nkids + n > c->capk) {
        uint32_t cap = c->capk ? c->capk : 16;
        while (cap < l->nkids + n)
            cap *= 2;
        uint32_t *p = gw_tryrealloc(l->kids, cap * sizeof *p);
        if (!p)
            return GW_ERROR_SET(c->err, GW_ENOMEM, "out of memory compiling a condition");
        l->kids = p, c->capk = cap;
    }
    *first = l->nkids;
    l->nkids += n;
    return GW_OK;
}

/* Counts one value of the rule against the node and depth limits. */
static int count(struct cc *c, int depth)
{
    if (depth > GW_LOGIC_MAX_DEPTH)
        return cfail(c, GW_ELIMIT, "rule nests deeper than %d levels", GW_LOGIC_MAX_DEPTH);
    if (++c->count > GW_LOGIC_MAX_NODES)
        return cfail(c, GW_ELIMIT, "rule has more than %d nodes", GW_LOGIC_MAX_NODES);
    return GW_OK;
}

/* Counts the values inside a literal (an object that is not an operation: never evaluated). */
static int count_literal(struct cc *c, json_t *j, int depth)
{
    const char *key;
    json_t *v;
    size_t i;
    int rc = count(c, depth);
    if (rc == GW_OK && json_is_object(j)) {
        json_object_foreach(j, key, v) {
            rc = count_literal(c, v, depth + 1);
            if (rc != GW_OK)
                break;
        }
    } else if (rc == GW_OK && json_is_array(j)) {
        json_array_foreach(j, i, v) {
            rc = count_literal(c, v, depth + 1);
            if (rc != GW_OK)
                break;
        }
    }
    return rc;
}

static int find_op(const char *name)
{
    for (int i = 0; i < OP__COUNT; i++)
        if (strcmp(name, ops[i].name) == 0)
            return i;
    return -1;
}

static int check_arity(struct cc *c, int op, uint32_t nargs)
{
    unsigned mn = ops[op].min, mx = ops[op].max;
    if (nargs >= mn && (mx == ANY || nargs <= mx))
        return GW_OK;
    const char *s = mn == 1 ? "" : "s";
    if (mn == mx)
        return cfail(c, GW_EINVAL, "operator '%s' takes exactly %u argument%s, got %u",
                     ops[op].name, mn, s, nargs);
    if (mx == ANY)
        return cfail(c, GW_EINVAL, "operator '%s' takes at least %u argument%s, got %u",
                     ops[op].name, mn, s, nargs);
    return cfail(c, GW_EINVAL, "operator '%s' takes %u to %u arguments, got %u", ops[op].name,
                 mn, mx, nargs);
}

static int compile(struct cc *c, json_t *j, int depth, uint32_t *out)
{
    uint32_t self, first, nargs;
    int rc, op = -1;
    const char *key = NULL;
    json_t *args = NULL;
    if (json_is_object(j) && json_object_size(j) == 1) {
        json_object_foreach(j, key, args) break;
        op = find_op(key);
        if (op < 0)
            return cfail(c, GW_EINVAL, "unknown operator '%.40s'", key);
    } else if (!json_is_array(j)) { /* a literal: scalar, or an object of 0 or 2+ members */
        rc = count_literal(c, j, depth);
        if (rc == GW_OK)
            rc = new_node(c, &self);
        if (rc != GW_OK)
            return rc;
        struct node *n = &c->l->nodes[self];
        struct val v = unbox(j);
        n->kind = N_LIT, n->vk = v.k, n->num = v.n;
        n->lit = v.j; /* borrowed: the compiled form holds the whole rule */
        json_decref(v.j);
        *out = self;
        return GW_OK;
    }
    bool list = op < 0 || json_is_array(args); /* {"op": x} is {"op": [x]} */
    json_t *items = op < 0 ? j : args;
    nargs = list ? (uint32_t)json_array_size(items) : 1;
    rc = count(c, depth);
    if (rc == GW_OK && op >= 0 && list)
        rc = count(c, depth); /* the argument array */
    if (rc == GW_OK && op >= 0)
        rc = check_arity(c, op, nargs);
    if (rc == GW_OK)
        rc = new_node(c, &self);
    if (rc == GW_OK)
        rc = reserve_kids(c, nargs, &first);
    for (uint32_t i = 0; i < nargs && rc == GW_OK; i++) {
        size_t mark = path_push(c, op < 0 ? NULL : ops[op].name, list ? (long)i : -1);
        uint32_t k = 0;
        rc = compile(c, list ? json_array_get(items, i) : items, depth + 1, &k);
        if (rc == GW_OK && op == OP_VAR && i == 0) {
            const struct node *p = &c->l->nodes[k];
            if (p->kind == N_ARR || (p->kind == N_LIT && (p->vk == V_OBJ || p->vk == V_BOOL)))
                rc = cfail(c, GW_EINVAL, "var takes a path: a string, a number or null");
        }
        path_pop(c, mark);
        c->l->kids[first + i] = k;
    }
    if (rc != GW_OK)
        return rc;
    struct node *n = &c->l->nodes[self];
    n->kind = op < 0 ? N_ARR : N_OP;
    n->op = (unsigned char)(op < 0 ? 0 : op);
    n->kids = first, n->n = nargs;
    *out = self;
    return GW_OK;
}

int gw_logic_compile_at(const json_t *rule, const char *where, struct gw_logic **out,
                        struct gw_error *err)
{
    *out = NULL;
    if (!rule)
        return GW_ERROR_SET(err, GW_EINVAL, "%s: no condition", where ? where : "condition");
    struct gw_logic *l = gw_trycalloc(1, sizeof *l);
    if (!l)
        return GW_ERROR_SET(err, GW_ENOMEM, "out of memory compiling a condition");
    struct cc c = {.l = l, .err = err};
    snprintf(c.path, sizeof c.path, "%s", where ? where : "condition");
    c.plen = strlen(c.path);
    /* validate the caller's rule, then compile a private copy of it (validated, so bounded):
     * the caller may change or free its document; the literals we point into must not move */
    int rc = compile(&c, (json_t *)rule, 1, &l->root);
    if (rc == GW_OK) {
        l->rule = json_deep_copy(rule);
        l->nnodes = l->nkids = c.count = 0;
        rc = l->rule ? compile(&c, l->rule, 1, &l->root)
                     : GW_ERROR_SET(err, GW_ENOMEM, "out of memory compiling a condition");
    }
    if (rc != GW_OK) {
        gw_logic_free(l);
        return rc;
    }
    *out = l;
    return GW_OK;
}

int gw_logic_compile(const json_t *rule, struct gw_logic **out, struct gw_error *err)
{
    return gw_logic_compile_at(rule, "condition", out, err);
}

int gw_logic_eval_budget(const struct gw_logic *l, const json_t *data, unsigned long max_steps,
                         json_t **out, struct gw_error *err)
{
    *out = NULL;
    if (!l)
        return GW_ERROR_SET(err, GW_EINVAL, "no compiled condition");
    pthread_once(&s_once, sentinels_init);
    if (!s_undef || !s_nan || !s_pinf || !s_ninf)
        return GW_ERROR_SET(err, GW_ENOMEM, "out of memory evaluating a condition");
    gw_error_clear(err);
    struct ctx c = {.l = l, .max_steps = max_steps, .err = err};
    struct val d = unbox((json_t *)(data ? data : json_null())), r;
    int rc = ev(&c, l->root, &d, &r);
    vfree(&d);
    if (rc == GW_OK) {
        *out = to_json(&r);
        if (!*out)
            rc = nomem(&c);
    }
    vfree(&r);
    fix_containers(&c);
    return rc;
}

int gw_logic_eval(const struct gw_logic *l, const json_t *data, json_t **out,
                  struct gw_error *err)
{
    return gw_logic_eval_budget(l, data, GW_LOGIC_MAX_STEPS, out, err);
}

int gw_logic_test(const struct gw_logic *l, const json_t *data, bool *out, struct gw_error *err)
{
    json_t *r;
    int rc = gw_logic_eval(l, data, &r, err);
    *out = rc == GW_OK && gw_logic_truthy(r);
    json_decref(r);
    return rc;
}

bool gw_logic_truthy(const json_t *v)
{
    if (!v)
        return false;
    switch (json_typeof(v)) {
    case JSON_TRUE:
    case JSON_OBJECT: return true;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0;
    case JSON_STRING: return json_string_length(v) > 0;
    case JSON_ARRAY: return json_array_size(v) > 0;
    default: return false;
    }
}

void gw_logic_free(struct gw_logic *l)
{
    if (!l)
        return;
    json_decref(l->rule);
    gw_free(l->nodes);
    gw_free(l->kids);
    gw_free(l);
}
