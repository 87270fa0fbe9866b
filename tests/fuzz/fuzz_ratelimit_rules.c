/*
 * tests/fuzz/fuzz_ratelimit_rules.c
 * Fuzzes the rate-limit rule parser (src/ratelimit/ratelimit_rule.c: rules files, admin API
 * bodies, database rows) and the client-address logic (ratelimit_ip.c: X-Forwarded-For from
 * the network, trusted-proxy lists). Input starting with 'X': three lines, trusted proxies,
 * peer, X-Forwarded-For; anything else: a rules document (JSON under the file's limits).
 * Checks: an accepted set serialises, parses back to the identical canonical JSON, and every
 * rule's description fits; rate strings inside the input are parsed too; the client address
 * is always a printable address or "-".
 */
#include "core/json.h"
#include "ratelimit/ratelimit_ip.h"
#include "ratelimit/ratelimit_rule.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void xff_mode(const uint8_t *data, size_t size)
{
    char buf[4096];
    size_t n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;
    memcpy(buf, data, n);
    buf[n] = '\0';
    char *lines[3] = {buf, NULL, NULL};
    for (int i = 1; i < 3; i++) {
        char *nl = lines[i - 1] ? strchr(lines[i - 1], '\n') : NULL;
        if (nl) {
            *nl = '\0';
            lines[i] = nl + 1;
        }
    }
    struct gw_rl_cidrs t;
    if (gw_rl_cidrs_parse(lines[0], &t, NULL) != 0)
        memset(&t, 0, sizeof(t));
    char ip[64];
    gw_rl_client_ip(&t, lines[1] ? lines[1] : "-", lines[2], ip, sizeof(ip));
    for (const char *p = ip; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == ':' || *p == '.' ||
              *p == '-'))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size && data[0] == 'X') {
        xff_mode(data + 1, size - 1);
        return 0;
    }
    struct gw_json_limits lim = {1u << 20, 32};
    json_t *doc = gw_json_parse((const char *)data, size, &lim, NULL);
    if (!doc)
        return 0;
    struct gw_rl_ruleset *rs = NULL;
    if (gw_rl_ruleset_parse(doc, "fuzz", &rs, NULL) == 0) {
        json_t *a = gw_rl_ruleset_json(rs);
        struct gw_rl_ruleset *rs2 = NULL;
        if (gw_rl_ruleset_parse(a, "fuzz", &rs2, NULL) != 0)
            abort(); /* the canonical form must always parse back */
        json_t *b = gw_rl_ruleset_json(rs2);
        if (!json_equal(a, b))
            abort();
        for (size_t i = 0; i < gw_rl_ruleset_count(rs); i++) {
            char d[300];
            gw_rl_rule_describe(gw_rl_ruleset_at(rs, i), d, sizeof(d));
            if (strlen(d) >= sizeof(d))
                abort();
        }
        json_decref(a);
        json_decref(b);
        gw_rl_ruleset_unref(rs2);
        gw_rl_ruleset_unref(rs);
    }
    /* rate strings wherever they appear at the top level or in rules */
    json_t *arr = json_is_array(doc) ? doc : json_object_get(doc, "rules");
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r) {
        const char *rate = json_string_value(json_object_get(r, "rate"));
        uint64_t lim2, per;
        if (rate)
            gw_rl_rate_parse(rate, &lim2, &per, NULL);
    }
    json_decref(doc);
    return 0;
}
