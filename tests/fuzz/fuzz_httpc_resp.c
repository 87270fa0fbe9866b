/*
 * tests/fuzz/fuzz_httpc_resp.c
 * Fuzz target for the native client's response reader (httpc/httpc_resp.h over llhttp and
 * zlib): the input's first byte picks the request (bit 0: HEAD, bit 1: gzip/deflate offered),
 * the rest is the byte stream an upstream sends on one connection, delivered in pieces whose
 * sizes come from a PRNG seeded by the input (a seed is plain HTTP text, also tried split at
 * many places), then the connection's end.
 * Invariants: DONE never claims more bytes than were fed, and comes with a final status
 * (200-599); the body never exceeds the cap (checked decoded) and the header block never its
 * 32 KiB; after DONE, more bytes change nothing; a refusal is final and has a status of the
 * client's vocabulary (EPROTO or ETOOLARGE) and a message. Seeds in corpus/httpc_resp/ are
 * named after what they carry (chunked, gzip, interim answers, duplicate lengths...).
 */
#include "core/alloc.h"
#include "core/buf.h"
#include "httpc/httpc_resp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 4096u

static void check_failure(const struct gw_httpc_resp *r)
{
    const char *msg = NULL;
    enum gw_httpc_status st = gw_httpc_resp_failure(r, &msg);
    if ((st != GW_HTTPC_EPROTO && st != GW_HTTPC_ETOOLARGE) || !msg || !*msg)
        abort();
}

static void check_done(struct gw_httpc_resp *r)
{
    unsigned st = gw_httpc_resp_status(r);
    if (st < 200 || st > 599)
        abort();
    if (gw_buf_len(gw_httpc_resp_headers(r)) > GW_HTTPC_RESP_MAX_HEADERS)
        abort();
    size_t used = 99;
    if (gw_httpc_resp_feed(r, "HTTP/1.1 200 OK\r\n\r\n", 19, &used) != GW_HTTPC_RESP_DONE ||
        used != 0)
        abort();
    struct gw_buf body, headers;
    gw_httpc_resp_take(r, &body, &headers);
    if (gw_buf_len(&body) > CAP || gw_buf_ptr(&body)[gw_buf_len(&body)] != '\0')
        abort();
    gw_buf_fini(&body);
    gw_buf_fini(&headers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool head = data[0] & 1, coded = data[0] & 2;
    data++;
    size--;
    uint32_t rnd = 2166136261u;
    for (size_t i = 0; i < size && i < 64; i++)
        rnd = (rnd ^ data[i]) * 16777619u;
    struct gw_httpc_resp r;
    gw_httpc_resp_init(&r, CAP, head, coded);
    size_t pos = 0;
    enum gw_httpc_resp_rc rc = GW_HTTPC_RESP_MORE;
    while (rc == GW_HTTPC_RESP_MORE && pos < size) {
        rnd = rnd * 1103515245u + 12345u;
        size_t piece = (rnd >> 16) % 8 == 0 ? size - pos : 1 + (rnd >> 8) % 64;
        if (piece > size - pos)
            piece = size - pos;
        size_t used = 0;
        rc = gw_httpc_resp_feed(&r, (const char *)data + pos, piece, &used);
        if (rc == GW_HTTPC_RESP_DONE && used > piece)
            abort();
        pos += piece;
    }
    if (rc == GW_HTTPC_RESP_MORE && size > 0)
        rc = gw_httpc_resp_eof(&r);
    if (rc == GW_HTTPC_RESP_DONE)
        check_done(&r);
    else if (rc == GW_HTTPC_RESP_FAIL)
        check_failure(&r);
    gw_httpc_resp_fini(&r);
    return 0;
}
