/*
 * src/net/net_server.c
 * Worker threads, listening sockets, accepting, connection accounting, routing (with the
 * optional Host/Origin check), health/readiness and graceful shutdown.
 *
 * Threading: the main thread creates the server and binds one SO_REUSEPORT socket per worker;
 * each worker thread runs its own event_base and accepts on its own socket. Cross-thread work
 * arrives through the worker's loop mailbox (net_loop.h). The per-IP table is shared by the
 * workers of a server (one mutex, taken at accept and close only).
 * Accounting: a connection counts from accept() until its socket closes. At the per-worker
 * limit the oldest evictable connection (no request yet, or a keep-alive one between requests,
 * else the slowest head) is closed for the new one, as nginx reuses its reusable connections;
 * with nothing evictable the listener pauses until a connection closes or turns idle (the
 * kernel backlog holds the rest). A client address over its cap gets a 503 and is closed.
 * Descriptor shortage (EMFILE/ENFILE, which accept() reports even with an empty backlog, so only
 * when the listener has a connection waiting): evict if possible; else give up the reserve
 * descriptor to accept the waiting connection and answer it 503, then stop accepting for a back-off
 * (100 ms doubling to 1 s); warnings are rate-limited (one line per 10 s, with counts).
 * At start-up the soft RLIMIT_NOFILE is raised toward what GW_MAX_CONNECTIONS needs; the
 * effective limit is lowered (with a warning) when the hard limit does not allow it.
 * Shutdown state machine, per worker:
 *   RUNNING --drain--> DRAINING (listener closed, drain hooks run: streams closed)
 *           --inflight==0 and output flushed, or grace expired--> STOPPED (loop exits, stop
 *           hooks run, connections closed)
 */
#include "net/net_internal.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/settings.h"
#include "core/thread.h"
#include "net/net_loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <event2/util.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPTS_PER_WAKE 64
#define LISTEN_BACKLOG 4096
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 1000
#define WARN_WINDOW_MS 10000
#define IP_BUCKETS 4096
#define DEFAULT_HEADER_TIMEOUT_S 10
#define DEFAULT_BODY_TIMEOUT_S 30
#define DEFAULT_MAX_URL 8192
#define MAX_HEADER_FIELDS 100

const struct gw_setting_def gw_net_settings[] = {
    {"GW_LISTEN", GW_SET_STRING, "127.0.0.1:8000", 0, 0, NULL, "HTTP server",
     "Address and port the gateway listens on (`host:port`, `[v6]:port`). Loopback by default; "
     "use `0.0.0.0:8000` behind a load balancer."},
    {"GW_WORKERS", GW_SET_INT, "0", 0, 256, NULL, "HTTP server",
     "Worker threads, each with its own event loop. 0 = number of CPU cores."},
    {"GW_MAX_BODY_BYTES", GW_SET_INT, "1048576", 1024, 1073741824, NULL, "HTTP server",
     "Largest request body accepted (after chunked decoding); larger bodies get HTTP 413."},
    {"GW_MAX_HEADER_BYTES", GW_SET_INT, "16384", 1024, 1048576, NULL, "HTTP server",
     "Largest request head (request line and header fields) accepted; larger heads, or more "
     "than 100 header fields, get HTTP 431."},
    {"GW_MAX_URL_BYTES", GW_SET_INT, "8192", 256, 1048576, NULL, "HTTP server",
     "Longest request target (path and query) accepted; longer ones get HTTP 414."},
    {"GW_MAX_CONNECTIONS", GW_SET_INT, "4096", 2, 1000000, NULL, "HTTP server",
     "Open client connections per process (split across workers), counted from accept(). At "
     "the limit the least recently active idle connection (one that has not sent a request "
     "yet, or a keep-alive one between requests) is closed for the new one; when none is idle "
     "new connections wait in the kernel backlog. Bounded by the descriptor limit "
     "(RLIMIT_NOFILE, raised at start-up up to its hard limit)."},
    {"GW_MAX_CONNECTIONS_PER_IP", GW_SET_INT, "512", 0, 1000000, NULL, "HTTP server",
     "Open connections per client address; more get HTTP 503 and are closed. 0 = no cap. "
     "Behind a load balancer or NAT every client shares a few addresses: raise it or use 0."},
    {"GW_IDLE_TIMEOUT_SECONDS", GW_SET_INT, "60", 1, 86400, NULL, "HTTP server",
     "How long a keep-alive connection may wait for its next request, and how long a client "
     "may leave a response unread (no progress) before the connection is closed."},
    {"GW_HEADER_TIMEOUT_SECONDS", GW_SET_INT, "10", 1, 3600, NULL, "HTTP server",
     "Deadline for a whole request head, from its first byte (or from accept() for a new "
     "connection): a head sent slowly, however steadily, gets HTTP 408 when it expires."},
    {"GW_BODY_TIMEOUT_SECONDS", GW_SET_INT, "30", 1, 86400, NULL, "HTTP server",
     "Deadline for a whole request body, from the end of its head (HTTP 408 when it expires)."},
    {"GW_SHUTDOWN_GRACE_SECONDS", GW_SET_INT, "10", 0, 3600, NULL, "HTTP server",
     "On SIGTERM: how long in-flight requests may take to finish after accepting stops."},
    {"GW_ACCESS_LOG", GW_SET_BOOL, "true", 0, 0, NULL, "Logging",
     "Write one JSON access-log line per HTTP request."},
    GW_SETTINGS_END};

