/*
 * tests/unit/net/test_net_server.c
 * The HTTP server (net/net_server.h, net/net_http.h) in-process on 127.0.0.1 port 0 with one
 * worker, driven by blocking sockets from the test thread: built-in /health and /ready, JSON
 * 404 for unknown paths, routes and bodies, the body limit (413), request ids (kept when valid,
 * made otherwise) and W3C trace context (continued, new span), and graceful shutdown: a request
 * in flight when draining starts completes, an open stream that a drain hook ends receives its
 * final chunk, and new connections are refused while draining.
 * KNOWN BUG (reported; test_graceful_drain_KNOWN_BUG fails until fixed): begin_drain() runs the
 * drain hooks before it sets the drain deadline, so the stream ended by the hook makes
 * check_stop() see an expired (zero) deadline and stop the worker at once, and check_stop()
 * exits the loop before the final bytes are flushed: the stream is cut and the in-flight
 * request never answered. With both fixed (deadline first; exit after the output is flushed)
 * the test passes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "net/net_http.h"
#include "net/net_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <regex.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- routes ---- */

static void route_echo(struct gw_http_req *r, void *arg)
{
    (void)arg;
    size_t n = 0;
    const char *body = gw_http_body(r, &n);
    gw_http_reply(r, 200, "application/json", body, n);
}

struct hold {
    struct gw_http_req *r;
    struct event *ev;
};

static void hold_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct hold *h = arg;
    event_free(h->ev);
    gw_http_reply(h->r, 200, "text/plain", "held", 4);
    gw_free(h);
}

/* Replies 300 ms later: a request that is in flight when a shutdown starts. */
static void route_hold(struct gw_http_req *r, void *arg)
{
    (void)arg;
    struct hold *h = gw_xcalloc(1, sizeof(*h));
    h->r = r;
    h->ev = evtimer_new(gw_worker_base(gw_http_worker(r)), hold_done, h);
    struct timeval tv = {0, 300000};
    evtimer_add(h->ev, &tv);
}

static struct gw_http_req *open_stream; /* one worker: one stream at a time in these tests */

static void stream_gone(struct gw_http_req *r, void *arg)
{
    (void)arg;
    if (open_stream == r) {
        open_stream = NULL;
        gw_http_stream_end(r);
    }
}

static void route_stream(struct gw_http_req *r, void *arg)
{
    (void)arg;
    gw_http_set_close_cb(r, stream_gone, NULL);
    gw_http_stream_begin(r, 200, "text/event-stream");
    gw_http_stream_write(r, "data: hi\n\n", 10);
    open_stream = r;
}

/* Drain hook: ends the open stream, as the MCP layer ends its GET streams. */
static void drain_streams(struct gw_worker *w, void *arg)
{
    (void)w;
    (void)arg;
    if (open_stream) {
        struct gw_http_req *r = open_stream;
        open_stream = NULL;
        gw_http_stream_write(r, "data: bye\n\n", 11);
        gw_http_stream_end(r);
    }
}

static struct gw_server *start_with(size_t max_body, bool access_log)
{
    struct gw_net_options o = {
        .listen = "127.0.0.1:0",
        .workers = 1,
        .max_body_bytes = max_body,
        .max_header_bytes = 8192,
        .max_connections = 64,
        .idle_timeout_s = 10,
        .shutdown_grace_s = 5,
        .access_log = access_log,
    };
    struct gw_server *srv = NULL;
    struct gw_error err = {0};
    if (gw_server_new(&o, &srv, &err) != GW_OK)
        fail_msg("gw_server_new: %s", err.msg);
    gw_server_route(srv, "/echo", route_echo, NULL);
    gw_server_route(srv, "/hold", route_hold, NULL);
    gw_server_route(srv, "/stream", route_stream, NULL);
    gw_server_on_drain(srv, drain_streams, NULL);
    if (gw_server_start(srv, &err) != GW_OK)
        fail_msg("gw_server_start: %s", err.msg);
    assert_true(gw_server_port(srv) > 0);
    assert_true(gw_server_is_loopback(srv));
    return srv;
}

