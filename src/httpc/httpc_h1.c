/*
 * src/httpc/httpc_h1.c
 * The native HTTP/1.1 engine of the outbound client: http:// and https:// requests to an IP
 * literal or a host name (looked up on libevent's resolver), on non-blocking sockets driven by
 * the worker's libevent base, TLS through OpenSSL (httpc_tls.c), responses framed by llhttp (strict
 * mode, the parser the server uses) with gzip/deflate decoded by zlib (httpc_resp.c), kept-alive
 * connections reused most recently used first. It carries what the gateway sends on every tool call
 * with libcurl's observable behaviour (statuses, timeouts, size cap, TLS verification, SSRF check
 * per opened connection, at-most-once writes, header lookup) at a fraction of its cost: one send
 * and one receive per call on a reused connection, no per-transfer handle setup, no liveness polls.
 * Everything else goes to libcurl (httpc_client.c; eligible() says which).
 *
 * Call lifecycle (one struct h1_call):
 *
 *     submit ─► [CONNECTING ─► HANDSHAKE] ─► SENDING ─► RECEIVING ─► finish(): callback
 *              (a new connection; HANDSHAKE for TLS)         │
 *                                                            └─ a reused connection died
 *        before any byte of the answer: once more on a new connection, unless no_replay (then
 *        ECONNECT, not_resent)
 *     any phase ─(deadline)─► ETIMEOUT     any phase ─(gw_httpc_cancel)─► freed, no callback
 *     CONNECTING to one of a name's addresses ─(its share of the connect time)─► the next one
 *
 * Invariants:
 *  1. A call is on h->pending from submit until finish or cancel; its callback runs only from
 *     finish(), which runs only from libevent callbacks (socket readiness, the call's timer,
 *     which submit activates for a failure it found), so never from inside submit.
 *  2. A connection serves at most one call at a time (conn->call) and is either attached to a
 *     call or on the idle list, never both. Only a connection whose last response was complete,
 *     framed, keep-alive and followed by no stray byte goes back to the idle list.
 *  3. A connection's socket is registered with the loop from connect to close (read interest;
 *     write interest only while connecting or while a send would block), so reusing a
 *     connection costs no epoll_ctl, and a server's close of an idle one is noticed at once
 *     (over TLS, a late session ticket is read and the connection stays).
 *  4. With an SSRF policy, every connection is checked on the address it connects to before
 *     connect(); the idle list therefore only ever holds checked connections.
 *  5. A no_replay request is written to at most one connection: when a reused connection dies
 *     after the request was (partly) written and before any answer, the call fails with
 *     not_resent instead of sending again.
 *  6. A connection is reused only by a request with the same peer address and the same TLS
 *     configuration (CA, client certificate and key, verification) as the one that opened it.
 * Threading: everything runs on the base's thread.
 */
#include "httpc/httpc_internal.h"
#include "httpc/httpc_resp.h"
#include "httpc/httpc_tls.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "ssrf/ssrf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_MAX_RESPONSE (8u * 1024u * 1024u)
#define MAX_REQUEST_HEAD (64u * 1024u)
#define READ_CHUNK (64u * 1024u)
/* reuse limits (libcurl's): a no_replay request takes only connections idle for at most
 * ~3 s, clear of common server idle timeouts; no request takes one idle for over 118 s */
#define NO_REPLAY_MAX_IDLE_MS 3000u
#define MAX_IDLE_MS 118000u

enum h1_phase { PH_RESOLVING, PH_CONNECTING, PH_HANDSHAKE, PH_SENDING, PH_RECEIVING };

/* conn_send / conn_recv results besides a byte count */
enum { IO_ERR = -1, IO_AGAIN = -2 };

struct h1_call;

struct h1_conn {
    struct gw_httpc_h1 *h;
    int fd;
    struct event *ev;
    short kind;                    /* registered interest (EV_READ / EV_WRITE), 0 = none */
    char host[256];                /* the URL's host (literal or name), its port and TLS
                                    * configuration (NULL: plain http): the idle list's key */
    uint16_t port;
    struct gw_httpc_tls *tls;
    SSL *ssl;                      /* TLS connections */
    char session_key[270];         /* TLS: "host:port", the key of its resumable session */
    struct h1_call *call;          /* the call it serves; NULL while idle (invariant 2) */
    struct h1_conn *prev, *next;   /* idle list, most recently used first */
    uint64_t idle_since_ms;
};

struct h1_call {
    struct httpc_call_tag tag; /* first member (httpc_internal.h) */
    struct gw_httpc_h1 *h;
    struct h1_call *prev, *next; /* h->pending */
    gw_httpc_done_fn done;
    void *arg;
    struct event *timer;         /* the deadline; activated by submit for an early failure */
    struct h1_conn *conn;
    enum h1_phase phase;
    char host[256];              /* the URL's host: SSRF host allowlist, SNI, TLS name check */
    uint16_t port;
    bool host_is_ip;
    struct sockaddr_storage sa;  /* the address being connected (the literal, or a resolved one) */
    socklen_t salen;
    struct h1_dns *dns;          /* a lookup in flight (PH_RESOLVING) */
    struct evutil_addrinfo *ai, *ai_next; /* resolved addresses, the next one to try */
    bool literal_tried;          /* an IP literal's one address was tried */
    const char *denied_class;    /* an address the SSRF guard refused (another may be tried) */
    char denied_reason[160];
    struct gw_httpc_tls *tls; /* https: the request's TLS configuration */
    struct gw_buf out;           /* the request as sent: head and body */
    size_t sent;
    struct gw_httpc_resp resp;   /* the answer being read */
    uint64_t start_us, deadline_ms, connect_deadline_ms;
    uint64_t attempt_deadline_ms; /* a name's address being connected gives way at this time to
                                   * the next one (0: no other address left, or connected) */
    long timeout_ms, connect_timeout_ms;
    int early;                   /* a failure found in submit (enum gw_httpc_status), 0 = none */
    bool no_replay, fresh;
    bool reused, connected, got_bytes, retried, keep_alive, not_resent;
    bool send_wants_read;        /* TLS: the pending write waits for the socket to be readable */
    char error[200];
};

struct gw_httpc_h1 {
    struct event_base *base;
    const struct gw_ssrf_policy *ssrf;
    struct h1_call *pending;
    size_t npending;
    struct h1_conn *idle, *idle_tail;
    size_t nidle, max_idle;
    char *rbuf; /* READ_CHUNK bytes: every receive lands here before the parser */
    struct gw_httpc_tls_set *tls; /* TLS configurations met so far */
    struct h1_resolver *dns;      /* libevent's resolver, made for the first host name */
    bool dns_failed;              /* it could not be made: names go to libcurl */
};