struct gw_ip_entry {
    struct gw_ip_entry *next;
    unsigned char addr[16];
    int count;
};

struct gw_ip_table {
    pthread_mutex_t lock;
    struct gw_ip_entry *b[IP_BUCKETS];
};

void gw_net_options_from_settings(struct gw_net_options *o, const struct gw_settings *s)
{
    o->listen = gw_settings_str(s, "GW_LISTEN");
    o->workers = (int)gw_settings_int(s, "GW_WORKERS");
    o->max_body_bytes = (size_t)gw_settings_int(s, "GW_MAX_BODY_BYTES");
    o->max_header_bytes = (size_t)gw_settings_int(s, "GW_MAX_HEADER_BYTES");
    o->max_connections = (int)gw_settings_int(s, "GW_MAX_CONNECTIONS");
    o->idle_timeout_s = (int)gw_settings_int(s, "GW_IDLE_TIMEOUT_SECONDS");
    o->shutdown_grace_s = (int)gw_settings_int(s, "GW_SHUTDOWN_GRACE_SECONDS");
    o->access_log = gw_settings_bool(s, "GW_ACCESS_LOG");
}

void gw_server_configure(struct gw_server *srv, const struct gw_settings *s)
{
    srv->limits.max_url = (size_t)gw_settings_int(s, "GW_MAX_URL_BYTES");
    srv->guard.header_timeout_s = (int)gw_settings_int(s, "GW_HEADER_TIMEOUT_SECONDS");
    srv->guard.body_timeout_s = (int)gw_settings_int(s, "GW_BODY_TIMEOUT_SECONDS");
    srv->guard.max_connections_per_ip = (int)gw_settings_int(s, "GW_MAX_CONNECTIONS_PER_IP");
    if (srv->guard.max_connections_per_ip > 0 && !srv->ips) {
        srv->ips = gw_xcalloc(1, sizeof(*srv->ips));
        pthread_mutex_init(&srv->ips->lock, NULL);
    }
}

void gw_server_set_jsonrpc_errors(struct gw_server *srv, bool on)
{
    srv->guard.jsonrpc_errors = on;
}

void gw_server_check_origin(struct gw_server *srv, const char *allowed_origins,
                            const char *allowed_hosts)
{
    gw_free(srv->allowed_origins);
    gw_free(srv->allowed_hosts);
    srv->allowed_origins = gw_xstrdup(allowed_origins ? allowed_origins : "");
    srv->allowed_hosts = gw_xstrdup(allowed_hosts ? allowed_hosts : "");
    srv->guard.check_origin = true;
}

static _Thread_local struct gw_worker *tl_worker;

bool gw_net__warn(struct gw_warn_limit *lim, const char *fmt, ...)
{
    int64_t now = gw_net__now_ms();
    if (lim->last_ms && now - lim->last_ms < WARN_WINDOW_MS) {
        lim->folded++;
        return false;
    }
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (lim->folded)
        GW_LOG(GW_LOG_WARN, "net", "%s (and %lu more in the last %d s)", msg, lim->folded,
               WARN_WINDOW_MS / 1000);
    else
        GW_LOG(GW_LOG_WARN, "net", "%s", msg);
    lim->last_ms = now;
    lim->folded = 0;
    return true;
}

/* ---------- per-IP accounting ---------- */

static void ip_key(const struct sockaddr_storage *sa, unsigned char out[16])
{
    memset(out, 0, 16);
    if (sa->ss_family == AF_INET) {
        out[10] = out[11] = 0xff; /* as an IPv4-mapped IPv6 address */
        memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->ss_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
}

static unsigned ip_hash(const unsigned char k[16])
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ k[i]) * 16777619u;
    return h % IP_BUCKETS;
}

/* Counts a connection from `sa`. Returns false when the address is at its cap. *out is NULL
 * when nothing is tracked (no cap). */
