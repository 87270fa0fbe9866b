/*
 * src/ssrf/ssrf_addr.c
 * Address classification for the SSRF guard.
 *
 * Owns: the table of special-purpose IPv4/IPv6 ranges (after the IANA special-purpose
 * registries, RFC 6890) and the unwrapping of v4 addresses carried inside v6 ones
 * (::ffff:a.b.c.d mapped, ::a.b.c.d compatible, 64:ff9b::/96 NAT64, 2002::/16 6to4), which
 * would otherwise let "[::ffff:127.0.0.1]" or a 6to4 spelling of 10.0.0.1 through.
 * Pure functions, thread-safe. Not here: policy and allowlists (ssrf_policy.c).
 */
#include "ssrf/ssrf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

const char *gw_ssrf_class_name(enum gw_ssrf_class c)
{
    switch (c) {
    case GW_SSRF_PUBLIC:
        return "public";
    case GW_SSRF_LOOPBACK:
        return "loopback";
    case GW_SSRF_PRIVATE:
        return "private";
    case GW_SSRF_LINK_LOCAL:
        return "link-local";
    case GW_SSRF_METADATA:
        return "cloud-metadata";
    case GW_SSRF_UNIQUE_LOCAL:
        return "unique-local";
    case GW_SSRF_CGNAT:
        return "cgnat";
    case GW_SSRF_MULTICAST:
        return "multicast";
    case GW_SSRF_UNSPECIFIED:
        return "unspecified";
    case GW_SSRF_BROADCAST:
        return "broadcast";
    case GW_SSRF_RESERVED:
        return "reserved";
    }
    return "reserved";
}

/* One IPv4 range: network (host order), prefix length, class. Most specific entries first:
 * the first match wins. */
struct v4_range {
    uint32_t net;
    unsigned prefix;
    enum gw_ssrf_class cls;
};

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static const struct v4_range v4_ranges[] = {
    {V4(169, 254, 169, 254), 32, GW_SSRF_METADATA}, /* AWS, GCP, Azure, OpenStack */
    {V4(169, 254, 170, 2), 32, GW_SSRF_METADATA},   /* AWS ECS task metadata */
    {V4(100, 100, 100, 200), 32, GW_SSRF_METADATA}, /* Alibaba Cloud */
    {V4(255, 255, 255, 255), 32, GW_SSRF_BROADCAST},
    {V4(0, 0, 0, 0), 8, GW_SSRF_UNSPECIFIED}, /* "this network"; 0.0.0.0 reaches localhost */
    {V4(127, 0, 0, 0), 8, GW_SSRF_LOOPBACK},
    {V4(10, 0, 0, 0), 8, GW_SSRF_PRIVATE},
    {V4(172, 16, 0, 0), 12, GW_SSRF_PRIVATE},
    {V4(192, 168, 0, 0), 16, GW_SSRF_PRIVATE},
    {V4(169, 254, 0, 0), 16, GW_SSRF_LINK_LOCAL},
    {V4(100, 64, 0, 0), 10, GW_SSRF_CGNAT},
    {V4(192, 0, 0, 0), 24, GW_SSRF_RESERVED},    /* IETF protocol assignments */
    {V4(192, 0, 2, 0), 24, GW_SSRF_RESERVED},    /* TEST-NET-1 */
    {V4(198, 51, 100, 0), 24, GW_SSRF_RESERVED}, /* TEST-NET-2 */
    {V4(203, 0, 113, 0), 24, GW_SSRF_RESERVED},  /* TEST-NET-3 */
    {V4(198, 18, 0, 0), 15, GW_SSRF_RESERVED},   /* benchmarking */
    {V4(192, 88, 99, 0), 24, GW_SSRF_RESERVED},  /* deprecated 6to4 relay anycast */
    {V4(224, 0, 0, 0), 4, GW_SSRF_MULTICAST},
    {V4(240, 0, 0, 0), 4, GW_SSRF_RESERVED},
};

