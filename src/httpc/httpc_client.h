/*
 * src/httpc/httpc_client.h
 * Asynchronous outbound HTTP client: one `struct gw_httpc` per worker event loop, driving a
 * libcurl multi handle through the multi-socket API on that loop's libevent base, and a
 * native HTTP/1.1 engine on the same base for plain requests (httpc_h1.c: http:// or https://,
 * the gateway's call path), which behaves as libcurl does at a fraction of its cost.
 *
 * What it gives: keep-alive connection reuse (one connection cache per multi, so per worker),
 * HTTP/1.1, DNS on libcurl's threaded resolver (checked at start-up: never a blocking lookup),
 * total and connect timeouts, a hard cap on the response size (a distinct error), TLS with
 * verification on by default, CA file and client certificate/key (mTLS), http/https only,
 * no redirects unless asked, no proxy unless given (the environment's *_proxy is ignored),
 * an optional SSRF policy checked on every connection a client opens (per client, because
 * connections are shared by all requests of a client), and "at most once" requests that
 * libcurl may not re-send on its own.
 * Threading: a gw_httpc and its calls belong to the thread running its event base. Nothing
 * here blocks: curl only ever runs inside libevent callbacks of that base.
 * Not here: building URLs, headers or bodies (the caller does; see src/upstream/), retries,
 * credentials, cookies (no cookie engine), HTTP/2.
 */
#ifndef GW_HTTPC_CLIENT_H
#define GW_HTTPC_CLIENT_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct gw_httpc;
struct gw_httpc_call;
struct gw_ssrf_policy; /* src/ssrf/ssrf.h */

/* Per-client (per-worker) options. Zero-initialised means "library defaults". */
struct gw_httpc_options {
    long max_host_connections;  /* concurrent connections per host; 0 = unlimited */
    long max_total_connections; /* concurrent connections in total; 0 = unlimited */
    long max_cached_connections; /* idle keep-alive connections kept; 0 = 256 */
    long max_idle_handles;      /* recycled easy handles kept; 0 = 64 */
    /* SSRF guard (borrowed; must outlive the client): every connection this client opens must
     * pass gw_ssrf_check on the address actually connected (after DNS, so rebinding and odd
     * IPv4 spellings cannot slip through); refused ones end the request with
     * GW_HTTPC_EDENIED. The check runs when a connection is opened, not per request: a kept-
     * alive connection was checked when it was opened, and connections are never shared
     * between clients, so a guarded client never reuses an unguarded connection. NULL = no
     * check (requests to operator-configured upstreams). */
    const struct gw_ssrf_policy *ssrf;
    /* Every request through libcurl. By default a plain request (http(s)://, no proxy,
     * redirects, multipart or streaming; see src/httpc/httpc_internal.h) goes
     * through the native HTTP/1.1 engine, which behaves the same at a fraction of the cost.
     * A client with connection limits set uses libcurl for every request (the native engine
     * has no limits). */
    bool curl_only;
};

/* One part of a multipart/form-data body. All pointers are borrowed for the submit call only
 * (curl copies the data). */
struct gw_httpc_part {
    const char *name;         /* form field name (required) */
    const char *data;         /* content */
    size_t len;
    const char *content_type; /* NULL = text/plain for curl's default */
    const char *filename;     /* NULL = no filename attribute */
};

/* One request. Everything is borrowed for the duration of gw_httpc_submit only: the client
 * copies what it keeps. */