static bool ip_acquire(struct gw_server *srv, const struct sockaddr_storage *sa,
                       struct gw_ip_entry **out)
{
    *out = NULL;
    if (!srv->ips)
        return true;
    unsigned char k[16];
    ip_key(sa, k);
    unsigned h = ip_hash(k);
    bool ok = true;
    pthread_mutex_lock(&srv->ips->lock);
    struct gw_ip_entry *e = srv->ips->b[h];
    while (e && memcmp(e->addr, k, 16) != 0)
        e = e->next;
    if (!e) {
        e = gw_trycalloc(1, sizeof(*e));
        if (e) {
            memcpy(e->addr, k, 16);
            e->next = srv->ips->b[h];
            srv->ips->b[h] = e;
        }
    }
    if (!e || e->count >= srv->guard.max_connections_per_ip) {
        ok = false;
    } else {
        e->count++;
        *out = e;
    }
    pthread_mutex_unlock(&srv->ips->lock);
    return ok;
}

static void ip_release(struct gw_server *srv, struct gw_ip_entry *e)
{
    if (!e || !srv->ips)
        return;
    pthread_mutex_lock(&srv->ips->lock);
    if (--e->count == 0) {
        struct gw_ip_entry **pp = &srv->ips->b[ip_hash(e->addr)];
        while (*pp && *pp != e)
            pp = &(*pp)->next;
        if (*pp)
            *pp = e->next;
        gw_free(e);
    }
    pthread_mutex_unlock(&srv->ips->lock);
}

static void ip_table_free(struct gw_ip_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < IP_BUCKETS; i++) {
        struct gw_ip_entry *e = t->b[i];
        while (e) {
            struct gw_ip_entry *n = e->next;
            gw_free(e);
            e = n;
        }
    }
    pthread_mutex_destroy(&t->lock);
    gw_free(t);
}

/* ---------- socket setup ---------- */

static int make_listener(struct gw_server *srv, struct gw_worker *w, struct gw_error *err)
{
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);
    char addr[160];
    snprintf(addr, sizeof(addr), "%s", srv->listen);
    /* libevent's parser refuses port 0 ("any free port"): parse with 1, then clear it */
    size_t alen = strlen(addr);
    bool any_port = alen > 2 && strcmp(addr + alen - 2, ":0") == 0;
    if (any_port)
        addr[alen - 1] = '1';
    if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen) != 0)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "GW_LISTEN=%s: expected host:port (IPv6 as [addr]:port)", srv->listen);
    char eb[128];
    if (!srv->port && !any_port) {
        /* SO_REUSEPORT would let a second process (same user) share our port and take half
         * the traffic: probe with an exclusive bind first, so "address in use" is an error */
        int probe = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        int brc = probe >= 0 ? bind(probe, (struct sockaddr *)&ss, (socklen_t)sslen) : -1;
        int berr = errno;
        if (probe >= 0)
            close(probe);
        if (brc != 0)
            return GW_ERROR_SET(err, GW_EIO, "cannot listen on %s: %s", srv->listen,
                                gw_strerror(berr, eb, sizeof(eb)));
    }
    if (srv->port || any_port) {
        if (ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)srv->port);
        else
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)srv->port);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) != 0 ||
        listen(fd, LISTEN_BACKLOG) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return GW_ERROR_SET(err, GW_EIO, "cannot listen on %s: %s", srv->listen,
                            gw_strerror(e, eb, sizeof(eb)));
    }
    w->lfd = fd;
    if (!srv->port) {
        struct sockaddr_storage bound;
        socklen_t bl = sizeof(bound);
        getsockname(fd, (struct sockaddr *)&bound, &bl);
        srv->port = ntohs(bound.ss_family == AF_INET
                              ? ((struct sockaddr_in *)&bound)->sin_port
                              : ((struct sockaddr_in6 *)&bound)->sin6_port);
        char host[INET6_ADDRSTRLEN] = "";
        if (ss.ss_family == AF_INET) {
            struct in_addr a = ((struct sockaddr_in *)&ss)->sin_addr;
            inet_ntop(AF_INET, &a, host, sizeof(host));
            srv->loopback = (ntohl(a.s_addr) >> 24) == 127;
            snprintf(srv->address, sizeof(srv->address), "%s:%d", host, srv->port);
        } else {
            struct in6_addr a = ((struct sockaddr_in6 *)&ss)->sin6_addr;
            inet_ntop(AF_INET6, &a, host, sizeof(host));
            srv->loopback = IN6_IS_ADDR_LOOPBACK(&a);
            snprintf(srv->address, sizeof(srv->address), "[%s]:%d", host, srv->port);
        }
    }
    return GW_OK;
}

/* Raises the soft descriptor limit toward what `want_conns` connections need and returns how
 * many connections the limit allows (headroom kept for upstream sockets, files, pools). */
