/*
 * src/kv/kv.h
 * Shared state on Redis: the one place that talks to Redis, for every module that keeps state
 * that all replicas must agree on (rate limits, terminated sessions, idempotency keys,
 * single-use confirmations).
 *
 * Shape:
 *  - struct gw_kv (process-wide): the parsed configuration (GW_REDIS_*), the registered Lua
 *    scripts, the counters, the subscriber (pub/sub) thread. Without a URL it is "disabled" and
 *    every caller keeps its state in process, exactly as without this module.
 *  - struct gw_kv_conn (one per event loop): one hiredis asynchronous connection driven by that
 *    loop (kv_adapter.c), created by gw_kv_loop_start in the loop's GW_LOOP_SLOT_KV.
 *    Commands are pipelined on it; replies come back on the loop, in order.
 * Never blocks a loop: connecting is non-blocking (host names are resolved by the subscriber
 * thread, never on a loop), every command has a deadline (GW_REDIS_COMMAND_TIMEOUT_MS): the
 * first command to miss it drops the connection and fails everything pending; while the
 * connection is down, commands fail at once (GW_EIO, callback not called) and a timer
 * reconnects with backoff. Callers apply their own fail-open/closed rule on failure.
 * Redis Cluster: every key a caller builds carries a hash tag ("{...}") and every script
 * touches keys of one slot only; a MOVED/ASK reply is reported as GW_EIO (see docs/scaling.md).
 * Scripts run on the Redis server's clock (TIME), never on replica clocks.
 * Threading: a gw_kv_conn is used only on its loop's thread; gw_kv counters are atomic;
 * subscription handlers run on the subscriber thread.
 */
#ifndef GW_KV_KV_H
#define GW_KV_KV_H

#include "core/err.h"
#include "core/settings.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_kv;
struct gw_kv_conn;
struct gw_loop;

extern const struct gw_setting_def gw_kv_settings[];

struct gw_kv_config {
    /* "" or NULL = disabled. redis://[[user]:password@]host[:port][/db] or
     * unix:///path/to/socket[?db=N] (a password may also come from `password`). */
    const char *url;
    const char *password;     /* overrides the URL's; may be NULL */
    const char *prefix;       /* prepended to every key and channel (default "gw:") */
    int connect_timeout_ms;   /* default 500 */
    int command_timeout_ms;   /* default 250 */
    int reconnect_max_ms;     /* backoff cap (default 2000) */
    size_t max_pending;       /* commands in flight per connection (default 10000) */
};

/* Fills cfg from the GW_REDIS_* settings (strings point into s). */
void gw_kv_config_from_settings(struct gw_kv_config *cfg, const struct gw_settings *s);

/* Creates the process object (parses the URL; resolves a host name once: blocks for DNS).
 * Does not connect. GW_OK, or GW_EINVAL with err naming what is wrong with the URL. */
int gw_kv_new(const struct gw_kv_config *cfg, struct gw_kv **out, struct gw_error *err);
/* Stops the subscriber thread and frees. Every loop must have been stopped. Accepts NULL. */
void gw_kv_free(struct gw_kv *kv);
/* Whether Redis is configured (false: callers keep state in process). Accepts NULL. */
bool gw_kv_enabled(const struct gw_kv *kv);
/* The key prefix ("gw:" by default). */
const char *gw_kv_prefix(const struct gw_kv *kv);
/* Redacted URL for logs (password replaced). */
const char *gw_kv_url_shown(const struct gw_kv *kv);

/* Creates `loop`'s connection (in GW_LOOP_SLOT_KV) and starts connecting. On the loop's
 * thread, when it starts. GW_OK (also when disabled: nothing is made). */
int gw_kv_loop_start(struct gw_kv *kv, struct gw_loop *loop, struct gw_error *err);
/* Fails what is pending (callbacks run with GW_EIO) and frees the connection. On the loop's
 * thread, before the loop is freed. */
void gw_kv_loop_stop(struct gw_kv *kv, struct gw_loop *loop);
/* The connection of `loop` (NULL when none: disabled, or the loop was not started). */
struct gw_kv_conn *gw_kv_conn_of(const struct gw_loop *loop);
/* Whether the connection is up and initialised (scripts loaded). */
bool gw_kv_conn_ready(const struct gw_kv_conn *c);

/* ---- replies (read-only views, valid during the callback only) ---- */

enum gw_kv_type {
    GW_KV_NIL,
    GW_KV_INT,
    GW_KV_STR,    /* bulk or status string */
    GW_KV_ARRAY,
    GW_KV_ERROR   /* an error reply ("ERR ...", "NOSCRIPT ...") */
};
struct gw_kv_reply;
enum gw_kv_type gw_kv_reply_type(const struct gw_kv_reply *r);
long long gw_kv_reply_int(const struct gw_kv_reply *r);  /* 0 unless INT */
const char *gw_kv_reply_str(const struct gw_kv_reply *r, size_t *len); /* STR/ERROR, else "" */
size_t gw_kv_reply_count(const struct gw_kv_reply *r);   /* ARRAY elements, else 0 */
const struct gw_kv_reply *gw_kv_reply_at(const struct gw_kv_reply *r, size_t i); /* or NULL */
/* An integer element of an array reply (0 when absent or not an integer). */
long long gw_kv_reply_int_at(const struct gw_kv_reply *r, size_t i);

