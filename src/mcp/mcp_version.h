/*
 * src/mcp/mcp_version.h
 * The protocol revisions served on the one endpoint, negotiation and per-revision features.
 *
 * Legacy era (initialize + sessions): 2024-11-05 (old HTTP+SSE transport and stdio),
 * 2025-03-26 (batches), 2025-06-18, 2025-11-25. Modern era: 2026-07-28 (stateless, _meta on
 * every request). Negotiation: a supported requested version is echoed; otherwise the latest
 * legacy version is offered (the client decides whether it can use it).
 */
#ifndef GW_MCP_VERSION_H
#define GW_MCP_VERSION_H

#include <stdbool.h>

enum gw_mcp_version {
    GW_MCP_V_UNKNOWN = 0,
    GW_MCP_V_2024_11_05,
    GW_MCP_V_2025_03_26,
    GW_MCP_V_2025_06_18,
    GW_MCP_V_2025_11_25,
    GW_MCP_V_2026_07_28
};

#define GW_MCP_LATEST_LEGACY GW_MCP_V_2025_11_25
#define GW_MCP_LATEST GW_MCP_V_2026_07_28

/* Parses "2025-06-18" etc.; GW_MCP_V_UNKNOWN when unsupported or NULL. */
enum gw_mcp_version gw_mcp_version_parse(const char *s);
const char *gw_mcp_version_str(enum gw_mcp_version v);
/* The version to answer an initialize that asked for `requested` (legacy era only). */
enum gw_mcp_version gw_mcp_version_negotiate(const char *requested);
bool gw_mcp_version_is_modern(enum gw_mcp_version v);
/* JSON-RPC batches are accepted only on 2025-03-26 sessions. */
bool gw_mcp_version_allows_batch(enum gw_mcp_version v);
/* Comma-separated list of every supported version, for error messages. */
const char *gw_mcp_version_list(void);

#endif
