/*
 * src/ctx/ctx.h
 * The request context: everything the governance phases know about one message being served.
 *
 * Each transport creates one context per message it hands to the protocol server (an HTTP
 * POST's message, an element of a batch, an old-SSE POST, a stdio line, an admin API request)
 * and the exchange, the tool call and the audit record carry it. It holds:
 *   - where the message came from: transport, peer address, request id and trace, session;
 *   - the credential presented (the Authorization header value) until AUTHENTICATE consumes
 *     it, then the principal (or why authentication failed);
 *   - a per-request arena (created on first use, freed with the context);
 *   - the decision record: each enforcing phase's verdict per handler, with reason, rule id
 *     and policy version, dry-run verdicts included (what audit and metrics report);
 *   - timings: when the context was created and the time spent in each phase.
 * It also names the phases (enum gw_phase) and the authenticator interface (struct gw_authn)
 * so that the protocol server can run AUTHENTICATE without depending on src/auth.
 * Threading: a context belongs to the loop thread that runs its message (ownership may be
 * handed to another loop with the message, never shared); only the reference count is atomic.
 */
#ifndef GW_CTX_CTX_H
#define GW_CTX_CTX_H

#include "ctx/ctx_principal.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_ctx;
struct gw_arena;
struct gw_loop;

/* The phases every message passes, in order (see docs/architecture.md). */
enum gw_phase {
    GW_PHASE_DECODE,
    GW_PHASE_AUTHENTICATE,
    GW_PHASE_RESOLVE,
    GW_PHASE_EXPOSURE,
    GW_PHASE_AUTHORIZE,
    GW_PHASE_RATELIMIT,
    GW_PHASE_VALIDATE,
    GW_PHASE_EXECUTE,
    GW_PHASE_RESPOND,
    GW_PHASE_AUDIT,
    GW_PHASE_COUNT
};
const char *gw_phase_name(enum gw_phase p);

enum gw_transport {
    GW_TRANSPORT_HTTP,     /* Streamable HTTP (/mcp) */
    GW_TRANSPORT_SSE,      /* the 2024-11-05 HTTP+SSE transport */
    GW_TRANSPORT_STDIO,
    GW_TRANSPORT_ADMIN,    /* the admin API */
    GW_TRANSPORT_INTERNAL  /* in-process callers (the chat agent) */
};
const char *gw_transport_name(enum gw_transport t);

struct gw_ctx_init {
    enum gw_transport transport;
    struct gw_loop *loop;     /* the loop that runs the message (borrowed) */
    const char *peer;         /* "ip:port" or "-"; copied */
    const char *request_id;   /* copied (<= 128 chars kept) */
    const char *trace_id;     /* 32 hex or NULL; copied */
    const char *session;      /* legacy session id or NULL; copied */
    const char *credential;   /* Authorization header value or NULL; copied, wiped when used */
};

/* Creates a context with one reference. Never NULL (aborts on OOM). */
struct gw_ctx *gw_ctx_new(const struct gw_ctx_init *in);
/* A context for another message of the same transport request (a batch member): the same
 * origin fields and authentication outcome (principal shared), a fresh decision record and
 * timings, no credential. */
struct gw_ctx *gw_ctx_derive(const struct gw_ctx *c);
struct gw_ctx *gw_ctx_ref(struct gw_ctx *c);
/* Drops a reference; at zero wipes the credential and frees everything. Accepts NULL. */
void gw_ctx_unref(struct gw_ctx *c);

enum gw_transport gw_ctx_transport(const struct gw_ctx *c);
struct gw_loop *gw_ctx_loop(const struct gw_ctx *c);
const char *gw_ctx_peer(const struct gw_ctx *c);
const char *gw_ctx_request_id(const struct gw_ctx *c);
const char *gw_ctx_trace_id(const struct gw_ctx *c); /* "" when none */
const char *gw_ctx_session(const struct gw_ctx *c);  /* "" when none */
void gw_ctx_set_session(struct gw_ctx *c, const char *session);
/* The per-request arena (created on first use, 1 MiB budget). */
struct gw_arena *gw_ctx_arena(struct gw_ctx *c);
/* The MCP method and tool name being served (for logs and audit); borrowed strings are
 * copied. */
