/*
 * src/upstream/upstream_conf.c
 * Loading the shared executor state: settings defaults, the upstreams file (format in
 * docs/upstream.md), secrets, breakers, token caches, the idempotency store and the GET cache;
 * lookups of upstream confs by name (dynamic confs for names the file does not list); the
 * executor wake-up registry; breaker snapshots; the clock.
 *
 * The file is strict: unknown keys are errors (a typo must not silently drop a credential),
 * numbers are range-checked, secrets must be references (env/file/secret), and TLS
 * verification cannot be switched off for production. Messages name the upstream and field,
 * never a secret value. Blocking file reads happen only in gw_upstreams_load (start-up).
 */
#include "upstream/upstream_conf.h"

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "ssrf/ssrf.h"
#include "upstream/upstream_request.h"
#include "upstream/upstream_secret.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILE_BYTES (4u * 1024u * 1024u)
#define MAX_DYNAMIC 256
#define MAX_LIST 64

static const char *const default_rule_text =
    "[{\"pointer\":\"/success\",\"equals\":false},"
    "{\"pointer\":\"/error\",\"equals\":true},"
    "{\"pointer\":\"/ok\",\"equals\":false},"
    "{\"pointer\":\"/status\",\"oneOf\":[\"error\",\"ERROR\",\"Error\",\"fail\",\"FAIL\","
    "\"failed\",\"FAILED\",\"failure\",\"FAILURE\"]}]";

static const char *const default_message_pointers[] = {
    "/message", "/error/message", "/errors/0/message", "/errors/0/detail", "/error_description",
    "/detail",  "/msg",           "/errorMessage",     "/error",            "/errors/0"};

/* ---- small helpers ---- */

static char *xdup(const char *s)
{
    return s ? gw_xstrdup(s) : NULL;
}

/* Appends a copy of s to a growing string array. */
static void add_str(char ***arr, size_t *n, const char *s)
{
    *arr = gw_xrealloc(*arr, (*n + 1) * sizeof(char *));
    (*arr)[(*n)++] = gw_xstrdup(s);
}

/* Remembers a secret value for scrubbing results (very short values would mask ordinary
 * text, so they are not scrubbed). */
static void add_secret(struct gw_upstream_conf *c, const char *s)
{
    if (s && strlen(s) >= 4)
        add_str(&c->secrets, &c->nsecrets, s);
}

/* Remembers a header name that arguments must not set. */
static void add_protected(struct gw_upstream_conf *c, const char *name)
{
    if (name && *name)
        add_str(&c->protected_headers, &c->nprotected, name);
}

/* Strictness: every key of obj must be in `allowed` (typos are errors, not ignored). */
static int check_keys(const json_t *obj, const char *const *allowed, const char *where,
                      struct gw_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(k, *a) == 0)
                ok = true;
        if (!ok)
            return GW_ERROR_SET(err, GW_EINVAL, "%s: unknown key '%s'", where, k);
    }
    return GW_OK;
}

/* Optional integer field within [min, max] into *inout. */
static int get_num(const json_t *obj, const char *key, long long min, long long max,
                   long long *inout, const char *where, struct gw_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return GW_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return GW_ERROR_SET(err, GW_EINVAL, "%s: '%s' must be an integer in [%lld, %lld]", where,
                            key, min, max);
    *inout = json_integer_value(v);
    return GW_OK;
}

/* Optional string field (replaces *out). */
static int get_str(const json_t *obj, const char *key, char **out, const char *where,
                   struct gw_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return GW_OK;
    if (!json_is_string(v))
        return GW_ERROR_SET(err, GW_EINVAL, "%s: '%s' must be a string", where, key);
    gw_free(*out);
    *out = gw_xstrdup(json_string_value(v));
    return GW_OK;
}

/* RFC 9110 token, at most 128 characters. */
static bool header_name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 128)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *s)))
            return false;
    return true;
}

/* ---- the clock ---- */

uint64_t gw_upstreams_now_ms(const struct gw_upstreams *u)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return now + (u ? atomic_load(&((struct gw_upstreams *)u)->clock_offset) : 0);
}

void gw_upstreams_advance_clock(struct gw_upstreams *u, uint64_t ms)
{
    atomic_fetch_add(&u->clock_offset, ms);
}

/* ---- JSON pointer ---- */

const json_t *gw_upstream_json_pointer(const json_t *doc, const char *ptr)
{
    if (!ptr || !*ptr)
        return doc;
    if (*ptr != '/')
        return NULL;
    const json_t *cur = doc;
    char tok[256];
    const char *p = ptr + 1;
    for (;;) {
        size_t n = 0;
        while (*p && *p != '/' && n < sizeof(tok) - 1) {
            if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
                tok[n++] = p[1] == '0' ? '~' : '/';
                p += 2;
            } else {
                tok[n++] = *p++;
            }
        }
        tok[n] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            unsigned long long idx;
            if (gw_str_to_u64(gw_str_c(tok), &idx) != GW_OK)
                return NULL;
            cur = json_array_get(cur, (size_t)idx);
        } else {
            return NULL;
        }
        if (!cur)
            return NULL;
        if (!*p)
            return cur;
        if (*p != '/')
            return NULL; /* token too long */
        p++;
    }
}

/* ---- conf construction ---- */