struct gw_httpc_request {
    const char *method;           /* GET HEAD POST PUT PATCH DELETE OPTIONS (required) */
    const char *url;              /* absolute http:// or https:// URL (required) */
    const char *const *headers;   /* "Name: value" lines, already validated by the caller */
    size_t nheaders;
    const char *body;             /* request body (copied); NULL = none */
    size_t body_len;
    const struct gw_httpc_part *parts; /* multipart/form-data parts; exclusive with body */
    size_t nparts;
    long timeout_ms;              /* whole transfer; 0 = 30000 */
    long connect_timeout_ms;      /* TCP + TLS handshake; 0 = 10000 */
    size_t max_response_bytes;    /* body cap; 0 = 8 MiB. Exceeding it aborts the transfer */
    const char *ca_file;          /* PEM CA bundle; NULL = system store */
    const char *client_cert;      /* PEM client certificate (mTLS); NULL = none */
    const char *client_key;       /* PEM private key of client_cert */
    const char *key_password;     /* passphrase of client_key; NULL = none. Never logged */
    bool insecure_skip_verify;    /* true disables peer and host verification (tests only) */
    bool follow_redirects;        /* default false */
    long max_redirects;           /* when following; 0 = 3 */
    bool accept_encoding;         /* offer gzip/deflate and decode (the cap applies decoded) */
    const char *proxy;            /* explicit proxy URL; NULL = direct (env ignored) */
    /* At most once: libcurl re-sends a request by itself when a reused keep-alive connection
     * dies before any response byte (it assumes a stale connection; see Curl_retry_request),
     * which for a non-idempotent write the server may already have processed is a duplicate.
     * With no_replay the request is sent at most once per submit: a second send is refused
     * (CURLOPT_PREREQFUNCTION) and the call fails with GW_HTTPC_ECONNECT and not_resent set.
     * Kept-alive connections are still used, but only those idle for at most ~3 s
     * (CURLOPT_MAXAGE_CONN), which stay clear of common server idle timeouts (5 s and up) and
     * so of the benign stale-connection race (libcurl's once-a-second pruning then also closes
     * other idle connections older than that). */
    bool no_replay;
    bool fresh_connect;           /* always open a new connection (CURLOPT_FRESH_CONNECT) */
    /* Streaming (server-sent events of LLM providers): when on_data is set, the body of a 2xx
     * response is handed to on_data piece by piece as it arrives instead of being collected
     * (the completion then sees an empty body; max_response_bytes still caps the total
     * streamed). Bodies of other statuses are collected as usual, so error bodies reach the
     * completion callback. on_data runs on the client's loop from inside libcurl: it must not
     * submit, cancel or free anything of this client; it returns true to go on, false to stop
     * the transfer (the call then completes with GW_HTTPC_EPROTO and `stopped` set). */
    bool (*on_data)(void *data_arg, const char *data, size_t len);
    void *data_arg;
    /* Stall limit: the transfer fails with GW_HTTPC_ETIMEOUT when fewer than one byte per
     * second arrives for this many seconds (a provider that stops sending mid-stream);
     * 0 = none (only the total timeout applies). */
    long stall_timeout_s;
};

/* How a call ended at the transport level. GW_HTTPC_OK means a complete HTTP response of any
 * status code was received. */
enum gw_httpc_status {
    GW_HTTPC_OK = 0,
    GW_HTTPC_ETIMEOUT,  /* the total timeout passed (connected or not: see connected) */
    GW_HTTPC_ECONNECT,  /* connection refused/unreachable/reset before a response */
    GW_HTTPC_EDNS,      /* the host name could not be resolved */
    GW_HTTPC_ETLS,      /* TLS handshake, certificate or key failure */
    GW_HTTPC_ETOOLARGE, /* the response body exceeded max_response_bytes (transfer aborted) */
    GW_HTTPC_EPROTO,    /* malformed or truncated response, or other transfer failure */
    GW_HTTPC_EINVAL,    /* the request was refused before sending (bad URL, file, option) */
    GW_HTTPC_EDENIED    /* the SSRF guard refused every address of the host (nothing sent) */
};

/* The outcome handed to the completion callback. Valid only during the callback; the body may
 * be taken with gw_httpc_response_take_body. */
