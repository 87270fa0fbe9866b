/*
 * src/httpc/httpc_resp.h
 * Reading one HTTP/1.1 response (the native engine's, src/httpc/httpc_h1.c), with no I/O:
 * bytes go in as they arrive, and out come the final status, the header block as
 * "Name: value\r\n" lines (what gw_httpc_response_header searches), and the body, decoded
 * from gzip or deflate when those were offered, under a cap on its decoded size.
 *
 * Framing is llhttp's (strict mode, the parser the server uses): Content-Length, chunked, or
 * the connection's end; interim answers (100, 103) are skipped, a 101 is refused, a HEAD
 * answer has no body whatever it announces. Limits: the header block (32 KiB), the body
 * (max_bytes, checked against Content-Length up front and against the decoded bytes as they
 * come, so a compression bomb stops there). Every failure has a status of the client's
 * vocabulary (GW_HTTPC_EPROTO or GW_HTTPC_ETOOLARGE) and a message without any URL.
 * A fuzz target (tests/fuzz/fuzz_httpc_resp.c) drives it alone.
 */
#ifndef GW_HTTPC_RESP_H
#define GW_HTTPC_RESP_H

#include "core/buf.h"
#include "httpc/httpc_client.h"

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <zlib.h>

#define GW_HTTPC_RESP_MAX_HEADERS (32u * 1024u)

enum gw_httpc_resp_rc {
    GW_HTTPC_RESP_MORE, /* the answer is not complete: feed more (or gw_httpc_resp_eof) */
    GW_HTTPC_RESP_DONE, /* a complete final answer */
    GW_HTTPC_RESP_FAIL  /* refused: gw_httpc_resp_failure says why; feed nothing more */
};

/* Members are private; read them through the functions below. */
struct gw_httpc_resp {
    llhttp_t _ll;
    struct gw_buf _headers;
    struct gw_buf _body;
    size_t _max_bytes;
    z_stream _z;
    int _coding; /* 0 identity, 1 gzip, 2 deflate */
    bool _z_live, _z_raw_tried, _in_value, _interim, _head, _accept_encoding;
    bool _complete, _keep_alive;
    int _fail; /* enum gw_httpc_status of a refusal found by a callback, 0 = none */
    char _error[160];
};

/* Starts reading an answer to a request (head: it was a HEAD request; accept_encoding: gzip
 * and deflate were offered, so they are decoded). max_bytes caps the decoded body. */
void gw_httpc_resp_init(struct gw_httpc_resp *r, size_t max_bytes, bool head,
                        bool accept_encoding);

/* Frees what the reader holds. Accepts a zeroed struct. */
void gw_httpc_resp_fini(struct gw_httpc_resp *r);

/* Feeds n received bytes. DONE sets *used to the bytes that belonged to the answer (anything
 * after them is a stray byte: the connection must not be reused). */
enum gw_httpc_resp_rc gw_httpc_resp_feed(struct gw_httpc_resp *r, const char *p, size_t n,
                                         size_t *used);

/* The peer closed the connection after some bytes of the answer: DONE when the body ran to
 * the connection's end (it is then not reusable), FAIL when the answer was cut short. */
enum gw_httpc_resp_rc gw_httpc_resp_eof(struct gw_httpc_resp *r);

/* After FAIL: the status (GW_HTTPC_EPROTO or GW_HTTPC_ETOOLARGE) and a message. */
enum gw_httpc_status gw_httpc_resp_failure(const struct gw_httpc_resp *r, const char **msg);

/* The final answer's status code (0 before its status line), whether the connection may carry
 * another request after it (a DONE answer only), its header block. */
unsigned gw_httpc_resp_status(const struct gw_httpc_resp *r);
bool gw_httpc_resp_keep_alive(const struct gw_httpc_resp *r);
const struct gw_buf *gw_httpc_resp_headers(const struct gw_httpc_resp *r);

/* Hands the body and the header block to the caller (gw_buf ownership moves; the reader keeps
 * empty buffers). */
void gw_httpc_resp_take(struct gw_httpc_resp *r, struct gw_buf *body, struct gw_buf *headers);

#endif
