/*
 * src/ratelimit/ratelimit_ip.c
 * Trusted-proxy ranges and the client address (see ratelimit_ip.h).
 */
#include "ratelimit/ratelimit_ip.h"

#include "core/str.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define XFF_MAX 2048
#define HOPS_MAX 32

/* Parses one address (v4, v6, "[v6]", "v4:port", "[v6]:port"); IPv4-mapped IPv6 becomes v4. */
static bool parse_addr(const char *s, size_t n, int *family, unsigned char *addr)
{
    char buf[64];
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof(buf))
        return false;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return false;
        n = (size_t)(close - s - 1);
        s++;
        if (n == 0 || n >= sizeof(buf))
            return false;
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - s) - 1))
            n = (size_t)(colon - s); /* v4:port */
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(addr, mapped, 12) == 0) {
            memmove(addr, addr + 12, 4);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return true;
    }
    return false;
}

int gw_rl_cidrs_parse(const char *list, struct gw_rl_cidrs *out, struct gw_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *p = list ? list : "";
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && p[n - 1] == ' ')
            n--;
        if (out->n >= GW_RL_MAX_CIDRS)
            return GW_ERROR_SET(err, GW_EINVAL, "GW_TRUSTED_PROXIES: more than %d entries",
                                GW_RL_MAX_CIDRS);
        const char *slash = memchr(p, '/', n);
        struct gw_rl_cidr *c = &out->v[out->n];
        size_t alen = slash ? (size_t)(slash - p) : n;
        if (!parse_addr(p, alen, &c->family, c->addr))
            return GW_ERROR_SET(err, GW_EINVAL, "GW_TRUSTED_PROXIES: '%.*s' is not an address",
                                (int)(n > 64 ? 64 : n), p);
        int maxbits = c->family == AF_INET ? 32 : 128;
        c->bits = maxbits;
        if (slash) {
            char num[8];
            size_t bl = n - alen - 1;
            unsigned long long b = 0;
            if (bl == 0 || bl >= sizeof(num))
                return GW_ERROR_SET(err, GW_EINVAL, "GW_TRUSTED_PROXIES: bad prefix length");
            memcpy(num, slash + 1, bl);
            num[bl] = '\0';
            if (gw_str_to_u64(gw_str_c(num), &b) != GW_OK || b > (unsigned long long)maxbits)
                return GW_ERROR_SET(err, GW_EINVAL, "GW_TRUSTED_PROXIES: bad prefix length /%s",
                                    num);
            c->bits = (int)b;
        }
        out->n++;
        p += end ? (size_t)(end - p) : strlen(p);
    }
    return GW_OK;
}

static bool in_range(const struct gw_rl_cidr *c, int family, const unsigned char *addr)
{
    if (c->family != family)
        return false;
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, addr, (size_t)full) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (addr[full] & mask);
}

static bool trusted_addr(const struct gw_rl_cidrs *t, int family, const unsigned char *addr)
{
    for (int i = 0; t && i < t->n; i++)
        if (in_range(&t->v[i], family, addr))
            return true;
    return false;
}

bool gw_rl_cidrs_contain(const struct gw_rl_cidrs *c, const char *ip)
{
    int family;
    unsigned char addr[16];
    return ip && parse_addr(ip, strlen(ip), &family, addr) && trusted_addr(c, family, addr);
}

static void format(int family, const unsigned char *addr, char *out, size_t size)
{
    char buf[INET6_ADDRSTRLEN];
    if (!inet_ntop(family, addr, buf, sizeof(buf)))
        snprintf(buf, sizeof(buf), "-");
    gw_strlcpy(out, size, buf);
}

/* The last peer this thread formatted (a kept-alive client asks again and again). */
static _Thread_local struct {
    char peer[64], text[INET6_ADDRSTRLEN];
    int family;
    unsigned char addr[16];
} tl_last;

void gw_rl_client_ip(const struct gw_rl_cidrs *trusted, const char *peer, const char *xff,
                     char *out, size_t size)
{
    int family;
    unsigned char addr[16];
    if (peer && tl_last.peer[0] && strcmp(peer, tl_last.peer) == 0) {
        family = tl_last.family;
        memcpy(addr, tl_last.addr, sizeof(addr));
        gw_strlcpy(out, size, tl_last.text);
    } else if (!peer || !parse_addr(peer, strlen(peer), &family, addr)) {
        gw_strlcpy(out, size, peer && *peer ? "-" : "-");
        return;
    } else {
        format(family, addr, tl_last.text, sizeof(tl_last.text));
        gw_strlcpy(out, size, tl_last.text);
        tl_last.family = family;
        memcpy(tl_last.addr, addr, sizeof(addr));
        /* remembered only when it fits whole (a cut key would match another peer) */
        if (strlen(peer) < sizeof(tl_last.peer))
            gw_strlcpy(tl_last.peer, sizeof(tl_last.peer), peer);
        else
            tl_last.peer[0] = '\0';
    }
    /* the peer, unless a trusted proxy vouches for another */
    if (!xff || !trusted || !trusted->n || !trusted_addr(trusted, family, addr))
        return;
    size_t n = strnlen(xff, XFF_MAX + 1);
    if (n > XFF_MAX)
        return; /* an oversized header is not believed: the proxy is the client */
    int hops = 0;
    size_t end = n;
    while (end > 0 && hops < HOPS_MAX) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        int f2;
        unsigned char a2[16];
        if (!parse_addr(xff + start, end - start, &f2, a2))
            return; /* garbage: stop at the last trustworthy hop */
        format(f2, a2, out, size);
        if (!trusted_addr(trusted, f2, a2))
            return; /* the first untrusted hop from the right is the client */
        hops++;
        end = start ? start - 1 : 0;
    }
}
