/*
 * src/httpc/httpc_resp.c
 * One HTTP/1.1 response read from bytes (see httpc_resp.h): llhttp's callbacks collect the
 * header block and the body, zlib decodes a gzip or deflate body through a bounded stack chunk.
 * States: status line and headers -> (interim answer: again) -> body -> DONE (llhttp paused
 * right after the answer, so what follows is visibly stray); any refusal -> FAIL (final).
 */
#include "httpc/httpc_resp.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define INFLATE_CHUNK 16384u

enum { CODING_NONE, CODING_GZIP, CODING_DEFLATE };

static int refuse(struct gw_httpc_resp *r, enum gw_httpc_status st, const char *msg)
{
    if (!r->_fail) {
        r->_fail = (int)st;
        snprintf(r->_error, sizeof(r->_error), "%s", msg);
    }
    return -1;
}

static int headers_too_large(struct gw_httpc_resp *r)
{
    return refuse(r, GW_HTTPC_EPROTO, "response headers over 32 KiB");
}

/* The body is over the cap (ETOOLARGE, with the cap in the message as libcurl's path has it). */
static int too_large(struct gw_httpc_resp *r)
{
    char msg[80];
    snprintf(msg, sizeof(msg), "response larger than %zu bytes", r->_max_bytes);
    return refuse(r, GW_HTTPC_ETOOLARGE, msg);
}

static int body_add(struct gw_httpc_resp *r, const void *p, size_t n)
{
    int rc = gw_buf_add(&r->_body, p, n);
    if (rc == GW_ELIMIT)
        return too_large(r);
    if (rc != GW_OK)
        return refuse(r, GW_HTTPC_EPROTO, "out of memory while receiving the response");
    return 0;
}

/* ---- llhttp callbacks (data = the reader) ---- */

static int on_message_begin(llhttp_t *ll)
{
    struct gw_httpc_resp *r = ll->data;
    gw_buf_reset(&r->_headers); /* a final answer after an interim one starts afresh */
    r->_in_value = false;
    return 0;
}

static int on_header_field(llhttp_t *ll, const char *at, size_t n)
{
    struct gw_httpc_resp *r = ll->data;
    int rc = r->_in_value ? gw_buf_add(&r->_headers, "\r\n", 2) : GW_OK;
    r->_in_value = false;
    if (rc != GW_OK || gw_buf_add(&r->_headers, at, n) != GW_OK)
        return headers_too_large(r);
    return 0;
}

static int on_header_value(llhttp_t *ll, const char *at, size_t n)
{
    struct gw_httpc_resp *r = ll->data;
    int rc = r->_in_value ? GW_OK : gw_buf_add(&r->_headers, ": ", 2);
    r->_in_value = true;
    if (rc != GW_OK || gw_buf_add(&r->_headers, at, n) != GW_OK)
        return headers_too_large(r);
    return 0;
}

/* The answer's Content-Encoding, when gzip and deflate were offered: zlib set up for it. An
 * unknown coding is refused, as libcurl does (the body could not be read); a coding that was
 * not offered is handed over as it came, as libcurl does. */
static int setup_coding(struct gw_httpc_resp *r)
{
    char ce[64];
    struct gw_httpc_response probe = {._headers = gw_buf_ptr(&r->_headers),
                                      ._headers_len = gw_buf_len(&r->_headers)};
    if (!r->_accept_encoding ||
        !gw_httpc_response_header(&probe, "Content-Encoding", ce, sizeof(ce)) || !ce[0] ||
        strcasecmp(ce, "identity") == 0)
        return 0;
    int window;
    if (strcasecmp(ce, "gzip") == 0 || strcasecmp(ce, "x-gzip") == 0) {
        r->_coding = CODING_GZIP;
        window = 15 + 16;
    } else if (strcasecmp(ce, "deflate") == 0) {
        r->_coding = CODING_DEFLATE;
        window = 15;
    } else {
        char msg[100];
        snprintf(msg, sizeof(msg), "unsupported content encoding '%.40s'", ce);
        return refuse(r, GW_HTTPC_EPROTO, msg);
    }
    memset(&r->_z, 0, sizeof(r->_z));
    if (inflateInit2(&r->_z, window) != Z_OK)
        return refuse(r, GW_HTTPC_EPROTO, "out of memory while receiving the response");
    r->_z_live = true;
    return 0;
}

