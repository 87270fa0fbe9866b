/*
 * src/core/log.c
 * Log line formatting and the sink. JSON escaping is done here (no allocation: a fixed
 * 4 KiB line buffer; longer messages are truncated with a marker).
 */
#include "core/log.h"

#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum gw_log_level gw_log_min_level = GW_LOG_INFO;
static bool log_json = true;
static int log_fd = 2;
static _Thread_local const char *tl_request_id;

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

void gw_log_write(enum gw_log_level level, const char *component, const char *fmt, ...)
{
    char msg[3072];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[80];
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);

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
    ssize_t w = write(log_fd, line, pos);
    (void)w;
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
