/*
 * src/mcp/mcp_version.c
 * Version table and negotiation rules.
 */
#include "mcp/mcp_version.h"

#include <string.h>

static const char *const names[] = {NULL, "2024-11-05", "2025-03-26", "2025-06-18",
                                    "2025-11-25", "2026-07-28"};

enum gw_mcp_version gw_mcp_version_parse(const char *s)
{
    if (!s)
        return GW_MCP_V_UNKNOWN;
    for (int i = 1; i <= GW_MCP_LATEST; i++)
        if (strcmp(s, names[i]) == 0)
            return (enum gw_mcp_version)i;
    return GW_MCP_V_UNKNOWN;
}

const char *gw_mcp_version_str(enum gw_mcp_version v)
{
    return (v > 0 && v <= GW_MCP_LATEST) ? names[v] : "unknown";
}

enum gw_mcp_version gw_mcp_version_negotiate(const char *requested)
{
    enum gw_mcp_version v = gw_mcp_version_parse(requested);
    if (v == GW_MCP_V_UNKNOWN || gw_mcp_version_is_modern(v))
        return GW_MCP_LATEST_LEGACY;
    return v;
}

bool gw_mcp_version_is_modern(enum gw_mcp_version v)
{
    return v >= GW_MCP_V_2026_07_28;
}

bool gw_mcp_version_allows_batch(enum gw_mcp_version v)
{
    return v == GW_MCP_V_2025_03_26;
}

const char *gw_mcp_version_list(void)
{
    return "2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28";
}
