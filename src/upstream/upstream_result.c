/*
 * src/upstream/upstream_result.c
 * CallToolResult construction (see the header for the mapping) and secret scrubbing.
 * Invariants: every result serialises (text is checked UTF-8 before it becomes a string) and
 * has at least one content block; a 2xx answer is a success only when its body is what it
 * claims to be (a body declared as JSON must parse), so a truncated document never reaches
 * the model as data. Pure and re-entrant; nothing here logs.
 */
#include "upstream/upstream_result.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PARSE_DEPTH 64
#define MAX_IMAGE_BYTES (4u * 1024u * 1024u)

const char *gw_upstream_reason(long s)
{
    switch (s) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

size_t gw_upstream_utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t cut = max;
    /* step back over continuation bytes so we end before a whole character */
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF, no NUL —
 * exactly what jansson accepts in a string, so text built from it always serialises. */
static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                     : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        if (!len || i + len > n)
            return false;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
        unsigned char c1 = p[i + 1];
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
            (c == 0xF4 && c1 > 0x8F))
            return false;
        i += len;
    }
    return true;
}

/* An MCP text content block (built member by member: json_pack parses its format string on
 * every call, and this runs for every tool result). */
static json_t *text_block(const char *s, size_t n)
{
    json_t *text = json_stringn(s, n);
    /* never without text: text that jansson refuses (it should not happen after the checks
     * above) is replaced by a notice rather than losing the whole result */
    if (!text)
        text = json_string("(unprintable text omitted)");
    json_t *b = json_object();
    json_object_set_new_nocheck(b, "type", json_string_nocheck("text"));
    json_object_set_new_nocheck(b, "text", text);
    return b;
}

json_t *gw_upstream_result_error(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    if (!utf8_valid(msg, n))
        n = 0;
    return json_pack("{s:[o], s:b}", "content", text_block(msg, n), "isError", 1);
}

/* Appends up to max characters of text (UTF-8 safe) with a truncation marker. */
static void add_bounded(struct gw_buf *b, const char *s, size_t n, size_t max)
{
    size_t cut = gw_upstream_utf8_cut(s, n, max);
    (void)gw_buf_add(b, s, cut);
    if (cut < n)
        (void)gw_buf_printf(b, "… [truncated, %zu more bytes]", n - cut);
}

/* application/json or any +json media type. */
static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    size_t n = strcspn(ct, ";");
    while (n > 0 && ct[n - 1] == ' ')
        n--;
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0);
}

/* A compact excerpt of a body for a message: runs of whitespace become one space (leading
 * and trailing ones go), at most max bytes on a UTF-8 boundary plus a truncation marker; a
 * body that is not UTF-8 is only counted. */
static void add_excerpt(struct gw_buf *b, const char *s, size_t n, size_t max)
{
    if (!utf8_valid(s, n)) {
        (void)gw_buf_printf(b, "(%zu bytes of binary content)", n);
        return;
    }
    size_t i = 0, out = 0;
    bool space = false;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    for (; i < n; i++) {
        char ch = s[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            space = true;
            continue;
        }
        /* stop before a character that would not fit (never inside one) */
        if (((unsigned char)ch & 0xC0) != 0x80 && out + (space ? 1 : 0) >= max)
            break;
        if (space) {
            (void)gw_buf_addc(b, ' ');
            out++;
            space = false;
        }
        (void)gw_buf_addc(b, ch);
        out++;
    }
    if (i < n)
        (void)gw_buf_printf(b, "… [truncated, %zu more bytes]", n - i);
}

/* isError for a 2xx body declared as JSON that does not parse: the parser's reason (position
 * and what it expected, without the quoted token, which may not be valid text) and a compact
 * excerpt of the body. */
