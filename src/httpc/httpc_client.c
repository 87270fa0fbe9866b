/*
 * src/httpc/httpc_client.c
 * The client's public API and its libcurl engine: gw_httpc_submit validates a request and hands
 * it to the native HTTP/1.1 engine when that can carry it (httpc_h1.c, gw_httpc_h1_submit),
 * to libcurl otherwise; gw_httpc_cancel routes a call by its engine tag. The libcurl engine is
 * the multi-socket API on a libevent base: the glue (socket and timer callbacks), the per-call
 * state, response capture under a size cap, and error classification.
 *
 * Call lifecycle (one struct gw_httpc_call):
 *
 *     submit ──► PENDING ──(curl reports DONE: complete())──► callback ──► freed
 *                   │
 *                   └──(gw_httpc_cancel)──► freed, no callback
 *
 * Invariants:
 *  1. A call is on c->pending exactly while its easy handle is in the multi.
 *  2. Callbacks only run from complete(), which only runs from check_done(), which only runs from
 *     libevent callbacks (socket readiness, curl's timer). So never from inside submit.
 *  3. curl_multi_socket_action is never re-entered: callbacks run after it returns.
 *  4. Easy handles are recycled (curl_easy_reset) up to max_idle_handles; connections live in the
 *     multi's cache, so reuse does not depend on the easy handle.
 *  5. With an SSRF policy, every socket the client opens passes gw_ssrf_check first
 *     (CURLOPT_OPENSOCKETFUNCTION); the cache only ever holds connections opened that way.
 *  6. A no_replay request reaches DO (sends) at most once: CURLOPT_PREREQFUNCTION, which libcurl
 *     calls before every send of a transfer, including its own re-send after a dead reused
 *     connection (libcurl 7.80+; verified in 7.88 multi.c MSTATE_DO / Curl_retry_request).
 *  7. An established connection's socket stays registered with libevent until curl closes it
 *     (CURLOPT_CLOSESOCKETFUNCTION, set on every handle): when curl stops watching a kept-alive
 *     connection (POLL_REMOVE) its read interest is left in place, marked unwatched, so the
 *     next transfer on it costs no epoll_ctl; readiness of an unwatched socket (the server
 *     closed it while idle) deregisters it once, and curl finds it dead at reuse. Only sockets
 *     curl watches for reading after the transfer's connect phase qualify: those are published
 *     connection sockets, which libcurl always closes through the callback. Every other socket
 *     (connect attempts, the threaded resolver's socketpair, which libcurl closes itself) is
 *     deregistered and forgotten at POLL_REMOVE, as before.
 * Threading: everything runs on the base's thread; the only process-wide state is the
 * curl_global_init guard.
 */
#include "httpc/httpc_client.h"
#include "httpc/httpc_internal.h"

#define HTTPC_DEFAULT_MAXCONNECTS 256

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "ssrf/ssrf.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_MAX_RESPONSE (8u * 1024u * 1024u)
#define DEFAULT_IDLE_HANDLES 64
#define MAX_HEADER_BYTES (32u * 1024u)
#define MAX_REQUEST_HEADERS 256
#if LIBCURL_VERSION_NUM < 0x075000
#error "no_replay needs CURLOPT_PREREQFUNCTION (libcurl 7.80 or later)"
#endif
/* no_replay requests reuse only connections idle for at most this many seconds (libcurl
 * compares whole seconds with '>', so up to ~3 s) */
#define NO_REPLAY_MAX_IDLE_S 2L

struct gw_httpc_call {
    struct httpc_call_tag tag; /* first member: HTTPC_ENGINE_CURL (httpc_internal.h) */
    struct gw_httpc *c;
    CURL *easy;
    struct curl_slist *hdrs;
    curl_mime *mime;
    gw_httpc_done_fn done;
    void *arg;
    struct gw_buf body;
    struct gw_buf headers;
    size_t max_bytes;
    bool too_large;
    bool oom;
    bool (*on_data)(void *, const char *, size_t);
    void *data_arg;
    size_t streamed;     /* bytes handed to on_data */
    bool stopped;        /* on_data returned false */
    int streaming;       /* 0 undecided, 1 streaming this response, -1 collecting it */
    bool no_replay;
    bool replay_refused; /* libcurl tried to send a no_replay request a second time */
    unsigned sends;      /* PREREQFUNCTION calls (no_replay only) */
    bool denied;         /* the SSRF guard refused an address */
    const char *denied_class;
    char deny_reason[160];
    char errbuf[CURL_ERROR_SIZE];
    struct gw_httpc_call *prev, *next;
};

