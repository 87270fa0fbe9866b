/*
 * src/app/cmd_serve.c
 * `mcpgw serve` and `mcpgw stdio`: build the MCP server with its providers, then run it over
 * HTTP (worker threads) or over stdin/stdout (one loop on the main thread).
 * Start-up order: settings -> logging -> MCP server + providers -> HTTP server (binds) ->
 * workers start -> wait for SIGTERM -> drain -> free in reverse order.
 */
#include "app.h"

#include "admin/admin.h"
#include "auth/auth.h"
#include "chat/chat.h"
#include "core/log.h"
#include "registry/registry.h"
#include "mcp/mcp_http.h"
#include "mcp/mcp_server.h"
#include "mcp/mcp_stdio.h"
#include "net/net_loop.h"
#include "net/net_server.h"
#include "web/web.h"
#include "ratelimit/ratelimit.h"

#include <event2/event.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_OVERRIDES 64

struct serve_args {
    const char *config;
    const char *port_file;
    const char *admin_port_file;
    const char *metrics_port_file;
    const char *overrides[MAX_OVERRIDES];
    int noverrides;
    char bufs[MAX_OVERRIDES][512];
};

static void add_override(struct serve_args *a, const char *name, const char *value)
{
    if (a->noverrides >= MAX_OVERRIDES)
        return;
    snprintf(a->bufs[a->noverrides], sizeof(a->bufs[0]), "%s=%s", name, value);
    a->overrides[a->noverrides] = a->bufs[a->noverrides];
    a->noverrides++;
}

static void serve_usage(FILE *f, const char *cmd)
{
    fprintf(f,
            "Usage: mcpgw %s [options]\n\n"
            "Options (each also settable by the environment variable in brackets):\n"
            "  --config FILE              settings file of KEY=VALUE lines [GW_CONFIG_FILE]\n"
            "  --listen HOST:PORT         address to listen on [GW_LISTEN] (serve only)\n"
            "  --workers N                worker threads, 0 = CPU count [GW_WORKERS] (serve only)\n"
            "  --port-file FILE           write the bound port to FILE once listening (serve)\n"
            "  --admin-port-file FILE     write the admin API's bound port to FILE (serve)\n"
            "  --metrics-port-file FILE   write the /metrics listener's port to FILE (serve)\n"
            "  --conformance-fixtures     serve the MCP conformance test fixtures\n"
            "                             [GW_CONFORMANCE_FIXTURES]\n"
            "  --set NAME=VALUE           set any setting (repeatable)\n"
            "  -h, --help                 this help\n\n"
            "All settings: `mcpgw config docs` or docs/configuration.md.\n",
            cmd);
}

/* Returns 0 to continue, 1 to exit 0 (help), 2 on a usage error. */
static int parse_args(int argc, char **argv, const char *cmd, struct serve_args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"workers", required_argument, NULL, 'w'},
        {"port-file", required_argument, NULL, 'p'},
        {"admin-port-file", required_argument, NULL, 'A'},
        {"metrics-port-file", required_argument, NULL, 'M'},
        {"conformance-fixtures", no_argument, NULL, 'f'},
        {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': a->config = optarg; break;
        case 'l': add_override(a, "GW_LISTEN", optarg); break;
        case 'w': add_override(a, "GW_WORKERS", optarg); break;
        case 'p': a->port_file = optarg; break;
        case 'A': a->admin_port_file = optarg; break;
        case 'M': a->metrics_port_file = optarg; break;
        case 'f': add_override(a, "GW_CONFORMANCE_FIXTURES", "true"); break;
        case 's':
            if (!strchr(optarg, '=')) {
                fprintf(stderr, "mcpgw: --set expects NAME=VALUE, got '%s'\n", optarg);
                return 2;
            }
            if (a->noverrides >= MAX_OVERRIDES) {
                fprintf(stderr, "mcpgw: more than %d --set options\n", MAX_OVERRIDES);
                return 2;
            }
            a->overrides[a->noverrides++] = optarg;
            break;
        case 'h': serve_usage(stdout, cmd); return 1;
        default: serve_usage(stderr, cmd); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mcpgw: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

/* After an admin API write: rebuild the registry snapshot now (runs on an admin pool thread,
 * off the HTTP loops; the watcher would also catch it). */
static void admin_on_write(void *arg)
{
    struct app_platform *pf = arg;
    struct gw_error err = {0};
    if (gw_registry_reload(pf->registry, false, NULL, &err) != GW_OK)
        GW_LOG(GW_LOG_WARN, "app", "registry reload after an admin write: %s", err.msg);
    /* an API key created or revoked by this write works (or is refused) from the admin's next
     * request on, on this replica; the others follow the NOTIFY within moments */
    if (pf->auth && gw_auth_reload_wait(pf->auth, 2000) != GW_OK)
        GW_LOG(GW_LOG_WARN, "app", "API keys not reloaded within 2 s after an admin write");
}

/* The loud warning of an unauthenticated gateway reachable from other machines. */
static void warn_if_open(const struct gw_settings *s, struct gw_server *http,
                         const struct gw_auth *auth)
{
    enum gw_auth_mode m = gw_auth_mode(auth);
    if (m == GW_AUTHMODE_REQUIRED) {
        if (!*gw_settings_str(s, "GW_OIDC_ISSUER"))
            GW_LOG(GW_LOG_INFO, "auth", "authentication required; no identity provider "
                                        "configured (GW_OIDC_ISSUER): API keys only");
        return;
    }
    const char *what = m == GW_AUTHMODE_OFF ? "OFF" : "OPTIONAL";
    if (gw_server_is_loopback(http)) {
        GW_LOG(GW_LOG_WARN, "auth", "authentication is %s (GW_AUTH_MODE); listening on loopback "
                                    "only", what);
        return;
    }
    for (int i = 0; i < 3; i++)
        GW_LOG(GW_LOG_WARN, "auth",
               "!!! authentication is %s and the gateway listens on %s: anyone who can reach "
               "it can call every tool it serves. Set GW_AUTH_MODE=required for production. !!!",
               what, gw_server_address(http));
}

/* Per-worker state of the data plane, made on each worker thread as it starts. */
static int platform_worker_start(struct gw_worker *w, void *arg)
{
    struct gw_error err = {0};
    int rc = app_platform_loop_start(arg, gw_worker_loop(w), &err);
    if (rc != GW_OK)
        GW_LOG(GW_LOG_ERROR, "app", "worker %d: %s", gw_worker_id(w), err.msg);
    return rc;
}

static int platform_worker_stop(struct gw_worker *w, void *arg)
{
    app_platform_loop_stop(arg, gw_worker_loop(w));
    return GW_OK;
}

static void write_port_file(const char *path, int port)
{
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "%d\n", port);
        fclose(f);
    }
}

