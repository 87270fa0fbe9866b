/*
 * src/core/buf.h
 * Bounded growable byte buffer (after curl's dynbuf): every buffer has a mandatory maximum
 * size; appending past it fails with GW_ELIMIT and leaves the content unchanged.
 * The content is always NUL-terminated for convenience. Members are private: use the API.
 */
#ifndef GW_CORE_BUF_H
#define GW_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct gw_buf {
    char *_p;
    size_t _len;
    size_t _cap;
    size_t _max;
};

/* Initialises an empty buffer that may grow to at most `max` bytes of content. */
void gw_buf_init(struct gw_buf *b, size_t max);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void gw_buf_fini(struct gw_buf *b);
/* Empties the buffer but keeps its memory. */
void gw_buf_reset(struct gw_buf *b);

/* Appends (gw_buf_add, gw_buf_adds, gw_buf_addc: inline, below); GW_OK, GW_ELIMIT (over max)
 * or GW_ENOMEM. */
/* Appends a decimal integer (what "%lld" / "%llu" print, without printf's cost). */
int gw_buf_add_i64(struct gw_buf *b, long long v);
int gw_buf_add_u64(struct gw_buf *b, unsigned long long v);
/* Makes room for n more bytes and returns where they go: write at most n bytes there, then
 * gw_buf_commit the number written (the content is unchanged until then). NULL when the
 * maximum or memory does not allow n more bytes. For writers that know an upper bound. */
char *gw_buf_space(struct gw_buf *b, size_t n);
/* Appends the n bytes written into the space gw_buf_space returned (n <= what was asked). */
static inline void gw_buf_commit(struct gw_buf *b, size_t n)
{
    b->_len += n;
    b->_p[b->_len] = '\0';
}
int gw_buf_printf(struct gw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int gw_buf_vprintf(struct gw_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* The appends, inline for their common case: the bytes fit the memory already held. The
 * capacity never exceeds max + 1, so fitting into it also respects the maximum; everything
 * else (the first allocation, growth, limits, errors) takes gw_buf__add_slow. JSON, log and
 * audit writers append a few bytes at a time, on every request. 0 is GW_OK (core/err.h). */
int gw_buf__add_slow(struct gw_buf *b, const void *p, size_t n);

static inline int gw_buf_add(struct gw_buf *b, const void *p, size_t n)
{
    if (n < b->_cap - b->_len) { /* never true while nothing is held (_cap == 0) */
        if (n)
            memcpy(b->_p + b->_len, p, n);
        b->_len += n;
        b->_p[b->_len] = '\0';
        return 0;
    }
    return gw_buf__add_slow(b, p, n);
}

static inline int gw_buf_adds(struct gw_buf *b, const char *s)
{
    return gw_buf_add(b, s, strlen(s));
}

static inline int gw_buf_addc(struct gw_buf *b, char c)
{
    if (b->_cap - b->_len > 1) {
        b->_p[b->_len++] = c;
        b->_p[b->_len] = '\0';
        return 0;
    }
    return gw_buf__add_slow(b, &c, 1);
}

static inline const char *gw_buf_ptr(const struct gw_buf *b)
{
    return b->_p ? b->_p : "";
}
static inline size_t gw_buf_len(const struct gw_buf *b)
{
    return b->_len;
}

/* Shortens the content to `len` bytes (no-op when len >= the current length). */
void gw_buf_truncate(struct gw_buf *b, size_t len);

/* Hands the content to the caller (free with gw_free); the buffer becomes empty. */
char *gw_buf_take(struct gw_buf *b, size_t *out_len);

#endif
