/*
 * src/pipeline/pipeline.h
 * The data-plane pipeline of registry tools: what happens to a tools/call (and a tools/list)
 * between the MCP layer and the upstream API.
 *
 * A call passes fixed, named phases (enum gw_phase of ctx/ctx.h), in this order:
 *   RESOLVE     find the tool in the current registry snapshot (unknown -> -32602)
 *   EXPOSURE    may this caller see the tool? (Layer B; the list filter answers the same
 *               question for tools/list)
 *   AUTHORIZE   may this caller execute it? (Layer A: risk, elevation, confirmation, policy)
 *   RATELIMIT   per IP / user / tool / client limits
 *   VALIDATE    arguments against the tool's input schema (violations -> isError with
 *               messages an LLM can act on)
 *   EXECUTE     the upstream call (src/upstream: request building, credentials, retries,
 *               breaker, response shaping, result mapping)
 *   RESPOND     the CallToolResult goes back to the client
 *   AUDIT       observers see the outcome (after the response is on its way)
 * DECODE and AUTHENTICATE happen before, in the transport and the protocol server; the call
 * reads the request context (struct gw_ctx: principal, peer, ids, decision record) from its
 * exchange. Enforcing phases (EXPOSURE, AUTHORIZE, RATELIMIT) take handlers registered by
 * governance modules. A handler answers at once (allow / deny) or later (GW_AGAIN, e.g. after
 * a Redis or policy-server round trip): the chain then waits and resumes on the call's loop
 * when the handler calls gw_call_resume. Each handler runs in `enforce` or `dry_run` mode: in
 * dry-run a denial is recorded (decision record, log, `_meta`) but the call proceeds. Every
 * verdict goes into the context's decision record with its rule id and policy version.
 * With no handler registered a phase allows.
 * Threading: calls run on the loop of their exchange; per-loop state (executor, compiled-schema
 * cache) is created when the loop starts (gw_pipeline_loop_start) and found through the loop's
 * slot. Handlers must not block.
 */
#ifndef GW_PIPELINE_H
#define GW_PIPELINE_H

#include "core/err.h"
#include "ctx/ctx.h"
#include "mcp/mcp_provider.h"
#include "schema/schema.h"
#include "registry/registry.h"
#include "upstream/upstream_exec.h"

#include <jansson.h>
#include <stdbool.h>

struct gw_pipeline;
struct gw_call;
struct gw_loop;

enum gw_phase_mode { GW_PHASE_ENFORCE, GW_PHASE_DRY_RUN };

/* A handler's verdict, filled by the handler. On a denial: `reason` (human-readable, says why
 * and what would allow it), optionally `rule_id`/`policy_version` (also recorded on allows),
 * and `jsonrpc_code` for a protocol-level refusal (e.g. -32602 "Unknown tool" for a tool that
 * is not exposed, or a gateway code in -32000..-32019) with optional `data` (stolen); with
 * jsonrpc_code 0 the call is answered with an isError result carrying the reason. */
struct gw_phase_verdict {
    char reason[256];
    char rule_id[64];
    char policy_version[48];
    int jsonrpc_code;
    json_t *data;
};
/* Returns GW_OK (allow), GW_EDENIED (deny, `out` filled), GW_AGAIN (the verdict will come
 * through gw_call_resume, called later from the call's loop, exactly once), GW_DECLINED (the
 * handler has answered the exchange itself, e.g. with a 2026-07-28 input_required result
 * asking for confirmation: the call ends here, recorded as a CHALLENGE with `out->reason`), or
 * another error code (the handler failed: the call is refused, fail-closed). Must not block. */
typedef int (*gw_phase_fn)(void *ud, struct gw_call *call, struct gw_phase_verdict *out);
/* Observers of finished calls (AUDIT): `result` is the CallToolResult sent (borrowed; NULL
 * when the call was answered with a JSON-RPC error); `info` is NULL when the upstream was not
 * called. */
typedef void (*gw_audit_fn)(void *ud, struct gw_call *call, const json_t *result,
                            const struct gw_exec_info *info);
