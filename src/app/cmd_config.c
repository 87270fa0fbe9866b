/*
 * src/app/cmd_config.c
 * `mcpgw config docs|dump|check|client`: the generated reference, the effective values
 * (secrets redacted) with their sources, validation only, and (cmd_client.c) the
 * configuration of a desktop MCP client.
 */
#include "app.h"

#include "core/buf.h"

#include <stdio.h>
#include <string.h>

static void print_unknown(void *ud, const char *name, const char *suggestion)
{
    (void)ud;
    if (suggestion)
        fprintf(stderr, "mcpgw config: %s is not a setting (did you mean %s?)\n", name,
                suggestion);
    else
        fprintf(stderr, "mcpgw config: %s is not a setting\n", name);
}

int cmd_config(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "help";
    if (!strcmp(sub, "client"))
        return cmd_config_client(argc - 1, argv + 1);
    const char *file = NULL;
    for (int i = 2; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--config"))
            file = argv[i + 1];
    if (!strcmp(sub, "help") || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        printf("Usage: mcpgw config docs            print the settings reference (Markdown)\n"
               "       mcpgw config dump [--config F] print effective values and their source\n"
               "       mcpgw config check [--config F] validate (values, and GW_* variables that\n"
               "                                      name no setting: typos) and exit 0/2\n"
               "       mcpgw config client [--for claude|vscode] [--env NAME]...\n"
               "                                  MCP desktop-client configuration (stdio)\n");
        return 0;
    }
    struct gw_settings *s = app_settings_load(file, NULL, 0);
    if (!s)
        return 2;
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    int rc = 0;
    if (!strcmp(sub, "docs")) {
        gw_settings_markdown(s, &b);
    } else if (!strcmp(sub, "dump")) {
        gw_settings_dump(s, &b);
    } else if (!strcmp(sub, "check")) {
        size_t unknown = gw_settings_unknown_env(s, print_unknown, NULL);
        if (unknown) {
            gw_buf_printf(&b, "%zu unknown GW_* variable%s in the environment (see above)\n",
                          unknown, unknown == 1 ? "" : "s");
            rc = 2;
        } else {
            gw_buf_adds(&b, "configuration is valid\n");
        }
    } else {
        fprintf(stderr, "mcpgw config: unknown subcommand '%s' (docs, dump, check)\n", sub);
        rc = 2;
    }
    fwrite(gw_buf_ptr(&b), 1, gw_buf_len(&b), stdout);
    gw_buf_fini(&b);
    gw_settings_free(s);
    return rc;
}
