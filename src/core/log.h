/*
 * src/core/log.h
 * Diagnostic logging: one JSON object per line (or plain text) on stderr or a file.
 *
 * Each line carries time, level, component, the current request id (a thread-local set by the
 * request runner), and the message. GW_LOG checks the level before evaluating its arguments.
 * Secrets never reach this stream: pass tokens and keys through gw_log_redact first.
 * The audit trail is a separate stream and does not use this module.
 * Thread-safe. Two modes: synchronous (a line is one write(2); the default, for CLI commands)
 * and asynchronous (gw_log_start_async, for servers): lines go into a bounded in-memory ring and
 * a writer thread flushes them in batches, so a slow or full log pipe never blocks an event
 * loop. When the ring is full, lines are dropped and counted (the count is logged later).
 * FATAL lines are always written synchronously, after what is queued.
 */
#ifndef GW_CORE_LOG_H
#define GW_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum gw_log_level {
    GW_LOG_TRACE = 0,
    GW_LOG_DEBUG,
    GW_LOG_INFO,
    GW_LOG_WARN,
    GW_LOG_ERROR,
    GW_LOG_FATAL,
    GW_LOG_OFF
};

extern enum gw_log_level gw_log_min_level;

/* Configures the sink: level, JSON (true) or text, and fd (2 = stderr). */
void gw_log_configure(enum gw_log_level level, bool json, int fd);

/* Switches to asynchronous logging with a ring of `ring_bytes` (0 = 4 MiB) and starts the
 * writer thread. Lines appear within ~50 ms. Call once, from the main thread. */
void gw_log_start_async(size_t ring_bytes);
/* Writes everything queued and stops the writer thread (back to synchronous mode). Call at
 * exit, after the threads that log have stopped. */
void gw_log_stop_async(void);
/* Lines dropped because the ring was full, since start. */
unsigned long long gw_log_dropped(void);

/* Parses "trace|debug|info|warn|error|fatal|off"; GW_OK or GW_EINVAL. */
int gw_log_level_parse(const char *s, enum gw_log_level *out);
const char *gw_log_level_name(enum gw_log_level l);

/* Sets the request id of the calling thread for the lines that follow (NULL clears). The string
 * is borrowed: it must live until cleared. */
void gw_log_set_request_id(const char *rid);
const char *gw_log_request_id(void);

void gw_log_write(enum gw_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same line for a message already written (n bytes of text, no format): for lines made
 * on every request (the access log), where printf is most of the cost. Not level-checked. */
void gw_log_write_msg(enum gw_log_level level, const char *component, const char *text,
                      size_t n);
/* As gw_log_write_msg for a message whose every part that may carry personal data went
 * through gw_log_filter_text already (the access log filters the client's path, address and
 * trace id, not the numbers it wrote itself): the filter is not run over the whole again. */
void gw_log_write_msg_filtered(enum gw_log_level level, const char *component, const char *text,
                               size_t n);
/* Passes s (NUL-terminated, at most cap bytes with the NUL) through the installed filter, in
 * place. */
void gw_log_filter_text(char *s, size_t cap);

#define GW_LOG(level, component, ...)                        \
    do {                                                     \
        if ((level) >= gw_log_min_level)                     \
            gw_log_write((level), (component), __VA_ARGS__); \
    } while (0)

/* A filter every log message passes before it is written (e.g. PII masking, src/pii): it may
 * rewrite msg in place, keeping it NUL-terminated within `cap` bytes. NULL removes it. The
 * filter must be thread-safe; `ud` must live until it is removed. */
typedef void (*gw_log_filter_fn)(void *ud, char *msg, size_t cap);
void gw_log_set_filter(gw_log_filter_fn fn, void *ud);

/* Writes a redacted form of a secret into out (size >= 16): the first 4 characters and a length,
 * "abcd…(32)"; short secrets become "…(n)". Returns out. */
const char *gw_log_redact(const char *secret, char *out, size_t out_size);

#endif
