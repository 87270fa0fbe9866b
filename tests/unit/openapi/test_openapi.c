/*
 * tests/unit/openapi/test_openapi.c
 * The importer on small specs written for one behaviour each: argument collisions, path-level
 * parameter merging, cyclic and mutually recursive schemas ($defs), Swagger 2 body and
 * formData, 3.0 nullable / boolean exclusive bounds, 3.1 type arrays and $ref siblings, the
 * x-mcp extension, security schemes and credential parameters, servers, output schemas, names
 * (camelCase, collisions, 64-character cap, names from paths), description trimming,
 * multi-file specs and path traversal, URL refs when disabled, bad input (not a spec, wrong
 * version, dangling $ref), limits, progress, and the re-import diff.
 * Multi-file fixtures are written to a fresh temporary folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "openapi/openapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------- helpers ---------------- */

static struct gw_openapi_result res;

static int import_text(const char *text, const struct gw_openapi_options *o, struct gw_error *err)
{
    gw_openapi_result_fini(&res);
    return gw_openapi_import_buffer(text, strlen(text), NULL, o, &res, err);
}

static void import_ok(const char *text, const struct gw_openapi_options *o)
{
    struct gw_error err;
    int rc = import_text(text, o, &err);
    if (rc != GW_OK)
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

static json_t *prop(json_t *t, const char *arg)
{
    return json_object_get(json_object_get(json_object_get(t, "inputSchema"), "properties"), arg);
}

/* The args entry with the given argument name, or with the given wire name when arg is
 * NULL-sourced. */
static json_t *arg_entry(json_t *t, const char *key, const char *value)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(json_object_get(t, "binding"), "args"), i, a)
    {
        const char *v = json_string_value(json_object_get(a, key));
        if (v && !strcmp(v, value))
            return a;
    }
    return NULL;
}

static const char *s(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static bool required_has(json_t *t, const char *arg)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(json_object_get(t, "inputSchema"), "required"), i, r)
    {
        if (!strcmp(json_string_value(r), arg))
            return true;
    }
    return false;
}

static json_t *warning_with(const char *code)
{
    size_t i;
    json_t *w;
    json_array_foreach(res.warnings, i, w)
    {
        if (!strcmp(s(w, "code"), code))
            return w;
    }
    return NULL;
}

static char tmpdir[256];

static void write_file(const char *rel, const char *content)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    for (char *p = path + strlen(tmpdir) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0700);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/gw-openapi-test-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gw_openapi_result_fini(&res);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---------------- tests ---------------- */

static void test_collisions_and_merge(void **state)
{
    (void)state;
    import_ok("openapi: 3.0.3\n"
              "info: {title: Things, version: '1'}\n"
              "paths:\n"
              "  /things/{id}:\n"
              "    parameters:\n"
              "      - {name: id, in: path, required: true, schema: {type: string}}\n"
              "      - {name: verbose, in: query, schema: {type: boolean}, description: path}\n"
              "    put:\n"
              "      operationId: replaceThing\n"
              "      parameters:\n"
              "        - {name: id, in: query, schema: {type: integer}}\n"
              "        - {name: id, in: header, schema: {type: string}}\n"
              "        - {name: verbose, in: query, schema: {type: integer}, description: op}\n"
              "        - {name: 'filter[status]', in: query, schema: {type: string}}\n"
              "      requestBody:\n"
              "        required: true\n"
              "        content:\n"
              "          application/json:\n"
              "            schema:\n"
              "              type: object\n"
              "              required: [id, name]\n"
              "              properties:\n"
              "                id: {type: string, readOnly: true}\n"
              "                name: {type: string}\n"
              "                verbose: {type: string}\n"
              "      responses: {'200': {description: ok}}\n",
              NULL);
    json_t *t = tool("replace_thing");
    /* path id keeps its name; the others get their location as suffix */
    assert_string_equal(s(arg_entry(t, "arg", "id"), "in"), "path");
    assert_string_equal(s(arg_entry(t, "arg", "id_query"), "in"), "query");
    assert_string_equal(s(arg_entry(t, "arg", "id_header"), "in"), "header");
    assert_string_equal(s(arg_entry(t, "arg", "id_header"), "name"), "id");
    /* operation-level verbose replaced the path-level one (no duplicate) */
    assert_string_equal(s(prop(t, "verbose"), "type"), "integer");
    assert_string_equal(s(prop(t, "verbose"), "description"), "op");
    /* body property named like a parameter */
    assert_string_equal(s(arg_entry(t, "arg", "verbose_body"), "name"), "verbose");
    assert_string_equal(s(arg_entry(t, "arg", "verbose_body"), "in"), "body");
    /* readOnly body properties are not inputs */
    assert_null(arg_entry(t, "arg", "id_body"));
    assert_true(required_has(t, "name"));
    assert_true(required_has(t, "id"));
    assert_false(required_has(t, "id_query"));
    /* sanitised argument name, wire name kept */
    assert_string_equal(s(arg_entry(t, "arg", "filter_status_"), "name"), "filter[status]");
    assert_string_equal(s(json_object_get(json_object_get(t, "binding"), "body"), "contentType"),
                        "application/json");
    assert_int_equal(json_array_size(json_object_get(json_object_get(t, "binding"), "args")), 7);
    assert_int_equal(
        json_object_size(json_object_get(json_object_get(t, "inputSchema"), "properties")), 7);
    /* PUT: idempotent, write */
    json_t *ann = json_object_get(t, "annotations");
    assert_true(json_is_true(json_object_get(ann, "idempotentHint")));
    assert_false(json_is_true(json_object_get(ann, "readOnlyHint"))); /* default: false */
    assert_true(json_is_false(json_object_get(ann, "destructiveHint")));
    assert_null(json_object_get(ann, "openWorldHint")); /* MCP's default, not repeated */
    assert_string_equal(s(t, "risk"), "write");
}