static json_t *malformed_json(const struct gw_result_input *in, const char *why)
{
    char reason[200];
    const char *p = strncmp(why, "invalid JSON at ", 16) == 0 ? why + 16 : why;
    const char *near = strstr(p, " near ");
    size_t rl = near ? (size_t)(near - p) : strlen(p);
    snprintf(reason, sizeof(reason), "%.*s", (int)(rl < sizeof(reason) ? rl : sizeof(reason) - 1),
             p);
    if (!utf8_valid(reason, strlen(reason)))
        reason[0] = '\0';
    size_t tl = strcspn(in->content_type, "; ");
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    (void)gw_buf_printf(&b, "upstream '%s' returned malformed JSON (HTTP %ld %.*s%s%s)",
                        in->upstream, in->http_status, (int)(tl < 100 ? tl : 100),
                        in->content_type, reason[0] ? ", " : "", reason);
    if (in->conf->error_body_chars) {
        (void)gw_buf_adds(&b, ": ");
        add_excerpt(&b, in->body, in->body_len, in->conf->error_body_chars);
    }
    json_t *r = json_pack("{s:[o], s:b}", "content", text_block(gw_buf_ptr(&b), gw_buf_len(&b)),
                          "isError", 1);
    gw_buf_fini(&b);
    return r;
}

/* For responses without a content type (or a text one) that are in fact JSON. */
static bool looks_like_json(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    return i < n && (s[i] == '{' || s[i] == '[');
}

/* The compact JSON text of v into b, capped. */
static void dump_bounded(struct gw_buf *b, const json_t *v, size_t max)
{
    char *s = gw_json_dumps(v);
    if (s) {
        add_bounded(b, s, strlen(s), max);
        gw_free(s);
    }
}

/* Whether a business-error rule fires on doc. */
static bool rule_matches(const struct gw_business_rule *r, const json_t *doc)
{
    const json_t *v = gw_upstream_json_pointer(doc, r->pointer);
    if (!v)
        return false;
    if (r->equals && json_equal((json_t *)v, r->equals))
        return true;
    size_t i;
    json_t *it;
    json_array_foreach(r->one_of, i, it) {
        if (json_equal((json_t *)v, it))
            return true;
    }
    return false;
}

/* The first message the configured pointers find (strings, or objects with "message"). */
static const char *business_message(const struct gw_upstream_conf *c, const json_t *doc,
                                    char *tmp, size_t tmpn)
{
    for (size_t i = 0; i < c->nmessage; i++) {
        const json_t *m = gw_upstream_json_pointer(doc, c->message_pointers[i]);
        if (json_is_string(m) && json_string_length(m) > 0)
            return json_string_value(m);
        if (json_is_object(m)) {
            const char *s = gw_json_str(m, "message");
            if (s && *s)
                return s;
        }
    }
    (void)tmp;
    (void)tmpn;
    return NULL;
}

/* isError result for a non-2xx status, quoting a bounded part of the body. */
static json_t *http_error(const struct gw_result_input *in, const json_t *doc)
{
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    (void)gw_buf_printf(&b, "HTTP %ld %s from upstream '%s'", in->http_status,
                        gw_upstream_reason(in->http_status), in->upstream);
    size_t max = in->conf->error_body_chars;
    if (doc) {
        (void)gw_buf_adds(&b, ": ");
        dump_bounded(&b, doc, max);
    } else if (in->body_len && max) {
        (void)gw_buf_adds(&b, ": ");
        if (utf8_valid(in->body, in->body_len))
            add_bounded(&b, in->body, in->body_len, max);
        else
            (void)gw_buf_printf(&b, "(%zu bytes of binary content)", in->body_len);
    }
    if (in->http_status >= 300 && in->http_status < 400)
        (void)gw_buf_adds(&b, " (redirects are not followed)");
    json_t *r = json_pack("{s:[o], s:b}", "content",
                          text_block(gw_buf_ptr(&b), gw_buf_len(&b)), "isError", 1);
    gw_buf_fini(&b);
    return r;
}

/* An MCP image content block (base64) for image bodies up to 4 MiB. */
static json_t *image_result(const struct gw_result_input *in)
{
    if (in->body_len > MAX_IMAGE_BYTES)
        return gw_upstream_result_error("upstream '%s' returned an image of %zu bytes (limit %u)",
                                        in->upstream, in->body_len, MAX_IMAGE_BYTES);
    size_t n = 4 * ((in->body_len + 2) / 3);
    char *b64 = gw_xmalloc(n + 1);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)in->body, (int)in->body_len);
    char mime[128];
    size_t ml = strcspn(in->content_type, "; ");
    snprintf(mime, sizeof(mime), "%.*s", (int)(ml < 127 ? ml : 127), in->content_type);
    json_t *r = json_pack("{s:[{s:s, s:s, s:s}]}", "content", "type", "image", "data", b64,
                          "mimeType", mime);
    gw_free(b64);
    return r;
}

