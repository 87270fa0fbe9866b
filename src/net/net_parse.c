/*
 * src/net/net_parse.c
 * Request framing on llhttp (strict mode). Two passes over a head, both linear:
 *   1. a line scan as bytes arrive: every LF must follow a CR (bare LF), no line of the head
 *      may start with whitespace (obs-fold), and the head, its line count and the request line
 *      are bounded; the scan finds the head's end (the first empty line after the request
 *      line; empty lines before it are skipped, as RFC 9112 2.2 allows);
 *   2. llhttp over the complete head, copied into the request's arena (so every span is whole
 *      and stays valid): request line, field syntax (no whitespace before the colon, token
 *      names, no control bytes), Content-Length (digits only, one value), Transfer-Encoding
 *      (chunked last, never with Content-Length); then our own checks in on_headers_complete
 *      (version, Host, exactly "chunked", Expect, body limit) where the strings are terminated
 *      in place.
 * Body bytes then go through llhttp as they arrive (chunked decoding, Content-Length count)
 * into one growable buffer, bounded by max_body; on_message_complete pauses llhttp so that
 * pipelined bytes stay for the next request.
 * States: HEAD --complete head--> BODY --message complete--> DONE --next--> HEAD;
 *         HEAD (no body) --> DONE; any --refusal--> ERROR (final: the connection closes).
 */
#include "net/net_parse.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BODY_FIRST_ALLOC 16384u

static int refuse(struct gw_http_parser *p, int status, const char *reason)
{
    if (!p->_status) {
        p->_status = status;
        p->_reason = reason;
    }
    return -1;
}

static bool name_is(const struct gw_http_field *f, const char *name, size_t n)
{
    return f->name_len == n && strncasecmp(f->name, name, n) == 0;
}

/* ---- llhttp callbacks (data = the parser) ---- */

static int on_url(llhttp_t *ll, const char *at, size_t n)
{
    struct gw_http_parser *p = ll->data;
    if (n > p->_lim.max_url)
        return refuse(p, 414, "request target too long");
    p->_head->target = at;
    p->_head->target_len = n;
    return 0;
}

static int on_header_field(llhttp_t *ll, const char *at, size_t n)
{
    struct gw_http_parser *p = ll->data;
    if (p->_state != GW_HP_HEAD) {
        /* a trailer field of a chunked body: counted, not kept */
        if (++p->_trailers > p->_lim.max_headers)
            return refuse(p, 431, "too many trailer fields");
        return 0;
    }
    struct gw_http_head *h = p->_head;
    if (n == 0)
        return refuse(p, 400, "empty header field name");
    if (h->nfields >= p->_lim.max_headers)
        return refuse(p, 431, "too many header fields");
    struct gw_http_field *f = &h->fields[h->nfields++];
    f->name = at;
    f->name_len = n;
    f->value = at + n; /* empty until a value span arrives (llhttp sends none for "X:") */
    f->value_len = 0;
    return 0;
}

static int on_header_value(llhttp_t *ll, const char *at, size_t n)
{
    struct gw_http_parser *p = ll->data;
    if (p->_state != GW_HP_HEAD || !p->_head->nfields)
        return 0;
    struct gw_http_field *f = &p->_head->fields[p->_head->nfields - 1];
    /* llhttp keeps trailing whitespace in the span; RFC 9110 5.5 excludes it */
    while (n && (at[n - 1] == ' ' || at[n - 1] == '\t'))
        n--;
    f->value = at;
    f->value_len = n;
    return 0;
}

/* Terminates the head's strings in place: llhttp has consumed every byte of the head by now
 * and never looks back. The byte after each span is a delimiter (':', ' ', CR or OWS). */
static void terminate_strings(struct gw_http_parser *p)
{
    struct gw_http_head *h = p->_head;
    if (h->target)
        ((char *)h->target)[h->target_len] = '\0';
    for (unsigned i = 0; i < h->nfields; i++) {
        struct gw_http_field *f = &h->fields[i];
        ((char *)f->name)[f->name_len] = '\0';
        if (f->value_len)
            ((char *)f->value)[f->value_len] = '\0';
        else
            f->value = "";
    }
}