/* libevent's resolver, shared by the engine and its lookups in flight (a reference each): a
 * lookup abandoned by a call that ended (or by the engine's end) still calls back on a later
 * loop turn, and libevent reads the resolver then, so the resolver goes only with its last
 * reference, and never from inside a lookup's callback (the loop's next turn frees it). */
struct h1_resolver {
    struct evdns_base *evdns;
    struct event_base *base;
    unsigned refs;
};

/* A lookup's link to its call; the call drops it when it ends first (the lookup's callback
 * then only frees it). */
struct h1_dns {
    struct h1_call *call;
    struct h1_resolver *resolver; /* a reference */
    struct evdns_getaddrinfo_request *req;
    bool in_call, done; /* answered inside evdns_getaddrinfo: the answer waits here */
    int result;
    struct evutil_addrinfo *ai;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t now_ms(void)
{
    return now_us() / 1000u;
}

/* ---- URL ---- */

struct h1_url {
    char host[256];      /* the literal without brackets, or the name */
    uint16_t port;
    bool https;
    bool is_ip;
    struct sockaddr_storage sa;
    socklen_t salen;
    const char *path;    /* origin-form target; prefixed with "/" when it starts with '?' */
    size_t path_len;
    bool slash;          /* the target needs a leading "/" */
};

/* A host name as DNS and certificates know it: letters, digits, '-', '_' and dots, labels of
 * 1-63 characters, no trailing dot, a last label that does not start with a digit (WHATWG's
 * rule: such a host is an IPv4 address), not an address in any spelling inet_aton reads. */
static bool name_ok(const char *h)
{
    size_t label = 0;
    bool alpha = false;
    for (const char *p = h; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
        alpha |= !(c >= '0' && c <= '9');
        if (++label > 63)
            return false;
    }
    if (!alpha || label == 0 || h[0] == '-') /* label == 0: a trailing dot */
        return false;
    /* an IPv4 address in another spelling ("0x7f000001", "127.1", "0177.0.0.1") is an address
     * to libcurl and browsers alike, never a name: libcurl takes it (and the SSRF guard sees
     * the address) */
    struct in_addr a4;
    const char *last = strrchr(h, '.');
    last = last ? last + 1 : h;
    return inet_aton(h, &a4) == 0 && !(last[0] >= '0' && last[0] <= '9');
}

/* Parses http(s)://HOST[:port][/path][?query][#fragment] where HOST is an IPv4 or bracketed
 * IPv6 literal or a plain host name; false for anything else (user info, odd IPv4 spellings,
 * zone ids, empty ports, bytes a URL may not carry raw): those requests take libcurl, whose
 * URL parser decides. */
static bool parse_url(const char *url, struct h1_url *u)
{
    const char *a;
    if (strncasecmp(url, "http://", 7) == 0)
        a = url + 7, u->https = false;
    else if (strncasecmp(url, "https://", 8) == 0)
        a = url + 8, u->https = true;
    else
        return false;
    char authority[300]; /* host[:port] as written */
    size_t alen = strcspn(a, "/?#");
    if (alen == 0 || alen >= sizeof(authority) || memchr(a, '@', alen))
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    memcpy(authority, a, alen);
    authority[alen] = '\0';
    const char *port = NULL;
    size_t hlen;
    const char *hstart = authority;
    bool v6 = authority[0] == '[';
    if (v6) {
        const char *rb = strchr(authority, ']');
        if (!rb || (rb[1] != '\0' && rb[1] != ':'))
            return false;
        hstart = authority + 1;
        hlen = (size_t)(rb - hstart);
        port = rb[1] == ':' ? rb + 2 : NULL;
    } else {
        const char *colon = strchr(authority, ':');
        hlen = colon ? (size_t)(colon - authority) : alen;
        port = colon ? colon + 1 : NULL;
    }
    if (hlen == 0 || hlen >= sizeof(u->host))
        return false;
    memcpy(u->host, hstart, hlen);
    u->host[hlen] = '\0';
    unsigned long pn = u->https ? 443 : 80;
    if (port) {
        if (!*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
            return false;
        pn = strtoul(port, NULL, 10);
        if (pn == 0 || pn > 65535)
            return false;
    }
    u->port = (uint16_t)pn;
    memset(&u->sa, 0, sizeof(u->sa));
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&u->sa;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&u->sa;
    if (v6) {
        if (inet_pton(AF_INET6, u->host, &s6->sin6_addr) != 1)
            return false;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(u->port);
        u->salen = sizeof(*s6);
        u->is_ip = true;
    } else if (inet_pton(AF_INET, u->host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(u->port);
        u->salen = sizeof(*s4);
        u->is_ip = true;
    } else {
        if (!name_ok(u->host))
            return false;
        u->is_ip = false;
    }
    const char *t = a + alen;
    size_t tlen = strcspn(t, "#");
    u->slash = tlen == 0 || t[0] == '?';
    u->path = t;
    u->path_len = tlen;
    return true;
}

/* A caller header libcurl would treat specially (removal "Name:", "Name;" for an empty value,
 * framing it computes itself) keeps the request on libcurl. */
static bool header_plain(const char *line)
{
    const char *colon = strchr(line, ':');
    if (!colon || colon == line || strpbrk(line, "\r\n"))
        return false;
    size_t n = (size_t)(colon - line);
    if ((n == 14 && strncasecmp(line, "Content-Length", 14) == 0) ||
        (n == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0))
        return false;
    return true;
}

/* libevent's resolver for this engine, made when the first host name comes (resolv.conf and
 * the hosts file, as the system's resolver reads them); false when it cannot be made. */
static bool dns_ready(struct gw_httpc_h1 *h)
{
    if (!h->dns && !h->dns_failed) {
        struct evdns_base *e = evdns_base_new(h->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                                           EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        h->dns_failed = !e;
        if (e) {
            h->dns = gw_xcalloc(1, sizeof(*h->dns));
            h->dns->evdns = e;
            h->dns->base = h->base;
            h->dns->refs = 1;
        }
    }
    return h->dns != NULL;
}

static void resolver_free_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct h1_resolver *r = arg;
    evdns_base_free(r->evdns, 0);
    gw_free(r);
}

/* Drops a reference; the last one frees the resolver, at once (`now`, outside libevent's
 * callbacks) or on the loop's next turn. Should that turn never come (the loop is freed
 * first, at exit), the resolver is left behind rather than freed under libevent's feet. */
static void resolver_unref(struct h1_resolver *r, bool now)
{
    if (--r->refs)
        return;
    if (now) {
        resolver_free_cb(-1, 0, r);
        return;
    }
    struct timeval zero = {0, 0};
    (void)event_base_once(r->base, -1, EV_TIMEOUT, resolver_free_cb, r, &zero);
}

/* Whether this engine can carry `req` exactly as libcurl would (httpc_internal.h), with its
 * URL parsed into `u` when it can. */
static bool eligible(struct gw_httpc_h1 *h, const struct gw_httpc_request *req, struct h1_url *u)
{
    if (req->proxy || req->nparts || req->on_data || req->stall_timeout_s > 0 ||
        req->follow_redirects)
        return false;
    for (size_t i = 0; i < req->nheaders; i++)
        if (!header_plain(req->headers[i]))
            return false;
    return parse_url(req->url, u) && (u->is_ip || dns_ready(h));
}

/* ---- request ---- */

/* Whether a caller's header line names `name` (case-insensitive). */
static bool line_names(const char *line, const char *name, size_t n)
{
    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

/* The value of a header line is only blanks: libcurl sends no such header (it reads "Name:"
 * as "do not send Name"), and neither does this engine. */
static bool line_empty(const char *line)
{
    const char *v = strchr(line, ':') + 1;
    return v[strspn(v, " \t")] == '\0';
}

/* Writes the request into call->out as libcurl would send it: request line, Host, the
 * caller's headers, Accept and Accept-Encoding unless given, Content-Type (libcurl's default
 * when the caller gave none) and Content-Length for a body, no Expect. */
static int build_request(struct h1_call *call, const struct gw_httpc_request *req,
                         const struct h1_url *u, struct gw_error *err)
{
    struct gw_buf *b = &call->out;
    bool own_host = false, own_accept = false, own_ae = false, own_ctype = false;
    for (size_t i = 0; i < req->nheaders; i++) {
        const char *l = req->headers[i];
        own_host |= line_names(l, "Host", 4);
        own_accept |= line_names(l, "Accept", 6);
        own_ae |= line_names(l, "Accept-Encoding", 15);
        own_ctype |= line_names(l, "Content-Type", 12);
    }
    /* as libcurl: GET and HEAD never carry a body; POST always says its length (0 without a
     * body), other methods when they have a body */
    bool no_body = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    bool bodied = !no_body && (req->body || strcmp(req->method, "POST") == 0);
    size_t body_len = bodied && req->body ? req->body_len : 0;
    gw_buf_init(b, MAX_REQUEST_HEAD + body_len); /* the head's limit, then the body */
    (void)gw_buf_space(b, 512 + u->path_len + body_len); /* a usual request at once */
    int rc = gw_buf_adds(b, req->method);
    rc |= gw_buf_addc(b, ' ');
    if (u->slash)
        rc |= gw_buf_addc(b, '/');
    rc |= gw_buf_add(b, u->path, u->path_len);
    rc |= gw_buf_adds(b, " HTTP/1.1\r\n");
    if (!own_host) { /* as libcurl: the scheme's default port is left out */
        bool v6 = strchr(u->host, ':') != NULL;
        rc |= gw_buf_adds(b, v6 ? "Host: [" : "Host: ");
        rc |= gw_buf_adds(b, u->host);
        rc |= gw_buf_adds(b, v6 ? "]" : "");
        if (u->port != (u->https ? 443 : 80)) {
            rc |= gw_buf_addc(b, ':');
            rc |= gw_buf_add_u64(b, u->port);
        }
        rc |= gw_buf_adds(b, "\r\n");
    }
    for (size_t i = 0; i < req->nheaders; i++) {
        if (line_empty(req->headers[i]))
            continue;
        rc |= gw_buf_adds(b, req->headers[i]);
        rc |= gw_buf_adds(b, "\r\n");
    }
    if (!own_accept)
        rc |= gw_buf_adds(b, "Accept: */*\r\n");
    if (req->accept_encoding && !own_ae)
        rc |= gw_buf_adds(b, "Accept-Encoding: gzip, deflate\r\n");
    if (bodied) {
        if (!own_ctype) /* libcurl's default for a body without a type */
            rc |= gw_buf_adds(b, "Content-Type: application/x-www-form-urlencoded\r\n");
        rc |= gw_buf_adds(b, "Content-Length: ");
        rc |= gw_buf_add_u64(b, req->body ? req->body_len : 0);
        rc |= gw_buf_adds(b, "\r\n");
    }
    rc |= gw_buf_adds(b, "\r\n");
    if (rc != GW_OK || gw_buf_len(b) > MAX_REQUEST_HEAD)
        return GW_ERROR_SET(err, GW_ELIMIT, "request head over %u bytes", MAX_REQUEST_HEAD);
    if (body_len && gw_buf_add(b, req->body, body_len) != GW_OK)
        return GW_ERROR_SET(err, GW_ENOMEM, "cannot copy the request body");
    return GW_OK;
}

/* ---- connections ---- */

static void on_conn_event(evutil_socket_t fd, short what, void *arg);

/* Registers `kind` interest for the connection's socket, if it differs (invariant 3). */
static int conn_watch(struct h1_conn *cn, short kind)
{
    if (cn->kind == kind)
        return GW_OK;
    if (cn->kind)
        event_del(cn->ev);
    cn->kind = 0;
    event_assign(cn->ev, cn->h->base, cn->fd, (short)(kind | EV_PERSIST), on_conn_event, cn);
    if (event_add(cn->ev, NULL) != 0)
        return GW_EIO;
    cn->kind = kind;
    return GW_OK;
}

static void idle_unlink(struct gw_httpc_h1 *h, struct h1_conn *cn)
{
    if (cn->prev)
        cn->prev->next = cn->next;
    else
        h->idle = cn->next;
    if (cn->next)
        cn->next->prev = cn->prev;
    else
        h->idle_tail = cn->prev;
    cn->prev = cn->next = NULL;
    h->nidle--;
}

static void conn_close(struct h1_conn *cn)
{
    if (!cn)
        return;
    if (cn->ev)
        event_free(cn->ev); /* deletes a registered event */
    if (cn->ssl) {
        if (SSL_is_init_finished(cn->ssl))
            (void)SSL_shutdown(cn->ssl); /* close_notify, best effort: never waits */
        SSL_free(cn->ssl);
        ERR_clear_error();
    }
    if (cn->fd >= 0)
        close(cn->fd);
    gw_free(cn);
}

/* A finished keep-alive connection goes to the front of the idle list; the oldest idle one
 * is closed when the list is full. */
static void pool_put(struct gw_httpc_h1 *h, struct h1_conn *cn)
{
    cn->call = NULL;
    if (conn_watch(cn, EV_READ) != GW_OK) {
        conn_close(cn);
        return;
    }
    cn->idle_since_ms = now_ms();
    cn->prev = NULL;
    cn->next = h->idle;
    if (h->idle)
        h->idle->prev = cn;
    else
        h->idle_tail = cn;
    h->idle = cn;
    h->nidle++;
    if (h->nidle > h->max_idle) {
        struct h1_conn *old = h->idle_tail;
        idle_unlink(h, old);
        conn_close(old);
    }
}

/* The idle list's key: the URL's host as written (case-insensitive), port, TLS configuration. */
static bool same_peer(const struct h1_conn *cn, const struct h1_call *call)
{
    return cn->port == call->port && cn->tls == call->tls &&
           strcasecmp(cn->host, call->host) == 0;
}

/* The most recently used idle connection to the peer that is young enough; connections found
 * older than any request may take are closed on the way. */
static struct h1_conn *pool_take(struct gw_httpc_h1 *h, const struct h1_call *call)
{
    uint64_t now = now_ms();
    uint64_t max_age = call->no_replay ? NO_REPLAY_MAX_IDLE_MS : MAX_IDLE_MS;
    for (struct h1_conn *cn = h->idle, *next; cn; cn = next) {
        next = cn->next;
        uint64_t age = now - cn->idle_since_ms;
        if (age > MAX_IDLE_MS) {
            idle_unlink(h, cn);
            conn_close(cn);
            continue;
        }
        if (age <= max_age && same_peer(cn, call)) {
            idle_unlink(h, cn);
            return cn;
        }
    }
    return NULL;
}

/* ---- completion ---- */

static void call_unlink(struct h1_call *call)
{
    struct gw_httpc_h1 *h = call->h;
    if (call->prev)
        call->prev->next = call->next;
    else
        h->pending = call->next;
    if (call->next)
        call->next->prev = call->prev;
    h->npending--;
}

/* Abandons a lookup in flight: its callback will only free the link. */
static void dns_abandon(struct h1_call *call)
{
    struct h1_dns *d = call->dns;
    if (!d)
        return;
    call->dns = NULL;
    d->call = NULL;
    evdns_getaddrinfo_cancel(d->req);
}

static void call_free(struct h1_call *call)
{
    dns_abandon(call);
    if (call->ai)
        evutil_freeaddrinfo(call->ai);
    if (call->timer)
        event_free(call->timer);
    gw_httpc_resp_fini(&call->resp);
    gw_buf_fini(&call->out);
    gw_free(call);
}

/* Ends a call: its connection goes back to the idle list (a complete keep-alive exchange) or
 * is closed, the call is released, then the callback runs with the response (invariant 1). */
static void finish(struct h1_call *call, enum gw_httpc_status st)
{
    struct gw_httpc_h1 *h = call->h;
    struct h1_conn *cn = call->conn;
    call->conn = NULL;
    if (cn) {
        if (st == GW_HTTPC_OK && call->keep_alive && call->sent == gw_buf_len(&call->out))
            pool_put(h, cn);
        else
            conn_close(cn);
    }
    struct gw_httpc_response resp;
    memset(&resp, 0, sizeof(resp));
    char ctype[256];
    resp.status = st;
    long http = (long)gw_httpc_resp_status(&call->resp);
    resp.http_status = st == GW_HTTPC_OK || st == GW_HTTPC_ETOOLARGE ? http : 0;
    resp.connected = call->connected;
    resp.reused_connection = call->connected && call->reused;
    resp.total_us = (long)(now_us() - call->start_us);
    resp.not_resent = call->not_resent;
    resp.denied_class = st == GW_HTTPC_EDENIED ? call->denied_class : NULL;
    char errmsg[sizeof(call->error)]; /* the call is freed before the callback runs */
    memcpy(errmsg, call->error, sizeof(errmsg));
    resp.error = st == GW_HTTPC_OK ? "" : errmsg;
    struct gw_buf bodybuf, headers;
    gw_httpc_resp_take(&call->resp, &bodybuf, &headers);
    size_t blen = 0;
    char *body = gw_buf_take(&bodybuf, &blen);
    resp.body = body;
    resp.body_len = blen;
    resp._headers = gw_buf_ptr(&headers);
    resp._headers_len = gw_buf_len(&headers);
    resp.content_type = gw_httpc_response_header(&resp, "Content-Type", ctype, sizeof(ctype));
    gw_httpc_done_fn done = call->done;
    void *arg = call->arg;
    call_unlink(call);
    call_free(call);
    done(arg, &resp);
    if (!resp._body_taken)
        gw_free(body);
    gw_buf_fini(&headers);
}

/* finish() with a message. */
static void fail(struct h1_call *call, enum gw_httpc_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct h1_call *call, enum gw_httpc_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->error, sizeof(call->error), fmt, ap);
    va_end(ap);
    finish(call, st);
}

/* ---- the exchange ---- */

static void open_conn(struct h1_call *call, bool in_submit);
static void connect_next(struct h1_call *call, bool in_submit);

/* Fails a call from submit (deferred to the loop, invariant 1) or from the loop (now). */
static void fail_early(struct h1_call *call, bool in_submit, enum gw_httpc_status st)
{
    if (call->conn) {
        conn_close(call->conn);
        call->conn = NULL;
    }
    if (in_submit) {
        call->early = (int)st;
        event_active(call->timer, EV_TIMEOUT, 1);
        return;
    }
    finish(call, st);
}

/* ---- I/O on a connection, plain or TLS ---- */

/* One send: bytes written (> 0), IO_AGAIN with *want the readiness to wait for, or IO_ERR
 * with the reason in `why` (*tls set for a TLS failure). */
static ssize_t conn_send(struct h1_conn *cn, const char *p, size_t n, short *want, char *why,
                         size_t why_size, bool *tls)
{
    *tls = false;
    if (!cn->ssl) {
        for (;;) {
            ssize_t w = send(cn->fd, p, n, MSG_NOSIGNAL);
            if (w > 0)
                return w;
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                *want = EV_WRITE;
                return IO_AGAIN;
            }
            char eb[96];
            snprintf(why, why_size, "%s", w < 0 ? gw_strerror(errno, eb, sizeof(eb)) : "send 0");
            return IO_ERR;
        }
    }
    ERR_clear_error();
    int w = SSL_write(cn->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (w > 0)
        return w;
    int e = SSL_get_error(cn->ssl, w);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        *want = e == SSL_ERROR_WANT_WRITE ? EV_WRITE : EV_READ;
        return IO_AGAIN;
    }
    if (e == SSL_ERROR_SYSCALL && errno) {
        char eb[96];
        snprintf(why, why_size, "%s", gw_strerror(errno, eb, sizeof(eb)));
        ERR_clear_error();
        return IO_ERR;
    }
    *tls = true;
    gw_httpc_tls_error(cn->ssl, why, why_size);
    return IO_ERR;
}

/* One receive: bytes read (> 0), 0 at the peer's end, IO_AGAIN with *want, or IO_ERR with
 * the reason (*tls set for a TLS failure, such as a server's alert refusing our certificate).
 * A TLS peer that closes without close_notify is an end like any other: HTTP framing decides
 * whether the answer was whole. */
static ssize_t conn_recv(struct h1_conn *cn, char *p, size_t n, short *want, char *why,
                         size_t why_size, bool *tls)
{
    *tls = false;
    if (!cn->ssl) {
        for (;;) {
            ssize_t r = recv(cn->fd, p, n, 0);
            if (r >= 0)
                return r;
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                *want = EV_READ;
                return IO_AGAIN;
            }
            char eb[96];
            snprintf(why, why_size, "%s", gw_strerror(errno, eb, sizeof(eb)));
            return IO_ERR;
        }
    }
    ERR_clear_error();
    int r = SSL_read(cn->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0)
        return r;
    int e = SSL_get_error(cn->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        *want = e == SSL_ERROR_WANT_WRITE ? EV_WRITE : EV_READ;
        return IO_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (!errno) {
            ERR_clear_error();
            return 0;
        }
        {
            char eb[96];
            snprintf(why, why_size, "%s", gw_strerror(errno, eb, sizeof(eb)));
        }
        ERR_clear_error();
        return IO_ERR;
    default:
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            return 0;
        }
        *tls = true;
        gw_httpc_tls_error(cn->ssl, why, why_size);
        return IO_ERR;
    }
}