static void test_cyclic_refs(void **state)
{
    (void)state;
    import_ok("openapi: 3.0.0\n"
              "info: {title: Trees, version: '1'}\n"
              "paths:\n"
              "  /trees:\n"
              "    post:\n"
              "      operationId: createTree\n"
              "      requestBody:\n"
              "        content:\n"
              "          application/json:\n"
              "            schema: {$ref: '#/components/schemas/Node'}\n"
              "      responses:\n"
              "        '201':\n"
              "          description: made\n"
              "          content:\n"
              "            application/json:\n"
              "              schema: {$ref: '#/components/schemas/A'}\n"
              "components:\n"
              "  schemas:\n"
              "    Node:\n"
              "      type: object\n"
              "      properties:\n"
              "        value: {type: string}\n"
              "        children: {type: array, items: {$ref: '#/components/schemas/Node'}}\n"
              "        self: {$ref: '#/components/schemas/Node'}\n"
              "    A:\n"
              "      type: object\n"
              "      properties: {b: {$ref: '#/components/schemas/B'}}\n"
              "    B:\n"
              "      type: object\n"
              "      properties: {a: {$ref: '#/components/schemas/A'}, n: {type: integer}}\n",
              NULL);
    json_t *t = tool("create_tree");
    json_t *in = json_object_get(t, "inputSchema");
    /* the body root is flattened; its recursive parts point into $defs */
    assert_string_equal(s(json_object_get(prop(t, "children"), "items"), "$ref"), "#/$defs/Node");
    assert_string_equal(s(prop(t, "self"), "$ref"), "#/$defs/Node");
    json_t *node = json_object_get(json_object_get(in, "$defs"), "Node");
    assert_non_null(node);
    assert_string_equal(
        s(json_object_get(json_object_get(json_object_get(node, "properties"), "children"),
                          "items"),
          "$ref"),
        "#/$defs/Node");
    /* mutual recursion in the output schema: finite, with $defs */
    json_t *out = json_object_get(t, "outputSchema");
    assert_string_equal(s(out, "type"), "object");
    char *dump = json_dumps(t, JSON_COMPACT);
    assert_non_null(dump);
    assert_true(strlen(dump) < 4000);
    free(dump);
    json_t *defs = json_object_get(out, "$defs");
    assert_non_null(defs);
    assert_true(json_object_get(defs, "A") || json_object_get(defs, "B"));
    assert_int_equal(res.skipped, 0);
}

static void test_swagger2_body_and_formdata(void **state)
{
    (void)state;
    import_ok("swagger: '2.0'\n"
              "info: {title: Pets, version: 1.0}\n"
              "host: pets.example\n"
              "basePath: /v1\n"
              "schemes: [http, https]\n"
              "consumes: [application/json]\n"
              "paths:\n"
              "  /pets/{petId}/photo:\n"
              "    post:\n"
              "      operationId: uploadPhoto\n"
              "      consumes: [multipart/form-data]\n"
              "      parameters:\n"
              "        - {name: petId, in: path, required: true, type: integer}\n"
              "        - {name: file, in: formData, type: file, required: true}\n"
              "        - {name: caption, in: formData, type: string, maxLength: 80}\n"
              "        - {name: tags, in: query, type: array, items: {type: string},\n"
              "           collectionFormat: multi}\n"
              "        - {name: ids, in: query, type: array, items: {type: integer},\n"
              "           collectionFormat: pipes}\n"
              "      responses: {'200': {description: ok}}\n"
              "  /pets:\n"
              "    post:\n"
              "      operationId: addPet\n"
              "      parameters:\n"
              "        - in: body\n"
              "          name: pet\n"
              "          required: true\n"
              "          schema: {$ref: '#/definitions/Pet'}\n"
              "      responses:\n"
              "        '200': {description: ok, schema: {$ref: '#/definitions/Pet'}}\n"
              "    put:\n"
              "      operationId: updatePets\n"
              "      parameters:\n"
              "        - {in: body, name: pets, schema: {type: array, items: {$ref: "
              "'#/definitions/Pet'}}}\n"
              "      responses: {'200': {description: ok, schema: {type: array, items: {}}}}\n"
              "definitions:\n"
              "  Pet:\n"
              "    type: object\n"
              "    required: [name]\n"
              "    properties:\n"
              "      name: {type: string, x-nullable: true}\n"
              "      age: {type: integer, minimum: 0, exclusiveMinimum: true}\n",
              NULL);
    assert_string_equal(res.dialect, "swagger-2.0");
    json_t *t = tool("upload_photo");
    json_t *b = json_object_get(t, "binding");
    assert_string_equal(s(json_object_get(b, "body"), "contentType"), "multipart/form-data");
    assert_string_equal(s(arg_entry(t, "arg", "file"), "in"), "body");
    assert_string_equal(s(prop(t, "file"), "format"), "binary");
    assert_string_equal(s(prop(t, "file"), "type"), "string");
    assert_true(required_has(t, "file"));
    assert_int_equal(json_integer_value(json_object_get(prop(t, "caption"), "maxLength")), 80);
    assert_string_equal(s(arg_entry(t, "arg", "tags"), "style"), "form");
    assert_true(json_is_true(json_object_get(arg_entry(t, "arg", "tags"), "explode")));
    assert_string_equal(s(arg_entry(t, "arg", "ids"), "style"), "pipeDelimited");
    /* servers from schemes + host + basePath, https first */
    json_t *servers = json_object_get(b, "servers");
    assert_string_equal(json_string_value(json_array_get(servers, 0)), "https://pets.example/v1");
    assert_string_equal(json_string_value(json_array_get(servers, 1)), "http://pets.example/v1");

    t = tool("add_pet");
    assert_string_equal(s(json_object_get(json_object_get(t, "binding"), "body"), "contentType"),
                        "application/json");
    assert_string_equal(s(arg_entry(t, "arg", "name"), "in"), "body");
    assert_true(required_has(t, "name"));
    /* x-nullable -> type array; boolean exclusiveMinimum -> numeric */
    json_t *type = json_object_get(prop(t, "name"), "type");
    assert_true(json_is_array(type));
    assert_string_equal(json_string_value(json_array_get(type, 1)), "null");
    assert_int_equal(json_integer_value(json_object_get(prop(t, "age"), "exclusiveMinimum")), 0);
    assert_null(json_object_get(prop(t, "age"), "minimum"));
    assert_string_equal(s(json_object_get(t, "outputSchema"), "type"), "object");
    /* array body: one whole-body argument; array response: no output schema */
    t = tool("update_pets");
    assert_string_equal(s(arg_entry(t, "arg", "body"), "in"), "body-whole");
    assert_string_equal(s(prop(t, "body"), "type"), "array");
    assert_null(json_object_get(t, "outputSchema"));
    /* info.version 1.0 (a YAML float) recorded as text */
    assert_string_equal(s(json_object_get(t, "source"), "specVersion"), "1");
}

