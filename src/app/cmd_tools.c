/*
 * src/app/cmd_tools.c
 * Registry administration from the command line: `mcpgw tools|specs|bundles|db ...`.
 * Every command works on the database directly (DATABASE_URL or SQLite under GW_DATA_DIR);
 * running gateways see the changes through their registry watcher.
 */
#include "app.h"

#include "core/alloc.h"
#include "core/json.h"
#include "store/store.h"
#include "store/store_alias.h"
#include "store/store_bundle.h"
#include "store/store_spec.h"
#include "store/store_tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void app_cli_print_json(const json_t *v)
{
    char *t = gw_json_dumps_ex(v, GW_JSON_PRETTY);
    printf("%s\n", t ? t : "null");
    gw_free(t);
}

int app_cli_fail(const char *what, const struct gw_error *err)
{
    fprintf(stderr, "mcpgw: %s: %s\n", what, err->msg);
    return err->code == GW_ENOTFOUND || err->code == GW_EINVAL ? 2 : 1;
}

const char *app_cli_opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

struct gw_store *app_cli_open_store(int argc, char **argv, struct gw_settings **out_s)
{
    struct gw_settings *s = app_settings_load(app_cli_opt(argc, argv, "--config"), NULL, 0);
    if (!s)
        return NULL;
    app_logging_init(s);
    struct gw_store *st = NULL;
    if (app_store_open(s, true, &st) != GW_OK) {
        gw_settings_free(s);
        return NULL;
    }
    *out_s = s;
    return st;
}

static void tools_usage(FILE *f)
{
    fprintf(f,
            "Usage: mcpgw tools list [--status S] [--bundle B] [--spec ID] [--json]\n"
            "       mcpgw tools get NAME\n"
            "       mcpgw tools set NAME FIELD=JSON ...   e.g. risk='\"privileged\"' "
            "requiresConfirmation=true\n"
            "       mcpgw tools activate|disable|deprecate|draft NAME ...\n"
            "       mcpgw tools activate --spec ID      (every draft tool of a spec)\n"
            "       mcpgw tools delete NAME\n"
            "       mcpgw tools history NAME\n"
            "       mcpgw tools rename NAME NEW_NAME [--alias-days N]   (NAME stays an alias)\n"
            "       mcpgw tools aliases                  (old names of renamed tools)\n"
            "Common: --config FILE\n");
}

static int tools_list(struct gw_store *st, int argc, char **argv)
{
    struct gw_store_tool_query q = {app_cli_opt(argc, argv, "--status"),
                                    app_cli_opt(argc, argv, "--bundle"),
                                    app_cli_opt(argc, argv, "--spec"), NULL, 1000};
    bool as_json = false;
    for (int i = 0; i < argc; i++)
        as_json = as_json || !strcmp(argv[i], "--json");
    json_t *all = json_array();
    char next[GW_STORE_NAME_MAX + 1] = "";
    struct gw_error err = {0};
    do {
        json_t *items = NULL;
        char after_copy[GW_STORE_NAME_MAX + 1];
        snprintf(after_copy, sizeof(after_copy), "%s", next);
        q.after = after_copy[0] ? after_copy : NULL;
        if (gw_store_tool_list(st, &q, &items, next, NULL, &err) != GW_OK) {
            json_decref(all);
            return app_cli_fail("tools list", &err);
        }
        json_array_extend(all, items);
        json_decref(items);
    } while (next[0]);
    if (as_json) {
        app_cli_print_json(all);
    } else {
        size_t i;
        json_t *t;
        printf("%-40s %-10s %-10s %-6s %s\n", "NAME", "STATUS", "RISK", "METHOD", "BUNDLE");
        json_array_foreach(all, i, t)
        {
            const char *b = gw_json_str(t, "bundle");
            printf("%-40s %-10s %-10s %-6s %s\n", gw_json_str(t, "name"),
                   gw_json_str(t, "status"), gw_json_str(t, "risk") ? gw_json_str(t, "risk") : "-",
                   gw_json_str(json_object_get(t, "binding"), "method"), b ? b : "-");
        }
        printf("%zu tools\n", json_array_size(all));
    }
    json_decref(all);
    return 0;
}

