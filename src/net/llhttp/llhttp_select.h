/*
 * src/net/llhttp/llhttp_select.h
 * Which copy of llhttp's generated parser runs (see llhttp_select.c). Every llhttp_execute of
 * the server (net_parse.c) and of the upstream client (httpc_resp.c) goes through it; nothing
 * else needs this header but the tests that hold the two copies to the same answers.
 */
#ifndef GW_NET_LLHTTP_SELECT_H
#define GW_NET_LLHTTP_SELECT_H

#include <llhttp.h>
#include <stdbool.h>

/* llhttp's internal execute: runs the parser over [p, endp), returns an llhttp_errno_t. */
typedef int (*gw_llhttp_exec_fn)(llhttp_t *parser, const char *p, const char *endp);

/* The portable copy (baseline x86-64 or whatever the target is). */
gw_llhttp_exec_fn gw_llhttp_portable(void);

/* The SSE4.2 copy, or NULL if this build has none or this CPU lacks SSE4.2. */
gw_llhttp_exec_fn gw_llhttp_sse42(void);

/* The copy llhttp_execute uses on this machine, by name ("sse4.2" or "portable"). */
const char *gw_llhttp_variant(void);

#endif