/* Per-socket libevent registration, from the first watch until curl closes the socket
 * (invariant 7); found by descriptor in c->socks. */
struct sockctx {
    struct gw_httpc *c;
    struct event *ev; /* NULL until the first watch */
    curl_socket_t fd;
    short kind;   /* the registered interest (EV_READ|EV_WRITE), 0 = not registered */
    bool watched; /* curl wants events on it (between a POLL_IN/OUT and POLL_REMOVE) */
    bool conn;    /* an established connection: kept registered across POLL_REMOVE */
};

struct gw_httpc {
    struct event_base *base;
    CURLM *multi;
    CURLSH *share; /* TLS session cache shared by this client's handles */
    struct event *timer;
    struct gw_httpc_call *pending;
    size_t npending;
    CURL **idle;
    size_t nidle, max_idle;
    const struct gw_ssrf_policy *ssrf; /* borrowed; NULL = connections are not checked */
    struct sockctx **socks; /* by descriptor: every socket curl opened and has not closed */
    size_t nsocks;
    struct gw_httpc_h1 *h1; /* the native engine for plain requests; NULL = libcurl only */
    unsigned long long native_calls, curl_calls; /* submitted to each engine */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc = GW_ERR;
static char global_msg[160];

/* Runs once per process: curl_global_init is not thread-safe, and the resolver check belongs
 * here so that a build without asynchronous DNS is refused at start-up, not discovered as a
 * stalled worker under load. */
static void global_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(global_msg, sizeof(global_msg), "curl_global_init failed");
        return;
    }
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    if (!(vi->features & CURL_VERSION_ASYNCHDNS)) {
        snprintf(global_msg, sizeof(global_msg),
                 "libcurl %s has no asynchronous DNS resolver: lookups would block a worker",
                 vi->version);
        return;
    }
    if (!(vi->features & CURL_VERSION_SSL))
        GW_LOG(GW_LOG_WARN, "httpc", "libcurl %s has no TLS support: https upstreams will fail",
               vi->version);
    global_rc = GW_OK;
}

int gw_httpc_global_init(struct gw_error *err)
{
    pthread_once(&global_once, global_init_once);
    if (global_rc != GW_OK)
        return GW_ERROR_SET(err, GW_ERR, "%s", global_msg);
    return GW_OK;
}

/* ---- libevent <-> curl glue ---- */

static void check_done(struct gw_httpc *c);

/* libevent says a socket is ready: tell curl which directions, then deliver any transfers
 * that finished as a result. An idle kept-alive connection that turns readable (the server
 * closed it) is deregistered instead; curl notices at reuse that it is dead. */
static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct sockctx *sc = arg;
    struct gw_httpc *c = sc->c;
    if (!sc->watched) {
        event_del(sc->ev);
        sc->kind = 0;
        return;
    }
    int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
                 ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    curl_multi_socket_action(c->multi, fd, action, &running);
    check_done(c);
}

/* curl's single timer expired: let curl run its timeouts (connect, total, retries of its own). */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_httpc *c = arg;
    int running = 0;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