/* Receives a command's outcome on the connection's loop: rc GW_OK with the reply (which may
 * be an error reply: check its type), or GW_ETIMEOUT / GW_EIO with r == NULL (no answer: the
 * connection was lost or dropped for missing the deadline). */
typedef void (*gw_kv_reply_fn)(void *arg, int rc, const struct gw_kv_reply *r);

/* Sends one command (argv strings with lengths; copied). GW_OK: fn is called exactly once
 * later, on the loop. GW_EIO (not connected), GW_ELIMIT (too many pending): fn is NOT
 * called. Never blocks. */
int gw_kv_cmd(struct gw_kv_conn *c, gw_kv_reply_fn fn, void *arg, int argc, const char **argv,
              const size_t *argvlen);

/* ---- Lua scripts ---- */

/* A script, registered once at start-up (gw_kv_script_register) and run with EVALSHA (loaded
 * on every connection when it comes up; a NOSCRIPT reply is retried with EVAL transparently).
 * Scripts must only touch keys passed in KEYS, of one hash slot, and read time with TIME. */
struct gw_kv_script {
    const char *name;
    const char *lua;
    char sha1[41]; /* filled by gw_kv_script_register */
};
/* Registers `s` (static storage; before any loop starts). At most 16 scripts. */
void gw_kv_script_register(struct gw_kv *kv, struct gw_kv_script *s);

/* EVALSHA s with nkeys keys then nargs arguments (strings with lengths; NULL lengths = strlen).
 * Same contract as gw_kv_cmd. */
int gw_kv_eval(struct gw_kv_conn *c, const struct gw_kv_script *s, int nkeys, const char **keys,
               int nargs, const char **args, gw_kv_reply_fn fn, void *arg);

/* ---- pub/sub (subscriber thread) ---- */

/* A message on `channel` (the prefix stripped). Runs on the subscriber thread: must be quick
 * and thread-safe. */
typedef void (*gw_kv_message_fn)(void *ud, const char *channel, const char *msg, size_t len);
/* Runs on the subscriber thread each time its subscription (re)starts, after it is active:
 * messages may have been missed while it was down, so the owner resynchronises here, using
 * `conn` (a connection on the subscriber's own loop) for its queries. */
typedef void (*gw_kv_resync_fn)(void *ud, struct gw_kv_conn *conn);
/* Subscribes to <prefix><channel> (before gw_kv_start). At most 8 subscriptions. */
int gw_kv_subscribe(struct gw_kv *kv, const char *channel, gw_kv_message_fn on_message,
                    gw_kv_resync_fn on_resync, void *ud);
/* Starts the subscriber thread (its loop keeps a command connection and the subscription, and
 * re-resolves the host name when connecting fails). Call once after the subscriptions and
 * scripts are registered; a no-op when disabled. */
int gw_kv_start(struct gw_kv *kv, struct gw_error *err);

/* ---- single use ---- */

/* Claims `key` (a caller-chosen name; hash-tagged and prefixed here) once for ttl_ms: GW_OK
 * the first time, GW_ECONFLICT when already claimed (by any replica, until the TTL passes).
 * With Redis: SET NX PX, answered through done (returns GW_AGAIN) on the calling loop; on a
 * Redis failure done receives GW_EIO (callers fail closed). Without Redis (or without a loop
 * connection): a process-wide table, answered at once (done not called). */
typedef void (*gw_kv_once_fn)(void *arg, int rc);
int gw_kv_once(struct gw_kv *kv, struct gw_loop *loop, const char *key, uint64_t ttl_ms,
               gw_kv_once_fn done, void *arg);

/* ---- counters (pull model, for metrics) ---- */

struct gw_kv_stats {
    bool enabled;
    unsigned loops, loops_ready;   /* worker connections, and those up now */
    bool subscriber_ready;
    uint64_t commands, replies, errors; /* errors = error replies */
    uint64_t timeouts, disconnects, connects, connect_failures, refused; /* refused: failed at
                                                                            once (down/full) */
    uint64_t noscript_retries, messages, resyncs, once_claims, once_conflicts;
};
void gw_kv_stats(const struct gw_kv *kv, struct gw_kv_stats *out);

/* Builds "<prefix><a>{<b>}<c>" into out (NUL-terminated). Returns the length, or 0 when it
 * does not fit. `b` is the hash tag (never empty). */
size_t gw_kv_key(const struct gw_kv *kv, char *out, size_t size, const char *a, const char *b,
                 const char *c);

#endif
