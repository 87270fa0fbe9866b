/*
 * src/app/cmd_governance.c
 * `mcpgw governance ...`: check a rules file, show the effective rules, preview what a
 * principal sees ("view as"), test a call against the rules (the policy tester), and manage
 * the rules kept in the database. The same functions serve the admin API.
 */
#include "app.h"

#include "core/alloc.h"
#include "governance/gov.h"
#include "registry/registry.h"
#include "store/store_governance.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage:\n"
    "  mcpgw governance check FILE        validate a rules file (YAML or JSON); exit 0/2\n"
    "  mcpgw governance show              the effective rules (file + database) and version\n"
    "  mcpgw governance preview [--role R]... [--subject S] [--client C] [--tenant T]\n"
    "                           [--claims JSON] [--auth-age SECONDS]\n"
    "                           what that principal sees and may call (--auth-age: how long\n"
    "                           ago it signed in, 0 by default: elevation needs a recent one)\n"
    "  mcpgw governance test --tool NAME [--args JSON] [principal options as above]\n"
    "                           the decision for one call, with the rules that fired\n"
    "  mcpgw governance put SECTION FILE  add or replace stored rules (section exposure,\n"
    "                           policies: FILE holds one rule or a list; roles: {name: {..}})\n"
    "  mcpgw governance delete SECTION ID remove a stored rule (or role)\n"
    "Options of every command: --config FILE. Model and examples: docs/governance.md.\n";

static json_t *principal_spec(int argc, char **argv, const char **tool, const char **args)
{
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
                                         {"subject", required_argument, NULL, 's'},
                                         {"client", required_argument, NULL, 'c'},
                                         {"tenant", required_argument, NULL, 't'},
                                         {"claims", required_argument, NULL, 'l'},
                                         {"auth-age", required_argument, NULL, 'g'},
                                         {"tool", required_argument, NULL, 'T'},
                                         {"args", required_argument, NULL, 'a'},
                                         {"config", required_argument, NULL, 'C'},
                                         {NULL, 0, NULL, 0}};
    json_t *spec = json_pack("{s:[]}", "roles");
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        json_error_t je;
        switch (ch) {
        case 'r': json_array_append_new(json_object_get(spec, "roles"), json_string(optarg)); break;
        case 's': json_object_set_new(spec, "subject", json_string(optarg)); break;
        case 'c': json_object_set_new(spec, "client_id", json_string(optarg)); break;
        case 't': json_object_set_new(spec, "tenant", json_string(optarg)); break;
        case 'l': {
            json_t *c = json_loads(optarg, 0, &je);
            if (!json_is_object(c)) {
                fprintf(stderr, "mcpgw governance: --claims expects a JSON object\n");
                json_decref(c);
                json_decref(spec);
                return NULL;
            }
            json_object_set_new(spec, "claims", c);
            break;
        }
        case 'g': {
            char *end;
            long long age = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || age < 0) {
                fprintf(stderr, "mcpgw governance: --auth-age expects seconds (0 or more)\n");
                json_decref(spec);
                return NULL;
            }
            json_object_set_new(spec, "authenticated_seconds_ago", json_integer(age));
            break;
        }
        case 'T': *tool = optarg; break;
        case 'a': *args = optarg; break;
        case 'C': break;
        default: json_decref(spec); return NULL;
        }
    }
    return spec;
}

/* Opens governance and (for preview/test) the registry's current snapshot. */
static int open_all(int argc, char **argv, struct gw_settings **s, struct gw_gov **g,
                    struct gw_registry **reg)
{
    *s = app_settings_load(app_cli_opt(argc, argv, "--config"), NULL, 0);
    if (!*s)
        return 2;
    app_logging_init(*s);
    struct gw_store *st = NULL;
    if (app_store_open(*s, true, &st) != GW_OK)
        return 1;
    gw_store_close(st);
    char url[2048];
    app_store_url(*s, url, sizeof(url));
    struct gw_error err = {0};
    if (gw_gov_new(*s, url, g, &err) != GW_OK) {
        fprintf(stderr, "mcpgw governance: %s\n", err.msg);
        return 2;
    }
    if (reg) {
        struct gw_store_options so = app_store_options(*s);
        struct gw_registry_config rc = {url, &so, 0, false, false};
        if (gw_registry_new(&rc, reg, &err) != GW_OK) {
            fprintf(stderr, "mcpgw governance: registry: %s\n", err.msg);
            return 1;
        }
    }
    return 0;
}

static int check_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "mcpgw governance check: cannot open %s\n", path);
        return 2;
    }
    char *buf = gw_xmalloc(8u << 20);
    size_t n = fread(buf, 1, (8u << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    struct gw_ruleset *rs = NULL;
    struct gw_error err = {0};
    int rc = gw_gov_parse_text(buf, n, &rs, &err);
    gw_free(buf);
    if (rc != GW_OK) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return 2;
    }
    printf("%s: valid (version %s): %zu roles, %zu exposure rules, %zu policies\n", path,
           gw_ruleset_version(rs), gw_ruleset_count(rs, "roles"),
           gw_ruleset_count(rs, "exposure"), gw_ruleset_count(rs, "policies"));
    gw_ruleset_unref(rs);
    return 0;
}

