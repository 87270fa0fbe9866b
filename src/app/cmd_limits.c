/*
 * src/app/cmd_limits.c
 * `mcpgw limits`: the rate-limit rules. Rules in the database are managed here (the same
 * store functions and validation as the admin API); `list` shows the effective set, merged
 * from GW_RATELIMIT_HTTP_PER_IP, the rules file and the database exactly as a gateway would.
 * A running gateway picks a change up through the registry's change notification (at once on
 * PostgreSQL, within GW_REGISTRY_POLL_SECONDS on SQLite, and every
 * GW_RATELIMIT_RELOAD_SECONDS in any case).
 */
#include "app.h"

#include "core/alloc.h"
#include "core/json.h"
#include "ratelimit/ratelimit.h"
#include "ratelimit/ratelimit_loader.h"
#include "store/store_ratelimit.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage:\n"
    "  mcpgw limits list [--json]        the effective rules (env, file, database), with their\n"
    "                                    source and a plain-language summary\n"
    "  mcpgw limits show ID              one rule\n"
    "  mcpgw limits add RULE-OPTIONS     a new rule in the database\n"
    "  mcpgw limits replace ID RULE-OPTIONS   replaces a database rule\n"
    "  mcpgw limits enable|disable ID    turns a database rule on or off\n"
    "  mcpgw limits dry-run|enforce ID   records refusals only / applies them\n"
    "  mcpgw limits remove ID            deletes a database rule\n"
    "  mcpgw limits check FILE           validates a rules file (GW_RATELIMIT_RULES_FILE)\n"
    "RULE-OPTIONS: --json '{...}' | --file RULE.json | --id ID --rate 60/min [--burst N]\n"
    "  [--per user,tool,...] [--tool NAME]... [--risk read|write|privileged]... [--role R]...\n"
    "  [--client ID]... [--user SUBJECT]... [--tenant T]... [--scope call|http] [--dry-run]\n"
    "  [--disabled] [--description TEXT]\n"
    "  --per: ip, user, client, tool, role, risk, tenant (one counter per value; none = one\n"
    "  shared counter). Example: mcpgw limits add --id writes-per-user --rate 60/min\n"
    "  --per user --risk write\n"
    "Options of every command: --config FILE. Format and semantics: docs/scaling.md.\n";

static json_t *read_json_file(const char *path, struct gw_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        GW_ERROR_SET(err, GW_EINVAL, "cannot open %s", path);
        return NULL;
    }
    char *buf = gw_xmalloc(4u << 20);
    size_t n = fread(buf, 1, (4u << 20) - 1, f);
    fclose(f);
    struct gw_json_limits lim = {4u << 20, 32};
    json_t *v = gw_json_parse(buf, n, &lim, err);
    gw_free(buf);
    return v;
}

