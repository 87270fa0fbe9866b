/*
 * tests/unit/admin/test_admin.c
 * The admin REST API end to end, in process: a gw_server on 127.0.0.1:0 with the admin module
 * attached and a fresh database per test (SQLite; PostgreSQL too when GW_TEST_PG_URL is set, see
 * tests/unit/store/store_testenv.h), driven over real HTTP with libcurl from the test thread.
 * Covers: the import flow on the MSIL DMS spec (preview from the body, approve a subset with an
 * edited description, list/paging, PATCH with If-Match ok and 409, status actions, history,
 * re-import, spec delete), a YAML upload, URL import through the SSRF guard (refused by default,
 * allowed when allowlisted, re-import from the stored URL), bundles, health, the write hook,
 * bad input (bodies, names, query parameters, methods, approvals), concurrent clients, the
 * dashboard's summary endpoint over a real time series (window/step refusals), and the pure
 * pieces (routes, If-Match, peer check, settings -> server options).
 * The DMS spec comes from the shared corpus (GW_OPENAPI_CORPUS, default
 * /work/shared/corpus/openapi); the tests that need it skip when it is absent.
 */
#include "../store/store_testenv.h"

#include "admin/admin.h"
#include "admin/admin_internal.h"
#include "audit/audit.h"
#include "audit/audit_note.h"
#include "audit/audit_verification.h"
#include "core/buf.h"
#include "core/json.h"
#include "metrics/metrics_series.h"
#include "net/net_http.h"
#include "net/net_server.h"
#include "openapi/openapi.h"
#include "ssrf/ssrf.h"
#include "store/store.h"
#include "store/store_settings.h"
#include "store/store_tool.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

/* ---- fixture: server + admin + HTTP client ------------------------------------------------ */

struct fx {
    struct tenv *e;
    struct gw_server *srv;
    struct gw_admin *adm;
    struct gw_ssrf_policy *policy; /* when the test allowlists loopback */
    char base[64];
    atomic_int writes;
    struct gw_metrics_series *series; /* behind /metrics/summary */
};

static char *g_dms;     /* the DMS spec text, served at /fixtures/dms.json */
static const struct gw_settings *g_settings; /* given to the admin by fx_start when set */
static size_t g_dms_len;

static char *read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct gw_buf b;
    gw_buf_init(&b, 64u << 20);
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        gw_buf_add(&b, tmp, n);
    fclose(f);
    return gw_buf_take(&b, out_len);
}

/* The DMS spec, or a cmocka skip when the corpus is absent. */
static void need_dms(void)
{
    if (g_dms)
        return;
    const char *dir = getenv("GW_OPENAPI_CORPUS");
    char path[1024];
    snprintf(path, sizeof(path), "%s/msil/dms-preprod-swagger.json",
             dir && *dir ? dir : "/work/shared/corpus/openapi");
    g_dms = read_file(path, &g_dms_len);
    if (!g_dms) {
        printf("# %s absent: skipped\n", path);
        skip();
    }
}

static void fixture_route(struct gw_http_req *r, void *arg)
{
    (void)arg;
    if (!strcmp(gw_http_path(r), "/fixtures/dms.json") && g_dms)
        gw_http_reply(r, 200, "application/json", g_dms, g_dms_len);
    else
        gw_http_reply_error(r, 404, "not_found", "no fixture");
}

static json_t *series_summary(void *arg, unsigned window, unsigned step, struct gw_error *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return gw_metrics_series_summary(arg, (int64_t)ts.tv_sec * 1000, window, step, err);
}

static void count_write(void *arg)
{
    struct fx *f = arg;
    atomic_fetch_add(&f->writes, 1);
}

static struct gw_store *open_migrated(const struct tenv *e)
{
    struct gw_store *st = NULL;
    struct gw_error err = {0};
    if (gw_store_open(e->url, NULL, &st, &err) != GW_OK ||
        gw_store_migrate(st, NULL, &err) != GW_OK)
        fail_msg("store: %s", err.msg);
    return st;
}

/* Starts server + admin on a migrated database. allow_loopback_fetch: the SSRF policy
 * allowlists 127.0.0.1 (for URL imports from the fixture route). */
static struct fx *fx_start(void **state, bool allow_loopback_fetch)
{
    static bool curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = true;
    }
    struct tenv *e = tenv_get(state);
    gw_store_close(open_migrated(e));
    struct fx *f = gw_xcalloc(1, sizeof(*f));
    f->e = e;
    struct gw_net_options no = {"127.0.0.1:0", 1, 64u << 20, 64u << 10, 64, 30, 2, false};
    struct gw_error err = {0};
    if (gw_server_new(&no, &f->srv, &err) != GW_OK)
        fail_msg("server: %s", err.msg);
    if (allow_loopback_fetch) {
        f->policy = gw_ssrf_policy_new();
        assert_int_equal(gw_ssrf_policy_allow(f->policy, "127.0.0.1", &err), GW_OK);
    }
    struct gw_admin_config cfg = {0};
    cfg.store_url = e->url;
    cfg.ssrf = f->policy;
    cfg.threads = 2;
    cfg.on_write = count_write;
    cfg.on_write_arg = f;
    cfg.settings = g_settings;
    f->series = gw_metrics_series_new();
    cfg.metrics_summary = series_summary;
    cfg.metrics_arg = f->series;
    if (gw_admin_attach(f->srv, &cfg, &f->adm, &err) != GW_OK)
        fail_msg("attach: %s", err.msg);
    gw_server_route(f->srv, "/fixtures/*", fixture_route, NULL);
    if (gw_server_start(f->srv, &err) != GW_OK)
        fail_msg("start: %s", err.msg);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d", gw_server_port(f->srv));
    return f;
}

static void fx_stop(struct fx *f)
{
    gw_server_shutdown(f->srv);
    gw_server_wait(f->srv);
    gw_admin_free(f->adm);
    gw_server_free(f->srv);
    gw_ssrf_policy_free(f->policy);
    gw_metrics_series_free(f->series);
    gw_free(f);
}

struct resp {
    long status;
    json_t *json; /* the parsed body, or NULL */
    char etag[64];
    char allow[128];
    char location[256];
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    return gw_buf_add(ud, p, sz * n) == GW_OK ? sz * n : 0;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t size)
{
    size_t k = strlen(name);
    if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return;
    const char *v = line + k + 1;
    size_t vn = n - k - 1;
    while (vn && (*v == ' '))
        v++, vn--;
    while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n'))
        vn--;
    snprintf(out, size, "%.*s", (int)vn, v);
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    header_value(p, sz * n, "ETag", r->etag, sizeof(r->etag));
    header_value(p, sz * n, "Allow", r->allow, sizeof(r->allow));
    header_value(p, sz * n, "Location", r->location, sizeof(r->location));
    return sz * n;
}

/* One request; `hdr` is an optional extra header line ("If-Match: \"1\""). */
static struct resp req(struct fx *f, const char *method, const char *path, const char *body,
                       size_t len, const char *hdr)
{
    struct resp r = {0};
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", f->base, path);
    struct gw_buf b;
    gw_buf_init(&b, 256u << 20);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Expect:");
    if (hdr)
        h = curl_slist_append(h, hdr);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send "..", "//" as written */
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r.json = json_loadb(gw_buf_ptr(&b), gw_buf_len(&b), 0, NULL);
    gw_buf_fini(&b);
    return r;
}

static struct resp req_json(struct fx *f, const char *method, const char *path, json_t *body,
                            const char *hdr)
{
    char *t = json_dumps(body, JSON_COMPACT);
    struct resp r = req(f, method, path, t, strlen(t), hdr);
    free(t); /* jansson's allocator */
    return r;
}

static void resp_free(struct resp *r)
{
    json_decref(r->json);
    r->json = NULL;
}

/* Asserts status and (for errors) the error code; prints the body when it differs. */
static void expect(struct resp *r, long status, const char *code)
{
    if (r->status != status) {
        char *t = r->json ? json_dumps(r->json, JSON_COMPACT) : NULL;
        fail_msg("expected %ld, got %ld: %s", status, r->status, t ? t : "(no JSON body)");
    }
    if (code) {
        const char *got = json_string_value(
            json_object_get(json_object_get(r->json, "error"), "code"));
        if (!got || strcmp(got, code) != 0)
            fail_msg("expected error code %s, got %s", code, got ? got : "(none)");
    }
}

static const char *err_msg(const struct resp *r)
{
    const char *m =
        json_string_value(json_object_get(json_object_get(r->json, "error"), "message"));
    return m ? m : "";
}

static bool has_name(json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v) : gw_json_str(v, "name");
        if (s && !strcmp(s, name))
            return true;
    }
    return false;
}

/* The tool called `name` in an array of definitions. */
static json_t *find_tool(json_t *tools, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(tools, i, v) if (!strcmp(gw_json_str(v, "name"), name)) return v;
    fail_msg("tool %s not in the preview", name);
    return NULL;
}