static int on_headers_complete(llhttp_t *ll)
{
    struct gw_httpc_resp *r = ll->data;
    if (r->_in_value && gw_buf_add(&r->_headers, "\r\n", 2) != GW_OK)
        return headers_too_large(r);
    r->_in_value = false;
    unsigned status = ll->status_code;
    if (status < 100 || status > 599) /* llhttp reads any three digits ("004") */
        return refuse(r, GW_HTTPC_EPROTO, "malformed response from the upstream: status code "
                                          "outside 100-599");
    if (status == 101)
        return refuse(r, GW_HTTPC_EPROTO, "unexpected 101 Switching Protocols");
    r->_interim = status >= 100 && status < 200;
    if (r->_interim)
        return 0; /* 100 Continue, 103 Early Hints: no body; the final answer follows */
    if (setup_coding(r) != 0)
        return -1;
    if (r->_coding == CODING_NONE && !r->_head && (ll->flags & F_CONTENT_LENGTH) &&
        ll->content_length > r->_max_bytes)
        return too_large(r);
    return r->_head ? 1 : 0; /* 1: no body (a HEAD answer, whatever it announces) */
}

/* Inflates n bytes into the body (the limit applies to the decoded size). */
static int inflate_into(struct gw_httpc_resp *r, const char *at, size_t n)
{
    unsigned char out[INFLATE_CHUNK];
    z_stream *z = &r->_z;
    bool first = z->total_in == 0; /* the first body bytes: a restart can see them all */
    z->next_in = (Bytef *)(uintptr_t)at;
    z->avail_in = (uInt)n;
    while (z->avail_in > 0) {
        z->next_out = out;
        z->avail_out = sizeof(out);
        int zr = inflate(z, Z_NO_FLUSH);
        if (zr == Z_DATA_ERROR && r->_coding == CODING_DEFLATE && !r->_z_raw_tried &&
            z->total_out == 0 && first) {
            /* "deflate" sent raw, without the zlib wrapper, as some servers do: once more as
             * raw deflate from the start (nothing was decoded, and all input so far is here) */
            r->_z_raw_tried = true;
            if (inflateReset2(z, -15) != Z_OK)
                return refuse(r, GW_HTTPC_EPROTO, "cannot decode the deflate body");
            z->next_in = (Bytef *)(uintptr_t)at;
            z->avail_in = (uInt)n;
            continue;
        }
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
            char msg[120];
            snprintf(msg, sizeof(msg), "cannot decode the %s body: %.60s",
                     r->_coding == CODING_GZIP ? "gzip" : "deflate", z->msg ? z->msg : "corrupt");
            return refuse(r, GW_HTTPC_EPROTO, msg);
        }
        size_t got = sizeof(out) - z->avail_out;
        if (got && body_add(r, out, got) != 0)
            return -1;
        if (zr == Z_STREAM_END || (zr == Z_BUF_ERROR && got == 0))
            break; /* the end (bytes after it are ignored), or nothing more to make of these */
    }
    return 0;
}

static int on_body(llhttp_t *ll, const char *at, size_t n)
{
    struct gw_httpc_resp *r = ll->data;
    if (r->_coding != CODING_NONE)
        return inflate_into(r, at, n);
    return body_add(r, at, n);
}

