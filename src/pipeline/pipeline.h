/*
 * src/pipeline/pipeline.h
 * The data-plane pipeline of registry tools: what happens to a tools/call (and a tools/list)
 * between the MCP layer and the upstream API.
 *
 * A call passes fixed, named phases, in this order:
 *   RESOLVE     find the tool in the current registry snapshot (unknown -> -32602)
 *   EXPOSURE    may this caller see the tool? (Layer B; the same hook filters tools/list)
 *   AUTHORIZE   may this caller execute it? (Layer A: risk, elevation, confirmation, policy)
 *   RATELIMIT   per IP / user / tool / client limits
 *   VALIDATE    arguments against the tool's input schema (violations -> isError with
 *               messages an LLM can act on)
 *   EXECUTE     the upstream call (src/upstream: request building, credentials, retries,
 *               breaker, response shaping, result mapping)
 *   RESPOND     the CallToolResult goes back to the client
 *   AUDIT       observers see the outcome (after the response is on its way)
 * (DECODE and AUTHENTICATE happen before, in the transport.) Enforcing phases (EXPOSURE,
 * AUTHORIZE, RATELIMIT) take handlers registered by governance modules; each handler runs in
 * `enforce` or `dry_run` mode: in dry-run a denial is recorded on the call and logged but the
 * call proceeds. With no handler registered a phase allows.
 * Threading: calls run on the worker loop of their exchange; per-loop state (executor,
 * compiled-schema cache) is created on first use on that loop. Handlers must not block.
 */
#ifndef GW_PIPELINE_H
#define GW_PIPELINE_H

#include "core/err.h"
#include "mcp/mcp_provider.h"
#include "schema/schema.h"
#include "registry/registry.h"
#include "upstream/upstream_exec.h"

#include <jansson.h>
#include <stdbool.h>

struct gw_pipeline;
struct gw_call;

enum gw_phase {
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

enum gw_phase_mode { GW_PHASE_ENFORCE, GW_PHASE_DRY_RUN };

const char *gw_phase_name(enum gw_phase p);

/* A handler's verdict: GW_OK (continue) or GW_EDENIED with `reason` filled (and, for a
 * protocol-level refusal such as "tool not visible", jsonrpc_code != 0; otherwise the call is
 * answered with an isError result carrying the reason). Handlers must not block. */
struct gw_phase_verdict {
    char reason[256];
    int jsonrpc_code;
};
typedef int (*gw_phase_fn)(void *ud, struct gw_call *call, struct gw_phase_verdict *out);
/* Observers of finished calls (AUDIT): `result` is the CallToolResult sent (borrowed). */
typedef void (*gw_audit_fn)(void *ud, struct gw_call *call, const json_t *result,
                            const struct gw_exec_info *info);

struct gw_pipeline_options {
    bool validate_arguments; /* VALIDATE phase on (default true) */
    size_t max_errors_shown; /* schema violations listed in an isError result (default 8) */
    const struct gw_schema_options *schema; /* validation limits (NULL = the validator's
                                               defaults); copied */
};

/* Creates the pipeline over `reg` and `ups` (both borrowed; must outlive it). */
struct gw_pipeline *gw_pipeline_new(struct gw_registry *reg, struct gw_upstreams *ups,
                                    const struct gw_pipeline_options *opts);
/* Frees the pipeline and its per-loop state. Call after the loops have stopped. */
void gw_pipeline_free(struct gw_pipeline *p);

/* The MCP provider that serves the registry's tools through this pipeline. */
struct gw_mcp_provider gw_pipeline_provider(struct gw_pipeline *p);

/* Registration (before serving). EXPOSURE handlers also filter tools/list through `filter`
 * (may be NULL). GW_OK or GW_ELIMIT (too many handlers). */
int gw_pipeline_add(struct gw_pipeline *p, enum gw_phase phase, const char *name, gw_phase_fn fn,
                    void *ud, enum gw_phase_mode mode);
int gw_pipeline_set_list_filter(struct gw_pipeline *p, gw_tool_filter_fn filter, void *ud);
int gw_pipeline_add_audit(struct gw_pipeline *p, const char *name, gw_audit_fn fn, void *ud);

/* What handlers can read about a call. */
const struct gw_tool_entry *gw_call_tool(const struct gw_call *c);
const json_t *gw_call_args(const struct gw_call *c);
struct gw_mcp_exchange *gw_call_exchange(struct gw_call *c);
/* Dry-run denials recorded on the call, as a JSON array of {"phase","handler","reason"}. */
const json_t *gw_call_dry_run_denials(const struct gw_call *c);

#endif
