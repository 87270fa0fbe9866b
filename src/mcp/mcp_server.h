/*
 * src/mcp/mcp_server.h
 * The MCP server: protocol logic independent of the transport.
 *
 * Owns the method table (initialize, ping, logging, completion, tools/resources/prompts, and
 * 2026-07-28's server/discover), version negotiation, capabilities, the providers, the session
 * keys, the tables of in-flight requests (for cancellation) and of pending server->client
 * requests (whose answers may arrive on another worker, another POST, or stdin), and the
 * listeners that receive server-initiated notifications (GET streams, the old SSE transport,
 * stdio, subscriptions/listen).
 * Transports (mcp_http.c, mcp_stdio.c) decode bytes into messages, check their transport rules,
 * create a request context per message (struct gw_ctx), describe the caller in a `struct
 * gw_mcp_origin`, and hand each message to gw_mcp_server_dispatch; outgoing messages come back
 * through the origin's ops.
 * AUTHENTICATE: the server owns the authenticator (gw_mcp_server_set_authn). Dispatch runs it
 * once for a context that is not yet authenticated (stdio, in-process callers); the HTTP
 * transport authenticates each HTTP request up front through gw_mcp_server_authenticate (it
 * must answer 401 before anything else, also for GET streams and DELETE) and dispatches
 * contexts that are already done. A failed context gets no exchange: a request is answered
 * with -32001 and the transport's auth_failed hook maps it to HTTP 401/403.
 * Thread-safety: dispatch runs on the calling loop thread; the tables are mutex-protected;
 * notifications to listeners on other workers are posted to those workers.
 */
#ifndef GW_MCP_SERVER_H
#define GW_MCP_SERVER_H

#include "core/err.h"
#include "core/settings.h"
#include "ctx/ctx.h"
#include "mcp/mcp_exchange.h"
#include "mcp/mcp_provider.h"
#include "mcp/mcp_session.h"

#include <jansson.h>
#include <stdbool.h>

struct gw_mcp_server;
struct gw_loop;

extern const struct gw_setting_def gw_mcp_settings[];

struct gw_mcp_server_options {
    const char *name;
    const char *version;
    const char *title;
    const char *instructions;
    size_t page_size;       /* items per tools/resources/prompts list page */
    const char *session_secret;
    unsigned session_ttl_s;
    int max_json_depth;
    size_t max_batch;
    const char *allowed_origins; /* comma list of exact origins */
    const char *allowed_hosts;   /* comma list of host names (no port) */
    int sse_keepalive_s;
    bool legacy_sse;             /* serve the 2024-11-05 HTTP+SSE transport */
};

void gw_mcp_options_from_settings(struct gw_mcp_server_options *o, const struct gw_settings *s);

struct gw_mcp_server *gw_mcp_server_new(const struct gw_mcp_server_options *opts);
void gw_mcp_server_free(struct gw_mcp_server *srv);
const struct gw_mcp_server_options *gw_mcp_server_options(const struct gw_mcp_server *srv);
/* Providers are consulted in registration order. Register before serving. */
void gw_mcp_server_add_provider(struct gw_mcp_server *srv, struct gw_mcp_provider p);
struct gw_sessions *gw_mcp_server_sessions(struct gw_mcp_server *srv);

/* ---- transport side ---- */

struct gw_mcp_origin;

