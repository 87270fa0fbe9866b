/*
 * tests/unit/httpc/httpc_test_raw.h
 * A raw-socket HTTP/1.1 test server (header-only, static functions) for faults that evhttp
 * cannot produce: it reads a whole request and then resets the connection (RST, no answer),
 * the way an upstream that crashed after processing a write looks to the client. One thread,
 * poll() over the listener and up to RAW_MAX_CONNS keep-alive connections on 127.0.0.1:0.
 * Routes by request line: "... /reset..." -> counted, then RST; "... /close..." -> 200 with
 * keep-alive promised, then the server closes the connection (FIN) a moment later, as an
 * upstream's idle timeout does; anything else -> 200 with a small JSON body, keep-alive.
 * Counters (atomics) say how many requests and connections arrived, so a test can prove a
 * request reached the server exactly once.
 * raw_start_with() replaces those routes with the test's own answer function (the native
 * client's wire tests script every byte of the answer that way).
 * Not a product component: minimal parsing (Content-Length bodies only, no chunked uploads).
 */
#ifndef GW_TEST_HTTPC_TEST_RAW_H
#define GW_TEST_HTTPC_TEST_RAW_H

#include "core/alloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define RAW_FN static __attribute__((unused))
#define RAW_MAX_CONNS 32
#define RAW_BUF 16384

struct raw_conn {
    int fd;
    size_t len;
    char buf[RAW_BUF];
};

struct raw_server;
/* Serves every complete request buffered on c; returns false when the connection is gone. */
typedef bool (*raw_serve_fn)(struct raw_server *s, struct raw_conn *c);

struct raw_server {
    raw_serve_fn serve; /* raw_serve unless raw_start_with gave another */
    void *ud;           /* the other one's data */
    int lfd;
    int stop_pipe[2];
    int port;
    pthread_t thread;
    struct raw_conn conns[RAW_MAX_CONNS];
    atomic_int requests;    /* complete requests read */
    atomic_int resets;      /* requests answered with a reset */
    atomic_int posts;       /* POST requests read */
    atomic_int connections; /* connections accepted */
};

/* Closes a connection with RST instead of FIN (SO_LINGER with a zero timeout). */
RAW_FN void raw_reset(struct raw_conn *c)
{
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

/* Length of the first complete request in c->buf (headers + Content-Length body), 0 if more
 * bytes are needed. */
RAW_FN size_t raw_complete(const struct raw_conn *c)
{
    const char *end = NULL;
    for (size_t i = 0; i + 3 < c->len; i++) {
        if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0) {
            end = c->buf + i + 4;
            break;
        }
    }
    if (!end)
        return 0;
    size_t head = (size_t)(end - c->buf), body = 0;
    for (const char *p = c->buf; p < end; p++) {
        if ((p == c->buf || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0) {
            for (const char *q = p + 15; q < end && *q != '\r'; q++)
                if (*q >= '0' && *q <= '9')
                    body = body * 10 + (size_t)(*q - '0');
        }
    }
    return c->len >= head + body ? head + body : 0;
}

/* Serves every complete request buffered on c; returns false when the connection is gone. */
RAW_FN bool raw_serve(struct raw_server *s, struct raw_conn *c)
{
    size_t n;
    while ((n = raw_complete(c)) > 0) {
        atomic_fetch_add(&s->requests, 1);
        if (strncmp(c->buf, "POST ", 5) == 0)
            atomic_fetch_add(&s->posts, 1);
        const char *sp = memchr(c->buf, ' ', n);
        if (sp && strncmp(sp + 1, "/reset", 6) == 0) {
            atomic_fetch_add(&s->resets, 1);
            raw_reset(c);
            return false;
        }
        static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                    "Content-Length: 11\r\nConnection: keep-alive\r\n\r\n"
                                    "{\"ok\":true}";
        if (write(c->fd, reply, sizeof(reply) - 1) != (ssize_t)(sizeof(reply) - 1)) {
            raw_reset(c);
            return false;
        }
        if (sp && strncmp(sp + 1, "/close", 6) == 0) {
            usleep(20000); /* after the client has taken the answer and parked the connection */
            close(c->fd);
            c->fd = -1;
            c->len = 0;
            return false;
        }
        memmove(c->buf, c->buf + n, c->len - n);
        c->len -= n;
    }
    return true;
}

RAW_FN void *raw_thread(void *arg)
{
    struct raw_server *s = arg;
    for (;;) {
        struct pollfd pf[RAW_MAX_CONNS + 2];
        int idx[RAW_MAX_CONNS + 2];
        nfds_t np = 0;
        pf[np].fd = s->stop_pipe[0];
        pf[np++].events = POLLIN;
        pf[np].fd = s->lfd;
        pf[np++].events = POLLIN;
        for (int i = 0; i < RAW_MAX_CONNS; i++) {
            if (s->conns[i].fd >= 0) {
                idx[np] = i;
                pf[np].fd = s->conns[i].fd;
                pf[np++].events = POLLIN;
            }
        }
        if (poll(pf, np, 1000) < 0)
            continue;
        if (pf[0].revents)
            break;
        if (pf[1].revents & POLLIN) {
            int fd = accept(s->lfd, NULL, NULL);
            int slot = -1;
            for (int i = 0; i < RAW_MAX_CONNS && slot < 0; i++)
                if (s->conns[i].fd < 0)
                    slot = i;
            if (fd >= 0 && slot >= 0) {
                atomic_fetch_add(&s->connections, 1);
                s->conns[slot].fd = fd;
                s->conns[slot].len = 0;
            } else if (fd >= 0) {
                close(fd);
            }
        }
        for (nfds_t k = 2; k < np; k++) {
            if (!pf[k].revents)
                continue;
            struct raw_conn *c = &s->conns[idx[k]];
            ssize_t r = read(c->fd, c->buf + c->len, RAW_BUF - c->len);
            if (r <= 0) {
                close(c->fd);
                c->fd = -1;
                continue;
            }
            c->len += (size_t)r;
            (void)s->serve(s, c);
        }
    }
    return NULL;
}

/* Starts the server on 127.0.0.1 with an ephemeral port, answering with `serve` (which may
 * keep its state in `ud`). Aborts on failure. */
RAW_FN struct raw_server *raw_start_with(raw_serve_fn serve, void *ud)
{
    struct raw_server *s = gw_xcalloc(1, sizeof(*s));
    s->serve = serve;
    s->ud = ud;
    for (int i = 0; i < RAW_MAX_CONNS; i++)
        s->conns[i].fd = -1;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sin);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        listen(s->lfd, 64) != 0 || getsockname(s->lfd, (struct sockaddr *)&sin, &sl) != 0 ||
        pipe(s->stop_pipe) != 0) {
        fprintf(stderr, "raw test server: cannot listen\n");
        abort();
    }
    s->port = ntohs(sin.sin_port);
    pthread_create(&s->thread, NULL, raw_thread, s);
    return s;
}

/* The server with the routes above (raw_serve). */
RAW_FN struct raw_server *raw_start(void)
{
    return raw_start_with(raw_serve, NULL);
}

/* Stops the thread and closes every socket. Accepts NULL. */
RAW_FN void raw_stop(struct raw_server *s)
{
    if (!s)
        return;
    if (write(s->stop_pipe[1], "x", 1) != 1)
        abort();
    pthread_join(s->thread, NULL);
    for (int i = 0; i < RAW_MAX_CONNS; i++)
        if (s->conns[i].fd >= 0)
            close(s->conns[i].fd);
    close(s->lfd);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    gw_free(s);
}

#endif
