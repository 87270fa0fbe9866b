/*
 * tests/unit/openapi/test_openapi_corpus.c
 * Imports every spec of the shared corpus (GW_OPENAPI_CORPUS, default
 * /work/shared/corpus/openapi; multi-file specs through their root file) and checks each tool:
 * a valid unique name, an inputSchema whose root is {"type":"object"} and whose every
 * "#/$defs/..." reference resolves, required arguments that exist, args that match the schema,
 * no OpenAPI-only keywords left in schema positions, an object-rooted outputSchema when there
 * is one, a parameter for every {variable} of the binding's path template. Every spec must
 * import (100%, the bar of issue 15: odd specs degrade with warnings, they never fail), and at
 * least 98% completely (no skipped operation, no degraded tool; input schemas abbreviated to
 * their size budget are counted apart). The specs of tests/data/openapi/ (edge cases of real specs:
 * RFC 6570 path operators, duplicate templated paths, integers beyond 64 bits, empty titles) are
 * imported the same way. Prints a table (spec, operations, tools, warnings, ms) and writes it, with
 * every warning of a partial import, to $GW_BINARY_DIR/openapi-corpus.md; all tools go to
 * $GW_BINARY_DIR/openapi-corpus-tools.json for the meta-schema check of
 * scripts/test.d/30-openapi-corpus.sh. Skips (passes with a note) when the corpus is absent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "openapi/openapi.h"

#include "core/alloc.h"
#include "core/json.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_SPECS 512

static char *specs[MAX_SPECS];
static size_t nspecs;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A root spec declares openapi/swagger near its start. */
static int looks_like_spec(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, "\"openapi\"") || strstr(buf, "\"swagger\"") || strstr(buf, "\nopenapi:") ||
           strncmp(buf, "openapi:", 8) == 0 || strstr(buf, "\nswagger:") ||
           strncmp(buf, "swagger:", 8) == 0;
}

static int has_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcmp(dot, ".json") || !strcmp(dot, ".yaml") || !strcmp(dot, ".yml"));
}

/* Collects spec files at depth 1 and 2 under dir (root files of multi-file specs live one
 * folder down, e.g. digitalocean/specification/; their parts are deeper and not specs). */
static void collect(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) && nspecs < MAX_SPECS) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 2)
                collect(path, depth + 1);
        } else if (depth >= 1 && has_ext(de->d_name) && looks_like_spec(path)) {
            specs[nspecs++] = strdup(path);
        }
    }
    closedir(d);
}

static const char *corpus_dir(void)
{
    const char *c = getenv("GW_OPENAPI_CORPUS");
    return c && *c ? c : "/work/shared/corpus/openapi";
}

/* ---- schema checks ---- */

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static char problem[512];

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static int bad(const char *what, const char *a)
{
    if (!problem[0])
        snprintf(problem, sizeof(problem), "%s%s%s", what, a[0] ? ": " : "", a);
    return 0;
}

/* Walks a converted schema: keyword positions carry no OpenAPI-only keywords, types are
 * valid, and every $ref points into root $defs. */
static int check_schema(json_t *s, json_t *defs, int depth)
{
    if (depth > 400)
        return bad("schema deeper than 400", "");
    if (json_is_boolean(s))
        return 1;
    if (!json_is_object(s))
        return bad("schema is not an object or boolean", "");
    static const char *const banned[] = {"nullable",       "example", "x-nullable",
                                         "discriminator_", "xml",     "externalDocs"};
    for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
        if (json_object_get(s, banned[i]))
            return bad("OpenAPI keyword left in a schema", banned[i]);
    const char *k;
    json_t *v;
    json_object_foreach(s, k, v)
    {
        if (k[0] == 'x' && k[1] == '-')
            return bad("extension left in a schema", k);
        if (!strcmp(k, "$ref")) {
            const char *r = json_string_value(v);
            if (!r || strncmp(r, "#/$defs/", 8) != 0 || !json_object_get(defs, r + 8))
                return bad("dangling $ref", r ? r : "?");
        } else if (!strcmp(k, "properties") || !strcmp(k, "patternProperties") ||
                   !strcmp(k, "dependentSchemas") || !strcmp(k, "$defs")) {
            const char *pk;
            json_t *pv;
            json_object_foreach(v, pk, pv)
            {
                if (!check_schema(pv, defs, depth + 1))
                    return 0;
            }
        } else if (!strcmp(k, "allOf") || !strcmp(k, "anyOf") || !strcmp(k, "oneOf") ||
                   !strcmp(k, "prefixItems")) {
            size_t i;
            json_t *m;
            if (!json_is_array(v) || json_array_size(v) == 0)
                return bad("is not a non-empty array", k);
            json_array_foreach(v, i, m)
            {
                if (!check_schema(m, defs, depth + 1))
                    return 0;
            }
        } else if (!strcmp(k, "items") || !strcmp(k, "additionalProperties") || !strcmp(k, "not") ||
                   !strcmp(k, "if") || !strcmp(k, "then") || !strcmp(k, "else") ||
                   !strcmp(k, "contains") || !strcmp(k, "propertyNames")) {
            if (!check_schema(v, defs, depth + 1))
                return 0;
        } else if (!strcmp(k, "type")) {
            if (!json_is_string(v) && !json_is_array(v))
                return bad("type is neither a string nor an array", "");
        } else if (!strcmp(k, "exclusiveMaximum") || !strcmp(k, "exclusiveMinimum")) {
            if (!json_is_number(v))
                return bad("boolean left", k);
        }
    }
    return 1;
}

