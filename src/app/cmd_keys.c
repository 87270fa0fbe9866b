/*
 * src/app/cmd_keys.c
 * `mcpgw keys create|list|show|revoke`: API keys of service clients, straight in the store
 * (the same functions as the admin API). A running gateway picks a change up through the
 * registry's change notification (at once on PostgreSQL, within GW_REGISTRY_POLL_SECONDS on
 * SQLite).
 */
#include "app.h"

#include "auth/auth.h"
#include "store/store_apikey.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage:\n"
    "  mcpgw keys create --name NAME --subject SUBJECT [--role ROLE]... [--client-id ID]\n"
    "                    [--tenant T] [--ttl SECONDS | --expires 2027-01-31T00:00:00Z]\n"
    "                    [--claims '{\"dealer_ids\":[\"MSIL-PUNE-001\"]}'] [--json]\n"
    "      Creates a key and prints it ONCE (only its hash is stored). Use it as\n"
    "      'Authorization: Bearer <key>'. Roles decide what the key may see and call;\n"
    "      claims are attributes policies can test (docs/governance.md).\n"
    "  mcpgw keys list [--json]          every key (revoked ones marked), never the secret\n"
    "  mcpgw keys show ID                one key's record\n"
    "  mcpgw keys revoke ID              the next request with that key is refused\n"
    "Options of every command: --config FILE.\n";

static int create(int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"subject", required_argument, NULL, 's'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"client-id", required_argument, NULL, 'c'},
                                         {"tenant", required_argument, NULL, 't'},
                                         {"ttl", required_argument, NULL, 'T'},
                                         {"expires", required_argument, NULL, 'e'},
                                         {"claims", required_argument, NULL, 'L'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"config", required_argument, NULL, 'C'},
                                         {NULL, 0, NULL, 0}};
    json_t *spec = json_object(), *roles = json_array();
    bool as_json = false;
    int ch, rc = 2;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': json_object_set_new(spec, "name", json_string(optarg)); break;
        case 's': json_object_set_new(spec, "subject", json_string(optarg)); break;
        case 'r': json_array_append_new(roles, json_string(optarg)); break;
        case 'c': json_object_set_new(spec, "client_id", json_string(optarg)); break;
        case 't': json_object_set_new(spec, "tenant", json_string(optarg)); break;
        case 'e': json_object_set_new(spec, "expires_at", json_string(optarg)); break;
        case 'T': {
            char *end = NULL;
            long long v = strtoll(optarg, &end, 10);
            if (!end || *end || v <= 0) {
                fprintf(stderr, "mcpgw keys create: --ttl expects a number of seconds\n");
                goto out;
            }
            json_object_set_new(spec, "ttl_seconds", json_integer(v));
            break;
        }
        case 'L': {
            json_error_t je;
            json_t *c = json_loads(optarg, 0, &je);
            if (!json_is_object(c)) {
                json_decref(c);
                fprintf(stderr, "mcpgw keys create: --claims expects a JSON object, e.g. "
                                "'{\"dealer_ids\":[\"MSIL-PUNE-001\"]}'\n");
                goto out;
            }
            json_object_set_new(spec, "claims", c);
            break;
        }
        case 'j': as_json = true; break;
        case 'C': break;
        default: fprintf(stderr, "%s", usage); goto out;
        }
    }
    if (!json_object_get(spec, "name") || !json_object_get(spec, "subject")) {
        fprintf(stderr, "mcpgw keys create: --name and --subject are required\n\n%s", usage);
        goto out;
    }
    json_object_set(spec, "roles", roles);
    struct gw_settings *s = NULL;
    struct gw_store *st = app_cli_open_store(argc, argv, &s);
    if (!st) {
        rc = 1;
        goto out;
    }
    json_t *out = NULL;
    struct gw_error err = {0};
    if (gw_apikey_create(st, spec, "cli", &out, &err) != GW_OK) {
        rc = app_cli_fail("keys create", &err);
    } else if (as_json) {
        app_cli_print_json(out);
        rc = 0;
    } else {
        printf("API key %s created for %s (roles: ", json_string_value(json_object_get(out, "id")),
               json_string_value(json_object_get(out, "subject")));
        for (size_t i = 0; i < json_array_size(roles); i++)
            printf("%s%s", i ? ", " : "", json_string_value(json_array_get(roles, i)));
        printf("%s).\n\n  %s\n\nStore it now: it is not shown again (the gateway keeps only "
               "its hash).\nUse it as:  Authorization: Bearer <key>\n",
               json_array_size(roles) ? "" : "none",
               json_string_value(json_object_get(out, "key")));
        rc = 0;
    }
    json_decref(out);
    gw_store_close(st);
    gw_settings_free(s);
