/*
 * src/app/app_settings.c
 * The settings of the application itself, and the registration of every module's table
 * (the one place that lists them all, so `mcpgw config docs` documents everything).
 */
#include "app.h"

#include "admin/admin.h"
#include "auth/auth.h"
#include "audit/audit.h"
#include "metrics/metrics.h"
#include "pii/pii.h"
#include "trace/trace.h"
#include "chat/chat.h"
#include "core/log.h"
#include "core/thread.h"
#include "discovery/discovery.h"
#include "governance/gov.h"
#include "kv/kv.h"
#include "mcp/mcp_server.h"
#include "net/net_server.h"
#include "openapi/openapi.h"
#include "ratelimit/ratelimit.h"
#include "registry/registry_settings.h"
#include "schema/schema.h"
#include "ssrf/ssrf.h"
#include "store/store_settings.h"
#include "upstream/upstream_settings.h"
#include "web/web.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const struct gw_setting_def gw_app_settings[] = {
    {"GW_CONFIG_FILE", GW_SET_STRING, "", 0, 0, NULL, "General",
     "Optional settings file (KEY=VALUE lines with the names on this page). `--config` on the "
     "command line takes precedence."},
    {"GW_DATA_DIR", GW_SET_STRING, "./data", 0, 0, NULL, "General",
     "Directory for the embedded database, audit files and other local state."},
    {"GW_BACKGROUND_SCHEDULING", GW_SET_ENUM, "batch", 0, 0, "batch|normal", "General",
     "Scheduling class of the background threads (audit writer, log sink, loaders, exporters; "
     "not the request workers). `batch` (Linux SCHED_BATCH, no privilege needed): waking one "
     "never preempts the worker that woke it, so on a busy machine the audit writer commits "
     "bigger groups: measured at 32 concurrent calls on 2 cores, half the context switches and "
     "about 15 % less CPU per governed tools/call. `normal`: the default Linux class."},
    {"GW_LOG_LEVEL", GW_SET_ENUM, "info", 0, 0, "trace|debug|info|warn|error|fatal|off",
     "Logging", "Minimum level of diagnostic log lines (stderr)."},
    {"GW_LOG_FORMAT", GW_SET_ENUM, "json", 0, 0, "json|text", "Logging",
     "`json`: one JSON object per line (for log shippers); `text`: human-readable lines."},
    {"GW_DB_MIGRATE_ON_START", GW_SET_BOOL, "true", 0, 0, NULL, "Database",
     "`serve` and `stdio` apply database migrations before serving (the embedded default). "
     "Set false where a separate step migrates (`mcpgw db migrate`, the Kubernetes migration "
     "Job): the gateway then never changes the schema and starts even while the database is "
     "unreachable, answering /ready with 503 until its first registry snapshot is loaded."},
    {"GW_CONFORMANCE_FIXTURES", GW_SET_BOOL, "false", 0, 0, NULL, "MCP protocol",
     "Serve the MCP conformance suite's fixed test tools, resources and prompts (testing only: "
     "they are answered by the gateway itself, outside the governance and rate-limit phases; "
     "never in production)."},
    GW_SETTINGS_END};

struct gw_settings *app_settings_load(const char *config_file, const char *const *overrides,
                                      int noverrides)
{
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, gw_app_settings);
    gw_settings_register(s, gw_net_settings);
    gw_settings_register(s, gw_mcp_settings);
    gw_settings_register(s, gw_store_settings);
    gw_settings_register(s, gw_registry_settings);
    gw_settings_register(s, gw_upstream_settings);
    gw_settings_register(s, gw_openapi_settings);
    gw_settings_register(s, gw_discovery_settings);
    gw_settings_register(s, gw_ssrf_settings);
    gw_settings_register(s, gw_schema_settings);
    gw_settings_register(s, gw_admin_settings);
    gw_settings_register(s, gw_auth_settings);
    gw_settings_register(s, gw_gov_settings);
    gw_settings_register(s, gw_gov_opa_settings);
    gw_settings_register(s, gw_web_settings);
    gw_settings_register(s, gw_audit_settings);
    gw_settings_register(s, gw_pii_settings);
    gw_settings_register(s, gw_metrics_settings);
    gw_settings_register(s, gw_trace_settings);
    gw_settings_register(s, gw_kv_settings);
    gw_settings_register(s, gw_ratelimit_settings);
    gw_settings_register(s, gw_chat_settings);
    struct gw_error err = {0};
    for (int i = 0; i < noverrides; i++) {
        char name[128];
        const char *eq = strchr(overrides[i], '=');
        if (!eq || (size_t)(eq - overrides[i]) >= sizeof(name))
            continue;
        memcpy(name, overrides[i], (size_t)(eq - overrides[i]));
        name[eq - overrides[i]] = '\0';
        if (gw_settings_override(s, name, eq + 1, &err) != GW_OK) {
            fprintf(stderr, "mcpgw: %s\n", err.msg);
            gw_settings_free(s);
            return NULL;
        }
    }
    if (!config_file || !*config_file) {
        const char *env = getenv("GW_CONFIG_FILE");
        config_file = env && *env ? env : NULL;
    }
    if (gw_settings_load(s, config_file, &err) != GW_OK) {
        fprintf(stderr, "mcpgw: invalid configuration: %s\n", err.msg);
        gw_settings_free(s);
        return NULL;
    }
    return s;
}

static void report_unknown(void *ud, const char *name, const char *suggestion)
{
    (void)ud;
    if (suggestion)
        GW_LOG(GW_LOG_WARN, "config", "%s is not a setting of this gateway (did you mean %s?)",
               name, suggestion);
    else
        GW_LOG(GW_LOG_WARN, "config", "%s is not a setting of this gateway (ignored)", name);
}

size_t app_settings_report_unknown(const struct gw_settings *s)
{
    return gw_settings_unknown_env(s, report_unknown, NULL);
}

void app_logging_init(const struct gw_settings *s)
{
    /* before the first thread (the log sink) starts */
    gw_thread_set_background_batch(!strcmp(gw_settings_str(s, "GW_BACKGROUND_SCHEDULING"),
                                           "batch"));
    enum gw_log_level lvl = GW_LOG_INFO;
    gw_log_level_parse(gw_settings_str(s, "GW_LOG_LEVEL"), &lvl);
    gw_log_configure(lvl, strcmp(gw_settings_str(s, "GW_LOG_FORMAT"), "json") == 0,
                     STDERR_FILENO);
}