static void test_schema_dialects(void **state)
{
    (void)state;
    const char *spec30 = "openapi: 3.0.1\n"
                         "info: {title: T, version: '1'}\n"
                         "paths:\n"
                         "  /x:\n"
                         "    get:\n"
                         "      operationId: getX\n"
                         "      parameters:\n"
                         "        - name: color\n"
                         "          in: query\n"
                         "          schema: {type: string, enum: [red, blue], nullable: true,\n"
                         "                   example: red, x-internal: yes, maximum: 5,\n"
                         "                   exclusiveMaximum: true}\n"
                         "        - name: anyref\n"
                         "          in: query\n"
                         "          schema:\n"
                         "            nullable: true\n"
                         "            allOf: [{$ref: '#/components/schemas/S'}]\n"
                         "        - name: sib\n"
                         "          in: query\n"
                         "          schema: {$ref: '#/components/schemas/S', description: "
                         "mine, maxLength: 3}\n"
                         "        - name: weird\n"
                         "          in: query\n"
                         "          schema: {type: [string, string], maxLength: -1, minimum: "
                         "'0', pattern: 5, maxItems: 3.0}\n"
                         "      responses: {'204': {description: none}}\n"
                         "components:\n"
                         "  schemas:\n"
                         "    S: {type: string, xml: {name: s}, externalDocs: {url: x}}\n";
    import_ok(spec30, NULL);
    json_t *t = tool("get_x");
    json_t *c = prop(t, "color");
    assert_true(json_is_array(json_object_get(c, "type")));
    assert_int_equal(json_array_size(json_object_get(c, "enum")), 3); /* null added */
    assert_null(json_object_get(c, "nullable"));
    assert_null(json_object_get(c, "example"));
    assert_null(json_object_get(c, "x-internal"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "examples"), 0)),
                        "red");
    assert_int_equal(json_integer_value(json_object_get(c, "exclusiveMaximum")), 5);
    /* nullable without type: anyOf with null */
    json_t *a = prop(t, "anyref");
    assert_non_null(json_object_get(a, "anyOf"));
    /* 3.0: $ref siblings other than annotations are ignored, description overlays */
    json_t *sib = prop(t, "sib");
    assert_string_equal(s(sib, "type"), "string");
    assert_string_equal(s(sib, "description"), "mine");
    assert_null(json_object_get(sib, "maxLength"));
    assert_null(json_object_get(sib, "xml"));
    assert_null(json_object_get(t, "outputSchema")); /* 204 only */
    /* values of the wrong type are dropped (and reported), duplicates removed */
    json_t *w = prop(t, "weird");
    assert_int_equal(json_array_size(json_object_get(w, "type")), 1);
    assert_null(json_object_get(w, "maxLength"));
    assert_null(json_object_get(w, "minimum"));
    assert_null(json_object_get(w, "pattern"));
    assert_non_null(json_object_get(w, "maxItems"));
    assert_non_null(warning_with("invalid_schema_parts"));
    assert_int_equal(res.degraded, 1);

    const char *spec31 = "openapi: 3.1.0\n"
                         "info: {title: T, version: '1'}\n"
                         "paths:\n"
                         "  /y:\n"
                         "    post:\n"
                         "      operationId: postY\n"
                         "      requestBody:\n"
                         "        content:\n"
                         "          application/json:\n"
                         "            schema:\n"
                         "              type: object\n"
                         "              properties:\n"
                         "                n: {type: [integer, 'null'], exclusiveMinimum: 0}\n"
                         "                s: {$ref: '#/components/schemas/S', maxLength: 3}\n"
                         "                t: {type: array, prefixItems: [{type: string}]}\n"
                         "                b: true\n"
                         "      responses: {'200': {description: ok}}\n"
                         "components:\n"
                         "  schemas:\n"
                         "    S: {type: string}\n";
    import_ok(spec31, NULL);
    assert_string_equal(res.dialect, "openapi-3.1");
    t = tool("post_y");
    json_t *n = prop(t, "n");
    assert_int_equal(json_array_size(json_object_get(n, "type")), 2);
    assert_int_equal(json_integer_value(json_object_get(n, "exclusiveMinimum")), 0);
    /* 3.1: a semantic sibling of $ref combines with allOf */
    json_t *all = json_object_get(prop(t, "s"), "allOf");
    assert_int_equal(json_array_size(all), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(all, 1), "maxLength")), 3);
    assert_non_null(json_object_get(prop(t, "t"), "prefixItems"));
    assert_true(json_is_true(prop(t, "b")));
}

static void test_x_mcp(void **state)
{
    (void)state;
    import_ok("openapi: 3.0.0\n"
              "info: {title: Bookings, version: '2'}\n"
              "x-mcp: {bundle: service-booking}\n"
              "paths:\n"
              "  /bookings:\n"
              "    post:\n"
              "      operationId: createBooking\n"
              "      x-mcp: {name: book_service, description: Books a slot., risk: privileged,\n"
              "              requiresConfirmation: true, title: Book a service}\n"
              "      responses: {'201': {description: ok}}\n"
              "    get:\n"
              "      operationId: listBookings\n"
              "      x-mcp: {exclude: true}\n"
              "      responses: {'200': {description: ok}}\n"
              "  /bookings/{id}:\n"
              "    x-mcp: {bundle: admin}\n"
              "    delete:\n"
              "      operationId: deleteBooking\n"
              "      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n"
              "      x-mcp: {requiresElevation: false, risk: bogus}\n"
              "      responses: {'204': {description: ok}}\n"
              "    get:\n"
              "      operationId: getBooking\n"
              "      x-mcp: false\n"
              "      responses: {'200': {description: ok}}\n",
              NULL);
    assert_int_equal(res.tools_count, 2);
    assert_int_equal(res.excluded, 2);
    json_t *t = tool("book_service");
    assert_string_equal(s(t, "description"), "Books a slot.");
    assert_string_equal(s(t, "title"), "Book a service");
    assert_string_equal(s(t, "risk"), "privileged");
    assert_true(json_is_true(json_object_get(t, "requiresConfirmation")));
    assert_true(json_is_true(json_object_get(t, "requiresElevation")));
    assert_string_equal(s(t, "bundle"), "service-booking");
    assert_string_equal(s(json_object_get(t, "source"), "operationId"), "createBooking");
    t = tool("delete_booking");
    assert_string_equal(s(t, "bundle"), "admin");
    assert_string_equal(s(t, "risk"), "privileged"); /* invalid x-mcp risk ignored */
    assert_true(json_is_false(json_object_get(t, "requiresElevation")));
    assert_true(json_is_true(json_object_get(t, "requiresConfirmation")));
    assert_true(
        json_is_true(json_object_get(json_object_get(t, "annotations"), "destructiveHint")));
    assert_non_null(warning_with("invalid_x_mcp"));
    assert_non_null(warning_with("excluded"));
}

