/*
 * src/auth/auth_keys.c
 * The authenticator's background thread: the only place that does I/O for authentication.
 *
 *   - provider keys: discovery (once), then the JWKS, fetched at start, every
 *     GW_OIDC_JWKS_REFRESH_SECONDS, and on demand when a token names an unknown key id (at most
 *     once per GW_OIDC_JWKS_MIN_REFETCH_SECONDS). A new key set replaces the old one atomically
 *     (readers hold references) and bumps the generation, which invalidates cached tokens.
 *     A failed fetch keeps the previous keys (stale keys beat no keys; the provider's own
 *     rotation overlaps them). With no keys at all requests fail closed (503): they wait for
 *     the fetch under way or start one, at most one per GW_OIDC_JWKS_MIN_REFETCH_SECONDS, so a
 *     provider outage is not multiplied by the request rate.
 *   - waiters: requests that need keys the gateway does not have yet park here (bounded) and
 *     are resumed on their own loop when the fetch ends, whatever its outcome;
 *   - API keys: reloaded from the store when asked (gw_auth_reload), last-used times written
 *     every 30 s.
 * Fetches use a blocking libcurl easy handle with a hard time limit: this thread may block,
 * the worker loops never do. http:// is refused except for loopback hosts (development) unless
 * GW_OIDC_ALLOW_HTTP; redirects are not followed; bodies are capped.
 *
 * State (under a->lock):  fetching = a fetch is running; want_fetch = one was asked for.
 *   IDLE --want_fetch / refresh due--> FETCHING --done--> IDLE (waiters resumed)
 */
#include "auth/auth_internal.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/thread.h"
#include "net/net_loop.h"
#include "store/store_apikey.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_WAITERS 10000
#define FLUSH_EVERY_S 30
#define DOC_MAX (256u * 1024u)

struct auth_waiter {
    struct auth_waiter *next;
    struct gw_auth *a;
    struct gw_ctx *ctx;
    auth_resume_fn fn;
    void *arg;
};

int64_t gw_auth__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

struct gw_jwks *gw_auth__keys(struct gw_auth *a, unsigned *generation)
{
    pthread_mutex_lock(&a->lock);
    struct gw_jwks *k = gw_jwks_ref(a->keys);
    *generation = a->generation;
    pthread_mutex_unlock(&a->lock);
    return k;
}

int gw_auth__wait_for_keys(struct gw_auth *a, struct gw_ctx *c, bool refetch, auth_resume_fn fn,
                           void *arg)
{
    (void)refetch; /* the same limit for an unknown key id and for no keys at all */
    int64_t now = gw_auth__now();
    pthread_mutex_lock(&a->lock);
    /* A fetch that started less than the minimum interval ago stands: an unknown key id is
     * unknown, and with no keys at all (provider down, misconfigured) the request fails at once
     * instead of sending one more fetch per request to the provider; the thread retries on its
     * own at that interval. A fetch under way is joined. */
    bool recent = !a->fetching && a->last_fetch && now - a->last_fetch < a->cfg.jwks_min_refetch_s;
    if (a->nwaiters >= MAX_WAITERS || recent) {
        pthread_mutex_unlock(&a->lock);
        return GW_ELIMIT;
    }
    struct auth_waiter *w = gw_xcalloc(1, sizeof(*w));
    w->a = a;
    w->ctx = gw_ctx_ref(c);
    w->fn = fn;
    w->arg = arg;
    w->next = a->waiters;
    a->waiters = w;
    a->nwaiters++;
    if (!a->fetching)
        a->want_fetch = true;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    atomic_fetch_add(&a->jwks_waits, 1);
    return GW_AGAIN;
}