json_t *gw_upstream_result_build(const struct gw_result_input *in,
                                 enum gw_exec_outcome *out_outcome)
{
    const struct gw_upstream_conf *c = in->conf;
    size_t max_text = in->shape && in->shape->max_text_chars ? in->shape->max_text_chars
                                                              : c->max_text_chars;
    json_t *doc = NULL;
    bool declared_json = is_json_type(in->content_type);
    struct gw_error perr;
    perr.code = GW_OK; /* only the code is read; set by a failed parse (no 550-byte clear) */
    if (in->body_len && (declared_json ||
                         ((!in->content_type || strncasecmp(in->content_type, "text/", 5) == 0) &&
                          looks_like_json(in->body, in->body_len)))) {
        struct gw_json_limits lim = {0, PARSE_DEPTH};
        doc = gw_json_parse(in->body, in->body_len, &lim, &perr);
    }
    bool ok_status = in->http_status >= 200 && in->http_status <= 299;
    /* declared JSON that is not JSON (a nesting beyond the limit is not malformed: it stays
     * text below) */
    if (ok_status && !doc && declared_json && in->body_len && perr.code == GW_EINVAL) {
        *out_outcome = GW_EXEC_BAD_RESPONSE;
        return malformed_json(in, perr.msg);
    }
    if (!ok_status) {
        *out_outcome = GW_EXEC_HTTP_ERROR;
        json_t *r = http_error(in, doc);
        json_decref(doc);
        return r;
    }
    if (!doc) {
        *out_outcome = GW_EXEC_OK;
        if (in->content_type && strncasecmp(in->content_type, "image/", 6) == 0)
            return image_result(in);
        struct gw_buf b;
        gw_buf_init(&b, max_text + 256);
        if (in->body_len == 0)
            (void)gw_buf_printf(&b, "HTTP %ld %s from upstream '%s' (no content)",
                                in->http_status, gw_upstream_reason(in->http_status),
                                in->upstream);
        else if (utf8_valid(in->body, in->body_len))
            add_bounded(&b, in->body, in->body_len, max_text);
        else
            (void)gw_buf_printf(&b, "binary response of %zu bytes (%s) from upstream '%s'",
                                in->body_len, in->content_type ? in->content_type : "no type",
                                in->upstream);
        json_t *content = json_array(), *r = json_object();
        json_array_append_new(content, text_block(gw_buf_ptr(&b), gw_buf_len(&b)));
        json_object_set_new_nocheck(r, "content", content);
        gw_buf_fini(&b);
        return r;
    }
    /* business-failure envelopes on a 2xx */
    if (json_is_object(doc)) {
        for (size_t i = 0; i < c->nrules; i++) {
            if (!rule_matches(&c->rules[i], doc))
                continue;
            char tmp[64];
            const char *msg = business_message(c, doc, tmp, sizeof(tmp));
            struct gw_buf b;
            gw_buf_init(&b, 1u << 20);
            (void)gw_buf_printf(&b, "upstream '%s' reported a failure (HTTP %ld, %s): ",
                                in->upstream, in->http_status, c->rules[i].pointer);
            if (msg)
                add_bounded(&b, msg, strlen(msg), c->error_body_chars ? c->error_body_chars : 1);
            else
                dump_bounded(&b, doc, c->error_body_chars);
            json_t *r = json_pack("{s:[o], s:b}", "content",
                                  text_block(gw_buf_ptr(&b), gw_buf_len(&b)), "isError", 1);
            gw_buf_fini(&b);
            json_decref(doc);
            *out_outcome = GW_EXEC_BUSINESS_ERROR;
            return r;
        }
    }
    struct gw_shape_stats st;
    doc = gw_upstream_shape_apply(doc, in->shape, &st);
    if (!json_is_object(doc) && in->has_output_schema) {
        *out_outcome = GW_EXEC_OUTPUT_INVALID;
        json_t *r = gw_upstream_result_error(
            "upstream '%s' returned a JSON %s where the tool's output schema expects an object",
            in->upstream, json_is_array(doc) ? "array" : "scalar");
        json_decref(doc);
        return r;
    }
    struct gw_buf b;
    gw_buf_init(&b, max_text + 256);
    dump_bounded(&b, doc, max_text);
    json_t *content = json_array();
    json_array_append_new(content, text_block(gw_buf_ptr(&b), gw_buf_len(&b)));
    gw_buf_fini(&b);
    if (st.arrays_truncated) {
        char note[200];
        snprintf(note, sizeof(note),
                 "Note: the response was shaped: %zu array(s) cut to %zu items (%zu items "
                 "omitted).",
                 st.arrays_truncated, in->shape->max_array_items, st.items_dropped);
        json_array_append_new(content, text_block(note, strlen(note)));
    }
    json_t *r = json_object();
    json_object_set_new(r, "content", content);
    if (json_is_object(doc))
        json_object_set(r, "structuredContent", doc);
    json_decref(doc);
    *out_outcome = GW_EXEC_OK;
    return r;
}

