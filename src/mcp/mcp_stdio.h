/*
 * src/mcp/mcp_stdio.h
 * MCP over stdin/stdout for desktop clients: newline-delimited compact JSON, nothing but MCP
 * messages on stdout (logs go to stderr), exit on EOF once in-flight requests have finished.
 */
#ifndef GW_MCP_STDIO_H
#define GW_MCP_STDIO_H

#include "mcp/mcp_server.h"

struct event_base;
struct gw_loop;

/* Serves `mcp` on fds in_fd/out_fd using `loop` (whose base the caller runs is NOT needed: this
 * function runs the loop itself until EOF and drain). Returns 0 on a clean EOF. */
int gw_mcp_stdio_run(struct gw_mcp_server *mcp, struct gw_loop *loop, int in_fd, int out_fd,
                     size_t max_line);

#endif