/* First matching range of the table, else public. */
static enum gw_ssrf_class classify_v4(uint32_t a)
{
    for (size_t i = 0; i < sizeof(v4_ranges) / sizeof(v4_ranges[0]); i++) {
        const struct v4_range *r = &v4_ranges[i];
        uint32_t mask = r->prefix == 0 ? 0 : ~(uint32_t)0 << (32 - r->prefix);
        if ((a & mask) == r->net)
            return r->cls;
    }
    return GW_SSRF_PUBLIC;
}

/* The v4 address stored big-endian at b. */
static uint32_t v4_at(const uint8_t *b)
{
    return V4(b[0], b[1], b[2], b[3]);
}

/* Whether b[0..n) are all zero. */
static bool all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* IPv6 classes; v4 carried in v6 is classified as v4 (see the file comment). */
static enum gw_ssrf_class classify_v6(const uint8_t *b)
{
    static const uint8_t metadata6[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,    0,
                                          0,    0,    0,    0,    0, 0, 0x02, 0x54};
    if (all_zero(b, 15)) {
        if (b[15] == 0)
            return GW_SSRF_UNSPECIFIED;
        if (b[15] == 1)
            return GW_SSRF_LOOPBACK;
    }
    if (memcmp(b, metadata6, 16) == 0)
        return GW_SSRF_METADATA;
    /* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (deprecated compatible form) */
    if (all_zero(b, 10) && b[10] == 0xff && b[11] == 0xff)
        return classify_v4(v4_at(b + 12));
    if (all_zero(b, 12))
        return classify_v4(v4_at(b + 12));
    /* ::ffff:0:a.b.c.d (SIIT translated) */
    if (all_zero(b, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
        return classify_v4(v4_at(b + 12));
    /* 64:ff9b::/96 well-known NAT64 prefix carries a v4 address */
    if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && all_zero(b + 4, 8))
        return classify_v4(v4_at(b + 12));
    /* 64:ff9b:1::/48 local-use NAT64 */
    if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 && b[5] == 1)
        return GW_SSRF_PRIVATE;
    /* 2002::/16 6to4 carries a v4 address in bits 16..47 */
    if (b[0] == 0x20 && b[1] == 0x02)
        return classify_v4(v4_at(b + 2));
    /* 2001::/32 Teredo can tunnel to anything: refuse */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
        return GW_SSRF_RESERVED;
    /* 2001:db8::/32 documentation */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return GW_SSRF_RESERVED;
    /* 100::/64 discard-only */
    if (b[0] == 0x01 && b[1] == 0 && all_zero(b + 2, 6))
        return GW_SSRF_RESERVED;
    if (b[0] == 0xff)
        return GW_SSRF_MULTICAST;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return GW_SSRF_LINK_LOCAL;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return GW_SSRF_PRIVATE; /* fec0::/10 deprecated site-local */
    if ((b[0] & 0xfe) == 0xfc)
        return GW_SSRF_UNIQUE_LOCAL;
    /* Only 2000::/3 is allocated global unicast; the rest is reserved. */
    if ((b[0] & 0xe0) != 0x20)
        return GW_SSRF_RESERVED;
    return GW_SSRF_PUBLIC;
}

enum gw_ssrf_class gw_ssrf_classify(const struct sockaddr *sa)
{
    if (!sa)
        return GW_SSRF_RESERVED;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof(sin));
        return classify_v4(ntohl(sin.sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof(sin6));
        return classify_v6(sin6.sin6_addr.s6_addr);
    }
    return GW_SSRF_RESERVED;
}

int gw_ssrf_classify_text(const char *ip, enum gw_ssrf_class *out)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (!ip)
        return GW_EINVAL;
    if (inet_pton(AF_INET, ip, &a4) == 1) {
        *out = classify_v4(ntohl(a4.s_addr));
        return GW_OK;
    }
    if (inet_pton(AF_INET6, ip, &a6) == 1) {
        *out = classify_v6(a6.s6_addr);
        return GW_OK;
    }
    return GW_EINVAL;
}