void gw_upstream_conf_free(struct gw_upstream_conf *c)
{
    if (!c)
        return;
    gw_free(c->name);
    gw_free(c->base_url);
    gw_free(c->ca_file);
    gw_free(c->client_cert);
    gw_free(c->client_key);
    gw_upstream_token_wipe(c->key_password);
    for (size_t i = 0; i < c->nheaders; i++) {
        gw_free(c->headers[i].name);
        gw_upstream_token_wipe(c->headers[i].value);
    }
    gw_free(c->headers);
    for (size_t i = 0; i < c->ncreds; i++) {
        struct gw_upstream_cred *k = &c->creds[i];
        gw_free(k->scheme);
        gw_free(k->name);
        gw_upstream_token_wipe(k->value);
        gw_upstream_token_wipe(k->basic);
        gw_free(k->token_url);
        gw_upstream_token_wipe(k->client_id);
        gw_upstream_token_wipe(k->client_secret);
        gw_free(k->scope);
        gw_free(k->audience);
        gw_upstream_token_free(k->token);
    }
    gw_free(c->creds);
    gw_free(c->user_header);
    gw_free(c->client_header);
    gw_free(c->request_id_header);
    gw_free(c->idempotency_header);
    gw_upstream_breaker_free(c->breaker);
    for (size_t i = 0; i < c->nrules; i++) {
        gw_free(c->rules[i].pointer);
        json_decref(c->rules[i].equals);
        json_decref(c->rules[i].one_of);
    }
    gw_free(c->rules);
    for (size_t i = 0; i < c->nmessage; i++)
        gw_free(c->message_pointers[i]);
    gw_free(c->message_pointers);
    for (size_t i = 0; i < c->nsecrets; i++)
        gw_upstream_token_wipe(c->secrets[i]);
    gw_free(c->secrets);
    for (size_t i = 0; i < c->nprotected; i++)
        gw_free(c->protected_headers[i]);
    gw_free(c->protected_headers);
    gw_free(c);
}

/* Business-error rules (replace the inherited ones). */
static int parse_rules(struct gw_upstream_conf *c, const json_t *rules, const char *where,
                       struct gw_error *err)
{
    if (!json_is_array(rules) || json_array_size(rules) > MAX_LIST)
        return GW_ERROR_SET(err, GW_EINVAL, "%s: businessErrors.rules must be an array (<= %d)",
                            where, MAX_LIST);
    for (size_t i = 0; i < c->nrules; i++) {
        gw_free(c->rules[i].pointer);
        json_decref(c->rules[i].equals);
        json_decref(c->rules[i].one_of);
    }
    gw_free(c->rules);
    c->rules = gw_xcalloc(json_array_size(rules) + 1, sizeof(*c->rules));
    c->nrules = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r) {
        static const char *const keys[] = {"pointer", "equals", "oneOf", NULL};
        int rc = check_keys(r, keys, where, err);
        if (rc != GW_OK)
            return rc;
        const char *ptr = gw_json_str(r, "pointer");
        json_t *eq = json_object_get(r, "equals");
        json_t *one = json_object_get(r, "oneOf");
        if (!ptr || (ptr[0] && ptr[0] != '/') || (!eq && !json_is_array(one)))
            return GW_ERROR_SET(err, GW_EINVAL,
                                "%s: a business-error rule needs a JSON pointer and equals or "
                                "oneOf",
                                where);
        struct gw_business_rule *br = &c->rules[c->nrules++];
        br->pointer = gw_xstrdup(ptr);
        br->equals = eq ? json_deep_copy(eq) : NULL;
        br->one_of = one ? json_deep_copy(one) : NULL;
    }
    return GW_OK;
}

/* Where to find the upstream's own message in a failure envelope (replace the inherited list). */
static int parse_messages(struct gw_upstream_conf *c, const json_t *arr, const char *where,
                          struct gw_error *err)
{
    if (!json_is_array(arr) || json_array_size(arr) > MAX_LIST)
        return GW_ERROR_SET(err, GW_EINVAL, "%s: messagePointers must be an array of pointers",
                            where);
    for (size_t i = 0; i < c->nmessage; i++)
        gw_free(c->message_pointers[i]);
    gw_free_null(&c->message_pointers);
    c->nmessage = 0;
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p) {
        if (!json_is_string(p) || json_string_value(p)[0] != '/')
            return GW_ERROR_SET(err, GW_EINVAL, "%s: messagePointers[%zu] is not a pointer",
                                where, i);
        add_str(&c->message_pointers, &c->nmessage, json_string_value(p));
    }
    return GW_OK;
}