/* Creates the admin API server (GW_ADMIN_LISTEN; none when empty) with the admin module on
 * it. GW_OK with *out_srv possibly NULL (disabled), or an error printed. */
static int admin_open(const struct gw_settings *s, struct app_platform *pf,
                      struct gw_server **out_srv, struct gw_admin **out_adm)
{
    struct gw_net_options ao;
    struct gw_error err = {0};
    int rc = gw_admin_net_options(s, &ao, &err);
    if (rc == GW_DECLINED)
        return GW_OK;
    if (rc != GW_OK) {
        fprintf(stderr, "mcpgw: %s\n", err.msg);
        return rc;
    }
    char url[2048];
    if (app_store_url(s, url, sizeof(url)) != GW_OK)
        return GW_EINVAL;
    struct gw_store_options so = app_store_options(s);
    struct gw_admin_config ac;
    gw_admin_config_from_settings(&ac, s);
    ac.store_url = url;
    ac.store_opts = &so;
    ac.on_write = admin_on_write;
    ac.on_write_arg = pf;
    ac.audit = pf->audit;
    ac.limits_status = app_limits_status;
    ac.limits_arg = pf;
    ac.metrics_summary = app_metrics_summary;
    ac.metrics_arg = pf;
    ac.authn = gw_auth_authn(pf->auth);
    ac.gov = pf->gov;
    ac.registry = pf->registry;
    ac.admin_role = gw_auth_admin_role(pf->auth);
    json_t *auth_config = gw_auth_public_config(pf->auth);
    ac.auth_config = auth_config;
    rc = gw_server_new(&ao, out_srv, &err);
    if (rc == GW_OK) {
        gw_server_configure(*out_srv, s);
        rc = gw_admin_attach(*out_srv, &ac, out_adm, &err);
    }
    json_decref(auth_config);
    if (rc != GW_OK)
        fprintf(stderr, "mcpgw: admin API: %s\n", err.msg);
    return rc;
}

