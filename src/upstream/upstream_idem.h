/*
 * src/upstream/upstream_idem.h
 * Idempotency-key store behind a small vtable, so that a Redis backend can replace the
 * in-process one without touching the executor.
 *
 * Keys are scoped by the executor as "<caller>\n<tool>\n<client key>" (never shared across
 * callers or tools). Each key remembers a SHA-256 fingerprint of the canonical arguments, a
 * state (in flight / done) and, when done, the result text (compact JSON of the
 * CallToolResult).
 * Semantics: same key + same arguments -> replay the stored result without calling upstream;
 * same key + other arguments -> conflict; same key while the first call is still running ->
 * "in flight" (the executor reports an error rather than waiting: see docs/upstream.md).
 * Thread-safe: the memory backend holds one mutex for a hash lookup; results are copied.
 * Shared stores (src/shared/shared_idem.c, Redis) answer begin asynchronously (begin_async):
 * a retried write reaching another replica then sees the first one's reservation or result.
 */
#ifndef GW_UPSTREAM_IDEM_H
#define GW_UPSTREAM_IDEM_H

#include <stddef.h>
#include <stdint.h>

enum gw_idem_verdict { GW_IDEM_NEW, GW_IDEM_REPLAY, GW_IDEM_MISMATCH, GW_IDEM_IN_FLIGHT };

/* The answer of an asynchronous begin: rc GW_OK with the verdict (and, for a replay, the
 * stored result, borrowed for the call), or a failure (the store could not answer). */
typedef void (*gw_idem_begin_fn)(void *arg, int rc, enum gw_idem_verdict v, const char *result,
                                 size_t len);

struct gw_idem_ops {
    const char *name;
    /* Reserves `key` for a call whose arguments hash to fp. On GW_OK, *out is the verdict; for
     * GW_IDEM_NEW the caller must later call complete or abort; for GW_IDEM_REPLAY *out_result
     * is a heap copy of the stored result (gw_free). Returns GW_ELIMIT when the store is full
     * of in-flight keys, or another code on a backend failure. */
    int (*begin)(void *self, const char *key, const unsigned char fp[32], uint64_t now_ms,
                 enum gw_idem_verdict *out, char **out_result, size_t *out_len);
    /* Stores the result text (copied) of a reserved key; the TTL runs from now. */
    void (*complete)(void *self, const char *key, const char *result, size_t len,
                     uint64_t now_ms);
    /* Releases a reservation without storing a result (the call may be retried). */
    void (*abort)(void *self, const char *key);
    size_t (*count)(void *self);
    void (*destroy)(void *self);
    /* Optional (NULL: `begin` is used): the same reservation for a store shared by replicas
     * (Redis), asynchronous. Called on an event loop; returns GW_AGAIN and calls done later on
     * that loop, or another code at once (the store cannot answer; done not called). */
    int (*begin_async)(void *self, const char *key, const unsigned char fp[32],
                       gw_idem_begin_fn done, void *arg);
};

struct gw_idem_store {
    const struct gw_idem_ops *ops;
    void *self;
};

/* The in-process backend: results kept ttl_ms after completion, reservations expire after
 * inflight_ms (a crashed call cannot hold a key for ever), at most max_entries keys (expired
 * and then oldest completed keys are evicted first). */
void gw_upstream_idem_mem_init(struct gw_idem_store *out, uint64_t ttl_ms, uint64_t inflight_ms,
                               size_t max_entries);

#endif