/* CURLMOPT_TIMERFUNCTION: curl asks for one timer; -1 deletes it, 0 means "as soon as
 * possible" (which must not be acted on from inside this callback). */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct gw_httpc *c = userp;
    if (timeout_ms < 0) {
        evtimer_del(c->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
    return 0;
}

/* Releases the libevent registration of one socket. */
static void sockctx_free(struct sockctx *sc)
{
    if (!sc)
        return;
    if (sc->ev)
        event_free(sc->ev);
    gw_free(sc);
}

/* The registration of socket `s`, created on first use. */
static struct sockctx *sockctx_get(struct gw_httpc *c, curl_socket_t s)
{
    size_t i = (size_t)s;
    if (i >= c->nsocks) {
        size_t n = c->nsocks ? c->nsocks : 64;
        while (n <= i)
            n *= 2;
        c->socks = gw_xrealloc(c->socks, n * sizeof(*c->socks));
        memset(c->socks + c->nsocks, 0, (n - c->nsocks) * sizeof(*c->socks));
        c->nsocks = n;
    }
    if (!c->socks[i]) {
        struct sockctx *sc = gw_xcalloc(1, sizeof(*sc));
        sc->c = c;
        sc->fd = s;
        c->socks[i] = sc;
    }
    return c->socks[i];
}

/* CURLMOPT_SOCKETFUNCTION: curl's interest in a socket. Registers or changes the libevent
 * registration only when the interest differs from what is registered (invariant 7). */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)socketp;
    struct gw_httpc *c = userp;
    if (s < 0)
        return 0;
    struct sockctx *sc = sockctx_get(c, s);
    if (what == CURL_POLL_REMOVE) {
        sc->watched = false;
        if (!sc->conn || sc->kind != EV_READ) { /* not one to keep: forget it (invariant 7) */
            sockctx_free(sc);
            c->socks[s] = NULL;
        }
        return 0;
    }
    sc->watched = true;
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) ? EV_WRITE : 0));
    if (kind == EV_READ && !sc->conn) {
        /* read interest after the connect phase: the transfer's own connection */
        curl_off_t pre = 0;
        sc->conn = curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pre) == CURLE_OK &&
                   pre > 0;
    }
    if (kind == sc->kind)
        return 0;
    if (sc->kind)
        event_del(sc->ev);
    sc->kind = 0;
    if (!sc->ev)
        sc->ev = event_new(c->base, s, (short)(kind | EV_PERSIST), on_socket_event, sc);
    else
        event_assign(sc->ev, c->base, s, (short)(kind | EV_PERSIST), on_socket_event, sc);
    if (!sc->ev || event_add(sc->ev, NULL) != 0) {
        GW_LOG(GW_LOG_ERROR, "httpc", "cannot register socket %d with the event loop", (int)s);
        return -1;
    }
    sc->kind = kind;
    return 0;
}

/* CURLOPT_CLOSESOCKETFUNCTION: curl is done with a socket; its registration goes first, so
 * that a later socket with the same descriptor starts clean. */
static int close_cb(void *clientp, curl_socket_t s)
{
    struct gw_httpc *c = clientp;
    if (s >= 0 && (size_t)s < c->nsocks && c->socks[s]) {
        sockctx_free(c->socks[s]); /* event_free deletes a registered event */
        c->socks[s] = NULL;
    }
    return close(s);
}

/* ---- client ---- */

struct gw_httpc *gw_httpc_new(struct event_base *base, const struct gw_httpc_options *opt,
                              struct gw_error *err)
{
    if (!base) {
        GW_ERROR_SET(err, GW_EINVAL, "gw_httpc_new: no event base");
        return NULL;
    }
    if (gw_httpc_global_init(err) != GW_OK)
        return NULL;
    struct gw_httpc *c = gw_xcalloc(1, sizeof(*c));
    c->base = base;
    c->multi = curl_multi_init();
    c->share = curl_share_init();
    c->timer = evtimer_new(base, on_timer, c);
    if (!c->multi || !c->share || !c->timer) {
        GW_ERROR_SET(err, GW_ENOMEM, "cannot create the curl multi handle");
        gw_httpc_free(c);
        return NULL;
    }
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    if (opt && opt->max_host_connections > 0)
        curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, opt->max_host_connections);
    if (opt && opt->max_total_connections > 0)
        curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, opt->max_total_connections);
    /* a fixed cache: curl's default (4x the transfers in the multi *at that moment*) closes idle
     * keep-alive connections whenever in-flight calls dip, and reopens them a moment later
     * (120-150 new upstream connections per 1,000 calls at c=32 in the benchmark) */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
                      opt && opt->max_cached_connections > 0 ? opt->max_cached_connections
                                                              : (long)HTTPC_DEFAULT_MAXCONNECTS);
    c->max_idle = (opt && opt->max_idle_handles > 0) ? (size_t)opt->max_idle_handles
                                                      : DEFAULT_IDLE_HANDLES;
    c->idle = gw_xcalloc(c->max_idle, sizeof(CURL *));
    c->ssrf = opt ? opt->ssrf : NULL;
    /* the native engine does not implement connection limits: a client with limits stays on
     * libcurl for every request */
    if (!(opt && (opt->curl_only || opt->max_host_connections > 0 ||
                  opt->max_total_connections > 0))) {
        c->h1 = gw_httpc_h1_new(base, c->ssrf,
                                opt && opt->max_cached_connections > 0
                                    ? (size_t)opt->max_cached_connections
                                    : (size_t)HTTPC_DEFAULT_MAXCONNECTS,
                                err);
        if (!c->h1) {
            gw_httpc_free(c);
            return NULL;
        }
    }
    return c;
}

