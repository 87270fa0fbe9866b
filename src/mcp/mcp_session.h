/*
 * src/mcp/mcp_session.h
 * Legacy-era sessions (Mcp-Session-Id) that any replica can validate without shared state.
 *
 * The session id is a signed token: base64url(payload || HMAC-SHA256(secret, payload)[0..16])
 * where payload = format(1) | protocol version(1) | client capability bits(1) | issued-at
 * seconds(8, big endian) | random nonce(12), and the MAC also covers the binding of the
 * principal that initialized the session (struct gw_principal.binding; "" without
 * authentication): the same id presented with another identity does not verify, so a leaked
 * session id is useless to anyone else. Every replica configured with the same secret
 * (GW_SESSION_SECRET) validates it; expiry is issued-at + TTL. Ids use only [A-Za-z0-9_-]
 * (visible ASCII as the spec requires) and are unguessable (the nonce and the MAC).
 * Mutable per-session state (log level, resource subscriptions, DELETE = terminated) lives in a
 * process-local table; terminated ids are remembered until they would expire anyway.
 * Thread-safe (one mutex around the table; token checks take no lock unless the table is read).
 */
#ifndef GW_MCP_SESSION_H
#define GW_MCP_SESSION_H

#include "core/err.h"
#include "mcp/mcp_version.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define GW_SESSION_ID_MAX 64

enum {
    GW_CAP_SAMPLING = 1,
    GW_CAP_ELICITATION = 2,
    GW_CAP_ROOTS = 4,
    GW_CAP_ELICITATION_URL = 8
};

struct gw_sessions;

struct gw_session_claims {
    enum gw_mcp_version version;
    uint8_t caps;
    uint64_t issued_at;
    char id[GW_SESSION_ID_MAX];
};

/* `secret` may be NULL/empty: a random one is generated (sessions then do not survive a
 * restart nor cross replicas; a warning is logged by the caller). */
struct gw_sessions *gw_sessions_new(const char *secret, unsigned ttl_seconds);
void gw_sessions_free(struct gw_sessions *s);

/* Issues a new session id for a negotiated version and client capability bits, bound to the
 * principal binding `binding` (NULL or "" = unbound). */
void gw_session_issue(struct gw_sessions *s, enum gw_mcp_version v, uint8_t caps,
                      const char *binding, struct gw_session_claims *out);

/* Verifies `id` as presented by the principal with `binding`: GW_OK (claims filled),
 * GW_ENOTFOUND (malformed, forged, expired, terminated, or bound to another principal: the
 * client must re-initialize; HTTP 404). */
int gw_session_verify(struct gw_sessions *s, const char *id, const char *binding,
                      struct gw_session_claims *out);

/* Terminates a session (DELETE) presented by `binding`. GW_OK, or GW_ENOTFOUND when not a
 * valid live session of that principal. */
int gw_session_terminate(struct gw_sessions *s, const char *id, const char *binding);

/* Per-session mutable state (process-local). Log level as an index into the RFC 5424 levels
 * (0 = debug … 7 = emergency); -1 = not set (no log notifications for this session). */
int gw_session_log_level(struct gw_sessions *s, const char *id);
void gw_session_set_log_level(struct gw_sessions *s, const char *id, int level);
void gw_session_subscribe(struct gw_sessions *s, const char *id, const char *uri, bool on);
bool gw_session_subscribed(struct gw_sessions *s, const char *id, const char *uri);

/* Seals `state` (JSON) as base64url(compact JSON) "." base64url(HMAC-SHA256) with the session
 * key; returns a heap string (gw_free). Unseal verifies the MAC over the exact bytes and returns
 * the parsed state (new reference) or NULL if anything was altered. */
char *gw_sessions_seal(struct gw_sessions *s, const json_t *state);
json_t *gw_sessions_unseal(struct gw_sessions *s, const char *sealed);

/* Decodes an id without checking its signature (tests and diagnostics only). */
int gw_session__decode(const char *id, struct gw_session_claims *out);

#endif