/* ---- the exchange ---- */

/* The connection broke before the answer began (a send failed, or the peer closed or reset it
 * before its first byte). A reused connection may just have been closed by the server while
 * idle: the request goes once more on a new connection, unless it is an at-most-once request
 * that was already (partly) written (invariant 5). A TLS failure on a new connection (a
 * server refusing our certificate after the handshake) is reported as such. */
static void conn_broke(struct h1_call *call, bool in_submit, const char *why, bool tls)
{
    if (call->reused && !call->retried && !call->got_bytes) {
        if (call->no_replay && call->sent > 0) {
            call->not_resent = true;
            snprintf(call->error, sizeof(call->error),
                     "the connection died before an answer (%s); the automatic re-send of this "
                     "request on a new connection was refused (no_replay)", why);
            fail_early(call, in_submit, GW_HTTPC_ECONNECT);
            return;
        }
        call->retried = true;
        conn_close(call->conn);
        call->conn = NULL;
        call->reused = false;
        call->sent = 0;
        open_conn(call, in_submit);
        return;
    }
    if (tls) {
        snprintf(call->error, sizeof(call->error), "%s", why);
        fail_early(call, in_submit, GW_HTTPC_ETLS);
        return;
    }
    if (call->got_bytes)
        snprintf(call->error, sizeof(call->error),
                 "the connection closed in the middle of the response (%s)", why);
    else
        snprintf(call->error, sizeof(call->error), "no response from the upstream (%s)", why);
    fail_early(call, in_submit, call->got_bytes ? GW_HTTPC_EPROTO : GW_HTTPC_ECONNECT);
}

