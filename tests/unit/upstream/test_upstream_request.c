/*
 * tests/unit/upstream/test_upstream_request.c
 * Request building from binding + arguments: path encoding and traversal/injection attempts,
 * every query style (form exploded/non-exploded arrays and objects, spaceDelimited,
 * pipeDelimited, deepObject, allowReserved), header and cookie parameters (CR/LF/NUL refused,
 * reserved and credential headers refused unless allowed), bodies (JSON properties, whole body,
 * form-urlencoded, multipart, text), limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/json.h"
#include "upstream/upstream_request.h"

#include <string.h>

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v)
        fail_msg("bad test JSON: %s (%s)", e.text, text);
    return v;
}

struct built {
    int rc;
    struct gw_upstream_req req;
    struct gw_error err;
};

static struct built build(const char *binding, const char *args)
{
    struct built b;
    memset(&b, 0, sizeof(b));
    json_t *bj = J(binding), *aj = args ? J(args) : NULL;
    const char *prot[] = {"X-Caller"};
    struct gw_upstream_build_opts o = {"https://api.example/base/", prot, 1, 0, 0};
    b.rc = gw_upstream_req_build(bj, aj, &o, &b.req, &b.err);
    json_decref(bj);
    json_decref(aj);
    return b;
}

static const char *header(const struct gw_upstream_req *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++)
        if (strncasecmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
            return r->headers[i] + n + 2;
    return NULL;
}

#define PATH_BINDING(style, explode)                                                           \
    "{\"method\":\"GET\",\"path\":\"/items/{id}/x\",\"args\":[{\"arg\":\"id\",\"in\":\"path\","  \
    "\"name\":\"id\",\"style\":\"" style "\",\"explode\":" explode "}]}"

static void expect_url(const char *binding, const char *args, const char *url)
{
    struct built b = build(binding, args);
    if (b.rc != GW_OK)
        fail_msg("build failed: %s", b.err.msg);
    assert_string_equal(b.req.url, url);
    gw_upstream_req_fini(&b.req);
}

static void expect_fail(const char *binding, const char *args, const char *msg_part)
{
    struct built b = build(binding, args);
    assert_int_not_equal(b.rc, GW_OK);
    assert_null(b.req.url);
    if (msg_part && !strstr(b.err.msg, msg_part))
        fail_msg("message '%s' lacks '%s'", b.err.msg, msg_part);
    gw_upstream_req_fini(&b.req);
}

static void test_path_encoding(void **state)
{
    (void)state;
    expect_url(PATH_BINDING("simple", "false"), "{\"id\":\"abc\"}",
               "https://api.example/base/items/abc/x");
    expect_url(PATH_BINDING("simple", "false"), "{\"id\":\"a b/c?d#e%f\"}",
               "https://api.example/base/items/a%20b%2Fc%3Fd%23e%25f/x");
    expect_url(PATH_BINDING("simple", "false"), "{\"id\":\"..a\"}",
               "https://api.example/base/items/..a/x");
    expect_url(PATH_BINDING("simple", "false"), "{\"id\":42}",
               "https://api.example/base/items/42/x");
    expect_url(PATH_BINDING("simple", "false"), "{\"id\":\"é\"}",
               "https://api.example/base/items/%C3%A9/x");
    expect_url(PATH_BINDING("simple", "false"), "{\"id\":[1,2,3]}",
               "https://api.example/base/items/1,2,3/x");
    expect_url(PATH_BINDING("simple", "false"), "{\"id\":{\"a\":1,\"b\":2}}",
               "https://api.example/base/items/a,1,b,2/x");
    expect_url(PATH_BINDING("simple", "true"), "{\"id\":{\"a\":1,\"b\":2}}",
               "https://api.example/base/items/a=1,b=2/x");
    expect_url(PATH_BINDING("label", "false"), "{\"id\":[1,2]}",
               "https://api.example/base/items/.1,2/x");
    expect_url(PATH_BINDING("label", "true"), "{\"id\":[1,2]}",
               "https://api.example/base/items/.1.2/x");
    expect_url(PATH_BINDING("matrix", "false"), "{\"id\":5}",
               "https://api.example/base/items/;id=5/x");
    expect_url(PATH_BINDING("matrix", "true"), "{\"id\":[1,2]}",
               "https://api.example/base/items/;id=1;id=2/x");
    expect_url(PATH_BINDING("matrix", "false"), "{\"id\":[1,2]}",
               "https://api.example/base/items/;id=1,2/x");
}


/* allowReserved on a path argument (the importer's mapping of RFC 6570 "{+name}", as Google's
 * APIs write "/v1/{+name}:cancel"): "/" and the pchar delimiters stay literal, "?" "#" "%" and
 * spaces are encoded, and no segment of the value may be "." or ".." (nor "..;x"). */
