/*
 * tests/unit/upstream/test_upstream_exec.c
 * gw_exec end to end against a local evhttp upstream (own thread) with the executor loop on the
 * test thread, configured through a real upstreams file, secrets from env/file/secret dir:
 * credentials and identity applied (and never leaked: results and captured logs are scanned),
 * bodies on the wire, OAuth2 client credentials (single flight across two executors, cache,
 * refresh before expiry, 401 -> refetch once), circuit breaker (opens after K failures, rejects
 * without calling, half-open single probe, recovers), per-tool timeout while 50 other calls
 * complete, retries for GET only (upstream hits counted), oversized responses, idempotency
 * (replay, mismatch, in flight, per caller), GET cache, business failures, shaping,
 * cancellation, asynchronous errors, and a throughput measurement (printed, not asserted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../httpc/httpc_test_server.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "upstream/upstream_exec.h"
#include "upstream/upstream_settings.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define SECRET_APIKEY "sk-apikey-7f3a9c1e55"
#define SECRET_APIM "apim-sub-key-90210xyz"
#define SECRET_BASIC "basic-pw-Zq81!"
#define SECRET_CLIENT "client-secret-4711abcd"
#define SECRET_QKEY "query-key-31337aa"

/* ---- the upstream (server thread) ---- */

struct srv_state {
    pthread_mutex_t mu;
    char last_headers[8192]; /* JSON object of the last /echo request's headers */
    char last_uri[2048];
    char last_body[8192];
    atomic_int hits_flaky, hits_503, hits_500, hits_create, hits_count, hits_token,
        hits_protected, hits_maybe;
    atomic_int token_seq;      /* tokens issued */
    atomic_int valid_token;    /* the token number /protected accepts (0 = latest) */
    atomic_int token_delay_ms;
    atomic_int token_expires;
    atomic_int maybe_down;     /* /maybe answers 503 while set */
    int n_apikey, n_authz;     /* x-api-key / Authorization lines of the last /echo request */
};
static struct srv_state SRV;

static void capture(struct evhttp_request *req)
{
    json_t *h = json_object();
    int n_apikey = 0, n_authz = 0;
    struct evkeyvalq *hs = evhttp_request_get_input_headers(req);
    for (struct evkeyval *kv = hs->tqh_first; kv; kv = kv->next.tqe_next) {
        json_object_set_new(h, kv->key, json_string(kv->value));
        n_apikey += strcasecmp(kv->key, "x-api-key") == 0;
        n_authz += strcasecmp(kv->key, "Authorization") == 0;
    }
    char *s = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
    pthread_mutex_lock(&SRV.mu);
    SRV.n_apikey = n_apikey;
    SRV.n_authz = n_authz;
    snprintf(SRV.last_headers, sizeof(SRV.last_headers), "%s", s);
    snprintf(SRV.last_uri, sizeof(SRV.last_uri), "%s", evhttp_request_get_uri(req));
    ts_body(req, SRV.last_body, sizeof(SRV.last_body));
    pthread_mutex_unlock(&SRV.mu);
    gw_free(s);
    json_decref(h);
}

static void handler(struct ts_server *s, struct evhttp_request *req, void *ud)
{
    (void)ud;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (strcmp(path, "/echo") == 0 || strncmp(path, "/echo/", 6) == 0) {
        capture(req);
        const char *key = ts_header(req, "x-api-key");
        /* echoes a credential back, as careless upstreams do: must be scrubbed */
        ts_replyf(req, 200, "{\"ok\":true,\"method\":\"%s\",\"seenKey\":\"%s\"}", ts_method(req),
                  key ? key : "");
    } else if (strcmp(path, "/flaky") == 0) { /* 502, 503, then 200 */
        int n = atomic_fetch_add(&SRV.hits_flaky, 1);
        if (n % 3 < 2)
            ts_reply(req, n % 3 ? 503 : 502, "text/plain", "try again", -1);
        else
            ts_replyf(req, 200, "{\"attempt\":%d}", n + 1);
    } else if (strcmp(path, "/always503") == 0) {
        atomic_fetch_add(&SRV.hits_503, 1);
        ts_reply(req, 503, "text/plain", "unavailable", -1);
    } else if (strcmp(path, "/always500") == 0) {
        atomic_fetch_add(&SRV.hits_500, 1);
        ts_reply(req, 500, "application/json", "{\"error\":\"boom\"}", -1);
    } else if (strcmp(path, "/create") == 0) {
        int n = atomic_fetch_add(&SRV.hits_create, 1) + 1;
        capture(req);
        char body[128];
        snprintf(body, sizeof(body), "{\"id\":%d}", n);
        const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
        if (q && strstr(q, "slow"))
            ts_reply_later(s, req, 300, 201, body);
        else
            ts_reply(req, 201, "application/json", body, -1);
    } else if (strcmp(path, "/count") == 0) {
        int n = atomic_fetch_add(&SRV.hits_count, 1) + 1;
        ts_replyf(req, 200, "{\"n\":%d}", n);
    } else if (strcmp(path, "/token") == 0) {
        atomic_fetch_add(&SRV.hits_token, 1);
        capture(req);
        const char *auth = ts_header(req, "Authorization");
        /* base64("my-client:client-secret-4711abcd") */
        if (!auth || strcmp(auth, "Basic bXktY2xpZW50OmNsaWVudC1zZWNyZXQtNDcxMWFiY2Q=") != 0) {
            ts_reply(req, 401, "application/json", "{\"error\":\"invalid_client\"}", -1);
            return;
        }
        int n = atomic_fetch_add(&SRV.token_seq, 1) + 1;
        char body[200];
        snprintf(body, sizeof(body),
                 "{\"access_token\":\"tok-%d\",\"token_type\":\"Bearer\",\"expires_in\":%d}", n,
                 atomic_load(&SRV.token_expires));
        int delay = atomic_load(&SRV.token_delay_ms);
        if (delay)
            ts_reply_later(s, req, delay, 200, body);
        else
            ts_reply(req, 200, "application/json", body, -1);
    } else if (strcmp(path, "/protected") == 0) {
        atomic_fetch_add(&SRV.hits_protected, 1);
        const char *auth = ts_header(req, "Authorization");
        int want = atomic_load(&SRV.valid_token);
        if (!want)
            want = atomic_load(&SRV.token_seq);
        char expect[64];
        snprintf(expect, sizeof(expect), "Bearer tok-%d", want);
        if (!auth || strcmp(auth, expect) != 0)
            ts_reply(req, 401, "application/json", "{\"error\":\"invalid token\"}", -1);
        else
            ts_replyf(req, 200, "{\"token\":\"%s\"}", auth + 7);
    } else if (strcmp(path, "/maybe") == 0 || strcmp(path, "/maybe-slow") == 0) {
        atomic_fetch_add(&SRV.hits_maybe, 1);
        if (atomic_load(&SRV.maybe_down))
            ts_reply(req, 503, "text/plain", "down", -1);
        else if (strcmp(path, "/maybe-slow") == 0)
            ts_reply_later(s, req, 200, 200, "{\"up\":true}");
        else
            ts_reply(req, 200, "application/json", "{\"up\":true}", -1);
    } else if (strcmp(path, "/slow") == 0) {
        ts_reply_later(s, req, 2000, 200, "{\"slow\":true}");
    } else if (strcmp(path, "/fast") == 0) {
        ts_reply(req, 200, "application/json", "{\"fast\":true}", -1);
    } else if (strcmp(path, "/big") == 0) {
        size_t n = 100000;
        char *b = gw_xmalloc(n + 20);
        memset(b, 'x', n);
        memcpy(b, "{\"data\":\"", 9);
        memcpy(b + n - 2, "\"}", 2);
        ts_reply(req, 200, "application/json", b, (long)n);
        gw_free(b);
    } else if (strcmp(path, "/business") == 0) {
        ts_reply(req, 200, "application/json",
                 "{\"success\":false,\"message\":\"Slot not available at Hinjewadi\"}", -1);
    } else if (strcmp(path, "/items") == 0) {
        ts_reply(req, 200, "application/json",
                 "{\"items\":[{\"id\":1,\"internal\":\"a\",\"x\":null},{\"id\":2},{\"id\":3}],"
                 "\"total\":3}",
                 -1);
    } else {
        ts_reply(req, 404, "application/json", "{\"error\":\"no route\"}", -1);
    }
}