/* Writes what is left of the request; waits for readiness when the socket (or TLS) is full. */
static void send_request(struct h1_call *call, bool in_submit)
{
    struct h1_conn *cn = call->conn;
    call->phase = PH_SENDING;
    const char *p = gw_buf_ptr(&call->out);
    size_t len = gw_buf_len(&call->out);
    while (call->sent < len) {
        short want = 0;
        bool tls = false;
        char why[160];
        ssize_t n = conn_send(cn, p + call->sent, len - call->sent, &want, why, sizeof(why), &tls);
        if (n > 0) {
            call->sent += (size_t)n;
            continue;
        }
        if (n == IO_AGAIN) {
            call->send_wants_read = want == EV_READ;
            if (conn_watch(cn, (short)(EV_READ | want)) != GW_OK) {
                snprintf(call->error, sizeof(call->error), "cannot watch the connection");
                fail_early(call, in_submit, GW_HTTPC_ECONNECT);
            }
            return;
        }
        conn_broke(call, in_submit, why, tls);
        return;
    }
    call->phase = PH_RECEIVING;
    if (conn_watch(cn, EV_READ) != GW_OK) {
        snprintf(call->error, sizeof(call->error), "cannot watch the connection");
        fail_early(call, in_submit, GW_HTTPC_ECONNECT);
    }
}

