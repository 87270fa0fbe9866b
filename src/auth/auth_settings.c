/*
 * src/auth/auth_settings.c
 * The authentication settings (GW_AUTH_*, GW_OIDC_*, GW_STDIO_*, the admin API's sign-in)
 * and the configuration built from them. Everything is checked here, at start-up, so that a
 * typo fails the start instead of silently weakening authentication.
 */
#include "auth/auth_internal.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const struct gw_setting_def gw_auth_settings[] = {
    {"GW_AUTH_MODE", GW_SET_ENUM, "required", 0, 0, "required|optional|off", "Authentication",
     "`required`: every MCP request needs a valid credential (401 otherwise). `optional`: a "
     "valid credential identifies the caller, none means anonymous, an invalid one is still "
     "refused. `off`: everyone is anonymous (development only; a warning is logged when the "
     "gateway listens beyond loopback)."},
    {"GW_PUBLIC_URL", GW_SET_STRING, "", 0, 0, NULL, "Authentication",
     "The gateway's canonical base URL as clients reach it (scheme://host[:port], no path), "
     "e.g. `https://mcp.msil.example`. The MCP resource is this plus `/mcp`: tokens must carry "
     "it as audience (RFC 8707) and the protected-resource metadata names it. Empty: "
     "`http://<GW_LISTEN>`."},
    {"GW_OIDC_ISSUER", GW_SET_STRING, "", 0, 0, NULL, "Authentication",
     "Issuer URL of the OpenID provider whose access tokens are accepted (exact `iss`). Its "
     "keys come from discovery (`/.well-known/openid-configuration`, or "
     "`/.well-known/oauth-authorization-server`) unless GW_OIDC_JWKS_URI is set. Empty: no "
     "OIDC tokens (API keys only)."},
    {"GW_OIDC_JWKS_URI", GW_SET_STRING, "", 0, 0, NULL, "Authentication",
     "The provider's JWKS URL, instead of the one discovery announces."},
    {"GW_OIDC_AUDIENCE", GW_SET_STRING, "", 0, 0, NULL, "Authentication",
     "Accepted token audiences (comma-separated). Empty: exactly the MCP resource "
     "(GW_PUBLIC_URL + `/mcp`), as the MCP authorization spec requires."},
    {"GW_OIDC_ALGORITHMS", GW_SET_STRING, "RS256,PS256,ES256,EdDSA", 0, 0, NULL,
     "Authentication",
     "Signature algorithms accepted (from RS256, RS384, RS512, PS256, PS384, PS512, ES256, "
     "ES384, EdDSA). `none` and HMAC algorithms are never accepted."},
    {"GW_OIDC_CLOCK_SKEW_SECONDS", GW_SET_INT, "60", 0, 600, NULL, "Authentication",
     "Clock difference tolerated on exp, nbf and iat."},
    {"GW_OIDC_ROLES_CLAIMS", GW_SET_STRING, "roles,groups,realm_access.roles", 0, 0, NULL,
     "Authentication",
     "Claim paths (dotted) whose values become the caller's roles; values may be arrays of "
     "strings or space/comma separated strings. A token with more than 64 roles is refused."},
    {"GW_OIDC_CLIENT_ID_CLAIMS", GW_SET_STRING, "azp,client_id,cid", 0, 0, NULL,
     "Authentication", "Claims naming the client application (the first present wins)."},
    {"GW_OIDC_TENANT_CLAIMS", GW_SET_STRING, "tenant,tid", 0, 0, NULL, "Authentication",
     "Claims naming the caller's tenant (the first present wins)."},
    {"GW_OIDC_SCOPES", GW_SET_STRING, "openid mcp:tools", 0, 0, NULL, "Authentication",
     "Scopes the gateway advertises (scopes_supported) and asks for in 401 challenges."},
    {"GW_OIDC_REQUIRED_SCOPES", GW_SET_STRING, "", 0, 0, NULL, "Authentication",
     "Scopes every token must carry (space/comma-separated); a token without them gets 403 "
     "insufficient_scope. They are also advertised and asked for in 401 challenges (added to "
     "GW_OIDC_SCOPES). Empty: none."},
    {"GW_OIDC_JWKS_REFRESH_SECONDS", GW_SET_INT, "3600", 60, 86400, NULL, "Authentication",
     "How often the provider's keys are refetched in the background."},
    {"GW_OIDC_JWKS_MIN_REFETCH_SECONDS", GW_SET_INT, "30", 1, 3600, NULL, "Authentication",
     "A token with an unknown key id triggers a refetch at most this often (a flood of forged "
     "key ids cannot hammer the provider); while no keys could be fetched at all, requests "
     "fail at once (503) between fetches instead of each asking the provider again."},
    {"GW_OIDC_FETCH_TIMEOUT_MS", GW_SET_INT, "5000", 100, 60000, NULL, "Authentication",
     "Time limit of one discovery or JWKS request; requests waiting for keys fail closed after "
     "it."},
    {"GW_OIDC_ALLOW_HTTP", GW_SET_BOOL, "false", 0, 0, NULL, "Authentication",
     "Accept plain-http issuer and JWKS URLs for non-loopback hosts (never in production; "
     "loopback http is always accepted, for development)."},
    {"GW_AUTH_MAX_TOKEN_BYTES", GW_SET_INT, "8192", 512, 65536, NULL, "Authentication",
     "Longest bearer token accepted."},
    {"GW_AUTH_TOKEN_CACHE_ENTRIES", GW_SET_INT, "16384", 64, 1048576, NULL, "Authentication",
     "Verified tokens remembered (until they expire) so a call does not pay for a signature "
     "check each time."},
    {"GW_STDIO_SUBJECT", GW_SET_STRING, "local", 0, 0, NULL, "Authentication",
     "The principal `mcpgw stdio` runs as (a desktop client on this machine)."},
    {"GW_STDIO_ROLES", GW_SET_STRING, "", 0, 0, NULL, "Authentication",
     "Roles of the stdio principal (comma-separated)."},
    {"GW_ADMIN_ROLE", GW_SET_STRING, "admin", 0, 0, NULL, "Authentication",
     "The role (from token claims or an API key) that grants the admin API."},
    {"GW_ADMIN_DEV_MODE", GW_SET_BOOL, "false", 0, 0, NULL, "Authentication",
     "Let requests without credentials use the admin API as a development administrator, "
     "only when the admin listener is on loopback. Never in production."},
    {"GW_ADMIN_OIDC_CLIENT_ID", GW_SET_STRING, "", 0, 0, NULL, "Authentication",
     "The OAuth client id the admin and chat UIs sign in with (authorization code + PKCE at "
     "GW_OIDC_ISSUER)."},
    GW_SETTINGS_END};

