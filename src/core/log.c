/*
 * src/core/log.c
 * Log line formatting and the sink. JSON escaping is done here (no allocation: a fixed
 * 4 KiB line buffer; longer messages are truncated with a marker).
 */
#include "core/log.h"

#include "core/err.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/thread.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum gw_log_level gw_log_min_level = GW_LOG_INFO;
static bool log_json = true;
static int log_fd = 2;
static _Thread_local const char *tl_request_id;

/* the message filter: set at start-up before threads log, read per line */
struct filter {
    gw_log_filter_fn fn;
    void *ud;
};
static _Atomic(struct filter *) log_filter;
static struct filter filters[2];
static atomic_int filter_slot;

void gw_log_set_filter(gw_log_filter_fn fn, void *ud)
{
    if (!fn) {
        atomic_store(&log_filter, NULL);
        return;
    }
    /* two slots: a replaced filter's slot is not rewritten while a line may still read it */
    int k = atomic_fetch_add(&filter_slot, 1) & 1;
    filters[k].fn = fn;
    filters[k].ud = ud;
    atomic_store(&log_filter, &filters[k]);
}

/* ---- asynchronous sink: a byte ring of whole lines ---- */
struct ring {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char *buf;
    size_t cap, head, len; /* bytes [head, head+len) mod cap are queued */
    bool stop;
    bool running;
    pthread_t thread;
};
static struct ring ring = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0,
                           false, false, 0};
static atomic_bool async_on;
static atomic_ullong dropped;

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(log_fd, p, n);
        if (w <= 0)
            return; /* nothing sensible to do when the log itself fails */
        p += w;
        n -= (size_t)w;
    }
}

/* Writer thread: takes everything queued (two slices at most), writes it without the lock. */
static void *writer_main(void *arg)
{
    gw_thread_init_self("gw-log", GW_THREAD_BACKGROUND);
    (void)arg;
    char *out = gw_xmalloc(ring.cap);
    unsigned long long reported = 0;
    pthread_mutex_lock(&ring.lock);
    for (;;) {
        while (ring.len == 0 && !ring.stop) {
            struct timespec ts = gw_clock_deadline(CLOCK_REALTIME, 50);
            pthread_cond_timedwait(&ring.cond, &ring.lock, &ts);
        }
        size_t n = ring.len, first = ring.cap - ring.head < n ? ring.cap - ring.head : n;
        memcpy(out, ring.buf + ring.head, first);
        memcpy(out + first, ring.buf, n - first);
        ring.head = (ring.head + n) % ring.cap;
        ring.len = 0;
        bool stop = ring.stop;
        pthread_mutex_unlock(&ring.lock);
        if (n)
            write_all(out, n);
        unsigned long long d = atomic_load(&dropped);
        if (d != reported) {
            char note[160];
            int k = snprintf(note, sizeof(note),
                             "{\"level\":\"warn\",\"component\":\"log\",\"msg\":\"%llu log lines "
                             "dropped (log output too slow)\"}\n",
                             d - reported);
            write_all(note, (size_t)k);
            reported = d;
        }
        pthread_mutex_lock(&ring.lock);
        if (stop && ring.len == 0)
            break;
    }
    pthread_mutex_unlock(&ring.lock);
    gw_free(out);
    return NULL;
}

void gw_log_start_async(size_t ring_bytes)
{
    if (atomic_load(&async_on))
        return;
    ring.cap = ring_bytes ? ring_bytes : (4u << 20);
    ring.buf = gw_xmalloc(ring.cap);
    ring.head = ring.len = 0;
    ring.stop = false;
    if (pthread_create(&ring.thread, NULL, writer_main, NULL) != 0) {
        gw_free_null(&ring.buf);
        return;
    }
    ring.running = true;
    atomic_store(&async_on, true);
}

void gw_log_stop_async(void)
{
    if (!atomic_exchange(&async_on, false))
        return;
    pthread_mutex_lock(&ring.lock);
    ring.stop = true;
    pthread_cond_signal(&ring.cond);
    pthread_mutex_unlock(&ring.lock);
    pthread_join(ring.thread, NULL);
    ring.running = false;
    gw_free_null(&ring.buf);
}

unsigned long long gw_log_dropped(void)
{
    return atomic_load(&dropped);
}

/* Queues one whole line, or drops it when the ring is full. Never blocks on I/O. */
static void enqueue(const char *line, size_t n)
{
    pthread_mutex_lock(&ring.lock);
    if (!ring.buf || ring.cap - ring.len < n) {
        pthread_mutex_unlock(&ring.lock);
        atomic_fetch_add(&dropped, 1);
        return;
    }
    size_t tail = (ring.head + ring.len) % ring.cap;
    size_t first = ring.cap - tail < n ? ring.cap - tail : n;
    memcpy(ring.buf + tail, line, first);
    memcpy(ring.buf, line + first, n - first);
    ring.len += n;
    bool wake = ring.len > ring.cap / 2; /* otherwise the writer's 50 ms tick takes it */
    pthread_mutex_unlock(&ring.lock);
    if (wake)
        pthread_cond_signal(&ring.cond);
}

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error", "fatal",
                                          "off"};

void gw_log_configure(enum gw_log_level level, bool json, int fd)
{
    gw_log_min_level = level;
    log_json = json;
    log_fd = fd;
}

int gw_log_level_parse(const char *s, enum gw_log_level *out)
{
    for (int i = 0; i <= GW_LOG_OFF; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum gw_log_level)i;
            return GW_OK;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = GW_LOG_WARN;
        return GW_OK;
    }
    return GW_EINVAL;
}