struct gw_mcp_origin_ops {
    /* Delivers one outgoing message that belongs to exchange x (x is NULL for messages not tied
     * to a request). `final` is true for the response that completes x. Called on the origin's
     * loop thread. */
    void (*send)(void *tctx, struct gw_mcp_exchange *x, const char *json, size_t len, bool final);
    /* Called when x is finished and released its hold on the transport context (after its
     * final send, or when it completes without a response: cancelled). */
    void (*exchange_done)(void *tctx, struct gw_mcp_exchange *x);
    /* Legacy initialize succeeded with the negotiated version and client capability bits:
     * the transport creates the session (may be NULL for transports without sessions). */
    void (*initialized)(void *tctx, enum gw_mcp_version v, uint8_t caps);
    /* A request header, or NULL (may be NULL). */
    const char *(*header)(void *tctx, const char *name);
    /* An exchange is about to complete with JSON-RPC error `code` and `data` (borrowed, may be
     * NULL) (the hook may be NULL): transports that map error kinds to HTTP statuses
     * (2026-07-28: -32021 -> 400; an elevation step-up -> 403 + its challenge) note it. */
    void (*error_status)(void *tctx, int code, const json_t *data);
    /* Holds/releases the transport context while exchanges use it. */
    void (*hold)(void *tctx);
    void (*release)(void *tctx);
    /* A message was refused because authentication failed (may be NULL): HTTP transports
     * answer with f->status and WWW-Authenticate: f->challenge. Called before the error
     * response (if the message was a request) is sent. */
    void (*auth_failed)(void *tctx, const struct gw_auth_failure *f);
};

/* Who sent a message and how to answer. Copied by dispatch; strings copied too. */
struct gw_mcp_origin {
    const struct gw_mcp_origin_ops *ops;
    void *tctx;
    struct gw_loop *loop; /* the thread that owns the transport context */
    enum gw_mcp_version version;
    uint8_t caps;
    bool modern;
    int log_level;          /* -1 none; modern: from _meta, legacy: read from the session */
    const char *session_id; /* legacy session or NULL */
    const char *request_id;
    struct gw_ctx *ctx;     /* this message's context (borrowed; dispatch takes a reference).
                               NULL: the server makes one (in-process callers, tests) */
};

/* Sets the authenticator (before serving). Without one every context is anonymous. */
void gw_mcp_server_set_authn(struct gw_mcp_server *srv, struct gw_authn authn);
/* Runs AUTHENTICATE on `c` (a context in state PENDING): GW_OK when it finished now (`c` is
 * DONE or FAILED; done not called) or GW_AGAIN (done(c, arg) follows on c's loop). Without an
 * authenticator the context becomes anonymous at once. Never blocks. */
int gw_mcp_server_authenticate(struct gw_mcp_server *srv, struct gw_ctx *c,
                               gw_authn_done_fn done, void *arg);

/* Handles one classified-or-not message `msg` (borrowed). Requests become exchanges; responses
 * are routed to the pending server->client request; notifications are applied. Errors in the
 * message itself are answered through origin->ops->send (with x == NULL, final == true) when
 * they have an id, and ignored for notifications. */
void gw_mcp_server_dispatch(struct gw_mcp_server *srv, const struct gw_mcp_origin *origin,
                            json_t *msg);

/* ---- completion observers (AUDIT) ---- */

enum gw_mcp_outcome {
    GW_MCP_OUTCOME_RESULT,    /* answered with a result (a tool's isError result included) */
    GW_MCP_OUTCOME_ERROR,     /* answered with a JSON-RPC error */
    GW_MCP_OUTCOME_CANCELLED, /* cancelled by the client: nothing sent */
    GW_MCP_OUTCOME_REFUSED,   /* refused before an exchange existed (authentication) */
    GW_MCP_OUTCOME_REJECTED   /* refused by the transport before any message was read (Host/
                                 Origin, media type, session, parse error): http_status set */
};

/* One finished message, as observers see it (everything borrowed for the call only). */
struct gw_mcp_completion {
    struct gw_ctx *ctx;        /* principal, ids, decision record, timings, call facts */
    const char *method;        /* "" when the message had none (a response) */
    const json_t *id;          /* NULL for notifications */
    const json_t *params;      /* NULL when absent */
    enum gw_mcp_outcome outcome;
    int error_code;            /* JSON-RPC code of an ERROR/REFUSED outcome, else 0 */
    const char *error_message; /* "" unless ERROR/REFUSED */
    const json_t *result;      /* the result object when known as JSON, else NULL */
    const char *message;       /* the final message's text ("" when nothing is sent) */
    size_t message_len;
    int http_status;           /* REJECTED: the HTTP status answered; else 0 */
};