void gw_auth__list_fini(struct auth_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        gw_free(l->items[i]);
    l->n = 0;
}

int gw_auth__list(const char *text, struct auth_list *l, struct gw_error *err)
{
    l->n = 0;
    const char *p = text ? text : "";
    while (*p) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (!n)
            break;
        if (l->n >= AUTH_LIST_MAX) {
            gw_auth__list_fini(l);
            return GW_ERROR_SET(err, GW_ELIMIT, "more than %d entries in '%.60s'",
                                AUTH_LIST_MAX, text);
        }
        l->items[l->n++] = gw_xstrndup(p, n);
        p += n;
    }
    return GW_OK;
}

/* An http(s) URL without trailing slash; http only when allowed. */
static int check_url(const char *name, const char *url, bool allow_path, struct gw_error *err)
{
    if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
        return GW_ERROR_SET(err, GW_EINVAL, "%s must be an http(s) URL, got '%.80s'", name, url);
    const char *host = strstr(url, "://") + 3;
    if (!*host || *host == '/')
        return GW_ERROR_SET(err, GW_EINVAL, "%s has no host: '%.80s'", name, url);
    if (!allow_path && strchr(host, '/'))
        return GW_ERROR_SET(err, GW_EINVAL, "%s must not have a path: '%.80s'", name, url);
    if (strpbrk(url, " \"\\<>"))
        return GW_ERROR_SET(err, GW_EINVAL, "%s contains characters not allowed in a URL", name);
    return GW_OK;
}

