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
/* Configures logging from GW_LOG_LEVEL / GW_LOG_FORMAT. */
void app_logging_init(const struct gw_settings *s);

/* The data plane shared by serve and stdio. */
struct gw_registry;
struct gw_upstreams;
struct gw_pipeline;
struct gw_mcp_server;
struct gw_store;
struct gw_audit;
struct gw_pii;
struct gw_metrics;
struct gw_tracer;
struct app_platform {
    struct gw_audit *audit;     /* NULL when GW_AUDIT_ENABLED=false */
    struct gw_pii *pii;
    struct gw_metrics *metrics;
    struct gw_tracer *tracer;   /* NULL when GW_OTLP_ENDPOINT is empty */
    struct gw_registry *registry;
    struct gw_upstreams *upstreams;
    struct gw_pipeline *pipeline;
    struct gw_mcp_server *mcp;
    int change_id;
};
/* Migrates the database, opens the registry, loads upstreams and builds the MCP server with
 * its providers. Prints the reason and returns an error code on failure. Blocks. */
int app_platform_open(struct app_platform *pf, const struct gw_settings *s);
void app_platform_close(struct app_platform *pf);
/* Per-loop state of the data plane (pipeline executor, caches) for a loop that starts / has
 * stopped; called on that loop's thread. */
struct gw_loop;
int app_platform_loop_start(struct app_platform *pf, struct gw_loop *loop, struct gw_error *err);
void app_platform_loop_stop(struct app_platform *pf, struct gw_loop *loop);
/* Readiness probe (/ready): the registry watcher holds its database connection. */
struct gw_error;
int app_ready_registry(void *arg, struct gw_error *err);
/* The database URL (DATABASE_URL, else SQLite under GW_DATA_DIR). */
int app_store_url(const struct gw_settings *s, char *out, size_t size);
/* Store connection options from the GW_DB_* settings. */
#include "store/store.h"
struct gw_store_options app_store_options(const struct gw_settings *s);
/* Opens (and optionally migrates) the store; prints the reason on failure. Blocks. */
int app_store_open(const struct gw_settings *s, bool migrate, struct gw_store **out);

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
int cmd_serve(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_tools(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_specs(int argc, char **argv);
int cmd_bundles(int argc, char **argv);
int cmd_stdio(int argc, char **argv);
int cmd_config(int argc, char **argv);

#endif
