/*
 * tools/healthcheck/healthcheck.c
 * `healthcheck [URL]`: the HEALTHCHECK of the container images, which ship no shell and no
 * curl. GETs URL (default http://127.0.0.1:8000/health) with a 3 s limit and exits 0 when the
 * answer is 2xx, 1 otherwise (the status or the transfer error on stderr). Loopback only: it
 * probes the process in its own container.
 */
#include <curl/curl.h>

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
    if (argc > 2 || strncmp(url, "http://127.", 11) != 0) {
        fprintf(stderr, "usage: healthcheck [http://127.x.y.z:PORT/PATH]\n");
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    CURL *c = curl_easy_init();
    if (!c)
        return 1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    if (rc != CURLE_OK) {
        fprintf(stderr, "healthcheck: %s: %s\n", url, curl_easy_strerror(rc));
        return 1;
    }
    if (status < 200 || status > 299) {
        fprintf(stderr, "healthcheck: %s: HTTP %ld\n", url, status);
        return 1;
    }
    return 0;
}