int gw_auth__config(const struct gw_settings *s, const char *public_url, struct auth_config *cfg,
                    struct gw_error *err)
{
    memset(cfg, 0, sizeof(*cfg));
    const char *mode = gw_settings_str(s, "GW_AUTH_MODE");
    cfg->mode = strcmp(mode, "off") == 0        ? GW_AUTHMODE_OFF
                : strcmp(mode, "optional") == 0 ? GW_AUTHMODE_OPTIONAL
                                                : GW_AUTHMODE_REQUIRED;
    const char *pub = gw_settings_str(s, "GW_PUBLIC_URL");
    if (!pub || !*pub)
        pub = public_url;
    snprintf(cfg->public_url, sizeof(cfg->public_url), "%s", pub ? pub : "");
    size_t n = strlen(cfg->public_url);
    while (n && cfg->public_url[n - 1] == '/')
        cfg->public_url[--n] = '\0';
    int rc = check_url("GW_PUBLIC_URL", cfg->public_url, false, err);
    if (rc != GW_OK)
        return rc;
    /* the canonical form: lowercase scheme and host */
    for (char *p = cfg->public_url; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    snprintf(cfg->resource, sizeof(cfg->resource), "%s/mcp", cfg->public_url);
    snprintf(cfg->metadata_url, sizeof(cfg->metadata_url),
             "%s/.well-known/oauth-protected-resource/mcp", cfg->public_url);
    snprintf(cfg->issuer, sizeof(cfg->issuer), "%s", gw_settings_str(s, "GW_OIDC_ISSUER"));
    snprintf(cfg->jwks_uri, sizeof(cfg->jwks_uri), "%s", gw_settings_str(s, "GW_OIDC_JWKS_URI"));
    if (cfg->issuer[0] && (rc = check_url("GW_OIDC_ISSUER", cfg->issuer, true, err)) != GW_OK)
        return rc;
    if (cfg->jwks_uri[0] &&
        (rc = check_url("GW_OIDC_JWKS_URI", cfg->jwks_uri, true, err)) != GW_OK)
        return rc;
    if (cfg->jwks_uri[0] && !cfg->issuer[0])
        return GW_ERROR_SET(err, GW_EINVAL, "GW_OIDC_JWKS_URI is set but GW_OIDC_ISSUER is not "
                                            "(tokens are checked against the issuer)");
    struct auth_list *lists[] = {&cfg->audiences,    &cfg->roles_claims, &cfg->client_claims,
                                 &cfg->tenant_claims, &cfg->scopes,       &cfg->required_scopes};
    const char *names[] = {"GW_OIDC_AUDIENCE",       "GW_OIDC_ROLES_CLAIMS",
                           "GW_OIDC_CLIENT_ID_CLAIMS", "GW_OIDC_TENANT_CLAIMS",
                           "GW_OIDC_SCOPES",          "GW_OIDC_REQUIRED_SCOPES"};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if ((rc = gw_auth__list(gw_settings_str(s, names[i]), lists[i], err)) != GW_OK) {
            gw_auth__config_fini(cfg);
            return rc;
        }
    }
    if (cfg->audiences.n == 0)
        cfg->audiences.items[cfg->audiences.n++] = gw_xstrdup(cfg->resource);
    /* required scopes are advertised and asked for in 401 challenges too: a client that
     * requests what the challenge names (MCP scope selection) gets a token that passes */
    for (size_t i = 0; i < cfg->required_scopes.n; i++) {
        bool have = false;
        for (size_t j = 0; j < cfg->scopes.n && !have; j++)
            have = strcmp(cfg->scopes.items[j], cfg->required_scopes.items[i]) == 0;
        if (have)
            continue;
        if (cfg->scopes.n >= AUTH_LIST_MAX) {
            gw_auth__config_fini(cfg);
            return GW_ERROR_SET(err, GW_ELIMIT, "GW_OIDC_SCOPES and GW_OIDC_REQUIRED_SCOPES name "
                                                "more than %d scopes together",
                                AUTH_LIST_MAX);
        }
        cfg->scopes.items[cfg->scopes.n++] = gw_xstrdup(cfg->required_scopes.items[i]);
    }
    if ((rc = gw_jwt_algs_parse(gw_settings_str(s, "GW_OIDC_ALGORITHMS"), &cfg->algs, err)) !=
        GW_OK) {
        gw_auth__config_fini(cfg);
        return rc;
    }
    cfg->skew_s = gw_settings_int(s, "GW_OIDC_CLOCK_SKEW_SECONDS");
    cfg->max_token_bytes = (size_t)gw_settings_int(s, "GW_AUTH_MAX_TOKEN_BYTES");
    cfg->jwks_refresh_s = (int)gw_settings_int(s, "GW_OIDC_JWKS_REFRESH_SECONDS");
    cfg->jwks_min_refetch_s = (int)gw_settings_int(s, "GW_OIDC_JWKS_MIN_REFETCH_SECONDS");
    cfg->fetch_timeout_ms = (int)gw_settings_int(s, "GW_OIDC_FETCH_TIMEOUT_MS");
    cfg->allow_http = gw_settings_bool(s, "GW_OIDC_ALLOW_HTTP");
    cfg->cache_entries = (size_t)gw_settings_int(s, "GW_AUTH_TOKEN_CACHE_ENTRIES");
    snprintf(cfg->admin_role, sizeof(cfg->admin_role), "%s", gw_settings_str(s, "GW_ADMIN_ROLE"));
    cfg->admin_dev = gw_settings_bool(s, "GW_ADMIN_DEV_MODE");
    snprintf(cfg->admin_client_id, sizeof(cfg->admin_client_id), "%s",
             gw_settings_str(s, "GW_ADMIN_OIDC_CLIENT_ID"));
    snprintf(cfg->resource_name, sizeof(cfg->resource_name), "MSIL MCP Gateway");
    if (!cfg->admin_role[0]) {
        gw_auth__config_fini(cfg);
        return GW_ERROR_SET(err, GW_EINVAL, "GW_ADMIN_ROLE must not be empty");
    }
    return GW_OK;
}

void gw_auth__config_fini(struct auth_config *cfg)
{
    gw_auth__list_fini(&cfg->audiences);
    gw_auth__list_fini(&cfg->roles_claims);
    gw_auth__list_fini(&cfg->client_claims);
    gw_auth__list_fini(&cfg->tenant_claims);
    gw_auth__list_fini(&cfg->scopes);
    gw_auth__list_fini(&cfg->required_scopes);
}