/* Takes a call out of the multi and recycles its easy handle (connections stay in the multi
 * cache, so recycling never closes one). Frees everything the call owned. */
static void call_release(struct gw_httpc_call *call)
{
    struct gw_httpc *c = call->c;
    if (call->prev)
        call->prev->next = call->next;
    else
        c->pending = call->next;
    if (call->next)
        call->next->prev = call->prev;
    c->npending--;
    curl_multi_remove_handle(c->multi, call->easy);
    if (c->nidle < c->max_idle) {
        curl_easy_reset(call->easy);
        c->idle[c->nidle++] = call->easy;
    } else {
        curl_easy_cleanup(call->easy);
    }
    curl_slist_free_all(call->hdrs);
    curl_mime_free(call->mime);
    gw_buf_fini(&call->body);
    gw_buf_fini(&call->headers);
    gw_free(call);
}

void gw_httpc_free(struct gw_httpc *c)
{
    if (!c)
        return;
    gw_httpc_h1_free(c->h1);
    while (c->pending)
        call_release(c->pending);
    for (size_t i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    c->nidle = 0;
    if (c->multi)
        curl_multi_cleanup(c->multi); /* closes cached connections through close_cb */
    for (size_t i = 0; i < c->nsocks; i++)
        sockctx_free(c->socks[i]); /* none should be left; a leak check would say otherwise */
    gw_free(c->socks);
    if (c->share)
        curl_share_cleanup(c->share);
    if (c->timer)
        event_free(c->timer);
    gw_free(c->idle);
    gw_free(c);
}

size_t gw_httpc_pending(const struct gw_httpc *c)
{
    return c ? c->npending + gw_httpc_h1_pending(c->h1) : 0;
}

void gw_httpc_engine_calls(const struct gw_httpc *c, unsigned long long *native,
                           unsigned long long *curl)
{
    *native = c ? c->native_calls : 0;
    *curl = c ? c->curl_calls : 0;
}

/* ---- per-call capture ---- */

/* Streaming requests: whether the response being received is handed to on_data (a 2xx
 * final response) or collected (anything else: an error body the completion reports). Decided
 * at the first body byte, when the final status is known. */
static bool stream_this(struct gw_httpc_call *call)
{
    if (call->streaming == 0) {
        long status = 0;
        curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
        call->streaming = status >= 200 && status < 300 ? 1 : -1;
    }
    return call->streaming == 1;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct gw_httpc_call *call = ud;
    size_t len = size * n;
    if (call->on_data && stream_this(call)) {
        if (len > call->max_bytes - call->streamed) {
            call->too_large = true;
            return 0;
        }
        call->streamed += len;
        if (!call->on_data(call->data_arg, p, len)) {
            call->stopped = true;
            return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
        }
        return len;
    }
    int rc = gw_buf_add(&call->body, p, len);
    if (rc == GW_ELIMIT) {
        call->too_large = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (rc != GW_OK) {
        call->oom = true;
        return 0;
    }
    return len;
}

/* Header callback: keeps the raw header block of the final response (a new status line starts
 * a new block, so 100-continue and redirect headers are dropped). */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct gw_httpc_call *call = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        gw_buf_reset(&call->headers); /* a new response (after 100-continue or a redirect) */
        call->streaming = 0;
    }
    (void)gw_buf_add(&call->headers, p, len); /* beyond the cap headers are just not kept */
    return len;
}

