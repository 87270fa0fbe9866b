/*
 * tests/unit/openapi/test_openapi_msil.c
 * The two MSIL specs of the shared corpus, imported as the product will import them:
 *  - the DMS pre-prod Swagger 2.0 export (no operationIds, CORS OPTIONS operations, header
 *    parameters for the API key, the token and Content-Type): tools get readable verb+resource
 *    names (not "post__api_v1_..."), v1/v2 twins are told apart, header parameters are KEPT in
 *    the binding (credentials bound to their security scheme, never shown to the caller), the
 *    appointment booking body is flattened with its required fields, governance defaults
 *    follow the method;
 *  - the customer service OpenAPI 3.0 sample: operationIds in snake_case, path and query
 *    parameters, bodies, output schemas, security.
 * Skips when the corpus is absent (GW_OPENAPI_CORPUS, default /work/shared/corpus/openapi).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "openapi/openapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct gw_openapi_result res;

static const char *s(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static void import_corpus(const char *rel)
{
    const char *dir = getenv("GW_OPENAPI_CORPUS");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/work/shared/corpus/openapi", rel);
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("# %s absent: skipped\n", path);
        skip();
    }
    struct gw_openapi_options o;
    gw_openapi_options_init(&o);
    o.bundle = "msil";
    struct gw_error err;
    gw_openapi_result_fini(&res);
    if (gw_openapi_import_file(path, &o, &res, &err) != GW_OK)
        fail_msg("import of %s failed: %s", rel, err.msg);
}

static json_t *tool(const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(res.tools, i, t)
    {
        if (!strcmp(s(t, "name"), name))
            return t;
    }
    fail_msg("no tool named %s", name);
    return NULL;
}

static json_t *arg_by(json_t *t, const char *key, const char *value)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(json_object_get(t, "binding"), "args"), i, a)
    {
        const char *v = s(a, key);
        if (v && !strcmp(v, value))
            return a;
    }
    return NULL;
}

static json_t *props(json_t *t)
{
    return json_object_get(json_object_get(t, "inputSchema"), "properties");
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

/* The DMS header parameters are in the binding of every DMS tool (all declare x-api-key and
 * Content-Type, all but the two nearest-dealers operations Authorization). */
static void assert_dms_headers(json_t *t)
{
    json_t *key = arg_by(t, "name", "x-api-key");
    assert_non_null(key);
    assert_string_equal(s(key, "in"), "header");
    assert_string_equal(s(key, "source"), "credential");
    assert_string_equal(s(key, "scheme"), "api_key");
    json_t *auth = arg_by(t, "name", "Authorization");
    const char *path = s(json_object_get(t, "binding"), "path");
    if (strstr(path, "/nearest-dealers")) {
        assert_null(auth); /* the two nearest-dealers operations declare no token header */
    } else {
        assert_non_null(auth);
        assert_string_equal(s(auth, "in"), "header");
        assert_string_equal(s(auth, "source"), "credential");
        assert_string_equal(s(auth, "scheme"), "CommonAuthorizerLambdaSAM");
    }
    json_t *ct = arg_by(t, "name", "Content-Type");
    if (!ct)
        ct = arg_by(t, "name", "content-type");
    assert_non_null(ct);
    assert_string_equal(s(ct, "source"), "contentType");
    /* credentials never reach the caller's schema */
    assert_null(json_object_get(props(t), "x-api-key"));
    assert_null(json_object_get(props(t), "Authorization"));
}

