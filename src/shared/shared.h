/*
 * src/shared/shared.h
 * What replicas share, and how, on top of the Redis client (src/kv): the adapters that plug
 * Redis into the modules whose state must agree across replicas.
 *  - Sessions (src/mcp/mcp_session.c): terminations, log levels and resource subscriptions are
 *    written to Redis and published; every replica's subscriber thread applies what others
 *    publish, and reloads everything when its subscription (re)starts. A DELETE answers only
 *    once the termination is in Redis (and so on its way to every replica).
 *  - Idempotency keys of writes (src/upstream/upstream_idem.h): reservations and results live
 *    in Redis, so a write retried through another replica replays the first one's result (or
 *    is told it is still in progress) instead of reaching the upstream twice.
 *  - Single-use claims: gw_kv_once (src/kv/kv.h) directly.
 * Rate-limit state is kept by src/ratelimit's own Redis backend.
 * Without Redis (kv disabled) nothing is attached and every module keeps its state in process.
 * Keys: "<prefix>{sessions}:..." (one hash slot: the session state is small and rarely
 * written) and "<prefix>idem:{<digest>}" (one slot per key).
 */
#ifndef GW_SHARED_SHARED_H
#define GW_SHARED_SHARED_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

struct gw_kv;
struct gw_sessions;
struct gw_upstreams;
struct gw_shared;

/* Creates the adapters' state (counters); attach what applies, then gw_kv_start. */
struct gw_shared *gw_shared_new(struct gw_kv *kv);
void gw_shared_free(struct gw_shared *sh); /* after gw_kv_free; accepts NULL */

/* Shares `sessions`' mutable state through Redis (registers a script and the "sessions"
 * subscription: before gw_kv_start). A no-op without Redis. */
int gw_shared_sessions_attach(struct gw_shared *sh, struct gw_sessions *sessions,
                              struct gw_error *err);
/* Replaces the upstreams' idempotency store with the Redis one (results kept ttl_ms,
 * reservations inflight_ms). A no-op without Redis. Before the loops start. */
int gw_shared_idem_attach(struct gw_shared *sh, struct gw_upstreams *ups, uint64_t ttl_ms,
                          uint64_t inflight_ms, struct gw_error *err);

struct gw_shared_stats {
    uint64_t session_publishes, session_publish_failures, session_applied, session_resyncs;
    uint64_t idem_begins, idem_failures;
};
void gw_shared_stats(const struct gw_shared *sh, struct gw_shared_stats *out);

#endif
