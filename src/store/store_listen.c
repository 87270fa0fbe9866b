/*
 * src/store/store_listen.c
 * Change listeners: how a thread learns that the registry changed somewhere.
 *
 * A listener is a self-pipe (woken by gw_store_listener_wake and by the in-process bus) plus,
 * on PostgreSQL, a dedicated connection that LISTENs on GW_STORE_CHANNEL; a wait is one
 * poll(2) over both. The in-process bus is a mutex-protected list of the SQLite listeners of
 * this process, keyed by the database file's real path: gw_store__commit posts it after every
 * committed write (SQLite has no NOTIFY; another process writing the same file is detected by
 * the caller's periodic version check). PostgreSQL listeners are not on the bus: their
 * notifications come from the server, also for writes made by this process.
 * Threading: one thread waits on a listener; wake and bus posts may come from any thread
 * (they only write a byte to a non-blocking pipe).
 */
#include "store/store_impl.h"

#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One listener: a wake pipe, plus a LISTEN connection on PostgreSQL. */
struct gw_store_listener {
    const struct gw_store_ops *ops;
    void *conn;   /* backend LISTEN connection, NULL for the bus */
    int wake[2];  /* [0] read end, [1] write end; both non-blocking */
    char *identity;
    struct gw_store_listener *next; /* bus list (SQLite only) */
};

/* The in-process bus: SQLite listeners of this process (see the file comment). */
static pthread_mutex_t bus_mu = PTHREAD_MUTEX_INITIALIZER;
static struct gw_store_listener *bus_head;

/* Writes one byte to a non-blocking pipe: a wake-up that cannot block the writer. */
static void poke(int fd)
{
    ssize_t n = write(fd, "x", 1); /* a full pipe already means "woken" */
    (void)n;
}

void gw_store__bus_post(const char *identity)
{
    pthread_mutex_lock(&bus_mu);
    for (struct gw_store_listener *l = bus_head; l; l = l->next)
        if (strcmp(l->identity, identity) == 0)
            poke(l->wake[1]);
    pthread_mutex_unlock(&bus_mu);
}

int gw_store_listener_open(const char *url, const struct gw_store_options *opt,
                           struct gw_store_listener **out, struct gw_error *err)
{
    const struct gw_store_ops *ops = NULL;
    char *target = NULL;
    struct gw_store_listener *l = NULL;
    struct gw_store_options o = {5000, 10};
    *out = NULL;
    int rc = gw_store__resolve(url, &ops, &target, err);
    if (rc != GW_OK)
        goto out;
    if (opt && opt->busy_timeout_ms > 0)
        o.busy_timeout_ms = opt->busy_timeout_ms;
    if (opt && opt->connect_timeout_s > 0)
        o.connect_timeout_s = opt->connect_timeout_s;
    l = gw_xcalloc(1, sizeof(*l));
    l->ops = ops;
    l->wake[0] = l->wake[1] = -1;
    if (pipe2(l->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        rc = GW_ERROR_SET(err, GW_EIO, "pipe failed (errno %d)", errno);
        goto out;
    }
    if (ops->has_notify) {
        rc = ops->listen_open(target, &o, GW_STORE_CHANNEL, &l->conn, err);
        if (rc != GW_OK)
            goto out;
    }
    l->identity = gw_store__identity(ops, target);
    if (!ops->has_notify) {
        pthread_mutex_lock(&bus_mu);
        l->next = bus_head;
        bus_head = l;
        pthread_mutex_unlock(&bus_mu);
    }
    *out = l;
    l = NULL;
out:
    gw_store_listener_close(l);
    gw_free(target);
    return rc;
}

/* Monotonic milliseconds, for wait deadlines. */
static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Empties the wake pipe so that one wait consumes all pending wake-ups. */
static void drain_pipe(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
}

int gw_store_listener_wait(struct gw_store_listener *l, int timeout_ms, struct gw_error *err)
{
    long long deadline = timeout_ms < 0 ? 0 : now_ms() + timeout_ms;
    for (;;) {
        bool got = false;
        if (l->conn) {
            /* notifications may already sit in libpq's buffer */
            int rc = l->ops->listen_drain(l->conn, &got, err);
            if (rc != GW_OK)
                return rc;
            if (got)
                return GW_OK;
        }
        int wait = -1;
        if (timeout_ms >= 0) {
            long long left = deadline - now_ms();
            if (left <= 0)
                return GW_ETIMEOUT;
            wait = left > 60000 ? 60000 : (int)left;
        }
        struct pollfd fds[2] = {{l->wake[0], POLLIN, 0}, {-1, POLLIN, 0}};
        nfds_t n = 1;
        if (l->conn) {
            fds[1].fd = l->ops->listen_fd(l->conn);
            if (fds[1].fd < 0)
                return GW_ERROR_SET(err, GW_EIO, "listener connection has no socket");
            n = 2;
        }
        int pr = poll(fds, n, wait);
        if (pr < 0 && errno != EINTR)
            return GW_ERROR_SET(err, GW_EIO, "poll failed (errno %d)", errno);
        if (pr <= 0)
            continue;
        if (fds[0].revents) {
            drain_pipe(l->wake[0]);
            return GW_OK;
        }
        /* socket readable (or hung up): the drain at the top of the loop reads it */
    }
}

void gw_store_listener_wake(struct gw_store_listener *l)
{
    if (l)
        poke(l->wake[1]);
}

void gw_store_listener_close(struct gw_store_listener *l)
{
    if (!l)
        return;
    if (!l->ops->has_notify && l->identity) {
        pthread_mutex_lock(&bus_mu);
        for (struct gw_store_listener **pp = &bus_head; *pp; pp = &(*pp)->next) {
            if (*pp == l) {
                *pp = l->next;
                break;
            }
        }
        pthread_mutex_unlock(&bus_mu);
    }
    if (l->conn)
        l->ops->listen_close(l->conn);
    if (l->wake[0] >= 0)
        close(l->wake[0]);
    if (l->wake[1] >= 0)
        close(l->wake[1]);
    gw_free(l->identity);
    gw_free(l);
}
