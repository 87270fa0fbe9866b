/*
 * src/admin/admin_route.c
 * The URL grammar of the admin API: which endpoint a path names, and the validation of the
 * names it carries and of If-Match. Pure functions (no I/O, no allocation), unit-tested
 * directly.
 *
 *   /admin/api/health
 *   /admin/api/tools[/{name}[/history|/activate|/disable|/deprecate|/draft]]
 *   /admin/api/bundles[/{name}]
 *   /admin/api/specs[/{id}[/reimport]]
 *   /admin/api/imports[/preview]
 *   /admin/api/whoami, /admin/api/auth/config
 *   /admin/api/keys[/{id}]
 *   /admin/api/governance, /admin/api/exposure/rules[/{id}], /admin/api/exposure/preview,
 *   /admin/api/policies[/{id}|/test], /admin/api/roles[/{name}]
 *   /admin/api/approvals[/{id}[/approve|/deny]]
 *   /admin/api/settings
 *   /admin/api/limits[/{id}]
 *   /admin/api/metrics/summary
 *
 * Names are matched after the server's percent-decoding: a name can never contain '/' (it is a
 * segment separator) nor anything outside [A-Za-z0-9_.-], so a decoded name is checked as is.
 */
#include "admin/admin_internal.h"

#include "core/str.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define MAX_SEGS 4

bool gw_admin__valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > GW_STORE_NAME_MAX)
        return false;
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

/* Copies segment `s` into m->name after validating it as the `what` of the path. */
static int take_name(struct admin_match *m, struct gw_str s, const char *what,
                     struct gw_error *err)
{
    if (s.n > GW_STORE_NAME_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "%s in the path is longer than %d characters", what,
                            GW_STORE_NAME_MAX);
    memcpy(m->name, s.p, s.n);
    m->name[s.n] = '\0';
    if (!gw_admin__valid_name(m->name)) {
        m->name[0] = '\0';
        return GW_ERROR_SET(err, GW_EINVAL,
                            "invalid %s in the path: expected 1-%d characters of A-Z a-z 0-9 "
                            "_ . - (not \".\" or \"..\")",
                            what, GW_STORE_NAME_MAX);
    }
    return GW_OK;
}

static const char *action_status(struct gw_str a)
{
    if (gw_str_eq_c(a, "activate"))
        return "active";
    if (gw_str_eq_c(a, "disable"))
        return "disabled";
    if (gw_str_eq_c(a, "deprecate"))
        return "deprecated";
    if (gw_str_eq_c(a, "draft"))
        return "draft";
    return NULL;
}