/* ---- the import flow on the DMS spec ------------------------------------------------------ */

static const char *const subset[] = {"get_am_list_by_name", "get_dealer_master",
                                     "create_appointment_booking", "cancel_appointment_booking",
                                     "get_service_details"};
#define NSUBSET (sizeof(subset) / sizeof(subset[0]))

/* Previews the DMS spec from the body and approves `subset` with one edited description.
 * Returns the spec id (static storage). */
static const char *preview_and_approve(struct fx *f)
{
    static char spec_id[GW_STORE_NAME_MAX + 1];
    struct resp p = req(f, "POST", "/admin/api/imports/preview?fileName=dms.json", g_dms,
                        g_dms_len, "Content-Type: application/json");
    expect(&p, 200, NULL);
    json_t *tools = json_object_get(p.json, "tools");
    json_t *spec = json_object_get(p.json, "spec");
    json_t *diff = json_object_get(p.json, "diff");
    assert_int_equal(json_array_size(tools), 50);
    assert_string_equal(gw_json_str(spec, "title"), "msil-common-sam-preprod-dms");
    assert_string_equal(gw_json_str(spec, "id"), "msil-common-sam-preprod-dms");
    assert_string_equal(gw_json_str(spec, "fileName"), "dms.json");
    assert_int_equal(json_string_length(json_object_get(spec, "content")), g_dms_len);
    assert_int_equal(json_array_size(json_object_get(diff, "added")), 50);
    assert_true(json_is_true(json_object_get(diff, "dryRun")));
    assert_true(json_is_array(json_object_get(p.json, "warnings")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(p.json, "summary"),
                                                        "tools")),
                     50);
    assert_null(json_object_get(json_object_get(p.json, "summary"), "warnings"));
    snprintf(spec_id, sizeof(spec_id), "%s", gw_json_str(spec, "id"));

    /* nothing was written by the preview */
    struct resp l = req(f, "GET", "/admin/api/tools", NULL, 0, NULL);
    expect(&l, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(l.json, "total")), 0);
    resp_free(&l);
    assert_int_equal(atomic_load(&f->writes), 0);

    json_t *approved = json_array();
    for (size_t i = 0; i < NSUBSET; i++)
        json_array_append_new(approved, json_deep_copy(find_tool(tools, subset[i])));
    json_object_set_new(json_array_get(approved, 1), "description",
                        json_string("Dealer master data (edited in the preview)"));
    json_t *body = json_pack("{s:O,s:o,s:b}", "spec", spec, "tools", approved, "activate", 0);
    struct resp a = req_json(f, "POST", "/admin/api/imports", body, "X-Change-Reason: review 42");
    json_decref(body);
    expect(&a, 200, NULL);
    json_t *ad = json_object_get(a.json, "diff");
    assert_int_equal(json_array_size(json_object_get(ad, "added")), NSUBSET);
    for (size_t i = 0; i < NSUBSET; i++)
        assert_true(has_name(json_object_get(ad, "added"), subset[i]));
    assert_string_equal(gw_json_str(ad, "specId"), spec_id);
    assert_int_equal(atomic_load(&f->writes), 1);
    resp_free(&a);
    resp_free(&p);
    return spec_id;
}

static void test_import_flow(void **state)
{
    need_dms();
    struct fx *f = fx_start(state, false);
    const char *spec_id = preview_and_approve(f);
    char path[512];

    /* list with a filter, paged two at a time */
    snprintf(path, sizeof(path), "/admin/api/tools?spec=%s&limit=2", spec_id);
    struct resp l = req(f, "GET", path, NULL, 0, NULL);
    expect(&l, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(l.json, "total")), NSUBSET);
    assert_int_equal(json_array_size(json_object_get(l.json, "items")), 2);
    json_t *seen = json_array();
    size_t pages = 0;
    while (l.json) {
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(l.json, "items"), i, t)
        {
            json_array_append(seen, json_object_get(t, "name"));
            assert_string_equal(gw_json_str(t, "status"), "draft");
        }
        pages++;
        const char *next = gw_json_str(l.json, "next");
        if (!next) {
            resp_free(&l);
            break;
        }
        snprintf(path, sizeof(path), "/admin/api/tools?spec=%s&limit=2&after=%s", spec_id, next);
        resp_free(&l);
        l = req(f, "GET", path, NULL, 0, NULL);
        expect(&l, 200, NULL);
    }
    assert_int_equal(pages, 3);
    assert_int_equal(json_array_size(seen), NSUBSET);
    for (size_t i = 0; i < NSUBSET; i++)
        assert_true(has_name(seen, subset[i]));
    json_decref(seen);

    /* the edit made in the preview was kept */
    struct resp g = req(f, "GET", "/admin/api/tools/get_dealer_master", NULL, 0, NULL);
    expect(&g, 200, NULL);
    assert_string_equal(gw_json_str(g.json, "description"),
                        "Dealer master data (edited in the preview)");
    assert_string_equal(g.etag, "\"1\"");
    assert_string_equal(gw_json_str(json_object_get(g.json, "source"), "specId"), spec_id);
    resp_free(&g);

    /* PATCH with If-Match: the current version succeeds, a stale one is a conflict */
    int writes = atomic_load(&f->writes);
    json_t *chg = json_pack("{s:s,s:b}", "risk", "privileged", "requiresConfirmation", 1);
    struct resp p1 = req_json(f, "PATCH", "/admin/api/tools/get_dealer_master", chg,
                              "If-Match: \"1\"");
    expect(&p1, 200, NULL);
    assert_string_equal(p1.etag, "\"2\"");
    assert_string_equal(gw_json_str(p1.json, "risk"), "privileged");
    assert_int_equal(json_integer_value(json_object_get(p1.json, "version")), 2);
    assert_int_equal(atomic_load(&f->writes), writes + 1);
    struct resp p2 = req_json(f, "PATCH", "/admin/api/tools/get_dealer_master", chg,
                              "If-Match: \"1\"");
    expect(&p2, 409, "conflict");
    assert_int_equal(atomic_load(&f->writes), writes + 1);
    json_decref(chg);
    resp_free(&p1);
    resp_free(&p2);
    chg = json_pack("{s:s}", "title", "Dealer master");
    struct resp p3 = req_json(f, "PATCH", "/admin/api/tools/get_dealer_master", chg, "If-Match: *");
    expect(&p3, 200, NULL);
    assert_string_equal(p3.etag, "\"3\"");
    json_decref(chg);
    resp_free(&p3);

    /* status actions */
    struct resp s1 = req(f, "POST", "/admin/api/tools/get_dealer_master/activate", NULL, 0, NULL);
    expect(&s1, 200, NULL);
    assert_string_equal(gw_json_str(s1.json, "status"), "active");
    resp_free(&s1);
    struct resp s2 = req(f, "POST", "/admin/api/tools/get_dealer_master/disable", NULL, 0, NULL);
    expect(&s2, 200, NULL);
    assert_string_equal(gw_json_str(s2.json, "status"), "disabled");
    resp_free(&s2);
    struct resp s3 = req(f, "POST", "/admin/api/tools/get_pin/activate", NULL, 0, NULL);
    expect(&s3, 404, "not_found");
    resp_free(&s3);
    struct resp fl = req(f, "GET", "/admin/api/tools?status=disabled", NULL, 0, NULL);
    expect(&fl, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(fl.json, "total")), 1);
    resp_free(&fl);

    /* history: newest first, paged by offset */
    struct resp h = req(f, "GET", "/admin/api/tools/get_dealer_master/history?limit=2", NULL, 0,
                        NULL);
    expect(&h, 200, NULL);
    json_t *items = json_object_get(h.json, "items");
    assert_int_equal(json_array_size(items), 2);
    long long v0 = json_integer_value(json_object_get(json_array_get(items, 0), "version"));
    long long v1 = json_integer_value(json_object_get(json_array_get(items, 1), "version"));
    assert_true(v0 > v1);
    assert_string_equal(gw_json_str(h.json, "next"), "2");
    struct resp h2 = req(f, "GET", "/admin/api/tools/get_dealer_master/history?limit=100&after=2",
                         NULL, 0, NULL);
    expect(&h2, 200, NULL);
    size_t rest = json_array_size(json_object_get(h2.json, "items"));
    assert_true(rest >= 2); /* the two PATCHes before the status changes, the creation */
    assert_true(json_is_null(json_object_get(h2.json, "next")));
    json_t *last = json_array_get(json_object_get(h2.json, "items"), rest - 1);
    assert_true(json_is_null(json_object_get(last, "previous"))); /* the creation */
    /* who and why of the approval reached the history */
    assert_string_equal(gw_json_str(last, "actor"), "anonymous");
    assert_string_equal(gw_json_str(last, "reason"), "review 42");
    resp_free(&h);
    resp_free(&h2);
    struct resp hn = req(f, "GET", "/admin/api/tools/no_such_tool/history", NULL, 0, NULL);
    expect(&hn, 404, "not_found");
    resp_free(&hn);


    /* specs */
    struct resp sl = req(f, "GET", "/admin/api/specs", NULL, 0, NULL);
    expect(&sl, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(sl.json, "items")), 1);
    json_t *sp = json_array_get(json_object_get(sl.json, "items"), 0);
    assert_string_equal(gw_json_str(sp, "id"), spec_id);
    assert_int_equal(json_integer_value(json_object_get(sp, "toolCount")), NSUBSET);
    assert_null(json_object_get(sp, "content"));
    resp_free(&sl);
    snprintf(path, sizeof(path), "/admin/api/specs/%s?content=true", spec_id);
    struct resp sg = req(f, "GET", path, NULL, 0, NULL);
    expect(&sg, 200, NULL);
    assert_int_equal(json_string_length(json_object_get(sg.json, "content")), g_dms_len);
    resp_free(&sg);

    /* re-import from the stored document: the 45 other operations arrive as drafts, the edited
     * description returns to the spec's text, the operator's governance stays */
    writes = atomic_load(&f->writes);
    snprintf(path, sizeof(path), "/admin/api/specs/%s/reimport", spec_id);
    struct resp ri = req(f, "POST", path, NULL, 0, NULL);
    expect(&ri, 200, NULL);
    json_t *rd = json_object_get(ri.json, "diff");
    assert_int_equal(json_array_size(json_object_get(rd, "added")), 50 - NSUBSET);
    assert_true(has_name(json_object_get(rd, "changed"), "get_dealer_master"));
    assert_int_equal(json_array_size(json_object_get(rd, "removed")), 0);
    assert_int_equal(json_integer_value(json_object_get(rd, "unchanged")), NSUBSET - 1);
    assert_null(json_object_get(json_object_get(ri.json, "spec"), "content"));
    assert_int_equal(atomic_load(&f->writes), writes + 1);
    resp_free(&ri);
    struct resp g2 = req(f, "GET", "/admin/api/tools/get_dealer_master", NULL, 0, NULL);
    expect(&g2, 200, NULL);
    assert_string_equal(gw_json_str(g2.json, "status"), "disabled");
    assert_string_equal(gw_json_str(g2.json, "risk"), "privileged");
    assert_string_not_equal(gw_json_str(g2.json, "description"),
                            "Dealer master data (edited in the preview)");
    resp_free(&g2);

    /* a dry-run re-import writes nothing */
    writes = atomic_load(&f->writes);
    snprintf(path, sizeof(path), "/admin/api/specs/%s/reimport?dryRun=true", spec_id);
    struct resp rdry = req(f, "POST", path, NULL, 0, NULL);
    expect(&rdry, 200, NULL);
    assert_true(json_is_true(json_object_get(json_object_get(rdry.json, "diff"), "dryRun")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(rdry.json, "diff"),
                                                        "unchanged")),
                     50);
    assert_int_equal(atomic_load(&f->writes), writes);
    resp_free(&rdry);

    /* delete a tool, then the spec with its tools */
    struct resp d1 = req(f, "DELETE", "/admin/api/tools/get_pin", NULL, 0, NULL);
    expect(&d1, 200, NULL);
    resp_free(&d1);
    struct resp d2 = req(f, "DELETE", "/admin/api/tools/get_pin", NULL, 0, NULL);
    expect(&d2, 404, "not_found");
    resp_free(&d2);
    snprintf(path, sizeof(path), "/admin/api/specs/%s?removeTools=true", spec_id);
    struct resp ds = req(f, "DELETE", path, NULL, 0, NULL);
    expect(&ds, 200, NULL);
    assert_string_equal(gw_json_str(ds.json, "tools"), "removed");
    resp_free(&ds);
    struct resp l2 = req(f, "GET", "/admin/api/tools", NULL, 0, NULL);
    expect(&l2, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(l2.json, "total")), 0);
    resp_free(&l2);
    snprintf(path, sizeof(path), "/admin/api/specs/%s", spec_id);
    struct resp sg2 = req(f, "GET", path, NULL, 0, NULL);
    expect(&sg2, 404, "not_found");
    resp_free(&sg2);
    fx_stop(f);
}