/* Builds a rule object from the options after the subcommand (and the id of `replace`). */
static json_t *rule_from_args(int argc, char **argv, const char *id, struct gw_error *err)
{
    static const struct option opts[] = {
        {"json", required_argument, NULL, 'J'},  {"file", required_argument, NULL, 'F'},
        {"id", required_argument, NULL, 'i'},    {"rate", required_argument, NULL, 'r'},
        {"burst", required_argument, NULL, 'b'}, {"per", required_argument, NULL, 'p'},
        {"tool", required_argument, NULL, 't'},  {"risk", required_argument, NULL, 'k'},
        {"role", required_argument, NULL, 'o'},  {"client", required_argument, NULL, 'c'},
        {"user", required_argument, NULL, 'u'},  {"tenant", required_argument, NULL, 'T'},
        {"scope", required_argument, NULL, 's'}, {"dry-run", no_argument, NULL, 'd'},
        {"disabled", no_argument, NULL, 'x'},    {"description", required_argument, NULL, 'D'},
        {"config", required_argument, NULL, 'C'}, {NULL, 0, NULL, 0}};
    json_t *rule = json_object(), *match = json_object(), *whole = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *list = NULL;
        switch (ch) {
        case 'J': {
            json_error_t je;
            whole = json_loads(optarg, 0, &je);
            if (!whole) {
                GW_ERROR_SET(err, GW_EINVAL, "--json: %s", je.text);
                goto fail;
            }
            break;
        }
        case 'F':
            whole = read_json_file(optarg, err);
            if (!whole)
                goto fail;
            break;
        case 'i': json_object_set_new(rule, "id", json_string(optarg)); break;
        case 'r': json_object_set_new(rule, "rate", json_string(optarg)); break;
        case 'b': {
            char *end = NULL;
            long long v = strtoll(optarg, &end, 10);
            if (!end || *end || v <= 0) {
                GW_ERROR_SET(err, GW_EINVAL, "--burst expects a positive number");
                goto fail;
            }
            json_object_set_new(rule, "burst", json_integer(v));
            break;
        }
        case 'p': {
            json_t *per = json_array();
            char buf[256];
            snprintf(buf, sizeof(buf), "%s", optarg);
            for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t;
                 t = strtok_r(NULL, ", ", &save))
                json_array_append_new(per, json_string(t));
            json_object_set_new(rule, "per", per);
            break;
        }
        case 't': list = "tools"; break;
        case 'k': list = "risk"; break;
        case 'o': list = "roles"; break;
        case 'c': list = "clients"; break;
        case 'u': list = "users"; break;
        case 'T': list = "tenants"; break;
        case 's': json_object_set_new(rule, "scope", json_string(optarg)); break;
        case 'd': json_object_set_new(rule, "mode", json_string("dry_run")); break;
        case 'x': json_object_set_new(rule, "enabled", json_false()); break;
        case 'D': json_object_set_new(rule, "description", json_string(optarg)); break;
        case 'C': break;
        default: GW_ERROR_SET(err, GW_EINVAL, "unknown option"); goto fail;
        }
        if (list) {
            json_t *a = json_object_get(match, list);
            if (!a) {
                a = json_array();
                json_object_set_new(match, list, a);
            }
            json_array_append_new(a, json_string(optarg));
        }
    }
    if (whole) {
        json_decref(rule);
        json_decref(match);
        rule = whole;
    } else if (json_object_size(match)) {
        json_object_set_new(rule, "match", match);
    } else {
        json_decref(match);
    }
    if (id && !json_object_get(rule, "id"))
        json_object_set_new(rule, "id", json_string(id));
    return rule;
fail:
    json_decref(rule);
    json_decref(match);
    json_decref(whole);
    return NULL;
}

/* Validates and canonicalises; NULL with err. */
static json_t *canonical(const json_t *rule, struct gw_error *err)
{
    struct gw_rl_rule *r = NULL;
    if (gw_rl_rule_parse(rule, "db", &r, err) != GW_OK)
        return NULL;
    json_t *c = gw_rl_rule_json(r);
    gw_rl_rule_free(r);
    return c;
}

/* The effective rule set, loaded as a gateway would (no thread, memory backend). */
static struct gw_rl_ruleset *effective(struct gw_settings *s, struct gw_error *err)
{
    struct gw_ratelimit_config rc;
    gw_ratelimit_config_from_settings(&rc, s, false);
    rc.use_redis = false;
    struct gw_ratelimit *rl = NULL;
    if (gw_ratelimit_new(&rc, NULL, &rl, err) != GW_OK)
        return NULL;
    char url[2048];
    app_store_url(s, url, sizeof(url));
    struct gw_store_options so = app_store_options(s);
    struct gw_rl_loader_config lc = {gw_settings_str(s, "GW_RATELIMIT_RULES_FILE"),
                                     gw_settings_str(s, "GW_RATELIMIT_HTTP_PER_IP"), url, &so,
                                     0, false};
    struct gw_rl_loader *l = NULL;
    struct gw_rl_ruleset *rs = NULL;
    if (gw_rl_loader_new(rl, &lc, &l, err) == GW_OK)
        rs = gw_ratelimit_rules(rl);
    gw_rl_loader_free(l);
    gw_ratelimit_free(rl);
    return rs;
}

