/*
 * src/net/net_internal.h
 * Internal to src/net: the worker, server and connection structures shared by net_server.c
 * (workers, listeners, accounting, routing, drain), net_conn.c (connection I/O, framing,
 * timeouts) and net_http.c (the request object and its replies). Nothing outside src/net
 * includes this file.
 *
 * Timeouts are kept as h2o does: one list per kind of wait, each with a constant duration, so a
 * connection always joins a list at its tail and every list stays sorted by deadline; one timer
 * per worker is armed for the earliest head. Entering a list is O(1) and costs no syscall.
 */
#ifndef GW_NET_INTERNAL_H
#define GW_NET_INTERNAL_H

#include "core/buf.h"
#include "net/net_http.h"
#include "net/net_parse.h"
#include "net/net_server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

struct event;
struct event_base;
struct sockaddr_storage;

#define GW_NET_MAX_ROUTES 64
#define GW_NET_MAX_HOOKS 16
#define GW_NET_SCRATCH (64u * 1024u)

/* What a connection waits for; each wait but HANDLER and STREAM has a timeout list. */
enum gw_conn_state {
    GW_CS_WAIT,    /* no byte of the next request yet (new: FRESH list; kept alive: IDLE) */
    GW_CS_HEAD,    /* part of a request head buffered (HEAD list: header deadline) */
    GW_CS_BODY,    /* head done, body arriving (BODY list: body deadline) */
    GW_CS_HANDLER, /* a route handler owns the request; nothing timed here */
    GW_CS_STREAM,  /* a streamed response is open (WRITE list only while output is stuck) */
    GW_CS_FLUSH,   /* response complete, output still queued (WRITE list) */
    GW_CS_LINGER,  /* refused: output sent, write side shut, unread input discarded */
    GW_CS_DEAD     /* socket closed; the structure waits for its request to be released */
};

enum gw_conn_list {
    GW_CL_NONE = -1,
    GW_CL_FRESH = 0, /* accepted, nothing received: header timeout, evictable */
    GW_CL_IDLE,      /* kept alive between requests: idle timeout, evictable */
    GW_CL_HEAD,      /* head in progress: header timeout, evictable last */
    GW_CL_BODY,      /* body in progress: body timeout */
    GW_CL_WRITE,     /* output queued and the peer not reading: send timeout */
    GW_CL_LINGER,    /* lingering close */
    GW_CL_COUNT
};

struct gw_conn_q {
    struct gw_conn *head, *tail;
    int64_t timeout_ms;
    unsigned count;
};

struct gw_ip_entry;

struct gw_conn {
    struct gw_conn *prev, *next;         /* in the list `list` */
    struct gw_conn *all_prev, *all_next; /* every connection of the worker */
    struct gw_conn *notify_next;         /* pending close notification */
    enum gw_conn_list list;
    enum gw_conn_state st;
    int64_t deadline_ms;
    int64_t since_ms; /* when it joined its list (age for eviction) */
    struct gw_worker *w;
    int fd;
    struct event *rev, *wev;
    struct gw_http_parser parser;
    struct gw_http_head head;
    struct gw_arena *arena; /* of the request being read */
    char *in;               /* unprocessed input, starting at a request boundary */
    size_t in_len, in_cap;
    char *out; /* queued output */
    size_t out_off, out_len, out_cap;
    size_t lingered; /* bytes discarded while lingering */
    struct gw_http_req *req;
    struct gw_ip_entry *ip;
    char peer[48];
    bool rd_eof;      /* the peer shut its write side */
    bool wr_armed;    /* wev is pending */
    bool rd_paused;   /* rev removed (input buffer full, or EOF) */
    bool in_cb;       /* inside one of this connection's callbacks: freeing is deferred */
    bool in_process;  /* inside process(): input after the current request is its to handle */
    bool notify_pending;
    bool close_after; /* close once the queued output is written */
    bool linger_after;
};

struct gw_route {
    char *path;
    size_t len;
    bool prefix;
    gw_route_fn fn;
    void *arg;
};

struct gw_hook {
    gw_worker_hook_fn start, stop;
    gw_drain_fn drain;
    void *arg;
};

struct gw_ready_check {
    char *name;
    gw_ready_fn fn;
    void *arg;
};

enum gw_worker_state { GW_W_RUNNING, GW_W_DRAINING, GW_W_STOPPED };

/* A rate-limited warning: at most one line per window, with the count of what was folded. */
struct gw_warn_limit {
    int64_t last_ms;
    unsigned long folded;
};

