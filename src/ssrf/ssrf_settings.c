/*
 * src/ssrf/ssrf_settings.c
 * Declarative settings of the SSRF guard (GW_SSRF_*) and the policy built from them.
 * The table is registered by the app; docs/configuration.md is generated from it.
 */
#include "ssrf/ssrf.h"

const struct gw_setting_def gw_ssrf_settings[] = {
    {"GW_SSRF_ALLOWLIST", GW_SET_STRING, "", 0, 0, NULL, "Outbound fetch guard (SSRF)",
     "Non-public destinations that outbound fetches (spec URLs, remote $ref documents) may "
     "reach: host names, *.domain wildcards, IP addresses and CIDRs, separated by commas. "
     "Everything that is not a public address is refused unless listed here."},
    {"GW_SSRF_MAX_REDIRECTS", GW_SET_INT, "5", 0, 20, NULL, "Outbound fetch guard (SSRF)",
     "Redirects followed by a fetch; each hop is checked again."},
    {"GW_SSRF_MAX_BYTES", GW_SET_INT, "67108864", 1024, 1073741824, NULL,
     "Outbound fetch guard (SSRF)",
     "Largest response body a fetch accepts, in bytes; the transfer stops when exceeded."},
    {"GW_SSRF_TIMEOUT_MS", GW_SET_INT, "30000", 100, 600000, NULL, "Outbound fetch guard (SSRF)",
     "Total time a fetch may take, all redirects included, in milliseconds."},
    {"GW_SSRF_HTTPS_ONLY", GW_SET_BOOL, "false", 0, 0, NULL, "Outbound fetch guard (SSRF)",
     "Refuse plain http:// URLs in outbound fetches."},
    GW_SETTINGS_END};

int gw_ssrf_policy_from_settings(const struct gw_settings *s, struct gw_ssrf_policy **out,
                                 struct gw_error *err)
{
    struct gw_ssrf_policy *p = gw_ssrf_policy_new();
    int rc = gw_ssrf_policy_allow_list(p, gw_settings_str(s, "GW_SSRF_ALLOWLIST"), err);
    if (rc != GW_OK) {
        gw_ssrf_policy_free(p);
        return rc;
    }
    gw_ssrf_policy_set_limits(p, (unsigned)gw_settings_int(s, "GW_SSRF_MAX_REDIRECTS"),
                              (size_t)gw_settings_int(s, "GW_SSRF_MAX_BYTES"),
                              (long)gw_settings_int(s, "GW_SSRF_TIMEOUT_MS"));
    gw_ssrf_policy_set_https_only(p, gw_settings_bool(s, "GW_SSRF_HTTPS_ONLY"));
    *out = p;
    return GW_OK;
}
