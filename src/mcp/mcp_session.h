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
 * process-local table; terminated ids are remembered until they would expire anyway. With a
 * sync hook (gw_sessions_set_sync: shared state on Redis, src/shared) every change made here is
 * also published, and changes made by other replicas arrive through gw_sessions_apply, so a
 * DELETE on one replica is a 404 on all and a log level set through one holds on all.
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

/* ---- replication of the mutable state ---- */

enum gw_session_change_kind {
    GW_SESSION_TERMINATED = 't',
    GW_SESSION_LOG_LEVEL = 'l',
    GW_SESSION_SUBSCRIBED = 's',
    GW_SESSION_UNSUBSCRIBED = 'u',
    GW_SESSION_SUBS_CLEARED = 'c' /* resynchronisation: the subscriptions that follow are all */
};

struct gw_session_change {
    char kind;             /* enum gw_session_change_kind */
    const char *id;
    uint64_t expires_at;   /* unix seconds: when the session expires anyway */
    int level;             /* GW_SESSION_LOG_LEVEL */
    const char *uri;       /* GW_SESSION_(UN)SUBSCRIBED */
};

typedef void (*gw_session_done_fn)(void *arg, int rc);

struct gw_session_sync {
    /* Shares a change made on this replica; called on the thread that made it (a worker
     * loop), after the local table changed. GW_AGAIN: done(arg, rc) follows on that loop
     * once the change is shared (rc != GW_OK: it could not be); any other return: nothing to
     * wait for, done is not called. `done` may be NULL (nobody waits). */
    int (*publish)(void *ud, const struct gw_session_change *chg, gw_session_done_fn done,
                   void *arg);
    void *ud;
};

/* Installs the hook (before serving; NULL = none). */
void gw_sessions_set_sync(struct gw_sessions *s, const struct gw_session_sync *sync);
/* Applies a change made by another replica (or read back at resynchronisation). Any thread. */
void gw_sessions_apply(struct gw_sessions *s, const struct gw_session_change *chg);
/* Terminates like gw_session_terminate, then waits until the termination is shared:
 * GW_ENOTFOUND (not a live session of that principal), GW_OK (done: nothing shared to wait
 * for; done not called) or GW_AGAIN (done(arg, rc) follows; the session is already terminated
 * on this replica). */
int gw_session_terminate_then(struct gw_sessions *s, const char *id, const char *binding,
                              gw_session_done_fn done, void *arg);

/* Seals `state` (JSON) as base64url(compact JSON) "." base64url(HMAC-SHA256) with the session
 * key; returns a heap string (gw_free). Unseal verifies the MAC over the exact bytes and returns
 * the parsed state (new reference) or NULL if anything was altered. */
char *gw_sessions_seal(struct gw_sessions *s, const json_t *state);
json_t *gw_sessions_unseal(struct gw_sessions *s, const char *sealed);

/* Decodes an id without checking its signature (tests and diagnostics only). */
int gw_session__decode(const char *id, struct gw_session_claims *out);

#endif