/* ---- fixture ---- */

static struct ts_server *SERVER;
static struct gw_settings *SETTINGS;
static struct gw_upstreams *U;
static struct event_base *BASE;
static struct gw_exec *EX;
static char TMPDIR_PATH[256];
static const char *HTTP_CLIENT = "native"; /* GW_UPSTREAM_HTTP_CLIENT of the group's run */
static char LOG_PATH[300];
static int LOG_FD = -1;
static struct gw_buf ALL_RESULTS; /* every result and error text, scanned for secrets */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int group_setup(void **state)
{
    (void)state;
    memset(&SRV, 0, sizeof(SRV)); /* the group runs twice: every counter starts at zero */
    pthread_mutex_init(&SRV.mu, NULL);
    atomic_store(&SRV.token_expires, 120);
    SERVER = ts_start(handler, NULL);
    snprintf(TMPDIR_PATH, sizeof(TMPDIR_PATH), "/tmp/gw-upstream-test-XXXXXX");
    if (!mkdtemp(TMPDIR_PATH))
        return -1;
    char path[700], secrets[400];
    snprintf(secrets, sizeof(secrets), "%s/secrets", TMPDIR_PATH);
    mkdir(secrets, 0700);
    snprintf(path, sizeof(path), "%s/svc-api-key", secrets);
    write_file(path, SECRET_APIKEY "\n"); /* mounted secrets often end with a newline */
    snprintf(path, sizeof(path), "%s/qkey", TMPDIR_PATH);
    write_file(path, SECRET_QKEY);
    setenv("TEST_APIM_KEY", SECRET_APIM, 1);
    setenv("TEST_BASIC_PW", SECRET_BASIC, 1);
    setenv("TEST_CLIENT_SECRET", SECRET_CLIENT, 1);

    int port = SERVER->port, dead = ts_dead_port();
    char conf[8192];
    snprintf(
        conf, sizeof(conf),
        "{\"defaults\":{\"retries\":{\"maxAttempts\":3,\"baseDelayMs\":5,\"maxDelayMs\":20},"
        "\"breaker\":{\"failureThreshold\":0,\"failureRatioPercent\":0}},"
        "\"upstreams\":{"
        "\"svc\":{\"baseUrls\":{\"mock\":\"http://127.0.0.1:%d\",\"production\":"
        "\"https://apim.example\"},"
        "\"headers\":{\"Ocp-Apim-Subscription-Key\":{\"env\":\"TEST_APIM_KEY\"}},"
        "\"credentials\":{"
        "\"apiKeyAuth\":{\"type\":\"apiKey\",\"in\":\"header\",\"name\":\"x-api-key\","
        "\"value\":{\"secret\":\"svc-api-key\"}},"
        "\"qkey\":{\"type\":\"apiKey\",\"in\":\"query\",\"name\":\"code\","
        "\"value\":{\"file\":\"%s/qkey\"}},"
        "\"basicAuth\":{\"type\":\"basic\",\"username\":\"svc-user\","
        "\"password\":{\"env\":\"TEST_BASIC_PW\"}},"
        "\"missing\":{\"type\":\"bearer\",\"token\":{\"env\":\"NOT_SET_ANYWHERE\","
        "\"optional\":true}},"
        "\"specKey\":{\"type\":\"apiKey\",\"value\":{\"env\":\"TEST_APIM_KEY\"}}},"
        "\"callerIdentity\":{\"userHeader\":\"X-User-Id\",\"clientHeader\":\"X-Client-Id\"}},"
        "\"oauth-svc\":{\"baseUrl\":\"http://127.0.0.1:%d\","
        "\"credentials\":{\"oauth\":{\"type\":\"oauth2\",\"tokenUrl\":"
        "\"http://127.0.0.1:%d/token\",\"clientId\":\"my-client\","
        "\"clientSecret\":{\"env\":\"TEST_CLIENT_SECRET\"},\"scopes\":[\"booking.read\","
        "\"booking.write\"],\"refreshBeforeSeconds\":60}}},"
        "\"down\":{\"baseUrl\":\"http://127.0.0.1:%d\",\"retries\":{\"maxAttempts\":1},"
        "\"breaker\":{\"failureThreshold\":3,\"coolDownSeconds\":30}},"
        "\"flappy\":{\"baseUrl\":\"http://127.0.0.1:%d\",\"retries\":{\"maxAttempts\":1},"
        "\"breaker\":{\"failureThreshold\":3,\"coolDownSeconds\":10}}"
        "}}",
        port, TMPDIR_PATH, port, port, dead, port);
    snprintf(path, sizeof(path), "%s/upstreams.json", TMPDIR_PATH);
    write_file(path, conf);

    SETTINGS = gw_settings_new();
    gw_settings_register(SETTINGS, gw_upstream_settings);
    struct gw_error err;
    gw_settings_override(SETTINGS, "GW_UPSTREAMS_FILE", path, &err);
    gw_settings_override(SETTINGS, "GW_SECRETS_DIR", secrets, &err);
    /* tools whose server is the local test upstream without an upstreams-file entry (the
     * servers[0] fallback) pass the SSRF guard through the allowlist (test_upstream_guard.c
     * covers the guard itself) */
    gw_settings_override(SETTINGS, "GW_UPSTREAM_ALLOWLIST", "127.0.0.1", &err);
    gw_settings_override(SETTINGS, "GW_UPSTREAM_HTTP_CLIENT", HTTP_CLIENT, &err);
    if (gw_settings_load(SETTINGS, NULL, &err) != GW_OK) {
        fprintf(stderr, "settings: %s\n", err.msg);
        return -1;
    }
    snprintf(LOG_PATH, sizeof(LOG_PATH), "%s/log.jsonl", TMPDIR_PATH);
    LOG_FD = open(LOG_PATH, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
    gw_log_configure(GW_LOG_TRACE, true, LOG_FD); /* everything, to scan for secrets */
    U = gw_upstreams_load(SETTINGS, &err);
    if (!U) {
        fprintf(stderr, "upstreams: %s\n", err.msg);
        return -1;
    }
    BASE = event_base_new();
    EX = gw_exec_new(BASE, U, &err);
    gw_buf_init(&ALL_RESULTS, 64u << 20);
    return EX ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    /* the calls of the run went through the engines GW_UPSTREAM_HTTP_CLIENT chose: with
     * "native" the test upstreams (plain http on 127.0.0.1) take the native engine, apart from
     * multipart bodies (libcurl); with "curl" nothing takes it */
    struct gw_upstreams_stats st;
    gw_upstreams_stats(U, &st); /* what mcpgw_upstream_requests_total{client} shows */
    unsigned long long native = st.http_native, curl = st.http_curl;
    printf("# upstream requests: native %llu, libcurl %llu (GW_UPSTREAM_HTTP_CLIENT=%s)\n", native,
           curl, HTTP_CLIENT);
    int bad = strcmp(HTTP_CLIENT, "curl") == 0 ? native != 0 || curl == 0
                                               : native < 100 * curl || native == 0;
    gw_exec_free(EX);
    event_base_free(BASE);
    gw_upstreams_free(U);
    gw_settings_free(SETTINGS);
    ts_stop(SERVER);
    gw_log_configure(GW_LOG_INFO, true, 2);
    close(LOG_FD);
    gw_buf_fini(&ALL_RESULTS);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", TMPDIR_PATH);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", TMPDIR_PATH);
    return bad ? -1 : 0;
}

