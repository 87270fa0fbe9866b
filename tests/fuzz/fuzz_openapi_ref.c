/*
 * tests/fuzz/fuzz_openapi_ref.c
 * Fuzz target for the whole importer on one in-memory document: $ref resolution (pointers,
 * escapes, chains, cycles, references to files and URLs, which must be refused because there
 * is no base location and URL refs are off), schema conversion with $defs, operation mapping
 * and naming, then the diff of the result with itself. Every tool must serialise and carry an
 * object-rooted inputSchema. Seeds in corpus/openapi_ref/ are named after the attack.
 */
#include "openapi/openapi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_openapi_options o;
    gw_openapi_options_init(&o);
    o.limits.max_doc_bytes = 1 << 20;
    o.limits.max_depth = 64;
    o.limits.max_nodes = 200000;
    o.limits.max_alias_nodes = 20000;
    o.limits.max_refs = 100000;
    o.limits.max_operations = 500;
    o.limits.max_schema_nodes = 50000;
    o.allow_url_refs = false;
    struct gw_openapi_result r;
    struct gw_error err;
    if (gw_openapi_import_buffer((const char *)data, size, NULL, &o, &r, &err) != GW_OK)
        return 0;
    size_t i;
    json_t *t;
    json_array_foreach(r.tools, i, t)
    {
        json_t *in = json_object_get(t, "inputSchema");
        const char *type = json_string_value(json_object_get(in, "type"));
        if (!type || strcmp(type, "object") != 0)
            abort();
    }
    char *s = json_dumps(r.tools, JSON_COMPACT);
    if (!s)
        abort();
    free(s);
    json_t *d = gw_openapi_diff(r.tools, r.tools);
    if (!d || json_array_size(json_object_get(d, "changed")) != 0)
        abort();
    json_decref(d);
    gw_openapi_result_fini(&r);
    return 0;
}
