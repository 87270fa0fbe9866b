/*
 * src/audit/audit_jcs.c
 * RFC 8785 serialisation over jansson values (see audit_jcs.h). Member names are sorted with a
 * comparator over UTF-16 code units (code point order differs only for characters above
 * U+FFFF versus U+E000..U+FFFF); numbers use the shortest "%.*e" precision that reads back to
 * the same double, then ECMAScript's layout rules (ES2015 7.1.12.1).
 */
#include "audit/audit_jcs.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/json.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JCS_MAX_DEPTH 128

/* Next UTF-16 code unit of a UTF-8 string (input is valid UTF-8: jansson checked it). */
struct u16it {
    const unsigned char *p, *end;
    unsigned pending; /* low surrogate still to return, or 0 */
};

static int u16_next(struct u16it *it)
{
    if (it->pending) {
        int r = (int)it->pending;
        it->pending = 0;
        return r;
    }
    if (it->p >= it->end)
        return -1;
    unsigned c = *it->p++;
    unsigned cp;
    if (c < 0x80) {
        cp = c;
    } else if (c < 0xE0) {
        cp = (c & 0x1F) << 6 | (it->p[0] & 0x3F);
        it->p += 1;
    } else if (c < 0xF0) {
        cp = (c & 0x0F) << 12 | (it->p[0] & 0x3F) << 6 | (it->p[1] & 0x3F);
        it->p += 2;
    } else {
        cp = (c & 0x07) << 18 | (it->p[0] & 0x3F) << 12 | (it->p[1] & 0x3F) << 6 |
             (it->p[2] & 0x3F);
        it->p += 3;
    }
    if (cp >= 0x10000) {
        cp -= 0x10000;
        it->pending = 0xDC00 | (cp & 0x3FF);
        return (int)(0xD800 | (cp >> 10));
    }
    return (int)cp;
}

static int cmp_u16(const char *a, const char *b)
{
    /* UTF-8 byte order is code point order; UTF-16 code unit order differs only between a
     * character above U+FFFF (lead byte F0-F4) and one in U+E000..U+FFFF (lead byte EE/EF):
     * compare bytes, and decode only when the first difference is between such bytes */
    const unsigned char *x0 = (const unsigned char *)a, *y0 = (const unsigned char *)b;
    while (*x0 && *x0 == *y0) {
        x0++;
        y0++;
    }
    if (*x0 < 0xEE || *y0 < 0xEE)
        return *x0 < *y0 ? -1 : *x0 > *y0;
    struct u16it x = {(const unsigned char *)a, (const unsigned char *)a + strlen(a), 0};
    struct u16it y = {(const unsigned char *)b, (const unsigned char *)b + strlen(b), 0};
    for (;;) {
        int ca = u16_next(&x), cb = u16_next(&y);
        if (ca != cb)
            return ca < cb ? -1 : 1; /* -1 (end) sorts first */
        if (ca < 0)
            return 0;
    }
}

static int cmp_keys(const void *a, const void *b)
{
    return cmp_u16(*(const char *const *)a, *(const char *const *)b);
}

/* The string literal of s[0..n): RFC 8785 spells the \u00xx escapes in lower case. */
static int put_string(const char *s, size_t n, struct gw_buf *out)
{
    return gw_json_put_string(out, s, n, true);
}

int gw_jcs_string(const char *s, size_t n, struct gw_buf *out)
{
    return put_string(s, n, out);
}

void gw_jcs_number(double d, char *out, size_t size)
{
    if (d == 0) {
        snprintf(out, size, "0"); /* also -0 */
        return;
    }
    if (gw_json_format_decimal(d, out, size)) /* most numbers: the plain decimal */
        return;
    char tmp[40];
    int p;
    for (p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* tmp = [-]d[.ddd]e(+|-)xx: collect the digits and the exponent */
    const char *s = tmp;
    bool neg = *s == '-';
    if (neg)
        s++;
    char digits[20];
    int k = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[k++] = *s;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    int e = (int)strtol(s + 1, NULL, 10); /* checksrc: allow (our own printf output) */
    int n = e + 1;
    char buf[64];
    size_t m = 0;
    if (neg)
        buf[m++] = '-';
    if (k <= n && n <= 21) {
        memcpy(buf + m, digits, (size_t)k);
        m += (size_t)k;
        for (int i = 0; i < n - k; i++)
            buf[m++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(buf + m, digits, (size_t)n);
        m += (size_t)n;
        buf[m++] = '.';
        memcpy(buf + m, digits + n, (size_t)(k - n));
        m += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {
        buf[m++] = '0';
        buf[m++] = '.';
        for (int i = 0; i < -n; i++)
            buf[m++] = '0';
        memcpy(buf + m, digits, (size_t)k);
        m += (size_t)k;
    } else {
        buf[m++] = digits[0];
        if (k > 1) {
            buf[m++] = '.';
            memcpy(buf + m, digits + 1, (size_t)(k - 1));
            m += (size_t)(k - 1);
        }
        m += (size_t)snprintf(buf + m, sizeof(buf) - m, "e%c%d", n - 1 >= 0 ? '+' : '-',
                              abs(n - 1));
    }
    buf[m] = '\0';
    snprintf(out, size, "%s", buf);
}

static int dump(const json_t *v, struct gw_buf *out, int depth)
{
    if (depth > JCS_MAX_DEPTH)
        return GW_EINVAL;
    char num[40];
    switch (json_typeof(v)) {
    case JSON_NULL: return gw_buf_adds(out, "null");
    case JSON_TRUE: return gw_buf_adds(out, "true");
    case JSON_FALSE: return gw_buf_adds(out, "false");
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        if (i >= -(1LL << 53) && i <= (1LL << 53))
            snprintf(num, sizeof(num), "%lld", (long long)i);
        else
            gw_jcs_number((double)i, num, sizeof(num));
        return gw_buf_adds(out, num);
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        if (!isfinite(d))
            return GW_EINVAL;
        gw_jcs_number(d, num, sizeof(num));
        return gw_buf_adds(out, num);
    }
    case JSON_STRING: return put_string(json_string_value(v), json_string_length(v), out);
    case JSON_ARRAY: {
        int rc = gw_buf_addc(out, '[');
        for (size_t i = 0; i < json_array_size(v) && rc == GW_OK; i++) {
            if (i)
                rc = gw_buf_addc(out, ',');
            if (rc == GW_OK)
                rc = dump(json_array_get(v, i), out, depth + 1);
        }
        return rc == GW_OK ? gw_buf_addc(out, ']') : rc;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v);
        const char *small[32];
        const char **keys = n <= 32 ? small : gw_trymalloc(n * sizeof(*keys));
        if (!keys)
            return GW_ENOMEM;
        size_t i = 0;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) keys[i++] = k;
        qsort(keys, n, sizeof(*keys), cmp_keys);
        int rc = gw_buf_addc(out, '{');
        for (i = 0; i < n && rc == GW_OK; i++) {
            if (i)
                rc = gw_buf_addc(out, ',');
            if (rc == GW_OK)
                rc = put_string(keys[i], strlen(keys[i]), out);
            if (rc == GW_OK)
                rc = gw_buf_addc(out, ':');
            if (rc == GW_OK)
                rc = dump(json_object_get(v, keys[i]), out, depth + 1);
        }
        if (keys != small)
            gw_free(keys);
        return rc == GW_OK ? gw_buf_addc(out, '}') : rc;
    }
    }
    return GW_EINVAL;
}

int gw_jcs_dump(const json_t *v, struct gw_buf *out)
{
    return dump(v, out, 0);
}