static void test_path_reserved_expansion(void **state)
{
    (void)state;
    const char *b = "{\"method\":\"POST\",\"path\":\"/v1/{name}:cancel\",\"args\":[{\"arg\":"
                    "\"name\",\"in\":\"path\",\"name\":\"name\",\"style\":\"simple\","
                    "\"allowReserved\":true}]}";
    expect_url(b, "{\"name\":\"projects/p-1/operations/op:42\"}",
               "https://api.example/base/v1/projects/p-1/operations/op:42:cancel");
    expect_url(b, "{\"name\":\"a b?c#d%e\"}",
               "https://api.example/base/v1/a%20b%3Fc%23d%25e:cancel");
    expect_url(b, "{\"name\":\"..a/b..\"}", "https://api.example/base/v1/..a/b..:cancel");
    expect_fail(b, "{\"name\":\"projects/../admin\"}", "'..'");
    expect_fail(b, "{\"name\":\"../x\"}", "'..'");
    expect_fail(b, "{\"name\":\"a/./b\"}", "'..'");
    expect_fail(b, "{\"name\":\"a/..;jsessionid=1/b\"}", "'..'");
    expect_fail(b, "{\"name\":\"a/%2e%2e/b\"}", "'..'");
    /* without allowReserved the same value stays one segment */
    expect_url(PATH_BINDING("simple", "false"), "{\"id\":\"projects/p1\"}",
               "https://api.example/base/items/projects%2Fp1/x");
    /* a big number (core/json.h) travels as its exact digits */
    struct built bb = {0};
    struct gw_error perr = {0};
    json_t *bj = J(PATH_BINDING("simple", "false"));
    json_t *aj = gw_json_parse("{\"id\":123456789012345678901234567890}", 37, NULL, &perr);
    assert_non_null(aj);
    const char *prot[] = {"X-Caller"};
    struct gw_upstream_build_opts o = {"https://api.example/base/", prot, 1, 0, 0};
    bb.rc = gw_upstream_req_build(bj, aj, &o, &bb.req, &bb.err);
    assert_int_equal(bb.rc, GW_OK);
    assert_string_equal(bb.req.url,
                        "https://api.example/base/items/123456789012345678901234567890/x");
    gw_upstream_req_fini(&bb.req);
    json_decref(bj);
    json_decref(aj);
}

