/*
 * src/net/net_server.c
 * Worker threads, listening sockets, routing, limits, health/readiness and graceful shutdown.
 *
 * Threading: the main thread creates the server and binds one SO_REUSEPORT socket per worker;
 * each worker thread runs its own event_base + evhttp. Cross-thread work arrives through the
 * worker's loop mailbox (net_loop.h).
 * Connection limit: each connection is tracked (from its first request) in a per-worker table
 * whose libevent close callback decrements the count; at the per-worker limit the worker's
 * listener is disabled until a connection closes (the kernel backlog holds the rest), as nginx's
 * worker_connections does. The same close callback tells an open stream its client is gone.
 * Shutdown state machine, per worker:
 *   RUNNING --drain--> DRAINING (listener freed, drain hooks run: streams closed)
 *           --inflight==0 or grace expired--> STOPPED (loop exits, stop hooks run)
 */
#include "net/net_server.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/settings.h"
#include "net/net_http.h"
#include "net/net_loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ROUTES 64
#define MAX_HOOKS 16
#define CONN_BUCKETS 1024

const struct gw_setting_def gw_net_settings[] = {
    {"GW_LISTEN", GW_SET_STRING, "127.0.0.1:8000", 0, 0, NULL, "HTTP server",
     "Address and port the gateway listens on (`host:port`, `[v6]:port`). Loopback by default; "
     "use `0.0.0.0:8000` behind a load balancer."},
    {"GW_WORKERS", GW_SET_INT, "0", 0, 256, NULL, "HTTP server",
     "Worker threads, each with its own event loop. 0 = number of CPU cores."},
    {"GW_MAX_BODY_BYTES", GW_SET_INT, "1048576", 1024, 1073741824, NULL, "HTTP server",
     "Largest request body accepted; larger bodies get HTTP 413."},
    {"GW_MAX_HEADER_BYTES", GW_SET_INT, "16384", 1024, 1048576, NULL, "HTTP server",
     "Largest request header block accepted."},
    {"GW_MAX_CONNECTIONS", GW_SET_INT, "4096", 2, 1000000, NULL, "HTTP server",
     "Open client connections per process (split across workers); at the limit new "
     "connections wait in the kernel backlog."},
    {"GW_IDLE_TIMEOUT_SECONDS", GW_SET_INT, "60", 1, 86400, NULL, "HTTP server",
     "Idle keep-alive and slow-request read timeout."},
    {"GW_SHUTDOWN_GRACE_SECONDS", GW_SET_INT, "10", 0, 3600, NULL, "HTTP server",
     "On SIGTERM: how long in-flight requests may take to finish after accepting stops."},
    {"GW_ACCESS_LOG", GW_SET_BOOL, "true", 0, 0, NULL, "Logging",
     "Write one JSON access-log line per HTTP request."},
    GW_SETTINGS_END};

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

struct route {
    char *path;
    size_t len;
    bool prefix;
    gw_route_fn fn;
    void *arg;
};

struct hook {
    gw_worker_hook_fn start, stop;
    gw_drain_fn drain;
    void *arg;
};

struct ready_check {
    char *name;
    gw_ready_fn fn;
    void *arg;
};

enum worker_state { W_RUNNING, W_DRAINING, W_STOPPED };

struct gw_worker {
    int id;
    struct gw_server *srv;
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *listener; /* owned by http once bound */
    struct evhttp_bound_socket *bound;
    int conns, max_conns;
    struct conn *conns_tab[CONN_BUCKETS];
    bool accept_paused;
    int inflight;
    enum worker_state state;
    struct gw_loop *loop;
    struct event *drain_timer;
    struct timespec drain_deadline;
    void *slots[GW_WORKER_SLOTS];
    int start_rc;
};

