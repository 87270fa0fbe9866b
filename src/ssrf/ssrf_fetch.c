/*
 * src/ssrf/ssrf_fetch.c
 * gw_ssrf_fetch: a blocking, guarded HTTP(S) GET for admin-side work (spec URLs, remote $ref
 * documents), built on a libcurl easy handle.
 *
 * Design: curl never follows redirects itself. Each hop re-attaches the guard (scheme check,
 * IP-literal check, host for the allowlist) and every socket passes the open-socket check on
 * the resolved address. One deadline covers all hops. The body is bounded while it streams
 * (write callback), so an endless or decompression-bomb body stops at the limit; bodies of
 * redirect responses are discarded.
 * Threading: any thread; blocks for up to the policy timeout. Not for the request loops.
 */
#include "ssrf/ssrf.h"

#include "core/alloc.h"
#include "ssrf/ssrf_internal.h"

#include <string.h>
#include <time.h>

struct sink {
    CURL *easy;
    struct gw_buf *out;
    size_t start; /* length of out before this fetch */
    size_t limit; /* body bytes allowed */
    bool over;
};

/* CURLOPT_WRITEFUNCTION: appends to the caller's buffer within the limit; aborts the
 * transfer (returns 0) the moment it would be exceeded. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300 && status < 400)
        return n; /* redirect bodies are not kept */
    if (gw_buf_len(s->out) - s->start + n > s->limit || gw_buf_add(s->out, p, n) != GW_OK) {
        s->over = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

/* Monotonic milliseconds for the fetch deadline. */
static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A curl failure into the platform's error vocabulary. */
static int map_curl_error(CURLcode cc, const char *detail, struct gw_error *err)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return GW_ERROR_SET(err, GW_ETIMEOUT, "fetch timed out");
    case CURLE_FILESIZE_EXCEEDED:
        return GW_ERROR_SET(err, GW_ELIMIT, "response body exceeds the size limit");
    case CURLE_UNSUPPORTED_PROTOCOL:
        return GW_ERROR_SET(err, GW_EDENIED, "protocol not allowed");
    case CURLE_URL_MALFORMAT:
        return GW_ERROR_SET(err, GW_EINVAL, "malformed URL");
    case CURLE_OUT_OF_MEMORY:
        return GW_ERROR_SET(err, GW_ENOMEM, "out of memory");
    default:
        return GW_ERROR_SET(err, GW_EIO, "fetch failed: %s%s%.200s", curl_easy_strerror(cc),
                            detail && *detail ? ": " : "", detail ? detail : "");
    }
}

int gw_ssrf_fetch(const char *url, const struct gw_ssrf_policy *p, struct gw_buf *out,
                  struct gw_ssrf_response *resp, struct gw_error *err)
{
    int rc = GW_ERR;
    char *cur = NULL;
    struct gw_ssrf_guard guard;
    char errbuf[CURL_ERROR_SIZE];
    struct gw_ssrf_response local;
    struct gw_ssrf_response *r = resp ? resp : &local;
    memset(r, 0, sizeof(*r));
    CURL *easy = curl_easy_init();
    if (!easy)
        return GW_ERROR_SET(err, GW_ENOMEM, "cannot create a curl handle");
    if (!url) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "no URL");
        goto out;
    }
    cur = gw_xstrdup(url);
    struct sink sink = {easy, out, gw_buf_len(out), gw_ssrf__max_bytes(p), false};
    long deadline = now_ms() + gw_ssrf__timeout_ms(p);

    for (unsigned hop = 0;; hop++) {
        rc = gw_ssrf_guard_attach(easy, &guard, p, cur, err);
        if (rc != GW_OK)
            goto out;
        long left = deadline - now_ms();
        if (left <= 0) {
            rc = GW_ERROR_SET(err, GW_ETIMEOUT, "fetch timed out");
            goto out;
        }
        errbuf[0] = '\0';
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, left);
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, left < 10000 ? left : 10000L);
        curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)sink.limit);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "msil-mcp-gateway/" GW_VERSION);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
        CURLcode cc = curl_easy_perform(easy);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
        if (guard.denied) {
            rc = GW_ERROR_SET(err, GW_EDENIED, "%s", guard.reason);
            gw_error_map(err, 403, 0);
            goto out;
        }
        if (sink.over) {
            rc = GW_ERROR_SET(err, GW_ELIMIT, "response body exceeds the limit of %zu bytes",
                              sink.limit);
            goto out;
        }
        if (cc != CURLE_OK) {
            rc = map_curl_error(cc, errbuf, err);
            goto out;
        }
        char *loc = NULL;
        if (r->status >= 300 && r->status < 400 &&
            curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) {
            if (hop >= gw_ssrf__max_redirects(p)) {
                rc = GW_ERROR_SET(err, GW_ELIMIT, "more than %u redirects",
                                  gw_ssrf__max_redirects(p));
                goto out;
            }
            char *next = gw_xstrdup(loc); /* loc belongs to the handle */
            gw_free(cur);
            cur = next;
            r->redirects++;
            continue;
        }
        break;
    }
    char *eff = NULL, *ct = NULL;
    curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &eff);
    curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ct);
    r->final_url = gw_xstrdup(eff ? eff : cur);
    r->content_type = ct ? gw_xstrdup(ct) : NULL;
    if (r->status < 200 || r->status > 299) {
        rc = GW_ERROR_SET(err, GW_EUPSTREAM, "HTTP status %ld", r->status);
        goto out;
    }
    rc = GW_OK;
out:
    gw_free(cur);
    curl_easy_cleanup(easy);
    if (!resp)
        gw_ssrf_response_fini(&local);
    return rc;
}

void gw_ssrf_response_fini(struct gw_ssrf_response *r)
{
    if (!r)
        return;
    gw_free_null(&r->final_url);
    gw_free_null(&r->content_type);
}