static void test_path_injection_refused(void **state)
{
    (void)state;
    const char *b = PATH_BINDING("simple", "false");
    expect_fail(b, "{\"id\":\"..\"}", "'..'");
    expect_fail(b, "{\"id\":\".\"}", "'..'");
    expect_fail(b, "{\"id\":\"%2e%2e\"}", "'..'");
    expect_fail(b, "{\"id\":\"%2E%2e\"}", "'..'");
    expect_fail(b, "{\"id\":\"%252e%252e\"}", "'..'"); /* double encoded */
    expect_fail(b, "{\"id\":\".%2e\"}", "'..'");
    expect_fail(b, "{\"id\":\"a\\r\\nHost: evil\"}", "CR, LF");
    expect_fail(b, "{\"id\":\"a%0d%0aX: y\"}", NULL);
    expect_fail(b, "{\"id\":\"\"}", "empty");
    expect_fail(b, "{}", "missing value for path parameter 'id'");
    expect_fail(b, "{\"id\":[\"ok\",\"..\"]}", "'..'");
    expect_fail(b, "{\"id\":[[1]]}", "nested");
    /* the traversal text that is allowed is encoded so it stays inside one segment */
    expect_url(b, "{\"id\":\"../../admin\"}", "https://api.example/base/items/..%2F..%2Fadmin/x");
    /* a binding with a dot segment or a query in its template is refused */
    expect_fail("{\"method\":\"GET\",\"path\":\"/a/../b\",\"args\":[]}", "{}", "dot segment");
    expect_fail("{\"method\":\"GET\",\"path\":\"/a?x=1\",\"args\":[]}", "{}", "invalid character");
    /* found by the fuzzer: "/..;x" is ".." for servers that strip path parameters (Tomcat) */
    expect_fail("{\"method\":\"GET\",\"path\":\"/a/..;{q}\",\"args\":[{\"arg\":\"q\",\"in\":"
                "\"path\",\"name\":\"q\"}]}",
                "{\"q\":\"y\"}", "'..' segment");
    expect_fail("{\"method\":\"GET\",\"path\":\"/a/..{q}/b\",\"args\":[{\"arg\":\"q\",\"in\":"
                "\"path\",\"name\":\"q\",\"style\":\"matrix\"}]}",
                "{\"q\":\"y\"}", "'..' segment");
    expect_fail("{\"method\":\"GET\",\"path\":\"/a/%2e%2E/b\",\"args\":[]}", "{}", "'..' segment");
    expect_url("{\"method\":\"GET\",\"path\":\"/a/..x/.well-known/{q}\",\"args\":[{\"arg\":\"q\","
               "\"in\":\"path\",\"name\":\"q\",\"style\":\"matrix\"}]}",
               "{\"q\":\"y\"}", "https://api.example/base/a/..x/.well-known/;q=y");
    expect_fail("{\"method\":\"TRACE\",\"path\":\"/a\",\"args\":[]}", "{}", "method");
}

#define Q(style, explode)                                                                     \
    "{\"method\":\"GET\",\"path\":\"/q\",\"args\":[{\"arg\":\"v\",\"in\":\"query\",\"name\":"   \
    "\"id\",\"style\":\"" style "\",\"explode\":" explode "}]}"

