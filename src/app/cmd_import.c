/*
 * src/app/cmd_import.c
 * `mcpgw import <file|url>`: OpenAPI/Swagger spec -> tools in the registry database, with
 * progress on large specs, a summary, warnings, and the diff against the previous import of the
 * same spec. `--dry-run` previews (tools and diff) without writing anything.
 * Runs in the CLI process (blocking I/O is fine here); a running gateway picks the change up
 * through its registry watcher and announces notifications/tools/list_changed.
 */
#include "app.h"

#include "core/alloc.h"
#include "core/json.h"
#include "core/json_heap.h"
#include "openapi/openapi.h"
#include "ssrf/ssrf.h"
#include "store/store.h"
#include "store/store_import.h"

#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void import_usage(FILE *f)
{
    fprintf(f,
            "Usage: mcpgw import <spec file or http(s) URL> [options]\n\n"
            "Imports an OpenAPI 3.x / Swagger 2.0 spec (JSON or YAML); every operation becomes a\n"
            "tool. Re-importing a spec (same --spec-id, default: from its title) updates its\n"
            "tools in place, keeps their governance settings and deprecates removed ones.\n\n"
            "Options:\n"
            "  --bundle NAME      API product (bundle) for the new tools\n"
            "  --activate         new tools are active at once (default: draft, for review)\n"
            "  --spec-id ID       identity of the spec in the registry\n"
            "  --upstream NAME    upstream (base URL, credentials) the tools call\n"
            "  --prefix P         prefix every tool name (P_get_repo; default from\n"
            "                     GW_OPENAPI_NAME_PREFIX)\n"
            "  --rename FROM=TO   store tool FROM (the computed or the stored name) as TO;\n"
            "                     repeatable; a stored name stays an alias (GW_TOOL_ALIAS_DAYS)\n"
            "  --rename-existing  existing tools take the names the spec now gives them\n"
            "                     (their old names stay aliases); default: names are stable\n"
            "  --on-conflict prefix|fail  a name another tool has: give the new tool this\n"
            "                     product's/spec's prefix (default) or refuse the import\n"
            "  --dry-run          show the tools and the diff; write nothing\n"
            "  --json             print the result as JSON\n"
            "  --config FILE      settings file (DATABASE_URL, GW_DATA_DIR, GW_OPENAPI_*, ...)\n"
            "  -h, --help         this help\n");
}

static void progress(size_t done, size_t total, void *ud)
{
    (void)ud;
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\rmapping operations: %zu/%zu", done, total);
    else if (done == total || done % 1000 == 0)
        fprintf(stderr, "mapping operations: %zu/%zu\n", done, total);
}

/* The importer's tool list, released on a thread once the store has copied it (the
 * store's tools_read hook), while the store writes: a tenth of a large import's time. */
struct tools_release {
    json_t *tools;
    pthread_t thread;
    bool started;
};

static void *tools_release_run(void *arg)
{
    struct tools_release *tr = arg;
    json_decref(tr->tools);
    tr->tools = NULL;
    return NULL;
}

static void tools_read(void *ud)
{
    struct tools_release *tr = ud;
    tr->started = pthread_create(&tr->thread, NULL, tools_release_run, tr) == 0;
    if (!tr->started)
        tools_release_run(tr);
}

static void print_names(const char *label, json_t *arr)
{
    if (!json_array_size(arr))
        return;
    printf("  %s (%zu):", label, json_array_size(arr));
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (i >= 12) {
            printf(" ... and %zu more", json_array_size(arr) - i);
            break;
        }
        printf(" %s", json_is_string(v) ? json_string_value(v) : "?");
    }
    printf("\n");
}

