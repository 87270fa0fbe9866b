/*
 * src/ratelimit/ratelimit_ip.h
 * The client's address behind trusted proxies: the peer of the TCP connection, unless that
 * peer is a trusted proxy (GW_TRUSTED_PROXIES: the load balancer, nginx, the ingress), in
 * which case X-Forwarded-For is read from the right, skipping trusted hops, and the first
 * untrusted address is the client. A client can prepend anything it likes to the header, so
 * only what trusted proxies appended is believed. Pure functions; untrusted input is bounded
 * (2 KiB of header, 32 hops) and fuzzed (tests/fuzz/fuzz_ratelimit_rules.c).
 */
#ifndef GW_RATELIMIT_IP_H
#define GW_RATELIMIT_IP_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#define GW_RL_MAX_CIDRS 32

struct gw_rl_cidr {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
};

struct gw_rl_cidrs {
    struct gw_rl_cidr v[GW_RL_MAX_CIDRS];
    int n;
};

/* Parses "10.0.0.0/8, 127.0.0.1, ::1, fd00::/8" ("" = none). GW_OK or GW_EINVAL naming the
 * bad entry. */
int gw_rl_cidrs_parse(const char *list, struct gw_rl_cidrs *out, struct gw_error *err);
/* Whether the textual address `ip` is inside one of the ranges. */
bool gw_rl_cidrs_contain(const struct gw_rl_cidrs *c, const char *ip);
/* Writes the client address (normalised text; IPv4-mapped IPv6 as IPv4) into out. `peer` is
 * the connection's address ("-" when unknown), `xff` the X-Forwarded-For value or NULL. */
void gw_rl_client_ip(const struct gw_rl_cidrs *trusted, const char *peer, const char *xff,
                     char *out, size_t size);

#endif
