/*
 * tests/fuzz/fuzz_upstream_result.c
 * Fuzzes the mapping of untrusted upstream responses to CallToolResults
 * (src/upstream/upstream_result.c, upstream_shape.c): JSON parsing under limits, business-error
 * rules, shaping (include/exclude/dropNulls/maxArrayItems), text capping on UTF-8 boundaries,
 * binary and image bodies, error bodies, secret scrubbing. Input: first byte selects the status
 * and content type, second byte the shaping spec, the rest is the body. Checks that every result
 * serialises (valid UTF-8 JSON) and has at least one content block, and that a 2xx body declared
 * as JSON that does not parse is never a success (isError, outcome bad_response).
 */
#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "upstream/upstream_conf.h"
#include "upstream/upstream_result.h"
#include "upstream/upstream_settings.h"
#include "upstream/upstream_shape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct gw_upstreams *U;
static struct gw_shape_spec SHAPES[4];

static void init(void)
{
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, gw_upstream_settings);
    gw_settings_override(s, "GW_UPSTREAM_MAX_TEXT_CHARS", "300", NULL);
    gw_settings_override(s, "GW_UPSTREAM_ERROR_BODY_CHARS", "50", NULL);
    if (gw_settings_load(s, NULL, NULL) != GW_OK)
        abort();
    gw_log_configure(GW_LOG_OFF, true, 2);
    U = gw_upstreams_load(s, NULL);
    gw_settings_free(s);
    const char *specs[] = {
        "null",
        "{\"include\":[\"a.b\",\"a.c\",\"items.id\"],\"dropNulls\":true}",
        "{\"exclude\":[\"**.secret\",\"x.y.z\"],\"maxArrayItems\":2,\"maxTextChars\":64}",
        "{\"include\":[\"a\"],\"exclude\":[\"a.b\"],\"maxArrayItems\":1}"};
    for (int i = 0; i < 4; i++) {
        json_t *j = json_loads(specs[i], JSON_DECODE_ANY, NULL);
        if (gw_upstream_shape_parse(j, &SHAPES[i], NULL) != GW_OK)
            abort();
        json_decref(j);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!U)
        init();
    if (size < 2)
        return 0;
    static const long statuses[] = {200, 201, 204, 302, 400, 404, 500, 503};
    static const char *const types[] = {"application/json", "text/plain; charset=utf-8", NULL,
                                        "image/png", "application/problem+json",
                                        "application/octet-stream", "text/html", "application/xml"};
    struct gw_result_input in;
    memset(&in, 0, sizeof(in));
    in.upstream = "fuzz";
    in.http_status = statuses[data[0] & 7];
    in.content_type = types[(data[0] >> 3) & 7];
    in.body = (const char *)data + 2;
    in.body_len = size - 2;
    in.conf = gw_upstreams_conf(U, "fuzz");
    in.shape = &SHAPES[data[1] & 3];
    in.has_output_schema = (data[1] & 4) != 0;
    enum gw_exec_outcome o;
    json_t *r = gw_upstream_result_build(&in, &o);
    if (!r || json_array_size(json_object_get(r, "content")) == 0)
        abort();
    bool declared_json = in.content_type && strstr(in.content_type, "json") != NULL;
    if (declared_json && in.http_status < 300 && in.body_len) {
        struct gw_json_limits lim = {0, 64};
        struct gw_error perr;
        json_t *doc = gw_json_parse(in.body, in.body_len, &lim, &perr);
        if (!doc && perr.code == GW_EINVAL &&
            (o != GW_EXEC_BAD_RESPONSE || !json_is_true(json_object_get(r, "isError"))))
            abort(); /* half a document passed on as data */
        json_decref(doc);
    }
    char secret[] = "s3cr3t";
    char *secrets[] = {secret};
    gw_upstream_scrub(r, secrets, 1);
    char *text = json_dumps(r, JSON_COMPACT);
    if (!text)
        abort(); /* not serialisable: invalid UTF-8 or a broken value */
    if (strstr(text, "s3cr3t"))
        abort();
    gw_free(text);
    json_decref(r);
    return 0;
}
