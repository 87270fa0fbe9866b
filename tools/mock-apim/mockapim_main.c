/*
 * tools/mock-apim/mockapim_main.c
 * `mock-apim`: the development upstream's command line.
 *
 *   mock-apim serve [flags]        run the server (flags below, or MOCK_APIM_* variables)
 *   mock-apim bookings --db PATH   print every booking and DMS appointment as JSON
 *   mock-apim --help | --version
 *
 * Flags are overrides of the settings in mockapim_settings.c (flag > environment > default).
 * Prefer the environment for secrets: command lines are visible to other local users.
 */
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/settings.h"
#include "mockapim_app.h"
#include "mockapim_db.h"
#include "mockapim_faults.h"
#include "mockapim_http.h"
#include "mockapim_settings.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_FAULT_FLAGS 32

/* serve flags and the settings they override (arg NULL = a switch that sets "true"). */
static const struct flag {
    const char *flag, *setting, *arg;
} flags[] = {
    {"--listen", "MOCK_APIM_LISTEN", "HOST:PORT"},
    {"--db", "MOCK_APIM_DB", "PATH"},
    {"--api-key", "MOCK_APIM_API_KEY", "KEY"},
    {"--client-id", "MOCK_APIM_CLIENT_ID", "ID"},
    {"--client-secret", "MOCK_APIM_CLIENT_SECRET", "SECRET"},
    {"--token-ttl", "MOCK_APIM_TOKEN_TTL", "SECONDS"},
    {"--faults-admin", "MOCK_APIM_FAULTS_ADMIN", "on|off"},
    {"--seed", "MOCK_APIM_SEED", "N"},
    {"--today", "MOCK_APIM_TODAY", "YYYY-MM-DD"},
    {"--max-body", "MOCK_APIM_MAX_BODY", "BYTES"},
    {"--access-log", "MOCK_APIM_ACCESS_LOG", "on|off"},
    {"--log-level", "MOCK_APIM_LOG_LEVEL", "LEVEL"},
    {"--reset", "MOCK_APIM_RESET", NULL},
};

/* --help: the commands, every flag with its variable and default, and the endpoints. */
static void usage(FILE *out)
{
    fprintf(out,
            "mock-apim %s: development upstream of the MSIL MCP gateway (service-booking API\n"
            "and the MSIL DMS appointment API, with APIM-like auth and fault injection).\n\n"
            "Usage:\n"
            "  mock-apim serve [flags]          run the server\n"
            "  mock-apim bookings --db PATH     print bookings and DMS appointments as JSON\n"
            "  mock-apim --help | --version\n\n"
            "serve flags (each also settable by its environment variable):\n",
            GW_VERSION);
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        const struct gw_setting_def *d = gw_mockapim_settings;
        while (d->name && strcmp(d->name, flags[i].setting) != 0)
            d++;
        char left[64];
        snprintf(left, sizeof(left), "%s%s%s", flags[i].flag, flags[i].arg ? " " : "",
                 flags[i].arg ? flags[i].arg : "");
        fprintf(out, "  %-28s %s\n  %-28s [%s, default %s]\n", left, d->help, "", d->name,
                d->type == GW_SET_SECRET ? "(documented dev value)" : (*d->def ? d->def : "none"));
    }
    fprintf(out,
            "  %-28s %s\n  %-28s [%s]\n", "--fault SPEC",
            "Add a fault rule at start (repeatable), e.g. mode=error,status=503,count=2 or JSON.",
            "", "MOCK_APIM_FAULTS");
    fprintf(out, "  %-28s %s\n\n", "--port-file PATH",
            "Write the bound port to PATH once listening (use with --listen 127.0.0.1:0).");
    fprintf(out,
            "Auth: every API call needs x-api-key; writes (and DMS calls) also need\n"
            "'Authorization: Bearer <token>' from POST /oauth2/token (client_credentials).\n"
            "Admin: GET /health, GET|DELETE /__mock/stats, GET|POST|DELETE /__mock/faults,\n"
            "GET /__mock/bookings, POST /__mock/reset. Full reference: docs/mock-apim.md.\n");
}

/* Writes the port atomically (temporary file + rename) so a reader never sees half a line. */
static int write_port_file(const char *path, int port)
{
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return GW_EIO;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return GW_EIO;
    return GW_OK;
}

