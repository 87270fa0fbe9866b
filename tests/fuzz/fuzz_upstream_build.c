/*
 * tests/fuzz/fuzz_upstream_build.c
 * Fuzzes upstream request building (src/upstream/upstream_request.c) with arbitrary bindings
 * and arguments. Input: a JSON document; if it has "binding" (and optionally "args") both are
 * used, otherwise the document is the arguments of a fixed binding that uses every location
 * and style. Beyond "no crash, no leak" it checks the security invariants on every success:
 * the URL and headers contain no control characters (no CR/LF injection), the path adds no
 * dot segment, and arguments never set Host/Content-Length/Authorization (the fixed binding
 * tries all three). A violation aborts, which the fuzzer reports.
 */
#include "core/json.h"
#include "upstream/upstream_request.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *FIXED =
    "{\"method\":\"POST\",\"path\":\"/v1/{id}/items/{sub}\",\"args\":["
    "{\"arg\":\"id\",\"in\":\"path\",\"name\":\"id\"},"
    "{\"arg\":\"sub\",\"in\":\"path\",\"name\":\"sub\",\"style\":\"matrix\",\"explode\":true},"
    "{\"arg\":\"q\",\"in\":\"query\",\"name\":\"q\"},"
    "{\"arg\":\"f\",\"in\":\"query\",\"name\":\"f\",\"style\":\"form\",\"explode\":false},"
    "{\"arg\":\"sp\",\"in\":\"query\",\"name\":\"sp\",\"style\":\"spaceDelimited\"},"
    "{\"arg\":\"pi\",\"in\":\"query\",\"name\":\"pi\",\"style\":\"pipeDelimited\"},"
    "{\"arg\":\"deep\",\"in\":\"query\",\"name\":\"deep\",\"style\":\"deepObject\","
    "\"explode\":true},"
    "{\"arg\":\"raw\",\"in\":\"query\",\"name\":\"raw\",\"allowReserved\":true},"
    "{\"arg\":\"h\",\"in\":\"header\",\"name\":\"X-H\"},"
    "{\"arg\":\"host\",\"in\":\"header\",\"name\":\"Host\"},"
    "{\"arg\":\"len\",\"in\":\"header\",\"name\":\"Content-Length\"},"
    "{\"arg\":\"auth\",\"in\":\"header\",\"name\":\"Authorization\"},"
    "{\"arg\":\"c\",\"in\":\"cookie\",\"name\":\"c\"},"
    "{\"arg\":\"b\",\"in\":\"body\",\"name\":\"b\"},"
    "{\"arg\":\"b2\",\"in\":\"body\",\"name\":\"b2\"}],"
    "\"body\":{\"contentType\":\"application/json\"}}";

static void check(const struct gw_upstream_req *r)
{
    for (const char *p = r->url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            abort();
    const char *path = r->url + strlen("https://api.example/base");
    size_t plen = strcspn(path, "?");
    /* no segment may be "." or ".." (before ";" parameters, after one percent-decoding) */
    for (size_t i = 0; i < plen;) {
        size_t start = ++i;
        while (i < plen && path[i] != '/')
            i++;
        char seg[8];
        size_t n = 0;
        for (size_t k = start; k < i && path[k] != ';' && n < sizeof(seg) - 1; k++) {
            if (path[k] == '%' && k + 2 < i && strncasecmp(path + k, "%2e", 3) == 0) {
                seg[n++] = '.';
                k += 2;
            } else {
                seg[n++] = path[k];
            }
        }
        seg[n] = '\0';
        if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0)
            abort(); /* a dot segment appeared in the path */
    }
    for (size_t i = 0; i < r->nheaders; i++) {
        for (const char *p = r->headers[i]; *p; p++)
            if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
                abort();
    }
}

static bool fixed_binding_headers_ok(const struct gw_upstream_req *r)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strncasecmp(r->headers[i], "Host:", 5) == 0 ||
            strncasecmp(r->headers[i], "Content-Length:", 15) == 0 ||
            strncasecmp(r->headers[i], "Authorization:", 14) == 0)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_json_limits lim = {1u << 20, 32};
    json_t *doc = gw_json_parse((const char *)data, size, &lim, NULL);
    if (!doc)
        return 0;
    json_t *fixed = NULL;
    const json_t *binding = json_object_get(doc, "binding");
    const json_t *args = binding ? json_object_get(doc, "args") : doc;
    bool is_fixed = !binding;
    if (!binding) {
        fixed = json_loads(FIXED, 0, NULL);
        binding = fixed;
    }
    struct gw_upstream_build_opts o = {"https://api.example/base", NULL, 0, 0, 0};
    struct gw_upstream_req r;
    struct gw_error err;
    if (gw_upstream_req_build(binding, args, &o, &r, &err) == GW_OK) {
        (void)gw_upstream_req_add_query(&r, "k", "v", &err);
        (void)gw_upstream_req_add_cookie(&r, "s", "x;y", &err);
        (void)gw_upstream_req_finish(&r, &err);
        check(&r);
        if (is_fixed && !fixed_binding_headers_ok(&r))
            abort();
    }
    gw_upstream_req_fini(&r);
    json_decref(fixed);
    json_decref(doc);
    return 0;
}
