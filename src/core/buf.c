/*
 * src/core/buf.c
 * Bounded buffer implementation. Growth doubles capacity, capped at max + 1 (the NUL).
 */
#include "core/buf.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/str.h"

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

int gw_buf__add_slow(struct gw_buf *b, const void *p, size_t n)
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

int gw_buf_add_u64(struct gw_buf *b, unsigned long long v)
{
    char d[24];
    return gw_buf_add(b, d, gw_u64_to_dec(v, d));
}

int gw_buf_add_i64(struct gw_buf *b, long long v)
{
    char d[24];
    return gw_buf_add(b, d, gw_i64_to_dec(v, d));
}

char *gw_buf_space(struct gw_buf *b, size_t n)
{
    return reserve(b, n) == GW_OK ? b->_p + b->_len : NULL;
}

int gw_buf_vprintf(struct gw_buf *b, const char *fmt, va_list ap)
{
    /* one pass when the text fits the memory already held (the usual case once a buffer is
     * in use); otherwise measure, grow, and format again. A text that does not fit is never
     * kept, not even partly: the content is unchanged on failure. */
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = b->_cap - b->_len; /* 0 while nothing is held */
    int n = vsnprintf(room ? b->_p + b->_len : NULL, room, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        if (room)
            b->_p[b->_len] = '\0';
        return GW_EINVAL;
    }
    if ((size_t)n < room) { /* fits: within the maximum too, since cap <= max + 1 */
        b->_len += (size_t)n;
        return GW_OK;
    }
    if (room)
        b->_p[b->_len] = '\0'; /* undo the partial text */
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