/* Deleting a spec without removeTools deprecates its tools. */
static void test_spec_delete_deprecates(void **state)
{
    need_dms();
    struct fx *f = fx_start(state, false);
    const char *spec_id = preview_and_approve(f);
    char path[256];
    snprintf(path, sizeof(path), "/admin/api/specs/%s", spec_id);
    struct resp ds = req(f, "DELETE", path, NULL, 0, NULL);
    expect(&ds, 200, NULL);
    assert_string_equal(gw_json_str(ds.json, "tools"), "deprecated");
    resp_free(&ds);
    struct resp l = req(f, "GET", "/admin/api/tools?status=deprecated", NULL, 0, NULL);
    expect(&l, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(l.json, "total")), NSUBSET);
    resp_free(&l);
    fx_stop(f);
}

/* A YAML upload with options from the query; approving everything active, into a bundle. */
static void test_yaml_preview_bundle(void **state)
{
    struct fx *f = fx_start(state, false);
    char path[1024];
    const char *src = getenv("GW_SOURCE_DIR");
    if (src && *src)
        snprintf(path, sizeof(path), "%s/tools/mock-apim/openapi/service-booking.yaml", src);
    else /* run by hand: the repository is where this file's tests/unit/ starts */
        snprintf(path, sizeof(path), "%.*s/tools/mock-apim/openapi/service-booking.yaml",
                 (int)(strstr(__FILE__, "/tests/unit/") ? strstr(__FILE__, "/tests/unit/") -
                                                              __FILE__
                                                        : 1),
                 strstr(__FILE__, "/tests/unit/") ? __FILE__ : ".");
    size_t len = 0;
    char *yaml = read_file(path, &len);
    assert_non_null(yaml);
    struct resp p = req(f, "POST",
                        "/admin/api/imports/preview?specId=svc.booking&bundle=service-booking"
                        "&upstream=service-booking&includeContent=false",
                        yaml, len, "Content-Type: application/yaml");
    expect(&p, 200, NULL);
    json_t *spec = json_object_get(p.json, "spec");
    assert_string_equal(gw_json_str(spec, "id"), "svc.booking");
    assert_null(json_object_get(spec, "content"));
    json_t *tools = json_object_get(p.json, "tools");
    assert_true(json_array_size(tools) > 0);
    json_t *t0 = json_array_get(tools, 0);
    assert_string_equal(gw_json_str(t0, "bundle"), "service-booking");
    assert_string_equal(gw_json_str(json_object_get(t0, "binding"), "upstream"),
                        "service-booking");
    json_t *body = json_pack("{s:O,s:O,s:b,s:s}", "spec", spec, "tools", tools, "activate", 1,
                             "bundle", "service-booking");
    struct resp a = req_json(f, "POST", "/admin/api/imports", body, NULL);
    expect(&a, 200, NULL);
    resp_free(&a);
    json_decref(body);

    struct resp l = req(f, "GET", "/admin/api/tools?bundle=service-booking&status=active", NULL,
                        0, NULL);
    expect(&l, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(l.json, "total")),
                     json_array_size(tools));
    resp_free(&l);
    /* the bundle was created with the tools */
    struct resp b = req(f, "GET", "/admin/api/bundles/service-booking", NULL, 0, NULL);
    expect(&b, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(b.json, "toolCount")),
                     json_array_size(tools));
    resp_free(&b);
    /* a stored spec without content and without URL cannot be re-imported without a body */
    struct resp ri = req(f, "POST", "/admin/api/specs/svc.booking/reimport", NULL, 0, NULL);
    expect(&ri, 400, "invalid");
    assert_non_null(strstr(err_msg(&ri), "neither a source URL"));
    resp_free(&ri);
    /* ... but with the document in the body it can: nothing changed */
    struct resp r2 = req(f, "POST", "/admin/api/specs/svc.booking/reimport", yaml, len, NULL);
    expect(&r2, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r2.json, "diff"),
                                                        "unchanged")),
                     json_array_size(tools));
    resp_free(&r2);
    /* the same document under another spec id: its names belong to svc.booking. By default
     * (naming policy) the new tools get the product's prefix, reported as conflicts ... */
    struct resp c0 = req(f, "POST", "/admin/api/imports/preview?specId=other", yaml, len, NULL);
    expect(&c0, 200, NULL);
    json_t *conf = json_object_get(json_object_get(c0.json, "diff"), "conflicts");
    assert_int_equal(json_array_size(conf), json_array_size(tools));
    const char *pname = gw_json_str(json_array_get(conf, 0), "name");
    if (!strstr(pname, "service_booking_") && !strstr(pname, "other_"))
        fail_msg("unexpected prefixed name %s", pname);
    resp_free(&c0);
    /* ... and with onConflict=fail the preview reports the conflict instead of a diff, and
     * approving it is a 409 */
    struct resp c = req(f, "POST", "/admin/api/imports/preview?specId=other&onConflict=fail", yaml,
                        len, NULL);
    expect(&c, 200, NULL);
    assert_true(json_is_null(json_object_get(c.json, "diff")));
    json_t *de = json_object_get(c.json, "diffError");
    assert_string_equal(gw_json_str(de, "code"), "conflict");
    assert_non_null(strstr(gw_json_str(de, "message"), "already used"));
    json_t *cb = json_pack("{s:O,s:O,s:s}", "spec", json_object_get(c.json, "spec"), "tools",
                           json_object_get(c.json, "tools"), "onConflict", "fail");
    struct resp ca = req_json(f, "POST", "/admin/api/imports", cb, NULL);
    expect(&ca, 409, "conflict");
    resp_free(&ca);
    json_decref(cb);
    struct resp bad =
        req(f, "POST", "/admin/api/imports/preview?onConflict=maybe", yaml, len, NULL);
    expect(&bad, 400, "invalid");
    resp_free(&bad);
    resp_free(&c);
    struct resp sl = req(f, "GET", "/admin/api/specs", NULL, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(sl.json, "items")), 1);
    resp_free(&sl);
    resp_free(&p);
    gw_free(yaml);
    fx_stop(f);
}