static int fit_descriptor_limit(int want_conns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want_conns;
    rlim_t want = (rlim_t)want_conns + 1024;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rlim_t nw = rl.rlim_max == RLIM_INFINITY || want < rl.rlim_max ? want : rl.rlim_max;
        struct rlimit raised = {nw, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = nw;
    }
    if (rl.rlim_cur == RLIM_INFINITY)
        return want_conns;
    rlim_t headroom = rl.rlim_cur / 4 < 1024 ? rl.rlim_cur / 4 : 1024;
    rlim_t fit = rl.rlim_cur - headroom;
    if ((rlim_t)want_conns <= fit)
        return want_conns;
    GW_LOG(GW_LOG_WARN, "net",
           "GW_MAX_CONNECTIONS=%d does not fit the descriptor limit (%llu): using %llu",
           want_conns, (unsigned long long)rl.rlim_cur, (unsigned long long)fit);
    return fit > 16 ? (int)fit : 16;
}

/* ---------- accepting ---------- */

static void set_accepting(struct gw_worker *w, bool on)
{
    if (!w->lev || w->state != GW_W_RUNNING)
        return;
    if (on)
        event_add(w->lev, NULL);
    else
        event_del(w->lev);
}

static void maybe_resume(struct gw_worker *w)
{
    if (w->accept_paused && !w->accept_backoff) {
        w->accept_paused = false;
        set_accepting(w, true);
    }
}

void gw_server__conn_closed(struct gw_worker *w, struct gw_ip_entry *ip)
{
    ip_release(w->srv, ip);
    if (w->conns < w->max_conns)
        maybe_resume(w);
}

void gw_server__conn_idle(struct gw_worker *w)
{
    maybe_resume(w); /* the next accept can evict it */
}

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_worker *w = arg;
    w->accept_backoff = false;
    if (!w->accept_paused)
        set_accepting(w, true);
}

static void back_off(struct gw_worker *w)
{
    w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (w->backoff_ms > BACKOFF_MAX_MS)
        w->backoff_ms = BACKOFF_MAX_MS;
    w->accept_backoff = true;
    set_accepting(w, false);
    struct timeval tv = {0, (suseconds_t)(w->backoff_ms * 1000)};
    event_add(w->backoff_ev, &tv);
}

/* Answers a connection we cannot take with a 503 and closes it (no lingering: this must cost
 * nothing). */
static void refuse_socket(struct gw_worker *w, int fd, const char *reason)
{
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    gw_http__refusal(w, 503, reason, &b);
    (void)send(fd, gw_buf_ptr(&b), gw_buf_len(&b), MSG_NOSIGNAL | MSG_DONTWAIT);
    gw_buf_fini(&b);
    close(fd);
}

/* Whether a connection waits in the listener's backlog (accept() reports EMFILE before it
 * looks, so an empty backlog at the descriptor limit must not cost a connection). */
static bool backlog_waiting(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* Out of descriptors and nothing to evict: the reserve descriptor makes room to take the
 * connection at the head of the backlog and answer it, so that it does not wait forever. */
static void refuse_with_reserve(struct gw_worker *w)
{
    if (w->reserve_fd < 0)
        return;
    close(w->reserve_fd);
    w->reserve_fd = -1;
    int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0)
        refuse_socket(w, fd, "server out of file descriptors");
    w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    struct gw_worker *w = arg;
    struct gw_server *srv = w->srv;
    for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
        if (w->conns >= w->max_conns && !gw_conn__evict_one(w)) {
            w->accept_paused = true;
            set_accepting(w, false);
            gw_net__warn(&w->warn_accept,
                         "worker %d at its connection limit (%d) with no idle connection: "
                         "accepting paused",
                         w->id, w->max_conns);
            return;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK)
                break;
            if (e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM)
                continue;
            if ((e == EMFILE || e == ENFILE) && !backlog_waiting(lfd))
                break;
            if ((e == EMFILE || e == ENFILE) && gw_conn__evict_one(w))
                continue;
            if (e == EMFILE || e == ENFILE)
                refuse_with_reserve(w);
            char eb[96];
            gw_net__warn(&w->warn_accept, "worker %d: accept: %s; backing off %lld ms", w->id,
                         gw_strerror(e, eb, sizeof(eb)),
                         (long long)(w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS));
            back_off(w);
            return;
        }
        w->backoff_ms = 0;
        struct gw_ip_entry *ip = NULL;
        if (!ip_acquire(srv, &ss, &ip)) {
            w->refused_ip++;
            char host[INET6_ADDRSTRLEN] = "?";
            if (ss.ss_family == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
            else if (ss.ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
                          sizeof(host));
            gw_net__warn(&w->warn_ip, "connection from %s refused: %d connections from that "
                         "address (GW_MAX_CONNECTIONS_PER_IP)",
                         host, srv->guard.max_connections_per_ip);
            refuse_socket(w, fd, "too many connections from this address");
            continue;
        }
        /* no Nagle delay: the last segment of a large answer must not wait for the client's
         * delayed ACK (~40 ms per tools/list page otherwise) */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (!gw_conn__open(w, fd, &ss, ip)) {
            close(fd);
            ip_release(srv, ip);
        }
    }
    if (w->evicted) {
        int64_t now = gw_net__now_ms();
        if (!w->warn_evict.last_ms || now - w->warn_evict.last_ms >= WARN_WINDOW_MS) {
            GW_LOG(GW_LOG_WARN, "net",
                   "worker %d: closed %lu idle connections to accept new ones (connection "
                   "limit %d or out of descriptors; counted since the last such line)",
                   w->id, w->evicted, w->max_conns);
            w->warn_evict.last_ms = now;
            w->evicted = 0;
        }
    }
}