const char *gw_log_level_name(enum gw_log_level l)
{
    return (l >= 0 && l <= GW_LOG_OFF) ? level_names[l] : "?";
}

void gw_log_set_request_id(const char *rid)
{
    tl_request_id = rid;
}

const char *gw_log_request_id(void)
{
    return tl_request_id;
}

/* Appends s JSON-escaped to line[*pos..cap); stops (truncating) when full. */
static void put_escaped(char *line, size_t *pos, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s && *pos + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            line[(*pos)++] = '\\';
            line[(*pos)++] = (char)c;
        } else if (c == '\n') {
            line[(*pos)++] = '\\';
            line[(*pos)++] = 'n';
        } else if (c < 0x20) {
            memcpy(line + *pos, "\\u00", 4);
            *pos += 4;
            line[(*pos)++] = hex[c >> 4];
            line[(*pos)++] = hex[c & 15];
        } else {
            line[(*pos)++] = (char)c;
        }
    }
}

static void put_raw(char *line, size_t *pos, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (*pos + n >= cap)
        n = cap - *pos - 1;
    memcpy(line + *pos, s, n);
    *pos += n;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" of now into when[80]. The part up to the seconds is kept per
 * thread and remade only when the second changes: formatting a date costs more than the rest
 * of a log line (the access log writes one per request). */
static void timestamp(char when[80])
{
    static _Thread_local time_t tl_sec = (time_t)-1;
    static _Thread_local char tl_prefix[72];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != tl_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(tl_prefix, sizeof(tl_prefix), "%04d-%02d-%02dT%02d:%02d:%02d.",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        tl_sec = ts.tv_sec;
    }
    size_t n = strlen(tl_prefix);
    memcpy(when, tl_prefix, n);
    long ms = (long)(ts.tv_nsec / 1000000) % 1000;
    when[n] = (char)('0' + ms / 100);
    when[n + 1] = (char)('0' + ms / 10 % 10);
    when[n + 2] = (char)('0' + ms % 10);
    when[n + 3] = 'Z';
    when[n + 4] = '\0';
}

void gw_log_filter_text(char *s, size_t cap)
{
    struct filter *f = atomic_load(&log_filter);
    if (f)
        f->fn(f->ud, s, cap);
}

/* The line of an already formatted message (msg: a writable buffer of msg_size bytes, which the
 * filter may rewrite in place; not again when the caller filtered its parts). */
static void write_line(enum gw_log_level level, const char *component, char *msg,
                       size_t msg_size, bool filtered)
{
    if (!filtered)
        gw_log_filter_text(msg, msg_size);

    char when[80];
    timestamp(when);

    char line[4096];
    size_t pos = 0, cap = sizeof(line) - 2;
    const char *lvl = gw_log_level_name(level);
    if (log_json) {
        put_raw(line, &pos, cap, "{\"ts\":\"");
        put_raw(line, &pos, cap, when);
        put_raw(line, &pos, cap, "\",\"level\":\"");
        put_raw(line, &pos, cap, lvl);
        put_raw(line, &pos, cap, "\",\"component\":\"");
        put_escaped(line, &pos, cap, component);
        if (tl_request_id) {
            put_raw(line, &pos, cap, "\",\"request_id\":\"");
            put_escaped(line, &pos, cap, tl_request_id);
        }
        put_raw(line, &pos, cap, "\",\"msg\":\"");
        put_escaped(line, &pos, cap, msg);
        put_raw(line, &pos, cap, "\"}");
    } else {
        put_raw(line, &pos, cap, when);
        put_raw(line, &pos, cap, " ");
        put_raw(line, &pos, cap, lvl);
        put_raw(line, &pos, cap, " [");
        put_raw(line, &pos, cap, component);
        put_raw(line, &pos, cap, "] ");
        if (tl_request_id) {
            put_raw(line, &pos, cap, tl_request_id);
            put_raw(line, &pos, cap, " ");
        }
        put_raw(line, &pos, cap, msg);
    }
    line[pos++] = '\n';
    if (atomic_load(&async_on) && level < GW_LOG_FATAL) {
        enqueue(line, pos);
        return;
    }
    if (level >= GW_LOG_FATAL)
        gw_log_stop_async(); /* what is queued first, then this line */
    write_all(line, pos);
}

void gw_log_write(enum gw_log_level level, const char *component, const char *fmt, ...)
{
    char msg[3072];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    write_line(level, component, msg, sizeof(msg), false);
}

static void write_msg(enum gw_log_level level, const char *component, const char *text, size_t n,
                      bool filtered)
{
    char msg[3072];
    if (n >= sizeof(msg))
        n = sizeof(msg) - 1; /* cut as gw_log_write cuts */
    memcpy(msg, text, n);
    msg[n] = '\0';
    write_line(level, component, msg, sizeof(msg), filtered);
}

void gw_log_write_msg(enum gw_log_level level, const char *component, const char *text,
                      size_t n)
{
    write_msg(level, component, text, n, false);
}

void gw_log_write_msg_filtered(enum gw_log_level level, const char *component, const char *text,
                               size_t n)
{
    write_msg(level, component, text, n, true);
}

const char *gw_log_redact(const char *secret, char *out, size_t out_size)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n >= 12)
        snprintf(out, out_size, "%.4s...(%zu)", secret, n);
    else
        snprintf(out, out_size, "...(%zu)", n);
    return out;
}
