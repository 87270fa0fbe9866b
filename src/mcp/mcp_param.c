/*
 * src/mcp/mcp_param.c
 * Mirrored request headers of the 2026-07-28 HTTP transport: the value decoding shared by
 * MCP-Protocol-Version, Mcp-Method and Mcp-Name (mcp_http.c) and the Mcp-Param-* check of
 * tools/call (the providers call gw_mcp_x_check_params once they know the tool). Rules: the
 * header file.
 */
#include "mcp/mcp_param.h"

#include "core/assert.h"
#include "core/b64.h"
#include "core/json.h"
#include "core/str.h"
#include "mcp/mcp_exchange.h"
#include "mcp/mcp_jsonrpc.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SENTINEL_HEAD "=?base64?"
#define SENTINEL_TAIL "?="

int gw_mcp_header_decode(const char *raw, char *out, size_t size, size_t *len)
{
    GW_ASSERT(size > 0);
    *len = 0;
    out[0] = '\0';
    if (!raw)
        return GW_OK;
    while (*raw == ' ' || *raw == '\t')
        raw++;
    size_t n = strlen(raw);
    while (n && (raw[n - 1] == ' ' || raw[n - 1] == '\t'))
        n--;
    size_t hl = strlen(SENTINEL_HEAD), tl = strlen(SENTINEL_TAIL);
    if (n >= hl + tl && memcmp(raw, SENTINEL_HEAD, hl) == 0 &&
        memcmp(raw + n - tl, SENTINEL_TAIL, tl) == 0) {
        size_t bn = n - hl - tl;
        if (bn / 4 * 3 >= size)
            return GW_ELIMIT;
        long m = gw_b64_decode(raw + hl, bn, (unsigned char *)out);
        if (m < 0)
            return GW_EINVAL;
        out[m] = '\0';
        *len = (size_t)m;
        return GW_OK;
    }
    if (n >= size)
        return GW_ELIMIT;
    memcpy(out, raw, n);
    out[n] = '\0';
    *len = n;
    return GW_OK;
}

/* The argument a declaration names, or NULL when it (or an object on its way) is absent. */
static const json_t *arg_at(const json_t *args, const struct gw_schema_header *d)
{
    const json_t *v = args;
    for (size_t i = 0; i < d->depth && v; i++)
        v = json_is_object(v) ? json_object_get(v, d->path[i]) : NULL;
    return v;
}

/* Whether header text `h` (len bytes) is the integer `v` as a number: [-]digits, no sign '+',
 * no spaces; leading zeros allowed (a number, not a spelling). */
static bool int_matches(const char *h, size_t len, long long v)
{
    bool neg = len && h[0] == '-';
    size_t i = neg ? 1 : 0;
    if (i == len)
        return false;
    unsigned long long mag = 0;
    for (; i < len; i++) {
        if (h[i] < '0' || h[i] > '9')
            return false;
        unsigned d = (unsigned)(h[i] - '0');
        if (mag > (ULLONG_MAX - d) / 10)
            return false;
        mag = mag * 10 + d;
    }
    unsigned long long want = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    return mag == want && (mag == 0 || neg == (v < 0));
}

/* Whether header text matches the argument's value for a declaration of that type. */
static bool value_matches(const json_t *v, const char *h, size_t len)
{
    size_t bl = 0;
    const char *big = gw_json_bignum_text(v, &bl);
    if (big) /* an integer beyond 64 bits: its literal */
        return bl == len && memcmp(big, h, len) == 0;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_length(v) == len && memcmp(json_string_value(v), h, len) == 0;
    case JSON_INTEGER:
        return int_matches(h, len, (long long)json_integer_value(v));
    case JSON_REAL: {
        double d = json_real_value(v);
        return d >= -9007199254740991.0 && d <= 9007199254740991.0 && d == (double)(long long)d &&
               int_matches(h, len, (long long)d);
    }
    case JSON_TRUE:
        return len == 4 && memcmp(h, "true", 4) == 0;
    case JSON_FALSE:
        return len == 5 && memcmp(h, "false", 5) == 0;
    default:
        return false;
    }
}

/* The refusal of mirrored header `name` whose value gw_mcp_header_decode refused with rc
 * (GW_EINVAL: its base64), or that does not equal `what` in the body: worded once for the
 * standard headers and the Mcp-Param ones. */