/* ---- URL imports through the SSRF guard ---------------------------------------------------- */

static void test_url_import_refused_by_default(void **state)
{
    need_dms();
    struct fx *f = fx_start(state, false);
    char body[256];
    snprintf(body, sizeof(body), "{\"url\": \"%s/fixtures/dms.json\"}", f->base);
    struct resp p = req(f, "POST", "/admin/api/imports/preview", body, strlen(body), NULL);
    expect(&p, 400, "invalid");
    assert_non_null(strstr(err_msg(&p), "refused by the outbound fetch guard"));
    assert_non_null(strstr(err_msg(&p), "loopback"));
    resp_free(&p);
    /* metadata addresses and other schemes too */
    const char *bad[] = {"{\"url\": \"http://169.254.169.254/latest/meta-data/\"}",
                         "{\"url\": \"file:///etc/passwd\"}", "{\"url\": \"gopher://x/\"}",
                         "{\"url\": \"http://[::1]:1/x\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct resp r = req(f, "POST", "/admin/api/imports/preview", bad[i], strlen(bad[i]), NULL);
        expect(&r, 400, "invalid");
        resp_free(&r);
    }
    fx_stop(f);
}

static void test_url_import_allowlisted(void **state)
{
    need_dms();
    struct fx *f = fx_start(state, true);
    char body[256], url[200];
    snprintf(url, sizeof(url), "%s/fixtures/dms.json", f->base);
    snprintf(body, sizeof(body), "{\"url\": \"%s\"}", url);
    struct resp p = req(f, "POST", "/admin/api/imports/preview?specId=dms", body, strlen(body),
                        NULL);
    expect(&p, 200, NULL);
    json_t *spec = json_object_get(p.json, "spec");
    assert_string_equal(gw_json_str(spec, "sourceUrl"), url);
    assert_null(json_object_get(spec, "fileName"));
    json_t *b = json_pack("{s:O,s:O,s:b}", "spec", spec, "tools", json_object_get(p.json, "tools"),
                          "activate", 1);
    struct resp a = req_json(f, "POST", "/admin/api/imports", b, NULL);
    expect(&a, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(json_object_get(a.json, "diff"), "added")),
                     50);
    resp_free(&a);
    json_decref(b);
    /* re-import from the stored URL: nothing changed */
    struct resp ri = req(f, "POST", "/admin/api/specs/dms/reimport", NULL, 0, NULL);
    expect(&ri, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ri.json, "diff"),
                                                        "unchanged")),
                     50);
    assert_string_equal(gw_json_str(json_object_get(ri.json, "spec"), "sourceUrl"), url);
    resp_free(&ri);
    /* a URL that answers 404 */
    snprintf(body, sizeof(body), "{\"url\": \"%s/fixtures/missing.json\"}", f->base);
    struct resp m = req(f, "POST", "/admin/api/imports/preview", body, strlen(body), NULL);
    expect(&m, 502, "bad_gateway");
    assert_non_null(strstr(err_msg(&m), "404"));
    resp_free(&m);
    /* a URL request with anything but "url" */
    snprintf(body, sizeof(body), "{\"url\": \"%s\", \"activate\": true}", url);
    struct resp x = req(f, "POST", "/admin/api/imports/preview", body, strlen(body), NULL);
    expect(&x, 400, "invalid");
    resp_free(&x);
    resp_free(&p);
    fx_stop(f);
}

/* ---- bundles -------------------------------------------------------------------------------- */

static void test_bundles(void **state)
{
    struct fx *f = fx_start(state, false);
    const char *names[] = {"b-one", "b-three", "b-two"};
    for (size_t i = 0; i < 3; i++) {
        json_t *b = json_pack("{s:s,s:s}", "name", names[i], "title", "A bundle");
        struct resp r = req_json(f, "POST", "/admin/api/bundles", b, NULL);
        expect(&r, 201, NULL);
        char loc[128];
        snprintf(loc, sizeof(loc), "/admin/api/bundles/%s", names[i]);
        assert_string_equal(r.location, loc);
        assert_string_equal(gw_json_str(r.json, "name"), names[i]);
        resp_free(&r);
        json_decref(b);
    }
    json_t *dup = json_pack("{s:s}", "name", "b-one");
    struct resp d = req_json(f, "POST", "/admin/api/bundles", dup, NULL);
    expect(&d, 409, "conflict");
    resp_free(&d);
    json_decref(dup);
    struct resp bad = req(f, "POST", "/admin/api/bundles", "{\"name\":\"a b\"}", 14, NULL);
    expect(&bad, 400, "invalid");
    resp_free(&bad);

    struct resp l = req(f, "GET", "/admin/api/bundles?limit=2", NULL, 0, NULL);
    expect(&l, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(l.json, "items")), 2);
    assert_string_equal(gw_json_str(l.json, "next"), "b-three");
    resp_free(&l);
    struct resp l2 = req(f, "GET", "/admin/api/bundles?limit=2&after=b-three", NULL, 0, NULL);
    expect(&l2, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(l2.json, "items")), 1);
    assert_string_equal(gw_json_str(json_array_get(json_object_get(l2.json, "items"), 0), "name"),
                        "b-two");
    assert_true(json_is_null(json_object_get(l2.json, "next")));
    resp_free(&l2);

    json_t *chg = json_pack("{s:s,s:s}", "title", "Bundle One", "status", "disabled");
    struct resp p = req_json(f, "PATCH", "/admin/api/bundles/b-one", chg, NULL);
    expect(&p, 200, NULL);
    assert_string_equal(gw_json_str(p.json, "title"), "Bundle One");
    assert_string_equal(gw_json_str(p.json, "status"), "disabled");
    resp_free(&p);
    json_decref(chg);
    struct resp pn = req(f, "PATCH", "/admin/api/bundles/b-one", "{\"owner\":\"x\"}", 13, NULL);
    expect(&pn, 400, "invalid");
    resp_free(&pn);

    /* a tool in the bundle blocks a plain delete */
    json_t *t = json_pack("{s:s,s:s,s:{s:s},s:s,s:{s:s,s:s}}", "name", "hand_made", "description",
                          "d", "inputSchema", "type", "object", "bundle", "b-two", "binding",
                          "method", "GET", "path", "/x");
    struct gw_store *st = open_migrated(f->e);
    struct gw_error err = {0};
    assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_OK);
    gw_store_close(st);
    json_decref(t);
    struct resp del = req(f, "DELETE", "/admin/api/bundles/b-two", NULL, 0, NULL);
    expect(&del, 409, "conflict");
    assert_non_null(strstr(err_msg(&del), "detachTools"));
    resp_free(&del);
    struct resp del2 = req(f, "DELETE", "/admin/api/bundles/b-two?detachTools=true", NULL, 0, NULL);
    expect(&del2, 200, NULL);
    resp_free(&del2);
    struct resp g = req(f, "GET", "/admin/api/bundles/b-two", NULL, 0, NULL);
    expect(&g, 404, "not_found");
    resp_free(&g);
    struct resp tg = req(f, "GET", "/admin/api/tools/hand_made", NULL, 0, NULL);
    expect(&tg, 200, NULL);
    assert_true(json_is_null(json_object_get(tg.json, "bundle")) ||
                !json_object_get(tg.json, "bundle"));
    resp_free(&tg);
    fx_stop(f);
}

