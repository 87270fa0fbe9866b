/*
 * src/ssrf/ssrf_policy.c
 * The SSRF policy (allowlist + fetch limits), the connection check, and the curl guard that
 * applies the check to every socket curl opens.
 *
 * Owns: allowlist parsing (hosts, "*.suffix" wildcards, IPs, CIDRs), gw_ssrf_check,
 * gw_ssrf_check_url (syntactic, no DNS), gw_ssrf_guard_attach.
 * Invariants: a host-name entry trusts whatever the name resolves to (the operator vouches for
 * it); an address entry trusts the address whatever name led there. IPv4-mapped v6 addresses
 * are matched against v4 CIDRs. Messages name the address and its class, never a URL (URLs can
 * carry credentials in their query).
 * Threading: building a policy is single-threaded; checking is read-only and thread-safe.
 */
#include "ssrf/ssrf.h"
#include "ssrf/ssrf_internal.h"

#include "core/alloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ALLOW_ENTRIES 1024

struct cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned prefix;
};

struct gw_ssrf_policy {
    char **hosts; /* lower case; wildcard "*.x" stored as ".x" */
    size_t nhosts;
    struct cidr *cidrs;
    size_t ncidrs;
    struct curl_slist *resolve; /* CURLOPT_RESOLVE entries, owned */
    unsigned max_redirects;
    size_t max_bytes;
    long timeout_ms;
    bool https_only;
};

struct gw_ssrf_policy *gw_ssrf_policy_new(void)
{
    struct gw_ssrf_policy *p = gw_xcalloc(1, sizeof(*p));
    p->max_redirects = 5;
    p->max_bytes = (size_t)64 << 20;
    p->timeout_ms = 30000;
    return p;
}

void gw_ssrf_policy_free(struct gw_ssrf_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nhosts; i++)
        gw_free(p->hosts[i]);
    gw_free(p->hosts);
    gw_free(p->cidrs);
    curl_slist_free_all(p->resolve);
    gw_free(p);
}

void gw_ssrf_policy_set_limits(struct gw_ssrf_policy *p, unsigned max_redirects, size_t max_bytes,
                               long timeout_ms)
{
    p->max_redirects = max_redirects;
    p->max_bytes = max_bytes;
    p->timeout_ms = timeout_ms;
}

void gw_ssrf_policy_set_https_only(struct gw_ssrf_policy *p, bool https_only)
{
    p->https_only = https_only;
}

/* ---- internal accessors for ssrf_fetch.c ---- */

unsigned gw_ssrf__max_redirects(const struct gw_ssrf_policy *p)
{
    return p->max_redirects;
}
size_t gw_ssrf__max_bytes(const struct gw_ssrf_policy *p)
{
    return p->max_bytes;
}
long gw_ssrf__timeout_ms(const struct gw_ssrf_policy *p)
{
    return p->timeout_ms;
}

/* Parses "addr" or "addr/prefix" into c. true on success. */
static bool parse_cidr(const char *s, struct cidr *c)
{
    char text[INET6_ADDRSTRLEN + 8];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(text))
        return false;
    memcpy(text, s, n + 1);
    char *slash = strchr(text, '/');
    long prefix = -1;
    if (slash) {
        *slash = '\0';
        const char *q = slash + 1;
        if (!*q || strlen(q) > 3)
            return false;
        prefix = 0;
        for (; *q; q++) {
            if (*q < '0' || *q > '9')
                return false;
            prefix = prefix * 10 + (*q - '0');
        }
    }
    memset(c, 0, sizeof(*c));
    if (inet_pton(AF_INET, text, c->addr) == 1) {
        c->family = AF_INET;
        if (prefix > 32)
            return false;
        c->prefix = prefix < 0 ? 32 : (unsigned)prefix;
    } else if (inet_pton(AF_INET6, text, c->addr) == 1) {
        c->family = AF_INET6;
        if (prefix > 128)
            return false;
        c->prefix = prefix < 0 ? 128 : (unsigned)prefix;
    } else {
        return false;
    }
    return true;
}

/* Whether the first prefix bits of a and net are equal. */
static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

/* A host name entry is letters, digits, '-', '.', '_' (and a leading "*." for wildcards). */
static bool valid_host_entry(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    if (s[0] == '*') {
        if (n < 3 || s[1] != '.')
            return false;
        s += 2;
    }
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_'))
            return false;
    }
    return true;
}