/* ---- calling ---- */

struct res {
    int done;
    json_t *result;
    enum gw_exec_outcome outcome;
    int http_status;
    unsigned attempts;
    bool cache_hit, replay;
    enum gw_breaker_state breaker;
    char upstream[64];
};

static void on_done(void *arg, json_t *result, const struct gw_exec_info *info)
{
    struct res *r = arg;
    r->done++;
    r->result = result;
    r->outcome = info->outcome;
    r->http_status = info->http_status;
    r->attempts = info->attempts;
    r->cache_hit = info->cache_hit;
    r->replay = info->idempotent_replay;
    r->breaker = info->breaker_state;
    snprintf(r->upstream, sizeof(r->upstream), "%s", info->upstream);
    char *s = gw_json_dumps(result);
    (void)gw_buf_adds(&ALL_RESULTS, s);
    gw_free(s);
    if (info->error)
        (void)gw_buf_adds(&ALL_RESULTS, info->error);
}

static json_t *tool(const char *upstream, const char *method, const char *path, const char *extra)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "{\"name\":\"t_%s\",\"version\":1,\"binding\":{\"method\":\"%s\",\"path\":\"%s\","
             "\"upstream\":\"%s\",\"args\":[{\"arg\":\"q\",\"in\":\"query\",\"name\":\"q\"},"
             "{\"arg\":\"name\",\"in\":\"body\",\"name\":\"name\"},"
             "{\"arg\":\"n\",\"in\":\"body\",\"name\":\"n\"}],"
             "\"security\":[{\"scheme\":\"apiKeyAuth\"},{\"scheme\":\"basicAuth\"},"
             "{\"scheme\":\"qkey\"},{\"scheme\":\"missing\"},{\"scheme\":\"oauth\"}]}%s%s}",
             upstream, method, path, upstream, extra ? "," : "", extra ? extra : "");
    json_t *t = json_loads(text, 0, NULL);
    assert_non_null(t);
    /* distinct tool names per path so caches and idempotency scopes differ */
    char name[128];
    snprintf(name, sizeof(name), "t_%s_%s", method, path + 1);
    for (char *p = name; *p; p++)
        if (*p == '/' || *p == '-')
            *p = '_';
    json_object_set_new(t, "name", json_string(name));
    return t;
}

static void call(const json_t *t, const char *args, const struct gw_exec_opts *o, struct res *r)
{
    memset(r, 0, sizeof(*r));
    json_t *a = json_loads(args ? args : "{}", 0, NULL);
    assert_int_equal(gw_exec_call(EX, t, a, o, on_done, r, NULL), GW_OK);
    json_decref(a);
    assert_int_equal(r->done, 0); /* never synchronously */
}

static void wait_for(struct res *r)
{
    assert_true(ts_run_until(BASE, &r->done, 1, 15000));
}

static const char *text0(const struct res *r)
{
    const char *t = json_string_value(
        json_object_get(json_array_get(json_object_get(r->result, "content"), 0), "text"));
    return t ? t : "";
}

static void release(struct res *r)
{
    json_decref(r->result);
    r->result = NULL;
}

/* ---- tests ---- */

static void test_credentials_identity_and_scrubbing(void **state)
{
    (void)state;
    json_t *t = tool("svc", "GET", "/echo", NULL);
    struct gw_exec_caller who = {"user-42", "chat-ui"};
    struct gw_exec_opts o = {&who, NULL, 0, "req-abc-1", NULL, NULL, NULL};
    struct res r;
    call(t, "{\"q\":\"x y\"}", &o, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    assert_string_equal(r.upstream, "svc");
    pthread_mutex_lock(&SRV.mu);
    json_t *h = json_loads(SRV.last_headers, 0, NULL);
    char uri[2048];
    snprintf(uri, sizeof(uri), "%s", SRV.last_uri);
    pthread_mutex_unlock(&SRV.mu);
    assert_string_equal(gw_json_str(h, "x-api-key"), SECRET_APIKEY);
    assert_string_equal(gw_json_str(h, "Ocp-Apim-Subscription-Key"), SECRET_APIM);
    /* base64("svc-user:basic-pw-Zq81!") */
    assert_string_equal(gw_json_str(h, "Authorization"), "Basic c3ZjLXVzZXI6YmFzaWMtcHctWnE4MSE=");
    assert_string_equal(gw_json_str(h, "X-User-Id"), "user-42");
    assert_string_equal(gw_json_str(h, "X-Client-Id"), "chat-ui");
    assert_string_equal(gw_json_str(h, "X-Request-Id"), "req-abc-1");
    assert_string_equal(uri, "/echo?q=x%20y&code=" SECRET_QKEY);
    json_decref(h);
    /* the upstream echoed the API key: the result carries [REDACTED] instead */
    json_t *sc = json_object_get(r.result, "structuredContent");
    assert_string_equal(gw_json_str(sc, "seenKey"), "[REDACTED]");
    assert_null(strstr(text0(&r), SECRET_APIKEY));
    release(&r);

    /* a tool whose binding names no security scheme gets no credentials */
    json_t *plain = json_loads("{\"name\":\"plain\",\"binding\":{\"method\":\"GET\",\"path\":"
                               "\"/echo\",\"upstream\":\"svc\",\"args\":[]}}",
                               0, NULL);
    call(plain, NULL, NULL, &r);
    wait_for(&r);
    pthread_mutex_lock(&SRV.mu);
    h = json_loads(SRV.last_headers, 0, NULL);
    pthread_mutex_unlock(&SRV.mu);
    assert_null(gw_json_str(h, "x-api-key"));
    assert_null(gw_json_str(h, "Authorization"));
    assert_null(gw_json_str(h, "X-User-Id")); /* anonymous: no identity header */
    /* the static upstream header applies to every call of the upstream */
    assert_string_equal(gw_json_str(h, "Ocp-Apim-Subscription-Key"), SECRET_APIM);
    json_decref(h);
    release(&r);
    json_decref(plain);

    /* OpenAPI security alternatives: [["oauthX"], ["apiKeyAuth"], ["specKey", "mtls"]]; this
     * upstream has no oauthX credential, so exactly the second alternative applies */
    json_t *alt = json_loads(
        "{\"name\":\"alt\",\"binding\":{\"method\":\"GET\",\"path\":\"/echo\",\"upstream\":"
        "\"svc\",\"args\":[],\"security\":[{\"scheme\":\"oauthX\",\"type\":\"oauth2\"},"
        "{\"scheme\":\"apiKeyAuth\",\"type\":\"apiKey\",\"in\":\"header\",\"name\":\"x-api-key\"},"
        "{\"scheme\":\"basicAuth\",\"type\":\"http\",\"httpScheme\":\"basic\"}],"
        "\"securityRequirements\":[[\"oauthX\"],[\"apiKeyAuth\"],[\"basicAuth\"]]}}",
        0, NULL);
    call(alt, NULL, NULL, &r);
    wait_for(&r);
    pthread_mutex_lock(&SRV.mu);
    h = json_loads(SRV.last_headers, 0, NULL);
    pthread_mutex_unlock(&SRV.mu);
    assert_string_equal(gw_json_str(h, "x-api-key"), SECRET_APIKEY);
    assert_null(gw_json_str(h, "Authorization")); /* basicAuth is another alternative */
    json_decref(h);
    release(&r);
    json_decref(alt);
    /* a credential without a name takes `in`/`name` from the spec's scheme entry */
    alt = json_loads("{\"name\":\"spec\",\"binding\":{\"method\":\"GET\",\"path\":\"/echo\","
                     "\"upstream\":\"svc\",\"args\":[],\"security\":[{\"scheme\":\"specKey\","
                     "\"type\":\"apiKey\",\"in\":\"query\",\"name\":\"subscription\"}]}}",
                     0, NULL);
    call(alt, NULL, NULL, &r);
    wait_for(&r);
    pthread_mutex_lock(&SRV.mu);
    assert_string_equal(SRV.last_uri, "/echo?subscription=" SECRET_APIM);
    pthread_mutex_unlock(&SRV.mu);
    release(&r);
    json_decref(alt);

    /* an identity with CR/LF is refused, not forwarded */
    struct gw_exec_caller evil = {"u\r\nX-Admin: 1", NULL};
    struct gw_exec_opts eo = {&evil, NULL, 0, NULL, NULL, NULL, NULL};
    call(t, NULL, &eo, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_INVALID_REQUEST);
    release(&r);
    json_decref(t);
}

/* The headers (and query/cookie values) the last /echo request carried. */
struct seen {
    json_t *h;
    char uri[2048];
    int n_apikey, n_authz;
};

static void seen_take(struct seen *w)
{
    pthread_mutex_lock(&SRV.mu);
    w->h = json_loads(SRV.last_headers, 0, NULL);
    snprintf(w->uri, sizeof(w->uri), "%s", SRV.last_uri);
    w->n_apikey = SRV.n_apikey;
    w->n_authz = SRV.n_authz;
    pthread_mutex_unlock(&SRV.mu);
}

/* Calls an /echo tool with the given binding members (args, security, requirements). */
static void call_binding(const char *members, struct seen *w)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "{\"name\":\"creds\",\"binding\":{\"method\":\"GET\",\"path\":\"/echo\","
             "\"upstream\":\"svc\",%s}}",
             members);
    json_t *t = json_loads(text, 0, NULL);
    assert_non_null(t);
    struct res r;
    call(t, NULL, NULL, &r);
    wait_for(&r);
    if (r.outcome != GW_EXEC_OK)
        fail_msg("call failed: %s", text0(&r));
    release(&r);
    json_decref(t);
    seen_take(w);
}