/* Methods the gateway ever sends; anything else (TRACE, CONNECT, custom verbs) is refused. */
static bool method_ok(const char *m)
{
    static const char *const allowed[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                          "OPTIONS"};
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strcmp(m, allowed[i]) == 0)
            return true;
    return false;
}

/* Cheap scheme check before curl parses the URL (curl is also limited to http/https). */
static bool url_ok(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

/* CURLOPT_OPENSOCKETFUNCTION of guarded clients: the one place every connection of the client
 * is decided. The host comes from the transfer's URL as libcurl holds it, parsed by libcurl's
 * own URL parser (so it is the host libcurl connects to); it only matters for host-name
 * allowlist entries. Runs when a connection is opened, never for a reused one. */
static curl_socket_t guard_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct gw_httpc_call *call = clientp;
    struct gw_error e;
    gw_error_clear(&e);
    char host[256] = "";
    char *url = NULL;
    if (purpose != CURLSOCKTYPE_IPCXN) {
        GW_ERROR_SET(&e, GW_EDENIED, "SSRF guard refused a non-IP connection");
        call->denied_class = "non-IP";
        goto deny;
    }
    if (curl_easy_getinfo(call->easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url) {
        CURLU *u = curl_url();
        char *h = NULL;
        if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && h) {
            size_t n = strlen(h);
            if (n >= 2 && h[0] == '[' && h[n - 1] == ']') /* IPv6 literal */
                snprintf(host, sizeof(host), "%.*s", (int)(n - 2), h + 1);
            else
                gw_strlcpy(host, sizeof(host), h);
        }
        curl_free(h);
        curl_url_cleanup(u);
    }
    if (gw_ssrf_check(call->c->ssrf, host[0] ? host : NULL, &a->addr, &e) == GW_OK)
        return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    call->denied_class = gw_ssrf_class_name(gw_ssrf_classify(&a->addr));
deny:
    call->denied = true;
    snprintf(call->deny_reason, sizeof(call->deny_reason), "%.150s", e.msg);
    return CURL_SOCKET_BAD;
}

/* CURLOPT_PREREQFUNCTION of no_replay requests: libcurl calls it right before it sends the
 * request on a connection, each time; the second call is libcurl re-sending on its own. */
static int once_only(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    struct gw_httpc_call *call = clientp;
    if (++call->sends > 1) {
        call->replay_refused = true;
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

/* A recycled easy handle if one is idle, else a new one. */
static CURL *take_easy(struct gw_httpc *c)
{
    if (c->nidle)
        return c->idle[--c->nidle];
    return curl_easy_init();
}

/* Request body: multipart parts through curl mime, or a copied buffer. POST without a body
 * still sends Content-Length: 0 (some servers answer 411 otherwise). */
static int setup_body(struct gw_httpc_call *call, const struct gw_httpc_request *req,
                      struct gw_error *err)
{
    CURL *e = call->easy;
    if (req->nparts) {
        call->mime = curl_mime_init(e);
        if (!call->mime)
            return GW_ERROR_SET(err, GW_ENOMEM, "cannot allocate a multipart body");
        for (size_t i = 0; i < req->nparts; i++) {
            const struct gw_httpc_part *p = &req->parts[i];
            curl_mimepart *mp = curl_mime_addpart(call->mime);
            if (!mp || !p->name || curl_mime_name(mp, p->name) != CURLE_OK ||
                curl_mime_data(mp, p->data ? p->data : "", p->data ? p->len : 0) != CURLE_OK)
                return GW_ERROR_SET(err, GW_EINVAL, "invalid multipart part %zu", i);
            if (p->content_type && curl_mime_type(mp, p->content_type) != CURLE_OK)
                return GW_ERROR_SET(err, GW_EINVAL, "invalid multipart content type");
            if (p->filename && curl_mime_filename(mp, p->filename) != CURLE_OK)
                return GW_ERROR_SET(err, GW_EINVAL, "invalid multipart filename");
        }
        curl_easy_setopt(e, CURLOPT_MIMEPOST, call->mime);
        return GW_OK;
    }
    if (req->body || strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body ? req->body_len : 0));
        if (curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "") != CURLE_OK)
            return GW_ERROR_SET(err, GW_ENOMEM, "cannot copy the request body");
    }
    return GW_OK;
}