int gw_ssrf_policy_allow(struct gw_ssrf_policy *p, const char *entry, struct gw_error *err)
{
    if (!entry || !*entry)
        return GW_ERROR_SET(err, GW_EINVAL, "empty SSRF allowlist entry");
    if (p->nhosts + p->ncidrs >= MAX_ALLOW_ENTRIES)
        return GW_ERROR_SET(err, GW_ELIMIT, "SSRF allowlist longer than %d entries",
                            MAX_ALLOW_ENTRIES);
    struct cidr c;
    if (parse_cidr(entry, &c)) {
        p->cidrs = gw_xrealloc(p->cidrs, (p->ncidrs + 1) * sizeof(*p->cidrs));
        p->cidrs[p->ncidrs++] = c;
        return GW_OK;
    }
    if (strchr(entry, '/') || strchr(entry, ':') || !valid_host_entry(entry))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "SSRF allowlist entry '%.100s' is neither a host name, a *.domain "
                            "wildcard, an IP address nor a CIDR",
                            entry);
    char *h = gw_xstrdup(entry[0] == '*' ? entry + 1 : entry); /* "*.x" -> ".x" */
    for (char *q = h; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q + 32);
    size_t n = strlen(h);
    if (n > 1 && h[n - 1] == '.')
        h[n - 1] = '\0';
    p->hosts = gw_xrealloc(p->hosts, (p->nhosts + 1) * sizeof(*p->hosts));
    p->hosts[p->nhosts++] = h;
    return GW_OK;
}

int gw_ssrf_policy_allow_list(struct gw_ssrf_policy *p, const char *list, struct gw_error *err)
{
    const char *s = list ? list : "";
    while (*s) {
        while (*s == ',' || *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
            s++;
        const char *e = s;
        while (*e && *e != ',' && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r')
            e++;
        if (e > s) {
            char entry[300];
            size_t n = (size_t)(e - s);
            if (n >= sizeof(entry))
                return GW_ERROR_SET(err, GW_EINVAL, "SSRF allowlist entry too long");
            memcpy(entry, s, n);
            entry[n] = '\0';
            int rc = gw_ssrf_policy_allow(p, entry, err);
            if (rc != GW_OK)
                return rc;
        }
        s = e;
    }
    return GW_OK;
}

int gw_ssrf_policy_add_resolve(struct gw_ssrf_policy *p, const char *entry, struct gw_error *err)
{
    /* HOST:PORT:ADDRESS[,ADDRESS]; the addresses are checked again at connect time */
    const char *c1 = entry ? strchr(entry, ':') : NULL;
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || c1 == entry || c2 == c1 + 1 || !c2[1] || strlen(entry) > 300)
        return GW_ERROR_SET(err, GW_EINVAL, "resolve entry must be HOST:PORT:ADDRESS");
    struct curl_slist *l = curl_slist_append(p->resolve, entry);
    if (!l)
        return GW_ERROR_SET(err, GW_ENOMEM, "out of memory");
    p->resolve = l;
    return GW_OK;
}

/* Whether host matches a host or wildcard entry (case-insensitive, trailing dot ignored). */
static bool host_allowed(const struct gw_ssrf_policy *p, const char *host)
{
    if (!host || !*host)
        return false;
    char h[256];
    size_t n = strlen(host);
    if (n >= sizeof(h))
        return false;
    for (size_t i = 0; i <= n; i++) {
        char c = host[i];
        h[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    if (n > 1 && h[n - 1] == '.')
        h[--n] = '\0';
    for (size_t i = 0; i < p->nhosts; i++) {
        const char *e = p->hosts[i];
        size_t en = strlen(e);
        if (e[0] == '.') {
            if (n > en && strcmp(h + n - en, e) == 0)
                return true;
        } else if (strcmp(h, e) == 0) {
            return true;
        }
    }
    return false;
}

/* Address bytes and family of sa, with v4-mapped v6 turned into v4. */
static int addr_bytes(const struct sockaddr *sa, uint8_t out[16], int *family)
{
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof(sin));
        memcpy(out, &sin.sin_addr, 4);
        *family = AF_INET;
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof(sin6));
        const uint8_t *b = sin6.sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(b, mapped, 12) == 0) {
            memcpy(out, b + 12, 4);
            *family = AF_INET;
        } else {
            memcpy(out, b, 16);
            *family = AF_INET6;
        }
        return 0;
    }
    return -1;
}

/* Numeric text of an address, for messages. */
static void addr_text(const struct sockaddr *sa, char *out, size_t n)
{
    const void *src = NULL;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    if (sa->sa_family == AF_INET) {
        memcpy(&sin, sa, sizeof(sin));
        src = &sin.sin_addr;
    } else if (sa->sa_family == AF_INET6) {
        memcpy(&sin6, sa, sizeof(sin6));
        src = &sin6.sin6_addr;
    }
    if (!src || !inet_ntop(sa->sa_family, src, out, (socklen_t)n))
        snprintf(out, n, "(family %d)", sa->sa_family);
}

