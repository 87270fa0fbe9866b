/*
 * src/net/net_conn.c
 * One client connection: reading, framing (net_parse.c), handing complete requests to the
 * router, writing responses, keep-alive, timeouts, refusals and lingering close.
 *
 * I/O: the socket stays registered for reading from accept to close (no per-request epoll
 * changes); a read lands in the worker's scratch buffer and a request that arrived whole is
 * parsed from there, so only leftovers (a partial head, pipelined bytes) are copied into the
 * connection's own buffer. A response is written at once with writev; only what the kernel
 * does not take is copied and waits for EV_WRITE.
 * State machine (gw_conn_state; the function making each transition):
 *   WAIT --first byte--> HEAD (process) --head complete--> BODY or request_complete
 *   BODY --message complete--> HANDLER (request_complete: the router owns the request)
 *   HANDLER --reply--> FLUSH (output queued) or WAIT (keep-alive) or closed
 *   HANDLER --stream begin--> STREAM --stream end--> FLUSH / WAIT / closed
 *   HEAD/BODY --framing error or deadline--> LINGER (gw_http__refuse, start_linger) --> closed
 *   any --peer gone, error, idle/send deadline, eviction--> DEAD (conn_kill)
 * Invariants: (1) a connection is in at most one timeout list; HANDLER and STREAM are only in
 * WRITE while output is stuck; (2) the structure is freed only when DEAD, no request holds it,
 * no callback of its own is running and no close notification is queued (conn_maybe_free);
 * (3) bytes in `in` always start at a request boundary; (4) EOF while a request is handled is
 * a half-close: the whole response is still written, then the connection closes; EOF during a
 * stream means the client has gone (its close callback runs, from the loop, never from inside
 * a call the handler made).
 */
#include "net/net_internal.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ARENA_BUDGET (8u << 20)
#define IN_EXTRA (64u * 1024u)         /* pipelined bytes kept beyond a head while handling */
#define STREAM_MAX_QUEUED (8u << 20)   /* a stream's unsent bytes before its client is dropped */
#define LINGER_MS 2000
#define LINGER_MAX_BYTES (1u << 20)
#define READS_PER_WAKE 4

int64_t gw_net__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------- timeout lists ---------- */

static void q_remove(struct gw_conn *c)
{
    if (c->list == GW_CL_NONE)
        return;
    struct gw_conn_q *q = &c->w->q[c->list];
    if (c->prev)
        c->prev->next = c->next;
    else
        q->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        q->tail = c->prev;
    c->prev = c->next = NULL;
    q->count--;
    c->list = GW_CL_NONE;
}

static void arm_timer(struct gw_worker *w, int64_t at, int64_t now)
{
    if (w->timer_at && w->timer_at <= at)
        return;
    int64_t d = at - now + 1;
    if (d < 1)
        d = 1;
    struct timeval tv = {(time_t)(d / 1000), (suseconds_t)((d % 1000) * 1000)};
    event_add(w->timer, &tv);
    w->timer_at = at;
}

static void q_append(struct gw_conn *c, enum gw_conn_list l, int64_t now)
{
    q_remove(c);
    struct gw_conn_q *q = &c->w->q[l];
    c->list = l;
    c->since_ms = now;
    c->deadline_ms = now + q->timeout_ms;
    c->prev = q->tail;
    c->next = NULL;
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    q->count++;
    arm_timer(c->w, c->deadline_ms, now);
}

/* ---------- lifetime ---------- */

static void conn_maybe_free(struct gw_conn *c)
{
    if (c->st != GW_CS_DEAD || c->req || c->in_cb || c->notify_pending)
        return;
    struct gw_worker *w = c->w;
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        w->all = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
    gw_free(c->in);
    gw_free(c->out);
    gw_free(c);
}

static void queue_notify(struct gw_conn *c)
{
    if (c->notify_pending)
        return;
    c->notify_pending = true;
    c->notify_next = c->w->notify_head;
    c->w->notify_head = c;
    event_active(c->w->notify_ev, EV_READ, 0);
}

/* Closes the socket. A request still held by a handler learns it (gone); an open stream's
 * close callback is queued. */