/* TLS options: verification on unless explicitly skipped, TLS 1.2 minimum, optional CA file
 * and client certificate/key (mTLS). curl keeps these strings by copy. */
static int setup_tls(CURL *e, const struct gw_httpc_request *req)
{
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, req->insecure_skip_verify ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, req->insecure_skip_verify ? 0L : 2L);
    if (req->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
    if (req->client_cert) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, req->client_cert);
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (req->client_key) {
        curl_easy_setopt(e, CURLOPT_SSLKEY, req->client_key);
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (req->key_password)
        curl_easy_setopt(e, CURLOPT_KEYPASSWD, req->key_password);
    return GW_OK;
}

int gw_httpc_submit(struct gw_httpc *c, const struct gw_httpc_request *req, gw_httpc_done_fn done,
                    void *arg, struct gw_httpc_call **out_call, struct gw_error *err)
{
    int rc = GW_EINVAL;
    if (out_call)
        *out_call = NULL;
    if (!c || !req || !done || !req->method || !req->url)
        return GW_ERROR_SET(err, GW_EINVAL, "gw_httpc_submit: missing client, request or callback");
    if (!method_ok(req->method))
        return GW_ERROR_SET(err, GW_EINVAL, "unsupported HTTP method");
    if (!url_ok(req->url))
        return GW_ERROR_SET(err, GW_EINVAL, "only http:// and https:// URLs are allowed");
    if (req->nheaders > MAX_REQUEST_HEADERS)
        return GW_ERROR_SET(err, GW_ELIMIT, "too many request headers (%zu)", req->nheaders);
    if (req->nparts && req->body)
        return GW_ERROR_SET(err, GW_EINVAL, "a request has either a body or multipart parts");
    if (c->h1) {
        bool taken = false;
        rc = gw_httpc_h1_submit(c->h1, req, done, arg, out_call, &taken, err);
        if (taken) {
            c->native_calls += rc == GW_OK;
            return rc;
        }
    }

    struct gw_httpc_call *call = gw_xcalloc(1, sizeof(*call));
    call->tag.engine = HTTPC_ENGINE_CURL;
    call->c = c;
    call->done = done;
    call->arg = arg;
    call->max_bytes = req->max_response_bytes ? req->max_response_bytes : DEFAULT_MAX_RESPONSE;
    gw_buf_init(&call->body, call->max_bytes);
    gw_buf_init(&call->headers, MAX_HEADER_BYTES);
    call->easy = take_easy(c);
    if (!call->easy) {
        rc = GW_ERROR_SET(err, GW_ENOMEM, "cannot create a curl handle");
        goto fail;
    }
    CURL *e = call->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, call);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, c);
    curl_easy_setopt(e, CURLOPT_SHARE, c->share);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_PROXY, req->proxy ? req->proxy : "");
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "malformed URL");
        goto fail;
    }
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms
                                                                : DEFAULT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     req->connect_timeout_ms > 0 ? req->connect_timeout_ms
                                                 : DEFAULT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)call->max_bytes);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
    if (req->follow_redirects)
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, req->max_redirects > 0 ? req->max_redirects : 3L);
    if (req->accept_encoding)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
    setup_tls(e, req);
    if (c->ssrf) {
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, guard_open);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, call);
    }
    if (req->no_replay) {
        call->no_replay = true;
        curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, once_only);
        curl_easy_setopt(e, CURLOPT_PREREQDATA, call);
        curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, NO_REPLAY_MAX_IDLE_S);
    }
    if (req->fresh_connect)
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    if (req->on_data) {
        call->on_data = req->on_data;
        call->data_arg = req->data_arg;
    }
    if (req->stall_timeout_s > 0) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, req->stall_timeout_s);
    }

    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
        rc = setup_body(call, req, err);
        if (rc != GW_OK)
            goto fail;
    }
    for (size_t i = 0; i < req->nheaders; i++) {
        struct curl_slist *n = curl_slist_append(call->hdrs, req->headers[i]);
        if (!n) {
            rc = GW_ERROR_SET(err, GW_ENOMEM, "cannot copy request headers");
            goto fail;
        }
        call->hdrs = n;
    }
    /* never wait for 100-continue: one round trip less for every body */
    struct curl_slist *n = curl_slist_append(call->hdrs, "Expect:");
    if (!n) {
        rc = GW_ERROR_SET(err, GW_ENOMEM, "cannot copy request headers");
        goto fail;
    }
    call->hdrs = n;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->hdrs);

    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        rc = GW_ERROR_SET(err, GW_ERR, "cannot add the request to the curl multi handle");
        goto fail;
    }
    call->next = c->pending;
    if (c->pending)
        c->pending->prev = call;
    c->pending = call;
    c->npending++;
    c->curl_calls++;
    if (out_call)
        *out_call = call;
    return GW_OK;