static void test_security(void **state)
{
    (void)state;
    import_ok("openapi: 3.0.0\n"
              "info: {title: Sec, version: '1'}\n"
              "security: [{apiKeyAuth: []}]\n"
              "components:\n"
              "  securitySchemes:\n"
              "    apiKeyAuth: {type: apiKey, in: header, name: X-API-Key}\n"
              "    queryKey: {type: apiKey, in: query, name: api_key}\n"
              "    cookieKey: {type: apiKey, in: cookie, name: session}\n"
              "    bearer: {type: http, scheme: Bearer, bearerFormat: JWT}\n"
              "    basic: {type: http, scheme: basic}\n"
              "    oauth:\n"
              "      type: oauth2\n"
              "      flows:\n"
              "        authorizationCode: {authorizationUrl: 'https://a/auth', tokenUrl: "
              "'https://a/token', scopes: {}}\n"
              "        clientCredentials: {tokenUrl: 'https://a/token', scopes: {b.w: x}}\n"
              "    oidc: {type: openIdConnect, openIdConnectUrl: "
              "'https://a/.well-known/openid-configuration'}\n"
              "    mtls: {type: mutualTLS}\n"
              "paths:\n"
              "  /a:\n"
              "    get:\n"
              "      operationId: getA\n"
              "      parameters:\n"
              "        - {name: x-api-key, in: header, required: true, schema: {type: string}}\n"
              "        - {name: Authorization, in: header, schema: {type: string}}\n"
              "        - {name: api_key, in: query, schema: {type: string}}\n"
              "        - {name: session, in: cookie, schema: {type: string}}\n"
              "        - {name: X-Request-Id, in: header, schema: {type: string}}\n"
              "      responses: {'200': {description: ok}}\n"
              "  /b:\n"
              "    post:\n"
              "      operationId: postB\n"
              "      security:\n"
              "        - {oauth: [b.write], mtls: []}\n"
              "        - {bearer: []}\n"
              "        - {basic: [], oidc: [openid]}\n"
              "        - {}\n"
              "      responses: {'200': {description: ok}}\n"
              "  /c:\n"
              "    get:\n"
              "      operationId: getC\n"
              "      security: []\n"
              "      responses: {'200': {description: ok}}\n"
              "  /d:\n"
              "    get:\n"
              "      operationId: getD\n"
              "      security: [{nope: []}]\n"
              "      responses: {'200': {description: ok}}\n",
              NULL);
    json_t *t = tool("get_a");
    /* credentials are bound to the scheme, not asked from the caller */
    json_t *k = arg_entry(t, "name", "x-api-key");
    assert_string_equal(s(k, "source"), "credential");
    assert_string_equal(s(k, "scheme"), "apiKeyAuth");
    assert_null(json_object_get(k, "arg"));
    assert_null(prop(t, "x-api-key"));
    assert_string_equal(s(arg_entry(t, "name", "Authorization"), "source"), "credential");
    assert_string_equal(s(arg_entry(t, "name", "api_key"), "scheme"), "queryKey");
    assert_string_equal(s(arg_entry(t, "name", "session"), "scheme"), "cookieKey");
    /* an ordinary header stays an argument */
    assert_string_equal(s(arg_entry(t, "arg", "X-Request-Id"), "in"), "header");
    assert_non_null(prop(t, "X-Request-Id"));
    json_t *sec = json_object_get(json_object_get(t, "binding"), "security");
    assert_int_equal(json_array_size(sec), 1);
    assert_string_equal(s(json_array_get(sec, 0), "name"), "X-API-Key");

    t = tool("post_b");
    json_t *b = json_object_get(t, "binding");
    sec = json_object_get(b, "security");
    assert_int_equal(json_array_size(sec), 5);
    json_t *oauth = NULL, *bearer = NULL, *oidc = NULL, *mtls = NULL, *basic = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(sec, i, e)
    {
        const char *n = s(e, "scheme");
        if (!strcmp(n, "oauth"))
            oauth = e;
        else if (!strcmp(n, "bearer"))
            bearer = e;
        else if (!strcmp(n, "oidc"))
            oidc = e;
        else if (!strcmp(n, "mtls"))
            mtls = e;
        else if (!strcmp(n, "basic"))
            basic = e;
    }
    assert_string_equal(s(oauth, "flow"), "clientCredentials");
    assert_string_equal(s(oauth, "tokenUrl"), "https://a/token");
    assert_string_equal(json_string_value(json_array_get(json_object_get(oauth, "scopes"), 0)),
                        "b.write");
    assert_int_equal(json_array_size(json_object_get(oauth, "flows")), 2);
    assert_string_equal(s(bearer, "httpScheme"), "bearer");
    assert_string_equal(s(bearer, "bearerFormat"), "JWT");
    assert_string_equal(s(basic, "httpScheme"), "basic");
    assert_string_equal(s(oidc, "type"), "openIdConnect");
    assert_non_null(s(oidc, "openIdConnectUrl"));
    assert_string_equal(s(mtls, "type"), "mutualTLS");
    json_t *reqs = json_object_get(b, "securityRequirements");
    assert_int_equal(json_array_size(reqs), 4);
    assert_int_equal(json_array_size(json_array_get(reqs, 0)), 2);
    assert_int_equal(json_array_size(json_array_get(reqs, 3)), 0); /* anonymous allowed */
    /* security: [] turns the global requirement off */
    assert_null(json_object_get(json_object_get(tool("get_c"), "binding"), "security"));
    tool("get_d");
    assert_non_null(warning_with("unknown_security_scheme"));
}

