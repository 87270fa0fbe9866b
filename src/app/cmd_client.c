/*
 * src/app/cmd_client.c
 * `mcpgw config client`: prints the MCP client configuration that starts this gateway over
 * stdio with the platform's settings, for a desktop client that launches it from another
 * folder (Claude Desktop's claude_desktop_config.json, VS Code's .vscode/mcp.json, Cursor).
 * The command is the absolute path of this binary; every path setting in effect (data folder,
 * upstreams file, secrets folder, config file) is made absolute; the variables named with
 * --env are copied from the environment (e.g. the mock APIM's credentials the upstreams file
 * refers to). Secrets are never copied unless named with --env.
 * Also the guard of `mcpgw stdio`: started without any configuration in a folder that holds no
 * registry, it explains how to configure it instead of creating an empty database there.
 */
#include "app.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENV 32

/* Settings holding paths, made absolute in the printed configuration. */
static const char *const path_settings[] = {"GW_DATA_DIR", "GW_UPSTREAMS_FILE", "GW_SECRETS_DIR"};

/* Absolute form of `p` (relative to the current folder); `p` itself when it cannot be
 * resolved (the file may not exist yet). */
static void absolute(const char *p, char *out, size_t size)
{
    char buf[PATH_MAX];
    if (realpath(p, buf)) {
        snprintf(out, size, "%s", buf);
    } else if (p[0] != '/' && getcwd(buf, sizeof(buf))) {
        snprintf(out, size, "%s/%s", buf, p);
    } else {
        snprintf(out, size, "%s", p);
    }
}

static void client_usage(FILE *f)
{
    fprintf(f,
            "Usage: mcpgw config client [--for claude|vscode] [--name NAME] [--config FILE]\n"
            "                           [--env NAME]...\n"
            "Prints the configuration an MCP desktop client needs to start this gateway over\n"
            "stdio with the current settings (absolute paths), e.g. for Claude Desktop's\n"
            "claude_desktop_config.json (--for claude, the default) or VS Code's\n"
            ".vscode/mcp.json (--for vscode). --env NAME copies that environment variable\n"
            "(for credentials the upstreams file reads from the environment).\n");
}

int cmd_config_client(int argc, char **argv)
{
    const char *target = "claude", *name = "msil-mcp", *config = NULL;
    const char *envs[MAX_ENV];
    int nenv = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            client_usage(stdout);
            return 0;
        }
        if (!v || a[0] != '-' || a[1] != '-') {
            client_usage(stderr);
            return 2;
        }
        if (!strcmp(a, "--for"))
            target = v;
        else if (!strcmp(a, "--name"))
            name = v;
        else if (!strcmp(a, "--config"))
            config = v;
        else if (!strcmp(a, "--env") && nenv < MAX_ENV)
            envs[nenv++] = v;
        else {
            client_usage(stderr);
            return 2;
        }
        i++;
    }
    if (strcmp(target, "claude") != 0 && strcmp(target, "vscode") != 0) {
        fprintf(stderr, "mcpgw config client: --for claude or --for vscode\n");
        return 2;
    }
    struct gw_settings *s = app_settings_load(config, NULL, 0);
    if (!s)
        return 2;
    char exe[PATH_MAX] = "mcpgw", buf[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0)
        exe[n] = '\0';
    json_t *args = json_pack("[s]", "stdio");
    if (!config && getenv("GW_CONFIG_FILE") && *getenv("GW_CONFIG_FILE"))
        config = getenv("GW_CONFIG_FILE");
    if (config) {
        absolute(config, buf, sizeof(buf));
        json_array_append_new(args, json_string("--config"));
        json_array_append_new(args, json_string(buf));
    }
    json_t *env = json_object();
    for (size_t i = 0; i < sizeof(path_settings) / sizeof(path_settings[0]); i++) {
        const char *v = gw_settings_str(s, path_settings[i]);
        if (!v || !*v)
            continue;
        absolute(v, buf, sizeof(buf));
        json_object_set_new(env, path_settings[i], json_string(buf));
    }
    /* other settings given in the environment (not from the file, which the client reads
     * through --config), secrets excepted */
    const char *copied[] = {"GW_UPSTREAM_ENV", "GW_UPSTREAM_ALLOWLIST", "GW_LOG_LEVEL",
                            "GW_REGISTRY_POLL_SECONDS"};
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
        if (!strcmp(gw_settings_source(s, copied[i]), "env"))
            json_object_set_new(env, copied[i], json_string(gw_settings_str(s, copied[i])));
    /* logs go to the client's log file: text reads better there */
    json_object_set_new(env, "GW_LOG_FORMAT", json_string("text"));
    for (int i = 0; i < nenv; i++) {
        const char *v = getenv(envs[i]);
        if (!v) {
            fprintf(stderr, "mcpgw config client: %s is not set in the environment\n", envs[i]);
            json_decref(args);
            json_decref(env);
            gw_settings_free(s);
            return 2;
        }
        json_object_set_new(env, envs[i], json_string(v));
    }
    json_t *server = json_pack("{s:s,s:o,s:o}", "command", exe, "args", args, "env", env);
    json_t *doc;
    if (!strcmp(target, "vscode")) {
        json_object_set_new(server, "type", json_string("stdio"));
        doc = json_pack("{s:{s:o}}", "servers", name, server);
    } else {
        doc = json_pack("{s:{s:o}}", "mcpServers", name, server);
    }
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", text ? text : "{}");
    free(text); /* checksrc: allow (jansson's allocation) */
    json_decref(doc);
    gw_settings_free(s);
    return 0;
}

int app_stdio_guard(const struct gw_settings *s)
{
    /* Configured explicitly (a database URL, a data folder, a config file), or the conformance
     * fixtures (a test mode that needs no registry): nothing to say. */
    const char *explicit_settings[] = {"DATABASE_URL", "GW_DATA_DIR", "GW_CONFIG_FILE",
                                       "GW_CONFORMANCE_FIXTURES"};
    for (size_t i = 0; i < sizeof(explicit_settings) / sizeof(explicit_settings[0]); i++)
        if (strcmp(gw_settings_source(s, explicit_settings[i]), "default") != 0)
            return GW_OK;
    char db[PATH_MAX + 16];
    const char *dir = gw_settings_str(s, "GW_DATA_DIR");
    if (!strncmp(dir, "./", 2))
        dir += 2;
    snprintf(db, sizeof(db), "%s/gateway.db", dir);
    struct stat st;
    if (stat(db, &st) == 0)
        return GW_OK; /* started in the repository (or a folder) that has a registry */
    char cwd[PATH_MAX] = "?";
    if (!getcwd(cwd, sizeof(cwd)))
        snprintf(cwd, sizeof(cwd), "?");
    fprintf(stderr,
            "mcpgw stdio: no configuration and no registry in %s/%s (started from %s).\n"
            "A desktop client starts the gateway from its own folder: give it the platform's\n"
            "settings. In the folder where the gateway runs (e.g. the repository after\n"
            "scripts/run.sh), print the client configuration with absolute paths:\n"
            "    mcpgw config client --for claude   (or --for vscode)\n"
            "or set GW_DATA_DIR / DATABASE_URL / --config FILE in the client's server entry.\n",
            cwd, db, cwd);
    return GW_EINVAL;
}
