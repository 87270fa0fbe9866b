/*
 * tests/unit/mockapim/test_mockapim_spec.c
 * openapi/service-booking.yaml against the implementation:
 *  - the document parses (libyaml), is OpenAPI 3.0 with the local server and the three
 *    security schemes, and the embedded copy served under /openapi/ is the file in the repo;
 *  - every operation has an operationId, a description written for an agent, and a route in
 *    the mock with the same method, path and name (and every /api/v1 route is documented);
 *  - writes declare bearer/oauth2 security exactly where the mock demands a token;
 *  - every $ref resolves;
 *  - a sample call of every operation returns a body that satisfies the documented schema
 *    (types, required members, enums, recursively through $refs).
 */
#include "mockapim_test.h"

#include "mockapim_date.h"
#include "mockapim_yaml.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static json_t *spec;

static int load(void **state)
{
    (void)state;
    char path[1024];
    const char *src = getenv("GW_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/tools/mock-apim/openapi/service-booking.yaml",
             src ? src : ".");
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static char text[256 * 1024];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    /* The embedded copy is the file. */
    if (n != gw_mockapim_spec_yaml_len || memcmp(text, gw_mockapim_spec_yaml, n) != 0) {
        fprintf(stderr, "embedded spec differs from %s (rebuild)\n", path);
        return -1;
    }
    struct gw_error err = {0};
    if (gw_mockapim_yaml_to_json(text, n, &spec, &err) != GW_OK) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return -1;
    }
    return 0;
}

static int unload(void **state)
{
    (void)state;
    json_decref(spec);
    return 0;
}

/* Resolves "#/components/schemas/X" within the spec. */
static json_t *deref(json_t *node)
{
    for (int hops = 0; hops < 16; hops++) {
        const char *ref = json_string_value(json_object_get(node, "$ref"));
        if (!ref)
            return node;
        if (strncmp(ref, "#/", 2) != 0)
            return NULL;
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", ref + 2);
        json_t *cur = spec;
        for (char *p = buf, *slash; p && cur; p = slash) {
            slash = strchr(p, '/');
            if (slash)
                *slash++ = '\0';
            cur = json_object_get(cur, p);
        }
        if (!cur)
            return NULL;
        node = cur;
    }
    return NULL;
}

static void check_refs(json_t *node, int depth)
{
    assert_true(depth < 64);
    if (json_is_object(node)) {
        const char *ref = json_string_value(json_object_get(node, "$ref"));
        if (ref && !deref(node))
            fail_msg("unresolved $ref %s", ref);
        const char *k;
        json_t *v;
        json_object_foreach(node, k, v) check_refs(v, depth + 1);
    } else if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) check_refs(v, depth + 1);
    }
}

static void test_document(void **state)
{
    (void)state;
    assert_string_equal(json_string_value(json_object_get(spec, "openapi")), "3.0.3");
    assert_string_equal(json_string_value(t_get(spec, "servers.0.url")), "http://127.0.0.1:8080");
    json_t *sec = t_get(spec, "components.securitySchemes");
    assert_string_equal(json_string_value(t_get(sec, "apiKey.type")), "apiKey");
    assert_string_equal(json_string_value(t_get(sec, "apiKey.in")), "header");
    assert_string_equal(json_string_value(t_get(sec, "apiKey.name")), "x-api-key");
    assert_string_equal(json_string_value(t_get(sec, "oauth2.flows.clientCredentials.tokenUrl")),
                        "http://127.0.0.1:8080/oauth2/token");
    assert_string_equal(json_string_value(t_get(sec, "bearerAuth.scheme")), "bearer");
    check_refs(spec, 0);
}

static bool needs_token(json_t *op)
{
    json_t *sec = json_object_get(op, "security");
    size_t i;
    json_t *alt;
    json_array_foreach(sec, i, alt) if (json_object_get(alt, "oauth2") ||
                                        json_object_get(alt, "bearerAuth")) return true;
    return false;
}