/* ---------- routing ---------- */

static void route_health(struct gw_http_req *r, void *arg)
{
    (void)arg;
    static const char body[] = "{\"status\":\"ok\"}";
    gw_http_reply(r, 200, "application/json", body, sizeof(body) - 1);
}

static void route_ready(struct gw_http_req *r, void *arg)
{
    struct gw_server *srv = arg;
    json_t *checks = json_object();
    bool ok = !atomic_load(&srv->draining);
    for (int i = 0; i < srv->nchecks; i++) {
        struct gw_error e = {0};
        int rc = srv->checks[i].fn(srv->checks[i].arg, &e);
        if (rc == GW_OK) {
            json_object_set_new(checks, srv->checks[i].name, json_string("ok"));
        } else {
            ok = false;
            json_object_set_new(checks, srv->checks[i].name, json_string(e.msg));
        }
    }
    json_t *v = json_pack("{s:s,s:o}", "status", ok ? "ready" : "not ready", "checks", checks);
    if (atomic_load(&srv->draining))
        json_object_set_new(v, "draining", json_true());
    gw_http_reply_json(r, ok ? 200 : 503, v);
    json_decref(v);
}

/* Whether the comma-separated `list` contains s[0..n) (case-insensitive, spaces trimmed). */
static bool list_has(const char *list, const char *s, size_t n)
{
    if (!list)
        return false;
    while (*list) {
        while (*list == ' ' || *list == ',')
            list++;
        const char *end = strchr(list, ',');
        size_t len = end ? (size_t)(end - list) : strlen(list);
        size_t t = len;
        while (t && list[t - 1] == ' ')
            t--;
        if (t && t == n && strncasecmp(list, s, n) == 0)
            return true;
        list += len;
    }
    return false;
}

/* The host part (no port, no brackets) of a Host header or URL authority; 0 when malformed. */
static size_t host_part(const char *authority, char *out, size_t out_size)
{
    size_t n;
    if (authority[0] == '[') {
        const char *close = strchr(authority, ']');
        if (!close)
            return 0;
        n = (size_t)(close - authority - 1);
        authority++;
    } else {
        n = strcspn(authority, ":/");
    }
    if (n == 0 || n >= out_size)
        return 0;
    memcpy(out, authority, n);
    out[n] = '\0';
    return n;
}

static bool is_loopback_name(const char *h)
{
    return strcasecmp(h, "localhost") == 0 || strcmp(h, "127.0.0.1") == 0 ||
           strcmp(h, "::1") == 0;
}

/* The listener's Host/Origin rule (check_origin). NULL when allowed, else the reason. */
static const char *host_origin_refusal(struct gw_server *srv, struct gw_http_req *r)
{
    const char *host = gw_http_header(r, "Host");
    char hname[256] = "";
    if (host && *host && !host_part(host, hname, sizeof(hname)))
        return "malformed Host header";
    bool listed = hname[0] && list_has(srv->allowed_hosts, hname, strlen(hname));
    if (srv->loopback && hname[0] && !is_loopback_name(hname) && !listed)
        return "Host not allowed";
    if (!srv->loopback && srv->allowed_hosts && *srv->allowed_hosts && !listed)
        return "Host not allowed";
    const char *origin = gw_http_header(r, "Origin");
    if (!origin)
        return NULL;
    if (list_has(srv->allowed_origins, origin, strlen(origin)))
        return NULL;
    const char *sep = strstr(origin, "://");
    char oname[256];
    if (!sep || !host_part(sep + 3, oname, sizeof(oname)))
        return "Origin not allowed";
    if (hname[0] && strcasecmp(oname, hname) == 0)
        return NULL; /* same origin as the (validated) Host */
    return "Origin not allowed";
}