static void test_servers(void **state)
{
    (void)state;
    const char *spec = "openapi: 3.0.0\n"
                       "info: {title: Srv, version: '1'}\n"
                       "servers:\n"
                       "  - url: 'https://{region}.api.example/{base}/'\n"
                       "    variables:\n"
                       "      region: {default: eu, enum: [eu, us]}\n"
                       "      base: {default: v2}\n"
                       "  - url: /relative\n"
                       "paths:\n"
                       "  /a:\n"
                       "    servers: [{url: 'https://path.example'}]\n"
                       "    get: {operationId: getA, responses: {'200': {description: ok}}}\n"
                       "    post:\n"
                       "      operationId: postA\n"
                       "      servers: [{url: 'https://op.example'}]\n"
                       "      responses: {'200': {description: ok}}\n"
                       "  /b:\n"
                       "    get: {operationId: getB, responses: {'200': {description: ok}}}\n";
    struct gw_error err;
    gw_openapi_result_fini(&res);
    /* relative servers resolve against the spec's URL */
    assert_int_equal(gw_openapi_import_buffer(spec, strlen(spec),
                                              "https://specs.example/apis/srv.yaml", NULL, &res,
                                              &err),
                     GW_OK);
    json_t *sv = json_object_get(json_object_get(tool("get_b"), "binding"), "servers");
    assert_string_equal(json_string_value(json_array_get(sv, 0)), "https://eu.api.example/v2");
    assert_string_equal(json_string_value(json_array_get(sv, 1)), "https://specs.example/relative");
    sv = json_object_get(json_object_get(tool("get_a"), "binding"), "servers");
    assert_string_equal(json_string_value(json_array_get(sv, 0)), "https://path.example");
    sv = json_object_get(json_object_get(tool("post_a"), "binding"), "servers");
    assert_string_equal(json_string_value(json_array_get(sv, 0)), "https://op.example");
    /* without a base, relative stays relative; upstream from the title */
    import_ok(spec, NULL);
    sv = json_object_get(json_object_get(tool("get_b"), "binding"), "servers");
    assert_string_equal(json_string_value(json_array_get(sv, 1)), "/relative");
    assert_string_equal(s(json_object_get(tool("get_b"), "binding"), "upstream"), "srv");
    /* options override upstream, bundle, spec id */
    struct gw_openapi_options o;
    gw_openapi_options_init(&o);
    o.upstream = "apim-dms";
    o.bundle = "dms";
    o.spec_id = "spec-42";
    import_ok(spec, &o);
    assert_string_equal(s(json_object_get(tool("get_b"), "binding"), "upstream"), "apim-dms");
    assert_string_equal(s(tool("get_b"), "bundle"), "dms");
    assert_string_equal(s(json_object_get(tool("get_b"), "source"), "specId"), "spec-42");
    /* Swagger 2 without host: the spec URL's host */
    const char *sw = "swagger: '2.0'\ninfo: {title: S, version: '1'}\nbasePath: /api\n"
                     "paths: {/p: {get: {responses: {'200': {description: ok}}}}}\n";
    gw_openapi_result_fini(&res);
    assert_int_equal(gw_openapi_import_buffer(sw, strlen(sw), "http://host.example:8080/s.json",
                                              NULL, &res, &err),
                     GW_OK);
    sv = json_object_get(json_object_get(json_array_get(res.tools, 0), "binding"), "servers");
    assert_string_equal(json_string_value(json_array_get(sv, 0)), "http://host.example:8080/api");
}

static void test_names(void **state)
{
    (void)state;
    import_ok(
        "openapi: 3.0.0\n"
        "info: {title: N, version: '1'}\n"
        "paths:\n"
        "  /v1/api/common/shop/orders:\n"
        "    get: {responses: {'200': {description: ok}}}\n"
        "    post: {summary: Places an order, responses: {'200': {description: ok}}}\n"
        "  /v1/api/common/shop/orders/{orderId}:\n"
        "    get: {responses: {'200': {description: ok}}}\n"
        "    delete: {responses: {'200': {description: ok}}}\n"
        "  /v2/api/common/shop/orders:\n"
        "    get: {responses: {'200': {description: ok}}}\n"
        "  /v1/api/common/shop/cancel-order:\n"
        "    post: {responses: {'200': {description: ok}}}\n"
        "  /v1/api/common/shop/otp/send:\n"
        "    post: {responses: {'200': {description: ok}}}\n"
        "  /v1/api/common/shop/report:\n"
        "    get: {description: 'Sends the daily report-send email', responses: {'200': "
        "{description: ok}}}\n"
        "  /a:\n"
        "    get: {operationId: getUserByID, responses: {'200': {description: ok}}}\n"
        "    put: {operationId: get_user_by_id, responses: {'200': {description: ok}}}\n"
        "    post: {operationId: 'repos/create-for-authenticated-user', responses: {'200': "
        "{description: ok}}}\n"
        "    patch:\n"
        "      operationId: "
        "thisIsAnExtremelyLongOperationIdentifierThatGoesOnAndOnWellPastTheSixtyFourLimit\n"
        "      responses: {'200': {description: ok}}\n"
        "    delete:\n"
        "      operationId: "
        "thisIsAnExtremelyLongOperationIdentifierThatGoesOnAndOnWellPastTheSixtyFourLimitToo\n"
        "      responses: {'200': {description: ok}}\n",
        NULL);
    tool("get_orders");
    tool("create_orders");
    tool("get_orders_by_order_id");
    tool("delete_orders_by_order_id");
    tool("get_orders_v2"); /* collision resolved with the dropped version */
    tool("cancel_order");
    tool("send_otp");
    tool("send_report"); /* verb from the description */
    tool("get_user_by_id");
    tool("get_user_by_id_2");
    tool("repos_create_for_authenticated_user");
    size_t i;
    json_t *t;
    int long_names = 0;
    json_array_foreach(res.tools, i, t)
    {
        const char *n = s(t, "name");
        assert_true(strlen(n) <= 64);
        if (!strncmp(n, "this_is_an_extremely_long", 25))
            long_names++;
    }
    assert_int_equal(long_names, 2);
    /* the two capped names differ */
    /* the summary's verb: "Places" is not a known verb, so POST -> create */
    assert_string_equal(s(tool("get_orders"), "title"), "Get orders");
    /* camel case off */
    struct gw_openapi_options o;
    gw_openapi_options_init(&o);
    o.snake_case_names = false;
    import_ok("openapi: 3.0.0\ninfo: {title: N, version: '1'}\npaths:\n  /a:\n    get: "
              "{operationId: getUserByID, responses: {'200': {description: ok}}}\n",
              &o);
    tool("getUserByID");
}

static void test_descriptions(void **state)
{
    (void)state;
    char *big = malloc(8000);
    size_t n = (size_t)snprintf(big, 8000,
                                "openapi: 3.0.0\ninfo: {title: D, version: '1'}\npaths:\n  /a:\n"
                                "    get:\n      operationId: getA\n      summary: Get the A\n"
                                "      description: |\n");
    for (int p = 0; p < 12; p++)
        n += (size_t)snprintf(big + n, 8000 - n,
                              "        This is paragraph %d. It has two sentences of filler text "
                              "to make it long enough, more or less ninety characters.\n\n",
                              p);
    snprintf(big + n, 8000 - n, "      responses: {'200': {description: ok}}\n");
    import_ok(big, NULL);
    free(big);
    const char *d = s(tool("get_a"), "description");
    assert_true(strlen(d) <= 1024);
    const char *head = "Get the A\n\nThis is paragraph 0.";
    if (strncmp(d, head, strlen(head)) != 0)
        fail_msg("description: %s", d);
    /* cut at a paragraph end: ends with a full sentence */
    assert_int_equal(d[strlen(d) - 1], '.');
    assert_string_equal(s(tool("get_a"), "title"), "Get the A");
}