/* Lets a held final message go (see gw_mcp_complete_fn). Thread-safe: may be called from any
 * thread, exactly once; the message is sent from the exchange's loop. */
typedef void (*gw_mcp_release_fn)(void *token);

/* Observer of every finished message: called on the exchange's loop just before its final
 * message is sent (or when it ends without one). It may hold the final message until, e.g.,
 * its audit record is durable: it returns GW_AGAIN and later calls release(token), which sends
 * it. Otherwise it returns GW_OK. For CANCELLED and REFUSED outcomes `release` is NULL and the
 * observer must return GW_OK. Observers must not block. */
typedef int (*gw_mcp_complete_fn)(void *ud, const struct gw_mcp_completion *c,
                                  gw_mcp_release_fn release, void *token);
/* Registers the observer (at most one; before serving). */
void gw_mcp_server_on_complete(struct gw_mcp_server *srv, gw_mcp_complete_fn fn, void *ud);
/* Reports a request refused by authentication outside dispatch (a transport that
 * authenticates up front) to the observer, as a REFUSED outcome. `msg` may be NULL. */
void gw_mcp_server_report_refusal(struct gw_mcp_server *srv, struct gw_ctx *ctx,
                                  const json_t *msg);

/* Reports a transport-level refusal (no message was dispatched) to the observer, as a
 * REJECTED outcome: `ctx` describes the request, `status` is the HTTP status answered, `code`
 * and `message` the JSON-RPC error sent. */
void gw_mcp_server_report_rejection(struct gw_mcp_server *srv, struct gw_ctx *ctx, int status,
                                    int code, const char *message);

/* Whether a message would produce a response (a request), used by transports to decide
 * between 202 and a body. */
bool gw_mcp_message_is_request(json_t *msg);

/* ---- listeners for server-initiated messages ---- */

enum {
    GW_LISTEN_TOOLS = 1,
    GW_LISTEN_RESOURCES = 2,
    GW_LISTEN_PROMPTS = 4,
    GW_LISTEN_RESOURCE_UPDATES = 8,
    GW_LISTEN_ALL = 15
};

struct gw_mcp_listener {
    /* Sends one message (JSON text) on the listener's stream; runs on the listener's thread. */
    void (*send)(struct gw_mcp_listener *l, const char *json, size_t len);
    /* Ends the stream (server shutdown); the owner unregisters and frees it. May be NULL. */
    void (*close)(struct gw_mcp_listener *l);
    struct gw_loop *loop; /* thread that owns the stream */
    int flags;
    char session[GW_SESSION_ID_MAX]; /* "" when none */
    char subscription_id[80];        /* 2026 subscriptions/listen: JSON of the request id */
    unsigned long id;                /* assigned by gw_mcp_server_listen */
};

/* Registers/unregisters a listener (from its owning thread). A session has at most one legacy
 * GET stream: gw_mcp_server_listen returns GW_ECONFLICT when the session already has one. */
int gw_mcp_server_listen(struct gw_mcp_server *srv, struct gw_mcp_listener *l);
void gw_mcp_server_unlisten(struct gw_mcp_server *srv, struct gw_mcp_listener *l);
/* Sends notifications/<kind>/list_changed to every interested listener. Any thread. `kind` is
 * one of GW_LISTEN_TOOLS / RESOURCES / PROMPTS. */
void gw_mcp_server_notify_list_changed(struct gw_mcp_server *srv, int kind);
/* Sends notifications/resources/updated {uri} to listeners of sessions subscribed to uri. */
void gw_mcp_server_notify_resource_updated(struct gw_mcp_server *srv, const char *uri);

/* Closes every listener owned by `loop` (shutdown): their `close` hooks run on that thread. */
void gw_mcp_server_close_listeners(struct gw_mcp_server *srv, struct gw_loop *loop);

#endif
