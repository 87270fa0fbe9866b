/*
 * src/auth/auth.h
 * Authentication of every caller: the gateway's authenticator (struct gw_authn of ctx/ctx.h).
 *
 * Credentials, all from the Authorization header only (never the query string, never
 * forwarded upstream):
 *   Bearer <JWT>         an OIDC/OAuth access token from the configured provider: signature
 *                        (JWKS from discovery or a configured URI, fetched asynchronously and
 *                        cached, refetched on an unknown key id at most once per interval),
 *                        issuer, audience = this gateway's resource (RFC 8707), expiry; claims
 *                        mapped to the principal (roles/groups from configurable claim paths);
 *                        verified tokens cached until they expire;
 *   Bearer mcpgw_<id>_<secret>   an API key of a service client (stored hashed, in memory).
 * Modes (GW_AUTH_MODE): required (the default: no credential -> 401), optional (a valid
 * credential identifies, none -> anonymous, a bad one -> 401), off (everyone anonymous).
 * The stdio transport runs as the configured local principal. The admin API accepts a
 * credential with the admin role, or (GW_ADMIN_DEV_MODE on a loopback listener) none.
 * Refusals carry a WWW-Authenticate challenge per RFC 6750 / RFC 9728 (resource_metadata,
 * scope, error, error_description); the protected-resource metadata is served at
 * /.well-known/oauth-protected-resource[/mcp] (gw_auth_routes).
 * Threading: authenticate runs on worker loops and never blocks: key sets and the API key
 * table are immutable snapshots swapped atomically; one background thread fetches provider
 * metadata and keys, reloads API keys and writes their last-used times; requests waiting for
 * keys are resumed on their own loop.
 */
#ifndef GW_AUTH_AUTH_H
#define GW_AUTH_AUTH_H

#include "core/err.h"
#include "core/settings.h"
#include "ctx/ctx.h"

#include <stdbool.h>
#include <stdint.h>

struct gw_auth;
struct gw_server;
struct gw_store;

extern const struct gw_setting_def gw_auth_settings[];

enum gw_auth_mode { GW_AUTHMODE_REQUIRED, GW_AUTHMODE_OPTIONAL, GW_AUTHMODE_OFF };

/* Creates the authenticator from the GW_AUTH_*, GW_OIDC_*, GW_STDIO_* and GW_ADMIN_* settings
 * (the table must be registered), `public_url` (the gateway's canonical base URL, e.g.
 * "https://mcp.example.com"; the resource is public_url + "/mcp") and the store URL used for
 * API keys (NULL: no API keys). Loads the API keys (blocks on the database once) and starts
 * the background thread, which begins fetching the provider's keys at once (not waited for).
 * GW_OK with *out, or GW_EINVAL/GW_EIO with err (bad settings, unreachable database). */
int gw_auth_new(const struct gw_settings *s, const char *public_url, const char *store_url,
                struct gw_auth **out, struct gw_error *err);
/* The same for a gateway that may start while its database is unreachable (the app's lazy
 * start, GW_DB_MIGRATE_ON_START=false): then API keys are refused (fail closed) until a reload
 * loads them (the background thread tries once; then gw_auth_reload, which the app calls when
 * the registry loads its first snapshot). */
int gw_auth_new_lazy(const struct gw_settings *s, const char *public_url, const char *store_url,
                     struct gw_auth **out, struct gw_error *err);
/* Stops the background thread (writing pending last-used times) and frees. Call after the
 * servers stopped. Accepts NULL. */
void gw_auth_free(struct gw_auth *a);

/* The authenticator to register with the protocol server and the admin API. */
struct gw_authn gw_auth_authn(struct gw_auth *a);

/* Serves the RFC 9728 metadata on `http` (before it starts). */
void gw_auth_routes(struct gw_auth *a, struct gw_server *http);

/* The API keys or anything else that decides who can authenticate changed in the store:
 * reload soon (on the background thread). Any thread; does not block. */
void gw_auth_reload(struct gw_auth *a);
/* The same, and waits (at most timeout_ms) until the reload is done, so that a key created or
 * revoked before the call is accepted or refused from the caller's next request on. Blocks:
 * never call it on an event loop. GW_OK, or GW_ETIMEOUT (the reload goes on). */
int gw_auth_reload_wait(struct gw_auth *a, int timeout_ms);

/* The step-up challenge (RFC 6750 insufficient_scope + RFC 9728 resource_metadata) for a call
 * that needs `scope`: the WWW-Authenticate value into out. `auth` is a struct gw_auth * (the
 * signature fits governance's challenge hook). */
void gw_auth_step_up(void *auth, const char *scope, const char *description, char *out,
                     size_t size);

enum gw_auth_mode gw_auth_mode(const struct gw_auth *a);
/* The role that grants the admin API (GW_ADMIN_ROLE). */
const char *gw_auth_admin_role(const struct gw_auth *a);
/* {"mode" (the admin API's: "required", or "optional" in loopback dev mode), "mcp_mode" (the
 * data plane's GW_AUTH_MODE), "resource","resource_metadata","oidc":{"issuer","client_id",
 * "scopes","resource"}|null, "api_keys":true, "dev_mode"}: what a sign-in page needs
 * (GET /admin/api/auth/config). New reference. */
json_t *gw_auth_public_config(const struct gw_auth *a);

/* ---- API keys (also used by the CLI, which has no gw_auth) ---- */

#define GW_APIKEY_PREFIX "mcpgw_"
#define GW_APIKEY_MAX 96

/* Makes a new key: *out_key receives the full key string (shown once; GW_APIKEY_MAX bytes),
 * *out_id its public id, *out_hash the hex SHA-256 to store. Never fails (aborts if the
 * system's random generator does). */
void gw_apikey_generate(char out_key[GW_APIKEY_MAX], char out_id[24], char out_hash[65]);
/* Creates and stores a key for `spec` ({"name","subject","roles"?,"client_id"?,"tenant"?,
 * "expires_at"? (ISO time or seconds from now as "ttl_seconds")}); *out gets the stored record
 * plus "key" (the only time it is shown). GW_OK, GW_EINVAL, GW_EIO. Blocks. */
int gw_apikey_create(struct gw_store *st, const json_t *spec, const char *actor, json_t **out,
                     struct gw_error *err);

/* ---- statistics (pull model, for metrics) ---- */

struct gw_auth_stats {
    uint64_t accepted, refused;            /* authentications */
    uint64_t cache_hits, cache_misses;     /* verified-token cache */
    uint64_t jwks_fetches, jwks_failures;  /* key set downloads */
    uint64_t jwks_waits;                   /* requests that waited for keys */
    uint64_t apikey_accepted, apikey_refused;
    int64_t jwks_age_s;                    /* seconds since the current key set arrived; -1 none */
    size_t apikeys;                        /* live keys loaded */
};
void gw_auth_stats(const struct gw_auth *a, struct gw_auth_stats *out);

#endif