static void test_operations_match_routes(void **state)
{
    (void)state;
    const char *path, *method;
    json_t *item, *op;
    json_t *seen_ids = json_object();
    size_t nops = 0;
    json_object_foreach(json_object_get(spec, "paths"), path, item)
    {
        json_object_foreach(item, method, op)
        {
            char up[16];
            size_t n = 0;
            for (; method[n] && n + 1 < sizeof(up); n++)
                up[n] = (char)(method[n] - 32);
            up[n] = '\0';
            const char *id = json_string_value(json_object_get(op, "operationId"));
            assert_non_null(id);
            assert_null(json_object_get(seen_ids, id));
            json_object_set_new(seen_ids, id, json_true());
            const char *desc = json_string_value(json_object_get(op, "description"));
            if (!desc || strlen(desc) < 60)
                fail_msg("%s: description too short for an agent", id);
            assert_non_null(t_get(op, "responses.401"));
            struct gw_mockapim_route_info r;
            bool found = false;
            for (size_t i = 0; gw_mockapim_app_route(i, &r); i++) {
                if (strcmp(r.pattern, path) != 0 || strcmp(r.method, up) != 0)
                    continue;
                found = true;
                assert_string_equal(r.operation, id);
                if (needs_token(op) != ((r.flags & GW_MOCKAPIM_ROUTE_TOKEN) != 0))
                    fail_msg("%s: token requirement differs between spec and route", id);
                assert_true(r.flags & GW_MOCKAPIM_ROUTE_KEY);
            }
            if (!found)
                fail_msg("%s %s (%s) has no route", up, path, id);
            nops++;
        }
    }
    /* And every service-booking route is documented. */
    struct gw_mockapim_route_info r;
    size_t napi = 0;
    for (size_t i = 0; gw_mockapim_app_route(i, &r); i++) {
        if (strncmp(r.pattern, "/api/v1/", 8) != 0)
            continue;
        napi++;
        if (!json_object_get(seen_ids, r.operation))
            fail_msg("route %s %s is not in the spec", r.method, r.pattern);
    }
    assert_int_equal(napi, nops);
    assert_int_equal(nops, 9);
    json_decref(seen_ids);
}

/* Minimal OpenAPI 3.0 schema check: type, required, enum, properties, items, $ref. */
static void validate(json_t *schema, json_t *v, const char *where, int depth)
{
    assert_true(depth < 32);
    schema = deref(schema);
    assert_non_null(schema);
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (type) {
        bool ok = (!strcmp(type, "object") && json_is_object(v)) ||
                  (!strcmp(type, "array") && json_is_array(v)) ||
                  (!strcmp(type, "string") && json_is_string(v)) ||
                  (!strcmp(type, "integer") && json_is_integer(v)) ||
                  (!strcmp(type, "number") && json_is_number(v)) ||
                  (!strcmp(type, "boolean") && json_is_boolean(v));
        if (!ok)
            fail_msg("%s: not a %s", where, type);
    }
    json_t *en = json_object_get(schema, "enum");
    if (en) {
        bool ok = false;
        size_t i;
        json_t *e;
        json_array_foreach(en, i, e) ok = ok || json_equal(e, v);
        if (!ok)
            fail_msg("%s: value not in enum", where);
    }
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(schema, "required"), i, x)
    {
        if (!json_object_get(v, json_string_value(x)))
            fail_msg("%s: required member '%s' missing", where, json_string_value(x));
    }
    const char *k;
    json_t *sub;
    json_object_foreach(json_object_get(schema, "properties"), k, sub)
    {
        json_t *member = json_object_get(v, k);
        if (member) {
            char w[256];
            snprintf(w, sizeof(w), "%s.%s", where, k);
            validate(sub, member, w, depth + 1);
        }
    }
    json_t *items = json_object_get(schema, "items");
    if (items && json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            char w[256];
            snprintf(w, sizeof(w), "%s[%zu]", where, i);
            validate(items, x, w, depth + 1);
        }
    }
}

static void check_response(const char *path, const char *method, struct t_call *c)
{
    char key[16];
    snprintf(key, sizeof(key), "%d", c->resp.status);
    json_t *op = json_object_get(json_object_get(json_object_get(spec, "paths"), path), method);
    assert_non_null(op);
    json_t *resp = deref(json_object_get(json_object_get(op, "responses"), key));
    if (!resp)
        fail_msg("%s %s: status %s is not documented", method, path, key);
    json_t *schema = t_get(resp, "content.application/json.schema");
    assert_non_null(schema);
    char where[128];
    snprintf(where, sizeof(where), "%s %s %s", method, path, key);
    validate(schema, c->resp.json, where, 0);
}