static struct gw_server *start(size_t max_body)
{
    return start_with(max_body, false);
}

static void stop(struct gw_server *srv)
{
    gw_server_shutdown(srv);
    gw_server_wait(srv);
    gw_server_free(srv);
}

/* ---- a tiny blocking client ---- */

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        assert_true(w > 0);
        s += w;
        n -= (size_t)w;
    }
}

/* Reads until the peer closes, the buffer is full, or `until` appears. Returns the length. */
static size_t read_until(int fd, char *buf, size_t cap, const char *until)
{
    size_t n = 0;
    buf[0] = '\0';
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        if (until && strstr(buf, until))
            break;
    }
    return n;
}

/* The status code of a raw response ("HTTP/1.1 200 OK"), 0 when there is none. */
static int status_of(const char *resp)
{
    if (strncmp(resp, "HTTP/1.", 7) != 0 || strlen(resp) < 12)
        return 0;
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (resp[i] < '0' || resp[i] > '9')
            return 0;
        st = st * 10 + (resp[i] - '0');
    }
    return st;
}

/* One request on a new connection with Connection: close; the full response in buf. */
static int roundtrip(int port, const char *req, char *buf, size_t cap)
{
    int fd = dial(port);
    assert_true(fd >= 0);
    send_all(fd, req, strlen(req));
    read_until(fd, buf, cap, NULL);
    close(fd);
    return status_of(buf);
}

