/*
 * src/app/app.h
 * The composition root: settings registration, logging set-up and the subcommands of `mcpgw`.
 * Only this folder knows every module; it wires them and holds no protocol or business logic.
 */
#ifndef GW_APP_H
#define GW_APP_H

#include "core/settings.h"

#include <stdbool.h>
#include <stddef.h>

extern const struct gw_setting_def gw_app_settings[];

/* Common options every subcommand understands. */
struct app_common {
    const char *config_file;
    bool fixtures;
};

/* Creates the registry of every module's settings, applies `overrides` (NAME=VALUE strings)
 * and loads file + environment. Prints a clear message and returns NULL on invalid settings. */
struct gw_settings *app_settings_load(const char *config_file, const char *const *overrides,
                                      int noverrides);
/* Logs a warning for each GW_* environment variable that names no setting (a typo), with
 * the closest setting name; returns how many. */
size_t app_settings_report_unknown(const struct gw_settings *s);
/* Configures logging from GW_LOG_LEVEL / GW_LOG_FORMAT. */
void app_logging_init(const struct gw_settings *s);

/* The data plane shared by serve and stdio. */
struct gw_registry;
struct gw_upstreams;
struct gw_pipeline;
struct gw_mcp_server;
struct gw_store;
struct gw_auth;
struct gw_gov;
struct gw_audit;
struct gw_pii;
struct gw_metrics;
struct gw_tracer;
struct gw_kv;
struct gw_ratelimit;
struct gw_rl_loader;
struct gw_shared;
struct gw_discovery;
struct app_platform {
    struct gw_audit *audit;     /* NULL when GW_AUDIT_ENABLED=false */
    struct gw_pii *pii;
    struct gw_metrics *metrics;
    struct gw_tracer *tracer;   /* NULL when GW_OTLP_ENDPOINT is empty */
    struct gw_registry *registry;
    struct gw_upstreams *upstreams;
    struct gw_pipeline *pipeline;
    struct gw_discovery *discovery;
    struct gw_mcp_server *mcp;
    struct gw_auth *auth;
    struct gw_gov *gov;
    struct gw_kv *kv;                /* shared state on Redis (disabled without REDIS_URL) */
    struct gw_ratelimit *ratelimit;  /* NULL when GW_RATELIMIT_ENABLED=false */
    struct gw_rl_loader *rl_loader;
    struct gw_shared *shared;        /* sessions and idempotency keys on Redis */
    int change_id;
};
/* The gateway's canonical base URL: GW_PUBLIC_URL, else http://<GW_LISTEN> (a wildcard
 * address becomes localhost). */
void app_public_url(const struct gw_settings *s, char *out, size_t size);
/* Migrates the database, opens the registry, loads upstreams, creates the authenticator and
 * builds the MCP server with its providers. Prints the reason and returns an error code on
 * failure. Blocks. */
int app_platform_open(struct app_platform *pf, const struct gw_settings *s);
void app_platform_close(struct app_platform *pf);
/* Per-loop state of the data plane (pipeline executor, caches) for a loop that starts / has
 * stopped; called on that loop's thread. */
struct gw_loop;
int app_platform_loop_start(struct app_platform *pf, struct gw_loop *loop, struct gw_error *err);
void app_platform_loop_stop(struct app_platform *pf, struct gw_loop *loop);
struct gw_store_options;
/* Shared state and rate limits (part of app_platform_open): the Redis module, the limiter
 * (registered on the pipeline) and its rules loader. Prints why and returns an error. */
int app_shared_open(struct app_platform *pf, const struct gw_settings *s, const char *store_url,
                    const struct gw_store_options *so);
/* The limiter's effective rules and counters plus the Redis counters, for the admin API
 * ({"rules": [...], "stats": {...}}; NULL without a limiter). Thread-safe. */
#include <jansson.h>
json_t *app_limits_status(void *arg);
/* The console dashboard's summary of this replica (gw_admin_summary_fn): the metrics time
 * series of the window, every upstream with its breaker, the audit trail's lag. Thread-safe. */
struct gw_error;
json_t *app_metrics_summary(void *arg, unsigned window, unsigned step, struct gw_error *err);
/* Readiness probe (/ready): this replica holds a registry snapshot it can serve (database
 * health is for metrics and alerts, not readiness). */
struct gw_error;
int app_ready_registry(void *arg, struct gw_error *err);
/* The database URL (DATABASE_URL, else SQLite under GW_DATA_DIR). */
int app_store_url(const struct gw_settings *s, char *out, size_t size);
/* Store connection options from the GW_DB_* settings. */
#include "store/store.h"
struct gw_store_options app_store_options(const struct gw_settings *s);
/* Opens (and optionally migrates) the store; prints the reason on failure. Blocks. */
int app_store_open(const struct gw_settings *s, bool migrate, struct gw_store **out);

/* CLI helpers shared by the subcommands (cmd_tools.c): pretty-printed JSON on stdout, an
 * error line on stderr (returns the exit status: 2 for not found / invalid, else 1), the value
 * of "--name VALUE", and settings + a migrated store handle (NULL after printing why). */
#include <jansson.h>
void app_cli_print_json(const json_t *v);
int app_cli_fail(const char *what, const struct gw_error *err);
const char *app_cli_opt(int argc, char **argv, const char *name);
struct gw_store *app_cli_open_store(int argc, char **argv, struct gw_settings **out_s);
/* Serves the admin console (GW_ADMIN_UI_DIR) on the admin server, when both are configured;
 * *out (may stay NULL) is freed with gw_web_free after that server stopped. Prints the reason
 * on failure. Blocks (reads the files). */
struct gw_server;
struct gw_web;
int app_web_attach(const struct gw_settings *s, struct gw_server *admin_http,
                   struct gw_web **out);

/* Audit trail, PII masking and metrics (app_observe.c): open after the MCP server and the
 * pipeline exist; close after every server has drained. */
int app_observe_open(struct app_platform *pf, const struct gw_settings *s);
void app_observe_close(struct app_platform *pf);
/* On the data-plane server: the verifier keys' well-known URL and the audit readiness check;
 * creates the /metrics listener (GW_METRICS_LISTEN), or serves /metrics on the admin server
 * when that is empty (*metrics_srv NULL then). */
struct gw_server;
int app_observe_serve(struct app_platform *pf, const struct gw_settings *s,
                      struct gw_server *http, struct gw_server *admin_http,
                      struct gw_server **metrics_srv);

int cmd_audit(int argc, char **argv);

/* The chat agent (/chat/api/) and its page (GW_CHAT_UI_DIR at /chat/) on the data-plane
 * listener. *chat and *page (may stay NULL) are freed with gw_chat_free / gw_web_free after
 * that server stopped. Prints the reason on failure. Blocks (reads files). */
struct gw_chat;
int app_chat_attach(const struct gw_settings *s, struct app_platform *pf, struct gw_server *http,
                    struct gw_chat **chat, struct gw_web **page);

int cmd_serve(int argc, char **argv);
int cmd_limits(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_governance(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_tools(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_specs(int argc, char **argv);
int cmd_bundles(int argc, char **argv);
int cmd_stdio(int argc, char **argv);
int cmd_config(int argc, char **argv);
/* `mcpgw config client`: the desktop-client configuration (cmd_client.c). */
int cmd_config_client(int argc, char **argv);
/* `mcpgw stdio` without any configuration where no registry exists: explains and returns
 * GW_EINVAL instead of creating an empty database in the client's folder (cmd_client.c). */
int app_stdio_guard(const struct gw_settings *s);

#endif