static int on_headers_complete(llhttp_t *ll)
{
    struct gw_http_parser *p = ll->data;
    struct gw_http_head *h = p->_head;
    terminate_strings(p);
    if (!h->target)
        return refuse(p, 400, "missing request target");
    if (ll->http_major != 1 || ll->http_minor > 1)
        return refuse(p, 505, "HTTP version not supported (1.0 and 1.1 are)");
    h->minor = ll->http_minor;
    h->method = ll->method;
    h->method_name = llhttp_method_name((llhttp_method_t)ll->method);
    unsigned hosts = 0, tes = 0;
    const struct gw_http_field *te = NULL, *expect = NULL;
    for (unsigned i = 0; i < h->nfields; i++) {
        const struct gw_http_field *f = &h->fields[i];
        if (name_is(f, "host", 4)) {
            hosts++;
        } else if (name_is(f, "transfer-encoding", 17)) {
            tes++;
            te = f;
        } else if (name_is(f, "expect", 6)) {
            if (expect)
                return refuse(p, 400, "more than one Expect header");
            expect = f;
        }
    }
    if (hosts > 1)
        return refuse(p, 400, "more than one Host header");
    if (hosts == 0 && h->minor == 1)
        return refuse(p, 400, "missing Host header (required by HTTP/1.1)");
    if (tes) {
        /* llhttp already refused Transfer-Encoding with Content-Length and one whose last
         * coding is not chunked; we understand nothing but exactly one "chunked" */
        if (h->minor == 0)
            return refuse(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
        if (tes > 1 || te->value_len != 7 || strncasecmp(te->value, "chunked", 7) != 0)
            return refuse(p, 400, "unsupported Transfer-Encoding (only \"chunked\" is accepted)");
        h->chunked = true;
    } else {
        h->content_length = (ll->flags & F_CONTENT_LENGTH) ? ll->content_length : 0;
        if (h->content_length > p->_lim.max_body)
            return refuse(p, 413, "request body too large");
    }
    h->has_body = h->chunked || h->content_length > 0;
    if (expect) {
        if (expect->value_len != 12 || strncasecmp(expect->value, "100-continue", 12) != 0)
            return refuse(p, 417, "unsupported Expect (only 100-continue is)");
        h->expect_continue = h->has_body && h->minor == 1;
    }
    /* we never switch protocols: a request asking to upgrade is answered, then the connection
     * closes (the bytes after it are not HTTP/1.1) */
    h->keep_alive = llhttp_should_keep_alive(ll) && !ll->upgrade;
    return 0;
}

static int on_body(llhttp_t *ll, const char *at, size_t n)
{
    struct gw_http_parser *p = ll->data;
    if (n > p->_lim.max_body - p->_body_len)
        return refuse(p, 413, "request body too large");
    size_t need = p->_body_len + n + 1;
    if (need > p->_body_cap) {
        size_t cap = p->_body_cap ? p->_body_cap : BODY_FIRST_ALLOC;
        while (cap < need)
            cap *= 2;
        if (cap > p->_lim.max_body + 1)
            cap = p->_lim.max_body + 1;
        char *nb = gw_tryrealloc(p->_body, cap);
        if (!nb)
            return refuse(p, 503, "out of memory for the request body");
        p->_body = nb;
        p->_body_cap = cap;
    }
    memcpy(p->_body + p->_body_len, at, n);
    p->_body_len += n;
    p->_body[p->_body_len] = '\0';
    return 0;
}

static int on_message_complete(llhttp_t *ll)
{
    struct gw_http_parser *p = ll->data;
    p->_state = GW_HP_DONE;
    return HPE_PAUSED; /* the next request waits until this one is answered */
}

static const llhttp_settings_t settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- API ---- */

void gw_http_parser_init(struct gw_http_parser *p, const struct gw_http_limits *lim)
{
    memset(p, 0, sizeof(*p));
    p->_lim = *lim;
    if (!p->_lim.max_headers)
        p->_lim.max_headers = 100;
    llhttp_init(&p->_ll, HTTP_REQUEST, &settings);
    p->_ll.data = p;
    p->_state = GW_HP_HEAD;
}

void gw_http_parser_fini(struct gw_http_parser *p)
{
    gw_free_null(&p->_body);
    p->_body_len = p->_body_cap = 0;
}

static int fail(struct gw_http_parser *p, int status, const char *reason)
{
    refuse(p, status, reason);
    p->_state = GW_HP_ERROR;
    return GW_ERR;
}

/* After llhttp stopped with `e`: our own refusal if a callback made one, else llhttp's. */
static int fail_ll(struct gw_http_parser *p, llhttp_errno_t e)
{
    if (p->_status)
        return fail(p, p->_status, p->_reason);
    switch (e) {
    case HPE_INVALID_METHOD:
        return fail(p, 501, "unknown HTTP method");
    case HPE_INVALID_VERSION:
        return fail(p, 505, "invalid or unsupported HTTP version");
    default:
        return fail(p, 400, llhttp_get_error_reason(&p->_ll) ? llhttp_get_error_reason(&p->_ll)
                                                              : llhttp_errno_name(e));
    }
}

/* Whether the request line starts with a token and a space (an unknown method, 501) rather
 * than being no request line at all (400). */
static bool method_shaped(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == '\r' || s[i] == '\n'))
        i++;
    size_t start = i;
    while (i < n && s[i] > 0x20 && s[i] < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", s[i]))
        i++;
    return i > start && i < n && s[i] == ' ';
}