/* ---- scrubbing ---- */

char *gw_upstream_scrub_text(const char *s, char *const *secrets, size_t nsecrets)
{
    static const char mark[] = "[REDACTED]";
    bool found = false;
    for (size_t i = 0; i < nsecrets && !found; i++)
        if (secrets[i] && strlen(secrets[i]) >= 4 && strstr(s, secrets[i]))
            found = true;
    if (!found)
        return NULL;
    char *cur = gw_xstrdup(s);
    for (size_t i = 0; i < nsecrets; i++) {
        if (!secrets[i] || strlen(secrets[i]) < 4)
            continue;
        size_t sl = strlen(secrets[i]);
        struct gw_buf b;
        gw_buf_init(&b, (size_t)-1 / 2);
        const char *p = cur, *hit;
        bool any = false;
        while ((hit = strstr(p, secrets[i])) != NULL) {
            (void)gw_buf_add(&b, p, (size_t)(hit - p));
            (void)gw_buf_adds(&b, mark);
            p = hit + sl;
            any = true;
        }
        if (any) {
            (void)gw_buf_adds(&b, p);
            gw_free(cur);
            cur = gw_buf_take(&b, NULL);
        }
        gw_buf_fini(&b);
    }
    return cur;
}

/* Replaces secret occurrences in every string value and member name below v (bounded depth). */
static size_t scrub_walk(json_t *v, char *const *secrets, size_t n, int depth)
{
    size_t count = 0;
    if (depth > 256)
        return 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *it;
        /* keys first: an upstream may echo a secret as a member name. Renames are collected
         * and applied after the walk (inserting while iterating could rehash the table). */
        char **dirty = NULL;
        size_t ndirty = 0;
        json_object_foreach(v, k, it) {
            char *probe = gw_upstream_scrub_text(k, secrets, n);
            if (!probe)
                continue;
            gw_free(probe);
            dirty = gw_xrealloc(dirty, (ndirty + 1) * sizeof(char *));
            dirty[ndirty++] = gw_xstrdup(k);
        }
        for (size_t i = 0; i < ndirty; i++) {
            char *clean = gw_upstream_scrub_text(dirty[i], secrets, n);
            json_t *val = json_incref(json_object_get(v, dirty[i]));
            json_object_del(v, dirty[i]);
            json_object_set_new(v, clean, val);
            gw_free(clean);
            gw_free(dirty[i]);
            count++;
        }
        gw_free(dirty);
        json_object_foreach(v, k, it) {
            if (json_is_string(it)) {
                char *s = gw_upstream_scrub_text(json_string_value(it), secrets, n);
                if (s) {
                    json_object_set_new(v, k, json_string(s));
                    gw_free(s);
                    count++;
                }
            } else {
                count += scrub_walk(it, secrets, n, depth + 1);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it) {
            if (json_is_string(it)) {
                char *s = gw_upstream_scrub_text(json_string_value(it), secrets, n);
                if (s) {
                    json_array_set_new(v, i, json_string(s));
                    gw_free(s);
                    count++;
                }
            } else {
                count += scrub_walk(it, secrets, n, depth + 1);
            }
        }
    }
    return count;
}

size_t gw_upstream_scrub(json_t *v, char *const *secrets, size_t nsecrets)
{
    if (!v || !nsecrets)
        return 0;
    return scrub_walk(v, secrets, nsecrets, 0);
}