void gw_ctx_set_method(struct gw_ctx *c, const char *method);
const char *gw_ctx_method(const struct gw_ctx *c); /* "" when unset */

/* ---- authentication ---- */

enum gw_auth_state { GW_AUTH_PENDING, GW_AUTH_DONE, GW_AUTH_FAILED };

/* Why authentication failed, as the transport must answer it (RFC 6750 / MCP authorization):
 * status 401 (no or bad credential) or 403 (insufficient_scope), the RFC 6750 error code
 * ("invalid_request", "invalid_token", "insufficient_scope"; "" when no credential was sent),
 * a description for error_description and for the JSON-RPC error, and the complete
 * WWW-Authenticate value ("" = none). */
struct gw_auth_failure {
    int status;
    char error[32];
    char description[256];
    char challenge[768];
};

/* How a JSON API outside MCP (admin, chat) answers an authentication failure: 403 with code
 * "forbidden", 503 "unavailable", anything else 401 "unauthenticated". */
int gw_auth_failure_http(const struct gw_auth_failure *f, const char **code);

enum gw_auth_state gw_ctx_auth_state(const struct gw_ctx *c);
/* The credential presented (NULL when none or already consumed). */
const char *gw_ctx_credential(const struct gw_ctx *c);
/* Authentication succeeded: the context takes `p` (stolen reference) and wipes the
 * credential. */
void gw_ctx_set_principal(struct gw_ctx *c, struct gw_principal *p);
/* Authentication failed: copies `f`, wipes the credential. */
void gw_ctx_set_auth_failure(struct gw_ctx *c, const struct gw_auth_failure *f);
/* The principal (borrowed; NULL before AUTHENTICATE or after a failure). */
const struct gw_principal *gw_ctx_principal(const struct gw_ctx *c);
const struct gw_auth_failure *gw_ctx_auth_failure(const struct gw_ctx *c); /* NULL unless failed */

/* Called when an asynchronous authentication finishes, on the context's loop. */
typedef void (*gw_authn_done_fn)(struct gw_ctx *c, void *arg);
/* An authenticator (src/auth provides one; the app registers it with the protocol server and
 * the admin API). authenticate() examines gw_ctx_credential and sets the principal or the
 * failure. Returns GW_OK when it finished synchronously (done is NOT called) or GW_AGAIN when
 * it will finish later (e.g. after fetching the provider's keys): done is then called exactly
 * once, on the context's loop. It holds a reference on the context meanwhile. Never blocks. */
struct gw_authn_ops {
    int (*authenticate)(void *self, struct gw_ctx *c, gw_authn_done_fn done, void *arg);
};
struct gw_authn {
    const struct gw_authn_ops *ops;
    void *self;
};

/* ---- the decision record ---- */

enum gw_verdict {
    GW_VERDICT_ALLOW,
    GW_VERDICT_DENY,
    GW_VERDICT_DRY_RUN_DENY, /* would have denied; the phase runs in dry-run */
    GW_VERDICT_ERROR,        /* the handler failed (fail-closed or fail-open per its setting) */
    GW_VERDICT_CHALLENGE     /* the call waits for input (the user's confirmation) */
};
const char *gw_verdict_name(enum gw_verdict v);

#define GW_CTX_MAX_DECISIONS 24

struct gw_decision {
    enum gw_phase phase;
    enum gw_verdict verdict;
    char handler[32];
    char rule_id[64];
    char policy_version[48];
    char reason[256];
};

/* Appends a verdict (strings copied, truncated; NULL = ""). Beyond GW_CTX_MAX_DECISIONS the
 * verdict is counted in gw_ctx_decisions_dropped, except denials, which replace the last slot
 * so that a refusal is never lost. */
void gw_ctx_decide(struct gw_ctx *c, enum gw_phase phase, enum gw_verdict verdict,
                   const char *handler, const char *rule_id, const char *policy_version,
                   const char *reason);
size_t gw_ctx_decision_count(const struct gw_ctx *c);
const struct gw_decision *gw_ctx_decision(const struct gw_ctx *c, size_t i);
unsigned gw_ctx_decisions_dropped(const struct gw_ctx *c);

/* ---- facts of a tool call (set by the pipeline; read by audit and metrics) ---- */

