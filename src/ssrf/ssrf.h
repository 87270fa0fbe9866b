/*
 * src/ssrf/ssrf.h
 * Server-side request forgery guard: which addresses outbound requests may reach, and a
 * blocking libcurl fetch that enforces it on the address actually connected.
 *
 * Owns: address classification (loopback, RFC 1918, link-local and cloud metadata, CGNAT,
 * unique-local, multicast, reserved, and the v4 embedded in v6 forms), the allowlist policy
 * (host names, "*.suffix" wildcards, IP addresses and CIDRs), and gw_ssrf_fetch.
 * Invariants: a policy is immutable once shared (configure it, then hand it out; reads are then
 * thread-safe); every connection made through a guarded curl handle passes gw_ssrf_check on its
 * resolved socket address (CURLOPT_OPENSOCKETFUNCTION), so DNS rebinding, decimal/hex IPv4
 * spellings and redirects cannot reach a refused address; each redirect hop is checked again.
 * Not here: the non-blocking upstream client (src/upstream attaches a guard to its own handles
 * with gw_ssrf_guard_attach) and URL allow rules by path.
 * The process must call curl_global_init once at start-up (the app does).
 */
#ifndef GW_SSRF_SSRF_H
#define GW_SSRF_SSRF_H

#include "core/buf.h"
#include "core/err.h"
#include "core/settings.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Address classes. Everything but GW_SSRF_PUBLIC is refused unless allowlisted. */
enum gw_ssrf_class {
    GW_SSRF_PUBLIC = 0,
    GW_SSRF_LOOPBACK,     /* 127/8, ::1 */
    GW_SSRF_PRIVATE,      /* 10/8, 172.16/12, 192.168/16, fec0::/10 site-local, 64:ff9b:1::/48 */
    GW_SSRF_LINK_LOCAL,   /* 169.254/16, fe80::/10 */
    GW_SSRF_METADATA,     /* cloud instance metadata: 169.254.169.254, 169.254.170.2,
                           * 100.100.100.200, fd00:ec2::254 */
    GW_SSRF_UNIQUE_LOCAL, /* fc00::/7 */
    GW_SSRF_CGNAT,        /* 100.64/10 shared address space (RFC 6598) */
    GW_SSRF_MULTICAST,    /* 224/4, ff00::/8 */
    GW_SSRF_UNSPECIFIED,  /* 0/8, :: */
    GW_SSRF_BROADCAST,    /* 255.255.255.255 */
    GW_SSRF_RESERVED      /* 240/4, 192.0.0/24, documentation and benchmark nets, 100::/64,
                           * 2001:db8::/32, Teredo 2001::/32, unknown families */
};

/* Short constant name of a class ("loopback"). */
const char *gw_ssrf_class_name(enum gw_ssrf_class c);

/* Classifies a socket address (AF_INET or AF_INET6; anything else is RESERVED). IPv4-mapped,
 * IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 (2002::/16) v6 addresses are classified by the
 * v4 address they carry. Pure function. */
enum gw_ssrf_class gw_ssrf_classify(const struct sockaddr *sa);

/* Classifies a numeric address in text ("10.0.0.1", "::ffff:127.0.0.1"). GW_OK, or GW_EINVAL
 * when `ip` is not a numeric address. */
int gw_ssrf_classify_text(const char *ip, enum gw_ssrf_class *out);

/* ---- policy ---- */

struct gw_ssrf_policy;

/* Defaults: nothing but public addresses, http and https, 5 redirects, 64 MiB, 30 s total.
 * Never returns NULL (aborts on OOM: small fixed object). */
struct gw_ssrf_policy *gw_ssrf_policy_new(void);
/* Accepts NULL. */
void gw_ssrf_policy_free(struct gw_ssrf_policy *p);

/* Adds one allowlist entry: a host name ("apim.internal", matched case-insensitively, any
 * address it resolves to is then accepted), a wildcard ("*.corp.example": subdomains only), an
 * IP address or a CIDR ("10.20.0.0/16", "fd00::/8"). GW_OK or GW_EINVAL (malformed). */
int gw_ssrf_policy_allow(struct gw_ssrf_policy *p, const char *entry, struct gw_error *err);

/* Adds every entry of a list separated by commas, spaces or newlines. GW_OK or GW_EINVAL (the
 * message names the bad entry; entries before it stay added). */