int gw_ssrf_check(const struct gw_ssrf_policy *p, const char *host, const struct sockaddr *sa,
                  struct gw_error *err)
{
    if (!sa)
        return GW_ERROR_SET(err, GW_EDENIED, "no address to check");
    enum gw_ssrf_class cls = gw_ssrf_classify(sa);
    if (cls == GW_SSRF_PUBLIC)
        return GW_OK;
    if (host_allowed(p, host))
        return GW_OK;
    uint8_t a[16];
    int fam;
    if (addr_bytes(sa, a, &fam) == 0) {
        for (size_t i = 0; i < p->ncidrs; i++)
            if (p->cidrs[i].family == fam && prefix_match(a, p->cidrs[i].addr, p->cidrs[i].prefix))
                return GW_OK;
    }
    char txt[INET6_ADDRSTRLEN];
    addr_text(sa, txt, sizeof(txt));
    GW_ERROR_SET(err, GW_EDENIED, "SSRF guard refused %s address %s%s%.100s%s",
                 gw_ssrf_class_name(cls), txt, host ? " (host " : "", host ? host : "",
                 host ? ")" : "");
    gw_error_map(err, 403, 0);
    return GW_EDENIED;
}

int gw_ssrf_check_url(const struct gw_ssrf_policy *p, const char *url, char *out_host,
                      size_t out_host_size, struct gw_error *err)
{
    int rc = GW_EINVAL;
    char *scheme = NULL, *host = NULL;
    CURLU *u = curl_url();
    if (!u)
        return GW_ERROR_SET(err, GW_ENOMEM, "out of memory");
    if (!url || strlen(url) > 8192 || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        GW_ERROR_SET(err, GW_EINVAL, "not a valid absolute URL");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
        GW_ERROR_SET(err, GW_EINVAL, "URL has no host");
        goto out;
    }
    bool https = strcasecmp(scheme, "https") == 0;
    if (!https && (p->https_only || strcasecmp(scheme, "http") != 0)) {
        rc = GW_ERROR_SET(err, GW_EDENIED, "URL scheme '%.20s' is not allowed (%s)", scheme,
                          p->https_only ? "https only" : "http and https only");
        goto out;
    }
    /* an IPv6 literal comes back as "[::1]" */
    char bare[256];
    size_t hn = strlen(host);
    if (hn >= sizeof(bare)) {
        GW_ERROR_SET(err, GW_EINVAL, "URL host too long");
        goto out;
    }
    if (host[0] == '[' && hn > 2 && host[hn - 1] == ']') {
        memcpy(bare, host + 1, hn - 2);
        bare[hn - 2] = '\0';
        char *zone = strchr(bare, '%');
        if (zone)
            *zone = '\0';
    } else {
        memcpy(bare, host, hn + 1);
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    bool literal = false;
    if (inet_pton(AF_INET, bare, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        literal = true;
    } else if (inet_pton(AF_INET6, bare, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        literal = true;
    }
    if (literal) {
        rc = gw_ssrf_check(p, bare, (struct sockaddr *)&ss, err);
        if (rc != GW_OK)
            goto out;
    }
    if (out_host && out_host_size) {
        size_t bn = strlen(bare);
        if (bn >= out_host_size) {
            GW_ERROR_SET(err, GW_EINVAL, "URL host too long");
            goto out;
        }
        memcpy(out_host, bare, bn + 1);
    }
    rc = GW_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* CURLOPT_OPENSOCKETFUNCTION: the one place where every connection curl makes is decided. */
static curl_socket_t guard_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct gw_ssrf_guard *g = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN) {
        g->denied = true;
        snprintf(g->reason, sizeof(g->reason), "SSRF guard refused a non-IP connection");
        return CURL_SOCKET_BAD;
    }
    struct gw_error e;
    gw_error_clear(&e);
    if (gw_ssrf_check(g->_policy, g->_host[0] ? g->_host : NULL, &a->addr, &e) != GW_OK) {
        g->denied = true;
        snprintf(g->reason, sizeof(g->reason), "%.150s", e.msg);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

int gw_ssrf_guard_attach(CURL *easy, struct gw_ssrf_guard *g, const struct gw_ssrf_policy *p,
                         const char *url, struct gw_error *err)
{
    memset(g, 0, sizeof(*g));
    g->_policy = p;
    int rc = gw_ssrf_check_url(p, url, g->_host, sizeof(g->_host), err);
    if (rc != GW_OK)
        return rc;
    const char *protos = p->https_only ? "https" : "http,https";
    if (curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, protos) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, protos) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_NOPROXY, "*") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, guard_open) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, g) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_RESOLVE, p->resolve) != CURLE_OK)
        return GW_ERROR_SET(err, GW_ERR, "libcurl refused the guard options");
    return GW_OK;
}