static int cmd_list(int argc, char **argv)
{
    bool as_json = false;
    for (int i = 1; i < argc; i++)
        as_json = as_json || strcmp(argv[i], "--json") == 0;
    struct gw_settings *s = app_settings_load(app_cli_opt(argc, argv, "--config"), NULL, 0);
    if (!s)
        return 2;
    app_logging_init(s);
    struct gw_store *st = NULL;
    if (app_store_open(s, true, &st) != GW_OK) { /* migrate first: the table must exist */
        gw_settings_free(s);
        return 1;
    }
    gw_store_close(st);
    struct gw_error err = {0};
    struct gw_rl_ruleset *rs = effective(s, &err);
    gw_settings_free(s);
    if (!rs)
        return app_cli_fail("limits list", &err);
    if (as_json) {
        json_t *j = gw_rl_ruleset_json(rs);
        app_cli_print_json(j);
        json_decref(j);
    } else if (!gw_rl_ruleset_count(rs)) {
        printf("no rate-limit rules (add one with `mcpgw limits add`, or set "
               "GW_RATELIMIT_RULES_FILE / GW_RATELIMIT_HTTP_PER_IP)\n");
    } else {
        printf("%-24s %-6s %-8s %-8s %s\n", "ID", "SOURCE", "SCOPE", "MODE", "LIMIT");
        for (size_t i = 0; i < gw_rl_ruleset_count(rs); i++) {
            const struct gw_rl_rule *r = gw_rl_ruleset_at(rs, i);
            char d[300];
            gw_rl_rule_describe(r, d, sizeof(d));
            printf("%-24s %-6s %-8s %-8s %s\n", r->id, r->source,
                   r->scope == GW_RL_SCOPE_HTTP ? "http" : "call",
                   !r->enabled ? "off" : r->mode == GW_RL_DRY_RUN ? "dry-run" : "enforce", d);
        }
    }
    gw_rl_ruleset_unref(rs);
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "%s", usage);
        return 2;
    }
    struct gw_error err = {0};
    json_t *doc = read_json_file(argv[1], &err);
    struct gw_rl_ruleset *rs = NULL;
    if (!doc || gw_rl_ruleset_parse(doc, "file", &rs, &err) != GW_OK) {
        json_decref(doc);
        return app_cli_fail(argv[1], &err);
    }
    printf("%s: %zu valid rule%s\n", argv[1], gw_rl_ruleset_count(rs),
           gw_rl_ruleset_count(rs) == 1 ? "" : "s");
    for (size_t i = 0; i < gw_rl_ruleset_count(rs); i++) {
        char d[300];
        gw_rl_rule_describe(gw_rl_ruleset_at(rs, i), d, sizeof(d));
        printf("  %s: %s\n", gw_rl_ruleset_at(rs, i)->id, d);
    }
    gw_rl_ruleset_unref(rs);
    json_decref(doc);
    return 0;
}

