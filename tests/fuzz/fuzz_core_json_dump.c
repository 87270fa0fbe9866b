/*
 * tests/fuzz/fuzz_core_json_dump.c
 * Differential fuzz target for the JSON serialiser (core/json.c writes its own bytes instead of
 * jansson's json_dumps): the input is parsed by jansson (any value, NUL allowed in strings);
 * whatever it parses into must serialise through gw_json_dumps and gw_json_dump into exactly
 * the bytes of json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), and what jansson refuses to write
 * is refused. Seeds (corpus/core_json_dump/) are named after the attack they carry.
 */
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!v)
        return 0;
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *got = gw_json_dumps(v);
    if (!want != !got || (want && strcmp(want, got))) {
        fprintf(stderr, "gw_json_dumps: %s\njson_dumps:   %s\n", got ? got : "(null)",
                want ? want : "(null)");
        abort();
    }
    struct gw_buf b;
    gw_buf_init(&b, 1u << 24);
    int rc = gw_json_dump(v, &b);
    if ((rc == 0) != !!want || (want && strcmp(gw_buf_ptr(&b), want)))
        abort();
    gw_buf_fini(&b);
    gw_free(got);
    free(want);
    json_decref(v);
    return 0;
}
