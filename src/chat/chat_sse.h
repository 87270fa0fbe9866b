/*
 * src/chat/chat_sse.h
 * A bounded, incremental reader of server-sent events (the text/event-stream format of the
 * WHATWG HTML standard, "Server-sent events" section 9.2.6) for the LLM providers' streams.
 *
 * Bytes are fed as they arrive, in pieces of any size (a line, a field or a CRLF may be split
 * across pieces). Lines end with CRLF, LF or CR; a line starting with ':' is a comment; fields
 * are "event", "data" (several data lines join with '\n'), "id" and "retry" (ignored); a blank
 * line dispatches the event when it has data. An event left unfinished at the end of the
 * stream is discarded, as the standard says. A leading UTF-8 BOM is skipped.
 * Limits: one line at most max_line bytes, the data of one event at most max_event bytes, the
 * event name at most GW_SSE_NAME_MAX bytes: beyond them feeding fails with GW_ELIMIT (the
 * stream is malformed or hostile; nothing of it is dispatched any more).
 * Pure: no I/O, no allocation beyond the two bounded buffers.
 */
#ifndef GW_CHAT_SSE_H
#define GW_CHAT_SSE_H

#include "core/buf.h"
#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#define GW_SSE_NAME_MAX 63

struct gw_sse_event {
    const char *event; /* "message" when the event had no event field */
    const char *data;  /* NUL-terminated; data_len bytes */
    size_t data_len;
};

/* Called for each dispatched event; returns GW_OK to go on, anything else stops the reader and
 * is returned by gw_sse_feed. */
typedef int (*gw_sse_event_fn)(void *arg, const struct gw_sse_event *ev);

struct gw_sse_reader {
    struct gw_buf line;
    struct gw_buf data;
    char event[GW_SSE_NAME_MAX + 1];
    bool has_data;
    bool last_cr;   /* the previous piece ended with CR (a following LF belongs to it) */
    bool started;   /* the first bytes were seen (BOM check done) */
    size_t bom;     /* BOM bytes matched so far */
    int failed;     /* a sticky error code, GW_OK while healthy */
    size_t max_line;
    size_t events;  /* events dispatched */
    gw_sse_event_fn fn;
    void *arg;
};

void gw_sse_init(struct gw_sse_reader *r, size_t max_line, size_t max_event, gw_sse_event_fn fn,
                 void *arg);
void gw_sse_fini(struct gw_sse_reader *r);

/* Feeds bytes. GW_OK, GW_ELIMIT (a limit was exceeded; err says which) or the callback's code.
 * After a failure every further feed returns the same code. */
int gw_sse_feed(struct gw_sse_reader *r, const char *p, size_t n, struct gw_error *err);

#endif