/* Applies the tunables (timeouts, retries, breaker, caps, rules) present in obj to c. */
static int parse_tunables(struct gw_upstream_conf *c, const json_t *obj, const char *where,
                          struct gw_error *err)
{
    long long v;
    int rc = GW_OK;
#define NUM(key, lo, hi, field)                                               \
    do {                                                                      \
        v = (long long)(field);                                               \
        if ((rc = get_num(obj, key, lo, hi, &v, where, err)) != GW_OK)        \
            return rc;                                                        \
        field = v;                                                            \
    } while (0)
    NUM("timeoutMs", 100, 600000, c->timeout_ms);
    NUM("connectTimeoutMs", 50, 120000, c->connect_timeout_ms);
    NUM("maxResponseBytes", 1024, 268435456, c->max_response_bytes);
    NUM("errorBodyChars", 0, 100000, c->error_body_chars);
    NUM("maxTextChars", 256, 16777216, c->max_text_chars);
    const json_t *r = json_object_get(obj, "retries");
    if (r) {
        static const char *const keys[] = {"maxAttempts", "baseDelayMs", "maxDelayMs", NULL};
        if ((rc = check_keys(r, keys, where, err)) != GW_OK)
            return rc;
        const json_t *save = obj;
        obj = r;
        NUM("maxAttempts", 1, 10, c->max_attempts);
        NUM("baseDelayMs", 1, 60000, c->base_delay_ms);
        NUM("maxDelayMs", 1, 300000, c->max_delay_ms);
        obj = save;
    }
    const json_t *b = json_object_get(obj, "breaker");
    if (b) {
        static const char *const keys[] = {"failureThreshold", "failureRatioPercent",
                                           "windowSeconds", "minCalls", "coolDownSeconds", NULL};
        if ((rc = check_keys(b, keys, where, err)) != GW_OK)
            return rc;
        const json_t *save = obj;
        obj = b;
        long long win = c->breaker_conf.window_ms / 1000, cool = c->breaker_conf.cooldown_ms / 1000;
        NUM("failureThreshold", 0, 10000, c->breaker_conf.failure_threshold);
        NUM("failureRatioPercent", 0, 100, c->breaker_conf.ratio_percent);
        NUM("minCalls", 1, 1000000, c->breaker_conf.min_calls);
        if ((rc = get_num(b, "windowSeconds", 1, 3600, &win, where, err)) != GW_OK ||
            (rc = get_num(b, "coolDownSeconds", 0, 3600, &cool, where, err)) != GW_OK)
            return rc;
        c->breaker_conf.window_ms = (unsigned)(win * 1000);
        c->breaker_conf.cooldown_ms = (unsigned)(cool * 1000);
        obj = save;
    }
#undef NUM
    const json_t *be = json_object_get(obj, "businessErrors");
    if (be) {
        static const char *const keys[] = {"rules", "messagePointers", NULL};
        if ((rc = check_keys(be, keys, where, err)) != GW_OK)
            return rc;
        if (json_object_get(be, "rules") &&
            (rc = parse_rules(c, json_object_get(be, "rules"), where, err)) != GW_OK)
            return rc;
        if (json_object_get(be, "messagePointers") &&
            (rc = parse_messages(c, json_object_get(be, "messagePointers"), where, err)) != GW_OK)
            return rc;
    }
    const char *scope = gw_json_str(obj, "cacheScope");
    if (scope) {
        if (strcmp(scope, "caller") != 0 && strcmp(scope, "shared") != 0)
            return GW_ERROR_SET(err, GW_EINVAL, "%s: cacheScope must be caller or shared", where);
        c->cache_per_caller = strcmp(scope, "caller") == 0;
    }
    return GW_OK;
}

/* Copies the tunables of the template (defaults) into a new conf. */
static struct gw_upstream_conf *conf_from_template(const struct gw_upstream_conf *t,
                                                   const char *name)
{
    struct gw_upstream_conf *c = gw_xcalloc(1, sizeof(*c));
    c->name = gw_xstrdup(name);
    c->timeout_ms = t->timeout_ms;
    c->connect_timeout_ms = t->connect_timeout_ms;
    c->max_response_bytes = t->max_response_bytes;
    c->error_body_chars = t->error_body_chars;
    c->max_text_chars = t->max_text_chars;
    c->max_attempts = t->max_attempts;
    c->base_delay_ms = t->base_delay_ms;
    c->max_delay_ms = t->max_delay_ms;
    c->breaker_conf = t->breaker_conf;
    c->cache_per_caller = t->cache_per_caller;
    c->request_id_header = xdup(t->request_id_header);
    c->idempotency_header = xdup(t->idempotency_header);
    c->rules = gw_xcalloc(t->nrules + 1, sizeof(*c->rules));
    for (size_t i = 0; i < t->nrules; i++) {
        c->rules[i].pointer = gw_xstrdup(t->rules[i].pointer);
        c->rules[i].equals = t->rules[i].equals ? json_deep_copy(t->rules[i].equals) : NULL;
        c->rules[i].one_of = t->rules[i].one_of ? json_deep_copy(t->rules[i].one_of) : NULL;
    }
    c->nrules = t->nrules;
    for (size_t i = 0; i < t->nmessage; i++)
        add_str(&c->message_pointers, &c->nmessage, t->message_pointers[i]);
    return c;
}

/* Resolves a secret (or, with plain_ok, a plain value) of upstream c; secrets are recorded
 * for scrubbing. GW_ENOTFOUND = optional and absent. */
static int resolve_secret(struct gw_upstreams *u, struct gw_upstream_conf *c, const json_t *ref,
                          const char *field, bool plain_ok, char **out, struct gw_error *err)
{
    char what[300];
    snprintf(what, sizeof(what), "upstream '%s': %s", c->name, field);
    int rc = plain_ok ? gw_upstream_value_resolve(ref, u->secrets_dir, what, out, err)
                      : gw_upstream_secret_resolve(ref, u->secrets_dir, what, out, err);
    if (rc == GW_ENOTFOUND) {
        GW_LOG(GW_LOG_WARN, "upstream", "%s: optional secret absent; not applied", what);
        return rc;
    }
    if (rc == GW_OK && !plain_ok)
        add_secret(c, *out);
    return rc;
}

/* "Basic " + base64(user ":" password); the plain text is wiped. */
static char *basic_header(const char *user, const char *pass)
{
    size_t ul = strlen(user), pl = strlen(pass);
    char *plain = gw_xmalloc(ul + pl + 2);
    memcpy(plain, user, ul);
    plain[ul] = ':';
    memcpy(plain + ul + 1, pass, pl + 1);
    size_t n = ul + pl + 1;
    char *out = gw_xmalloc(6 + 4 * ((n + 2) / 3) + 1);
    memcpy(out, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)plain, (int)n);
    gw_upstream_token_wipe(plain);
    return out;
}

/* One entry of "credentials". The credential is added to c even when a later field fails, so
 * that freeing c wipes whatever secrets were already read. */