static int check_tool(json_t *t, json_t *names)
{
    const char *name = json_string_value(json_object_get(t, "name"));
    if (!name || !valid_name(name))
        return bad("invalid tool name", name ? name : "(none)");
    if (json_object_get(names, name))
        return bad("duplicate tool name", name);
    json_object_set_new(names, name, json_true());
    json_t *in = json_object_get(t, "inputSchema");
    if (!json_is_object(in) || !json_is_string(json_object_get(in, "type")) ||
        strcmp(json_string_value(json_object_get(in, "type")), "object") != 0)
        return bad("inputSchema root is not type object", name);
    json_t *props = json_object_get(in, "properties");
    if (!json_is_object(props))
        return bad("inputSchema has no properties object", name);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(in, "required"), i, r)
    {
        if (!json_object_get(props, json_string_value(r)))
            return bad("a required argument is not a property", name);
    }
    json_t *defs = json_object_get(in, "$defs");
    if (!check_schema(in, defs, 0))
        return 0;
    json_t *args = json_object_get(json_object_get(t, "binding"), "args");
    size_t nargs = 0;
    json_array_foreach(args, i, r)
    {
        const char *a = json_string_value(json_object_get(r, "arg"));
        if (a) {
            nargs++;
            if (!json_object_get(props, a))
                return bad("an arg has no property", name);
        } else if (!json_object_get(r, "source")) {
            return bad("an args entry has neither arg nor source", name);
        }
    }
    if (nargs != json_object_size(props))
        return bad("properties and args differ", name);
    /* every {variable} of the path template has a path argument (what the executor expands) */
    const char *tmpl = json_string_value(json_object_get(json_object_get(t, "binding"), "path"));
    for (const char *p = tmpl ? strchr(tmpl, '{') : NULL; p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        if (!close)
            return bad("unclosed path template", name);
        int found = 0;
        json_array_foreach(args, i, r)
        {
            const char *loc = json_string_value(json_object_get(r, "in"));
            const char *w = json_string_value(json_object_get(r, "name"));
            if (loc && w && !strcmp(loc, "path") && strlen(w) == (size_t)(close - p - 1) &&
                !strncmp(w, p + 1, (size_t)(close - p - 1)))
                found = 1;
        }
        if (!found)
            return bad("a path template variable has no path argument", name);
    }
    json_t *out = json_object_get(t, "outputSchema");
    if (out) {
        if (!json_is_object(out) ||
            strcmp(or_empty(json_string_value(json_object_get(out, "type"))), "object") != 0)
            return bad("outputSchema root is not type object", name);
        if (!check_schema(out, json_object_get(out, "$defs"), 0))
            return 0;
    }
    /* must serialise (no cycles in the jansson graph) */
    char *js = json_dumps(t, JSON_COMPACT);
    if (!js)
        return bad("does not serialise", name);
    free(js);
    return 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_corpus(void **state)
{
    (void)state;
    const char *dir = corpus_dir();
    struct stat st;
    if (stat(dir, &st) != 0) {
        printf("# corpus %s absent: skipped\n", dir);
        skip();
    }
    collect(dir, 0);
    qsort(specs, nspecs, sizeof(char *), cmp_str);
    assert_true(nspecs >= 40);
    size_t ncorpus = nspecs;
    char edge[4096];
    const char *srcdir = getenv("GW_SOURCE_DIR");
    snprintf(edge, sizeof(edge), "%s/tests/data/openapi", srcdir ? srcdir : ".");
    collect(edge, 0);
    qsort(specs + ncorpus, nspecs - ncorpus, sizeof(char *), cmp_str);
    const char *bdir = getenv("GW_BINARY_DIR");
    char mdpath[4096], toolspath[4096];
    snprintf(mdpath, sizeof(mdpath), "%s/openapi-corpus.md", bdir ? bdir : ".");
    snprintf(toolspath, sizeof(toolspath), "%s/openapi-corpus-tools.json", bdir ? bdir : ".");
    FILE *md = fopen(mdpath, "w");
    assert_non_null(md);
    fprintf(md, "| spec | dialect | operations | tools | excluded | skipped | degraded | "
                "warnings | ms |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    json_t *alltools = json_object();
    json_t *notes = json_array();
    size_t complete = 0, failed = 0, total_ops = 0, total_tools = 0, total_abbreviated = 0;
    printf("%-58s %-12s %6s %6s %5s %5s %5s %8s\n", "spec", "dialect", "ops", "tools", "skip",
           "degr", "warn", "ms");
    for (size_t i = 0; i < nspecs; i++) {
        const char *rel = i < ncorpus ? specs[i] + strlen(dir) + 1
                                      : specs[i] + strlen(edge) - strlen("tests/data/openapi");
        struct gw_openapi_options o;
        gw_openapi_options_init(&o);
        struct gw_openapi_result r;
        struct gw_error err;
        double t0 = now_ms();
        int rc = gw_openapi_import_file(specs[i], &o, &r, &err);
        double ms = now_ms() - t0;
        if (rc != GW_OK) {
            printf("%-58.58s FAILED %s\n", rel, err.msg);
            fprintf(md, "| %s | - | - | - | - | - | - | - | FAILED: %s |\n", rel, err.msg);
            failed++;
            continue;
        }
        json_t *names = json_object();
        size_t j;
        json_t *t;
        problem[0] = '\0';
        json_array_foreach(r.tools, j, t)
        {
            if (!check_tool(t, names))
                break;
        }
        json_decref(names);
        if (problem[0])
            fail_msg("%s: %s", rel, problem);
        /* complete: nothing skipped, nothing degraded but for input schemas abbreviated to
         * their size budget (counted apart: the tool is whole, only deep nesting is stubbed) */
        size_t abbreviated = 0, other_degraded = 0;
        json_array_foreach(r.warnings, j, t)
        {
            const char *lvl = json_string_value(json_object_get(t, "level"));
            const char *code = json_string_value(json_object_get(t, "code"));
            if (lvl && !strcmp(lvl, "degraded")) {
                if (code && !strcmp(code, "input_schema_abbreviated"))
                    abbreviated++;
                else
                    other_degraded++;
            }
        }
        total_abbreviated += abbreviated;
        bool is_complete = r.skipped == 0 && other_degraded == 0;
        complete += is_complete;
        total_ops += r.operations;
        total_tools += r.tools_count;
        printf("%-58.58s %-12s %6zu %6zu %5zu %5zu %5zu %8.1f\n", rel, r.dialect, r.operations,
               r.tools_count, r.skipped, r.degraded, json_array_size(r.warnings), ms);
        fprintf(md, "| %s | %s | %zu | %zu | %zu | %zu | %zu | %zu | %.1f |\n", rel, r.dialect,
                r.operations, r.tools_count, r.excluded, r.skipped, r.degraded,
                json_array_size(r.warnings), ms);
        json_array_foreach(r.warnings, j, t)
        {
            const char *lvl = json_string_value(json_object_get(t, "level"));
            if (lvl && strcmp(lvl, "info") != 0) {
                json_t *n = json_deep_copy(t);
                json_object_set_new(n, "spec", json_string(rel));
                json_array_append_new(notes, n);
            }
        }
        json_object_set(alltools, rel, r.tools);
        gw_openapi_result_fini(&r);
    }
    fprintf(md,
            "\nTotal: %zu specs, %zu import completely, %zu failed; %zu operations, %zu "
            "tools; %zu input schemas abbreviated to the size budget.\n",
            nspecs, complete, failed, total_ops, total_tools, total_abbreviated);
    if (json_array_size(notes)) {
        fprintf(md, "\nWarnings of partial imports:\n\n");
        size_t j;
        json_t *n;
        json_array_foreach(notes, j, n)
        {
            fprintf(md, "- %s `%s` (%s): %s\n", json_string_value(json_object_get(n, "spec")),
                    or_empty(json_string_value(json_object_get(n, "operation"))),
                    json_string_value(json_object_get(n, "level")),
                    json_string_value(json_object_get(n, "message")));
        }
    }
    fclose(md);
    /* through the platform's writer: big numbers are written as the numbers they are */
    char *alltext = gw_json_dumps(alltools);
    FILE *tf = fopen(toolspath, "w");
    assert_non_null(tf);
    fputs(alltext, tf);
    fclose(tf);
    gw_free(alltext);
    json_decref(alltools);
    json_decref(notes);
    printf("# %zu specs (%zu of the corpus, %zu of tests/data/openapi): %zu imported (%.1f%%), "
           "%zu complete, %zu failed, %zu operations, %zu tools (%zu input schemas abbreviated "
           "to the size budget); table in %s\n",
           nspecs, ncorpus, nspecs - ncorpus, nspecs - failed,
           nspecs ? 100.0 * (double)(nspecs - failed) / (double)nspecs : 0.0, complete, failed,
           total_ops, total_tools, total_abbreviated, mdpath);
    assert_int_equal(failed, 0);
    assert_true(complete * 100 >= nspecs * 98);
    for (size_t i = 0; i < nspecs; i++)
        free(specs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_corpus)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