/* ---- health, write hook ------------------------------------------------------------------ */

static void test_health(void **state)
{
    struct fx *f = fx_start(state, false);
    struct resp h = req(f, "GET", "/admin/api/health", NULL, 0, NULL);
    expect(&h, 200, NULL);
    assert_string_equal(gw_json_str(h.json, "status"), "ok");
    assert_string_equal(gw_json_str(h.json, "store"), f->e->backend);
    assert_true(json_integer_value(json_object_get(h.json, "schemaVersion")) >= 1);
    resp_free(&h);
    /* the server's own /health stays */
    struct resp h2 = req(f, "GET", "/health", NULL, 0, NULL);
    assert_int_equal(h2.status, 200);
    resp_free(&h2);
    assert_int_equal(atomic_load(&f->writes), 0);
    fx_stop(f);
}

/* ---- settings ------------------------------------------------------------------------------ */

/* GET /settings: every setting with value, default and source; secrets redacted (a DATABASE_URL
 * with a password never appears); 404 when the admin was attached without settings. */
static void test_settings_endpoint(void **state)
{
    struct fx *f = fx_start(state, false);
    struct resp none = req(f, "GET", "/admin/api/settings", NULL, 0, NULL);
    expect(&none, 404, "not_found");
    resp_free(&none);
    fx_stop(f);

    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, gw_admin_settings);
    gw_settings_register(s, gw_store_settings);
    gw_settings_register(s, gw_openapi_settings);
    gw_settings_register(s, gw_ssrf_settings);
    struct gw_error err = {0};
    assert_int_equal(gw_settings_override(s, "DATABASE_URL",
                                          "postgresql://gw:hunter2-pw@db.example/gw", &err),
                     GW_OK);
    assert_int_equal(gw_settings_override(s, "GW_ADMIN_THREADS", "3", &err), GW_OK);
    assert_int_equal(gw_settings_load(s, NULL, &err), GW_OK);
    g_settings = s;
    f = fx_start(state, false);
    g_settings = NULL;
    struct resp r = req(f, "GET", "/admin/api/settings", NULL, 0, NULL);
    expect(&r, 200, NULL);
    json_t *items = json_object_get(r.json, "items");
    assert_true(json_array_size(items) > 10);
    char *text = json_dumps(r.json, JSON_COMPACT);
    assert_null(strstr(text, "hunter2"));
    free(text); /* checksrc: allow (jansson's allocator) */
    bool saw_db = false, saw_threads = false;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const char *name = gw_json_str(it, "name");
        assert_non_null(gw_json_str(it, "group"));
        assert_non_null(gw_json_str(it, "help"));
        if (!strcmp(name, "DATABASE_URL")) {
            saw_db = true;
            assert_string_equal(gw_json_str(it, "value"), "<redacted>");
            assert_true(json_is_true(json_object_get(it, "secret")));
            assert_string_equal(gw_json_str(it, "source"), "override");
        } else if (!strcmp(name, "GW_ADMIN_THREADS")) {
            saw_threads = true;
            assert_string_equal(gw_json_str(it, "value"), "3");
            assert_string_equal(gw_json_str(it, "default"), "2");
            assert_string_equal(gw_json_str(it, "type"), "integer");
            assert_int_equal(json_integer_value(json_object_get(it, "min")), 1);
        }
    }
    assert_true(saw_db && saw_threads);
    resp_free(&r);
    struct resp w = req(f, "POST", "/admin/api/settings", "{}", 2, NULL);
    expect(&w, 405, "method_not_allowed");
    resp_free(&w);
    fx_stop(f);
    gw_settings_free(s);
}

/* ---- bad input ----------------------------------------------------------------------------- */

static void test_bad_input(void **state)
{
    struct fx *f = fx_start(state, false);
    struct {
        const char *method, *path, *body, *hdr;
        long status;
        const char *code, *msg;
    } cases[] = {
        /* previews */
        {"POST", "/admin/api/imports/preview", "", NULL, 400, "invalid", "empty body"},
        {"POST", "/admin/api/imports/preview", "{nope", NULL, 400, "invalid", "cannot import"},
        {"POST", "/admin/api/imports/preview", "{\"hello\": 1}", NULL, 400, "invalid",
         "cannot import"},
        {"POST", "/admin/api/imports/preview", "just: [yaml", NULL, 400, "invalid", NULL},
        {"POST", "/admin/api/imports/preview", "{\"a\": \xff\xfe}", NULL, 400, "invalid", NULL},
        {"PATCH", "/admin/api/tools/x", "{\"a\": \xc3}", NULL, 400, "invalid", "JSON"},
        {"POST", "/admin/api/imports/preview", "{\"url\": 5}", NULL, 400, "invalid", "\"url\""},
        {"POST", "/admin/api/imports/preview?specId=a/b", "{}", NULL, 400, "invalid", "specId"},
        {"POST", "/admin/api/imports/preview?bundle=", "{}", NULL, 400, "invalid", "bundle"},
        {"POST", "/admin/api/imports/preview?includeContent=maybe", "{}", NULL, 400, "invalid",
         "includeContent"},
        {"POST", "/admin/api/imports/preview?fileName=..%2Fx", "{}", NULL, 400, "invalid",
         "fileName"},
        /* approvals */
        {"POST", "/admin/api/imports", "", NULL, 400, "invalid", "empty body"},
        {"POST", "/admin/api/imports", "[1]", NULL, 400, "invalid", NULL},
        {"POST", "/admin/api/imports", "{\"spec\":{\"title\":\"t\"},\"tools\":[]}", NULL, 400,
         "invalid", "non-empty"},
        {"POST", "/admin/api/imports", "{\"spec\":{\"title\":\"t\"},\"tools\":[1]}", NULL, 400,
         "invalid", "tools[0]"},
        {"POST", "/admin/api/imports", "{\"spec\":{\"title\":\"t\"},\"tools\":[{\"name\":\"x\"}],"
                                       "\"activated\":true}",
         NULL, 400, "invalid", "activated"},
        {"POST", "/admin/api/imports", "{\"spec\":{\"title\":\"t\",\"x\":1},\"tools\":[{\"name\":"
                                       "\"x\"}]}",
         NULL, 400, "invalid", "spec.x"},
        {"POST", "/admin/api/imports", "{\"spec\":{\"title\":\"t\"},\"tools\":[{\"name\":\"x\"}],"
                                       "\"bundle\":\"a b\"}",
         NULL, 400, "invalid", "bundle"},
        {"POST", "/admin/api/imports", "{\"spec\":{\"title\":\"t\"},\"tools\":[{\"name\":\"x\"}],"
                                       "\"activate\":\"yes\"}",
         NULL, 400, "invalid", "activate"},
        {"POST", "/admin/api/imports", "{\"spec\":{\"title\":\"t\"},\"tools\":[{\"name\":\"x\"}]}",
         NULL, 400, "invalid", "tool #0"},
        /* names and paths */
        {"GET", "/admin/api/tools/nope", NULL, NULL, 404, "not_found", NULL},
        {"GET", "/admin/api/tools/bad%20name", NULL, NULL, 400, "invalid", "tool name"},
        {"GET", "/admin/api/tools/..", NULL, NULL, 400, "invalid", "tool name"},
        {"GET", "/admin/api/tools/a%2Fb", NULL, NULL, 404, "not_found", NULL},
        {"GET",
         "/admin/api/tools/"
         "x12345678901234567890123456789012345678901234567890123456789012345",
         NULL, NULL, 400, "invalid", "longer"},
        {"GET", "/admin/api/bundles/%C3%A9", NULL, NULL, 400, "invalid", "bundle name"},
        {"GET", "/admin/api/nope", NULL, NULL, 404, "not_found", NULL},
        {"GET", "/admin/api/tools/x/y/z", NULL, NULL, 404, "not_found", NULL},
        {"POST", "/admin/api/tools/x/explode", NULL, NULL, 404, "not_found", NULL},
        {"GET", "/admin/api//tools", NULL, NULL, 404, "not_found", NULL},
        /* query parameters */
        {"GET", "/admin/api/tools?limit=0", NULL, NULL, 400, "invalid", "limit"},
        {"GET", "/admin/api/tools?limit=1001", NULL, NULL, 400, "invalid", "limit"},
        {"GET", "/admin/api/tools?limit=abc", NULL, NULL, 400, "invalid", "limit"},
        {"GET", "/admin/api/tools?status=bogus", NULL, NULL, 400, "invalid", "status"},
        {"GET", "/admin/api/tools?after=a%20b", NULL, NULL, 400, "invalid", "after"},
        {"GET", "/admin/api/tools/x/history?after=z", NULL, NULL, 400, "invalid", "after"},
        {"DELETE", "/admin/api/bundles/x?detachTools=yes", NULL, NULL, 400, "invalid",
         "detachTools"},
        /* bodies and headers of writes */
        {"PATCH", "/admin/api/tools/x", "", NULL, 400, "invalid", "empty body"},
        {"PATCH", "/admin/api/tools/x", "[]", NULL, 400, "invalid", "JSON object"},
        {"PATCH", "/admin/api/tools/x", "{", NULL, 400, "invalid", "not valid JSON"},
        {"PATCH", "/admin/api/tools/x", "{}", NULL, 400, "invalid", "no changes"},
        {"PATCH", "/admin/api/tools/x", "{\"risk\":\"read\"}", "If-Match: banana", 400,
         "invalid", "If-Match"},
        {"PATCH", "/admin/api/tools/x", "{\"risk\":\"read\"}", "If-Match: \"0\"", 400, "invalid",
         "If-Match"},
        {"PATCH", "/admin/api/tools/x", "{\"risk\":\"read\"}", NULL, 404, "not_found", NULL},
        {"POST", "/admin/api/bundles", "{\"title\":\"no name\"}", NULL, 400, "invalid", "name"},
        /* methods */
        {"PUT", "/admin/api/tools", NULL, NULL, 405, "method_not_allowed", NULL},
        {"DELETE", "/admin/api/imports/preview", NULL, NULL, 405, "method_not_allowed", NULL},
        {"GET", "/admin/api/imports", NULL, NULL, 405, "method_not_allowed", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct resp r = req(f, cases[i].method, cases[i].path, cases[i].body,
                            cases[i].body ? strlen(cases[i].body) : 0, cases[i].hdr);
        if (r.status != cases[i].status)
            fail_msg("case %zu %s %s: expected %ld, got %ld (%s)", i, cases[i].method,
                     cases[i].path, cases[i].status, r.status, err_msg(&r));
        expect(&r, cases[i].status, cases[i].code);
        if (cases[i].msg && !strstr(err_msg(&r), cases[i].msg))
            fail_msg("case %zu %s %s: message '%s' lacks '%s'", i, cases[i].method,
                     cases[i].path, err_msg(&r), cases[i].msg);
        resp_free(&r);
    }
    struct resp m = req(f, "PUT", "/admin/api/tools/x", NULL, 0, NULL);
    expect(&m, 405, NULL);
    assert_string_equal(m.allow, "GET, PATCH, DELETE");
    resp_free(&m);
    /* a PATCH that renames is refused by the store */
    json_t *t = json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s}}", "name", "tool_a", "description", "d",
                          "inputSchema", "type", "object", "binding", "method", "GET", "path",
                          "/x");
    struct gw_store *st = open_migrated(f->e);
    struct gw_error err = {0};
    assert_int_equal(gw_store_tool_create(st, t, NULL, NULL, &err), GW_OK);
    gw_store_close(st);
    json_decref(t);
    struct resp rn = req(f, "PATCH", "/admin/api/tools/tool_a", "{\"name\":\"tool_b\"}", 17, NULL);
    expect(&rn, 400, "invalid");
    resp_free(&rn);
    struct resp rk = req(f, "PATCH", "/admin/api/tools/tool_a", "{\"risk\":\"extreme\"}", 18,
                         NULL);
    expect(&rk, 400, "invalid");
    resp_free(&rk);
    assert_int_equal(atomic_load(&f->writes), 0);
    fx_stop(f);
}

