/*
 * src/net/net_server.h
 * The inbound HTTP/1.1 server: N worker threads, each with its own libevent loop, all accepting
 * on the same address (SO_REUSEPORT: one listening socket per worker, the kernel spreads
 * connections). Requests are framed by llhttp in strict mode (net_parse.h).
 *
 * A request is handled entirely on the worker that accepted it. Work for another worker (e.g.
 * a client's answer to a server->client request whose waiter lives elsewhere) is handed over with
 * gw_worker_post. Nothing on a worker loop may block on the network or disk.
 * Limits enforced here (every refusal is a JSON body with its status, then the connection
 * closes): request-line/target (414), header block and field count (431), body (413), framing
 * errors (400, 501, 505); connections counted from accept(), per process and per client IP; at
 * the limit the least recently active idle connection is closed for the new one; a deadline for
 * the whole request head and one for the body (408), an idle keep-alive timeout and a send
 * timeout; at the descriptor limit accepting backs off (a reserve descriptor answers the
 * connection waiting with 503) and the warning is rate-limited. Optionally a Host/Origin check
 * (the admin API: a web page must not drive it).
 * Shutdown: stop accepting, run drain hooks (which close long-lived streams), wait for
 * in-flight requests up to the grace period, then stop the loops.
 * Not here: what a route does (src/mcp, src/admin).
 */
#ifndef GW_NET_SERVER_H
#define GW_NET_SERVER_H

#include "core/err.h"
#include "core/settings.h"
#include "net/net_loop.h"

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct gw_server;
struct gw_worker;
struct gw_http_req;
struct gw_settings;

#define GW_WORKER_SLOTS 8

struct gw_net_options {
    const char *listen;      /* "127.0.0.1:8000", "[::1]:0", "0.0.0.0:8000" */
    int workers;             /* 0 = number of online CPUs */
    size_t max_body_bytes;   /* larger bodies get 413 */
    size_t max_header_bytes; /* larger header blocks get 431 */
    int max_connections;     /* per process, split across workers, counted from accept() */
    int idle_timeout_s;      /* idle keep-alive and send (peer not reading) timeout */
    int shutdown_grace_s;    /* how long SIGTERM waits for in-flight requests */
    bool access_log;         /* one JSON line per request */
};

/* Fills opts from the GW_* settings of net_settings.c (the table must be registered). */
void gw_net_options_from_settings(struct gw_net_options *opts, const struct gw_settings *s);
extern const struct gw_setting_def gw_net_settings[];

/* A route handler owns `r` until it replies (gw_http_reply*, or a stream it ends). */
typedef void (*gw_route_fn)(struct gw_http_req *r, void *arg);
/* Called on each worker thread right after its loop exists (to create per-worker state in a
 * slot) and before it stops (to free it). Returns GW_OK or fails start-up. */
typedef int (*gw_worker_hook_fn)(struct gw_worker *w, void *arg);
/* Called on each worker when draining begins (close streams, refuse new work). */
typedef void (*gw_drain_fn)(struct gw_worker *w, void *arg);
/* Readiness probe: GW_OK when the dependency works; else fills err. May be called from any
 * thread; must not block for long (cache results of slow checks). */
typedef int (*gw_ready_fn)(void *arg, struct gw_error *err);

/* Creates the server and binds its listening sockets (so the port is known before start).
 * Fails with GW_EIO (cannot bind) or GW_EINVAL (bad address). */
int gw_server_new(const struct gw_net_options *opts, struct gw_server **out, struct gw_error *err);
void gw_server_free(struct gw_server *srv);

/* The limits beyond gw_net_options, from the settings of gw_net_settings: request-target size
 * (GW_MAX_URL_BYTES, 414), connections per client address (GW_MAX_CONNECTIONS_PER_IP, 503),
 * the head and body deadlines (GW_HEADER_TIMEOUT_SECONDS, GW_BODY_TIMEOUT_SECONDS, 408).
 * Before gw_server_start. Without it: 8 KiB, no per-address cap, 10 s, 30 s. */
void gw_server_configure(struct gw_server *srv, const struct gw_settings *s);
/* Framing refusals (400, 408, 413, 414, 431, ...) as JSON-RPC error objects {"jsonrpc":"2.0",
 * "id":null,"error":{"code":-32600,..}} (an MCP endpoint) instead of {"error":{"code",
 * "message"}}. Before gw_server_start. */
void gw_server_set_jsonrpc_errors(struct gw_server *srv, bool on);
/* Host/Origin check before routing, 403 when it fails: a request whose Origin header is
 * neither listed in `allowed_origins` (comma-separated, may be NULL) nor the same host as its
 * Host header is refused (a web page cannot drive the server), and on a loopback listener a
 * Host other than localhost/127.0.0.1/[::1] or a name in `allowed_hosts` (comma-separated, may
 * be NULL) is refused (DNS rebinding); elsewhere any Host unless `allowed_hosts` is set.
 * Strings are copied. Before gw_server_start. */
void gw_server_check_origin(struct gw_server *srv, const char *allowed_origins,
                            const char *allowed_hosts);

/* Route registration, before gw_server_start. `path` matches exactly, or as a prefix when it ends
 * with a star, e.g. "/admin/" followed by a star. First match wins; /health and /ready are built
 * in. */
void gw_server_route(struct gw_server *srv, const char *path, gw_route_fn fn, void *arg);
void gw_server_on_worker(struct gw_server *srv, gw_worker_hook_fn start, gw_worker_hook_fn stop,
                         void *arg);
void gw_server_on_drain(struct gw_server *srv, gw_drain_fn fn, void *arg);
void gw_server_add_ready_check(struct gw_server *srv, const char *name, gw_ready_fn fn,
                               void *arg);

/* The bound port (useful with port 0) and the printable listen address. */
int gw_server_port(const struct gw_server *srv);
const char *gw_server_address(const struct gw_server *srv);
bool gw_server_is_loopback(const struct gw_server *srv);

/* Starts the worker threads. Returns once they all run (or fail). */
int gw_server_start(struct gw_server *srv, struct gw_error *err);
/* Begins a graceful shutdown (async-signal-unsafe; call from a normal thread). */
void gw_server_shutdown(struct gw_server *srv);
/* Blocks until SIGTERM/SIGINT (then shuts down gracefully) and all workers have stopped. */
void gw_server_wait(struct gw_server *srv);
bool gw_server_draining(const struct gw_server *srv);

/* ---- workers ---- */
struct event_base *gw_worker_base(struct gw_worker *w);
int gw_worker_id(const struct gw_worker *w);
int gw_server_worker_count(const struct gw_server *srv);
struct gw_worker *gw_server_worker(struct gw_server *srv, int i);
struct gw_server *gw_worker_server(struct gw_worker *w);
/* The worker running on the calling thread, or NULL. */
struct gw_worker *gw_worker_current(void);
/* Per-worker state slots (index < GW_WORKER_SLOTS), set in a worker start hook. */
void gw_worker_set_slot(struct gw_worker *w, int idx, void *p);
void *gw_worker_slot(struct gw_worker *w, int idx);
struct gw_loop *gw_worker_loop(struct gw_worker *w);
/* Runs fn(arg) on worker w's loop, soon. Thread-safe; never runs fn synchronously. Returns
 * GW_OK, or GW_ERR when the worker has stopped (fn is not called). */
int gw_worker_post(struct gw_worker *w, gw_task_fn fn, void *arg);
/* Counts a long operation (e.g. a stream) as in flight so that shutdown waits for it. */
void gw_worker_inflight_add(struct gw_worker *w, int delta);

#endif
