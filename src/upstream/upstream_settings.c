/*
 * src/upstream/upstream_settings.c
 * Settings of the upstream executor. Per-upstream values in the upstreams file
 * (GW_UPSTREAMS_FILE, format in docs/upstream.md) override these defaults, and per-tool
 * `execution` fields override both.
 */
#include "upstream/upstream_settings.h"

const struct gw_setting_def gw_upstream_settings[] = {
    {"GW_UPSTREAM_ENV", GW_SET_ENUM, "mock", 0, 0, "mock|staging|production", "Upstream APIs",
     "Which base URL of each upstream to call (the `baseUrls` key in the upstreams file): the "
     "mock APIM in development, the staging or the production APIM."},
    {"GW_UPSTREAMS_FILE", GW_SET_STRING, "", 0, 0, NULL, "Upstream APIs",
     "Path of the JSON file describing upstreams (base URLs per environment, credentials by "
     "reference, TLS, timeouts, retries, breaker, business-error rules). Empty: every tool "
     "calls the first server of its binding with the defaults below and no credentials."},
    {"GW_SECRETS_DIR", GW_SET_STRING, "", 0, 0, NULL, "Upstream APIs",
     "Directory of mounted secrets (one file per key, as a Kubernetes Secret or External "
     "Secret volume); upstreams-file references {\"secret\": \"key\"} read <dir>/<key>."},
    {"GW_UPSTREAM_ALLOWLIST", GW_SET_STRING, "", 0, 0, NULL, "Upstream APIs",
     "Non-public destinations that tool calls may reach when the tool's server comes from its "
     "spec (binding.servers, or an upstream without a base URL in the upstreams file): host "
     "names, *.domain wildcards, IP addresses and CIDRs, separated by commas. Every other "
     "loopback, private, link-local, cloud-metadata or reserved address is refused (SSRF "
     "guard, checked on the address actually connected). Upstreams with a base URL in the "
     "upstreams file are trusted for that URL and need no entry. Example for a spec served on "
     "this machine: 127.0.0.1."},
    {"GW_UPSTREAM_HTTP_CLIENT", GW_SET_ENUM, "native", 0, 0, "native|curl", "Upstream APIs",
     "How tool calls reach upstreams. native: calls to an http:// or https:// URL (no proxy, "
     "redirects or multipart) go through the gateway's own HTTP/1.1 client (llhttp, OpenSSL, "
     "zlib; host names through libevent's resolver, which reads /etc/resolv.conf and "
     "/etc/hosts), every other call through libcurl; curl: every call through libcurl (a "
     "fallback should an upstream need libcurl's leniency or the system's other name "
     "services). Both behave alike: same timeouts, size cap, SSRF check, TLS verification, "
     "at-most-once writes."},
    {"GW_UPSTREAM_TIMEOUT_MS", GW_SET_INT, "10000", 100, 600000, NULL, "Upstream APIs",
     "Default time limit of one upstream attempt (connect + request + response), in ms."},
    {"GW_UPSTREAM_CONNECT_TIMEOUT_MS", GW_SET_INT, "3000", 50, 120000, NULL, "Upstream APIs",
     "Default limit for establishing a connection (TCP + TLS), in ms."},
    {"GW_UPSTREAM_MAX_RESPONSE_BYTES", GW_SET_INT, "1048576", 1024, 268435456, NULL,
     "Upstream APIs",
     "Default cap on an upstream response body; a larger response is cut off and the call "
     "fails with \"response too large\"."},
    {"GW_UPSTREAM_RETRY_MAX_ATTEMPTS", GW_SET_INT, "3", 1, 10, NULL, "Upstream APIs",
     "Default attempts per call (1 = no retry). Retries happen only for idempotent methods "
     "(or writes with an idempotency key) on connection errors, timeouts, 502, 503, 504."},
    {"GW_UPSTREAM_RETRY_BASE_DELAY_MS", GW_SET_INT, "100", 1, 60000, NULL, "Upstream APIs",
     "Base of the exponential backoff between attempts (full jitter), in ms."},
    {"GW_UPSTREAM_RETRY_MAX_DELAY_MS", GW_SET_INT, "2000", 1, 300000, NULL, "Upstream APIs",
     "Cap of one backoff wait, in ms."},
    {"GW_BREAKER_FAILURE_THRESHOLD", GW_SET_INT, "5", 0, 10000, NULL, "Upstream APIs",
     "Consecutive failures (5xx, timeouts, connection errors) that open an upstream's circuit "
     "breaker; 0 disables this rule."},
    {"GW_BREAKER_FAILURE_RATIO_PERCENT", GW_SET_INT, "50", 0, 100, NULL, "Upstream APIs",
     "Failure percentage within the window that opens the breaker; 0 disables this rule."},
    {"GW_BREAKER_WINDOW_SECONDS", GW_SET_INT, "60", 1, 3600, NULL, "Upstream APIs",
     "Sliding window of the failure-ratio rule, in seconds."},
    {"GW_BREAKER_MIN_CALLS", GW_SET_INT, "20", 1, 1000000, NULL, "Upstream APIs",
     "Calls needed in the window before the failure-ratio rule applies."},
    {"GW_BREAKER_COOLDOWN_SECONDS", GW_SET_INT, "30", 1, 3600, NULL, "Upstream APIs",
     "How long an open breaker rejects calls before letting one probe through."},
    {"GW_IDEMPOTENCY_TTL_SECONDS", GW_SET_INT, "86400", 1, 2592000, NULL, "Upstream APIs",
     "How long a result is kept for replay under its idempotency key."},
    {"GW_IDEMPOTENCY_INFLIGHT_SECONDS", GW_SET_INT, "600", 1, 86400, NULL, "Upstream APIs",
     "How long a key stays reserved by a call that has not finished (retries with the same key "
     "are told it is in progress); after that a replica that died mid-call no longer holds "
     "it. Keep it above the longest call (timeouts x attempts)."},
    {"GW_IDEMPOTENCY_MAX_ENTRIES", GW_SET_INT, "100000", 1, 100000000, NULL, "Upstream APIs",
     "Idempotency keys kept in memory (expired, then oldest completed ones are evicted)."},
    {"GW_UPSTREAM_CACHE_MAX_ENTRIES", GW_SET_INT, "10000", 0, 100000000, NULL,
     "Upstream APIs", "Entries of the GET result cache (tools with execution.cacheTtlSeconds)."},
    {"GW_UPSTREAM_CACHE_MAX_BYTES", GW_SET_INT, "67108864", 0, 17179869184LL, NULL,
     "Upstream APIs", "Bytes of the GET result cache; least recently used entries go first."},
    {"GW_UPSTREAM_ERROR_BODY_CHARS", GW_SET_INT, "1000", 0, 100000, NULL, "Upstream APIs",
     "Characters of an upstream error body quoted in an isError result."},
    {"GW_UPSTREAM_MAX_TEXT_CHARS", GW_SET_INT, "100000", 256, 16777216, NULL, "Upstream APIs",
     "Default cap on the text content of a result (a tool's response.maxTextChars overrides)."},
    GW_SETTINGS_END};