/* tools/list visibility: true when `tool` (of snapshot `snap`) is listed for the caller of
 * `c`. Called once per tool of a page, on the exchange's loop; per-request work (looking up
 * the caller's exposure) can be kept in a context slot (gw_ctx_put) across the calls. */
typedef bool (*gw_list_filter_fn)(void *ud, struct gw_ctx *c, const struct gw_snapshot *snap,
                                  const struct gw_tool_entry *tool);

struct gw_pipeline_options {
    bool validate_arguments; /* VALIDATE phase on (default true) */
    size_t max_errors_shown; /* schema violations listed in an isError result (default 8) */
    const struct gw_schema_options *schema; /* validation limits (NULL = the validator's
                                               defaults); copied */
};

/* Creates the pipeline over `reg` and `ups` (both borrowed; must outlive it). */
struct gw_pipeline *gw_pipeline_new(struct gw_registry *reg, struct gw_upstreams *ups,
                                    const struct gw_pipeline_options *opts);
/* Frees the pipeline. Call after every loop it started has been stopped. */
void gw_pipeline_free(struct gw_pipeline *p);

/* Creates this pipeline's state for `loop` (the upstream executor on the loop's base, the
 * compiled-schema cache) and stores it in the loop's GW_LOOP_SLOT_PIPELINE. Call on the loop's
 * thread when it starts (worker start hook, stdio set-up); GW_OK or an error in err.
 * gw_pipeline_loop_stop frees it (on that thread, after the loop stopped). */
int gw_pipeline_loop_start(struct gw_pipeline *p, struct gw_loop *loop, struct gw_error *err);
void gw_pipeline_loop_stop(struct gw_pipeline *p, struct gw_loop *loop);

/* The MCP provider that serves the registry's tools through this pipeline. */
struct gw_mcp_provider gw_pipeline_provider(struct gw_pipeline *p);

/* Registration (before serving). EXPOSURE handlers also filter tools/list through `filter`
 * (may be NULL). GW_OK or GW_ELIMIT (too many handlers). */
int gw_pipeline_add(struct gw_pipeline *p, enum gw_phase phase, const char *name, gw_phase_fn fn,
                    void *ud, enum gw_phase_mode mode);
int gw_pipeline_set_list_filter(struct gw_pipeline *p, gw_list_filter_fn filter, void *ud);
int gw_pipeline_add_audit(struct gw_pipeline *p, const char *name, gw_audit_fn fn, void *ud);

/* Continues a call whose handler returned GW_AGAIN, with the handler's final return code and
 * verdict (`v` may be NULL on GW_OK; its `data` is stolen). Call on the call's loop, after the
 * handler returned, exactly once. If the client cancelled meanwhile the call is freed here. */
void gw_call_resume(struct gw_call *c, int rc, struct gw_phase_verdict *v);

/* Whether the caller of exchange x may see tool t of snapshot snap: the tools/list filter
 * (EXPOSURE) with x's request context, for other providers that list or search the
 * registry's tools (discovery). On x's loop; never blocks. */
bool gw_pipeline_tool_visible(struct gw_pipeline *p, struct gw_mcp_exchange *x,
                              const struct gw_snapshot *snap, const struct gw_tool_entry *t);

/* What handlers can read about a call. */
const struct gw_tool_entry *gw_call_tool(const struct gw_call *c);
/* The registry snapshot the tool was resolved in (held for the life of the call). */
const struct gw_snapshot *gw_call_snapshot(const struct gw_call *c);
const json_t *gw_call_args(const struct gw_call *c);
struct gw_mcp_exchange *gw_call_exchange(struct gw_call *c);
struct gw_ctx *gw_call_ctx(const struct gw_call *c);
/* The caller (never NULL: the anonymous principal when authentication is off). */
const struct gw_principal *gw_call_principal(const struct gw_call *c);
bool gw_call_cancelled(const struct gw_call *c);
/* Dry-run denials recorded on the call, as a JSON array of {"phase","handler","reason"}. */
const json_t *gw_call_dry_run_denials(const struct gw_call *c);

#endif