static void conn_kill(struct gw_conn *c)
{
    if (c->st == GW_CS_DEAD)
        return;
    struct gw_worker *w = c->w;
    q_remove(c);
    if (c->rev)
        event_free(c->rev);
    if (c->wev)
        event_free(c->wev);
    c->rev = c->wev = NULL;
    c->wr_armed = false;
    if (c->out_len)
        w->pending_out--;
    c->out_len = c->out_off = 0;
    c->in_len = 0;
    close(c->fd);
    c->fd = -1;
    c->st = GW_CS_DEAD;
    gw_arena_free(c->arena);
    c->arena = NULL;
    gw_http_parser_fini(&c->parser);
    w->conns--;
    struct gw_ip_entry *ip = c->ip;
    c->ip = NULL;
    gw_server__conn_closed(w, ip);
    if (c->req && gw_http__streaming(c->req) && gw_http__has_close_cb(c->req))
        queue_notify(c);
    else if (c->req)
        gw_http__connection_closed_quiet(c->req);
    conn_maybe_free(c);
}

void gw_conn__close(struct gw_conn *c)
{
    conn_kill(c);
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_worker *w = arg;
    struct gw_conn *c;
    while ((c = w->notify_head) != NULL) {
        w->notify_head = c->notify_next;
        c->notify_pending = false;
        c->in_cb = true;
        if (c->req)
            gw_http__connection_closed(c->req); /* may end the stream: detaches the request */
        c->in_cb = false;
        conn_maybe_free(c);
    }
}

/* ---------- reading ---------- */

static void pause_reading(struct gw_conn *c)
{
    if (!c->rd_paused && c->rev) {
        event_del(c->rev);
        c->rd_paused = true;
    }
}

static void resume_reading(struct gw_conn *c)
{
    if (c->rd_paused && !c->rd_eof && c->rev) {
        event_add(c->rev, NULL);
        c->rd_paused = false;
    }
}

static bool accepting_input(const struct gw_conn *c)
{
    return c->st == GW_CS_WAIT || c->st == GW_CS_HEAD || c->st == GW_CS_BODY;
}

/* Room for at least one more read in `in` (bounded: a head plus some pipelined bytes). */
static bool in_reserve(struct gw_conn *c, size_t want)
{
    size_t limit = c->w->srv->limits.max_head + IN_EXTRA;
    if (c->in_len >= limit)
        return false;
    if (c->in_cap - c->in_len >= want)
        return true;
    size_t cap = c->in_cap ? c->in_cap : 4096;
    while (cap - c->in_len < want && cap < limit)
        cap *= 2;
    if (cap > limit)
        cap = limit;
    char *n = gw_tryrealloc(c->in, cap);
    if (!n)
        return false;
    c->in = n;
    c->in_cap = cap;
    return true;
}

static bool keep_input(struct gw_conn *c, const char *p, size_t n)
{
    if (!in_reserve(c, n) || c->in_cap - c->in_len < n)
        return false;
    memmove(c->in + c->in_len, p, n);
    c->in_len += n;
    return true;
}

/* Whether unprocessed bytes still matter (not after a refusal or close). */
static bool keeps_input(const struct gw_conn *c)
{
    return c->st != GW_CS_DEAD && c->st != GW_CS_LINGER && !c->linger_after;
}

static void send_continue(struct gw_conn *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct iovec iov = {(void *)cont, sizeof(cont) - 1};
    gw_conn__send(c, &iov, 1);
}

static void request_complete(struct gw_conn *c)
{
    q_remove(c);
    size_t blen = 0;
    char *body = gw_http_parser_take_body(&c->parser, &blen);
    struct gw_arena *a = c->arena;
    c->arena = NULL;
    struct gw_http_req *r = gw_http__new(c, a, body, blen); /* takes a and body */
    gw_http_parser_next(&c->parser);
    if (!r) {
        gw_http__refuse(c, 503, "out of memory");
        return;
    }
    c->req = r;
    c->st = GW_CS_HANDLER;
    c->w->inflight++;
    gw_server__dispatch(c->w, r);
}