/* Whether the request line ends in " HTTP/<digit>.<digit>" CRLF (a version we do not speak,
 * 505) rather than something that is no version at all (400). */
static bool version_shaped(const char *s, size_t n)
{
    size_t i = 0;
    while (i + 1 < n && s[i] == '\r' && s[i + 1] == '\n')
        i += 2; /* empty lines before the request line */
    const char *eol = memchr(s + i, '\n', n - i);
    if (!eol || eol - (s + i) < 11)
        return false;
    const char *v = eol - 10; /* " HTTP/x.y\r" */
    return v[0] == ' ' && memcmp(v + 1, "HTTP/", 5) == 0 && v[6] >= '0' && v[6] <= '9' &&
           v[7] == '.' && v[8] >= '0' && v[8] <= '9' && v[9] == '\r';
}

int gw_http_parser_head(struct gw_http_parser *p, const char *buf, size_t len,
                        struct gw_arena *a, struct gw_http_head *out)
{
    if (p->_state != GW_HP_HEAD)
        return fail(p, 500, "parser misuse: not expecting a head");
    size_t i = p->_scanned, head_len = 0;
    while (i < len) {
        /* a line that starts with whitespace continues the previous one (obs-fold), or, right
         * after the request line, is an attempt to hide a field from lenient parsers */
        if (i == p->_line_start && p->_lines > 0 && (buf[i] == ' ' || buf[i] == '\t'))
            return fail(p, 400, "header line starts with whitespace (obs-fold is not accepted)");
        const char *nl = memchr(buf + i, '\n', len - i);
        if (!nl) {
            i = len;
            break;
        }
        size_t at = (size_t)(nl - buf);
        if (at == 0 || buf[at - 1] != '\r' || at - 1 < p->_line_start)
            return fail(p, 400, "bare LF in the request head (lines end with CRLF)");
        size_t line_len = at - 1 - p->_line_start;
        i = p->_line_start = at + 1;
        if (line_len == 0) {
            if (p->_lines == 0)
                continue; /* empty lines before the request line are ignored */
            head_len = at + 1;
            break;
        }
        if (p->_lines == 0 && line_len > p->_lim.max_url + 32)
            return fail(p, 414, "request target too long");
        if (++p->_lines > p->_lim.max_headers + 1)
            return fail(p, 431, "too many header fields");
    }
    if (!head_len) {
        p->_scanned = i;
        if (p->_lines == 0 && len - p->_line_start > p->_lim.max_url + 32)
            return fail(p, 414, "request target too long");
        if (len > p->_lim.max_head)
            return fail(p, 431, "request header block too large");
        return GW_AGAIN;
    }
    if (head_len > p->_lim.max_head)
        return fail(p, 431, "request header block too large");