#define BASIC_SVC "Basic c3ZjLXVzZXI6YmFzaWMtcHctWnE4MSE="

/* Every credential the operation requires is sent: the union of the credentials bound to
 * required header/query/cookie parameters and one satisfiable alternative of
 * securityRequirements (the MSIL DMS swagger: security [{CommonAuthorizerLambdaSAM},
 * {api_key}] or [api_key] alone, while every operation declares both the x-api-key and the
 * Authorization header as required parameters). */
static void test_required_credentials(void **state)
{
    (void)state;
    struct seen w;
    /* calendar: the alternatives are OR'ed, but both headers are required parameters */
    call_binding(
        "\"args\":[{\"in\":\"header\",\"name\":\"x-api-key\",\"required\":true,"
        "\"source\":\"credential\",\"scheme\":\"apiKeyAuth\"},"
        "{\"in\":\"header\",\"name\":\"Authorization\",\"required\":true,"
        "\"source\":\"credential\",\"scheme\":\"basicAuth\"},"
        "{\"in\":\"header\",\"name\":\"Content-Type\",\"source\":\"contentType\"}],"
        "\"security\":[{\"scheme\":\"basicAuth\",\"type\":\"apiKey\",\"in\":\"header\","
        "\"name\":\"Authorization\"},{\"scheme\":\"apiKeyAuth\",\"type\":\"apiKey\","
        "\"in\":\"header\",\"name\":\"x-api-key\"}],"
        "\"securityRequirements\":[[\"basicAuth\"],[\"apiKeyAuth\"]]",
        &w);
    assert_string_equal(gw_json_str(w.h, "x-api-key"), SECRET_APIKEY);
    assert_string_equal(gw_json_str(w.h, "Authorization"), BASIC_SVC);
    assert_int_equal(w.n_apikey, 1); /* each exactly once */
    assert_int_equal(w.n_authz, 1);
    json_decref(w.h);

    /* appointment-booking: security [api_key] only, Authorization a required parameter of a
     * scheme that is not in binding.security */
    call_binding(
        "\"args\":[{\"in\":\"header\",\"name\":\"x-api-key\",\"required\":true,"
        "\"source\":\"credential\",\"scheme\":\"apiKeyAuth\"},"
        "{\"in\":\"header\",\"name\":\"Authorization\",\"required\":true,"
        "\"source\":\"credential\",\"scheme\":\"basicAuth\"}],"
        "\"security\":[{\"scheme\":\"apiKeyAuth\",\"type\":\"apiKey\",\"in\":\"header\","
        "\"name\":\"x-api-key\"}],\"securityRequirements\":[[\"apiKeyAuth\"]]",
        &w);
    assert_string_equal(gw_json_str(w.h, "x-api-key"), SECRET_APIKEY);
    assert_string_equal(gw_json_str(w.h, "Authorization"), BASIC_SVC);
    assert_int_equal(w.n_apikey, 1);
    assert_int_equal(w.n_authz, 1);
    json_decref(w.h);

    /* dealer-only-cities: the Authorization parameter is optional -> only the alternative */
    call_binding(
        "\"args\":[{\"in\":\"header\",\"name\":\"x-api-key\",\"required\":true,"
        "\"source\":\"credential\",\"scheme\":\"apiKeyAuth\"},"
        "{\"in\":\"header\",\"name\":\"Authorization\","
        "\"source\":\"credential\",\"scheme\":\"basicAuth\"}],"
        "\"security\":[{\"scheme\":\"apiKeyAuth\",\"type\":\"apiKey\",\"in\":\"header\","
        "\"name\":\"x-api-key\"}],\"securityRequirements\":[[\"apiKeyAuth\"]]",
        &w);
    assert_string_equal(gw_json_str(w.h, "x-api-key"), SECRET_APIKEY);
    assert_null(gw_json_str(w.h, "Authorization"));
    json_decref(w.h);

    /* an apiKey credential configured without in/name takes them from the parameter it
     * fills (here a required query parameter of a scheme the binding does not list) */
    call_binding("\"args\":[{\"in\":\"query\",\"name\":\"subscription-key\",\"required\":true,"
                 "\"source\":\"credential\",\"scheme\":\"specKey\"}]",
                 &w);
    assert_string_equal(w.uri, "/echo?subscription-key=" SECRET_APIM);
    assert_null(gw_json_str(w.h, "x-api-key"));
    json_decref(w.h);

    /* a required Authorization parameter without a scheme: the upstream's credential that
     * writes Authorization fills it */
    call_binding("\"args\":[{\"in\":\"header\",\"name\":\"Authorization\",\"required\":true,"
                 "\"source\":\"credential\",\"scheme\":null}]",
                 &w);
    assert_string_equal(gw_json_str(w.h, "Authorization"), BASIC_SVC);
    assert_null(gw_json_str(w.h, "x-api-key"));
    json_decref(w.h);

    /* a required parameter of a scheme this upstream has no credential for: nothing is
     * invented, the call goes out (the upstream decides) */
    call_binding("\"args\":[{\"in\":\"header\",\"name\":\"X-Partner\",\"required\":true,"
                 "\"source\":\"credential\",\"scheme\":\"partner\"}]",
                 &w);
    assert_null(gw_json_str(w.h, "X-Partner"));
    json_decref(w.h);

    /* alternatives: one that the required parameters already cover is preferred (nothing
     * extra is sent), then the first satisfiable one in spec order; [] (anonymous) last */
    call_binding(
        "\"args\":[{\"in\":\"header\",\"name\":\"x-api-key\",\"required\":true,"
        "\"source\":\"credential\",\"scheme\":\"apiKeyAuth\"}],"
        "\"security\":[{\"scheme\":\"basicAuth\",\"type\":\"http\",\"httpScheme\":\"basic\"},"
        "{\"scheme\":\"apiKeyAuth\",\"type\":\"apiKey\",\"in\":\"header\",\"name\":"
        "\"x-api-key\"}],\"securityRequirements\":[[\"basicAuth\"],[\"apiKeyAuth\"]]",
        &w);
    assert_string_equal(gw_json_str(w.h, "x-api-key"), SECRET_APIKEY);
    assert_null(gw_json_str(w.h, "Authorization"));
    json_decref(w.h);
    call_binding("\"args\":[],\"security\":[{\"scheme\":\"basicAuth\",\"type\":\"http\","
                 "\"httpScheme\":\"basic\"}],\"securityRequirements\":[[],[\"basicAuth\"]]",
                 &w);
    assert_string_equal(gw_json_str(w.h, "Authorization"), BASIC_SVC);
    json_decref(w.h);
    /* an alternative with a scheme that has no credential is skipped even when listed first */
    call_binding("\"args\":[],\"security\":[{\"scheme\":\"basicAuth\",\"type\":\"http\","
                 "\"httpScheme\":\"basic\"}],"
                 "\"securityRequirements\":[[\"basicAuth\",\"nothing\"],[\"qkey\"]]",
                 &w);
    assert_null(gw_json_str(w.h, "Authorization"));
    assert_string_equal(w.uri, "/echo?code=" SECRET_QKEY);
    json_decref(w.h);
}