struct gw_worker {
    int id;
    struct gw_server *srv;
    pthread_t thread;
    struct event_base *base;
    struct gw_loop *loop;
    enum gw_worker_state state;
    /* listening */
    int lfd;
    struct event *lev;
    struct event *backoff_ev;
    int64_t backoff_ms;
    bool accept_paused;  /* at the connection limit with nothing to evict */
    bool accept_backoff; /* descriptor or memory shortage: retry later */
    int reserve_fd;      /* /dev/null, given up to refuse a connection at the fd limit */
    /* connections */
    int conns, max_conns;
    struct gw_conn *all;
    struct gw_conn_q q[GW_CL_COUNT];
    struct event *timer;
    int64_t timer_at; /* when the armed timer fires; 0 = not armed */
    struct gw_conn *notify_head;
    struct event *notify_ev;
    int pending_out; /* connections with queued output */
    struct gw_warn_limit warn_evict, warn_accept, warn_ip;
    unsigned long evicted, refused_ip;
    /* requests */
    int inflight;
    struct event *drain_timer;
    struct timespec drain_deadline;
    void *slots[GW_WORKER_SLOTS];
    int start_rc;
    /* scratch */
    char scratch[GW_NET_SCRATCH];
    struct gw_buf *hbuf; /* response heads */
    char date[40];
    time_t date_at;
};

struct gw_ip_table;

/* What gw_server_configure / _set_jsonrpc_errors / _check_origin set. */
struct gw_net_guard {
    int max_connections_per_ip; /* 0: no cap */
    int header_timeout_s;
    int body_timeout_s;
    bool jsonrpc_errors;
    bool check_origin;
};

struct gw_server {
    struct gw_net_options opts;
    struct gw_net_guard guard;
    char *listen;
    char *allowed_origins, *allowed_hosts;
    char address[128];
    int port;
    bool loopback;
    int nworkers;
    int max_connections; /* effective: bounded by the descriptor limit */
    struct gw_worker *workers;
    struct gw_route routes[GW_NET_MAX_ROUTES];
    int nroutes;
    struct gw_hook hooks[GW_NET_MAX_HOOKS];
    int nhooks;
    struct gw_ready_check checks[GW_NET_MAX_HOOKS];
    int nchecks;
    struct gw_ip_table *ips;
    struct gw_http_limits limits;
    atomic_bool draining;
    atomic_int started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

/* ---- clock ---- */
int64_t gw_net__now_ms(void);

/* ---- net_conn.c ---- */
/* Takes an accepted, non-blocking socket. Returns false (socket closed) on failure. */
bool gw_conn__open(struct gw_worker *w, int fd, const struct sockaddr_storage *sa,
                   struct gw_ip_entry *ip);
/* Queues bytes for the peer: written at once when nothing is queued, the rest copied. */
void gw_conn__send(struct gw_conn *c, const struct iovec *iov, int n);
/* The response to the current request is complete (or abandoned); `keep` allows another
 * request on the connection. Detaches the request. */
void gw_conn__response_done(struct gw_conn *c, bool keep);
/* The connection may carry another request after this one. */
bool gw_conn__can_keep(const struct gw_conn *c);
/* Closes the socket at once (no response). The structure lives on while a request holds it. */
void gw_conn__close(struct gw_conn *c);
/* A refusal has been queued: close after it is written, lingering to read what the peer still
 * sends (so that the answer is not destroyed by a reset). */
void gw_conn__refused(struct gw_conn *c);
/* Closes the least recently active evictable connection (waiting for a request or reading a
 * head). Returns false when there is none. */
bool gw_conn__evict_one(struct gw_worker *w);
/* The timeout lists' timer and the deferred close notifications. */
void gw_conn__worker_init(struct gw_worker *w);
/* Closes and frees every connection (worker stopping); abandoned requests are freed. */
void gw_conn__close_all(struct gw_worker *w);
/* Bytes waiting to be written on any connection. */
bool gw_conn__output_pending(const struct gw_worker *w);
/* A connection closed: per-IP count, and the listener may accept again. */
void gw_server__conn_closed(struct gw_worker *w, struct gw_ip_entry *ip);
/* A connection became evictable (idle): a listener paused at the limit may accept again. */
void gw_server__conn_idle(struct gw_worker *w);

/* ---- net_http.c ---- */
/* Builds the request from the connection's parsed head; the arena and body move into it. */
struct gw_http_req *gw_http__new(struct gw_conn *c, struct gw_arena *a, char *body,
                                 size_t body_len);
/* Answers a framing error: JSON body (JSON-RPC shaped when the server says so), Connection:
 * close. */
void gw_http__refuse(struct gw_conn *c, int status, const char *reason);
/* The whole refusal response (head and JSON body) in `b`; returns its length. */
size_t gw_http__refusal(struct gw_worker *w, int status, const char *reason, struct gw_buf *b);
/* The worker is stopping with `r` still owned by a handler: frees it without a reply. */
void gw_http__abandon(struct gw_http_req *r);
bool gw_http__streaming(const struct gw_http_req *r);
/* The client connection closed: marks the request gone and runs its close callback (once). */
void gw_http__connection_closed(struct gw_http_req *r);
/* The same without the callback (the request is not streaming). */
void gw_http__connection_closed_quiet(struct gw_http_req *r);
int gw_http__status(const struct gw_http_req *r);
bool gw_http__has_close_cb(const struct gw_http_req *r);

/* ---- net_server.c ---- */
/* Routes a complete request (origin check, 405, routes, 404). */
void gw_server__dispatch(struct gw_worker *w, struct gw_http_req *r);
/* Rate-limited warning (one line per 10 s per limiter; the lines folded meanwhile are
 * counted in the next). Returns whether the line was written. */
bool gw_net__warn(struct gw_warn_limit *lim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