/* Arms the call's timer for the absolute time `at_ms` (now if past). */
static void arm_at(struct h1_call *call, uint64_t at_ms)
{
    uint64_t now = now_ms();
    uint64_t left = at_ms > now ? at_ms - now : 0;
    struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
    evtimer_add(call->timer, &tv);
}

/* When the connect phase ends: the connect deadline, or the whole call's if that comes first. */
static uint64_t connect_limit_ms(const struct h1_call *call)
{
    return call->connect_deadline_ms < call->deadline_ms ? call->connect_deadline_ms
                                                         : call->deadline_ms;
}

/* Connection set up (TCP, and TLS for https): the connect deadline no longer applies. */
static void established(struct h1_call *call)
{
    if (call->connect_deadline_ms < call->deadline_ms) /* the timer watched the connect */
        arm_at(call, call->deadline_ms);
    send_request(call, false);
}

/* Drives the TLS handshake of a new connection as readiness allows. */
static void handshake(struct h1_call *call)
{
    struct h1_conn *cn = call->conn;
    ERR_clear_error();
    int r = SSL_do_handshake(cn->ssl);
    if (r == 1) {
        if (conn_watch(cn, EV_READ) != GW_OK) {
            fail(call, GW_HTTPC_ECONNECT, "cannot watch the connection");
            return;
        }
        established(call);
        return;
    }
    int e = SSL_get_error(cn->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (conn_watch(cn, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE) != GW_OK)
            fail(call, GW_HTTPC_ECONNECT, "cannot watch the connection");
        return;
    }
    char why[200];
    if (e == SSL_ERROR_SYSCALL && !ERR_peek_error())
        snprintf(why, sizeof(why), "TLS handshake: the connection closed");
    else
        gw_httpc_tls_error(cn->ssl, why, sizeof(why));
    fail(call, GW_HTTPC_ETLS, "%s", why);
}