static void test_query_styles(void **state)
{
    (void)state;
    const char *base = "https://api.example/base/q";
    char want[256];
#define EXPECT_Q(binding, args, query)                          \
    do {                                                        \
        snprintf(want, sizeof(want), "%s%s", base, query);      \
        expect_url(binding, args, want);                        \
    } while (0)
    EXPECT_Q(Q("form", "true"), "{\"v\":5}", "?id=5");
    EXPECT_Q(Q("form", "true"), "{\"v\":\"a b&c=d\"}", "?id=a%20b%26c%3Dd");
    EXPECT_Q(Q("form", "true"), "{\"v\":[3,4,5]}", "?id=3&id=4&id=5");
    EXPECT_Q(Q("form", "false"), "{\"v\":[3,4,5]}", "?id=3,4,5");
    EXPECT_Q(Q("form", "true"), "{\"v\":{\"role\":\"admin\",\"firstName\":\"Alex\"}}",
             "?role=admin&firstName=Alex");
    EXPECT_Q(Q("form", "false"), "{\"v\":{\"role\":\"admin\",\"firstName\":\"Alex\"}}",
             "?id=role,admin,firstName,Alex");
    EXPECT_Q(Q("spaceDelimited", "false"), "{\"v\":[3,4,5]}", "?id=3%204%205");
    EXPECT_Q(Q("pipeDelimited", "false"), "{\"v\":[3,4,5]}", "?id=3%7C4%7C5");
    EXPECT_Q(Q("spaceDelimited", "true"), "{\"v\":[3,4]}", "?id=3&id=4");
    EXPECT_Q(Q("tabDelimited", "false"), "{\"v\":[3,4]}", "?id=3%094");
    /* an OpenAPI `content` parameter travels as one JSON string */
    expect_url("{\"method\":\"GET\",\"path\":\"/q\",\"args\":[{\"arg\":\"f\",\"in\":\"query\","
               "\"name\":\"filter\",\"style\":\"form\",\"explode\":true,"
               "\"contentType\":\"application/json\"}]}",
               "{\"f\":{\"a\":[1,2]}}",
               "https://api.example/base/q?filter=%7B%22a%22%3A%5B1%2C2%5D%7D");
    EXPECT_Q(Q("deepObject", "true"), "{\"v\":{\"R\":100,\"G\":200}}",
             "?id%5BR%5D=100&id%5BG%5D=200");
    EXPECT_Q(Q("deepObject", "true"), "{\"v\":{\"a\":{\"b\":\"x y\"}}}", "?id%5Ba%5D%5Bb%5D=x%20y");
    EXPECT_Q(Q("form", "true"), "{\"v\":true}", "?id=true");
    EXPECT_Q(Q("form", "true"), "{\"v\":1.5}", "?id=1.5");
    EXPECT_Q(Q("form", "true"), "{\"v\":0.1}", "?id=0.1");
    EXPECT_Q(Q("form", "true"), "{\"v\":null}", "");
    /* default style for query is form, exploded */
    expect_url("{\"method\":\"GET\",\"path\":\"/q\",\"args\":[{\"arg\":\"v\",\"in\":\"query\","
               "\"name\":\"tag\"},{\"arg\":\"p\",\"in\":\"query\",\"name\":\"page\"}]}",
               "{\"v\":[\"a\",\"b\"],\"p\":2,\"unknown\":\"ignored\"}",
               "https://api.example/base/q?tag=a&tag=b&page=2");
    /* allowReserved keeps reserved characters but never & = # + */
    expect_url("{\"method\":\"GET\",\"path\":\"/q\",\"args\":[{\"arg\":\"v\",\"in\":\"query\","
               "\"name\":\"u\",\"allowReserved\":true}]}",
               "{\"v\":\"/a:b?c&d=e#f+g\"}", "https://api.example/base/q?u=/a:b?c%26d%3De%23f%2Bg");
    /* CR/LF in a query value are encoded, never raw */
    EXPECT_Q(Q("form", "true"), "{\"v\":\"a\\r\\nb\"}", "?id=a%0D%0Ab");
    expect_fail(Q("form", "true"), "{\"v\":[[1]]}", "deepObject");
}

static const char *HDR_BINDING =
    "{\"method\":\"GET\",\"path\":\"/h\",\"args\":["
    "{\"arg\":\"chan\",\"in\":\"header\",\"name\":\"X-Channel\"},"
    "{\"arg\":\"list\",\"in\":\"header\",\"name\":\"X-List\"},"
    "{\"arg\":\"auth\",\"in\":\"header\",\"name\":\"Authorization\"},"
    "{\"arg\":\"host\",\"in\":\"header\",\"name\":\"Host\"},"
    "{\"arg\":\"len\",\"in\":\"header\",\"name\":\"Content-Length\"},"
    "{\"arg\":\"apim\",\"in\":\"header\",\"name\":\"Ocp-Apim-Subscription-Key\"},"
    "{\"arg\":\"caller\",\"in\":\"header\",\"name\":\"x-caller\"},"
    "{\"arg\":\"ok_auth\",\"in\":\"header\",\"name\":\"X-Api-Key\",\"allowCredentialHeader\":true},"
    "{\"arg\":\"sess\",\"in\":\"cookie\",\"name\":\"session\"},"
    "{\"arg\":\"theme\",\"in\":\"cookie\",\"name\":\"theme\"}]}";

