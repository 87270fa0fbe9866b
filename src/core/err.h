/*
 * src/core/err.h
 * The one error vocabulary of the platform.
 *
 * Every function that can fail returns an `enum gw_rc` (0 = OK, negative = failure kind) and,
 * when the caller passes one, fills a `struct gw_error` with the detail: a message fit to show a
 * client, the HTTP status and JSON-RPC code it maps to, and where in our code it was raised.
 * Messages never contain secrets: callers redact before formatting (see core/log.h).
 */
#ifndef GW_CORE_ERR_H
#define GW_CORE_ERR_H

#include <stddef.h>

enum gw_rc {
    GW_OK = 0,
    GW_ERR = -1,       /* generic failure; detail in gw_error */
    GW_AGAIN = -2,     /* not complete yet: an asynchronous result will follow */
    GW_DECLINED = -3,  /* this handler does not apply; try the next */
    GW_ENOMEM = -4,    /* a fallible allocation failed */
    GW_ELIMIT = -5,    /* a configured limit was exceeded (size, depth, count, budget) */
    GW_EINVAL = -6,    /* invalid input from a client or operator */
    GW_EDENIED = -7,   /* refused by authentication, exposure, policy or rate limit */
    GW_EUPSTREAM = -8, /* the upstream API failed or misbehaved */
    GW_ENOTFOUND = -9, /* the named thing does not exist */
    GW_ETIMEOUT = -10, /* a deadline passed */
    GW_EIO = -11,      /* disk, database or network I/O failed */
    GW_ECONFLICT = -12 /* state conflict: already exists, version mismatch, idempotency mismatch */
};

#define GW_ERROR_MSG_MAX 512

/* Detail of one failure. Value type: callers own it, usually on the stack. */
struct gw_error {
    enum gw_rc code;
    int http_status;  /* 0 = let the caller choose */
    int jsonrpc_code; /* 0 = let the caller choose */
    char msg[GW_ERROR_MSG_MAX];
    const char *file;
    int line;
    const char *func;
};

/* Fill `err` (may be NULL) with code and a printf-style message; records the call site.
 * Returns `code` so that `return GW_ERROR_SET(err, GW_EINVAL, "...")` reads naturally. */
#define GW_ERROR_SET(err, code, ...) \
    gw_error_set_at((err), (code), __FILE__, __LINE__, __func__, __VA_ARGS__)

int gw_error_set_at(struct gw_error *err, enum gw_rc code, const char *file, int line,
                    const char *func, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Sets the HTTP status and JSON-RPC code that this error maps to. Accepts NULL. */
void gw_error_map(struct gw_error *err, int http_status, int jsonrpc_code);

/* Clears `err` to GW_OK with an empty message. Accepts NULL. */
void gw_error_clear(struct gw_error *err);

/* Thread-safe description of an errno value (strerror_r), in caller storage; returns buf. */
const char *gw_strerror(int errnum, char *buf, size_t size);

/* Short constant name of a code, for logs ("EINVAL"). */
const char *gw_rc_name(int rc);

#endif
