/*
 * src/net/net_parse.h
 * HTTP/1.1 request framing (RFC 9112) for the server: llhttp (Node.js's parser, built in strict
 * mode from Debian's node-llhttp sources) does the request line, header syntax, Content-Length
 * and chunked decoding; this module adds what llhttp tolerates and a server must refuse, and
 * turns every refusal into an HTTP status and a message a client can act on.
 *
 * Refused (status): bare LF or CR (400), obs-fold (400), whitespace before a colon (400),
 * conflicting or malformed Content-Length (400), any Transfer-Encoding but exactly "chunked"
 * (400; also with Content-Length, or on HTTP/1.0), a missing or repeated Host on HTTP/1.1 (400),
 * an empty header name (400), an unknown method (501), a version other than 1.0/1.1 (505), an
 * Expect other than 100-continue (417), a request target over the URL limit (414), a head over
 * the header limit or with too many fields (431), a body over the body limit (413).
 * A head is only parsed once it is complete (up to the empty line), so header strings are
 * whole; the body is fed as it arrives and decoded into one contiguous buffer.
 * No I/O, no allocation outside the arena and the body buffer: the fuzz target drives it alone.
 */
#ifndef GW_NET_PARSE_H
#define GW_NET_PARSE_H

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_arena;

struct gw_http_limits {
    size_t max_head;      /* request line + header fields, bytes (431) */
    size_t max_url;       /* request target, bytes (414) */
    size_t max_body;      /* decoded body, bytes (413) */
    unsigned max_headers; /* header fields (431) */
};

struct gw_http_field {
    const char *name, *value; /* NUL-terminated, arena memory */
    size_t name_len, value_len;
};

/* A parsed request head. Strings are NUL-terminated copies in the arena given to
 * gw_http_parser_head. */
struct gw_http_head {
    int method;              /* llhttp_method_t */
    const char *method_name; /* "GET", ... (static) */
    const char *target;      /* request target as sent ("/mcp?x=1", "*", "http://h/p") */
    size_t target_len;
    int minor;               /* HTTP/1.<minor> */
    struct gw_http_field *fields;
    unsigned nfields;
    uint64_t content_length; /* when !chunked */
    bool chunked;
    bool has_body;           /* Content-Length > 0 or chunked */
    bool keep_alive;         /* the client allows another request on this connection */
    bool expect_continue;    /* "Expect: 100-continue" with a body to come */
};

enum gw_http_parse_state { GW_HP_HEAD, GW_HP_BODY, GW_HP_DONE, GW_HP_ERROR };

/* Per-connection parser state. Members are private: use the API. */
struct gw_http_parser {
    llhttp_t _ll;
    struct gw_http_limits _lim;
    enum gw_http_parse_state _state;
    size_t _scanned;    /* head bytes already checked by the line scan */
    size_t _line_start; /* start of the line the scan is in */
    unsigned _lines;    /* lines seen in the head */
    /* the head being filled while llhttp runs over it */
    struct gw_http_head *_head;
    unsigned _trailers;
    /* the decoded body */
    char *_body;
    size_t _body_len, _body_cap;
    /* the refusal */
    int _status;
    const char *_reason;
};

void gw_http_parser_init(struct gw_http_parser *p, const struct gw_http_limits *lim);
/* Frees the body buffer (if not taken). The parser may be re-initialised afterwards. */
void gw_http_parser_fini(struct gw_http_parser *p);

/* Looks for a complete request head at the start of buf[0..len) (the same bytes, possibly
 * grown, on every call until it returns). Returns the head's length (> 0) with *out filled
 * (strings in `a`), GW_AGAIN when more bytes are needed, or GW_ERR (see status/reason). After
 * a head: GW_HP_DONE when the request has no body, else GW_HP_BODY. */
int gw_http_parser_head(struct gw_http_parser *p, const char *buf, size_t len,
                        struct gw_arena *a, struct gw_http_head *out);
/* Feeds body bytes. Sets *consumed; returns GW_OK when the message is complete (bytes after
 * it belong to the next request), GW_AGAIN when more are needed, or GW_ERR. */
int gw_http_parser_body(struct gw_http_parser *p, const char *buf, size_t len,
                        size_t *consumed);
/* The decoded body of a complete message; ownership passes to the caller (gw_free), NULL
 * when empty (then *len is 0). The buffer is NUL-terminated. */
char *gw_http_parser_take_body(struct gw_http_parser *p, size_t *len);
/* Ready for the next request on the same connection (after GW_HP_DONE). */
void gw_http_parser_next(struct gw_http_parser *p);

enum gw_http_parse_state gw_http_parser_state(const struct gw_http_parser *p);
/* After GW_ERR: the HTTP status to answer (400, 413, 414, 417, 431, 501, 505) and why. */
int gw_http_parser_status(const struct gw_http_parser *p);
const char *gw_http_parser_reason(const struct gw_http_parser *p);
/* Bytes of body still expected (Content-Length framing), for the 100-continue decision. */
uint64_t gw_http_parser_body_expected(const struct gw_http_parser *p);

#endif