static void test_headers_and_cookies(void **state)
{
    (void)state;
    struct built b = build(HDR_BINDING, "{\"chan\":\"web\",\"list\":[1,2],\"ok_auth\":\"k1\","
                                        "\"sess\":\"a b;c\",\"theme\":\"dark\"}");
    assert_int_equal(b.rc, GW_OK);
    assert_string_equal(header(&b.req, "X-Channel"), "web");
    assert_string_equal(header(&b.req, "X-List"), "1,2");
    assert_string_equal(header(&b.req, "X-Api-Key"), "k1");
    assert_null(header(&b.req, "Cookie"));
    assert_int_equal(gw_upstream_req_finish(&b.req, NULL), GW_OK);
    assert_string_equal(header(&b.req, "Cookie"), "session=a%20b%3Bc; theme=dark");
    gw_upstream_req_fini(&b.req);

    expect_fail(HDR_BINDING, "{\"chan\":\"a\\r\\nX-Injected: 1\"}", "CR, LF");
    expect_fail(HDR_BINDING, "{\"chan\":\"a\\nb\"}", "CR, LF");
    expect_fail(HDR_BINDING, "{\"chan\":\"a\\u0000b\"}", NULL);
    expect_fail(HDR_BINDING, "{\"list\":[\"a\",\"b\\r\\n\"]}", "CR, LF");
    expect_fail(HDR_BINDING, "{\"auth\":\"Bearer stolen\"}", "credential header 'Authorization'");
    expect_fail(HDR_BINDING, "{\"host\":\"evil\"}", "may not set");
    expect_fail(HDR_BINDING, "{\"len\":\"0\"}", "may not set");
    expect_fail(HDR_BINDING, "{\"apim\":\"k\"}", "credential header");
    expect_fail(HDR_BINDING, "{\"caller\":\"someone-else\"}", "credential header");
    /* a direct API call with a bad value is refused too */
    struct gw_upstream_req r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(gw_upstream_req_add_header(&r, "X-A", "v\r\nX-B: 1", NULL), GW_EINVAL);
    assert_int_equal(gw_upstream_req_add_header(&r, "X A", "v", NULL), GW_EINVAL);
    assert_int_equal(gw_upstream_req_add_header(&r, "X-A", "tab\tok", NULL), GW_OK);
    assert_int_equal(gw_upstream_req_add_cookie(&r, "a;b", "v", NULL), GW_EINVAL);
    gw_upstream_req_fini(&r);
}