/* Every command that touches one database rule. */
static int cmd_write(const char *sub, int argc, char **argv)
{
    bool add = strcmp(sub, "add") == 0, replace = strcmp(sub, "replace") == 0;
    const char *id = NULL;
    if (!add) {
        if (argc < 2 || argv[1][0] == '-') {
            fprintf(stderr, "mcpgw limits %s: the rule id is required\n\n%s", sub, usage);
            return 2;
        }
        id = argv[1];
    }
    struct gw_error err = {0};
    json_t *rule = NULL, *canon = NULL, *row = NULL;
    int rc = 1;
    if (add || replace) {
        rule = rule_from_args(argc - (add ? 0 : 1), argv + (add ? 0 : 1), id, &err);
        if (!rule || !(canon = canonical(rule, &err))) {
            json_decref(rule);
            fprintf(stderr, "mcpgw limits %s: %s\n", sub, err.msg);
            return 2;
        }
        id = gw_json_str(canon, "id");
    }
    struct gw_settings *s = NULL;
    struct gw_store *st = app_cli_open_store(argc, argv, &s);
    if (!st) {
        json_decref(rule);
        json_decref(canon);
        return 1;
    }
    struct gw_store_actor who = {"cli", NULL};
    /* a rule of the file or of the environment cannot be shadowed or changed here */
    struct gw_rl_ruleset *eff = effective(s, &err);
    const struct gw_rl_rule *f = eff ? gw_rl_ruleset_find(eff, id) : NULL;
    if (f && strcmp(f->source, "db") != 0) {
        fprintf(stderr, "mcpgw limits %s: rule %s comes from %s; change it there\n", sub, id,
                strcmp(f->source, "env") == 0 ? "GW_RATELIMIT_HTTP_PER_IP"
                                              : "the rules file (GW_RATELIMIT_RULES_FILE)");
        rc = 2;
        goto out;
    }
    if (add || replace) {
        if (gw_store_ratelimit_put(st, id, canon, add, &who, &err) != GW_OK) {
            rc = app_cli_fail(sub, &err);
            goto out;
        }
    } else if (strcmp(sub, "remove") == 0) {
        if (gw_store_ratelimit_delete(st, id, &who, &err) != GW_OK) {
            rc = app_cli_fail(sub, &err);
            goto out;
        }
        printf("rule %s removed\n", id);
        rc = 0;
        goto out;
    } else if (strcmp(sub, "show") == 0) {
        if (gw_store_ratelimit_get(st, id, &row, &err) != GW_OK) {
            if (f || (eff && gw_rl_ruleset_find(eff, id))) { /* only in the file */
                json_t *j = gw_rl_rule_json(gw_rl_ruleset_find(eff, id));
                app_cli_print_json(j);
                json_decref(j);
                rc = 0;
            } else {
                rc = app_cli_fail(sub, &err);
            }
            goto out;
        }
        app_cli_print_json(row);
        rc = 0;
        goto out;
    } else { /* enable | disable | dry-run | enforce */
        if (gw_store_ratelimit_get(st, id, &row, &err) != GW_OK) {
            rc = app_cli_fail(sub, &err);
            goto out;
        }
        rule = json_deep_copy(json_object_get(row, "rule"));
        if (strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0)
            json_object_set_new(rule, "enabled", json_boolean(strcmp(sub, "enable") == 0));
        else
            json_object_set_new(rule, "mode",
                                json_string(strcmp(sub, "dry-run") == 0 ? "dry_run" : "enforce"));
        if (!(canon = canonical(rule, &err)) ||
            gw_store_ratelimit_put(st, id, canon, false, &who, &err) != GW_OK) {
            rc = app_cli_fail(sub, &err);
            goto out;
        }
    }
    struct gw_rl_rule *r = NULL;
    char d[300] = "";
    if (gw_rl_rule_parse(canon, "db", &r, NULL) == GW_OK)
        gw_rl_rule_describe(r, d, sizeof(d));
    printf("rule %s %s: %s%s%s\n", id, add ? "added" : "updated", d,
           r && !r->enabled ? " (disabled)" : "",
           r && r->mode == GW_RL_DRY_RUN ? " (dry run: refusals are only recorded)" : "");
    gw_rl_rule_free(r);
    rc = 0;
out:
    gw_rl_ruleset_unref(eff);
    json_decref(row);
    json_decref(rule);
    json_decref(canon);
    gw_store_close(st);
    gw_settings_free(s);
    return rc;
}

int cmd_limits(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "list"))
        return cmd_list(argc - 1, argv + 1);
    if (!strcmp(sub, "check"))
        return cmd_check(argc - 1, argv + 1);
    static const char *const writes[] = {"add",     "replace", "enable", "disable",
                                         "dry-run", "enforce", "remove", "show"};
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
        if (!strcmp(sub, writes[i]))
            return cmd_write(sub, argc - 1, argv + 1);
    fprintf(stderr, "mcpgw limits: unknown command '%s'\n\n%s", sub, usage);
    return 2;
}