fail:
    if (call->easy)
        curl_easy_cleanup(call->easy);
    curl_slist_free_all(call->hdrs);
    curl_mime_free(call->mime);
    gw_buf_fini(&call->body);
    gw_buf_fini(&call->headers);
    gw_free(call);
    return rc;
}

bool gw_httpc_call_native(const struct gw_httpc_call *call)
{
    return call && call->tag.engine == HTTPC_ENGINE_H1;
}

void gw_httpc_cancel(struct gw_httpc_call *call)
{
    if (!call)
        return;
    if (call->tag.engine == HTTPC_ENGINE_H1)
        gw_httpc_h1_cancel(call);
    else
        call_release(call);
}

/* ---- completion ---- */

static enum gw_httpc_status classify(const struct gw_httpc_call *call, CURLcode code)
{
    if (call->too_large)
        return GW_HTTPC_ETOOLARGE;
    if (code != CURLE_OK && call->denied)
        return GW_HTTPC_EDENIED; /* (an allowed address of the same host may have served it) */
    if (code != CURLE_OK && call->replay_refused)
        return GW_HTTPC_ECONNECT; /* the connection died; libcurl's re-send was stopped */
    switch (code) {
    case CURLE_OK:
        return GW_HTTPC_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return GW_HTTPC_ETIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return GW_HTTPC_ETOOLARGE;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return GW_HTTPC_EDNS;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        /* TLS 1.3 reports a refused client certificate as an alert on the first read */
        if (strstr(call->errbuf, "SSL") && strstr(call->errbuf, "alert"))
            return GW_HTTPC_ETLS;
        return GW_HTTPC_ECONNECT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_GOT_NOTHING:
        return GW_HTTPC_ECONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
        return GW_HTTPC_ETLS;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return GW_HTTPC_EINVAL;
    default:
        return GW_HTTPC_EPROTO;
    }
}

/* Builds the response of a finished transfer, releases the call (its handle may be reused by
 * the callback) and then runs the callback. The body and header buffers outlive the call for
 * the duration of the callback. */
