/*
 * src/core/json.c
 * Limits and serialisation around jansson.
 */
#include "core/json.h"

#include "core/alloc.h"

#include <locale.h>
#include <stdint.h>
#include <stdio.h>
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

/* ---- the serialiser (gw_json_dump, gw_json_dumps) ----------------------------------------
 * Writes exactly the bytes jansson's json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes
 * (jansson 2.14 dump.c): keys in insertion order, the escapes \" \\ \b \f \n \r \t and
 * "\u00XX" (upper-case hex) for the other control characters, every other character as is
 * (UTF-8), integers as "%lld", reals as "%.17g" with ".0" appended when the text would read
 * back as an integer and the exponent without "+" and leading zeros. Why not jansson itself:
 * it formats every container's address with snprintf("%p") for its loop check and passes the
 * text a few bytes at a time through a callback; a tools/call reply cost ~39k instructions
 * that way, ~8k this way. A value written differently by jansson is never written here: a
 * string that is not UTF-8 (only *_nocheck constructors make one) or nesting deeper than
 * DUMP_MAX_DEPTH (which includes any cycle) hands the whole value back to jansson, which
 * serialises or refuses it as before. test_json and fuzz_core_json_dump compare the two. */
#define DUMP_MAX_DEPTH 256
#define DUMP_FALLBACK 1 /* not a gw_rc: "let jansson do it" */

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 if there is none: what
 * jansson's utf8_check_first/utf8_check_full accept (no overlong forms, no surrogates, at most
 * U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0) {
        len = 2;
        cp = c & 0x1F;
    } else if (c < 0xF0) {
        len = 3;
        cp = c & 0x0F;
    } else if (c < 0xF5) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) ||
        cp > 0x10FFFF)
        return 0;
    return len;
}

static int dump_string(struct gw_buf *b, const char *str, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)str;
    int rc = gw_buf_addc(b, '"');
    size_t run = 0; /* start of the bytes not yet written */
    for (size_t i = 0; i < len && rc == GW_OK;) {
        unsigned c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t k = utf8_seq(s + i, len - i);
            if (!k)
                return DUMP_FALLBACK;
            i += k;
            continue;
        }
        rc = gw_buf_add(b, s + run, i - run);
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        size_t en = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xF];
            en = 6;
            break;
        }
        if (rc == GW_OK)
            rc = gw_buf_add(b, esc, en);
        run = ++i;
    }
    if (rc == GW_OK)
        rc = gw_buf_add(b, s + run, len - run);
    return rc == GW_OK ? gw_buf_addc(b, '"') : rc;
}

/* jansson's jsonp_dtostr with its default precision (17) */
static int dump_real(struct gw_buf *b, double d)
{
    char t[64];
    int n = snprintf(t, sizeof(t), "%.17g", d);
    if (n < 0 || (size_t)n >= sizeof(t) - 3)
        return DUMP_FALLBACK;
    size_t len = (size_t)n;
    const char *point = localeconv()->decimal_point;
    if (*point != '.') {
        char *pos = strchr(t, *point);
        if (pos)
            *pos = '.';
    }
    if (!strchr(t, '.') && !strchr(t, 'e')) {
        memcpy(t + len, ".0", 3);
        len += 2;
    }
    char *start = strchr(t, 'e');
    if (start) {
        start++;
        char *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - t) + 1);
            len -= (size_t)(end - start);
        }
    }
    return gw_buf_add(b, t, len);
}

static int dump_value(struct gw_buf *b, const json_t *v, int depth)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return gw_buf_add(b, "null", 4);
    case JSON_TRUE:
        return gw_buf_add(b, "true", 4);
    case JSON_FALSE:
        return gw_buf_add(b, "false", 5);
    case JSON_INTEGER:
        return gw_buf_add_i64(b, (long long)json_integer_value(v));
    case JSON_REAL:
        return dump_real(b, json_real_value(v));
    case JSON_STRING:
        return dump_string(b, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
        if (depth >= DUMP_MAX_DEPTH)
            return DUMP_FALLBACK;
        int rc = gw_buf_addc(b, '[');
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n && rc == GW_OK; i++) {
            if (i)
                rc = gw_buf_addc(b, ',');
            if (rc == GW_OK)
                rc = dump_value(b, json_array_get(v, i), depth + 1);
        }
        return rc == GW_OK ? gw_buf_addc(b, ']') : rc;
    }
    case JSON_OBJECT: {
        if (depth >= DUMP_MAX_DEPTH)
            return DUMP_FALLBACK;
        int rc = gw_buf_addc(b, '{');
        bool first = true;
        for (void *it = json_object_iter((json_t *)v); it && rc == GW_OK;
             it = json_object_iter_next((json_t *)v, it)) {
            if (!first)
                rc = gw_buf_addc(b, ',');
            first = false;
            if (rc == GW_OK)
                rc = dump_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
            if (rc == GW_OK)
                rc = gw_buf_addc(b, ':');
            if (rc == GW_OK)
                rc = dump_value(b, json_object_iter_value(it), depth + 1);
        }
        return rc == GW_OK ? gw_buf_addc(b, '}') : rc;
    }
    }
    return DUMP_FALLBACK;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    return gw_buf_add(data, buffer, size) == GW_OK ? 0 : -1;
}

int gw_json_dump(const json_t *v, struct gw_buf *out)
{
    size_t before = gw_buf_len(out);
    int rc = v ? dump_value(out, v, 0) : DUMP_FALLBACK; /* jansson refuses NULL */
    if (rc == GW_OK)
        return GW_OK;
    gw_buf_truncate(out, before);
    if (rc != DUMP_FALLBACK)
        return rc;
    if (json_dump_callback(v, dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
        /* distinguish a full buffer from OOM (or a value jansson refuses) by adding one byte */
        rc = gw_buf_add(out, "", 0);
        gw_buf_truncate(out, before);
        return rc == GW_OK ? GW_ELIMIT : rc;
    }
    return GW_OK;
}

char *gw_json_dumps(const json_t *v)
{
    if (!v)
        return NULL; /* as json_dumps */
    struct gw_buf b;
    gw_buf_init(&b, SIZE_MAX / 2);
    int rc = dump_value(&b, v, 0);
    if (rc == GW_OK)
        return gw_buf_take(&b, NULL);
    gw_buf_fini(&b);
    return rc == DUMP_FALLBACK ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
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
