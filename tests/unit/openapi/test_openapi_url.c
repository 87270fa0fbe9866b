/*
 * tests/unit/openapi/test_openapi_url.c
 * Specs and $ref documents fetched over HTTP through the SSRF guard, against a local evhttp
 * server on 127.0.0.1: refused without an allowlist (loopback), imported when 127.0.0.1 is
 * allowlisted, remote $refs only with allow_url_refs, relative references and relative
 * servers resolved against the final URL after a redirect, a remote document that tries to
 * reach a local file refused, and a redirect to a metadata address refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "openapi/openapi.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct event_base *base;
static struct evhttp *http;
static pthread_t thread;
static int port;
static struct gw_openapi_result res;

static const char *ROOT = "openapi: 3.0.0\n"
                          "info: {title: Remote, version: '1'}\n"
                          "servers: [{url: /api}]\n"
                          "paths:\n"
                          "  /pets:\n"
                          "    get:\n"
                          "      operationId: listPets\n"
                          "      parameters: [{$ref: 'common/params.yaml#/limit'}]\n"
                          "      responses: {'200': {description: ok}}\n"
                          "  /local:\n"
                          "    get:\n"
                          "      operationId: local\n"
                          "      parameters: [{$ref: 'file:///etc/passwd#/x'}]\n"
                          "      responses: {'200': {description: ok}}\n";

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *body = evbuffer_new();
    if (!strcmp(uri, "/specs/root.yaml")) {
        evbuffer_add_printf(body, "%s", ROOT);
        evhttp_send_reply(req, 200, "OK", body);
    } else if (!strcmp(uri, "/specs/common/params.yaml")) {
        evbuffer_add_printf(body, "limit: {name: limit, in: query, schema: {type: integer, "
                                  "maximum: 7}}\n");
        evhttp_send_reply(req, 200, "OK", body);
    } else if (!strcmp(uri, "/moved")) {
        char loc[128];
        snprintf(loc, sizeof(loc), "http://127.0.0.1:%d/specs/root.yaml", port);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
        evhttp_send_reply(req, 301, "Moved", NULL);
    } else if (!strcmp(uri, "/metadata")) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
                          "http://169.254.169.254/latest/meta-data/");
        evhttp_send_reply(req, 302, "Found", NULL);
    } else {
        evhttp_send_reply(req, 404, "Not Found", NULL);
    }
    evbuffer_free(body);
}

static void *loop(void *arg)
{
    (void)arg;
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int up(void **state)
{
    (void)state;
    evthread_use_pthreads();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    base = event_base_new();
    http = evhttp_new(base);
    evhttp_set_gencb(http, on_request, NULL);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    if (!bs)
        return -1;
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len);
    port = ntohs(sin.sin_port);
    return pthread_create(&thread, NULL, loop, NULL);
}

static int down(void **state)
{
    (void)state;
    gw_openapi_result_fini(&res);
    event_base_loopbreak(base);
    pthread_join(thread, NULL);
    evhttp_free(http);
    event_base_free(base);
    curl_global_cleanup();
    return 0;
}

static int import(const char *path, bool url_refs, struct gw_ssrf_policy *p, struct gw_error *err)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    struct gw_openapi_options o;
    gw_openapi_options_init(&o);
    o.allow_url_refs = url_refs;
    o.ssrf = p;
    gw_openapi_result_fini(&res);
    return gw_openapi_import_url(url, &o, &res, err);
}

static json_t *tool0(void)
{
    return json_array_get(res.tools, 0);
}

static void test_loopback_refused_by_default(void **state)
{
    (void)state;
    struct gw_error err;
    assert_int_equal(import("/specs/root.yaml", true, NULL, &err), GW_EDENIED);
    assert_non_null(strstr(err.msg, "loopback"));
}

static void test_remote_spec_and_refs(void **state)
{
    (void)state;
    struct gw_error err;
    struct gw_ssrf_policy *p = gw_ssrf_policy_new();
    assert_int_equal(gw_ssrf_policy_allow(p, "127.0.0.1", &err), GW_OK);
    /* URL refs disabled: the spec loads, the operation needing a remote ref is skipped */
    assert_int_equal(import("/specs/root.yaml", false, p, &err), GW_OK);
    assert_int_equal(res.tools_count, 0);
    assert_int_equal(res.skipped, 2);
    char *w = json_dumps(res.warnings, JSON_COMPACT);
    assert_non_null(strstr(w, "URL references are disabled"));
    free(w);
    /* enabled, through a redirect: relative refs and servers resolve against the final URL */
    assert_int_equal(import("/moved", true, p, &err), GW_OK);
    assert_int_equal(res.tools_count, 1);
    json_t *t = tool0();
    assert_string_equal(json_string_value(json_object_get(t, "name")), "list_pets");
    json_t *limit =
        json_object_get(json_object_get(json_object_get(t, "inputSchema"), "properties"), "limit");
    assert_int_equal(json_integer_value(json_object_get(limit, "maximum")), 7);
    char want[128];
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/api", port);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(t, "binding"), "servers"), 0)),
                        want);
    assert_int_equal(res.documents, 2);
    /* the remote document cannot reach local files */
    w = json_dumps(res.warnings, JSON_COMPACT);
    assert_non_null(strstr(w, "cannot reference local files"));
    free(w);
    /* a redirect to the metadata service is refused */
    assert_int_equal(import("/metadata", true, p, &err), GW_EDENIED);
    assert_non_null(strstr(err.msg, "cloud-metadata"));
    assert_int_equal(import("/nope", true, p, &err), GW_EUPSTREAM);
    gw_ssrf_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_refused_by_default),
        cmocka_unit_test(test_remote_spec_and_refs),
    };
    return cmocka_run_group_tests(tests, up, down);
}