void gw_auth_reload(struct gw_auth *a)
{
    pthread_mutex_lock(&a->lock);
    a->want_reload = true;
    a->reload_asked++;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

int gw_auth_reload_wait(struct gw_auth *a, int timeout_ms)
{
    pthread_mutex_lock(&a->lock);
    uint64_t mine = ++a->reload_asked; /* served by a reload that starts after this point */
    a->want_reload = true;
    pthread_cond_signal(&a->cond);
    struct timespec until = gw_clock_deadline(CLOCK_REALTIME, timeout_ms);
    int rc = GW_OK;
    while (a->reload_done < mine && !a->stop && a->thread_started)
        if (pthread_cond_timedwait(&a->reloaded, &a->lock, &until) == ETIMEDOUT) {
            rc = a->reload_done < mine ? GW_ETIMEOUT : GW_OK;
            break;
        }
    if (a->reload_done < mine && rc == GW_OK)
        rc = GW_ETIMEOUT; /* no thread to serve it */
    pthread_mutex_unlock(&a->lock);
    return rc;
}

/* ---------------------------------------------------------------- HTTP */

struct body {
    struct gw_buf b;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct body *body = arg;
    if (gw_buf_add(&body->b, p, size * n) != GW_OK) {
        body->too_big = true;
        return 0;
    }
    return size * n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    struct gw_auth *a = arg;
    pthread_mutex_lock(&a->lock);
    bool stop = a->stop;
    pthread_mutex_unlock(&a->lock);
    return stop; /* non-zero aborts the transfer at shutdown */
}

static bool loopback_host(const char *url)
{
    const char *h = strstr(url, "://");
    if (!h)
        return false;
    h += 3;
    size_t n = strcspn(h, ":/?#");
    if (*h == '[')
        return strncmp(h, "[::1]", 5) == 0;
    return (n == 9 && strncasecmp(h, "localhost", 9) == 0) || strncmp(h, "127.", 4) == 0;
}

/* GETs `url` into *out (heap, NUL-terminated). GW_OK, GW_ENOTFOUND (404), or GW_EIO with a
 * reason in `why`. */
static int http_get(struct gw_auth *a, const char *url, char **out, size_t *len, char *why,
                    size_t why_size)
{
    *out = NULL;
    if (strncasecmp(url, "https://", 8) != 0 &&
        !(strncasecmp(url, "http://", 7) == 0 && (a->cfg.allow_http || loopback_host(url)))) {
        snprintf(why, why_size, "refusing to fetch %.200s: https is required", url);
        return GW_EIO;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(why, why_size, "cannot create an HTTP client");
        return GW_EIO;
    }
    struct body body;
    gw_buf_init(&body.b, DOC_MAX > GW_JWKS_MAX_BYTES ? DOC_MAX : GW_JWKS_MAX_BYTES);
    body.too_big = false;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)a->cfg.fetch_timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)a->cfg.fetch_timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, a);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "msil-mcp-gateway/" GW_VERSION);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    int rc = GW_OK;
    if (body.too_big) {
        snprintf(why, why_size, "%.200s: response larger than allowed", url);
        rc = GW_EIO;
    } else if (cc != CURLE_OK) {
        snprintf(why, why_size, "%.200s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
        rc = GW_EIO;
    } else if (status == 404) {
        snprintf(why, why_size, "%.200s: HTTP 404", url);
        rc = GW_ENOTFOUND;
    } else if (status != 200) {
        snprintf(why, why_size, "%.200s: HTTP %ld", url, status);
        rc = GW_EIO;
    }
    if (rc == GW_OK) {
        *len = gw_buf_len(&body.b);
        *out = gw_xstrndup(gw_buf_ptr(&body.b), *len);
    }
    gw_buf_fini(&body.b);
    return rc;
}

/* Finds the JWKS URI through the provider's metadata (OIDC discovery, then RFC 8414). */
static int discover(struct gw_auth *a, char *jwks_uri, size_t size, char *why, size_t why_size)
{
    const char *iss = a->cfg.issuer;
    size_t ilen = strlen(iss);
    while (ilen && iss[ilen - 1] == '/')
        ilen--;
    char url[1200];
    char *doc = NULL;
    size_t len = 0;
    snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration", (int)ilen, iss);
    int rc = http_get(a, url, &doc, &len, why, why_size);
    if (rc == GW_ENOTFOUND) {
        /* RFC 8414: the well-known segment goes between the host and the issuer's path */
        const char *host = strstr(iss, "://") + 3;
        const char *path = strchr(host, '/');
        size_t plen = path ? ilen - (size_t)(path - iss) : 0;
        snprintf(url, sizeof(url), "%.*s/.well-known/oauth-authorization-server%.*s",
                 (int)(path ? (size_t)(path - iss) : ilen), iss, (int)plen, path ? path : "");
        rc = http_get(a, url, &doc, &len, why, why_size);
    }
    if (rc != GW_OK)
        return GW_EIO;
    json_error_t je;
    json_t *meta = json_loadb(doc, len, 0, &je);
    gw_free(doc);
    const char *issuer = json_string_value(json_object_get(meta, "issuer"));
    const char *uri = json_string_value(json_object_get(meta, "jwks_uri"));
    if (!issuer || strcmp(issuer, a->cfg.issuer) != 0) {
        snprintf(why, why_size, "%.200s: the metadata names another issuer (%.100s)", url,
                 issuer ? issuer : "none");
        rc = GW_EIO;
    } else if (!uri || strlen(uri) >= size) {
        snprintf(why, why_size, "%.200s: no usable jwks_uri", url);
        rc = GW_EIO;
    } else {
        snprintf(jwks_uri, size, "%s", uri);
    }
    json_decref(meta);
    return rc;
}