out:
    json_decref(roles);
    json_decref(spec);
    return rc;
}

static void print_row(const json_t *k)
{
    const char *revoked = json_string_value(json_object_get(k, "revoked_at"));
    const char *expires = json_string_value(json_object_get(k, "expires_at"));
    const char *used = json_string_value(json_object_get(k, "last_used_at"));
    char roles[256] = "";
    size_t n = 0, i;
    json_t *r;
    json_array_foreach(json_object_get(k, "roles"), i, r)
    {
        n += (size_t)snprintf(roles + n, n < sizeof(roles) ? sizeof(roles) - n : 0, "%s%s",
                              i ? "," : "", json_string_value(r));
    }
    printf("%-12s  %-20.20s  %-20.20s  %-24.24s  %-8s  %-20s  %s\n",
           json_string_value(json_object_get(k, "id")),
           json_string_value(json_object_get(k, "name")),
           json_string_value(json_object_get(k, "subject")), roles,
           revoked ? "revoked" : "active", expires ? expires : "never",
           used ? used : "never used");
}

int cmd_keys(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "help";
    if (!strcmp(sub, "help") || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        printf("%s", usage);
        return 0;
    }
    if (!strcmp(sub, "create"))
        return create(argc - 1, argv + 1);
    const char *id = argc > 2 && argv[2][0] != '-' ? argv[2] : NULL;
    bool list = !strcmp(sub, "list");
    if (!list && !((!strcmp(sub, "show") || !strcmp(sub, "revoke")) && id)) {
        fprintf(stderr, "%s", usage);
        return 2;
    }
    struct gw_settings *s = NULL;
    struct gw_store *st = app_cli_open_store(argc, argv, &s);
    if (!st)
        return 1;
    struct gw_error err = {0};
    json_t *out = NULL;
    int rc = 0;
    if (list) {
        if (gw_store_apikey_list(st, false, true, &out, &err) != GW_OK) {
            rc = app_cli_fail("keys list", &err);
        } else if (app_cli_opt(argc, argv, "--json") || (argc > 2 && !strcmp(argv[2], "--json"))) {
            app_cli_print_json(out);
        } else {
            printf("%-12s  %-20s  %-20s  %-24s  %-8s  %-20s  %s\n", "ID", "NAME", "SUBJECT",
                   "ROLES", "STATUS", "EXPIRES", "LAST USED");
            size_t i;
            json_t *k;
            json_array_foreach(out, i, k)
            {
                print_row(k);
            }
        }
    } else if (!strcmp(sub, "show")) {
        rc = gw_store_apikey_get(st, id, &out, &err) == GW_OK ? (app_cli_print_json(out), 0)
                                                              : app_cli_fail(id, &err);
    } else {
        struct gw_store_actor who = {"cli", "keys revoke"};
        rc = gw_store_apikey_revoke(st, id, &who, &err) == GW_OK
                 ? (printf("revoked API key %s\n", id), 0)
                 : app_cli_fail(id, &err);
    }
    json_decref(out);
    gw_store_close(st);
    gw_settings_free(s);
    return rc;
}