void gw_server__dispatch(struct gw_worker *w, struct gw_http_req *r)
{
    struct gw_server *srv = w->srv;
    if (srv->guard.check_origin) {
        const char *why = host_origin_refusal(srv, r);
        if (why) {
            GW_LOG(GW_LOG_WARN, "net", "refused request: %s (peer=%s)", why, gw_http_peer(r));
            gw_http_reply_error(r, 403, "forbidden", why);
            return;
        }
    }
    if (gw_http_method(r) == GW_HTTP_OTHER) {
        gw_http_add_header(r, "Allow", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
        gw_http_reply_error(r, 405, "method_not_allowed", "HTTP method not supported");
        return;
    }
    const char *path = gw_http_path(r);
    for (int i = 0; i < srv->nroutes; i++) {
        struct gw_route *rt = &srv->routes[i];
        if (rt->prefix ? strncmp(path, rt->path, rt->len) == 0 : strcmp(path, rt->path) == 0) {
            gw_log_set_request_id(gw_http_request_id(r));
            rt->fn(r, rt->arg);
            gw_log_set_request_id(NULL);
            return;
        }
    }
    gw_http_reply_error(r, 404, "not_found", "no such endpoint");
}

int gw_worker_post(struct gw_worker *w, gw_task_fn fn, void *arg)
{
    return gw_loop_post(w->loop, fn, arg);
}

struct gw_loop *gw_worker_loop(struct gw_worker *w)
{
    return w->loop;
}

/* ---------- drain / stop ---------- */

static void check_stop(struct gw_worker *w)
{
    if (w->state != GW_W_DRAINING)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    bool expired = now.tv_sec > w->drain_deadline.tv_sec ||
                   (now.tv_sec == w->drain_deadline.tv_sec &&
                    now.tv_nsec >= w->drain_deadline.tv_nsec);
    if ((w->inflight <= 0 && !gw_conn__output_pending(w)) || expired) {
        if (w->inflight > 0)
            GW_LOG(GW_LOG_WARN, "net", "worker %d: grace period over with %d requests in flight",
                   w->id, w->inflight);
        w->state = GW_W_STOPPED;
        event_base_loopexit(w->base, NULL);
    }
}

static void drain_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    check_stop(arg);
}

static void close_listener(struct gw_worker *w)
{
    if (w->lev) {
        event_free(w->lev);
        w->lev = NULL;
    }
    if (w->backoff_ev) {
        event_free(w->backoff_ev);
        w->backoff_ev = NULL;
    }
    if (w->lfd >= 0) {
        close(w->lfd);
        w->lfd = -1;
    }
}

static void begin_drain(void *arg)
{
    struct gw_worker *w = arg;
    if (w->state != GW_W_RUNNING)
        return;
    w->state = GW_W_DRAINING;
    close_listener(w);
    /* the deadline first: drain hooks end streams, which re-enters check_stop */
    clock_gettime(CLOCK_MONOTONIC, &w->drain_deadline);
    w->drain_deadline.tv_sec += w->srv->opts.shutdown_grace_s;
    for (int i = 0; i < w->srv->nhooks; i++)
        if (w->srv->hooks[i].drain)
            w->srv->hooks[i].drain(w, w->srv->hooks[i].arg);
    struct timeval tick = {0, 50000};
    w->drain_timer = event_new(w->base, -1, EV_PERSIST, drain_tick, w);
    event_add(w->drain_timer, &tick);
    check_stop(w);
}

void gw_worker_inflight_add(struct gw_worker *w, int delta)
{
    w->inflight += delta;
    if (delta < 0 && w->state == GW_W_DRAINING)
        check_stop(w);
}

/* ---------- worker thread ---------- */

static void *worker_main(void *arg)
{
    gw_thread_init_self("gw-worker", GW_THREAD_SERVING);
    struct gw_worker *w = arg;
    struct gw_server *srv = w->srv;
    tl_worker = w;
    gw_loop_set_current(w->loop);
    int rc = GW_OK;
    for (int i = 0; i < srv->nhooks && rc == GW_OK; i++)
        if (srv->hooks[i].start)
            rc = srv->hooks[i].start(w, srv->hooks[i].arg);
    gw_conn__worker_init(w);
    if (rc == GW_OK && (!w->timer || !w->notify_ev))
        rc = GW_ENOMEM;
    if (rc == GW_OK && w->state == GW_W_RUNNING && w->lev && event_add(w->lev, NULL) != 0)
        rc = GW_EIO;
    pthread_mutex_lock(&srv->lock);
    w->start_rc = rc;
    atomic_fetch_add(&srv->started, 1);
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    if (rc == GW_OK)
        event_base_dispatch(w->base);
    gw_loop_close(w->loop); /* tasks posted before close still run (they may free things) */
    for (int i = srv->nhooks - 1; i >= 0; i--)
        if (srv->hooks[i].stop)
            srv->hooks[i].stop(w, srv->hooks[i].arg);
    close_listener(w);
    gw_conn__close_all(w);
    return NULL;
}