static void test_dms(void **state)
{
    (void)state;
    import_corpus("msil/dms-preprod-swagger.json");
    assert_string_equal(res.dialect, "swagger-2.0");
    assert_int_equal(res.operations, 100);
    assert_int_equal(res.tools_count, 50);
    assert_int_equal(res.excluded, 50); /* the CORS OPTIONS operations */
    assert_int_equal(res.skipped, 0);
    assert_int_equal(res.degraded, 0);

    size_t i;
    json_t *t;
    json_array_foreach(res.tools, i, t)
    {
        const char *n = s(t, "name");
        /* readable: no path dumps, no HTTP method prefixes, no doubled underscores */
        assert_null(strstr(n, "api_"));
        assert_null(strstr(n, "msil"));
        assert_null(strstr(n, "__"));
        assert_true(strncmp(n, "post_", 5) != 0);
        assert_true(strlen(n) <= 40);
        assert_dms_headers(t);
        assert_string_equal(json_string_value(json_array_get(
                                json_object_get(json_object_get(t, "binding"), "servers"), 0)),
                            "https://apipreprod.developersinmarutisuzuki.in/dms");
        assert_string_equal(s(t, "bundle"), "msil");
    }

    /* booking: POST body flattened, required fields kept */
    t = tool("create_appointment_booking");
    json_t *b = json_object_get(t, "binding");
    assert_string_equal(s(b, "method"), "POST");
    assert_string_equal(s(b, "path"), "/v1/api/common/msil/dms/appointment-booking");
    assert_string_equal(s(json_object_get(b, "body"), "contentType"), "application/json");
    assert_true(json_is_true(json_object_get(arg_by(t, "name", "x-api-key"), "required")));
    static const char *const booking_required[] = {"appointmentDate", "appointmentTypeCode",
                                                   "currentSaCode",   "dealerCode",
                                                   "locCode",         "odoMeter",
                                                   "slotCode",        "slotTimeCode",
                                                   "srvTypeCode",     "userId"};
    for (size_t k = 0; k < sizeof(booking_required) / sizeof(booking_required[0]); k++) {
        assert_string_equal(s(arg_by(t, "arg", booking_required[k]), "in"), "body");
        assert_true(required_has(t, booking_required[k]));
    }
    assert_non_null(json_object_get(props(t), "regNo"));
    assert_false(required_has(t, "regNo"));
    assert_string_equal(s(t, "risk"), "write");
    assert_string_equal(s(json_object_get(t, "outputSchema"), "type"), "object");
    /* the security alternatives of the operation */
    json_t *sec = json_object_get(b, "security");
    assert_int_equal(json_array_size(sec), 1);
    assert_string_equal(s(json_array_get(sec, 0), "name"), "x-api-key");

    /* cancel: DELETE with query parameters; privileged, confirmation */
    t = tool("cancel_appointment_booking");
    static const char *const cancel_q[] = {"dealerCode", "userId", "appointmentNo", "locCd",
                                           "cancelReason"};
    for (size_t k = 0; k < sizeof(cancel_q) / sizeof(cancel_q[0]); k++)
        assert_string_equal(s(arg_by(t, "arg", cancel_q[k]), "in"), "query");
    assert_string_equal(s(t, "risk"), "privileged");
    assert_true(json_is_true(json_object_get(t, "requiresConfirmation")));
    assert_true(json_is_true(json_object_get(t, "requiresElevation")));
    assert_true(
        json_is_true(json_object_get(json_object_get(t, "annotations"), "destructiveHint")));

    /* reads */
    t = tool("get_service_booking_calendar");
    assert_string_equal(s(t, "risk"), "read");
    assert_true(json_is_true(json_object_get(json_object_get(t, "annotations"), "readOnlyHint")));
    assert_string_equal(s(arg_by(t, "arg", "date"), "in"), "query");
    assert_string_equal(s(arg_by(t, "arg", "dealerMapCd"), "in"), "query");
    assert_string_equal(s(arg_by(t, "arg", "EV_TRAINED"), "in"), "query");
    /* the two security alternatives of this operation */
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(t, "binding"), "securityRequirements")), 2);

    /* names for the rest of the booking journey, and the v1/v2 twins */
    static const char *const names[] = {
        "get_am_list_by_name",        "get_appointment_cancel_reasons",
        "get_nearest_dealers",        "get_nearest_dealers_v2",
        "get_dealer_master",          "get_dealer_master_v2",
        "get_service_advisor_list",   "get_service_details",
        "update_appointment_booking", "send_parts_kart_otp",
        "verify_parts_kart_otp",      "verify_otp",
        "fetch_workshop_enquiry",     "fetch_gm_emp_by_query",
        "get_pickup_type_master"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        tool(names[k]);
    assert_string_equal(s(json_object_get(tool("get_dealer_master_v2"), "binding"), "path"),
                        "/v2/api/common/msil/dms/dealer-master");
    /* descriptions come from the spec, titles from the names */
    assert_string_equal(s(tool("get_am_list_by_name"), "description"),
                        "Gets AmList for the given List Name");
    assert_string_equal(s(tool("get_am_list_by_name"), "title"), "Get am list by name");
}

static void test_customer_service(void **state)
{
    (void)state;
    import_corpus("msil/customer-service-api.yaml");
    assert_string_equal(res.dialect, "openapi-3.0");
    assert_int_equal(res.operations, 11);
    assert_int_equal(res.tools_count, 11);
    assert_int_equal(res.skipped, 0);
    static const char *const names[] = {"create_customer",    "search_customers", "get_customer",
                                        "update_customer",    "create_booking",   "list_bookings",
                                        "get_booking",        "update_booking",   "cancel_booking",
                                        "check_availability", "get_service_types"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        tool(names[k]);
    json_t *t = tool("get_customer");
    assert_string_equal(s(arg_by(t, "arg", "customerId"), "in"), "path");
    assert_true(required_has(t, "customerId"));
    assert_string_equal(s(json_object_get(t, "outputSchema"), "type"), "object");
    t = tool("create_booking");
    assert_true(required_has(t, "preferredDate"));
    assert_string_equal(s(arg_by(t, "arg", "notes"), "in"), "body");
    assert_string_equal(s(json_object_get(json_object_get(t, "binding"), "body"), "contentType"),
                        "application/json");
    t = tool("search_customers");
    json_t *limit = json_object_get(props(t), "limit");
    assert_int_equal(json_integer_value(json_object_get(limit, "maximum")), 100);
    assert_int_equal(json_integer_value(json_object_get(limit, "default")), 20);
    json_t *servers = json_object_get(json_object_get(t, "binding"), "servers");
    assert_string_equal(json_string_value(json_array_get(servers, 0)),
                        "https://api.marutisuzuki.com/v1");
    json_t *reqs = json_object_get(json_object_get(t, "binding"), "securityRequirements");
    assert_int_equal(json_array_size(reqs), 2);
    assert_string_equal(s(tool("cancel_booking"), "risk"), "privileged");
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
        cmocka_unit_test(test_dms),
        cmocka_unit_test(test_customer_service),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
