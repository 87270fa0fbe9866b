/*
 * src/ratelimit/ratelimit_loader.h
 * Where the limiter's rules come from, merged into one rule set: the built-in per-IP rule
 * (GW_RATELIMIT_HTTP_PER_IP, id "http-per-ip"), the rules file (GW_RATELIMIT_RULES_FILE) and
 * the database (table ratelimit_rules: `mcpgw limits`, the admin API). Ids are unique across
 * the three (a clash is reported and the later source's rule skipped).
 * A background thread re-reads them when woken (gw_rl_loader_wake: the registry's change
 * notification, which every database write triggers on every replica) and every reload_ms as
 * a fallback; the file is re-read only when its size or mtime changed. A source that fails
 * keeps its previous rules (logged); the start-up load fails only on an invalid file or
 * GW_RATELIMIT_HTTP_PER_IP (an operator's typo must not start a gateway without its limits).
 * The database is read on the loader's own connection: never on an event loop.
 */
#ifndef GW_RATELIMIT_LOADER_H
#define GW_RATELIMIT_LOADER_H

#include "core/err.h"
#include "ratelimit/ratelimit.h"
#include "store/store.h"

struct gw_rl_loader;

struct gw_rl_loader_config {
    const char *rules_file;   /* "" or NULL: none */
    const char *http_per_ip;  /* a rate ("1000/min") or "" */
    const char *store_url;    /* NULL: no database rules */
    const struct gw_store_options *store_opts;
    int reload_ms;            /* fallback period (<= 0: 10 s) */
    bool thread;              /* run the background thread (false: gw_rl_loader_reload only) */
};

/* Loads every source once (BLOCKS on the file and the database) and installs the rule set on
 * `rl`, then starts the thread. GW_EINVAL with err for an invalid file or per-IP rate. */
int gw_rl_loader_new(struct gw_ratelimit *rl, const struct gw_rl_loader_config *cfg,
                     struct gw_rl_loader **out, struct gw_error *err);
/* Asks the thread to reload now. Any thread, never blocks. */
void gw_rl_loader_wake(struct gw_rl_loader *l);
/* Reloads now on the calling thread (BLOCKS). GW_OK, or the first source's error (the
 * previous rules of that source are kept). */
int gw_rl_loader_reload(struct gw_rl_loader *l, struct gw_error *err);
/* Stops the thread and frees. Accepts NULL. */
void gw_rl_loader_free(struct gw_rl_loader *l);

/* Builds the built-in rule for a per-IP rate ("1000/min"). GW_EINVAL for a bad rate. */
int gw_rl_http_per_ip_rule(const char *rate, struct gw_rl_rule **out, struct gw_error *err);

#endif