static void test_responses_match_schemas(void **state)
{
    (void)state;
    char db[512], bearer[128];
    t_db_path(db, sizeof(db), "spec");
    struct gw_mockapim_app *app = t_app(db, "2026-03-02", 300);
    gw_mockapim_app_set_now(app, (long long)gw_mockapim_date_days(2026, 3, 2) * 86400 + 3600);
    struct t_call c;
    t_run(app, &c, "POST", "/oauth2/token",
          "grant_type=client_credentials&client_id=mock-gateway&client_secret=mock-gateway-secret",
          "Content-Type", "application/x-www-form-urlencoded", NULL);
    snprintf(bearer, sizeof(bearer), "Bearer %s", t_str(&c, "access_token"));
    t_done(&c);
    struct {
        const char *method, *url, *spec_path, *body;
        int status;
    } calls[] = {
        {"GET", "/api/v1/customers/resolve?mobile=9876543210",
         "/api/v1/customers/resolve", NULL, 200},
        {"GET", "/api/v1/customers/resolve?mobile=9000000001",
         "/api/v1/customers/resolve", NULL, 404},
        {"GET", "/api/v1/vehicles/resolve?registration_number=MH12AB1234",
         "/api/v1/vehicles/resolve", NULL, 200},
        {"GET", "/api/v1/vehicles/resolve?registration_number=bad",
         "/api/v1/vehicles/resolve", NULL, 400},
        {"GET", "/api/v1/dealers/nearby?location=Baner,+Pune&service_type=express",
         "/api/v1/dealers/nearby", NULL, 200},
        {"GET", "/api/v1/dealers/MSIL-PUNE-001", "/api/v1/dealers/{dealer_id}", NULL, 200},
        {"GET", "/api/v1/dealers/MSIL-PUNE-001/slots?date=2026-03-03",
         "/api/v1/dealers/{dealer_id}/slots", NULL, 200},
        {"GET", "/api/v1/dealers/MSIL-PUNE-001/slots?date=2026-03-08",
         "/api/v1/dealers/{dealer_id}/slots", NULL, 422},
        {"POST", "/api/v1/bookings", "/api/v1/bookings",
         "{\"customer_id\":\"CUST001234\",\"registration_number\":\"MH12AB1234\",\"dealer_id\":"
         "\"MSIL-PUNE-001\",\"date\":\"2026-03-03\",\"time\":\"10:00\",\"notes\":\"AC check\"}",
         201},
        {"POST", "/api/v1/bookings", "/api/v1/bookings", "{}", 400},
        {"GET", "/api/v1/bookings?customer_id=CUST001234", "/api/v1/bookings", NULL, 200},
        {"GET", "/api/v1/bookings/BK-2026-000101", "/api/v1/bookings/{booking_id}", NULL, 200},
        {"POST", "/api/v1/bookings/BK-2026-000101/cancel",
         "/api/v1/bookings/{booking_id}/cancel", NULL, 200},
        {"GET", "/api/v1/bookings/BK-2026-000999", "/api/v1/bookings/{booking_id}", NULL, 404},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        t_run(app, &c, calls[i].method, calls[i].url, calls[i].body, "x-api-key", T_KEY,
              "Authorization", bearer, "Content-Type", "application/json", NULL);
        if (c.resp.status != calls[i].status)
            fail_msg("%s %s: status %d, want %d", calls[i].method, calls[i].url, c.resp.status,
                     calls[i].status);
        char lower[8];
        snprintf(lower, sizeof(lower), "%s", calls[i].method[0] == 'G' ? "get" : "post");
        check_response(calls[i].spec_path, lower, &c);
        t_done(&c);
    }
    /* Without credentials: the documented 401. */
    t_run(app, &c, "GET", "/api/v1/bookings/BK-2026-000101", NULL, NULL);
    check_response("/api/v1/bookings/{booking_id}", "get", &c);
    t_done(&c);
    gw_mockapim_app_free(app);
    t_db_remove(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document),
        cmocka_unit_test(test_operations_match_routes),
        cmocka_unit_test(test_responses_match_schemas),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
