/*
 * src/core/json.c
 * Limits and serialisation around jansson.
 */
#include "core/json.h"

#include "core/alloc.h"

#include <string.h>

void gw_json_init(void)
{
    json_set_alloc_funcs(gw_cache_malloc, gw_cache_free);
}

int gw_json_depth(const char *buf, size_t len, int max_depth)
{
    int depth = 0, maxd = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > maxd) {
                maxd = depth;
                if (max_depth > 0 && maxd > max_depth)
                    return maxd;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return maxd;
}

json_t *gw_json_parse(const char *buf, size_t len, const struct gw_json_limits *lim,
                      struct gw_error *err)
{
    if (lim && lim->max_bytes && len > lim->max_bytes) {
        GW_ERROR_SET(err, GW_ELIMIT, "JSON text of %zu bytes exceeds the limit of %zu", len,
                     lim->max_bytes);
        return NULL;
    }
    if (lim && lim->max_depth > 0) {
        int d = gw_json_depth(buf, len, lim->max_depth);
        if (d > lim->max_depth) {
            GW_ERROR_SET(err, GW_ELIMIT, "JSON nesting deeper than the limit of %d",
                         lim->max_depth);
            return NULL;
        }
    }
    json_error_t je;
    json_t *v = json_loadb(buf, len, JSON_DECODE_ANY, &je);
    if (!v) {
        GW_ERROR_SET(err, GW_EINVAL, "invalid JSON at line %d column %d: %s", je.line, je.column,
                     je.text);
        return NULL;
    }
    return v;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    return gw_buf_add(data, buffer, size) == GW_OK ? 0 : -1;
}

int gw_json_dump(const json_t *v, struct gw_buf *out)
{
    size_t before = gw_buf_len(out);
    if (json_dump_callback(v, dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
        /* distinguish a full buffer from OOM by trying to add one byte */
        int rc = gw_buf_add(out, "", 0);
        (void)before;
        return rc == GW_OK ? GW_ELIMIT : rc;
    }
    return GW_OK;
}

char *gw_json_dumps(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

const char *gw_json_str(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

bool gw_json_is_int_or_str(const json_t *v)
{
    return json_is_integer(v) || json_is_string(v);
}
