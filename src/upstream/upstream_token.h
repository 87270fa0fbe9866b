/*
 * src/upstream/upstream_token.h
 * OAuth2 client-credentials access tokens, cached per credential and shared by all workers.
 *
 * Single flight: at any time at most one worker fetches a token for a credential; the others
 * wait (the executor parks their calls and re-checks when the token state changes, see
 * gw_exec's wake-up) and then use the fetched token. A token is refreshed in the background
 * when it enters its refresh margin (the first caller to notice does the fetch while calls keep
 * using the still-valid token). A 401 from the upstream invalidates exactly the token that was
 * used. Failed fetches are remembered for a short back-off so a down identity provider is not
 * hammered by every call.
 * The fetch itself (HTTP through the worker's gw_httpc) is done by the executor; this file
 * owns the state and the wire format (request body, response parsing).
 * Token values are secrets: never logged; the executor scrubs them from results.
 */
#ifndef GW_UPSTREAM_TOKEN_H
#define GW_UPSTREAM_TOKEN_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_upstream_token;

struct gw_upstream_token *gw_upstream_token_new(uint64_t refresh_margin_ms,
                                                uint64_t fail_backoff_ms);
void gw_upstream_token_free(struct gw_upstream_token *t);

enum gw_token_verdict {
    GW_TOKEN_READY,   /* *out_token holds a valid token (use it) */
    GW_TOKEN_FETCH,   /* no valid token: the caller is now the one fetcher (must
                         store/fail/abandon) */
    GW_TOKEN_WAIT,    /* another caller is fetching: wait for a wake-up and ask again */
    GW_TOKEN_FAILED   /* the fetch since `seen_gen` (or a very recent one) failed: errbuf
                         says why */
};

/* Asks for a token at now_ms. seen_gen is the generation returned by an earlier WAIT (0 the
 * first time). READY may also set *out_refresh: the token is in its refresh margin and the
 * caller must start a background fetch (it is the fetcher). *out_token is a heap copy
 * (gw_free, after wiping it with gw_upstream_token_wipe). */
enum gw_token_verdict gw_upstream_token_acquire(struct gw_upstream_token *t, uint64_t now_ms,
                                                uint64_t seen_gen, char **out_token,
                                                bool *out_refresh, uint64_t *out_gen,
                                                char *errbuf, size_t errlen);

/* The fetcher stores a new token valid for expires_in_s seconds from now (copied). */
void gw_upstream_token_store(struct gw_upstream_token *t, const char *token, long expires_in_s,
                             uint64_t now_ms);

/* The fetcher reports a failure (message without secrets); waiters get FAILED. */
void gw_upstream_token_fail(struct gw_upstream_token *t, const char *msg, uint64_t now_ms);

/* The fetcher gave up without a result (its call was cancelled): the next caller fetches. */
void gw_upstream_token_abandon(struct gw_upstream_token *t);

/* Drops the cached token if it is still `used` (after a 401). */
void gw_upstream_token_invalidate(struct gw_upstream_token *t, const char *used);

/* Copies the current token (if any) for secret scrubbing; NULL if none. gw_free after wipe. */
char *gw_upstream_token_peek(struct gw_upstream_token *t);

/* Overwrites a secret string with zeros, then frees it. Accepts NULL. */
void gw_upstream_token_wipe(char *s);

uint64_t gw_upstream_token_fetches(struct gw_upstream_token *t);
uint64_t gw_upstream_token_failures(struct gw_upstream_token *t);

/* Builds the x-www-form-urlencoded body of a client-credentials request: grant_type, scope
 * (space-separated, may be NULL), audience (may be NULL) and, when creds_in_body, client_id
 * and client_secret. */
int gw_upstream_token_body(struct gw_buf *out, const char *scope, const char *audience,
                           bool creds_in_body, const char *client_id, const char *client_secret);

/* Parses a token endpoint response. GW_OK with *out_token (heap) and *out_expires_in (seconds,
 * 0 when absent), or GW_EUPSTREAM with a short reason in errbuf (the `error` code of RFC 6749
 * §5.2 if present; never the body verbatim). */
int gw_upstream_token_parse(long http_status, const char *body, size_t len, char **out_token,
                            long *out_expires_in, char *errbuf, size_t errlen);

#endif
