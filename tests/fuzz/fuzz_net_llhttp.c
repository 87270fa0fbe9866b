/*
 * tests/fuzz/fuzz_net_llhttp.c
 * Differential fuzz target for the two copies of llhttp's parser (src/net/llhttp/): the portable
 * one and the one built for SSE4.2, which the server and the upstream client use on CPUs that
 * have it. The first input byte picks a request or a response parser; the rest is the byte
 * stream, delivered to both copies in the same pieces (sizes from a PRNG seeded by the input, as
 * in fuzz_net_http.c). After every piece the two must agree on the return code, the error
 * position and reason, the parsed fields (method, status, version, content length, flags) and
 * the whole sequence of callbacks with their offsets and lengths. Without SSE4.2 (another CPU,
 * or a build without the copy) the portable copy is held to its own invariants only.
 */
#include "net/llhttp/llhttp_select.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 2048

struct rec {
    const char *base;
    unsigned n;
    struct ev {
        uint32_t kind, off, len; /* no padding: compared with memcmp */
    } ev[MAX_EVENTS];
};

static int note(llhttp_t *p, uint32_t kind, const char *at, size_t len)
{
    struct rec *r = p->data;
    if (r->n < MAX_EVENTS)
        r->ev[r->n++] = (struct ev){kind, at ? (uint32_t)(at - r->base) : 0, (uint32_t)len};
    return 0;
}

#define DATA_CB(name, k)                                                                          \
    static int name(llhttp_t *p, const char *at, size_t len) { return note(p, k, at, len); }
#define CB(name, k)                                                                               \
    static int name(llhttp_t *p) { return note(p, k, NULL, 0); }
DATA_CB(on_url, 1)
DATA_CB(on_status, 2)
DATA_CB(on_method, 3)
DATA_CB(on_version, 4)
DATA_CB(on_header_field, 5)
DATA_CB(on_header_value, 6)
DATA_CB(on_body, 7)
DATA_CB(on_chunk_extension_name, 8)
DATA_CB(on_chunk_extension_value, 9)
CB(on_message_begin, 20)
CB(on_headers_complete, 21)
CB(on_message_complete, 22)
CB(on_url_complete, 23)
CB(on_status_complete, 24)
CB(on_method_complete, 25)
CB(on_version_complete, 26)
CB(on_header_field_complete, 27)
CB(on_header_value_complete, 28)
CB(on_chunk_header, 29)
CB(on_chunk_complete, 30)
CB(on_reset, 31)

static const llhttp_settings_t SETTINGS = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_status = on_status,
    .on_method = on_method,
    .on_version = on_version,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_chunk_extension_name = on_chunk_extension_name,
    .on_chunk_extension_value = on_chunk_extension_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
    .on_url_complete = on_url_complete,
    .on_status_complete = on_status_complete,
    .on_method_complete = on_method_complete,
    .on_version_complete = on_version_complete,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value_complete = on_header_value_complete,
    .on_chunk_extension_name_complete = NULL,
    .on_chunk_extension_value_complete = NULL,
    .on_chunk_header = on_chunk_header,
    .on_chunk_complete = on_chunk_complete,
    .on_reset = on_reset,
};

static void same_parser(const llhttp_t *a, const llhttp_t *b, const struct rec *ra,
                        const struct rec *rb)
{
    if (a->error != b->error || a->method != b->method || a->status_code != b->status_code ||
        a->http_major != b->http_major || a->http_minor != b->http_minor ||
        a->content_length != b->content_length || a->flags != b->flags ||
        a->upgrade != b->upgrade || a->finish != b->finish || a->type != b->type)
        abort();
    if ((a->reason == NULL) != (b->reason == NULL) || (a->reason && strcmp(a->reason, b->reason)))
        abort();
    if ((a->error_pos == NULL) != (b->error_pos == NULL) ||
        (a->error_pos && a->error_pos - ra->base != b->error_pos - rb->base))
        abort();
    if (ra->n != rb->n || memcmp(ra->ev, rb->ev, ra->n * sizeof(ra->ev[0])) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    llhttp_type_t type = data[0] & 1 ? HTTP_RESPONSE : HTTP_REQUEST;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    gw_llhttp_exec_fn exec[2] = {gw_llhttp_portable(), gw_llhttp_sse42()};
    if (!exec[0])
        abort();
    unsigned copies = exec[1] ? 2 : 1;
    static struct rec rec[2];
    llhttp_t p[2];
    for (unsigned c = 0; c < copies; c++) {
        llhttp_init(&p[c], type, &SETTINGS);
        rec[c].base = in;
        rec[c].n = 0;
        p[c].data = &rec[c];
    }
    uint32_t rnd = 2166136261u;
    for (size_t i = 0; i < size && i < 64; i++)
        rnd = (rnd ^ data[i]) * 16777619u;
    size_t pos = 0;
    while (pos < len) {
        /* the next piece: 1..64 bytes, or all that is left one time in eight */
        rnd = rnd * 1103515245u + 12345u;
        size_t piece = (rnd >> 16) % 8 == 0 ? len - pos : 1 + (rnd >> 8) % 64;
        if (piece > len - pos)
            piece = len - pos;
        int rc[2];
        for (unsigned c = 0; c < copies; c++)
            rc[c] = exec[c](&p[c], in + pos, in + pos + piece);
        if (rc[0] != (int)p[0].error && rc[0] != HPE_OK)
            abort();
        if (p[0].error_pos && (p[0].error_pos < in || p[0].error_pos > in + pos + piece))
            abort();
        if (copies == 2) {
            if (rc[0] != rc[1])
                abort();
            same_parser(&p[0], &p[1], &rec[0], &rec[1]);
        }
        pos += piece;
        if (rc[0] != HPE_OK)
            break; /* an error or an upgrade: llhttp stops here */
    }
    return 0;
}