static int on_message_complete(llhttp_t *ll)
{
    struct gw_httpc_resp *r = ll->data;
    if (r->_interim) {
        r->_interim = false;
        return 0;
    }
    r->_complete = true;
    r->_keep_alive = llhttp_should_keep_alive(ll) != 0;
    return HPE_PAUSED; /* stops llhttp right after the answer */
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- API ---- */

void gw_httpc_resp_init(struct gw_httpc_resp *r, size_t max_bytes, bool head,
                        bool accept_encoding)
{
    memset(r, 0, sizeof(*r));
    llhttp_init(&r->_ll, HTTP_RESPONSE, &settings);
    r->_ll.data = r;
    gw_buf_init(&r->_headers, GW_HTTPC_RESP_MAX_HEADERS);
    (void)gw_buf_space(&r->_headers, 512); /* a usual head at once, instead of doubling */
    gw_buf_init(&r->_body, max_bytes);
    r->_max_bytes = max_bytes;
    r->_head = head;
    r->_accept_encoding = accept_encoding;
}

void gw_httpc_resp_fini(struct gw_httpc_resp *r)
{
    if (r->_z_live)
        inflateEnd(&r->_z);
    r->_z_live = false;
    gw_buf_fini(&r->_headers);
    gw_buf_fini(&r->_body);
}

/* llhttp stopped on an error of its own (not one of ours): the refusal with its reason. */
static enum gw_httpc_resp_rc parser_error(struct gw_httpc_resp *r)
{
    if (!r->_fail) {
        const char *why = llhttp_get_error_reason(&r->_ll);
        char msg[140];
        snprintf(msg, sizeof(msg), "malformed response from the upstream: %.90s",
                 why ? why : llhttp_errno_name(llhttp_get_errno(&r->_ll)));
        refuse(r, GW_HTTPC_EPROTO, msg);
    }
    return GW_HTTPC_RESP_FAIL;
}

enum gw_httpc_resp_rc gw_httpc_resp_feed(struct gw_httpc_resp *r, const char *p, size_t n,
                                         size_t *used)
{
    if (r->_fail)
        return GW_HTTPC_RESP_FAIL;
    if (r->_complete) { /* fed after DONE: nothing of it is the answer's */
        *used = 0;
        return GW_HTTPC_RESP_DONE;
    }
    llhttp_errno_t e = llhttp_execute(&r->_ll, p, n);
    if (e == HPE_PAUSED && r->_complete) {
        *used = (size_t)(llhttp_get_error_pos(&r->_ll) - p);
        return GW_HTTPC_RESP_DONE;
    }
    if (e != HPE_OK)
        return parser_error(r);
    return GW_HTTPC_RESP_MORE;
}

enum gw_httpc_resp_rc gw_httpc_resp_eof(struct gw_httpc_resp *r)
{
    if (r->_fail)
        return GW_HTTPC_RESP_FAIL;
    if (r->_complete)
        return GW_HTTPC_RESP_DONE;
    /* llhttp_finish completes a body delimited by the end (HPE_PAUSED: our callback paused) */
    if (llhttp_message_needs_eof(&r->_ll))
        (void)llhttp_finish(&r->_ll);
    if (r->_complete) {
        r->_keep_alive = false; /* delimited by the connection's end */
        return GW_HTTPC_RESP_DONE;
    }
    if (!r->_fail)
        refuse(r, GW_HTTPC_EPROTO, "the connection closed in the middle of the response");
    return GW_HTTPC_RESP_FAIL;
}

enum gw_httpc_status gw_httpc_resp_failure(const struct gw_httpc_resp *r, const char **msg)
{
    if (msg)
        *msg = r->_error;
    return r->_fail ? (enum gw_httpc_status)r->_fail : GW_HTTPC_EPROTO;
}

unsigned gw_httpc_resp_status(const struct gw_httpc_resp *r)
{
    return r->_ll.status_code;
}

bool gw_httpc_resp_keep_alive(const struct gw_httpc_resp *r)
{
    return r->_complete && r->_keep_alive;
}

const struct gw_buf *gw_httpc_resp_headers(const struct gw_httpc_resp *r)
{
    return &r->_headers;
}

void gw_httpc_resp_take(struct gw_httpc_resp *r, struct gw_buf *body, struct gw_buf *headers)
{
    *body = r->_body;
    *headers = r->_headers;
    gw_buf_init(&r->_body, 0);
    gw_buf_init(&r->_headers, 0);
}