/* The connect finished (or failed): on to the TLS handshake, or to sending; a failed address
 * gives way to the next one. */
static void connected(struct h1_call *call)
{
    struct h1_conn *cn = call->conn;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (getsockopt(cn->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        soerr = errno;
    if (soerr) {
        char eb[96];
        snprintf(call->error, sizeof(call->error), "cannot connect to the upstream: %s",
                 gw_strerror(soerr, eb, sizeof(eb)));
        conn_close(cn);
        call->conn = NULL;
        connect_next(call, false);
        return;
    }
    call->connected = true;
    if (call->attempt_deadline_ms) { /* the rest of the connect time, for the TLS handshake */
        call->attempt_deadline_ms = 0;
        arm_at(call, connect_limit_ms(call));
    }
    if (!call->tls) {
        established(call);
        return;
    }
    char why[200];
    snprintf(cn->session_key, sizeof(cn->session_key), "%s:%u", cn->host, (unsigned)cn->port);
    cn->ssl = gw_httpc_tls_new_ssl(call->tls, call->host, call->host_is_ip, cn->session_key,
                                   cn->fd, why, sizeof(why));
    if (!cn->ssl) {
        fail(call, GW_HTTPC_ETLS, "%s", why);
        return;
    }
    call->phase = PH_HANDSHAKE;
    handshake(call);
}

/* Starts connecting to call->sa: true when under way (connected() follows), false with the
 * reason in call->error when this address failed at once. */
static bool connect_to(struct h1_call *call)
{
    struct gw_httpc_h1 *h = call->h;
    int fd = socket(call->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        char eb[96];
        snprintf(call->error, sizeof(call->error), "cannot open a socket: %s",
                 gw_strerror(errno, eb, sizeof(eb)));
        return false;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    struct h1_conn *cn = gw_xcalloc(1, sizeof(*cn));
    cn->h = h;
    cn->fd = fd;
    memcpy(cn->host, call->host, sizeof(cn->host));
    cn->port = call->port;
    cn->tls = call->tls;
    cn->call = call;
    cn->ev = event_new(h->base, -1, 0, on_conn_event, cn);
    call->conn = cn;
    if (!cn->ev) {
        snprintf(call->error, sizeof(call->error), "cannot watch the connection");
        goto failed;
    }
    if (connect(fd, (const struct sockaddr *)&call->sa, call->salen) != 0 &&
        errno != EINPROGRESS) {
        char eb[96];
        snprintf(call->error, sizeof(call->error), "cannot connect to the upstream: %s",
                 gw_strerror(errno, eb, sizeof(eb)));
        goto failed;
    }
    if (conn_watch(cn, EV_WRITE) != GW_OK) {
        snprintf(call->error, sizeof(call->error), "cannot watch the connection");
        goto failed;
    }
    return true; /* connected() runs on write readiness, also after an immediate success */
failed:
    conn_close(cn);
    call->conn = NULL;
    return false;
}

/* Whether a resolved address is one the engine can connect to (IPv4 or IPv6, fits call->sa). */
static bool usable_addr(const struct h1_call *call, const struct evutil_addrinfo *ai)
{
    return (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
           ai->ai_addrlen <= sizeof(call->sa);
}

/* A connect to one of a name's addresses is under way. With more addresses left, as libcurl
 * does, it gets an equal share of the connect time left (an address that never answers, a
 * firewall dropping the SYN, must not use up the whole connect timeout while another address
 * would answer): the timer then fires at the end of the share and on_call_timer moves to the
 * next address. The last address gets all the time left. */
static void share_connect_time(struct h1_call *call)
{
    if (call->host_is_ip)
        return;
    size_t left = 0;
    for (const struct evutil_addrinfo *ai = call->ai_next; ai; ai = ai->ai_next)
        left += usable_addr(call, ai);
    uint64_t now = now_ms(), limit = connect_limit_ms(call);
    bool had_share = call->attempt_deadline_ms != 0;
    call->attempt_deadline_ms = 0;
    if (left && limit > now) {
        call->attempt_deadline_ms = now + (limit - now) / (left + 1);
        arm_at(call, call->attempt_deadline_ms);
    } else if (had_share) {
        arm_at(call, limit); /* the timer was set for the previous address's share */
    }
}

/* Connects to the next address: the literal (once), or the next resolved one. The SSRF guard
 * checks each before connect() (invariant 4); refused ones are skipped. When none is left the
 * call fails: EDENIED if the guard refused one (nothing was sent anywhere), else ECONNECT with
 * the last address's reason. */
static void connect_next(struct h1_call *call, bool in_submit)
{
    struct gw_httpc_h1 *h = call->h;
    call->phase = PH_CONNECTING;
    for (;;) {
        if (call->host_is_ip) {
            if (call->literal_tried)
                break;
            call->literal_tried = true;
        } else {
            struct evutil_addrinfo *ai = call->ai_next;
            if (!ai)
                break;
            call->ai_next = ai->ai_next;
            if (!usable_addr(call, ai))
                continue;
            memcpy(&call->sa, ai->ai_addr, ai->ai_addrlen);
            call->salen = (socklen_t)ai->ai_addrlen;
        }
        if (h->ssrf) {
            struct gw_error e;
            gw_error_clear(&e);
            const struct sockaddr *sa = (const struct sockaddr *)&call->sa;
            if (gw_ssrf_check(h->ssrf, call->host, sa, &e) != GW_OK) {
                call->denied_class = gw_ssrf_class_name(gw_ssrf_classify(sa));
                snprintf(call->denied_reason, sizeof(call->denied_reason), "%.150s", e.msg);
                continue;
            }
        }
        if (connect_to(call)) {
            share_connect_time(call);
            return;
        }
    }
    if (call->denied_class) {
        snprintf(call->error, sizeof(call->error), "%s", call->denied_reason);
        fail_early(call, in_submit, GW_HTTPC_EDENIED);
        return;
    }
    if (!call->error[0])
        snprintf(call->error, sizeof(call->error), "no usable address for '%.100s'", call->host);
    fail_early(call, in_submit, GW_HTTPC_ECONNECT);
}

/* The lookup answered: on to the addresses, or EDNS. */
static void resolved(struct h1_call *call, int result, struct evutil_addrinfo *ai, bool in_submit)
{
    if (result != 0) {
        if (ai)
            evutil_freeaddrinfo(ai);
        snprintf(call->error, sizeof(call->error), "cannot resolve '%.100s': %s", call->host,
                 evutil_gai_strerror(result));
        fail_early(call, in_submit, GW_HTTPC_EDNS);
        return;
    }
    if (call->ai)
        evutil_freeaddrinfo(call->ai);
    call->ai = ai;
    call->ai_next = ai;
    connect_next(call, in_submit);
}

static void on_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
    struct h1_dns *d = arg;
    if (d->in_call) { /* answered inside evdns_getaddrinfo: resolve() takes it from here */
        d->done = true;
        d->result = result;
        d->ai = ai;
        return;
    }
    struct h1_call *call = d->call;
    resolver_unref(d->resolver, false); /* inside libevent's callback: never freed now */
    gw_free(d);
    if (!call) { /* the call ended first */
        if (ai)
            evutil_freeaddrinfo(ai);
        return;
    }
    call->dns = NULL;
    resolved(call, result, ai, false);
}

/* Looks the host name up on libevent's resolver (the call's deadline bounds it). */
static void resolve(struct h1_call *call, bool in_submit)
{
    call->phase = PH_RESOLVING;
    struct h1_dns *d = gw_xcalloc(1, sizeof(*d));
    d->call = call;
    d->resolver = call->h->dns;
    d->resolver->refs++;
    call->dns = d;
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)call->port);
    d->in_call = true;
    d->req = evdns_getaddrinfo(d->resolver->evdns, call->host, port, &hints, on_resolved, d);
    d->in_call = false;
    if (d->done) { /* the hosts file, a cached answer or an immediate failure */
        int result = d->result;
        struct evutil_addrinfo *ai = d->ai;
        call->dns = NULL;
        resolver_unref(d->resolver, true); /* the engine holds another reference */
        gw_free(d);
        resolved(call, result, ai, in_submit);
    }
}

/* Opens a new connection for the call: the literal's address, the addresses found before
 * (a retry), or a lookup first. */
static void open_conn(struct h1_call *call, bool in_submit)
{
    call->error[0] = '\0';
    call->denied_class = NULL;
    if (call->host_is_ip) {
        call->literal_tried = false;
        connect_next(call, in_submit);
    } else if (call->ai) {
        call->ai_next = call->ai;
        connect_next(call, in_submit);
    } else {
        resolve(call, in_submit);
    }
}

/* The reader refused the answer: the call fails with its status and message. */
static void answer_refused(struct h1_call *call)
{
    const char *msg = NULL;
    enum gw_httpc_status st = gw_httpc_resp_failure(&call->resp, &msg);
    fail(call, st, "%s", msg);
}

/* Data (or the end) arrived on a connection serving a call. */
static void receive(struct h1_call *call)
{
    struct gw_httpc_h1 *h = call->h;
    struct h1_conn *cn = call->conn;
    for (;;) {
        short want = 0;
        bool tls = false;
        char why[160];
        ssize_t n = conn_recv(cn, h->rbuf, READ_CHUNK, &want, why, sizeof(why), &tls);
        if (n == IO_AGAIN) {
            if (conn_watch(cn, (short)(EV_READ | want)) != GW_OK)
                fail(call, GW_HTTPC_ECONNECT, "cannot watch the connection");
            return;
        }
        if (n == IO_ERR) {
            conn_broke(call, false, why, tls);
            return;
        }
        enum gw_httpc_resp_rc rc;
        size_t used = 0;
        if (n == 0) {
            if (!call->got_bytes) {
                conn_broke(call, false, "closed by the peer", false);
                return;
            }
            rc = gw_httpc_resp_eof(&call->resp);
        } else {
            call->got_bytes = true;
            rc = gw_httpc_resp_feed(&call->resp, h->rbuf, (size_t)n, &used);
        }
        if (rc == GW_HTTPC_RESP_DONE) {
            /* stray bytes after the answer, or an answer delimited by the close: not reusable */
            call->keep_alive = gw_httpc_resp_keep_alive(&call->resp) && n > 0 &&
                               used == (size_t)n && !(cn->ssl && SSL_has_pending(cn->ssl));
            finish(call, GW_HTTPC_OK);
            return;
        }
        if (rc == GW_HTTPC_RESP_FAIL) {
            answer_refused(call);
            return;
        }
        /* the rest, if any, comes with the next readiness; TLS may hold decrypted bytes the
         * socket no longer signals */
        if ((size_t)n < READ_CHUNK && !(cn->ssl && SSL_has_pending(cn->ssl)))
            return;
    }
}

/* An idle connection turned readable: the server closed it (or sent what nobody asked for),
 * so it is not reusable; unless TLS only had housekeeping to read (a TLS 1.3 session ticket
 * arriving late), which leaves it idle and usable. */
static void idle_readable(struct h1_conn *cn)
{
    if (cn->ssl) {
        char b;
        ERR_clear_error();
        int r = SSL_read(cn->ssl, &b, 1);
        if (r <= 0 && SSL_get_error(cn->ssl, r) == SSL_ERROR_WANT_READ)
            return;
        ERR_clear_error();
    }
    idle_unlink(cn->h, cn);
    conn_close(cn);
}

static void on_conn_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct h1_conn *cn = arg;
    struct h1_call *call = cn->call;
    if (!call) {
        idle_readable(cn);
        return;
    }
    switch (call->phase) {
    case PH_RESOLVING: /* no connection yet */
        return;
    case PH_CONNECTING:
        if (what & EV_WRITE)
            connected(call);
        return;
    case PH_HANDSHAKE:
        handshake(call);
        return;
    case PH_SENDING:
        if ((what & EV_READ) && !call->send_wants_read) {
            /* the server answered (or closed) before taking the whole request: the rest is
             * not sent, and the connection is not reused (finish). (Over TLS a write may wait
             * for a read, send_wants_read: then readability means "write again".) */
            call->phase = PH_RECEIVING;
            if (conn_watch(cn, EV_READ) != GW_OK) {
                fail(call, GW_HTTPC_ECONNECT, "cannot watch the connection");
                return;
            }
            receive(call);
            return;
        }
        send_request(call, false);
        return;
    case PH_RECEIVING:
        receive(call);
        return;
    }
}