static int parse_cred(struct gw_upstreams *u, struct gw_upstream_conf *c, const char *scheme,
                      const json_t *o, struct gw_error *err)
{
    char where[300];
    snprintf(where, sizeof(where), "upstream '%s' credential '%s'", c->name, scheme);
    if (!json_is_object(o))
        return GW_ERROR_SET(err, GW_EINVAL, "%s: must be an object", where);
    static const char *const keys[] = {"type",     "in",           "name",     "value",
                                       "token",    "username",     "password", "tokenUrl",
                                       "clientId", "clientSecret", "scopes",   "audience",
                                       "clientAuth", "always", "refreshBeforeSeconds", NULL};
    int rc = check_keys(o, keys, where, err);
    if (rc != GW_OK)
        return rc;
    const char *type = gw_json_str(o, "type");
    struct gw_upstream_cred k;
    memset(&k, 0, sizeof(k));
    k.scheme = gw_xstrdup(scheme);
    k.always = json_is_true(json_object_get(o, "always"));
    char *user = NULL, *pass = NULL;
    if (!type) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "%s: 'type' is required (apiKey, bearer, basic, oauth2)",
                          where);
    } else if (strcmp(type, "apiKey") == 0) {
        k.type = GW_CRED_APIKEY;
        const char *in = gw_json_str(o, "in");
        const char *name = gw_json_str(o, "name");
        if (!in || strcmp(in, "header") == 0)
            k.in = GW_CRED_IN_HEADER;
        else if (strcmp(in, "query") == 0)
            k.in = GW_CRED_IN_QUERY;
        else if (strcmp(in, "cookie") == 0)
            k.in = GW_CRED_IN_COOKIE;
        else
            rc = GW_ERROR_SET(err, GW_EINVAL, "%s: 'in' must be header, query or cookie", where);
        k.in_given = in != NULL;
        /* without a name, the tool's binding.security entry of this scheme names it */
        if (rc == GW_OK && name && !header_name_ok(name))
            rc = GW_ERROR_SET(err, GW_EINVAL, "%s: 'name' must be a header/parameter name", where);
        if (rc == GW_OK) {
            k.name = name ? gw_xstrdup(name) : NULL;
            rc = resolve_secret(u, c, json_object_get(o, "value"), "value", false, &k.value, err);
            if (rc == GW_OK && k.in == GW_CRED_IN_HEADER && name)
                add_protected(c, name);
        }
    } else if (strcmp(type, "bearer") == 0) {
        k.type = GW_CRED_BEARER;
        rc = resolve_secret(u, c, json_object_get(o, "token"), "token", false, &k.value, err);
    } else if (strcmp(type, "basic") == 0) {
        k.type = GW_CRED_BASIC;
        rc = resolve_secret(u, c, json_object_get(o, "username"), "username", true, &user, err);
        if (rc == GW_OK)
            rc = resolve_secret(u, c, json_object_get(o, "password"), "password", false, &pass,
                                err);
        if (rc == GW_OK) {
            k.basic = basic_header(user, pass);
            add_secret(c, k.basic + 6);
        }
    } else if (strcmp(type, "oauth2") == 0) {
        k.type = GW_CRED_OAUTH2;
        const char *url = gw_json_str(o, "tokenUrl");
        const char *auth = gw_json_str(o, "clientAuth");
        long long refresh = 60;
        if (!url || !(strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0))
            rc = GW_ERROR_SET(err, GW_EINVAL, "%s: 'tokenUrl' must be an http(s) URL", where);
        else if (auth && strcmp(auth, "basic") != 0 && strcmp(auth, "body") != 0)
            rc = GW_ERROR_SET(err, GW_EINVAL, "%s: clientAuth must be basic or body", where);
        if (rc == GW_OK)
            rc = get_num(o, "refreshBeforeSeconds", 0, 86400, &refresh, where, err);
        if (rc == GW_OK) {
            k.token_url = gw_xstrdup(url);
            k.creds_in_body = auth && strcmp(auth, "body") == 0;
            rc = resolve_secret(u, c, json_object_get(o, "clientId"), "clientId", true,
                                &k.client_id, err);
        }
        if (rc == GW_OK)
            rc = resolve_secret(u, c, json_object_get(o, "clientSecret"), "clientSecret", false,
                                &k.client_secret, err);
        if (rc == GW_OK && (rc = get_str(o, "audience", &k.audience, where, err)) == GW_OK) {
            const json_t *sc = json_object_get(o, "scopes");
            struct gw_buf sb;
            gw_buf_init(&sb, 4096);
            size_t i;
            json_t *s;
            json_array_foreach(sc, i, s) {
                if (json_is_string(s)) {
                    if (gw_buf_len(&sb))
                        (void)gw_buf_addc(&sb, ' ');
                    (void)gw_buf_adds(&sb, json_string_value(s));
                }
            }
            k.scope = gw_buf_len(&sb) ? gw_buf_take(&sb, NULL) : NULL;
            gw_buf_fini(&sb);
            k.token = gw_upstream_token_new((uint64_t)refresh * 1000u, 1000);
        }
    } else {
        rc = GW_ERROR_SET(err, GW_EINVAL, "%s: unknown type '%s'", where, type);
    }
    gw_upstream_token_wipe(user);
    gw_upstream_token_wipe(pass);
    if (rc == GW_ENOTFOUND) { /* optional secret absent: credential left out */
        gw_free(k.scheme);
        gw_free(k.name);
        gw_free(k.token_url);
        gw_free(k.audience);
        gw_free(k.scope);
        gw_upstream_token_wipe(k.client_id);
        gw_upstream_token_free(k.token);
        return GW_OK;
    }
    c->creds = gw_xrealloc(c->creds, (c->ncreds + 1) * sizeof(*c->creds));
    c->creds[c->ncreds++] = k; /* owned by c now, freed with it even on error */
    return rc;
}