static void test_bodies_on_the_wire(void **state)
{
    (void)state;
    json_t *t = tool("svc", "POST", "/echo", NULL);
    struct res r;
    call(t, "{\"name\":\"Asha\",\"n\":3,\"q\":\"z\"}", NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    pthread_mutex_lock(&SRV.mu);
    assert_string_equal(SRV.last_body, "{\"name\":\"Asha\",\"n\":3}");
    json_t *h = json_loads(SRV.last_headers, 0, NULL);
    pthread_mutex_unlock(&SRV.mu);
    assert_string_equal(gw_json_str(h, "Content-Type"), "application/json");
    json_decref(h);
    release(&r);
    json_decref(t);

    t = tool("svc", "PUT", "/echo",
             "\"_\":0");
    json_object_set_new(json_object_get(t, "binding"), "body",
                        json_pack("{s:s}", "contentType", "application/x-www-form-urlencoded"));
    call(t, "{\"name\":\"A B\",\"n\":1}", NULL, &r);
    wait_for(&r);
    pthread_mutex_lock(&SRV.mu);
    assert_string_equal(SRV.last_body, "name=A%20B&n=1");
    pthread_mutex_unlock(&SRV.mu);
    release(&r);
    json_object_set_new(json_object_get(t, "binding"), "body",
                        json_pack("{s:s}", "contentType", "multipart/form-data"));
    call(t, "{\"name\":\"Asha\",\"n\":1}", NULL, &r);
    wait_for(&r);
    pthread_mutex_lock(&SRV.mu);
    assert_non_null(strstr(SRV.last_body, "name=\"name\"\r\n\r\nAsha"));
    h = json_loads(SRV.last_headers, 0, NULL);
    pthread_mutex_unlock(&SRV.mu);
    assert_non_null(strstr(gw_json_str(h, "Content-Type"), "multipart/form-data; boundary="));
    json_decref(h);
    release(&r);
    json_decref(t);
}

static void test_oauth_single_flight_refresh_and_401(void **state)
{
    (void)state;
    struct gw_error err;
    struct event_base *base2 = event_base_new();
    struct gw_exec *ex2 = gw_exec_new(base2, U, &err);
    assert_non_null(ex2);
    json_t *t = tool("oauth-svc", "GET", "/protected", NULL);
    atomic_store(&SRV.token_delay_ms, 150); /* the fetch stays in flight while calls pile up */
    enum { N = 10 };
    static struct res r1[N], r2[N];
    int done1 = 0, done2 = 0;
    for (int i = 0; i < N; i++) {
        memset(&r1[i], 0, sizeof(r1[i]));
        memset(&r2[i], 0, sizeof(r2[i]));
        assert_int_equal(gw_exec_call(EX, t, NULL, NULL, on_done, &r1[i], NULL), GW_OK);
        assert_int_equal(gw_exec_call(ex2, t, NULL, NULL, on_done, &r2[i], NULL), GW_OK);
    }
    long long end = ts_now_ms() + 10000;
    while ((done1 < N || done2 < N) && ts_now_ms() < end) {
        event_base_loop(BASE, EVLOOP_NONBLOCK);
        event_base_loop(base2, EVLOOP_NONBLOCK);
        usleep(200);
        done1 = done2 = 0;
        for (int i = 0; i < N; i++) {
            done1 += r1[i].done;
            done2 += r2[i].done;
        }
    }
    assert_int_equal(done1, N);
    assert_int_equal(done2, N);
    assert_int_equal(atomic_load(&SRV.hits_token), 1); /* one fetch for 20 calls, 2 workers */
    for (int i = 0; i < N; i++) {
        assert_int_equal(r1[i].outcome, GW_EXEC_OK);
        assert_int_equal(r2[i].outcome, GW_EXEC_OK);
        assert_string_equal(gw_json_str(json_object_get(r1[i].result, "structuredContent"),
                                        "token"),
                            "[REDACTED]"); /* the upstream echoed our token: scrubbed */
        release(&r1[i]);
        release(&r2[i]);
    }
    /* the token request: client_secret_basic and the scopes, never the secret in the body */
    pthread_mutex_lock(&SRV.mu);
    assert_string_equal(SRV.last_body,
                        "grant_type=client_credentials&scope=booking.read%20booking.write");
    pthread_mutex_unlock(&SRV.mu);
    atomic_store(&SRV.token_delay_ms, 0);

    /* cached: more calls, no new fetch */
    struct res r;
    call(t, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    release(&r);
    assert_int_equal(atomic_load(&SRV.hits_token), 1);

    /* inside the refresh margin (120 s token, refresh 60 s before): the call still uses tok-1
     * and one background fetch gets tok-2 */
    gw_upstreams_advance_clock(U, 61000);
    atomic_store(&SRV.valid_token, 1);
    call(t, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    release(&r);
    int never = 0;
    for (int i = 0; i < 200 && atomic_load(&SRV.hits_token) < 2; i++)
        ts_run_until(BASE, &never, 1, 5);
    assert_int_equal(atomic_load(&SRV.hits_token), 2);
    atomic_store(&SRV.valid_token, 2);
    call(t, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    release(&r);
    assert_int_equal(atomic_load(&SRV.hits_token), 2);

    /* the upstream rotates: tok-2 now gets 401 -> dropped, tok-3 fetched, call retried once */
    atomic_store(&SRV.valid_token, 3);
    int before = atomic_load(&SRV.hits_protected);
    call(t, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    assert_int_equal(r.attempts, 2);
    assert_int_equal(atomic_load(&SRV.hits_token), 3);
    assert_int_equal(atomic_load(&SRV.hits_protected) - before, 2);
    release(&r);
    /* a second 401 is not retried again */
    atomic_store(&SRV.valid_token, 99);
    call(t, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_HTTP_ERROR);
    assert_int_equal(r.http_status, 401);
    release(&r);
    atomic_store(&SRV.valid_token, 0);

    struct gw_upstreams_stats st;
    gw_upstreams_stats(U, &st);
    assert_int_equal(st.token_fetches, 4);

    /* a call whose deadline passes while the token request is still running times out */
    gw_upstreams_advance_clock(U, 200000); /* the cached token has expired */
    atomic_store(&SRV.token_delay_ms, 600);
    int tokens = atomic_load(&SRV.hits_token);
    struct gw_exec_opts od = {NULL, NULL, gw_upstreams_now_ms(U) + 150, NULL, NULL, NULL, NULL};
    long long t0 = ts_now_ms();
    call(t, NULL, &od, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_TIMEOUT);
    assert_non_null(strstr(text0(&r), "waiting for credentials"));
    assert_true(ts_now_ms() - t0 < 550);
    release(&r);
    for (int i = 0; i < 400 && atomic_load(&SRV.hits_token) == tokens; i++)
        ts_run_until(BASE, &never, 1, 5);
    ts_run_for(BASE, 700); /* let the fetch finish */
    atomic_store(&SRV.token_delay_ms, 0);
    gw_exec_free(ex2);
    event_base_free(base2);
    json_decref(t);
}

static void test_breaker_down_open_probe_recover(void **state)
{
    (void)state;
    /* upstream down (connection refused): isError, and the breaker opens after 3 failures */
    json_t *t = tool("down", "GET", "/x", NULL);
    struct res r;
    for (int i = 0; i < 3; i++) {
        call(t, NULL, NULL, &r);
        wait_for(&r);
        assert_int_equal(r.outcome, GW_EXEC_CONNECT_ERROR);
        assert_true(json_is_true(json_object_get(r.result, "isError")));
        assert_non_null(strstr(text0(&r), "upstream 'down' is unreachable"));
        release(&r);
    }
    call(t, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_BREAKER_OPEN);
    assert_int_equal(r.attempts, 0);
    assert_non_null(strstr(text0(&r), "circuit breaker open"));
    assert_int_equal(r.breaker, GW_BREAKER_OPEN);
    release(&r);
    json_t *bj = gw_upstreams_breakers_json(U);
    size_t i;
    json_t *b;
    bool seen = false;
    json_array_foreach(bj, i, b) {
        if (strcmp(gw_json_str(b, "name"), "down") == 0) {
            seen = true;
            assert_string_equal(gw_json_str(b, "state"), "open");
            assert_true(json_is_string(json_object_get(b, "openedAt")));
            assert_int_equal(json_integer_value(json_object_get(b, "consecutiveFailures")), 3);
        }
    }
    assert_true(seen);
    json_decref(bj);
    json_decref(t);

    /* flappy: 503s open it, calls are refused without reaching the upstream, a single probe
     * after the cool-down closes it again once the upstream is back */
    json_t *ok = tool("flappy", "GET", "/maybe", NULL);
    json_t *slow = tool("flappy", "GET", "/maybe-slow", NULL);
    atomic_store(&SRV.maybe_down, 1);
    for (int k = 0; k < 3; k++) {
        call(ok, NULL, NULL, &r);
        wait_for(&r);
        assert_int_equal(r.outcome, GW_EXEC_HTTP_ERROR);
        assert_int_equal(r.http_status, 503);
        release(&r);
    }
    int hits = atomic_load(&SRV.hits_maybe);
    call(ok, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_BREAKER_OPEN);
    release(&r);
    assert_int_equal(atomic_load(&SRV.hits_maybe), hits); /* not called */
    atomic_store(&SRV.maybe_down, 0);
    gw_upstreams_advance_clock(U, 10000);
    struct res probe, other;
    call(slow, NULL, NULL, &probe);
    call(ok, NULL, NULL, &other); /* while the probe is out: refused */
    wait_for(&other);
    assert_int_equal(other.outcome, GW_EXEC_BREAKER_OPEN);
    assert_non_null(strstr(text0(&other), "half-open"));
    release(&other);
    wait_for(&probe);
    assert_int_equal(probe.outcome, GW_EXEC_OK);
    assert_int_equal(probe.breaker, GW_BREAKER_CLOSED);
    release(&probe);
    call(ok, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    release(&r);
    json_decref(ok);
    json_decref(slow);
}

static void test_timeout_does_not_stall(void **state)
{
    (void)state;
    json_t *slow = tool("svc", "GET", "/slow", "\"execution\":{\"timeoutMs\":400,\"retries\":0}");
    json_t *fast = tool("svc", "GET", "/fast", NULL);
    struct res s;
    call(slow, NULL, NULL, &s);
    static struct res f[50];
    long long t0 = ts_now_ms();
    for (int i = 0; i < 50; i++) {
        memset(&f[i], 0, sizeof(f[i]));
        assert_int_equal(gw_exec_call(EX, fast, NULL, NULL, on_done, &f[i], NULL), GW_OK);
    }
    int fd = 0;
    while (fd < 50 && ts_now_ms() - t0 < 5000) {
        ts_run_for(BASE, 2);
        fd = 0;
        for (int i = 0; i < 50; i++)
            fd += f[i].done;
    }
    assert_int_equal(fd, 50);
    assert_int_equal(s.done, 0); /* the slow call is still pending: nothing stalled the loop */
    for (int i = 0; i < 50; i++) {
        assert_int_equal(f[i].outcome, GW_EXEC_OK);
        release(&f[i]);
    }
    wait_for(&s);
    assert_int_equal(s.outcome, GW_EXEC_TIMEOUT);
    assert_non_null(strstr(text0(&s), "did not answer in time"));
    assert_true(ts_now_ms() - t0 < 1900);
    release(&s);
    json_decref(slow);
    json_decref(fast);
}

struct progress {
    int calls;
    unsigned last_attempt;
    char last[200];
};

static void on_progress(void *arg, unsigned attempt, unsigned max, const char *msg)
{
    struct progress *p = arg;
    (void)max;
    p->calls++;
    p->last_attempt = attempt;
    snprintf(p->last, sizeof(p->last), "%s", msg);
}

static void test_retries_for_idempotent_only(void **state)
{
    (void)state;
    struct res r;
    /* GET: 502, 503 then 200; the caller hears about each retry */
    json_t *flaky = tool("svc", "GET", "/flaky", NULL);
    struct progress pr;
    memset(&pr, 0, sizeof(pr));
    struct gw_exec_opts po = {NULL, NULL, 0, NULL, on_progress, &pr, NULL};
    call(flaky, NULL, &po, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(pr.calls, 2);
    assert_int_equal(pr.last_attempt, 3);
    assert_string_equal(pr.last, "retrying upstream 'svc' after HTTP 503 (attempt 3 of 3)");
    assert_int_equal(atomic_load(&SRV.hits_flaky), 3);
    release(&r);
    json_decref(flaky);
    /* GET always 503: 3 attempts then isError */
    json_t *g = tool("svc", "GET", "/always503", NULL);
    call(g, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_HTTP_ERROR);
    assert_int_equal(atomic_load(&SRV.hits_503), 3);
    assert_non_null(strstr(text0(&r), "HTTP 503 Service Unavailable from upstream 'svc'"));
    release(&r);
    json_decref(g);
    /* POST: never retried */
    json_t *p = tool("svc", "POST", "/always503", NULL);
    call(p, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(atomic_load(&SRV.hits_503), 4);
    release(&r);
    /* POST with an idempotency key: retried */
    struct gw_exec_opts o = {NULL, "retry-key-1", 0, NULL, NULL, NULL, NULL};
    call(p, "{\"n\":1}", &o, &r);
    wait_for(&r);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(atomic_load(&SRV.hits_503), 7);
    release(&r);
    json_decref(p);
    /* 500 is not a retry status */
    json_t *e = tool("svc", "GET", "/always500", NULL);
    call(e, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(atomic_load(&SRV.hits_500), 1);
    assert_non_null(strstr(text0(&r), "HTTP 500 Internal Server Error from upstream 'svc': "
                                      "{\"error\":\"boom\"}"));
    release(&r);
    json_decref(e);
}

static void test_oversized_response(void **state)
{
    (void)state;
    json_t *t = tool("svc", "GET", "/big", "\"execution\":{\"maxResponseBytes\":2048}");
    struct res r;
    call(t, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_TOO_LARGE);
    assert_true(json_is_true(json_object_get(r.result, "isError")));
    assert_non_null(strstr(text0(&r), "response too large (limit 2048 bytes)"));
    assert_int_equal(r.attempts, 1);
    release(&r);
    json_decref(t);
}

static void test_idempotency(void **state)
{
    (void)state;
    json_t *t = tool("svc", "POST", "/create", NULL);
    struct gw_exec_caller alice = {"alice", NULL}, bob = {"bob", NULL};
    struct gw_exec_opts o = {&alice, "key-1", 0, NULL, NULL, NULL, NULL};
    struct res r;
    call(t, "{\"name\":\"x\"}", &o, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(r.result, "structuredContent"), "id")),
                     1);
    pthread_mutex_lock(&SRV.mu);
    json_t *h = json_loads(SRV.last_headers, 0, NULL);
    pthread_mutex_unlock(&SRV.mu);
    /* forwarded as a derived key (scoped per caller + tool), not the raw client key */
    const char *fwd = gw_json_str(h, "Idempotency-Key");
    assert_non_null(fwd);
    assert_int_equal(strlen(fwd), 32);
    assert_string_not_equal(fwd, "key-1");
    json_decref(h);
    release(&r);
    /* replay: same key and arguments (other key order) -> stored result, no upstream call */
    call(t, "{\"name\":\"x\"}", &o, &r);
    wait_for(&r);
    assert_true(r.replay);
    assert_int_equal(r.attempts, 0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(r.result, "structuredContent"), "id")),
                     1);
    assert_int_equal(atomic_load(&SRV.hits_create), 1);
    release(&r);
    /* same key, other arguments -> conflict */
    call(t, "{\"name\":\"y\"}", &o, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_IDEM_CONFLICT);
    assert_non_null(strstr(text0(&r), "already used with different arguments"));
    release(&r);
    /* another caller may use the same key for its own request */
    struct gw_exec_opts ob = {&bob, "key-1", 0, NULL, NULL, NULL, NULL};
    call(t, "{\"name\":\"y\"}", &ob, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    assert_int_equal(atomic_load(&SRV.hits_create), 2);
    release(&r);
    /* without a key, identical writes are not deduplicated (the prior implementation's bug) */
    call(t, "{\"name\":\"x\"}", NULL, &r);
    wait_for(&r);
    release(&r);
    call(t, "{\"name\":\"x\"}", NULL, &r);
    wait_for(&r);
    assert_int_equal(atomic_load(&SRV.hits_create), 4);
    release(&r);
    /* in flight: the duplicate is refused while the first runs, then replays */
    json_t *slow = tool("svc", "POST", "/create", NULL);
    struct gw_exec_opts o2 = {&alice, "key-2", 0, NULL, NULL, NULL, NULL};
    struct res first, dup;
    call(slow, "{\"q\":\"slow=1\"}", &o2, &first);
    ts_run_for(BASE, 50);
    call(slow, "{\"q\":\"slow=1\"}", &o2, &dup);
    wait_for(&dup);
    assert_int_equal(dup.outcome, GW_EXEC_IDEM_CONFLICT);
    assert_non_null(strstr(text0(&dup), "still in progress"));
    release(&dup);
    wait_for(&first);
    assert_int_equal(first.outcome, GW_EXEC_OK);
    release(&first);
    call(slow, "{\"q\":\"slow=1\"}", &o2, &dup);
    wait_for(&dup);
    assert_true(dup.replay);
    release(&dup);
    /* a cancelled call releases its key */
    struct gw_exec_opts o3 = {&alice, "key-3", 0, NULL, NULL, NULL, NULL};
    struct gw_exec_call *h3 = NULL;
    json_t *a = json_loads("{\"q\":\"slow=1\"}", 0, NULL);
    memset(&first, 0, sizeof(first));
    assert_int_equal(gw_exec_call(EX, slow, a, &o3, on_done, &first, &h3), GW_OK);
    ts_run_for(BASE, 20);
    gw_exec_cancel(h3);
    call(slow, "{\"q\":\"slow=1\"}", &o3, &dup);
    wait_for(&dup);
    assert_int_equal(dup.outcome, GW_EXEC_OK);
    assert_false(dup.replay);
    assert_int_equal(first.done, 0);
    release(&dup);
    json_decref(a);
    json_decref(slow);
    json_decref(t);
}

static void test_get_cache(void **state)
{
    (void)state;
    json_t *t = tool("svc", "GET", "/count", "\"execution\":{\"cacheTtlSeconds\":60}");
    struct gw_exec_caller alice = {"alice", NULL}, bob = {"bob", NULL};
    struct gw_exec_opts oa = {&alice, NULL, 0, NULL, NULL, NULL, NULL};
    struct gw_exec_opts ob = {&bob, NULL, 0, NULL, NULL, NULL, NULL};
    struct res r;
    call(t, "{\"q\":\"1\"}", &oa, &r);
    wait_for(&r);
    assert_false(r.cache_hit);
    release(&r);
    call(t, "{\"q\":\"1\"}", &oa, &r);
    wait_for(&r);
    assert_true(r.cache_hit);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(r.result, "structuredContent"), "n")),
                     1);
    release(&r);
    assert_int_equal(atomic_load(&SRV.hits_count), 1);
    call(t, "{\"q\":\"2\"}", &oa, &r); /* other arguments */
    wait_for(&r);
    assert_false(r.cache_hit);
    release(&r);
    call(t, "{\"q\":\"1\"}", &ob, &r); /* other caller (cacheScope caller is the default) */
    wait_for(&r);
    assert_false(r.cache_hit);
    release(&r);
    gw_upstreams_advance_clock(U, 61000);
    call(t, "{\"q\":\"1\"}", &oa, &r); /* expired */
    wait_for(&r);
    assert_false(r.cache_hit);
    release(&r);
    assert_int_equal(atomic_load(&SRV.hits_count), 4);
    struct gw_upstreams_stats st;
    gw_upstreams_stats(U, &st);
    assert_int_equal(st.cache_hits, 1);
    json_decref(t);
}

static void test_business_failure_and_shaping(void **state)
{
    (void)state;
    json_t *t = tool("svc", "GET", "/business", NULL);
    struct res r;
    call(t, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_BUSINESS_ERROR);
    assert_true(json_is_true(json_object_get(r.result, "isError")));
    assert_non_null(strstr(text0(&r), "Slot not available at Hinjewadi"));
    release(&r);
    json_decref(t);
    t = tool("svc", "GET", "/items",
             "\"response\":{\"exclude\":[\"**.internal\"],\"dropNulls\":true,"
             "\"maxArrayItems\":2}");
    call(t, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    char *d = json_dumps(json_object_get(r.result, "structuredContent"), JSON_COMPACT);
    assert_string_equal(d, "{\"items\":[{\"id\":1},{\"id\":2}],\"total\":3}");
    gw_free(d);
    release(&r);
    json_decref(t);
}

static void test_async_errors_and_cancel(void **state)
{
    (void)state;
    struct res r;
    /* path parameter injection: refused, reported asynchronously as isError */
    json_t *t = json_loads("{\"name\":\"inj\",\"binding\":{\"method\":\"GET\",\"path\":"
                           "\"/echo/{id}\",\"upstream\":\"svc\",\"args\":[{\"arg\":\"id\","
                           "\"in\":\"path\",\"name\":\"id\"}]}}",
                           0, NULL);
    call(t, "{\"id\":\"%2e%2e\"}", NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_INVALID_REQUEST);
    assert_non_null(strstr(text0(&r), "'..'"));
    release(&r);
    json_decref(t);
    /* an unknown upstream with no server: clear error */
    t = json_loads("{\"name\":\"nos\",\"binding\":{\"method\":\"GET\",\"path\":\"/x\","
                   "\"upstream\":\"nowhere\",\"args\":[]}}",
                   0, NULL);
    call(t, NULL, NULL, &r);
    wait_for(&r);
    assert_non_null(strstr(text0(&r), "no base URL for upstream 'nowhere'"));
    release(&r);
    json_decref(t);
    /* an unknown upstream falls back to binding.servers[0] */
    char srv[128];
    snprintf(srv, sizeof(srv),
             "{\"name\":\"fb\",\"binding\":{\"method\":\"GET\",\"path\":\"/fast\","
             "\"servers\":[\"http://127.0.0.1:%d\"],\"args\":[]}}",
             SERVER->port);
    t = json_loads(srv, 0, NULL);
    call(t, NULL, NULL, &r);
    wait_for(&r);
    assert_int_equal(r.outcome, GW_EXEC_OK);
    char want[64];
    snprintf(want, sizeof(want), "http://127.0.0.1:%d", SERVER->port);
    assert_string_equal(r.upstream, want);
    release(&r);
    json_decref(t);
    /* cancel: done never runs, nothing pending */
    t = tool("svc", "GET", "/slow", NULL);
    struct gw_exec_call *h = NULL;
    memset(&r, 0, sizeof(r));
    assert_int_equal(gw_exec_call(EX, t, NULL, NULL, on_done, &r, &h), GW_OK);
    ts_run_for(BASE, 30);
    assert_int_equal(gw_exec_pending(EX), 1);
    gw_exec_cancel(h);
    assert_int_equal(gw_exec_pending(EX), 0);
    ts_run_for(BASE, 100);
    assert_int_equal(r.done, 0);
    /* cancel before the deferred completion of an immediate error */
    json_t *bad = json_loads("{\"name\":\"bad\",\"binding\":{\"method\":\"GET\",\"path\":"
                             "\"/x/{id}\",\"upstream\":\"svc\",\"args\":[]}}",
                             0, NULL);
    assert_int_equal(gw_exec_call(EX, bad, NULL, NULL, on_done, &r, &h), GW_OK);
    gw_exec_cancel(h);
    ts_run_for(BASE, 20);
    assert_int_equal(r.done, 0);
    json_decref(bad);
    json_decref(t);
    assert_int_equal(gw_exec_call(EX, NULL, NULL, NULL, on_done, &r, NULL), GW_EINVAL);
}

/* Last: nothing secret in any result, error or log line produced by the tests above. */
static void test_no_secret_leaks(void **state)
{
    (void)state;
    const char *secrets[] = {SECRET_APIKEY, SECRET_APIM, SECRET_BASIC, SECRET_CLIENT, SECRET_QKEY,
                             "c3ZjLXVzZXI6YmFzaWMtcHctWnE4MSE=", "tok-1", "tok-2", "tok-3"};
    struct gw_buf logs;
    gw_buf_init(&logs, 64u << 20);
    FILE *f = fopen(LOG_PATH, "r");
    assert_non_null(f);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        (void)gw_buf_add(&logs, chunk, n);
    fclose(f);
    assert_true(gw_buf_len(&logs) > 0); /* TRACE logging really produced lines */
    assert_true(gw_buf_len(&ALL_RESULTS) > 1000);
    for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++) {
        if (strstr(gw_buf_ptr(&logs), secrets[i]))
            fail_msg("secret #%zu found in the log", i);
        if (strstr(gw_buf_ptr(&ALL_RESULTS), secrets[i]))
            fail_msg("secret #%zu found in a result", i);
    }
    gw_buf_fini(&logs);
}

/* Throughput of the whole executor path (build, httpc, map) against the local upstream. */
struct bench {
    json_t *tool;
    int done, submitted, total;
};

static void bench_next(struct bench *b);

static void on_bench(void *arg, json_t *result, const struct gw_exec_info *info)
{
    struct bench *b = arg;
    if (info->outcome != GW_EXEC_OK)
        fail_msg("bench call failed: %s", info->error);
    json_decref(result);
    b->done++;
    bench_next(b);
}

static void bench_next(struct bench *b)
{
    if (b->submitted >= b->total)
        return;
    b->submitted++;
    json_t *a = json_pack("{s:s}", "q", "v");
    assert_int_equal(gw_exec_call(EX, b->tool, a, NULL, on_bench, b, NULL), GW_OK);
    json_decref(a);
}

static void test_bench(void **state)
{
    (void)state;
    gw_log_configure(GW_LOG_INFO, true, LOG_FD);
    int par[] = {1, 32};
    int tot[] = {2000, 5000};
    /* GET, POST without an idempotency key (sent with no_replay: at most once), and GET to a
     * spec-given server (SSRF-guarded client, allowlisted 127.0.0.1) */
    const char *methods[] = {"GET", "POST", "GET guarded"};
    char guarded[256];
    snprintf(guarded, sizeof(guarded),
             "{\"name\":\"bench_guarded\",\"binding\":{\"method\":\"GET\",\"path\":\"/fast\","
             "\"servers\":[\"http://127.0.0.1:%d\"],\"args\":[{\"arg\":\"q\",\"in\":\"query\","
             "\"name\":\"q\"}]}}",
             SERVER->port);
    for (int m = 0; m < 3; m++) {
        for (int k = 0; k < 2; k++) {
            struct bench b = {m == 2 ? json_loads(guarded, 0, NULL)
                                     : tool("svc", methods[m], "/fast", NULL),
                              0, 0, tot[k]};
            long long t0 = ts_now_ms();
            for (int i = 0; i < par[k]; i++)
                bench_next(&b);
            assert_true(ts_run_until(BASE, &b.done, b.total, 60000));
            long long ms = ts_now_ms() - t0;
            printf("# exec bench: %s %d calls, %d in flight: %lld ms, %.0f calls/s\n",
                   methods[m], b.total, par[k], ms,
                   ms > 0 ? b.total * 1000.0 / (double)ms : 0.0);
            json_decref(b.tool);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credentials_identity_and_scrubbing),
        cmocka_unit_test(test_required_credentials),
        cmocka_unit_test(test_bodies_on_the_wire),
        cmocka_unit_test(test_oauth_single_flight_refresh_and_401),
        cmocka_unit_test(test_breaker_down_open_probe_recover),
        cmocka_unit_test(test_timeout_does_not_stall),
        cmocka_unit_test(test_retries_for_idempotent_only),
        cmocka_unit_test(test_oversized_response),
        cmocka_unit_test(test_idempotency),
        cmocka_unit_test(test_get_cache),
        cmocka_unit_test(test_business_failure_and_shaping),
        cmocka_unit_test(test_async_errors_and_cancel),
        cmocka_unit_test(test_no_secret_leaks),
        cmocka_unit_test(test_bench),
    };
    /* the whole group on the default engines, then with libcurl for every call */
    int failed = cmocka_run_group_tests_name("GW_UPSTREAM_HTTP_CLIENT=native", tests, group_setup,
                                             group_teardown);
    HTTP_CLIENT = "curl";
    failed += cmocka_run_group_tests_name("GW_UPSTREAM_HTTP_CLIENT=curl", tests, group_setup,
                                          group_teardown);
    return failed;
}