/* The call's timer: an early failure from submit, or a deadline. */
static void on_call_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct h1_call *call = arg;
    if (call->early) {
        finish(call, (enum gw_httpc_status)call->early);
        return;
    }
    if (call->phase == PH_CONNECTING && call->attempt_deadline_ms) {
        /* this address's share of the connect time is over: on to the next one */
        char addr[INET6_ADDRSTRLEN] = "?";
        (void)getnameinfo((const struct sockaddr *)&call->sa, call->salen, addr, sizeof(addr),
                          NULL, 0, NI_NUMERICHOST);
        snprintf(call->error, sizeof(call->error),
                 "cannot connect to the upstream: no answer from %s in its share of the "
                 "connect timeout",
                 addr);
        conn_close(call->conn);
        call->conn = NULL;
        call->attempt_deadline_ms = 0;
        arm_at(call, connect_limit_ms(call)); /* connect_next may give the next one a share */
        connect_next(call, false);
        return;
    }
    if (call->phase == PH_RESOLVING)
        fail(call, GW_HTTPC_ETIMEOUT, "resolving '%.100s' timed out after %ld ms", call->host,
             call->connect_deadline_ms < call->deadline_ms ? call->connect_timeout_ms
                                                           : call->timeout_ms);
    else if ((call->phase == PH_CONNECTING || call->phase == PH_HANDSHAKE) &&
             call->connect_deadline_ms < call->deadline_ms)
        fail(call, GW_HTTPC_ETIMEOUT, "connection timed out after %ld ms",
             call->connect_timeout_ms);
    else
        fail(call, GW_HTTPC_ETIMEOUT, "operation timed out after %ld ms", call->timeout_ms);
}

