/*
 * tools/healthcheck/healthcheck.c
 * `healthcheck [URL]`: the HEALTHCHECK and Kubernetes exec probe of the container images, which
 * ship no shell and no curl. Loopback only: it probes a process in its own container (pod).
 *   http://127.x.y.z:PORT/PATH  GET with a 3 s limit; exit 0 when the answer is 2xx
 *                               (default http://127.0.0.1:8000/health)
 *   tcp://127.x.y.z:PORT        connect only (a listener that speaks no HTTP, e.g. the Redis
 *                               TLS sidecar's stunnel); exit 0 when the connection is accepted
 * Exit 1 otherwise (the status or the transfer error on stderr), 2 for a bad argument.
 */
#include <curl/curl.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Discards the body: only the status matters. */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : "http://127.0.0.1:8000/health";
    bool tcp = strncmp(url, "tcp://127.", 10) == 0;
    if (argc > 2 || (!tcp && strncmp(url, "http://127.", 11) != 0)) {
        fprintf(stderr, "usage: healthcheck [http://127.x.y.z:PORT/PATH | tcp://127.x.y.z:PORT]\n");
        return 2;
    }
    char target[256];
    if (tcp) { /* libcurl connects to the same host and port given as an http URL */
        if (snprintf(target, sizeof(target), "http://%s", url + 6) >= (int)sizeof(target)) {
            fprintf(stderr, "healthcheck: address too long\n");
            return 2;
        }
    } else if (snprintf(target, sizeof(target), "%s", url) >= (int)sizeof(target)) {
        fprintf(stderr, "healthcheck: URL too long\n");
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    CURL *c = curl_easy_init();
    if (!c)
        return 1;
    curl_easy_setopt(c, CURLOPT_URL, target);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (tcp)
        curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    if (rc != CURLE_OK) {
        fprintf(stderr, "healthcheck: %s: %s\n", url, curl_easy_strerror(rc));
        return 1;
    }
    if (!tcp && (status < 200 || status > 299)) {
        fprintf(stderr, "healthcheck: %s: HTTP %ld\n", url, status);
        return 1;
    }
    return 0;
}