/* One fetch of the key set. GW_OK with *out, else GW_EIO with `why`. */
static int fetch_keys(struct gw_auth *a, struct gw_jwks **out, char *why, size_t why_size)
{
    char uri[1024];
    *out = NULL;
    if (a->cfg.jwks_uri[0]) {
        snprintf(uri, sizeof(uri), "%s", a->cfg.jwks_uri);
    } else {
        pthread_mutex_lock(&a->lock);
        snprintf(uri, sizeof(uri), "%s", a->discovered_jwks_uri);
        pthread_mutex_unlock(&a->lock);
        if (!uri[0]) {
            if (discover(a, uri, sizeof(uri), why, why_size) != GW_OK)
                return GW_EIO;
            pthread_mutex_lock(&a->lock);
            snprintf(a->discovered_jwks_uri, sizeof(a->discovered_jwks_uri), "%s", uri);
            pthread_mutex_unlock(&a->lock);
        }
    }
    char *doc = NULL;
    size_t len = 0;
    if (http_get(a, uri, &doc, &len, why, why_size) != GW_OK) {
        /* the provider may have moved its keys: discover again next time */
        pthread_mutex_lock(&a->lock);
        a->discovered_jwks_uri[0] = '\0';
        pthread_mutex_unlock(&a->lock);
        return GW_EIO;
    }
    struct gw_error err = {0};
    unsigned skipped = 0;
    int rc = gw_jwks_parse(doc, len, out, &skipped, &err);
    gw_free(doc);
    if (rc != GW_OK) {
        snprintf(why, why_size, "%.200s: %s", uri, err.msg);
        return GW_EIO;
    }
    if (skipped)
        GW_LOG(GW_LOG_INFO, "auth", "%s: %u keys not usable for signatures were skipped", uri,
               skipped);
    return GW_OK;
}

/* ---------------------------------------------------------------- API keys */

static struct gw_store *thread_store(struct gw_auth *a)
{
    if (!a->store && a->store_url) {
        struct gw_error err = {0};
        if (gw_store_open(a->store_url, NULL, &a->store, &err) != GW_OK)
            GW_LOG(GW_LOG_WARN, "auth", "database for API keys: %s", err.msg);
    }
    return a->store;
}

int gw_auth__load_apikeys(struct gw_auth *a, struct gw_store *st, struct gw_error *err)
{
    json_t *rows = NULL;
    int rc = gw_store_apikey_list(st, true, false, &rows, err);
    if (rc != GW_OK)
        return rc;
    struct apikey_table *t = gw_auth__apikeys_build(rows);
    json_decref(rows);
    pthread_mutex_lock(&a->lock);
    struct apikey_table *old = a->apikeys;
    a->apikeys = t;
    pthread_mutex_unlock(&a->lock);
    if (old && st)
        gw_auth__apikeys_flush(old, st); /* uses recorded in the table being replaced */
    gw_auth__apikeys_unref(old);
    return GW_OK;
}

static void reload_apikeys(struct gw_auth *a)
{
    struct gw_store *st = thread_store(a);
    struct gw_error err = {0};
    if (!st)
        return;
    if (gw_auth__load_apikeys(a, st, &err) != GW_OK) {
        GW_LOG(GW_LOG_WARN, "auth", "reloading API keys: %s (the previous keys stay in force)",
               err.msg);
        gw_store_close(a->store); /* reconnect next time */
        a->store = NULL;
    }
}

static void flush_apikeys(struct gw_auth *a)
{
    struct gw_store *st = thread_store(a);
    if (!st)
        return;
    pthread_mutex_lock(&a->lock);
    struct apikey_table *t = gw_auth__apikeys_ref(a->apikeys);
    pthread_mutex_unlock(&a->lock);
    gw_auth__apikeys_flush(t, st);
    gw_auth__apikeys_unref(t);
}

/* ---------------------------------------------------------------- the thread */

static void run_waiter(void *arg)
{
    struct auth_waiter *w = arg;
    w->fn(w->a, w->ctx, w->arg);
    gw_ctx_unref(w->ctx);
    gw_free(w);
}

