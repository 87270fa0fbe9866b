/*
 * tests/fuzz/fuzz_mcp_param.c
 * Fuzz target for the mirrored request headers of 2026-07-28 (mcp/mcp_param.h) and the
 * x-mcp-header declarations they are checked against (schema/schema_headers.h). Input: a
 * header value, a newline, an input schema (JSON; a fixed one when it does not parse), a
 * newline, the arguments (JSON). Invariants (abort on violation): a decoded value fits its
 * buffer and is NUL-terminated at its length; a value without the sentinel decodes to itself
 * minus surrounding whitespace; a decoded value sent again as =?base64?...?= decodes to the
 * same bytes; a scan either fails with a message and no declarations or returns at most 16
 * valid ones of depth 1-8; a check of arguments that hold none of the declared ones, with no
 * header sent, passes; any other check passes or fails with a message.
 * Seeds (corpus/mcp_param/) are named after the case they carry.
 */
#include "mcp/mcp_param.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char FIXED[] =
    "{\"type\":\"object\",\"properties\":{\"region\":{\"type\":\"string\",\"x-mcp-header\":"
    "\"Region\"},\"o\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\","
    "\"x-mcp-header\":\"N\"}}}}}";

struct one_header {
    const char *value;
};

static const char *only_region(void *ud, const char *name)
{
    return strcmp(name, "Mcp-Param-Region") == 0 ? ((struct one_header *)ud)->value : NULL;
}

static const char *none(void *ud, const char *name)
{
    (void)ud;
    (void)name;
    return NULL;
}

static void check_decode(const char *v)
{
    char out[GW_MCP_HEADER_VALUE_MAX];
    size_t len = 0;
    int rc = gw_mcp_header_decode(v, out, sizeof(out), &len);
    if (rc != GW_OK)
        return;
    if (len >= sizeof(out) || out[len] != '\0')
        abort();
    size_t n = strlen(v), a = 0;
    while (a < n && (v[a] == ' ' || v[a] == '\t'))
        a++;
    while (n > a && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (strncmp(v + a, "=?base64?", 9) != 0 && (len != n - a || memcmp(out, v + a, len) != 0))
        abort();
    if (len > 600)
        return;
    char again[1000] = "=?base64?";
    int el = EVP_EncodeBlock((unsigned char *)again + 9, (const unsigned char *)out, (int)len);
    memcpy(again + 9 + el, "?=", 3);
    char out2[GW_MCP_HEADER_VALUE_MAX];
    size_t len2 = 0;
    if (gw_mcp_header_decode(again, out2, sizeof(out2), &len2) != GW_OK || len2 != len ||
        memcmp(out, out2, len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *schema_text = memchr(buf, '\n', size);
    char *args_text = NULL;
    if (schema_text) {
        *schema_text++ = '\0';
        args_text = strchr(schema_text, '\n');
        if (args_text)
            *args_text++ = '\0';
    }
    check_decode(buf);
    json_error_t e;
    json_t *schema = schema_text ? json_loads(schema_text, JSON_DECODE_ANY, &e) : NULL;
    if (!schema)
        schema = json_loads(FIXED, 0, &e);
    json_t *args = args_text ? json_loads(args_text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e)
                             : NULL;
    struct gw_schema_header d[GW_SCHEMA_HEADERS_MAX];
    size_t n = 99;
    struct gw_error err;
    gw_error_clear(&err);
    int rc = gw_schema_headers_scan(schema, d, &n, &err);
    if (rc != GW_OK) {
        if (n != 0 || !err.msg[0])
            abort();
    } else {
        if (n > GW_SCHEMA_HEADERS_MAX)
            abort();
        for (size_t i = 0; i < n; i++)
            if (!gw_schema_header_name_valid(d[i].name) || d[i].depth < 1 ||
                d[i].depth > GW_SCHEMA_HEADER_DEPTH)
                abort();
        json_t *empty = json_object();
        if (gw_mcp_param_check(d, n, empty, none, NULL, &err) != GW_OK)
            abort();
        json_decref(empty);
        struct one_header h = {buf};
        gw_error_clear(&err);
        rc = gw_mcp_param_check(d, n, args, only_region, &h, &err);
        if (rc != GW_OK && (rc != GW_EINVAL || !err.msg[0]))
            abort();
    }
    json_decref(args);
    json_decref(schema);
    free(buf);
    return 0;
}