static int set_status_many(struct gw_store *st, const char *status, int argc, char **argv)
{
    struct gw_error err = {0};
    struct gw_store_actor who = {"cli", status};
    const char *spec = app_cli_opt(argc, argv, "--spec");
    int changed = 0;
    if (spec) {
        struct gw_store_tool_query q = {"draft", NULL, spec, NULL, 1000};
        json_t *items = NULL;
        if (gw_store_tool_list(st, &q, &items, NULL, NULL, &err) != GW_OK)
            return app_cli_fail("tools list", &err);
        size_t i;
        json_t *t;
        json_array_foreach(items, i, t)
        {
            if (gw_store_tool_set_status(st, gw_json_str(t, "name"), status, &who, &err) != GW_OK) {
                json_decref(items);
                return app_cli_fail(gw_json_str(t, "name"), &err);
            }
            changed++;
        }
        json_decref(items);
    }
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--spec") || !strcmp(argv[i], "--config")) {
            i++;
            continue;
        }
        if (gw_store_tool_set_status(st, argv[i], status, &who, &err) != GW_OK)
            return app_cli_fail(argv[i], &err);
        changed++;
    }
    printf("%d tool(s) now %s\n", changed, status);
    return 0;
}

int cmd_tools(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "help";
    if (!strcmp(sub, "help") || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        tools_usage(stdout);
        return 0;
    }
    struct gw_settings *s = NULL;
    struct gw_store *st = app_cli_open_store(argc, argv, &s);
    if (!st)
        return 1;
    struct gw_error err = {0};
    struct gw_store_actor who = {"cli", "tools command"};
    int rc = 0;
    const char *name = argc > 2 ? argv[2] : NULL;
    json_t *out = NULL;
    if (!strcmp(sub, "list")) {
        rc = tools_list(st, argc - 2, argv + 2);
    } else if (!strcmp(sub, "get") && name) {
        rc = gw_store_tool_get(st, name, &out, &err) == GW_OK ? (app_cli_print_json(out), 0)
                                                              : app_cli_fail(name, &err);
    } else if (!strcmp(sub, "history") && name) {
        rc = gw_store_tool_history(st, name, 50, &out, &err) == GW_OK ? (app_cli_print_json(out), 0)
                                                                      : app_cli_fail(name, &err);
    } else if (!strcmp(sub, "delete") && name) {
        rc = gw_store_tool_delete(st, name, &who, &err) == GW_OK ? (printf("deleted %s\n", name), 0)
                                                                 : app_cli_fail(name, &err);
    } else if (!strcmp(sub, "rename") && name && argc > 3) {
        /* the old name stays an alias for the deprecation period (GW_TOOL_ALIAS_DAYS) */
        const char *days = app_cli_opt(argc, argv, "--alias-days");
        long long d = days ? strtoll(days, NULL, 10) : gw_settings_int(s, "GW_TOOL_ALIAS_DAYS");
        rc = gw_store_tool_rename(st, name, argv[3], (int)(d > 0 && d <= 3650 ? d : -1), &who,
                                  &out, &err) == GW_OK
                 ? (printf("renamed %s to %s; %s stays an alias for %lld days\n", name, argv[3],
                           name, d),
                    0)
                 : app_cli_fail(name, &err);
    } else if (!strcmp(sub, "aliases")) {
        rc = gw_store_alias_list(st, &out, &err) == GW_OK ? (app_cli_print_json(out), 0)
                                                          : app_cli_fail("aliases", &err);
    } else if (!strcmp(sub, "set") && name) {
        json_t *changes = json_object();
        for (int i = 3; i < argc && rc == 0; i++) {
            char *eq = strchr(argv[i], '=');
            if (!eq) {
                fprintf(stderr, "mcpgw tools set: expected FIELD=JSON, got '%s'\n", argv[i]);
                rc = 2;
                break;
            }
            *eq = '\0';
            json_error_t je;
            json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, &je);
            if (!v)
                v = json_string(eq + 1); /* bare words are strings: risk=privileged */
            json_object_set_new(changes, argv[i], v);
        }
        if (rc == 0)
            rc = gw_store_tool_update(st, name, changes, 0, &who, &out, &err) == GW_OK
                     ? (app_cli_print_json(out), 0)
                     : app_cli_fail(name, &err);
        json_decref(changes);
    } else if (!strcmp(sub, "activate") || !strcmp(sub, "disable") ||
               !strcmp(sub, "deprecate") || !strcmp(sub, "draft")) {
        const char *status = !strcmp(sub, "activate")    ? "active"
                             : !strcmp(sub, "disable")   ? "disabled"
                             : !strcmp(sub, "deprecate") ? "deprecated"
                                                         : "draft";
        rc = set_status_many(st, status, argc - 2, argv + 2);
    } else {
        tools_usage(stderr);
        rc = 2;
    }
    json_decref(out);
    gw_store_close(st);
    gw_settings_free(s);
    return rc;
}