    char *copy = gw_arena_alloc(a, head_len + 1);
    struct gw_http_field *fields =
        gw_arena_alloc(a, sizeof(*fields) * (p->_lines ? p->_lines : 1));
    if (!copy || !fields)
        return fail(p, 503, "out of memory for the request head");
    memcpy(copy, buf, head_len);
    copy[head_len] = '\0';
    memset(out, 0, sizeof(*out));
    out->fields = fields;
    p->_head = out;
    llhttp_errno_t e = llhttp_execute(&p->_ll, copy, head_len);
    p->_head = NULL;
    if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
        p->_state = GW_HP_DONE;
        if (llhttp_get_error_pos(&p->_ll) != copy + head_len)
            return fail(p, 400, "bytes after the end of the request head");
        out->keep_alive = out->keep_alive && e == HPE_PAUSED;
    } else if (e == HPE_OK) {
        if (!out->has_body) /* cannot happen: llhttp completes body-less requests at once */
            return fail(p, 400, "incomplete request head");
        p->_state = GW_HP_BODY;
    } else if (e == HPE_INVALID_METHOD && !method_shaped(copy, head_len)) {
        return fail(p, 400, "malformed request line");
    } else if (e == HPE_INVALID_VERSION && !version_shaped(copy, head_len)) {
        return fail(p, 400, "malformed HTTP version in the request line");
    } else {
        return fail_ll(p, e);
    }
    return (int)head_len;
}

int gw_http_parser_body(struct gw_http_parser *p, const char *buf, size_t len,
                        size_t *consumed)
{
    *consumed = 0;
    if (p->_state != GW_HP_BODY)
        return p->_state == GW_HP_DONE ? GW_OK : fail(p, 500, "parser misuse: no body expected");
    if (!len)
        return GW_AGAIN;
    llhttp_errno_t e = llhttp_execute(&p->_ll, buf, len);
    if (e == HPE_OK) {
        *consumed = len;
        return GW_AGAIN;
    }
    if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
        *consumed = (size_t)(llhttp_get_error_pos(&p->_ll) - buf);
        p->_state = GW_HP_DONE;
        return GW_OK;
    }
    return fail_ll(p, e);
}

char *gw_http_parser_take_body(struct gw_http_parser *p, size_t *len)
{
    char *b = p->_body;
    *len = p->_body_len;
    p->_body = NULL;
    p->_body_len = p->_body_cap = 0;
    return b;
}

void gw_http_parser_next(struct gw_http_parser *p)
{
    if (p->_state == GW_HP_ERROR)
        return;
    gw_http_parser_fini(p);
    if (llhttp_get_errno(&p->_ll) == HPE_PAUSED)
        llhttp_resume(&p->_ll);
    p->_state = GW_HP_HEAD;
    p->_scanned = p->_line_start = 0;
    p->_lines = p->_trailers = 0;
}

enum gw_http_parse_state gw_http_parser_state(const struct gw_http_parser *p)
{
    return p->_state;
}

int gw_http_parser_status(const struct gw_http_parser *p)
{
    return p->_status ? p->_status : 400;
}

const char *gw_http_parser_reason(const struct gw_http_parser *p)
{
    return p->_reason ? p->_reason : "malformed request";
}

uint64_t gw_http_parser_body_expected(const struct gw_http_parser *p)
{
    return p->_ll.content_length;
}