/* The body size limit of the server applies (413) and deep JSON is refused. */
static void test_limits(void **state)
{
    struct fx *f = fx_start(state, false);
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    for (int i = 0; i < 600; i++)
        gw_buf_addc(&b, '[');
    for (int i = 0; i < 600; i++)
        gw_buf_addc(&b, ']');
    struct resp r = req(f, "PATCH", "/admin/api/tools/x", gw_buf_ptr(&b), gw_buf_len(&b), NULL);
    expect(&r, 413, "too_large");
    resp_free(&r);
    gw_buf_fini(&b);
    fx_stop(f);
}

/* Several clients at once: each request gets its own answer (the pool has two threads, the
 * loop one). */
struct client_arg {
    struct fx *f;
    int ok;
};

static void *client_main(void *arg)
{
    struct client_arg *a = arg;
    for (int i = 0; i < 25; i++) {
        struct resp r = req(a->f, "GET", i % 2 ? "/admin/api/tools?limit=5" : "/admin/api/health",
                            NULL, 0, NULL);
        if (r.status == 200 && r.json)
            a->ok++;
        resp_free(&r);
    }
    return NULL;
}

static void test_concurrent_clients(void **state)
{
    struct fx *f = fx_start(state, false);
    pthread_t th[4];
    struct client_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct client_arg){f, 0};
        pthread_create(&th[i], NULL, client_main, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].ok, 25);
    }
    fx_stop(f);
}

/* ---- pure pieces ------------------------------------------------------------------------- */

static void test_routes(void **state)
{
    (void)state;
    struct admin_match m;
    struct gw_error err = {0};
    assert_int_equal(gw_admin__route("/admin/api/health", &m, &err), GW_OK);
    assert_int_equal(m.route, AR_HEALTH);
    assert_int_equal(gw_admin__route("/admin/api/tools/", &m, &err), GW_OK);
    assert_int_equal(m.route, AR_TOOLS);
    assert_int_equal(gw_admin__route("/admin/api/tools/get_x", &m, &err), GW_OK);
    assert_int_equal(m.route, AR_TOOL);
    assert_string_equal(m.name, "get_x");
    assert_int_equal(gw_admin__route("/admin/api/tools/get_x/disable", &m, &err), GW_OK);
    assert_int_equal(m.route, AR_TOOL_ACTION);
    assert_string_equal(m.status, "disabled");
    assert_int_equal(gw_admin__route("/admin/api/tools/get_x/history", &m, &err), GW_OK);
    assert_int_equal(m.route, AR_TOOL_HISTORY);
    assert_int_equal(gw_admin__route("/admin/api/specs/a.b-c/reimport", &m, &err), GW_OK);
    assert_int_equal(m.route, AR_SPEC_REIMPORT);
    assert_string_equal(m.name, "a.b-c");
    assert_int_equal(gw_admin__route("/admin/api/imports/preview/", &m, &err), GW_OK);
    assert_int_equal(m.route, AR_IMPORT_PREVIEW);
    assert_int_equal(gw_admin__route("/admin/api/bundles/x", &m, &err), GW_OK);
    assert_int_equal(m.route, AR_BUNDLE);
    assert_int_equal(gw_admin__route("/admin/api/metrics/summary", &m, &err), GW_OK);
    assert_int_equal(m.route, AR_METRICS_SUMMARY);
    assert_int_equal(gw_admin__route("/admin/api/metrics", &m, &err), GW_ENOTFOUND);
    assert_int_equal(gw_admin__route("/admin/api/metrics/x", &m, &err), GW_ENOTFOUND);
    assert_int_equal(gw_admin__route("/admin/api/", &m, &err), GW_ENOTFOUND);
    assert_int_equal(gw_admin__route("/admin/apix/tools", &m, &err), GW_ENOTFOUND);
    assert_int_equal(gw_admin__route("/admin/api/tools//", &m, &err), GW_ENOTFOUND);
    assert_int_equal(gw_admin__route("/admin/api/bundles/x/y", &m, &err), GW_ENOTFOUND);
    assert_int_equal(gw_admin__route("/admin/api/specs/x/y", &m, &err), GW_ENOTFOUND);
    assert_int_equal(gw_admin__route("/admin/api/health/x", &m, &err), GW_ENOTFOUND);
    assert_int_equal(gw_admin__route("/admin/api/a/b/c/d/e", &m, &err), GW_ENOTFOUND);
    assert_int_equal(gw_admin__route("/admin/api/tools/a b", &m, &err), GW_EINVAL);
    assert_int_equal(gw_admin__route("/admin/api/tools/.", &m, &err), GW_EINVAL);
    assert_int_equal(gw_admin__route("/admin/api/specs/\x01", &m, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "spec id"));

    assert_true(gw_admin__valid_name("a"));
    assert_true(gw_admin__valid_name("A-z_0.9"));
    assert_false(gw_admin__valid_name(""));
    assert_false(gw_admin__valid_name(".."));
    assert_false(gw_admin__valid_name("a/b"));
    char longname[80];
    memset(longname, 'a', sizeof(longname));
    longname[64] = '\0';
    assert_true(gw_admin__valid_name(longname));
    longname[64] = 'a';
    longname[65] = '\0';
    assert_false(gw_admin__valid_name(longname));

    long long v = -1;
    assert_int_equal(gw_admin__parse_if_match("\"3\"", &v, &err), GW_OK);
    assert_int_equal(v, 3);
    assert_int_equal(gw_admin__parse_if_match("W/\"12\"", &v, &err), GW_OK);
    assert_int_equal(v, 12);
    assert_int_equal(gw_admin__parse_if_match(" 7 ", &v, &err), GW_OK);
    assert_int_equal(v, 7);
    assert_int_equal(gw_admin__parse_if_match("*", &v, &err), GW_OK);
    assert_int_equal(v, 0);
    assert_int_equal(gw_admin__parse_if_match("\"1\", \"2\"", &v, &err), GW_EINVAL);
    assert_int_equal(gw_admin__parse_if_match("0", &v, &err), GW_EINVAL);
    assert_int_equal(gw_admin__parse_if_match("-1", &v, &err), GW_EINVAL);
    assert_int_equal(gw_admin__parse_if_match("\"\"", &v, &err), GW_EINVAL);
    assert_int_equal(gw_admin__parse_if_match("99999999999999999999", &v, &err), GW_EINVAL);

    assert_true(gw_admin__peer_is_loopback("127.0.0.1"));
    assert_true(gw_admin__peer_is_loopback("127.8.9.10"));
    assert_true(gw_admin__peer_is_loopback("::1"));
    assert_true(gw_admin__peer_is_loopback("::ffff:127.0.0.1"));
    assert_false(gw_admin__peer_is_loopback("10.0.0.1"));
    assert_false(gw_admin__peer_is_loopback("192.168.1.2"));
    assert_false(gw_admin__peer_is_loopback("-"));
    assert_false(gw_admin__peer_is_loopback(NULL));
}