/* `mock-apim bookings`: read-only dump of the database as indented JSON on stdout. */
static int cmd_bookings(int argc, char **argv)
{
    const char *db_path = getenv("MOCK_APIM_DB");
    struct gw_error err = {0};
    struct gw_mockapim_db *db = NULL;
    json_t *dump = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db_path = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: mock-apim bookings --db PATH\n");
            return 0;
        } else {
            fprintf(stderr, "mock-apim bookings: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!db_path || !*db_path)
        db_path = "./data/mock-apim.db";
    if (access(db_path, R_OK) != 0) {
        fprintf(stderr, "mock-apim bookings: no database at %s\n", db_path);
        return 1;
    }
    if (gw_mockapim_db_open(db_path, GW_MOCKAPIM_DB_READONLY, &db, &err) != GW_OK ||
        gw_mockapim_db_dump(db, &dump, &err) != GW_OK) {
        fprintf(stderr, "mock-apim bookings: %s\n", err.msg);
        gw_mockapim_db_close(db);
        return 1;
    }
    char *text = json_dumps(dump, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text)
        printf("%s\n", text);
    json_free_t freefn;
    json_get_alloc_funcs(NULL, &freefn);
    if (text)
        freefn(text);
    json_decref(dump);
    gw_mockapim_db_close(db);
    return text ? 0 : 1;
}

/* `mock-apim serve`: settings (defaults < environment < flags), app, start-up faults,
 * listener, loop. Exit 0 after a signal, 1 on a start-up failure, 2 on a usage error. */
static int cmd_serve(int argc, char **argv)
{
    struct gw_settings *s = gw_settings_new();
    struct gw_error err = {0};
    struct gw_mockapim_app *app = NULL;
    struct gw_mockapim_server *srv = NULL;
    const char *faults[MAX_FAULT_FLAGS], *port_file = NULL;
    int nfaults = 0, rc = 2;
    gw_settings_register(s, gw_mockapim_settings);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            rc = 0;
            goto out;
        }
        if (strcmp(a, "--fault") == 0 && i + 1 < argc) {
            if (nfaults >= MAX_FAULT_FLAGS) {
                fprintf(stderr, "mock-apim: at most %d --fault flags\n", MAX_FAULT_FLAGS);
                goto out;
            }
            faults[nfaults++] = argv[++i];
            continue;
        }
        if (strcmp(a, "--port-file") == 0 && i + 1 < argc) {
            port_file = argv[++i];
            continue;
        }
        const struct flag *f = NULL;
        for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]) && !f; k++)
            if (strcmp(a, flags[k].flag) == 0)
                f = &flags[k];
        if (!f || (f->arg && i + 1 >= argc)) {
            fprintf(stderr, "mock-apim serve: %s '%s' (see mock-apim serve --help)\n",
                    f ? "missing value for" : "unknown flag", a);
            goto out;
        }
        if (gw_settings_override(s, f->setting, f->arg ? argv[++i] : "true", &err) != GW_OK) {
            fprintf(stderr, "mock-apim: %s\n", err.msg);
            goto out;
        }
    }
    if (gw_settings_load(s, NULL, &err) != GW_OK) {
        fprintf(stderr, "mock-apim: %s\n", err.msg);
        goto out;
    }
    enum gw_log_level lvl = GW_LOG_INFO;
    gw_log_level_parse(gw_settings_str(s, "MOCK_APIM_LOG_LEVEL"), &lvl);
    gw_log_configure(lvl, true, 2);
    struct gw_mockapim_config cfg = {
        .listen = gw_settings_str(s, "MOCK_APIM_LISTEN"),
        .db_path = gw_settings_str(s, "MOCK_APIM_DB"),
        .api_key = gw_settings_str(s, "MOCK_APIM_API_KEY"),
        .client_id = gw_settings_str(s, "MOCK_APIM_CLIENT_ID"),
        .client_secret = gw_settings_str(s, "MOCK_APIM_CLIENT_SECRET"),
        .token_ttl = (int)gw_settings_int(s, "MOCK_APIM_TOKEN_TTL"),
        .faults_admin = gw_settings_bool(s, "MOCK_APIM_FAULTS_ADMIN"),
        .reset = gw_settings_bool(s, "MOCK_APIM_RESET"),
        .access_log = gw_settings_bool(s, "MOCK_APIM_ACCESS_LOG"),
        .max_body = (long)gw_settings_int(s, "MOCK_APIM_MAX_BODY"),
        .today = gw_settings_str(s, "MOCK_APIM_TODAY"),
        .seed = (unsigned long long)gw_settings_int(s, "MOCK_APIM_SEED"),
    };
    rc = 1;
    if (gw_mockapim_app_new(&cfg, &app, &err) != GW_OK) {
        fprintf(stderr, "mock-apim: %s\n", err.msg);
        goto out;
    }
    /* Start-up faults: the environment's list, then the flags. */
    char env_faults[4096];
    snprintf(env_faults, sizeof(env_faults), "%s", gw_settings_str(s, "MOCK_APIM_FAULTS"));
    for (char *p = env_faults, *semi; p && *p; p = semi ? semi + 1 : NULL) {
        semi = strchr(p, ';');
        if (semi)
            *semi = '\0';
        int id;
        if (*p && gw_mockapim_faults_add_text(gw_mockapim_app_faults(app), p, &id, &err) != GW_OK) {
            fprintf(stderr, "mock-apim: MOCK_APIM_FAULTS: %s\n", err.msg);
            goto out;
        }
    }
    for (int i = 0; i < nfaults; i++) {
        int id;
        if (gw_mockapim_faults_add_text(gw_mockapim_app_faults(app), faults[i], &id, &err) !=
            GW_OK) {
            fprintf(stderr, "mock-apim: --fault: %s\n", err.msg);
            goto out;
        }
    }
    if (gw_mockapim_server_new(app, &srv, &err) != GW_OK) {
        fprintf(stderr, "mock-apim: %s\n", err.msg);
        goto out;
    }
    if (port_file && write_port_file(port_file, gw_mockapim_server_port(srv)) != GW_OK) {
        fprintf(stderr, "mock-apim: cannot write --port-file %s\n", port_file);
        goto out;
    }
    GW_LOG(GW_LOG_INFO, "mock-apim", "listening on port %d (database %s, token ttl %ds, faults "
           "admin %s)", gw_mockapim_server_port(srv), cfg.db_path, cfg.token_ttl,
           cfg.faults_admin ? "on" : "off");
    gw_mockapim_server_run(srv);
    GW_LOG(GW_LOG_INFO, "mock-apim", "stopped");
    rc = 0;
out:
    gw_mockapim_server_free(srv);
    gw_mockapim_app_free(app);
    gw_settings_free(s);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("mock-apim %s\n", GW_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 2, argv + 2);
    if (strcmp(argv[1], "bookings") == 0)
        return cmd_bookings(argc - 2, argv + 2);
    fprintf(stderr, "mock-apim: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
