/*
 * src/httpc/httpc_internal.h
 * What the client's two engines share, private to src/httpc/: the tag that tells a call of one
 * engine from a call of the other, and the native engine's interface to the public API.
 *
 * Engines: httpc_client.c drives libcurl (everything the API offers: proxies, redirects,
 * multipart bodies, streaming, connection limits); httpc_h1.c is a native HTTP/1.1
 * engine for the plain case the gateway sends on every tool call (http:// or https:// to an
 * IP literal or a host name, a body or none, keep-alive), written on llhttp, libevent,
 * OpenSSL and zlib because libcurl's per-transfer bookkeeping was a quarter of a worker's CPU
 * there (bench/analysis.md).
 * gw_httpc_submit offers every request to the native engine first (gw_httpc_h1_submit), which
 * takes it when it can carry it with the same observable behaviour; libcurl takes the rest.
 */
#ifndef GW_HTTPC_INTERNAL_H
#define GW_HTTPC_INTERNAL_H

#include "httpc/httpc_client.h"

struct event_base;
struct gw_ssrf_policy;
struct gw_httpc_h1;

enum httpc_engine { HTTPC_ENGINE_CURL = 1, HTTPC_ENGINE_H1 = 2 };

/* The first member of every call of either engine, so gw_httpc_cancel can route a handle. */
struct httpc_call_tag {
    unsigned char engine; /* enum httpc_engine */
};

/* A native engine on `base` (borrowed), checking every connection it opens against `ssrf` when
 * given, keeping at most `max_idle` idle keep-alive connections. NULL with err on failure. */
struct gw_httpc_h1 *gw_httpc_h1_new(struct event_base *base, const struct gw_ssrf_policy *ssrf,
                                    size_t max_idle, struct gw_error *err);

/* Cancels every pending call (no callbacks), closes every connection, frees. Accepts NULL. */
void gw_httpc_h1_free(struct gw_httpc_h1 *h);

/* gw_httpc_submit's native half, for a request already checked for method and URL scheme.
 * When the engine can carry `req` exactly as libcurl would — an http:// or https:// URL whose
 * host is an IPv4 or bracketed IPv6 literal or a plain host name (no user info; a name only
 * while libevent's resolver is available), no proxy, no multipart parts, no streaming, no
 * stall limit, no redirects to follow, no caller header libcurl treats specially — it starts
 * the call with gw_httpc_submit's contract and sets *taken. Otherwise *taken is false, nothing
 * happened, and GW_OK: the request is libcurl's. The URL is parsed once, here. */
int gw_httpc_h1_submit(struct gw_httpc_h1 *h, const struct gw_httpc_request *req,
                       gw_httpc_done_fn done, void *arg, struct gw_httpc_call **out_call,
                       bool *taken, struct gw_error *err);

/* gw_httpc_cancel for a call of the native engine. */
void gw_httpc_h1_cancel(struct gw_httpc_call *call);

/* Calls of the native engine submitted and not yet completed or cancelled. */
size_t gw_httpc_h1_pending(const struct gw_httpc_h1 *h);

#endif