static int worker_init(struct gw_server *srv, struct gw_worker *w, int i, struct gw_error *err)
{
    w->id = i;
    w->srv = srv;
    w->lfd = -1;
    w->reserve_fd = -1;
    w->max_conns = srv->max_connections / srv->nworkers;
    if (w->max_conns < 1)
        w->max_conns = 1;
    w->base = event_base_new();
    if (!w->base)
        return GW_ERROR_SET(err, GW_ENOMEM, "cannot create event loop");
    w->loop = gw_loop_new(w->base);
    w->hbuf = gw_xcalloc(1, sizeof(*w->hbuf));
    gw_buf_init(w->hbuf, 1u << 20);
    int rc = make_listener(srv, w, err);
    if (rc != GW_OK)
        return rc;
    w->lev = event_new(w->base, w->lfd, EV_READ | EV_PERSIST, on_accept, w);
    w->backoff_ev = evtimer_new(w->base, on_backoff, w);
    w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (!w->lev || !w->backoff_ev)
        return GW_ERROR_SET(err, GW_ENOMEM, "cannot create events");
    return GW_OK;
}

int gw_server_new(const struct gw_net_options *opts, struct gw_server **out, struct gw_error *err)
{
    gw_loop_init_threads();
    signal(SIGPIPE, SIG_IGN);
    struct gw_server *srv = gw_xcalloc(1, sizeof(*srv));
    srv->opts = *opts;
    if (srv->opts.idle_timeout_s <= 0)
        srv->opts.idle_timeout_s = 60;
    srv->guard.header_timeout_s = DEFAULT_HEADER_TIMEOUT_S;
    srv->guard.body_timeout_s = DEFAULT_BODY_TIMEOUT_S;
    srv->listen = gw_xstrdup(opts->listen);
    srv->opts.listen = srv->listen;
    srv->limits = (struct gw_http_limits){
        .max_head = opts->max_header_bytes ? opts->max_header_bytes : 16384,
        .max_url = DEFAULT_MAX_URL,
        .max_body = opts->max_body_bytes,
        .max_headers = MAX_HEADER_FIELDS,
    };
    srv->nworkers = opts->workers > 0 ? opts->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (srv->nworkers < 1)
        srv->nworkers = 1;
    srv->max_connections = fit_descriptor_limit(opts->max_connections > 0 ? opts->max_connections
                                                                          : 4096);
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->cond, NULL);
    srv->workers = gw_xcalloc((size_t)srv->nworkers, sizeof(struct gw_worker));
    for (int i = 0; i < srv->nworkers; i++) {
        srv->workers[i].lfd = -1;
        srv->workers[i].reserve_fd = -1;
    }
    int rc = GW_OK;
    for (int i = 0; i < srv->nworkers && rc == GW_OK; i++)
        rc = worker_init(srv, &srv->workers[i], i, err);
    if (rc != GW_OK) {
        gw_server_free(srv);
        return rc;
    }
    gw_server_route(srv, "/health", route_health, srv);
    gw_server_route(srv, "/ready", route_ready, srv);
    *out = srv;
    return GW_OK;
}

void gw_server_free(struct gw_server *srv)
{
    if (!srv)
        return;
    for (int i = 0; i < srv->nworkers; i++) {
        struct gw_worker *w = &srv->workers[i];
        if (w->drain_timer)
            event_free(w->drain_timer);
        close_listener(w);
        if (w->base)
            gw_conn__close_all(w);
        if (w->reserve_fd >= 0)
            close(w->reserve_fd);
        gw_loop_free(w->loop);
        if (w->hbuf) {
            gw_buf_fini(w->hbuf);
            gw_free(w->hbuf);
        }
        if (w->base)
            event_base_free(w->base);
    }
    for (int i = 0; i < srv->nroutes; i++)
        gw_free(srv->routes[i].path);
    for (int i = 0; i < srv->nchecks; i++)
        gw_free(srv->checks[i].name);
    ip_table_free(srv->ips);
    gw_free(srv->workers);
    gw_free(srv->listen);
    gw_free(srv->allowed_origins);
    gw_free(srv->allowed_hosts);
    pthread_mutex_destroy(&srv->lock);
    pthread_cond_destroy(&srv->cond);
    gw_free(srv);
}