static struct gw_settings *settings_with(const char *listen, const char *remote)
{
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, gw_net_settings);
    gw_settings_register(s, gw_admin_settings);
    struct gw_error err = {0};
    assert_int_equal(gw_settings_override(s, "GW_ADMIN_LISTEN", listen, &err), GW_OK);
    if (remote)
        assert_int_equal(gw_settings_override(s, "GW_ADMIN_ALLOW_REMOTE", remote, &err), GW_OK);
    assert_int_equal(gw_settings_override(s, "GW_ADMIN_MAX_BODY_BYTES", "4096", &err), GW_OK);
    if (gw_settings_load(s, NULL, &err) != GW_OK)
        fail_msg("settings: %s", err.msg);
    return s;
}

static void test_settings_and_binding(void **state)
{
    (void)state;
    struct gw_net_options no;
    struct gw_error err = {0};
    const char *ok[] = {"127.0.0.1:8001", "127.0.0.2:0", "[::1]:8001"};
    for (size_t i = 0; i < 3; i++) {
        struct gw_settings *s = settings_with(ok[i], NULL);
        assert_int_equal(gw_admin_net_options(s, &no, &err), GW_OK);
        assert_string_equal(no.listen, ok[i]);
        assert_int_equal(no.workers, 1);
        assert_int_equal(no.max_body_bytes, 4096);
        struct gw_admin_config cfg;
        gw_admin_config_from_settings(&cfg, s);
        assert_int_equal(cfg.threads, 2);
        assert_false(cfg.allow_remote);
        assert_int_equal(cfg.max_body_bytes, 4096);
        gw_settings_free(s);
    }
    const char *bad[] = {"0.0.0.0:8001", "10.1.2.3:80", "[::]:8001", "localhost:8001", "8001"};
    for (size_t i = 0; i < 5; i++) {
        struct gw_settings *s = settings_with(bad[i], NULL);
        assert_int_equal(gw_admin_net_options(s, &no, &err), GW_EINVAL);
        assert_non_null(strstr(err.msg, "loopback"));
        gw_settings_free(s);
    }
    struct gw_settings *s = settings_with("0.0.0.0:8001", "true");
    assert_int_equal(gw_admin_net_options(s, &no, &err), GW_OK);
    gw_settings_free(s);
    s = settings_with("", NULL);
    assert_int_equal(gw_admin_net_options(s, &no, &err), GW_DECLINED);
    gw_settings_free(s);

    /* attach refuses a server that is not on loopback, and a config without a store */
    struct gw_net_options any = {"0.0.0.0:0", 1, 4096, 8192, 16, 5, 1, false};
    struct gw_server *srv = NULL;
    assert_int_equal(gw_server_new(&any, &srv, &err), GW_OK);
    struct gw_admin *adm = NULL;
    struct gw_admin_config cfg = {0};
    cfg.store_url = "sqlite:///tmp/never-opened.db";
    assert_int_equal(gw_admin_attach(srv, &cfg, &adm, &err), GW_EINVAL);
    assert_null(adm);
    assert_non_null(strstr(err.msg, "loopback"));
    cfg.store_url = NULL;
    cfg.allow_remote = true;
    assert_int_equal(gw_admin_attach(srv, &cfg, &adm, &err), GW_EINVAL);
    gw_server_free(srv);
}

/* GET /metrics/summary: the series' summary (defaults 1 h / 60 s), clear 400s for windows and
 * steps it does not keep, GET only. */
static void test_metrics_summary(void **state)
{
    struct fx *f = fx_start(state, false);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct gw_series_obs o = {.tool = "get_pin", .latency_us = 2500, .upstream = "dms",
                              .upstream_latency_us = 2000};
    for (int i = 0; i < 3; i++)
        gw_metrics_series_record(f->series, (int64_t)ts.tv_sec * 1000, &o);
    o.denied = true;
    gw_metrics_series_record(f->series, (int64_t)ts.tv_sec * 1000, &o);
    struct resp r = req(f, "GET", "/admin/api/metrics/summary", NULL, 0, NULL);
    expect(&r, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "window")), 3600);
    assert_int_equal(json_integer_value(json_object_get(r.json, "step")), 60);
    json_t *tot = json_object_get(r.json, "totals");
    assert_int_equal(json_integer_value(json_object_get(tot, "calls")), 4);
    assert_int_equal(json_integer_value(json_object_get(tot, "denials")), 1);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "series"), "p95Ms")),
                     60);
    assert_string_equal(gw_json_str(json_array_get(json_object_get(r.json, "topTools"), 0), "name"),
                        "get_pin");
    resp_free(&r);
    r = req(f, "GET", "/admin/api/metrics/summary?window=900&step=15", NULL, 0, NULL);
    expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "series"), "calls")),
                     60);
    resp_free(&r);
    static const struct {
        const char *q, *msg;
    } bad[] = {
        {"window=60", "window must be 900 (15 min) to 86400 (24 h) seconds, not 60"},
        {"window=172800", "not 172800"},
        {"window=abc", "query parameter window must be an integer"},
        {"window=-5", "query parameter window must be an integer"},
        {"window=901", "multiple of 5 seconds"},
        {"window=900&step=7", "step must be a multiple of 5 seconds"},
        {"window=86400&step=30", "multiple of 60 seconds"},
        {"window=900&step=0", "query parameter step must be an integer"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "/admin/api/metrics/summary?%s", bad[i].q);
        r = req(f, "GET", path, NULL, 0, NULL);
        expect(&r, 400, "invalid");
        if (!strstr(err_msg(&r), bad[i].msg))
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].q, err_msg(&r), bad[i].msg);
        resp_free(&r);
    }
    r = req(f, "POST", "/admin/api/metrics/summary", "{}", 2, NULL);
    expect(&r, 405, "method_not_allowed");
    assert_string_equal(r.allow, "GET");
    resp_free(&r);
    fx_stop(f);
}

/* ---- the audit log's verification: one at a time, on its own thread ------------------------ */

static atomic_int g_committed;
static void on_committed(void *arg, int rc)
{
    (void)arg;
    assert_int_equal(rc, GW_OK);
    atomic_fetch_add(&g_committed, 1);
}

