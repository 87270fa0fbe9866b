/*
 * tests/fuzz/fuzz_core_json.c
 * Differential fuzz target for the JSON reader (core/json.c): every request body and upstream
 * answer goes through gw_json_parse, whose fast reader (yajl's parser building jansson values)
 * must answer exactly as jansson's json_loadb, the reference, on every document it takes.
 * Invariants, on arbitrary bytes: when the fast reader returns a value, jansson accepts the
 * document too and both values serialise to the same bytes (same types — 1 is not 1.0 —, same
 * member order, duplicates resolved alike); when it takes a document jansson accepts, it
 * returns a value (it does not refuse valid JSON it claims); gw_json_parse returns jansson's
 * answer or its big-number form, and serialises; and what the writer writes reads back as the
 * same value (written again, the same bytes: reals keep their exact double, strings their bytes).
 * Output buffers allow 8x the input: the writer's worst case ("1e14" → "100000000000000.0").
 */
#include "core/buf.h"
#include "core/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dump(const json_t *v, struct gw_buf *out)
{
    if (gw_json_dump(v, out) != GW_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    bool taken;
    json_t *fast = gw_json_read_fast(text, size, &taken);
    json_error_t je;
    json_t *ref = json_loadb(text, size, JSON_DECODE_ANY, &je);
    if (fast && !ref)
        abort(); /* the fast reader accepted what jansson refuses */
    if (taken && ref && !fast)
        abort(); /* it refused valid JSON it claims */
    if (fast) {
        struct gw_buf a, b;
        gw_buf_init(&a, size * 8 + 64);
        gw_buf_init(&b, size * 8 + 64);
        dump(fast, &a);
        dump(ref, &b);
        if (gw_buf_len(&a) != gw_buf_len(&b) ||
            memcmp(gw_buf_ptr(&a), gw_buf_ptr(&b), gw_buf_len(&a)) != 0)
            abort(); /* a different tree */
        gw_buf_fini(&a);
        gw_buf_fini(&b);
    }
    json_t *parsed = gw_json_parse(text, size, NULL, NULL);
    if (ref && !parsed)
        abort();
    if (parsed) {
        struct gw_buf c, d;
        gw_buf_init(&c, size * 8 + 64);
        gw_buf_init(&d, size * 8 + 64);
        dump(parsed, &c);
        json_t *again = gw_json_parse(gw_buf_ptr(&c), gw_buf_len(&c), NULL, NULL);
        if (!again)
            abort(); /* the writer wrote what the reader refuses */
        dump(again, &d);
        if (gw_buf_len(&c) != gw_buf_len(&d) ||
            memcmp(gw_buf_ptr(&c), gw_buf_ptr(&d), gw_buf_len(&c)) != 0)
            abort(); /* written, read back and written again: not the same */
        json_decref(again);
        gw_buf_fini(&c);
        gw_buf_fini(&d);
    }
    json_decref(parsed);
    json_decref(fast);
    json_decref(ref);
    return 0;
}