/* Parses and dispatches what buf[0..len) holds. Returns the bytes consumed; the rest (a
 * partial head, or bytes after a request being handled) must be kept by the caller. */
static size_t process_loop(struct gw_conn *c, const char *buf, size_t len);

static size_t process(struct gw_conn *c, const char *buf, size_t len)
{
    c->in_process = true; /* a handler answering synchronously returns into this loop */
    size_t used = process_loop(c, buf, len);
    c->in_process = false;
    return used;
}

static size_t process_loop(struct gw_conn *c, const char *buf, size_t len)
{
    size_t off = 0;
    for (;;) {
        switch (c->st) {
        case GW_CS_WAIT:
            if (off == len)
                return off;
            c->st = GW_CS_HEAD;
            continue;
        case GW_CS_HEAD: {
            if (!c->arena && !(c->arena = gw_arena_new(ARENA_BUDGET))) {
                gw_http__refuse(c, 503, "out of memory");
                return len;
            }
            int rc = gw_http_parser_head(&c->parser, buf + off, len - off, c->arena, &c->head);
            if (rc == GW_AGAIN) {
                if (c->list != GW_CL_HEAD)
                    q_append(c, GW_CL_HEAD, gw_net__now_ms());
                return off;
            }
            if (rc < 0) {
                gw_http__refuse(c, gw_http_parser_status(&c->parser),
                                gw_http_parser_reason(&c->parser));
                return len;
            }
            off += (size_t)rc;
            if (gw_http_parser_state(&c->parser) == GW_HP_DONE) {
                request_complete(c);
                break;
            }
            c->st = GW_CS_BODY;
            q_append(c, GW_CL_BODY, gw_net__now_ms());
            if (c->head.expect_continue && off == len)
                send_continue(c);
            break;
        }
        case GW_CS_BODY: {
            size_t used = 0;
            int rc = gw_http_parser_body(&c->parser, buf + off, len - off, &used);
            off += used;
            if (rc == GW_AGAIN)
                return off;
            if (rc < 0) {
                gw_http__refuse(c, gw_http_parser_status(&c->parser),
                                gw_http_parser_reason(&c->parser));
                return len;
            }
            request_complete(c);
            break;
        }
        default:
            return off;
        }
    }
}

/* Processes what `in` holds (a partial head completed, or pipelined requests). */
static void consume_buffered(struct gw_conn *c)
{
    if (!c->in_len || !accepting_input(c))
        return;
    size_t before = c->in_len;
    size_t used = process(c, c->in, before);
    if (c->in_len != before) /* refused or closed: the buffer was discarded */
        return;
    if (used) {
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
    }
    if (!c->in_len && c->in_cap > 16384) { /* an idle connection keeps no big buffer */
        gw_free_null(&c->in);
        c->in_cap = 0;
    }
}

static void start_linger(struct gw_conn *c)
{
    if (c->rd_eof) {
        conn_kill(c);
        return;
    }
    shutdown(c->fd, SHUT_WR);
    c->st = GW_CS_LINGER;
    c->in_len = 0;
    c->lingered = 0;
    q_append(c, GW_CL_LINGER, gw_net__now_ms());
    resume_reading(c);
}