struct gw_server {
    struct gw_net_options opts;
    char *listen;
    char address[128];
    int port;
    bool loopback;
    int nworkers;
    struct gw_worker *workers;
    struct route routes[MAX_ROUTES];
    int nroutes;
    struct hook hooks[MAX_HOOKS];
    int nhooks;
    struct ready_check checks[MAX_HOOKS];
    int nchecks;
    atomic_bool draining;
    atomic_int started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static _Thread_local struct gw_worker *tl_worker;

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
        if (brc != 0) {
            char eb[128];
            return GW_ERROR_SET(err, GW_EIO, "cannot listen on %s: %s", srv->listen,
                                gw_strerror(berr, eb, sizeof(eb)));
        }
    }
    if (srv->port || any_port) {
        if (ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)srv->port);
        else
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)srv->port);
    }
    w->listener = evconnlistener_new_bind(
        w->base, NULL, NULL,
        LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_FREE |
            LEV_OPT_CLOSE_ON_EXEC,
        1024, (struct sockaddr *)&ss, sslen);
    char ebuf[128];
    if (!w->listener)
        return GW_ERROR_SET(err, GW_EIO, "cannot listen on %s: %s", srv->listen,
                            gw_strerror(errno, ebuf, sizeof(ebuf)));
    if (!srv->port) {
        struct sockaddr_storage bound;
        socklen_t bl = sizeof(bound);
        getsockname(evconnlistener_get_fd(w->listener), (struct sockaddr *)&bound, &bl);
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

/* ---------- connection accounting ---------- */

/* One tracked client connection (from its first request until libevent frees it). */
struct conn {
    struct conn *next;
    struct evhttp_connection *evcon;
    struct gw_worker *w;
    struct gw_http_req *stream; /* open stream on this connection, told when it closes */
};

static unsigned conn_hash(const struct evhttp_connection *evcon)
{
    return (unsigned)(((uintptr_t)evcon >> 4) % CONN_BUCKETS);
}

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
    struct conn *c = arg;
    struct gw_worker *w = c->w;
    for (struct conn **pp = &w->conns_tab[conn_hash(evcon)]; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    w->conns--;
    if (w->accept_paused && w->conns < w->max_conns && w->state == W_RUNNING && w->bound) {
        evconnlistener_enable(evhttp_bound_socket_get_listener(w->bound));
        w->accept_paused = false;
    }
    struct gw_http_req *stream = c->stream;
    gw_free(c);
    if (stream)
        gw_http__connection_closed(stream);
}

static struct conn *conn_find(struct gw_worker *w, struct evhttp_connection *evcon)
{
    for (struct conn *c = w->conns_tab[conn_hash(evcon)]; c; c = c->next)
        if (c->evcon == evcon)
            return c;
    return NULL;
}

/* Counts a connection the first time it carries a request. libevent 2.1 offers no hook at
 * accept time that also reports the close, so connections that never send a complete request
 * are bounded by the idle/read timeout instead of this count. */
static void conn_track(struct gw_worker *w, struct evhttp_connection *evcon)
{
    if (!evcon || conn_find(w, evcon))
        return;
    /* no Nagle delay: the last segment of a large answer must not wait for the client's
     * delayed ACK (~40 ms per tools/list page otherwise) */
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    struct conn *c = gw_xcalloc(1, sizeof(*c));
    c->evcon = evcon;
    c->w = w;
    unsigned h = conn_hash(evcon);
    c->next = w->conns_tab[h];
    w->conns_tab[h] = c;
    evhttp_connection_set_closecb(evcon, conn_closed, c);
    w->conns++;
    if (w->conns >= w->max_conns && !w->accept_paused && w->bound) {
        evconnlistener_disable(evhttp_bound_socket_get_listener(w->bound));
        w->accept_paused = true;
        GW_LOG(GW_LOG_WARN, "net", "worker %d at its connection limit (%d); accepting paused",
               w->id, w->max_conns);
    }
}

void gw_worker__watch_stream(struct gw_worker *w, struct evhttp_connection *evcon,
                             struct gw_http_req *r)
{
    struct conn *c = evcon ? conn_find(w, evcon) : NULL;
    if (c)
        c->stream = r;
}

/* ---------- built-in routes ---------- */

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

static void on_request(struct evhttp_request *ev, void *arg)
{
    struct gw_worker *w = arg;
    struct gw_server *srv = w->srv;
    struct gw_http_req *r = gw_http__new(w, ev, srv->opts.access_log);
    if (!r) {
        evhttp_send_error(ev, 503, "Out of memory");
        return;
    }
    w->inflight++;
    conn_track(w, evhttp_request_get_connection(ev));
    if (gw_http_method(r) == GW_HTTP_OTHER) {
        gw_http_add_header(r, "Allow", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
        gw_http_reply_error(r, 405, "method_not_allowed", "HTTP method not supported");
        return;
    }
    const char *path = gw_http_path(r);
    for (int i = 0; i < srv->nroutes; i++) {
        struct route *rt = &srv->routes[i];
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

/* Whether some connection still has response bytes to write (a finished request's last
 * chunk is queued, not yet on the wire, when its handler returns). */
static bool output_pending(struct gw_worker *w)
{
    for (int i = 0; i < CONN_BUCKETS; i++)
        for (struct conn *c = w->conns_tab[i]; c; c = c->next) {
            struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
            if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > 0)
                return true;
        }
    return false;
}

static void check_stop(struct gw_worker *w)
{
    if (w->state != W_DRAINING)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    bool expired = now.tv_sec > w->drain_deadline.tv_sec ||
                   (now.tv_sec == w->drain_deadline.tv_sec &&
                    now.tv_nsec >= w->drain_deadline.tv_nsec);
    if ((w->inflight <= 0 && !output_pending(w)) || expired) {
        if (w->inflight > 0)
            GW_LOG(GW_LOG_WARN, "net", "worker %d: grace period over with %d requests in flight",
                   w->id, w->inflight);
        w->state = W_STOPPED;
        event_base_loopexit(w->base, NULL);
    }
}

static void drain_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    check_stop(arg);
}

static void begin_drain(void *arg)
{
    struct gw_worker *w = arg;
    if (w->state != W_RUNNING)
        return;
    w->state = W_DRAINING;
    if (w->bound) {
        evhttp_del_accept_socket(w->http, w->bound);
        w->bound = NULL;
    }
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
    if (delta < 0 && w->state == W_DRAINING)
        check_stop(w);
}

/* ---------- worker thread ---------- */

static void *worker_main(void *arg)
{
    struct gw_worker *w = arg;
    struct gw_server *srv = w->srv;
    tl_worker = w;
    gw_loop_set_current(w->loop);
    int rc = GW_OK;
    for (int i = 0; i < srv->nhooks && rc == GW_OK; i++)
        if (srv->hooks[i].start)
            rc = srv->hooks[i].start(w, srv->hooks[i].arg);
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
    return NULL;
}

int gw_server_new(const struct gw_net_options *opts, struct gw_server **out, struct gw_error *err)
{
    gw_loop_init_threads();
    signal(SIGPIPE, SIG_IGN);
    struct gw_server *srv = gw_xcalloc(1, sizeof(*srv));
    srv->opts = *opts;
    srv->listen = gw_xstrdup(opts->listen);
    srv->nworkers = opts->workers > 0 ? opts->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (srv->nworkers < 1)
        srv->nworkers = 1;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->cond, NULL);
    srv->workers = gw_xcalloc((size_t)srv->nworkers, sizeof(struct gw_worker));
    int per = opts->max_connections / srv->nworkers;
    int rc = GW_OK;
    for (int i = 0; i < srv->nworkers && rc == GW_OK; i++) {
        struct gw_worker *w = &srv->workers[i];
        w->id = i;
        w->srv = srv;
        w->max_conns = per > 1 ? per : 1;
        w->base = event_base_new();
        w->http = evhttp_new(w->base);
        if (!w->base || !w->http) {
            rc = GW_ERROR_SET(err, GW_ENOMEM, "cannot create event loop");
            break;
        }
        w->loop = gw_loop_new(w->base);
        evhttp_set_max_body_size(w->http, (ev_ssize_t)opts->max_body_bytes);
        evhttp_set_max_headers_size(w->http, (ev_ssize_t)opts->max_header_bytes);
        evhttp_set_timeout(w->http, opts->idle_timeout_s);
        /* every method reaches the router, which answers unknown ones with a JSON 405 (libevent
         * would send an HTML 501 page) */
        evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                                EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
                                                EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS |
                                                EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
        evhttp_set_default_content_type(w->http, "application/json");
        evhttp_set_gencb(w->http, on_request, w);
        rc = make_listener(srv, w, err);
        if (rc == GW_OK) {
            w->bound = evhttp_bind_listener(w->http, w->listener);
            if (!w->bound)
                rc = GW_ERROR_SET(err, GW_ENOMEM, "cannot bind listener");
        }
    }
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
        gw_loop_free(w->loop);
        if (w->http)
            evhttp_free(w->http);
        if (w->base)
            event_base_free(w->base);
    }
    for (int i = 0; i < srv->nroutes; i++)
        gw_free(srv->routes[i].path);
    for (int i = 0; i < srv->nchecks; i++)
        gw_free(srv->checks[i].name);
    gw_free(srv->workers);
    gw_free(srv->listen);
    pthread_mutex_destroy(&srv->lock);
    pthread_cond_destroy(&srv->cond);
    gw_free(srv);
}

void gw_server_route(struct gw_server *srv, const char *path, gw_route_fn fn, void *arg)
{
    if (srv->nroutes >= MAX_ROUTES) {
        GW_LOG(GW_LOG_FATAL, "net", "too many routes");
        abort();
    }
    struct route *rt = &srv->routes[srv->nroutes++];
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
    if (srv->nhooks >= MAX_HOOKS)
        abort();
    srv->hooks[srv->nhooks++] = (struct hook){start, stop, NULL, arg};
}

void gw_server_on_drain(struct gw_server *srv, gw_drain_fn fn, void *arg)
{
    if (srv->nhooks >= MAX_HOOKS)
        abort();
    srv->hooks[srv->nhooks++] = (struct hook){NULL, NULL, fn, arg};
}

void gw_server_add_ready_check(struct gw_server *srv, const char *name, gw_ready_fn fn,
                               void *arg)
{
    if (srv->nchecks >= MAX_HOOKS)
        abort();
    srv->checks[srv->nchecks++] = (struct ready_check){gw_xstrdup(name), fn, arg};
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
    GW_LOG(GW_LOG_INFO, "net", "listening on %s with %d workers", srv->address, srv->nworkers);
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