static void complete(struct gw_httpc_call *call, CURLcode code)
{
    CURL *e = call->easy;
    struct gw_httpc_response resp;
    memset(&resp, 0, sizeof(resp));
    char ctype[256] = "";
    char errmsg[CURL_ERROR_SIZE + 64] = "";
    resp.status = classify(call, code);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    resp.http_status = status;
    char *ct = NULL;
    if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) {
        gw_strlcpy(ctype, sizeof(ctype), ct);
        resp.content_type = ctype;
    }
    curl_off_t pre = 0, total = 0;
    long nconn = 0;
    curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pre);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &nconn);
    resp.connected = pre > 0 || status > 0;
    resp.reused_connection = resp.connected && nconn == 0;
    resp.total_us = (long)total;
    if (call->stopped && resp.status != GW_HTTPC_OK) {
        resp.status = GW_HTTPC_EPROTO;
        resp.stopped = true;
        snprintf(errmsg, sizeof(errmsg), "the stream was stopped by its receiver");
    } else if (resp.status == GW_HTTPC_ETOOLARGE) {
        snprintf(errmsg, sizeof(errmsg), "response larger than %zu bytes", call->max_bytes);
    } else if (call->oom) {
        resp.status = GW_HTTPC_EPROTO;
        snprintf(errmsg, sizeof(errmsg), "out of memory while receiving the response");
    } else if (resp.status == GW_HTTPC_EDENIED) {
        resp.denied_class = call->denied_class;
        gw_strlcpy(errmsg, sizeof(errmsg), call->deny_reason);
    } else if (resp.status == GW_HTTPC_ECONNECT && call->replay_refused) {
        resp.not_resent = true;
        snprintf(errmsg, sizeof(errmsg),
                 "the connection died before an answer; libcurl's automatic re-send of this "
                 "request was refused (no_replay)");
    } else if (resp.status != GW_HTTPC_OK) {
        snprintf(errmsg, sizeof(errmsg), "%s%s%s", curl_easy_strerror(code),
                 call->errbuf[0] ? ": " : "", call->errbuf);
    }
    resp.error = errmsg;
    if (resp.status != GW_HTTPC_OK)
        resp.http_status = resp.status == GW_HTTPC_ETOOLARGE || call->streaming == 1 ? status : 0;
    size_t blen = 0;
    char *bptr = gw_buf_take(&call->body, &blen); /* heap, NUL-terminated, "" when empty */
    resp.body = bptr;
    resp.body_len = blen;
    resp._headers = gw_buf_ptr(&call->headers);
    resp._headers_len = gw_buf_len(&call->headers);

    gw_httpc_done_fn done = call->done;
    void *arg = call->arg;
    /* The body and header buffers are detached from the call so that the call (and its easy handle)
     * can be recycled before the callback runs: the callback may submit again and reuse the
     * handle. */
    struct gw_buf headers = call->headers;
    gw_buf_init(&call->headers, 0);
    call_release(call);
    done(arg, &resp);
    if (!resp._body_taken)
        gw_free(bptr);
    gw_buf_fini(&headers);
}

static void check_done(struct gw_httpc *c)
{
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        CURLcode code = msg->data.result;
        if (priv)
            complete((struct gw_httpc_call *)(void *)priv, code);
    }
}

/* ---- response helpers ---- */

const char *gw_httpc_response_header(const struct gw_httpc_response *resp, const char *name,
                                     char *out, size_t out_size)
{
    if (!resp || !resp->_headers || !name || !out || out_size == 0)
        return NULL;
    size_t nlen = strlen(name);
    const char *p = resp->_headers, *end = p + resp->_headers_len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *lend = eol ? eol : end;
        if ((size_t)(lend - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            while (v < lend && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = lend;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t n = (size_t)(ve - v);
            if (n >= out_size)
                n = out_size - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
        p = lend + 1;
    }
    return NULL;
}

char *gw_httpc_response_take_body(struct gw_httpc_response *resp, size_t *out_len)
{
    if (!resp || resp->_body_taken)
        return NULL;
    resp->_body_taken = true;
    if (out_len)
        *out_len = resp->body_len;
    return resp->body;
}

const char *gw_httpc_status_name(enum gw_httpc_status s)
{
    switch (s) {
    case GW_HTTPC_OK:
        return "ok";
    case GW_HTTPC_ETIMEOUT:
        return "timeout";
    case GW_HTTPC_ECONNECT:
        return "connect";
    case GW_HTTPC_EDNS:
        return "dns";
    case GW_HTTPC_ETLS:
        return "tls";
    case GW_HTTPC_ETOOLARGE:
        return "too_large";
    case GW_HTTPC_EPROTO:
        return "protocol";
    case GW_HTTPC_EINVAL:
        return "invalid";
    case GW_HTTPC_EDENIED:
        return "denied";
    }
    return "?";
}