/* One entry of "upstreams" into c (which starts as a copy of the defaults). */
static int parse_upstream(struct gw_upstreams *u, struct gw_upstream_conf *c, const json_t *o,
                          struct gw_error *err)
{
    char where[200];
    snprintf(where, sizeof(where), "upstream '%s'", c->name);
    if (!json_is_object(o))
        return GW_ERROR_SET(err, GW_EINVAL, "%s: must be an object", where);
    static const char *const keys[] = {
        "baseUrl",   "baseUrls",  "tls",            "headers",          "credentials",
        "callerIdentity", "requestIdHeader", "idempotencyHeader", "cacheScope", "timeoutMs",
        "connectTimeoutMs", "maxResponseBytes", "errorBodyChars", "maxTextChars", "retries",
        "breaker", "businessErrors", "description", NULL};
    int rc = check_keys(o, keys, where, err);
    if (rc != GW_OK)
        return rc;
    const json_t *urls = json_object_get(o, "baseUrls");
    const char *url = gw_json_str(o, "baseUrl");
    if (json_is_object(urls)) {
        static const char *const envs[] = {"mock", "staging", "production", NULL};
        if ((rc = check_keys(urls, envs, where, err)) != GW_OK)
            return rc;
        url = gw_json_str(urls, u->env);
    } else if (urls) {
        return GW_ERROR_SET(err, GW_EINVAL, "%s: baseUrls must be an object", where);
    }
    if (url) {
        if (!(strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0) ||
            strpbrk(url, "?# \r\n\t"))
            return GW_ERROR_SET(err, GW_EINVAL,
                                "%s: base URL must be http(s) without query or fragment", where);
        c->base_url = gw_xstrdup(url);
        if (strcmp(u->env, "production") == 0 && strncasecmp(url, "http://", 7) == 0)
            GW_LOG(GW_LOG_WARN, "upstream",
                   "%s: production base URL is plain http (no TLS, no mTLS)", where);
    }
    const json_t *tls = json_object_get(o, "tls");
    if (tls) {
        static const char *const tkeys[] = {"caFile", "clientCert", "clientKey", "keyPassword",
                                            "verify", NULL};
        if ((rc = check_keys(tls, tkeys, where, err)) != GW_OK ||
            (rc = get_str(tls, "caFile", &c->ca_file, where, err)) != GW_OK ||
            (rc = get_str(tls, "clientCert", &c->client_cert, where, err)) != GW_OK ||
            (rc = get_str(tls, "clientKey", &c->client_key, where, err)) != GW_OK)
            return rc;
        const char *files[] = {c->ca_file, c->client_cert, c->client_key};
        for (size_t i = 0; i < 3; i++)
            if (files[i] && access(files[i], R_OK) != 0)
                return GW_ERROR_SET(err, GW_EIO, "%s: TLS file %s is not readable", where,
                                    files[i]);
        if (!!c->client_cert != !!c->client_key)
            return GW_ERROR_SET(err, GW_EINVAL, "%s: clientCert and clientKey go together",
                                where);
        if (json_object_get(tls, "keyPassword")) {
            rc = resolve_secret(u, c, json_object_get(tls, "keyPassword"), "tls.keyPassword",
                                false, &c->key_password, err);
            if (rc != GW_OK && rc != GW_ENOTFOUND)
                return rc;
        }
        if (json_is_false(json_object_get(tls, "verify"))) {
            if (strcmp(u->env, "production") == 0)
                return GW_ERROR_SET(err, GW_EINVAL,
                                    "%s: tls.verify false is refused in production", where);
            c->insecure = true;
        }
    }
    const json_t *hdrs = json_object_get(o, "headers");
    if (hdrs) {
        if (!json_is_object(hdrs) || json_object_size(hdrs) > MAX_LIST)
            return GW_ERROR_SET(err, GW_EINVAL, "%s: headers must be an object", where);
        const char *hn;
        json_t *hv;
        json_object_foreach((json_t *)hdrs, hn, hv) {
            if (!header_name_ok(hn) || gw_upstream_header_is_reserved(hn))
                return GW_ERROR_SET(err, GW_EINVAL, "%s: header '%s' cannot be configured",
                                    where, hn);
            char *val = NULL;
            char field[200];
            snprintf(field, sizeof(field), "header %s", hn);
            rc = resolve_secret(u, c, hv, field, false, &val, err);
            if (rc == GW_ENOTFOUND)
                continue;
            if (rc != GW_OK)
                return rc;
            c->headers = gw_xrealloc(c->headers, (c->nheaders + 1) * sizeof(*c->headers));
            c->headers[c->nheaders].name = gw_xstrdup(hn);
            c->headers[c->nheaders++].value = val;
            add_protected(c, hn);
        }
    }
    const json_t *creds = json_object_get(o, "credentials");
    if (creds) {
        if (!json_is_object(creds) || json_object_size(creds) > MAX_LIST)
            return GW_ERROR_SET(err, GW_EINVAL, "%s: credentials must be an object", where);
        const char *scheme;
        json_t *co;
        json_object_foreach((json_t *)creds, scheme, co) {
            if ((rc = parse_cred(u, c, scheme, co, err)) != GW_OK)
                return rc;
        }
    }
    const json_t *ci = json_object_get(o, "callerIdentity");
    if (ci) {
        static const char *const ckeys[] = {"userHeader", "clientHeader", NULL};
        if ((rc = check_keys(ci, ckeys, where, err)) != GW_OK ||
            (rc = get_str(ci, "userHeader", &c->user_header, where, err)) != GW_OK ||
            (rc = get_str(ci, "clientHeader", &c->client_header, where, err)) != GW_OK)
            return rc;
    }
    if ((rc = get_str(o, "requestIdHeader", &c->request_id_header, where, err)) != GW_OK ||
        (rc = get_str(o, "idempotencyHeader", &c->idempotency_header, where, err)) != GW_OK)
        return rc;
    const char *names[] = {c->user_header, c->client_header, c->request_id_header,
                           c->idempotency_header};
    for (size_t i = 0; i < 4; i++) {
        if (names[i] && *names[i] && !header_name_ok(names[i]))
            return GW_ERROR_SET(err, GW_EINVAL, "%s: invalid header name '%s'", where, names[i]);
        add_protected(c, names[i]);
    }
    return parse_tunables(c, o, where, err);
}

