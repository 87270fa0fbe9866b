/*
 * tests/unit/openapi/test_openapi_edge.c
 * The failure classes of real-world specs (issue 15), fixed in general and degrading with a
 * warning that names the place in the spec:
 *   - RFC 6570 operators in path templates ({+name}, {name*}, {.fmt}, {;id}, {?q}, {x,y},
 *     {x:3}) mapped to argument styles, and template variables the spec never declares;
 *   - two paths that differ only in the names of their template variables: imported once;
 *   - integers beyond 64 bits (and reals beyond double range) in examples, defaults, enums and
 *     bounds: the spec imports and the numbers stay exact;
 *   - empty or missing titles: a spec id from the file name, else the server, else a hash.
 * Uses the spec files of tests/data/openapi/edge/ (GW_SOURCE_DIR) and inline specs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/json.h"
#include "openapi/openapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct gw_openapi_result res;

static void import_file(const char *name)
{
    char path[4096];
    const char *src = getenv("GW_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/tests/data/openapi/edge/%s", src ? src : ".", name);
    gw_openapi_result_fini(&res);
    struct gw_error err;
    if (gw_openapi_import_file(path, NULL, &res, &err) != GW_OK)
        fail_msg("import of %s failed: %s", name, err.msg);
}

static void import_text(const char *text, const char *base)
{
    gw_openapi_result_fini(&res);
    struct gw_error err;
    if (gw_openapi_import_buffer(text, strlen(text), base, NULL, &res, &err) != GW_OK)
        fail_msg("import failed: %s", err.msg);
}

static json_t *tool(const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(res.tools, i, t)
    {
        if (!strcmp(json_string_value(json_object_get(t, "name")), name))
            return t;
    }
    fail_msg("no tool named %s", name);
    return NULL;
}

static const char *bpath(json_t *t)
{
    return json_string_value(json_object_get(json_object_get(t, "binding"), "path"));
}

static json_t *arg(json_t *t, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(json_object_get(t, "binding"), "args"), i, a)
    {
        const char *v = json_string_value(json_object_get(a, "name"));
        if (v && !strcmp(v, name))
            return a;
    }
    fail_msg("no argument %s", name);
    return NULL;
}

static const char *s(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The warnings with `code`, counted; the first one's operation and level into out params. */
static size_t warnings(const char *code, const char **op, const char **level)
{
    size_t n = 0, i;
    json_t *w;
    json_array_foreach(res.warnings, i, w)
    {
        if (strcmp(s(w, "code"), code) != 0)
            continue;
        if (n++ == 0) {
            if (op)
                *op = s(w, "operation");
            if (level)
                *level = s(w, "level");
        }
    }
    return n;
}

static void test_rfc6570_path_operators(void **state)
{
    (void)state;
    import_file("reserved-expansion.yaml");
    assert_int_equal(res.tools_count, 6);
    assert_int_equal(res.skipped, 0);
    assert_int_equal(res.degraded, 0);
    json_t *t = tool("operations_cancel");
    assert_string_equal(bpath(t), "/v1/{name}:cancel");
    assert_true(json_is_true(json_object_get(arg(t, "name"), "allowReserved")));
    /* identity keeps the spec's own path */
    assert_string_equal(s(json_object_get(t, "source"), "path"), "/v1/{+name}:cancel");
    t = tool("files_get");
    assert_string_equal(bpath(t), "/files/{path}");
    assert_true(json_is_true(json_object_get(arg(t, "path"), "explode")));
    t = tool("reports_get");
    assert_string_equal(bpath(t), "/reports{format}");
    assert_string_equal(s(arg(t, "format"), "style"), "label");
    t = tool("cars_list");
    assert_string_equal(s(arg(t, "color"), "style"), "matrix");
    t = tool("search_run");
    assert_string_equal(bpath(t), "/search");
    assert_string_equal(s(arg(t, "q"), "in"), "query");
    assert_string_equal(s(arg(t, "q"), "style"), "form");
    const char *op = NULL, *level = NULL;
    assert_int_equal(warnings("path_template_operator", &op, &level), 6);
    assert_string_equal(op, "POST /v1/{+name}:cancel");
    assert_string_equal(level, "info");
}

