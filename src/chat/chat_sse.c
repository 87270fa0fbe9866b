/*
 * src/chat/chat_sse.c
 * The server-sent events reader (see chat_sse.h): line splitting across pieces, field parsing
 * and event dispatch under limits.
 */
#include "chat/chat_sse.h"

#include <string.h>

void gw_sse_init(struct gw_sse_reader *r, size_t max_line, size_t max_event, gw_sse_event_fn fn,
                 void *arg)
{
    memset(r, 0, sizeof(*r));
    gw_buf_init(&r->line, max_line);
    r->max_line = max_line;
    gw_buf_init(&r->data, max_event);
    r->fn = fn;
    r->arg = arg;
}

void gw_sse_fini(struct gw_sse_reader *r)
{
    gw_buf_fini(&r->line);
    gw_buf_fini(&r->data);
}

static int dispatch(struct gw_sse_reader *r)
{
    int rc = GW_OK;
    if (r->has_data) {
        struct gw_sse_event ev = {r->event[0] ? r->event : "message", gw_buf_ptr(&r->data),
                                  gw_buf_len(&r->data)};
        r->events++;
        rc = r->fn(r->arg, &ev);
    }
    gw_buf_reset(&r->data);
    r->has_data = false;
    r->event[0] = '\0';
    return rc;
}

/* One complete line (without its terminator). */
static int line(struct gw_sse_reader *r, const char *s, size_t n, struct gw_error *err)
{
    if (n == 0)
        return dispatch(r);
    if (s[0] == ':')
        return GW_OK; /* comment (keep-alives) */
    const char *colon = memchr(s, ':', n);
    size_t flen = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    size_t vlen = colon ? n - flen - 1 : 0;
    if (vlen && *v == ' ') {
        v++;
        vlen--;
    }
    if (flen == 4 && memcmp(s, "data", 4) == 0) {
        if ((r->has_data && gw_buf_addc(&r->data, '\n') != GW_OK) ||
            gw_buf_add(&r->data, v, vlen) != GW_OK)
            return GW_ERROR_SET(err, GW_ELIMIT, "an event of the stream is larger than the limit");
        r->has_data = true;
    } else if (flen == 5 && memcmp(s, "event", 5) == 0) {
        if (vlen > GW_SSE_NAME_MAX)
            return GW_ERROR_SET(err, GW_ELIMIT, "an event name of the stream is longer than %d "
                                                "bytes", GW_SSE_NAME_MAX);
        memcpy(r->event, v, vlen);
        r->event[vlen] = '\0';
    }
    /* id, retry and unknown fields are ignored */
    return GW_OK;
}

int gw_sse_feed(struct gw_sse_reader *r, const char *p, size_t n, struct gw_error *err)
{
    if (r->failed)
        return GW_ERROR_SET(err, r->failed, "the stream already failed");
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    while (!r->started && n) {
        if ((unsigned char)*p == bom[r->bom]) {
            p++;
            n--;
            if (++r->bom == 3)
                r->started = true;
            continue;
        }
        if (r->bom) { /* a partial BOM was not one: give its bytes back */
            int rc = gw_buf_add(&r->line, bom, r->bom);
            if (rc != GW_OK)
                return r->failed = GW_ERROR_SET(err, GW_ELIMIT, "line too long");
        }
        r->started = true;
    }
    size_t i = 0;
    while (i < n) {
        if (r->last_cr && p[i] == '\n') {
            r->last_cr = false;
            i++;
            continue;
        }
        r->last_cr = false;
        size_t j = i;
        while (j < n && p[j] != '\n' && p[j] != '\r')
            j++;
        if (j == n) {
            if (gw_buf_add(&r->line, p + i, n - i) != GW_OK)
                return r->failed = GW_ERROR_SET(err, GW_ELIMIT, "a line of the stream is longer "
                                                                "than the limit");
            return GW_OK;
        }
        int rc;
        if (gw_buf_len(&r->line)) {
            if (gw_buf_add(&r->line, p + i, j - i) != GW_OK)
                return r->failed = GW_ERROR_SET(err, GW_ELIMIT, "a line of the stream is longer "
                                                                "than the limit");
            rc = line(r, gw_buf_ptr(&r->line), gw_buf_len(&r->line), err);
            gw_buf_reset(&r->line);
        } else {
            if (j - i > r->max_line)
                return r->failed = GW_ERROR_SET(err, GW_ELIMIT, "a line of the stream is longer "
                                                                "than the limit");
            rc = line(r, p + i, j - i, err);
        }
        if (rc != GW_OK)
            return r->failed = rc;
        r->last_cr = p[j] == '\r';
        i = j + 1;
    }
    return GW_OK;
}
