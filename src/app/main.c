/*
 * src/app/main.c
 * Entry point of `mcpgw`: the subcommand dispatcher and the top-level help.
 */
#include "app.h"

#include "core/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "mcpgw %s - MSIL MCP Platform: a governed MCP gateway for enterprise REST APIs\n"
            "\n"
            "Usage: mcpgw <command> [options]\n"
            "\n"
            "Commands:\n"
            "  serve     Run the gateway (MCP over Streamable HTTP at /mcp, /health, /ready)\n"
            "  stdio     Serve MCP over stdin/stdout (for desktop clients)\n"
            "  import    Import an OpenAPI/Swagger spec: its operations become tools\n"
            "  tools     List, inspect, govern, activate or disable tools\n"
            "  specs     List or delete imported specs\n"
            "  bundles   Manage API products (bundles of tools)\n"
            "  keys      API keys of service clients (create | list | revoke)\n"
            "  governance  Exposure and policy rules: check, show, preview (view as), test, put\n"
            "  limits    Rate-limit rules (list | add | replace | enable | disable | dry-run |\n"
            "            enforce | remove | show | check)\n"
            "  db        Database migrations (db migrate | db status)\n"
            "  audit     Verify, search, prove or export the audit trail\n"
            "  config    Show or check configuration (config docs | dump | check | client)\n"
            "  version   Print the version\n"
            "  help      This text; `mcpgw <command> --help` for a command's options\n"
            "\n"
            "Configuration comes from environment variables (see docs/configuration.md or\n"
            "`mcpgw config docs`), optionally a file given with --config.\n",
            GW_VERSION);
}

/* GnuTLS is loaded only because libldap, a dependency of libcurl and libpq, links it (the
 * gateway's TLS is OpenSSL's, and it never uses LDAP). Its library constructor initialises it
 * unless GNUTLS_NO_IMPLICIT_INIT is set, and that loads p11-kit's modules and the trust store:
 * ~0.7 MB resident for the life of the server, before main can say no. So `serve` sets the
 * variable and executes itself again, once (same process id, arguments and descriptors;
 * libldap would initialise GnuTLS itself if it were ever used). Where the variable is already
 * set (the container image sets it), or the exec fails, it carries on as it is. */
static void serve_without_gnutls_init(char **argv)
{
    if (getenv("GNUTLS_NO_IMPLICIT_INIT") || setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    gw_json_init(); /* before any thread: jansson's allocator is process-wide */
    const char *cmd = argv[1];
    if (!strcmp(cmd, "serve")) {
        serve_without_gnutls_init(argv);
        return cmd_serve(argc - 1, argv + 1);
    }
    if (!strcmp(cmd, "stdio"))
        return cmd_stdio(argc - 1, argv + 1);
    if (!strcmp(cmd, "import"))
        return cmd_import(argc - 1, argv + 1);
    if (!strcmp(cmd, "tools"))
        return cmd_tools(argc - 1, argv + 1);
    if (!strcmp(cmd, "specs"))
        return cmd_specs(argc - 1, argv + 1);
    if (!strcmp(cmd, "bundles"))
        return cmd_bundles(argc - 1, argv + 1);
    if (!strcmp(cmd, "governance"))
        return cmd_governance(argc - 1, argv + 1);
    if (!strcmp(cmd, "keys"))
        return cmd_keys(argc - 1, argv + 1);
    if (!strcmp(cmd, "limits"))
        return cmd_limits(argc - 1, argv + 1);
    if (!strcmp(cmd, "db"))
        return cmd_db(argc - 1, argv + 1);
    if (!strcmp(cmd, "audit"))
        return cmd_audit(argc - 1, argv + 1);
    if (!strcmp(cmd, "config"))
        return cmd_config(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("mcpgw %s\n", GW_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "mcpgw: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