/* put SECTION FILE: each rule of the file (one object or a list; roles: an object of roles). */
static int put_rules(struct gw_settings *s, const char *section, const char *path)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) {
        fprintf(stderr, "mcpgw governance put: %s:%d: %s\n", path, je.line, je.text);
        return 2;
    }
    struct gw_store *st = NULL;
    if (app_store_open(s, true, &st) != GW_OK) {
        json_decref(doc);
        return 1;
    }
    struct gw_store_actor who = {"cli", "governance put"};
    struct gw_error err = {0};
    int rc = 0;
    if (!strcmp(section, "roles")) {
        const char *name;
        json_t *role;
        json_object_foreach(doc, name, role)
        {
            if (gw_store_governance_put(st, "roles", name, role, &who, &err) != GW_OK) {
                rc = app_cli_fail(name, &err);
                break;
            }
            printf("stored role %s\n", name);
        }
    } else {
        json_t *list = json_is_array(doc) ? json_incref(doc) : json_pack("[O]", doc);
        size_t i;
        json_t *rule;
        json_array_foreach(list, i, rule)
        {
            const char *id = json_string_value(json_object_get(rule, "id"));
            if (gw_store_governance_put(st, section, id, rule, &who, &err) != GW_OK) {
                rc = app_cli_fail(id ? id : "rule", &err);
                break;
            }
            printf("stored %s rule %s\n", section, id);
        }
        json_decref(list);
    }
    gw_store_close(st);
    json_decref(doc);
    if (rc == 0) {
        /* check the effective set now: a rule that does not build is reported here */
        struct gw_gov *g = NULL;
        char url[2048];
        app_store_url(s, url, sizeof(url));
        if (gw_gov_new(s, url, &g, &err) != GW_OK) {
            fprintf(stderr,
                    "mcpgw governance: the stored rules no longer build: %s\n"
                    "(running gateways keep their previous rules; fix or delete the rule)\n",
                    err.msg);
            rc = 2;
        }
        gw_gov_free(g);
    }
    return rc;
}

int cmd_governance(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "help";
    if (!strcmp(sub, "help") || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        printf("%s", usage);
        return 0;
    }
    if (!strcmp(sub, "check"))
        return argc > 2 ? check_file(argv[2]) : (fprintf(stderr, "%s", usage), 2);
    struct gw_settings *s = NULL;
    struct gw_gov *g = NULL;
    struct gw_registry *reg = NULL;
    int rc = 2;
    if (!strcmp(sub, "put") || !strcmp(sub, "delete")) {
        if (argc < 4) {
            fprintf(stderr, "%s", usage);
            return 2;
        }
        s = app_settings_load(app_cli_opt(argc, argv, "--config"), NULL, 0);
        if (!s)
            return 2;
        app_logging_init(s);
        if (!strcmp(sub, "put")) {
            rc = put_rules(s, argv[2], argv[3]);
        } else {
            struct gw_store *st = NULL;
            struct gw_error err = {0};
            struct gw_store_actor who = {"cli", "governance delete"};
            rc = 1;
            if (app_store_open(s, true, &st) == GW_OK)
                rc = gw_store_governance_delete(st, argv[2], argv[3], &who, &err) == GW_OK
                         ? (printf("deleted %s rule %s\n", argv[2], argv[3]), 0)
                         : app_cli_fail(argv[3], &err);
            gw_store_close(st);
        }
        gw_settings_free(s);
        return rc;
    }
    bool want_reg = !strcmp(sub, "preview") || !strcmp(sub, "test");
    if (strcmp(sub, "show") != 0 && !want_reg) {
        fprintf(stderr, "%s", usage);
        return 2;
    }
    if ((rc = open_all(argc, argv, &s, &g, want_reg ? &reg : NULL)) != 0)
        goto out;
    if (!strcmp(sub, "show")) {
        struct gw_ruleset *rs = gw_gov_rules(g);
        json_t *o = json_pack("{s:s,s:O}", "policyVersion", gw_ruleset_version(rs), "rules",
                              gw_ruleset_doc(rs));
        app_cli_print_json(o);
        json_decref(o);
        gw_ruleset_unref(rs);
        rc = 0;
        goto out;
    }
    const char *tool = NULL, *args_text = NULL;
    json_t *spec = principal_spec(argc - 1, argv + 1, &tool, &args_text);
    if (!spec) {
        fprintf(stderr, "%s", usage);
        rc = 2;
        goto out;
    }
    struct gw_error err = {0};
    struct gw_principal *p = gw_gov_principal_from_spec(spec, &err);
    json_decref(spec);
    if (!p) {
        rc = app_cli_fail("principal", &err);
        goto out;
    }
    struct gw_snapshot *snap = gw_registry_acquire(reg);
    json_t *result = NULL;
    if (!strcmp(sub, "preview")) {
        result = gw_gov_preview(g, p, snap);
        rc = 0;
    } else if (!tool) {
        fprintf(stderr, "mcpgw governance test: --tool is required\n");
    } else {
        const struct gw_tool_entry *t = gw_snapshot_find(snap, tool, strlen(tool));
        json_error_t je;
        json_t *args = args_text ? json_loads(args_text, 0, &je) : json_object();
        if (!t)
            fprintf(stderr, "mcpgw governance test: no active tool %s\n", tool);
        else if (!json_is_object(args))
            fprintf(stderr, "mcpgw governance test: --args expects a JSON object\n");
        else {
            result = gw_gov_test(g, p, gw_tool_def(t), args);
            rc = 0;
        }
        json_decref(args);
    }
    if (result)
        app_cli_print_json(result);
    json_decref(result);
    gw_snapshot_release(snap);
    gw_principal_unref(p);
out:
    gw_registry_free(reg);
    gw_gov_free(g);
    gw_settings_free(s);
    return rc;
}