struct gw_httpc_response {
    enum gw_httpc_status status;
    long http_status;         /* 0 when no response was received */
    const char *content_type; /* Content-Type of the response, NULL if none */
    char *body;               /* NUL-terminated; "" when empty (never NULL) */
    size_t body_len;
    const char *error;        /* short message when status != OK ("" otherwise); no URL */
    bool connected;           /* a connection was established (for timeout triage) */
    bool reused_connection;   /* served on a kept-alive connection */
    bool stopped;             /* streaming: on_data asked to stop (status GW_HTTPC_EPROTO) */
    bool not_resent;          /* no_replay: libcurl wanted to re-send the request after its
                               * connection died and was stopped (the first send may have been
                               * processed by the server) */
    const char *denied_class; /* GW_HTTPC_EDENIED: class of the refused address ("loopback",
                               * "private", ...); the full reason with the address is in error */
    long total_us;            /* transfer time in microseconds */
    const char *_headers;     /* private: raw header block, use gw_httpc_response_header */
    size_t _headers_len;
    bool _body_taken;
};

/* Completion callback: called exactly once per submitted call, on the client's loop, never
 * from inside gw_httpc_submit and never after gw_httpc_cancel. The call handle is invalid once
 * the callback starts. The callback may submit and cancel other calls, but must not free the
 * client. */
typedef void (*gw_httpc_done_fn)(void *arg, struct gw_httpc_response *resp);

/* Process-wide libcurl initialisation; idempotent and thread-safe (pthread_once). Called by
 * gw_httpc_new; call it early from main before threads exist if convenient. Returns GW_OK, or
 * GW_ERR when libcurl lacks asynchronous DNS (a blocking resolver would stall a worker). */
int gw_httpc_global_init(struct gw_error *err);

/* Creates a client on `base` (borrowed; must outlive the client). `opt` may be NULL. Returns
 * NULL with `err` filled when curl cannot be initialised or lacks asynchronous DNS. */
struct gw_httpc *gw_httpc_new(struct event_base *base, const struct gw_httpc_options *opt,
                              struct gw_error *err);

/* Cancels every pending call (their callbacks are not called) and frees the client. Accepts
 * NULL. Must not be called from inside a completion callback of this client. */
void gw_httpc_free(struct gw_httpc *c);

/* Starts a request. On GW_OK the callback will be called exactly once later (unless the call
 * is cancelled) and *out_call (optional) receives a handle for gw_httpc_cancel. On failure
 * (GW_EINVAL: bad method/URL/options, GW_ENOMEM) the callback is never called and `err` says
 * why. Never blocks. */
int gw_httpc_submit(struct gw_httpc *c, const struct gw_httpc_request *req, gw_httpc_done_fn done,
                    void *arg, struct gw_httpc_call **out_call, struct gw_error *err);

/* Whether a pending call went to the native HTTP/1.1 engine (false: libcurl). */
bool gw_httpc_call_native(const struct gw_httpc_call *call);

/* Aborts a pending call: its callback will not be called and the handle becomes invalid.
 * Accepts NULL. Must not be called for a call whose callback has started. */
void gw_httpc_cancel(struct gw_httpc_call *call);

/* Number of calls submitted and not yet completed or cancelled. */
size_t gw_httpc_pending(const struct gw_httpc *c);

/* Calls submitted so far to each engine (native HTTP/1.1, libcurl): which path requests take. */
void gw_httpc_engine_calls(const struct gw_httpc *c, unsigned long long *native,
                           unsigned long long *curl);

/* Looks up a response header by name (case-insensitive); copies its trimmed value into out
 * (truncated to out_size - 1) and returns out, or NULL when absent. */
const char *gw_httpc_response_header(const struct gw_httpc_response *resp, const char *name,
                                     char *out, size_t out_size);

/* Takes ownership of the body (free with gw_free); afterwards resp->body must not be used.
 * Returns the NUL-terminated body and its length in *out_len. */
char *gw_httpc_response_take_body(struct gw_httpc_response *resp, size_t *out_len);

/* Short name of a transport status ("timeout", "connect", ...), for logs and metrics. */
const char *gw_httpc_status_name(enum gw_httpc_status s);

#endif