static void test_multifile_and_traversal(void **state)
{
    (void)state;
    write_file("api/root.yaml", "openapi: 3.0.0\n"
                                "info: {title: M, version: '1'}\n"
                                "paths:\n"
                                "  /pets:\n"
                                "    $ref: 'paths/pets.yaml'\n"
                                "  /owners:\n"
                                "    get:\n"
                                "      $ref: 'ops/owners%20list.yaml'\n"
                                "  /escape:\n"
                                "    get:\n"
                                "      operationId: escape\n"
                                "      parameters: [{$ref: '../outside/secret.yaml#/p'}]\n"
                                "      responses: {'200': {description: ok}}\n"
                                "  /abs:\n"
                                "    get:\n"
                                "      operationId: absolute\n"
                                "      parameters: [{$ref: '/etc/passwd#/p'}]\n"
                                "      responses: {'200': {description: ok}}\n"
                                "  /url:\n"
                                "    get:\n"
                                "      operationId: remote\n"
                                "      parameters: [{$ref: 'https://example.com/p.yaml#/p'}]\n"
                                "      responses: {'200': {description: ok}}\n"
                                "  /dangling:\n"
                                "    get:\n"
                                "      operationId: dangling\n"
                                "      parameters: [{$ref: '#/components/parameters/none'}]\n"
                                "      responses: {'200': {description: ok}}\n"
                                "  /missing:\n"
                                "    get:\n"
                                "      operationId: missing\n"
                                "      parameters: [{$ref: 'nofile.yaml#/p'}]\n"
                                "      responses: {'200': {description: ok}}\n");
    write_file("api/paths/pets.yaml", "get:\n"
                                      "  operationId: listPets\n"
                                      "  parameters: [{$ref: '../common.yaml#/limit'}]\n"
                                      "  responses:\n"
                                      "    '200':\n"
                                      "      description: ok\n"
                                      "      content:\n"
                                      "        application/json:\n"
                                      "          schema: {$ref: '../models/page.yaml'}\n");
    write_file("api/ops/owners list.yaml", "operationId: listOwners\n"
                                           "responses: {'200': {description: ok}}\n");
    write_file("api/common.yaml",
               "limit: {name: limit, in: query, schema: {$ref: 'models/pet.yaml#/Limit'}}\n");
    write_file("api/models/pet.yaml", "Limit: {type: integer, maximum: 50}\n"
                                      "Pet:\n"
                                      "  type: object\n"
                                      "  properties:\n"
                                      "    name: {type: string}\n"
                                      "    parent: {$ref: '#/Pet'}\n");
    write_file("api/models/page.yaml", "type: object\n"
                                       "properties:\n"
                                       "  items: {type: array, items: {$ref: 'pet.yaml#/Pet'}}\n");
    write_file("outside/secret.yaml", "p: {name: secret, in: query, schema: {type: string}}\n");
    char root[400];
    snprintf(root, sizeof(root), "%s/api/root.yaml", tmpdir);
    struct gw_error err;
    gw_openapi_result_fini(&res);
    assert_int_equal(gw_openapi_import_file(root, NULL, &res, &err), GW_OK);
    json_t *t = tool("list_pets");
    assert_int_equal(json_integer_value(json_object_get(prop(t, "limit"), "maximum")), 50);
    json_t *out = json_object_get(t, "outputSchema");
    assert_non_null(json_object_get(json_object_get(out, "$defs"), "Pet"));
    tool("list_owners");
    assert_int_equal(res.documents, 6);
    assert_int_equal(res.tools_count, 2);
    assert_int_equal(res.skipped, 5);
    char *w = json_dumps(res.warnings, JSON_COMPACT);
    assert_non_null(strstr(w, "leaves the spec folder"));
    assert_non_null(strstr(w, "URL references are disabled"));
    assert_non_null(strstr(w, "dangling reference '#/components/parameters/none'"));
    assert_non_null(strstr(w, "'nofile.yaml' not found"));
    assert_null(strstr(w, tmpdir)); /* no absolute server paths in messages */
    free(w);
    /* file references can be switched off */
    struct gw_openapi_options o;
    gw_openapi_options_init(&o);
    o.allow_file_refs = false;
    gw_openapi_result_fini(&res);
    assert_int_equal(gw_openapi_import_file(root, &o, &res, &err), GW_OK);
    assert_int_equal(res.tools_count, 0);
    /* a wider file_root lets the outside file in */
    gw_openapi_options_init(&o);
    o.file_root = tmpdir;
    gw_openapi_result_fini(&res);
    assert_int_equal(gw_openapi_import_file(root, &o, &res, &err), GW_OK);
    tool("escape");
    /* a buffer without a base refuses every other document */
    import_ok("openapi: 3.0.0\ninfo: {title: B, version: '1'}\npaths:\n  /a:\n    get:\n"
              "      operationId: a\n      parameters: [{$ref: 'common.yaml#/limit'}]\n"
              "      responses: {'200': {description: ok}}\n",
              NULL);
    assert_int_equal(res.skipped, 1);
    assert_non_null(strstr(s(json_array_get(res.warnings, 0), "message"), "base location"));
}