int cmd_serve(int argc, char **argv)
{
    struct serve_args a = {0};
    int prc = parse_args(argc, argv, "serve", &a);
    if (prc)
        return prc == 1 ? 0 : 2;
    struct gw_settings *s = app_settings_load(a.config, a.overrides, a.noverrides);
    if (!s)
        return 2;
    app_logging_init(s);
    gw_log_start_async(0); /* log lines never block a loop from here on */
    app_settings_report_unknown(s);

    /* SIGTERM/SIGINT are received by gw_server_wait via sigtimedwait: block them in every
     * thread (the workers inherit this mask). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    struct app_platform pf;
    if (app_platform_open(&pf, s) != GW_OK) {
        gw_settings_free(s);
        gw_log_stop_async();
        return 1;
    }
    struct gw_mcp_server *mcp = pf.mcp;
    struct gw_net_options no;
    gw_net_options_from_settings(&no, s);
    struct gw_server *http = NULL, *admin_http = NULL, *metrics_http = NULL;
    struct gw_admin *admin = NULL;
    struct gw_web *web = NULL; /* the admin console at /admin/ */
    struct gw_chat *chat = NULL;    /* the chat agent at /chat/api/ */
    struct gw_web *chat_page = NULL; /* its page at /chat/ */
    struct gw_mcp_http *mcp_http = NULL;
    struct gw_error err = {0};
    int rc = 1;
    if (admin_open(s, &pf, &admin_http, &admin) != GW_OK ||
        app_web_attach(s, admin_http, &web) != GW_OK)
        goto out;
    if (gw_server_new(&no, &http, &err) != GW_OK) {
        fprintf(stderr, "mcpgw: %s\n", err.msg);
        goto out;
    }
    gw_server_configure(http, s);
    mcp_http = gw_mcp_http_attach(mcp, http);
    if (pf.ratelimit) /* per-IP limits act before authentication */
        gw_mcp_http_set_admission(mcp_http, gw_ratelimit_admit, pf.ratelimit);
    gw_auth_routes(pf.auth, http);
    if (app_chat_attach(s, &pf, http, &chat, &chat_page) != GW_OK)
        goto out;
    warn_if_open(s, http, pf.auth);
    if (app_observe_serve(&pf, s, http, admin_http, &metrics_http) != GW_OK)
        goto out;
    gw_server_on_worker(http, platform_worker_start, platform_worker_stop, &pf);
    gw_server_add_ready_check(http, "registry", app_ready_registry, &pf);
    if (gw_server_start(http, &err) != GW_OK) {
        fprintf(stderr, "mcpgw: %s\n", err.msg);
        goto out;
    }
    if (admin_http && gw_server_start(admin_http, &err) != GW_OK) {
        fprintf(stderr, "mcpgw: admin API: %s\n", err.msg);
        gw_server_shutdown(http);
        gw_server_wait(http);
        goto out;
    }
    if (metrics_http && gw_server_start(metrics_http, &err) != GW_OK) {
        fprintf(stderr, "mcpgw: metrics listener: %s\n", err.msg);
        gw_server_free(metrics_http);
        metrics_http = NULL;
    }
    write_port_file(a.port_file, gw_server_port(http));
    if (metrics_http)
        write_port_file(a.metrics_port_file, gw_server_port(metrics_http));
    if (admin_http)
        write_port_file(a.admin_port_file, gw_server_port(admin_http));
    gw_server_wait(http); /* until SIGTERM/SIGINT */
    if (admin_http) {
        gw_server_shutdown(admin_http);
        gw_server_wait(admin_http);
    }
    if (metrics_http) {
        gw_server_shutdown(metrics_http);
        gw_server_wait(metrics_http);
    }
    rc = 0;
out:
    gw_admin_free(admin); /* after its server stopped, before that server is freed */
    gw_server_free(admin_http);
    gw_server_free(metrics_http);
    gw_web_free(web);
    gw_chat_free(chat); /* after its server stopped, before it is freed (pool jobs post to its
                         * closed loops) */
    gw_server_free(http);
    gw_web_free(chat_page);
    gw_mcp_http_free(mcp_http);
    app_platform_close(&pf);
    gw_settings_free(s);
    gw_log_stop_async();
    return rc;
}

int cmd_stdio(int argc, char **argv)
{
    struct serve_args a = {0};
    int prc = parse_args(argc, argv, "stdio", &a);
    if (prc)
        return prc == 1 ? 0 : 2;
    struct gw_settings *s = app_settings_load(a.config, a.overrides, a.noverrides);
    if (!s)
        return 2;
    app_logging_init(s); /* logs go to stderr; stdout carries only MCP messages */
    if (app_stdio_guard(s) != GW_OK) {
        gw_settings_free(s);
        return 2;
    }
    gw_log_start_async(0);
    app_settings_report_unknown(s);
    signal(SIGPIPE, SIG_IGN);
    gw_loop_init_threads();
    struct app_platform pf;
    if (app_platform_open(&pf, s) != GW_OK) {
        gw_settings_free(s);
        gw_log_stop_async();
        return 1;
    }
    struct event_base *base = event_base_new();
    struct gw_loop *loop = gw_loop_new(base);
    struct gw_error err = {0};
    int rc = 1;
    if (app_platform_loop_start(&pf, loop, &err) != GW_OK)
        fprintf(stderr, "mcpgw: %s\n", err.msg);
    else
        rc = gw_mcp_stdio_run(pf.mcp, loop, STDIN_FILENO, STDOUT_FILENO,
                              (size_t)gw_settings_int(s, "GW_MAX_BODY_BYTES"));
    app_platform_loop_stop(&pf, loop); /* the executors belong to `base` */
    gw_loop_free(loop);
    app_platform_close(&pf);
    event_base_free(base);
    gw_log_stop_async();
    gw_settings_free(s);
    return rc;
}