int gw_ssrf_policy_allow_list(struct gw_ssrf_policy *p, const char *list, struct gw_error *err);

/* Limits for gw_ssrf_fetch: redirects followed (0 = none), body bytes, total time in ms. */
void gw_ssrf_policy_set_limits(struct gw_ssrf_policy *p, unsigned max_redirects, size_t max_bytes,
                               long timeout_ms);
/* Only https:// (true) or http:// and https:// (false, default). */
void gw_ssrf_policy_set_https_only(struct gw_ssrf_policy *p, bool https_only);

/* Pins a host name to an address, curl's "HOST:PORT:ADDRESS" form (CURLOPT_RESOLVE). The pinned
 * address is still checked. For tests and for operators pinning an upstream. GW_OK/GW_EINVAL. */
int gw_ssrf_policy_add_resolve(struct gw_ssrf_policy *p, const char *entry, struct gw_error *err);

/* Decides whether a connection to `sa` (resolved from `host`, which may be NULL) is allowed:
 * GW_OK (public, allowlisted address or allowlisted host) or GW_EDENIED with err naming the
 * address class (never the full URL). Pure, thread-safe. */
int gw_ssrf_check(const struct gw_ssrf_policy *p, const char *host, const struct sockaddr *sa,
                  struct gw_error *err);

/* Syntactic pre-check of a URL without any DNS: scheme allowed by the policy, a host present,
 * and, when the host is an IP literal, gw_ssrf_check on it. GW_OK, GW_EINVAL or GW_EDENIED.
 * Writes the host into out_host when given (size out_host_size). */
int gw_ssrf_check_url(const struct gw_ssrf_policy *p, const char *url, char *out_host,
                      size_t out_host_size, struct gw_error *err);

/* ---- guarded curl handles ---- */

/* Per-handle guard state; caller-owned storage that must outlive the transfer. Members are
 * private except `denied` (set when a connection was refused) and `reason`. */
struct gw_ssrf_guard {
    const struct gw_ssrf_policy *_policy;
    char _host[256];
    bool denied;
    char reason[160];
};

/* Installs the guard on `easy` for a request to `url`: the open-socket check, protocols
 * (http/https or https only), no proxies from the environment, no automatic redirects (the
 * caller follows them and calls this again per hop), pinned resolves. The policy is borrowed
 * and must outlive the transfer. GW_OK, or GW_EINVAL/GW_EDENIED from gw_ssrf_check_url. */
int gw_ssrf_guard_attach(CURL *easy, struct gw_ssrf_guard *g, const struct gw_ssrf_policy *p,
                         const char *url, struct gw_error *err);

/* ---- blocking fetch ---- */

struct gw_ssrf_response {
    long status;        /* final HTTP status */
    char *final_url;    /* URL of the last hop (gw_free); base for relative references */
    char *content_type; /* Content-Type of the last hop, or NULL (gw_free) */
    unsigned redirects; /* hops followed */
};

/* GETs `url` under the policy, following at most the policy's redirects (each hop re-checked),
 * appending the body to `out` (the smaller of out's maximum and the policy's max_bytes applies;
 * the transfer is aborted as soon as it is exceeded). BLOCKS for up to the policy timeout: call
 * it off the request loops (admin, CLI, import jobs). `resp` may be NULL; when given it is
 * filled even on failure and released with gw_ssrf_response_fini. Returns GW_OK (2xx), GW_EDENIED
 * (refused address/scheme), GW_ELIMIT (size or redirects), GW_ETIMEOUT, GW_EUPSTREAM (non-2xx;
 * resp->status set), GW_EIO (connection/TLS/DNS), GW_EINVAL (bad URL) or GW_ENOMEM. */
int gw_ssrf_fetch(const char *url, const struct gw_ssrf_policy *p, struct gw_buf *out,
                  struct gw_ssrf_response *resp, struct gw_error *err);

/* Frees the strings of a response; accepts NULL and zeroed structs. */
void gw_ssrf_response_fini(struct gw_ssrf_response *r);

/* ---- settings ---- */

/* GW_SSRF_* settings (allowlist, limits); registered by the app. */
extern const struct gw_setting_def gw_ssrf_settings[];

/* Builds a policy from loaded settings. GW_OK with *out set, or GW_EINVAL (bad allowlist). */
int gw_ssrf_policy_from_settings(const struct gw_settings *s, struct gw_ssrf_policy **out,
                                 struct gw_error *err);

#endif