static void test_bad_input(void **state)
{
    (void)state;
    struct gw_error err;
    assert_int_equal(import_text("just: a yaml file\n", NULL, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "not an OpenAPI document"));
    assert_int_equal(import_text("[1, 2, 3]", NULL, &err), GW_EINVAL);
    assert_int_equal(import_text("openapi: 4.0.0\ninfo: {}\npaths: {}\n", NULL, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "unsupported OpenAPI version"));
    assert_int_equal(import_text("swagger: '1.2'\npaths: {}\n", NULL, &err), GW_EINVAL);
    assert_int_equal(import_text("openapi: 3.0.0\npaths: [1]\n", NULL, &err), GW_EINVAL);
    assert_int_equal(import_text("openapi: 3.0.0\ninfo: {}\n", NULL, &err), GW_EINVAL);
    assert_int_equal(import_text("openapi: [3.0.0\n", NULL, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "line"));
    assert_int_equal(import_text("", NULL, &err), GW_EINVAL);
    /* 3.1 without paths (webhooks only) is valid and empty */
    import_ok("openapi: 3.1.0\ninfo: {title: W, version: '1'}\nwebhooks: {}\n", NULL);
    assert_int_equal(res.tools_count, 0);
    /* a ref cycle of non-schema objects is a per-operation error, not a hang */
    import_ok("openapi: 3.0.0\ninfo: {title: C, version: '1'}\npaths:\n  /a:\n    get:\n"
              "      operationId: a\n      parameters: [{$ref: '#/components/parameters/x'}]\n"
              "      responses: {'200': {description: ok}}\n"
              "components:\n  parameters:\n    x: {$ref: '#/components/parameters/y'}\n"
              "    y: {$ref: '#/components/parameters/x'}\n",
              NULL);
    assert_int_equal(res.skipped, 1);
    assert_non_null(strstr(s(json_array_get(res.warnings, 0), "message"), "chain"));
    /* a schema ref to itself only */
    import_ok("openapi: 3.0.0\ninfo: {title: C, version: '1'}\npaths:\n  /a:\n    post:\n"
              "      operationId: a\n      requestBody: {content: {application/json: {schema: "
              "{$ref: '#/components/schemas/S'}}}}\n"
              "      responses: {'200': {description: ok}}\n"
              "components:\n  schemas:\n    S: {$ref: '#/components/schemas/S'}\n",
              NULL);
    assert_int_equal(res.tools_count, 1);
    /* limits */
    struct gw_openapi_options o;
    gw_openapi_options_init(&o);
    o.limits.max_operations = 1;
    assert_int_equal(import_text("openapi: 3.0.0\ninfo: {title: L, version: '1'}\npaths:\n"
                                 "  /a: {get: {responses: {}}, put: {responses: {}}}\n",
                                 &o, &err),
                     GW_ELIMIT);
    gw_openapi_options_init(&o);
    o.limits.max_refs = 2;
    assert_int_equal(import_text("openapi: 3.0.0\ninfo: {title: L, version: '1'}\npaths:\n"
                                 "  /a: {get: {parameters: [{$ref: '#/c/p'}, {$ref: '#/c/p'}, "
                                 "{$ref: '#/c/p'}], responses: {}}}\n"
                                 "c: {p: {name: p, in: query}}\n",
                                 &o, &err),
                     GW_ELIMIT);
    assert_non_null(strstr(err.msg, "$ref"));
    gw_openapi_options_init(&o);
    o.limits.max_schema_nodes = 100;
    char spec[4096];
    size_t n = (size_t)snprintf(spec, sizeof(spec),
                                "openapi: 3.0.0\ninfo: {title: L, version: '1'}\npaths:\n  /a:\n"
                                "    post:\n      operationId: big\n      requestBody: {content: "
                                "{application/json: {schema: {type: object, properties: {");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(spec + n, sizeof(spec) - n, "p%d: {type: string}, ", i);
    snprintf(spec + n, sizeof(spec) - n, "z: {type: string}}}}}}\n      responses: {}\n");
    import_ok(spec, &o);
    assert_int_equal(res.skipped, 1);
    assert_non_null(strstr(s(json_array_get(res.warnings, 0), "message"), "exceeds"));
}

static void progress_cb(size_t done, size_t total, void *ud)
{
    size_t *calls = ud;
    assert_true(done <= total);
    calls[0]++;
    calls[1] = done;
    calls[2] = total;
}

static void test_progress_and_output(void **state)
{
    (void)state;
    char spec[8192];
    size_t n = (size_t)snprintf(spec, sizeof(spec),
                                "openapi: 3.0.0\ninfo: {title: P, version: "
                                "'1'}\npaths:\n");
    for (int i = 0; i < 25; i++)
        n += (size_t)snprintf(spec + n, sizeof(spec) - n,
                              "  /r%d:\n    get:\n      responses:\n        '200':\n"
                              "          description: ok\n          content:\n"
                              "            application/vnd.x+json:\n"
                              "              schema: {type: object, properties: {a: {type: "
                              "string}}}\n",
                              i);
    struct gw_openapi_options o;
    gw_openapi_options_init(&o);
    size_t calls[3] = {0, 0, 0};
    o.progress = progress_cb;
    o.progress_ud = calls;
    o.progress_every = 10;
    import_ok(spec, &o);
    assert_int_equal(calls[0], 3); /* 10, 20, final */
    assert_int_equal(calls[1], 25);
    assert_int_equal(calls[2], 25);
    assert_string_equal(s(json_object_get(tool("get_r7"), "outputSchema"), "type"), "object");
    json_t *sum = gw_openapi_result_summary(&res);
    assert_int_equal(json_integer_value(json_object_get(sum, "tools")), 25);
    json_decref(sum);
}

/* A spec of `n` operations for the parallel mapping test: shared component schemas, clashing
 * operationIds (suffixes decided across the whole spec), an explicit x-mcp name late in the
 * spec that an earlier operation also computes, a duplicate path template in the second half of
 * one in the first, HEAD operations (excluded), an unresolvable operation (skipped), and a
 * schema that is degraded; `ext` puts the shared schema in another file (models.json). */
static char *parallel_spec(int n, bool ext)
{
    struct gw_buf b;
    gw_buf_init(&b, 16u << 20);
    gw_buf_printf(&b, "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"P\",\"version\":\"1\"},"
                      "\"components\":{\"schemas\":{\"Thing\":{\"type\":\"object\",\"properties\":"
                      "{\"id\":{\"type\":\"string\"},\"next\":{\"$ref\":"
                      "\"#/components/schemas/Thing\"}}}}},\"paths\":{");
    char thing[160];
    snprintf(thing, sizeof(thing), "{\"$ref\":\"%s\"}",
             ext ? "models.json#/Thing" : "#/components/schemas/Thing");
    const char *broken = "{\"type\":\"object\",\"properties\":{\"x\":{\"$ref\":"
                         "\"#/components/schemas/None\"}}}";
    for (int i = 0; i < n; i++) {
        gw_buf_printf(&b, "%s\"/r%d/{id}\":{", i ? "," : "", i);
        if (i % 97 == 0)
            gw_buf_printf(&b, "\"head\":{\"responses\":{}},");
        if (i == n - 3)
            gw_buf_printf(&b, "\"put\":{\"$ref\":\"#/nowhere\"},");
        gw_buf_printf(&b, "\"get\":{\"operationId\":\"%s\",%s\"parameters\":[{\"name\":\"id\","
                          "\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}],"
                          "\"responses\":{\"200\":{\"description\":\"ok\",\"content\":{"
                          "\"application/json\":{\"schema\":%s}}}}}}",
                      i % 50 == 7 ? "clash" : i == n - 2 ? "late" : "op",
                      i == n - 2 ? "\"x-mcp\":{\"name\":\"clash\"}," : "",
                      i == n / 2 + 5 ? broken : thing);
    }
    gw_buf_printf(&b, ",\"/r1/{other}\":{\"get\":{\"responses\":{}}}}}");
    char *text = gw_buf_take(&b, NULL);
    gw_buf_fini(&b);
    return text;
}

