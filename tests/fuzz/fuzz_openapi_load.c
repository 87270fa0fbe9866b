/*
 * tests/fuzz/fuzz_openapi_load.c
 * Fuzz target for the spec document loader (gw_openapi_parse_document): YAML through the
 * libyaml event API into jansson (anchors, aliases, merge keys, complex keys, tags) and JSON
 * through core/json, under tight limits. Every parse result must serialise (a finite tree,
 * no cycle from an alias). Seeds in corpus/openapi_load/ are named after the attack they carry.
 */
#include "openapi/openapi.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_openapi_options o;
    gw_openapi_options_init(&o);
    o.limits.max_doc_bytes = 1 << 20;
    o.limits.max_depth = 64;
    o.limits.max_nodes = 200000;
    o.limits.max_alias_nodes = 20000;
    struct gw_error err;
    json_t *v = gw_openapi_parse_document((const char *)data, size, &o.limits, &err);
    if (v) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
            abort(); /* a parsed document must always serialise */
        free(s);
        json_decref(v);
    }
    return 0;
}