int gw_admin__route(const char *path, struct admin_match *m, struct gw_error *err)
{
    memset(m, 0, sizeof(*m));
    size_t plen = strlen(ADMIN_PREFIX);
    if (!path || strncmp(path, ADMIN_PREFIX, plen) != 0)
        return GW_ENOTFOUND;
    const char *p = path + plen;
    size_t n = strlen(p);
    if (n && p[n - 1] == '/')
        n--; /* one trailing slash */
    if (n && p[n - 1] == '/')
        return GW_ENOTFOUND;
    struct gw_str seg[MAX_SEGS];
    int nseg = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != '/')
            j++;
        if (j == i || nseg == MAX_SEGS)
            return GW_ENOTFOUND; /* empty segment ("//") or too deep */
        seg[nseg++] = (struct gw_str){p + i, j - i};
        i = j + 1;
    }
    if (nseg == 0)
        return GW_ENOTFOUND;

    if (gw_str_eq_c(seg[0], "health") && nseg == 1) {
        m->route = AR_HEALTH;
    } else if (gw_str_eq_c(seg[0], "tools")) {
        if (nseg == 1) {
            m->route = AR_TOOLS;
            return GW_OK;
        }
        if (nseg > 3)
            return GW_ENOTFOUND;
        if (nseg == 3) {
            m->status = action_status(seg[2]);
            if (gw_str_eq_c(seg[2], "history"))
                m->route = AR_TOOL_HISTORY;
            else if (gw_str_eq_c(seg[2], "rename"))
                m->route = AR_TOOL_RENAME;
            else if (m->status)
                m->route = AR_TOOL_ACTION;
            else
                return GW_ENOTFOUND;
        } else {
            m->route = AR_TOOL;
        }
        return take_name(m, seg[1], "tool name", err);
    } else if (gw_str_eq_c(seg[0], "bundles") && nseg <= 2) {
        m->route = nseg == 1 ? AR_BUNDLES : AR_BUNDLE;
        return nseg == 1 ? GW_OK : take_name(m, seg[1], "bundle name", err);
    } else if (gw_str_eq_c(seg[0], "specs") && nseg <= 3) {
        if (nseg == 1) {
            m->route = AR_SPECS;
            return GW_OK;
        }
        if (nseg == 3 && !gw_str_eq_c(seg[2], "reimport"))
            return GW_ENOTFOUND;
        m->route = nseg == 3 ? AR_SPEC_REIMPORT : AR_SPEC;
        return take_name(m, seg[1], "spec id", err);
    } else if (gw_str_eq_c(seg[0], "audit") && nseg == 1) {
        m->route = AR_AUDIT_LIST;
    } else if (gw_str_eq_c(seg[0], "audit") && nseg == 2) {
        m->route = AR_AUDIT; /* /audit/{id|chain|logs|verify|export|search|proof|checkpoint|keys} */
        return take_name(m, seg[1], "audit record id", err);
    } else if (gw_str_eq_c(seg[0], "audit") && nseg == 3 && gw_str_eq_c(seg[2], "proof")) {
        m->route = AR_AUDIT_PROOF;
        return take_name(m, seg[1], "audit record id", err);
    } else if (gw_str_eq_c(seg[0], "whoami") && nseg == 1) {
        m->route = AR_WHOAMI;
    } else if (gw_str_eq_c(seg[0], "auth") && nseg == 2 && gw_str_eq_c(seg[1], "config")) {
        m->route = AR_AUTH_CONFIG;
    } else if (gw_str_eq_c(seg[0], "governance") && nseg == 1) {
        m->route = AR_GOVERNANCE;
    } else if (gw_str_eq_c(seg[0], "exposure") && nseg >= 2 && gw_str_eq_c(seg[1], "preview") &&
               nseg == 2) {
        m->route = AR_EXPOSURE_PREVIEW;
    } else if (gw_str_eq_c(seg[0], "exposure") && nseg >= 2 && nseg <= 3 &&
               gw_str_eq_c(seg[1], "rules")) {
        m->route = nseg == 2 ? AR_EXPOSURE_RULES : AR_EXPOSURE_RULE;
        return nseg == 2 ? GW_OK : take_name(m, seg[2], "rule id", err);
    } else if (gw_str_eq_c(seg[0], "policies") && nseg == 2 && gw_str_eq_c(seg[1], "test")) {
        m->route = AR_POLICY_TEST;
    } else if (gw_str_eq_c(seg[0], "policies") && nseg <= 2) {
        m->route = nseg == 1 ? AR_POLICIES : AR_POLICY;
        return nseg == 1 ? GW_OK : take_name(m, seg[1], "policy id", err);
    } else if (gw_str_eq_c(seg[0], "approvals") && nseg <= 3) {
        if (nseg == 1) {
            m->route = AR_APPROVALS;
            return GW_OK;
        }
        if (nseg == 3) {
            if (gw_str_eq_c(seg[2], "approve"))
                m->status = "approve";
            else if (gw_str_eq_c(seg[2], "deny"))
                m->status = "deny";
            else
                return GW_ENOTFOUND;
        }
        m->route = nseg == 3 ? AR_APPROVAL_ACTION : AR_APPROVAL;
        return take_name(m, seg[1], "approval id", err);
    } else if (gw_str_eq_c(seg[0], "roles") && nseg <= 2) {
        m->route = nseg == 1 ? AR_ROLES : AR_ROLE;
        return nseg == 1 ? GW_OK : take_name(m, seg[1], "role name", err);
    } else if (gw_str_eq_c(seg[0], "keys") && nseg <= 2) {
        m->route = nseg == 1 ? AR_KEYS : AR_KEY;
        return nseg == 1 ? GW_OK : take_name(m, seg[1], "key id", err);
    } else if (gw_str_eq_c(seg[0], "settings") && nseg == 1) {
        m->route = AR_SETTINGS;
    } else if (gw_str_eq_c(seg[0], "limits") && nseg <= 2) {
        m->route = nseg == 1 ? AR_LIMITS : AR_LIMIT;
        return nseg == 1 ? GW_OK : take_name(m, seg[1], "rule id", err);
    } else if (gw_str_eq_c(seg[0], "metrics") && nseg == 2 && gw_str_eq_c(seg[1], "summary")) {
        m->route = AR_METRICS_SUMMARY;
    } else if (gw_str_eq_c(seg[0], "imports") && nseg == 1) {
        m->route = AR_IMPORTS;
    } else if (gw_str_eq_c(seg[0], "imports") && nseg == 2 && gw_str_eq_c(seg[1], "preview")) {
        m->route = AR_IMPORT_PREVIEW;
    } else {
        return GW_ENOTFOUND;
    }
    return GW_OK;
}

bool gw_admin__peer_is_loopback(const char *peer)
{
    enum gw_ssrf_class c;
    return peer && gw_ssrf_classify_text(peer, &c) == GW_OK && c == GW_SSRF_LOOPBACK;
}

int gw_admin__parse_if_match(const char *v, long long *out_version, struct gw_error *err)
{
    *out_version = 0;
    struct gw_str s = gw_str_trim(gw_str_c(v));
    if (gw_str_eq_c(s, "*"))
        return GW_OK;
    if (s.n >= 2 && s.p[0] == 'W' && s.p[1] == '/') {
        s.p += 2;
        s.n -= 2;
    }
    if (s.n >= 2 && s.p[0] == '"' && s.p[s.n - 1] == '"') {
        s.p++;
        s.n -= 2;
    }
    unsigned long long u = 0;
    if (s.n == 0 || s.n > 18 || gw_str_to_u64(s, &u) != GW_OK || u == 0 || u > LLONG_MAX)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "If-Match must be one tool version as returned in ETag (e.g. "
                            "\"3\") or *");
    *out_version = (long long)u;
    return GW_OK;
}