/* The template every upstream starts from: the settings, the default business rules. */
static void defaults_from_settings(struct gw_upstream_conf *d, const struct gw_settings *s)
{
    d->name = gw_xstrdup("(defaults)");
    d->timeout_ms = (long)gw_settings_int(s, "GW_UPSTREAM_TIMEOUT_MS");
    d->connect_timeout_ms = (long)gw_settings_int(s, "GW_UPSTREAM_CONNECT_TIMEOUT_MS");
    d->max_response_bytes = (size_t)gw_settings_int(s, "GW_UPSTREAM_MAX_RESPONSE_BYTES");
    d->error_body_chars = (size_t)gw_settings_int(s, "GW_UPSTREAM_ERROR_BODY_CHARS");
    d->max_text_chars = (size_t)gw_settings_int(s, "GW_UPSTREAM_MAX_TEXT_CHARS");
    d->max_attempts = (unsigned)gw_settings_int(s, "GW_UPSTREAM_RETRY_MAX_ATTEMPTS");
    d->base_delay_ms = (unsigned)gw_settings_int(s, "GW_UPSTREAM_RETRY_BASE_DELAY_MS");
    d->max_delay_ms = (unsigned)gw_settings_int(s, "GW_UPSTREAM_RETRY_MAX_DELAY_MS");
    d->breaker_conf.failure_threshold =
        (unsigned)gw_settings_int(s, "GW_BREAKER_FAILURE_THRESHOLD");
    d->breaker_conf.ratio_percent =
        (unsigned)gw_settings_int(s, "GW_BREAKER_FAILURE_RATIO_PERCENT");
    d->breaker_conf.window_ms = (unsigned)gw_settings_int(s, "GW_BREAKER_WINDOW_SECONDS") * 1000u;
    d->breaker_conf.min_calls = (unsigned)gw_settings_int(s, "GW_BREAKER_MIN_CALLS");
    d->breaker_conf.cooldown_ms =
        (unsigned)gw_settings_int(s, "GW_BREAKER_COOLDOWN_SECONDS") * 1000u;
    d->cache_per_caller = true;
    d->request_id_header = gw_xstrdup("X-Request-Id");
    d->idempotency_header = gw_xstrdup("Idempotency-Key");
    json_t *rules = json_loads(default_rule_text, 0, NULL);
    (void)parse_rules(d, rules, "defaults", NULL);
    json_decref(rules);
    for (size_t i = 0; i < sizeof(default_message_pointers) / sizeof(char *); i++)
        add_str(&d->message_pointers, &d->nmessage, default_message_pointers[i]);
}

/* Appends a conf (caller holds the write lock or runs single-threaded at load). */
static void add_conf(struct gw_upstreams *u, struct gw_upstream_conf *c)
{
    if (u->nconfs == u->capconfs) {
        u->capconfs = u->capconfs ? u->capconfs * 2 : 16;
        u->confs = gw_xrealloc(u->confs, u->capconfs * sizeof(*u->confs));
    }
    u->confs[u->nconfs++] = c;
}

/* Reads and applies the upstreams file (start-up only: blocking I/O). */
static int load_file(struct gw_upstreams *u, const char *path, struct gw_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return GW_ERROR_SET(err, GW_EIO, "cannot open the upstreams file %s", path);
    char *buf = gw_xmalloc(MAX_FILE_BYTES + 1);
    size_t n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
    fclose(f);
    int rc = GW_OK;
    json_t *doc = NULL;
    if (n > MAX_FILE_BYTES) {
        rc = GW_ERROR_SET(err, GW_ELIMIT, "the upstreams file %s is larger than 4 MiB", path);
        goto out;
    }
    struct gw_json_limits lim = {MAX_FILE_BYTES, 32};
    struct gw_error perr;
    doc = gw_json_parse(buf, n, &lim, &perr);
    if (!doc) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "upstreams file %s: %s", path, perr.msg);
        goto out;
    }
    static const char *const top[] = {"defaults", "upstreams", "$schema", "description", NULL};
    if (!json_is_object(doc) || (rc = check_keys(doc, top, "upstreams file", err)) != GW_OK) {
        rc = rc != GW_OK ? rc : GW_ERROR_SET(err, GW_EINVAL, "upstreams file: not an object");
        goto out;
    }
    const json_t *defs = json_object_get(doc, "defaults");
    if (defs) {
        static const char *const dkeys[] = {"timeoutMs", "connectTimeoutMs", "maxResponseBytes",
                                            "errorBodyChars", "maxTextChars", "retries",
                                            "breaker", "businessErrors", "cacheScope",
                                            "requestIdHeader", "idempotencyHeader", NULL};
        if ((rc = check_keys(defs, dkeys, "defaults", err)) != GW_OK ||
            (rc = parse_tunables(u->defaults, defs, "defaults", err)) != GW_OK ||
            (rc = get_str(defs, "requestIdHeader", &u->defaults->request_id_header, "defaults",
                          err)) != GW_OK ||
            (rc = get_str(defs, "idempotencyHeader", &u->defaults->idempotency_header,
                          "defaults", err)) != GW_OK)
            goto out;
    }
    const json_t *ups = json_object_get(doc, "upstreams");
    if (ups && !json_is_object(ups)) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "upstreams file: 'upstreams' must be an object");
        goto out;
    }
    const char *name;
    json_t *o;
    json_object_foreach((json_t *)ups, name, o) {
        if (!*name || strlen(name) > 64) {
            rc = GW_ERROR_SET(err, GW_EINVAL, "upstreams file: invalid upstream name");
            goto out;
        }
        struct gw_upstream_conf *c = conf_from_template(u->defaults, name);
        add_conf(u, c); /* owned by u from here, also on error */
        if ((rc = parse_upstream(u, c, o, err)) != GW_OK)
            goto out;
        c->breaker = gw_upstream_breaker_new(c->name, &c->breaker_conf);
    }
