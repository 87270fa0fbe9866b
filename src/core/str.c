/*
 * src/core/str.c
 * Slice helpers that are too big to inline.
 */
#include "core/str.h"

#include "core/err.h"

#include <limits.h>

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool gw_str_ieq(struct gw_str a, struct gw_str b)
{
    if (a.n != b.n)
        return false;
    for (size_t i = 0; i < a.n; i++)
        if (lower(a.p[i]) != lower(b.p[i]))
            return false;
    return true;
}

struct gw_str gw_str_trim(struct gw_str s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

int gw_str_to_u64(struct gw_str s, unsigned long long *out)
{
    if (s.n == 0 || s.n > 20)
        return GW_EINVAL;
    unsigned long long v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return GW_EINVAL;
        unsigned d = (unsigned)(s.p[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return GW_EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return GW_OK;
}

void gw_hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

size_t gw_strlcpy(char *dst, size_t size, const char *src)
{
    if (!src)
        src = "";
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

size_t gw_u64_to_dec(unsigned long long v, char *out)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

size_t gw_i64_to_dec(long long v, char *out)
{
    if (v >= 0)
        return gw_u64_to_dec((unsigned long long)v, out);
    out[0] = '-';
    /* -(v + 1) + 1 avoids overflowing on LLONG_MIN */
    return 1 + gw_u64_to_dec((unsigned long long)(-(v + 1)) + 1u, out + 1);
}