static int import_main(int argc, char **argv)
{
    static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
                                         {"activate", no_argument, NULL, 'a'},
                                         {"spec-id", required_argument, NULL, 'i'},
                                         {"upstream", required_argument, NULL, 'u'},
                                         {"prefix", required_argument, NULL, 'p'},
                                         {"rename", required_argument, NULL, 'r'},
                                         {"rename-existing", no_argument, NULL, 'R'},
                                         {"on-conflict", required_argument, NULL, 'C'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *bundle = NULL, *spec_id = NULL, *upstream = NULL, *config = NULL;
    const char *prefix = NULL, *on_conflict = NULL;
    bool activate = false, dry = false, as_json = false, rename_existing = false;
    json_t *renames = json_object();
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': bundle = optarg; break;
        case 'a': activate = true; break;
        case 'i': spec_id = optarg; break;
        case 'u': upstream = optarg; break;
        case 'p': prefix = optarg; break;
        case 'R': rename_existing = true; break;
        case 'C': on_conflict = optarg; break;
        case 'r': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1]) {
                fprintf(stderr, "mcpgw import: --rename takes FROM=TO\n");
                json_decref(renames);
                return 2;
            }
            char from[256];
            snprintf(from, sizeof(from), "%.*s", (int)(eq - optarg), optarg);
            json_object_set_new(renames, from, json_string(eq + 1));
            break;
        }
        case 'n': dry = true; break;
        case 'j': as_json = true; break;
        case 'c': config = optarg; break;
        case 'h': import_usage(stdout); json_decref(renames); return 0;
        default: import_usage(stderr); json_decref(renames); return 2;
        }
    }
    if (optind != argc - 1 ||
        (on_conflict && strcmp(on_conflict, "prefix") != 0 && strcmp(on_conflict, "fail") != 0)) {
        import_usage(stderr);
        json_decref(renames);
        return 2;
    }
    const char *src = argv[optind];
    struct gw_settings *s = app_settings_load(config, NULL, 0);
    if (!s) {
        json_decref(renames);
        return 2;
    }
    app_logging_init(s);

    struct gw_openapi_options oo;
    gw_openapi_options_init(&oo);
    gw_openapi_options_from_settings(&oo, s);
    oo.spec_id = spec_id;
    if (prefix)
        oo.name_prefix = prefix;
    oo.upstream = upstream;
    oo.bundle = bundle;
    oo.status = activate ? "active" : "draft";
    oo.progress = progress;
    struct gw_ssrf_policy *pol = NULL;
    struct gw_error err = {0};
    struct gw_openapi_result res = {0};
    bool is_url = !strncmp(src, "http://", 7) || !strncmp(src, "https://", 8);
    int rc;
    if (is_url) {
        if (gw_ssrf_policy_from_settings(s, &pol, &err) != GW_OK) {
            fprintf(stderr, "mcpgw import: %s\n", err.msg);
            gw_settings_free(s);
            json_decref(renames);
            return 2;
        }
        oo.ssrf = pol;
        rc = gw_openapi_import_url(src, &oo, &res, &err);
    } else {
        rc = gw_openapi_import_file(src, &oo, &res, &err);
    }
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\n");
    if (rc != GW_OK) {
        fprintf(stderr, "mcpgw import: %s: %s\n", src, err.msg);
        gw_ssrf_policy_free(pol);
        gw_settings_free(s);
        json_decref(renames);
        return 1;
    }

    struct gw_store *st = NULL;
    json_t *diff = NULL;
    int exit_code = 1;
    if (app_store_open(s, true, &st) != GW_OK)
        goto out;
    /* the importer derives the spec id (title, else file name or server) unless given */
    const char *sid = spec_id ? spec_id : gw_json_str(res.spec, "id");
    const char *title = gw_json_str(res.spec, "title");
    json_t *spec = json_pack("{s:s,s:s}", "title", title && *title ? title : sid ? sid : "untitled",
                             is_url ? "sourceUrl" : "fileName", src);
    if (sid)
        json_object_set_new(spec, "id", json_string(sid));
    if (gw_json_str(res.spec, "version"))
        json_object_set_new(spec, "version", json_string(gw_json_str(res.spec, "version")));
    struct gw_store_import_opts io = {.status = activate ? "active" : "draft",
                                      .bundle = bundle, .dry_run = dry,
                                      .max_tools = oo.limits.max_tools,
                                      .renames = renames,
                                      .rename_existing = rename_existing,
                                      .fail_on_conflict = on_conflict
                                                              ? !strcmp(on_conflict, "fail")
                                                              : oo.fail_on_conflict,
                                      .alias_days = oo.alias_days};
    struct gw_store_actor who = {"cli", dry ? "import preview" : "import"};
    struct tools_release tr = {res.tools, 0, false};
    if (!(as_json && dry)) { /* else printed below */
        res.tools = NULL;
        io.tools_read = tools_read;
        io.tools_read_ud = &tr;
    }
    rc = gw_store_apply_import(st, spec, tr.tools, &io, &who, &diff, &err);
    if (tr.started)
        pthread_join(tr.thread, NULL);
    else if (io.tools_read)
        json_decref(tr.tools); /* the store failed before it read them */
    json_decref(spec);
    if (rc != GW_OK) {
        fprintf(stderr, "mcpgw import: cannot store the tools: %s\n", err.msg);
        goto out;
    }
    if (as_json) {
        json_t *o = gw_openapi_result_summary(&res);
        json_object_set(o, "diff", diff);
        if (dry)
            json_object_set(o, "tools", res.tools);
        char *t = gw_json_dumps_ex(o, GW_JSON_PRETTY);
        printf("%s\n", t);
        gw_free(t);
        json_decref(o);
    } else {
        printf("%s %s (%s): %zu operations -> %zu tools in %.0f ms (%zu skipped, %zu degraded)\n",
               dry ? "Previewed" : "Imported", title && *title ? title : sid, res.dialect,
               res.operations, res.tools_count, res.elapsed_ms, res.skipped, res.degraded);
        print_names("added", json_object_get(diff, "added"));
        print_names("changed", json_object_get(diff, "changed"));
        print_names("removed (deprecated)", json_object_get(diff, "removed"));
        size_t k;
        json_t *x;
        json_array_foreach(json_object_get(diff, "renamed"), k, x)
            printf("  renamed: %s -> %s (the old name answers until %s)\n", gw_json_str(x, "from"),
                   gw_json_str(x, "to"), gw_json_str(x, "aliasUntil"));
        json_array_foreach(json_object_get(diff, "conflicts"), k, x)
            printf("  name taken: %s -> stored as %s (%s has it)\n", gw_json_str(x, "wanted"),
                   gw_json_str(x, "name"), gw_json_str(x, "takenBy"));
        if (json_array_size(json_object_get(diff, "nameKept")))
            printf("  %zu tool(s) keep their names although the spec now names them otherwise "
                   "(--rename-existing to follow the spec)\n",
                   json_array_size(json_object_get(diff, "nameKept")));
        size_t i;
        json_t *w;
        json_array_foreach(res.warnings, i, w)
        {
            if (i >= 20) {
                printf("  ... %zu more warnings (use --json)\n", json_array_size(res.warnings) - i);
                break;
            }
            printf("  %s: %s: %s\n", gw_json_str(w, "level"), gw_json_str(w, "operation"),
                   gw_json_str(w, "message"));
        }
        if (!activate && !dry && json_array_size(json_object_get(diff, "added")))
            printf("New tools are drafts: activate them with `mcpgw tools activate --spec %s` "
                   "or import with --activate.\n",
                   gw_json_str(diff, "specId"));
    }
    exit_code = 0;
out:
    json_decref(renames);
    json_decref(diff);
    gw_store_close(st);
    gw_openapi_result_fini(&res);
    gw_ssrf_policy_free(pol);
    gw_settings_free(s);
    return exit_code;
}

/* The whole command runs in a bulk JSON heap (core/json_heap.h): the import makes and drops
 * millions of values, and every one of them is gone when import_main returns. */
int cmd_import(int argc, char **argv)
{
    struct gw_json_heap *heap = gw_json_heap_new(0);
    struct gw_json_heap *outer = gw_json_heap_enter(heap);
    int rc = import_main(argc, argv);
    gw_json_heap_enter(outer);
    gw_json_heap_release(heap);
    return rc;
}