/* Reads and discards until the peer closes (so the refusal is not destroyed by a reset). */
static void linger_read(struct gw_conn *c)
{
    for (int i = 0; i < READS_PER_WAKE; i++) {
        ssize_t n = read(c->fd, c->w->scratch, sizeof(c->w->scratch));
        if (n > 0) {
            c->lingered += (size_t)n;
            if (c->lingered > LINGER_MAX_BYTES) {
                conn_kill(c);
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_kill(c);
        return;
    }
}

static void on_eof(struct gw_conn *c)
{
    c->rd_eof = true;
    pause_reading(c);
    switch (c->st) {
    case GW_CS_HANDLER:
    case GW_CS_FLUSH:
        return; /* half-close: the response is still written in full, then we close */
    default:
        conn_kill(c); /* nothing asked, an incomplete request, or a stream's client gone */
        return;
    }
}

static void pump(struct gw_conn *c)
{
    struct gw_worker *w = c->w;
    consume_buffered(c);
    for (int i = 0; i < READS_PER_WAKE; i++) {
        if (c->st == GW_CS_DEAD)
            return;
        if (c->st == GW_CS_LINGER) {
            linger_read(c);
            return;
        }
        bool scratch = c->in_len == 0 && accepting_input(c);
        char *dst;
        size_t room;
        if (scratch) {
            dst = w->scratch;
            room = sizeof(w->scratch);
        } else {
            if (!in_reserve(c, 4096)) {
                pause_reading(c); /* resumed when the request being handled is answered */
                return;
            }
            dst = c->in + c->in_len;
            room = c->in_cap - c->in_len;
        }
        ssize_t n = read(c->fd, dst, room);
        if (n > 0) {
            if (scratch) {
                size_t used = process(c, dst, (size_t)n);
                if (used < (size_t)n && keeps_input(c) &&
                    !keep_input(c, dst + used, (size_t)n - used)) {
                    gw_http__refuse(c, 503, "out of memory");
                    return;
                }
            } else {
                c->in_len += (size_t)n;
                consume_buffered(c);
            }
            if ((size_t)n < room)
                return;
            continue;
        }
        if (n == 0) {
            on_eof(c);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            conn_kill(c); /* reset by the peer, ... */
        return;
    }
}

/* The end of each of the connection's callbacks: a half-closed connection whose requests are
 * all answered closes; a dead one is freed if nothing holds it. */
static void callback_done(struct gw_conn *c)
{
    if (c->st == GW_CS_WAIT && c->rd_eof && !c->in_len)
        conn_kill(c);
    c->in_cb = false;
    conn_maybe_free(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_conn *c = arg;
    c->in_cb = true;
    pump(c);
    callback_done(c);
}

/* ---------- writing ---------- */

static void finish_response(struct gw_conn *c);

static void output_drained(struct gw_conn *c)
{
    switch (c->st) {
    case GW_CS_FLUSH:
        finish_response(c);
        break;
    case GW_CS_HEAD:
        q_append(c, GW_CL_HEAD, gw_net__now_ms());
        break;
    case GW_CS_BODY:
        q_append(c, GW_CL_BODY, gw_net__now_ms());
        break;
    default:
        break;
    }
}

static void flush_out(struct gw_conn *c)
{
    bool progress = false;
    while (c->out_len) {
        ssize_t k = write(c->fd, c->out + c->out_off, c->out_len);
        if (k > 0) {
            c->out_off += (size_t)k;
            c->out_len -= (size_t)k;
            progress = true;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_kill(c);
        return;
    }
    if (c->out_len == 0) {
        c->out_off = 0;
        if (c->out_cap > 65536) { /* a large answer's buffer is not kept for the next one */
            gw_free_null(&c->out);
            c->out_cap = 0;
        }
        c->w->pending_out--;
        if (c->wr_armed) {
            event_del(c->wev);
            c->wr_armed = false;
        }
        if (c->list == GW_CL_WRITE)
            q_remove(c);
        output_drained(c);
    } else if (progress) {
        q_append(c, GW_CL_WRITE, gw_net__now_ms()); /* the send deadline counts from progress */
    }
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_conn *c = arg;
    c->in_cb = true;
    flush_out(c);
    callback_done(c);
}

void gw_conn__send(struct gw_conn *c, const struct iovec *iov, int n)
{
    if (c->st == GW_CS_DEAD || c->st == GW_CS_LINGER)
        return;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (!total)
        return;
    size_t done = 0;
    if (!c->out_len) {
        ssize_t k;
        do {
            k = writev(c->fd, iov, n);
        } while (k < 0 && errno == EINTR);
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            conn_kill(c);
            return;
        }
        done = k > 0 ? (size_t)k : 0;
        if (done == total)
            return;
    }
    size_t rest = total - done;
    if (c->st == GW_CS_STREAM && c->out_len + rest > STREAM_MAX_QUEUED) {
        conn_kill(c); /* the client stopped reading its stream */
        return;
    }
    if (c->out_off && c->out_off + c->out_len + rest > c->out_cap) {
        memmove(c->out, c->out + c->out_off, c->out_len);
        c->out_off = 0;
    }
    if (c->out_len + rest > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 16384;
        while (cap < c->out_len + rest)
            cap *= 2;
        char *nb = gw_tryrealloc(c->out, cap);
        if (!nb) {
            conn_kill(c);
            return;
        }
        c->out = nb;
        c->out_cap = cap;
    }
    bool was_empty = c->out_len == 0;
    char *dst = c->out + c->out_off + c->out_len;
    for (int i = 0; i < n; i++) {
        size_t l = iov[i].iov_len;
        const char *p = iov[i].iov_base;
        if (done >= l) {
            done -= l;
            continue;
        }
        memcpy(dst, p + done, l - done);
        dst += l - done;
        c->out_len += l - done;
        done = 0;
    }
    if (was_empty) {
        c->w->pending_out++;
        event_add(c->wev, NULL);
        c->wr_armed = true;
        q_append(c, GW_CL_WRITE, gw_net__now_ms());
    }
}

/* ---------- end of a response ---------- */

bool gw_conn__can_keep(const struct gw_conn *c)
{
    /* after a half-close only the requests already received are still answered */
    return c->st != GW_CS_DEAD && (!c->rd_eof || c->in_len > 0) &&
           gw_http_parser_state(&c->parser) != GW_HP_ERROR && c->w->state != GW_W_STOPPED;
}

static void finish_response(struct gw_conn *c)
{
    if (c->close_after || (c->rd_eof && !c->in_len && !c->in_process)) {
        if (c->linger_after)
            start_linger(c);
        else
            conn_kill(c);
        return;
    }
    c->st = GW_CS_WAIT;
    q_append(c, GW_CL_IDLE, gw_net__now_ms());
    gw_server__conn_idle(c->w);
    resume_reading(c);
    /* pipelined bytes: processed from the loop, never inside the handler's reply call (when
     * the answer came synchronously, the processing loop that called the handler goes on) */
    if (c->in_len && !c->in_process && c->rev)
        event_active(c->rev, EV_READ, 0);
}

void gw_conn__response_done(struct gw_conn *c, bool keep)
{
    c->req = NULL;
    if (c->st == GW_CS_DEAD) {
        conn_maybe_free(c);
        return;
    }
    c->close_after = !(keep && gw_conn__can_keep(c));
    c->linger_after = false;
    if (c->out_len) {
        c->st = GW_CS_FLUSH;
        return;
    }
    finish_response(c);
}

void gw_conn__refused(struct gw_conn *c)
{
    if (c->st == GW_CS_DEAD)
        return;
    q_remove(c);
    gw_arena_free(c->arena);
    c->arena = NULL;
    c->in_len = 0;
    c->close_after = true;
    c->linger_after = true;
    if (c->out_len) {
        c->st = GW_CS_FLUSH;
        return;
    }
    start_linger(c);
}

/* ---------- timers, eviction, open, shutdown ---------- */

static void expire(struct gw_conn *c, enum gw_conn_list l)
{
    c->in_cb = true;
    switch (l) {
    case GW_CL_HEAD:
        gw_http__refuse(c, 408, "request head not received in time");
        break;
    case GW_CL_BODY:
        gw_http__refuse(c, 408, "request body not received in time");
        break;
    default:
        conn_kill(c); /* idle, never spoke, not reading its response, or done lingering */
        break;
    }
    c->in_cb = false;
    conn_maybe_free(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gw_worker *w = arg;
    w->timer_at = 0;
    int64_t now = gw_net__now_ms();
    for (int l = 0; l < GW_CL_COUNT; l++) {
        struct gw_conn *c;
        while ((c = w->q[l].head) != NULL && c->deadline_ms <= now) {
            q_remove(c);
            expire(c, (enum gw_conn_list)l);
        }
    }
    int64_t next = 0;
    for (int l = 0; l < GW_CL_COUNT; l++) {
        struct gw_conn *c = w->q[l].head;
        if (c && (!next || c->deadline_ms < next))
            next = c->deadline_ms;
    }
    if (next)
        arm_timer(w, next, now);
}

/* Whether bytes (or the peer's EOF) wait unread on the socket: a connection accepted a moment
 * ago whose request is already there is not idle, only not read yet. */
static bool has_input(const struct gw_conn *c)
{
    char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0;
}

/* The oldest connection of list `l` that is really idle (looks at a few at most). */
static struct gw_conn *idle_candidate(struct gw_worker *w, enum gw_conn_list l)
{
    int looked = 0;
    for (struct gw_conn *c = w->q[l].head; c && looked < 16; c = c->next, looked++)
        if (!has_input(c))
            return c;
    return NULL;
}

bool gw_conn__evict_one(struct gw_worker *w)
{
    struct gw_conn *f = idle_candidate(w, GW_CL_FRESH), *i = idle_candidate(w, GW_CL_IDLE);
    struct gw_conn *victim = f && (!i || f->since_ms <= i->since_ms) ? f : i;
    if (!victim)
        victim = w->q[GW_CL_HEAD].head; /* a slow head (slowloris) before a busy request */
    if (!victim)
        return false;
    w->evicted++;
    conn_kill(victim);
    return true;
}

void gw_conn__worker_init(struct gw_worker *w)
{
    const struct gw_net_options *o = &w->srv->opts;
    const struct gw_net_guard *g = &w->srv->guard;
    for (int l = 0; l < GW_CL_COUNT; l++)
        w->q[l] = (struct gw_conn_q){0};
    w->q[GW_CL_FRESH].timeout_ms = (int64_t)g->header_timeout_s * 1000;
    w->q[GW_CL_IDLE].timeout_ms = (int64_t)o->idle_timeout_s * 1000;
    w->q[GW_CL_HEAD].timeout_ms = (int64_t)g->header_timeout_s * 1000;
    w->q[GW_CL_BODY].timeout_ms = (int64_t)g->body_timeout_s * 1000;
    w->q[GW_CL_WRITE].timeout_ms = (int64_t)o->idle_timeout_s * 1000;
    w->q[GW_CL_LINGER].timeout_ms = LINGER_MS;
    w->timer = evtimer_new(w->base, on_timer, w);
    w->notify_ev = event_new(w->base, -1, 0, on_notify, w);
}

bool gw_conn__open(struct gw_worker *w, int fd, const struct sockaddr_storage *sa,
                   struct gw_ip_entry *ip)
{
    struct gw_conn *c = gw_trycalloc(1, sizeof(*c));
    if (!c)
        return false;
    c->w = w;
    c->fd = fd;
    c->ip = ip;
    c->list = GW_CL_NONE;
    if (sa->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, c->peer,
                  sizeof(c->peer));
    else if (sa->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, c->peer,
                  sizeof(c->peer));
    if (!c->peer[0])
        memcpy(c->peer, "-", 2);
    gw_http_parser_init(&c->parser, &w->srv->limits);
    c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    if (!c->rev || !c->wev || event_add(c->rev, NULL) != 0) {
        if (c->rev)
            event_free(c->rev);
        if (c->wev)
            event_free(c->wev);
        gw_free(c);
        return false;
    }
    c->all_next = w->all;
    if (w->all)
        w->all->all_prev = c;
    w->all = c;
    w->conns++;
    c->st = GW_CS_WAIT;
    q_append(c, GW_CL_FRESH, gw_net__now_ms());
    return true;
}

void gw_conn__close_all(struct gw_worker *w)
{
    /* the loop has stopped: queued notifications will never run */
    for (struct gw_conn *c = w->notify_head; c; c = c->notify_next)
        c->notify_pending = false;
    w->notify_head = NULL;
    while (w->all) {
        struct gw_conn *c = w->all;
        if (c->req) {
            struct gw_http_req *r = c->req;
            c->req = NULL;
            gw_http__abandon(r);
        }
        c->in_cb = false;
        conn_kill(c);
        if (w->all == c) /* conn_kill freed nothing (already dead): free it here */
            conn_maybe_free(c);
    }
    if (w->timer)
        event_free(w->timer);
    if (w->notify_ev)
        event_free(w->notify_ev);
    w->timer = w->notify_ev = NULL;
    w->timer_at = 0;
}

bool gw_conn__output_pending(const struct gw_worker *w)
{
    return w->pending_out > 0;
}