static void resume_waiters(struct auth_waiter *list)
{
    while (list) {
        struct auth_waiter *next = list->next;
        if (gw_loop_post(gw_ctx_loop(list->ctx), run_waiter, list) != GW_OK) {
            gw_ctx_unref(list->ctx); /* the loop is gone (shutdown): nobody to answer */
            gw_free(list->arg);
            gw_free(list);
        }
        list = next;
    }
}

static void *thread_main(void *arg)
{
    gw_thread_init_self("gw-auth-keys", GW_THREAD_BACKGROUND);
    struct gw_auth *a = arg;
    int64_t next_flush = gw_auth__now() + FLUSH_EVERY_S;
    int64_t next_fetch = a->cfg.issuer[0] ? 0 : INT64_MAX;
    pthread_mutex_lock(&a->lock);
    while (!a->stop) {
        int64_t now = gw_auth__now();
        bool do_fetch = a->want_fetch || now >= next_fetch;
        bool do_reload = a->want_reload;
        bool do_flush = now >= next_flush;
        if (!do_fetch && !do_reload && !do_flush) {
            int64_t until = next_fetch < next_flush ? next_fetch : next_flush;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec = (time_t)(until > ts.tv_sec ? until : ts.tv_sec + 1);
            pthread_cond_timedwait(&a->cond, &a->lock, &ts);
            continue;
        }
        a->want_fetch = false;
        a->want_reload = false;
        uint64_t serving = a->reload_asked; /* every request made so far sees this reload */
        if (do_fetch) {
            a->fetching = true;
            a->last_fetch = now;
        }
        pthread_mutex_unlock(&a->lock);

        if (do_reload) {
            reload_apikeys(a);
            pthread_mutex_lock(&a->lock);
            a->reload_done = serving;
            pthread_cond_broadcast(&a->reloaded);
            pthread_mutex_unlock(&a->lock);
        }
        if (do_flush) {
            flush_apikeys(a);
            next_flush = now + FLUSH_EVERY_S;
        }
        struct gw_jwks *fresh = NULL;
        char why[400] = "";
        if (do_fetch) {
            atomic_fetch_add(&a->jwks_fetches, 1);
            if (fetch_keys(a, &fresh, why, sizeof(why)) != GW_OK) {
                atomic_fetch_add(&a->jwks_failures, 1);
                GW_LOG(GW_LOG_WARN, "auth", "fetching the identity provider's keys: %s", why);
            }
        }

        pthread_mutex_lock(&a->lock);
        if (do_fetch) {
            struct gw_jwks *old = NULL;
            if (fresh) {
                old = a->keys;
                a->keys = fresh;
                a->generation++;
                a->keys_at = gw_auth__now();
                next_fetch = a->keys_at + a->cfg.jwks_refresh_s;
            } else {
                /* no keys yet: retry soon; stale keys: keep them, retry at the short interval */
                next_fetch = gw_auth__now() + a->cfg.jwks_min_refetch_s;
            }
            a->fetching = false;
            struct auth_waiter *list = a->waiters;
            a->waiters = NULL;
            a->nwaiters = 0;
            pthread_mutex_unlock(&a->lock);
            if (old && fresh)
                GW_LOG(GW_LOG_INFO, "auth", "identity provider keys refreshed (%zu keys)",
                       gw_jwks_count(fresh));
            else if (fresh)
                GW_LOG(GW_LOG_INFO, "auth", "identity provider keys loaded (%zu keys)",
                       gw_jwks_count(fresh));
            gw_jwks_unref(old);
            resume_waiters(list);
            pthread_mutex_lock(&a->lock);
        }
    }
    pthread_mutex_unlock(&a->lock);
    flush_apikeys(a);
    gw_store_close(a->store);
    a->store = NULL;
    return NULL;
}

int gw_auth__thread_start(struct gw_auth *a, struct gw_error *err)
{
    if (pthread_create(&a->thread, NULL, thread_main, a) != 0)
        return GW_ERROR_SET(err, GW_ERR, "cannot start the authentication thread");
    a->thread_started = true;
    return GW_OK;
}

void gw_auth__thread_stop(struct gw_auth *a)
{
    if (!a->thread_started)
        return;
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    a->thread_started = false;
    /* requests still waiting belong to loops that have stopped */
    pthread_mutex_lock(&a->lock);
    struct auth_waiter *list = a->waiters;
    a->waiters = NULL;
    a->nwaiters = 0;
    pthread_mutex_unlock(&a->lock);
    while (list) {
        struct auth_waiter *next = list->next;
        gw_ctx_unref(list->ctx);
        gw_free(list->arg);
        gw_free(list);
        list = next;
    }
}