static int refusal(const char *name, int rc, const char *what, struct gw_error *err)
{
    if (rc == GW_EINVAL)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "%s header: the value inside =?base64?...?= is not padded base64 "
                            "(RFC 4648 section 4)",
                            name);
    return GW_ERROR_SET(err, GW_EINVAL, "%s header does not match %s", name, what);
}

int gw_mcp_header_check(const char *name, const char *raw, const char *want, const char *what,
                        struct gw_error *err)
{
    if (!raw)
        return GW_ERROR_SET(err, GW_EINVAL, "%s header is required", name);
    char v[GW_MCP_HEADER_VALUE_MAX];
    size_t len = 0;
    int rc = gw_mcp_header_decode(raw, v, sizeof(v), &len);
    if (rc == GW_OK && want && strlen(v) == len && strcmp(v, want) == 0)
        return GW_OK;
    return refusal(name, rc, what, err);
}

int gw_mcp_param_check(const struct gw_schema_header *decls, size_t n, const json_t *args,
                       gw_mcp_header_fn header, void *ud, struct gw_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct gw_schema_header *d = &decls[i];
        char hname[GW_SCHEMA_HEADER_NAME_MAX + 16], an[200];
        snprintf(hname, sizeof(hname), "Mcp-Param-%s", d->name);
        gw_schema_header_path(d->path, d->depth, an, sizeof(an));
        const json_t *v = arg_at(args, d);
        bool scalar = v && (json_is_string(v) || json_is_number(v) || json_is_boolean(v));
        const char *raw = header(ud, hname);
        if (!scalar) {
            if (raw)
                return GW_ERROR_SET(err, GW_EINVAL,
                                    "%s header given, but argument '%s' is %s: send the header "
                                    "only with a value of the argument",
                                    hname, an, v && !json_is_null(v) ? "not a scalar" : "absent");
            continue;
        }
        if (!raw)
            return GW_ERROR_SET(err, GW_EINVAL,
                                "%s header is required: argument '%s' is in the request "
                                "(x-mcp-header \"%s\"; 2026-07-28)",
                                hname, an, d->name);
        char val[GW_MCP_HEADER_VALUE_MAX];
        size_t len = 0;
        int rc = gw_mcp_header_decode(raw, val, sizeof(val), &len);
        if (rc != GW_OK || !value_matches(v, val, len)) {
            char what[400];
            snprintf(what, sizeof(what), "argument '%s' (send the argument's value: a string as "
                                         "is or as =?base64?...?=, a number in decimal, true or "
                                         "false)", an);
            return refusal(hname, rc, what, err);
        }
    }
    return GW_OK;
}

static const char *x_header(void *ud, const char *name)
{
    return gw_mcp_x_header(ud, name);
}

int gw_mcp_x_check_params(const struct gw_mcp_exchange *x, const json_t *input_schema,
                          const json_t *args, int *code, struct gw_error *err)
{
    *code = GW_MCP_HEADER_MISMATCH;
    if (!gw_mcp_x_modern(x) || !gw_mcp_x_has_headers(x))
        return GW_OK; /* the legacy era, stdio and in-process calls have no such headers */
    struct gw_schema_header decls[GW_SCHEMA_HEADERS_MAX];
    size_t n = 0;
    struct gw_error why;
    gw_error_clear(&why);
    if (gw_schema_headers_scan(input_schema, decls, &n, &why) != GW_OK) {
        *code = GW_JSONRPC_INTERNAL_ERROR;
        return GW_ERROR_SET(err, GW_EINVAL, "the tool's x-mcp-header declarations are invalid: "
                                            "%s", why.msg);
    }
    return gw_mcp_x_check_decls(x, decls, n, args, code, err);
}

int gw_mcp_x_check_decls(const struct gw_mcp_exchange *x, const struct gw_schema_header *decls,
                         size_t n, const json_t *args, int *code, struct gw_error *err)
{
    *code = GW_MCP_HEADER_MISMATCH;
    if (!gw_mcp_x_modern(x) || !gw_mcp_x_has_headers(x))
        return GW_OK;
    return gw_mcp_param_check(decls, n, args, x_header, (void *)(uintptr_t)x, err);
}