/* ---- engine ---- */

struct gw_httpc_h1 *gw_httpc_h1_new(struct event_base *base, const struct gw_ssrf_policy *ssrf,
                                    size_t max_idle, struct gw_error *err)
{
    (void)err;
    struct gw_httpc_h1 *h = gw_xcalloc(1, sizeof(*h));
    h->base = base;
    h->ssrf = ssrf;
    h->max_idle = max_idle ? max_idle : 256;
    h->rbuf = gw_xmalloc(READ_CHUNK);
    h->tls = gw_httpc_tls_set_new();
    return h;
}

void gw_httpc_h1_free(struct gw_httpc_h1 *h)
{
    if (!h)
        return;
    while (h->pending)
        gw_httpc_h1_cancel((struct gw_httpc_call *)(void *)h->pending);
    while (h->idle) {
        struct h1_conn *cn = h->idle;
        idle_unlink(h, cn);
        conn_close(cn);
    }
    if (h->dns) /* lookups abandoned above still hold it until they call back */
        resolver_unref(h->dns, true);
    gw_httpc_tls_set_free(h->tls);
    gw_free(h->rbuf);
    gw_free(h);
}

size_t gw_httpc_h1_pending(const struct gw_httpc_h1 *h)
{
    return h ? h->npending : 0;
}

void gw_httpc_h1_cancel(struct gw_httpc_call *handle)
{
    struct h1_call *call = (struct h1_call *)(void *)handle;
    if (!call)
        return;
    conn_close(call->conn); /* mid-exchange: never reusable */
    call->conn = NULL;
    call_unlink(call);
    call_free(call);
}

int gw_httpc_h1_submit(struct gw_httpc_h1 *h, const struct gw_httpc_request *req,
                       gw_httpc_done_fn done, void *arg, struct gw_httpc_call **out_call,
                       bool *taken, struct gw_error *err)
{
    struct h1_url u;
    *taken = eligible(h, req, &u);
    if (!*taken)
        return GW_OK; /* libcurl's */
    struct h1_call *call = gw_xcalloc(1, sizeof(*call));
    call->tag.engine = HTTPC_ENGINE_H1;
    call->h = h;
    call->done = done;
    call->arg = arg;
    call->sa = u.sa;
    call->salen = u.salen;
    call->port = u.port;
    call->host_is_ip = u.is_ip;
    memcpy(call->host, u.host, sizeof(call->host));
    gw_httpc_resp_init(&call->resp,
                       req->max_response_bytes ? req->max_response_bytes : DEFAULT_MAX_RESPONSE,
                       strcmp(req->method, "HEAD") == 0, req->accept_encoding);
    call->no_replay = req->no_replay;
    call->fresh = req->fresh_connect;
    call->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
    call->connect_timeout_ms =
        req->connect_timeout_ms > 0 ? req->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    int rc = build_request(call, req, &u, err);
    call->timer = evtimer_new(h->base, on_call_timer, call);
    if (rc == GW_OK && !call->timer)
        rc = GW_ERROR_SET(err, GW_ENOMEM, "cannot create the call's timer");
    if (rc != GW_OK) {
        call_free(call);
        return rc;
    }
    call->start_us = now_us();
    uint64_t start = call->start_us / 1000u;
    call->deadline_ms = start + (uint64_t)call->timeout_ms;
    call->connect_deadline_ms = start + (uint64_t)call->connect_timeout_ms;
    call->next = h->pending;
    if (h->pending)
        h->pending->prev = call;
    h->pending = call;
    h->npending++;
    if (out_call)
        *out_call = (struct gw_httpc_call *)(void *)call;

    if (u.https) {
        char why[200];
        call->tls = gw_httpc_tls_get(h->tls, req, why, sizeof(why));
        if (!call->tls) { /* a CA, certificate or key that cannot be loaded */
            snprintf(call->error, sizeof(call->error), "%s", why);
            fail_early(call, true, GW_HTTPC_ETLS);
            return GW_OK;
        }
    }
    struct h1_conn *cn = call->fresh ? NULL : pool_take(h, call);
    long first = call->timeout_ms;
    if (!cn && call->connect_timeout_ms < first)
        first = call->connect_timeout_ms;
    struct timeval tv = {first / 1000, (first % 1000) * 1000};
    evtimer_add(call->timer, &tv);
    if (cn) {
        cn->call = call;
        call->conn = cn;
        call->reused = true;
        call->connected = true;
        call->connect_deadline_ms = UINT64_MAX; /* no connect phase */
        send_request(call, true);
    } else {
        open_conn(call, true);
    }
    return GW_OK;
}
