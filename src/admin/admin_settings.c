/*
 * src/admin/admin_settings.c
 * The GW_ADMIN_* settings (declarative table, registered by the app; docs/configuration.md is
 * generated from it) and their translation into the admin configuration and the options of the
 * admin HTTP server, including the loopback-only rule that stands until the admin API has
 * authentication (the governance issue).
 */
#include "admin/admin.h"

#include <stdio.h>
#include <string.h>

#define GROUP "Admin API"

const struct gw_setting_def gw_admin_settings[] = {
    {"GW_ADMIN_LISTEN", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "Address of the admin REST API (/admin/api/, a separate HTTP server from the MCP "
     "endpoint), e.g. `127.0.0.1:8001` (what scripts/run.sh uses). Empty (the default) "
     "disables the admin API. It has no authentication yet: unless "
     "GW_ADMIN_ALLOW_REMOTE is true it must be a numeric loopback address (127.0.0.1:PORT or "
     "[::1]:PORT) and requests from other peers get 403."},
    {"GW_ADMIN_MAX_BODY_BYTES", GW_SET_INT, "67108864", 1024, 1073741824, NULL, GROUP,
     "Largest request body the admin API accepts (spec uploads, approvals), in bytes; larger "
     "bodies get 413."},
    {"GW_ADMIN_EXPORT_MAX_BYTES", GW_SET_INT, "67108864", 65536, 536870912, NULL, GROUP,
     "Largest audit export (GET /admin/api/audit/export) the admin API builds, in bytes: a "
     "larger one is refused with 422 and how to narrow it (a time window, filters) or take it "
     "with `mcpgw audit export` / `mcpgw audit search --db` instead, never cut short."},
    {"GW_ADMIN_THREADS", GW_SET_INT, "2", 1, 64, NULL, GROUP,
     "Threads that run the admin API's blocking work (database, spec fetch and import), each "
     "with its own database connection."},
    {"GW_ADMIN_ALLOW_REMOTE", GW_SET_BOOL, "false", 0, 0, NULL, GROUP,
     "Allow the admin API on a non-loopback address and from non-loopback peers. Only for a "
     "deployment that protects it otherwise (network policy, authenticating proxy) until the "
     "admin API has its own authentication."},
    {"GW_ADMIN_ALLOWED_ORIGINS", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "Comma-separated browser origins allowed to call the admin API besides its own (same "
     "host as the Host header), e.g. a UI served elsewhere. Requests with any other Origin "
     "get 403, so that a web page cannot drive the admin API."},
    {"GW_ADMIN_ALLOWED_HOSTS", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "Comma-separated Host names the admin API accepts (DNS-rebinding protection). On a "
     "loopback address localhost/127.0.0.1/[::1] are always accepted and other names only if "
     "listed; elsewhere any Host is accepted unless this list is set."},
    GW_SETTINGS_END,
};

void gw_admin_config_from_settings(struct gw_admin_config *cfg, const struct gw_settings *s)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->settings = s;
    cfg->threads = (int)gw_settings_int(s, "GW_ADMIN_THREADS");
    cfg->allow_remote = gw_settings_bool(s, "GW_ADMIN_ALLOW_REMOTE");
    cfg->max_body_bytes = (size_t)gw_settings_int(s, "GW_ADMIN_MAX_BODY_BYTES");
    cfg->export_max_bytes = (size_t)gw_settings_int(s, "GW_ADMIN_EXPORT_MAX_BYTES");
    cfg->allowed_origins = gw_settings_str(s, "GW_ADMIN_ALLOWED_ORIGINS");
    cfg->allowed_hosts = gw_settings_str(s, "GW_ADMIN_ALLOWED_HOSTS");
}

/* Whether "host:port" / "[v6]:port" names a numeric loopback address. */
static bool listen_is_loopback(const char *listen)
{
    char host[80];
    const char *end;
    if (listen[0] == '[') {
        end = strchr(listen, ']');
        if (!end)
            return false;
        listen++;
    } else {
        end = strrchr(listen, ':');
        if (!end)
            return false;
    }
    size_t n = (size_t)(end - listen);
    if (n == 0 || n >= sizeof(host))
        return false;
    memcpy(host, listen, n);
    host[n] = '\0';
    enum gw_ssrf_class c;
    return gw_ssrf_classify_text(host, &c) == GW_OK && c == GW_SSRF_LOOPBACK;
}

int gw_admin_net_options(const struct gw_settings *s, struct gw_net_options *opts,
                         struct gw_error *err)
{
    gw_net_options_from_settings(opts, s);
    const char *listen = gw_settings_str(s, "GW_ADMIN_LISTEN");
    if (!listen || !*listen)
        return GW_DECLINED;
    opts->listen = listen;
    opts->workers = 1;
    opts->max_body_bytes = (size_t)gw_settings_int(s, "GW_ADMIN_MAX_BODY_BYTES");
    if (!gw_settings_bool(s, "GW_ADMIN_ALLOW_REMOTE") && !listen_is_loopback(listen))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "GW_ADMIN_LISTEN=%s is not a loopback address: the admin API has "
                            "no authentication yet; use 127.0.0.1:PORT or [::1]:PORT, or set "
                            "GW_ADMIN_ALLOW_REMOTE=true behind another protection",
                            listen);
    return GW_OK;
}