static void test_verify_single_flight(void **state)
{
    (void)state;
    char dir[] = "/tmp/gw-admin-verify-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct gw_note_signer *signer = NULL;
    char *pem = NULL;
    assert_int_equal(gw_note_signer_generate("unit/verify", &signer, &pem, NULL), GW_OK);
    gw_free(pem);
    struct gw_audit_config c = {0};
    c.dir = dir;
    c.log_id = "unit";
    c.origin = "unit/verify";
    c.signer = signer;
    c.sync = GW_AUDIT_SYNC_WRITE;
    c.checkpoint_events = 5000;
    c.checkpoint_seconds = 3600;
    c.segment_max_bytes = 8u << 20;
    c.pg_url = "";
    struct gw_audit *a = NULL;
    struct gw_error err = {0};
    assert_int_equal(gw_audit_open(&c, &a, &err), GW_OK);
    /* enough records that a verification takes a while (two passes over ~3 MB) */
    enum { N = 40000 };
    atomic_store(&g_committed, 0);
    for (int i = 0; i < N; i++) {
        char ev[160];
        int n = snprintf(ev, sizeof(ev), "{\"kind\":\"unit\",\"n\":%d,\"pad\":\"%s\"}", i,
                         "a record of the verification test, padded to a typical size");
        assert_int_equal(gw_audit_append(a, ev, (size_t)n, on_committed, NULL), GW_OK);
    }
    for (int t = 0; t < 6000 && atomic_load(&g_committed) < N; t++)
        usleep(10000);
    assert_int_equal(atomic_load(&g_committed), N);

    struct admin_verify *v = gw_admin__verify_new(a);
    json_t *s = gw_admin__verify_summary(v, NULL);
    assert_string_equal(gw_json_str(s, "status"), "unknown");
    json_decref(s);
    /* wait=0: the answer is the progress, never the outcome (no wait, so the lock is never
     * released for the thread to finish in between) */
    json_t *r1 = NULL, *r2 = NULL, *r3 = NULL;
    assert_int_equal(gw_admin__verify_run(v, a, NULL, NULL, 0, &r1, &err), GW_OK);
    assert_string_equal(gw_json_str(r1, "state"), "running");
    assert_int_equal(json_integer_value(json_object_get(r1, "run")), 1);
    s = gw_admin__verify_summary(v, NULL);
    assert_string_equal(gw_json_str(s, "status"), "unknown");
    assert_non_null(json_object_get(s, "running"));
    json_decref(s);
    /* a second request joins the running verification instead of starting another */
    assert_int_equal(gw_admin__verify_run(v, a, NULL, NULL, 0, &r2, &err), GW_OK);
    assert_string_equal(gw_json_str(r2, "state"), "running");
    assert_int_equal(json_integer_value(json_object_get(r2, "run")), 1);
    /* another log's verification meanwhile is refused (one at a time), saying which runs */
    json_t *rx = NULL;
    assert_int_equal(gw_admin__verify_run(v, a, "another-pod", "postgresql://unused", 0, &rx,
                                          &err),
                     GW_ECONFLICT);
    assert_null(rx);
    assert_non_null(strstr(err.msg, "a verification of this replica's log is running"));
    s = gw_admin__verify_summary(v, "another-pod");
    assert_string_equal(gw_json_str(s, "status"), "unknown");
    assert_null(json_object_get(s, "running"));
    json_decref(s);
    /* waiting long enough gives the whole report of that same run */
    assert_int_equal(gw_admin__verify_run(v, a, NULL, NULL, 60, &r3, &err), GW_OK);
    assert_null(gw_json_str(r3, "state"));
    assert_true(json_is_true(json_object_get(r3, "ok")));
    assert_true(json_integer_value(json_object_get(r3, "records")) >= N);
    s = gw_admin__verify_summary(v, NULL);
    assert_string_equal(gw_json_str(s, "status"), "ok");
    assert_int_equal(json_integer_value(json_object_get(s, "run")), 1);
    assert_null(json_object_get(s, "running"));
    json_decref(s);
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
    /* the next request starts run 2; closing stops it (the partial reading is dropped) and
     * the summary of run 1 stays the last outcome until then */
    assert_int_equal(gw_admin__verify_run(v, a, NULL, NULL, 0, &r1, &err), GW_OK);
    assert_int_equal(json_integer_value(json_object_get(r1, "run")), 2);
    json_decref(r1);
    gw_admin__verify_stop(v);
    assert_int_equal(gw_admin__verify_run(v, a, NULL, NULL, 0, &r1, &err), GW_ERR);
    assert_null(r1);
    gw_admin__verify_free(v);
    /* a restart finds the last outcome kept beside the log (not "unknown"); its run numbers
     * start again */
    struct admin_verify *v2 = gw_admin__verify_new(a);
    s = gw_admin__verify_summary(v2, NULL);
    assert_string_equal(gw_json_str(s, "status"), "ok");
    assert_true(json_integer_value(json_object_get(s, "verifiedThrough")) >= N);
    assert_non_null(gw_json_str(s, "checkedAt"));
    assert_null(json_object_get(s, "run"));
    json_decref(s);
    gw_admin__verify_free(v2);
    /* it is believed because its seal is good: the audit key signed it for this log */
    char kept[4200];
    snprintf(kept, sizeof(kept), "%s/verification.json", gw_audit_log_dir(a));
    v2 = gw_admin__verify_new(a);
    s = gw_admin__verify_summary(v2, NULL);
    assert_string_equal(gw_json_str(s, "signedBy"), "unit/verify");
    assert_null(json_object_get(s, "note"));
    json_decref(s);
    /* the stored outcome of another log: believed with a seal for that log, not otherwise (a
     * copy of this log's, or one without a seal), and then this replica's own kept run wins */
    json_t *mine = NULL;
    {
        FILE *kf = fopen(kept, "rb");
        assert_non_null(kf);
        char text[4200];
        size_t tn = fread(text, 1, sizeof(text), kf);
        fclose(kf);
        mine = json_loadb(text, tn, 0, NULL);
        assert_non_null(gw_json_str(mine, "note"));
    }
    json_t *theirs = gw_audit_verification_seal(mine, "another-pod", signer, &err);
    assert_non_null(theirs);
    s = gw_admin__verify_summary_or(v2, "another-pod", theirs);
    assert_string_equal(gw_json_str(s, "status"), "ok");
    assert_string_equal(gw_json_str(s, "signedBy"), "unit/verify");
    json_decref(s);
    s = gw_admin__verify_summary_or(v2, "another-pod", mine); /* sealed for "unit" */
    assert_string_equal(gw_json_str(s, "status"), "unverified");
    assert_string_equal(gw_json_str(s, "claimed"), "ok");
    assert_non_null(strstr(gw_json_str(s, "error"), "signed for log unit"));
    json_decref(s);
    json_object_del(theirs, "note");
    s = gw_admin__verify_summary_or(v2, "another-pod", theirs);
    assert_string_equal(gw_json_str(s, "status"), "unverified");
    assert_non_null(strstr(gw_json_str(s, "error"), "verify the log again"));
    json_decref(s);
    s = gw_admin__verify_summary_or(v2, NULL, theirs); /* this log: its own kept run wins */
    assert_string_equal(gw_json_str(s, "status"), "ok");
    json_decref(s);
    json_decref(theirs);
    gw_admin__verify_free(v2);
    /* a forged file: the claim kept outside the seal is not what is shown, and an edited seal
     * or none is "unverified" (with what it claims) */
    json_object_set_new(mine, "status", json_string("broken"));
    json_object_set_new(mine, "verifiedThrough", json_integer(999999999));
    char *forged = json_dumps(mine, JSON_COMPACT);
    FILE *f = fopen(kept, "w");
    assert_non_null(f);
    fputs(forged, f);
    fclose(f);
    free(forged); /* checksrc: allow (jansson's allocation) */
    v2 = gw_admin__verify_new(a);
    s = gw_admin__verify_summary(v2, NULL);
    assert_string_equal(gw_json_str(s, "status"), "ok");
    assert_true(json_integer_value(json_object_get(s, "verifiedThrough")) < 999999999);
    json_decref(s);
    gw_admin__verify_free(v2);
    json_object_set_new(mine, "status", json_string("ok"));
    json_object_del(mine, "note");
    forged = json_dumps(mine, JSON_COMPACT);
    f = fopen(kept, "w");
    assert_non_null(f);
    fputs(forged, f);
    fclose(f);
    free(forged); /* checksrc: allow (jansson's allocation) */
    json_decref(mine);
    v2 = gw_admin__verify_new(a);
    s = gw_admin__verify_summary(v2, NULL);
    assert_string_equal(gw_json_str(s, "status"), "unverified");
    assert_string_equal(gw_json_str(s, "claimed"), "ok");
    json_decref(s);
    gw_admin__verify_free(v2);
    /* a file that is not such a summary is ignored */
    f = fopen(kept, "w");
    assert_non_null(f);
    fputs("{\"status\":\"fine\",\"verifiedThrough\":1,\"checkedAt\":\"x\"}", f);
    fclose(f);
    v2 = gw_admin__verify_new(a);
    s = gw_admin__verify_summary(v2, NULL);
    assert_string_equal(gw_json_str(s, "status"), "unknown");
    json_decref(s);
    gw_admin__verify_free(v2);
    gw_audit_close(a);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

#define ADMIN_TESTS(X)                                                                            \
    X(test_routes)                                                                                \
    X(test_settings_and_binding)                                                                  \
    X(test_health)                                                                                \
    X(test_settings_endpoint)                                                                     \
    X(test_import_flow)                                                                           \
    X(test_spec_delete_deprecates)                                                                \
    X(test_yaml_preview_bundle)                                                                   \
    X(test_url_import_refused_by_default)                                                         \
    X(test_url_import_allowlisted)                                                                \
    X(test_bundles)                                                                               \
    X(test_bad_input)                                                                             \
    X(test_limits)                                                                                \
    X(test_concurrent_clients)                                                                    \
    X(test_metrics_summary)                                                                       \
    X(test_verify_single_flight)

TENV_MAIN("admin", ADMIN_TESTS)
