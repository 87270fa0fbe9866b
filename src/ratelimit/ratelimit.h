/*
 * src/ratelimit/ratelimit.h
 * Rate limits: GCRA per rule and key, on the in-process or the Redis backend, plugged into the
 * RATELIMIT phase of tools/call and into the HTTP transport's admission (before
 * authentication).
 *
 * Rules (ratelimit_rule.h) come from a file, the database, the CLI and the admin API, merged
 * by the loader (ratelimit_loader.c) into one immutable rule set that is swapped atomically.
 * For each tools/call, every enabled "call" rule whose match holds yields one key per value of
 * its `per` dimensions (ip, user, client, tool, role, risk, tenant); the keys of enforced rules
 * are checked in one batch (all-or-nothing), the dry-run rules in a second one whose refusals
 * are only recorded (decision record, log, _meta io.msil/dryRunDenials). HTTP-scope rules
 * (per IP) are checked by the admission hook on every request of the MCP routes.
 * A refused tool call gets JSON-RPC error -32008 with data.retryAfterSeconds and a message an
 * agent can act on; a refused HTTP request gets 429 + Retry-After. Responses carry the IETF
 * RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers) of the limit
 * closest to refusing.
 * When Redis cannot answer (down, timed out, overloaded) the configured failure mode applies:
 * `local` (the in-process backend takes over: limits then hold per replica), `open` (allow) or
 * `closed` (refuse: -32009 / 503); each case is logged (at most every 10 s) and counted.
 * Threading: checks run on the worker loops and never block; the rule set is swapped under a
 * short mutex; counters are atomic.
 */
#ifndef GW_RATELIMIT_RATELIMIT_H
#define GW_RATELIMIT_RATELIMIT_H

#include "core/err.h"
#include "core/settings.h"
#include "mcp/mcp_http.h"
#include "ratelimit/ratelimit_backend.h"
#include "ratelimit/ratelimit_rule.h"

#include <stdbool.h>
#include <stdint.h>

struct gw_ratelimit;
struct gw_pipeline;
struct gw_kv;

extern const struct gw_setting_def gw_ratelimit_settings[];

enum gw_rl_failure { GW_RL_FAIL_LOCAL = 0, GW_RL_FAIL_OPEN, GW_RL_FAIL_CLOSED };

struct gw_ratelimit_config {
    bool use_redis;                /* the Redis backend (needs an enabled kv) */
    bool cluster;                  /* one script per key (Redis Cluster) */
    enum gw_rl_failure on_failure; /* when Redis cannot answer */
    size_t memory_max_keys;        /* in-process states (default 100000) */
    const char *trusted_proxies;   /* GW_TRUSTED_PROXIES: CIDRs whose X-Forwarded-For counts */
    bool headers;                  /* RateLimit / RateLimit-Policy on responses */
    gw_rl_clock_fn clock_us;       /* tests: the in-process backend's clock (NULL = monotonic) */
    void *clock_ud;
};

/* Fills cfg from the GW_RATELIMIT_* / GW_TRUSTED_PROXIES settings; use_redis follows
 * GW_RATELIMIT_BACKEND (auto = Redis when `kv_enabled`). */
void gw_ratelimit_config_from_settings(struct gw_ratelimit_config *cfg,
                                       const struct gw_settings *s, bool kv_enabled);

/* Creates the limiter. `kv` (borrowed, may be NULL) is needed for use_redis; its script is
 * registered here (before the loops start). GW_OK or GW_EINVAL (bad trusted proxies, Redis
 * asked for without a Redis URL). */
int gw_ratelimit_new(const struct gw_ratelimit_config *cfg, struct gw_kv *kv,
                     struct gw_ratelimit **out, struct gw_error *err);
/* Frees; every loop must have stopped. Accepts NULL. */
void gw_ratelimit_free(struct gw_ratelimit *rl);

/* Replaces the rule set (a reference is taken; NULL = no rules). Any thread. */
void gw_ratelimit_set_rules(struct gw_ratelimit *rl, struct gw_rl_ruleset *rs);
/* The current rule set (a new reference; never NULL). */
struct gw_rl_ruleset *gw_ratelimit_rules(struct gw_ratelimit *rl);

/* Registers the RATELIMIT handlers ("ratelimit" enforcing, "ratelimit-dry-run" in dry-run) on
 * the pipeline. Before serving. */
int gw_ratelimit_attach(struct gw_ratelimit *rl, struct gw_pipeline *p);

/* The HTTP admission check (a gw_mcp_admit_fn; ud = the limiter). */
int gw_ratelimit_admit(void *ud, struct gw_loop *loop, const char *peer,
                       const char *forwarded_for, struct gw_mcp_admission *out,
                       gw_mcp_admit_done_fn done, void *arg);

/* The client address of a request (trusted proxies applied), into out. */
void gw_ratelimit_client_ip(const struct gw_ratelimit *rl, const char *peer, const char *xff,
                            char *out, size_t size);

/* Counters since start (pull model, for metrics). */
struct gw_ratelimit_stats {
    const char *backend;        /* "memory" or "redis" */
    uint64_t rules;             /* rules in the current set */
    uint64_t checks;            /* calls and HTTP requests that had at least one rule */
    uint64_t allowed, limited;  /* enforced outcome */
    uint64_t http_limited;      /* of `limited`: refused at the HTTP layer (429) */
    uint64_t dry_run_limited;   /* dry-run rules that would have refused */
    uint64_t backend_errors;    /* Redis could not answer */
    uint64_t fail_local, fail_open, fail_closed; /* what was done about it */
    uint64_t memory_keys;       /* states held in process */
};
void gw_ratelimit_stats(struct gw_ratelimit *rl, struct gw_ratelimit_stats *out);

#endif