static void test_undeclared_and_odd_templates(void **state)
{
    (void)state;
    import_text(
        "{\"openapi\":\"3.0.0\",\"info\":{\"title\":\"T\",\"version\":\"1\"},"
        "\"paths\":{"
        "\"/a/{x}/b/{y}\":{\"get\":{\"operationId\":\"getAB\",\"parameters\":[{\"name\":"
        "\"y\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"integer\"}}],"
        "\"responses\":{\"200\":{\"description\":\"ok\"}}}},"
        "\"/c/{p,q}\":{\"get\":{\"operationId\":\"getC\",\"parameters\":["
        "{\"name\":\"p\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}},"
        "{\"name\":\"q\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}],"
        "\"responses\":{\"200\":{\"description\":\"ok\"}}}},"
        "\"/d/{code:3}\":{\"get\":{\"operationId\":\"getD\",\"parameters\":["
        "{\"name\":\"code\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}],"
        "\"responses\":{\"200\":{\"description\":\"ok\"}}}},"
        "\"/e/{oops\":{\"get\":{\"operationId\":\"getE\","
        "\"responses\":{\"200\":{\"description\":\"ok\"}}}}}}",
        NULL);
    /* {x} is not declared: a required string argument, degraded with the place named */
    json_t *t = tool("get_ab");
    json_t *x = arg(t, "x");
    assert_string_equal(s(x, "in"), "path");
    assert_true(json_is_true(json_object_get(x, "required")));
    json_t *props = json_object_get(json_object_get(t, "inputSchema"), "properties");
    assert_string_equal(s(json_object_get(props, "x"), "type"), "string");
    /* path arguments stay first; an undeclared one follows the declared ones */
    json_t *args = json_object_get(json_object_get(t, "binding"), "args");
    assert_string_equal(s(json_array_get(args, 0), "name"), "y");
    assert_string_equal(s(json_array_get(args, 1), "name"), "x");
    const char *op = NULL, *level = NULL;
    assert_int_equal(warnings("path_parameter_undeclared", &op, &level), 1);
    assert_string_equal(op, "GET /a/{x}/b/{y}");
    assert_string_equal(level, "degraded");
    /* a variable list */
    assert_string_equal(bpath(tool("get_c")), "/c/{p},{q}");
    /* a prefix modifier cannot be applied: degraded */
    assert_string_equal(bpath(tool("get_d")), "/d/{code}");
    assert_int_equal(warnings("path_template_prefix", &op, &level), 1);
    assert_string_equal(level, "degraded");
    /* a malformed template: that operation only is skipped, with the reason */
    assert_int_equal(res.skipped, 1);
    assert_int_equal(res.tools_count, 3);
    assert_int_equal(res.degraded, 2);
}

static void test_duplicate_templated_paths(void **state)
{
    (void)state;
    import_file("duplicate-templates.json");
    assert_int_equal(res.operations, 7);
    assert_int_equal(res.tools_count, 5);
    assert_int_equal(res.skipped, 0);
    assert_int_equal(res.excluded, 2);
    /* the first path wins; the other method of the second path item is kept */
    assert_string_equal(bpath(tool("get_user")), "/users/{id}");
    assert_string_equal(bpath(tool("delete_user")), "/users/{userId}");
    /* a trailing slash is another URL: kept */
    assert_string_equal(bpath(tool("get_user_slash")), "/users/{user_id}/");
    assert_string_equal(bpath(tool("get_member")), "/orgs/{org}/members/{member}");
    assert_string_equal(bpath(tool("put_org_member")), "/orgs/{o}/members/{m}");
    const char *op = NULL, *level = NULL;
    assert_int_equal(warnings("duplicate_path", &op, &level), 2);
    assert_string_equal(op, "GET /users/{userId}");
    assert_string_equal(level, "info");
}