/* The tool being called and its arguments (a reference is kept; NULL args = {}). */
void gw_ctx_set_tool(struct gw_ctx *c, const char *tool, const json_t *args);
const char *gw_ctx_tool(const struct gw_ctx *c); /* "" when not a tool call */
const json_t *gw_ctx_args(const struct gw_ctx *c); /* NULL when not a tool call */
/* The tool's risk level ("read", "write", "privileged"; "" unknown) and the confirmation that
 * allowed the call ("" none). */
void gw_ctx_set_risk(struct gw_ctx *c, const char *risk);
const char *gw_ctx_risk(const struct gw_ctx *c);
void gw_ctx_set_confirmation(struct gw_ctx *c, const char *confirmation_id);
const char *gw_ctx_confirmation(const struct gw_ctx *c);

/* What the upstream call did: its upstream name, last HTTP status (0 none), the executor's
 * outcome name ("ok", "timeout", ...), attempts and latency. */
struct gw_ctx_upstream {
    char upstream[64];
    char outcome[32];
    int http_status;
    unsigned attempts;
    uint64_t latency_ms;
    bool called; /* false: the upstream was not called */
};
void gw_ctx_set_upstream(struct gw_ctx *c, const struct gw_ctx_upstream *u);
const struct gw_ctx_upstream *gw_ctx_upstream(const struct gw_ctx *c);
/* Whether the tool's result is an error (isError), set with the result. */
void gw_ctx_set_tool_error(struct gw_ctx *c, bool is_error);
bool gw_ctx_tool_error(const struct gw_ctx *c);

/* ---- response headers (set by a phase, sent by the HTTP transport with the response) ---- */

/* Adds a header for the HTTP response that carries this message's answer (e.g. the RateLimit
 * fields of draft-ietf-httpapi-ratelimit-headers, Retry-After). Name and value are copied
 * (truncated to 64 / 256 bytes); at most GW_CTX_MAX_HEADERS, later ones are dropped. Transports
 * without HTTP headers ignore them. Only the context of the HTTP request's (first) message is
 * read by the transport. */
#define GW_CTX_MAX_HEADERS 6
void gw_ctx_add_header(struct gw_ctx *c, const char *name, const char *value);
size_t gw_ctx_header_count(const struct gw_ctx *c);
/* The i-th header (i < gw_ctx_header_count); borrowed strings. */
void gw_ctx_header(const struct gw_ctx *c, size_t i, const char **name, const char **value);

/* ---- timings ---- */

/* Marks the start/end of a phase; the time between is added to that phase's total (a phase
 * that waits asynchronously is timed from begin to end, waiting included). */
void gw_ctx_phase_begin(struct gw_ctx *c, enum gw_phase p);
void gw_ctx_phase_end(struct gw_ctx *c, enum gw_phase p);
uint64_t gw_ctx_phase_ns(const struct gw_ctx *c, enum gw_phase p);
/* Nanoseconds since the context was created (monotonic clock). */
uint64_t gw_ctx_elapsed_ns(const struct gw_ctx *c);
/* Wall-clock creation time, milliseconds since the epoch. */
int64_t gw_ctx_started_ms(const struct gw_ctx *c);

/* ---- per-request state of modules (nginx's module contexts) ---- */

enum { GW_CTX_SLOT_EXPOSURE = 0, GW_CTX_SLOT_LIMITS = 1, GW_CTX_SLOT_AUDIT = 2,
       GW_CTX_SLOT_POLICY = 3, GW_CTX_SLOTS = 6 };
/* Attaches `p` to the context in `slot` (replacing and freeing what was there); `free_fn`
 * (may be NULL) runs when the context is freed. */
void gw_ctx_put(struct gw_ctx *c, int slot, void *p, void (*free_fn)(void *));
void *gw_ctx_get(const struct gw_ctx *c, int slot);

/* ---- logging ---- */

/* Makes c's request id the calling thread's log request id (for callbacks that run outside
 * the transport's handler, e.g. an upstream response) and returns the previous one, to pass to
 * gw_ctx_leave. Accepts NULL (clears). */
const char *gw_ctx_enter(const struct gw_ctx *c);
void gw_ctx_leave(const char *previous);

#endif