static void test_json_body(void **state)
{
    (void)state;
    const char *bind = "{\"method\":\"POST\",\"path\":\"/b/{dealerId}\",\"args\":["
                       "{\"arg\":\"dealerId\",\"in\":\"path\",\"name\":\"dealerId\"},"
                       "{\"arg\":\"vehicle\",\"in\":\"body\",\"name\":\"vehicle\"},"
                       "{\"arg\":\"slot\",\"in\":\"body\",\"name\":\"slot\"},"
                       "{\"arg\":\"id_body\",\"in\":\"body\",\"name\":\"id\"}],"
                       "\"body\":{\"contentType\":\"application/json\",\"required\":true}}";
    struct built b = build(bind, "{\"dealerId\":\"D1\",\"vehicle\":{\"reg\":\"MH12AB1234\"},"
                                 "\"slot\":\"10:00\",\"id_body\":7}");
    assert_int_equal(b.rc, GW_OK);
    assert_string_equal(b.req.url, "https://api.example/base/b/D1");
    assert_string_equal(b.req.body, "{\"vehicle\":{\"reg\":\"MH12AB1234\"},\"slot\":\"10:00\","
                                    "\"id\":7}");
    assert_string_equal(header(&b.req, "Content-Type"), "application/json");
    assert_false(b.req.idempotent_method);
    /* source entries (credential, contentType) are not arguments and are skipped */
    gw_upstream_req_fini(&b.req);
    b = build("{\"method\":\"POST\",\"path\":\"/s\",\"args\":[{\"in\":\"header\",\"name\":"
              "\"x-api-key\",\"source\":\"credential\",\"scheme\":\"k\"},{\"in\":\"header\","
              "\"name\":\"Content-Type\",\"source\":\"contentType\"}]}",
              "{\"x-api-key\":\"forged\"}");
    assert_int_equal(b.rc, GW_OK);
    assert_null(header(&b.req, "x-api-key"));
    gw_upstream_req_fini(&b.req);
    b = build(bind, "{\"dealerId\":\"D1\",\"vehicle\":{\"reg\":\"MH12AB1234\"},"
                    "\"slot\":\"10:00\",\"id_body\":7}");
    /* the path argument is not repeated in the body */
    assert_null(strstr(b.req.body, "D1"));
    gw_upstream_req_fini(&b.req);

    /* required object body with nothing given: {} */
    b = build(bind, "{\"dealerId\":\"D1\"}");
    assert_int_equal(b.rc, GW_OK);
    assert_string_equal(b.req.body, "{}");
    gw_upstream_req_fini(&b.req);

    /* whole body */
    b = build("{\"method\":\"PUT\",\"path\":\"/w\",\"args\":[{\"arg\":\"body\",\"in\":"
              "\"body-whole\"}],\"body\":{\"contentType\":\"application/merge-patch+json\"}}",
              "{\"body\":[1,{\"a\":null}]}");
    assert_int_equal(b.rc, GW_OK);
    assert_string_equal(b.req.body, "[1,{\"a\":null}]");
    assert_string_equal(header(&b.req, "Content-Type"), "application/merge-patch+json");
    assert_true(b.req.idempotent_method);
    gw_upstream_req_fini(&b.req);

    expect_fail("{\"method\":\"POST\",\"path\":\"/w\",\"args\":[{\"arg\":\"body\",\"in\":"
                "\"body-whole\"}],\"body\":{\"contentType\":\"application/json\",\"required\":"
                "true}}",
                "{}", "required");
    expect_fail("{\"method\":\"POST\",\"path\":\"/w\",\"args\":[{\"arg\":\"b\",\"in\":\"body\","
                "\"name\":\"b\"}],\"body\":{\"contentType\":\"application/json\\r\\nX: y\"}}",
                "{\"b\":1}", "content type");
}