void gw_server_route(struct gw_server *srv, const char *path, gw_route_fn fn, void *arg)
{
    if (srv->nroutes >= GW_NET_MAX_ROUTES) {
        GW_LOG(GW_LOG_FATAL, "net", "too many routes");
        abort();
    }
    struct gw_route *rt = &srv->routes[srv->nroutes++];
    size_t n = strlen(path);
    rt->prefix = n && path[n - 1] == '*';
    rt->path = gw_xstrndup(path, rt->prefix ? n - 1 : n);
    rt->len = strlen(rt->path);
    rt->fn = fn;
    rt->arg = arg;
}

void gw_server_on_worker(struct gw_server *srv, gw_worker_hook_fn start, gw_worker_hook_fn stop,
                         void *arg)
{
    if (srv->nhooks >= GW_NET_MAX_HOOKS)
        abort();
    srv->hooks[srv->nhooks++] = (struct gw_hook){start, stop, NULL, arg};
}

void gw_server_on_drain(struct gw_server *srv, gw_drain_fn fn, void *arg)
{
    if (srv->nhooks >= GW_NET_MAX_HOOKS)
        abort();
    srv->hooks[srv->nhooks++] = (struct gw_hook){NULL, NULL, fn, arg};
}

void gw_server_add_ready_check(struct gw_server *srv, const char *name, gw_ready_fn fn,
                               void *arg)
{
    if (srv->nchecks >= GW_NET_MAX_HOOKS)
        abort();
    srv->checks[srv->nchecks++] = (struct gw_ready_check){gw_xstrdup(name), fn, arg};
}

int gw_server_port(const struct gw_server *srv)
{
    return srv->port;
}

const char *gw_server_address(const struct gw_server *srv)
{
    return srv->address;
}

bool gw_server_is_loopback(const struct gw_server *srv)
{
    return srv->loopback;
}

int gw_server_start(struct gw_server *srv, struct gw_error *err)
{
    for (int i = 0; i < srv->nworkers; i++)
        pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]);
    pthread_mutex_lock(&srv->lock);
    while (atomic_load(&srv->started) < srv->nworkers)
        pthread_cond_wait(&srv->cond, &srv->lock);
    pthread_mutex_unlock(&srv->lock);
    for (int i = 0; i < srv->nworkers; i++) {
        if (srv->workers[i].start_rc != GW_OK) {
            gw_server_shutdown(srv);
            for (int j = 0; j < srv->nworkers; j++)
                pthread_join(srv->workers[j].thread, NULL);
            return GW_ERROR_SET(err, srv->workers[i].start_rc,
                                "worker %d failed to start (%s)", i,
                                gw_rc_name(srv->workers[i].start_rc));
        }
    }
    GW_LOG(GW_LOG_INFO, "net", "listening on %s with %d workers (up to %d connections)",
           srv->address, srv->nworkers, srv->max_connections);
    return GW_OK;
}

void gw_server_shutdown(struct gw_server *srv)
{
    if (atomic_exchange(&srv->draining, true))
        return;
    GW_LOG(GW_LOG_INFO, "net", "shutting down: draining in-flight requests (grace %d s)",
           srv->opts.shutdown_grace_s);
    for (int i = 0; i < srv->nworkers; i++)
        gw_worker_post(&srv->workers[i], begin_drain, &srv->workers[i]);
}

void gw_server_wait(struct gw_server *srv)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    /* the signals are blocked in every thread (see gw_server_block_signals in the app), so
     * sigwait receives them here, in a normal thread context */
    while (!atomic_load(&srv->draining)) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            GW_LOG(GW_LOG_INFO, "net", "received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            gw_server_shutdown(srv);
        }
    }
    for (int i = 0; i < srv->nworkers; i++)
        pthread_join(srv->workers[i].thread, NULL);
    GW_LOG(GW_LOG_INFO, "net", "all workers stopped");
}

bool gw_server_draining(const struct gw_server *srv)
{
    return atomic_load(&srv->draining);
}

struct event_base *gw_worker_base(struct gw_worker *w)
{
    return w->base;
}

int gw_worker_id(const struct gw_worker *w)
{
    return w->id;
}

int gw_server_worker_count(const struct gw_server *srv)
{
    return srv->nworkers;
}

struct gw_worker *gw_server_worker(struct gw_server *srv, int i)
{
    return &srv->workers[i];
}

struct gw_server *gw_worker_server(struct gw_worker *w)
{
    return w->srv;
}

struct gw_worker *gw_worker_current(void)
{
    return tl_worker;
}

void gw_worker_set_slot(struct gw_worker *w, int idx, void *p)
{
    w->slots[idx] = p;
}

void *gw_worker_slot(struct gw_worker *w, int idx)
{
    return w->slots[idx];
}