static void test_big_integers(void **state)
{
    (void)state;
    import_file("big-integers.json");
    assert_int_equal(res.tools_count, 2);
    assert_int_equal(res.degraded, 0);
    char *text = gw_json_dumps(res.tools);
    assert_non_null(strstr(text, "\"maximum\":18446744073709551615"));
    assert_non_null(strstr(text, "\"examples\":[18446744073709551615]"));
    assert_non_null(strstr(text, "123456789012345678901234567890"));
    assert_non_null(strstr(text, "\"default\":340282366920938463463374607431768211455"));
    assert_non_null(strstr(text, "99999999999999999999999999"));
    assert_non_null(strstr(text, "1e400"));
    assert_non_null(strstr(text, "73.7389"));
    assert_null(strstr(text, "73.738900000000001"));
    gw_free(text);
    /* the same in YAML */
    import_text("openapi: 3.0.0\ninfo: {title: Y, version: '1'}\npaths:\n  /n:\n    get:\n"
                "      operationId: getN\n      parameters:\n        - name: n\n          in: "
                "query\n          schema: {type: integer, example: 123456789012345678901234567890, "
                "maximum: 18446744073709551615}\n      responses: {'200': {description: ok}}\n",
                NULL);
    text = gw_json_dumps(res.tools);
    assert_non_null(strstr(text, "\"maximum\":18446744073709551615"));
    assert_non_null(strstr(text, "[123456789012345678901234567890]"));
    gw_free(text);
}

static const char *spec_id(void)
{
    return s(res.spec, "id");
}

static void test_spec_ids(void **state)
{
    (void)state;
    import_file("empty-title.yaml");
    assert_string_equal(spec_id(), "empty-title");
    assert_string_equal(s(json_object_get(json_array_get(res.tools, 0), "source"), "specId"),
                        "empty-title");
    assert_string_equal(s(res.spec, "upstream"), "empty_title");
    import_file("no-title-swagger.json");
    assert_string_equal(spec_id(), "no-title-swagger");
    /* a title wins */
    import_file("duplicate-templates.json");
    assert_string_equal(spec_id(), "duplicate-templates");
    const char *empty = "{\"openapi\":\"3.0.0\",\"info\":{\"title\":\" \",\"version\":\"1\"},"
                        "\"servers\":[{\"url\":\"https://Inventory.Example.com/api/v2/\"}],"
                        "\"paths\":{\"/a\":{\"get\":{\"responses\":{\"200\":{\"description\":"
                        "\"ok\"}}}}}}";
    /* a generic file name: the server names the API */
    import_text(empty, "https://specs.example.org/openapi.json?v=1");
    assert_string_equal(spec_id(), "inventory.example.com-api-v2");
    /* a telling file name wins over the server */
    import_text(empty, "https://specs.example.org/stock-ledger.v3.json");
    assert_string_equal(spec_id(), "stock-ledger.v3");
    /* no file name, no server: a hash of the paths, stable */
    import_text("{\"swagger\":\"2.0\",\"info\":{\"version\":\"1\"},\"paths\":{\"/z\":{\"get\":"
                "{\"responses\":{\"200\":{\"description\":\"ok\"}}}}}}",
                NULL);
    const char *h = spec_id();
    assert_true(!strncmp(h, "spec-", 5) && strlen(h) == 13);
    char keep[16];
    snprintf(keep, sizeof(keep), "%s", h);
    import_text("{\"swagger\":\"2.0\",\"info\":{\"version\":\"2\"},\"paths\":{\"/z\":{\"get\":"
                "{\"responses\":{\"200\":{\"description\":\"ok\"}}}}}}",
                NULL);
    assert_string_equal(spec_id(), keep);
}

static int teardown(void **state)
{
    (void)state;
    gw_openapi_result_fini(&res);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_rfc6570_path_operators, teardown),
        cmocka_unit_test_teardown(test_undeclared_and_odd_templates, teardown),
        cmocka_unit_test_teardown(test_duplicate_templated_paths, teardown),
        cmocka_unit_test_teardown(test_big_integers, teardown),
        cmocka_unit_test_teardown(test_spec_ids, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