static void test_form_multipart_text_bodies(void **state)
{
    (void)state;
    struct built b = build("{\"method\":\"POST\",\"path\":\"/f\",\"args\":["
                           "{\"arg\":\"name\",\"in\":\"body\",\"name\":\"name\"},"
                           "{\"arg\":\"tags\",\"in\":\"body\",\"name\":\"tags\"},"
                           "{\"arg\":\"meta\",\"in\":\"body\",\"name\":\"meta\"}],"
                           "\"body\":{\"contentType\":\"application/x-www-form-urlencoded\"}}",
                           "{\"name\":\"A&B = C\",\"tags\":[\"x\",\"y\"],\"meta\":{\"k\":1}}");
    assert_int_equal(b.rc, GW_OK);
    assert_string_equal(b.req.body,
                        "name=A%26B%20%3D%20C&tags=x&tags=y&meta=%7B%22k%22%3A1%7D");
    assert_string_equal(header(&b.req, "Content-Type"), "application/x-www-form-urlencoded");
    gw_upstream_req_fini(&b.req);

    b = build("{\"method\":\"POST\",\"path\":\"/m\",\"args\":["
              "{\"arg\":\"name\",\"in\":\"body\",\"name\":\"name\"},"
              "{\"arg\":\"meta\",\"in\":\"body\",\"name\":\"meta\"},"
              "{\"arg\":\"files\",\"in\":\"body\",\"name\":\"file\"}],"
              "\"body\":{\"contentType\":\"multipart/form-data\"}}",
              "{\"name\":\"Alice\",\"meta\":{\"k\":1},\"files\":[\"one\",\"two\"]}");
    assert_int_equal(b.rc, GW_OK);
    assert_null(b.req.body);
    assert_int_equal(b.req.nparts, 4);
    assert_string_equal(b.req.parts[0].name, "name");
    assert_string_equal(b.req.parts[0].data, "Alice");
    assert_null(b.req.parts[0].content_type);
    assert_string_equal(b.req.parts[1].data, "{\"k\":1}");
    assert_string_equal(b.req.parts[1].content_type, "application/json");
    assert_string_equal(b.req.parts[3].name, "file");
    assert_string_equal(b.req.parts[3].data, "two");
    assert_null(header(&b.req, "Content-Type")); /* curl sets it with the boundary */
    gw_upstream_req_fini(&b.req);

    b = build("{\"method\":\"POST\",\"path\":\"/t\",\"args\":[{\"arg\":\"body\",\"in\":"
              "\"body-whole\"}],\"body\":{\"contentType\":\"text/plain; charset=utf-8\"}}",
              "{\"body\":\"hello\\nworld\"}");
    assert_int_equal(b.rc, GW_OK);
    assert_string_equal(b.req.body, "hello\nworld");
    assert_string_equal(header(&b.req, "Content-Type"), "text/plain; charset=utf-8");
    gw_upstream_req_fini(&b.req);

    /* GET never carries a body */
    b = build("{\"method\":\"GET\",\"path\":\"/g\",\"args\":[{\"arg\":\"x\",\"in\":\"body\","
              "\"name\":\"x\"}]}",
              "{\"x\":1}");
    assert_int_equal(b.rc, GW_OK);
    assert_null(b.req.body);
    gw_upstream_req_fini(&b.req);
}

static void test_limits_and_base(void **state)
{
    (void)state;
    /* URL limit */
    char big[20000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_t *args = json_pack("{s:s}", "v", big);
    json_t *bind = J(Q("form", "true"));
    struct gw_upstream_req r;
    struct gw_error err;
    struct gw_upstream_build_opts o = {"https://x.example", NULL, 0, 0, 0};
    assert_int_equal(gw_upstream_req_build(bind, args, &o, &r, &err), GW_ELIMIT);
    gw_upstream_req_fini(&r);
    /* base URL must be http(s) without query */
    json_t *small = J("{\"v\":1}");
    o.base_url = "ftp://x.example";
    assert_int_equal(gw_upstream_req_build(bind, small, &o, &r, &err), GW_EINVAL);
    o.base_url = "https://x.example/?a=1";
    assert_int_equal(gw_upstream_req_build(bind, small, &o, &r, &err), GW_EINVAL);
    o.base_url = "http://x.example";
    assert_int_equal(gw_upstream_req_build(bind, small, &o, &r, &err), GW_OK);
    assert_string_equal(r.url, "http://x.example/q?id=1");
    assert_int_equal(gw_upstream_req_add_query(&r, "api key", "s&e=c", &err), GW_OK);
    assert_string_equal(r.url, "http://x.example/q?id=1&api%20key=s%26e%3Dc");
    gw_upstream_req_fini(&r);
    json_decref(small);
    json_decref(args);
    json_decref(bind);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_encoding),
        cmocka_unit_test(test_path_reserved_expansion),
        cmocka_unit_test(test_path_injection_refused),
        cmocka_unit_test(test_query_styles),
        cmocka_unit_test(test_headers_and_cookies),
        cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_form_multipart_text_bodies),
        cmocka_unit_test(test_limits_and_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
