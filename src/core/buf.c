/*
 * src/core/buf.c
 * Bounded buffer implementation. Growth doubles capacity, capped at max + 1 (the NUL).
 */
#include "core/buf.h"

#include "core/alloc.h"
#include "core/err.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

void gw_buf_init(struct gw_buf *b, size_t max)
{
    b->_p = NULL;
    b->_len = 0;
    b->_cap = 0;
    b->_max = max;
}

void gw_buf_fini(struct gw_buf *b)
{
    gw_free_null(&b->_p);
    b->_len = 0;
    b->_cap = 0;
}

void gw_buf_reset(struct gw_buf *b)
{
    b->_len = 0;
    if (b->_p)
        b->_p[0] = '\0';
}

static int reserve(struct gw_buf *b, size_t extra)
{
    if (extra > b->_max || b->_len > b->_max - extra || b->_len + extra == SIZE_MAX)
        return GW_ELIMIT;
    size_t need = b->_len + extra + 1; /* cannot wrap: checked above */
    if (need <= b->_cap)
        return GW_OK;
    size_t limit = b->_max < SIZE_MAX ? b->_max + 1 : SIZE_MAX;
    size_t cap = b->_cap ? b->_cap : 64;
    while (cap < need && cap <= SIZE_MAX / 2)
        cap *= 2;
    if (cap < need)
        cap = need;
    if (cap > limit)
        cap = limit;
    char *p = gw_tryrealloc(b->_p, cap);
    if (!p)
        return GW_ENOMEM;
    b->_p = p;
    b->_cap = cap;
    return GW_OK;
}

int gw_buf_add(struct gw_buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc != GW_OK)
        return rc;
    if (n)
        memcpy(b->_p + b->_len, p, n);
    b->_len += n;
    b->_p[b->_len] = '\0';
    return GW_OK;
}

int gw_buf_adds(struct gw_buf *b, const char *s)
{
    return gw_buf_add(b, s, strlen(s));
}

int gw_buf_addc(struct gw_buf *b, char c)
{
    if (b->_len + 2 <= b->_cap) { /* room for the byte and the NUL: the common case */
        b->_p[b->_len++] = c;
        b->_p[b->_len] = '\0';
        return GW_OK;
    }
    return gw_buf_add(b, &c, 1);
}

char *gw_buf_space(struct gw_buf *b, size_t n)
{
    return reserve(b, n) == GW_OK ? b->_p + b->_len : NULL;
}

int gw_buf_vprintf(struct gw_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return GW_EINVAL;
    int rc = reserve(b, (size_t)n);
    if (rc != GW_OK)
        return rc;
    vsnprintf(b->_p + b->_len, (size_t)n + 1, fmt, ap);
    b->_len += (size_t)n;
    return GW_OK;
}

int gw_buf_printf(struct gw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = gw_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void gw_buf_truncate(struct gw_buf *b, size_t len)
{
    if (len < b->_len) {
        b->_len = len;
        b->_p[len] = '\0';
    }
}

char *gw_buf_take(struct gw_buf *b, size_t *out_len)
{
    char *p = b->_p;
    if (!p)
        p = gw_xstrdup("");
    if (out_len)
        *out_len = b->_len;
    b->_p = NULL;
    b->_len = 0;
    b->_cap = 0;
    return p;
}
