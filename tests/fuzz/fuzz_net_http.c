/*
 * tests/fuzz/fuzz_net_http.c
 * Fuzz target for the server's request framing (net/net_parse.h over llhttp): the input is the
 * byte stream a client sends on one connection. It is delivered in pieces whose sizes come from
 * a PRNG seeded by the input (so a seed is plain HTTP text, and the same stream is also tried
 * split at many places), and handled as src/net/net_conn.c does: the unconsumed head stays at
 * the start of the buffer, body bytes are consumed as they arrive, pipelined requests follow.
 * Invariants: consumption never exceeds what was given; every parsed head has NUL-terminated
 * strings of the stated lengths, a method name, a target; a decoded body never exceeds the
 * limit and is NUL-terminated; every refusal carries one of the statuses the server answers
 * (400, 413, 414, 417, 431, 501, 503, 505) and a reason; after a refusal nothing more is
 * parsed (the connection closes). Seeds in corpus/net_http/ are named after the request
 * smuggling and framing attacks they carry (cl-cl-conflict, te-space-before-colon, obs-fold...).
 */
#include "core/alloc.h"
#include "core/arena.h"
#include "core/err.h"
#include "net/net_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct gw_http_limits LIM = {
    .max_head = 2048, .max_url = 512, .max_body = 4096, .max_headers = 32};

static void check_head(const struct gw_http_head *h)
{
    if (!h->method_name || !h->target || strlen(h->target) != h->target_len)
        abort();
    if (h->minor != 0 && h->minor != 1)
        abort();
    if (h->nfields > LIM.max_headers)
        abort();
    for (unsigned i = 0; i < h->nfields; i++) {
        const struct gw_http_field *f = &h->fields[i];
        if (!f->name_len || strlen(f->name) != f->name_len || strlen(f->value) != f->value_len)
            abort();
    }
    if (h->chunked && h->content_length)
        abort();
    if (!h->chunked && h->content_length > LIM.max_body)
        abort();
}

static void check_refusal(const struct gw_http_parser *p)
{
    int st = gw_http_parser_status(p);
    if (st != 400 && st != 413 && st != 414 && st != 417 && st != 431 && st != 501 &&
        st != 503 && st != 505)
        abort();
    if (!gw_http_parser_reason(p) || gw_http_parser_state(p) != GW_HP_ERROR)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t rnd = 2166136261u;
    for (size_t i = 0; i < size && i < 64; i++)
        rnd = (rnd ^ data[i]) * 16777619u;
    char *in = gw_xmalloc(size + 1);
    size_t in_len = 0, pos = 0;
    struct gw_http_parser p;
    gw_http_parser_init(&p, &LIM);
    struct gw_arena *a = gw_arena_new(1u << 20);
    struct gw_http_head h;
    int requests = 0;
    bool stop = false;
    while (!stop && pos < size && requests < 64) {
        /* the next piece: 1..64 bytes, or all that is left one time in eight */
        rnd = rnd * 1103515245u + 12345u;
        size_t piece = (rnd >> 16) % 8 == 0 ? size - pos : 1 + (rnd >> 8) % 64;
        if (piece > size - pos)
            piece = size - pos;
        memcpy(in + in_len, data + pos, piece);
        in_len += piece;
        pos += piece;
        size_t off = 0;
        for (;;) {
            enum gw_http_parse_state st = gw_http_parser_state(&p);
            if (st == GW_HP_HEAD) {
                int rc = gw_http_parser_head(&p, in + off, in_len - off, a, &h);
                if (rc == GW_AGAIN)
                    break;
                if (rc < 0) {
                    check_refusal(&p);
                    stop = true;
                    break;
                }
                if ((size_t)rc > in_len - off)
                    abort();
                check_head(&h);
                off += (size_t)rc;
            } else if (st == GW_HP_BODY) {
                size_t used = 0;
                int rc = gw_http_parser_body(&p, in + off, in_len - off, &used);
                if (used > in_len - off)
                    abort();
                off += used;
                if (rc == GW_AGAIN)
                    break;
                if (rc == GW_ERR) {
                    check_refusal(&p);
                    stop = true;
                    break;
                }
            } else if (st == GW_HP_DONE) {
                size_t bl = 0;
                char *body = gw_http_parser_take_body(&p, &bl);
                if (bl > LIM.max_body || (body && body[bl] != '\0') || (!body && bl))
                    abort();
                gw_free(body);
                requests++;
                gw_http_parser_next(&p);
                gw_arena_free(a);
                a = gw_arena_new(1u << 20);
                if (!h.keep_alive) {
                    stop = true; /* the server closes after this response */
                    break;
                }
            } else {
                abort(); /* GW_HP_ERROR is only reached through a refusal above */
            }
        }
        memmove(in, in + off, in_len - off);
        in_len -= off;
    }
    gw_http_parser_fini(&p);
    gw_arena_free(a);
    gw_free(in);
    return 0;
}