static const char *header(const char *resp, const char *name, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\r\n%s: ", name);
    const char *p = strcasestr(resp, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    size_t n = strcspn(p, "\r\n");
    snprintf(out, cap, "%.*s", (int)n, p);
    return out;
}

static void test_builtin_and_routes(void **state)
{
    (void)state;
    struct gw_server *srv = start(2048);
    int port = gw_server_port(srv);
    char buf[16384];
    assert_int_equal(roundtrip(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                               buf, sizeof(buf)),
                     200);
    assert_non_null(strstr(buf, "\r\n\r\n{\"status\":\"ok\"}"));
    assert_int_equal(roundtrip(port, "GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                               buf, sizeof(buf)),
                     200);
    assert_non_null(strstr(buf, "\"status\":\"ready\""));
    assert_int_equal(roundtrip(port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                               buf, sizeof(buf)),
                     404);
    char v[256];
    assert_non_null(header(buf, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "application/json");
    assert_non_null(strstr(buf, "\"error\""));
    assert_int_equal(roundtrip(port,
                               "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                               "Content-Length: 7\r\n\r\n{\"a\":1}",
                               buf, sizeof(buf)),
                     200);
    assert_non_null(strstr(buf, "\r\n\r\n{\"a\":1}"));
    /* the body limit */
    char big[4096];
    char body[3000];
    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    snprintf(big, sizeof(big),
             "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    assert_int_equal(roundtrip(port, big, buf, sizeof(buf)), 413);
    stop(srv);
}

static void test_request_id_and_trace(void **state)
{
    (void)state;
    struct gw_server *srv = start(2048);
    int port = gw_server_port(srv);
    char buf[8192], v[256];
    roundtrip(port,
              "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: my-id-1\r\n"
              "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n",
              buf, sizeof(buf));
    assert_string_equal(header(buf, "X-Request-Id", v, sizeof(v)), "my-id-1");
    assert_non_null(header(buf, "traceparent", v, sizeof(v)));
    assert_int_equal(strncmp(v, "00-4bf92f3577b34da6a3ce929d0e0e4736-", 36), 0);
    assert_string_not_equal(v + 36, "00f067aa0ba902b7-01");
    /* invalid ones are replaced */
    roundtrip(port,
              "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: has space\r\n"
              "traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01\r\n\r\n",
              buf, sizeof(buf));
    assert_non_null(header(buf, "X-Request-Id", v, sizeof(v)));
    assert_string_not_equal(v, "has space");
    assert_true(strlen(v) > 0);
    assert_non_null(header(buf, "traceparent", v, sizeof(v)));
    assert_true(strncmp(v, "00-00000000000000000000000000000000", 35) != 0);
    stop(srv);
}

static void test_graceful_drain_KNOWN_BUG(void **state)
{
    (void)state;
    struct gw_server *srv = start(2048);
    int port = gw_server_port(srv);
    char sbuf[4096], hbuf[4096];
    /* an open stream */
    int sfd = dial(port);
    assert_true(sfd >= 0);
    const char *sreq = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(sfd, sreq, strlen(sreq));
    read_until(sfd, sbuf, sizeof(sbuf), "data: hi\n\n");
    assert_non_null(strstr(sbuf, "data: hi"));
    /* a request in flight for 300 ms */
    int hfd = dial(port);
    assert_true(hfd >= 0);
    const char *hreq = "GET /hold HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send_all(hfd, hreq, strlen(hreq));
    usleep(50 * 1000); /* let the worker accept it */
    gw_server_shutdown(srv);
    /* the stream is ended by the drain hook, with its last event and the final chunk;
     * failures are collected so the server is still shut down and freed before failing */
    char why[600] = "";
    size_t n = strlen(sbuf);
    n += read_until(sfd, sbuf + n, sizeof(sbuf) - n, "\r\n0\r\n\r\n");
    close(sfd);
    if (!strstr(sbuf, "\r\n0\r\n\r\n") || !strstr(sbuf, "data: bye"))
        snprintf(why, sizeof(why), "the stream was cut instead of ended cleanly (last bytes: "
                 "'%.80s'); ", n > 80 ? sbuf + n - 80 : sbuf);
    /* while draining, new connections are refused */
    int nfd = dial(port);
    if (nfd >= 0) {
        close(nfd);
        snprintf(why + strlen(why), sizeof(why) - strlen(why),
                 "a new connection was accepted while draining; ");
    }
    /* the in-flight request completes */
    read_until(hfd, hbuf, sizeof(hbuf), NULL);
    close(hfd);
    if (status_of(hbuf) != 200 || !strstr(hbuf, "\r\n\r\nheld"))
        snprintf(why + strlen(why), sizeof(why) - strlen(why),
                 "the in-flight request was cut by the shutdown (got %zu bytes)", strlen(hbuf));
    gw_server_wait(srv);
    gw_server_free(srv);
    if (why[0])
        fail_msg("%s", why);
}

/* The access-log line (written without printf, net_http.c access_message): method, path,
 * status, bytes, the duration in ms with three decimals, peer and trace id, in the text
 * format "<ts> info [access] <request id> <message>", the time stamp to the millisecond. */
static void test_access_log_line(void **state)
{
    (void)state;
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    gw_log_configure(GW_LOG_INFO, false, pfd[1]);
    struct gw_server *srv = start_with(2048, true);
    char buf[16384];
    assert_int_equal(roundtrip(gw_server_port(srv),
                               "POST /echo?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
                               "X-Request-Id: req-access-1\r\n"
                               "traceparent: "
                               "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                               "\r\nConnection: close\r\n\r\n{\"a\":1}",
                               buf, sizeof(buf)),
                     200);
    stop(srv);
    gw_log_configure(GW_LOG_WARN, true, 2);
    close(pfd[1]);
    char log[8192];
    size_t n = read_until(pfd[0], log, sizeof(log), NULL);
    close(pfd[0]);
    assert_true(n > 0);
    const char *line = strstr(log, " info [access] req-access-1 ");
    assert_non_null(line);
    while (line > log && line[-1] != '\n')
        line--;
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                             "info \\[access\\] req-access-1 POST /echo 200 7 bytes "
                             "[0-9]+\\.[0-9]{3} ms peer=127\\.0\\.0\\.1 "
                             "trace=4bf92f3577b34da6a3ce929d0e0e4736\n",
                             REG_EXTENDED),
                     0);
    int m = regexec(&re, line, 0, NULL, 0);
    regfree(&re);
    if (m != 0)
        fail_msg("access log line not as expected: %s", line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_and_routes),
        cmocka_unit_test(test_request_id_and_trace),
        cmocka_unit_test(test_access_log_line),
        cmocka_unit_test(test_graceful_drain_KNOWN_BUG),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