int cmd_specs(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "help";
    if (!strcmp(sub, "help") || !strcmp(sub, "--help")) {
        printf("Usage: mcpgw specs list | get ID | delete ID [--remove-tools]\n");
        return 0;
    }
    struct gw_settings *s = NULL;
    struct gw_store *st = app_cli_open_store(argc, argv, &s);
    if (!st)
        return 1;
    struct gw_error err = {0};
    json_t *out = NULL;
    int rc = 0;
    const char *id = argc > 2 ? argv[2] : NULL;
    if (!strcmp(sub, "list")) {
        rc = gw_store_spec_list(st, &out, &err) == GW_OK ? (app_cli_print_json(out), 0)
                                                         : app_cli_fail("specs list", &err);
    } else if (!strcmp(sub, "get") && id) {
        rc = gw_store_spec_get(st, id, false, &out, &err) == GW_OK ? (app_cli_print_json(out), 0)
                                                                   : app_cli_fail(id, &err);
    } else if (!strcmp(sub, "delete") && id) {
        bool remove = argc > 3 && !strcmp(argv[3], "--remove-tools");
        struct gw_store_actor who = {"cli", "spec deleted"};
        rc = gw_store_spec_delete(st, id, remove ? GW_STORE_SPEC_REMOVE_TOOLS
                                                 : GW_STORE_SPEC_DEPRECATE_TOOLS,
                                  &who, &err) == GW_OK
                 ? (printf("deleted spec %s (tools %s)\n", id, remove ? "removed" : "deprecated"),
                    0)
                 : app_cli_fail(id, &err);
    } else {
        fprintf(stderr, "Usage: mcpgw specs list | get ID | delete ID [--remove-tools]\n");
        rc = 2;
    }
    json_decref(out);
    gw_store_close(st);
    gw_settings_free(s);
    return rc;
}

int cmd_bundles(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "help";
    static const char usage[] = "Usage: mcpgw bundles list | get NAME | create NAME [TITLE] | "
                                "delete NAME\n";
    if (!strcmp(sub, "help") || !strcmp(sub, "--help")) {
        printf("%s", usage);
        return 0;
    }
    struct gw_settings *s = NULL;
    struct gw_store *st = app_cli_open_store(argc, argv, &s);
    if (!st)
        return 1;
    struct gw_error err = {0};
    struct gw_store_actor who = {"cli", "bundles command"};
    json_t *out = NULL;
    int rc = 0;
    const char *name = argc > 2 ? argv[2] : NULL;
    if (!strcmp(sub, "list")) {
        rc = gw_store_bundle_list(st, &out, &err) == GW_OK ? (app_cli_print_json(out), 0)
                                                           : app_cli_fail("bundles list", &err);
    } else if (!strcmp(sub, "get") && name) {
        rc = gw_store_bundle_get(st, name, &out, &err) == GW_OK ? (app_cli_print_json(out), 0)
                                                                : app_cli_fail(name, &err);
    } else if (!strcmp(sub, "create") && name) {
        json_t *b = json_pack("{s:s,s:s}", "name", name, "title", argc > 3 ? argv[3] : name);
        rc = gw_store_bundle_create(st, b, &who, &out, &err) == GW_OK ? (app_cli_print_json(out), 0)
                                                                      : app_cli_fail(name, &err);
        json_decref(b);
    } else if (!strcmp(sub, "delete") && name) {
        rc = gw_store_bundle_delete(st, name, true, &who, &err) == GW_OK
                 ? (printf("deleted bundle %s\n", name), 0)
                 : app_cli_fail(name, &err);
    } else {
        fprintf(stderr, "%s", usage);
        rc = 2;
    }
    json_decref(out);
    gw_store_close(st);
    gw_settings_free(s);
    return rc;
}

static void print_migration(void *ctx, int version, const char *name, const char *applied_at)
{
    (void)ctx;
    printf("%4d  %-40s %s\n", version, name, applied_at ? applied_at : "pending");
}

int cmd_db(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "help";
    if (strcmp(sub, "migrate") != 0 && strcmp(sub, "status") != 0) {
        printf("Usage: mcpgw db migrate | status [--config FILE]\n"
               "Migrations also run automatically when the gateway starts.\n");
        return !strcmp(sub, "help") || !strcmp(sub, "--help") ? 0 : 2;
    }
    struct gw_settings *s = app_settings_load(app_cli_opt(argc, argv, "--config"), NULL, 0);
    if (!s)
        return 2;
    struct gw_store *st = NULL;
    int rc = app_store_open(s, !strcmp(sub, "migrate"), &st) == GW_OK ? 0 : 1;
    struct gw_error err = {0};
    int version = 0;
    if (rc == 0 && gw_store_schema_version(st, &version, &err) != GW_OK)
        rc = app_cli_fail("db status", &err);
    if (rc == 0) {
        printf("database backend: %s (schema version %d of %d)\n", gw_store_backend_name(st),
               version, gw_store_latest_version(st));
        if (gw_store_migration_status(st, print_migration, NULL, &err) != GW_OK)
            rc = app_cli_fail("db status", &err);
    }
    gw_store_close(st);
    gw_settings_free(s);
    return rc;
}
