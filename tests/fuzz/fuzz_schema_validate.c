/*
 * tests/fuzz/fuzz_schema_validate.c
 * Fuzz target for src/schema: compile an untrusted schema and validate an untrusted instance.
 *
 * Input: a JSON document {"schema": S, "instance": I, "dialect": "2020-12"|"draft-07"|
 * "openapi-3.0", "format": bool, "entry": "/json/pointer", "share": bool}; any other value is used
 * as the schema and validated against a few fixed instances (and against itself). One remote
 * document is served for https://fuzz.test/remote.json so that remote resolution is exercised too.
 * Checks beyond "no crash, no leak": validation with and without a report must agree
 * (unless a budget ran out), and every invalid verdict with a report must carry an error.
 * Limits are lowered to keep each input fast.
 */
#include "core/buf.h"
#include "schema/schema.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char remote_doc[] =
    "{\"$id\":\"https://fuzz.test/remote.json\",\"$defs\":{\"name\":{\"type\":\"string\","
    "\"maxLength\":8},\"tree\":{\"$dynamicAnchor\":\"node\",\"type\":\"object\",\"properties\":"
    "{\"kids\":{\"type\":\"array\",\"items\":{\"$dynamicRef\":\"#node\"}}}}},"
    "\"type\":\"object\",\"properties\":{\"name\":{\"$ref\":\"#/$defs/name\"}}}";

static int resolve(void *ud, const char *uri, json_t **out, struct gw_error *err)
{
    (void)ud;
    (void)err;
    if (strcmp(uri, "https://fuzz.test/remote.json") != 0)
        return GW_ENOTFOUND;
    *out = json_loads(remote_doc, 0, NULL);
    return *out ? GW_OK : GW_ENOMEM;
}

static void run(const struct gw_schema *s, const json_t *inst)
{
    struct gw_schema_report rep;
    gw_schema_report_init(&rep);
    int r1 = gw_schema_validate(s, inst, &rep);
    int r2 = gw_schema_validate(s, inst, NULL);
    bool limited = r1 == GW_ELIMIT || r2 == GW_ELIMIT || r1 == GW_ENOMEM || r2 == GW_ENOMEM;
    if (!limited && r1 != r2)
        abort(); /* the report path and the fast path disagree */
    if (r1 == GW_EINVAL && gw_schema_report_count(&rep) == 0)
        abort(); /* invalid without a reason */
    struct gw_buf out;
    gw_buf_init(&out, 8192);
    gw_schema_report_render(&rep, "arguments", &out);
    gw_buf_fini(&out);
    json_decref(gw_schema_report_json(&rep));
    gw_schema_report_fini(&rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!doc)
        return 0;
    json_t *schema = json_object_get(doc, "schema");
    json_t *inst = json_object_get(doc, "instance");
    struct gw_schema_options opt;
    gw_schema_options_init(&opt);
    opt.max_steps = 20000;
    opt.max_nodes = 5000;
    opt.max_documents = 4;
    opt.regex_budget = 100000;
    opt.resolve = resolve;
    if (!schema) {
        schema = doc;
        inst = NULL;
    } else {
        const char *d = json_string_value(json_object_get(doc, "dialect"));
        enum gw_schema_dialect dialect;
        if (d && gw_schema_dialect_parse(d, &dialect) == GW_OK)
            opt.dialect = dialect;
        opt.format_assert = json_is_true(json_object_get(doc, "format"));
        opt.entry = json_string_value(json_object_get(doc, "entry"));
        opt.share_document = json_is_true(json_object_get(doc, "share"));
    }
    struct gw_schema *s = NULL;
    struct gw_error err;
    if (gw_schema_compile(schema, &opt, &s, &err) == GW_OK) {
        if (inst) {
            run(s, inst);
        } else {
            static const char *fixed[] = {"null", "0", "1.5", "\"\"", "\"abc\"", "[]", "{}",
                                          "[1,\"a\",{}]", "{\"a\":1,\"b\":[true]}"};
            for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
                json_t *v = json_loads(fixed[i], JSON_DECODE_ANY, NULL);
                run(s, v);
                json_decref(v);
            }
            run(s, schema);
        }
        gw_schema_release(s);
    }
    json_decref(doc);
    return 0;
}