out:
    json_decref(doc);
    gw_free(buf);
    return rc;
}

struct gw_upstreams *gw_upstreams_load(const struct gw_settings *s, struct gw_error *err)
{
    struct gw_upstreams *u = gw_xcalloc(1, sizeof(*u));
    pthread_rwlock_init(&u->lock, NULL);
    pthread_mutex_init(&u->wake_mu, NULL);
    snprintf(u->env, sizeof(u->env), "%s", gw_settings_str(s, "GW_UPSTREAM_ENV"));
    u->curl_only = strcmp(gw_settings_str(s, "GW_UPSTREAM_HTTP_CLIENT"), "curl") == 0;
    const char *dir = gw_settings_str(s, "GW_SECRETS_DIR");
    u->secrets_dir = dir && *dir ? gw_xstrdup(dir) : NULL;
    u->defaults = gw_xcalloc(1, sizeof(*u->defaults));
    defaults_from_settings(u->defaults, s);
    u->ssrf = gw_ssrf_policy_new();
    struct gw_error aerr;
    gw_error_clear(&aerr);
    if (gw_ssrf_policy_allow_list(u->ssrf, gw_settings_str(s, "GW_UPSTREAM_ALLOWLIST"), &aerr) !=
        GW_OK) {
        GW_ERROR_SET(err, GW_EINVAL, "GW_UPSTREAM_ALLOWLIST: %s", aerr.msg);
        gw_upstreams_free(u);
        return NULL;
    }
    const char *file = gw_settings_str(s, "GW_UPSTREAMS_FILE");
    if (file && *file && load_file(u, file, err) != GW_OK) {
        gw_upstreams_free(u);
        return NULL;
    }
    for (size_t i = 0; i < u->nconfs; i++)
        if (!u->confs[i]->breaker)
            u->confs[i]->breaker = gw_upstream_breaker_new(u->confs[i]->name,
                                                           &u->confs[i]->breaker_conf);
    gw_upstream_idem_mem_init(&u->idem,
                              (uint64_t)gw_settings_int(s, "GW_IDEMPOTENCY_TTL_SECONDS") * 1000u,
                              (uint64_t)gw_settings_int(s, "GW_IDEMPOTENCY_INFLIGHT_SECONDS") *
                                  1000u,
                              (size_t)gw_settings_int(s, "GW_IDEMPOTENCY_MAX_ENTRIES"));
    u->cache = gw_upstream_cache_new((size_t)gw_settings_int(s, "GW_UPSTREAM_CACHE_MAX_ENTRIES"),
                                     (size_t)gw_settings_int(s, "GW_UPSTREAM_CACHE_MAX_BYTES"));
    GW_LOG(GW_LOG_INFO, "upstream", "loaded %zu upstream(s) for environment %s", u->nconfs,
           u->env);
    return u;
}

void gw_upstreams_set_idem_store(struct gw_upstreams *u, const struct gw_idem_store *store)
{
    if (u->idem.ops)
        u->idem.ops->destroy(u->idem.self);
    u->idem = *store;
}

void gw_upstreams_free(struct gw_upstreams *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->nconfs; i++)
        gw_upstream_conf_free(u->confs[i]);
    gw_free(u->confs);
    gw_upstream_conf_free(u->fallback);
    gw_upstream_conf_free(u->defaults);
    if (u->idem.ops)
        u->idem.ops->destroy(u->idem.self);
    gw_upstream_cache_free(u->cache);
    gw_ssrf_policy_free(u->ssrf);
    gw_free(u->secrets_dir);
    gw_free(u->wake_fds);
    pthread_rwlock_destroy(&u->lock);
    pthread_mutex_destroy(&u->wake_mu);
    gw_free(u);
}

struct gw_upstream_conf *gw_upstreams_conf(struct gw_upstreams *u, const char *name)
{
    pthread_rwlock_rdlock(&u->lock);
    for (size_t i = 0; i < u->nconfs; i++) {
        if (strcmp(u->confs[i]->name, name) == 0) {
            struct gw_upstream_conf *c = u->confs[i];
            pthread_rwlock_unlock(&u->lock);
            return c;
        }
    }
    pthread_rwlock_unlock(&u->lock);
    pthread_rwlock_wrlock(&u->lock);
    struct gw_upstream_conf *c = NULL;
    size_t ndyn = 0;
    for (size_t i = 0; i < u->nconfs && !c; i++) {
        if (strcmp(u->confs[i]->name, name) == 0)
            c = u->confs[i];
        ndyn += u->confs[i]->dynamic;
    }
    if (!c && ndyn >= MAX_DYNAMIC) {
        if (!u->fallback) {
            u->fallback = conf_from_template(u->defaults, "(other)");
            u->fallback->dynamic = true;
            u->fallback->breaker = gw_upstream_breaker_new("(other)", &u->fallback->breaker_conf);
        }
        c = u->fallback;
    }
    if (!c) {
        c = conf_from_template(u->defaults, name);
        c->dynamic = true;
        c->breaker = gw_upstream_breaker_new(name, &c->breaker_conf);
        add_conf(u, c);
    }
    pthread_rwlock_unlock(&u->lock);
    return c;
}

