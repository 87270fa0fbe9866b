/*
 * src/ratelimit/ratelimit_backend.h
 * The two places limit state can live, behind one interface: in process (one machine; the
 * embedded default) and Redis (shared by every replica).
 *
 * A check is a batch of items, one per (rule, key) that applies to a request. The backend
 * runs GCRA on each item and, when no ENFORCED item is refused, stores the new state of every
 * item that passed; when an enforced item is refused nothing is stored (the request does not
 * happen, so it consumes nothing). Dry-run items never cause a refusal. With Redis the whole
 * batch is one script call (atomic, the Redis server's clock) unless cluster mode splits it
 * into one call per key (each key atomic on its own; see docs/scaling.md).
 * Threading: check() is called on an event loop; the memory backend answers at once (locks
 * are held for a hash lookup), the Redis backend answers later on the same loop.
 */
#ifndef GW_RATELIMIT_BACKEND_H
#define GW_RATELIMIT_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_loop;
struct gw_kv;

#define GW_RL_MAX_ITEMS 16
#define GW_RL_KEY_MAX 200

struct gw_rl_item {
    /* in */
    char key[GW_RL_KEY_MAX];
    int64_t interval_us;
    int64_t burst;
    bool enforce;
    /* out */
    bool allowed;
    int64_t remaining, retry_us, reset_us;
};

struct gw_rl_batch {
    struct gw_rl_item item[GW_RL_MAX_ITEMS];
    int n;
    bool refused; /* out: an enforced item was refused (nothing was stored) */
};

/* rc GW_OK: the batch's outputs are filled; otherwise the backend failed (no answer). */
typedef void (*gw_rl_done_fn)(void *arg, int rc);

struct gw_rl_backend_ops {
    const char *name;
    /* GW_OK: answered now (done not called). GW_AGAIN: done(arg, rc) follows on `loop`.
     * Anything else: the backend cannot answer (down, overloaded): done not called. `b` must
     * stay valid until the answer. Never blocks. */
    int (*check)(void *self, struct gw_loop *loop, struct gw_rl_batch *b, gw_rl_done_fn done,
                 void *arg);
    /* Entries held (memory backend; 0 for Redis). */
    size_t (*count)(void *self);
    void (*destroy)(void *self);
};

struct gw_rl_backend {
    const struct gw_rl_backend_ops *ops;
    void *self;
};

/* In process: at most max_keys states (expired ones are dropped first; when still full, the
 * state closest to full is dropped). clock_us (NULL = CLOCK_MONOTONIC) is for tests. */
typedef int64_t (*gw_rl_clock_fn)(void *ud);
void gw_rl_mem_init(struct gw_rl_backend *out, size_t max_keys, gw_rl_clock_fn clock_us,
                    void *clock_ud);

/* Redis through `kv` (borrowed), on the calling loop's connection. `cluster`: one script per
 * key. Registers its script with kv (call before the loops start). */
void gw_rl_redis_init(struct gw_rl_backend *out, struct gw_kv *kv, bool cluster);

#endif