/* The result as comparable text: tools, warnings and counters. */
static char *result_text(void)
{
    json_t *sum = gw_openapi_result_summary(&res);
    json_object_del(sum, "elapsedMs");
    json_object_set(sum, "allTools", res.tools);
    char *t = json_dumps(sum, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(sum);
    return t;
}

/* Large specs are mapped on two threads: the result is the one-thread result, byte for byte
 * (names decided across the whole spec, warnings in document order, counters); a spec whose
 * schemas live in another file is mapped again on one thread (its documents are loaded as
 * operations need them) with the same result. */
static void test_parallel_mapping(void **state)
{
    (void)state;
    for (int ext = 0; ext < 2; ext++) {
        char *spec = parallel_spec(700, ext);
        char dir[32], path[600];
        snprintf(dir, sizeof(dir), "par%d", ext);
        snprintf(path, sizeof(path), "%s/spec.json", dir);
        write_file(path, spec);
        snprintf(path, sizeof(path), "%s/models.json", dir);
        write_file(path, "{\"Thing\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
                         "\"string\"},\"next\":{\"$ref\":\"#/Thing\"}}}}");
        snprintf(path, sizeof(path), "%s/%s/spec.json", tmpdir, dir);
        char *text[2];
        for (int par = 0; par < 2; par++) {
            struct gw_openapi_options o;
            gw_openapi_options_init(&o);
            o.parallel_min_operations = par ? 1 : 0;
            struct gw_error err;
            gw_openapi_result_fini(&res);
            assert_int_equal(gw_openapi_import_file(path, &o, &res, &err), GW_OK);
            assert_int_equal(res.tools_count, 700);
            assert_int_equal(res.skipped, 1);
            assert_int_equal(res.excluded, 1 + (700 + 96) / 97);
            assert_true(res.degraded >= 1);
            assert_int_equal(res.documents, ext ? 2 : 1);
            text[par] = result_text();
        }
        assert_string_equal(text[0], text[1]);
        /* the explicit name won, the clashing computed names got suffixes in spec order */
        tool("clash");
        tool("clash_2");
        assert_non_null(strstr(text[1], "\"code\":\"duplicate_path\""));
        /* document order: the degraded schema of GET /r355 (mapped) comes before the
         * unresolvable PUT /r697 (decided before mapping), which comes before the duplicate
         * path at the end */
        size_t i, degraded = SIZE_MAX, unresolved = SIZE_MAX, duplicate = SIZE_MAX;
        json_t *w;
        json_array_foreach(res.warnings, i, w)
        {
            const char *op = s(w, "operation"), *code = s(w, "code");
            if (degraded == SIZE_MAX && op && !strcmp(op, "GET /r355/{id}") &&
                !strcmp(s(w, "level"), "degraded"))
                degraded = i;
            if (unresolved == SIZE_MAX && !strcmp(code, "operation_unresolved"))
                unresolved = i;
            if (!strcmp(code, "duplicate_path"))
                duplicate = i;
        }
        assert_true(degraded < unresolved);
        assert_true(unresolved < duplicate);
        assert_true(duplicate < SIZE_MAX);
        free(text[0]);
        free(text[1]);
        gw_free(spec);
    }
}

static void test_diff(void **state)
{
    (void)state;
    const char *v1 = "openapi: 3.0.0\ninfo: {title: D, version: '1'}\npaths:\n"
                     "  /users/{id}:\n"
                     "    get: {operationId: getUser, summary: Get a user, parameters: [{name: id, "
                     "in: path, required: true, schema: {type: string}}], responses: {}}\n"
                     "  /users:\n"
                     "    get: {summary: List users, responses: {}}\n"
                     "  /old:\n"
                     "    delete: {operationId: dropOld, responses: {}}\n"
                     "  /v1/moved:\n"
                     "    post: {operationId: moveIt, responses: {}}\n";
    const char *v2 =
        "openapi: 3.0.0\ninfo: {title: D, version: '2'}\npaths:\n"
        "  /users/{userId}:\n"
        "    get: {operationId: getUser, summary: Get one user, parameters: [{name: "
        "userId, in: path, required: true, schema: {type: string}}], responses: {}}\n"
        "  /users:\n"
        "    get: {summary: List users, x-mcp: {name: list_all_users}, responses: {}}\n"
        "  /new:\n"
        "    put: {operationId: putNew, responses: {}}\n"
        "  /v2/moved:\n"
        "    post: {operationId: moveIt, responses: {}}\n";
    import_ok(v1, NULL);
    json_t *old = json_incref(res.tools);
    import_ok(v2, NULL);
    json_t *d = gw_openapi_diff(old, res.tools);
    json_t *added = json_object_get(d, "added"), *removed = json_object_get(d, "removed");
    json_t *changed = json_object_get(d, "changed");
    assert_int_equal(json_array_size(added), 1);
    assert_string_equal(s(json_array_get(added, 0), "name"), "put_new");
    assert_int_equal(json_array_size(removed), 1);
    assert_string_equal(s(json_array_get(removed, 0), "name"), "drop_old");
    /* renamed parameter: same identity, changed description/schema/binding */
    json_t *c0 = NULL, *c1 = NULL, *c2 = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(changed, i, c)
    {
        if (!strcmp(s(c, "name"), "get_user"))
            c0 = c;
        if (!strcmp(s(c, "name"), "list_all_users"))
            c1 = c;
        if (!strcmp(s(c, "name"), "move_it"))
            c2 = c;
    }
    assert_non_null(c0);
    char *f0 = json_dumps(json_object_get(c0, "fields"), JSON_COMPACT);
    assert_non_null(strstr(f0, "\"description\""));
    assert_non_null(strstr(f0, "\"inputSchema\""));
    assert_non_null(strstr(f0, "\"binding.path\""));
    assert_null(strstr(f0, "specVersion"));
    free(f0);
    /* renamed by x-mcp: changed, not removed + added */
    assert_non_null(c1);
    assert_string_equal(s(c1, "previousName"), "list_users"); /* summary "List users" */
    /* moved to a new path: matched by operationId */
    assert_non_null(c2);
    assert_int_equal(json_integer_value(json_object_get(d, "unchanged")), 0);
    json_decref(d);
    /* identical imports: nothing changed */
    d = gw_openapi_diff(res.tools, res.tools);
    assert_int_equal(json_integer_value(json_object_get(d, "unchanged")), 4);
    assert_int_equal(json_array_size(json_object_get(d, "changed")), 0);
    json_decref(d);
    d = gw_openapi_diff(NULL, res.tools);
    assert_int_equal(json_array_size(json_object_get(d, "added")), 4);
    json_decref(d);
    json_decref(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collisions_and_merge),
        cmocka_unit_test(test_cyclic_refs),
        cmocka_unit_test(test_swagger2_body_and_formdata),
        cmocka_unit_test(test_schema_dialects),
        cmocka_unit_test(test_x_mcp),
        cmocka_unit_test(test_security),
        cmocka_unit_test(test_servers),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_descriptions),
        cmocka_unit_test(test_multifile_and_traversal),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_progress_and_output),
        cmocka_unit_test(test_parallel_mapping),
        cmocka_unit_test(test_diff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