void gw_upstreams_breakers(struct gw_upstreams *u, struct gw_breaker_status *out, size_t max,
                           size_t *out_n)
{
    uint64_t now = gw_upstreams_now_ms(u);
    pthread_rwlock_rdlock(&u->lock);
    size_t n = u->nconfs;
    for (size_t i = 0; i < n && i < max; i++)
        gw_upstream_breaker_status(u->confs[i]->breaker, now, &out[i]);
    pthread_rwlock_unlock(&u->lock);
    if (out_n)
        *out_n = n;
}

void gw_upstreams_tls_files(struct gw_upstreams *u,
                            void (*fn)(void *ud, const char *upstream, const char *kind,
                                       const char *path),
                            void *ud)
{
    pthread_rwlock_rdlock(&u->lock);
    for (size_t i = 0; i < u->nconfs; i++) {
        const struct gw_upstream_conf *c = u->confs[i];
        if (c->client_cert && *c->client_cert)
            fn(ud, c->name, "client", c->client_cert);
        if (c->ca_file && *c->ca_file)
            fn(ud, c->name, "ca", c->ca_file);
    }
    pthread_rwlock_unlock(&u->lock);
}

const char *gw_breaker_state_name(enum gw_breaker_state s)
{
    switch (s) {
    case GW_BREAKER_CLOSED:
        return "closed";
    case GW_BREAKER_OPEN:
        return "open";
    case GW_BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "?";
}

json_t *gw_upstreams_breakers_json(struct gw_upstreams *u)
{
    size_t n = 0;
    gw_upstreams_breakers(u, NULL, 0, &n);
    struct gw_breaker_status *st = gw_xcalloc(n + 1, sizeof(*st));
    size_t got = 0;
    gw_upstreams_breakers(u, st, n, &got);
    if (got > n)
        got = n;
    json_t *arr = json_array();
    for (size_t i = 0; i < got; i++) {
        json_t *opened = json_null();
        if (st[i].opened_at_unix_ms) {
            time_t secs = (time_t)(st[i].opened_at_unix_ms / 1000u);
            struct tm tm;
            char ts[40];
            gmtime_r(&secs, &tm);
            strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
            opened = json_string(ts);
        }
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:I, s:I}", "name", st[i].name,
                           "state", gw_breaker_state_name(st[i].state), "consecutiveFailures",
                           (json_int_t)st[i].consecutive_failures, "windowCalls",
                           (json_int_t)st[i].window_calls, "windowFailures",
                           (json_int_t)st[i].window_failures, "openedAt", opened, "openCount",
                           (json_int_t)st[i].open_count, "rejected", (json_int_t)st[i].rejected));
    }
    gw_free(st);
    return arr;
}

void gw_upstreams_set_output_check(struct gw_upstreams *u, gw_exec_output_check_fn fn, void *ud)
{
    u->output_check = fn;
    u->output_check_ud = ud;
}

void gw_upstreams_stats(struct gw_upstreams *u, struct gw_upstreams_stats *out)
{
    memset(out, 0, sizeof(*out));
    struct gw_upstream_cache_stats cs;
    gw_upstream_cache_stats(u->cache, &cs);
    out->cache_hits = cs.hits;
    out->cache_misses = cs.misses;
    out->cache_entries = cs.entries;
    out->cache_bytes = cs.bytes;
    out->http_native = atomic_load(&u->http_native);
    out->http_curl = atomic_load(&u->http_curl);
    out->idem_replays = atomic_load(&u->idem_replays);
    out->idem_conflicts = atomic_load(&u->idem_conflicts);
    out->idem_entries = u->idem.ops->count(u->idem.self);
    pthread_rwlock_rdlock(&u->lock);
    for (size_t i = 0; i < u->nconfs; i++) {
        for (size_t j = 0; j < u->confs[i]->ncreds; j++) {
            if (u->confs[i]->creds[j].token) {
                out->token_fetches += gw_upstream_token_fetches(u->confs[i]->creds[j].token);
                out->token_failures += gw_upstream_token_failures(u->confs[i]->creds[j].token);
            }
        }
    }
    pthread_rwlock_unlock(&u->lock);
}

/* ---- executor wake-ups ---- */

void gw_upstreams_wake_register(struct gw_upstreams *u, int fd)
{
    pthread_mutex_lock(&u->wake_mu);
    if (u->nwake == u->capwake) {
        u->capwake = u->capwake ? u->capwake * 2 : 8;
        u->wake_fds = gw_xrealloc(u->wake_fds, u->capwake * sizeof(int));
    }
    u->wake_fds[u->nwake++] = fd;
    pthread_mutex_unlock(&u->wake_mu);
}

void gw_upstreams_wake_unregister(struct gw_upstreams *u, int fd)
{
    pthread_mutex_lock(&u->wake_mu);
    for (size_t i = 0; i < u->nwake; i++) {
        if (u->wake_fds[i] == fd) {
            u->wake_fds[i] = u->wake_fds[--u->nwake];
            break;
        }
    }
    pthread_mutex_unlock(&u->wake_mu);
}

void gw_upstreams_wake_all(struct gw_upstreams *u)
{
    uint64_t one = 1;
    pthread_mutex_lock(&u->wake_mu);
    for (size_t i = 0; i < u->nwake; i++) {
        ssize_t w = write(u->wake_fds[i], &one, sizeof(one));
        (void)w; /* EAGAIN means a wake-up is already pending */
    }
    pthread_mutex_unlock(&u->wake_mu);
}
