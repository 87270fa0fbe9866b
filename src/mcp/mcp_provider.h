/*
 * src/mcp/mcp_provider.h
 * The tool-provider interface: where tools, resources and prompts come from.
 *
 * A provider is a const vtable plus its state. The server asks each registered provider in
 * order; the first that knows a name answers. Lists are paginated across providers: the server
 * encodes (provider index, provider cursor) into the opaque cursor it gives clients.
 * List functions append items as JSON text (one object per item, comma-separated by the
 * server) so that large catalogues can be served from pre-serialised snapshots.
 * Any function pointer may be NULL (the provider has none of that kind).
 * Providers run on the exchange's event loop and must not block it.
 */
#ifndef GW_MCP_PROVIDER_H
#define GW_MCP_PROVIDER_H

#include "core/buf.h"
#include "mcp/mcp_exchange.h"

#include <jansson.h>

/* One page: items are appended to `items` as JSON objects separated by commas (the provider
 * writes the commas between its own items; the server handles joins between providers).
 * `*count` is set to the number appended; `next` receives the provider's own cursor for the
 * rest (empty = no more). Returns GW_OK, GW_EINVAL (bad cursor) or GW_ELIMIT. */
typedef int (*gw_provider_list_fn)(void *self, struct gw_mcp_exchange *x, const char *cursor,
                                   size_t limit, struct gw_buf *items, size_t *count,
                                   char next[128]);

struct gw_mcp_provider_ops {
    const char *name;
    gw_provider_list_fn list_tools;
    /* Handles tools/call for `name` (arguments object never NULL): GW_OK (it will reply,
     * now or later), GW_ENOTFOUND (not this provider's tool: the server tries the next). */
    int (*call_tool)(void *self, struct gw_mcp_exchange *x, const char *name, json_t *args);
    gw_provider_list_fn list_resources;
    gw_provider_list_fn list_resource_templates;
    /* resources/read: GW_OK (replies) or GW_ENOTFOUND. */
    int (*read_resource)(void *self, struct gw_mcp_exchange *x, const char *uri);
    gw_provider_list_fn list_prompts;
    /* prompts/get: GW_OK (replies) or GW_ENOTFOUND. */
    int (*get_prompt)(void *self, struct gw_mcp_exchange *x, const char *name, json_t *args);
    /* completion/complete: fills `values` (array of strings) for a ref; GW_OK or
     * GW_ENOTFOUND (unknown ref). */
    int (*complete)(void *self, const json_t *ref, const char *arg_name, const char *arg_value,
                    json_t *values);
    /* Whether `uri` names a resource of this provider (resources/subscribe). */
    bool (*has_resource)(void *self, const char *uri);
};

struct gw_mcp_provider {
    const struct gw_mcp_provider_ops *ops;
    void *self;
};

#endif
